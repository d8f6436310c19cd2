/* Unit tests of PipelineWatchdog on small pipelines of stock elements.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/pipeline-watchdog.h>

#include <gst/check/gstcheck.h>

#include <string>

using ganvoice::PipelineWatchdog;

#define AUDIO_CAPS \
  "audio/x-raw,format=F32LE,rate=48000,channels=1,layout=interleaved"

static GstElement *
launch (const char *desc)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  fail_unless (p != NULL, "%s", err ? err->message : "?");
  g_clear_error (&err);
  return p;
}

static void
push (GstElement *appsrc, GstClockTime pts)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 480 * sizeof (float), NULL);
  GstFlowReturn ret = GST_FLOW_ERROR;
  gst_buffer_memset (buf, 0, 0, 480 * sizeof (float));
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = 10 * GST_MSECOND;
  g_signal_emit_by_name (appsrc, "push-buffer", buf, &ret);
  gst_buffer_unref (buf);
  fail_unless_equals_int (ret, GST_FLOW_OK);
}

/* The entry of @queue in @why, up to the next ';'. */
static std::string
queue_entry (const std::string &why, const char *queue)
{
  size_t at = why.find (std::string (queue) + " ");
  fail_unless (at != std::string::npos, "no %s in %s", queue, why.c_str ());
  return why.substr (at, why.find (';', at) - at);
}

/* Waits (at most 20 s) until the watchdog has seen no data for @idle_s. */
static bool
wait_idle (PipelineWatchdog &w, double idle_s)
{
  for (int i = 0; i < 400; i++) {
    if (w.idle_seconds () >= idle_s)
      return true;
    g_usleep (50000);
  }
  return false;
}

/* A mixer input that stops: the appsrc pushes 50 ms and then nothing, so
 * the mixer waits on it while the other input's queue fills up. */
GST_START_TEST (test_stalled_input_is_named)
{
  GstElement *p = launch ("audiotestsrc num-buffers=1000 samplesperbuffer=480 "
                          "! " AUDIO_CAPS " ! queue name=programme-queue "
                          "! audiomixer name=mix ! fakesink sync=false "
                          "appsrc name=voice format=time caps=" AUDIO_CAPS
                          " ! queue name=voice-queue ! mix.");
  GstElement *src = gst_bin_get_by_name (GST_BIN (p), "voice");
  PipelineWatchdog w (p);
  fail_unless (
      gst_element_set_state (p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  for (int i = 0; i < 5; i++)
    push (src, i * 10 * GST_MSECOND);
  fail_unless (wait_idle (w, 0.5), "the watchdog never saw the stall");
  fail_unless (w.buffers_seen () > 0);

  std::string why = w.describe ();
  GST_INFO ("%s", why.c_str ());
  fail_unless (why.find ("The stalled branch: mix.") != std::string::npos, "%s",
      why.c_str ());
  fail_unless (
      why.find ("fed by voice-queue") != std::string::npos, "%s", why.c_str ());
  std::string programme = queue_entry (why, "programme-queue");
  fail_unless (
      programme.find ("(full)") != std::string::npos, "%s", programme.c_str ());
  std::string voice = queue_entry (why, "voice-queue");
  fail_unless (
      voice.find ("(empty)") != std::string::npos, "%s", voice.c_str ());

  /* Data again, then the end: the pipeline ends, the input reads ended. */
  push (src, 50 * GST_MSECOND);
  GstFlowReturn ret;
  g_signal_emit_by_name (src, "end-of-stream", &ret);
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND,
      (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  fail_unless (w.idle_seconds () < 0.5);
  why = w.describe ();
  fail_unless (why.find ("ended") != std::string::npos, "%s", why.c_str ());

  gst_object_unref (bus);
  gst_object_unref (src);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
}
GST_END_TEST;

/* A pipeline in real time never looks idle, and every buffer is seen. */
GST_START_TEST (test_flowing_pipeline)
{
  GstElement *p = launch ("audiotestsrc num-buffers=20 samplesperbuffer=2400 "
                          "! " AUDIO_CAPS " ! queue ! fakesink sync=true");
  PipelineWatchdog w (p);
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg = NULL;
  double most_idle = 0.0;
  fail_unless (
      gst_element_set_state (p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  while (!(msg = gst_bus_timed_pop_filtered (bus, 20 * GST_MSECOND,
               (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR))))
    most_idle = MAX (most_idle, w.idle_seconds ());
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  /* A buffer every 50 ms. */
  fail_unless (most_idle < 0.4, "idle for %.2f s", most_idle);
  fail_unless_equals_int (w.buffers_seen (), 20);
  fail_unless (w.describe ().find ("queue0 0 buffers") != std::string::npos,
      "%s", w.describe ().c_str ());
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
}
GST_END_TEST;

/* Elements added after the watchdog (as parsebin adds them) are watched. */
GST_START_TEST (test_rescan_finds_new_sinks)
{
  GstElement *p = gst_pipeline_new (NULL);
  PipelineWatchdog w (p);
  GstElement *src = gst_element_factory_make ("audiotestsrc", NULL);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (src, "num-buffers", 5, NULL);
  gst_bin_add_many (GST_BIN (p), src, sink, NULL);
  fail_unless (gst_element_link (src, sink));
  w.rescan ();
  GstBus *bus = gst_element_get_bus (p);
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND,
      (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  fail_unless_equals_int (w.buffers_seen (), 5);
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
}
GST_END_TEST;

/* wait_for_end: the end of a pipeline that ends, null and where for one
 * that stalls. */
GST_START_TEST (test_wait_for_end)
{
  GstElement *p = launch ("audiotestsrc num-buffers=5 ! fakesink");
  std::string where;
  gst_element_set_state (p, GST_STATE_PLAYING);
  GstMessage *msg = ganvoice::wait_for_end (p, 10.0, &where);
  fail_unless (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  fail_unless (where.empty ());
  gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);

  p = launch (
      "appsrc format=time caps=" AUDIO_CAPS " ! queue name=stuck ! fakesink");
  gst_element_set_state (p, GST_STATE_PLAYING);
  fail_unless (ganvoice::wait_for_end (p, 0.5, &where) == NULL);
  fail_unless (where.find ("stuck 0 buffers") != std::string::npos, "%s",
      where.c_str ());
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
}
GST_END_TEST;

static Suite *
watchdog_suite (void)
{
  Suite *s = suite_create ("watchdog");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_stalled_input_is_named);
  tcase_add_test (tc, test_flowing_pipeline);
  tcase_add_test (tc, test_rescan_finds_new_sinks);
  tcase_add_test (tc, test_wait_for_end);
  return s;
}

GST_CHECK_MAIN (watchdog);

/* A test element for the watchdog tests: "teststalldec", an AC-3
 * "decoder" (silence, stereo 48 kHz) that stops pushing after
 * GANVOICE_TEST_STALL_AFTER seconds of stream time (default 1) and then
 * blocks until flushed or stopped, as a stuck decoder would. Its rank is
 * above every real AC-3 decoder, so decodebin picks it when this plugin is
 * on GST_PLUGIN_PATH (test_dub.py does that with a registry of its own).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/gst.h>

#include <stdlib.h>

#define GST_TYPE_TEST_STALL_DEC (gst_test_stall_dec_get_type ())
G_DECLARE_FINAL_TYPE (
    GstTestStallDec, gst_test_stall_dec, GST, TEST_STALL_DEC, GstElement)

#define FRAME_SAMPLES 1536 /* one AC-3 frame */
#define RAW_CAPS \
  "audio/x-raw, format=(string)S16LE, layout=(string)interleaved, " \
  "rate=(int)48000, channels=(int)2"

struct _GstTestStallDec {
  GstElement parent;
  GstPad *sinkpad, *srcpad;
  GstClockTime stall_after;
  GMutex lock; /* guards flushing */
  GCond cond;
  gboolean flushing;
};

G_DEFINE_TYPE (GstTestStallDec, gst_test_stall_dec, GST_TYPE_ELEMENT);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("audio/x-ac3"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE (
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (RAW_CAPS));

static void
set_flushing (GstTestStallDec *self, gboolean flushing)
{
  g_mutex_lock (&self->lock);
  self->flushing = flushing;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static GstFlowReturn
chain (GstPad *pad, GstObject *parent, GstBuffer *in)
{
  GstTestStallDec *self = GST_TEST_STALL_DEC (parent);
  GstClockTime pts = GST_BUFFER_PTS (in);
  GstBuffer *out;
  gsize size = FRAME_SAMPLES * 4;

  gst_buffer_unref (in);
  if (GST_CLOCK_TIME_IS_VALID (pts) && pts >= self->stall_after) {
    /* Stuck: nothing more until a flush or a stop. */
    g_mutex_lock (&self->lock);
    while (!self->flushing)
      g_cond_wait (&self->cond, &self->lock);
    g_mutex_unlock (&self->lock);
    return GST_FLOW_FLUSHING;
  }
  out = gst_buffer_new_allocate (NULL, size, NULL);
  gst_buffer_memset (out, 0, 0, size);
  GST_BUFFER_PTS (out) = pts;
  GST_BUFFER_DURATION (out) =
      gst_util_uint64_scale_int (FRAME_SAMPLES, GST_SECOND, 48000);
  return gst_pad_push (self->srcpad, out);
}

static gboolean
sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstTestStallDec *self = GST_TEST_STALL_DEC (parent);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS: {
      GstCaps *caps = gst_caps_from_string (RAW_CAPS);
      gboolean ok = gst_pad_set_caps (self->srcpad, caps);
      gst_caps_unref (caps);
      gst_event_unref (event);
      return ok;
    }
    case GST_EVENT_FLUSH_START:
      set_flushing (self, TRUE);
      break;
    case GST_EVENT_FLUSH_STOP:
      set_flushing (self, FALSE);
      break;
    default:
      break;
  }
  return gst_pad_event_default (pad, parent, event);
}

static GstStateChangeReturn
change_state (GstElement *element, GstStateChange transition)
{
  GstTestStallDec *self = GST_TEST_STALL_DEC (element);

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    set_flushing (self, FALSE);
  else if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    set_flushing (self, TRUE);
  return GST_ELEMENT_CLASS (gst_test_stall_dec_parent_class)
      ->change_state (element, transition);
}

static void
finalize (GObject *object)
{
  GstTestStallDec *self = GST_TEST_STALL_DEC (object);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (gst_test_stall_dec_parent_class)->finalize (object);
}

static void
gst_test_stall_dec_init (GstTestStallDec *self)
{
  const gchar *after = g_getenv ("GANVOICE_TEST_STALL_AFTER");
  self->stall_after =
      (GstClockTime) ((after ? g_ascii_strtod (after, NULL) : 1.0) *
          GST_SECOND);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad, chain);
  gst_pad_set_event_function (self->sinkpad, sink_event);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
}

static void
gst_test_stall_dec_class_init (GstTestStallDecClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  object_class->finalize = finalize;
  element_class->change_state = change_state;
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "AC-3 decoder that stalls (tests only)", "Codec/Decoder/Audio",
      "Silence for a while, then nothing: for watchdog tests",
      "ganvoice developers");
}

static gboolean
plugin_init (GstPlugin *plugin)
{
  return gst_element_register (
      plugin, "teststalldec", GST_RANK_PRIMARY + 500, GST_TYPE_TEST_STALL_DEC);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, teststall,
    "A decoder that stalls, for ganvoice's watchdog tests", plugin_init, "0.1",
    "LGPL", "ganvoice", "https://example.invalid/ganvoice")

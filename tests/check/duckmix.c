/* duckmix in pipelines (appsrc x 2 -> duckmix -> appsink) and in a
 * GstHarness: ducking depth, pad order, latency, EOS rules, GAP, flush.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <math.h>
#include <string.h>

#define RATE 48000
#define BLOCK (RATE / 100) /* 10 ms buffers */
#define CAPS_STEREO \
  "audio/x-raw,format=F32LE,layout=interleaved," \
  "rate=48000,channels=2"
#define CAPS_MONO \
  "audio/x-raw,format=F32LE,layout=interleaved," \
  "rate=48000,channels=1"

typedef struct {
  /* programme: stereo 440 Hz sine at 0.25 */
  gsize programme_frames;
  /* voice: 200 Hz at 0.3 in [onset, onset + length), silence elsewhere */
  gsize voice_frames;
  gsize onset, length;
  gboolean voice_gaps; /* silence as GAP buffers full of noise */
  gboolean voice_first; /* request the voice pad first */
  const gchar *props;
  gboolean programme_gaps; /* the whole programme as GAP buffers */
} MixSetup;

static gfloat
programme_sample (gsize i)
{
  return 0.25f * sinf (2.0f * G_PI * 440.0f * i / RATE);
}

static gfloat
voice_sample (const MixSetup *s, gsize i)
{
  if (i >= s->onset && i < s->onset + s->length)
    return 0.3f * sinf (2.0f * G_PI * 200.0f * i / RATE);
  return 0.0f;
}

static void
push_block (GstElement *src, const gfloat *data, gsize frames, int channels,
    gsize first, gboolean gap)
{
  GstBuffer *buf = gst_buffer_new_memdup (data, frames * channels * 4);
  GstFlowReturn ret;

  GST_BUFFER_PTS (buf) = gst_util_uint64_scale (first, GST_SECOND, RATE);
  GST_BUFFER_DURATION (buf) =
      gst_util_uint64_scale (first + frames, GST_SECOND, RATE) -
      GST_BUFFER_PTS (buf);
  if (gap)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_GAP);
  g_signal_emit_by_name (src, "push-buffer", buf, &ret);
  gst_buffer_unref (buf);
  fail_unless_equals_int (ret, GST_FLOW_OK);
}

/* Runs the mix; returns the output (stereo, interleaved), its length in
 * frames in @frames and the first PTS in @first_pts. */
static gfloat *
run_mix (const MixSetup *s, gsize *frames, GstClockTime *first_pts)
{
  gchar *desc;
  GstElement *pipeline, *psrc, *vsrc, *sink;
  GArray *out = g_array_new (FALSE, FALSE, sizeof (gfloat));
  gfloat block[BLOCK * 2];
  gsize i, j;
  GstSample *sample;
  GstFlowReturn ret;
  gboolean first = TRUE;

  if (s->voice_first)
    desc = g_strdup_printf (
        "appsrc name=v format=time max-bytes=0 caps=" CAPS_MONO
        " ! m.voice  appsrc name=p format=time max-bytes=0 caps=" CAPS_STEREO
        " ! m.programme  duckmix name=m %s ! appsink name=out "
        "sync=false",
        s->props ? s->props : "");
  else
    desc = g_strdup_printf (
        "appsrc name=p format=time max-bytes=0 caps=" CAPS_STEREO
        " ! duckmix name=m %s ! appsink name=out sync=false  "
        "appsrc name=v format=time max-bytes=0 caps=" CAPS_MONO " ! m.voice",
        s->props ? s->props : "");
  pipeline = gst_parse_launch (desc, NULL);
  g_free (desc);
  fail_unless (pipeline != NULL);
  psrc = gst_bin_get_by_name (GST_BIN (pipeline), "p");
  vsrc = gst_bin_get_by_name (GST_BIN (pipeline), "v");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  gst_element_set_state (pipeline, GST_STATE_PAUSED);

  for (i = 0; i < s->programme_frames; i += BLOCK) {
    gsize n = MIN (BLOCK, s->programme_frames - i);
    for (j = 0; j < n; j++)
      block[j * 2] = block[j * 2 + 1] = s->programme_gaps
          ? ((j & 1) ? 0.9f : -0.9f)
          : programme_sample (i + j);
    push_block (psrc, block, n, 2, i, s->programme_gaps);
  }
  for (i = 0; i < s->voice_frames; i += BLOCK) {
    gsize n = MIN (BLOCK, s->voice_frames - i);
    gboolean silent = TRUE;
    for (j = 0; j < n; j++) {
      block[j] = voice_sample (s, i + j);
      silent = silent && block[j] == 0.0f;
    }
    if (silent && s->voice_gaps) {
      /* A GAP buffer's contents mean nothing: make them loud. */
      for (j = 0; j < n; j++)
        block[j] = (j & 1) ? 0.9f : -0.9f;
    }
    push_block (vsrc, block, n, 1, i, silent && s->voice_gaps);
  }
  g_signal_emit_by_name (psrc, "end-of-stream", &ret);
  g_signal_emit_by_name (vsrc, "end-of-stream", &ret);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  while (TRUE) {
    GstBuffer *buf;
    GstMapInfo map;
    g_signal_emit_by_name (sink, "pull-sample", &sample);
    if (!sample)
      break;
    buf = gst_sample_get_buffer (sample);
    if (first) {
      *first_pts = GST_BUFFER_PTS (buf);
      first = FALSE;
    }
    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)) {
      for (j = 0; j < map.size / 4; j++)
        fail_unless (((gfloat *) map.data)[j] == 0.0f);
    }
    /* Contiguous timestamps. */
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf),
        gst_util_uint64_scale (out->len / 2, GST_SECOND, RATE) + *first_pts);
    g_array_append_vals (out, map.data, map.size / 4);
    gst_buffer_unmap (buf, &map);
    gst_sample_unref (sample);
  }
  {
    GstMessage *msg = gst_bus_poll (GST_ELEMENT_BUS (pipeline),
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR, 5 * GST_SECOND);
    fail_unless (msg != NULL);
    fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
    gst_message_unref (msg);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (psrc);
  gst_object_unref (vsrc);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  *frames = out->len / 2;
  return (gfloat *) g_array_free (out, FALSE);
}

/* RMS of the programme part (output minus voice) of channel 0 over
 * [from, to). */
static double
programme_rms (const MixSetup *s, const gfloat *out, gsize from, gsize to)
{
  double sum = 0.0;
  gsize i;
  for (i = from; i < to; i++) {
    double p = out[i * 2] - voice_sample (s, i);
    sum += p * p;
  }
  return sqrt (sum / (to - from));
}

static double
reference_rms (gsize from, gsize to)
{
  double sum = 0.0;
  gsize i;
  for (i = from; i < to; i++)
    sum += programme_sample (i) * programme_sample (i);
  return sqrt (sum / (to - from));
}

GST_START_TEST (test_duck_depth)
{
  MixSetup s = { 4 * RATE, 4 * RATE, RATE, RATE, FALSE, FALSE,
    "loudness-target=0 limit=0" };
  gsize frames;
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  gfloat *out = run_mix (&s, &frames, &pts), *out2;
  double before, during, after, depth;
  gsize i;

  /* Timestamps are those of the content: the look-ahead is taken out. */
  fail_unless_equals_uint64 (pts, 0);
  fail_unless_equals_int (frames, 4 * RATE);
  before = programme_rms (&s, out, RATE / 2, RATE - RATE / 5);
  during = programme_rms (&s, out, RATE + RATE / 10, 2 * RATE - RATE / 10);
  after = programme_rms (&s, out, 3 * RATE, 4 * RATE);
  depth = 20.0 * log10 (during / before);
  GST_INFO ("duck depth %.3f dB (before %.4f, during %.4f, after %.4f)", depth,
      before, during, after);
  fail_unless (fabs (depth - -12.0) < 0.5, "depth %.3f", depth);
  fail_unless (
      fabs (before - reference_rms (RATE / 2, RATE - RATE / 5)) < 1e-4);
  fail_unless (fabs (after - reference_rms (3 * RATE, 4 * RATE)) < 1e-4);
  /* Before the duck, the output is the programme itself, sample for sample:
   * timing is exact. */
  for (i = 0; i < RATE / 2; i++)
    fail_unless (out[i * 2] == programme_sample (i), "frame %zu", i);
  /* The duck is complete lookahead - attack (50 ms) before the voice. */
  during =
      programme_rms (&s, out, RATE - RATE / 20 + RATE / 200, RATE - RATE / 200);
  fail_unless (fabs (20.0 *
                       log10 (during /
                           reference_rms (RATE - RATE / 20 + RATE / 200,
                               RATE - RATE / 200)) -
                   -12.0) < 0.5);

  /* Pad order does not matter. */
  s.voice_first = TRUE;
  out2 = run_mix (&s, &frames, &pts);
  fail_unless_equals_int (frames, 4 * RATE);
  fail_unless (memcmp (out, out2, frames * 2 * sizeof (gfloat)) == 0);
  g_free (out);
  g_free (out2);
}
GST_END_TEST;

GST_START_TEST (test_gap_voice)
{
  /* The voice's silence comes as GAP buffers full of noise: no duck there. */
  MixSetup s = { 3 * RATE, 3 * RATE, RATE, RATE / 2, TRUE, FALSE,
    "loudness-target=0 limit=0" };
  gsize frames, i;
  GstClockTime pts;
  gfloat *out = run_mix (&s, &frames, &pts);
  double during;

  fail_unless_equals_int (frames, 3 * RATE);
  for (i = 0; i < RATE - RATE / 5; i++)
    fail_unless (out[i * 2] == programme_sample (i), "frame %zu", i);
  for (i = 2 * RATE + RATE / 2; i < 3 * RATE; i++)
    fail_unless (out[i * 2] == programme_sample (i), "frame %zu", i);
  during =
      programme_rms (&s, out, RATE + RATE / 10, RATE + RATE / 2 - RATE / 10);
  fail_unless (fabs (20.0 *
                       log10 (during /
                           reference_rms (
                               RATE + RATE / 10, RATE + RATE / 2 - RATE / 10)) -
                   -12.0) < 0.5);
  g_free (out);
}
GST_END_TEST;

GST_START_TEST (test_voice_ends_first)
{
  /* The voice stops (EOS) at 1.5 s while speaking; the programme goes on
   * unducked to its own end. */
  MixSetup s = { 4 * RATE, RATE + RATE / 2, RATE / 2, 2 * RATE, FALSE, FALSE,
    "loudness-target=0 limit=0" };
  gsize frames;
  GstClockTime pts;
  gfloat *out = run_mix (&s, &frames, &pts);
  double after;

  fail_unless_equals_int (frames, 4 * RATE);
  after = programme_rms (&s, out, 2 * RATE + RATE / 2, 4 * RATE);
  fail_unless (
      fabs (after - reference_rms (2 * RATE + RATE / 2, 4 * RATE)) < 1e-4);
  g_free (out);
}
GST_END_TEST;

GST_START_TEST (test_programme_ends_first)
{
  /* The output ends where the programme ends, even with more voice. */
  MixSetup s = { 2 * RATE + 123, 4 * RATE, RATE / 2, 3 * RATE, FALSE, FALSE,
    NULL };
  gsize frames, i;
  GstClockTime pts;
  gfloat *out = run_mix (&s, &frames, &pts);
  float ceiling = powf (10.0f, -1.0f / 20.0f);

  fail_unless_equals_int (frames, 2 * RATE + 123);
  /* Defaults: normalised and limited, never above -1 dBFS. */
  for (i = 0; i < frames * 2; i++)
    fail_unless (fabsf (out[i]) <= ceiling);
  g_free (out);

  /* Both end together, with a look-ahead that is not a whole number of
   * buffers. */
  s.voice_frames = s.programme_frames;
  s.props = "lookahead=33 loudness-target=0";
  out = run_mix (&s, &frames, &pts);
  fail_unless_equals_int (frames, 2 * RATE + 123);
  fail_unless_equals_uint64 (pts, 0);
  g_free (out);
}
GST_END_TEST;

GST_START_TEST (test_programme_of_gaps)
{
  /* A silent programme sent as GAP buffers still ends the output at its
   * own end, not at the longer voice's. */
  MixSetup s = { 2 * RATE + 77, 4 * RATE, RATE / 2, 3 * RATE, FALSE, FALSE,
    "mode=add loudness-target=0 limit=0", TRUE };
  gsize frames, i;
  GstClockTime pts;
  gfloat *out = run_mix (&s, &frames, &pts);

  fail_unless_equals_int (frames, 2 * RATE + 77);
  /* The GAPs' noise is not mixed in: only the voice is heard. */
  for (i = 0; i < frames; i++)
    fail_unless (
        fabsf (out[i * 2] - voice_sample (&s, i)) < 1e-6, "frame %zu", i);
  g_free (out);
}
GST_END_TEST;

GST_START_TEST (test_bypass)
{
  /* bypass: the programme out as staged, bit for bit, with no delay and
   * no voice, to the programme's end; loud voice and mastering ignored. */
  MixSetup s = { 2 * RATE + 55, 3 * RATE, RATE / 2, RATE, FALSE, FALSE,
    "bypass=true loudness-target=-23" };
  gsize frames, i;
  GstClockTime pts;
  gfloat *out = run_mix (&s, &frames, &pts);

  fail_unless_equals_int (frames, 2 * RATE + 55);
  fail_unless_equals_uint64 (pts, 0);
  for (i = 0; i < frames; i++)
    fail_unless (out[i * 2] == programme_sample (i) &&
            out[i * 2 + 1] == programme_sample (i),
        "frame %zu", i);
  g_free (out);

  /* A programme of GAPs comes out as silence, as long. */
  s.programme_gaps = TRUE;
  out = run_mix (&s, &frames, &pts);
  fail_unless_equals_int (frames, 2 * RATE + 55);
  for (i = 0; i < frames * 2; i++)
    fail_unless (out[i] == 0.0f, "sample %zu", i);
  g_free (out);
}
GST_END_TEST;

GST_START_TEST (test_modes)
{
  MixSetup s = { 2 * RATE, 2 * RATE, RATE / 2, RATE, FALSE, FALSE,
    "mode=add loudness-target=0 limit=0" };
  gsize frames, i;
  GstClockTime pts;
  gfloat *out = run_mix (&s, &frames, &pts);

  /* add: the exact sum. */
  for (i = 0; i < frames; i++)
    fail_unless (out[i * 2] == programme_sample (i) + voice_sample (&s, i),
        "frame %zu", i);
  g_free (out);

  s.props = "mode=replace loudness-target=0 limit=0";
  out = run_mix (&s, &frames, &pts);
  fail_unless (
      programme_rms (&s, out, RATE / 2, RATE + RATE / 2 - RATE / 10) < 1e-6);
  g_free (out);
}
GST_END_TEST;

static GstHarness *
new_voice_programme_harness (GstHarness **voice)
{
  GstHarness *h = gst_harness_new_with_padnames ("duckmix", "programme", "src");
  gst_harness_set_src_caps_str (h, CAPS_STEREO);
  *voice = gst_harness_new_with_element (h->element, "voice", NULL);
  gst_harness_set_src_caps_str (*voice, CAPS_MONO);
  return h;
}

GST_START_TEST (test_latency)
{
  GstHarness *voice, *h = new_voice_programme_harness (&voice);
  GstClockTime min, max;
  gboolean live;
  GstQuery *query = gst_query_new_latency ();

  gst_harness_set_upstream_latency (h, 0);
  gst_harness_set_upstream_latency (voice, 0);
  fail_unless (gst_pad_peer_query (h->sinkpad, query));
  gst_query_parse_latency (query, &live, &min, &max);
  GST_INFO ("latency: live %d, min %" GST_TIME_FORMAT " max %" GST_TIME_FORMAT,
      live, GST_TIME_ARGS (min), GST_TIME_ARGS (max));
  fail_unless (live);
  fail_unless_equals_clocktime (min, 100 * GST_MSECOND);
  gst_query_unref (query);

  /* Another look-ahead, another latency. */
  g_object_set (h->element, "lookahead", 250.0, NULL);
  query = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (h->sinkpad, query));
  gst_query_parse_latency (query, &live, &min, &max);
  fail_unless_equals_clocktime (min, 250 * GST_MSECOND);
  gst_query_unref (query);

  gst_harness_teardown (voice);
  gst_harness_teardown (h);
}
GST_END_TEST;

static GstBuffer *
make_buffer (gsize first, gsize frames, int channels, gfloat value)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, frames * channels * 4, NULL);
  GstMapInfo map;
  gsize i;
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (i = 0; i < frames * channels; i++)
    ((gfloat *) map.data)[i] = value;
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = gst_util_uint64_scale (first, GST_SECOND, RATE);
  GST_BUFFER_DURATION (buf) =
      gst_util_uint64_scale (first + frames, GST_SECOND, RATE) -
      GST_BUFFER_PTS (buf);
  return buf;
}

GST_START_TEST (test_flush)
{
  GstHarness *voice, *h = new_voice_programme_harness (&voice);
  GstBuffer *buf;
  GstMapInfo map;
  gsize i, total = 0;
  GstSegment segment;
  GstEvent *seek;
  guint32 seqnum;

  g_object_set (h->element, "loudness-target", 0.0, "limit", 0.0, "lookahead",
      20.0, NULL);
  /* 200 ms of programme at 0.5 and silent voice... */
  for (i = 0; i < 20; i++) {
    fail_unless_equals_int (
        gst_harness_push (h, make_buffer (i * BLOCK, BLOCK, 2, 0.5f)),
        GST_FLOW_OK);
    fail_unless_equals_int (
        gst_harness_push (voice, make_buffer (i * BLOCK, BLOCK, 1, 0.0f)),
        GST_FLOW_OK);
  }
  /* ...comes out at 0.5 (as much as the aggregator has mixed by now). */
  while ((buf = gst_harness_try_pull (h))) {
    gst_buffer_map (buf, &map, GST_MAP_READ);
    for (i = 0; i < map.size / 4; i++)
      fail_unless (((gfloat *) map.data)[i] == 0.5f);
    total += map.size / 8;
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
  }

  /* A flushing seek back to 0 (answered by both inputs as a source would),
   * then another level: the look-ahead holds nothing of the old stream. */
  seek = gst_event_new_seek (1.0, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH,
      GST_SEEK_TYPE_SET, 0, GST_SEEK_TYPE_NONE, -1);
  seqnum = gst_event_get_seqnum (seek);
  fail_unless (gst_harness_push_upstream_event (h, seek));
  for (i = 0; i < 2; i++) {
    GstHarness *in = i ? voice : h;
    GstEvent *event = gst_event_new_flush_start ();
    gst_event_set_seqnum (event, seqnum);
    fail_unless (gst_harness_push_event (in, event));
  }
  for (i = 0; i < 2; i++) {
    GstHarness *in = i ? voice : h;
    GstEvent *event = gst_event_new_flush_stop (TRUE);
    gst_event_set_seqnum (event, seqnum);
    fail_unless (gst_harness_push_event (in, event));
    gst_segment_init (&segment, GST_FORMAT_TIME);
    event = gst_event_new_segment (&segment);
    gst_event_set_seqnum (event, seqnum);
    fail_unless (gst_harness_push_event (in, event));
  }
  while ((buf = gst_harness_try_pull (h)))
    gst_buffer_unref (buf);
  for (i = 0; i < 20; i++) {
    fail_unless_equals_int (
        gst_harness_push (h, make_buffer (i * BLOCK, BLOCK, 2, 0.25f)),
        GST_FLOW_OK);
    fail_unless_equals_int (
        gst_harness_push (voice, make_buffer (i * BLOCK, BLOCK, 1, 0.0f)),
        GST_FLOW_OK);
  }
  buf = gst_harness_pull (h);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), 0);
  gst_buffer_map (buf, &map, GST_MAP_READ);
  for (i = 0; i < map.size / 4; i++)
    fail_unless (((gfloat *) map.data)[i] == 0.25f, "sample %zu: %f", i,
        ((gfloat *) map.data)[i]);
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);

  gst_harness_teardown (voice);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_pads)
{
  GstElement *m = gst_element_factory_make ("duckmix", NULL);
  GstPad *p = gst_element_request_pad_simple (m, "programme");
  GstPad *v = gst_element_request_pad_simple (m, "voice");

  fail_unless (p && v);
  fail_unless_equals_string (GST_PAD_NAME (p), "programme");
  fail_unless_equals_string (GST_PAD_NAME (v), "voice");
  gst_element_release_request_pad (m, v);
  gst_object_unref (v);
  v = gst_element_request_pad_simple (m, "voice");
  fail_unless (v != NULL);
  gst_object_unref (v);
  gst_object_unref (p);
  gst_object_unref (m);
}
GST_END_TEST;

static Suite *
duckmix_suite (void)
{
  Suite *s = suite_create ("duckmix");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_pads);
  tcase_add_test (tc, test_duck_depth);
  tcase_add_test (tc, test_gap_voice);
  tcase_add_test (tc, test_voice_ends_first);
  tcase_add_test (tc, test_programme_ends_first);
  tcase_add_test (tc, test_programme_of_gaps);
  tcase_add_test (tc, test_bypass);
  tcase_add_test (tc, test_modes);
  tcase_add_test (tc, test_latency);
  tcase_add_test (tc, test_flush);
  return s;
}

GST_CHECK_MAIN (duckmix);

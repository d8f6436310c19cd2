/* ganvoice in a GstHarness with the tiny models of tests/models:
 * timestamps, fitting (100 cues), languages, voices, flushing, reuse after
 * READY, the text property, latency, and bad input and models.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "tiny-models.h"

#include <ganvoice/cuemeta.h>

#include <glib/gstdio.h>

#include <math.h>
#include <string.h>

#define RATE 16000
#define MS GST_MSECOND

/* The harness starts an element with a sink pad at once: the bus must be
 * there before, as the models load as soon as it starts. */
static GstHarness *
start_harness (GstElement *e, GstBus **bus)
{
  GstHarness *h;

  if (bus) {
    *bus = gst_bus_new ();
    gst_element_set_bus (e, *bus);
  }
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_play (h);
  gst_harness_set_src_caps_str (h, "text/x-raw, format=utf8");
  return h;
}

static void
stop_harness (GstHarness *h, GstBus *bus)
{
  if (bus) {
    gst_element_set_state (h->element, GST_STATE_NULL);
    gst_element_set_bus (h->element, NULL);
    gst_object_unref (bus);
  }
  gst_harness_teardown (h);
}

static GstFlowReturn
push_cue (GstHarness *h, const gchar *text, GstClockTime start,
    GstClockTime duration, guint index, const gchar *speaker,
    const gchar *language)
{
  GstBuffer *buf =
      *text ? gst_buffer_new_memdup (text, strlen (text)) : gst_buffer_new ();

  GST_BUFFER_PTS (buf) = start;
  GST_BUFFER_DURATION (buf) = duration;
  gst_buffer_add_ganvoice_cue_meta (buf, index, speaker, NULL, language, text);
  return gst_harness_push (h, buf);
}

typedef struct {
  GstClockTime start, end;
  gboolean gap;
  gboolean silent; /* all samples zero */
  gboolean discont;
} Span;

static gint
compare_spans (gconstpointer a, gconstpointer b)
{
  const Span *x = a, *y = b;
  return x->start < y->start ? -1
      : x->start > y->start  ? 1
                             : (x->gap ? 1 : 0) - (y->gap ? 1 : 0);
}

static void
add_gap (GArray *spans, GstEvent *ev)
{
  Span s = { 0 };
  GstClockTime ts, dur;

  gst_event_parse_gap (ev, &ts, &dur);
  s.start = ts;
  s.end = ts + dur;
  s.gap = TRUE;
  s.silent = TRUE;
  g_array_append_val (spans, s);
}

/* Pulls events until EOS (GAPs noted), then every buffer pushed before it;
 * sorted by time. GAP buffers (silence between cues) count as GAPs and must
 * be zeros. */
static GArray *
collect_output (GstHarness *h, gsize *total_samples)
{
  GArray *spans = g_array_new (FALSE, TRUE, sizeof (Span));
  GstBuffer *buf = NULL;
  GstEvent *ev;
  gsize total = 0;
  gboolean eos = FALSE;

  while (!eos) {
    ev = gst_harness_pull_event (h);
    fail_unless (ev != NULL, "no EOS");
    if (GST_EVENT_TYPE (ev) == GST_EVENT_GAP)
      add_gap (spans, ev);
    eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  while ((buf = gst_harness_try_pull (h))) {
    Span s = { 0 };
    GstMapInfo map;
    gsize i, n;
    s.start = GST_BUFFER_PTS (buf);
    s.end = s.start + GST_BUFFER_DURATION (buf);
    s.discont = GST_BUFFER_IS_DISCONT (buf);
    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    n = map.size / sizeof (gfloat);
    fail_unless_equals_int (map.size % sizeof (gfloat), 0);
    s.silent = TRUE;
    for (i = 0; i < n; i++) {
      gfloat x = ((gfloat *) map.data)[i];
      fail_unless (isfinite (x));
      if (x != 0.0f)
        s.silent = FALSE;
    }
    s.gap = GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP);
    fail_unless (!s.gap || s.silent, "a GAP buffer with sound");
    /* The duration matches the samples. */
    fail_unless (llabs ((gint64) GST_BUFFER_DURATION (buf) -
                     (gint64) gst_util_uint64_scale_int (
                         n, GST_SECOND, RATE)) <= GST_USECOND);
    total += n;
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
    g_array_append_val (spans, s);
  }
  g_array_sort (spans, compare_spans);
  if (total_samples)
    *total_samples = total;
  return spans;
}

/* The output tiles the timeline from @from without holes or overlaps. */
static void
check_contiguous (GArray *spans, GstClockTime from)
{
  GstClockTime at = from;
  guint i;

  for (i = 0; i < spans->len; i++) {
    Span *s = &g_array_index (spans, Span, i);
    fail_unless_equals_uint64 (s->start, at);
    fail_unless (s->end >= s->start);
    at = s->end;
  }
}

/* The ganvoice-cue messages, in posting order; counts the warnings and
 * errors on the way (gst_bus_pop_filtered would drop them). */
static guint n_warnings, n_errors;

static GPtrArray *
cue_messages (GstBus *bus)
{
  GPtrArray *out =
      g_ptr_array_new_with_free_func ((GDestroyNotify) gst_structure_free);
  GstMessage *msg;

  n_warnings = n_errors = 0;
  while ((msg = gst_bus_pop (bus))) {
    const GstStructure *s = gst_message_get_structure (msg);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT &&
        gst_structure_has_name (s, "ganvoice-cue"))
      g_ptr_array_add (out, gst_structure_copy (s));
    else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING)
      n_warnings++;
    else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
      n_errors++;
    gst_message_unref (msg);
  }
  return out;
}

static GstClockTime
get_time (const GstStructure *s, const gchar *field)
{
  guint64 v = 0;
  fail_unless (gst_structure_get_uint64 (s, field, &v), "%s", field);
  return v;
}

static gboolean
error_mentions (GstBus *bus, const gchar *needle)
{
  GstMessage *msg =
      gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND, GST_MESSAGE_ERROR);
  GError *err = NULL;
  gchar *debug = NULL;
  gboolean found;

  fail_unless (msg != NULL, "no error posted");
  gst_message_parse_error (msg, &err, &debug);
  GST_INFO ("error: %s (%s)", err->message, debug);
  found = strstr (err->message, needle) != NULL ||
      (debug && strstr (debug, needle) != NULL);
  fail_unless (found, "'%s' not in '%s' / '%s'", needle, err->message, debug);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);
  return found;
}

GST_START_TEST (test_caps_and_timestamps)
{
  GstBus *bus;
  GstHarness *h = start_harness (make_ganvoice (), &bus);
  GArray *spans;
  GPtrArray *msgs;
  GstCaps *caps;
  GstStructure *s;
  gint rate, channels;
  guint i, j;
  gsize total;
  const GstClockTime starts[] = { 1 * GST_SECOND, 3 * GST_SECOND,
    6 * GST_SECOND };
  const gchar *texts[] = { "Good morning.", "How are you today?",
    "Fine, thank you." };

  for (i = 0; i < 3; i++)
    fail_unless_equals_int (
        push_cue (h, texts[i], starts[i], GST_SECOND, i, NULL, "en"),
        GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  spans = collect_output (h, &total);
  fail_unless (total > 0);
  check_contiguous (spans, 0);

  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (caps != NULL);
  s = gst_caps_get_structure (caps, 0);
  fail_unless (gst_structure_get_int (s, "rate", &rate));
  fail_unless (gst_structure_get_int (s, "channels", &channels));
  fail_unless_equals_int (rate, RATE);
  fail_unless_equals_int (channels, 1);
  fail_unless_equals_string (gst_structure_get_string (s, "format"), "F32LE");
  gst_caps_unref (caps);

  /* Speech starts at each cue start and lasts its natural duration. */
  msgs = cue_messages (bus);
  fail_unless_equals_int (msgs->len, 3);
  for (i = 0; i < 3; i++) {
    const GstStructure *m = g_ptr_array_index (msgs, i);
    GstClockTime natural = get_time (m, "natural-duration");
    guint index;
    gboolean found = FALSE;
    fail_unless (gst_structure_get_uint (m, "index", &index));
    fail_unless_equals_int (index, i);
    fail_unless_equals_uint64 (get_time (m, "start"), starts[i]);
    fail_unless_equals_uint64 (get_time (m, "speech-start"), starts[i]);
    fail_unless_equals_uint64 (get_time (m, "speech-end"), starts[i] + natural);
    fail_unless (natural > 10 * MS);
    fail_unless_equals_string (gst_structure_get_string (m, "step"), "natural");
    fail_unless_equals_uint64 (get_time (m, "next-start"),
        i < 2 ? starts[i + 1] : GST_CLOCK_TIME_NONE);
    for (j = 0; j < spans->len; j++) {
      Span *sp = &g_array_index (spans, Span, j);
      if (!sp->gap && sp->start == starts[i]) {
        found = TRUE;
        /* Only the stream's first buffer is DISCONT. */
        fail_unless (sp->discont == (j == 0));
      }
    }
    fail_unless (found, "no buffer at cue %u's start", i);
  }
  fail_unless (g_array_index (spans, Span, 0).discont);
  /* Audio only where the speech is. */
  for (j = 0; j < spans->len; j++) {
    Span *sp = &g_array_index (spans, Span, j);
    gboolean inside = sp->gap;
    for (i = 0; i < 3 && !inside; i++) {
      const GstStructure *m = g_ptr_array_index (msgs, i);
      inside = sp->start >= get_time (m, "speech-start") &&
          sp->end <= get_time (m, "speech-end");
    }
    fail_unless (inside, "audio at %" GST_TIME_FORMAT " outside speech",
        GST_TIME_ARGS (sp->start));
  }

  g_ptr_array_unref (msgs);
  g_array_unref (spans);
  stop_harness (h, bus);
}
GST_END_TEST;

/* The test: 100 cues of varied slot lengths (seeded); under the
 * default policy all speech lies inside its slot (+-20 ms) and no cue is
 * sped up beyond max-rate. */
/* ganvoice ! wavenc must come out right: buffers alone cover the stream
 * from 0 to the end (silence as GAP buffers of zeros, no GAP events), each
 * cue's speech at its time, every sample below -1 dBFS. */
GST_START_TEST (test_continuous_output)
{
  GstBus *bus;
  GstHarness *h = start_harness (make_ganvoice (), &bus);
  const GstClockTime starts[] = { 2 * GST_SECOND, 10 * GST_SECOND };
  const gfloat ceiling = powf (10.0f, -1.0f / 20.0f);
  guint64 next_offset = 0;
  guint gap_events = 0, speech_at[2] = { 0, 0 };
  gboolean eos = FALSE;
  GstBuffer *buf;
  guint i;

  for (i = 0; i < 2; i++)
    fail_unless_equals_int (push_cue (h, "Hello there, this is a test.",
                                starts[i], 2 * GST_SECOND, i, NULL, "en"),
        GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  while (!eos) {
    GstEvent *ev = gst_harness_pull_event (h);
    fail_unless (ev != NULL, "no EOS");
    gap_events += GST_EVENT_TYPE (ev) == GST_EVENT_GAP;
    eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  fail_unless_equals_int (gap_events, 0);
  while ((buf = gst_harness_try_pull (h))) {
    GstMapInfo map;
    gsize n, j;
    gboolean gap = GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (buf), next_offset);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (buf),
        gst_util_uint64_scale_int_round (next_offset, GST_SECOND, RATE));
    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    n = map.size / sizeof (gfloat);
    for (j = 0; j < n; j++) {
      gfloat x = ((gfloat *) map.data)[j];
      fail_unless (fabsf (x) <= ceiling, "sample %g above -1 dBFS", x);
      fail_unless (!gap || x == 0.0f);
    }
    if (gap)
      fail_unless (n <= RATE / 10 + 1, "a GAP buffer of %zu samples", n);
    for (i = 0; i < 2; i++)
      if (!gap && GST_BUFFER_PTS (buf) == starts[i])
        speech_at[i]++;
    next_offset += n;
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
  }
  /* The second cue is spoken from 10 s on, so the stream reaches past it. */
  fail_unless (next_offset > 10 * RATE);
  fail_unless_equals_int (speech_at[0], 1);
  fail_unless_equals_int (speech_at[1], 1);
  g_ptr_array_unref (cue_messages (bus));
  stop_harness (h, bus);
}

GST_END_TEST;

GST_START_TEST (test_hundred_cues_fit)
{
  GstBus *bus;
  GstHarness *h = start_harness (make_ganvoice (), &bus);
  GRand *rand = g_rand_new_with_seed (4242);
  const gchar *texts[] = { "Yes.", "Where are you going tonight?",
    "I told you, we have to leave before the sun comes up, or else.",
    "Okay, fine.", "Nobody ever listens to a single word I say in this house.",
    "Run!" };
  GstClockTime t = 200 * MS;
  GArray *spans;
  GPtrArray *msgs;
  guint i, j, steps[6] = { 0 };
  const gchar *step_names[] = { "natural", "free-time", "rate", "clipped",
    "stretched", "overflowed" };

  for (i = 0; i < 100; i++) {
    GstClockTime len = g_rand_int_range (rand, 1, 150) * MS;
    GstClockTime pause = g_rand_int_range (rand, 0, 3) == 0
        ? 0
        : g_rand_int_range (rand, 0, 80) * MS;
    fail_unless_equals_int (
        push_cue (h, texts[g_rand_int_range (rand, 0, G_N_ELEMENTS (texts))], t,
            len, i, NULL, NULL),
        GST_FLOW_OK);
    t += len + pause;
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  spans = collect_output (h, NULL);
  check_contiguous (spans, 0);
  msgs = cue_messages (bus);
  fail_unless_equals_int (msgs->len, 100);

  for (i = 0; i < msgs->len; i++) {
    const GstStructure *m = g_ptr_array_index (msgs, i);
    GstClockTime start = get_time (m, "start");
    GstClockTime next = get_time (m, "next-start");
    GstClockTime s0 = get_time (m, "speech-start");
    GstClockTime s1 = get_time (m, "speech-end");
    gdouble rate;
    const gchar *step = gst_structure_get_string (m, "step");

    fail_unless (gst_structure_get_double (m, "applied-rate", &rate));
    fail_unless (rate <= 1.4 + 1e-9, "cue %u: rate %f", i, rate);
    fail_unless (s0 + 20 * MS >= start, "cue %u starts early", i);
    if (GST_CLOCK_TIME_IS_VALID (next))
      fail_unless (s1 <= next + 20 * MS,
          "cue %u ends %" GST_TIME_FORMAT " after its slot", i,
          GST_TIME_ARGS (s1 - next));
    for (j = 0; j < G_N_ELEMENTS (step_names); j++)
      if (g_strcmp0 (step, step_names[j]) == 0)
        steps[j]++;
  }
  /* The slots were varied enough to need every default step. */
  fail_unless (steps[0] > 0 && steps[2] > 0 && steps[3] > 0,
      "natural %u, free %u, rate %u, clipped %u", steps[0], steps[1], steps[2],
      steps[3]);
  fail_unless (steps[4] == 0 && steps[5] == 0);

  /* The output buffers: every sample of audio lies in a cue's speech, and
   * so inside its slot. */
  for (j = 0; j < spans->len; j++) {
    Span *sp = &g_array_index (spans, Span, j);
    gboolean inside = sp->gap;
    for (i = 0; i < msgs->len && !inside; i++) {
      const GstStructure *m = g_ptr_array_index (msgs, i);
      GstClockTime next = get_time (m, "next-start");
      inside = sp->start + MS >= get_time (m, "speech-start") &&
          sp->end <= get_time (m, "speech-end") + MS &&
          (!GST_CLOCK_TIME_IS_VALID (next) || sp->end <= next + 20 * MS);
    }
    fail_unless (inside,
        "audio at %" GST_TIME_FORMAT " - %" GST_TIME_FORMAT
        " outside the speech",
        GST_TIME_ARGS (sp->start), GST_TIME_ARGS (sp->end));
  }

  g_rand_free (rand);
  g_ptr_array_unref (msgs);
  g_array_unref (spans);
  stop_harness (h, bus);
}
GST_END_TEST;

GST_START_TEST (test_languages)
{
  GstBus *bus;
  GstHarness *h = start_harness (make_ganvoice (), &bus);
  const struct {
    const gchar *language, *text;
  } cases[] = {
    { "en", "The weather is lovely today." },
    { "es", "El tiempo es precioso hoy." },
    { "fr", "Il fait très beau aujourd'hui." },
    { "it", "Oggi il tempo è bellissimo." },
    { "ru", "Сегодня прекрасная погода." },
    { "nl", "Het weer is vandaag heerlijk." },
    { "de", "Das Wetter ist heute herrlich." },
    { "ko", "오늘 날씨가 정말 좋네요." },
  };
  GPtrArray *msgs;
  GArray *spans;
  gsize total;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    fail_unless_equals_int (push_cue (h, cases[i].text, i * GST_SECOND,
                                GST_SECOND, i, NULL, cases[i].language),
        GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  spans = collect_output (h, &total);
  msgs = cue_messages (bus);
  fail_unless_equals_int (msgs->len, G_N_ELEMENTS (cases));
  for (i = 0; i < msgs->len; i++) {
    const GstStructure *m = g_ptr_array_index (msgs, i);
    gboolean fell_back = TRUE;
    guint j;
    gboolean audio = FALSE;
    fail_unless (gst_structure_get_boolean (m, "fell-back", &fell_back));
    fail_if (fell_back, "%s fell back", cases[i].language);
    fail_unless (g_str_has_prefix (gst_structure_get_string (m, "language"),
                     cases[i].language),
        "%s", gst_structure_get_string (m, "language"));
    fail_unless (get_time (m, "natural-duration") > 5 * MS);
    for (j = 0; j < spans->len; j++) {
      Span *sp = &g_array_index (spans, Span, j);
      if (!sp->gap && !sp->silent && sp->start >= i * GST_SECOND &&
          sp->start < (i + 1) * GST_SECOND)
        audio = TRUE;
    }
    fail_unless (audio, "no audio for %s", cases[i].language);
  }
  fail_unless_equals_int (n_warnings, 0);
  fail_unless_equals_int (n_errors, 0);
  g_ptr_array_unref (msgs);
  g_array_unref (spans);
  stop_harness (h, bus);
}
GST_END_TEST;

GST_START_TEST (test_unknown_language_and_property)
{
  GstBus *bus;
  GstElement *e = make_ganvoice ();
  GstHarness *h;
  GPtrArray *msgs;
  GArray *spans;
  gsize total;

  h = start_harness (e, &bus);
  /* An unknown language: one warning, then speech in the fallback. */
  fail_unless_equals_int (
      push_cue (h, "Hello there.", 0, GST_SECOND, 0, NULL, "xx"), GST_FLOW_OK);
  fail_unless_equals_int (
      push_cue (h, "Hello again.", GST_SECOND, GST_SECOND, 1, NULL, "xx"),
      GST_FLOW_OK);
  /* The language property overrides the cue meta. */
  g_object_set (h->element, "language", "es", NULL);
  fail_unless_equals_int (
      push_cue (h, "Hola.", 2 * GST_SECOND, GST_SECOND, 2, NULL, "xx"),
      GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  spans = collect_output (h, &total);
  fail_unless (total > 0);

  msgs = cue_messages (bus);
  fail_unless_equals_int (n_warnings, 1);
  fail_unless_equals_int (msgs->len, 3);
  fail_unless_equals_string (
      gst_structure_get_string (g_ptr_array_index (msgs, 0), "language"), "en");
  fail_unless_equals_string (
      gst_structure_get_string (g_ptr_array_index (msgs, 2), "language"), "es");
  g_ptr_array_unref (msgs);
  g_array_unref (spans);
  stop_harness (h, bus);
}
GST_END_TEST;

GST_START_TEST (test_empty_and_long_cues)
{
  GstBus *bus;
  GstHarness *h = start_harness (make_ganvoice (), &bus);
  GString *longtext = g_string_new (NULL);
  GPtrArray *msgs;
  GArray *spans;
  guint i;

  while (longtext->len < 10000)
    g_string_append (longtext,
        "This is a rather long cue, with commas; "
        "and sentences. And numbers like 42! ");
  g_string_truncate (longtext, 10000);

  fail_unless_equals_int (
      push_cue (h, "", 0, GST_SECOND, 0, NULL, NULL), GST_FLOW_OK);
  fail_unless_equals_int (
      push_cue (h, " ... ", GST_SECOND, GST_SECOND, 1, NULL, NULL),
      GST_FLOW_OK);
  /* A 10,000-character cue with 2 s of room: clipped; then again as the
   * last cue, with all the time it needs. */
  fail_unless_equals_int (
      push_cue (h, longtext->str, 2 * GST_SECOND, GST_SECOND, 2, NULL, NULL),
      GST_FLOW_OK);
  fail_unless_equals_int (
      push_cue (h, longtext->str, 4 * GST_SECOND, GST_SECOND, 3, NULL, NULL),
      GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  spans = collect_output (h, NULL);
  check_contiguous (spans, 0);

  msgs = cue_messages (bus);
  fail_unless_equals_int (msgs->len, 4);
  for (i = 0; i < 2; i++) {
    const GstStructure *m = g_ptr_array_index (msgs, i);
    fail_unless_equals_uint64 (get_time (m, "natural-duration"), 0);
    fail_unless_equals_uint64 (
        get_time (m, "speech-end"), get_time (m, "speech-start"));
  }
  /* Nothing spoken in the first two seconds. */
  for (i = 0; i < spans->len; i++) {
    Span *sp = &g_array_index (spans, Span, i);
    if (sp->start < 2 * GST_SECOND)
      fail_unless (
          sp->gap, "audio at %" GST_TIME_FORMAT, GST_TIME_ARGS (sp->start));
  }
  {
    const GstStructure *m = g_ptr_array_index (msgs, 2);
    fail_unless_equals_string (gst_structure_get_string (m, "step"), "clipped");
    fail_unless_equals_uint64 (get_time (m, "speech-end"), 4 * GST_SECOND);
    m = g_ptr_array_index (msgs, 3);
    fail_unless_equals_string (
        gst_structure_get_string (m, "step"), "free-time");
    fail_unless (get_time (m, "natural-duration") > 4 * GST_SECOND);
    fail_unless_equals_uint64 (get_time (m, "speech-end"),
        4 * GST_SECOND + get_time (m, "natural-duration"));
    fail_unless_equals_uint64 (g_array_index (spans, Span, spans->len - 1).end,
        get_time (m, "speech-end"));
  }
  fail_unless_equals_int (n_errors, 0);
  g_ptr_array_unref (msgs);
  g_array_unref (spans);
  g_string_free (longtext, TRUE);
  stop_harness (h, bus);
}
GST_END_TEST;

GST_START_TEST (test_no_timestamp)
{
  GstBus *bus;
  GstHarness *h = start_harness (make_ganvoice (), &bus);
  GstBuffer *buf = gst_buffer_new_memdup ("no time", 7);
  GstMessage *msg;
  GArray *spans;
  gsize total;

  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  spans = collect_output (h, &total);
  fail_unless_equals_int (total, 0);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_unref (msg);
  g_array_unref (spans);
  stop_harness (h, bus);
}
GST_END_TEST;

GST_START_TEST (test_voices_and_speaker_map)
{
  GstBus *bus;
  GstElement *e = make_ganvoice ();
  GstHarness *h;
  GPtrArray *msgs;
  GArray *spans;
  gchar *dir = g_dir_make_tmp ("ganvoice-check-XXXXXX", NULL);
  gchar *profile = g_build_filename (dir, "mara.json", NULL);
  gchar *map;
  const gchar *json =
      "{\"format\": \"ganvoice-voice-profile\", "
      "\"version\": 1, \"name\": \"mara\", \"embedding\": [0.5, -0.5, 1, 0]}";

  fail_unless (g_file_set_contents (profile, json, -1, NULL));
  map = g_strdup_printf ("ALICE=ben; bob = dmitri;Carol=%s", profile);
  g_object_set (e, "voice", "chloe", "speaker-map", map, NULL);
  h = start_harness (e, &bus);
  fail_unless_equals_int (
      push_cue (h, "Hi.", 0, GST_SECOND, 0, "ALICE", NULL), GST_FLOW_OK);
  fail_unless_equals_int (
      push_cue (h, "Hi.", GST_SECOND, GST_SECOND, 1, "Bob", NULL), GST_FLOW_OK);
  fail_unless_equals_int (
      push_cue (h, "Hi.", 2 * GST_SECOND, GST_SECOND, 2, "Carol", NULL),
      GST_FLOW_OK);
  fail_unless_equals_int (
      push_cue (h, "Hi.", 3 * GST_SECOND, GST_SECOND, 3, "Dave", NULL),
      GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  spans = collect_output (h, NULL);
  msgs = cue_messages (bus);
  fail_unless_equals_int (msgs->len, 4);
  fail_unless_equals_string (
      gst_structure_get_string (g_ptr_array_index (msgs, 0), "voice"), "ben");
  fail_unless_equals_string (
      gst_structure_get_string (g_ptr_array_index (msgs, 1), "voice"),
      "dmitri");
  fail_unless_equals_string (
      gst_structure_get_string (g_ptr_array_index (msgs, 2), "voice"), "mara");
  fail_unless_equals_string (
      gst_structure_get_string (g_ptr_array_index (msgs, 3), "voice"), "chloe");
  fail_unless_equals_string (
      gst_structure_get_string (g_ptr_array_index (msgs, 3), "speaker"),
      "Dave");
  g_ptr_array_unref (msgs);
  g_array_unref (spans);
  stop_harness (h, bus);

  /* An unknown voice is an error that names the voices. */
  e = make_ganvoice ();
  g_object_set (e, "voice", "nobody", NULL);
  h = start_harness (e, &bus);
  error_mentions (bus, "ana, ben, chloe, dmitri");
  stop_harness (h, bus);

  g_unlink (profile);
  g_rmdir (dir);
  g_free (profile);
  g_free (dir);
  g_free (map);
}
GST_END_TEST;

/* A deep clone (a profile with an acoustic delta) speaks with its own
 * weights; a delta the model cannot take is an ERROR at start-up that
 * names the tensor. */
GST_START_TEST (test_deep_voice)
{
  gchar *dir = g_dir_make_tmp ("ganvoice-check-XXXXXX", NULL);
  const struct {
    const gchar *tensor, *needle;
  } cases[] = {
    /* dur.bias + 1.0 (base64 of float32 1.0): longer phonemes */
    { "{\"name\": \"dur.bias\", \"shape\": [1], \"kind\": \"add\", "
      "\"data\": \"AACAPw==\"}",
        NULL },
    { "{\"name\": \"decoder.9.weight\", \"shape\": [1], "
      "\"kind\": \"add\", \"data\": \"AACAPw==\"}",
        "decoder.9.weight" },
  };
  guint64 deep_end = 0;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases) + 1; i++) {
    GstBus *bus;
    GstElement *e = make_ganvoice ();
    GstHarness *h;
    GPtrArray *msgs;
    GArray *spans;
    gchar *profile = g_build_filename (dir, "deep.json", NULL);
    gchar *json;
    guint64 end = 0;

    if (i < G_N_ELEMENTS (cases))
      json = g_strdup_printf ("{\"format\": \"ganvoice-voice-profile\", "
                              "\"version\": 2, \"name\": \"deep\", "
                              "\"embedding\": [0.5, -0.5, 1, 0], "
                              "\"acoustic_delta\": {\"format\": "
                              "\"ganvoice-acoustic-delta\", \"version\": 1, "
                              "\"tensors\": [%s]}}",
          cases[i].tensor);
    else /* the same voice without its delta */
      json = g_strdup ("{\"format\": \"ganvoice-voice-profile\", "
                       "\"version\": 1, \"name\": \"plain\", "
                       "\"embedding\": [0.5, -0.5, 1, 0]}");
    fail_unless (g_file_set_contents (profile, json, -1, NULL));
    g_object_set (e, "voice", profile, NULL);
    h = start_harness (e, &bus);
    if (i < G_N_ELEMENTS (cases) && cases[i].needle) {
      error_mentions (bus, cases[i].needle);
    } else {
      fail_unless_equals_int (push_cue (h, "Hello there, how are you?", 0,
                                  5 * GST_SECOND, 0, NULL, NULL),
          GST_FLOW_OK);
      fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
      spans = collect_output (h, NULL);
      msgs = cue_messages (bus);
      fail_unless_equals_int (msgs->len, 1);
      fail_unless (gst_structure_get_uint64 (
          g_ptr_array_index (msgs, 0), "speech-end", &end));
      if (i == 0)
        deep_end = end;
      else /* the delta's longer durations made the deep voice slower */
        fail_unless (deep_end > end,
            "deep %" G_GUINT64_FORMAT " <= plain %" G_GUINT64_FORMAT, deep_end,
            end);
      g_ptr_array_unref (msgs);
      g_array_unref (spans);
    }
    stop_harness (h, bus);
    g_unlink (profile);
    g_free (profile);
    g_free (json);
  }
  g_rmdir (dir);
  g_free (dir);
}
GST_END_TEST;

/* speech-end of one cue spoken with voice=@voice. */
static guint64
library_speech_end (const gchar *voice)
{
  GstBus *bus;
  GstElement *e = make_ganvoice ();
  GstHarness *h;
  GPtrArray *msgs;
  GArray *spans;
  guint64 end = 0;

  g_object_set (e, "voice", voice, NULL);
  h = start_harness (e, &bus);
  fail_unless_equals_int (push_cue (h, "Hello there, how are you?", 0,
                              5 * GST_SECOND, 0, NULL, NULL),
      GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  spans = collect_output (h, NULL);
  msgs = cue_messages (bus);
  fail_unless_equals_int (msgs->len, 1);
  fail_unless (gst_structure_get_uint64 (
      g_ptr_array_index (msgs, 0), "speech-end", &end));
  g_ptr_array_unref (msgs);
  g_array_unref (spans);
  stop_harness (h, bus);
  return end;
}

/* A voice of the voice library by name (the tiny card's "eve", whose
 * profile voices/eve.json lengthens the durations) speaks like its profile
 * file, and not like its embedding alone. */
GST_START_TEST (test_library_voice)
{
  gchar *file = model_path ("voices/eve.json");
  gchar *dir = g_dir_make_tmp ("ganvoice-check-XXXXXX", NULL);
  gchar *plain = g_build_filename (dir, "plain.json", NULL);
  gchar *contents = NULL;
  gchar *embedding;
  guint64 by_name, by_file, without;

  /* eve's embedding, from her profile, in a version-1 profile */
  fail_unless (g_file_get_contents (file, &contents, NULL, NULL));
  embedding = strstr (contents, "\"embedding\"");
  fail_unless (embedding != NULL);
  *strchr (embedding, ']') = '\0';
  {
    gchar *json = g_strdup_printf ("{\"format\": \"ganvoice-voice-profile\", "
                                   "\"version\": 1, \"name\": \"plain\", "
                                   "%s]}",
        embedding);
    fail_unless (g_file_set_contents (plain, json, -1, NULL));
    g_free (json);
  }
  by_name = library_speech_end ("eve");
  by_file = library_speech_end (file);
  without = library_speech_end (plain);
  fail_unless_equals_uint64 (by_name, by_file);
  fail_unless (by_name > without,
      "eve %" G_GUINT64_FORMAT " <= plain %" G_GUINT64_FORMAT, by_name,
      without);
  g_unlink (plain);
  g_rmdir (dir);
  g_free (plain);
  g_free (dir);
  g_free (contents);
  g_free (file);
}
GST_END_TEST;

GST_START_TEST (test_rate_pitch_and_policies)
{
  GstClockTime naturals[2];
  guint run;

  /* rate=2 halves the natural duration. */
  for (run = 0; run < 2; run++) {
    GstBus *bus;
    GstElement *e = make_ganvoice ();
    GstHarness *h;
    GPtrArray *msgs;
    GArray *spans;
    g_object_set (e, "rate", run ? 2.0 : 1.0, "pitch", run ? 3.0 : 0.0, NULL);
    h = start_harness (e, &bus);
    push_cue (h, "A sentence of a few words.", 0, GST_SECOND, 0, NULL, NULL);
    fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
    spans = collect_output (h, NULL);
    msgs = cue_messages (bus);
    naturals[run] = get_time (g_ptr_array_index (msgs, 0), "natural-duration");
    g_ptr_array_unref (msgs);
    g_array_unref (spans);
    stop_harness (h, bus);
  }
  fail_unless (
      naturals[1] < naturals[0] * 0.6 && naturals[1] > naturals[0] * 0.4,
      "%" G_GUINT64_FORMAT " vs %" G_GUINT64_FORMAT, naturals[1], naturals[0]);

  /* Overlap and shift never cut, compress stretches: the output stays
   * contiguous and ordered whatever the policy. */
  for (run = 0; run < 4; run++) {
    const gchar *policy[] = { "overlap", "shift", "compress", "clip" };
    GstBus *bus;
    GstElement *e = make_ganvoice ();
    GstHarness *h;
    GPtrArray *msgs;
    GArray *spans;
    guint i;
    gst_util_set_object_arg (G_OBJECT (e), "overflow", policy[run]);
    h = start_harness (e, &bus);
    for (i = 0; i < 10; i++)
      push_cue (h, "This is a long sentence in a very short slot.", i * 20 * MS,
          10 * MS, i, NULL, NULL);
    fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
    spans = collect_output (h, NULL);
    check_contiguous (spans, 0);
    msgs = cue_messages (bus);
    fail_unless_equals_int (msgs->len, 10);
    for (i = 0; i < 9; i++) {
      const GstStructure *m = g_ptr_array_index (msgs, i);
      const gchar *step = gst_structure_get_string (m, "step");
      GstClockTime end = get_time (m, "speech-end");
      GstClockTime next = get_time (m, "next-start");
      if (run < 2) {
        fail_unless_equals_string (step, "overflowed");
        fail_unless (end > next + 5 * MS);
      } else if (run == 2) {
        fail_unless_equals_string (step, "stretched");
        fail_unless (end <= next + 2 * MS);
      } else {
        fail_unless_equals_string (step, "clipped");
        fail_unless (end <= get_time (m, "end") + MS);
      }
      if (run == 1 && i > 0)
        fail_unless (get_time (m, "speech-start") + MS >=
            get_time (g_ptr_array_index (msgs, i - 1), "speech-end"));
    }
    g_ptr_array_unref (msgs);
    g_array_unref (spans);
    stop_harness (h, bus);
  }
}
GST_END_TEST;

GST_START_TEST (test_flush)
{
  GstBus *bus;
  GstHarness *h = start_harness (make_ganvoice (), &bus);
  GString *longtext = g_string_new (NULL);
  GstSegment segment;
  GstBuffer *buf;
  GArray *spans;
  GPtrArray *msgs;
  guint i;

  while (longtext->len < 10000)
    g_string_append (longtext, "A long cue to be flushed away. ");
  fail_unless_equals_int (
      push_cue (h, "Before the flush.", 0, GST_SECOND, 0, NULL, NULL),
      GST_FLOW_OK);
  fail_unless_equals_int (
      push_cue (h, longtext->str, GST_SECOND, GST_SECOND, 1, NULL, NULL),
      GST_FLOW_OK);
  fail_unless_equals_int (
      push_cue (h, "Next.", 2 * GST_SECOND, GST_SECOND, 2, NULL, NULL),
      GST_FLOW_OK);
  buf = gst_harness_pull (h);
  fail_unless (buf != NULL);
  fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), 0);
  gst_buffer_unref (buf);

  /* Flush in the middle of the long cue, then a new segment. */
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  while ((buf = gst_harness_try_pull (h)))
    gst_buffer_unref (buf);
  {
    GstEvent *ev;
    while ((ev = gst_harness_try_pull_event (h)))
      gst_event_unref (ev);
  }
  {
    GstMessage *msg;
    while ((msg = gst_bus_pop (bus)))
      gst_message_unref (msg);
  }
  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.start = segment.time = 10 * GST_SECOND;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));
  for (i = 0; i < 3; i++)
    fail_unless_equals_int (
        push_cue (h, "After the flush.", (10 + i) * GST_SECOND, GST_SECOND,
            10 + i, NULL, NULL),
        GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  spans = collect_output (h, NULL);
  fail_unless (spans->len > 0);
  check_contiguous (spans, 10 * GST_SECOND);
  msgs = cue_messages (bus);
  /* The flushed long cue may have posted before the flush came; the three
   * new ones are all there. */
  fail_unless (msgs->len >= 3);
  for (i = 0; i < msgs->len; i++) {
    guint index;
    gst_structure_get_uint (
        g_ptr_array_index (msgs, msgs->len - 1 - i), "index", &index);
    if (i < 3)
      fail_unless_equals_int (index, 12 - i);
  }
  g_ptr_array_unref (msgs);
  g_array_unref (spans);
  g_string_free (longtext, TRUE);
  stop_harness (h, bus);
}
GST_END_TEST;

GST_START_TEST (test_reuse_after_ready)
{
  GstBus *bus;
  GstHarness *h = start_harness (make_ganvoice (), &bus);
  guint run;

  for (run = 0; run < 3; run++) {
    GArray *spans;
    GPtrArray *msgs;
    gsize total;
    if (run > 0) {
      GstSegment segment;
      fail_unless_equals_int (
          gst_element_set_state (h->element, GST_STATE_READY),
          GST_STATE_CHANGE_SUCCESS);
      gst_harness_play (h);
      gst_harness_push_event (h, gst_event_new_stream_start ("again"));
      gst_harness_push_event (h,
          gst_event_new_caps (gst_caps_from_string ("text/x-raw, "
                                                    "format=utf8")));
      gst_segment_init (&segment, GST_FORMAT_TIME);
      gst_harness_push_event (h, gst_event_new_segment (&segment));
    }
    fail_unless_equals_int (
        push_cue (h, "Once more.", 0, GST_SECOND, 0, NULL, NULL), GST_FLOW_OK);
    fail_unless_equals_int (
        push_cue (h, "And again.", GST_SECOND, GST_SECOND, 1, NULL, NULL),
        GST_FLOW_OK);
    fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
    spans = collect_output (h, &total);
    fail_unless (total > 0);
    check_contiguous (spans, 0);
    msgs = cue_messages (bus);
    fail_unless_equals_int (msgs->len, 2);
    g_ptr_array_unref (msgs);
    g_array_unref (spans);
  }
  /* Stopped with cues still queued and unspoken. */
  fail_unless_equals_int (gst_element_set_state (h->element, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  gst_harness_play (h);
  gst_harness_push_event (h, gst_event_new_stream_start ("last"));
  gst_harness_push_event (
      h, gst_event_new_caps (gst_caps_from_string ("text/x-raw, format=utf8")));
  push_cue (h, "Never spoken.", 0, GST_SECOND, 0, NULL, NULL);
  push_cue (h, "Never spoken.", GST_SECOND, GST_SECOND, 1, NULL, NULL);
  fail_unless_equals_int (gst_element_set_state (h->element, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);
  stop_harness (h, bus);
}
GST_END_TEST;

GST_START_TEST (test_text_property)
{
  /* Nothing linked to the sink pad: the text at 0, then EOS. */
  GstElement *e = make_ganvoice ();
  GstHarness *h;
  GstBus *bus = gst_bus_new ();
  GArray *spans;
  gsize total;

  g_object_set (e, "text", "Hello from the text property.", NULL);
  h = gst_harness_new_with_element (e, NULL, "src");
  gst_object_unref (e);
  gst_element_set_bus (h->element, bus);
  gst_harness_play (h);
  spans = collect_output (h, &total);
  fail_unless (total > 0);
  check_contiguous (spans, 0);
  g_array_unref (spans);
  stop_harness (h, bus);

  /* Set while playing: spoken now, between the cues. */
  h = start_harness (make_ganvoice (), &bus);
  fail_unless_equals_int (
      push_cue (h, "First.", 0, GST_SECOND, 0, NULL, NULL), GST_FLOW_OK);
  g_object_set (h->element, "text", "Spoken now.", NULL);
  fail_unless_equals_int (
      push_cue (h, "Second.", 5 * GST_SECOND, GST_SECOND, 1, NULL, NULL),
      GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  spans = collect_output (h, &total);
  check_contiguous (spans, 0);
  {
    GPtrArray *msgs = cue_messages (bus);
    fail_unless_equals_int (msgs->len, 3);
    g_ptr_array_unref (msgs);
  }
  g_array_unref (spans);
  stop_harness (h, bus);
}
GST_END_TEST;

GST_START_TEST (test_latency)
{
  GstElement *e = make_ganvoice ();
  GstHarness *h = start_harness (e, NULL);
  GstQuery *q;
  gboolean live;
  GstClockTime min, max;

  /* Not live: as upstream. */
  q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (h->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  gst_query_unref (q);

  gst_harness_set_upstream_latency (h, 10 * MS);
  q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (h->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  fail_unless (live);
  fail_unless_equals_uint64 (min, 10 * MS + GST_SECOND);
  gst_query_unref (q);

  g_object_set (h->element, "latency", (guint64) (200 * MS), NULL);
  q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (h->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  fail_unless_equals_uint64 (min, 210 * MS);
  gst_query_unref (q);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_bad_models)
{
  gchar *dir = g_dir_make_tmp ("ganvoice-check-XXXXXX", NULL);
  gchar *corrupt = g_build_filename (dir, "corrupt-vocoder.ts", NULL);
  gchar *broken = model_path ("tiny-acoustic-broken.ts");
  const struct {
    const gchar *property, *value, *needle;
  } cases[] = {
    { "acoustic-model", "/nonexistent/acoustic.ts",
        "/nonexistent/acoustic.ts" },
    { "acoustic-card", "/nonexistent/acoustic.json",
        "/nonexistent/acoustic.json" },
    { "vocoder-model", corrupt, "corrupt-vocoder.ts" },
    { "acoustic-model", broken, "contract" },
    { "device", "cuda", "cuda" },
  };
  guint i;

  fail_unless (g_file_set_contents (corrupt, "PK\003\004 not a zip", -1, NULL));
  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstBus *bus;
    GstElement *e = make_ganvoice ();
    GstHarness *h;
    GstFlowReturn ret = GST_FLOW_OK;
    guint k;
    gst_util_set_object_arg (G_OBJECT (e), cases[i].property, cases[i].value);
    h = start_harness (e, &bus);
    error_mentions (bus, cases[i].needle);
    /* The stream then fails cleanly. */
    for (k = 0; k < 20 && ret == GST_FLOW_OK; k++)
      ret = push_cue (h, "Hello.", k * GST_SECOND, GST_SECOND, k, NULL, NULL);
    fail_unless_equals_int (ret, GST_FLOW_ERROR);
    stop_harness (h, bus);
  }
  g_unlink (corrupt);
  g_rmdir (dir);
  g_free (corrupt);
  g_free (broken);
  g_free (dir);
}
GST_END_TEST;

GST_START_TEST (test_default_models_missing)
{
  /* No model properties and no models where they are looked for: an
   * error that says where it looked. */
  GstBus *bus;
  GstElement *e = gst_element_factory_make ("ganvoice", NULL);
  GstHarness *h;

  g_setenv ("GANVOICE_MODEL_DIR", "/nonexistent/models", TRUE);
  gst_util_set_object_arg (G_OBJECT (e), "vocoder-model", "/nonexistent/v.ts");
  h = start_harness (e, &bus);
  error_mentions (bus, "/nonexistent/models");
  stop_harness (h, bus);
  g_unsetenv ("GANVOICE_MODEL_DIR");
}
GST_END_TEST;

/* subcues ! ganvoice ! duckmix: the GAP events between cues keep the
 * aggregator going, and the dub runs to the programme's end. */
GST_START_TEST (test_pipeline_with_duckmix)
{
  const gchar *root = g_getenv ("GANVOICE_SOURCE_DIR");
  gchar *am = model_path ("tiny-acoustic.ts");
  gchar *ac = model_path ("tiny-acoustic.json");
  gchar *vm = model_path ("tiny-vocoder.ts");
  gchar *vc = model_path ("tiny-vocoder.json");
  gchar *desc = g_strdup_printf (
      "duckmix name=m ! fakesink sync=false "
      "audiotestsrc num-buffers=500 samplesperbuffer=1024 ! "
      "audio/x-raw,format=F32LE,rate=16000,channels=1 ! m.programme "
      "filesrc location=%s/examples/media/sample.en.srt ! subcues ! "
      "ganvoice acoustic-model=%s acoustic-card=%s vocoder-model=%s "
      "vocoder-card=%s threads=1 ! m.voice",
      root, am, ac, vm, vc);
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &err);
  GstBus *bus;
  GstMessage *msg;
  guint cues = 0;
  gboolean eos = FALSE;

  fail_unless (pipeline != NULL, "%s", err ? err->message : "?");
  bus = gst_element_get_bus (pipeline);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  while (!eos && (msg = gst_bus_timed_pop (bus, 60 * GST_SECOND))) {
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_ERROR: {
        GError *e = NULL;
        gst_message_parse_error (msg, &e, NULL);
        fail ("error: %s", e->message);
        break;
      }
      case GST_MESSAGE_EOS:
        eos = TRUE;
        break;
      case GST_MESSAGE_ELEMENT:
        if (gst_structure_has_name (
                gst_message_get_structure (msg), "ganvoice-cue"))
          cues++;
        break;
      default:
        break;
    }
    gst_message_unref (msg);
  }
  fail_unless (eos, "no EOS");
  fail_unless (cues >= 5, "%u cues", cues);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_free (desc);
  g_free (am);
  g_free (ac);
  g_free (vm);
  g_free (vc);
}
GST_END_TEST;

static Suite *
ganvoice_suite (void)
{
  Suite *s = suite_create ("ganvoice");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_caps_and_timestamps);
  tcase_add_test (tc, test_continuous_output);
  tcase_add_test (tc, test_hundred_cues_fit);
  tcase_add_test (tc, test_languages);
  tcase_add_test (tc, test_unknown_language_and_property);
  tcase_add_test (tc, test_empty_and_long_cues);
  tcase_add_test (tc, test_no_timestamp);
  tcase_add_test (tc, test_voices_and_speaker_map);
  tcase_add_test (tc, test_deep_voice);
  tcase_add_test (tc, test_library_voice);
  tcase_add_test (tc, test_rate_pitch_and_policies);
  tcase_add_test (tc, test_flush);
  tcase_add_test (tc, test_reuse_after_ready);
  tcase_add_test (tc, test_text_property);
  tcase_add_test (tc, test_latency);
  tcase_add_test (tc, test_bad_models);
  tcase_add_test (tc, test_default_models_missing);
  tcase_add_test (tc, test_pipeline_with_duckmix);
  return s;
}

GST_CHECK_MAIN (ganvoice);

/* speakerembed in a GstHarness: the profile (message, file, downstream
 * event) from synthetic speech, max-speech, formats, the bad-input
 * messages, missing models, reuse after READY, flushing; ganvoice taking the profile event
 * on its sink pad; and one pipeline that clones and speaks in one run.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "tiny-models.h"

#include <glib/gstdio.h>

#include <math.h>
#include <string.h>

#define RATE 16000

static gchar *tmp_dir;

static gchar *
temp_path (const gchar *name)
{
  if (!tmp_dir)
    tmp_dir = g_dir_make_tmp ("speakerembed-XXXXXX", NULL);
  fail_unless (tmp_dir != NULL);
  return g_build_filename (tmp_dir, name, NULL);
}

/* A harmonic "voice" (as tests/unit/speaker-traits.cpp): F0 @f0 drifting
 * a little, syllables @syl times a second. @n frames of @channels. */
static void
make_voice (gfloat *out, gsize n, gint rate, gint channels, double f0,
    double syl, double offset_s)
{
  double phase = 0.0;
  gsize i;
  gint c;

  for (i = 0; i < n; i++) {
    double t = offset_s + (double) i / rate, s = 0.0, env;
    double f = f0 *
        (1.0 + 0.03 * sin (2 * G_PI * 0.5 * t) +
            0.02 * sin (2 * G_PI * 1.7 * t + 1.0));
    gint k;
    phase += 2 * G_PI * f / rate;
    for (k = 1; k * f < 4000.0; k++)
      s += sin (k * phase) / k;
    env = pow (fabs (sin (G_PI * syl * t)), 1.5);
    for (c = 0; c < channels; c++)
      out[i * channels + c] = (gfloat) (0.15 * s * env);
  }
}

typedef enum
{
  SIG_VOICE,
  SIG_SILENCE,
  SIG_CHORD,
  SIG_CLIPPED,
} Signal;

static GstBuffer *
make_buffer (Signal sig, gsize n, double t0)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, n * sizeof (gfloat), NULL);
  GstMapInfo map;
  gfloat *x;
  gsize i;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  x = (gfloat *) map.data;
  switch (sig) {
    case SIG_VOICE:
    case SIG_CLIPPED:
      make_voice (x, n, RATE, 1, 120.0, 4.0, t0);
      if (sig == SIG_CLIPPED)
        for (i = 0; i < n; i++)
          x[i] = CLAMP (x[i] * 40.0f, -1.0f, 1.0f);
      break;
    case SIG_SILENCE:
      memset (x, 0, n * sizeof (gfloat));
      break;
    case SIG_CHORD:
      for (i = 0; i < n; i++) {
        double t = t0 + (double) i / RATE;
        x[i] = (gfloat) (0.1 *
            (sin (2 * G_PI * 220.0 * t) + sin (2 * G_PI * 277.18 * t) +
                sin (2 * G_PI * 329.63 * t)));
      }
      break;
  }
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = (GstClockTime) (t0 * GST_SECOND);
  GST_BUFFER_DURATION (buf) = gst_util_uint64_scale_int (n, GST_SECOND, RATE);
  return buf;
}

/* Pushes @seconds of @sig in 100 ms buffers from @t0. */
static void
push_signal (GstHarness *h, Signal sig, double t0, double seconds)
{
  double t;
  for (t = 0.0; t < seconds - 1e-9; t += 0.1)
    fail_unless_equals_int (
        gst_harness_push (h, make_buffer (sig, RATE / 10, t0 + t)),
        GST_FLOW_OK);
}

static GstElement *
make_embed (const gchar *location)
{
  GstElement *e = gst_element_factory_make ("speakerembed", NULL);
  gchar *card = model_path ("tiny-acoustic.json");
  gchar *enc = model_path ("tiny-speaker.ts");
  fail_unless (e != NULL);
  g_object_set (
      e, "acoustic-card", card, "encoder", enc, "send-event", TRUE, NULL);
  if (location)
    g_object_set (e, "location", location, NULL);
  g_free (card);
  g_free (enc);
  return e;
}

static GstHarness *
start_harness (GstElement *e, GstBus **bus, const gchar *caps)
{
  GstHarness *h;

  *bus = gst_bus_new ();
  gst_element_set_bus (e, *bus);
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_set_src_caps_str (h,
      caps ? caps
           : "audio/x-raw, format=F32LE, layout=interleaved, rate=16000, "
             "channels=1");
  gst_harness_play (h);
  return h;
}

static void
stop_harness (GstHarness *h, GstBus *bus)
{
  gst_element_set_state (h->element, GST_STATE_NULL);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

/* The first message of @type (an element message named @name) on @bus;
 * NULL when there is none. Others are dropped. */
static GstMessage *
find_message (GstBus *bus, GstMessageType type, const gchar *name)
{
  GstMessage *msg;
  while ((msg = gst_bus_pop (bus))) {
    if (GST_MESSAGE_TYPE (msg) == type &&
        (!name || gst_message_has_name (msg, name)))
      return msg;
    gst_message_unref (msg);
  }
  return NULL;
}

static gchar *
error_text (GstMessage *msg)
{
  GError *err = NULL;
  gchar *text;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    gst_message_parse_error (msg, &err, NULL);
  else
    gst_message_parse_warning (msg, &err, NULL);
  text = g_strdup (err->message);
  g_error_free (err);
  return text;
}

/* Pulls events until EOS; returns the profile event (or NULL) and
 * whether it came before EOS. */
static GstEvent *
pull_profile_event (GstHarness *h)
{
  GstEvent *ev, *found = NULL;
  while ((ev = gst_harness_try_pull_event (h))) {
    if (GST_EVENT_TYPE (ev) == GST_EVENT_CUSTOM_DOWNSTREAM &&
        gst_event_has_name (ev, "ganvoice-voice-profile")) {
      fail_unless (found == NULL, "two profile events");
      found = ev;
      continue;
    }
    if (GST_EVENT_TYPE (ev) == GST_EVENT_EOS)
      fail_unless (found != NULL, "EOS before the profile event");
    gst_event_unref (ev);
  }
  return found;
}

/* How many numbers the array @key of @json holds; -1 when there is no
 * @key, or no array of numbers after it. */
static gint
json_numbers (const gchar *json, const gchar *key)
{
  gchar *quoted = g_strdup_printf ("\"%s\"", key);
  const gchar *at = strstr (json, quoted);
  gchar *end;
  gint n = 0;

  g_free (quoted);
  if (!at)
    return -1;
  at += strlen (key) + 2;
  while (g_ascii_isspace (*at) || *at == ':')
    at++;
  if (*at++ != '[')
    return -1;
  for (;;) {
    while (g_ascii_isspace (*at) || (n > 0 && *at == ','))
      at++;
    if (*at == ']')
      return n;
    g_ascii_strtod (at, &end);
    if (end == at)
      return -1;
    at = end;
    n++;
  }
}

/* The learned encoder's part of a profile: a speaker embedding of the
 * tiny encoder's 6 numbers, and its name; and the reference's mel
 * statistics in the tiny acoustic model's front-end (8 bands: the upper
 * triangle of the covariance has 36 numbers). */
static void
check_encoder_fields (const gchar *json)
{
  fail_unless_equals_int (json_numbers (json, "speaker_embedding"), 6);
  fail_unless (strstr (json, "\"speaker_encoder\" : \"tiny-speaker\"") != NULL,
      "%s", json);
  fail_unless (strstr (json, "\"mel_statistics\"") != NULL, "%s", json);
  fail_unless_equals_int (json_numbers (json, "covariance"), 36);
}

GST_START_TEST (test_profile)
{
  gchar *location = temp_path ("mara.json");
  GstBus *bus;
  GstHarness *h = start_harness (make_embed (location), &bus, NULL);
  GstMessage *msg;
  const GstStructure *s;
  gdouble f0 = 0, speech = 0, rate = 0;
  gchar *contents = NULL;
  GstEvent *ev;
  const gchar *voices[] = { "ana", "ben", "chloe", "dmitri", NULL };

  push_signal (h, SIG_VOICE, 0.0, 6.0);
  /* Passthrough: every buffer comes out untouched. */
  fail_unless_equals_int (gst_harness_buffers_received (h), 60);
  fail_unless (find_message (bus, GST_MESSAGE_ELEMENT, NULL) == NULL);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  msg = find_message (bus, GST_MESSAGE_ELEMENT, "speakerembed-profile");
  fail_unless (msg != NULL, "no profile message");
  s = gst_message_get_structure (msg);
  fail_unless (gst_structure_get_double (s, "f0-median", &f0));
  fail_unless (fabs (f0 / 120.0 - 1.0) < 0.03, "F0 %f", f0);
  fail_unless (gst_structure_get_double (s, "speech-seconds", &speech));
  fail_unless (speech > 4.5 && speech <= 6.0, "%f", speech);
  fail_unless (gst_structure_get_double (s, "speaking-rate", &rate));
  fail_unless (rate > 0.0);
  fail_unless (gst_structure_has_field (s, "f0-low"));
  fail_unless (gst_structure_has_field (s, "f0-high"));
  fail_unless (gst_structure_has_field (s, "formant-scale"));
  fail_unless_equals_string (gst_structure_get_string (s, "name"), "mara");
  fail_unless_equals_string (
      gst_structure_get_string (s, "location"), location);
  /* The base voice is the encoder's nearest built-in voice; the gender
   * is the measured F0's (120 Hz: male). */
  fail_unless (
      g_strv_contains (voices, gst_structure_get_string (s, "base-voice")));
  fail_unless (strstr (gst_structure_get_string (s, "profile"),
                   "\"ganvoice-voice-profile\"") != NULL);
  fail_unless (strstr (gst_structure_get_string (s, "profile"),
                   "\"gender\" : \"male\"") != NULL);
  check_encoder_fields (gst_structure_get_string (s, "profile"));
  gst_message_unref (msg);
  fail_unless (find_message (bus, GST_MESSAGE_ERROR, NULL) == NULL);

  /* The file. */
  fail_unless (g_file_get_contents (location, &contents, NULL, NULL));
  fail_unless (strstr (contents, "\"base_voice\"") != NULL);
  fail_unless (strstr (contents, "\"f0_median_hz\"") != NULL);
  check_encoder_fields (contents);
  g_free (contents);

  /* The event, before EOS. */
  ev = pull_profile_event (h);
  fail_unless (ev != NULL);
  fail_unless (strstr (gst_structure_get_string (
                           gst_event_get_structure (ev), "profile"),
                   "\"mara\"") != NULL);
  check_encoder_fields (
      gst_structure_get_string (gst_event_get_structure (ev), "profile"));
  gst_event_unref (ev);

  stop_harness (h, bus);
  g_free (location);
}
GST_END_TEST;

GST_START_TEST (test_max_speech)
{
  GstBus *bus;
  GstElement *e = make_embed (NULL);
  GstHarness *h;
  GstMessage *msg;
  GstEvent *ev;

  g_object_set (
      e, "max-speech", 3.0, "send-event", TRUE, "voice-name", "quick", NULL);
  h = start_harness (e, &bus, NULL);
  push_signal (h, SIG_VOICE, 0.0, 4.0);
  /* Made before EOS, and only once. */
  msg = find_message (bus, GST_MESSAGE_ELEMENT, "speakerembed-profile");
  fail_unless (msg != NULL);
  fail_unless_equals_string (
      gst_structure_get_string (gst_message_get_structure (msg), "name"),
      "quick");
  gst_message_unref (msg);
  push_signal (h, SIG_CHORD, 4.0, 2.0);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless (find_message (bus, GST_MESSAGE_ELEMENT, NULL) == NULL);
  ev = pull_profile_event (h);
  fail_unless (ev != NULL);
  gst_event_unref (ev);
  stop_harness (h, bus);
}
GST_END_TEST;

GST_START_TEST (test_s16_stereo)
{
  GstBus *bus;
  GstHarness *h = start_harness (make_embed (NULL), &bus,
      "audio/x-raw, format=S16LE, layout=interleaved, rate=44100, "
      "channels=2");
  const gsize n = 4410;
  gfloat *x = g_new (gfloat, n * 2);
  gint b;
  GstMessage *msg;
  gdouble f0 = 0;

  for (b = 0; b < 50; b++) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, n * 4, NULL);
    GstMapInfo map;
    gsize i;
    make_voice (x, n, 44100, 2, 220.0, 4.0, b * 0.1);
    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    for (i = 0; i < n * 2; i++)
      ((gint16 *) map.data)[i] = GINT16_TO_LE ((gint16) (x[i] * 32767));
    gst_buffer_unmap (buf, &map);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  g_free (x);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  msg = find_message (bus, GST_MESSAGE_ELEMENT, "speakerembed-profile");
  fail_unless (msg != NULL);
  fail_unless (gst_structure_get_double (
      gst_message_get_structure (msg), "f0-median", &f0));
  fail_unless (fabs (f0 / 220.0 - 1.0) < 0.03, "F0 %f", f0);
  gst_message_unref (msg);
  stop_harness (h, bus);
}
GST_END_TEST;

/* @seconds of @sig then EOS: the ERROR (or WARNING) must hold @needle. */
static void
check_bad_input (
    Signal sig, double seconds, GstMessageType type, const gchar *needle)
{
  GstBus *bus;
  GstHarness *h = start_harness (make_embed (NULL), &bus, NULL);
  GstMessage *msg;
  gchar *text;

  push_signal (h, sig, 0.0, seconds);
  if (sig == SIG_VOICE && seconds < 3.0)
    push_signal (h, SIG_SILENCE, seconds, 2.0);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  msg = find_message (bus, type, NULL);
  fail_unless (msg != NULL, "no message for '%s'", needle);
  text = error_text (msg);
  fail_unless (strstr (text, needle) != NULL, "'%s' not in '%s'", needle, text);
  GST_INFO ("%s", text);
  g_free (text);
  gst_message_unref (msg);
  stop_harness (h, bus);
}

GST_START_TEST (test_bad_input)
{
  check_bad_input (SIG_SILENCE, 5.0, GST_MESSAGE_ERROR, "silent");
  check_bad_input (SIG_VOICE, 1.0, GST_MESSAGE_ERROR, "at least 1.5 s");
  check_bad_input (SIG_CLIPPED, 5.0, GST_MESSAGE_ERROR, "clipped");
  check_bad_input (SIG_CHORD, 5.0, GST_MESSAGE_ERROR, "music");
  /* Between 1.5 s and min-speech: a profile, with a WARNING. */
  check_bad_input (SIG_VOICE, 2.2, GST_MESSAGE_WARNING, "rough");
}
GST_END_TEST;

/* A missing acoustic card or speaker encoder, or an encoder whose card
 * is of another kind: an ERROR at the first buffer naming the file. */
GST_START_TEST (test_missing_models)
{
  gchar *vocoder = model_path ("tiny-vocoder.ts");
  gchar *vocoder_card = model_path ("tiny-vocoder.json");
  const struct {
    const gchar *property, *value, *needle;
  } cases[] = {
    { "acoustic-card", "/nonexistent/card.json", "/nonexistent/card.json" },
    { "encoder", "/nonexistent/speaker.ts", "/nonexistent/speaker.ts" },
    { "encoder", vocoder, vocoder_card },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstBus *bus;
    GstElement *e = make_embed (NULL);
    GstHarness *h;
    GstMessage *msg;
    gchar *text;

    g_object_set (e, cases[i].property, cases[i].value, NULL);
    h = start_harness (e, &bus, NULL);
    fail_unless_equals_int (
        gst_harness_push (h, make_buffer (SIG_VOICE, 1600, 0.0)),
        GST_FLOW_ERROR);
    msg = find_message (bus, GST_MESSAGE_ERROR, NULL);
    fail_unless (
        msg != NULL, "%s=%s: no ERROR", cases[i].property, cases[i].value);
    text = error_text (msg);
    fail_unless (strstr (text, cases[i].needle) != NULL, "'%s' not in '%s'",
        cases[i].needle, text);
    g_free (text);
    gst_message_unref (msg);
    stop_harness (h, bus);
  }
  g_free (vocoder);
  g_free (vocoder_card);
}
GST_END_TEST;

/* The profile message on @bus (NULL if none), counting the errors. */
static GstMessage *
take_profile (GstBus *bus, guint *errors)
{
  GstMessage *msg, *found = NULL;
  *errors = 0;
  while ((msg = gst_bus_pop (bus))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
      (*errors)++;
    if (!found && gst_message_has_name (msg, "speakerembed-profile"))
      found = gst_message_ref (msg);
    gst_message_unref (msg);
  }
  return found;
}

GST_START_TEST (test_reuse_and_flush)
{
  GstBus *bus;
  GstHarness *h = start_harness (make_embed (NULL), &bus, NULL);
  GstMessage *msg;
  GstSegment seg;
  gdouble speech = 0;
  guint errors;
  gint round;

  for (round = 0; round < 2; round++) {
    if (round == 1) {
      /* Again after READY. */
      gst_element_set_state (h->element, GST_STATE_READY);
      gst_element_set_state (h->element, GST_STATE_PLAYING);
      gst_harness_push_event (h, gst_event_new_stream_start ("again"));
      gst_harness_push_event (h,
          gst_event_new_caps (gst_caps_from_string (
              "audio/x-raw, format=F32LE, layout=interleaved, rate=16000, "
              "channels=1")));
      gst_segment_init (&seg, GST_FORMAT_TIME);
      gst_harness_push_event (h, gst_event_new_segment (&seg));
    }
    /* Music, then a flush: only what comes after it counts. */
    push_signal (h, SIG_CHORD, 0.0, 3.0);
    fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
    fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
    gst_segment_init (&seg, GST_FORMAT_TIME);
    fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
    push_signal (h, SIG_VOICE, 0.0, 5.0);
    fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
    msg = take_profile (bus, &errors);
    fail_unless_equals_int (errors, 0);
    fail_unless (msg != NULL, "no profile in round %d", round);
    fail_unless (gst_structure_get_double (
        gst_message_get_structure (msg), "speech-seconds", &speech));
    fail_unless (speech > 3.5 && speech <= 5.0, "%f", speech);
    gst_message_unref (msg);
  }
  stop_harness (h, bus);
}
GST_END_TEST;

/* ---- ganvoice takes the profile ------------------------------------- */

static GstFlowReturn
push_cue (GstHarness *h, const gchar *text, GstClockTime start)
{
  GstBuffer *buf = gst_buffer_new_memdup (text, strlen (text));
  GST_BUFFER_PTS (buf) = start;
  GST_BUFFER_DURATION (buf) = GST_SECOND;
  return gst_harness_push (h, buf);
}

/* A profile JSON as speakerembed makes it. */
static gchar *
profile_json (const gchar *name, guint dim)
{
  GString *s = g_string_new (NULL);
  guint i;
  g_string_append_printf (s,
      "{\"format\": \"ganvoice-voice-profile\", \"version\": 1, "
      "\"name\": \"%s\", \"base_voice\": \"chloe\", \"embedding\": [",
      name);
  for (i = 0; i < dim; i++)
    g_string_append_printf (s, "%s0.5", i ? ", " : "");
  g_string_append (s,
      "], \"traits\": {\"f0_median_hz\": 180, "
      "\"f0_range_hz\": [150, 230], \"formant_scale\": 1.1, "
      "\"spectral_envelope\": [3, 2, 1, 0, -1, -2, -3], "
      "\"speaking_rate\": 10, \"syllable_rate\": 4.2}}");
  return g_string_free (s, FALSE);
}

static GstEvent *
profile_event (const gchar *json)
{
  return gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
      gst_structure_new (
          "ganvoice-voice-profile", "profile", G_TYPE_STRING, json, NULL));
}

/* The voices of the ganvoice-cue messages, space-separated. */
static gchar *
cue_voices (GstBus *bus, guint *errors)
{
  GString *out = g_string_new (NULL);
  GstMessage *msg;
  *errors = 0;
  while ((msg = gst_bus_pop (bus))) {
    if (gst_message_has_name (msg, "ganvoice-cue"))
      g_string_append_printf (out, "%s%s", out->len ? " " : "",
          gst_structure_get_string (gst_message_get_structure (msg), "voice"));
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
      (*errors)++;
    gst_message_unref (msg);
  }
  return g_string_free (out, FALSE);
}

static void
drain_to_eos (GstHarness *h)
{
  GstEvent *ev;
  gboolean eos = FALSE;
  while (!eos) {
    ev = gst_harness_pull_event (h);
    fail_unless (ev != NULL);
    eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
}

GST_START_TEST (test_ganvoice_takes_event)
{
  GstElement *e = make_ganvoice ();
  GstBus *bus = gst_bus_new ();
  GstHarness *h;
  gchar *json = profile_json ("mara", 4), *voices;
  guint errors;

  gst_element_set_bus (e, bus);
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_play (h);
  gst_harness_set_src_caps_str (h, "text/x-raw, format=utf8");
  fail_unless_equals_int (push_cue (h, "One.", 0), GST_FLOW_OK);
  /* Cues after the event: the received voice. */
  fail_unless (gst_harness_push_event (h, profile_event (json)));
  fail_unless_equals_int (push_cue (h, "Two.", 2 * GST_SECOND), GST_FLOW_OK);
  fail_unless_equals_int (push_cue (h, "Three.", 4 * GST_SECOND), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  drain_to_eos (h);
  voices = cue_voices (bus, &errors);
  fail_unless_equals_int (errors, 0);
  fail_unless_equals_string (voices, "ana mara mara");
  g_free (voices);
  g_free (json);
  gst_element_set_state (h->element, GST_STATE_NULL);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_ganvoice_bad_event)
{
  GstElement *e = make_ganvoice ();
  GstBus *bus = gst_bus_new ();
  GstHarness *h;
  gchar *json = profile_json ("wrong", 7), *voices;
  GstMessage *msg;
  gchar *text;
  guint errors;

  gst_element_set_bus (e, bus);
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_play (h);
  gst_harness_set_src_caps_str (h, "text/x-raw, format=utf8");
  /* Not a profile at all: refused at once. */
  fail_if (gst_harness_push_event (h, profile_event ("{\"format\": 1}")));
  msg = find_message (bus, GST_MESSAGE_ERROR, NULL);
  fail_unless (msg != NULL);
  text = error_text (msg);
  fail_unless (strstr (text, "received voice profile") != NULL, "%s", text);
  g_free (text);
  gst_message_unref (msg);
  /* Another model's embedding: an error when the cue is spoken. */
  fail_unless (gst_harness_push_event (h, profile_event (json)));
  push_cue (h, "One.", 0);
  gst_harness_push_event (h, gst_event_new_eos ());
  while (!(msg = find_message (bus, GST_MESSAGE_ERROR, NULL)))
    g_usleep (10000);
  text = error_text (msg);
  fail_unless (strstr (text, "another model") != NULL, "%s", text);
  g_free (text);
  gst_message_unref (msg);
  voices = cue_voices (bus, &errors);
  g_free (voices);
  g_free (json);
  gst_element_set_state (h->element, GST_STATE_NULL);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* ---- One pipeline: clone and speak ---------------------------------- */

static void
write_wav (const gchar *path, double seconds)
{
  const gint rate = 22050;
  gsize n = (gsize) (seconds * rate), i;
  gfloat *x = g_new (gfloat, n);
  gint16 *pcm = g_new (gint16, n);
  guint8 header[44];
  guint32 bytes = (guint32) (n * 2);
  FILE *f;

  make_voice (x, n, rate, 1, 120.0, 4.0, 0.0);
  for (i = 0; i < n; i++)
    pcm[i] = GINT16_TO_LE ((gint16) (x[i] * 32767));
  memcpy (header, "RIFF", 4);
  GST_WRITE_UINT32_LE (header + 4, 36 + bytes);
  memcpy (header + 8, "WAVEfmt ", 8);
  GST_WRITE_UINT32_LE (header + 16, 16);
  GST_WRITE_UINT16_LE (header + 20, 1);
  GST_WRITE_UINT16_LE (header + 22, 1);
  GST_WRITE_UINT32_LE (header + 24, rate);
  GST_WRITE_UINT32_LE (header + 28, rate * 2);
  GST_WRITE_UINT16_LE (header + 32, 2);
  GST_WRITE_UINT16_LE (header + 34, 16);
  memcpy (header + 36, "data", 4);
  GST_WRITE_UINT32_LE (header + 40, bytes);
  f = fopen (path, "wb");
  fail_unless (f != NULL);
  fail_unless (fwrite (header, 1, 44, f) == 44);
  fail_unless (fwrite (pcm, 2, n, f) == n);
  fclose (f);
  g_free (x);
  g_free (pcm);
}

/* Runs @desc to EOS: no ERROR, one profile message before @n_cues
 * ganvoice-cue messages spoken with @voice. */
static void
run_clone_pipeline (const gchar *desc, guint n_cues, const gchar *voice)
{
  GstElement *pipeline;
  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;
  guint cues = 0, profiles = 0;
  gboolean eos = FALSE;

  pipeline = gst_parse_launch (desc, &err);
  fail_unless (pipeline != NULL, "%s", err ? err->message : "?");
  bus = gst_element_get_bus (pipeline);
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  while (!eos) {
    msg = gst_bus_timed_pop (bus, 60 * GST_SECOND);
    fail_unless (msg != NULL, "the pipeline hangs");
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_ERROR: {
        gchar *text = error_text (msg);
        fail ("error: %s", text);
        g_free (text);
        break;
      }
      case GST_MESSAGE_EOS:
        eos = TRUE;
        break;
      case GST_MESSAGE_ELEMENT:
        if (gst_message_has_name (msg, "speakerembed-profile")) {
          fail_unless_equals_int (cues, 0);
          profiles++;
        } else if (gst_message_has_name (msg, "ganvoice-cue")) {
          /* Spoken in the cloned voice: the profile's name. */
          fail_unless_equals_string (
              gst_structure_get_string (
                  gst_message_get_structure (msg), "voice"),
              voice);
          cues++;
        }
        break;
      default:
        break;
    }
    gst_message_unref (msg);
  }
  fail_unless_equals_int (profiles, 1);
  fail_unless_equals_int (cues, n_cues);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_START_TEST (test_clone_and_speak_pipeline)
{
  gchar *wav = temp_path ("me.wav"), *srt = temp_path ("cues.srt");
  gchar *json = temp_path ("me.json"), *out = temp_path ("dub.wav");
  gchar *am = model_path ("tiny-acoustic.ts"),
        *ac = model_path ("tiny-acoustic.json"),
        *vm = model_path ("tiny-vocoder.ts"),
        *enc = model_path ("tiny-speaker.ts");
  const gchar *cues = "1\n00:00:00,500 --> 00:00:02,000\nHello there.\n\n"
                      "2\n00:00:02,500 --> 00:00:04,000\nThis is my voice.\n";
  gchar *desc;
  guint i;

  write_wav (wav, 8.0);
  fail_unless (g_file_set_contents (srt, cues, -1, NULL));
  /* The line docs/cloning.md gives: subtitles in the cloned voice. */
  desc = g_strdup_printf (
      "filesrc location=%s ! wavparse ! audioconvert ! "
      "speakerembed location=%s acoustic-card=%s encoder=%s send-event=true "
      "! gv.reference "
      "filesrc location=%s ! subcues ! ganvoice name=gv acoustic-model=%s "
      "vocoder-model=%s threads=1 ! audioconvert ! wavenc ! "
      "filesink location=%s",
      wav, json, ac, enc, srt, am, vm, out);
  run_clone_pipeline (desc, 2, "me");
  fail_unless (g_file_test (json, G_FILE_TEST_IS_REGULAR));
  g_free (desc);

  /* The text property, nothing on the sink pad. */
  desc = g_strdup_printf (
      "filesrc location=%s ! wavparse ! audioconvert ! "
      "speakerembed acoustic-card=%s encoder=%s send-event=true "
      "voice-name=mine ! gv.reference "
      "ganvoice name=gv text=\"Hello, this is my voice.\" "
      "acoustic-model=%s vocoder-model=%s threads=1 ! fakesink",
      wav, ac, enc, am, vm);
  run_clone_pipeline (desc, 1, "mine");
  g_free (desc);

  /* speakerembed as the last element: an error at once that says to add
   * fakesink, not a pipeline that never ends. */
  for (i = 0; i < 2; i++) {
    GstElement *pipeline;
    GstBus *bus;
    GstMessage *msg;
    gchar *text;

    desc =
        g_strdup_printf ("filesrc location=%s ! %s ! audioconvert ! "
                         "speakerembed location=%s acoustic-card=%s encoder=%s",
            wav, i == 0 ? "wavparse" : "decodebin", json, ac, enc);
    pipeline = gst_parse_launch (desc, NULL);
    fail_unless (pipeline != NULL);
    bus = gst_element_get_bus (pipeline);
    gst_element_set_state (pipeline, GST_STATE_PLAYING);
    msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND, GST_MESSAGE_ERROR);
    fail_unless (msg != NULL, "no error");
    text = error_text (msg);
    fail_unless (strstr (text, "fakesink") != NULL, "%s", text);
    g_free (text);
    gst_message_unref (msg);
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (bus);
    gst_object_unref (pipeline);
    g_free (desc);
  }

  g_free (wav);
  g_free (srt);
  g_free (json);
  g_free (out);
  g_free (am);
  g_free (ac);
  g_free (vm);
  g_free (enc);
}
GST_END_TEST;

static Suite *
speakerembed_suite (void)
{
  Suite *s = suite_create ("speakerembed");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_profile);
  tcase_add_test (tc, test_max_speech);
  tcase_add_test (tc, test_s16_stereo);
  tcase_add_test (tc, test_bad_input);
  tcase_add_test (tc, test_missing_models);
  tcase_add_test (tc, test_reuse_and_flush);
  tcase_add_test (tc, test_ganvoice_takes_event);
  tcase_add_test (tc, test_ganvoice_bad_event);
  tcase_add_test (tc, test_clone_and_speak_pipeline);
  return s;
}

GST_CHECK_MAIN (speakerembed);

/* speakerembed in a GstHarness: the profile (message, file, downstream
 * event) from synthetic speech, max-speech, formats, the bad-input
 * messages, missing models, reuse after READY, flushing; ganvoice taking the profile event
 * on its sink pad; one pipeline that clones and speaks in one run; and
 * deep mode with the tiny acoustic model: progress, rejected sentences,
 * the version-2 profile that ganvoice speaks, cancel and resume, errors.
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

/* ---- Deep mode -------------------------------------------------------- */

/* Sentences to read (as tests/unit/voice-finetune.cpp). */
static const gchar *reading_texts[] = {
  "The quick brown fox jumps over the lazy dog.",
  "She sells sea shells by the sea shore.",
  "A big black bug bit a big black bear.",
  "How much wood would a woodchuck chuck?",
  "Peter Piper picked a peck of pickled peppers.",
  "Red lorry, yellow lorry, red lorry, yellow lorry.",
  "I scream, you scream, we all scream for ice cream.",
  "Fuzzy Wuzzy was a bear, and he had no hair.",
};

/* About how long @text takes to read: check_take () expects 75 ms per
 * phoneme, within a factor of about 2; English has a little under one
 * phoneme per letter. */
static double
reading_seconds (const gchar *text)
{
  guint letters = 0;
  const gchar *c;
  for (c = text; *c; c++)
    letters += g_ascii_isalpha (*c) ? 1 : 0;
  return 0.064 * letters;
}

/* The voiced "speech" of tests/unit/voice-finetune.cpp (harmonics of a
 * gliding F0 in syllables of 0.25 s) put @seconds long at @at s into @x. */
static void
add_speech (gfloat *x, gsize n, double at, double seconds, double f0)
{
  gsize first = (gsize) (at * RATE), len = (gsize) (seconds * RATE), i;
  double phase = 0.0;
  for (i = 0; i < len && first + i < n; i++) {
    double t = (double) i / RATE, v = 0.0;
    double hz = f0 * (1.0 + 0.1 * sin (2.0 * G_PI * 0.7 * t));
    gint h;
    phase += 2.0 * G_PI * hz / RATE;
    for (h = 1; h <= 6; h++)
      v += sin (h * phase) / h;
    x[first + i] = (gfloat) (0.3 * fabs (sin (G_PI * t * 4.0)) * v / 1.5);
  }
}

/* A reading of @n sentences (the texts in turn) and its SubRip transcript
 * @srt_name: each cue around its sentence's speech, the sentence @silent
 * (-1: none) not spoken. */
typedef struct {
  gfloat *audio; /* mono at RATE */
  gsize frames;
  gchar *srt;
} Reading;

static void
make_reading (Reading *r, const gchar *srt_name, guint n, gint silent)
{
  GString *srt = g_string_new (NULL);
  double t = 0.5, total = 1.0;
  guint i;

  for (i = 0; i < n; i++)
    total += reading_seconds (reading_texts[i % 8]) + 0.9;
  r->frames = (gsize) (total * RATE);
  r->audio = g_new0 (gfloat, r->frames);
  for (i = 0; i < n; i++) {
    const gchar *text = reading_texts[i % 8];
    double seconds = reading_seconds (text), end = t + seconds + 0.3;
    if ((gint) i != silent)
      add_speech (r->audio, r->frames, t + 0.15, seconds, i < 8 ? 120 : 150);
    g_string_append_printf (srt,
        "%u\n00:00:%02d,%03d --> 00:00:%02d,%03d\n%s\n\n", i + 1, (int) t,
        (int) (fmod (t, 1.0) * 1000), (int) end, (int) (fmod (end, 1.0) * 1000),
        text);
    t = end + 0.6;
  }
  fail_unless (t < 60.0);
  r->srt = temp_path (srt_name);
  fail_unless (g_file_set_contents (r->srt, srt->str, -1, NULL));
  g_string_free (srt, TRUE);
}

static void
free_reading (Reading *r)
{
  g_free (r->audio);
  g_unlink (r->srt);
  g_free (r->srt);
}

/* Pushes @r in 100 ms buffers of @channels (the same on each). */
static void
push_reading (GstHarness *h, const Reading *r, gint channels)
{
  const gsize chunk = RATE / 10;
  gsize at, i;
  gint c;
  for (at = 0; at < r->frames; at += chunk) {
    gsize n = MIN (chunk, r->frames - at);
    GstBuffer *buf =
        gst_buffer_new_allocate (NULL, n * channels * sizeof (gfloat), NULL);
    GstMapInfo map;
    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    for (i = 0; i < n; i++)
      for (c = 0; c < channels; c++)
        ((gfloat *) map.data)[i * channels + c] = r->audio[at + i];
    gst_buffer_unmap (buf, &map);
    GST_BUFFER_PTS (buf) = gst_util_uint64_scale_int (at, GST_SECOND, RATE);
    GST_BUFFER_DURATION (buf) = gst_util_uint64_scale_int (n, GST_SECOND, RATE);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
}

/* speakerembed in deep mode with the tiny acoustic model, one thread and
 * a few steps. */
static GstElement *
make_deep (const gchar *location, const gchar *transcript, gint max_steps)
{
  GstElement *e = make_embed (location);
  gchar *model = model_path ("tiny-acoustic.ts");
  gst_util_set_object_arg (G_OBJECT (e), "mode", "deep");
  g_object_set (e, "model", model, "language", "en", "threads", 1, "max-steps",
      max_steps, "time-limit", 60.0, NULL);
  if (transcript)
    g_object_set (e, "transcript", transcript, NULL);
  g_free (model);
  return e;
}

/* What a deep run posted. */
typedef struct {
  GString *progress; /* S(tart) C(ontinue) D(one) X (cancelled) E(rror) */
  gint last_percent;
  gboolean percent_went_back;
  gint first_step; /* the first training step with a number; -1: none */
  gboolean resumed;
  gboolean resumed_text;
  guint errors, warnings, rejected, profiles;
  guint rejected_cue;
  gchar *error; /* the first ERROR's text */
  gchar *warning;
  gchar *profile_mode;
} Seen;

static void
seen_clear (Seen *s)
{
  if (s->progress)
    g_string_free (s->progress, TRUE);
  g_free (s->error);
  g_free (s->warning);
  g_free (s->profile_mode);
  memset (s, 0, sizeof *s);
  s->first_step = -1;
  s->last_percent = -1;
}

static void
seen_add (Seen *s, GstMessage *msg)
{
  const GstStructure *st = gst_message_get_structure (msg);
  if (!s->progress)
    s->progress = g_string_new (NULL);
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_PROGRESS: {
      GstProgressType type;
      gchar *code, *text;
      gint percent = 0, step = 0;
      gboolean resumed = FALSE;
      gst_message_parse_progress (msg, &type, &code, &text);
      fail_unless_equals_string (code, "fine-tune");
      fail_unless (gst_structure_get_int (st, "percent", &percent));
      fail_unless (percent >= 0 && percent <= 100);
      s->percent_went_back |= percent < s->last_percent;
      s->last_percent = percent;
      g_string_append_c (s->progress, "SCDXE"[type]);
      gst_structure_get_int (st, "step", &step);
      gst_structure_get_boolean (st, "resumed", &resumed);
      if (type == GST_PROGRESS_TYPE_CONTINUE && s->first_step < 0 && step > 0 &&
          !g_strcmp0 (gst_structure_get_string (st, "stage"), "training"))
        s->first_step = step;
      s->resumed |= resumed;
      s->resumed_text |= strstr (text, "resumed at step") != NULL;
      GST_INFO ("progress %c %d%%: %s", "SCDXE"[type], percent, text);
      g_free (code);
      g_free (text);
      break;
    }
    case GST_MESSAGE_ERROR:
      if (!s->errors++)
        s->error = error_text (msg);
      break;
    case GST_MESSAGE_WARNING:
      if (!s->warnings++)
        s->warning = error_text (msg);
      break;
    case GST_MESSAGE_ELEMENT:
      if (gst_message_has_name (msg, "speakerembed-rejected-take")) {
        s->rejected++;
        fail_unless (gst_structure_get_uint (st, "cue", &s->rejected_cue));
        fail_unless (gst_structure_get_string (st, "problems") != NULL);
        fail_unless (gst_structure_has_field (st, "line"));
      } else if (gst_message_has_name (msg, "speakerembed-profile")) {
        s->profiles++;
        s->profile_mode = g_strdup (gst_structure_get_string (st, "mode"));
      }
      break;
    default:
      break;
  }
}

static void
seen_drain (Seen *s, GstBus *bus)
{
  GstMessage *msg;
  while ((msg = gst_bus_pop (bus))) {
    seen_add (s, msg);
    gst_message_unref (msg);
  }
}

/* START, then CONTINUE, then @last (D, X or E), and nothing else. */
static void
check_progress (const Seen *s, gchar last)
{
  const gchar *p = s->progress ? s->progress->str : "";
  gsize n = strlen (p), i;
  fail_unless (n >= 2, "progress '%s'", p);
  fail_unless (p[0] == 'S' && p[n - 1] == last, "progress '%s'", p);
  for (i = 1; i + 1 < n; i++)
    fail_unless (p[i] == 'C', "progress '%s'", p);
  fail_if (s->percent_went_back, "the percent went back");
}

/* The profile loads in ganvoice (VoiceProfile::load with the tiny model)
 * and speaks a cue in its voice. */
static void
check_profile_speaks (const gchar *path, const gchar *name)
{
  GstElement *e = make_ganvoice ();
  GstBus *bus = gst_bus_new ();
  GstHarness *h;
  gchar *voices;
  guint errors;

  g_object_set (e, "voice", path, NULL);
  gst_element_set_bus (e, bus);
  h = gst_harness_new_with_element (e, "sink", "src");
  gst_object_unref (e);
  gst_harness_play (h);
  gst_harness_set_src_caps_str (h, "text/x-raw, format=utf8");
  fail_unless_equals_int (push_cue (h, "Hello there.", 0), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  drain_to_eos (h);
  voices = cue_voices (bus, &errors);
  fail_unless_equals_int (errors, 0);
  fail_unless_equals_string (voices, name);
  g_free (voices);
  gst_element_set_state (h->element, GST_STATE_NULL);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_START_TEST (test_deep_profile)
{
  gchar *location = temp_path ("deep.json"), *state, *contents = NULL;
  Reading r;
  GstBus *bus;
  GstHarness *h;
  Seen seen = { 0 };
  GstEvent *ev;

  /* 12 sentences, about 30 s of speech; the third one silent. */
  make_reading (&r, "reading.srt", 12, 2);
  state = g_strconcat (location, ".state", NULL);
  h = start_harness (make_deep (location, r.srt, 4), &bus,
      "audio/x-raw, format=F32LE, layout=interleaved, rate=16000, "
      "channels=2");
  push_reading (h, &r, 2);
  /* Passthrough, and nothing until EOS. */
  fail_unless_equals_int (gst_harness_buffers_received (h),
      (r.frames + RATE / 10 - 1) / (RATE / 10));
  fail_unless (find_message (bus, GST_MESSAGE_PROGRESS, NULL) == NULL);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  seen_clear (&seen);
  seen_drain (&seen, bus);
  fail_unless_equals_int (seen.errors, 0);
  check_progress (&seen, 'D');
  fail_unless (seen.first_step > 0);
  fail_if (seen.resumed);
  /* The silent sentence: a message, and the WARNING names its line. */
  fail_unless_equals_int (seen.rejected, 1);
  fail_unless_equals_int (seen.rejected_cue, 3);
  fail_unless_equals_int (seen.warnings, 1);
  fail_unless (strstr (seen.warning, "reading.srt:10 (cue 3)") != NULL, "%s",
      seen.warning);
  fail_unless_equals_int (seen.profiles, 1);
  fail_unless_equals_string (seen.profile_mode, "deep");

  /* The file: a version-2 profile with its delta; the state is gone. */
  fail_unless (g_file_get_contents (location, &contents, NULL, NULL));
  fail_unless (strstr (contents, "\"version\" : 2") != NULL);
  fail_unless (strstr (contents, "\"acoustic_delta\"") != NULL);
  fail_unless (strstr (contents, "\"name\" : \"deep\"") != NULL);
  g_free (contents);
  fail_if (g_file_test (state, G_FILE_TEST_EXISTS));

  /* The event, then EOS. */
  ev = pull_profile_event (h);
  fail_unless (ev != NULL);
  gst_event_unref (ev);
  stop_harness (h, bus);

  check_profile_speaks (location, "deep");
  seen_clear (&seen);
  g_unlink (location);
  free_reading (&r);
  g_free (state);
  g_free (location);
}
GST_END_TEST;

static gpointer
push_eos (gpointer h)
{
  return GINT_TO_POINTER (
      gst_harness_push_event ((GstHarness *) h, gst_event_new_eos ()));
}

/* Holds the training at its second step (in the streaming thread, which
 * posts the progress) until the element's sink pad is flushing: by then
 * PAUSED to READY has set the cancel flag, so the cancel comes at that
 * step, however slow or fast the machine. */
typedef struct {
  GstPad *sinkpad;
  gint at_step; /* atomic: the step it was held at; 0 until then */
} HoldAt;

static GstBusSyncReply
hold_training (GstBus *bus, GstMessage *msg, gpointer data)
{
  HoldAt *hold = data;
  const GstStructure *st = gst_message_get_structure (msg);
  gint step = 0, waited = 0;

  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_PROGRESS ||
      g_atomic_int_get (&hold->at_step) ||
      g_strcmp0 (gst_structure_get_string (st, "stage"), "training") ||
      !gst_structure_get_int (st, "step", &step) || step < 2)
    return GST_BUS_PASS;
  g_atomic_int_set (&hold->at_step, step);
  while (!GST_PAD_IS_FLUSHING (hold->sinkpad) && waited++ < 10000)
    g_usleep (1000);
  return GST_BUS_PASS;
}

GST_START_TEST (test_deep_cancel_resume)
{
  gchar *location = temp_path ("again.json"), *state = temp_path ("st");
  Reading r;
  GstBus *bus;
  GstHarness *h;
  GstElement *e;
  GThread *thread;
  Seen seen = { 0 };
  HoldAt hold = { NULL, 0 };
  gint cancelled_at, waited = 0;

  make_reading (&r, "again.srt", 12, -1);
  e = make_deep (location, r.srt, 16);
  g_object_set (e, "state-file", state, NULL);
  h = start_harness (e, &bus, NULL);
  push_reading (h, &r, 1);
  hold.sinkpad = gst_element_get_static_pad (h->element, "sink");
  gst_bus_set_sync_handler (bus, hold_training, &hold, NULL);
  /* EOS from another thread: it is held while the model trains. */
  thread = g_thread_new ("eos", push_eos, h);
  while (!(cancelled_at = g_atomic_int_get (&hold.at_step))) {
    fail_unless (waited++ < 60000, "training did not start");
    g_usleep (1000);
  }
  /* Going to READY cancels: the held EOS is dropped. */
  gst_element_set_state (h->element, GST_STATE_READY);
  fail_if (GPOINTER_TO_INT (g_thread_join (thread)));
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
  gst_object_unref (hold.sinkpad);
  seen_clear (&seen);
  seen_drain (&seen, bus);
  fail_unless_equals_int (seen.errors, 0);
  fail_unless (seen.progress != NULL);
  fail_unless (strchr (seen.progress->str, 'X') != NULL, "progress '%s'",
      seen.progress->str);
  fail_if (strchr (seen.progress->str, 'D') != NULL);
  fail_unless_equals_int (seen.profiles, 0);
  fail_unless (g_file_test (state, G_FILE_TEST_IS_REGULAR));
  fail_if (g_file_test (location, G_FILE_TEST_EXISTS));
  stop_harness (h, bus);

  /* The same reading again resumes where the first run stopped. */
  e = make_deep (location, r.srt, 16);
  g_object_set (e, "state-file", state, NULL);
  h = start_harness (e, &bus, NULL);
  push_reading (h, &r, 1);
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  seen_clear (&seen);
  seen_drain (&seen, bus);
  fail_unless_equals_int (seen.errors, 0);
  check_progress (&seen, 'D');
  fail_unless (seen.resumed && seen.resumed_text);
  /* Its first progress is the resume itself, at the step saved. */
  fail_unless (seen.first_step == cancelled_at,
      "resumed at %d, cancelled at %d", seen.first_step, cancelled_at);
  fail_unless (g_file_test (location, G_FILE_TEST_IS_REGULAR));
  fail_if (g_file_test (state, G_FILE_TEST_EXISTS));
  stop_harness (h, bus);

  seen_clear (&seen);
  g_unlink (location);
  free_reading (&r);
  g_free (state);
  g_free (location);
}
GST_END_TEST;

/* A deep speakerembed set up by @setup fails with an ERROR holding
 * @needle: at the first buffer (settings, files) or, with @at_eos, after
 * EOS (the reading); no profile either way. */
static void
check_deep_error (GstElement *e, const gchar *location, const Reading *r,
    gboolean at_eos, const gchar *needle)
{
  GstBus *bus;
  GstHarness *h = start_harness (e, &bus, NULL);
  Seen seen = { 0 };

  seen_clear (&seen);
  if (at_eos) {
    push_reading (h, r, 1);
    fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  } else {
    fail_unless_equals_int (
        gst_harness_push (h, make_buffer (SIG_VOICE, 1600, 0.0)),
        GST_FLOW_ERROR);
  }
  seen_drain (&seen, bus);
  fail_unless_equals_int (seen.errors, 1);
  fail_unless (strstr (seen.error, needle) != NULL, "'%s' not in '%s'", needle,
      seen.error);
  GST_INFO ("%s", seen.error);
  if (at_eos)
    check_progress (&seen, 'E');
  fail_unless_equals_int (seen.profiles, 0);
  if (location)
    fail_if (g_file_test (location, G_FILE_TEST_EXISTS));
  seen_clear (&seen);
  stop_harness (h, bus);
}

GST_START_TEST (test_deep_errors)
{
  gchar *location = temp_path ("never.json"), *bad = temp_path ("bad.srt");
  gchar *card = temp_path ("no-fine-tune.json"), *contents = NULL, *at;
  gchar *text = temp_path ("short.txt");
  gchar *tiny_card = model_path ("tiny-acoustic.json");
  Reading r;
  GstElement *e;

  make_reading (&r, "short.srt", 2, -1);
  /* Deep mode without a language, a location, a transcript. */
  e = make_deep (location, r.srt, 2);
  g_object_set (e, "language", NULL, NULL);
  check_deep_error (e, location, &r, FALSE, "language");
  e = make_deep (NULL, r.srt, 2);
  check_deep_error (e, NULL, &r, FALSE, "location");
  e = make_deep (location, NULL, 2);
  check_deep_error (e, location, &r, FALSE, "transcript");
  /* A transcript that is not there, one that does not parse (its line). */
  e = make_deep (location, "/nonexistent/reading.srt", 2);
  check_deep_error (e, location, &r, FALSE, "/nonexistent/reading.srt");
  fail_unless (g_file_set_contents (bad, "\n\nnot subtitles\n", -1, NULL));
  e = make_deep (location, bad, 2);
  check_deep_error (e, location, &r, FALSE, "bad.srt:3");
  /* A model whose card has no "fine_tune". */
  fail_unless (g_file_get_contents (tiny_card, &contents, NULL, NULL));
  at = strstr (contents, "\"fine_tune\"");
  fail_unless (at != NULL);
  memcpy (at + 1, "fine_tuX", 8);
  fail_unless (g_file_set_contents (card, contents, -1, NULL));
  g_free (contents);
  e = make_deep (location, r.srt, 2);
  g_object_set (e, "acoustic-card", card, NULL);
  check_deep_error (e, location, &r, FALSE, "cannot be fine-tuned");
  /* Two sentences: too little speech, found at EOS; also with a plain-text
   * transcript, which the fine-tuner aligns. */
  e = make_deep (location, r.srt, 2);
  check_deep_error (e, location, &r, TRUE, "at least 20 s");
  contents = g_strconcat (reading_texts[0], "\n", reading_texts[1], NULL);
  fail_unless (g_file_set_contents (text, contents, -1, NULL));
  g_free (contents);
  e = make_deep (location, text, 2);
  check_deep_error (e, location, &r, TRUE, "at least 20 s");

  free_reading (&r);
  g_unlink (bad);
  g_unlink (card);
  g_unlink (text);
  g_free (text);
  g_free (tiny_card);
  g_free (card);
  g_free (bad);
  g_free (location);
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
  tcase_add_test (tc, test_deep_profile);
  tcase_add_test (tc, test_deep_cancel_resume);
  tcase_add_test (tc, test_deep_errors);
  return s;
}

GST_CHECK_MAIN (speakerembed);

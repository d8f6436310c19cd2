/* Unit tests of the text-to-speech engine (ganvoice::Synthesizer) on the
 * tiny models in tests/models, and of the voice profile file format.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/synthesizer.h>
#include <ganvoice/voice-profile.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gst/check/gstcheck.h>

#include "model-files.h"

using namespace ganvoice;

static const int64_t kMs = kFitMillisecond;

static std::unique_ptr<Synthesizer>
load_tiny ()
{
  return Synthesizer::load (tiny_synthesizer_options ());
}

static void
expect_error (const std::string &json, const char *needle, int dim = 4)
{
  try {
    VoiceProfile::parse (json, "test.json", dim);
    fail ("parsed a bad profile: %s", json.c_str ());
  } catch (const VoiceProfileError &e) {
    fail_unless (std::string (e.what ()).find (needle) != std::string::npos,
        "'%s' not in '%s'", needle, e.what ());
  }
}

static int64_t
samples_to_ns (size_t n, int rate)
{
  return (int64_t) std::llround ((double) n * 1e9 / rate);
}

/* ---- Voice profiles --------------------------------------------------- */

GST_START_TEST (test_profile_round_trip)
{
  VoiceProfile p;
  p.name = "mara";
  p.language = "en";
  p.gender = "female";
  p.model = "tiny-acoustic";
  p.embedding = { 0.125f, -1.5f, 3.0e-7f, 42.0f };
  VoiceTraits t;
  t.f0_median_hz = 211.75;
  t.f0_low_hz = 160.5;
  t.f0_high_hz = 290.25;
  t.formant_scale = 1.07;
  for (int i = 0; i < 32; i++)
    t.spectral_envelope.push_back (-4.0f + 0.1f * i + 1e-6f * i);
  t.speaking_rate = 13.4;
  p.traits = t;

  std::string path = write_temp ("mara.json", "");
  p.save (path);
  VoiceProfile q = VoiceProfile::load (path, 4);
  fail_unless_equals_string (q.name.c_str (), "mara");
  fail_unless_equals_string (q.language.c_str (), "en");
  fail_unless_equals_string (q.gender.c_str (), "female");
  fail_unless_equals_string (q.model.c_str (), "tiny-acoustic");
  fail_unless_equals_string (q.path.c_str (), path.c_str ());
  fail_unless (q.embedding == p.embedding);
  fail_unless (q.traits.has_value ());
  fail_unless_equals_float (q.traits->f0_median_hz, 211.75);
  fail_unless_equals_float (q.traits->f0_low_hz, 160.5);
  fail_unless_equals_float (q.traits->f0_high_hz, 290.25);
  fail_unless_equals_float (q.traits->formant_scale, 1.07);
  fail_unless_equals_float (q.traits->speaking_rate, 13.4);
  fail_unless (q.traits->spectral_envelope == t.spectral_envelope);
  /* The text is stable: saving the loaded profile gives the same file. */
  const std::string q_json = q.to_json (), p_json = p.to_json ();
  fail_unless_equals_string (q_json.c_str (), p_json.c_str ());

  /* Without traits (a built-in voice). */
  VoiceProfile b = VoiceProfile::from_voice (
      { "ben", "en", "male", { 1.0f, 2.0f, 3.0f, 4.0f } }, "tiny-acoustic");
  VoiceProfile c = VoiceProfile::parse (b.to_json (), "b.json", 4);
  fail_if (c.traits.has_value ());
  fail_unless (c.embedding == b.embedding);
  fail_unless_equals_string (c.name.c_str (), "ben");
  fail_unless (b.to_json ().find ("\"format\" : \"ganvoice-voice-profile\"") !=
          std::string::npos,
      "%s", b.to_json ().c_str ());
}
GST_END_TEST;

GST_START_TEST (test_profile_errors)
{
  const std::string good =
      "{\"format\": \"ganvoice-voice-profile\", "
      "\"version\": 1, \"name\": \"x\", \"embedding\": [1, 2, 3, 4]}";
  VoiceProfile::parse (good, "good.json", 4);
  VoiceProfile::parse (good, "good.json"); /* no model to check against */

  expect_error ("not json", "not valid JSON");
  expect_error ("[1, 2]", "must be a JSON object");
  expect_error (
      "{\"version\": 1, \"name\": \"x\", \"embedding\": [1]}", "no \"format\"");
  expect_error ("{\"format\": \"ganvoice-model-card\", \"version\": 1}",
      "\"format\" is \"ganvoice-model-card\"");
  expect_error ("{\"format\": \"ganvoice-voice-profile\", \"version\": 3, "
                "\"name\": \"x\", \"embedding\": [1, 2, 3, 4]}",
      "newer than");
  expect_error ("{\"format\": \"ganvoice-voice-profile\", \"version\": 1.5}",
      "whole number");
  expect_error ("{\"format\": \"ganvoice-voice-profile\", \"name\": \"x\"}",
      "no \"version\"");
  expect_error ("{\"format\": \"ganvoice-voice-profile\", \"version\": 1, "
                "\"embedding\": [1, 2, 3, 4]}",
      "no \"name\"");
  expect_error ("{\"format\": \"ganvoice-voice-profile\", \"version\": 1, "
                "\"name\": \"x\"}",
      "no \"embedding\"");
  expect_error ("{\"format\": \"ganvoice-voice-profile\", \"version\": 1, "
                "\"name\": \"x\", \"embedding\": [1, 2, 3]}",
      "has 3 numbers, but the "
      "acoustic model's speaker embedding has 4");
  expect_error ("{\"format\": \"ganvoice-voice-profile\", \"version\": 1, "
                "\"name\": \"x\", \"embedding\": [1, \"a\", 3, 4]}",
      "\"embedding\"[1]");
  expect_error ("{\"format\": \"ganvoice-voice-profile\", \"version\": 1, "
                "\"name\": \"x\", \"embedding\": [1, 2, 3, 4], \"traits\": "
                "{\"f0_median_hz\": 100}}",
      "no \"f0_range_hz\"");
  expect_error ("{\"format\": \"ganvoice-voice-profile\", \"version\": 1, "
                "\"name\": \"x\", \"embedding\": [1, 2, 3, 4], \"traits\": "
                "{\"f0_median_hz\": 100, \"f0_range_hz\": [90, 120], "
                "\"formant_scale\": 1, \"speaking_rate\": 12}}",
      "no \"spectral_envelope\"");

  try {
    VoiceProfile::load ("/nonexistent/voice.json");
    fail ("loaded a missing file");
  } catch (const VoiceProfileError &e) {
    fail_unless (std::string (e.what ()).find ("/nonexistent/voice.json") !=
            std::string::npos,
        "%s", e.what ());
  }
}
GST_END_TEST;

/* ---- The synthesizer -------------------------------------------------- */

GST_START_TEST (test_spoken_language)
{
  static const struct {
    const char *cue, *voice, *spoken;
  } cases[] = {
    { "", "", "en" },
    { "", "en-us", "en-us" },
    { "en", "en-us", "en-us" },
    { "EN", "en-US", "en-US" },
    { "en-gb", "en-us", "en-gb" }, /* an explicit variant wins */
    { "es", "es-419", "es-419" },
    { "fr", "en-us", "fr" }, /* another language: as asked */
    { "de", "", "de" },
    { "ko", "ru", "ko" },
  };
  for (const auto &c : cases) {
    /* a named string: the macro must not see a destroyed temporary */
    const std::string spoken = Synthesizer::spoken_language (c.cue, c.voice);
    fail_unless_equals_string (spoken.c_str (), c.spoken);
  }
}

GST_END_TEST;

GST_START_TEST (test_load_and_voices)
{
  auto synth = load_tiny ();
  fail_unless_equals_int (synth->sample_rate (), 16000);
  /* ana, ben, chloe, dmitri and eve, a library voice (acoustic-delta.cpp) */
  fail_unless_equals_int (synth->voices ().size (), 5);
  fail_unless_equals_string (synth->voices ()[0].name.c_str (), "ana");
  fail_unless_equals_string (
      synth->voices ()[0].model.c_str (), "tiny-acoustic");
  fail_if (synth->voices ()[0].traits.has_value ());
  fail_unless_equals_int (synth->voice ("ben").embedding.size (), 4);

  /* A profile file is a voice like the built-in ones. */
  VoiceProfile mine = synth->voice ("chloe");
  mine.name = "mine";
  std::string path = write_temp ("mine.json", "");
  mine.save (path);
  fail_unless (synth->voice (path).embedding == mine.embedding);

  try {
    synth->voice ("nobody");
    fail ("found nobody");
  } catch (const VoiceProfileError &e) {
    fail_unless (std::string (e.what ()).find ("ana, ben, chloe, dmitri") !=
            std::string::npos,
        "%s", e.what ());
  }
  /* A profile made for another model. */
  VoiceProfile other = mine;
  other.embedding.push_back (1.0f);
  std::string other_path = write_temp ("other.json", "");
  other.save (other_path);
  try {
    synth->voice (other_path);
    fail ("accepted an embedding of 5");
  } catch (const VoiceProfileError &e) {
    fail_unless (
        std::string (e.what ()).find ("has 5 numbers") != std::string::npos,
        "%s", e.what ());
  }

  /* Missing and corrupt models. */
  SynthesizerOptions o = tiny_synthesizer_options ();
  o.acoustic_model = "/nonexistent/acoustic.ts";
  try {
    Synthesizer::load (o);
    fail ("loaded a missing model");
  } catch (const ModelError &e) {
    fail_unless (std::string (e.what ()).find ("/nonexistent/acoustic.ts") !=
            std::string::npos,
        "%s", e.what ());
  }
  o = tiny_synthesizer_options ();
  o.vocoder_model = write_temp ("corrupt.ts", corrupt_model_bytes ());
  try {
    Synthesizer::load (o);
    fail ("loaded a corrupt model");
  } catch (const ModelError &e) {
    fail_unless (
        std::string (e.what ()).find ("corrupt.ts") != std::string::npos, "%s",
        e.what ());
  }
}
GST_END_TEST;

GST_START_TEST (test_speak_natural)
{
  auto synth = load_tiny ();
  SpeakRequest r;
  r.text = "Hello world, this is a test.";
  SpeakResult res = synth->speak (r);
  fail_unless (res.natural > 0);
  fail_unless_equals_int ((int) res.plan.step, (int) FitStep::FreeTime);
  fail_unless_equals_int (res.samples.size (), res.n_samples);
  /* Natural length at the natural rate: whole frames of 16 samples. */
  fail_unless_equals_int64 (
      samples_to_ns (res.samples.size (), 16000), res.natural);
  fail_unless_equals_int (res.samples.size () % 16, 0);
  fail_unless_equals_string (res.language.c_str (), "en");
  /* Every sample at or below -1 dBFS (test_speech_ceiling has a vocoder
   * that goes past it). */
  const float ceiling = std::pow (10.0f, (float) kSpeechCeilingDb / 20.0f);
  for (float x : res.samples)
    fail_unless (std::isfinite (x) && std::fabs (x) <= ceiling);

  /* Faster speech is shorter, pitch changes the sound not the length. */
  r.rate = 2.0;
  SpeakResult fast = synth->speak (r);
  fail_unless (fast.samples.size () < res.samples.size () * 0.6);
  r.rate = 1.0;
  r.pitch = 5.0;
  SpeakResult high = synth->speak (r);
  fail_unless_equals_int (high.samples.size (), res.samples.size ());
  fail_if (high.samples == res.samples);

  /* Another voice, another sound. */
  r.pitch = 0.0;
  r.embedding = synth->voice ("dmitri").embedding;
  SpeakResult other = synth->speak (r);
  fail_if (other.samples == res.samples);
}
GST_END_TEST;

/* A vocoder that peaks past full scale (tiny-vocoder-loud.ts: twice the
 * tiny one, up to about 1.6) still gives speech at or below -1 dBFS, in one
 * go and chunk by chunk, and the limiter only lowers the peaks. */
GST_START_TEST (test_speech_ceiling)
{
  SynthesizerOptions o = tiny_synthesizer_options ();
  o.vocoder_model = model_file ("tiny-vocoder-loud.ts");
  auto loud = Synthesizer::load (o);
  auto plain = load_tiny ();
  const float ceiling = std::pow (10.0f, (float) kSpeechCeilingDb / 20.0f);
  SpeakRequest r;
  r.text = "Hello there, this is a long test of the tiny voice.";
  SpeakResult quiet = plain->speak (r);
  SpeakResult res = loud->speak (r);
  fail_unless_equals_int (res.samples.size (), quiet.samples.size ());
  float peak = 0.0f, plain_peak = 0.0f;
  for (size_t i = 0; i < res.samples.size (); i++) {
    peak = std::max (peak, std::fabs (res.samples[i]));
    plain_peak = std::max (plain_peak, std::fabs (quiet.samples[i]));
  }
  /* Unlimited, it would reach twice the plain voice's peak. */
  fail_unless (2.0f * plain_peak > 1.0f, "the loud vocoder is not loud");
  fail_unless (peak <= ceiling, "peak %g above -1 dBFS", peak);
  fail_unless (peak > 0.95f * ceiling, "peak %g: limited too hard", peak);

  std::vector<float> chunked;
  loud->speak (r, [&] (const float *x, size_t n) {
    chunked.insert (chunked.end (), x, x + n);
    return true;
  });
  fail_unless_equals_int (chunked.size (), res.samples.size ());
  for (float x : chunked)
    fail_unless (std::fabs (x) <= ceiling);
}
GST_END_TEST;

/* The one model lookup: given files stay, cards default to the one beside
 * the given model, a missing shipped file is named with where it was
 * looked for. */
GST_START_TEST (test_resolve_model_options)
{
  SynthesizerOptions all = tiny_synthesizer_options ();
  std::string error;
  fail_unless (resolve_model_options (all, &error) == all);
  fail_unless (error.empty ());

  g_setenv ("GANVOICE_MODEL_DIR", "/nonexistent/models", TRUE);
  SynthesizerOptions given;
  given.vocoder_model = "/voices/v.ts";
  SynthesizerOptions o = resolve_model_options (given, &error);
  g_unsetenv ("GANVOICE_MODEL_DIR");
  fail_unless_equals_string (o.vocoder_card.c_str (), "/voices/v.json");
  fail_unless_equals_string (
      o.acoustic_model.c_str (), "/nonexistent/models/acoustic/acoustic.ts");
  fail_unless_equals_string (
      o.acoustic_card.c_str (), "/nonexistent/models/acoustic/acoustic.json");
  fail_unless (error.find ("acoustic/acoustic.ts") != std::string::npos &&
          error.find ("/nonexistent/models") != std::string::npos,
      "%s", error.c_str ());
  fail_unless (o != given);
  SynthesizerOptions other = o;
  other.first_piece_phonemes++;
  fail_unless (other != o, "a field escapes the comparison");
}
GST_END_TEST;

GST_START_TEST (test_empty_and_unknown_language)
{
  auto synth = load_tiny ();
  for (const char *text : { "", "   ", "\n\t", "...", "?!", " , . " }) {
    SpeakRequest r;
    r.text = text;
    SpeakResult res = synth->speak (r);
    fail_unless_equals_int64 (res.natural, 0);
    fail_unless (res.samples.empty (), "'%s' gave audio", text);
  }

  SpeakRequest r;
  r.text = "Bonjour";
  r.language = "xx-unknown";
  SpeakResult res = synth->speak (r);
  fail_unless (res.fell_back);
  fail_unless_equals_string (res.language.c_str (), "en");
  fail_unless (!res.warnings.empty ());
  fail_unless (res.warnings[0].find ("xx-unknown") != std::string::npos);
  fail_unless (!res.samples.empty ());

  /* Languages whose symbols the tiny model lacks still speak, with the
   * unknown symbols reported. */
  for (const char *lang : { "en", "es", "fr", "it", "ru", "nl", "de", "ko" }) {
    SpeakRequest q;
    q.text = std::string (lang) == "ru" ? "Привет, мир."
        : std::string (lang) == "ko"    ? "안녕하세요 세계."
                                        : "Hello, one two three.";
    q.language = lang;
    SpeakResult s = synth->speak (q);
    fail_unless (!s.samples.empty (), "%s gave no audio", lang);
    fail_if (s.fell_back, "%s fell back", lang);
  }
}
GST_END_TEST;

GST_START_TEST (test_long_text)
{
  auto synth = load_tiny ();
  std::string text;
  const char *sentences[] = { "The quick brown fox jumps over the lazy dog. ",
    "Numbers like 1234 and 3.5 are read out, ", "aren't they? ",
    "Averyveryveryveryverylongwordwithoutanybreakatallinsideit " };
  for (int i = 0; text.size () < 10000; i++)
    text += sentences[i % 4];
  text.resize (10000);
  fail_unless_equals_int (text.size (), 10000);

  Utterance u = synth->prepare (text, "en", {}, 1.0);
  fail_unless (u.pieces.size () > 5, "%zu pieces", u.pieces.size ());
  for (const auto &piece : u.pieces)
    fail_unless (piece.ids.size () <= synth->options ().max_piece_phonemes);
  SpeakResult res = synth->render (u, synth->plan (u, {}), 0.0);
  fail_unless_equals_int64 (
      samples_to_ns (res.samples.size (), 16000), u.natural);

  /* One piece at a time when the text has no pause at all. */
  std::string word (3000, 'a');
  Utterance w = synth->prepare (word, "en", {}, 1.0);
  fail_unless (w.pieces.size () >= 1);
}
GST_END_TEST;

GST_START_TEST (test_chunked)
{
  SynthesizerOptions o = tiny_synthesizer_options ();
  o.chunk_frames = 16;
  o.max_piece_phonemes = 20;
  auto synth = Synthesizer::load (o);
  SpeakRequest r;
  r.text = "One two three four five, six seven eight nine ten. Eleven twelve.";
  SpeakResult whole = synth->speak (r);

  std::vector<float> joined;
  size_t calls = 0;
  SpeakResult streamed = synth->speak (r, [&] (const float *s, size_t n) {
    joined.insert (joined.end (), s, s + n);
    calls++;
    return true;
  });
  fail_unless (streamed.samples.empty ());
  fail_unless (calls > 3, "%zu chunks", calls);
  fail_unless_equals_int (joined.size (), whole.samples.size ());
  fail_unless_equals_int (streamed.n_samples, whole.samples.size ());

  /* Stopping early. */
  calls = 0;
  SpeakResult stopped =
      synth->speak (r, [&] (const float *, size_t) { return ++calls < 2; });
  fail_unless (stopped.cancelled);
  fail_unless_equals_int (calls, 2);
}
GST_END_TEST;

GST_START_TEST (test_fit_policies)
{
  auto synth = load_tiny ();
  Utterance u = synth->prepare ("This sentence is much too long for its "
                                "slot, really.",
      "en", {}, 1.0);
  const int64_t natural = u.natural;
  fail_unless (natural > 80 * kMs, "natural %" G_GINT64_FORMAT, natural);

  FitRequest slot;
  slot.cue_start = 1000 * kMs;
  slot.cue_end = slot.cue_start + natural / 4;

  /* Room for 1.25x: rate. */
  slot.next_start = slot.cue_start + (int64_t) (natural / 1.25);
  FitPlan plan = synth->plan (u, slot);
  fail_unless_equals_int ((int) plan.step, (int) FitStep::Rate);
  SpeakResult res = synth->render (u, plan, 0.0);
  int64_t length = samples_to_ns (res.samples.size (), 16000);
  fail_unless (length <= slot.next_start - slot.cue_start + 2 * kMs,
      "%" G_GINT64_FORMAT, length);
  fail_unless (length >= slot.next_start - slot.cue_start - 20 * kMs);

  /* Room for 2x: max rate, clipped with a fade at the next start. */
  slot.next_start = slot.cue_start + natural / 2;
  plan = synth->plan (u, slot);
  fail_unless_equals_int ((int) plan.step, (int) FitStep::Clipped);
  res = synth->render (u, plan, 0.0);
  fail_unless_equals_int64 (samples_to_ns (res.samples.size (), 16000),
      slot.next_start - slot.cue_start);
  fail_unless (std::fabs (res.samples.back ()) < 0.05f);

  /* Compress: stretched to end exactly there. */
  slot.policy = FitPolicy::Compress;
  plan = synth->plan (u, slot);
  fail_unless_equals_int ((int) plan.step, (int) FitStep::Stretched);
  res = synth->render (u, plan, 0.0);
  length = samples_to_ns (res.samples.size (), 16000);
  fail_unless (
      std::llabs (length - (slot.next_start - slot.cue_start)) <= 2 * kMs,
      "%" G_GINT64_FORMAT, length);

  /* Overlap: runs over. */
  slot.policy = FitPolicy::Overlap;
  plan = synth->plan (u, slot);
  fail_unless_equals_int ((int) plan.step, (int) FitStep::Overflowed);
  res = synth->render (u, plan, 0.0);
  fail_unless (samples_to_ns (res.samples.size (), 16000) >
      slot.next_start - slot.cue_start + 10 * kMs);

  /* Clip: natural rate, cut at the cue end. */
  slot.policy = FitPolicy::Clip;
  plan = synth->plan (u, slot);
  fail_unless_equals_int ((int) plan.step, (int) FitStep::Clipped);
  res = synth->render (u, plan, 0.0);
  fail_unless_equals_int64 (samples_to_ns (res.samples.size (), 16000),
      slot.cue_end - slot.cue_start);

  /* An empty slot: nothing. */
  slot.policy = FitPolicy::Default;
  slot.next_start = slot.cue_start;
  res = synth->render (u, synth->plan (u, slot), 0.0);
  fail_unless (res.samples.empty ());
}
GST_END_TEST;

/* The requirement at the engine level: 100 seeded cues of varied
 * slots, all speech inside its slot (+-20 ms), no rate above max_rate. */
GST_START_TEST (test_hundred_cues_fit)
{
  auto synth = load_tiny ();
  std::mt19937 rng (42);
  const char *texts[] = { "Yes.", "Where are you going tonight?",
    "I told you, we have to leave before the sun comes up, or else.",
    "Okay, fine.",
    "Nobody ever listens to a single word I say in this house." };
  int64_t t = 0;
  for (int i = 0; i < 100; i++) {
    std::string text = texts[rng () % 5];
    Utterance u = synth->prepare (text, "en", {}, 1.0);
    FitRequest slot;
    slot.cue_start = t;
    int64_t len = (int64_t) (rng () % 300 + 1) * kMs;
    slot.cue_end = t + len;
    slot.next_start = t + len + (int64_t) (rng () % 3) * (rng () % 60) * kMs;
    FitPlan plan = synth->plan (u, slot);
    fail_unless (plan.rate <= 1.4 + 1e-9, "cue %d rate %f", i, plan.rate);
    SpeakResult res = synth->render (u, plan, 0.0);
    int64_t end = plan.start + samples_to_ns (res.samples.size (), 16000);
    fail_unless (plan.start >= slot.cue_start - 20 * kMs);
    fail_unless (end <= slot.next_start + 20 * kMs,
        "cue %d ends %" G_GINT64_FORMAT " ms after its slot", i,
        (end - slot.next_start) / kMs);
    t = slot.next_start;
  }
}
GST_END_TEST;

GST_START_TEST (test_helpers)
{
  std::vector<std::string> s = { "a", "b", ",", "c", " ", "d", "e", ".", "f" };
  auto pieces = split_phonemes (s, 4);
  fail_unless_equals_int (pieces.size (), 3);
  fail_unless (pieces[0] == std::vector<std::string> ({ "a", "b", "," }));
  fail_unless (pieces[1] == std::vector<std::string> ({ "c" }) ||
      pieces[1] == std::vector<std::string> ({ "c", " ", "d", "e" }));
  size_t total = 0;
  for (const auto &p : pieces) {
    fail_unless (p.size () <= 4);
    total += p.size ();
  }
  fail_unless (total >= 7);
  /* No break anywhere: hard cuts. */
  std::vector<std::string> word (10, "a");
  auto hard = split_phonemes (word, 4);
  fail_unless_equals_int (hard.size (), 3);
  fail_unless (split_phonemes ({}, 4).empty ());
  /* A shorter first piece: 2, then up to 4. */
  auto short_first = split_phonemes (word, 4, 2);
  fail_unless_equals_int (short_first.size (), 3);
  fail_unless_equals_int (short_first[0].size (), 2);
  fail_unless_equals_int (short_first[1].size (), 4);

  Mel mel;
  mel.n_mels = 2;
  mel.frames = 3;
  mel.data = { 0, 1, 2, 10, 20, 30 };
  Mel st = stretch_mel (mel, 5);
  fail_unless_equals_int (st.frames, 5);
  fail_unless_equals_int (st.data.size (), 10);
  fail_unless_equals_float (st.data[0], 0.0);
  fail_unless_equals_float (st.data[1], 0.5);
  fail_unless_equals_float (st.data[4], 2.0);
  fail_unless_equals_float (st.data[5 + 2], 20.0);
  Mel one = stretch_mel (mel, 1);
  fail_unless_equals_float (one.data[0], 1.0);
}
GST_END_TEST;

static Suite *
synthesizer_suite (void)
{
  Suite *s = suite_create ("synthesizer");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_profile_round_trip);
  tcase_add_test (tc, test_speech_ceiling);
  tcase_add_test (tc, test_resolve_model_options);
  tcase_add_test (tc, test_spoken_language);
  tcase_add_test (tc, test_profile_errors);
  tcase_add_test (tc, test_load_and_voices);
  tcase_add_test (tc, test_speak_natural);
  tcase_add_test (tc, test_empty_and_unknown_language);
  tcase_add_test (tc, test_long_text);
  tcase_add_test (tc, test_chunked);
  tcase_add_test (tc, test_fit_policies);
  tcase_add_test (tc, test_hundred_cues_fit);
  tcase_add_test (tc, test_helpers);
  return s;
}

GST_CHECK_MAIN (synthesizer);

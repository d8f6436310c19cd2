/* Unit tests of the learned speaker encoder (speaker-encoder.h) on the tiny
 * generated model in tests/models (see make_test_models.py): loading and
 * its errors, embeddings, blend_voices() and cloned profiles with it.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/model-paths.h>
#include <ganvoice/speaker-encoder.h>
#include <ganvoice/voice-adapt.h>
#include <ganvoice/voice-conversion.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <gst/check/gstcheck.h>

#include "model-files.h"

using namespace ganvoice;

static const double kPi = 3.14159265358979323846;

static std::unique_ptr<SpeakerEncoder>
load_tiny ()
{
  return SpeakerEncoder::load (
      model_file ("tiny-speaker.ts"), model_file ("tiny-speaker.json"), 1);
}

/* @seconds of 16 kHz harmonics of @f0 (falling 6 dB an octave) in a
 * little noise. */
static std::vector<float>
harmonics (double seconds, double f0, unsigned seed = 1)
{
  std::mt19937 rng (seed);
  std::normal_distribution<double> noise (0.0, 1e-3);
  std::vector<float> out ((size_t) (seconds * 16000));
  for (size_t i = 0; i < out.size (); i++) {
    double s = 0.0;
    for (int k = 1; k * f0 < 7000.0; k++)
      s += std::sin (2 * kPi * k * f0 * i / 16000.0) / k;
    out[i] = (float) (0.2 * s + noise (rng));
  }
  return out;
}

static double
norm (const std::vector<float> &v)
{
  double s = 0.0;
  for (float x : v)
    s += (double) x * x;
  return std::sqrt (s);
}

static bool
contains (const std::string &s, const std::string &needle)
{
  return s.find (needle) != std::string::npos;
}

/* The tiny encoder's card with the first @from replaced by @to, in a
 * temporary file named @name. */
static std::string
card_with (const char *name, const std::string &from, const std::string &to)
{
  std::string card = read_model_file ("tiny-speaker.json");
  size_t at = card.find (from);
  fail_unless (at != std::string::npos, "no '%s' in the card", from.c_str ());
  card.replace (at, from.size (), to);
  return write_temp (name, card);
}

/* The index of the voice named @name in @card. */
static size_t
voice_index (const ModelCard &card, const std::string &name)
{
  for (size_t i = 0; i < card.voices.size (); i++)
    if (card.voices[i].name == name)
      return i;
  fail ("no voice %s in %s", name.c_str (), card.name.c_str ());
  return 0;
}

/* ---- The encoder ------------------------------------------------------ */

GST_START_TEST (test_load_and_embed)
{
  auto enc = load_tiny ();
  fail_unless_equals_string (enc->card ().name.c_str (), "tiny-speaker");
  fail_unless_equals_int (enc->sample_rate (), 16000);
  fail_unless_equals_int (enc->dim (), 6);
  fail_unless_equals_string (
      enc->card ().acoustic_model.c_str (), "tiny-acoustic");
  fail_unless (enc->card ().blend_temperature == 0.1);
  fail_unless_equals_int ((int) enc->card ().voices.size (), 4);

  const struct {
    const char *what;
    std::vector<float> audio;
  } cases[] = {
    { "0.5 s at 110 Hz", harmonics (0.5, 110.0) },
    { "3 s at 110 Hz", harmonics (3.0, 110.0) },
    { "3 s at 240 Hz", harmonics (3.0, 240.0, 2) },
  };
  std::vector<std::vector<float> > seen;
  for (const auto &c : cases) {
    std::vector<float> e = enc->embed (c.audio);
    fail_unless_equals_int ((int) e.size (), 6);
    fail_unless (
        std::fabs (norm (e) - 1.0) < 1e-5, "%s: norm %f", c.what, norm (e));
    fail_unless (enc->embed (c.audio) == e, "%s: not deterministic", c.what);
    seen.push_back (e);
  }
  /* The embedding follows the voice. */
  fail_unless (cosine_similarity (seen[1], seen[2]) < 0.999, "%f",
      cosine_similarity (seen[1], seen[2]));
}
GST_END_TEST;

GST_START_TEST (test_too_short)
{
  auto enc = load_tiny ();
  /* 0.5 s at 16 kHz is 8000 samples. */
  const struct {
    size_t samples;
    bool ok;
  } cases[] = { { 0, false }, { 400, false }, { 7999, false }, { 8000, true } };
  for (const auto &c : cases) {
    std::vector<float> x = harmonics (1.0, 150.0);
    x.resize (c.samples);
    try {
      enc->embed (x);
      fail_unless (c.ok, "%zu samples: embedded", c.samples);
    } catch (const ModelError &e) {
      fail_if (c.ok, "%zu samples: %s", c.samples, e.what ());
      fail_unless (contains (e.what (), "0.5 s"), "%s", e.what ());
    }
  }
}
GST_END_TEST;

GST_START_TEST (test_bad_models)
{
  const std::string corrupt =
      write_temp ("corrupt-speaker.ts", corrupt_model_bytes ());
  const struct {
    const char *what;
    std::string model, card;
    bool path_is_card; /* which path the error must name */
    const char *words; /* expected in the error */
  } cases[] = {
    { "card of another kind", model_file ("tiny-speaker.ts"),
        model_file ("tiny-vocoder.json"), true, "not \"speaker\"" },
    { "missing card", model_file ("tiny-speaker.ts"),
        model_file ("no-such-card.json"), true, "cannot read" },
    { "missing model", model_file ("no-such-model.ts"),
        model_file ("tiny-speaker.json"), false, "not found" },
    { "corrupt model", corrupt, model_file ("tiny-speaker.json"), false,
        "cannot load" },
    { "a vocoder as the encoder", model_file ("tiny-vocoder.ts"),
        model_file ("tiny-speaker.json"), false, "does not accept" },
    { "temperature 0", model_file ("tiny-speaker.ts"),
        card_with ("t0.json", "\"blend_temperature\": 0.1",
            "\"blend_temperature\": 0"),
        true, "\"blend_temperature\"" },
    { "dim 5 for embeddings of 6", model_file ("tiny-speaker.ts"),
        card_with ("dim5.json", "\"speaker_embedding_dim\": 6",
            "\"speaker_embedding_dim\": 5"),
        true, "\"embedding\" has 6 numbers" },
  };
  for (const auto &c : cases) {
    try {
      SpeakerEncoder::load (c.model, c.card, 1);
      fail ("%s: loaded", c.what);
    } catch (const ModelError &e) {
      const std::string &path = c.path_is_card ? c.card : c.model;
      fail_unless (contains (e.what (), path), "%s: '%s' lacks '%s'", c.what,
          e.what (), path.c_str ());
      fail_unless (contains (e.what (), c.words), "%s: '%s' lacks '%s'", c.what,
          e.what (), c.words);
    }
  }
}
GST_END_TEST;

/* ---- Blending the built-in voices -------------------------------------- */

GST_START_TEST (test_cosine_similarity)
{
  const std::vector<float> a = { 1, 2, 0, -1 };
  const struct {
    std::vector<float> b;
    double expected;
  } cases[] = {
    { { 1, 2, 0, -1 }, 1.0 },
    { { 3, 6, 0, -3 }, 1.0 },
    { { -1, -2, 0, 1 }, -1.0 },
    { { 2, -1, 5, 0 }, 0.0 },
    { { 0, 0, 0, 0 }, 0.0 },
    { { 1, 0, 0, 0 }, 1.0 / std::sqrt (6.0) },
  };
  for (const auto &c : cases) {
    fail_unless (std::fabs (cosine_similarity (a, c.b) - c.expected) < 1e-9,
        "%f, not %f", cosine_similarity (a, c.b), c.expected);
    fail_unless (std::fabs (cosine_similarity (c.b, a) - c.expected) < 1e-9);
  }
}
GST_END_TEST;

GST_START_TEST (test_blend_nearest)
{
  const ModelCard enc = ModelCard::load (model_file ("tiny-speaker.json"));
  const ModelCard ac = ModelCard::load (model_file ("tiny-acoustic.json"));
  fail_unless_equals_int ((int) enc.voices.size (), 4);
  /* Each built-in voice's own encoder embedding: that voice is nearest. */
  for (const Voice &v : enc.voices) {
    VoiceBlend b = blend_voices (v.embedding, enc, ac);
    const size_t want = voice_index (ac, v.name);
    /* One weight per acoustic voice; eve (a library voice) has none. */
    fail_unless_equals_int ((int) b.weights.size (), 5);
    fail_unless (b.weights[voice_index (ac, "eve")] == 0.0);
    fail_unless_equals_int ((int) b.nearest, (int) want);
    fail_unless (std::fabs (b.similarity - 1.0) < 1e-6, "%f", b.similarity);
    fail_unless (
        std::fabs (std::accumulate (b.weights.begin (), b.weights.end (), 0.0) -
            1.0) < 1e-9);
    for (size_t i = 0; i < b.weights.size (); i++)
      fail_unless (i == want || b.weights[i] < b.weights[want], "%s: %zu",
          v.name.c_str (), i);
    fail_unless_equals_int ((int) b.embedding.size (), 4);
  }
}
GST_END_TEST;

GST_START_TEST (test_blend_weights)
{
  ModelCard enc = ModelCard::load (model_file ("tiny-speaker.json"));
  const ModelCard ac = ModelCard::load (model_file ("tiny-acoustic.json"));
  /* Between ana and ben, nearer ana. */
  std::vector<float> speaker (6);
  for (size_t k = 0; k < 6; k++)
    speaker[k] =
        0.6f * enc.voices[0].embedding[k] + 0.4f * enc.voices[1].embedding[k];
  /* The card's 0.1, then others: softmax (cosine / temperature). */
  for (double temperature : { 0.0, 1.0, 0.02 }) {
    if (temperature > 0.0)
      enc.blend_temperature = temperature;
    const double t = enc.blend_temperature;
    VoiceBlend b = blend_voices (speaker, enc, ac);
    std::vector<double> want (4);
    double total = 0.0;
    for (size_t i = 0; i < 4; i++)
      total += want[i] = std::exp (
          cosine_similarity (speaker,
              enc.voices[voice_index (enc, ac.voices[i].name)].embedding) /
          t);
    fail_unless_equals_int ((int) b.nearest, 0);
    for (size_t i = 0; i < 4; i++)
      fail_unless (std::fabs (b.weights[i] - want[i] / total) < 1e-9,
          "T %g, voice %zu: %f, not %f", t, i, b.weights[i], want[i] / total);
    for (size_t k = 0; k < 4; k++) {
      double e = 0.0;
      for (size_t i = 0; i < 4; i++)
        e += want[i] / total * ac.voices[i].embedding[k];
      fail_unless (std::fabs (b.embedding[k] - e) < 1e-5, "T %g: [%zu]", t, k);
    }
  }

  /* A tiny temperature: the nearest voice's acoustic embedding itself. */
  enc.blend_temperature = 1e-4;
  for (const Voice &v : enc.voices) {
    VoiceBlend b = blend_voices (v.embedding, enc, ac);
    const std::vector<float> &own =
        ac.voices[voice_index (ac, v.name)].embedding;
    for (size_t k = 0; k < own.size (); k++)
      fail_unless (std::fabs (b.embedding[k] - own[k]) < 1e-6, "%s [%zu]",
          v.name.c_str (), k);
  }
}
GST_END_TEST;

GST_START_TEST (test_blend_by_name)
{
  const ModelCard full = ModelCard::load (model_file ("tiny-speaker.json"));
  const ModelCard ac = ModelCard::load (model_file ("tiny-acoustic.json"));
  /* An encoder card of two voices in another order (dmitri, ben): the
   * others get no weight, the indices are the acoustic card's. */
  ModelCard enc = full;
  enc.voices = { full.voices[3], full.voices[1] };
  for (const Voice &v : enc.voices) {
    VoiceBlend b = blend_voices (v.embedding, enc, ac);
    fail_unless_equals_string (
        ac.voices[b.nearest].name.c_str (), v.name.c_str ());
    fail_unless (b.weights[0] == 0.0 && b.weights[2] == 0.0);
    fail_unless (std::fabs (b.weights[1] + b.weights[3] - 1.0) < 1e-9);
  }
  /* A library voice (eve has a profile) is never blended, even where the
   * encoder's card describes her: her embedding alone is not her sound. */
  enc = full;
  Voice eve = full.voices[0];
  eve.name = "eve";
  enc.voices.push_back (eve);
  VoiceBlend b = blend_voices (eve.embedding, enc, ac);
  fail_unless_equals_string (ac.voices[b.nearest].name.c_str (), "ana");
  fail_unless (b.weights[voice_index (ac, "eve")] == 0.0);
}
GST_END_TEST;

GST_START_TEST (test_blend_errors)
{
  const ModelCard full = ModelCard::load (model_file ("tiny-speaker.json"));
  const ModelCard ac = ModelCard::load (model_file ("tiny-acoustic.json"));
  ModelCard strangers = full;
  for (Voice &v : strangers.voices)
    v.name += "-other";
  const std::vector<float> six = full.voices[0].embedding;
  const struct {
    const char *what;
    std::vector<float> speaker;
    const ModelCard *enc;
    const char *words;
  } cases[] = {
    { "no voice in common", six, &strangers, "none of the voices" },
    { "5 numbers", std::vector<float> (5, 0.3f), &full, "5 numbers" },
    { "7 numbers", std::vector<float> (7, 0.3f), &full, "7 numbers" },
    { "the acoustic model's length", ac.voices[0].embedding, &full,
        "4 numbers" },
  };
  for (const auto &c : cases) {
    try {
      blend_voices (c.speaker, *c.enc, ac);
      fail ("%s: blended", c.what);
    } catch (const ModelError &e) {
      fail_unless (contains (e.what (), c.words), "%s: '%s' lacks '%s'", c.what,
          e.what (), c.words);
    }
  }
}
GST_END_TEST;

/* ---- Cloned profiles ---------------------------------------------------- */

GST_START_TEST (test_clone_profile_with_encoder)
{
  const ModelCard enc = ModelCard::load (model_file ("tiny-speaker.json"));
  const ModelCard ac = ModelCard::load (model_file ("tiny-acoustic.json"));
  /* Gender from the measured F0, else the base voice's. */
  const struct {
    const char *voice; /* whose encoder embedding is the speaker */
    double f0;
    const char *gender;
  } cases[] = {
    { "chloe", 110.0, "male" },
    { "ben", 220.0, "female" },
    { "ben", 0.0, "male" },
    { "ana", 0.0, "female" },
  };
  for (const auto &c : cases) {
    VoiceTraits traits;
    traits.f0_median_hz = c.f0;
    traits.f0_low_hz = 0.8 * c.f0;
    traits.f0_high_hz = 1.3 * c.f0;
    traits.spectral_envelope.assign (32, 0.0f);
    const std::vector<float> &speaker =
        enc.voices[voice_index (enc, c.voice)].embedding;
    VoiceProfile p = clone_profile (traits, ac, "mara", "en", speaker, &enc);
    VoiceBlend b = blend_voices (speaker, enc, ac);
    fail_unless_equals_string (p.base_voice.c_str (), c.voice);
    fail_unless_equals_string (p.gender.c_str (), c.gender);
    fail_unless_equals_string (p.speaker_encoder.c_str (), "tiny-speaker");
    fail_unless_equals_string (p.model.c_str (), "tiny-acoustic");
    fail_unless (p.speaker_embedding == speaker);
    fail_unless (p.embedding == b.embedding);

    /* A profile file's traits need an F0. */
    if (c.f0 == 0.0)
      continue;
    VoiceProfile q = VoiceProfile::parse (p.to_json (), "mara.json", 4);
    fail_unless_equals_string (q.base_voice.c_str (), c.voice);
    fail_unless_equals_string (q.gender.c_str (), c.gender);
    fail_unless_equals_string (q.speaker_encoder.c_str (), "tiny-speaker");
    fail_unless_equals_int ((int) q.speaker_embedding.size (), 6);
    for (size_t k = 0; k < 6; k++)
      fail_unless (std::fabs (q.speaker_embedding[k] - speaker[k]) < 1e-6);
    fail_unless_equals_int ((int) q.embedding.size (), 4);
    for (size_t k = 0; k < 4; k++)
      fail_unless (std::fabs (q.embedding[k] - p.embedding[k]) < 1e-6);
  }

  /* Without an encoder: no speaker embedding in the profile or its file. */
  VoiceTraits traits;
  traits.f0_median_hz = 120.0;
  VoiceProfile plain = clone_profile (traits, ac, "plain", "en");
  fail_unless (plain.speaker_embedding.empty ());
  fail_unless (!contains (plain.to_json (), "speaker_e"));
}
GST_END_TEST;

/* Audio to a profile: the base voice is the encoder card's most similar
 * voice to the audio's embedding. */
GST_START_TEST (test_embed_then_clone)
{
  auto enc = load_tiny ();
  const ModelCard ac = ModelCard::load (model_file ("tiny-acoustic.json"));
  for (double f0 : { 100.0, 130.0, 210.0 }) {
    std::vector<float> e = enc->embed (harmonics (2.0, f0));
    VoiceTraits traits;
    traits.f0_median_hz = f0;
    VoiceProfile p = clone_profile (traits, ac, "me", "en", e, &enc->card ());
    const Voice *best = nullptr;
    for (const Voice &v : enc->card ().voices)
      if (!best ||
          cosine_similarity (e, v.embedding) >
              cosine_similarity (e, best->embedding))
        best = &v;
    fail_unless_equals_string (p.base_voice.c_str (), best->name.c_str ());
    fail_unless (p.speaker_embedding == e);
  }
}
GST_END_TEST;

/* The recipe from a trait report: the learned embedding when there is
 * enough speech for the encoder, the traits alone (said so) when not or
 * without an encoder, and the speech's mel statistics either way. */
GST_START_TEST (test_make_clone_profile)
{
  auto enc = load_tiny ();
  const ModelCard ac = ModelCard::load (model_file ("tiny-acoustic.json"));
  TraitReport report;
  report.traits.f0_median_hz = 130.0;
  report.speech_audio = harmonics (3.0, 130.0);
  report.speech_seconds = 3.0;
  CloneResult full =
      make_clone_profile (report, ac, enc.get (), "me", "en", 16000);
  fail_if (full.traits_only);
  fail_unless (
      full.profile.speaker_embedding == enc->embed (report.speech_audio));
  fail_if (full.profile.mel_statistics.mean.empty ());

  CloneResult plain = make_clone_profile (report, ac, nullptr, "me", "en", 0);
  fail_unless (plain.traits_only);
  fail_unless (plain.profile.speaker_embedding.empty ());
  fail_if (plain.profile.mel_statistics.mean.empty ());

  report.speech_audio.resize (
      (size_t) (0.5 * SpeakerEncoder::kMinSeconds * TraitAnalyzer::kRate));
  CloneResult shortish =
      make_clone_profile (report, ac, enc.get (), "me", "en", 16000);
  fail_unless (shortish.traits_only);
  fail_unless (shortish.profile.speaker_embedding.empty ());
}
GST_END_TEST;

/* ---- The adapt step ---------------------------------------------------- */

GST_START_TEST (test_adapt)
{
  auto synth = Synthesizer::load (tiny_synthesizer_options ());
  auto enc = load_tiny ();
  const ModelCard &ac = synth->acoustic ().card ();
  VoiceTraits traits;
  traits.f0_median_hz = 180.0;
  traits.f0_low_hz = 150.0;
  traits.f0_high_hz = 220.0;
  traits.speaking_rate = 12.0;
  VoiceProfile clone = clone_profile (traits, ac, "me", "en",
      enc->embed (harmonics (3.0, 180.0)), &enc->card ());

  for (int evaluations : { 1, 6 }) {
    VoiceProfile p = clone;
    AdaptOptions options;
    options.evaluations = evaluations;
    int calls = 0;
    AdaptReport r = adapt_voice (*synth, *enc, p, options, [&] (int, int) {
      calls++;
      return true;
    });
    fail_unless_equals_int (r.evaluations, evaluations);
    fail_unless_equals_int (calls, evaluations - 1);
    fail_unless (r.after >= r.before);
    fail_unless (
        std::fabs (std::accumulate (r.weights.begin (), r.weights.end (), 0.0) -
            1.0) < 1e-9);
    fail_unless (
        r.formant_factor >= 0.85 - 1e-9 && r.formant_factor <= 1.18 + 1e-9);
    fail_unless (p.speaker_embedding == clone.speaker_embedding);
    fail_unless_equals_int (
        (int) p.embedding.size (), (int) ac.speaker_embedding_dim);
    /* The adapted voice is what it reports: the weighted mix. */
    for (size_t k = 0; k < p.embedding.size (); k++) {
      double mix = 0.0;
      for (size_t i = 0; i < ac.voices.size (); i++)
        mix += r.weights[i] * ac.voices[i].embedding[k];
      fail_unless (std::fabs (mix - p.embedding[k]) < 1e-4);
    }
    /* Nothing better found: the profile is untouched. */
    if (r.after == r.before)
      fail_unless (p.embedding == clone.embedding &&
          p.base_voice == clone.base_voice &&
          p.traits->formant_scale == clone.traits->formant_scale);
    if (evaluations == 1)
      fail_unless (r.after == r.before);
  }

  /* Stopped by the progress callback after the first try. */
  VoiceProfile p = clone;
  AdaptOptions options;
  options.evaluations = 10;
  AdaptReport r =
      adapt_voice (*synth, *enc, p, options, [] (int, int) { return false; });
  fail_unless_equals_int (r.evaluations, 1);

  /* Not a clone: no speaker embedding. */
  VoiceProfile builtin = synth->voices ().front ();
  bool thrown = false;
  try {
    adapt_voice (*synth, *enc, builtin, options);
  } catch (const ModelError &e) {
    thrown = contains (e.what (), "speaker_embedding");
  }
  fail_unless (thrown);
}
GST_END_TEST;

/* ---- Finding the models ------------------------------------------------ */

GST_START_TEST (test_model_files)
{
  const std::string dir = model_file ("");
  g_setenv ("GANVOICE_MODEL_DIR", dir.c_str (), TRUE);
  const std::string found = require_model_file ("", "tiny-speaker.ts");
  fail_unless (found == dir + "tiny-speaker.ts", "%s", found.c_str ());
  const std::string card =
      card_beside (require_model_file (dir + "tiny-speaker.ts", "x.ts"));
  fail_unless (card == dir + "tiny-speaker.json", "%s", card.c_str ());
  const struct {
    const char *given, *rel, *words;
  } missing[] = {
    { "", "speaker/speaker.ts", "looked in" },
    { "/nonexistent/speaker.ts", "speaker/speaker.ts",
        "/nonexistent/speaker.ts" },
  };
  for (const auto &c : missing) {
    std::string what;
    try {
      require_model_file (c.given, c.rel);
    } catch (const ModelError &e) {
      what = e.what ();
    }
    fail_unless (
        contains (what, c.words), "'%s' lacks '%s'", what.c_str (), c.words);
  }
  g_unsetenv ("GANVOICE_MODEL_DIR");
}
GST_END_TEST;

static Suite *
speaker_encoder_suite (void)
{
  Suite *s = suite_create ("speaker-encoder");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_load_and_embed);
  tcase_add_test (tc, test_too_short);
  tcase_add_test (tc, test_bad_models);
  tcase_add_test (tc, test_cosine_similarity);
  tcase_add_test (tc, test_blend_nearest);
  tcase_add_test (tc, test_blend_weights);
  tcase_add_test (tc, test_blend_by_name);
  tcase_add_test (tc, test_blend_errors);
  tcase_add_test (tc, test_clone_profile_with_encoder);
  tcase_add_test (tc, test_make_clone_profile);
  tcase_add_test (tc, test_embed_then_clone);
  tcase_add_test (tc, test_adapt);
  tcase_add_test (tc, test_model_files);
  return s;
}

GST_CHECK_MAIN (speaker_encoder);

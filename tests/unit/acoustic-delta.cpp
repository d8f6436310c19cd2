/* Unit tests of deep clones: the acoustic delta (expansion, base64, the
 * profile's "acoustic_delta"), and speaking with it on the tiny models.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/acoustic-delta.h>
#include <ganvoice/synthesizer.h>
#include <ganvoice/voice-conversion.h>
#include <ganvoice/voice-profile.h>

#include <cmath>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <gst/check/gstcheck.h>

#include "model-files.h"

using namespace ganvoice;

static AcousticDelta::Tensor
full (const char *name, std::vector<int64_t> shape, float value)
{
  AcousticDelta::Tensor t;
  t.name = name;
  t.shape = shape;
  size_t n = 1;
  for (int64_t d : shape)
    n *= (size_t) d;
  t.data.assign (n, value);
  return t;
}

/* The tiny model's post conv [8, 8, 3] at rank 1: b = 1..8, a = 0.01. */
static AcousticDelta::Tensor
low_rank_post ()
{
  AcousticDelta::Tensor t;
  t.name = "post.weight";
  t.shape = { 8, 8, 3 };
  t.rank = 1;
  t.a.assign (24, 0.01f);
  for (int i = 0; i < 8; i++)
    t.b.push_back ((float) (i + 1));
  return t;
}

static VoiceProfile
deep_voice (std::vector<AcousticDelta::Tensor> tensors)
{
  auto delta = std::make_shared<AcousticDelta> ();
  delta->base_model = "tiny-acoustic";
  delta->base_sha256 = file_sha256 (model_file ("tiny-acoustic.ts"));
  delta->tensors = std::move (tensors);
  delta->finish ("test");
  VoiceProfile p;
  p.name = "deep";
  p.model = "tiny-acoustic";
  p.embedding = { 0.5f, -0.25f, 0.125f, 1.0f };
  p.acoustic_delta = delta;
  return p;
}

static std::vector<float>
speak (Synthesizer &synth, const VoiceProfile &voice)
{
  SpeakRequest r;
  r.text = "Hello there, this is a test.";
  r.voice = voice;
  return synth.speak (r).samples;
}

GST_START_TEST (test_expand_low_rank)
{
  AcousticDelta::Tensor t = low_rank_post ();
  std::vector<float> w = AcousticDelta::expand (t);
  fail_unless_equals_int (w.size (), 8 * 24);
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 24; j++)
      fail_unless (std::fabs (w[i * 24 + j] - 0.01f * (i + 1)) < 1e-6);
  AcousticDelta d;
  d.tensors = { t, full ("dur.bias", { 1 }, 0.5f) };
  d.finish ("test");
  fail_unless_equals_int (d.stored_values (), 24 + 8 + 1);
  fail_unless_equals_int (d.digest.size (), 64);

  /* Sizes that do not match the shape are refused, naming the tensor. */
  AcousticDelta bad;
  bad.tensors = { full ("dur.bias", { 1 }, 0.5f) };
  bad.tensors[0].data.push_back (1.0f);
  try {
    bad.finish ("test");
    fail ("a tensor of the wrong size was accepted");
  } catch (const ModelError &e) {
    fail_unless (
        std::string (e.what ()).find ("dur.bias") != std::string::npos);
  }
}
GST_END_TEST;

GST_START_TEST (test_base64_floats)
{
  std::vector<float> v = { 0.0f, -1.5f, 3.25e-7f, 1e30f };
  fail_unless (decode_floats_base64 (encode_floats_base64 (v), "x") == v);
  /* Python's base64 of struct.pack('<2f', 1.0, -2.0). */
  std::vector<float> known = decode_floats_base64 ("AACAPwAAAMA=", "x");
  fail_unless (known == std::vector<float> ({ 1.0f, -2.0f }));
  for (const char *bad : { "AACAP", "not base64!", "AAA=" }) {
    try {
      decode_floats_base64 (bad, "the tensor");
      fail ("decoded %s", bad);
    } catch (const ModelError &e) {
      fail_unless (
          std::string (e.what ()).find ("the tensor") != std::string::npos);
    }
  }
}
GST_END_TEST;

GST_START_TEST (test_profile_round_trip)
{
  VoiceProfile p =
      deep_voice ({ low_rank_post (), full ("dur.bias", { 1 }, 0.5f) });
  std::string json = p.to_json ();
  fail_unless (json.find ("\"version\" : 2") != std::string::npos, "%s",
      json.substr (0, 200).c_str ());
  VoiceProfile q = VoiceProfile::parse (json, "deep.json", 4);
  fail_unless (q.acoustic_delta != nullptr);
  fail_unless (q.acoustic_delta->digest == p.acoustic_delta->digest);
  fail_unless (q.acoustic_delta->base_sha256 == p.acoustic_delta->base_sha256);
  fail_unless_equals_int (q.acoustic_delta->tensors.size (), 2);
  fail_unless_equals_int (q.acoustic_delta->tensors[0].rank, 1);
  /* A quick clone stays version 1. */
  VoiceProfile quick = p;
  quick.acoustic_delta.reset ();
  fail_unless (quick.to_json ().find ("\"version\" : 1") != std::string::npos);

  /* Bad deltas name the field. */
  const std::string head = "{\"format\": \"ganvoice-voice-profile\", "
                           "\"version\": 2, \"name\": \"x\", "
                           "\"embedding\": [1, 2, 3, 4], \"acoustic_delta\": ";
  const std::pair<const char *, const char *> bad[] = {
    { "[]", "must be an object" },
    { "{\"format\": \"other\", \"version\": 1, \"tensors\": []}",
        "expected \"ganvoice-acoustic-delta\"" },
    { "{\"format\": \"ganvoice-acoustic-delta\", \"version\": 9, "
      "\"tensors\": []}",
        "newer than" },
    { "{\"format\": \"ganvoice-acoustic-delta\", \"version\": 1, "
      "\"tensors\": [{\"name\": \"dur.bias\", \"shape\": [1], "
      "\"kind\": \"add\", \"data\": \"AACAPwAAAMA=\"}]}",
        "dur.bias" },
    { "{\"format\": \"ganvoice-acoustic-delta\", \"version\": 1, "
      "\"tensors\": [{\"name\": \"dur.bias\", \"shape\": [1], "
      "\"kind\": \"scale\", \"data\": \"AACAPw==\"}]}",
        "\"kind\" must be" },
  };
  for (const auto &[delta, needle] : bad) {
    try {
      VoiceProfile::parse (head + delta + "}", "bad.json", 4);
      fail ("parsed %s", delta);
    } catch (const VoiceProfileError &e) {
      fail_unless (std::string (e.what ()).find (needle) != std::string::npos,
          "'%s' not in '%s'", needle, e.what ());
    }
  }
}
GST_END_TEST;

GST_START_TEST (test_speak_deep_voice)
{
  auto synth = Synthesizer::load (tiny_synthesizer_options ());
  VoiceProfile plain = deep_voice ({});
  plain.acoustic_delta.reset ();
  std::vector<float> base = speak (*synth, plain);
  fail_unless (!base.empty ());

  /* An all-zero delta speaks exactly like the base model. */
  std::vector<float> same =
      speak (*synth, deep_voice ({ full ("post.weight", { 8, 8, 3 }, 0.0f) }));
  fail_unless (same == base);

  /* A real delta changes the sound; the longer durations, the length. */
  std::vector<float> other = speak (*synth, deep_voice ({ low_rank_post () }));
  fail_unless (other.size () == base.size ());
  fail_unless (other != base);
  std::vector<float> slower =
      speak (*synth, deep_voice ({ full ("dur.bias", { 1 }, 1.0f) }));
  fail_unless (slower.size () > base.size (), "%zu <= %zu", slower.size (),
      base.size ());

  /* The shared model is untouched by the deep voices. */
  fail_unless (speak (*synth, plain) == base);
}
GST_END_TEST;

GST_START_TEST (test_refused_deltas)
{
  auto synth = Synthesizer::load (tiny_synthesizer_options ());
  auto expect = [&] (VoiceProfile voice, const char *needle) {
    try {
      speak (*synth, voice);
      fail ("spoke with a bad delta (%s)", needle);
    } catch (const VoiceProfileError &e) {
      fail_unless (std::string (e.what ()).find (needle) != std::string::npos,
          "'%s' not in '%s'", needle, e.what ());
    }
  };
  expect (deep_voice ({ full ("decoder.9.weight", { 1 }, 1.0f) }),
      "which the model does not have");
  expect (deep_voice ({ full ("post.weight", { 8, 8, 2 }, 1.0f) }), "shape");
  VoiceProfile other_base = deep_voice ({ low_rank_post () });
  auto delta = std::make_shared<AcousticDelta> (*other_base.acoustic_delta);
  delta->base_sha256 = std::string (64, '0');
  delta->finish ("test");
  other_base.acoustic_delta = delta;
  expect (other_base, "made for another acoustic model");
}
GST_END_TEST;

/* A voice of the voice library: the tiny card's "eve" has the profile
 * voices/eve.json, whose delta lengthens the durations. */
GST_START_TEST (test_library_voice)
{
  ModelCard card = ModelCard::load (model_file ("tiny-acoustic.json"));
  const Voice &eve = card.voices.back ();
  fail_unless_equals_string (eve.name.c_str (), "eve");
  /* Resolved against the card's folder. */
  const std::string beside = model_file ("voices/eve.json");
  fail_unless_equals_string (eve.profile.c_str (), beside.c_str ());
  for (size_t i = 0; i + 1 < card.voices.size (); i++)
    fail_unless (card.voices[i].profile.empty ());

  auto synth = Synthesizer::load (tiny_synthesizer_options ());
  VoiceProfile builtin = synth->voice ("eve");
  fail_unless (builtin.acoustic_delta != nullptr);
  fail_unless_equals_string (builtin.name.c_str (), "eve");
  fail_unless_equals_string (builtin.language.c_str (), "en");
  fail_unless_equals_string (builtin.model.c_str (), "tiny-acoustic");
  fail_unless (builtin.embedding == eve.embedding);
  fail_unless (synth->voices ().back ().acoustic_delta != nullptr);

  /* It speaks exactly like voice=PROFILE, with the delta: longer than its
   * embedding alone. */
  std::vector<float> by_name = speak (*synth, builtin);
  std::vector<float> by_file = speak (*synth, synth->voice (eve.profile));
  fail_unless (by_name == by_file);
  VoiceProfile plain = builtin;
  plain.acoustic_delta.reset ();
  std::vector<float> without = speak (*synth, plain);
  fail_unless (by_name.size () > without.size (), "%zu <= %zu", by_name.size (),
      without.size ());

  /* Cloning neither starts from nor blends a library voice. */
  VoiceTraits t;
  t.f0_median_hz = 210.0; /* eve's guess by gender */
  for (double f0 : { 90.0, 150.0, 210.0, 300.0 }) {
    t.f0_median_hz = f0;
    fail_if (nearest_voice (t, card.voices) == card.voices.size () - 1);
  }
  try {
    nearest_voice (t, { eve });
    fail ("cloned from a library voice");
  } catch (const ModelError &) {
  }

  /* A card whose library voice cannot be used names the card and the file,
   * when that voice is first asked for (profiles load on first use). */
  const std::string json = read_model_file ("tiny-acoustic.json");
  auto expect = [&] (const std::string &card_json, const char *file,
                    const char *needle) {
    std::string card_path = write_temp ("library-card.json", card_json);
    SynthesizerOptions o = tiny_synthesizer_options ();
    o.acoustic_card = card_path;
    try {
      Synthesizer::load (o)->voice ("eve");
      fail ("loaded a card with a bad library voice (%s)", needle);
    } catch (const ModelError &e) {
      std::string what = e.what ();
      fail_unless (what.find (card_path) != std::string::npos, "%s", e.what ());
      fail_unless (what.find (file) != std::string::npos, "%s", e.what ());
      fail_unless (what.find (needle) != std::string::npos, "'%s' not in '%s'",
          needle, e.what ());
    }
  };
  auto with_profile = [&] (const std::string &path) {
    return std::regex_replace (json, std::regex ("voices/eve\\.json"), path);
  };
  expect (with_profile ("/nonexistent/eve.json"), "/nonexistent/eve.json",
      "\"eve\"");
  std::string junk = write_temp ("junk-eve.json", "{ not json");
  expect (with_profile (junk), junk.c_str (), "cannot be used");
  /* The profile's embedding must be the card's. */
  VoiceProfile moved = builtin;
  moved.embedding[2] += 0.5f;
  std::string moved_path = write_temp ("moved-eve.json", "");
  moved.save (moved_path);
  expect (with_profile (moved_path), moved_path.c_str (), "not the card's");
  /* A delta made from another model. */
  VoiceProfile other = builtin;
  auto delta = std::make_shared<AcousticDelta> (*builtin.acoustic_delta);
  delta->base_sha256 = std::string (64, '0');
  delta->finish ("test");
  other.acoustic_delta = delta;
  std::string other_path = write_temp ("other-eve.json", "");
  other.save (other_path);
  expect (
      with_profile (other_path), other_path.c_str (), "another acoustic model");

  /* The card's "profile" must be a non-empty string. */
  for (const char *bad : { "\"profile\": \"\"", "\"profile\": 3" }) {
    std::string broken = std::regex_replace (
        json, std::regex ("\"profile\": \"voices/eve\\.json\""), bad);
    try {
      ModelCard::parse (broken, "card.json");
      fail ("parsed %s", bad);
    } catch (const ModelError &e) {
      fail_unless (
          std::string (e.what ()).find ("\"profile\"") != std::string::npos,
          "%s", e.what ());
    }
  }
}
GST_END_TEST;

static Suite *
acoustic_delta_suite (void)
{
  Suite *s = suite_create ("acoustic-delta");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_expand_low_rank);
  tcase_add_test (tc, test_base64_floats);
  tcase_add_test (tc, test_profile_round_trip);
  tcase_add_test (tc, test_speak_deep_voice);
  tcase_add_test (tc, test_refused_deltas);
  tcase_add_test (tc, test_library_voice);
  return s;
}

GST_CHECK_MAIN (acoustic_delta);

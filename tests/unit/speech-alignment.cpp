/* Unit tests of the signal pieces of fine-tuning: monotonic alignment
 * search, sentence splitting, trimming, frame F0 and mel cepstra.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "voice/speech-alignment.h"

#include <cmath>
#include <string>
#include <vector>

#include <gst/check/gstcheck.h>

using namespace ganvoice;

/* Frames drawn from 3 states with known durations: the path is found. */
GST_START_TEST (test_monotonic_alignment)
{
  const std::vector<int64_t> truth = { 4, 1, 6 };
  std::vector<double> level;
  for (size_t k = 0; k < truth.size (); k++)
    for (int64_t t = 0; t < truth[k]; t++)
      level.push_back ((double) k);
  const int64_t T = (int64_t) level.size (), K = 3;
  torch::Tensor x = torch::tensor (level, torch::kFloat64);
  torch::Tensor means = torch::arange (K, torch::kFloat64);
  int calls = 0;
  auto loglik = [&] (int64_t t, int64_t n) {
    calls++;
    torch::Tensor f = x.narrow (0, t, n).unsqueeze (1);
    return -(f - means.unsqueeze (0)).pow (2);
  };
  fail_unless (monotonic_alignment (T, K, loglik) == truth);
  fail_unless (calls >= 1);

  /* As many frames as states: one each. */
  auto flat = [&] (int64_t, int64_t n) { return torch::zeros ({ n, K }); };
  fail_unless (
      (monotonic_alignment (K, K, flat) == std::vector<int64_t>{ 1, 1, 1 }));

  /* Long inputs are read in chunks and still add up. */
  auto noisy = [&] (int64_t t, int64_t n) {
    return torch::arange (t, t + n, torch::kFloat64).unsqueeze (1).cos () *
        torch::arange (1, 51, torch::kFloat64).unsqueeze (0);
  };
  std::vector<int64_t> d = monotonic_alignment (1000, 50, noisy);
  int64_t sum = 0;
  for (int64_t v : d) {
    fail_unless (v >= 1);
    sum += v;
  }
  fail_unless_equals_int (sum, 1000);
}
GST_END_TEST;

GST_START_TEST (test_split_sentences)
{
  std::vector<std::string> s =
      split_sentences ("Hello there. How are you?  Fine!\nA line\n\nDr. Who… "
                       "and 3.5 m. \"Yes.\" «Oui.» Done");
  const std::vector<std::string> want = { "Hello there.", "How are you?",
    "Fine!", "A line", "Dr.", "Who…", "and 3.5 m.", "\"Yes.\"", "«Oui.»",
    "Done" };
  fail_unless_equals_int (s.size (), want.size ());
  for (size_t i = 0; i < want.size (); i++)
    fail_unless_equals_string (s[i].c_str (), want[i].c_str ());
  fail_unless (split_sentences ("  \n ").empty ());
}
GST_END_TEST;

GST_START_TEST (test_trim_and_f0)
{
  const int rate = 22050, hop = 256;
  std::vector<float> x (rate, 0.0f); /* 0.25 s silence, 0.5 s tone, silence */
  for (int i = rate / 4; i < 3 * rate / 4; i++)
    x[i] = 0.5f * (float) std::sin (2.0 * G_PI * 150.0 * i / rate);
  std::vector<float> t = trim_silence (x, rate, hop, -40.0, 0.05);
  fail_unless (std::fabs ((double) t.size () / rate - 0.6) < 0.03,
      "trimmed to %.3f s", (double) t.size () / rate);
  /* As the recipe: digital silence has a level (a floor), all of it equal,
   * so nothing is cut (check_take () is what says "no speech"). */
  std::vector<float> silent (rate, 0.0f);
  fail_unless_equals_int (
      trim_silence (silent, rate, hop, -40.0, 0.05).size (), rate);

  const int64_t frames = (int64_t) x.size () / hop;
  torch::Tensor f0 = frame_f0 (x, rate, hop, frames);
  fail_unless_equals_int (f0.size (0), frames);
  /* Voiced in the middle of the tone, at its pitch; unvoiced in silence. */
  fail_unless (std::fabs (f0[frames / 2].item<float> () - 150.0f) < 2.0f);
  fail_unless_equals_float (f0[2].item<float> (), 0.0f);
  fail_unless_equals_float (f0[frames - 3].item<float> (), 0.0f);
}
GST_END_TEST;

GST_START_TEST (test_clean_speaker_f0)
{
  /* A 100 Hz speaker; the tracker jumped an octave up for a run of frames,
   * hit its 600 Hz edge once and left a lone voiced frame. */
  std::vector<torch::Tensor> f0 = {
    torch::tensor ({ 0.f, 100.f, 105.f, 210.f, 212.f, 110.f, 0.f, 95.f, 0.f }),
    torch::tensor ({ 90.f, 600.f, 98.f, 120.f, 0.f, 0.f }),
    torch::zeros ({ 4 }),
  };
  fail_unless_equals_int (clean_speaker_f0 (f0), 6);
  const std::vector<float> want0 = { 0, 100, 105, 0, 0, 0, 0, 0, 0 };
  const std::vector<float> want1 = { 0, 0, 98, 120, 0, 0 };
  for (size_t i = 0; i < want0.size (); i++)
    fail_unless_equals_float (f0[0][(int64_t) i].item<float> (), want0[i]);
  for (size_t i = 0; i < want1.size (); i++)
    fail_unless_equals_float (f0[1][(int64_t) i].item<float> (), want1[i]);
  fail_unless_equals_float (f0[2].abs ().sum ().item<float> (), 0.0f);
  /* Nothing voiced at all: nothing to do. */
  std::vector<torch::Tensor> silent = { torch::zeros ({ 3 }) };
  fail_unless_equals_int (clean_speaker_f0 (silent), 0);
  std::vector<torch::Tensor> none;
  fail_unless_equals_int (clean_speaker_f0 (none), 0);
}
GST_END_TEST;

GST_START_TEST (test_cepstral_features)
{
  torch::Tensor mel = torch::randn ({ 80, 30 });
  torch::Tensor f = cepstral_features (mel);
  fail_unless_equals_int (f.size (0), 30);
  fail_unless_equals_int (f.size (1), 40);
  /* Mean-normalised cepstra; a constant spectrum gives zeros throughout. */
  fail_unless (
      f.narrow (1, 0, 20).mean (0).abs ().max ().item<double> () < 1e-9);
  torch::Tensor flat = cepstral_features (torch::ones ({ 8, 5 }));
  fail_unless_equals_int (flat.size (1), 16);
  fail_unless (flat.abs ().max ().item<double> () < 1e-9);
}
GST_END_TEST;

static Suite *
speech_alignment_suite (void)
{
  Suite *s = suite_create ("speech-alignment");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_monotonic_alignment);
  tcase_add_test (tc, test_split_sentences);
  tcase_add_test (tc, test_trim_and_f0);
  tcase_add_test (tc, test_clean_speaker_f0);
  tcase_add_test (tc, test_cepstral_features);
  return s;
}

GST_CHECK_MAIN (speech_alignment);

/* Unit tests of the vocoder runtime and model cards, on the tiny generated
 * model in tests/models (see make_test_models.py).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/vocoder.h>

#include <gst/check/gstcheck.h>

#include "model-files.h"

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using namespace ganvoice;

static std::string
tiny_card_with (const char *field, const char *value)
{
  std::string card = read_model_file ("tiny-vocoder.json");
  std::string key = std::string ("\"") + field + "\": ";
  size_t at = card.find (key);
  fail_unless (at != std::string::npos, "no %s in the card", field);
  size_t end = card.find_first_of (",\n}", at + key.size ());
  if (value)
    card.replace (at + key.size (), end - at - key.size (), value);
  else
    card.erase (at, card.find ('\n', at) + 1 - at);
  return card;
}

static std::vector<float>
test_mel (size_t frames)
{
  std::vector<float> mel (8 * frames);
  for (size_t i = 0; i < mel.size (); i++)
    mel[i] = (float) std::sin (0.37 * i) * 3.0f - 4.0f;
  return mel;
}

GST_START_TEST (test_load_and_shape)
{
  auto vocoder = Vocoder::load (
      model_file ("tiny-vocoder.ts"), model_file ("tiny-vocoder.json"));
  const ModelCard &card = vocoder->card ();
  fail_unless_equals_string (card.name.c_str (), "tiny-vocoder");
  fail_unless_equals_int (card.mel.sample_rate, 16000);
  fail_unless_equals_int (card.mel.hop, 16);
  fail_unless_equals_int (card.mel.n_mels, 8);
  std::string device = vocoder->device (), graph = vocoder->graph ();
  fail_unless_equals_string (device.c_str (), "cpu");
  fail_unless_equals_string (graph.c_str (), "frozen, optimized");

  std::vector<float> mel = test_mel (50);
  std::vector<float> audio = vocoder->vocode (mel.data (), 50);
  fail_unless_equals_int (audio.size (), 50 * 16);
  for (float s : audio)
    fail_unless (std::isfinite (s) && std::fabs (s) <= 1.0f);
  fail_unless (vocoder->vocode (mel.data (), 0).empty ());
}
GST_END_TEST;

GST_START_TEST (test_deterministic)
{
  auto vocoder = Vocoder::load (
      model_file ("tiny-vocoder.ts"), model_file ("tiny-vocoder.json"));
  std::vector<float> mel = test_mel (40);
  std::vector<float> a = vocoder->vocode (mel.data (), 40);
  std::vector<float> b = vocoder->vocode (mel.data (), 40);
  fail_unless (a == b, "the same input gave different output");
}
GST_END_TEST;

GST_START_TEST (test_chunked_matches_one_shot)
{
  /* Context covers the model's receptive field (2 frames), so chunks join
   * exactly; the tolerance only allows for float summation order. */
  const double tolerance = 1e-5;
  /* Fixed chunks of 7 frames, then chunks that double from 7 (7, 14, 28,
   * 52 of the 101 frames). */
  const struct {
    size_t max_chunk;
    unsigned chunks;
  } cases[] = { { 7, 15 }, { 1024, 4 } };
  for (const auto &c : cases) {
    VocoderOptions options;
    options.chunk_frames = 7;
    options.max_chunk_frames = c.max_chunk;
    options.context_frames = 3;
    auto vocoder = Vocoder::load (model_file ("tiny-vocoder.ts"),
        model_file ("tiny-vocoder.json"), options);
    std::vector<float> mel = test_mel (101);
    std::vector<float> whole = vocoder->vocode (mel.data (), 101);
    std::vector<float> streamed;
    unsigned chunks = 0;
    fail_unless (vocoder->vocode_chunked (
        mel.data (), 101, [&] (const float *s, size_t n) {
          streamed.insert (streamed.end (), s, s + n);
          chunks++;
          return true;
        }));
    fail_unless_equals_int (chunks, c.chunks);
    fail_unless_equals_int (streamed.size (), whole.size ());
    double worst = 0;
    for (size_t i = 0; i < whole.size (); i++)
      worst = std::max (worst, (double) std::fabs (whole[i] - streamed[i]));
    fail_unless (worst <= tolerance, "chunked differs by %g", worst);
  }

  /* The callback can stop it, as a flush does. */
  VocoderOptions small;
  small.chunk_frames = 7;
  auto vocoder = Vocoder::load (
      model_file ("tiny-vocoder.ts"), model_file ("tiny-vocoder.json"), small);
  std::vector<float> mel = test_mel (101);
  unsigned chunks = 0;
  fail_if (vocoder->vocode_chunked (
      mel.data (), 101, [&] (const float *, size_t) { return ++chunks < 2; }));
  fail_unless_equals_int (chunks, 2);
}
GST_END_TEST;

GST_START_TEST (test_bad_models)
{
  static const struct {
    const char *what;
    const char *field; /* card field to change, or NULL to use the card */
    const char *value; /* its new value, or NULL to remove it */
    bool corrupt_model;
    bool missing_model;
    const char *words; /* expected in the error */
  } cases[] = {
    { "missing model", NULL, NULL, false, true, "not found" },
    { "corrupt model", NULL, NULL, true, false, "cannot load" },
    { "card without hop", "hop", NULL, false, false, "\"hop\"" },
    { "card with text hop", "hop", "\"16\"", false, false,
        "\"hop\" must be a number" },
    { "wrong hop", "hop", "12", false, false, "breaks its card" },
    { "wrong n_mels", "n_mels", "10", false, false, "does not accept" },
    { "wrong kind", "kind", "\"acoustic\"", false, false, "not \"vocoder\"" },
    { "f0 input", "f0_input", "true", false, false, "f0_input" },
    { "fmax above Nyquist", "fmax", "9000.0", false, false, "\"fmax\"" },
  };
  for (const auto &c : cases) {
    std::string model = model_file ("tiny-vocoder.ts");
    std::string card = model_file ("tiny-vocoder.json");
    if (c.missing_model)
      model = model_file ("no-such-model.ts");
    if (c.corrupt_model)
      model = write_temp ("corrupt.ts", corrupt_model_bytes ());
    if (c.field)
      card = write_temp ("card.json", tiny_card_with (c.field, c.value));
    try {
      Vocoder::load (model, card);
      fail ("%s: loaded", c.what);
    } catch (const ModelError &e) {
      fail_unless (std::string (e.what ()).find (c.words) != std::string::npos,
          "%s: '%s' lacks '%s'", c.what, e.what (), c.words);
    }
  }

  /* Not JSON, a missing card, and unknown devices. */
  try {
    Vocoder::load (
        model_file ("tiny-vocoder.ts"), write_temp ("bad.json", "{\"name\": "));
    fail ("loaded a card that is not JSON");
  } catch (const ModelError &e) {
    fail_unless (
        std::string (e.what ()).find ("not valid JSON") != std::string::npos);
  }
  for (const char *device : { "cuda", "tpu" }) {
    if (g_str_equal (device, "cuda") && vocoder_cuda_available ())
      continue;
    VocoderOptions options;
    options.device = device;
    try {
      Vocoder::load (model_file ("tiny-vocoder.ts"),
          model_file ("tiny-vocoder.json"), options);
      fail ("loaded on %s", device);
    } catch (const ModelError &e) {
      fail_unless (std::string (e.what ()).find (device) != std::string::npos);
    }
  }
}
GST_END_TEST;

GST_START_TEST (test_shipped_model)
{
  std::string root = g_getenv ("GANVOICE_SOURCE_DIR");
  auto vocoder = Vocoder::load (root + "/models/vocoder/vocoder.ts",
      root + "/models/vocoder/vocoder.json");
  const MelSpec &mel = vocoder->card ().mel;
  fail_unless_equals_int (mel.sample_rate, 22050);
  fail_unless_equals_int (mel.hop, 256);
  fail_unless_equals_int (mel.n_mels, 80);
  fail_unless_equals_string (mel.scale.c_str (), "slaney");
  /* Silence in (the log-mel floor), near-silence out, of the right length. */
  std::vector<float> silence (80 * 40, std::log (1e-5f));
  std::vector<float> audio = vocoder->vocode (silence.data (), 40);
  fail_unless_equals_int (audio.size (), 40 * 256);
  float peak = 0;
  for (float s : audio)
    peak = std::max (peak, std::fabs (s));
  fail_unless (peak < 0.05f, "silence came out at peak %f", peak);
}
GST_END_TEST;

/* Loading with a thread count gives OpenBLAS's own pool (Debian's LibTorch
 * multiplies in it) the same count, and GANVOICE_KEEP_BLAS_THREADS keeps
 * what it had. Skipped where LibTorch runs on another BLAS. */
GST_START_TEST (test_blas_threads_follow_option)
{
  void *blas = dlopen ("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD);
  if (blas == nullptr)
    return;
  auto get =
      reinterpret_cast<int (*) ()> (dlsym (blas, "openblas_get_num_threads"));
  auto set = reinterpret_cast<void (*) (int)> (
      dlsym (blas, "openblas_set_num_threads"));
  fail_unless (get != nullptr && set != nullptr);
  for (int threads : { 1, 2, 1 }) {
    set (3);
    VocoderOptions options;
    options.threads = threads;
    Vocoder::load (model_file ("tiny-vocoder.ts"),
        model_file ("tiny-vocoder.json"), options);
    fail_unless_equals_int (get (), threads);
  }
  g_setenv ("GANVOICE_KEEP_BLAS_THREADS", "1", TRUE);
  set (3);
  VocoderOptions options;
  options.threads = 1;
  Vocoder::load (model_file ("tiny-vocoder.ts"),
      model_file ("tiny-vocoder.json"), options);
  g_unsetenv ("GANVOICE_KEEP_BLAS_THREADS");
  fail_unless_equals_int (get (), 3);
  dlclose (blas);
}
GST_END_TEST;

/* The shipped model ends in a post-filter that reaches further than the
 * generator (docs/vocoder.md); streaming with the default 32 frames of
 * context must still match one-shot vocoding: 60 dB SNR or better on this
 * synthetic mel (measured 62 dB with 16 filter iterations; 109 dB on real
 * speech). */
GST_START_TEST (test_shipped_model_streams)
{
  std::string root = g_getenv ("GANVOICE_SOURCE_DIR");
  auto vocoder = Vocoder::load (root + "/models/vocoder/vocoder.ts",
      root + "/models/vocoder/vocoder.json");
  const size_t frames = 600, n_mels = 80;
  std::vector<float> mel (n_mels * frames);
  for (size_t m = 0; m < n_mels; m++)
    for (size_t t = 0; t < frames; t++)
      mel[m * frames + t] = (float) (-2.0 - 6.0 * m / n_mels +
          1.5 * std::sin (0.05 * t + 0.3 * m) * std::sin (0.011 * t));
  std::vector<float> whole = vocoder->vocode (mel.data (), frames);
  std::vector<float> streamed;
  fail_unless (vocoder->vocode_chunked (
      mel.data (), frames, [&] (const float *s, size_t n) {
        streamed.insert (streamed.end (), s, s + n);
        return true;
      }));
  fail_unless_equals_int (streamed.size (), whole.size ());
  double signal = 0, error = 0;
  for (size_t i = 0; i < whole.size (); i++) {
    signal += (double) whole[i] * whole[i];
    error += ((double) streamed[i] - whole[i]) * (streamed[i] - whole[i]);
  }
  double snr = 10 * std::log10 (signal / std::max (error, 1e-30));
  fail_unless (snr > 60.0, "streamed vs one-shot: SNR %.1f dB", snr);
}
GST_END_TEST;

static Suite *
vocoder_suite (void)
{
  Suite *s = suite_create ("vocoder");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_load_and_shape);
  tcase_add_test (tc, test_deterministic);
  tcase_add_test (tc, test_chunked_matches_one_shot);
  tcase_add_test (tc, test_bad_models);
  tcase_add_test (tc, test_blas_threads_follow_option);
  tcase_add_test (tc, test_shipped_model);
  tcase_add_test (tc, test_shipped_model_streams);
  return s;
}

GST_CHECK_MAIN (vocoder);

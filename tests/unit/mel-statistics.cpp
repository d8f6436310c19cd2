/* Unit tests of the log-mel front-end, speech statistics and their mapping
 * (ganvoice/mel-statistics.h), their place in voice profiles, and their use
 * by the Synthesizer for cloned voices.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/mel-statistics.h>
#include <ganvoice/synthesizer.h>
#include <ganvoice/voice-conversion.h>
#include <ganvoice/voice-profile.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <gst/check/gstcheck.h>

#include "model-files.h"

using namespace ganvoice;

static std::vector<float>
sine (double hz, double amplitude, int rate, double seconds)
{
  std::vector<float> x ((size_t) (rate * seconds));
  for (size_t i = 0; i < x.size (); i++)
    x[i] = (float) (amplitude * std::sin (2.0 * M_PI * hz * i / rate));
  return x;
}

static size_t
loudest_band (const Mel &mel, size_t frame)
{
  size_t best = 0;
  for (size_t m = 1; m < mel.n_mels; m++)
    if (mel.data[m * mel.frames + frame] > mel.data[best * mel.frames + frame])
      best = m;
  return best;
}

/* @frames frames of @n bands drawn from N (mean, L L^T). */
static Mel
gaussian_mel (const std::vector<float> &mean, const std::vector<double> &l,
    size_t frames, unsigned seed)
{
  const size_t n = mean.size ();
  std::mt19937 rng (seed);
  std::normal_distribution<double> z;
  Mel mel;
  mel.n_mels = n;
  mel.frames = frames;
  mel.data.assign (n * frames, 0.0f);
  std::vector<double> e (n);
  for (size_t t = 0; t < frames; t++) {
    for (double &v : e)
      v = z (rng);
    for (size_t i = 0; i < n; i++) {
      double acc = mean[i];
      for (size_t j = 0; j <= i; j++)
        acc += l[i * n + j] * e[j];
      mel.data[i * frames + t] = (float) acc;
    }
  }
  return mel;
}

static double
covariance_distance (const std::vector<float> &a, const std::vector<float> &b)
{
  double s = 0.0;
  for (size_t i = 0; i < a.size (); i++)
    s += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt (s);
}

/* A random lower-triangular factor with a strong first direction. */
static std::vector<double>
random_factor (size_t n, unsigned seed, double scale)
{
  std::mt19937 rng (seed);
  std::uniform_real_distribution<double> u (-0.3, 0.3);
  std::vector<double> l (n * n, 0.0);
  for (size_t i = 0; i < n; i++) {
    l[i * n] = scale * (0.8 + 0.02 * i);
    for (size_t j = 1; j <= i; j++)
      l[i * n + j] = scale * (i == j ? 0.5 : u (rng));
  }
  return l;
}

GST_START_TEST (test_front_end)
{
  const MelSpec spec = default_mel_spec ();
  /* A 1 kHz tone peaks in the band at 1 kHz, one frame per hop. */
  std::vector<float> x = sine (1000.0, 0.5, spec.sample_rate, 1.0);
  Mel mel = analyze_mel (x.data (), x.size (), spec.sample_rate, spec);
  fail_unless_equals_int ((int) mel.n_mels, 80);
  fail_unless_equals_int ((int) mel.frames, (int) (x.size () / spec.hop));
  const double at = mel_band_at (spec, 1000.0);
  size_t band = loudest_band (mel, mel.frames / 2);
  fail_unless (
      std::fabs ((double) band - at) <= 1.0, "band %zu, tone at %f", band, at);

  /* Twice the amplitude: ln 2 more in every band the tone reaches. */
  std::vector<float> y = x;
  for (float &v : y)
    v *= 2.0f;
  Mel louder = analyze_mel (y.data (), y.size (), spec.sample_rate, spec);
  const size_t t = mel.frames / 2;
  for (size_t m = band - 2; m <= band + 2; m++)
    fail_unless (std::fabs (louder.data[m * mel.frames + t] -
                     mel.data[m * mel.frames + t] - std::log (2.0)) < 1e-3,
        "band %zu", m);

  /* The same tone at 16 kHz is resampled first: the same band, the same
   * level within 0.1 (the resampler's passband). */
  std::vector<float> z = sine (1000.0, 0.5, 16000, 1.0);
  Mel resampled = analyze_mel (z.data (), z.size (), 16000, spec);
  fail_unless (std::abs ((long) resampled.frames - (long) mel.frames) <= 1);
  fail_unless_equals_int ((int) loudest_band (resampled, t), (int) band);
  fail_unless (std::fabs (resampled.data[band * resampled.frames + t] -
                   mel.data[band * mel.frames + t]) < 0.1);

  /* Less than a hop: no frames; silence: the clamp. */
  Mel none = analyze_mel (x.data (), spec.hop - 1, spec.sample_rate, spec);
  fail_unless_equals_int ((int) none.frames, 0);
  std::vector<float> quiet (4096, 0.0f);
  Mel floor =
      analyze_mel (quiet.data (), quiet.size (), spec.sample_rate, spec);
  for (float v : floor.data)
    fail_unless (std::fabs (v - std::log (spec.clamp)) < 1e-4);

  /* Bad arguments. */
  MelSpec bad = spec;
  bad.win = spec.n_fft + 1;
  auto refused = [&] (int rate, const MelSpec &sp) {
    try {
      analyze_mel (x.data (), x.size (), rate, sp);
    } catch (const std::invalid_argument &) {
      return true;
    }
    return false;
  };
  fail_unless (refused (0, spec));
  fail_unless (refused (-5, spec));
  fail_unless (refused (22050, bad));
}
GST_END_TEST;

GST_START_TEST (test_statistics)
{
  const MelSpec spec = default_mel_spec ();
  const size_t n = 80;
  std::vector<float> mean (n);
  for (size_t i = 0; i < n; i++)
    mean[i] = -2.0f - 0.03f * i;
  std::vector<double> l = random_factor (n, 7, 0.3);
  Mel mel = gaussian_mel (mean, l, 2000, 11);

  /* Silence between the speech: left out. */
  Mel gapped = mel;
  for (size_t m = 0; m < n; m++)
    for (size_t t = 0; t < 500; t++)
      gapped.data[m * mel.frames + t] = std::log (1e-5f);
  MelStatistics all = mel_statistics (mel, spec, 0.0);
  MelStatistics st = mel_statistics (gapped, spec, 5000.0);
  fail_unless_equals_int ((int) all.frames, 2000);
  fail_unless_equals_int ((int) st.frames, 1500);
  fail_unless_equals_float (st.bandwidth_hz, 5000.0);
  fail_unless_equals_float (all.bandwidth_hz, spec.fmax);
  for (size_t i = 0; i < n; i++)
    fail_unless (std::fabs (st.mean[i] - mean[i]) < 0.05, "band %zu", i);
  /* The covariance is L L^T, within sampling error. */
  double worst = 0.0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      double want = 0.0;
      for (size_t k = 0; k < n; k++)
        want += l[i * n + k] * l[j * n + k];
      worst = std::max (worst, std::fabs (st.covariance[i * n + j] - want));
      fail_unless_equals_float (
          st.covariance[i * n + j], st.covariance[j * n + i]);
    }
  fail_unless (worst < 0.08, "covariance off by %f", worst);

  /* Too little speech: none. */
  Mel brief = gaussian_mel (mean, l, kMinStatisticsFrames - 1, 3);
  fail_unless (mel_statistics (brief, spec, 0.0).empty ());
}
GST_END_TEST;

GST_START_TEST (test_mapping)
{
  const MelSpec spec = default_mel_spec ();
  const size_t n = 80;
  std::vector<float> source_mean (n), target_mean (n);
  for (size_t i = 0; i < n; i++) {
    source_mean[i] = -2.0f - 0.03f * i;
    target_mean[i] = -1.0f - 0.02f * i + 0.3f * std::sin (0.2f * i);
  }
  Mel source = gaussian_mel (source_mean, random_factor (n, 1, 0.25), 3000, 5);
  Mel target = gaussian_mel (target_mean, random_factor (n, 2, 0.4), 3000, 6);
  MelStatistics s = mel_statistics (source, spec, 0.0);
  MelStatistics t = mel_statistics (target, spec, 0.0);

  MelMapping map = plan_mel_mapping (s, t);
  fail_unless_equals_int ((int) map.bands.size (), (int) n);
  /* Bands below 1 kHz get a smoothed change. */
  const size_t low = (size_t) map.smoothed_bands;
  fail_unless (mel_band_hz (spec, low - 1) < 1000.0);
  fail_unless (mel_band_hz (spec, low) >= 1000.0);
  Mel mapped = source;
  apply_mel_mapping (map, spec, mapped);
  MelStatistics m = mel_statistics (mapped, spec, 0.0);
  /* Above them: much nearer the target's covariance (only the 10 %
   * shrinkage and sampling are in the way), and its mean up to an overall
   * level. */
  auto upper_block = [&] (const std::vector<float> &c) {
    std::vector<float> out;
    for (size_t i = low; i < n; i++)
      for (size_t j = low; j < n; j++)
        out.push_back (c[i * n + j]);
    return out;
  };
  const double before = covariance_distance (
      upper_block (s.covariance), upper_block (t.covariance));
  const double after = covariance_distance (
      upper_block (m.covariance), upper_block (t.covariance));
  fail_unless (after < 0.2 * before, "%f -> %f", before, after);
  double level = 0.0;
  for (size_t i = low; i < n; i++)
    level += (t.mean[i] - m.mean[i]) / (n - low);
  for (size_t i = low; i < n; i++)
    fail_unless (
        std::fabs (t.mean[i] - m.mean[i] - level) < 0.02, "band %zu", i);
  /* Below: the change from band to band is smooth (no harmonic-sized
   * ripple), yet it moved the frames. */
  double ripple = 0.0, moved = 0.0;
  for (size_t f = 0; f < source.frames; f++)
    for (size_t b = 1; b + 1 < low; b++) {
      auto change = [&] (size_t band) {
        return mapped.data[band * source.frames + f] -
            source.data[band * source.frames + f];
      };
      ripple += std::fabs (change (b - 1) - 2.0 * change (b) + change (b + 1));
      moved += std::fabs (change (b));
    }
  fail_unless (moved > 0.0 && ripple < 0.1 * moved, "%f %f", ripple, moved);

  /* Onto itself: the identity. */
  MelMapping same = plan_mel_mapping (s, s);
  Mel kept = source;
  apply_mel_mapping (same, spec, kept);
  for (size_t i = 0; i < kept.data.size (); i++)
    fail_unless (std::fabs (kept.data[i] - source.data[i]) < 2e-3);

  /* A band-limited target: bands above its limit are not touched. */
  MelStatistics narrow = t;
  narrow.bandwidth_hz = 3680.0;
  MelMapping telephone = plan_mel_mapping (s, narrow);
  fail_unless (!telephone.empty ());
  const int last = telephone.bands.back ();
  fail_unless (mel_band_hz (spec, last) <= 3680.0);
  fail_unless (mel_band_hz (spec, last + 1) > 3680.0);
  Mel part = source;
  apply_mel_mapping (telephone, spec, part);
  for (size_t b = (size_t) last + 1; b < n; b++)
    for (size_t f = 0; f < part.frames; f++)
      fail_unless_equals_float (
          part.data[b * part.frames + f], source.data[b * source.frames + f]);

  /* Bands far below the target's loudest (a telephone band edge) too. */
  MelStatistics dark = t;
  for (size_t b = 60; b < n; b++)
    dark.mean[b] -= 6.0f;
  MelMapping lit = plan_mel_mapping (s, dark);
  fail_unless (lit.bands.back () < 60);

  /* Nothing to map: empty statistics, another front-end. */
  fail_unless (plan_mel_mapping (MelStatistics (), t).empty ());
  MelStatistics other = t;
  other.mel.hop = 200;
  fail_unless (plan_mel_mapping (s, other).empty ());
  Mel untouched = source;
  apply_mel_mapping (MelMapping (), spec, untouched);
  fail_unless (untouched.data == source.data);

  /* Output stays at or above the front-end's floor. */
  Mel silent = source;
  std::fill (silent.data.begin (), silent.data.end (), -30.0f);
  apply_mel_mapping (map, spec, silent);
  for (float v : silent.data)
    fail_unless (v >= std::log (1e-5f) - 1e-4);
}
GST_END_TEST;

GST_START_TEST (test_profile_statistics)
{
  const MelSpec spec = default_mel_spec ();
  std::vector<float> mean (80, -2.0f);
  Mel mel = gaussian_mel (mean, random_factor (80, 4, 0.3), 500, 8);
  VoiceProfile p;
  p.name = "mara";
  p.embedding = { 0.5f, -0.5f, 0.25f, 1.0f };
  p.mel_statistics = mel_statistics (mel, spec, 3680.0);
  std::string path = write_temp ("stats.json", "");
  p.save (path);
  VoiceProfile q = VoiceProfile::load (path, 4);
  const MelStatistics &a = p.mel_statistics, &b = q.mel_statistics;
  fail_unless (same_front_end (a.mel, b.mel));
  fail_unless_equals_int ((int) b.frames, 500);
  fail_unless_equals_float (b.bandwidth_hz, 3680.0);
  fail_unless_equals_int ((int) b.covariance.size (), 80 * 80);
  for (size_t i = 0; i < a.mean.size (); i++)
    fail_unless (std::fabs (a.mean[i] - b.mean[i]) < 1e-6);
  for (size_t i = 0; i < a.covariance.size (); i++)
    fail_unless (std::fabs (a.covariance[i] - b.covariance[i]) <= 0.5e-4 + 1e-7,
        "%zu: %f %f", i, a.covariance[i], b.covariance[i]);
  /* A profile without them stays without. */
  p.mel_statistics = MelStatistics ();
  fail_unless (
      VoiceProfile::parse (p.to_json (), "x", 4).mel_statistics.empty ());

  /* Broken statistics are named. */
  std::string head = "{\"format\": \"ganvoice-voice-profile\", \"version\": 1, "
                     "\"name\": \"x\", \"embedding\": [1, 2, 3, 4], "
                     "\"mel_statistics\": ";
  std::string fields = "\"sample_rate\": 22050, \"n_fft\": 1024, \"hop\": 256, "
                       "\"win\": 1024, \"fmin\": 0, \"fmax\": 8000, "
                       "\"scale\": \"slaney\", \"norm\": \"slaney\", "
                       "\"clamp\": 1e-5, \"bandwidth_hz\": 8000, \"frames\": "
                       "200, \"covariance_scale\": 0.0001, ";
  struct {
    const char *stats;
    const char *needle;
  } cases[] = {
    { "[1]", "\"mel_statistics\" must be an object" },
    { "{\"n_mels\": 2, \"mean\": [1, 2], \"covariance\": [1, 0]}",
        "\"covariance\" has 2 numbers" },
    { "{\"n_mels\": 2, \"mean\": [1], \"covariance\": [1, 0, 1]}",
        "\"mean\" has 1 numbers" },
    { "{\"n_mels\": 2, \"mean\": [1, 2], \"covariance\": [-1, 0, 1]}",
        "negative variance" },
  };
  for (const auto &c : cases) {
    std::string stats = c.stats;
    if (stats[0] == '{')
      stats = "{" + fields + stats.substr (1);
    std::string json = head + stats + "}";
    try {
      VoiceProfile::parse (json, "bad.json", 4);
      fail ("parsed %s", json.c_str ());
    } catch (const VoiceProfileError &e) {
      fail_unless (std::string (e.what ()).find (c.needle) != std::string::npos,
          "'%s' not in '%s'", c.needle, e.what ());
      fail_unless (std::string (e.what ()).find ("bad.json") == 0);
    }
  }
}
GST_END_TEST;

GST_START_TEST (test_synthesizer_maps_statistics)
{
  auto synth = Synthesizer::load (tiny_synthesizer_options ());
  const ModelCard card = ModelCard::load (model_file ("tiny-acoustic.json"));
  const VoiceProfile &builtin = synth->voices ()[1];
  const VoiceTraits &ben = synth->measure_voice ("ben");

  VoiceProfile clone = builtin;
  clone.name = "clone";
  clone.base_voice = "ben";
  clone.traits = ben;
  /* The reference: ben's own speech, 6 dB brighter above band 3. */
  SpeakRequest r;
  r.text = "We were away a year ago, when the weather was warm and the days "
           "were long, and the quick brown fox jumped over the lazy dog.";
  r.voice = builtin;
  SpeakResult ref = synth->speak (r);
  Mel mel = analyze_mel (
      ref.samples.data (), ref.samples.size (), ref.sample_rate, card.mel);
  for (size_t m = 4; m < mel.n_mels; m++)
    for (size_t t = 0; t < mel.frames; t++)
      mel.data[m * mel.frames + t] += 0.69f;
  clone.mel_statistics = mel_statistics (mel, card.mel, 0.0);
  fail_if (clone.mel_statistics.empty ());

  Utterance u = synth->prepare_voice ("Hello there.", "en", clone);
  fail_unless (u.conversion != nullptr);
  fail_if (u.conversion->mapping.empty ());
  fail_unless (u.warnings.empty ());
  /* Measured once per voice and conversion. */
  const MelStatistics &a =
      synth->measure_mel_statistics ("key", clone.embedding, *u.conversion);
  fail_unless (&synth->measure_mel_statistics (
                   "key", clone.embedding, *u.conversion) == &a);
  /* The brighter bands are lifted relative to the low ones. */
  const MelMapping &map = u.conversion->mapping;
  double low = 0.0, high = 0.0;
  int nl = 0, nh = 0;
  for (size_t i = 0; i < map.bands.size (); i++) {
    double shift = map.target_mean[i] - map.source_mean[i];
    if (map.bands[i] < 4) {
      low += shift;
      nl++;
    } else {
      high += shift;
      nh++;
    }
  }
  fail_unless (nl > 0 && nh > 0);
  fail_unless (high / nh - low / nl > 0.4, "%f %f", high / nh, low / nl);
  SpeakResult s = synth->render (u, synth->plan (u, FitRequest ()), 0.0);
  fail_unless (!s.samples.empty ());
  for (float v : s.samples)
    fail_unless (std::isfinite (v));

  /* Statistics of another front-end: spoken without them, and said. */
  clone.mel_statistics.mel.hop += 1;
  Utterance w = synth->prepare_voice ("Hello there.", "en", clone);
  fail_unless (!w.conversion || w.conversion->mapping.empty ());
  fail_if (w.warnings.empty ());
}
GST_END_TEST;

static Suite *
mel_statistics_suite (void)
{
  Suite *s = suite_create ("mel-statistics");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_front_end);
  tcase_add_test (tc, test_statistics);
  tcase_add_test (tc, test_mapping);
  tcase_add_test (tc, test_profile_statistics);
  tcase_add_test (tc, test_synthesizer_maps_statistics);
  return s;
}

GST_CHECK_MAIN (mel_statistics);

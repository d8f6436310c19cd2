/* Unit tests of the duckmix DSP (gate, ducking, loudness, limiter), without
 * pads.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/ducking.h>

#include <gst/check/gstcheck.h>

#include <cmath>
#include <random>
#include <vector>

using namespace ganvoice;

static const int RATE = 48000;

static std::vector<float>
sine (
    size_t frames, int channels, double freq, double amplitude, int rate = RATE)
{
  std::vector<float> out (frames * channels);
  for (size_t i = 0; i < frames; i++)
    for (int c = 0; c < channels; c++)
      out[i * channels + c] =
          (float) (amplitude * std::sin (2.0 * M_PI * freq * i / rate));
  return out;
}

/* 1 s silence, @burst_s of a 200 Hz voice, then 2 s silence. */
static std::vector<float>
burst_voice (size_t onset, size_t length, size_t total)
{
  std::vector<float> v (total, 0.0f);
  for (size_t i = onset; i < onset + length && i < total; i++)
    v[i] = (float) (0.3 * std::sin (2.0 * M_PI * 200.0 * i / RATE));
  return v;
}

static double
rms (const std::vector<double> &x, size_t from, size_t to)
{
  double sum = 0.0;
  for (size_t i = from; i < to; i++)
    sum += x[i] * x[i];
  return std::sqrt (sum / (to - from));
}

struct DuckRun {
  std::vector<float> out;
  std::vector<float> gain; /* gain applied at each output frame */
  size_t latency;
};

/* Runs a Ducker frame by frame over stereo @programme and mono @voice. */
static DuckRun
run_ducker (const DuckerConfig &config, const std::vector<float> &programme,
    const std::vector<float> &voice)
{
  Ducker d;
  d.configure (config);
  size_t frames = voice.size ();
  DuckRun run;
  run.out.resize (frames * config.channels);
  run.gain.resize (frames);
  run.latency = d.latency_frames ();
  for (size_t i = 0; i < frames; i++) {
    d.process (&programme[i * config.channels], &voice[i],
        &run.out[i * config.channels], 1);
    run.gain[i] = d.gain ();
  }
  return run;
}

GST_START_TEST (test_duck_depth_and_timing)
{
  const size_t onset = RATE, length = RATE, total = 4 * RATE;
  DuckerConfig config;
  config.rate = RATE;
  config.channels = 2;
  auto programme = sine (total, 2, 440.0, 0.5);
  auto voice = burst_voice (onset, length, total);
  DuckRun run = run_ducker (config, programme, voice);
  const size_t L = run.latency;

  fail_unless_equals_int (L, RATE / 10); /* 100 ms */

  /* The programme part of the output is out - delayed voice; frame i of the
   * output holds content frame i - L. */
  std::vector<double> prog (total);
  for (size_t i = L; i < total; i++)
    prog[i - L] = run.out[i * 2] - voice[i - L];
  double before = rms (prog, RATE / 2, onset - RATE / 5);
  double during = rms (prog, onset + RATE / 10, onset + length - RATE / 10);
  double depth = 20.0 * std::log10 (during / before);
  GST_INFO ("duck depth %.3f dB", depth);
  fail_unless (
      std::fabs (depth - config.duck_level_db) < 0.5, "depth %.3f", depth);

  /* The duck starts lookahead before the onset and is complete
   * lookahead - attack before it. Content time of gain[i] is i - L. */
  size_t first_down = 0, full = 0;
  float duck_gain = (float) db_to_gain (config.duck_level_db);
  for (size_t i = L; i < total; i++) {
    if (!first_down && run.gain[i] < 1.0f)
      first_down = i - L;
    if (!full && run.gain[i] <= duck_gain + 1e-6f) {
      full = i - L;
      break;
    }
  }
  double start_ms = (double) ((long) onset - (long) first_down) * 1000 / RATE;
  double full_ms = (double) ((long) onset - (long) full) * 1000 / RATE;
  GST_INFO ("duck starts %.2f ms and is complete %.2f ms before the onset",
      start_ms, full_ms);
  fail_unless (start_ms >= config.lookahead_ms - 2.0, "%.2f", start_ms);
  fail_unless (
      full_ms >= config.lookahead_ms - config.attack_ms - 2.0, "%.2f", full_ms);

  /* Released again within gate release + release (+ margin) after the end. */
  size_t end = onset + length;
  size_t back = end + (size_t) (RATE * 0.9);
  fail_unless (run.gain[back + L] == 1.0f, "gain %f", run.gain[back + L]);
  fail_unless (run.gain[end + L] < 1.0f);
}
GST_END_TEST;

GST_START_TEST (test_replace_and_add)
{
  const size_t onset = RATE / 2, length = RATE / 2, total = 2 * RATE;
  auto programme = sine (total, 2, 440.0, 0.5);
  auto voice = burst_voice (onset, length, total);

  DuckerConfig config;
  config.rate = RATE;
  config.mode = DuckMode::Replace;
  DuckRun run = run_ducker (config, programme, voice);
  size_t L = run.latency;
  for (size_t c = onset; c < onset + length - RATE / 10; c++) {
    float p = run.out[(c + L) * 2] - voice[c];
    fail_unless (std::fabs (p) < 1e-6f, "frame %zu: %f", c, p);
  }

  /* add: an exact sum (with no look-ahead, sample for sample). */
  config.mode = DuckMode::Add;
  config.lookahead_ms = 0.0;
  run = run_ducker (config, programme, voice);
  for (size_t i = 0; i < total; i++)
    for (int c = 0; c < 2; c++)
      fail_unless (run.out[i * 2 + c] == programme[i * 2 + c] + voice[i],
          "frame %zu", i);

  /* A silent (or absent) voice never ducks. */
  config.mode = DuckMode::Duck;
  Ducker d;
  d.configure (config);
  std::vector<float> out (total * 2);
  d.process (programme.data (), nullptr, out.data (), total);
  fail_unless (d.gain () == 1.0f);
  fail_unless (out == programme);
}
GST_END_TEST;

GST_START_TEST (test_dialogue_suppression)
{
  const size_t onset = RATE / 2, length = RATE, total = 2 * RATE;
  /* Centre: 300 Hz in both channels; side: 1 kHz in antiphase. */
  std::vector<float> programme (total * 2);
  for (size_t i = 0; i < total; i++) {
    float m = (float) (0.4 * std::sin (2.0 * M_PI * 300.0 * i / RATE));
    float s = (float) (0.2 * std::sin (2.0 * M_PI * 1000.0 * i / RATE));
    programme[i * 2] = m + s;
    programme[i * 2 + 1] = m - s;
  }
  auto voice = burst_voice (onset, length, total);
  DuckerConfig config;
  config.rate = RATE;
  config.duck_level_db = -12.0;
  config.dialogue_suppression = true;
  DuckRun run = run_ducker (config, programme, voice);
  size_t L = run.latency;
  float g = (float) db_to_gain (-12.0);
  for (size_t c = onset; c < onset + length - RATE / 10; c++) {
    float l = run.out[(c + L) * 2] - voice[c];
    float r = run.out[(c + L) * 2 + 1] - voice[c];
    float mid = 0.5f * (programme[c * 2] + programme[c * 2 + 1]);
    float side = 0.5f * (programme[c * 2] - programme[c * 2 + 1]);
    fail_unless (std::fabs (0.5f * (l + r) - g * mid) < 1e-5f);
    fail_unless (std::fabs (0.5f * (l - r) - side) < 1e-5f);
  }
}
GST_END_TEST;

static double
integrated_of_sine (int rate, int channels, double amplitude, double seconds)
{
  LoudnessMeter meter;
  meter.configure (rate, channels);
  auto x = sine ((size_t) (rate * seconds), channels, 1000.0, amplitude, rate);
  meter.process (x.data (), x.size () / channels);
  return meter.integrated ();
}

GST_START_TEST (test_loudness_meter)
{
  /* BS.1770: a 1 kHz sine at 0 dBFS peak in one channel reads -3.01 LKFS, so
   * at -20 dBFS peak: -23.01 LUFS in mono, and +3.01 LU when both channels
   * of a stereo signal carry it: -20.00 LUFS. */
  double mono = integrated_of_sine (48000, 1, 0.1, 10.0);
  double stereo = integrated_of_sine (48000, 2, 0.1, 10.0);
  double mono44 = integrated_of_sine (44100, 1, 0.1, 10.0);
  GST_INFO ("1 kHz -20 dBFS: mono %.3f, stereo %.3f, mono 44.1k %.3f LUFS",
      mono, stereo, mono44);
  fail_unless (std::fabs (mono - -23.01) < 0.05, "%.3f", mono);
  fail_unless (std::fabs (stereo - -20.00) < 0.05, "%.3f", stereo);
  fail_unless (std::fabs (mono44 - -23.01) < 0.05, "%.3f", mono44);

  /* Silence is below the absolute gate; quiet parts are relatively gated. */
  LoudnessMeter meter;
  meter.configure (RATE, 1);
  std::vector<float> silence (RATE * 5, 0.0f);
  meter.process (silence.data (), silence.size ());
  fail_if (std::isfinite (meter.integrated ()));
  auto loud = sine (RATE * 5, 1, 1000.0, 0.1);
  auto quiet = sine (RATE * 5, 1, 1000.0, 0.001);
  meter.process (loud.data (), loud.size ());
  meter.process (quiet.data (), quiet.size ());
  fail_unless (std::fabs (meter.integrated () - -23.01) < 0.3, "%.3f",
      meter.integrated ());
  fail_unless (std::fabs (meter.short_term () - -63.01) < 0.1);
  fail_unless (std::fabs (meter.momentary () - -63.01) < 0.1);
}
GST_END_TEST;

GST_START_TEST (test_normaliser)
{
  LoudnessNormaliser norm;
  norm.configure (RATE, 2, -16.0);
  /* A sine at -30 LUFS (stereo) wants +14 dB. */
  double amp = 0.1 * db_to_gain (-10.0);
  auto x = sine (RATE * 30, 2, 1000.0, amp);
  norm.process (x.data (), x.size () / 2);
  GST_INFO ("normaliser gain after 30 s: %.3f dB", norm.gain_db ());
  fail_unless (
      std::fabs (norm.gain_db () - 14.0) < 0.2, "%.3f", norm.gain_db ());
  LoudnessMeter meter;
  meter.configure (RATE, 2);
  meter.process (x.data () + RATE * 20 * 2, RATE * 10);
  fail_unless (std::fabs (meter.integrated () - -16.0) < 0.3);

  /* Very quiet input: the gain is clamped to +20 dB. */
  norm.configure (RATE, 1, -16.0);
  auto q = sine (RATE * 30, 1, 1000.0, 0.001);
  norm.process (q.data (), q.size ());
  fail_unless (norm.gain_db () <= 20.0 + 1e-9 && norm.gain_db () > 19.5);
}
GST_END_TEST;

GST_START_TEST (test_limiter_ceiling)
{
  std::mt19937 rng (42);
  std::uniform_real_distribution<float> dist (-4.0f, 4.0f);
  for (double ceiling_db : { -1.0, -3.0, 0.0 }) {
    PeakLimiter lim;
    lim.configure (RATE, 2, ceiling_db);
    std::vector<float> x (RATE * 2 * 2);
    for (auto &s : x)
      s = dist (rng);
    x[100] = INFINITY;
    x[101] = NAN;
    lim.process (x.data (), x.size () / 2);
    float ceiling = (float) db_to_gain (ceiling_db);
    float peak = 0.0f;
    for (float s : x) {
      fail_unless (std::isfinite (s));
      peak = std::max (peak, std::fabs (s));
    }
    GST_INFO (
        "ceiling %.1f dBFS: peak %.6f dBFS", ceiling_db, gain_to_db (peak));
    fail_unless (peak <= ceiling, "%.9f > %.9f", peak, ceiling);
  }

  /* Quiet signals pass untouched. */
  PeakLimiter lim;
  lim.configure (RATE, 1, -1.0);
  auto s = sine (RATE, 1, 440.0, 0.5);
  auto copy = s;
  lim.process (s.data (), s.size ());
  fail_unless (s == copy);
}
GST_END_TEST;

GST_START_TEST (test_chain_never_clips)
{
  DuckMixConfig config;
  config.ducker.rate = RATE;
  config.ducker.channels = 2;
  config.ducker.mode = DuckMode::Add;
  DuckMix mix;
  mix.configure (config);
  auto programme = sine (RATE * 5, 2, 100.0, 1.0);
  auto voice = burst_voice (RATE, RATE * 3, RATE * 5);
  std::vector<float> out (programme.size ());
  mix.process (programme.data (), voice.data (), out.data (), RATE * 5);
  float limit = (float) db_to_gain (-1.0);
  for (float s : out)
    fail_unless (std::fabs (s) <= limit);
}
GST_END_TEST;

GST_START_TEST (test_reconfigure_keeps_stream)
{
  /* A new duck level while playing keeps the delay line: no gap, no click. */
  DuckerConfig config;
  config.rate = RATE;
  config.channels = 1;
  Ducker d;
  d.configure (config);
  auto programme = sine (RATE, 1, 440.0, 0.5);
  std::vector<float> out (RATE);
  size_t L = d.latency_frames ();
  d.process (programme.data (), nullptr, out.data (), RATE / 2);
  config.duck_level_db = -20.0;
  config.voice_threshold_db = -30.0;
  d.configure (config);
  d.process (
      programme.data () + RATE / 2, nullptr, out.data () + RATE / 2, RATE / 2);
  for (size_t i = L; i < (size_t) RATE; i++)
    fail_unless (out[i] == programme[i - L], "frame %zu", i);
  /* A new look-ahead starts afresh. */
  config.lookahead_ms = 10.0;
  d.configure (config);
  fail_unless_equals_int (d.latency_frames (), RATE / 100);
  d.process (programme.data (), nullptr, out.data (), 1);
  fail_unless (out[0] == 0.0f);
}
GST_END_TEST;

static Suite *
ducking_suite (void)
{
  Suite *s = suite_create ("ducking");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_duck_depth_and_timing);
  tcase_add_test (tc, test_replace_and_add);
  tcase_add_test (tc, test_dialogue_suppression);
  tcase_add_test (tc, test_loudness_meter);
  tcase_add_test (tc, test_normaliser);
  tcase_add_test (tc, test_limiter_ceiling);
  tcase_add_test (tc, test_chain_never_clips);
  tcase_add_test (tc, test_reconfigure_keeps_stream);
  return s;
}

GST_CHECK_MAIN (ducking);

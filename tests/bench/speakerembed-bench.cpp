/* speakerembed-bench: how long a voice profile from 30 s of speech takes
 * (ganvoice::TraitAnalyzer, the shipped speaker encoder and the log-mel
 * statistics, what speakerembed runs), on one core.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   speakerembed-bench [--seconds S] [--rate R] [--channels C] [--runs N]
 *
 * Synthesizes S seconds (default 30) of a harmonic "voice" with syllables
 * and 10 % pauses at R Hz (default 48000) with C channels (default 1),
 * feeds it in 20 ms chunks as an element would, and reports the median
 * wall time of the trait analysis (add() over all chunks plus finish()),
 * of the speaker encoder on the speech and of the mel statistics
 * (analyze_mel() and mel_statistics() in the shipped front-end), the best
 * and median of all three together, and the real-time factor. Run it pinned to one core:
 *   taskset -c 0 build/tests/bench/speakerembed-bench
 * The target is under 1 s for 30 s of audio. Not a timed test: it exits
 * non-zero only when the profile is unusable. */
#include <ganvoice/speaker-traits.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ganvoice/mel-statistics.h>
#include <ganvoice/model-paths.h>
#include <ganvoice/speaker-encoder.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <cstdlib>
#include <cstring>
#include <vector>

int
main (int argc, char **argv)
{
  double seconds = 30.0;
  int rate = 48000, channels = 1, runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp (argv[i], "--seconds"))
      seconds = atof (argv[i + 1]);
    else if (!strcmp (argv[i], "--rate"))
      rate = atoi (argv[i + 1]);
    else if (!strcmp (argv[i], "--channels"))
      channels = atoi (argv[i + 1]);
    else if (!strcmp (argv[i], "--runs"))
      runs = atoi (argv[i + 1]);
  }
  if (seconds <= 0.0 || rate < 8000 || channels < 1 || runs < 1) {
    fprintf (stderr, "speakerembed-bench: bad arguments\n");
    return 2;
  }

  const double pi = 3.14159265358979323846;
  const size_t n = (size_t) (seconds * rate);
  std::vector<float> audio (n * channels);
  double phase = 0.0;
  for (size_t i = 0; i < n; i++) {
    double t = (double) i / rate;
    double f = 140.0 *
        (1.0 + 0.06 * std::sin (2 * pi * 0.3 * t) +
            0.02 * std::sin (2 * pi * 1.7 * t));
    phase += 2 * pi * f / rate;
    double s = 0.0;
    for (int k = 1; k * f < 5000.0; k++)
      s += std::sin (k * phase) / k;
    /* Syllables at 4.5/s; a 0.5 s pause every 5 s. */
    double env = std::pow (std::fabs (std::sin (pi * 4.5 * t)), 1.5);
    if (std::fmod (t, 5.0) > 4.5)
      env = 0.0;
    for (int c = 0; c < channels; c++)
      audio[i * channels + c] = (float) (0.15 * s * env);
  }

  /* The shipped speaker encoder, on one thread as speakerembed runs it. */
  std::unique_ptr<ganvoice::SpeakerEncoder> encoder;
  try {
    std::string model = ganvoice::require_model_file ("", "speaker/speaker.ts");
    encoder = ganvoice::SpeakerEncoder::load (
        model, ganvoice::card_beside (model), 1);
  } catch (const std::exception &e) {
    fprintf (stderr, "speakerembed-bench: no speaker encoder: %s\n", e.what ());
    return 1;
  }

  const size_t chunk = (size_t) rate / 50;
  std::vector<double> times, analysis, embedding, statistics;
  ganvoice::TraitReport report;
  const ganvoice::MelSpec spec = ganvoice::default_mel_spec ();
  size_t stat_frames = 0;
  for (int r = 0; r < runs; r++) {
    auto t0 = std::chrono::steady_clock::now ();
    ganvoice::TraitAnalyzer analyzer (rate, channels);
    for (size_t i = 0; i < n; i += chunk)
      analyzer.add (audio.data () + i * channels, std::min (chunk, n - i));
    report = analyzer.finish ();
    auto t1 = std::chrono::steady_clock::now ();
    std::vector<float> e = encoder->embed (report.speech_audio);
    auto t2 = std::chrono::steady_clock::now ();
    ganvoice::Mel mel = ganvoice::analyze_mel (report.speech_audio.data (),
        report.speech_audio.size (), ganvoice::TraitAnalyzer::kRate, spec);
    stat_frames = ganvoice::mel_statistics (mel, spec, 0.0).frames;
    auto t3 = std::chrono::steady_clock::now ();
    analysis.push_back (std::chrono::duration<double> (t1 - t0).count ());
    embedding.push_back (std::chrono::duration<double> (t2 - t1).count ());
    statistics.push_back (std::chrono::duration<double> (t3 - t2).count ());
    times.push_back (std::chrono::duration<double> (t3 - t0).count ());
  }
  for (auto *v : { &times, &analysis, &embedding, &statistics })
    std::sort (v->begin (), v->end ());
  const double best = times.front (), median = times[times.size () / 2];
  printf ("| audio | rate, channels | traits (median) | encoder (median) | "
          "mel statistics (median) | total best | total median | real-time "
          "factor |\n");
  printf ("|---|---|---|---|---|---|---|---|\n");
  printf ("| %.0f s (%.1f s speech) | %d Hz, %d | %.3f s | %.3f s | %.3f s | "
          "%.3f s | %.3f s | %.4f |\n",
      seconds, report.speech_seconds, rate, channels,
      analysis[analysis.size () / 2], embedding[embedding.size () / 2],
      statistics[statistics.size () / 2], best, median, median / seconds);
  printf ("F0 %.1f Hz (%.1f .. %.1f), formant scale %.3f, %.2f syllables/s\n",
      report.traits.f0_median_hz, report.traits.f0_low_hz,
      report.traits.f0_high_hz, report.traits.formant_scale,
      report.traits.syllable_rate);
  printf ("mel statistics from %zu speech frames\n", stat_frames);
  if (!report.usable ()) {
    fprintf (stderr, "unusable: %s\n", report.message.c_str ());
    return 1;
  }
  return 0;
}

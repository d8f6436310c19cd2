/* Vocoder speed: real-time factor of the C++ runtime, one-shot and chunked,
 * first-chunk latency, and peak memory.
 *
 *   vocoder-bench [MODEL.ts CARD.json] [--seconds 10] [--threads 2] [--repeats 5]
 *
 * Prints one JSON line (the same keys as tests/bench/vocoder_python.py) so
 * that tests/bench/vocoder-compare.sh can set the two side by side.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/vocoder.h>

#include <glib.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

static long
peak_rss_kib ()
{
  std::ifstream status ("/proc/self/status");
  std::string line;
  while (std::getline (status, line))
    if (line.rfind ("VmHWM:", 0) == 0)
      return std::strtol (line.c_str () + 6, nullptr, 10);
  return -1;
}

static double
median (std::vector<double> v)
{
  std::sort (v.begin (), v.end ());
  return v[v.size () / 2];
}

/* CPU seconds of the whole process (all threads): user + system. */
static double
process_cpu_seconds ()
{
  struct timespec ts;
  if (clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
    return 0.0;
  return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

int
main (int argc, char **argv)
{
  std::string root =
      g_getenv ("GANVOICE_SOURCE_DIR") ? g_getenv ("GANVOICE_SOURCE_DIR") : ".";
  std::string model = root + "/models/vocoder/vocoder.ts";
  std::string card = root + "/models/vocoder/vocoder.json";
  double seconds = 10.0;
  int threads = 2, repeats = 5, post_filter = -1;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if (arg == "--seconds" && i + 1 < argc)
      seconds = std::atof (argv[++i]);
    else if (arg == "--threads" && i + 1 < argc)
      threads = std::atoi (argv[++i]);
    else if (arg == "--repeats" && i + 1 < argc)
      repeats = std::max (1, std::atoi (argv[++i]));
    else if (arg == "--post-filter" && i + 1 < argc)
      post_filter = std::atoi (argv[++i]);
    else
      positional.push_back (arg);
  }
  if (positional.size () == 2) {
    model = positional[0];
    card = positional[1];
  } else if (!positional.empty ()) {
    std::fprintf (stderr,
        "usage: vocoder-bench [MODEL.ts CARD.json] "
        "[--seconds S] [--threads N] [--repeats N] [--post-filter "
        "ITERATIONS]\n");
    return 2;
  }

  long rss_before = peak_rss_kib ();
  ganvoice::VocoderOptions options;
  options.threads = threads;
  options.post_filter_iterations = post_filter;
  std::unique_ptr<ganvoice::Vocoder> vocoder;
  try {
    vocoder = ganvoice::Vocoder::load (model, card, options);
  } catch (const ganvoice::ModelError &e) {
    std::fprintf (stderr, "vocoder-bench: %s\n", e.what ());
    return 1;
  }
  const ganvoice::MelSpec &spec = vocoder->card ().mel;
  size_t frames = (size_t) std::ceil (seconds * spec.sample_rate / spec.hop);
  double audio_seconds = (double) frames * spec.hop / spec.sample_rate;

  /* Speech-like log-mel: a slowly moving spectral tilt with formant bumps.
   * The cost of a convolutional vocoder does not depend on the values. */
  std::vector<float> mel ((size_t) spec.n_mels * frames);
  for (int m = 0; m < spec.n_mels; m++)
    for (size_t t = 0; t < frames; t++)
      mel[(size_t) m * frames + t] = (float) (-2.0 - 6.0 * m / spec.n_mels +
          1.5 * std::sin (0.05 * t + 0.3 * m) * std::sin (0.011 * t));

  vocoder->vocode (mel.data (), std::min<size_t> (frames, 200)); /* warm-up */
  std::vector<double> one_shot, chunked, first_chunk, one_shot_cpu, chunked_cpu;
  for (int r = 0; r < repeats; r++) {
    double c0 = process_cpu_seconds ();
    gint64 t0 = g_get_monotonic_time ();
    std::vector<float> audio = vocoder->vocode (mel.data (), frames);
    one_shot.push_back ((g_get_monotonic_time () - t0) / 1e6);
    one_shot_cpu.push_back (process_cpu_seconds () - c0);
    if (audio.size () != frames * spec.hop)
      return 1;

    gint64 first = -1;
    c0 = process_cpu_seconds ();
    t0 = g_get_monotonic_time ();
    vocoder->vocode_chunked (mel.data (), frames, [&] (const float *, size_t) {
      if (first < 0)
        first = g_get_monotonic_time ();
      return true;
    });
    chunked.push_back ((g_get_monotonic_time () - t0) / 1e6);
    chunked_cpu.push_back (process_cpu_seconds () - c0);
    first_chunk.push_back ((first - t0) / 1e3);
  }

  std::printf (
      "{\"runtime\": \"c++\", \"threads\": %d, \"audio_seconds\": %.3f, "
      "\"rtf\": %.5f, \"rtf_best\": %.5f, \"rtf_chunked\": %.5f, "
      "\"first_chunk_ms\": %.1f, \"cpu_rtf\": %.5f, "
      "\"cpu_rtf_chunked\": %.5f, \"post_filter\": %d, "
      "\"peak_rss_mib\": %.1f, \"model_rss_mib\": %.1f}\n",
      threads, audio_seconds, median (one_shot) / audio_seconds,
      *std::min_element (one_shot.begin (), one_shot.end ()) / audio_seconds,
      median (chunked) / audio_seconds, median (first_chunk),
      median (one_shot_cpu) / audio_seconds,
      median (chunked_cpu) / audio_seconds, post_filter,
      peak_rss_kib () / 1024.0, (peak_rss_kib () - rss_before) / 1024.0);
  return 0;
}

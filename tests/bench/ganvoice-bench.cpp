/* Whole text-to-speech speed: for cues of several lengths, the real-time
 * factor of ganvoice::Synthesizer (text -> phonemes -> acoustic model ->
 * vocoder) and the first-audio latency with the chunked vocoder (what the
 * ganvoice element waits before it can push a cue's first buffer).
 *
 *   ganvoice-bench [--models DIR] [--threads 2] [--repeats 3] [--device cpu]
 *                  [--voice PROFILE.json]
 *
 * With --voice the cues are spoken by that (cloned) voice, and the one-time
 * cost of preparing it (measuring its base voice's traits and, with
 * mel_statistics, its own log-mel statistics) is printed first.
 *
 * DIR holds acoustic/acoustic.{ts,json} and vocoder/vocoder.{ts,json}
 * (default: $GANVOICE_MODEL_DIR, else models/ in $GANVOICE_SOURCE_DIR or
 * the current directory). Without them it says so and exits 77 (skipped).
 * Prints one line per cue length and a JSON summary line.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/synthesizer.h>
#include <ganvoice/voice-profile.h>

#include <glib.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using Clock = std::chrono::steady_clock;

static double
seconds_since (Clock::time_point t0)
{
  return std::chrono::duration<double> (Clock::now () - t0).count ();
}

static double
median (std::vector<double> v)
{
  std::sort (v.begin (), v.end ());
  return v[v.size () / 2];
}

int
main (int argc, char **argv)
{
  std::string dir;
  if (g_getenv ("GANVOICE_MODEL_DIR"))
    dir = g_getenv ("GANVOICE_MODEL_DIR");
  else
    dir = std::string (g_getenv ("GANVOICE_SOURCE_DIR")
                  ? g_getenv ("GANVOICE_SOURCE_DIR")
                  : ".") +
        "/models";
  int threads = 2, repeats = 3;
  std::string device = "cpu", voice_path;
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if (arg == "--models" && i + 1 < argc)
      dir = argv[++i];
    else if (arg == "--threads" && i + 1 < argc)
      threads = std::atoi (argv[++i]);
    else if (arg == "--repeats" && i + 1 < argc)
      repeats = std::max (1, std::atoi (argv[++i]));
    else if (arg == "--device" && i + 1 < argc)
      device = argv[++i];
    else if (arg == "--voice" && i + 1 < argc)
      voice_path = argv[++i];
    else {
      std::fprintf (stderr,
          "usage: %s [--models DIR] [--threads N] "
          "[--repeats N] [--device cpu|cuda] [--voice PROFILE]\n",
          argv[0]);
      return 2;
    }
  }

  ganvoice::SynthesizerOptions o;
  o.acoustic_model = dir + "/acoustic/acoustic.ts";
  o.acoustic_card = dir + "/acoustic/acoustic.json";
  o.vocoder_model = dir + "/vocoder/vocoder.ts";
  o.vocoder_card = dir + "/vocoder/vocoder.json";
  o.threads = threads;
  o.device = device;
  for (const std::string *f : { &o.acoustic_model, &o.acoustic_card,
           &o.vocoder_model, &o.vocoder_card })
    if (!g_file_test (f->c_str (), G_FILE_TEST_IS_REGULAR)) {
      std::printf ("ganvoice-bench: skipped: %s is missing (give --models "
                   "DIR with the shipped models)\n",
          f->c_str ());
      return 77;
    }

  auto t_load = Clock::now ();
  std::unique_ptr<ganvoice::Synthesizer> synth;
  try {
    synth = ganvoice::Synthesizer::load (o);
  } catch (const std::exception &e) {
    std::fprintf (stderr, "ganvoice-bench: %s\n", e.what ());
    return 1;
  }
  const double load_s = seconds_since (t_load);
  const int rate = synth->sample_rate ();

  struct Case {
    const char *name;
    std::string text;
  };
  std::vector<Case> cases = {
    { "short", "Yes, of course." },
    { "medium",
        "I told you already, we have to leave before the sun comes "
        "up, or they will find us here." },
    { "long", "" },
  };
  for (int i = 0; i < 6; i++)
    cases[2].text += "The quick brown fox jumps over the lazy dog, and then "
                     "it runs back into the forest before anyone notices. ";

  std::printf ("models %s: %d Hz, %s, %d threads, load %.2f s\n", dir.c_str (),
      rate, synth->vocoder ().device ().c_str (), threads, load_s);
  std::printf ("%-7s %6s %9s %9s %9s %12s\n", "cue", "chars", "audio_s",
      "wall_s", "rtf", "first_ms");
  std::string json = "{\"load_s\": " + std::to_string (load_s);
  std::optional<ganvoice::VoiceProfile> voice;
  if (!voice_path.empty ()) {
    try {
      voice = ganvoice::VoiceProfile::load (
          voice_path, synth->acoustic ().card ().speaker_embedding_dim);
      auto t0 = Clock::now ();
      ganvoice::Utterance u = synth->prepare_voice ("Hello.", "en", *voice);
      const double first = seconds_since (t0);
      t0 = Clock::now ();
      synth->prepare_voice ("Hello.", "en", *voice);
      const double again = seconds_since (t0);
      std::printf ("voice %s: first prepare %.3f s (measuring), then %.4f s; "
                   "statistics map: %s\n",
          voice->name.c_str (), first, again,
          u.conversion && !u.conversion->mapping.empty () ? "yes" : "no");
      json += ", \"voice_prepare_first_s\": " + std::to_string (first);
    } catch (const std::exception &e) {
      std::fprintf (stderr, "ganvoice-bench: %s\n", e.what ());
      return 1;
    }
  }
  /* Warm-up: the first call specialises graphs. */
  synth->speak ({ cases[1].text });
  for (const Case &c : cases) {
    std::vector<double> walls, firsts;
    double audio_s = 0.0;
    for (int r = 0; r < repeats; r++) {
      ganvoice::SpeakRequest req;
      req.text = c.text;
      req.language = "en";
      req.voice = voice;
      bool first = true;
      double first_s = 0.0;
      size_t samples = 0;
      auto t0 = Clock::now ();
      synth->speak (req, [&] (const float *, size_t n) {
        if (first) {
          first_s = seconds_since (t0);
          first = false;
        }
        samples += n;
        return true;
      });
      walls.push_back (seconds_since (t0));
      firsts.push_back (first_s);
      audio_s = (double) samples / rate;
    }
    double wall = median (walls);
    double rtf = audio_s > 0 ? wall / audio_s : 0.0;
    std::printf ("%-7s %6zu %9.2f %9.3f %9.3f %12.1f\n", c.name, c.text.size (),
        audio_s, wall, rtf, median (firsts) * 1000.0);
    json += std::string (", \"") + c.name +
        "\": {\"audio_s\": " + std::to_string (audio_s) +
        ", \"rtf\": " + std::to_string (rtf) +
        ", \"first_audio_ms\": " + std::to_string (median (firsts) * 1000.0) +
        "}";
  }
  std::printf ("%s}\n", json.c_str ());
  return 0;
}

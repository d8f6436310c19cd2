/* Unit tests of voice cloning without pads: the trait analyzer on
 * synthetic signals (ganvoice::TraitAnalyzer), the conversion from a base
 * voice's traits (voice-conversion.h), and cloned voices in the
 * Synthesizer with the tiny models.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/speaker-traits.h>
#include <ganvoice/synthesizer.h>
#include <ganvoice/voice-conversion.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gst/check/gstcheck.h>

#include "model-files.h"

using namespace ganvoice;

static const double kPi = 3.14159265358979323846;

/* A harmonic "voice": F0 @f0 drifting by a few percent, harmonics falling
 * 6 dB an octave up to 4 kHz, and syllables: the level goes up and down
 * @syllables times a second, down to nothing between them. */
static std::vector<float>
voice (double seconds, double f0, double syllables, int rate = 16000,
    double level = 0.3, unsigned seed = 1)
{
  std::mt19937 rng (seed);
  std::normal_distribution<double> noise (0.0, 1e-4);
  size_t n = (size_t) (seconds * rate);
  std::vector<float> out (n);
  double phase = 0.0;
  for (size_t i = 0; i < n; i++) {
    double t = (double) i / rate;
    double f = f0 *
        (1.0 + 0.03 * std::sin (2 * kPi * 0.5 * t) +
            0.02 * std::sin (2 * kPi * 1.7 * t + 1.0));
    phase += 2 * kPi * f / rate;
    double s = 0.0;
    for (int k = 1; k * f < 4000.0; k++)
      s += std::sin (k * phase) / k;
    double env = std::pow (std::fabs (std::sin (kPi * syllables * t)), 1.5);
    out[i] = (float) (level * 0.5 * s * env + noise (rng));
  }
  return out;
}

/* A steady chord (A3, C#4, E4 with harmonics): music, no speech. */
static std::vector<float>
chord (double seconds, int rate = 16000)
{
  size_t n = (size_t) (seconds * rate);
  std::vector<float> out (n);
  const double notes[] = { 220.0, 277.18, 329.63 };
  for (size_t i = 0; i < n; i++) {
    double t = (double) i / rate, s = 0.0;
    for (double f : notes)
      for (int k = 1; k <= 4; k++)
        s += std::sin (2 * kPi * f * k * t) / (k * 3.0);
    out[i] = (float) (0.2 * s);
  }
  return out;
}

static TraitReport
analyze (const std::vector<float> &x, int rate = 16000, int channels = 1,
    size_t chunk = 1024)
{
  TraitAnalyzer a (rate, channels);
  size_t frames = x.size () / channels;
  for (size_t i = 0; i < frames; i += chunk)
    a.add (x.data () + i * channels, std::min (chunk, frames - i));
  return a.finish ();
}

static void
print (const char *what, const TraitReport &r)
{
  GST_INFO ("%s: speech %.2f s voiced %.2f s, F0 %.1f (%.1f .. %.1f), "
            "formants %.3f, %.2f syl/s, clip %.4f, mod %.3f, stable %.2f: %s",
      what, r.speech_seconds, r.voiced_seconds, r.traits.f0_median_hz,
      r.traits.f0_low_hz, r.traits.f0_high_hz, r.traits.formant_scale,
      r.traits.syllable_rate, r.clipping_ratio, r.modulation, r.stable_pitch,
      r.message.c_str ());
}

static bool
contains (const std::string &s, const char *needle)
{
  return s.find (needle) != std::string::npos;
}

/* ---- The analyzer ----------------------------------------------------- */

GST_START_TEST (test_voice_110)
{
  TraitReport r = analyze (voice (10.0, 110.0, 4.0));
  print ("110 Hz", r);
  fail_unless (r.usable (), "%s", r.message.c_str ());
  fail_unless (std::fabs (r.traits.f0_median_hz / 110.0 - 1.0) < 0.03, "F0 %f",
      r.traits.f0_median_hz);
  fail_unless (r.traits.f0_low_hz < r.traits.f0_median_hz);
  fail_unless (r.traits.f0_high_hz > r.traits.f0_median_hz);
  fail_unless (r.traits.f0_low_hz > 95.0 && r.traits.f0_high_hz < 125.0);
  fail_unless (std::fabs (r.traits.syllable_rate - 4.0) < 1.0, "rate %f",
      r.traits.syllable_rate);
  fail_unless (r.speech_seconds > 7.0 && r.speech_seconds <= 10.0);
  fail_unless_equals_int (
      (int) r.traits.spectral_envelope.size (), TraitAnalyzer::kBands);
  fail_unless (r.traits.formant_scale >= 0.5 && r.traits.formant_scale <= 2.0);
  /* The profile's phonemes per second follow the syllables. */
  fail_unless (
      std::fabs (r.traits.speaking_rate -
          r.traits.syllable_rate * TraitAnalyzer::kPhonemesPerSyllable) < 1e-6);
}
GST_END_TEST;

GST_START_TEST (test_voice_220_resampled_stereo)
{
  /* 44.1 kHz stereo, a different syllable rate. */
  std::vector<float> mono = voice (8.0, 220.0, 3.0, 44100);
  std::vector<float> stereo (mono.size () * 2);
  for (size_t i = 0; i < mono.size (); i++)
    stereo[2 * i] = stereo[2 * i + 1] = mono[i];
  TraitReport r = analyze (stereo, 44100, 2, 441);
  print ("220 Hz", r);
  fail_unless (r.usable (), "%s", r.message.c_str ());
  fail_unless (std::fabs (r.traits.f0_median_hz / 220.0 - 1.0) < 0.03, "F0 %f",
      r.traits.f0_median_hz);
  fail_unless (std::fabs (r.traits.syllable_rate - 3.0) < 0.8, "rate %f",
      r.traits.syllable_rate);
  fail_unless (std::fabs (r.input_seconds - 8.0) < 0.01);
}
GST_END_TEST;

GST_START_TEST (test_chunking_does_not_matter)
{
  std::vector<float> x = voice (4.0, 150.0, 4.0, 22050);
  TraitReport a = analyze (x, 22050, 1, 64);
  TraitReport b = analyze (x, 22050, 1, 100000);
  fail_unless (
      std::fabs (a.traits.f0_median_hz - b.traits.f0_median_hz) < 1e-3);
  fail_unless (std::fabs (a.speech_seconds - b.speech_seconds) < 1e-9);
}
GST_END_TEST;

GST_START_TEST (test_resampler)
{
  /* A 1 kHz tone at 48 kHz keeps its level at 16 kHz; 12 kHz is gone. */
  const int rate = 48000;
  std::vector<float> low (rate), high (rate);
  for (int i = 0; i < rate; i++) {
    low[i] = (float) std::sin (2 * kPi * 1000.0 * i / rate);
    high[i] = (float) std::sin (2 * kPi * 12000.0 * i / rate);
  }
  auto rms = [] (const std::vector<float> &v) {
    double s = 0.0;
    for (size_t i = 1000; i < v.size () - 1000; i++)
      s += v[i] * v[i];
    return std::sqrt (s / (v.size () - 2000));
  };
  std::vector<float> a = resample_to_16k (low.data (), low.size (), rate, 1);
  std::vector<float> b = resample_to_16k (high.data (), high.size (), rate, 1);
  fail_unless (std::abs ((long) a.size () - 16000) <= 20, "%zu", a.size ());
  fail_unless (std::fabs (rms (a) - std::sqrt (0.5)) < 0.02, "%f", rms (a));
  fail_unless (rms (b) < 0.01, "%f", rms (b));
}
GST_END_TEST;

GST_START_TEST (test_silence)
{
  TraitReport r = analyze (std::vector<float> (16000 * 5, 0.0f));
  print ("silence", r);
  fail_unless (r.problem == TraitProblem::Silence);
  fail_unless (contains (r.message, "silent"), "%s", r.message.c_str ());
  /* Nothing at all is silence too. */
  TraitAnalyzer empty (48000, 2);
  fail_unless (empty.finish ().problem == TraitProblem::Silence);
}
GST_END_TEST;

GST_START_TEST (test_noise)
{
  std::mt19937 rng (7);
  std::normal_distribution<double> g (0.0, 0.1);
  std::vector<float> x (16000 * 5);
  for (float &v : x)
    v = (float) g (rng);
  TraitReport r = analyze (x);
  print ("noise", r);
  fail_unless (r.problem == TraitProblem::NoSpeech, "%s", r.message.c_str ());
  fail_unless (contains (r.message, "No speech"), "%s", r.message.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_too_short)
{
  /* 1 s of speech in 4 s of near silence. */
  std::vector<float> x (16000 * 4, 0.0f);
  std::vector<float> v = voice (1.0, 120.0, 4.0);
  std::copy (v.begin (), v.end (), x.begin () + 16000);
  TraitReport r = analyze (x);
  print ("1 s", r);
  fail_unless (r.problem == TraitProblem::TooShort, "%s", r.message.c_str ());
  fail_unless (
      contains (r.message, "at least 1.5 s"), "%s", r.message.c_str ());
  fail_unless (r.speech_seconds < 1.5);
}
GST_END_TEST;

GST_START_TEST (test_clipping)
{
  std::vector<float> x = voice (6.0, 130.0, 4.0);
  for (float &v : x)
    v = std::max (-1.0f, std::min (1.0f, v * 20.0f));
  TraitReport r = analyze (x);
  print ("clipped", r);
  fail_unless (r.problem == TraitProblem::Clipping, "%s", r.message.c_str ());
  fail_unless (contains (r.message, "clipped"), "%s", r.message.c_str ());
  /* A voice that just reaches full scale is fine. */
  std::vector<float> y = voice (6.0, 130.0, 4.0);
  float peak = 0.0f;
  for (float v : y)
    peak = std::max (peak, std::fabs (v));
  for (float &v : y)
    v /= peak;
  fail_unless (analyze (y).usable ());
}
GST_END_TEST;

GST_START_TEST (test_music)
{
  TraitReport r = analyze (chord (6.0));
  print ("chord", r);
  fail_unless (r.problem == TraitProblem::MusicOnly, "%s", r.message.c_str ());
  fail_unless (contains (r.message, "music"), "%s", r.message.c_str ());

  /* A melody of steady notes, half a second each, with short gaps. */
  std::vector<float> m;
  const double notes[] = { 196.0, 220.0, 246.9, 261.6, 293.7, 261.6 };
  for (int rep = 0; rep < 2; rep++)
    for (double f : notes)
      for (int i = 0; i < 8000; i++) {
        double t = i / 16000.0;
        double env = i < 7200 ? std::min (1.0, i / 160.0) : 0.0;
        double s = 0.0;
        for (int k = 1; k <= 6; k++)
          s += std::sin (2 * kPi * f * k * t) / k;
        m.push_back ((float) (0.2 * env * s));
      }
  r = analyze (m);
  print ("melody", r);
  fail_unless (r.problem == TraitProblem::MusicOnly, "%s", r.message.c_str ());
}
GST_END_TEST;

/* 2.5 s of speech, 8 s of digital silence, 2.5 s of speech. */
static std::vector<float>
speech_pause_speech ()
{
  std::vector<float> x = voice (2.5, 140.0, 4.0);
  std::vector<float> second = voice (2.5, 140.0, 4.0, 16000, 0.3, 2);
  x.resize (x.size () + 8 * 16000, 0.0f);
  x.insert (x.end (), second.begin (), second.end ());
  return x;
}

/* Long pauses between the speech are not "music": the modulation measure
 * skips blocks that are mostly silence (before, most blocks here were
 * silence, modulation 0). */
GST_START_TEST (test_long_pauses)
{
  TraitReport r = analyze (speech_pause_speech ());
  print ("2.5 s, 8 s of silence, 2.5 s", r);
  fail_unless (r.usable (), "%s", r.message.c_str ());
  /* The pause is not speech time. */
  fail_unless (r.speech_seconds > 4.0 && r.speech_seconds <= 5.0, "%f",
      r.speech_seconds);
}
GST_END_TEST;

/* speech_audio: the speech frames' audio at 16 kHz, 10 ms a frame. Its
 * length lies between voiced_seconds (voiced speech frames) and
 * speech_seconds (which also counts pauses under 0.3 s), both exact
 * bounds; where the recording's floor is digital silence the dips between
 * syllables are speech too, and it is within 8 % of speech_seconds. Of
 * digital silence, only what the frames at its edges reach into (less
 * than a hop each). */
GST_START_TEST (test_speech_audio)
{
  std::vector<float> at44 = voice (5.0, 220.0, 3.0, 44100);
  /* Speech after more silence than the analyzer keeps audio for. */
  std::vector<float> late (
      (size_t) (TraitAnalyzer::kKeptSeconds + 5) * 16000, 0.0f);
  std::vector<float> tail = voice (5.0, 140.0, 4.0);
  late.insert (late.end (), tail.begin (), tail.end ());
  const struct {
    const char *what;
    std::vector<float> x;
    int rate;
    double min_share; /* of speech_seconds */
  } cases[] = {
    { "5 s", voice (5.0, 140.0, 4.0), 16000, 0.5 },
    { "5 s at 44.1 kHz", at44, 44100, 0.5 },
    { "2.5 s, 8 s of silence, 2.5 s", speech_pause_speech (), 16000, 0.92 },
    { "125 s of silence, 5 s", late, 16000, 0.5 },
  };
  for (const auto &c : cases) {
    TraitReport r = analyze (c.x, c.rate);
    fail_unless (r.usable (), "%s: %s", c.what, r.message.c_str ());
    const double audio_s = (double) r.speech_audio.size () / 16000.0;
    GST_INFO ("%s: speech_audio %.2f s, voiced %.2f s, speech %.2f s", c.what,
        audio_s, r.voiced_seconds, r.speech_seconds);
    fail_unless (r.speech_audio.size () % TraitAnalyzer::kHop == 0);
    fail_unless (audio_s >= r.voiced_seconds - 1e-9 &&
            audio_s <= r.speech_seconds + 1e-9 &&
            audio_s >= c.min_share * r.speech_seconds,
        "%s: %f s of audio, %f s voiced, %f s of speech", c.what, audio_s,
        r.voiced_seconds, r.speech_seconds);
    const long zeros =
        std::count (r.speech_audio.begin (), r.speech_audio.end (), 0.0f);
    fail_unless (
        zeros < 2 * TraitAnalyzer::kHop, "%s: %ld zeros", c.what, zeros);
  }
}
GST_END_TEST;

GST_START_TEST (test_reset_and_format)
{
  TraitAnalyzer a (16000, 1);
  std::vector<float> x = voice (3.0, 200.0, 4.0);
  a.add (x.data (), x.size ());
  fail_unless (a.speech_seconds () > 1.0);
  a.reset ();
  fail_unless (a.speech_seconds () == 0.0);
  fail_unless (a.input_seconds () == 0.0);
  /* Another rate from now on. */
  a.set_format (8000, 1);
  std::vector<float> y = voice (4.0, 200.0, 4.0, 8000);
  a.add (y.data (), y.size ());
  TraitReport r = a.finish ();
  fail_unless (r.usable (), "%s", r.message.c_str ());
  fail_unless (std::fabs (r.traits.f0_median_hz / 200.0 - 1.0) < 0.03);
}
GST_END_TEST;

/* ---- The conversion --------------------------------------------------- */

static MelSpec
mel_spec (int n_mels = 80)
{
  MelSpec m;
  m.sample_rate = 22050;
  m.n_fft = 1024;
  m.hop = 256;
  m.win = 1024;
  m.n_mels = n_mels;
  m.fmin = 0.0;
  m.fmax = 8000.0;
  m.scale = "slaney";
  m.norm = "slaney";
  return m;
}

static VoiceTraits
traits (double f0, double formants, float tilt = 0.0f)
{
  VoiceTraits t;
  t.f0_median_hz = f0;
  t.f0_low_hz = f0 * 0.8;
  t.f0_high_hz = f0 * 1.3;
  t.formant_scale = formants;
  for (int b = 0; b < TraitAnalyzer::kBands; b++)
    t.spectral_envelope.push_back (tilt * (b - 15.5f) / 15.5f);
  t.syllable_rate = 4.0;
  t.speaking_rate = 9.6;
  return t;
}

GST_START_TEST (test_plan_conversion)
{
  MelSpec spec = mel_spec ();
  /* Same traits: nothing to do. */
  VoiceConversion same =
      plan_conversion (traits (120, 1.0), traits (120, 1.0), spec);
  fail_unless (std::fabs (same.pitch) < 1e-9 && same.warp == 1.0);
  for (float g : same.gain)
    fail_unless (std::fabs (g) < 1e-6);

  /* An octave up, no formant change: 12 semitones. */
  VoiceConversion up =
      plan_conversion (traits (110, 1.0), traits (220, 1.0), spec);
  fail_unless (std::fabs (up.pitch - 12.0) < 1e-9);
  /* Formants 10 % up: the warp, and its share out of the pitch. */
  VoiceConversion f =
      plan_conversion (traits (110, 1.0), traits (110, 1.1), spec);
  fail_unless (std::fabs (f.warp - 1.1) < 1e-9);
  fail_unless (std::fabs (f.pitch + 12.0 * std::log2 (1.1)) < 1e-9);
  /* Clamped. */
  VoiceConversion c =
      plan_conversion (traits (50, 0.5), traits (800, 2.0), spec);
  fail_unless (c.warp == 1.25 && c.pitch <= 12.0);
  /* A brighter target: gain rising with frequency, within +-12 dB. */
  VoiceConversion b =
      plan_conversion (traits (120, 1.0, 0.0f), traits (120, 1.0, 30.0f), spec);
  fail_unless_equals_int ((int) b.gain.size (), 80);
  fail_unless (b.gain.front () < 0.0f && b.gain.back () > 0.0f);
  const float max_ln = (float) (12.0 * std::log (10.0) / 20.0) + 1e-5f;
  for (float g : b.gain)
    fail_unless (std::fabs (g) <= max_ln, "%f", g);
  /* Unknown sides are left alone. */
  VoiceTraits empty;
  VoiceConversion none = plan_conversion (empty, traits (200, 1.2), spec);
  fail_unless (none.pitch == 0.0 && none.gain.empty () && none.rate == 1.0);
}
GST_END_TEST;

/* A band-limited target (nothing above or below its band but a floor far
 * down) is matched inside its band only. @lo .. @hi are its envelope
 * bands; inside them the target is the base plus a tilt of @tilt_db (0 in
 * the band's middle), outside 50 dB below the base. The gain must be
 * that tilt within 0.5 dB (so well inside the +-12 dB clamp; the means
 * over all bands pinned it at +12 dB), held at the band's edges. */
GST_START_TEST (test_plan_band_limited)
{
  const struct {
    const char *what;
    int lo, hi;
    float tilt_db;
  } cases[] = {
    { "top half down, same shape", 0, 15, 0.0f },
    { "top half down, brighter", 0, 15, 8.0f },
    { "telephone 300-3400 Hz, darker", 4, 23, -6.0f },
  };
  MelSpec spec = mel_spec ();
  for (const auto &c : cases) {
    VoiceTraits base = traits (120, 1.0), target = traits (120, 1.0);
    const float mid = 0.5f * (c.lo + c.hi);
    for (int b = 0; b < TraitAnalyzer::kBands; b++) {
      /* A base envelope with a shape: formant bumps and a fall. */
      base.spectral_envelope[b] = 5.0f * std::sin (0.7f * b) - 0.3f * b;
      target.spectral_envelope[b] = b >= c.lo && b <= c.hi
          ? base.spectral_envelope[b] + c.tilt_db * (b - mid) / (c.hi - c.lo)
          : base.spectral_envelope[b] - 50.0f;
    }
    VoiceConversion conv = plan_conversion (base, target, spec);
    fail_unless_equals_int ((int) conv.gain.size (), 80);
    for (int m = 0; m < 80; m++) {
      const double db = conv.gain[m] * 20.0 / std::log (10.0);
      /* The tilt, held at the band's edges outside it. */
      const double b = std::clamp (
          trait_band_at (mel_band_hz (spec, m)), (double) c.lo, (double) c.hi);
      const double want = c.tilt_db * (b - mid) / (c.hi - c.lo);
      fail_unless (std::fabs (db - want) < 0.5,
          "%s: mel band %d: %f dB, not %f", c.what, m, db, want);
    }
  }
}
GST_END_TEST;

GST_START_TEST (test_apply_conversion)
{
  MelSpec spec = mel_spec (40);
  Mel mel;
  mel.n_mels = 40;
  mel.frames = 3;
  mel.data.assign (40 * 3, -5.0f);
  /* A peak at band 20 moves up with a warp > 1. */
  for (size_t t = 0; t < 3; t++)
    mel.data[20 * 3 + t] = 0.0f;
  VoiceConversion c;
  c.warp = 1.2;
  apply_conversion (c, spec, mel);
  size_t peak = 0;
  for (size_t m = 0; m < 40; m++)
    if (mel.data[m * 3] > mel.data[peak * 3])
      peak = m;
  double moved_to = mel_band_at (spec, mel_band_hz (spec, 20) * 1.2);
  fail_unless (
      std::fabs ((double) peak - moved_to) <= 1.0, "%zu vs %f", peak, moved_to);
  /* A gain adds. */
  Mel flat;
  flat.n_mels = 40;
  flat.frames = 2;
  flat.data.assign (80, 1.0f);
  VoiceConversion g;
  g.gain.assign (40, 0.5f);
  apply_conversion (g, spec, flat);
  for (float v : flat.data)
    fail_unless (std::fabs (v - 1.5f) < 1e-6);
  /* Band centres and positions agree. */
  for (double b : { 0.0, 10.0, 39.0 })
    fail_unless (
        std::fabs (mel_band_at (spec, mel_band_hz (spec, b)) - b) < 1e-6);
  for (double b : { 0.0, 7.5, 31.0 })
    fail_unless (std::fabs (trait_band_at (trait_band_hz (b)) - b) < 1e-6);
}
GST_END_TEST;

GST_START_TEST (test_nearest_voice)
{
  ModelCard card = ModelCard::load (model_file ("tiny-acoustic.json"));
  /* ana f, ben m, chloe f, dmitri m: no f0 in the card, by gender. */
  size_t low = nearest_voice (traits (110, 1.0), card.voices);
  fail_unless_equals_string (card.voices[low].gender.c_str (), "male");
  size_t high = nearest_voice (traits (230, 1.2), card.voices);
  fail_unless_equals_string (card.voices[high].gender.c_str (), "female");
  /* A card's f0_median_hz wins over the gender. */
  card.voices[3].f0_median_hz = 95.0;
  card.voices[1].f0_median_hz = 140.0;
  fail_unless_equals_string (
      card.voices[nearest_voice (traits (96, 1.0), card.voices)].name.c_str (),
      "dmitri");
  /* Measured traits, where known, count. */
  VoiceTraits ana = traits (215, 1.3), chloe = traits (215, 1.0);
  std::vector<const VoiceTraits *> known = { &ana, nullptr, &chloe, nullptr };
  fail_unless_equals_string (
      card.voices[nearest_voice (traits (215, 1.0), card.voices, known)]
          .name.c_str (),
      "chloe");

  VoiceProfile p = clone_profile (traits (100, 1.0), card, "me", "de");
  fail_unless_equals_string (p.base_voice.c_str (), "dmitri");
  fail_unless_equals_string (p.model.c_str (), "tiny-acoustic");
  fail_unless (p.embedding == card.voices[3].embedding);
  fail_unless (p.traits.has_value ());
  fail_unless_equals_string (p.language.c_str (), "de");
}
GST_END_TEST;

/* A cloned voice's gender is its measured F0's (below 160 Hz male), not
 * its base voice's; without an F0 it is the base voice's. */
GST_START_TEST (test_clone_gender)
{
  ModelCard card = ModelCard::load (model_file ("tiny-acoustic.json"));
  /* F0s that make each base voice the other gender's range. */
  card.voices[0].f0_median_hz = 100.0; /* ana, female */
  card.voices[1].f0_median_hz = 250.0; /* ben, male */
  card.voices[2].f0_median_hz = 150.0; /* chloe, female */
  card.voices[3].f0_median_hz = 170.0; /* dmitri, male */
  const struct {
    double f0;
    const char *base, *gender;
  } cases[] = {
    { 100.0, "ana", "male" },
    { 159.0, "chloe", "male" },
    { 161.0, "dmitri", "female" },
    { 250.0, "ben", "female" },
    { 0.0, "ana", "female" },
  };
  for (const auto &c : cases) {
    VoiceTraits t;
    t.f0_median_hz = c.f0;
    VoiceProfile p = clone_profile (t, card, "me", "en");
    fail_unless_equals_string (p.base_voice.c_str (), c.base);
    fail_unless_equals_string (p.gender.c_str (), c.gender);
  }
}
GST_END_TEST;

GST_START_TEST (test_profile_round_trip_traits)
{
  ModelCard card = ModelCard::load (model_file ("tiny-acoustic.json"));
  TraitReport r = analyze (voice (6.0, 180.0, 4.0));
  fail_unless (r.usable ());
  VoiceProfile p = clone_profile (r.traits, card, "mara", "en");
  VoiceProfile q = VoiceProfile::parse (p.to_json (), "mara.json", 4);
  fail_unless_equals_string (q.base_voice.c_str (), p.base_voice.c_str ());
  fail_unless (q.traits.has_value ());
  fail_unless (
      std::fabs (q.traits->f0_median_hz - r.traits.f0_median_hz) < 1e-6);
  fail_unless (
      std::fabs (q.traits->syllable_rate - r.traits.syllable_rate) < 1e-6);
  fail_unless_equals_int ((int) q.traits->spectral_envelope.size (), 32);
  /* Version 1 readers without base_voice / syllable_rate still read it
   * (unknown fields are ignored), and a file without them is fine. */
  std::string json = p.to_json ();
  fail_unless (contains (json, "\"base_voice\""));
  fail_unless (contains (json, "\"syllable_rate\""));
  fail_unless (contains (json, "\"version\" : 1"));
}
GST_END_TEST;

/* ---- Cloned voices in the Synthesizer --------------------------------- */

GST_START_TEST (test_synthesizer_clone)
{
  auto synth = Synthesizer::load (tiny_synthesizer_options ());

  const VoiceTraits &ben = synth->measure_voice ("ben");
  fail_unless (ben.f0_median_hz > 0.0);
  fail_unless (&synth->measure_voice ("ben") == &ben, "not cached");
  try {
    synth->measure_voice ("nobody");
    fail ("measured an unknown voice");
  } catch (const VoiceProfileError &) {
  }

  /* A built-in voice: no conversion, the same audio as before. */
  const VoiceProfile &builtin = synth->voices ()[1];
  Utterance plain = synth->prepare ("Hello there.", "en", builtin.embedding);
  Utterance same = synth->prepare_voice ("Hello there.", "en", builtin);
  fail_unless (!same.conversion);
  fail_unless_equals_int64 (plain.natural_frames, same.natural_frames);

  /* A cloned voice an octave above ben, brighter: a conversion. */
  VoiceProfile clone = builtin;
  clone.name = "clone";
  clone.base_voice = "ben";
  clone.traits = ben;
  clone.traits->f0_median_hz = ben.f0_median_hz * 2.0;
  clone.traits->f0_low_hz = clone.traits->f0_high_hz =
      clone.traits->f0_median_hz;
  if (clone.traits->spectral_envelope.empty ())
    clone.traits->spectral_envelope.assign (TraitAnalyzer::kBands, 0.0f);
  for (size_t b = 0; b < clone.traits->spectral_envelope.size (); b++)
    clone.traits->spectral_envelope[b] += (float) b * 0.2f;
  Utterance u = synth->prepare_voice ("Hello there.", "en", clone);
  fail_unless (u.conversion != nullptr);
  fail_unless (u.conversion->pitch > 6.0, "%f", u.conversion->pitch);
  fail_unless_equals_int ((int) u.conversion->gain.size (), 8);
  SpeakResult r = synth->render (u, synth->plan (u, FitRequest ()), 0.0);
  fail_unless (r.samples.size () > 0);
  for (float v : r.samples)
    fail_unless (std::isfinite (v));

  /* The same through speak() with a whole voice. */
  SpeakRequest req;
  req.text = "Hello there.";
  req.voice = clone;
  SpeakResult s = synth->speak (req);
  fail_unless_equals_int ((int) s.samples.size (), (int) r.samples.size ());

  /* A base voice the model lacks: spoken without the traits, said so. */
  clone.base_voice = "nobody";
  Utterance w = synth->prepare_voice ("Hello.", "en", clone);
  fail_unless (!w.conversion);
  fail_unless (!w.warnings.empty ());
}
GST_END_TEST;

static Suite *
speaker_traits_suite (void)
{
  Suite *s = suite_create ("speaker-traits");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_voice_110);
  tcase_add_test (tc, test_voice_220_resampled_stereo);
  tcase_add_test (tc, test_chunking_does_not_matter);
  tcase_add_test (tc, test_resampler);
  tcase_add_test (tc, test_silence);
  tcase_add_test (tc, test_noise);
  tcase_add_test (tc, test_too_short);
  tcase_add_test (tc, test_clipping);
  tcase_add_test (tc, test_music);
  tcase_add_test (tc, test_long_pauses);
  tcase_add_test (tc, test_speech_audio);
  tcase_add_test (tc, test_reset_and_format);
  tcase_add_test (tc, test_plan_conversion);
  tcase_add_test (tc, test_plan_band_limited);
  tcase_add_test (tc, test_apply_conversion);
  tcase_add_test (tc, test_nearest_voice);
  tcase_add_test (tc, test_clone_gender);
  tcase_add_test (tc, test_profile_round_trip_traits);
  tcase_add_test (tc, test_synthesizer_clone);
  return s;
}

GST_CHECK_MAIN (speaker_traits);

/* ganvoice: measured voice traits of reference speech (voice cloning).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/voice-profile.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace ganvoice {

/* Why reference audio cannot be used for cloning. */
enum class TraitProblem
{
  None,
  Silence, /* nothing above the silence level */
  NoSpeech, /* sound, but no (voiced) speech: noise, whispers */
  Clipping, /* too many samples at full scale */
  MusicOnly, /* steady tones or notes, no speech rhythm */
  TooShort, /* less than TraitAnalyzer::kMinSpeech seconds of speech */
};

/* What TraitAnalyzer::finish() measured. The traits are filled in as far
 * as they could be measured even when the audio is unusable (0 where not). */
struct TraitReport {
  VoiceTraits traits;
  double input_seconds = 0.0; /* audio seen */
  /* Speech: frames the VAD accepted, with pauses shorter than 0.3 s
   * between them counted in (longer pauses are not). */
  double speech_seconds = 0.0;
  double voiced_seconds = 0.0; /* speech frames with a pitch */
  double clipping_ratio = 0.0; /* flat-topped samples / active samples */
  /* Depth of the 2-8 Hz (syllable-rate) modulation of the level of the
   * active audio: about 0.5 .. 1 for speech, near 0 for steady tones. */
  double modulation = 0.0;
  /* Share of the voiced frames in spans of 0.4 s or more whose pitch
   * stays within 1.5 %: notes, not speech. */
  double stable_pitch = 0.0;
  /* The speech frames' audio, mono at TraitAnalyzer::kRate, in order
   * (for the speaker encoder; the first kKeptSeconds of audio above the
   * silence level only). */
  std::vector<float> speech_audio;
  TraitProblem problem = TraitProblem::None;
  std::string message; /* a plain sentence for people; "" when usable */

  bool usable () const
  {
    return problem == TraitProblem::None;
  }
};

/* Measures the voice traits of reference speech (docs/cloning.md), chunk
 * by chunk: audio at any rate and channel count is mixed to mono and
 * resampled to 16 kHz, then cut into 32 ms frames every 10 ms. Each frame
 * gets its level, spectral flatness, YIN periodicity and F0, LPC formants
 * (voiced frames) and a 32-band log-mel spectrum; finish() runs the VAD
 * over the whole recording (its thresholds follow the recording's own
 * noise floor and peak) and computes the traits and the usability checks.
 * About 10 ms of one core per second of audio (30 s: 0.3-0.4 s; see
 * docs/benchmarks.md). Not thread-safe. */
class TraitAnalyzer {
public:
  static constexpr int kRate = 16000; /* analysis rate */
  static constexpr int kHop = 160; /* 10 ms */
  static constexpr int kWindow = 512; /* 32 ms */
  static constexpr int kBands = 32; /* envelope bands, HTK mel 0 .. 8 kHz */
  static constexpr double kMinSpeech = 1.5; /* seconds: less is unusable */
  /* Seconds of audio above the silence level kept for speech_audio. */
  static constexpr double kKeptSeconds = 120.0;
  /* Formant spacing of the average adult vocal tract (about 15.9 cm):
   * formant_scale 1. */
  static constexpr double kReferenceSpacing = 1100.0;
  /* Phonemes per syllable, to state the speaking rate in the profile's
   * unit (phonemes per second) from the measured syllable rate. */
  static constexpr double kPhonemesPerSyllable = 2.4;

  /* Throws std::invalid_argument for a rate or channel count below 1. */
  GANVOICE_API TraitAnalyzer (int sample_rate, int channels);
  GANVOICE_API ~TraitAnalyzer ();

  /* Audio of another rate or channel count from now on (what was
   * analyzed is kept). Throws std::invalid_argument like the constructor. */
  GANVOICE_API void set_format (int sample_rate, int channels);

  /* @frames frames of interleaved samples (full scale is +-1). */
  GANVOICE_API void add (const float *interleaved, size_t frames);

  /* A running estimate of the speech seen so far, in seconds (finish()
   * decides the real amount), for stopping after enough speech. */
  GANVOICE_API double speech_seconds () const;
  GANVOICE_API double input_seconds () const;

  /* Measures everything added so far (the analyzer can go on after). */
  GANVOICE_API TraitReport finish () const;

  /* Forgets all audio. */
  GANVOICE_API void reset ();

  struct Impl;

private:
  std::unique_ptr<Impl> impl_;
};

/* The centre frequency of envelope band @band (0 .. kBands-1), in Hz. */
GANVOICE_API double trait_band_hz (double band);
/* The (fractional) envelope band at @hz. */
GANVOICE_API double trait_band_at (double hz);

/* Mono 16 kHz audio from @frames frames of interleaved audio at @rate:
 * a windowed-sinc resampler, as the analyzer uses (exposed for tests). */
GANVOICE_API std::vector<float> resample_to_16k (
    const float *interleaved, size_t frames, int rate, int channels);
/* @n mono samples at @rate resampled to @out_rate the same way (the
 * filter's delay is compensated; the last few samples are not flushed).
 * Throws std::invalid_argument for a rate below 1. */
GANVOICE_API std::vector<float> resample_mono (
    const float *mono, size_t n, int rate, int out_rate);

} // namespace ganvoice

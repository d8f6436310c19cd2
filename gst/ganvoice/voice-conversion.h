/* ganvoice: cloning a voice from measured traits (docs/cloning.md).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/acoustic-model.h>
#include <ganvoice/mel-statistics.h>
#include <ganvoice/model-card.h>
#include <ganvoice/speaker-encoder.h>
#include <ganvoice/speaker-traits.h>
#include <ganvoice/voice-profile.h>

#include <string>
#include <vector>

namespace ganvoice {

/* How a built-in (base) voice is turned toward a cloned voice's traits at
 * synthesis time, planned once per voice by plan_conversion(). */
struct VoiceConversion {
  /* Semitones added to the caller's pitch (the acoustic model's
   * pitch_shift): the F0 medians' ratio, less what the formant warp moves
   * the resolved harmonics. */
  double pitch = 0.0;
  /* Frequency scale of the log-mel (formant warping): the formant scales'
   * ratio, 0.8 .. 1.25 (1: none). */
  double warp = 1.0;
  /* Per mel band of the model, added to the log-mel (natural log of the
   * magnitude): the smoothed spectral envelope difference, +-12 dB.
   * Empty: no envelope matching. */
  std::vector<float> gain;
  /* Multiplies the speaking rate: the syllable rates' ratio, 0.8 .. 1.25. */
  double rate = 1.0;
  /* After the warp and the gain: the map of the log-mel frames' mean and
   * covariance onto the reference speech's (mel-statistics.h). Empty when
   * the profile has no mel statistics. */
  MelMapping mapping;

  bool identity () const
  {
    return pitch == 0.0 && warp == 1.0 && gain.empty () && rate == 1.0 &&
        mapping.empty ();
  }
};

/* The conversion from @base (a built-in voice's traits, measured the same
 * way) to @target for a model with the mel front-end @mel. Fields of
 * either side that are 0 or empty are left out (identity for them). */
GANVOICE_API VoiceConversion plan_conversion (
    const VoiceTraits &base, const VoiceTraits &target, const MelSpec &mel);

/* Applies the warp, the gain and the mapping to @mel (the model's log-mel,
 * in place). */
GANVOICE_API void apply_conversion (
    const VoiceConversion &conversion, const MelSpec &spec, Mel &mel);

/* @hz on the mel scale of @spec ("slaney", else HTK), and back. */
GANVOICE_API double hz_to_mel_scale (const MelSpec &spec, double hz);
GANVOICE_API double mel_scale_to_hz (const MelSpec &spec, double mel);

/* The centre frequency of mel band @band of @spec, in Hz, and the
 * (fractional) band at @hz. */
GANVOICE_API double mel_band_hz (const MelSpec &spec, double band);
GANVOICE_API double mel_band_at (const MelSpec &spec, double hz);

/* The F0 median assumed for a built-in voice whose traits are unknown:
 * the card's "f0_median_hz", else by gender (210 Hz female, 120 Hz male). */
GANVOICE_API double voice_f0_guess (const Voice &voice);

/* The built-in voice nearest to @target: the smallest
 * |ln (F0 ratio)| + 0.5 |ln (formant scale ratio)| + 0.02 * RMS envelope
 * difference in dB, each term where both sides are known. @known[i], when
 * given, holds voice i's measured traits (else voice_f0_guess()). Voices
 * of the voice library (with a "profile") are not candidates: their
 * embedding alone is not their sound.
 * Returns the index into @voices; throws ModelError when there are none. */
GANVOICE_API size_t nearest_voice (const VoiceTraits &target,
    const std::vector<Voice> &voices,
    const std::vector<const VoiceTraits *> &known = {});

/* A cloned voice's profile for the acoustic model of @card, with @traits.
 * With a learned @speaker_embedding and the @encoder_card it came from,
 * the acoustic embedding is blend_voices() of the built-in voices and
 * base_voice the nearest of them (cosine); without, it is the embedding of
 * nearest_voice() by the traits. */
GANVOICE_API VoiceProfile clone_profile (const VoiceTraits &traits,
    const ModelCard &card, const std::string &name, const std::string &language,
    const std::vector<float> &speaker_embedding = {},
    const ModelCard *encoder_card = nullptr);

/* What make_clone_profile() made. */
struct CloneResult {
  VoiceProfile profile;
  /* Too little clean speech for the speaker encoder: the traits alone. */
  bool traits_only = false;
};

/* The cloning recipe (docs/cloning.md), from a usable @report of
 * TraitAnalyzer::finish (): clone_profile() with the learned speaker
 * embedding of the report's speech audio when there is enough of it for
 * @encoder (null: the traits alone), then that speech's log-mel
 * statistics in @card's front-end, up to 0.92 of the lowest Nyquist
 * frequency the reference passed through (@lowest_rate, Hz; 0: unknown). */
GANVOICE_API CloneResult make_clone_profile (const TraitReport &report,
    const ModelCard &card, SpeakerEncoder *encoder, const std::string &name,
    const std::string &language, int lowest_rate);

} // namespace ganvoice

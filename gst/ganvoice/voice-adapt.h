/* ganvoice: the opt-in adapt step of voice cloning: tunes a cloned voice so
 * that what the synthesizer makes of it sounds most like the reference to
 * the speaker encoder.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/speaker-encoder.h>
#include <ganvoice/synthesizer.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace ganvoice {

struct AdaptOptions {
  int evaluations = 40; /* syntheses tried (each about 10 s of speech) */
  uint32_t seed = 1;
};

struct AdaptReport {
  double before = 0.0; /* cosine similarity of the clone as given */
  double after = 0.0; /* ... and as adapted */
  int evaluations = 0;
  std::vector<double> weights; /* of the built-in voices, as adapted */
  double formant_factor = 1.0; /* applied to traits.formant_scale */
  /* Tries not taken because their F0 median strayed (more than 1
   * semitone, and more than the start's error, from traits.f0_median_hz). */
  int rejected_f0 = 0;
};

/* Searches the mix of the built-in voices' embeddings (softmax weights)
 * and a formant-scale factor (0.85 .. 1.18) for the speech, with the
 * profile's trait mapping applied, whose speaker-encoder embedding is
 * closest (cosine) to @profile's speaker_embedding; @profile gets the best
 * one (embedding, base_voice, traits.formant_scale). A (1+1) evolution
 * strategy from the profile as given, which is kept when nothing beats it.
 * A try whose speech has its F0 median further from the reference's than
 * 1 semitone (or than the start's speech, if that is further) is not
 * taken, however close its embedding.
 * @progress (done, total) may return false to stop early. Throws
 * ModelError (or VoiceProfileError) when @profile has no speaker_embedding
 * or traits, or was made for another encoder or model. */
GANVOICE_API AdaptReport adapt_voice (Synthesizer &synth,
    SpeakerEncoder &encoder, VoiceProfile &profile,
    const AdaptOptions &options = {},
    const std::function<bool (int, int)> &progress = {});

} // namespace ganvoice

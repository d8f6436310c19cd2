/* ganvoice: speech statistics in the model's log-mel domain, and the
 * mapping of a voice's statistics onto a cloned voice's (docs/cloning.md).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/acoustic-model.h>
#include <ganvoice/model-card.h>

#include <cstddef>
#include <vector>

namespace ganvoice {

/* Mean and covariance of the log-mel frames of someone's speech, in the
 * front-end @mel (natural log of the magnitude, as the models use). */
struct MelStatistics {
  MelSpec mel;
  /* The recording's band limit: bands centred above it hold no signal
   * (telephone audio, a 16 kHz reference) and are left alone. */
  double bandwidth_hz = 0.0;
  size_t frames = 0; /* speech frames the statistics came from */
  std::vector<float> mean; /* [n_mels] */
  std::vector<float> covariance; /* [n_mels * n_mels], row-major */

  bool empty () const
  {
    return mean.empty ();
  }
};

/* The front-end of the shipped models (models/vocoder/vocoder.json):
 * 22050 Hz, n_fft = win = 1024, hop 256, 80 Slaney mel bands 0-8000 Hz. */
GANVOICE_API MelSpec default_mel_spec ();

/* True when @a and @b compute the same log-mel. */
GANVOICE_API bool same_front_end (const MelSpec &a, const MelSpec &b);

/* The log-mel of @n mono samples at @rate in the front-end @spec (the
 * formula of models/common/mel.py: resampled to spec.sample_rate,
 * reflect-padded, periodic Hann STFT without centring, magnitude, mel
 * filterbank, natural log). Throws std::invalid_argument for a rate below
 * 1 or a spec it cannot compute. */
GANVOICE_API Mel analyze_mel (
    const float *mono, size_t n, int rate, const MelSpec &spec);

/* At least this many speech frames (about 1.2 s) make statistics. */
constexpr size_t kMinStatisticsFrames = 100;

/* The statistics of the speech frames of @mel (frames within 40 dB of the
 * loud end of the recording; silence and pauses are left out). Empty when
 * fewer than kMinStatisticsFrames frames are speech. */
GANVOICE_API MelStatistics mel_statistics (
    const Mel &mel, const MelSpec &spec, double bandwidth_hz);

/* An affine map of the log-mel frames, x' = target_mean + matrix
 * (x - source_mean), over the bands in @bands only. In the lowest
 * @smoothed_bands bands, where the log-mel resolves single harmonics, the
 * change x' - x is then smoothed across bands (a 7-tap Hann kernel), so
 * that the map moves the envelope there and not the harmonics (the
 * vocoder would read moved harmonics as another pitch). */
struct MelMapping {
  std::vector<int> bands;
  std::vector<float> source_mean; /* [bands] */
  std::vector<float> target_mean; /* [bands] */
  std::vector<float> matrix; /* [bands * bands], row-major */
  int smoothed_bands = 0;

  bool empty () const
  {
    return bands.empty ();
  }
};

/* The least-change (optimal transport) map between two Gaussians, from a
 * voice's statistics @source to a cloned voice's @target: mapped frames
 * have the target's covariance and, up to an overall level, its mean.
 * Bands are those within 35 dB of the target's loudest mean and below
 * both band limits; covariances are shrunk 10 % toward their diagonal.
 * The mean shift is held to +-24 dB per band; the change is smoothed in
 * the bands below 1 kHz. Empty when either side is
 * empty, the front-ends differ or fewer than 4 bands qualify. */
GANVOICE_API MelMapping plan_mel_mapping (
    const MelStatistics &source, const MelStatistics &target);

/* Applies @mapping to @mel in place (no-op when empty); values stay at or
 * above ln (clamp) of the front-end. */
GANVOICE_API void apply_mel_mapping (
    const MelMapping &mapping, const MelSpec &spec, Mel &mel);

} // namespace ganvoice

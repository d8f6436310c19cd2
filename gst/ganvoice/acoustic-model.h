/* ganvoice: the acoustic model runtime, phoneme ids to log-mel.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/acoustic-delta.h>
#include <ganvoice/model-card.h>
#include <ganvoice/text-frontend.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ganvoice {

/* The TorchScript contract (see docs/models.md, "Acoustic model contract").
 * A non-autoregressive model with explicit durations, exporting two methods
 * (@torch.jit.export; forward is not used):
 *
 *   durations (ids: int64 [1, N], speaker: float32 [1, E]) -> float32 [1, N]
 *     each phoneme's natural duration in mel frames (>= 0, fractional);
 *   decode (ids: int64 [1, N], speaker: float32 [1, E], frames: int64 [1, N],
 *           pitch_shift: float) -> float32 [1, n_mels, sum (frames)]
 *     the log-mel for the given whole-frame durations, its pitch moved by
 *     pitch_shift semitones.
 *
 * and two int attributes, which must equal the card's:
 *
 *   n_phonemes             the number of phoneme ids (the card's "phonemes")
 *   speaker_embedding_dim  E (the card's "speaker_embedding_dim")
 *
 * The mel front-end (sample_rate, hop, n_fft, win, n_mels, fmin, fmax, mel)
 * is the vocoder's. */

struct AcousticOptions {
  /* Intra-op threads for LibTorch (a process-wide setting); 0 leaves it. */
  int threads = 0;
  /* "cpu", or "cuda" where LibTorch was built with CUDA. */
  std::string device = "cpu";
  /* A deep clone's delta, added to the weights at load (null: none). */
  std::shared_ptr<const AcousticDelta> delta;
};

/* A log-mel spectrogram, [n_mels][frames] row-major: the vocoder's input. */
struct Mel {
  size_t n_mels = 0;
  size_t frames = 0;
  std::vector<float> data;
};

/* A TorchScript acoustic model checked against its card.
 * One caller at a time (not thread-safe). */
class AcousticModel {
public:
  /* Throws ModelError for a missing or corrupt file, a bad card, or a model
   * that breaks the contract (checked by running it once). */
  GANVOICE_API static std::unique_ptr<AcousticModel> load (
      const std::string &model_path, const std::string &card_path,
      const AcousticOptions &options = {});
  GANVOICE_API ~AcousticModel ();

  GANVOICE_API const ModelCard &card () const;
  GANVOICE_API const PhonemeInventory &inventory () const;
  GANVOICE_API const std::vector<Voice> &voices () const;
  GANVOICE_API std::string device () const;
  /* "frozen, optimized" or "as exported" (the model could not be frozen). */
  GANVOICE_API std::string graph () const;

  /* The built-in voice's embedding; throws ModelError listing the names. */
  GANVOICE_API const std::vector<float> &voice (const std::string &name) const;

  /* Throws ModelError naming the first mel front-end field in which
   * @vocoder's card differs from this model's. */
  GANVOICE_API void check_compatible (const ModelCard &vocoder) const;

  /* Natural duration of each phoneme in frames (>= 0). @embedding holds E
   * floats. Throws ModelError for ids outside the inventory, a wrong
   * embedding length, or output that breaks the contract. */
  GANVOICE_API std::vector<float> durations (
      const std::vector<int> &ids, const std::vector<float> &embedding);

  /* The log-mel for @frames[i] frames of each phoneme (same length as
   * @ids, each >= 0), pitch moved by @pitch_shift semitones. Its frames
   * are sum (@frames); none gives an empty Mel without running the model. */
  GANVOICE_API Mel decode (const std::vector<int> &ids,
      const std::vector<float> &embedding, const std::vector<int64_t> &frames,
      double pitch_shift = 0.0);

  struct Impl;

private:
  explicit AcousticModel (std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace ganvoice

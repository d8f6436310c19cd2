/* ganvoice: the signal pieces of deep-clone fine-tuning (private): trimming,
 * frame F0, mel cepstra, monotonic alignment search, sentence splitting.
 * Each follows the Python recipe named in its comment. Exported for the
 * unit tests only: not an installed header.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/ganvoice-prelude.h>

#include <torch/script.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ganvoice {

/* models/common/audio.py trim(): cuts leading and trailing frames of @frame
 * samples more than @thresh_db below the loudest, keeping @margin seconds
 * more on each side. Nothing loud enough: empty. */
GANVOICE_API std::vector<float> trim_silence (const std::vector<float> &x,
    int rate, int frame, double thresh_db, double margin);

/* models/acoustic/prepare_data.py f0_track(): frame F0 (Hz) by normalised
 * autocorrelation, 0 = unvoiced; @frames values, one every @hop samples. */
GANVOICE_API torch::Tensor frame_f0 (
    const std::vector<float> &x, int rate, int hop, int64_t frames);

/* One speaker's frame F0 tracks (Hz, 0 = unvoiced) with the tracker's
 * octave and range-edge errors removed: voiced frames further than
 * @max_ratio from the speaker's median F0 become unvoiced, and so do
 * voiced frames left alone. In place; returns how many frames were
 * unvoiced. (models/acoustic/finetune.py clean_speaker_f0()) */
GANVOICE_API int64_t clean_speaker_f0 (
    std::vector<torch::Tensor> &f0, double max_ratio = 1.8);

/* models/acoustic/align.py features(): log-mel [bins, T] to mean-normalised
 * mel cepstra (20, or fewer bins) and their deltas, [T, 2 * C], float64. */
GANVOICE_API torch::Tensor cepstral_features (const torch::Tensor &mel);

/* Monotonic alignment search (models/acoustic/model.py mas()): the best
 * monotonic path through @T frames and @K states (T >= K), each state at
 * least one frame; @loglik (t, count) gives the log-likelihoods of frames
 * t .. t + count - 1, [count, K]. Durations [K]. One byte per cell. */
GANVOICE_API std::vector<int64_t> monotonic_alignment (int64_t T, int64_t K,
    const std::function<torch::Tensor (int64_t, int64_t)> &loglik);

/* A text's sentences: ends at . ! ? … (with the closing quotes after them)
 * before white space or the end, and at line ends; trimmed, empty ones left
 * out. */
GANVOICE_API std::vector<std::string> split_sentences (const std::string &text);

} // namespace ganvoice

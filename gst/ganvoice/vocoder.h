/* ganvoice: the GAN vocoder runtime, mel spectrogram to waveform.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/model-card.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ganvoice {

struct VocoderOptions {
  /* Intra-op threads for LibTorch (a process-wide setting); 0 leaves it. */
  int threads = 0;
  /* "cpu", or "cuda" where LibTorch was built with CUDA. */
  std::string device = "cpu";
  /* Streaming: frames per chunk, and frames of context vocoded on each side
   * of a chunk and then discarded, so that chunks join seamlessly. */
  size_t chunk_frames = 128; /* the first chunk */
  size_t max_chunk_frames = 1024; /* later chunks double up to this */
  size_t context_frames = 32;
  /* The iterations of a post-filter inside the model (a submodule "post"
   * with an int "iters", as models/vocoder/model.py exports it): -1 keeps
   * the file's; 0 turns it off. For measuring what the filter costs and
   * buys (docs/benchmarks.md); the shipped voice is the file's. */
  int post_filter_iterations = -1;
};

/* A TorchScript vocoder checked against its model card. Input is a log-mel
 * spectrogram laid out [n_mels][frames] (row-major, as torch [1, n_mels, T]);
 * output is frames * hop samples at the card's sample rate.
 * vocode() may be called from one thread at a time. */
class Vocoder {
public:
  /* Throws ModelError for a missing or corrupt file, a bad card, or a model
   * that breaks the card's contract (checked by running it once). */
  GANVOICE_API static std::unique_ptr<Vocoder> load (
      const std::string &model_path, const std::string &card_path,
      const VocoderOptions &options = {});
  GANVOICE_API virtual ~Vocoder ();

  GANVOICE_API const ModelCard &card () const;
  GANVOICE_API std::string device () const;
  /* "frozen, optimized" (frozen here, with the frozen-graph passes) or
   * "as exported" (the file was frozen at export already). */
  GANVOICE_API std::string graph () const;

  /* The whole input at once. @mel holds n_mels * frames floats. */
  GANVOICE_API std::vector<float> vocode (const float *mel, size_t frames);

  /* Chunk by chunk, calling @emit with each chunk's samples as soon as they
   * are ready; @emit returns false to stop (e.g. on a flush), and then
   * vocode_chunked returns false. @first_chunk_frames, when not 0, is the
   * first chunk's size instead of the options' chunk_frames: a caller
   * that needs no early first audio (an offline dub) passes
   * max_chunk_frames, and a short utterance is then vocoded in one go,
   * with no context computed twice. */
  using EmitFunc = std::function<bool (const float *samples, size_t n)>;
  GANVOICE_API bool vocode_chunked (const float *mel, size_t frames,
      const EmitFunc &emit, size_t first_chunk_frames = 0);

  GANVOICE_API const VocoderOptions &options () const;

  struct Impl;

private:
  explicit Vocoder (std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/* Whether this build can run models on CUDA. */
GANVOICE_API bool vocoder_cuda_available ();

} // namespace ganvoice

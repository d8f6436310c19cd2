/* ganvoice: the GAN vocoder runtime on LibTorch.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "runtime/torch-runtime.h"

#include <ganvoice/vocoder.h>

#include <torch/script.h>

#include <glib.h>

#include <algorithm>

namespace ganvoice {

struct Vocoder::Impl {
  ModelCard card;
  VocoderOptions options;
  torch::jit::Module module;
  torch::Device device = torch::kCPU;
  std::string graph = "as exported"; /* which inference passes applied */
  /* The model's forward_chunk (mel, pad_start, pad_end), where it has one:
   * edge padding only at the utterance's own ends (docs/vocoder.md). */
  bool has_chunk_method = false;

  /* Runs the model on [1, n_mels, frames]; returns [frames * hop] on CPU.
   * @at_start / @at_end: the piece touches the utterance's start / end
   * (for forward_chunk; forward pads both ends itself). */
  torch::Tensor run (
      const torch::Tensor &mel, bool at_start = true, bool at_end = true)
  {
    c10::InferenceMode guard;
    std::vector<torch::jit::IValue> inputs{ mel.to (device) };
    torch::jit::IValue out;
    if (has_chunk_method) {
      inputs.emplace_back (at_start);
      inputs.emplace_back (at_end);
      out = module.get_method ("forward_chunk") (inputs);
    } else {
      out = module.forward (inputs);
    }
    if (!out.isTensor ())
      throw ModelError (card.path + ": the model returned no tensor");
    torch::Tensor audio = out.toTensor ().to (torch::kCPU, torch::kFloat);
    int64_t expected = mel.size (2) * card.mel.hop;
    if (audio.numel () != expected ||
        (audio.dim () != 2 && audio.dim () != 3) || audio.size (0) != 1)
      throw ModelError (card.path +
          ": the model breaks its card: " + std::to_string (mel.size (2)) +
          " frames gave output of shape " + c10::str (audio.sizes ()) +
          ", the card's hop " + std::to_string (card.mel.hop) + " means [1, " +
          std::to_string (expected) + "]");
    return audio.reshape ({ expected }).contiguous ();
  }

  torch::Tensor mel_tensor (const float *mel, size_t frames) const
  {
    /* from_blob does not own or copy: clone into a tensor we may keep. */
    return torch::from_blob (const_cast<float *> (mel),
        { 1, card.mel.n_mels, (int64_t) frames }, torch::kFloat)
        .clone ();
  }
};

Vocoder::Vocoder (std::unique_ptr<Impl> impl) : impl_ (std::move (impl))
{
}
Vocoder::~Vocoder () = default;

bool
vocoder_cuda_available ()
{
#ifdef GANVOICE_HAVE_CUDA
  return torch::cuda::is_available ();
#else
  return false;
#endif
}

std::unique_ptr<Vocoder>
Vocoder::load (const std::string &model_path, const std::string &card_path,
    const VocoderOptions &options)
{
  auto impl = std::make_unique<Impl> ();
  impl->card = ModelCard::load (card_path);
  impl->options = options;
  if (impl->card.kind != "vocoder")
    throw ModelError (card_path + ": \"kind\" is \"" + impl->card.kind +
        "\", not \"vocoder\"");
  if (impl->card.f0_input)
    throw ModelError (card_path +
        ": \"f0_input\" is true, but this runtime "
        "feeds mel only");
  if (options.chunk_frames == 0)
    throw ModelError ("chunk_frames must be at least 1");

  impl->device = select_device (options.device);
  configure_torch (options.threads);
  torch::jit::Module module = load_torchscript (model_path, impl->device);
  /* Freeze: weights become constants, and the frozen-graph passes fold and
   * fuse them. (optimize_for_inference's MKLDNN layouts measured slower on
   * this model: see docs/benchmarks.md.) A model exported frozen already
   * is used as it is. */
  if (options.post_filter_iterations >= 0) {
    bool has_filter = module.hasattr ("post") &&
        module.attr ("post").isModule () &&
        module.attr ("post").toModule ().hasattr ("iters");
    if (!has_filter)
      throw ModelError (model_path +
          ": post_filter_iterations was given, but the model has no "
          "post-filter (a submodule \"post\" with \"iters\")");
    module.attr ("post").toModule ().setattr (
        "iters", (int64_t) options.post_filter_iterations);
  }
  impl->module = module;
  impl->has_chunk_method = module.find_method ("forward_chunk").has_value ();
  try {
    std::vector<std::string> keep;
    if (impl->has_chunk_method)
      keep.push_back ("forward_chunk");
    impl->module = torch::jit::freeze (module, keep);
    impl->graph = "frozen, optimized";
  } catch (const std::exception &) {
  }

  /* Check the card's contract once, on a short input. */
  std::vector<float> probe ((size_t) impl->card.mel.n_mels * 8, -5.0f);
  try {
    impl->run (impl->mel_tensor (probe.data (), 8));
  } catch (const ModelError &) {
    throw;
  } catch (const std::exception &e) {
    std::string what = torch_error_gist (e.what ());
    throw ModelError (model_path +
        ": the model does not accept the input its "
        "card describes ([1, " +
        std::to_string (impl->card.mel.n_mels) +
        ", frames] log-mel): " + what.substr (0, 300));
  }
  return std::unique_ptr<Vocoder> (new Vocoder (std::move (impl)));
}

const ModelCard &
Vocoder::card () const
{
  return impl_->card;
}

std::string
Vocoder::device () const
{
  return impl_->device.str ();
}

std::string
Vocoder::graph () const
{
  return impl_->graph;
}

std::vector<float>
Vocoder::vocode (const float *mel, size_t frames)
{
  if (frames == 0)
    return {};
  try {
    torch::Tensor audio = impl_->run (impl_->mel_tensor (mel, frames));
    return std::vector<float> (
        audio.data_ptr<float> (), audio.data_ptr<float> () + audio.numel ());
  } catch (const ModelError &) {
    throw;
  } catch (const std::exception &e) {
    throw ModelError (impl_->card.path +
        ": vocoding failed: " + torch_error_gist (e.what ()));
  }
}

const VocoderOptions &
Vocoder::options () const
{
  return impl_->options;
}

bool
Vocoder::vocode_chunked (const float *mel, size_t frames, const EmitFunc &emit,
    size_t first_chunk_frames)
{
  const size_t chunk =
      first_chunk_frames > 0 ? first_chunk_frames : impl_->options.chunk_frames;
  const size_t context = impl_->options.context_frames;
  const int64_t n_mels = impl_->card.mel.n_mels;
  const int64_t hop = impl_->card.mel.hop;
  if (frames == 0)
    return true;
  try {
    torch::Tensor all = torch::from_blob (const_cast<float *> (mel),
        { 1, n_mels, (int64_t) frames }, torch::kFloat);
    /* The first chunk is short, for an early start; each next one doubles
     * (up to max_chunk_frames), so the context vocoded twice costs less. */
    size_t size = chunk;
    for (size_t start = 0; start < frames; start += size,
                size = std::max (size,
                    std::min (2 * size, impl_->options.max_chunk_frames))) {
      size_t end = std::min (frames, start + size);
      size_t from = start > context ? start - context : 0;
      size_t to = std::min (frames, end + context);
      torch::Tensor piece =
          all.narrow (2, (int64_t) from, (int64_t) (to - from)).contiguous ();
      torch::Tensor audio = impl_->run (piece, from == 0, to == frames);
      const float *samples = audio.data_ptr<float> () + (start - from) * hop;
      if (!emit (samples, (end - start) * hop))
        return false;
    }
  } catch (const ModelError &) {
    throw;
  } catch (const std::exception &e) {
    throw ModelError (impl_->card.path +
        ": vocoding failed: " + torch_error_gist (e.what ()));
  }
  return true;
}

} // namespace ganvoice

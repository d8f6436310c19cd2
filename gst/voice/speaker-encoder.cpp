/* ganvoice: the learned speaker encoder on LibTorch.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "runtime/torch-runtime.h"

#include <ganvoice/speaker-encoder.h>

#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace ganvoice {

struct SpeakerEncoder::Impl {
  ModelCard card;
  torch::jit::Module module;

  /* [N] samples -> the embedding; throws ModelError on a contract break. */
  std::vector<float> run (const std::vector<float> &samples)
  {
    c10::InferenceMode guard;
    torch::Tensor wav = torch::from_blob (const_cast<float *> (samples.data ()),
        { 1, (int64_t) samples.size () }, torch::kFloat)
                            .clone ();
    torch::jit::IValue out = module.forward ({ wav });
    if (!out.isTensor ())
      throw ModelError (card.path + ": the speaker encoder returned no tensor");
    torch::Tensor e = out.toTensor ().to (torch::kCPU, torch::kFloat);
    if (e.dim () != 2 || e.size (0) != 1 ||
        e.size (1) != card.speaker_embedding_dim)
      throw ModelError (card.path + ": the model breaks its card: output " +
          c10::str (e.sizes ()) + ", the card's speaker_embedding_dim " +
          std::to_string (card.speaker_embedding_dim) + " means [1, " +
          std::to_string (card.speaker_embedding_dim) + "]");
    e = e.contiguous ();
    const float *p = e.data_ptr<float> ();
    std::vector<float> v (p, p + e.numel ());
    for (float x : v)
      if (!std::isfinite (x))
        throw ModelError (card.path +
            ": the speaker encoder gave a "
            "non-finite embedding");
    return v;
  }
};

SpeakerEncoder::SpeakerEncoder (std::unique_ptr<Impl> impl)
    : impl_ (std::move (impl))
{
}
SpeakerEncoder::~SpeakerEncoder () = default;

std::unique_ptr<SpeakerEncoder>
SpeakerEncoder::load (
    const std::string &model_path, const std::string &card_path, int threads)
{
  auto impl = std::make_unique<Impl> ();
  impl->card = ModelCard::load (card_path);
  if (impl->card.kind != "speaker")
    throw ModelError (card_path + ": \"kind\" is \"" + impl->card.kind +
        "\", not \"speaker\"");
  if (impl->card.speaker_embedding_dim <= 0)
    throw ModelError (card_path +
        ": a speaker encoder's card needs \"speaker_embedding_dim\" and "
        "\"voices\"");
  if (impl->card.mel.sample_rate != kSampleRate)
    throw ModelError (card_path + ": \"sample_rate\" is " +
        std::to_string (impl->card.mel.sample_rate) +
        ", but speaker encoders are fed 16000 Hz audio");
  configure_torch (threads);
  torch::jit::Module module = load_torchscript (model_path, torch::kCPU);
  impl->module = module;
  try {
    impl->module = torch::jit::freeze (module);
  } catch (const std::exception &) {
  }
  /* Check the contract once on a second of quiet noise. */
  std::mt19937 rng (1);
  std::normal_distribution<float> noise (0.0f, 0.01f);
  std::vector<float> probe ((size_t) impl->card.mel.sample_rate);
  for (float &x : probe)
    x = noise (rng);
  try {
    impl->run (probe);
  } catch (const ModelError &) {
    throw;
  } catch (const std::exception &e) {
    throw ModelError (model_path +
        ": the model does not accept the input its card describes ([1, "
        "samples] audio at " +
        std::to_string (impl->card.mel.sample_rate) +
        " Hz): " + torch_error_gist (e.what ()));
  }
  return std::unique_ptr<SpeakerEncoder> (
      new SpeakerEncoder (std::move (impl)));
}

const ModelCard &
SpeakerEncoder::card () const
{
  return impl_->card;
}

int
SpeakerEncoder::sample_rate () const
{
  return impl_->card.mel.sample_rate;
}

int
SpeakerEncoder::dim () const
{
  return impl_->card.speaker_embedding_dim;
}

std::vector<float>
SpeakerEncoder::embed (const std::vector<float> &samples)
{
  if (samples.size () < (size_t) (kMinSeconds * sample_rate ()))
    throw ModelError ("the speaker encoder needs at least 0.5 s of speech");
  try {
    return impl_->run (samples);
  } catch (const ModelError &) {
    throw;
  } catch (const std::exception &e) {
    throw ModelError (impl_->card.path +
        ": the speaker encoder failed: " + torch_error_gist (e.what ()));
  }
}

double
cosine_similarity (const std::vector<float> &a, const std::vector<float> &b)
{
  double ab = 0.0, aa = 0.0, bb = 0.0;
  for (size_t i = 0; i < a.size () && i < b.size (); i++) {
    ab += (double) a[i] * b[i];
    aa += (double) a[i] * a[i];
    bb += (double) b[i] * b[i];
  }
  return aa > 0.0 && bb > 0.0 ? ab / std::sqrt (aa * bb) : 0.0;
}

VoiceBlend
blend_voices (const std::vector<float> &speaker, const ModelCard &encoder_card,
    const ModelCard &acoustic_card)
{
  if (speaker.size () != (size_t) encoder_card.speaker_embedding_dim)
    throw ModelError ("the speaker embedding has " +
        std::to_string (speaker.size ()) + " numbers, the encoder's card " +
        std::to_string (encoder_card.speaker_embedding_dim));
  const double temperature = encoder_card.blend_temperature > 0.0
      ? encoder_card.blend_temperature
      : 0.05;
  const size_t n = acoustic_card.voices.size ();
  std::vector<double> sim (n, -HUGE_VAL);
  double best = -HUGE_VAL;
  VoiceBlend b;
  /* A library voice (with a profile) is left out: its embedding alone is
   * not its sound. */
  for (size_t i = 0; i < n; i++)
    for (const Voice &v : encoder_card.voices)
      if (v.name == acoustic_card.voices[i].name &&
          acoustic_card.voices[i].profile.empty ()) {
        sim[i] = cosine_similarity (speaker, v.embedding);
        if (sim[i] > best) {
          best = sim[i];
          b.nearest = i;
        }
      }
  if (!std::isfinite (best))
    throw ModelError (encoder_card.path +
        ": the speaker encoder's card describes none of the voices of the "
        "acoustic model " +
        acoustic_card.name);
  b.similarity = best;
  b.weights.assign (n, 0.0);
  double total = 0.0;
  for (size_t i = 0; i < n; i++)
    if (std::isfinite (sim[i]))
      total += b.weights[i] = std::exp ((sim[i] - best) / temperature);
  for (double &w : b.weights)
    w /= total;
  b.embedding = mix_voices (b.weights, acoustic_card);
  return b;
}

std::vector<float>
mix_voices (const std::vector<double> &weights, const ModelCard &acoustic_card)
{
  std::vector<float> mix ((size_t) acoustic_card.speaker_embedding_dim, 0.0f);
  for (size_t i = 0; i < weights.size () && i < acoustic_card.voices.size ();
       i++)
    for (size_t k = 0; k < mix.size (); k++)
      mix[k] += (float) (weights[i] * acoustic_card.voices[i].embedding[k]);
  return mix;
}

} // namespace ganvoice

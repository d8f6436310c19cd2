/* ganvoice: the acoustic model runtime on LibTorch.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "runtime/torch-runtime.h"

#include <ganvoice/acoustic-delta.h>
#include <ganvoice/acoustic-model.h>
#include <ganvoice/vocoder.h>

#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/passes/frozen_graph_optimizations.h>
#include <torch/script.h>

#include <glib.h>

#include <cmath>
#include <map>
#include <sstream>

namespace ganvoice {
namespace {

std::string
str (double value)
{
  std::ostringstream s;
  s << value;
  return s.str ();
}

const char *kMethods[] = { "durations", "decode" };

/* Adds a deep clone's delta to the module's parameters (before freezing,
 * which turns them into constants). */
void
apply_delta (torch::jit::Module &module, const AcousticDelta &delta,
    const std::string &model_path)
{
  if (!delta.base_sha256.empty () &&
      file_sha256 (model_path) != delta.base_sha256)
    throw ModelError ("the deep voice was made for another acoustic model (" +
        (delta.base_model.empty () ? std::string ("unnamed")
                                   : delta.base_model) +
        ", SHA-256 " + delta.base_sha256.substr (0, 12) + "…) than " +
        model_path);
  std::map<std::string, torch::Tensor> params;
  for (const auto &p : module.named_parameters (true))
    params.emplace (p.name, p.value);
  torch::NoGradGuard no_grad;
  for (const AcousticDelta::Tensor &t : delta.tensors) {
    auto it = params.find (t.name);
    if (it == params.end ())
      throw ModelError (model_path + ": the deep voice changes \"" + t.name +
          "\", which the model does not have");
    torch::Tensor &w = it->second;
    if (t.rows) {
      /* New rows of the phoneme embedding, one per added phoneme. */
      std::vector<int64_t> tail (t.shape.begin () + 1, t.shape.end ());
      if (t.shape.empty () || t.shape[0] != (int64_t) delta.phonemes.size () ||
          w.dim () != (int64_t) t.shape.size () ||
          w.sizes ().slice (1).vec () != tail)
        throw ModelError (model_path + ": the deep voice's new rows of \"" +
            t.name + "\" (" + c10::str (c10::IntArrayRef (t.shape)) +
            ") do not fit the parameter " + c10::str (w.sizes ()) +
            " and its " + std::to_string (delta.phonemes.size ()) +
            " added phonemes");
      std::vector<float> rows = t.data;
      torch::Tensor r = torch::from_blob (rows.data (), t.shape, torch::kFloat)
                            .to (w.device (), w.scalar_type ());
      torch::jit::Module owner = module;
      std::string path = t.name;
      for (size_t dot; (dot = path.find ('.')) != std::string::npos;
           path = path.substr (dot + 1))
        owner = owner.attr (path.substr (0, dot)).toModule ();
      owner.setattr (path, torch::cat ({ w, r }, 0));
      continue;
    }
    if (w.sizes ().vec () != t.shape)
      throw ModelError (model_path + ": the deep voice's \"" + t.name +
          "\" has shape " + c10::str (c10::IntArrayRef (t.shape)) +
          ", the model's " + c10::str (w.sizes ()));
    std::vector<float> full = AcousticDelta::expand (t);
    torch::Tensor d =
        torch::from_blob (full.data (), t.shape, torch::kFloat).clone ();
    w.add_ (d.to (w.device (), w.scalar_type ()));
  }
}

} // namespace

struct AcousticModel::Impl {
  ModelCard card;
  PhonemeInventory inventory{ {} };
  torch::jit::Module module;
  torch::Device device = torch::kCPU;
  std::string graph = "as exported";

  void check_inputs (
      const std::vector<int> &ids, const std::vector<float> &embedding) const
  {
    if (embedding.size () != (size_t) card.speaker_embedding_dim)
      throw ModelError (card.path + ": the speaker embedding has " +
          std::to_string (embedding.size ()) + " values, the model takes " +
          std::to_string (card.speaker_embedding_dim));
    for (size_t i = 0; i < ids.size (); i++)
      if (ids[i] < 0 || (size_t) ids[i] >= inventory.size ())
        throw ModelError (card.path + ": phoneme id " +
            std::to_string (ids[i]) + " at position " + std::to_string (i) +
            " is outside the inventory (0 .. " +
            std::to_string (inventory.size () - 1) + ")");
    for (float x : embedding)
      if (!std::isfinite (x))
        throw ModelError (card.path + ": the speaker embedding is not finite");
  }

  torch::Tensor ids_tensor (const std::vector<int> &ids) const
  {
    torch::Tensor t = torch::empty ({ 1, (int64_t) ids.size () }, torch::kLong);
    int64_t *p = t.data_ptr<int64_t> ();
    for (size_t i = 0; i < ids.size (); i++)
      p[i] = ids[i];
    return t.to (device);
  }

  torch::Tensor speaker_tensor (const std::vector<float> &embedding) const
  {
    return torch::from_blob (const_cast<float *> (embedding.data ()),
        { 1, (int64_t) embedding.size () }, torch::kFloat)
        .clone ()
        .to (device);
  }

  /* Runs @method, turning Torch errors into ModelError. */
  torch::Tensor call (const char *method, std::vector<torch::jit::IValue> in)
  {
    torch::jit::IValue out;
    try {
      c10::InferenceMode guard;
      out = module.get_method (method) (std::move (in));
    } catch (const std::exception &e) {
      throw ModelError (card.path + ": the model's " + method +
          "() failed: " + torch_error_gist (e.what ()));
    }
    if (!out.isTensor ())
      throw ModelError (
          card.path + ": the model's " + method + "() returned no tensor");
    return out.toTensor ().to (torch::kCPU, torch::kFloat).contiguous ();
  }

  std::vector<float> durations (
      const std::vector<int> &ids, const std::vector<float> &embedding)
  {
    check_inputs (ids, embedding);
    if (ids.empty ())
      return {};
    torch::Tensor d =
        call ("durations", { ids_tensor (ids), speaker_tensor (embedding) });
    if (d.dim () != 2 || d.size (0) != 1 || d.size (1) != (int64_t) ids.size ())
      throw ModelError (card.path +
          ": the model breaks the acoustic contract: "
          "durations() of " +
          std::to_string (ids.size ()) + " phonemes gave shape " +
          c10::str (d.sizes ()) + ", not [1, " + std::to_string (ids.size ()) +
          "]");
    std::vector<float> out (
        d.data_ptr<float> (), d.data_ptr<float> () + d.numel ());
    for (float &x : out) {
      if (!std::isfinite (x))
        throw ModelError (card.path +
            ": the model's durations() returned a "
            "value that is not finite");
      x = std::max (x, 0.0f);
    }
    return out;
  }

  Mel decode (const std::vector<int> &ids, const std::vector<float> &embedding,
      const std::vector<int64_t> &frames, double pitch_shift)
  {
    check_inputs (ids, embedding);
    if (frames.size () != ids.size ())
      throw ModelError (card.path + ": " + std::to_string (frames.size ()) +
          " durations for " + std::to_string (ids.size ()) + " phonemes");
    int64_t total = 0;
    for (int64_t f : frames) {
      if (f < 0)
        throw ModelError (card.path + ": a negative duration (" +
            std::to_string (f) + " frames)");
      total += f;
    }
    if (!std::isfinite (pitch_shift))
      throw ModelError (card.path + ": pitch_shift is not finite");
    Mel mel;
    mel.n_mels = (size_t) card.mel.n_mels;
    if (total == 0)
      return mel;
    torch::Tensor f = torch::from_blob (const_cast<int64_t *> (frames.data ()),
        { 1, (int64_t) frames.size () }, torch::kLong)
                          .clone ()
                          .to (device);
    torch::Tensor m = call ("decode",
        { ids_tensor (ids), speaker_tensor (embedding), f, pitch_shift });
    if (m.dim () != 3 || m.size (0) != 1 || m.size (1) != card.mel.n_mels ||
        m.size (2) != total)
      throw ModelError (card.path +
          ": the model breaks the acoustic contract: "
          "decode() of " +
          std::to_string (total) + " frames gave shape " +
          c10::str (m.sizes ()) + ", the card's n_mels " +
          std::to_string (card.mel.n_mels) + " means [1, " +
          std::to_string (card.mel.n_mels) + ", " + std::to_string (total) +
          "]");
    mel.frames = (size_t) total;
    mel.data.assign (m.data_ptr<float> (), m.data_ptr<float> () + m.numel ());
    return mel;
  }
};

AcousticModel::AcousticModel (std::unique_ptr<Impl> impl)
    : impl_ (std::move (impl))
{
}

AcousticModel::~AcousticModel () = default;

std::unique_ptr<AcousticModel>
AcousticModel::load (const std::string &model_path,
    const std::string &card_path, const AcousticOptions &options)
{
  auto impl = std::make_unique<Impl> ();
  impl->card = ModelCard::load (card_path);
  if (impl->card.kind != "acoustic")
    throw ModelError (card_path + ": \"kind\" is \"" + impl->card.kind +
        "\", not \"acoustic\"");
  if (impl->card.phonemes.empty ())
    throw ModelError (card_path +
        ": the model card has no \"phonemes\" "
        "field (or it is empty)");
  if (impl->card.voices.empty ())
    throw ModelError (card_path +
        ": the model card has no \"voices\" "
        "field (or it is empty): an acoustic model needs at least one "
        "built-in voice");
  impl->inventory = PhonemeInventory (impl->card.phonemes);

  impl->device = select_device (options.device);
  configure_torch (options.threads);
  impl->module = load_torchscript (model_path, impl->device);
  /* The sizes the model was built with: Torch does not range-check
   * embedding lookups on every path, so ids must be known to fit. */
  auto check_size = [&] (const char *attr, int64_t expected) {
    if (!impl->module.hasattr (attr))
      throw ModelError (model_path +
          ": the model breaks the acoustic "
          "contract: it has no int attribute " +
          attr);
    torch::jit::IValue value = impl->module.attr (attr);
    if (!value.isInt ())
      throw ModelError (model_path +
          ": the model breaks the acoustic "
          "contract: its attribute " +
          attr + " is no int");
    if (value.toInt () != expected)
      throw ModelError (model_path + ": the model's " + attr + " is " +
          std::to_string (value.toInt ()) + ", but its card " + card_path +
          " says " + std::to_string (expected));
  };
  for (const char *method : kMethods)
    if (!impl->module.find_method (method))
      throw ModelError (model_path +
          ": the model breaks the acoustic "
          "contract: it has no method " +
          method +
          "() (export it with "
          "@torch.jit.export)");
  check_size ("n_phonemes", (int64_t) impl->card.phonemes.size ());
  check_size ("speaker_embedding_dim", impl->card.speaker_embedding_dim);
  if (options.delta) {
    apply_delta (impl->module, *options.delta, model_path);
    if (!options.delta->phonemes.empty ()) {
      std::vector<std::string> symbols = impl->card.phonemes;
      for (const std::string &p : options.delta->phonemes) {
        if (impl->inventory.id (p) >= 0)
          throw ModelError (model_path +
              ": the deep voice adds the phoneme \"" + p +
              "\", which the model already has");
        symbols.push_back (p);
      }
      bool has_rows = false;
      for (const AcousticDelta::Tensor &t : options.delta->tensors)
        has_rows = has_rows || t.rows;
      if (!has_rows)
        throw ModelError (model_path +
            ": the deep voice adds phonemes but no embedding rows for them");
      impl->inventory = PhonemeInventory (symbols);
    }
  }
  /* Freeze with both methods kept, and optimise their graphs; a model that
   * cannot be frozen is used as it is. */
  try {
    torch::jit::Module frozen =
        torch::jit::freeze_module (impl->module, { kMethods[0], kMethods[1] });
    for (const char *method : kMethods) {
      std::shared_ptr<torch::jit::Graph> graph =
          frozen.get_method (method).graph ();
      torch::jit::OptimizeFrozenGraph (graph, true);
    }
    impl->module = frozen;
    impl->graph = "frozen, optimized";
  } catch (const std::exception &) {
  }

  /* Check the contract once: ids from both ends of the inventory, the first
   * voice, a few frames each. */
  const std::vector<float> &speaker = impl->card.voices.front ().embedding;
  std::vector<int> ids = { 0, (int) impl->card.phonemes.size () - 1, 0 };
  try {
    impl->durations (ids, speaker);
    impl->decode (ids, speaker, { 2, 1, 3 }, 0.0);
  } catch (const ModelError &e) {
    std::string what = e.what ();
    if (what.find ("contract") != std::string::npos)
      throw;
    throw ModelError (model_path +
        ": the model does not accept the input its "
        "card describes (" +
        std::to_string (impl->card.phonemes.size ()) +
        " phonemes, speaker embeddings of " +
        std::to_string (impl->card.speaker_embedding_dim) + "): " + what);
  }
  return std::unique_ptr<AcousticModel> (new AcousticModel (std::move (impl)));
}

const ModelCard &
AcousticModel::card () const
{
  return impl_->card;
}

const PhonemeInventory &
AcousticModel::inventory () const
{
  return impl_->inventory;
}

const std::vector<Voice> &
AcousticModel::voices () const
{
  return impl_->card.voices;
}

std::string
AcousticModel::device () const
{
  return impl_->device.str ();
}

std::string
AcousticModel::graph () const
{
  return impl_->graph;
}

const std::vector<float> &
AcousticModel::voice (const std::string &name) const
{
  std::string names;
  for (const Voice &v : impl_->card.voices) {
    if (v.name == name)
      return v.embedding;
    names += (names.empty () ? "" : ", ") + v.name;
  }
  throw ModelError (impl_->card.path + ": no built-in voice \"" + name +
      "\" (there are: " + names + ")");
}

void
AcousticModel::check_compatible (const ModelCard &vocoder) const
{
  const MelSpec &a = impl_->card.mel, &v = vocoder.mel;
  auto fail = [&] (const char *field, const std::string &mine,
                  const std::string &theirs) {
    throw ModelError ("the acoustic model " + impl_->card.path +
        " and the vocoder " + vocoder.path + " differ in \"" + field +
        "\": " + mine + " and " + theirs);
  };
  auto number = [&] (const char *field, double mine, double theirs) {
    if (mine != theirs)
      fail (field, str (mine), str (theirs));
  };
  number ("sample_rate", a.sample_rate, v.sample_rate);
  number ("hop", a.hop, v.hop);
  number ("n_fft", a.n_fft, v.n_fft);
  number ("win", a.win, v.win);
  number ("n_mels", a.n_mels, v.n_mels);
  number ("fmin", a.fmin, v.fmin);
  number ("fmax", a.fmax, v.fmax);
  if (a.scale != v.scale)
    fail ("scale", a.scale, v.scale);
  if (a.norm != v.norm)
    fail ("norm", a.norm, v.norm);
  number ("clamp", a.clamp, v.clamp);
}

std::vector<float>
AcousticModel::durations (
    const std::vector<int> &ids, const std::vector<float> &embedding)
{
  return impl_->durations (ids, embedding);
}

Mel
AcousticModel::decode (const std::vector<int> &ids,
    const std::vector<float> &embedding, const std::vector<int64_t> &frames,
    double pitch_shift)
{
  return impl_->decode (ids, embedding, frames, pitch_shift);
}

} // namespace ganvoice

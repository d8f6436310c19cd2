/* ganvoice: the model card, a JSON file beside every shipped model.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/ganvoice-prelude.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ganvoice {

/* Any problem with a model or its card: the message says what and where. */
class ModelError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/* The mel front-end a model was trained with. */
struct MelSpec {
  int sample_rate = 0;
  int n_fft = 0;
  int hop = 0;
  int win = 0;
  int n_mels = 0;
  double fmin = 0.0;
  double fmax = 0.0;
  std::string scale; /* "slaney" or "htk" */
  std::string norm; /* "slaney" (area) or "none" */
  double clamp = 1e-5; /* log(max(mel, clamp)) */
};

/* A built-in voice of an acoustic model: a speaker embedding, and for a
 * voice of the voice library (models/acoustic/voice_library.py) a voice
 * profile file with its fine-tuned acoustic delta. */
struct Voice {
  std::string name;
  std::string language; /* ISO 639-1 or an espeak-ng voice name */
  std::string gender; /* "female" or "male" */
  std::vector<float> embedding;
  /* The median F0 of the voice's training speech, in Hz, where the card
   * gives it ("f0_median_hz"); 0 when it does not. */
  double f0_median_hz = 0.0;
  /* The voice profile (docs/voice-profile.md, version 2) that carries the
   * voice's acoustic delta, from the card's "profile"; "" for a voice that
   * is its embedding alone. ModelCard::load resolves a relative path
   * against the card's folder (parse leaves it as written). The
   * synthesizer loads it with the model (Synthesizer::load), and the
   * voice speaks with the delta like `voice=PROFILE`. Such a voice's
   * embedding alone is not its sound: cloning does not blend or start from
   * it (nearest_voice, blend_voices, adapt_voice). */
  std::string profile;
};

struct ModelCard {
  std::string path; /* where it was read from, for messages */
  std::string name;
  std::string kind; /* "vocoder", "acoustic", "speaker" */
  std::string version;
  MelSpec mel;
  bool f0_input = false;

  /* Acoustic models only (kind "acoustic"; checked where present, and
   * required by AcousticModel::load): the phoneme symbols (index = id), the
   * speaker embedding size, and the built-in voices. */
  std::vector<std::string> phonemes;
  int speaker_embedding_dim = 0;
  std::vector<Voice> voices;

  /* Acoustic models that can be fine-tuned (docs/models.md, "fine_tune"):
   * the exported training method, the prefixes of the parameters adapted
   * by low-rank updates (convolutions) and by full updates, and the
   * phonemes that take no frames. Empty method: not fine-tunable. */
  struct FineTuning {
    std::string method;
    std::vector<std::string> low_rank;
    std::vector<std::string> full;
    std::vector<std::string> zero_frame_phonemes;
    /* The phoneme embedding [n_phonemes, ...] that gets new rows for
     * phonemes the model never heard ("" : none are added). */
    std::string embedding;
  } fine_tune;
  /* The normalisation of log-F0 the acoustic model's pitch uses
   * ("f0_normalisation": log_f0_mean, log_f0_std); std 0: not given. */
  double log_f0_mean = 0.0;
  double log_f0_std = 0.0;

  /* Speaker encoders only (kind "speaker"): "voices" hold the encoder's
   * embeddings of the built-in voices of the acoustic model named
   * "acoustic_model", and "blend_temperature" (optional, > 0) is the
   * softmax temperature of blend_voices() (speaker-encoder.h). */
  std::string acoustic_model;
  double blend_temperature = 0.0;

  /* Reads and checks a card. Throws ModelError naming the file and field. */
  GANVOICE_API static ModelCard load (const std::string &path);
  GANVOICE_API static ModelCard parse (
      std::string_view json, const std::string &origin);
};

} // namespace ganvoice

/* ganvoice: a deep clone's weights delta for the acoustic model
 * (acoustic-delta.cpp; made by models/acoustic/finetune.py).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/ganvoice-prelude.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ganvoice {

/* What fine-tuning on one person's speech changed in the acoustic model:
 * per named parameter, either a full update (added as is) or a low-rank
 * one (B [out, rank] times A [rank, in * kernel], reshaped to the
 * parameter). A voice profile carries it in "acoustic_delta"
 * (docs/voice-profile.md); the runtime adds it to the base model's weights
 * when it loads the voice. */
struct AcousticDelta {
  static constexpr const char *kFormat = "ganvoice-acoustic-delta";
  /* Version 2 adds phonemes the base model does not know (@phonemes and
   * "rows" tensors); a delta without them is written as version 1. */
  static constexpr int kVersion = 2;

  struct Tensor {
    std::string name; /* the parameter, e.g. "decoder.0.conv.weight" */
    std::vector<int64_t> shape;
    int rank = 0; /* > 0: low-rank (a, b); 0: full (data) */
    /* Rows appended to the parameter (the phoneme embedding's rows of
     * @phonemes), data [product of shape], instead of added to it. */
    bool rows = false;
    std::vector<float> a; /* [rank, product of shape[1:]] */
    std::vector<float> b; /* [shape[0], rank] */
    std::vector<float> data; /* [product of shape] */
  };

  std::string base_model; /* the base model card's name */
  std::string base_sha256; /* of the base TorchScript file; "" = unchecked */
  std::vector<Tensor> tensors;
  /* Phonemes added to the base model's inventory, in id order after it:
   * learned for this voice (e.g. Czech "c" and "ɟ" for a model that never
   * heard them). */
  std::vector<std::string> phonemes;
  /* How it was made, for people (written and read back, not used):
   * the fields the Python recipe writes too. 0 / "": not known. */
  struct Record {
    std::string start_voice; /* the built-in voice training started from */
    int steps = 0;
    double seconds = 0.0; /* of training */
    double speech_seconds = 0.0;
    int utterances = 0;
    double mel_l1_start = 0.0; /* the start voice's teacher-forced mel L1 */
    double mel_l1_end = 0.0; /* the last steps' mean */
  } record;
  /* Identifies the content (for caches): made by finish (). */
  std::string digest;

  /* Checks every tensor's sizes against its shape and computes @digest.
   * Throws ModelError naming the tensor. */
  GANVOICE_API void finish (const std::string &origin);

  /* Numbers stored (a + b + data of all tensors). */
  GANVOICE_API size_t stored_values () const;

  /* The update of one tensor as a full [product of shape] array. */
  GANVOICE_API static std::vector<float> expand (const Tensor &t);
};

/* Base64 of little-endian float32 values, the delta's storage in JSON. */
GANVOICE_API std::string encode_floats_base64 (const std::vector<float> &v);
/* Throws ModelError (@what names the field) for bad base64 or a length
 * that is not a whole number of floats. */
GANVOICE_API std::vector<float> decode_floats_base64 (
    const std::string &text, const std::string &what);

/* SHA-256 (hex) of a file; throws ModelError when it cannot be read. */
GANVOICE_API std::string file_sha256 (const std::string &path);

} // namespace ganvoice

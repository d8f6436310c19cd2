/* ganvoice: the learned speaker encoder, reference speech to a speaker
 * embedding, and how a cloned voice's acoustic embedding is made from it.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/model-card.h>

#include <memory>
#include <string>
#include <vector>

namespace ganvoice {

/* A TorchScript speaker encoder (kind "speaker", models/speaker/) checked
 * against its card: mono float audio at the card's sample_rate in, one
 * unit-length vector of speaker_embedding_dim numbers out. The card's
 * "voices" hold the encoder's embeddings of the acoustic model's built-in
 * voices (from their recordings); "acoustic_model" names that model. */
class SpeakerEncoder {
public:
  /* The rate of the audio it takes (the card must say so). */
  static constexpr int kSampleRate = 16000;
  /* The shortest input the encoder takes: 0.5 s. */
  static constexpr double kMinSeconds = 0.5;

  /* Throws ModelError for a missing or corrupt file, a card of another
   * kind, or a model that breaks the card's contract (run once on noise).
   * @threads: LibTorch intra-op threads (0 leaves the setting). */
  GANVOICE_API static std::unique_ptr<SpeakerEncoder> load (
      const std::string &model_path, const std::string &card_path,
      int threads = 0);
  GANVOICE_API ~SpeakerEncoder ();

  GANVOICE_API const ModelCard &card () const;
  GANVOICE_API int sample_rate () const;
  GANVOICE_API int dim () const;

  /* The embedding of @samples (mono, the card's rate, full scale +-1).
   * Throws ModelError when there are fewer than kMinSeconds. */
  GANVOICE_API std::vector<float> embed (const std::vector<float> &samples);

  struct Impl;

private:
  explicit SpeakerEncoder (std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/* Cosine similarity of two vectors of one length (0 when either is 0). */
GANVOICE_API double cosine_similarity (
    const std::vector<float> &a, const std::vector<float> &b);

/* How a speaker embedding conditions the acoustic model: the built-in
 * voices' acoustic embeddings mixed with softmax (cosine / temperature)
 * weights, from the encoder card's embeddings of those voices. */
struct VoiceBlend {
  std::vector<float> embedding; /* for the acoustic model */
  std::vector<double> weights; /* per acoustic card voice */
  size_t nearest = 0; /* the acoustic card voice with the largest weight */
  double similarity = 0.0; /* its cosine similarity */
};

/* The acoustic embeddings of @acoustic_card's voices mixed with @weights
 * (one per voice, in the card's order). */
GANVOICE_API std::vector<float> mix_voices (
    const std::vector<double> &weights, const ModelCard &acoustic_card);

/* Throws ModelError when the encoder card describes none of the acoustic
 * card's voices, or @speaker has the wrong length. */
GANVOICE_API VoiceBlend blend_voices (const std::vector<float> &speaker,
    const ModelCard &encoder_card, const ModelCard &acoustic_card);

} // namespace ganvoice

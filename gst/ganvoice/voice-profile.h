/* ganvoice: voice profiles, the versioned file that describes one voice.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/acoustic-delta.h>
#include <ganvoice/mel-statistics.h>
#include <ganvoice/model-card.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ganvoice {

/* A voice profile file that cannot be used: the message names the file and
 * the field. A ModelError, so that callers of the model runtime catch it. */
class VoiceProfileError : public ModelError {
public:
  using ModelError::ModelError;
};

/* What was measured on the reference audio of a cloned voice. */
struct VoiceTraits {
  double f0_median_hz = 0.0; /* median F0 of the voiced frames */
  double f0_low_hz = 0.0; /* F0 range: low end (e.g. 5th percentile) */
  double f0_high_hz = 0.0; /*           high end (e.g. 95th percentile) */
  double formant_scale = 1.0; /* vocal-tract length relative to the average */
  /* The long-term spectral envelope: mean log-mel of each band (e.g. 32
   * bands); the length is the measurer's, not fixed by the format. */
  std::vector<float> spectral_envelope;
  double speaking_rate = 0.0; /* phonemes per second */
  /* Syllable nuclei per second of speech, as measured (0: not known;
   * optional in the file, "syllable_rate"). */
  double syllable_rate = 0.0;
};

/* One voice: a speaker embedding for an acoustic model, with what is known
 * about it. Built-in voices (the acoustic card's "voices") and cloned
 * voices are the same kind of thing; built-in ones have no traits.
 * The file format is docs/voice-profile.md: JSON with
 * "format": "ganvoice-voice-profile" and "version": 1, or 2 for a deep
 * clone (one with an "acoustic_delta"). */
struct VoiceProfile {
  static constexpr const char *kFormat = "ganvoice-voice-profile";
  /* The newest version read; written only for a deep clone. */
  static constexpr int kVersion = 2;
  /* The custom downstream event (and element message field) that carries
   * a profile between elements: structure kEvent, its JSON in the string
   * field "profile" (speakerembed sends it, ganvoice takes it). */
  static constexpr const char *kEvent = "ganvoice-voice-profile";

  std::string name;
  std::string language; /* ISO 639-1 or an espeak-ng voice; may be empty */
  std::string gender; /* "female", "male" or empty */
  std::string model; /* the acoustic model's card name, if known */
  /* For a cloned voice, the built-in voice of @model nearest to it
   * (optional in the file, "base_voice"); the synthesizer maps the measured
   * traits of @embedding's voice onto @traits (voice-conversion.h). */
  std::string base_voice;
  std::vector<float> embedding;
  /* For a cloned voice: the learned speaker encoder's embedding of the
   * reference speech, and the encoder's card name (both optional in the
   * file, "speaker_embedding" and "speaker_encoder"). @embedding is then
   * made from it (blend_voices() in speaker-encoder.h). */
  std::vector<float> speaker_embedding;
  std::string speaker_encoder;
  std::optional<VoiceTraits> traits;
  /* For a cloned voice: the reference speech's log-mel mean and
   * covariance (optional in the file, "mel_statistics"); the synthesizer
   * maps its own speech's statistics onto them (mel-statistics.h). */
  MelStatistics mel_statistics;
  /* A deep clone: the acoustic model fine-tuned on the person's speech,
   * as a delta to the base model's weights (optional in the file,
   * "acoustic_delta"; version 2). The synthesizer speaks the voice with
   * the base model plus the delta, @embedding as its speaker. */
  std::shared_ptr<const AcousticDelta> acoustic_delta;
  std::string path; /* where it was read from ("" if built in) */

  /* Reads and checks a profile file. @embedding_dim, when not 0, is the
   * acoustic model's E: an embedding of another length is an error.
   * Throws VoiceProfileError for a missing or unreadable file, another
   * format, a newer version, a missing or mistyped field. */
  GANVOICE_API static VoiceProfile load (
      const std::string &path, int embedding_dim = 0);
  GANVOICE_API static VoiceProfile parse (
      std::string_view json, const std::string &origin, int embedding_dim = 0);

  /* The profile as JSON (the format above; round-trips through parse). */
  GANVOICE_API std::string to_json () const;
  /* Writes to_json() to @path, through a temporary file and a rename.
   * Throws VoiceProfileError when it cannot. */
  GANVOICE_API void save (const std::string &path) const;

  /* A built-in voice of the acoustic model whose card is named @model. */
  GANVOICE_API static VoiceProfile from_voice (
      const Voice &voice, const std::string &model = "");
};

} // namespace ganvoice

/* ganvoice: the whole text-to-speech engine, text to fitted samples.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/acoustic-model.h>
#include <ganvoice/slot-fit.h>
#include <ganvoice/text-frontend.h>
#include <ganvoice/vocoder.h>
#include <ganvoice/voice-conversion.h>
#include <ganvoice/voice-profile.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ganvoice {

struct SynthesizerOptions {
  std::string acoustic_model; /* TorchScript file */
  std::string acoustic_card; /* its model card */
  std::string vocoder_model;
  std::string vocoder_card;
  std::string device = "cpu"; /* "cpu" or "cuda" */
  int threads = 0; /* LibTorch intra-op threads; 0 leaves them */
  /* The vocoder's streaming chunks (see VocoderOptions). */
  size_t chunk_frames = 128;
  size_t context_frames = 32;
  /* Long texts are split into pieces of at most this many phonemes, at
   * pauses where possible, each run through the models on its own. */
  size_t max_piece_phonemes = 400;
  /* The first piece is shorter, so that a long cue's first audio comes
   * early (0: as long as the others). */
  size_t first_piece_phonemes = 120;

  /* Every field: options that compare equal load the same models the
   * same way (the elements reload on a change). */
  bool operator== (const SynthesizerOptions &o) const
  {
    return acoustic_model == o.acoustic_model &&
        acoustic_card == o.acoustic_card && vocoder_model == o.vocoder_model &&
        vocoder_card == o.vocoder_card && device == o.device &&
        threads == o.threads && chunk_frames == o.chunk_frames &&
        context_frames == o.context_frames &&
        max_piece_phonemes == o.max_piece_phonemes &&
        first_piece_phonemes == o.first_piece_phonemes;
  }
  bool operator!= (const SynthesizerOptions &o) const
  {
    return !(*this == o);
  }
};

/* The model files of @given, completed: an empty model is the shipped one
 * (default_model_file), an empty card the one beside its given model, else
 * the shipped card. Where a shipped file is missing, @error (when given)
 * gets a message naming it and every place looked at. The one lookup of
 * the elements and the tools. */
GANVOICE_API SynthesizerOptions resolve_model_options (
    const SynthesizerOptions &given, std::string *error = nullptr);
/* resolve_model_options(), throwing ModelError with that message. */
GANVOICE_API SynthesizerOptions require_model_options (
    const SynthesizerOptions &given);

/* A text turned into phoneme ids and natural durations: everything that
 * comes before the slot is known. Made by Synthesizer::prepare(). */
struct Utterance {
  struct Piece {
    std::vector<int> ids;
    std::vector<int64_t> frames; /* natural whole-frame durations */
  };
  std::vector<Piece> pieces;
  std::vector<float> embedding;
  double rate = 1.0; /* the caller's speaking rate */
  int64_t natural_frames = 0; /* all pieces, at @rate */
  int64_t natural = 0; /* the same in nanoseconds */
  size_t phonemes = 0; /* symbols that reached the model */
  std::string language; /* the espeak-ng voice used */
  bool fell_back = false; /* the language asked for was unknown */
  std::vector<std::string> skipped; /* symbols the model does not know */
  std::vector<std::string> warnings; /* for people: fallback, skipped */
  /* A cloned voice's trait mapping, applied by render() (null: none). */
  std::shared_ptr<const VoiceConversion> conversion;
  /* A deep clone's adapted acoustic model (null: the synthesizer's). */
  std::shared_ptr<AcousticModel> acoustic;

  bool empty () const
  {
    return natural_frames == 0;
  }
};

/* Every rendered sample is at or below this peak (dBFS): a peak limiter
 * ends the chain, as the vocoder can overshoot full scale. */
constexpr double kSpeechCeilingDb = -1.0;

/* What a cue came to. Times in nanoseconds on the cue timeline. */
struct SpeakResult {
  int64_t natural = 0; /* speech length at the natural (caller's) rate */
  FitPlan plan;
  int sample_rate = 0;
  /* The fitted audio, starting at plan.start; left empty when the audio
   * went to a chunk callback instead. */
  std::vector<float> samples;
  size_t n_samples = 0; /* how many were (or will be) produced */
  bool cancelled = false; /* the chunk callback asked to stop */
  std::string language;
  bool fell_back = false;
  std::vector<std::string> skipped;
  std::vector<std::string> warnings;
};

struct SpeakRequest {
  std::string text;
  std::string language; /* "" means "en" */
  /* The voice: its embedding (E floats); empty means the first built-in. */
  std::vector<float> embedding;
  /* Or a whole voice (used instead of @embedding when set): a cloned one
   * has its traits applied (see prepare_voice()). */
  std::optional<VoiceProfile> voice;
  double rate = 1.0; /* speaking rate, 0.5 .. 2 (1: as trained) */
  double pitch = 0.0; /* semitones, -12 .. 12 */
  /* The slot; fit.natural is filled in. The default (0, 0, no next cue)
   * leaves the speech at its natural length, starting at 0. */
  FitRequest fit;
};

/* Where a Synthesizer's time went: CPU seconds of the calling thread per
 * stage, summed over every prepare() and render() since it was made (or
 * reset_times()). The vocoder's figure includes its post-filter, which
 * runs inside the model; shaping is the cut, fade, limiter and the chunk
 * callback. */
struct SynthesisTimes {
  double frontend = 0.0; /* espeak-ng: text to phonemes */
  double durations = 0.0; /* the acoustic model's duration predictor */
  double decode =
      0.0; /* the acoustic model's mel decoder, stretch, clone map */
  double vocoder = 0.0; /* mel to waveform, with the post-filter */
  double shaping = 0.0; /* cut, fade, limiter, and the chunk callback */
  double audio = 0.0; /* seconds of audio rendered */
  size_t utterances = 0; /* render() calls that made audio */

  double total () const
  {
    return frontend + durations + decode + vocoder + shaping;
  }
};

/* Owns a TextFrontend, an AcousticModel and a Vocoder, and runs them for
 * one cue at a time: text -> phonemes -> ids and durations (prepare), the
 * slot plan (plan), then decode at the plan's rate and pitch, vocode, and
 * the plan's stretch, clip and fade (render).
 * One caller at a time (not thread-safe), except that render() may run on
 * several threads at once, beside one other call (the models are only
 * read, and each render keeps its own times until it ends); errors are
 * ModelError (or FrontendError, VoiceProfileError), never crashes. */
class Synthesizer {
public:
  /* Loads and checks both models and that their mel front-ends match. */
  GANVOICE_API static std::unique_ptr<Synthesizer> load (
      const SynthesizerOptions &options);
  GANVOICE_API ~Synthesizer ();

  GANVOICE_API int sample_rate () const;
  GANVOICE_API const AcousticModel &acoustic () const;
  GANVOICE_API const Vocoder &vocoder () const;
  GANVOICE_API const SynthesizerOptions &options () const;

  /* The acoustic model's built-in voices, as profiles. The first call
   * reads every voice library profile (their weights deltas); voice ()
   * reads only the one asked for, and acoustic ().voices () lists the
   * card's without reading any. */
  GANVOICE_API const std::vector<VoiceProfile> &voices () const;
  /* A built-in voice by name, or a voice profile file (a value with a '/'
   * or ending in ".json", or an existing file): its embedding is checked
   * against the model. Throws VoiceProfileError naming the voices. */
  GANVOICE_API VoiceProfile voice (const std::string &name_or_path) const;

  /* The espeak-ng language to phonemize @language ("" = "en") with for a
   * voice trained on @voice_language: the voice's regional variant when
   * both are the same language ("en" with an "en-us" voice gives "en-us",
   * the accent the voice was trained on), else @language. */
  GANVOICE_API static std::string spoken_language (
      const std::string &language, const std::string &voice_language);

  /* Text to ids and natural durations (one durations() call per piece).
   * Text with nothing to say gives an empty Utterance. An unknown
   * language falls back (see TextFrontend) and says so in warnings. */
  GANVOICE_API Utterance prepare (const std::string &text,
      const std::string &language, const std::vector<float> &embedding,
      double rate = 1.0);
  /* prepare() for a whole voice: a cloned voice (traits and a base_voice
   * that the model has) gets the conversion from its base voice's
   * measured traits to its own (pitch, formant warp, spectral envelope,
   * speaking rate; docs/cloning.md), then, when the profile has mel
   * statistics of the model's front-end, the map of its own speech's
   * log-mel statistics onto them (measure_mel_statistics()). The first
   * such use of a voice measures it (cached). Other voices: as above. */
  GANVOICE_API Utterance prepare_voice (const std::string &text,
      const std::string &language, const VoiceProfile &voice,
      double rate = 1.0);

  /* A built-in voice's traits, measured once (then cached) by speaking a
   * fixed set of sentences and analyzing them with TraitAnalyzer; what
   * cannot be measured falls back to the card (f0_median_hz, gender).
   * Throws VoiceProfileError for an unknown voice. */
  GANVOICE_API const VoiceTraits &measure_voice (const std::string &name);
  /* The same for any acoustic @embedding, cached under @key; @fallback
   * gives the F0 guess when nothing could be measured. */
  GANVOICE_API const VoiceTraits &measure_embedding (const std::string &key,
      const std::vector<float> &embedding, const Voice &fallback);

  /* The log-mel statistics of @embedding's speech with @conversion
   * applied (its mapping is ignored), measured once on about 10 s of fixed
   * sentences in @language (fr, es, it, ru, de and nl have their own,
   * other languages speak measure_voice()'s English ones), vocoded and
   * analyzed with the model's front-end, and cached under @key.
   * prepare_voice() measures in the profile's language, so that the map
   * compares speech with the same phonemes as the reference's. */
  GANVOICE_API const MelStatistics &measure_mel_statistics (
      const std::string &key, const std::vector<float> &embedding,
      const VoiceConversion &conversion, const std::string &language = "en");

  /* fit_slot() with @slot's natural set to the utterance's. */
  GANVOICE_API FitPlan plan (
      const Utterance &utterance, const FitRequest &slot) const;

  /* Called with each piece of fitted audio as soon as it is ready, in
   * order; returns false to stop (e.g. on a flush). */
  using ChunkFunc = std::function<bool (const float *samples, size_t n)>;

  /* Decodes and vocodes @utterance per @plan. The audio starts at
   * plan.start and is at most plan's length (longer speech, e.g. when
   * durations cannot shrink below one frame per phoneme, is cut at the
   * window's end with a fade unless the policy lets it run over). With
   * @on_chunk the audio goes there chunk by chunk (the first within one
   * vocoder chunk of the first piece), else into result.samples.
   * @low_latency false: nobody waits for the first audio (a dub made
   * faster than real time), so each piece is vocoded in as few chunks as
   * the vocoder allows (max_chunk_frames), which saves the context that
   * streaming computes twice: about 17 % of a short cue's vocoder time. */
  GANVOICE_API SpeakResult render (const Utterance &utterance,
      const FitPlan &plan, double pitch, const ChunkFunc &on_chunk = {},
      bool low_latency = true);

  /* The CPU time per stage so far (see SynthesisTimes). */
  GANVOICE_API const SynthesisTimes &times () const;
  GANVOICE_API void reset_times ();

  /* prepare + plan + render. */
  GANVOICE_API SpeakResult speak (
      const SpeakRequest &request, const ChunkFunc &on_chunk = {});

  struct Impl;

private:
  explicit Synthesizer (std::unique_ptr<Impl> impl);
  Utterance prepare_with (const std::shared_ptr<AcousticModel> &model,
      const std::string &text, const std::string &language,
      const std::vector<float> &embedding, double rate);
  std::shared_ptr<AcousticModel> deep_model (const VoiceProfile &voice);
  std::unique_ptr<Impl> impl_;
};

/* Splits phoneme symbols into pieces of at most @max symbols (the first at
 * most @first_max, when not 0), cutting after a pause symbol where
 * possible, else at a word break, else anywhere. Exposed for tests. */
GANVOICE_API std::vector<std::vector<std::string> > split_phonemes (
    const std::vector<std::string> &symbols, size_t max, size_t first_max = 0);

/* Time-stretches a log-mel [n_mels][frames] to @to_frames frames by linear
 * interpolation along time (the pitch stays: the vocoder makes it). */
GANVOICE_API Mel stretch_mel (const Mel &mel, size_t to_frames);

} // namespace ganvoice

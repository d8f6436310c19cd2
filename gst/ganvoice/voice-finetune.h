/* ganvoice: deep clones, the acoustic model fine-tuned on one person's read
 * speech (known text) into a small weights delta, on the CPU.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/voice-profile.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace ganvoice {

/* One recording and the text read in it. */
struct ReadSentence {
  std::vector<float> samples; /* mono, any level */
  int rate = 0; /* Hz */
  std::string text;
  std::string origin; /* where it came from, for messages (a file name) */
};

/* What check_take () measured on one take, and what is wrong with it. */
struct TakeCheck {
  double seconds = 0.0; /* the whole take */
  double speech_seconds = 0.0; /* from the first to the last speech frame */
  double peak_dbfs = -120.0;
  double speech_dbfs = -120.0; /* RMS level of the speech frames */
  double clipped_fraction = 0.0; /* samples at or near full scale */
  /* The length the text usually takes to read (from its phonemes): the
   * take's speech should be within a factor of about 2 of it. */
  double expected_seconds = 0.0;
  int phonemes = 0;
  /* Each problem as a short sentence for the person ("too quiet: ...");
   * empty when the take can be used. */
  std::vector<std::string> problems;

  bool ok () const
  {
    return problems.empty ();
  }
};

/* Checks a take against its text: level, clipping, silence, and that the
 * length of the speech fits the text. @language is an espeak-ng language.
 * Never throws for bad audio (that is what it reports); throws ModelError
 * when the language is unknown. */
GANVOICE_API TakeCheck check_take (
    const ReadSentence &take, const std::string &language);

struct FineTuneOptions {
  std::string language; /* espeak-ng language of the texts */
  std::string name; /* the voice's name in the profile */
  std::string gender; /* "female", "male" or "" */
  int rank = 8; /* of the low-rank updates */
  double time_limit_s = 480.0; /* training seconds, counted across resumes */
  int max_steps = 2000;
  double learning_rate = 2e-3;
  uint64_t seed = 1234;
  double max_speech_s = 0.0; /* use at most this much speech (0: all) */
  /* A file to save the training state to (every checkpoint_interval_s,
   * on cancel) and to resume from when it matches the same speech, model
   * and options; "" keeps no state. */
  std::string checkpoint;
  double checkpoint_interval_s = 30.0;
  int threads = 0; /* LibTorch intra-op threads (process-wide); 0 leaves it */
};

struct FineTuneProgress {
  enum class Stage
  {
    kPreparing,
    kChoosingVoice,
    kAligning,
    kTraining,
    kDone
  };
  Stage stage = Stage::kPreparing;
  double fraction = 0.0; /* of the whole run, 0 .. 1 */
  int step = 0;
  int max_steps = 0;
  double elapsed_s = 0.0; /* training seconds, across resumes */
  double remaining_s = 0.0; /* estimated, 0 when unknown */
  double mel_loss = 0.0; /* recent mean L1 of the log-mel (training) */
  bool resumed = false; /* the run continues a saved state */
  std::string message; /* one line for a log */
};

GANVOICE_API const char *fine_tune_stage_name (FineTuneProgress::Stage stage);

/* Thrown by VoiceFineTuner::run () when @cancel was set; the state is saved
 * to the checkpoint first (when one is set), so the next run resumes. */
class FineTuneCancelled : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/* Fine-tunes the shipped acoustic model on one person's speech.
 *
 * The model must export the training method its card names in
 * "fine_tune" (docs/models.md). What is learned: the speaker vector
 * (started from the built-in voice that fits the speech best), low-rank
 * updates of the convolutions the card lists, and full updates of its
 * small tensors. Alignment is the model's own: monotonic alignment search
 * of the person's mel cepstra against the cepstra of the mel the model
 * predicts for each phoneme, once at the start and again after a third.
 *
 * Not thread-safe: one caller at a time (run () may be on a worker thread
 * and @cancel set from another). */
class VoiceFineTuner {
public:
  /* Throws ModelError for a missing or bad model or card, or a model that
   * cannot be fine-tuned. */
  GANVOICE_API static std::unique_ptr<VoiceFineTuner> load (
      const std::string &model_path, const std::string &card_path,
      const FineTuneOptions &options);
  GANVOICE_API ~VoiceFineTuner ();

  /* Adds one read sentence; returns its check. A take with problems is not
   * added. */
  GANVOICE_API TakeCheck add (const ReadSentence &sentence);

  /* Adds a long recording of the whole @text (several sentences): aligns
   * it with the model and cuts it at sentence ends (and at long pauses)
   * into sentences of a few seconds, added as by add (). Returns how many
   * were added. Throws ModelError when the text does not fit the audio. */
  GANVOICE_API size_t add_recording (const ReadSentence &recording);

  GANVOICE_API size_t sentences () const;
  GANVOICE_API double speech_seconds () const;

  /* Fine-tunes (resuming from the checkpoint when it matches) and returns
   * the deep clone's profile (version 2, with its acoustic delta). Calls
   * @progress from this thread. Throws FineTuneCancelled when @cancel is
   * set, ModelError when there is too little speech (under 20 s) or the
   * model fails. */
  GANVOICE_API VoiceProfile run (
      const std::function<void (const FineTuneProgress &)> &progress = {},
      const std::atomic<bool> *cancel = nullptr);

  struct Impl;

private:
  explicit VoiceFineTuner (std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/* At least this much speech makes a deep clone (1 to 5 minutes is better). */
constexpr double kMinFineTuneSpeechSeconds = 20.0;

} // namespace ganvoice

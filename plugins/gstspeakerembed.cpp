/* ganvoice: speakerembed, a voice profile from reference speech.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

/**
 * SECTION:element-speakerembed
 * @title: speakerembed
 * @short_description: Measures a voice from reference speech and makes a
 * voice profile for cloning
 *
 * Passes raw audio (any rate and channel count) through untouched while it
 * measures the voice in it. In the default #GstSpeakerEmbed:mode, `quick`,
 * a VAD skips silence, noise and other sounds, and the speech gives the
 * traits of a voice profile (docs/cloning.md): F0 median and range, formant
 * scale (vocal-tract length), long-term spectral envelope and speaking
 * rate. Once #GstSpeakerEmbed:max-speech seconds of
 * speech were heard, or at EOS, the profile is made. The learned speaker
 * encoder (#GstSpeakerEmbed:encoder, models/speaker/) turns the speech into
 * a speaker embedding; the acoustic embedding the profile conditions
 * `ganvoice` with is a blend of the built-in voices of
 * #GstSpeakerEmbed:acoustic-card weighted by their similarity to it, and
 * `base_voice` is the most similar one.
 *
 * The profile is written to #GstSpeakerEmbed:location, posted in a
 * `speakerembed-profile` element message, and, with
 * #GstSpeakerEmbed:send-event, sent downstream in a serialized custom event
 * `ganvoice-voice-profile`: a `ganvoice` downstream (on its sink pad, or
 * its `reference` request pad) speaks the cues after it in that voice.
 *
 * Unusable audio (silence, noise only, less than 1.5 s of speech, heavy
 * clipping, music only) gives an ERROR saying what is wrong, and no
 * profile; less than #GstSpeakerEmbed:min-speech seconds of speech gives
 * the profile with a WARNING. A flush starts the measuring again. The src
 * pad must be linked (to `fakesink` when the audio is not needed):
 * unlinked, nothing would end the pipeline, so the first buffer gives an
 * ERROR that says to add `fakesink`.
 *
 * ## Deep mode
 *
 * With #GstSpeakerEmbed:mode `deep` it makes a deep clone instead
 * (docs/deep-clone.md): the acoustic model (#GstSpeakerEmbed:model, its
 * card #GstSpeakerEmbed:acoustic-card) fine-tuned on a reading of known
 * text, shipped as a weights delta in a version-2 profile.
 * #GstSpeakerEmbed:transcript says what was read: a subtitle file (SubRip,
 * WebVTT, SSA/ASS) whose cue times, on the audio's own timeline (the
 * stream time of the buffers), cut the audio into sentences, or a
 * plain-text file read through the whole recording.
 * #GstSpeakerEmbed:language and #GstSpeakerEmbed:location are required.
 * The audio is passed through untouched and kept (mono, at its rate) until
 * EOS; EOS is then held while the model trains for at most
 * #GstSpeakerEmbed:time-limit seconds or #GstSpeakerEmbed:max-steps steps.
 * A sentence that cannot be used (silent, too quiet, clipped, too short or
 * too long for its text) gets a `speakerembed-rejected-take` element
 * message, and one WARNING lists them. Progress comes in PROGRESS messages
 * with the code `fine-tune`: START, CONTINUE (with `percent` and the stage
 * in the text), then COMPLETE, CANCELED or ERROR. A flush or PAUSED to
 * READY cancels the training: its state is kept in
 * #GstSpeakerEmbed:state-file, and the next run on the same audio resumes
 * from it. The profile is then written, posted and sent as in quick mode,
 * and EOS goes on. Less than 20 s of usable speech, a transcript that is
 * missing or does not parse (with its file and line), or a model that
 * cannot be fine-tuned is an ERROR, and no profile.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 autoaudiosrc num-buffers=1500 ! audioconvert ! speakerembed location=me.json ! fakesink
 * gst-launch-1.0 filesrc location=me.wav ! wavparse ! audioconvert ! speakerembed send-event=true ! gv.reference filesrc location=film.srt ! subcues ! ganvoice name=gv ! audioconvert ! wavenc ! filesink location=dub.wav
 * gst-launch-1.0 filesrc location=reading.wav ! decodebin ! audioconvert ! speakerembed mode=deep language=cs transcript=reading.srt location=me.json ! fakesink
 * gst-launch-1.0 filesrc location=film.srt ! subcues ! ganvoice voice=me.json ! audioconvert ! autoaudiosink
 * ]|
 * The third line makes a deep clone (minutes of training; gst-launch-1.0
 * prints the progress messages); the fourth speaks subtitles with it.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstspeakerembed.h"

#include <ganvoice/model-card.h>
#include <ganvoice/model-paths.h>
#include <ganvoice/reading-transcript.h>
#include <ganvoice/speaker-encoder.h>
#include <ganvoice/speaker-traits.h>
#include <ganvoice/text-frontend.h>
#include <ganvoice/voice-conversion.h>
#include <ganvoice/voice-finetune.h>

#include <glib/gstdio.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

GST_DEBUG_CATEGORY_STATIC (gst_speaker_embed_debug);
#define GST_CAT_DEFAULT gst_speaker_embed_debug

enum
{
  PROP_0,
  PROP_LOCATION,
  PROP_ACOUSTIC_CARD,
  PROP_SEND_EVENT,
  PROP_MIN_SPEECH,
  PROP_MAX_SPEECH,
  PROP_NAME,
  PROP_LANGUAGE,
  PROP_ENCODER,
  PROP_MODE,
  PROP_TRANSCRIPT,
  PROP_MODEL,
  PROP_TIME_LIMIT,
  PROP_MAX_STEPS,
  PROP_STATE_FILE,
  PROP_THREADS,
};

#define DEFAULT_SEND_EVENT FALSE
#define DEFAULT_MIN_SPEECH 3.0
#define DEFAULT_MAX_SPEECH 30.0
#define DEFAULT_NAME "cloned-voice"
#define DEFAULT_MODE GST_SPEAKER_EMBED_MODE_QUICK
#define DEFAULT_TIME_LIMIT 480.0
#define DEFAULT_MAX_STEPS 2000
#define DEFAULT_THREADS 0

/* The code of the deep mode's PROGRESS messages. */
#define PROGRESS_CODE "fine-tune"
/* Deep mode keeps at most this much audio (4 bytes a sample). */
#define MAX_READING_SECONDS (30 * 60)
/* Rejected sentences named in the deep mode's WARNING (all get a message). */
#define MAX_LISTED_TAKES 5

#define CAPS \
  "audio/x-raw, format = (string) { F32LE, S16LE, S32LE }, " \
  "layout = (string) interleaved, rate = (int) [ 1, MAX ], " \
  "channels = (int) [ 1, MAX ]"

namespace {

struct Settings {
  std::string location; /* "" = not written */
  std::string acoustic_card; /* "" = the shipped card */
  std::string encoder; /* "" = the shipped speaker encoder */
  bool send_event = DEFAULT_SEND_EVENT;
  double min_speech = DEFAULT_MIN_SPEECH;
  double max_speech = DEFAULT_MAX_SPEECH;
  std::string name; /* "" = from location, else DEFAULT_NAME */
  std::string language;
  GstSpeakerEmbedMode mode = DEFAULT_MODE;
  std::string transcript; /* deep: what was read */
  std::string model; /* deep: "" = the shipped acoustic model */
  double time_limit = DEFAULT_TIME_LIMIT; /* deep: training seconds */
  int max_steps = DEFAULT_MAX_STEPS;
  std::string state_file; /* deep: "" = location + ".state" */
  int threads = DEFAULT_THREADS; /* deep: LibTorch threads, 0 = as it is */
};

/* A problem with the deep mode's settings or files, found in start() and
 * posted at the first buffer (or at EOS), as the quick mode's card error:
 * the element still goes to PAUSED on its own. */
struct SetupError {
  enum Kind
  {
    kNone,
    kSettings, /* a missing or bad property; a model not fine-tunable */
    kNotFound, /* a model file */
    kRead, /* the transcript cannot be read */
    kParse, /* the transcript does not parse: @file, @line */
  } kind = kNone;
  std::string message;
  std::string file;
  unsigned line = 0;
};

/* The deep mode's reading, collected until EOS. */
struct Reading {
  std::vector<float> audio; /* mono, at @rate */
  int rate = 0;
  int64_t start_ns = -1; /* stream time of audio[0]; -1: none yet */
  bool full = false; /* MAX_READING_SECONDS reached (and said) */
};

/* What one profile came to, posted and sent after the locks are gone. */
struct Outcome {
  bool usable = false;
  std::string message; /* for an unusable input, or a warning */
  std::string debug;
  bool warn = false; /* usable, but less speech than min-speech */
  std::string write_error;
  ganvoice::TraitReport report;
  ganvoice::VoiceProfile profile;
  std::string json;
  std::string location;
  bool send_event = false;
};

} // namespace

struct SpeakerEmbedPrivate {
  /* GST_OBJECT_LOCK guards: settings. */
  Settings settings;

  /* The streaming thread owns this block (setup, start and stop run while
   * it is not streaming). */
  std::unique_ptr<ganvoice::TraitAnalyzer> analyzer;
  std::optional<ganvoice::ModelCard> card;
  std::unique_ptr<ganvoice::SpeakerEncoder> encoder;
  std::string card_error; /* why the card or encoder could not be loaded */
  bool card_error_posted = false;
  bool done = false; /* this stream's profile is made (or refused) */
  GstAudioFormat format = GST_AUDIO_FORMAT_UNKNOWN;
  int channels = 1;
  int rate = 0; /* the caps' */
  int lowest_rate = 0; /* since the last reset, for the mel statistics */
  std::vector<float> scratch;

  /* Deep mode. Set in start() (not streaming), then read by the streaming
   * thread: */
  bool deep = false;
  SetupError deep_error;
  ganvoice::ReadingTranscript transcript;
  std::string model_path, card_path;
  /* ... and the streaming thread's own (start() resets them, a flush the
   * reading): */
  bool deep_error_posted = false;
  bool transcript_warned = false;
  Reading reading;

  /* Stops a deep clone's training: set from any thread (FLUSH_START, and
   * PAUSED to READY before the pads deactivate), cleared in start() and
   * at FLUSH_STOP. Atomic, no lock. */
  std::atomic<bool> cancel{ false };
};

struct _GstSpeakerEmbed {
  GstAudioFilter parent;
  SpeakerEmbedPrivate *priv;
};

#define gst_speaker_embed_parent_class parent_class
G_DEFINE_TYPE (GstSpeakerEmbed, gst_speaker_embed, GST_TYPE_AUDIO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (
    speakerembed, "speakerembed", GST_RANK_NONE, GST_TYPE_SPEAKER_EMBED);

static Settings
copy_settings (GstSpeakerEmbed *self)
{
  GST_OBJECT_LOCK (self);
  Settings s = self->priv->settings;
  GST_OBJECT_UNLOCK (self);
  return s;
}

static std::string
profile_name (const Settings &s)
{
  if (!s.name.empty ())
    return s.name;
  if (!s.location.empty ()) {
    gchar *base = g_path_get_basename (s.location.c_str ());
    std::string name = base;
    g_free (base);
    if (g_str_has_suffix (name.c_str (), ".json"))
      name.resize (name.size () - 5);
    if (!name.empty () && name != "." && name != "/")
      return name;
  }
  return DEFAULT_NAME;
}

/* Makes the profile of the audio analyzed so far. Streaming thread. */
static Outcome
make_profile (GstSpeakerEmbed *self)
{
  SpeakerEmbedPrivate *priv = self->priv;
  Settings s = copy_settings (self);
  Outcome o;
  priv->done = true;
  o.report = priv->analyzer->finish ();
  const ganvoice::TraitReport &r = o.report;
  gchar *debug = g_strdup_printf ("%.1f s of audio, %.1f s of speech "
                                  "(%.1f s voiced), clipping %.2f %%, "
                                  "modulation %.2f, stable pitch %.2f",
      r.input_seconds, r.speech_seconds, r.voiced_seconds,
      100.0 * r.clipping_ratio, r.modulation, r.stable_pitch);
  o.debug = debug;
  g_free (debug);
  if (!r.usable ()) {
    o.message = r.message;
    return o;
  }
  o.usable = true;
  ganvoice::CloneResult clone = ganvoice::make_clone_profile (r, *priv->card,
      priv->encoder.get (), profile_name (s), s.language, priv->lowest_rate);
  o.profile = std::move (clone.profile);
  if (clone.traits_only) {
    o.warn = true;
    o.message = "Too little clear speech for the speaker encoder: the voice "
                "profile uses the measured traits only.";
  }
  o.json = o.profile.to_json ();
  o.location = s.location;
  o.send_event = s.send_event;
  if (r.speech_seconds < s.min_speech) {
    o.warn = true;
    gchar *m = g_strdup_printf (
        "Only %.1f s of speech: the voice profile is rough (min-speech is "
        "%.1f s; 10-30 s of speech make a better one).",
        r.speech_seconds, s.min_speech);
    o.message = o.message.empty () ? m : o.message + " " + m;
    g_free (m);
  }
  if (!o.location.empty ()) {
    try {
      o.profile.save (o.location);
    } catch (const std::exception &e) {
      o.write_error = e.what ();
    }
  }
  return o;
}

/* Posts and sends what make_profile() came to. Returns FALSE after an
 * ERROR. No locks held. */
static gboolean
publish (GstSpeakerEmbed *self, const Outcome &o)
{
  if (!o.usable) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Cannot make a voice profile: %s", o.message.c_str ()),
        ("%s", o.debug.c_str ()));
    return FALSE;
  }
  if (!o.write_error.empty ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
        ("%s", o.write_error.c_str ()), ("the location property"));
    return FALSE;
  }
  if (o.warn)
    GST_ELEMENT_WARNING (self, STREAM, FAILED, ("%s", o.message.c_str ()),
        ("%s", o.debug.c_str ()));
  const ganvoice::VoiceTraits &t = *o.profile.traits;
  GST_INFO_OBJECT (self,
      "profile %s: F0 %.1f Hz (%.1f .. %.1f), formant scale %.3f, "
      "%.2f syllables/s, base voice %s; %s",
      o.profile.name.c_str (), t.f0_median_hz, t.f0_low_hz, t.f0_high_hz,
      t.formant_scale, t.syllable_rate, o.profile.base_voice.c_str (),
      o.debug.c_str ());
  GstStructure *s =
      gst_structure_new ("speakerembed-profile", "location", G_TYPE_STRING,
          o.location.c_str (), "name", G_TYPE_STRING, o.profile.name.c_str (),
          "speech-seconds", G_TYPE_DOUBLE, o.report.speech_seconds, "f0-median",
          G_TYPE_DOUBLE, t.f0_median_hz, "f0-low", G_TYPE_DOUBLE, t.f0_low_hz,
          "f0-high", G_TYPE_DOUBLE, t.f0_high_hz, "formant-scale",
          G_TYPE_DOUBLE, t.formant_scale, "speaking-rate", G_TYPE_DOUBLE,
          t.speaking_rate, "syllable-rate", G_TYPE_DOUBLE, t.syllable_rate,
          "base-voice", G_TYPE_STRING, o.profile.base_voice.c_str (), "profile",
          G_TYPE_STRING, o.json.c_str (), NULL);
  gst_element_post_message (
      GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
  if (o.send_event) {
    GstStructure *es = gst_structure_new (ganvoice::VoiceProfile::kEvent,
        "profile", G_TYPE_STRING, o.json.c_str (), "name", G_TYPE_STRING,
        o.profile.name.c_str (), NULL);
    GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
    gst_pad_push_event (GST_BASE_TRANSFORM_SRC_PAD (trans),
        gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, es));
  }
  return TRUE;
}

static void
reset_analysis (SpeakerEmbedPrivate *priv)
{
  if (priv->analyzer)
    priv->analyzer->reset ();
  priv->lowest_rate = priv->rate;
  priv->done = false;
}

GType
gst_speaker_embed_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_SPEAKER_EMBED_MODE_QUICK,
        "A profile from the measured voice and the speaker encoder (seconds "
        "of any speech)",
        "quick" },
    { GST_SPEAKER_EMBED_MODE_DEEP,
        "A deep clone: the acoustic model fine-tuned on a reading with its "
        "transcript (minutes of speech)",
        "deep" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstSpeakerEmbedMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* ---- Deep mode: settings and files, checked in start() ---------------- */

static std::string
state_file_of (const Settings &s)
{
  return s.state_file.empty () ? s.location + ".state" : s.state_file;
}

static std::string
file_line (const std::string &path, unsigned line)
{
  return line ? path + ":" + std::to_string (line) : path;
}

/* Reads the transcript and finds the model: what can go wrong before the
 * audio comes goes into priv->deep_error. Not streaming (start()). */
static void
setup_deep (GstSpeakerEmbed *self, const Settings &s)
{
  SpeakerEmbedPrivate *priv = self->priv;
  SetupError &err = priv->deep_error;
  auto fail = [&] (SetupError::Kind kind, const std::string &message) {
    err.kind = kind;
    err.message = message;
  };
  try {
    if (s.language.empty ())
      return fail (SetupError::kSettings,
          "Deep mode needs the language property: the language read in "
          "the recording (ISO 639-1 or an espeak-ng voice, e.g. "
          "language=cs)");
    if (!ganvoice::TextFrontend::has_language (s.language))
      return fail (SetupError::kSettings,
          "\"" + s.language +
              "\" is not a language espeak-ng knows (the language property)");
    if (s.location.empty ())
      return fail (SetupError::kSettings,
          "Deep mode needs the location property: where to write the "
          "voice profile");
    if (s.transcript.empty ())
      return fail (SetupError::kSettings,
          "Deep mode needs the transcript property: a subtitle file whose "
          "cues say what was read when, or a plain-text file of the whole "
          "reading");
    priv->transcript = ganvoice::read_transcript (s.transcript, s.language);
    const ganvoice::ReadingTranscript &t = priv->transcript;
    if (!t.ok) {
      if (t.unreadable)
        return fail (SetupError::kRead,
            "Cannot read the transcript: " + t.error.message);
      fail (SetupError::kParse,
          "Cannot use the transcript: " +
              file_line (s.transcript, t.error.line) + ": " + t.error.message);
      err.file = s.transcript;
      err.line = t.error.line;
      return;
    }
    /* The model, and its card beside it unless one is given (as ganvoice
     * finds them). */
    try {
      priv->model_path =
          ganvoice::require_model_file (s.model, ganvoice::kAcousticModelFile);
      priv->card_path = !s.acoustic_card.empty () ? s.acoustic_card
          : !s.model.empty ()
          ? ganvoice::card_beside (priv->model_path)
          : ganvoice::require_model_file ("", ganvoice::kAcousticCardFile);
      if (!g_file_test (priv->card_path.c_str (), G_FILE_TEST_IS_REGULAR))
        throw ganvoice::ModelError ("model file not found: " + priv->card_path);
    } catch (const std::exception &e) {
      return fail (SetupError::kNotFound,
          std::string ("Could not find the model to fine-tune: ") + e.what () +
              " (the model and acoustic-card properties, or "
              "GANVOICE_MODEL_DIR)");
    }
    ganvoice::ModelCard card = ganvoice::ModelCard::load (priv->card_path);
    if (card.fine_tune.method.empty ())
      return fail (SetupError::kSettings,
          priv->card_path +
              ": this acoustic model cannot be fine-tuned (its card has no "
              "\"fine_tune\"); deep clones need a model exported for it");
  } catch (const std::exception &e) {
    fail (SetupError::kSettings,
        std::string ("Cannot make a deep clone: ") + e.what ());
  }
}

/* Posts priv->deep_error. Streaming thread, no lock held. */
static void
post_setup_error (GstSpeakerEmbed *self)
{
  const SetupError &e = self->priv->deep_error;
  switch (e.kind) {
    case SetupError::kNone:
      break;
    case SetupError::kSettings:
      GST_ELEMENT_ERROR (
          self, RESOURCE, SETTINGS, ("%s", e.message.c_str ()), ("mode=deep"));
      break;
    case SetupError::kNotFound:
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("%s", e.message.c_str ()),
          ("the model and acoustic-card properties"));
      break;
    case SetupError::kRead:
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("%s", e.message.c_str ()),
          ("the transcript property"));
      break;
    case SetupError::kParse:
      GST_ELEMENT_ERROR_WITH_DETAILS (self, STREAM, DECODE,
          ("%s", e.message.c_str ()), ("the transcript property"),
          ("line", G_TYPE_UINT, e.line, "location", G_TYPE_STRING,
              e.file.c_str (), NULL));
      break;
  }
  self->priv->deep_error_posted = true;
}

/* The cues the parser skipped, as WARNINGs with their lines (once a
 * stream). Streaming thread, no lock held. */
static void
post_transcript_warnings (GstSpeakerEmbed *self)
{
  SpeakerEmbedPrivate *priv = self->priv;
  const ganvoice::ReadingTranscript &t = priv->transcript;
  if (priv->transcript_warned)
    return;
  priv->transcript_warned = true;
  size_t posted = 0;
  for (const ganvoice::Diagnostic &w : t.warnings) {
    if (posted == MAX_LISTED_TAKES) {
      GST_ELEMENT_WARNING (self, STREAM, DECODE,
          ("%s: %u more problems in the transcript were not reported",
              t.path.c_str (), (unsigned) (t.warnings.size () - posted)),
          (NULL));
      break;
    }
    GST_ELEMENT_WARNING_WITH_DETAILS (self, STREAM, DECODE,
        ("%s: %s", file_line (t.path, w.line).c_str (), w.message.c_str ()),
        (NULL),
        ("line", G_TYPE_UINT, w.line, "location", G_TYPE_STRING,
            t.path.c_str (), NULL));
    posted++;
  }
}

static gboolean
gst_speaker_embed_setup (GstAudioFilter *filter, const GstAudioInfo *info)
{
  GstSpeakerEmbed *self = GST_SPEAKER_EMBED (filter);
  SpeakerEmbedPrivate *priv = self->priv;
  try {
    const int rate = GST_AUDIO_INFO_RATE (info);
    const int channels = GST_AUDIO_INFO_CHANNELS (info);
    if (!priv->analyzer)
      priv->analyzer =
          std::make_unique<ganvoice::TraitAnalyzer> (rate, channels);
    priv->analyzer->set_format (rate, channels);
    priv->format = GST_AUDIO_INFO_FORMAT (info);
    priv->channels = channels;
    priv->rate = rate;
    priv->lowest_rate =
        priv->lowest_rate > 0 ? std::min (priv->lowest_rate, rate) : rate;
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("speakerembed failed: %s", e.what ()), (NULL));
    return FALSE;
  }
  return TRUE;
}

static gboolean
gst_speaker_embed_start (GstBaseTransform *trans)
{
  GstSpeakerEmbed *self = GST_SPEAKER_EMBED (trans);
  SpeakerEmbedPrivate *priv = self->priv;
  Settings s = copy_settings (self);
  priv->card.reset ();
  priv->encoder.reset ();
  priv->card_error.clear ();
  priv->card_error_posted = false;
  /* setup() sets the format of the caps. */
  priv->analyzer = std::make_unique<ganvoice::TraitAnalyzer> (
      ganvoice::TraitAnalyzer::kRate, 1);
  priv->done = false;
  priv->rate = priv->lowest_rate = 0;
  priv->deep = s.mode == GST_SPEAKER_EMBED_MODE_DEEP;
  priv->deep_error = {};
  priv->deep_error_posted = false;
  priv->transcript_warned = false;
  priv->transcript = {};
  priv->model_path.clear ();
  priv->card_path.clear ();
  priv->reading = {};
  priv->cancel = false;
  if (priv->deep) {
    /* No speaker encoder: the fine-tuner makes the whole voice. */
    setup_deep (self, s);
    return TRUE;
  }

  /* The card is small JSON: read now; a problem is an ERROR at the first
   * buffer (so that the element still goes to PAUSED on its own). */
  std::string path = s.acoustic_card;
  std::string looked;
  if (path.empty ())
    path = ganvoice::default_model_file (ganvoice::kAcousticCardFile, &looked);
  try {
    if (!g_file_test (path.c_str (), G_FILE_TEST_IS_REGULAR))
      throw ganvoice::ModelError ("the acoustic model card is not there: " +
          (looked.empty ()
                  ? path
                  : std::string (ganvoice::kAcousticCardFile) + " (looked in " +
                      looked + "; set GANVOICE_MODEL_DIR or acoustic-card)"));
    ganvoice::ModelCard card = ganvoice::ModelCard::load (path);
    if (card.voices.empty ())
      throw ganvoice::ModelError (path +
          ": the card has no built-in voices (is it an acoustic "
          "model's card?)");
    std::string enc = s.encoder;
    looked.clear ();
    if (enc.empty ())
      enc =
          ganvoice::default_model_file (ganvoice::kSpeakerEncoderFile, &looked);
    if (!g_file_test (enc.c_str (), G_FILE_TEST_IS_REGULAR))
      throw ganvoice::ModelError ("the speaker encoder is not there: " +
          (s.encoder.empty () ? std::string (ganvoice::kSpeakerEncoderFile) +
                      " (looked in " + looked +
                      "; set GANVOICE_MODEL_DIR or encoder)"
                              : enc));
    /* One intra-op thread: a profile is a short job beside the others. */
    priv->encoder =
        ganvoice::SpeakerEncoder::load (enc, ganvoice::card_beside (enc), 1);
    /* Fails here, not at the end, if it describes none of the voices. */
    ganvoice::blend_voices (
        std::vector<float> ((size_t) priv->encoder->dim (), 0.0f),
        priv->encoder->card (), card);
    priv->card = std::move (card);
  } catch (const std::exception &e) {
    priv->card_error = e.what ();
    GST_WARNING_OBJECT (self, "%s", priv->card_error.c_str ());
  }
  return TRUE;
}

static gboolean
gst_speaker_embed_stop (GstBaseTransform *trans)
{
  GstSpeakerEmbed *self = GST_SPEAKER_EMBED (trans);
  SpeakerEmbedPrivate *priv = self->priv;
  priv->card.reset ();
  priv->encoder.reset ();
  priv->done = false;
  priv->reading = {};
  priv->transcript = {};
  return TRUE;
}

/* Appends @buf's samples as float to `scratch`; returns the frames. */
static size_t
to_float (SpeakerEmbedPrivate *priv, const GstMapInfo &map)
{
  size_t n;
  switch (priv->format) {
    case GST_AUDIO_FORMAT_S16LE: {
      n = map.size / 2;
      priv->scratch.resize (n);
      const gint16 *in = (const gint16 *) map.data;
      for (size_t i = 0; i < n; i++)
        priv->scratch[i] = GINT16_FROM_LE (in[i]) / 32768.0f;
      break;
    }
    case GST_AUDIO_FORMAT_S32LE: {
      n = map.size / 4;
      priv->scratch.resize (n);
      const gint32 *in = (const gint32 *) map.data;
      for (size_t i = 0; i < n; i++)
        priv->scratch[i] = (float) (GINT32_FROM_LE (in[i]) / 2147483648.0);
      break;
    }
    default: {
      n = map.size / 4;
      priv->scratch.resize (n);
      memcpy (priv->scratch.data (), map.data, n * 4);
      break;
    }
  }
  return n / (size_t) std::max (priv->channels, 1);
}

/* ---- Deep mode: the reading, the fine-tuning ------------------------- */

/* Adds @buf to the reading: downmixed to mono, resampled to the reading's
 * first rate if the caps changed it, and placed at its stream time (a gap
 * becomes silence, so the cue times still fit). Streaming thread. */
static void
collect (GstSpeakerEmbed *self, GstBuffer *buf)
{
  SpeakerEmbedPrivate *priv = self->priv;
  Reading &r = priv->reading;
  if (r.full || priv->rate <= 0)
    return;
  GstMapInfo map;
  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    throw std::runtime_error ("could not map an audio buffer");
  const size_t frames = to_float (priv, map);
  gst_buffer_unmap (buf, &map);
  const int channels = std::max (priv->channels, 1);
  std::vector<float> mono (frames);
  for (size_t i = 0; i < frames; i++) {
    float sum = 0.0f;
    for (int c = 0; c < channels; c++)
      sum += priv->scratch[i * channels + c];
    mono[i] = sum / (float) channels;
  }

  guint64 stream_time = GST_CLOCK_TIME_NONE;
  const GstSegment &segment = GST_BASE_TRANSFORM (self)->segment;
  if (GST_BUFFER_PTS_IS_VALID (buf) && segment.format == GST_FORMAT_TIME)
    stream_time = gst_segment_to_stream_time (
        &segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buf));
  if (r.start_ns < 0) {
    r.start_ns =
        GST_CLOCK_TIME_IS_VALID (stream_time) ? (int64_t) stream_time : 0;
    r.rate = priv->rate;
  }
  if (priv->rate != r.rate)
    mono = ganvoice::resample_mono (
        mono.data (), mono.size (), priv->rate, r.rate);
  const size_t cap = (size_t) MAX_READING_SECONDS * (size_t) r.rate;
  if (GST_CLOCK_TIME_IS_VALID (stream_time) &&
      (int64_t) stream_time > r.start_ns) {
    const size_t at = (size_t) gst_util_uint64_scale_int (
        stream_time - (guint64) r.start_ns, r.rate, GST_SECOND);
    /* More than 20 ms later than the audio so far: a gap. */
    if (at > r.audio.size () + (size_t) (r.rate / 50))
      r.audio.resize (std::min (at, cap), 0.0f);
  }
  const size_t room = cap - std::min (cap, r.audio.size ());
  r.audio.insert (r.audio.end (), mono.begin (),
      mono.begin () + (long) std::min (room, mono.size ()));
  if (r.audio.size () >= cap) {
    r.full = true;
    GST_ELEMENT_WARNING (self, STREAM, TOO_LAZY,
        ("The reading is longer than %d minutes: only the first %d minutes "
         "are used for the deep clone.",
            MAX_READING_SECONDS / 60, MAX_READING_SECONDS / 60),
        (NULL));
  }
}

/* The PROGRESS messages of one deep clone (code PROGRESS_CODE): START,
 * CONTINUE when the stage or the whole percent changes or a second has
 * passed, then one of COMPLETE, CANCELED or ERROR. Besides "percent" (and
 * "timeout", -1: unknown) each carries "stage", "step", "max-steps",
 * "elapsed", "remaining", "mel-loss" and "resumed". Streaming thread; posts
 * with no lock held. */
class ProgressPoster {
public:
  explicit ProgressPoster (GstSpeakerEmbed *self) : self_ (self)
  {
  }

  void start (const std::string &text)
  {
    post (GST_PROGRESS_TYPE_START, 0, "preparing", text);
    started_ = true;
    time_ = g_get_monotonic_time ();
  }

  /* Before the fine-tuner runs: checking the takes (0 %), at most once a
   * second unless @now. */
  void prepare (const std::string &text, bool now)
  {
    const gint64 t = g_get_monotonic_time ();
    if (!now && t - time_ < G_USEC_PER_SEC)
      return;
    time_ = t;
    post (GST_PROGRESS_TYPE_CONTINUE, 0, "preparing", text);
  }

  void update (const ganvoice::FineTuneProgress &p)
  {
    last_ = p;
    const int percent = (int) std::floor (100.0 * p.fraction);
    const gint64 now = g_get_monotonic_time ();
    const int stage = (int) p.stage;
    if (stage == stage_ && percent == percent_ && now - time_ < G_USEC_PER_SEC)
      return;
    stage_ = stage;
    percent_ = percent;
    time_ = now;
    std::string text = ganvoice::fine_tune_stage_name (p.stage);
    if (!p.message.empty ()) {
      text += ": " + p.message;
    } else if (p.stage == ganvoice::FineTuneProgress::Stage::kTraining) {
      char buf[160];
      g_snprintf (buf, sizeof buf, ": step %d of %d, mel L1 %.3f", p.step,
          p.max_steps, p.mel_loss);
      text += buf;
      if (p.remaining_s >= 1.0) {
        g_snprintf (buf, sizeof buf, ", about %.0f s left", p.remaining_s);
        text += buf;
      }
    }
    post (GST_PROGRESS_TYPE_CONTINUE, std::min (percent, 100),
        ganvoice::fine_tune_stage_name (p.stage), text);
  }

  /* COMPLETE, CANCELED or ERROR (100 %), once, if started. */
  void finish (GstProgressType type, const std::string &text)
  {
    if (!started_)
      return;
    started_ = false;
    post (type, 100,
        type == GST_PROGRESS_TYPE_COMPLETE       ? "done"
            : type == GST_PROGRESS_TYPE_CANCELED ? "cancelled"
                                                 : "failed",
        text);
  }

  int step () const
  {
    return last_.step;
  }

private:
  void post (GstProgressType type, int percent, const char *stage,
      const std::string &text)
  {
    GstMessage *msg = gst_message_new_progress (
        GST_OBJECT (self_), type, PROGRESS_CODE, text.c_str ());
    gst_structure_set (gst_message_writable_structure (msg), "percent",
        G_TYPE_INT, percent, "timeout", G_TYPE_INT, -1, "stage", G_TYPE_STRING,
        stage, "step", G_TYPE_INT, last_.step, "max-steps", G_TYPE_INT,
        last_.max_steps, "elapsed", G_TYPE_DOUBLE, last_.elapsed_s, "remaining",
        G_TYPE_DOUBLE, last_.remaining_s, "mel-loss", G_TYPE_DOUBLE,
        last_.mel_loss, "resumed", G_TYPE_BOOLEAN, (gboolean) last_.resumed,
        NULL);
    GST_DEBUG_OBJECT (
        self_, "progress %d %d%%: %s", (int) type, percent, text.c_str ());
    gst_element_post_message (GST_ELEMENT (self_), msg);
  }

  GstSpeakerEmbed *self_;
  ganvoice::FineTuneProgress last_;
  bool started_ = false;
  int stage_ = -1;
  int percent_ = -1;
  gint64 time_ = 0;
};

/* A sentence of the reading that cannot be used. */
struct RejectedTake {
  const ganvoice::TimedText *cue;
  ganvoice::TakeCheck check;
};

static std::string
joined (const std::vector<std::string> &v, const char *sep)
{
  std::string out;
  for (const std::string &x : v)
    out += (out.empty () ? "" : sep) + x;
  return out;
}

/* One `speakerembed-rejected-take` message per sentence, and one WARNING
 * that lists them. Streaming thread, no lock held. */
static void
post_rejected (GstSpeakerEmbed *self, const std::vector<RejectedTake> &rejected,
    size_t takes)
{
  const ganvoice::ReadingTranscript &t = self->priv->transcript;
  std::string list;
  size_t listed = 0;
  for (const RejectedTake &r : rejected) {
    const std::string problems = joined (r.check.problems, "; ");
    GstStructure *s = gst_structure_new ("speakerembed-rejected-take",
        "transcript", G_TYPE_STRING, t.path.c_str (), "cue", G_TYPE_UINT,
        r.cue->index, "line", G_TYPE_UINT, r.cue->line, "start", G_TYPE_UINT64,
        (guint64) std::max<int64_t> (0, r.cue->start_ns), "end", G_TYPE_UINT64,
        (guint64) std::max<int64_t> (0, r.cue->end_ns), "text", G_TYPE_STRING,
        r.cue->text.c_str (), "problems", G_TYPE_STRING, problems.c_str (),
        "speech-seconds", G_TYPE_DOUBLE, r.check.speech_seconds,
        "expected-seconds", G_TYPE_DOUBLE, r.check.expected_seconds, NULL);
    gst_element_post_message (
        GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
    if (listed++ < MAX_LISTED_TAKES)
      list += (list.empty () ? "" : "; ") + r.cue->origin + " (cue " +
          std::to_string (r.cue->index) + "): " + problems;
  }
  if (rejected.empty ())
    return;
  if (rejected.size () > MAX_LISTED_TAKES)
    list += "; and " + std::to_string (rejected.size () - MAX_LISTED_TAKES) +
        " more";
  GST_ELEMENT_WARNING (self, STREAM, FAILED,
      ("%u of %u sentences of the reading cannot be used for the deep "
       "clone: %s",
          (unsigned) rejected.size (), (unsigned) takes, list.c_str ()),
      ("each has a speakerembed-rejected-take message"));
}

/* Posts (and sends) the deep clone's profile as make_profile()'s. No locks
 * held. */
static void
publish_deep (GstSpeakerEmbed *self, const ganvoice::VoiceProfile &profile,
    const std::string &location, double speech_seconds, size_t sentences,
    int steps, bool send_event)
{
  const std::string json = profile.to_json ();
  GstStructure *s = gst_structure_new ("speakerembed-profile", "location",
      G_TYPE_STRING, location.c_str (), "name", G_TYPE_STRING,
      profile.name.c_str (), "mode", G_TYPE_STRING, "deep", "speech-seconds",
      G_TYPE_DOUBLE, speech_seconds, "sentences", G_TYPE_UINT,
      (guint) sentences, "steps", G_TYPE_INT, steps, "base-voice",
      G_TYPE_STRING, profile.base_voice.c_str (), "profile", G_TYPE_STRING,
      json.c_str (), NULL);
  gst_element_post_message (
      GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
  if (send_event) {
    GstStructure *es = gst_structure_new (ganvoice::VoiceProfile::kEvent,
        "profile", G_TYPE_STRING, json.c_str (), "name", G_TYPE_STRING,
        profile.name.c_str (), NULL);
    gst_pad_push_event (GST_BASE_TRANSFORM_SRC_PAD (GST_BASE_TRANSFORM (self)),
        gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, es));
  }
}

enum class DeepResult
{
  kDone,
  kFailed,
  kCancelled,
};

/* Makes the deep clone of the reading, at EOS.
 *
 * On the streaming thread, in the EOS handler, which holds EOS (and the
 * stream lock) until it returns. A worker thread would not free anything:
 * EOS must wait for the profile anyway, and this thread has nothing else to
 * do meanwhile. Cancelling needs no other thread either: FLUSH_START (not
 * serialized) and PAUSED to READY (before the pads deactivate, which waits
 * for this thread) set priv->cancel, which run() polls between steps; it
 * then saves its state and throws FineTuneCancelled. */
static DeepResult
make_deep_clone (GstSpeakerEmbed *self)
{
  SpeakerEmbedPrivate *priv = self->priv;
  const Settings s = copy_settings (self);
  const ganvoice::ReadingTranscript &t = priv->transcript;
  Reading reading = std::move (priv->reading);
  priv->reading = {};
  priv->done = true;

  ProgressPoster progress (self);
  std::vector<RejectedTake> rejected;
  size_t takes = 0;
  char buf[320];
  g_snprintf (buf, sizeof buf,
      "Making a deep clone from %.0f s of audio and %s: loading the model",
      reading.rate > 0 ? (double) reading.audio.size () / reading.rate : 0.0,
      t.path.c_str ());
  progress.start (buf);
  try {
    if (reading.audio.empty ())
      throw ganvoice::ModelError ("no audio came before EOS");
    ganvoice::FineTuneOptions o;
    o.language = s.language;
    o.name = profile_name (s);
    o.time_limit_s = s.time_limit;
    o.max_steps = s.max_steps;
    o.checkpoint = state_file_of (s);
    o.threads = s.threads;
    std::unique_ptr<ganvoice::VoiceFineTuner> tuner =
        ganvoice::VoiceFineTuner::load (priv->model_path, priv->card_path, o);

    if (t.timed) {
      std::vector<ganvoice::ReadSentence> sentences = ganvoice::cut_reading (
          reading.audio, reading.rate, reading.start_ns, t.cues);
      reading = {};
      takes = sentences.size ();
      for (size_t i = 0; i < sentences.size (); i++) {
        if (priv->cancel)
          throw ganvoice::FineTuneCancelled ("cancelled");
        g_snprintf (buf, sizeof buf, "checking sentence %u of %u",
            (unsigned) i + 1, (unsigned) takes);
        progress.prepare (buf, i == 0);
        ganvoice::TakeCheck check = tuner->add (sentences[i]);
        if (!check.ok ())
          rejected.push_back ({ &t.cues[i], std::move (check) });
      }
    } else {
      progress.prepare ("aligning the reading with its text", true);
      ganvoice::ReadSentence whole;
      whole.samples = std::move (reading.audio);
      whole.rate = reading.rate;
      whole.text = t.text;
      whole.origin = t.path;
      reading = {};
      takes = tuner->add_recording (whole);
    }
    post_rejected (self, rejected, takes);

    const double speech = tuner->speech_seconds ();
    if (speech < ganvoice::kMinFineTuneSpeechSeconds) {
      g_snprintf (buf, sizeof buf,
          "Cannot make a deep clone: only %.1f s of usable speech in %u "
          "sentence%s (at least %.0f s is needed, better 1 to 5 minutes)%s",
          speech, (unsigned) tuner->sentences (),
          tuner->sentences () == 1 ? "" : "s",
          ganvoice::kMinFineTuneSpeechSeconds,
          rejected.empty () ? ""
                            : "; see the WARNING for the sentences "
                              "that could not be used");
      GST_ELEMENT_ERROR (self, STREAM, FAILED, ("%s", buf),
          ("%u sentences, %u rejected", (unsigned) takes,
              (unsigned) rejected.size ()));
      progress.finish (GST_PROGRESS_TYPE_ERROR, "too little speech");
      return DeepResult::kFailed;
    }

    ganvoice::VoiceProfile profile = tuner->run (
        [&] (const ganvoice::FineTuneProgress &p) { progress.update (p); },
        &priv->cancel);
    try {
      profile.save (s.location);
    } catch (const std::exception &e) {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE,
          ("Cannot write the deep clone: %s", e.what ()),
          ("the location property; the training state stays in %s",
              o.checkpoint.c_str ()));
      progress.finish (GST_PROGRESS_TYPE_ERROR, e.what ());
      return DeepResult::kFailed;
    }
    /* Made: the state is not needed any more. */
    g_unlink (o.checkpoint.c_str ());
    progress.finish (
        GST_PROGRESS_TYPE_COMPLETE, "deep clone written to " + s.location);
    publish_deep (self, profile, s.location, speech, tuner->sentences (),
        progress.step (), s.send_event);
    return DeepResult::kDone;
  } catch (const ganvoice::FineTuneCancelled &) {
    GST_INFO_OBJECT (
        self, "deep clone cancelled; state in %s", state_file_of (s).c_str ());
    const std::string state = state_file_of (s);
    progress.finish (GST_PROGRESS_TYPE_CANCELED,
        g_file_test (state.c_str (), G_FILE_TEST_EXISTS)
            ? "cancelled; the next run on the same audio resumes from " + state
            : std::string ("cancelled"));
    return DeepResult::kCancelled;
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Cannot make a deep clone: %s", e.what ()), (NULL));
    progress.finish (GST_PROGRESS_TYPE_ERROR, e.what ());
    return DeepResult::kFailed;
  } catch (...) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED,
        ("Cannot make a deep clone: unknown error"), (NULL));
    progress.finish (GST_PROGRESS_TYPE_ERROR, "unknown error");
    return DeepResult::kFailed;
  }
}

static GstFlowReturn
gst_speaker_embed_transform_ip (GstBaseTransform *trans, GstBuffer *buf)
{
  GstSpeakerEmbed *self = GST_SPEAKER_EMBED (trans);
  SpeakerEmbedPrivate *priv = self->priv;

  if (!gst_pad_is_linked (GST_BASE_TRANSFORM_SRC_PAD (trans))) {
    /* Not a sink: nothing would end the pipeline, so say so at once. */
    GST_ELEMENT_ERROR (self, CORE, PAD,
        ("Nothing is linked after speakerembed: end the pipeline with "
         "\"speakerembed ... ! fakesink\""),
        ("the src pad is not linked"));
    priv->done = true; /* no profile from what was not measured */
    return GST_FLOW_NOT_LINKED;
  }
  if (priv->deep) {
    if (priv->deep_error.kind != SetupError::kNone) {
      if (!priv->deep_error_posted)
        post_setup_error (self);
      return GST_FLOW_ERROR;
    }
    post_transcript_warnings (self);
    if (!priv->done && !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)) {
      try {
        collect (self, buf);
      } catch (const std::exception &e) {
        GST_ELEMENT_ERROR (
            self, CORE, FAILED, ("speakerembed failed: %s", e.what ()), (NULL));
        return GST_FLOW_ERROR;
      }
    }
    return GST_FLOW_OK;
  }
  if (!priv->card) {
    if (!priv->card_error_posted)
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
          ("Could not load the models for a voice profile: %s",
              priv->card_error.c_str ()),
          ("the acoustic-card and encoder properties"));
    priv->card_error_posted = true;
    return GST_FLOW_ERROR;
  }
  if (!priv->done && priv->analyzer &&
      !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)) {
    Outcome outcome;
    bool finished = false;
    try {
      GstMapInfo map;
      if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
        GST_ELEMENT_ERROR (
            self, RESOURCE, READ, ("Could not map an audio buffer"), (NULL));
        return GST_FLOW_ERROR;
      }
      size_t frames = to_float (priv, map);
      gst_buffer_unmap (buf, &map);
      priv->analyzer->add (priv->scratch.data (), frames);
      GST_OBJECT_LOCK (self);
      const double max_speech = priv->settings.max_speech;
      GST_OBJECT_UNLOCK (self);
      if (priv->analyzer->speech_seconds () >= max_speech) {
        outcome = make_profile (self);
        finished = true;
      }
    } catch (const std::exception &e) {
      GST_ELEMENT_ERROR (
          self, CORE, FAILED, ("speakerembed failed: %s", e.what ()), (NULL));
      return GST_FLOW_ERROR;
    }
    if (finished && !publish (self, outcome))
      return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

static gboolean
gst_speaker_embed_sink_event (GstBaseTransform *trans, GstEvent *event)
{
  GstSpeakerEmbed *self = GST_SPEAKER_EMBED (trans);
  SpeakerEmbedPrivate *priv = self->priv;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:
      if (priv->deep) {
        /* Held here until the deep clone is made (or fails, or is
         * cancelled); then EOS goes on, or is dropped after a cancel (the
         * pad is flushing or going down). */
        if (priv->deep_error.kind != SetupError::kNone) {
          if (!priv->deep_error_posted)
            post_setup_error (self);
        } else if (!priv->done) {
          post_transcript_warnings (self);
          if (make_deep_clone (self) == DeepResult::kCancelled) {
            gst_event_unref (event);
            return FALSE;
          }
        }
        break;
      }
      if (!priv->done && priv->analyzer && priv->card) {
        Outcome outcome;
        bool ok = true;
        try {
          outcome = make_profile (self);
        } catch (const std::exception &e) {
          GST_ELEMENT_ERROR (self, CORE, FAILED,
              ("speakerembed failed: %s", e.what ()), (NULL));
          ok = false;
        }
        /* EOS goes on after the profile (or the error). */
        if (ok)
          publish (self, outcome);
      }
      break;
    case GST_EVENT_FLUSH_START:
      /* Not serialized: this may be another thread than the one training
       * in the EOS handler; run() sees it between steps. */
      priv->cancel = true;
      break;
    case GST_EVENT_FLUSH_STOP:
      /* Serialized: the EOS handler has returned. */
      reset_analysis (priv);
      priv->reading = {};
      priv->cancel = false;
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static GstStateChangeReturn
gst_speaker_embed_change_state (GstElement *element, GstStateChange transition)
{
  GstSpeakerEmbed *self = GST_SPEAKER_EMBED (element);
  /* Before the parent deactivates the pads, which waits for the streaming
   * thread: a deep clone's training stops (and keeps its state). */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    self->priv->cancel = true;
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

static void
gst_speaker_embed_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstSpeakerEmbed *self = GST_SPEAKER_EMBED (object);

  GST_OBJECT_LOCK (self);
  Settings &s = self->priv->settings;
  switch (prop_id) {
    case PROP_LOCATION:
    case PROP_ACOUSTIC_CARD:
    case PROP_NAME:
    case PROP_LANGUAGE:
    case PROP_ENCODER:
    case PROP_TRANSCRIPT:
    case PROP_MODEL:
    case PROP_STATE_FILE: {
      const gchar *v = g_value_get_string (value);
      std::string &to = prop_id == PROP_LOCATION ? s.location
          : prop_id == PROP_ACOUSTIC_CARD        ? s.acoustic_card
          : prop_id == PROP_NAME                 ? s.name
          : prop_id == PROP_ENCODER              ? s.encoder
          : prop_id == PROP_TRANSCRIPT           ? s.transcript
          : prop_id == PROP_MODEL                ? s.model
          : prop_id == PROP_STATE_FILE           ? s.state_file
                                                 : s.language;
      to = v ? v : "";
      break;
    }
    case PROP_MODE:
      s.mode = (GstSpeakerEmbedMode) g_value_get_enum (value);
      break;
    case PROP_TIME_LIMIT:
      s.time_limit = g_value_get_double (value);
      break;
    case PROP_MAX_STEPS:
      s.max_steps = g_value_get_int (value);
      break;
    case PROP_THREADS:
      s.threads = g_value_get_int (value);
      break;
    case PROP_SEND_EVENT:
      s.send_event = g_value_get_boolean (value);
      break;
    case PROP_MIN_SPEECH:
      s.min_speech = g_value_get_double (value);
      break;
    case PROP_MAX_SPEECH:
      s.max_speech = g_value_get_double (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_speaker_embed_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstSpeakerEmbed *self = GST_SPEAKER_EMBED (object);

  GST_OBJECT_LOCK (self);
  const Settings &s = self->priv->settings;
  auto str = [&] (const std::string &v) {
    g_value_set_string (value, v.empty () ? NULL : v.c_str ());
  };
  switch (prop_id) {
    case PROP_LOCATION:
      str (s.location);
      break;
    case PROP_ACOUSTIC_CARD:
      str (s.acoustic_card);
      break;
    case PROP_NAME:
      str (s.name);
      break;
    case PROP_LANGUAGE:
      str (s.language);
      break;
    case PROP_ENCODER:
      str (s.encoder);
      break;
    case PROP_TRANSCRIPT:
      str (s.transcript);
      break;
    case PROP_MODEL:
      str (s.model);
      break;
    case PROP_STATE_FILE:
      str (s.state_file);
      break;
    case PROP_MODE:
      g_value_set_enum (value, s.mode);
      break;
    case PROP_TIME_LIMIT:
      g_value_set_double (value, s.time_limit);
      break;
    case PROP_MAX_STEPS:
      g_value_set_int (value, s.max_steps);
      break;
    case PROP_THREADS:
      g_value_set_int (value, s.threads);
      break;
    case PROP_SEND_EVENT:
      g_value_set_boolean (value, s.send_event);
      break;
    case PROP_MIN_SPEECH:
      g_value_set_double (value, s.min_speech);
      break;
    case PROP_MAX_SPEECH:
      g_value_set_double (value, s.max_speech);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_speaker_embed_finalize (GObject *object)
{
  GstSpeakerEmbed *self = GST_SPEAKER_EMBED (object);

  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_speaker_embed_class_init (GstSpeakerEmbedClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstAudioFilterClass *filter_class = GST_AUDIO_FILTER_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_speaker_embed_debug, "speakerembed", 0,
      "ganvoice voice profiles from reference speech");

  gobject_class->set_property = gst_speaker_embed_set_property;
  gobject_class->get_property = gst_speaker_embed_get_property;
  gobject_class->finalize = gst_speaker_embed_finalize;
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_speaker_embed_change_state);
  gst_type_mark_as_plugin_api (
      GST_TYPE_SPEAKER_EMBED_MODE, (GstPluginAPIFlags) 0);

  const GParamFlags rw_ready = (GParamFlags) (G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  const GParamFlags rw_playing = (GParamFlags) (G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);

  g_object_class_install_property (gobject_class, PROP_LOCATION,
      g_param_spec_string ("location", "Location",
          "Where to write the voice profile (JSON, docs/voice-profile.md; "
          "NULL: not written)",
          NULL, rw_playing));
  g_object_class_install_property (gobject_class, PROP_ACOUSTIC_CARD,
      g_param_spec_string ("acoustic-card", "Acoustic model card",
          "The card of the acoustic model the profile is for (in deep "
          "mode, of the model fine-tuned; NULL: beside the model property "
          "when set, else acoustic/acoustic.json in $GANVOICE_MODEL_DIR, "
          "the installed models or the source tree)",
          NULL, rw_ready));
  g_object_class_install_property (gobject_class, PROP_ENCODER,
      g_param_spec_string ("encoder", "Speaker encoder",
          "Quick mode: the learned speaker encoder (TorchScript, its card "
          "beside it; "
          "NULL: speaker/speaker.ts in $GANVOICE_MODEL_DIR, the installed "
          "models or the source tree)",
          NULL, rw_ready));
  g_object_class_install_property (gobject_class, PROP_SEND_EVENT,
      g_param_spec_boolean ("send-event", "Send event",
          "Also send the profile downstream in a serialized custom event "
          "\"ganvoice-voice-profile\" (a ganvoice downstream takes it as "
          "its voice)",
          DEFAULT_SEND_EVENT, rw_playing));
  g_object_class_install_property (gobject_class, PROP_MIN_SPEECH,
      g_param_spec_double ("min-speech", "Minimum speech",
          "Quick mode: seconds of speech below which the profile comes "
          "with a WARNING (below 1.5 s there is no profile, and an ERROR)",
          ganvoice::TraitAnalyzer::kMinSpeech, 600.0, DEFAULT_MIN_SPEECH,
          rw_playing));
  g_object_class_install_property (gobject_class, PROP_MAX_SPEECH,
      g_param_spec_double ("max-speech", "Maximum speech",
          "Quick mode: make the profile once this many seconds of speech "
          "were heard (else at EOS)",
          ganvoice::TraitAnalyzer::kMinSpeech, 3600.0, DEFAULT_MAX_SPEECH,
          rw_playing));
  g_object_class_install_property (gobject_class, PROP_NAME,
      g_param_spec_string ("voice-name", "Voice name",
          "The profile's name (NULL: the location's file name without "
          "\".json\", else \"" DEFAULT_NAME "\")",
          NULL, rw_playing));
  g_object_class_install_property (gobject_class, PROP_LANGUAGE,
      g_param_spec_string ("language", "Language",
          "The language the voice speaks natively (ISO 639-1 or an "
          "espeak-ng voice), recorded in the profile; required in deep "
          "mode (the language read; read when going to PAUSED)",
          NULL, rw_playing));
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode",
          "quick: a profile from seconds of any speech; deep: the acoustic "
          "model fine-tuned on minutes of a reading with its transcript "
          "(docs/deep-clone.md)",
          GST_TYPE_SPEAKER_EMBED_MODE, DEFAULT_MODE, rw_ready));
  g_object_class_install_property (gobject_class, PROP_TRANSCRIPT,
      g_param_spec_string ("transcript", "Transcript",
          "Deep mode: what was read. A subtitle file (SubRip, WebVTT, "
          "SSA/ASS) whose cues, on the audio's stream time, cut it into "
          "sentences, or a plain-text file read through the whole audio",
          NULL, rw_ready));
  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Acoustic model",
          "Deep mode: the acoustic model to fine-tune (TorchScript; its card "
          "beside it unless acoustic-card is set; NULL: acoustic/acoustic.ts "
          "in $GANVOICE_MODEL_DIR, the installed models or the source tree)",
          NULL, rw_ready));
  g_object_class_install_property (gobject_class, PROP_TIME_LIMIT,
      g_param_spec_double ("time-limit", "Time limit",
          "Deep mode: seconds of training at most, counted across resumed "
          "runs",
          1.0, 86400.0, DEFAULT_TIME_LIMIT, rw_playing));
  g_object_class_install_property (gobject_class, PROP_MAX_STEPS,
      g_param_spec_int ("max-steps", "Maximum steps",
          "Deep mode: training steps at most (part of what a saved state "
          "must match to be resumed)",
          1, 1000000, DEFAULT_MAX_STEPS, rw_playing));
  g_object_class_install_property (gobject_class, PROP_STATE_FILE,
      g_param_spec_string ("state-file", "State file",
          "Deep mode: where the training state is kept, to resume a "
          "cancelled run on the same audio; removed once the profile is "
          "written (NULL: location + \".state\")",
          NULL, rw_playing));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads",
          "Deep mode: LibTorch intra-op threads for the training (set for "
          "the whole process; 0: leave LibTorch's setting)",
          0, 256, DEFAULT_THREADS, rw_playing));

  trans_class->start = GST_DEBUG_FUNCPTR (gst_speaker_embed_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_speaker_embed_stop);
  trans_class->transform_ip =
      GST_DEBUG_FUNCPTR (gst_speaker_embed_transform_ip);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_speaker_embed_sink_event);
  trans_class->passthrough_on_same_caps = TRUE;
  trans_class->transform_ip_on_passthrough = TRUE;
  filter_class->setup = GST_DEBUG_FUNCPTR (gst_speaker_embed_setup);

  GstCaps *caps = gst_caps_from_string (CAPS);
  gst_audio_filter_class_add_pad_templates (filter_class, caps);
  gst_caps_unref (caps);

  gst_element_class_set_static_metadata (element_class,
      "Voice profile from speech", "Filter/Analyzer/Audio",
      "Measures a voice in reference speech (F0, formants, spectral "
      "envelope, speaking rate) and makes a ganvoice voice profile for "
      "cloning: a file, an element message and a downstream event; or, in "
      "deep mode, fine-tunes the acoustic model on a reading with its "
      "transcript",
      "ganvoice developers");
  gst_element_class_add_static_metadata (element_class, "doc-section",
      "element-speakerembed: a voice profile from reference speech (gtk-doc "
      "in plugins/gstspeakerembed.cpp; traits, messages, the event and the "
      "one-run pipeline in docs/cloning.md)");
  gst_element_class_add_static_metadata (element_class, "example-launch-line",
      "gst-launch-1.0 filesrc location=me.wav ! wavparse ! audioconvert ! "
      "speakerembed location=me.json ! fakesink");
}

static void
gst_speaker_embed_init (GstSpeakerEmbed *self)
{
  self->priv = new SpeakerEmbedPrivate ();
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
}

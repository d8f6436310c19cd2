/* ganvoice: speakerembed, a voice profile from reference speech.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

/**
 * SECTION:element-speakerembed
 * @title: speakerembed
 * @short_description: Measures a voice from reference speech and makes a
 * voice profile for cloning
 *
 * Passes raw audio (any rate and channel count) through untouched while it
 * measures the voice in it: a VAD skips silence, noise and other sounds,
 * and the speech gives the traits of a voice profile (docs/cloning.md): F0
 * median and range, formant scale (vocal-tract length), long-term spectral
 * envelope and speaking rate. Once #GstSpeakerEmbed:max-speech seconds of
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
 * ## Example launch line
 * |[
 * gst-launch-1.0 autoaudiosrc num-buffers=1500 ! audioconvert ! speakerembed location=me.json ! fakesink
 * gst-launch-1.0 filesrc location=me.wav ! wavparse ! audioconvert ! speakerembed send-event=true ! gv.reference filesrc location=film.srt ! subcues ! ganvoice name=gv ! audioconvert ! wavenc ! filesink location=dub.wav
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstspeakerembed.h"

#include <ganvoice/model-paths.h>
#include <ganvoice/speaker-encoder.h>
#include <ganvoice/speaker-traits.h>
#include <ganvoice/voice-conversion.h>

#include <algorithm>
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
};

#define DEFAULT_SEND_EVENT FALSE
#define DEFAULT_MIN_SPEECH 3.0
#define DEFAULT_MAX_SPEECH 30.0
#define DEFAULT_NAME "cloned-voice"

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
    case GST_EVENT_FLUSH_STOP:
      reset_analysis (priv);
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
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
    case PROP_ENCODER: {
      const gchar *v = g_value_get_string (value);
      std::string &to = prop_id == PROP_LOCATION ? s.location
          : prop_id == PROP_ACOUSTIC_CARD        ? s.acoustic_card
          : prop_id == PROP_NAME                 ? s.name
          : prop_id == PROP_ENCODER              ? s.encoder
                                                 : s.language;
      to = v ? v : "";
      break;
    }
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
          "The card of the acoustic model the profile is for (NULL: "
          "acoustic/acoustic.json in $GANVOICE_MODEL_DIR, the installed "
          "models or the source tree)",
          NULL, rw_ready));
  g_object_class_install_property (gobject_class, PROP_ENCODER,
      g_param_spec_string ("encoder", "Speaker encoder",
          "The learned speaker encoder (TorchScript, its card beside it; "
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
          "Seconds of speech below which the profile comes with a WARNING "
          "(below 1.5 s there is no profile, and an ERROR)",
          ganvoice::TraitAnalyzer::kMinSpeech, 600.0, DEFAULT_MIN_SPEECH,
          rw_playing));
  g_object_class_install_property (gobject_class, PROP_MAX_SPEECH,
      g_param_spec_double ("max-speech", "Maximum speech",
          "Make the profile once this many seconds of speech were heard "
          "(else at EOS)",
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
          "espeak-ng voice), recorded in the profile",
          NULL, rw_playing));

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
      "cloning: a file, an element message and a downstream event",
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

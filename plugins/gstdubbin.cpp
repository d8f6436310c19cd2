/* ganvoice: dubbin, dubs a programme soundtrack from a subtitle file.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

/**
 * SECTION:element-dubbin
 * @title: dubbin
 * @short_description: Dubs a programme soundtrack from a subtitle file
 *
 * A bin that takes a programme soundtrack on its sink pad and gives the
 * dubbed soundtrack on its src pad. Inside, the subtitle file named by
 * #GstDubBin:subtitle-location is read, spoken and mixed in:
 *
 * |[
 * filesrc ! subcues ! ganvoice ! queue ! audioconvert ! audioresample ! F32 mono 48 kHz ─┐
 *                                                                                duckmix ── src
 * sink ── audioconvert ! audioresample ! F32 48 kHz ───────────────────────────────┘
 * ]|
 *
 * The voice properties (#GstDubBin:voice, #GstDubBin:speaker-map,
 * #GstDubBin:language, #GstDubBin:overflow, the model paths, #GstDubBin:device
 * and #GstDubBin:threads) go to `ganvoice`, and the mix properties
 * (#GstDubBin:mode, #GstDubBin:duck-level, #GstDubBin:loudness-target) to
 * `duckmix`. The output is F32 at 48 kHz with the programme's channels and
 * ends where the programme ends: speech past the programme's end is cut.
 * A programme of more than two channels without positions is taken as the
 * standard layout for its count (encoders refuse unpositioned surround).
 * Errors and warnings of the children (a subtitle file that cannot be read,
 * a model that cannot be loaded) reach the bus as they are, and so do
 * `ganvoice`'s per-cue `ganvoice-cue` element messages. Without a subtitle
 * file the programme passes through (mixed and normalised, with no voice)
 * after a WARNING. See docs/dubbing.md.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=film.mkv ! matroskademux ! vorbisdec ! dubbin subtitle-location=film.en.srt ! audioconvert ! wavenc ! filesink location=dubbed.wav
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdubbin.h"
#include "gstduckmix.h"
#include "gstganvoice.h"

#include <gst/audio/audio.h>

#include <string>

GST_DEBUG_CATEGORY_STATIC (gst_dub_bin_debug);
#define GST_CAT_DEFAULT gst_dub_bin_debug

enum
{
  PROP_0,
  PROP_SUBTITLE_LOCATION,
  PROP_VOICE,
  PROP_SPEAKER_MAP,
  PROP_LANGUAGE,
  PROP_MODE,
  PROP_OVERFLOW,
  PROP_DUCK_LEVEL,
  PROP_LOUDNESS_TARGET,
  PROP_ACOUSTIC_MODEL,
  PROP_ACOUSTIC_CARD,
  PROP_VOCODER_MODEL,
  PROP_VOCODER_CARD,
  PROP_DEVICE,
  PROP_THREADS,
};

/* The mix runs at one fixed rate: duckmix does not resample, and its two
 * inputs must agree before either has caps. 48 kHz suits Opus and AAC. */
#define MIX_RATE 48000

#define DEFAULT_OVERFLOW GST_GANVOICE_OVERFLOW_DEFAULT

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("audio/x-raw"));

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
        GST_STATIC_CAPS ("audio/x-raw, format = (string) " GST_AUDIO_NE (
            F32) ", "
                 "layout = (string) interleaved, rate = (int) 48000, "
                 "channels = (int) [ 1, 8 ]"));

struct DubBinPrivate {
  /* Made in _init and never replaced; the bin owns them. NULL when the
   * factory is missing (see missing). Their properties are the bin's
   * settings, so there is no copy of them here: each child guards its own. */
  GstElement *filesrc = nullptr;
  GstElement *subcues = nullptr;
  GstElement *ganvoice = nullptr;
  GstElement *duckmix = nullptr;
  std::string missing; /* factories that do not exist, for errors */
  bool no_voice = false; /* no subtitle file: the voice branch is idle */

  /* GST_OBJECT_LOCK guards: overflow and language (kept here as well, as
   * they are set on children by nick or on two children). */
  GstGanvoiceOverflow overflow = DEFAULT_OVERFLOW;
  std::string language;
};

struct _GstDubBin {
  GstBin parent;

  GstPad *sinkpad; /* ghost pads */
  GstPad *srcpad;
  DubBinPrivate *priv;
};

#define gst_dub_bin_parent_class parent_class
G_DEFINE_TYPE (GstDubBin, gst_dub_bin, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE (dubbin, "dubbin", GST_RANK_NONE, GST_TYPE_DUB_BIN);

/* Sets @name on @child, converting the value when the child's property has
 * another type (an int where we have a uint, say). A child without the
 * property is skipped with a warning. */
static void
proxy_set (
    GstDubBin *self, GstElement *child, const char *name, const GValue *value)
{
  if (!child)
    return;
  GParamSpec *pspec =
      g_object_class_find_property (G_OBJECT_GET_CLASS (child), name);
  if (!pspec) {
    GST_WARNING_OBJECT (
        self, "%s has no property '%s'", GST_OBJECT_NAME (child), name);
    return;
  }
  if (G_VALUE_TYPE (value) == pspec->value_type) {
    g_object_set_property (G_OBJECT (child), name, value);
    return;
  }
  if (G_VALUE_HOLDS_STRING (value) && g_value_get_string (value)) {
    /* An enum or number by name, e.g. ganvoice's device "cuda". */
    gst_util_set_object_arg (
        G_OBJECT (child), name, g_value_get_string (value));
    return;
  }
  GValue converted = G_VALUE_INIT;
  g_value_init (&converted, pspec->value_type);
  if (g_value_transform (value, &converted))
    g_object_set_property (G_OBJECT (child), name, &converted);
  else
    GST_WARNING_OBJECT (self, "cannot give %s a %s for '%s'",
        GST_OBJECT_NAME (child), G_VALUE_TYPE_NAME (value), name);
  g_value_unset (&converted);
}

static void
proxy_get (GstElement *child, const char *name, GValue *value)
{
  if (!child)
    return;
  GParamSpec *pspec =
      g_object_class_find_property (G_OBJECT_GET_CLASS (child), name);
  if (!pspec)
    return;
  GValue got = G_VALUE_INIT;
  g_value_init (&got, pspec->value_type);
  g_object_get_property (G_OBJECT (child), name, &got);
  if (G_VALUE_HOLDS_STRING (value) && G_VALUE_HOLDS_ENUM (&got)) {
    GEnumValue *e = g_enum_get_value (
        G_ENUM_CLASS (g_type_class_peek (G_VALUE_TYPE (&got))),
        g_value_get_enum (&got));
    g_value_set_string (value, e ? e->value_nick : NULL);
  } else {
    /* When it cannot be converted, @value keeps its default. */
    g_value_transform (&got, value);
  }
  g_value_unset (&got);
}

static GstElement *
make_child (GstDubBin *self, const char *factory, const char *name)
{
  GstElement *e = gst_element_factory_make (factory, name);
  if (!e) {
    GST_WARNING_OBJECT (self, "no '%s' element", factory);
    if (!self->priv->missing.empty ())
      self->priv->missing += ", ";
    self->priv->missing += factory;
    return nullptr;
  }
  gst_bin_add (GST_BIN (self), e);
  return e;
}

static GstElement *
make_caps_filter (GstDubBin *self, const char *name, const char *caps)
{
  GstElement *e = make_child (self, "capsfilter", name);
  if (e) {
    GstCaps *c = gst_caps_from_string (caps);
    g_object_set (e, "caps", c, NULL);
    gst_caps_unref (c);
  }
  return e;
}

static bool
link_chain (GstElement **chain, size_t n)
{
  for (size_t i = 0; i + 1 < n; i++) {
    if (!chain[i] || !chain[i + 1] ||
        !gst_element_link (chain[i], chain[i + 1]))
      return false;
  }
  return true;
}

#define PROGRAMME_CAPS \
  "audio/x-raw, format = (string) " GST_AUDIO_NE ( \
      F32) ", layout = (string) " \
           "interleaved, rate = (int) 48000, channels = (int) [ 1, 8 ]"

/* ganvoice's silence comes as GAP buffers, and audioresample does not
 * keep its phase over GAP buffers (it drops or adds samples there, so the
 * speech after them moves by a few ms, depending on what came before).
 * The voice is resampled as plain zeros instead: every cue lands where
 * ganvoice put it, whatever came before (ganvoice-dub --chunk relies on
 * it). */
static GstPadProbeReturn
on_voice_gap (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  if (!GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP))
    return GST_PAD_PROBE_OK;
  buf = gst_buffer_make_writable (buf);
  GST_BUFFER_FLAG_UNSET (buf, GST_BUFFER_FLAG_GAP);
  gst_buffer_memset (buf, 0, 0, gst_buffer_get_size (buf));
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  return GST_PAD_PROBE_OK;
}

/* A programme of more than two channels without positions (PCM from some
 * MOV files) is given the standard layout for its count: the caps are
 * relabelled, the samples stay as they are. audioconvert cannot position
 * them, and encoders (AAC, Opus) refuse unpositioned surround. */
static GstPadProbeReturn
on_programme_caps (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  GstCaps *caps;
  gst_event_parse_caps (event, &caps);
  GstAudioInfo in;
  if (!gst_audio_info_from_caps (&in, caps) || in.channels <= 2 ||
      in.channels > 8 || !GST_AUDIO_INFO_IS_UNPOSITIONED (&in))
    return GST_PAD_PROBE_OK;
  GstCaps *positioned = gst_caps_copy (caps);
  gst_caps_set_simple (positioned, "channel-mask", GST_TYPE_BITMASK,
      gst_audio_channel_get_fallback_mask (in.channels), NULL);
  GST_INFO_OBJECT (pad,
      "%d channels without positions: taken as %" GST_PTR_FORMAT, in.channels,
      positioned);
  GST_PAD_PROBE_INFO_DATA (info) = gst_event_new_caps (positioned);
  gst_caps_unref (positioned);
  gst_event_unref (event);
  return GST_PAD_PROBE_OK;
}

/* Builds the children and the ghost pads; a missing factory leaves a hole
 * that NULL->READY reports. */
static void
build (GstDubBin *self)
{
  DubBinPrivate *priv = self->priv;
  GstElement *voice_queue, *voice_convert, *voice_resample, *voice_caps;
  GstElement *prog_convert, *prog_resample, *prog_caps;

  priv->filesrc = make_child (self, "filesrc", "subtitles");
  priv->subcues = make_child (self, "subcues", "subcues");
  priv->ganvoice = make_child (self, "ganvoice", "ganvoice");
  voice_queue = make_child (self, "queue", "voice-queue");
  voice_convert = make_child (self, "audioconvert", "voice-convert");
  voice_resample = make_child (self, "audioresample", "voice-resample");
  voice_caps = make_caps_filter (self, "voice-caps",
      "audio/x-raw, format = "
      "(string) " GST_AUDIO_NE (F32) ", layout = (string) interleaved, "
                                     "rate = (int) 48000, channels = (int) 1");
  prog_convert = make_child (self, "audioconvert", "programme-convert");
  prog_resample = make_child (self, "audioresample", "programme-resample");
  prog_caps = make_caps_filter (self, "programme-caps", PROGRAMME_CAPS);
  priv->duckmix = make_child (self, "duckmix", "duckmix");

  if (voice_queue) {
    /* Lets the voice be computed ahead of the mix, within bounds. */
    g_object_set (voice_queue, "max-size-buffers", 0, "max-size-bytes", 0,
        "max-size-time", (guint64) 5 * GST_SECOND, NULL);
  }

  GstElement *voice[] = { priv->filesrc, priv->subcues, priv->ganvoice,
    voice_queue, voice_convert, voice_resample, voice_caps };
  GstElement *programme[] = { prog_convert, prog_resample, prog_caps };
  if (!link_chain (voice, G_N_ELEMENTS (voice)) ||
      !link_chain (programme, G_N_ELEMENTS (programme)) || !priv->duckmix ||
      !gst_element_link_pads (prog_caps, "src", priv->duckmix, "programme") ||
      !gst_element_link_pads (voice_caps, "src", priv->duckmix, "voice")) {
    if (priv->missing.empty ())
      priv->missing = "(a link between the children failed)";
  }

  if (voice_convert) {
    GstPad *pad = gst_element_get_static_pad (voice_convert, "sink");
    gst_pad_add_probe (
        pad, GST_PAD_PROBE_TYPE_BUFFER, on_voice_gap, NULL, NULL);
    gst_object_unref (pad);
  }

  GstPad *target =
      prog_convert ? gst_element_get_static_pad (prog_convert, "sink") : NULL;
  if (target)
    gst_pad_add_probe (target, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        on_programme_caps, NULL, NULL);
  GstPadTemplate *templ = gst_static_pad_template_get (&sink_template);
  self->sinkpad = gst_ghost_pad_new_no_target_from_template ("sink", templ);
  gst_object_unref (templ);
  if (target) {
    gst_ghost_pad_set_target (GST_GHOST_PAD (self->sinkpad), target);
    gst_object_unref (target);
  }
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  target =
      priv->duckmix ? gst_element_get_static_pad (priv->duckmix, "src") : NULL;
  templ = gst_static_pad_template_get (&src_template);
  self->srcpad = gst_ghost_pad_new_no_target_from_template ("src", templ);
  gst_object_unref (templ);
  if (target) {
    gst_ghost_pad_set_target (GST_GHOST_PAD (self->srcpad), target);
    gst_object_unref (target);
  }
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
}

/* The voice branch's sources, which stay in READY while there is no
 * subtitle file. */
static void
lock_voice_sources (DubBinPrivate *priv, bool lock)
{
  GstElement *sources[] = { priv->filesrc, priv->subcues, priv->ganvoice };
  for (GstElement *e : sources)
    gst_element_set_locked_state (e, lock);
}

/* Ends the voice input of duckmix at once: the programme passes through. */
static void
end_voice (GstDubBin *self)
{
  GstElement *queue = gst_bin_get_by_name (GST_BIN (self), "voice-queue");
  GstPad *pad = gst_element_get_static_pad (queue, "sink");
  gchar *id = g_strdup_printf ("%s/no-voice", GST_OBJECT_NAME (self));
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_send_event (pad, gst_event_new_stream_start (id));
  gst_pad_send_event (pad, gst_event_new_segment (&segment));
  gst_pad_send_event (pad, gst_event_new_eos ());
  g_free (id);
  gst_object_unref (pad);
  gst_object_unref (queue);
}

static GstStateChangeReturn
gst_dub_bin_change_state (GstElement *element, GstStateChange transition)
{
  GstDubBin *self = GST_DUB_BIN (element);
  DubBinPrivate *priv = self->priv;

  /* missing is written only in _init; no_voice only here, and state
   * changes are serialised by the state lock. */
  if (transition == GST_STATE_CHANGE_NULL_TO_READY && !priv->missing.empty ()) {
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("dubbin needs the element(s) %s, which are not installed",
            priv->missing.c_str ()),
        (NULL));
    return GST_STATE_CHANGE_FAILURE;
  }
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    gchar *location = NULL;
    g_object_get (priv->filesrc, "location", &location, NULL);
    priv->no_voice = !location || !*location;
    g_free (location);
    if (priv->no_voice) {
      GST_ELEMENT_WARNING (self, RESOURCE, NOT_FOUND,
          ("dubbin has no subtitle file (subtitle-location): the programme "
           "passes through without a voice"),
          (NULL));
      lock_voice_sources (priv, true);
    }
  }

  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && priv->no_voice)
    end_voice (self);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY && priv->no_voice) {
    lock_voice_sources (priv, false);
    priv->no_voice = false;
  }
  return ret;
}

/* The name of the ganvoice property behind a plain proxied string. */
static const char *
ganvoice_property (guint prop_id)
{
  switch (prop_id) {
    case PROP_VOICE:
      return "voice";
    case PROP_SPEAKER_MAP:
      return "speaker-map";
    case PROP_ACOUSTIC_MODEL:
      return "acoustic-model";
    case PROP_ACOUSTIC_CARD:
      return "acoustic-card";
    case PROP_VOCODER_MODEL:
      return "vocoder-model";
    case PROP_VOCODER_CARD:
      return "vocoder-card";
    case PROP_DEVICE:
      return "device";
    case PROP_THREADS:
      return "threads";
    default:
      return NULL;
  }
}

static void
gst_dub_bin_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstDubBin *self = GST_DUB_BIN (object);
  DubBinPrivate *priv = self->priv;

  /* No lock of ours is held while a child is set: each guards its own. */
  switch (prop_id) {
    case PROP_SUBTITLE_LOCATION:
      proxy_set (self, priv->filesrc, "location", value);
      break;
    case PROP_LANGUAGE: {
      const gchar *lang = g_value_get_string (value);
      GST_OBJECT_LOCK (self);
      priv->language = lang ? lang : "";
      GST_OBJECT_UNLOCK (self);
      proxy_set (self, priv->subcues, "language", value);
      proxy_set (self, priv->ganvoice, "language", value);
      break;
    }
    case PROP_MODE:
      proxy_set (self, priv->duckmix, "mode", value);
      break;
    case PROP_DUCK_LEVEL:
      proxy_set (self, priv->duckmix, "duck-level", value);
      break;
    case PROP_LOUDNESS_TARGET:
      proxy_set (self, priv->duckmix, "loudness-target", value);
      break;
    case PROP_OVERFLOW: {
      GstGanvoiceOverflow overflow =
          (GstGanvoiceOverflow) g_value_get_enum (value);
      GST_OBJECT_LOCK (self);
      priv->overflow = overflow;
      GST_OBJECT_UNLOCK (self);
      proxy_set (self, priv->ganvoice, "overflow", value);
      break;
    }
    default: {
      const char *name = ganvoice_property (prop_id);
      if (name)
        proxy_set (self, priv->ganvoice, name, value);
      else
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
  }
}

static void
gst_dub_bin_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstDubBin *self = GST_DUB_BIN (object);
  DubBinPrivate *priv = self->priv;

  switch (prop_id) {
    case PROP_SUBTITLE_LOCATION:
      proxy_get (priv->filesrc, "location", value);
      break;
    case PROP_LANGUAGE:
      GST_OBJECT_LOCK (self);
      g_value_set_string (
          value, priv->language.empty () ? NULL : priv->language.c_str ());
      GST_OBJECT_UNLOCK (self);
      break;
    case PROP_MODE:
      proxy_get (priv->duckmix, "mode", value);
      break;
    case PROP_DUCK_LEVEL:
      proxy_get (priv->duckmix, "duck-level", value);
      break;
    case PROP_LOUDNESS_TARGET:
      proxy_get (priv->duckmix, "loudness-target", value);
      break;
    case PROP_OVERFLOW:
      GST_OBJECT_LOCK (self);
      g_value_set_enum (value, priv->overflow);
      GST_OBJECT_UNLOCK (self);
      break;
    default: {
      const char *name = ganvoice_property (prop_id);
      if (name)
        proxy_get (priv->ganvoice, name, value);
      else
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
    }
  }
}

static void
gst_dub_bin_finalize (GObject *object)
{
  GstDubBin *self = GST_DUB_BIN (object);

  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
install_string (GObjectClass *gobject_class, guint prop_id, const char *name,
    const char *nick, const char *blurb)
{
  g_object_class_install_property (gobject_class, prop_id,
      g_param_spec_string (name, nick, blurb, NULL,
          (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_READY)));
}

static void
gst_dub_bin_class_init (GstDubBinClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  const GParamFlags playing = (GParamFlags) (G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);

  GST_DEBUG_CATEGORY_INIT (
      gst_dub_bin_debug, "dubbin", 0, "ganvoice subtitles-to-dub bin");

  gobject_class->set_property = gst_dub_bin_set_property;
  gobject_class->get_property = gst_dub_bin_get_property;
  gobject_class->finalize = gst_dub_bin_finalize;

  install_string (gobject_class, PROP_SUBTITLE_LOCATION, "subtitle-location",
      "Subtitle location",
      "The subtitle file to speak (SubRip, WebVTT, "
      "SSA/ASS)");
  install_string (gobject_class, PROP_VOICE, "voice", "Voice",
      "ganvoice's voice: a built-in voice name or a voice-profile file "
      "(NULL: ganvoice's default)");
  install_string (gobject_class, PROP_SPEAKER_MAP, "speaker-map", "Speaker map",
      "Voices by speaker, as SPEAKER=VOICE;SPEAKER2=VOICE2 "
      "(ganvoice's speaker-map)");
  install_string (gobject_class, PROP_LANGUAGE, "language", "Language",
      "Language of the cues as an ISO 639 code, for subcues and ganvoice "
      "(NULL: from the subtitle file)");
  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode",
          "How the voice goes into the "
          "programme (duckmix's mode)",
          GST_TYPE_DUCK_MIX_MODE, 0, playing));
  g_object_class_install_property (gobject_class, PROP_OVERFLOW,
      g_param_spec_enum ("overflow", "Overflow",
          "What ganvoice does with "
          "speech longer than its slot (ganvoice's overflow)",
          GST_TYPE_GANVOICE_OVERFLOW, DEFAULT_OVERFLOW,
          (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_DUCK_LEVEL,
      g_param_spec_double ("duck-level", "Duck level",
          "Programme gain while the voice speaks in mode=duck, in dB "
          "(duckmix's duck-level)",
          -60.0, 0.0, -12.0, playing));
  g_object_class_install_property (gobject_class, PROP_LOUDNESS_TARGET,
      g_param_spec_double ("loudness-target", "Loudness target",
          "EBU R128 loudness of the output, in LUFS (>= 0: no normalisation; "
          "duckmix's loudness-target)",
          -70.0, 0.0, -16.0, playing));
  install_string (gobject_class, PROP_ACOUSTIC_MODEL, "acoustic-model",
      "Acoustic model",
      "TorchScript acoustic model for ganvoice (NULL: the "
      "shipped one)");
  install_string (gobject_class, PROP_ACOUSTIC_CARD, "acoustic-card",
      "Acoustic model card",
      "Model card of the acoustic model (NULL: beside "
      "the model)");
  install_string (gobject_class, PROP_VOCODER_MODEL, "vocoder-model",
      "Vocoder model",
      "TorchScript vocoder for ganvoice (NULL: the shipped "
      "one)");
  install_string (gobject_class, PROP_VOCODER_CARD, "vocoder-card",
      "Vocoder model card",
      "Model card of the vocoder (NULL: beside the "
      "model)");
  install_string (gobject_class, PROP_DEVICE, "device", "Device",
      "Where ganvoice runs the models, by ganvoice's device nick: cpu or cuda "
      "(NULL: ganvoice's default)");
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads",
          "Threads for ganvoice's models "
          "(0: ganvoice's default)",
          0, 256, 0,
          (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_READY)));

  element_class->change_state = GST_DEBUG_FUNCPTR (gst_dub_bin_change_state);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Subtitle dubbing bin",
      "Filter/Audio/Bin",
      "Speaks a subtitle file with ganvoice and mixes the speech into the "
      "programme soundtrack with duckmix",
      "ganvoice developers");
  gst_element_class_add_static_metadata (element_class, "doc-section",
      "element-dubbin: subtitles spoken and mixed into a soundtrack "
      "(gtk-doc in plugins/gstdubbin.cpp; the ganvoice-dub command and "
      "pipelines in docs/dubbing.md)");
  gst_element_class_add_static_metadata (element_class, "example-launch-line",
      "gst-launch-1.0 filesrc location=film.mkv ! matroskademux ! vorbisdec ! "
      "dubbin subtitle-location=film.en.srt ! audioconvert ! wavenc ! filesink "
      "location=dubbed.wav");
}

static void
gst_dub_bin_init (GstDubBin *self)
{
  self->priv = new DubBinPrivate ();
  build (self);
}

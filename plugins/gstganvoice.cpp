/* ganvoice: the ganvoice element, timed text to fitted speech.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

/**
 * SECTION:element-ganvoice
 * @title: ganvoice
 * @short_description: Speaks timed text cues, fitted into their slots
 *
 * Speaks each `text/x-raw` buffer (a cue: PTS = cue start, duration = cue
 * length; usually from `subcues`, whose #GanvoiceCueMeta gives the speaker,
 * language and cue index) with a neural voice: the espeak-ng text frontend,
 * a FastSpeech-style acoustic model and a GAN vocoder, all TorchScript
 * (docs/models.md). Output is mono F32 audio at the models' rate (22050 Hz
 * with the shipped models), the speech of each cue starting at its PTS and
 * silence between cues as buffers of zeros flagged GAP (a continuous stream
 * up to the last cue's end, so `ganvoice ! wavenc` writes each cue at its
 * time). Every sample is at or below -1 dBFS (a peak limiter).
 *
 * Each cue's speech is fitted into its slot, from its start to the next
 * cue's start, by #GstGanvoice:overflow and #GstGanvoice:max-rate
 * (docs/ganvoice-fit.md). Since the slot's end is the next cue's start,
 * the element holds one cue back: cue k is synthesized when cue k+1 (or
 * EOS, a new segment, or a GAP event reaching past its start: then the GAP's
 * end closes the slot) arrives. Synthesis runs on a worker thread and a
 * src pad task pushes the results in order, so the streaming thread only
 * waits when eight cues are queued. Every cue posts a `ganvoice-cue`
 * element message (see docs/ganvoice.md) with the plan that was applied.
 *
 * The voice is #GstGanvoice:voice, or per speaker #GstGanvoice:speaker-map;
 * each is a built-in voice of the acoustic model or a voice profile file
 * (docs/voice-profile.md). The language is #GstGanvoice:language, else the
 * cue meta's, else English; an unknown one falls back with a WARNING.
 * A `ganvoice-voice-profile` event (from `speakerembed send-event=true`)
 * on the sink pad makes its voice that of the cues after it; on the
 * `reference` request pad (reference audio from `speakerembed`), cues wait
 * for it, so that one pipeline clones and speaks (docs/cloning.md).
 *
 * The models load on a worker when going to PAUSED (PROGRESS messages
 * `load`); a missing or corrupt model is an ERROR naming the file.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=film.srt ! subcues ! ganvoice voice=allison ! audioconvert ! autoaudiosink
 * gst-launch-1.0 ganvoice text="Hello there." ! audioconvert ! wavenc ! filesink location=hello.wav
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstganvoice-private.h"

#include <ganvoice/cue-text.h>
#include <ganvoice/cuemeta.h>
#include <ganvoice/voice-profile.h>

#include <cstring>
#include <exception>

GST_DEBUG_CATEGORY (gst_ganvoice_debug);

enum
{
  PROP_0,
  PROP_VOICE,
  PROP_SPEAKER_MAP,
  PROP_LANGUAGE,
  PROP_RATE,
  PROP_PITCH,
  PROP_ACOUSTIC_MODEL,
  PROP_ACOUSTIC_CARD,
  PROP_VOCODER_MODEL,
  PROP_VOCODER_CARD,
  PROP_DEVICE,
  PROP_THREADS,
  PROP_OVERFLOW,
  PROP_MAX_RATE,
  PROP_LATENCY,
  PROP_TEXT,
};

static_assert (
    (int) ganvoice::FitPolicy::Compress == GST_GANVOICE_OVERFLOW_COMPRESS,
    "GstGanvoiceOverflow follows ganvoice::FitPolicy");

/* The values come from the library's fit_policies(), the one description
 * of each policy; dubbin's overflow property has this type too. */
GType
gst_ganvoice_overflow_get_type (void)
{
  static GType type = 0;
  if (g_once_init_enter (&type)) {
    const auto &policies = ganvoice::fit_policies ();
    /* Registered once and kept for the process, as GLib requires. */
    GEnumValue *values = g_new0 (GEnumValue, policies.size () + 1);
    for (size_t i = 0; i < policies.size (); i++)
      values[i] = { (gint) policies[i].policy, policies[i].description,
        policies[i].nick };
    GType t = g_enum_register_static ("GstGanvoiceOverflow", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_ganvoice_device_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_GANVOICE_DEVICE_CPU, "CPU", "cpu" },
    { GST_GANVOICE_DEVICE_CUDA, "CUDA GPU (when built with CUDA)", "cuda" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstGanvoiceDevice", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("text/x-raw, format = (string) { utf8, pango-markup }"));

/* Reference audio for a cloned voice: its buffers are dropped; what counts
 * is the ganvoice-voice-profile event that speakerembed sends with it. */
static GstStaticPadTemplate reference_template =
    GST_STATIC_PAD_TEMPLATE ("reference", GST_PAD_SINK, GST_PAD_REQUEST,
        GST_STATIC_CAPS ("audio/x-raw"));

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
        GST_STATIC_CAPS ("audio/x-raw, format = (string) F32LE, "
                         "layout = (string) interleaved, channels = (int) 1, "
                         "rate = (int) [ 1, MAX ]"));

using namespace ganvoice_element;

namespace {

std::string
strip_markup (const std::string &markup)
{
  ganvoice::TextOptions options;
  options.keep_annotations = true;
  options.split_dialogue = false;
  std::string out;
  for (const auto &turn : ganvoice::speakable_turns (
           markup, ganvoice::MarkupKind::Html, "", options))
    out += (out.empty () ? "" : " ") + turn.text;
  return out;
}

} // namespace

#define gst_ganvoice_parent_class parent_class
G_DEFINE_TYPE (GstGanvoice, gst_ganvoice, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (
    ganvoice, "ganvoice", GST_RANK_NONE, GST_TYPE_GANVOICE);

/* ---- The sink pad ----------------------------------------------------- */

/* Releases the held cue before @event; when that fails (flushing, or the
 * src task stopped), @event is dropped and FALSE returned. */
static bool
release_before (GstGanvoice *self, GstEvent *event, GstClockTime next_start)
{
  GstFlowReturn ret = release_pending (self, next_start);
  if (ret == GST_FLOW_OK)
    return true;
  GST_DEBUG_OBJECT (self, "%s dropped: the held cue was not queued (%s)",
      GST_EVENT_TYPE_NAME (event), gst_flow_get_name (ret));
  gst_event_unref (event);
  return false;
}

/* Whether upstream is live, asked once per stream (from the streaming
 * thread); a failed query counts as live, as early audio is then the
 * safe side. */
static bool
upstream_is_live (GstGanvoice *self)
{
  GanvoicePrivate *priv = self->priv;
  if (!priv->sink.live) {
    GstQuery *query = gst_query_new_latency ();
    gboolean live = TRUE;
    if (gst_pad_peer_query (self->sinkpad, query))
      gst_query_parse_latency (query, &live, NULL, NULL);
    gst_query_unref (query);
    priv->sink.live = live != FALSE;
    GST_DEBUG_OBJECT (self, "upstream is %s: the vocoder %s",
        live ? "live" : "not live",
        live ? "streams in small chunks" : "vocodes whole pieces");
  }
  return *priv->sink.live;
}

static GstFlowReturn
gst_ganvoice_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  GstGanvoice *self = GST_GANVOICE (parent);
  GanvoicePrivate *priv = self->priv;

  {
    /* A reference pad: wait for its voice (or its end). */
    std::unique_lock<std::mutex> guard (priv->lock);
    priv->cond.wait (
        guard, [&] { return priv->flushing || priv->reference_done; });
    if (priv->reference_serial != priv->seen_reference_serial) {
      priv->seen_reference_serial = priv->reference_serial;
      priv->received = priv->reference_profile;
    }
    GstFlowReturn ret = priv->flushing ? GST_FLOW_FLUSHING : priv->src_result;
    if (ret == GST_FLOW_OK && priv->load_state == LoadState::Failed)
      ret = GST_FLOW_ERROR;
    if (ret != GST_FLOW_OK) {
      gst_buffer_unref (buf);
      return ret;
    }
  }

  try {
    if (!GST_BUFFER_PTS_IS_VALID (buf)) {
      if (!priv->sink.warned_no_pts)
        GST_ELEMENT_WARNING (self, STREAM, FORMAT,
            ("Text buffer without a timestamp: not spoken"), (NULL));
      priv->sink.warned_no_pts = true;
      gst_buffer_unref (buf);
      return GST_FLOW_OK;
    }
    GstMapInfo map;
    if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
      gst_buffer_unref (buf);
      GST_ELEMENT_ERROR (
          self, RESOURCE, READ, ("Could not map a text buffer"), (NULL));
      return GST_FLOW_ERROR;
    }
    std::string text ((const char *) map.data, map.size);
    gst_buffer_unmap (buf, &map);
    /* Anything may come in: keep valid UTF-8 only, up to a NUL. */
    text.resize (strnlen (text.c_str (), text.size ()));
    gchar *valid = g_utf8_make_valid (text.c_str (), (gssize) text.size ());
    text = valid;
    g_free (valid);

    GstCaps *caps = gst_pad_get_current_caps (pad);
    if (caps) {
      const gchar *format =
          gst_structure_get_string (gst_caps_get_structure (caps, 0), "format");
      if (g_strcmp0 (format, "pango-markup") == 0)
        text = strip_markup (text);
      gst_caps_unref (caps);
    }

    Settings s = copy_settings (self);
    GstClockTime start = GST_BUFFER_PTS (buf);
    GstClockTime end = GST_BUFFER_DURATION_IS_VALID (buf)
        ? start + GST_BUFFER_DURATION (buf)
        : start;
    Job job = make_job (s, text, start, end);
    job.low_latency = upstream_is_live (self);
    GanvoiceCueMeta *meta = gst_buffer_get_ganvoice_cue_meta (buf);
    if (meta) {
      job.index = meta->index;
      if (meta->speaker)
        job.speaker = meta->speaker;
      if (job.language.empty () && meta->language)
        job.language = meta->language;
      priv->sink.next_index = meta->index + 1;
    } else {
      job.index = priv->sink.next_index++;
    }
    const std::string *voice =
        job.speaker.empty () ? nullptr : s.speakers.find (job.speaker);
    if (voice)
      job.voice = *voice;
    else
      job.profile = priv->received;
    gst_buffer_unref (buf);

    GST_LOG_OBJECT (self,
        "cue %u %" GST_TIME_FORMAT " - %" GST_TIME_FORMAT " [%s] %zu bytes",
        job.index, GST_TIME_ARGS (start), GST_TIME_ARGS (end),
        job.speaker.c_str (), job.text.size ());
    GstFlowReturn ret = release_pending (self, start);
    priv->sink.pending = std::move (job);
    return ret;
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (
        self, CORE, FAILED, ("ganvoice failed: %s", e.what ()), (NULL));
    return GST_FLOW_ERROR;
  }
}

static void
reset_sink_state (GanvoicePrivate *priv)
{
  priv->sink = {};
}

/* The profile a ganvoice-voice-profile event carries; null (and @error)
 * when it carries none or a bad one. The embedding is checked against the
 * model when a cue is spoken with it. */
static std::shared_ptr<const ganvoice::VoiceProfile>
profile_from_event (GstEvent *event, std::string *error)
{
  const GstStructure *st = gst_event_get_structure (event);
  const gchar *json = st ? gst_structure_get_string (st, "profile") : NULL;
  if (!json) {
    *error = "the ganvoice-voice-profile event has no \"profile\" string";
    return nullptr;
  }
  try {
    return std::make_shared<const ganvoice::VoiceProfile> (
        ganvoice::VoiceProfile::parse (json, "the received voice profile"));
  } catch (const std::exception &e) {
    *error = e.what ();
    return nullptr;
  }
}

static gboolean
handle_sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstGanvoice *self = GST_GANVOICE (parent);
  GanvoicePrivate *priv = self->priv;

  GST_LOG_OBJECT (self, "sink event %" GST_PTR_FORMAT, event);
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START: {
      {
        std::lock_guard<std::mutex> guard (priv->lock);
        priv->flushing = true;
        clear_queue_locked (priv);
      }
      gboolean ret = gst_pad_push_event (self->srcpad, event);
      gst_pad_pause_task (self->srcpad);
      return ret;
    }
    case GST_EVENT_FLUSH_STOP: {
      reset_sink_state (priv);
      GST_PAD_STREAM_LOCK (self->srcpad);
      reset_src_state (priv, false);
      GST_PAD_STREAM_UNLOCK (self->srcpad);
      {
        std::lock_guard<std::mutex> guard (priv->lock);
        clear_queue_locked (priv);
        priv->flushing = false;
        priv->src_result = GST_FLOW_OK;
      }
      gboolean ret = gst_pad_push_event (self->srcpad, event);
      gst_pad_start_task (self->srcpad, (GstTaskFunction) src_loop, self, NULL);
      return ret;
    }
    case GST_EVENT_CAPS: {
      /* Our caps are the models' audio format, set by the src task. */
      gst_event_unref (event);
      return TRUE;
    }
    case GST_EVENT_SEGMENT: {
      const GstSegment *segment;
      gst_event_parse_segment (event, &segment);
      if (segment->format != GST_FORMAT_TIME) {
        gst_event_unref (event);
        GST_ELEMENT_ERROR (self, STREAM, FORMAT,
            ("ganvoice needs TIME segments (timed text cues)"), (NULL));
        return FALSE;
      }
      if (!release_before (self, event, priv->sink.in_segment.stop))
        return FALSE;
      priv->sink.in_segment = *segment;
      const GstClockTime start = segment->start; /* the queue owns it next */
      {
        std::lock_guard<std::mutex> guard (priv->lock);
        priv->last_segment = *segment;
        priv->have_segment = true;
      }
      bool ok = enqueue_event (self, event);
      if (ok && priv->text_at_start) {
        priv->text_at_start = false;
        Settings s = copy_settings (self);
        if (!s.text.empty ()) {
          Job job = make_job (s, s.text, start, start);
          job.at_now = true;
          job.use_reference = true;
          ok = enqueue_cue (self, std::move (job), false) == GST_FLOW_OK;
        }
      }
      return ok;
    }
    case GST_EVENT_GAP: {
      GstClockTime ts, duration;
      gst_event_parse_gap (event, &ts, &duration);
      if (priv->sink.pending && GST_CLOCK_TIME_IS_VALID (ts) &&
          GST_CLOCK_TIME_IS_VALID (duration) &&
          ts + duration > priv->sink.pending->start &&
          !release_before (self, event, ts + duration))
        return FALSE;
      return enqueue_event (self, event);
    }
    case GST_EVENT_STREAM_START:
      return release_before (self, event, GST_CLOCK_TIME_NONE) &&
          enqueue_event (self, event);
    case GST_EVENT_EOS:
      return release_before (self, event, priv->sink.in_segment.stop) &&
          enqueue_event (self, event);
    case GST_EVENT_CUSTOM_DOWNSTREAM:
      if (gst_event_has_name (event, ganvoice::VoiceProfile::kEvent)) {
        /* The voice of the cues after it (docs/cloning.md). */
        std::string error;
        auto profile = profile_from_event (event, &error);
        if (!profile) {
          gst_event_unref (event);
          GST_ELEMENT_ERROR (self, STREAM, FORMAT,
              ("Could not use the received voice profile: %s", error.c_str ()),
              (NULL));
          return FALSE;
        }
        GST_INFO_OBJECT (self, "voice from now on: %s", profile->name.c_str ());
        priv->received = profile;
      }
      return enqueue_event (self, event);
    default:
      if (GST_EVENT_IS_SERIALIZED (event))
        return enqueue_event (self, event);
      return gst_pad_event_default (pad, parent, event);
  }
}

static gboolean
gst_ganvoice_sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  try {
    return handle_sink_event (pad, parent, event);
  } catch (const std::exception &e) {
    /* The event was consumed or not: either way, no more of it. */
    GST_ELEMENT_ERROR (
        parent, CORE, FAILED, ("ganvoice failed: %s", e.what ()), (NULL));
    return FALSE;
  }
}

/* ---- The reference pad ------------------------------------------------ */

static GstFlowReturn
gst_ganvoice_reference_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  /* speakerembed upstream has analyzed it already. */
  gst_buffer_unref (buf);
  return GST_FLOW_OK;
}

static gboolean
gst_ganvoice_reference_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstGanvoice *self = GST_GANVOICE (parent);
  GanvoicePrivate *priv = self->priv;
  const bool profile_event =
      GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_DOWNSTREAM &&
      gst_event_has_name (event, ganvoice::VoiceProfile::kEvent);
  const bool eos = GST_EVENT_TYPE (event) == GST_EVENT_EOS;
  if (!profile_event && !eos) {
    gst_event_unref (event);
    return TRUE;
  }
  std::string error;
  std::shared_ptr<const ganvoice::VoiceProfile> profile;
  if (profile_event)
    profile = profile_from_event (event, &error);
  gst_event_unref (event);
  bool had_profile;
  {
    std::lock_guard<std::mutex> guard (priv->lock);
    if (profile) {
      priv->reference_profile = profile;
      priv->reference_serial++;
    }
    had_profile = priv->reference_profile != nullptr;
    /* A bad profile ends the wait too: the error stops the pipeline. */
    priv->reference_done = true;
    priv->cond.notify_all ();
  }
  if (profile_event && !profile) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Could not use the received voice profile: %s", error.c_str ()),
        (NULL));
    return FALSE;
  }
  if (eos && !had_profile)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("The reference audio ended without a voice profile: the cues are "
         "spoken with the configured voice (is there a speakerembed "
         "send-event=true before the reference pad?)"),
        (NULL));
  return TRUE;
}

static GstPad *
gst_ganvoice_request_new_pad (GstElement *element, GstPadTemplate *templ,
    const gchar *name, const GstCaps *caps)
{
  GstGanvoice *self = GST_GANVOICE (element);
  GanvoicePrivate *priv = self->priv;
  GstPad *pad = gst_pad_new_from_template (templ, "reference");
  gst_pad_set_chain_function (
      pad, GST_DEBUG_FUNCPTR (gst_ganvoice_reference_chain));
  gst_pad_set_event_function (
      pad, GST_DEBUG_FUNCPTR (gst_ganvoice_reference_event));
  {
    std::lock_guard<std::mutex> guard (priv->lock);
    if (priv->reference) {
      /* One reference pad. */
      gst_object_ref_sink (pad);
      gst_object_unref (pad);
      return NULL;
    }
    priv->reference = pad;
    priv->reference_done = false;
  }
  GST_OBJECT_LOCK (self);
  const bool running = GST_STATE (self) > GST_STATE_READY ||
      GST_STATE_PENDING (self) > GST_STATE_READY;
  GST_OBJECT_UNLOCK (self);
  if (running)
    gst_pad_set_active (pad, TRUE);
  gst_element_add_pad (element, pad);
  return pad;
}

static void
gst_ganvoice_release_pad (GstElement *element, GstPad *pad)
{
  GstGanvoice *self = GST_GANVOICE (element);
  GanvoicePrivate *priv = self->priv;
  {
    std::lock_guard<std::mutex> guard (priv->lock);
    if (priv->reference != pad)
      return;
    priv->reference = nullptr;
    priv->reference_done = true;
    priv->cond.notify_all ();
  }
  gst_pad_set_active (pad, FALSE);
  gst_element_remove_pad (element, pad);
}

/* ---- The element ------------------------------------------------------ */

static GstStateChangeReturn
gst_ganvoice_change_state (GstElement *element, GstStateChange transition)
{
  GstGanvoice *self = GST_GANVOICE (element);
  GanvoicePrivate *priv = self->priv;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED: {
      reset_sink_state (priv);
      priv->received.reset ();
      reset_src_state (priv, true);
      {
        std::lock_guard<std::mutex> guard (priv->lock);
        clear_queue_locked (priv);
        gst_segment_init (&priv->last_segment, GST_FORMAT_TIME);
        priv->have_segment = false;
        priv->reference_done = priv->reference == nullptr;
        priv->reference_profile.reset ();
        priv->seen_reference_serial = priv->reference_serial;
        priv->flushing = false;
        priv->src_result = GST_FLOW_OK;
      }
      try {
        start_worker (self);
      } catch (const std::exception &e) {
        GST_ELEMENT_ERROR (self, CORE, FAILED,
            ("Could not start the synthesis thread: %s", e.what ()), (NULL));
        return GST_STATE_CHANGE_FAILURE;
      }
      Settings s = copy_settings (self);
      priv->text_at_start = !s.text.empty ();
      if (!s.text.empty () && !gst_pad_is_linked (self->sinkpad)) {
        /* No cues: speak the text at 0, then end the stream. */
        priv->text_at_start = false;
        Job job = make_job (s, s.text, 0, 0);
        job.use_reference = true;
        /* Just started: nothing is flushing or stopped yet. */
        if (enqueue_cue (self, std::move (job), false) == GST_FLOW_OK)
          enqueue_event (self, gst_event_new_eos ());
      }
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY: {
      std::lock_guard<std::mutex> guard (priv->lock);
      priv->flushing = true;
      priv->cond.notify_all ();
      break;
    }
    default:
      break;
  }

  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE &&
      transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    stop_worker (self);

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* The pads are inactive and the task stopped. */
      stop_worker (self);
      {
        std::lock_guard<std::mutex> guard (priv->lock);
        clear_queue_locked (priv);
      }
      reset_sink_state (priv);
      reset_src_state (priv, true);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL: {
      std::lock_guard<std::mutex> guard (priv->lock);
      priv->synth.reset ();
      priv->load_state = LoadState::Idle;
      break;
    }
    default:
      break;
  }
  return ret;
}

static void
set_string (std::string &to, const GValue *value)
{
  const gchar *s = g_value_get_string (value);
  to = s ? s : "";
}

static void
gst_ganvoice_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstGanvoice *self = GST_GANVOICE (object);
  std::vector<std::string> bad_entries;
  std::string text_now;

  GST_OBJECT_LOCK (self);
  Settings &s = self->priv->settings;
  switch (prop_id) {
    case PROP_VOICE:
      set_string (s.voice, value);
      break;
    case PROP_SPEAKER_MAP:
      set_string (s.speaker_map, value);
      s.speakers = ganvoice::SpeakerMap::parse (s.speaker_map, &bad_entries);
      break;
    case PROP_LANGUAGE:
      set_string (s.language, value);
      break;
    case PROP_RATE:
      s.rate = g_value_get_double (value);
      break;
    case PROP_PITCH:
      s.pitch = g_value_get_double (value);
      break;
    case PROP_ACOUSTIC_MODEL:
      set_string (s.acoustic_model, value);
      break;
    case PROP_ACOUSTIC_CARD:
      set_string (s.acoustic_card, value);
      break;
    case PROP_VOCODER_MODEL:
      set_string (s.vocoder_model, value);
      break;
    case PROP_VOCODER_CARD:
      set_string (s.vocoder_card, value);
      break;
    case PROP_DEVICE:
      s.device = (GstGanvoiceDevice) g_value_get_enum (value);
      break;
    case PROP_THREADS:
      s.threads = g_value_get_int (value);
      break;
    case PROP_OVERFLOW:
      s.overflow = (GstGanvoiceOverflow) g_value_get_enum (value);
      break;
    case PROP_MAX_RATE:
      s.max_rate = g_value_get_double (value);
      break;
    case PROP_LATENCY:
      s.latency = g_value_get_uint64 (value);
      break;
    case PROP_TEXT:
      set_string (s.text, value);
      if (GST_STATE (self) >= GST_STATE_PAUSED)
        text_now = s.text;
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);

  for (const std::string &entry : bad_entries)
    GST_WARNING_OBJECT (self,
        "speaker-map: ignoring \"%s\" (not "
        "SPEAKER=VOICE)",
        entry.c_str ());
  if (!text_now.empty ())
    speak_text_now (self, text_now);
}

static void
get_string (GValue *value, const std::string &s)
{
  g_value_set_string (value, s.empty () ? NULL : s.c_str ());
}

static void
gst_ganvoice_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstGanvoice *self = GST_GANVOICE (object);

  GST_OBJECT_LOCK (self);
  const Settings &s = self->priv->settings;
  switch (prop_id) {
    case PROP_VOICE:
      get_string (value, s.voice);
      break;
    case PROP_SPEAKER_MAP:
      get_string (value, s.speaker_map);
      break;
    case PROP_LANGUAGE:
      get_string (value, s.language);
      break;
    case PROP_RATE:
      g_value_set_double (value, s.rate);
      break;
    case PROP_PITCH:
      g_value_set_double (value, s.pitch);
      break;
    case PROP_ACOUSTIC_MODEL:
      get_string (value, s.acoustic_model);
      break;
    case PROP_ACOUSTIC_CARD:
      get_string (value, s.acoustic_card);
      break;
    case PROP_VOCODER_MODEL:
      get_string (value, s.vocoder_model);
      break;
    case PROP_VOCODER_CARD:
      get_string (value, s.vocoder_card);
      break;
    case PROP_DEVICE:
      g_value_set_enum (value, s.device);
      break;
    case PROP_THREADS:
      g_value_set_int (value, s.threads);
      break;
    case PROP_OVERFLOW:
      g_value_set_enum (value, s.overflow);
      break;
    case PROP_MAX_RATE:
      g_value_set_double (value, s.max_rate);
      break;
    case PROP_LATENCY:
      g_value_set_uint64 (value, s.latency);
      break;
    case PROP_TEXT:
      get_string (value, s.text);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ganvoice_finalize (GObject *object)
{
  GstGanvoice *self = GST_GANVOICE (object);

  stop_worker (self);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_ganvoice_class_init (GstGanvoiceClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (
      gst_ganvoice_debug, "ganvoice", 0, "ganvoice text-to-speech");

  gobject_class->set_property = gst_ganvoice_set_property;
  gobject_class->get_property = gst_ganvoice_get_property;
  gobject_class->finalize = gst_ganvoice_finalize;

  const GParamFlags rw_playing = (GParamFlags) (G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  const GParamFlags rw_ready = (GParamFlags) (G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);

  g_object_class_install_property (gobject_class, PROP_VOICE,
      g_param_spec_string ("voice", "Voice",
          "A built-in voice of the acoustic model, or the path of a voice "
          "profile file (NULL: the model's first voice)",
          NULL, rw_playing));
  g_object_class_install_property (gobject_class, PROP_SPEAKER_MAP,
      g_param_spec_string ("speaker-map", "Speaker map",
          "Voices per speaker of the cue meta: \"SPEAKER=VOICE;SPEAKER2="
          "/path/profile.json\", each VOICE a built-in voice or a profile "
          "file; other speakers get the voice property",
          NULL, rw_playing));
  g_object_class_install_property (gobject_class, PROP_LANGUAGE,
      g_param_spec_string ("language", "Language",
          "Language of the text, an ISO 639-1 code or an espeak-ng voice "
          "(NULL: the cue meta's language, else \"en\")",
          NULL, rw_playing));
  g_object_class_install_property (gobject_class, PROP_RATE,
      g_param_spec_double ("rate", "Rate",
          "Speaking rate (1: as the model speaks; fitting may speed it up "
          "further)",
          0.5, 2.0, DEFAULT_RATE, rw_playing));
  g_object_class_install_property (gobject_class, PROP_PITCH,
      g_param_spec_double ("pitch", "Pitch", "Pitch shift in semitones", -12.0,
          12.0, DEFAULT_PITCH, rw_playing));
  g_object_class_install_property (gobject_class, PROP_ACOUSTIC_MODEL,
      g_param_spec_string ("acoustic-model", "Acoustic model",
          "TorchScript acoustic model (NULL: acoustic/acoustic.ts in "
          "$GANVOICE_MODEL_DIR, the installed models or the source tree)",
          NULL, rw_ready));
  g_object_class_install_property (gobject_class, PROP_ACOUSTIC_CARD,
      g_param_spec_string ("acoustic-card", "Acoustic model card",
          "The acoustic model's card (NULL: the model's file name with "
          ".json for .ts)",
          NULL, rw_ready));
  g_object_class_install_property (gobject_class, PROP_VOCODER_MODEL,
      g_param_spec_string ("vocoder-model", "Vocoder model",
          "TorchScript vocoder (NULL: vocoder/vocoder.ts in "
          "$GANVOICE_MODEL_DIR, the installed models or the source tree)",
          NULL, rw_ready));
  g_object_class_install_property (gobject_class, PROP_VOCODER_CARD,
      g_param_spec_string ("vocoder-card", "Vocoder model card",
          "The vocoder's card (NULL: the model's file name with .json "
          "for .ts)",
          NULL, rw_ready));
  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_enum ("device", "Device", "Where the models run",
          GST_TYPE_GANVOICE_DEVICE, DEFAULT_DEVICE, rw_ready));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads",
          "LibTorch intra-op threads (process-wide; 0: LibTorch's default)", 0,
          256, DEFAULT_THREADS, rw_ready));
  g_object_class_install_property (gobject_class, PROP_OVERFLOW,
      g_param_spec_enum ("overflow", "Overflow",
          "What to do with speech too long for its slot",
          GST_TYPE_GANVOICE_OVERFLOW, DEFAULT_OVERFLOW, rw_playing));
  g_object_class_install_property (gobject_class, PROP_MAX_RATE,
      g_param_spec_double ("max-rate", "Maximum rate",
          "Fastest speed-up for fitting speech into its slot", 1.0, 4.0,
          DEFAULT_MAX_RATE, rw_playing));
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint64 ("latency", "Latency",
          "Latency added in live pipelines, in ns (0: an estimate, 1 s)", 0,
          G_MAXUINT64, DEFAULT_LATENCY, rw_ready));
  g_object_class_install_property (gobject_class, PROP_TEXT,
      g_param_spec_string ("text", "Text",
          "Plain text to speak: set while PAUSED or PLAYING, it is spoken "
          "now (at the current running time); set before, at the start of "
          "the first segment, or, with nothing linked to the sink pad, "
          "at 0 followed by EOS",
          NULL, rw_playing));

  element_class->change_state = gst_ganvoice_change_state;
  element_class->request_new_pad = gst_ganvoice_request_new_pad;
  element_class->release_pad = gst_ganvoice_release_pad;

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template (
      element_class, &reference_template);
  gst_element_class_set_static_metadata (element_class, "Text to fitted speech",
      "Filter/Converter/Text/Audio",
      "Speaks timed text cues with neural voices (espeak-ng frontend, "
      "acoustic model and GAN vocoder on LibTorch), each fitted into its "
      "slot before the next cue",
      "ganvoice developers");
  gst_element_class_add_static_metadata (element_class, "doc-section",
      "element-ganvoice: timed text to fitted speech (gtk-doc in "
      "plugins/gstganvoice.cpp; properties, messages and threading in "
      "docs/ganvoice.md; fitting in docs/ganvoice-fit.md)");
  gst_element_class_add_static_metadata (element_class, "example-launch-line",
      "gst-launch-1.0 filesrc location=film.srt ! subcues ! ganvoice "
      "voice=allison ! audioconvert ! autoaudiosink");

  gst_type_mark_as_plugin_api (
      GST_TYPE_GANVOICE_OVERFLOW, (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (GST_TYPE_GANVOICE_DEVICE, (GstPluginAPIFlags) 0);
}

static void
gst_ganvoice_init (GstGanvoice *self)
{
  self->priv = new GanvoicePrivate ();

  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (
      self->sinkpad, GST_DEBUG_FUNCPTR (gst_ganvoice_chain));
  gst_pad_set_event_function (
      self->sinkpad, GST_DEBUG_FUNCPTR (gst_ganvoice_sink_event));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_activatemode_function (
      self->srcpad, GST_DEBUG_FUNCPTR (src_activate_mode));
  gst_pad_set_query_function (self->srcpad, GST_DEBUG_FUNCPTR (src_query));
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
}

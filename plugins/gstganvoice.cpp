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

#include "gstganvoice.h"

#include <ganvoice/cuemeta.h>
#include <ganvoice/model-paths.h>
#include <ganvoice/speaker-map.h>
#include <ganvoice/speech-timeline.h>
#include <ganvoice/subtitles.h>
#include <ganvoice/synthesizer.h>

#include <gst/audio/audio.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

GST_DEBUG_CATEGORY_STATIC (gst_ganvoice_debug);
#define GST_CAT_DEFAULT gst_ganvoice_debug

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

#define DEFAULT_RATE 1.0
#define DEFAULT_PITCH 0.0
#define DEFAULT_DEVICE GST_GANVOICE_DEVICE_CPU
#define DEFAULT_THREADS \
  1 /* a 2nd intra-op thread fights the pipeline for 2 cores: docs/benchmarks.md */
#define DEFAULT_OVERFLOW GST_GANVOICE_OVERFLOW_DEFAULT
#define DEFAULT_MAX_RATE 1.4
#define DEFAULT_LATENCY 0
/* Reported as latency in live pipelines when the latency property is 0. */
#define ESTIMATED_LATENCY (1 * GST_SECOND)
/* The longest silence buffer between cues. */
#define SILENCE_CHUNK_MS 100
/* Cues queued for synthesis before the streaming thread waits. */
#define MAX_QUEUED_CUES 8

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

namespace {

struct Settings {
  std::string voice; /* "" = the model's first voice */
  std::string speaker_map; /* as set */
  ganvoice::SpeakerMap speakers; /* parsed */
  std::string language;
  double rate = DEFAULT_RATE;
  double pitch = DEFAULT_PITCH;
  std::string acoustic_model, acoustic_card, vocoder_model, vocoder_card;
  GstGanvoiceDevice device = DEFAULT_DEVICE;
  int threads = DEFAULT_THREADS;
  GstGanvoiceOverflow overflow = DEFAULT_OVERFLOW;
  double max_rate = DEFAULT_MAX_RATE;
  GstClockTime latency = DEFAULT_LATENCY;
  std::string text;
};

/* The models to load; the loaded ones are kept while this stays equal. */
/* The models to load: the options resolved, and why they cannot be
 * (a shipped model that is not there), if so. */
struct ModelConfig {
  ganvoice::SynthesizerOptions options;
  std::string missing;

  bool operator== (const ModelConfig &o) const
  {
    return options == o.options;
  }
};

/* One cue to speak, with the settings that were current when it came. */
struct Job {
  std::string text;
  std::string speaker;
  std::string language;
  std::string voice; /* name or profile path; "" = default */
  /* A voice received in a ganvoice-voice-profile event: used instead of
   * @voice (checked against the model when spoken). */
  std::shared_ptr<const ganvoice::VoiceProfile> profile;
  guint index = 0;
  GstClockTime start = 0;
  GstClockTime end = 0;
  GstClockTime next_start = GST_CLOCK_TIME_NONE;
  bool at_now = false; /* the text property: may start later */
  /* The text property: waits for the reference pad's voice (if any) in
   * the worker, as cues wait for it in the chain function. */
  bool use_reference = false;
  double rate = DEFAULT_RATE;
  double pitch = DEFAULT_PITCH;
  double max_rate = DEFAULT_MAX_RATE;
  ganvoice::FitPolicy policy = ganvoice::FitPolicy::Default;
  guint64 generation = 0;
};

/* An entry of the output queue: a serialized event, or a cue with its
 * audio as the worker produces it. */
struct Item {
  GstEvent *event = nullptr; /* owned; null for a cue */
  Job job;
  /* Filled by the worker, under GanvoicePrivate::lock. */
  bool planned = false;
  bool done = false;
  bool failed = false;
  GstClockTime speech_start = 0;
  std::deque<std::vector<float> > chunks;

  ~Item ()
  {
    if (event)
      gst_event_unref (event);
  }
};

using ItemPtr = std::shared_ptr<Item>;

enum class LoadState
{
  Idle,
  Loading,
  Ready,
  Failed
};

ganvoice::FitPolicy
to_policy (GstGanvoiceOverflow overflow)
{
  return (ganvoice::FitPolicy) overflow; /* the type's values are its */
}

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

GstSegment
time_segment ()
{
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  return segment;
}

/* The input stream as far as one segment goes. */
struct SinkStream {
  std::optional<Job> pending; /* held back until its slot's end is known */
  GstSegment in_segment = time_segment ();
  bool warned_no_pts = false;
  guint next_index = 0; /* cue numbers without a cue meta */
};

/* The output as far as one segment goes. */
struct OutputSegment {
  bool segment_sent = false;
  GstSegment out_segment = time_segment ();
  ganvoice::SpeechTimeline timeline; /* no position until a segment */
  bool out_discont = true;
};

/* What the worker keeps between cues. */
struct WorkerState {
  std::map<std::string, ganvoice::VoiceProfile> voice_cache;
  std::set<std::string> warned_languages;
  GstClockTime previous_end = GST_CLOCK_TIME_NONE;
};

struct GanvoicePrivate {
  /* GST_OBJECT_LOCK guards: settings. It is never taken while holding
   * `lock`, nor `lock` while holding it. */
  Settings settings;

  /* `lock` guards this block: the queues between the streaming thread,
   * the worker and the src pad task; `cond` signals any change. */
  std::mutex lock;
  std::condition_variable cond;
  std::deque<ItemPtr> queue; /* everything, in output order (src task) */
  std::deque<ItemPtr> jobs; /* cues still to synthesize (worker) */
  guint queued_cues = 0; /* cues in `queue` */
  bool flushing = true;
  bool quit = false; /* the worker must stop */
  guint64 generation = 0; /* bumped by flushes: stale work stops */
  LoadState load_state = LoadState::Idle;
  std::shared_ptr<ganvoice::Synthesizer> synth; /* kept until NULL */
  ModelConfig loaded_config;
  GstFlowReturn src_result = GST_FLOW_OK;
  GstSegment last_segment; /* the input segment, for the text property */
  bool have_segment = false;
  /* The reference pad: cues wait until it has given a profile or ended. */
  GstPad *reference = nullptr;
  bool reference_done = true;
  std::shared_ptr<const ganvoice::VoiceProfile> reference_profile;
  guint reference_serial = 0; /* bumped by each profile it gives */

  /* Started and joined by change_state (the state lock). */
  std::thread worker;

  /* The sink pad's stream lock guards this block. */
  SinkStream sink; /* reset by flushes and starts */
  bool text_at_start = false; /* speak the text property at the segment */
  /* The voice from the last ganvoice-voice-profile event (on the sink or
   * reference pad): cues after it use it. Kept over flushes. */
  std::shared_ptr<const ganvoice::VoiceProfile> received;
  guint seen_reference_serial = 0;

  /* The src pad task owns this block (reset while it is stopped). */
  bool stream_started = false;
  bool caps_sent = false;
  int out_rate = 0;
  OutputSegment out; /* reset by flushes and starts */

  /* The worker owns this block. */
  WorkerState work; /* reset when the worker starts */

  GanvoicePrivate ()
  {
    gst_segment_init (&last_segment, GST_FORMAT_TIME);
  }
};

struct _GstGanvoice {
  GstElement parent;

  GstPad *sinkpad;
  GstPad *srcpad;
  GanvoicePrivate *priv;
};

#define gst_ganvoice_parent_class parent_class
G_DEFINE_TYPE (GstGanvoice, gst_ganvoice, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (
    ganvoice, "ganvoice", GST_RANK_NONE, GST_TYPE_GANVOICE);

static void gst_ganvoice_src_loop (GstGanvoice *self);

static Settings
copy_settings (GstGanvoice *self)
{
  GST_OBJECT_LOCK (self);
  Settings settings = self->priv->settings;
  GST_OBJECT_UNLOCK (self);
  return settings;
}

static ModelConfig
model_config (const Settings &s)
{
  ganvoice::SynthesizerOptions given;
  given.acoustic_model = s.acoustic_model;
  given.acoustic_card = s.acoustic_card;
  given.vocoder_model = s.vocoder_model;
  given.vocoder_card = s.vocoder_card;
  given.device = s.device == GST_GANVOICE_DEVICE_CUDA ? "cuda" : "cpu";
  given.threads = s.threads;
  ModelConfig c;
  c.options = ganvoice::resolve_model_options (given, &c.missing);
  return c;
}

/* ---- The worker: loads the models, then synthesizes queued cues ------- */

static void
post_progress (GstGanvoice *self, GstProgressType type, const char *text)
{
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_progress (GST_OBJECT (self), type, "load", text));
}

/* Loads the models unless those of @config are loaded already.
 * Returns whether models are ready. */
static bool
load_models (
    GstGanvoice *self, const ModelConfig &config, const Settings &settings)
{
  GanvoicePrivate *priv = self->priv;
  {
    std::lock_guard<std::mutex> guard (priv->lock);
    if (priv->load_state == LoadState::Ready)
      return true;
  }

  post_progress (self, GST_PROGRESS_TYPE_START, "Loading the voice models");
  std::string error, debug;
  std::shared_ptr<ganvoice::Synthesizer> synth;
  const auto &o = config.options;
  /* A shipped model that is not there, with every place looked at. */
  error = config.missing;
  if (error.empty ()) {
    try {
      GST_INFO_OBJECT (self, "loading %s + %s, %s + %s on %s",
          o.acoustic_model.c_str (), o.acoustic_card.c_str (),
          o.vocoder_model.c_str (), o.vocoder_card.c_str (), o.device.c_str ());
      synth = ganvoice::Synthesizer::load (o);
    } catch (const std::exception &e) {
      error = e.what ();
      synth.reset ();
    }
  }
  std::string voice_error;
  if (synth) {
    /* Check the configured voices now rather than at the first cue. */
    try {
      if (!settings.voice.empty ())
        synth->voice (settings.voice);
      for (const auto &entry : settings.speakers.voices ())
        synth->voice (entry.second);
    } catch (const std::exception &e) {
      voice_error = e.what ();
    }
  }

  {
    std::lock_guard<std::mutex> guard (priv->lock);
    priv->synth = synth;
    priv->loaded_config = config;
    priv->load_state =
        synth && voice_error.empty () ? LoadState::Ready : LoadState::Failed;
    priv->cond.notify_all ();
  }
  if (synth && !voice_error.empty ()) {
    post_progress (self, GST_PROGRESS_TYPE_ERROR, "Bad voice");
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("%s", voice_error.c_str ()),
        ("the voice or speaker-map property"));
    return false;
  }
  if (!synth) {
    post_progress (self, GST_PROGRESS_TYPE_ERROR, "Could not load the models");
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("Could not load the voice models: %s", error.c_str ()),
        ("acoustic model %s, card %s; vocoder %s, card %s",
            o.acoustic_model.c_str (), o.acoustic_card.c_str (),
            o.vocoder_model.c_str (), o.vocoder_card.c_str ()));
    return false;
  }
  GST_INFO_OBJECT (self, "models ready: %d Hz on %s, %zu voices",
      synth->sample_rate (), synth->vocoder ().device ().c_str (),
      synth->voices ().size ());
  post_progress (self, GST_PROGRESS_TYPE_COMPLETE, "Voice models loaded");
  return true;
}

static void
post_cue_message (GstGanvoice *self, const Job &job, const std::string &voice,
    const ganvoice::Utterance &u, const ganvoice::FitPlan &plan,
    GstClockTime speech_end)
{
  std::string skipped;
  for (const std::string &s : u.skipped)
    skipped += (skipped.empty () ? "" : " ") + s;
  GstStructure *s = gst_structure_new ("ganvoice-cue", "index", G_TYPE_UINT,
      job.index, "speaker", G_TYPE_STRING, job.speaker.c_str (), "voice",
      G_TYPE_STRING, voice.c_str (), "language", G_TYPE_STRING,
      u.language.c_str (), "fell-back", G_TYPE_BOOLEAN, (gboolean) u.fell_back,
      "start", G_TYPE_UINT64, (guint64) job.start, "end", G_TYPE_UINT64,
      (guint64) job.end, "next-start", G_TYPE_UINT64, (guint64) job.next_start,
      "natural-duration", G_TYPE_UINT64, (guint64) u.natural, "applied-rate",
      G_TYPE_DOUBLE, plan.rate, "stretch", G_TYPE_DOUBLE, plan.stretch,
      "overflow", G_TYPE_UINT64, (guint64) std::max<int64_t> (plan.overflow, 0),
      "step", G_TYPE_STRING, ganvoice::fit_step_name (plan.step),
      "speech-start", G_TYPE_UINT64, (guint64) plan.start, "speech-end",
      G_TYPE_UINT64, (guint64) speech_end, "phonemes", G_TYPE_UINT,
      (guint) u.phonemes, "skipped", G_TYPE_STRING, skipped.c_str (), NULL);
  gst_element_post_message (
      GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
}

static const ganvoice::VoiceProfile &
resolve_voice (
    GstGanvoice *self, ganvoice::Synthesizer &synth, const std::string &spec)
{
  GanvoicePrivate *priv = self->priv;
  const std::string name = spec.empty () ? synth.voices ().front ().name : spec;
  auto it = priv->work.voice_cache.find (name);
  if (it == priv->work.voice_cache.end ())
    it = priv->work.voice_cache.emplace (name, synth.voice (name)).first;
  return it->second;
}

/* Whether @item's work is still wanted. Call with `lock` held. */
static bool
still_wanted (GanvoicePrivate *priv, const Item &item)
{
  return !priv->flushing && !priv->quit &&
      item.job.generation == priv->generation;
}

static void
synthesize (GstGanvoice *self, ganvoice::Synthesizer &synth, Item &item)
{
  GanvoicePrivate *priv = self->priv;
  const Job &job = item.job;

  std::shared_ptr<const ganvoice::VoiceProfile> profile = job.profile;
  if (job.use_reference) {
    std::unique_lock<std::mutex> guard (priv->lock);
    priv->cond.wait (guard,
        [&] { return priv->reference_done || !still_wanted (priv, item); });
    if (!still_wanted (priv, item))
      return;
    if (priv->reference_profile)
      profile = priv->reference_profile;
  }
  if (profile &&
      profile->embedding.size () !=
          (size_t) synth.acoustic ().card ().speaker_embedding_dim)
    throw ganvoice::VoiceProfileError ("the received voice profile \"" +
        profile->name + "\" has an embedding of " +
        std::to_string (profile->embedding.size ()) +
        " numbers, but the acoustic model's has " +
        std::to_string (synth.acoustic ().card ().speaker_embedding_dim) +
        " (a profile made for another model?)");
  const ganvoice::VoiceProfile &voice =
      profile ? *profile : resolve_voice (self, synth, job.voice);
  ganvoice::Utterance u = synth.prepare_voice (job.text,
      ganvoice::Synthesizer::spoken_language (job.language, voice.language),
      voice, job.rate);
  if (u.fell_back && priv->work.warned_languages.insert (job.language).second)
    GST_ELEMENT_WARNING (self, STREAM, FORMAT,
        ("Language \"%s\" is not known to the text frontend: cues in it are "
         "spoken as \"%s\"",
            job.language.c_str (), u.language.c_str ()),
        (NULL));
  for (const std::string &w : u.warnings)
    GST_DEBUG_OBJECT (self, "cue %u: %s", job.index, w.c_str ());

  ganvoice::FitRequest request;
  request.cue_start = (int64_t) job.start;
  request.cue_end = (int64_t) std::max (job.end, job.start);
  request.next_start = GST_CLOCK_TIME_IS_VALID (job.next_start)
      ? (int64_t) job.next_start
      : ganvoice::kFitNoTime;
  request.max_rate = job.max_rate;
  request.policy = job.policy;
  if (job.policy == ganvoice::FitPolicy::Shift &&
      GST_CLOCK_TIME_IS_VALID (priv->work.previous_end))
    request.previous_end = (int64_t) priv->work.previous_end;
  ganvoice::FitPlan plan = synth.plan (u, request);

  {
    std::lock_guard<std::mutex> guard (priv->lock);
    if (!still_wanted (priv, item))
      return;
  }

  /* Chunks go to the src task as the vocoder makes them. */
  bool first = true;
  GstClockTime speech_start = (GstClockTime) plan.start;
  auto on_chunk = [&] (const float *samples, size_t n) {
    std::lock_guard<std::mutex> guard (priv->lock);
    if (!still_wanted (priv, item))
      return false;
    if (first) {
      item.planned = true;
      item.speech_start = speech_start;
      first = false;
    }
    item.chunks.emplace_back (samples, samples + n);
    priv->cond.notify_all ();
    return true;
  };
  GST_DEBUG_OBJECT (self,
      "cue %u at %" GST_TIME_FORMAT ": %s, rate %.3f, "
      "natural %" GST_TIME_FORMAT,
      job.index, GST_TIME_ARGS (job.start), ganvoice::fit_step_name (plan.step),
      plan.rate, GST_TIME_ARGS (u.natural));

  /* The message goes out when the audio is complete, with its end. */
  ganvoice::SpeakResult result = synth.render (u, plan, job.pitch,
      [&] (const float *samples, size_t n) { return on_chunk (samples, n); });
  const GstClockTime speech_end = speech_start +
      gst_util_uint64_scale_round (
          result.n_samples, GST_SECOND, synth.sample_rate ());
  if (result.cancelled)
    return;
  post_cue_message (self, job, voice.name, u, plan, speech_end);
  if (result.n_samples > 0)
    priv->work.previous_end = speech_end;

  std::lock_guard<std::mutex> guard (priv->lock);
  item.planned = true;
  item.speech_start = speech_start;
  priv->cond.notify_all ();
}

static void
worker_main (GstGanvoice *self, ModelConfig config, Settings settings)
{
  GanvoicePrivate *priv = self->priv;
  bool ready = load_models (self, config, settings);
  std::shared_ptr<ganvoice::Synthesizer> synth;
  {
    std::lock_guard<std::mutex> guard (priv->lock);
    synth = priv->synth;
  }

  for (;;) {
    ItemPtr item;
    {
      std::unique_lock<std::mutex> guard (priv->lock);
      priv->cond.wait (
          guard, [&] { return priv->quit || !priv->jobs.empty (); });
      if (priv->quit)
        break;
      item = priv->jobs.front ();
      priv->jobs.pop_front ();
      if (!ready || !still_wanted (priv, *item)) {
        item->failed = !ready;
        item->done = true;
        priv->cond.notify_all ();
        continue;
      }
    }

    bool failed = false;
    std::string error;
    try {
      synthesize (self, *synth, *item);
    } catch (const std::exception &e) {
      failed = true;
      error = e.what ();
    }
    if (failed)
      GST_ELEMENT_ERROR (self, STREAM, FAILED,
          ("Could not speak cue %u: %s", item->job.index, error.c_str ()),
          ("text: %.200s", item->job.text.c_str ()));
    std::lock_guard<std::mutex> guard (priv->lock);
    item->failed = failed;
    item->done = true;
    priv->cond.notify_all ();
  }
}

static void
start_worker (GstGanvoice *self)
{
  GanvoicePrivate *priv = self->priv;
  Settings settings = copy_settings (self);
  ModelConfig config = model_config (settings);
  {
    /* The models loaded before are kept while their settings stay. */
    std::lock_guard<std::mutex> guard (priv->lock);
    priv->quit = false;
    if (priv->synth && priv->loaded_config == config) {
      priv->load_state = LoadState::Ready;
    } else {
      priv->synth.reset ();
      priv->load_state = LoadState::Loading;
    }
  }
  priv->work = {};
  priv->worker = std::thread (worker_main, self, config, settings);
}

static void
stop_worker (GstGanvoice *self)
{
  GanvoicePrivate *priv = self->priv;
  {
    std::lock_guard<std::mutex> guard (priv->lock);
    priv->quit = true;
    priv->cond.notify_all ();
  }
  if (priv->worker.joinable ())
    priv->worker.join ();
}

/* ---- The queue -------------------------------------------------------- */

/* Drops everything queued. Call with `lock` held. */
static void
clear_queue_locked (GanvoicePrivate *priv)
{
  priv->queue.clear ();
  priv->jobs.clear ();
  priv->queued_cues = 0;
  priv->generation++;
  priv->cond.notify_all ();
}

/* Queues a cue; waits while the queue is full unless @wait is false.
 * Returns FLUSHING when flushing, or the src task's error. */
static GstFlowReturn
enqueue_cue (GstGanvoice *self, Job job, bool wait)
{
  GanvoicePrivate *priv = self->priv;
  std::unique_lock<std::mutex> guard (priv->lock);
  if (wait)
    priv->cond.wait (guard, [&] {
      return priv->flushing || priv->src_result != GST_FLOW_OK ||
          priv->queued_cues < MAX_QUEUED_CUES;
    });
  if (priv->flushing)
    return GST_FLOW_FLUSHING;
  if (priv->src_result != GST_FLOW_OK)
    return priv->src_result;
  auto item = std::make_shared<Item> ();
  job.generation = priv->generation;
  item->job = std::move (job);
  priv->queue.push_back (item);
  priv->jobs.push_back (item);
  priv->queued_cues++;
  priv->cond.notify_all ();
  return GST_FLOW_OK;
}

static bool
enqueue_event (GstGanvoice *self, GstEvent *event)
{
  GanvoicePrivate *priv = self->priv;
  std::lock_guard<std::mutex> guard (priv->lock);
  if (priv->flushing) {
    gst_event_unref (event);
    return false;
  }
  auto item = std::make_shared<Item> ();
  item->event = event;
  priv->queue.push_back (item);
  priv->cond.notify_all ();
  return true;
}

/* Queues the held-back cue, its slot ending at @next_start. */
static GstFlowReturn
release_pending (GstGanvoice *self, GstClockTime next_start)
{
  GanvoicePrivate *priv = self->priv;
  if (!priv->sink.pending)
    return GST_FLOW_OK;
  Job job = std::move (*priv->sink.pending);
  priv->sink.pending.reset ();
  job.next_start = next_start;
  return enqueue_cue (self, std::move (job), true);
}

static Job
make_job (const Settings &s, const std::string &text, GstClockTime start,
    GstClockTime end)
{
  Job job;
  job.text = text;
  job.start = start;
  job.end = end;
  job.voice = s.voice;
  job.language = s.language;
  job.rate = s.rate;
  job.pitch = s.pitch;
  job.max_rate = s.max_rate;
  job.policy = to_policy (s.overflow);
  return job;
}

/* The text property, spoken "now": at the current running time when
 * playing, else at the start of the current segment. */
static void
speak_text_now (GstGanvoice *self, const std::string &text)
{
  GanvoicePrivate *priv = self->priv;
  Settings s = copy_settings (self);
  GstClockTime start = 0;

  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
  GstClockTime base = gst_element_get_base_time (GST_ELEMENT (self));
  GST_OBJECT_LOCK (self);
  GstState state = GST_STATE (self);
  GST_OBJECT_UNLOCK (self);
  {
    std::lock_guard<std::mutex> guard (priv->lock);
    GstSegment seg = priv->last_segment;
    start = seg.start;
    if (clock && state == GST_STATE_PLAYING) {
      GstClockTime now = gst_clock_get_time (clock);
      if (now > base) {
        guint64 pos = gst_segment_position_from_running_time (
            &seg, GST_FORMAT_TIME, now - base);
        if (GST_CLOCK_TIME_IS_VALID (pos))
          start = pos;
      }
    }
  }
  if (clock)
    gst_object_unref (clock);
  Job job = make_job (s, text, start, start);
  job.language = s.language;
  job.at_now = true;
  job.use_reference = true;
  GST_DEBUG_OBJECT (self, "speaking the text property at %" GST_TIME_FORMAT,
      GST_TIME_ARGS (start));
  GstFlowReturn ret = enqueue_cue (self, std::move (job), false);
  if (ret != GST_FLOW_OK)
    GST_DEBUG_OBJECT (
        self, "the text was not queued: %s", gst_flow_get_name (ret));
}

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

/* Only while the src task is stopped or paused. */
static void
reset_src_state (GanvoicePrivate *priv, bool new_stream)
{
  if (new_stream) {
    priv->stream_started = false;
    priv->caps_sent = false;
  }
  priv->out = {};
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
      gst_pad_start_task (
          self->srcpad, (GstTaskFunction) gst_ganvoice_src_loop, self, NULL);
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

/* ---- The src pad task ------------------------------------------------- */

static GstClockTime
pos_to_time (GanvoicePrivate *priv, gint64 pos)
{
  return gst_util_uint64_scale_int_round (
      (guint64) pos, GST_SECOND, priv->out_rate);
}

static gint64
time_to_pos (GanvoicePrivate *priv, GstClockTime t)
{
  return (gint64) gst_util_uint64_scale_int_round (
      t, priv->out_rate, GST_SECOND);
}

/* Sends stream-start (unless upstream did) and our caps, waiting for the
 * models. FALSE when they failed to load (the error is posted) or on a
 * flush. */
static bool
ensure_caps (GstGanvoice *self)
{
  GanvoicePrivate *priv = self->priv;
  if (!priv->stream_started) {
    GST_OBJECT_LOCK (self);
    const bool several_sinks = GST_ELEMENT (self)->numsinkpads > 1;
    GST_OBJECT_UNLOCK (self);
    gchar *id;
    if (several_sinks) {
      /* With a reference pad GStreamer cannot tell which upstream to
       * follow: the text's, else a random one. */
      gchar *upstream = gst_pad_get_stream_id (self->sinkpad);
      id = upstream
          ? g_strdup_printf ("%s/speech", upstream)
          : g_strdup_printf ("%08x%08x%08x%08x/speech", g_random_int (),
                g_random_int (), g_random_int (), g_random_int ());
      g_free (upstream);
    } else {
      id =
          gst_pad_create_stream_id (self->srcpad, GST_ELEMENT (self), "speech");
    }
    gst_pad_push_event (self->srcpad, gst_event_new_stream_start (id));
    g_free (id);
    priv->stream_started = true;
  }
  if (priv->caps_sent)
    return true;
  int rate = 0;
  {
    std::unique_lock<std::mutex> guard (priv->lock);
    priv->cond.wait (guard, [&] {
      return priv->flushing || priv->load_state == LoadState::Ready ||
          priv->load_state == LoadState::Failed;
    });
    if (priv->flushing || priv->load_state != LoadState::Ready || !priv->synth)
      return false;
    rate = priv->synth->sample_rate ();
  }
  GstCaps *caps = gst_caps_new_simple ("audio/x-raw", "format", G_TYPE_STRING,
      "F32LE", "layout", G_TYPE_STRING, "interleaved", "channels", G_TYPE_INT,
      1, "rate", G_TYPE_INT, rate, NULL);
  bool ok = gst_pad_set_caps (self->srcpad, caps);
  gst_caps_unref (caps);
  priv->out_rate = rate;
  priv->caps_sent = true;
  return ok;
}

static bool
ensure_segment (GstGanvoice *self)
{
  GanvoicePrivate *priv = self->priv;
  if (!ensure_caps (self))
    return false;
  if (!priv->out.segment_sent) {
    gst_pad_push_event (
        self->srcpad, gst_event_new_segment (&priv->out.out_segment));
    priv->out.segment_sent = true;
  }
  if (!priv->out.timeline.started ())
    priv->out.timeline.reset (time_to_pos (priv, priv->out.out_segment.start));
  return true;
}

/* Pushes @n samples at sample position @start; @samples null: silence, as
 * a GAP buffer of zeros (a continuous stream that files come out right
 * from, while mixers and sinks see the GAP flag). */
static GstFlowReturn
push_span (GstGanvoice *self, gint64 start, const float *samples, size_t n)
{
  GanvoicePrivate *priv = self->priv;
  GstBuffer *buf = samples
      ? gst_buffer_new_memdup (samples, n * sizeof (float))
      : gst_buffer_new_allocate (NULL, n * sizeof (float), NULL);
  if (!buf) {
    GST_ELEMENT_ERROR (
        self, RESOURCE, FAILED, ("Could not allocate %zu samples", n), (NULL));
    return GST_FLOW_ERROR;
  }
  if (!samples) {
    gst_buffer_memset (buf, 0, 0, n * sizeof (float));
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_GAP);
  }
  GstClockTime ts = pos_to_time (priv, start);
  GST_BUFFER_PTS (buf) = ts;
  GST_BUFFER_DURATION (buf) = pos_to_time (priv, start + (gint64) n) - ts;
  GST_BUFFER_OFFSET (buf) = start;
  GST_BUFFER_OFFSET_END (buf) = start + n;
  if (priv->out.out_discont) {
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    priv->out.out_discont = false;
  }
  return gst_pad_push (self->srcpad, buf);
}

/* Everything before sample position @pos is final: push it, speech and
 * silence (at most SILENCE_CHUNK_MS a buffer). */
static GstFlowReturn
advance_to (GstGanvoice *self, gint64 pos)
{
  GanvoicePrivate *priv = self->priv;
  GstFlowReturn ret = GST_FLOW_OK;
  const size_t max_silence =
      (size_t) std::max (1, priv->out_rate * SILENCE_CHUNK_MS / 1000);
  priv->out.timeline.advance_to (
      pos, max_silence, [&] (int64_t start, const float *samples, size_t n) {
        ret = push_span (self, start, samples, n);
        return ret == GST_FLOW_OK;
      });
  return ret;
}

static GstFlowReturn
push_all (GstGanvoice *self)
{
  return advance_to (self, self->priv->out.timeline.end ());
}

static GstFlowReturn
handle_event_item (GstGanvoice *self, GstEvent *event)
{
  GanvoicePrivate *priv = self->priv;
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
      if (priv->stream_started && priv->caps_sent) {
        /* A new stream: caps and segment again. */
        priv->caps_sent = false;
      }
      priv->stream_started = true;
      priv->out.segment_sent = false;
      gst_pad_push_event (self->srcpad, event);
      return GST_FLOW_OK;
    case GST_EVENT_SEGMENT: {
      GstFlowReturn ret =
          priv->out.segment_sent ? push_all (self) : GST_FLOW_OK;
      if (!ensure_caps (self)) {
        gst_event_unref (event);
        return GST_FLOW_ERROR;
      }
      const GstSegment *segment;
      gst_event_parse_segment (event, &segment);
      priv->out.out_segment = *segment;
      priv->out.timeline.reset (time_to_pos (priv, segment->start));
      priv->out.out_discont = true;
      priv->out.segment_sent = true;
      gst_pad_push_event (self->srcpad, event);
      return ret;
    }
    case GST_EVENT_GAP: {
      GstClockTime ts, duration;
      gst_event_parse_gap (event, &ts, &duration);
      gst_event_unref (event);
      if (!ensure_segment (self))
        return GST_FLOW_ERROR;
      if (GST_CLOCK_TIME_IS_VALID (ts) && GST_CLOCK_TIME_IS_VALID (duration))
        return advance_to (self, time_to_pos (priv, ts + duration));
      return GST_FLOW_OK;
    }
    case GST_EVENT_EOS: {
      GstFlowReturn ret = GST_FLOW_OK;
      if (ensure_segment (self))
        ret = push_all (self);
      gst_pad_push_event (self->srcpad, event);
      return ret == GST_FLOW_OK ? GST_FLOW_EOS : ret;
    }
    default:
      if (GST_EVENT_IS_STICKY (event))
        ensure_caps (self);
      gst_pad_push_event (self->srcpad, event);
      return GST_FLOW_OK;
  }
}

/* Pushes one cue's audio as the worker makes it. */
static GstFlowReturn
handle_cue_item (GstGanvoice *self, Item &item)
{
  GanvoicePrivate *priv = self->priv;
  const Job &job = item.job;
  gint64 start = -1, written = 0;
  const bool bound_time_valid = GST_CLOCK_TIME_IS_VALID (job.next_start);

  if (!ensure_segment (self))
    return priv->flushing ? GST_FLOW_FLUSHING : GST_FLOW_ERROR;
  const gint64 final_pos =
      bound_time_valid ? time_to_pos (priv, job.next_start) : -1;

  for (;;) {
    std::vector<float> chunk;
    bool done;
    {
      std::unique_lock<std::mutex> guard (priv->lock);
      priv->cond.wait (guard, [&] {
        return priv->flushing || item.failed || item.done ||
            !item.chunks.empty ();
      });
      if (priv->flushing)
        return GST_FLOW_FLUSHING;
      if (item.failed)
        return GST_FLOW_ERROR;
      if (start < 0 && item.planned) {
        start = time_to_pos (priv, item.speech_start);
        if (job.at_now)
          start = std::max<gint64> (start, priv->out.timeline.end ());
      }
      done = item.done && item.chunks.empty ();
      if (!item.chunks.empty ()) {
        chunk = std::move (item.chunks.front ());
        item.chunks.pop_front ();
      }
    }
    if (!chunk.empty ()) {
      if (written == 0) {
        GstFlowReturn ret = advance_to (self, start);
        if (ret != GST_FLOW_OK)
          return ret;
      }
      size_t late = priv->out.timeline.mix (
          start + written, chunk.data (), chunk.size ());
      if (late > 0)
        GST_DEBUG_OBJECT (
            self, "dropped %zu samples before the output position", late);
      written += chunk.size ();
      gint64 bound = start + written;
      if (final_pos >= 0)
        bound = std::min (bound, final_pos);
      GstFlowReturn ret = advance_to (self, bound);
      if (ret != GST_FLOW_OK)
        return ret;
    }
    if (done)
      break;
  }
  /* Nothing comes before the next cue's start; after the last cue, the
   * stream lasts at least to its end (a WAV as long as the subtitles). */
  if (final_pos >= 0)
    return advance_to (self, final_pos);
  if (GST_CLOCK_TIME_IS_VALID (job.end) && job.end > job.start)
    return advance_to (self, time_to_pos (priv, job.end));
  return GST_FLOW_OK;
}

static void
pause_task (GstGanvoice *self, GstFlowReturn ret)
{
  GanvoicePrivate *priv = self->priv;
  GST_DEBUG_OBJECT (self, "pausing the task: %s", gst_flow_get_name (ret));
  {
    std::lock_guard<std::mutex> guard (priv->lock);
    if (!priv->flushing || ret != GST_FLOW_FLUSHING)
      priv->src_result = ret;
    priv->cond.notify_all ();
  }
  gst_pad_pause_task (self->srcpad);
  if (ret == GST_FLOW_NOT_LINKED ||
      (ret < GST_FLOW_EOS && ret != GST_FLOW_FLUSHING &&
          ret != GST_FLOW_ERROR)) {
    GST_ELEMENT_FLOW_ERROR (self, ret);
    gst_pad_push_event (self->srcpad, gst_event_new_eos ());
  }
}

static void
gst_ganvoice_src_loop (GstGanvoice *self)
{
  GanvoicePrivate *priv = self->priv;
  ItemPtr item;
  {
    std::unique_lock<std::mutex> guard (priv->lock);
    priv->cond.wait (
        guard, [&] { return priv->flushing || !priv->queue.empty (); });
    if (priv->flushing) {
      guard.unlock ();
      pause_task (self, GST_FLOW_FLUSHING);
      return;
    }
    item = priv->queue.front ();
    if (item->event) {
      priv->queue.pop_front ();
      priv->cond.notify_all ();
    }
  }

  GstFlowReturn ret;
  try {
    if (item->event) {
      GstEvent *event = item->event;
      item->event = nullptr;
      ret = handle_event_item (self, event);
    } else {
      ret = handle_cue_item (self, *item);
      std::lock_guard<std::mutex> guard (priv->lock);
      if (!priv->queue.empty () && priv->queue.front () == item) {
        priv->queue.pop_front ();
        priv->queued_cues--;
        priv->cond.notify_all ();
      }
    }
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (
        self, CORE, FAILED, ("ganvoice failed: %s", e.what ()), (NULL));
    ret = GST_FLOW_ERROR;
  }
  if (ret != GST_FLOW_OK)
    pause_task (self, ret);
}

static gboolean
gst_ganvoice_src_activate_mode (
    GstPad *pad, GstObject *parent, GstPadMode mode, gboolean active)
{
  GstGanvoice *self = GST_GANVOICE (parent);
  GanvoicePrivate *priv = self->priv;

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (active) {
    {
      std::lock_guard<std::mutex> guard (priv->lock);
      priv->flushing = false;
      priv->src_result = GST_FLOW_OK;
    }
    return gst_pad_start_task (
        pad, (GstTaskFunction) gst_ganvoice_src_loop, self, NULL);
  }
  {
    std::lock_guard<std::mutex> guard (priv->lock);
    priv->flushing = true;
    priv->cond.notify_all ();
  }
  return gst_pad_stop_task (pad);
}

static gboolean
gst_ganvoice_src_query (GstPad *pad, GstObject *parent, GstQuery *query)
{
  GstGanvoice *self = GST_GANVOICE (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY: {
      if (!gst_pad_peer_query (self->sinkpad, query))
        return FALSE;
      gboolean live;
      GstClockTime min, max;
      gst_query_parse_latency (query, &live, &min, &max);
      if (live) {
        GST_OBJECT_LOCK (self);
        GstClockTime ours = self->priv->settings.latency;
        GST_OBJECT_UNLOCK (self);
        if (ours == 0)
          ours = ESTIMATED_LATENCY;
        min += ours;
        if (GST_CLOCK_TIME_IS_VALID (max))
          max += ours;
        gst_query_set_latency (query, live, min, max);
      }
      return TRUE;
    }
    default:
      return gst_pad_query_default (pad, parent, query);
  }
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
      self->srcpad, GST_DEBUG_FUNCPTR (gst_ganvoice_src_activate_mode));
  gst_pad_set_query_function (
      self->srcpad, GST_DEBUG_FUNCPTR (gst_ganvoice_src_query));
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
}

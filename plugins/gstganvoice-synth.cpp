/* ganvoice: the ganvoice element's cue queue and its synthesis worker
 * (model loading, one cue at a time, chunks to the src pad task).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstganvoice-private.h"

#include <ganvoice/cuemeta.h>
#include <ganvoice/model-paths.h>

#include <gst/audio/audio.h>

#include <algorithm>
#include <cstring>
#include <exception>

#ifdef __linux__
#include <pthread.h>
#endif

namespace ganvoice_element {

Settings
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
    /* Check the configured voices now rather than at the first cue; a
     * deep clone's adapted model loads here (prepared on no text). */
    try {
      auto check = [&] (const std::string &spec) {
        ganvoice::VoiceProfile voice = synth->voice (spec);
        if (voice.acoustic_delta)
          synth->prepare_voice ("", "", voice, 1.0);
      };
      if (!settings.voice.empty ())
        check (settings.voice);
      for (const auto &entry : settings.speakers.voices ())
        check (entry.second);
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
      synth->acoustic ().voices ().size ());
  post_progress (self, GST_PROGRESS_TYPE_COMPLETE, "Voice models loaded");
  return true;
}

static GstMessage *
cue_message (GstGanvoice *self, const Job &job, const std::string &voice,
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
  return gst_message_new_element (GST_OBJECT (self), s);
}

static const ganvoice::VoiceProfile &
resolve_voice (
    GstGanvoice *self, ganvoice::Synthesizer &synth, const std::string &spec)
{
  GanvoicePrivate *priv = self->priv;
  const std::string name =
      spec.empty () ? synth.acoustic ().voices ().front ().name : spec;
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

/* One cue, from text to audio. Called with @prep (prep_lock) held: it is
 * let go before the render when nothing needs the cues one at a time (a
 * file upstream, no shift policy), so that another worker prepares and
 * renders the next cue meanwhile. Returns the cue's message, or null. */
static GstMessage *
synthesize (GstGanvoice *self, ganvoice::Synthesizer &synth, Item &item,
    std::unique_lock<std::mutex> &prep)
{
  GanvoicePrivate *priv = self->priv;
  const Job &job = item.job;
  const bool shift = job.policy == ganvoice::FitPolicy::Shift;

  std::shared_ptr<const ganvoice::VoiceProfile> profile = job.profile;
  if (job.use_reference) {
    std::unique_lock<std::mutex> guard (priv->lock);
    priv->cond.wait (guard,
        [&] { return priv->reference_done || !still_wanted (priv, item); });
    if (!still_wanted (priv, item))
      return nullptr;
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
  if (shift) {
    /* Shifting needs where the cue before ends: the renders before it
     * are waited for. */
    std::unique_lock<std::mutex> guard (priv->lock);
    priv->cond.wait (guard,
        [&] { return priv->renders == 0 || !still_wanted (priv, item); });
    if (!still_wanted (priv, item))
      return nullptr;
    if (GST_CLOCK_TIME_IS_VALID (priv->previous_end))
      request.previous_end = (int64_t) priv->previous_end;
  }
  ganvoice::FitPlan plan = synth.plan (u, request);

  const bool alone = job.low_latency || shift;
  {
    std::lock_guard<std::mutex> guard (priv->lock);
    if (!still_wanted (priv, item))
      return nullptr;
    if (!alone)
      priv->renders++;
  }
  /* The voice stays valid: the cache only grows, and a received profile
   * is held by the job. */
  const std::string voice_name = voice.name;
  if (!alone)
    prep.unlock ();
  struct RenderEnd {
    GanvoicePrivate *priv;
    bool counted;
    ~RenderEnd ()
    {
      if (!counted)
        return;
      std::lock_guard<std::mutex> guard (priv->lock);
      priv->renders--;
      priv->cond.notify_all ();
    }
  } render_end{ priv, !alone };

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
  ganvoice::SpeakResult result = synth.render (
      u, plan, job.pitch,
      [&] (const float *samples, size_t n) { return on_chunk (samples, n); },
      job.low_latency);
  const GstClockTime speech_end = speech_start +
      gst_util_uint64_scale_round (
          result.n_samples, GST_SECOND, synth.sample_rate ());
  if (result.cancelled)
    return nullptr;
  std::lock_guard<std::mutex> guard (priv->lock);
  /* The latest cue's end, whichever render ends first. */
  if (result.n_samples > 0 && item.seq >= priv->previous_end_seq) {
    priv->previous_end = speech_end;
    priv->previous_end_seq = item.seq;
  }
  item.planned = true;
  item.speech_start = speech_start;
  priv->cond.notify_all ();
  return cue_message (self, job, voice_name, u, plan, speech_end);
}

/* The synthesizer's CPU time per stage since the worker started, for
 * profiling a pipeline (GST_DEBUG=ganvoice:4; docs/benchmarks.md). */
static void
log_times (GstGanvoice *self, const ganvoice::Synthesizer &synth)
{
  const ganvoice::SynthesisTimes &t = synth.times ();
  if (t.utterances == 0)
    return;
  GST_INFO_OBJECT (self,
      "synthesis CPU time: %zu utterances, %.2f s of audio; frontend %.3f s, "
      "durations %.3f s, decoder %.3f s, vocoder (with post-filter) %.3f s, "
      "shaping %.3f s; total %.3f s, %.4f s per second of audio",
      t.utterances, t.audio, t.frontend, t.durations, t.decode, t.vocoder,
      t.shaping, t.total (), t.audio > 0.0 ? t.total () / t.audio : 0.0);
}

/* Waits for @item's turn to post its cue message (the messages go out in
 * the cues' order), posts @msg (if any, and if still wanted) and gives the
 * turn on. */
static void
post_in_turn (GstGanvoice *self, Item &item, GstMessage *msg)
{
  GanvoicePrivate *priv = self->priv;
  std::unique_lock<std::mutex> guard (priv->lock);
  priv->cond.wait (guard, [&] {
    return priv->posted_seq == item.seq || !still_wanted (priv, item);
  });
  if (!still_wanted (priv, item)) {
    /* A flush gave the turn past it already. */
    if (msg)
      gst_message_unref (msg);
    return;
  }
  guard.unlock ();
  if (msg)
    gst_element_post_message (GST_ELEMENT (self), msg);
  guard.lock ();
  if (priv->posted_seq == item.seq)
    priv->posted_seq++;
  priv->cond.notify_all ();
}

static void
worker_main (
    GstGanvoice *self, ModelConfig config, Settings settings, unsigned index)
{
  GanvoicePrivate *priv = self->priv;
#ifdef __linux__
  gchar *name = index == 0 ? g_strdup ("ganvoice-synth")
                           : g_strdup_printf ("ganvoice-synth%u", index);
  pthread_setname_np (pthread_self (), name);
  g_free (name);
#endif
  bool ready;
  if (index == 0) {
    gint64 load_start = g_get_monotonic_time ();
    ready = load_models (self, config, settings);
    GST_INFO_OBJECT (self, "models ready after %.3f s (%s)",
        (g_get_monotonic_time () - load_start) / 1e6,
        ready ? "loaded or kept" : "failed");
  } else {
    /* The first worker loads the models. */
    std::unique_lock<std::mutex> guard (priv->lock);
    priv->cond.wait (guard,
        [&] { return priv->quit || priv->load_state != LoadState::Loading; });
    ready = priv->load_state == LoadState::Ready;
  }
  std::shared_ptr<ganvoice::Synthesizer> synth;
  {
    std::lock_guard<std::mutex> guard (priv->lock);
    synth = priv->synth;
  }
  if (synth && index == 0)
    synth->reset_times ();

  for (;;) {
    /* One worker at a time takes a cue and prepares it. */
    std::unique_lock<std::mutex> prep (priv->prep_lock);
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
      item->seq = priv->next_seq++;
    }

    bool failed = false;
    std::string error;
    GstMessage *msg = nullptr;
    try {
      msg = synthesize (self, *synth, *item, prep);
    } catch (const std::exception &e) {
      failed = true;
      error = e.what ();
    }
    if (prep.owns_lock ())
      prep.unlock ();
    if (failed)
      GST_ELEMENT_ERROR (self, STREAM, FAILED,
          ("Could not speak cue %u: %s", item->job.index, error.c_str ()),
          ("text: %.200s", item->job.text.c_str ()));
    post_in_turn (self, *item, msg);
    std::lock_guard<std::mutex> guard (priv->lock);
    item->failed = failed;
    item->done = true;
    priv->cond.notify_all ();
  }
  if (synth && index == 0) {
    /* The times of all workers: wait for the others' last renders. */
    std::unique_lock<std::mutex> guard (priv->lock);
    priv->cond.wait (guard, [&] { return priv->renders == 0; });
    guard.unlock ();
    log_times (self, *synth);
  }
}

void
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
    priv->renders = 0;
    priv->previous_end = GST_CLOCK_TIME_NONE;
    priv->previous_end_seq = 0;
    priv->posted_seq = priv->next_seq;
  }
  priv->work = {};
  /* Two workers on a CPU with two or more cores when the models run on
   * one intra-op thread each: cues that nobody waits for (a file upstream)
   * render side by side, so speech uses a second core (the 150-cue dub of
   * docs/benchmarks.md: 10.3 s -> 9.5 s, the same samples).
   * GANVOICE_SYNTH_WORKERS=1 (or 2) chooses. */
  unsigned n = 1;
  if (settings.device == GST_GANVOICE_DEVICE_CPU && settings.threads == 1) {
    guint64 want = MAX_SYNTH_WORKERS;
    const char *env = g_getenv ("GANVOICE_SYNTH_WORKERS");
    if (env && *env)
      want = g_ascii_strtoull (env, NULL, 10);
    n = (unsigned) CLAMP (
        want, 1, (guint64) MIN (g_get_num_processors (), MAX_SYNTH_WORKERS));
  }
  for (unsigned i = 0; i < n; i++)
    priv->workers.emplace_back (worker_main, self, config, settings, i);
}

void
stop_worker (GstGanvoice *self)
{
  GanvoicePrivate *priv = self->priv;
  {
    std::lock_guard<std::mutex> guard (priv->lock);
    priv->quit = true;
    priv->cond.notify_all ();
  }
  for (std::thread &t : priv->workers)
    if (t.joinable ())
      t.join ();
  priv->workers.clear ();
}

/* ---- The queue -------------------------------------------------------- */

/* Drops everything queued. Call with `lock` held. */
void
clear_queue_locked (GanvoicePrivate *priv)
{
  priv->queue.clear ();
  priv->jobs.clear ();
  priv->queued_cues = 0;
  priv->generation++;
  /* The cues taken before are not wanted: their messages' turns pass. */
  priv->posted_seq = priv->next_seq;
  priv->cond.notify_all ();
}

/* Queues a cue; waits while the queue is full unless @wait is false.
 * Returns FLUSHING when flushing, or the src task's error. */
GstFlowReturn
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

bool
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
GstFlowReturn
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

Job
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
void
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

} // namespace ganvoice_element

/* ganvoice: the ganvoice element's src pad task: queued events and cue
 * audio onto one continuous output timeline.
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

namespace ganvoice_element {

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

void
src_loop (GstGanvoice *self)
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

gboolean
src_activate_mode (
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
    return gst_pad_start_task (pad, (GstTaskFunction) src_loop, self, NULL);
  }
  {
    std::lock_guard<std::mutex> guard (priv->lock);
    priv->flushing = true;
    priv->cond.notify_all ();
  }
  return gst_pad_stop_task (pad);
}

gboolean
src_query (GstPad *pad, GstObject *parent, GstQuery *query)
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

/* Only while the src task is stopped or paused. */
void
reset_src_state (GanvoicePrivate *priv, bool new_stream)
{
  if (new_stream) {
    priv->stream_started = false;
    priv->caps_sent = false;
  }
  priv->out = {};
}

} // namespace ganvoice_element

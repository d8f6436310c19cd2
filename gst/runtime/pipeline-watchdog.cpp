/* ganvoice: notices a pipeline that stopped moving, and says where.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/pipeline-watchdog.h>

#include <algorithm>
#include <mutex>
#include <vector>

namespace ganvoice {

namespace {

/* One watched sink pad. Its fields after `pad` are guarded by Impl::lock. */
struct PadState {
  GstPad *pad = nullptr; /* a reference */
  bool multi_input = false; /* an input of a muxer or mixer */
  GstClockTime reached = GST_CLOCK_TIME_NONE; /* end of the last buffer */
  guint64 buffers = 0;
  bool eos = false;
};

std::string
seconds (GstClockTime t)
{
  if (!GST_CLOCK_TIME_IS_VALID (t))
    return "nothing yet";
  gchar *s = g_strdup_printf ("%.2f s", t / (double) GST_SECOND);
  std::string out = s;
  g_free (s);
  return out;
}

std::string
object_name (GstObject *o)
{
  gchar *name = o ? gst_object_get_name (o) : nullptr;
  std::string out = name ? name : "?";
  g_free (name);
  return out;
}

/* The element that feeds @pad ("" when unlinked). */
std::string
upstream_name (GstPad *pad)
{
  GstPad *peer = gst_pad_get_peer (pad);
  if (!peer)
    return "";
  GstObject *parent = gst_pad_get_parent (peer);
  std::string out = object_name (parent);
  if (parent)
    gst_object_unref (parent);
  gst_object_unref (peer);
  return out;
}

bool
is_factory (GstElement *e, const char *name)
{
  GstElementFactory *f = gst_element_get_factory (e);
  return f && g_str_equal (GST_OBJECT_NAME (f), name);
}

std::string
level (guint buffers, guint64 time, bool full)
{
  gchar *s = g_strdup_printf ("%u buffers, %.2f s%s", buffers,
      time / (double) GST_SECOND,
      full               ? " (full)"
          : buffers == 0 ? " (empty)"
                         : "");
  std::string out = s;
  g_free (s);
  return out;
}

std::string
queue_level (GstElement *queue)
{
  guint buffers = 0, max_buffers = 0, bytes = 0, max_bytes = 0;
  guint64 time = 0, max_time = 0;
  g_object_get (queue, "current-level-buffers", &buffers, "current-level-bytes",
      &bytes, "current-level-time", &time, "max-size-buffers", &max_buffers,
      "max-size-bytes", &max_bytes, "max-size-time", &max_time, nullptr);
  bool full = (max_buffers && buffers >= max_buffers) ||
      (max_bytes && bytes >= max_bytes) || (max_time && time >= max_time);
  return object_name (GST_OBJECT (queue)) + " " + level (buffers, time, full);
}

std::string
multiqueue_levels (GstElement *mq)
{
  guint max_buffers = 0;
  g_object_get (mq, "max-size-buffers", &max_buffers, nullptr);
  std::string out;
  GstIterator *it = gst_element_iterate_src_pads (mq);
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstPad *pad = GST_PAD (g_value_get_object (&item));
    guint buffers = 0;
    guint64 time = 0;
    g_object_get (pad, "current-level-buffers", &buffers, "current-level-time",
        &time, nullptr);
    std::string to = upstream_name (pad); /* its peer: downstream */
    out += (out.empty () ? "" : ", ") + object_name (GST_OBJECT (pad)) +
        (to.empty () ? "" : " to " + to) + " " +
        level (buffers, time, max_buffers && buffers >= max_buffers);
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return object_name (GST_OBJECT (mq)) + " [" + out + "]";
}

/* Every element inside @bin, bins themselves left out. */
std::vector<GstElement *>
all_elements (GstElement *bin)
{
  std::vector<GstElement *> out;
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (bin));
  GValue item = G_VALUE_INIT;
  for (;;) {
    GstIteratorResult r = gst_iterator_next (it, &item);
    if (r == GST_ITERATOR_RESYNC) {
      for (GstElement *e : out)
        gst_object_unref (e);
      out.clear ();
      gst_iterator_resync (it);
      continue;
    }
    if (r != GST_ITERATOR_OK)
      break;
    GstElement *e = GST_ELEMENT (g_value_get_object (&item));
    if (!GST_IS_BIN (e))
      out.push_back (GST_ELEMENT (gst_object_ref (e)));
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return out;
}

std::vector<GstPad *>
sink_pads (GstElement *e)
{
  std::vector<GstPad *> out;
  GST_OBJECT_LOCK (e);
  for (GList *l = e->sinkpads; l; l = l->next)
    out.push_back (GST_PAD (gst_object_ref (l->data)));
  GST_OBJECT_UNLOCK (e);
  return out;
}

} // namespace

struct PipelineWatchdog::Impl {
  GstElement *pipeline = nullptr;
  std::mutex lock; /* guards the PadStates' fields, last_progress, buffers */
  std::vector<std::unique_ptr<PadState> > pads; /* owner thread only */
  std::vector<gulong> probes; /* same order as pads */
  gint64 last_progress = 0; /* monotonic, us */
  guint64 buffers = 0;

  /* Runs once the probes are gone (each holds a reference). */
  ~Impl ()
  {
    for (const auto &s : pads)
      gst_object_unref (s->pad);
    gst_object_unref (pipeline);
  }
};

namespace {

struct ProbeContext {
  std::shared_ptr<PipelineWatchdog::Impl> impl;
  PadState *state;
};

GstClockTime
buffer_end (GstBuffer *buf)
{
  GstClockTime t = GST_BUFFER_PTS_IS_VALID (buf) ? GST_BUFFER_PTS (buf)
                                                 : GST_BUFFER_DTS (buf);
  if (GST_CLOCK_TIME_IS_VALID (t) && GST_BUFFER_DURATION_IS_VALID (buf))
    t += GST_BUFFER_DURATION (buf);
  return t;
}

GstPadProbeReturn
on_data (GstPad *, GstPadProbeInfo *info, gpointer user_data)
{
  auto *ctx = static_cast<ProbeContext *> (user_data);
  PipelineWatchdog::Impl &impl = *ctx->impl;
  GstClockTime end = GST_CLOCK_TIME_NONE;
  bool eos = false, data = false;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    end = buffer_end (GST_PAD_PROBE_INFO_BUFFER (info));
    data = true;
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
    guint n = gst_buffer_list_length (list);
    if (n > 0)
      end = buffer_end (gst_buffer_list_get (list, n - 1));
    data = true;
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    eos = GST_EVENT_TYPE (event) == GST_EVENT_EOS;
    /* A GAP moves the stream on as a buffer does. */
    if (GST_EVENT_TYPE (event) == GST_EVENT_GAP) {
      GstClockTime ts, duration;
      gst_event_parse_gap (event, &ts, &duration);
      end = GST_CLOCK_TIME_IS_VALID (duration) ? ts + duration : ts;
      data = true;
    }
  }
  if (!data && !eos)
    return GST_PAD_PROBE_OK;
  std::lock_guard<std::mutex> guard (impl.lock);
  PadState &s = *ctx->state;
  if (eos) {
    s.eos = true;
  } else {
    s.buffers++;
    impl.buffers++;
    if (GST_CLOCK_TIME_IS_VALID (end))
      s.reached = end;
  }
  impl.last_progress = g_get_monotonic_time ();
  return GST_PAD_PROBE_OK;
}

void
free_context (gpointer data)
{
  delete static_cast<ProbeContext *> (data);
}

} // namespace

PipelineWatchdog::PipelineWatchdog (GstElement *pipeline)
    : impl_ (std::make_shared<Impl> ())
{
  impl_->pipeline = GST_ELEMENT (gst_object_ref (pipeline));
  impl_->last_progress = g_get_monotonic_time ();
  rescan ();
}

PipelineWatchdog::~PipelineWatchdog ()
{
  for (size_t i = 0; i < impl_->pads.size (); i++)
    gst_pad_remove_probe (impl_->pads[i]->pad, impl_->probes[i]);
}

void
PipelineWatchdog::rescan ()
{
  for (GstElement *e : all_elements (impl_->pipeline)) {
    std::vector<GstPad *> pads = sink_pads (e);
    const bool sink = GST_OBJECT_FLAG_IS_SET (e, GST_ELEMENT_FLAG_SINK);
    /* A muxer or mixer: inputs (requested, or several) into one output;
     * not a multiqueue, whose streams stay apart. */
    const bool multi = e->numsrcpads == 1 &&
        (pads.size () >= 2 ||
            (pads.size () == 1 && GST_PAD_PAD_TEMPLATE (pads[0]) &&
                GST_PAD_TEMPLATE_PRESENCE (GST_PAD_PAD_TEMPLATE (pads[0])) ==
                    GST_PAD_REQUEST));
    for (GstPad *pad : pads) {
      bool known = std::any_of (impl_->pads.begin (), impl_->pads.end (),
          [&] (const std::unique_ptr<PadState> &s) { return s->pad == pad; });
      if ((sink || multi) && !known) {
        auto state = std::make_unique<PadState> ();
        state->pad = GST_PAD (gst_object_ref (pad));
        state->multi_input = multi;
        gulong id = gst_pad_add_probe (pad,
            (GstPadProbeType) (GST_PAD_PROBE_TYPE_BUFFER |
                GST_PAD_PROBE_TYPE_BUFFER_LIST |
                GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
            on_data, new ProbeContext{ impl_, state.get () }, free_context);
        impl_->pads.push_back (std::move (state));
        impl_->probes.push_back (id);
      }
      gst_object_unref (pad);
    }
    gst_object_unref (e);
  }
}

double
PipelineWatchdog::idle_seconds ()
{
  rescan ();
  std::lock_guard<std::mutex> guard (impl_->lock);
  return (g_get_monotonic_time () - impl_->last_progress) / 1e6;
}

void
PipelineWatchdog::restart ()
{
  std::lock_guard<std::mutex> guard (impl_->lock);
  impl_->last_progress = g_get_monotonic_time ();
}

guint64
PipelineWatchdog::buffers_seen () const
{
  std::lock_guard<std::mutex> guard (impl_->lock);
  return impl_->buffers;
}

std::string
PipelineWatchdog::describe ()
{
  rescan ();
  struct Input {
    std::string element, pad, from;
    GstClockTime reached;
    bool eos;
  };
  std::vector<Input> inputs;
  {
    std::lock_guard<std::mutex> guard (impl_->lock);
    for (const auto &s : impl_->pads) {
      if (!s->multi_input)
        continue;
      GstObject *parent = gst_pad_get_parent (s->pad);
      inputs.push_back (
          { object_name (parent), object_name (GST_OBJECT (s->pad)),
              upstream_name (s->pad), s->reached, s->eos });
      if (parent)
        gst_object_unref (parent);
    }
  }

  std::string out;
  /* Per muxer or mixer: its inputs, and the one that holds it back (the
   * furthest behind of those that have not ended). */
  std::vector<std::string> elements;
  for (const Input &in : inputs)
    if (std::find (elements.begin (), elements.end (), in.element) ==
        elements.end ())
      elements.push_back (in.element);
  for (const std::string &element : elements) {
    std::string list;
    const Input *behind = nullptr;
    int open = 0;
    for (const Input &in : inputs) {
      if (in.element != element)
        continue;
      list += (list.empty () ? "" : "; ") + in.pad +
          (in.from.empty () ? "" : " (from " + in.from + ")") + ": " +
          seconds (in.reached) + (in.eos ? ", ended" : "");
      if (!in.eos) {
        open++;
        bool earlier = !behind ||
            (!GST_CLOCK_TIME_IS_VALID (in.reached) &&
                GST_CLOCK_TIME_IS_VALID (behind->reached)) ||
            (GST_CLOCK_TIME_IS_VALID (in.reached) &&
                GST_CLOCK_TIME_IS_VALID (behind->reached) &&
                in.reached < behind->reached);
        if (earlier)
          behind = &in;
      }
    }
    out += (out.empty () ? "" : ". ") + element + " has " + list;
    if (behind && open > 0)
      out += ". The stalled branch: " + element + "." + behind->pad +
          (behind->from.empty () ? "" : ", fed by " + behind->from) +
          ", waits for data after " + seconds (behind->reached);
  }

  std::string queues;
  for (GstElement *e : all_elements (impl_->pipeline)) {
    if (is_factory (e, "queue") || is_factory (e, "queue2"))
      queues += (queues.empty () ? "" : "; ") + queue_level (e);
    else if (is_factory (e, "multiqueue"))
      queues += (queues.empty () ? "" : "; ") + multiqueue_levels (e);
    gst_object_unref (e);
  }
  if (!queues.empty ())
    out += (out.empty () ? "" : ". ") + std::string ("Queues: ") + queues;
  if (out.empty ())
    out = "no muxer, mixer or queue to report on";
  return out;
}

GstMessage *
wait_for_end (GstElement *pipeline, double stall_seconds, std::string *stalled)
{
  PipelineWatchdog watchdog (pipeline);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg = nullptr;
  while (!msg) {
    msg = gst_bus_timed_pop_filtered (bus, GST_SECOND / 2,
        (GstMessageType) (GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (!msg && watchdog.idle_seconds () >= stall_seconds) {
      if (stalled)
        *stalled = watchdog.describe ();
      break;
    }
  }
  gst_object_unref (bus);
  return msg;
}

} // namespace ganvoice

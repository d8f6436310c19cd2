/* ganvoice: duckmix, mixes a dub voice into a programme with ducking.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

/**
 * SECTION:element-duckmix
 * @title: duckmix
 * @short_description: Mixes a dub voice into a programme, ducking it
 *
 * Mixes a mono voice (the `voice` request pad) into a programme soundtrack
 * (the `programme` request pad). Output is F32 interleaved at the
 * programme's rate and channels; the voice is copied into every channel.
 * Both inputs must be F32 at the same rate: put `audioconvert !
 * audioresample` and a caps filter in front of each.
 *
 * In #GstDuckMix:mode `duck` the programme is lowered by
 * #GstDuckMix:duck-level while the voice speaks (a gate on the voice level
 * against #GstDuckMix:voice-threshold; GAP buffers and missing data are
 * silence), with #GstDuckMix:attack and #GstDuckMix:release. The output is
 * delayed by #GstDuckMix:lookahead, which is reported as latency, so that
 * the duck is complete before the first syllable; timestamps stay right.
 * `replace` mutes the programme while the voice speaks, `add` sums.
 * #GstDuckMix:dialogue-suppression lowers only the centre (mid) of a stereo
 * programme. The mix is then brought to #GstDuckMix:loudness-target (EBU
 * R128) and limited to #GstDuckMix:limit (unless #GstDuckMix:mastering is
 * false).
 *
 * When the voice ends first, the programme goes on unducked; the output
 * ends where the programme ends. See docs/duckmix.md.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 audiotestsrc wave=pink-noise num-buffers=500 ! audioconvert ! audio/x-raw,format=F32LE,rate=48000,channels=2 ! duckmix name=m mode=duck duck-level=-15 ! audioconvert ! wavenc ! filesink location=ducked.wav  audiotestsrc freq=440 num-buffers=200 ! audioconvert ! audio/x-raw,format=F32LE,rate=48000,channels=1 ! m.voice
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstduckmix.h"

#include <ganvoice/ducking.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <vector>

GST_DEBUG_CATEGORY_STATIC (gst_duck_mix_debug);
#define GST_CAT_DEFAULT gst_duck_mix_debug

enum
{
  PROP_0,
  PROP_MODE,
  PROP_DUCK_LEVEL,
  PROP_ATTACK,
  PROP_RELEASE,
  PROP_LOOKAHEAD,
  PROP_VOICE_THRESHOLD,
  PROP_DIALOGUE_SUPPRESSION,
  PROP_LOUDNESS_TARGET,
  PROP_LIMIT,
  PROP_MASTERING,
  PROP_BYPASS,
};

#define DEFAULT_MODE GST_DUCK_MIX_MODE_DUCK
#define DEFAULT_DUCK_LEVEL -12.0
#define DEFAULT_ATTACK 50.0
#define DEFAULT_RELEASE 300.0
#define DEFAULT_LOOKAHEAD 100.0
#define DEFAULT_VOICE_THRESHOLD -45.0
#define DEFAULT_DIALOGUE_SUPPRESSION FALSE
#define DEFAULT_LOUDNESS_TARGET -16.0
#define DEFAULT_LIMIT -1.0
#define DEFAULT_MASTERING TRUE

typedef enum
{
  GST_DUCK_MIX_MODE_DUCK,
  GST_DUCK_MIX_MODE_REPLACE,
  GST_DUCK_MIX_MODE_ADD,
} GstDuckMixMode;

GType
gst_duck_mix_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_DUCK_MIX_MODE_DUCK,
        "Lower the programme by duck-level while the "
        "voice speaks",
        "duck" },
    { GST_DUCK_MIX_MODE_REPLACE, "Mute the programme while the voice speaks",
        "replace" },
    { GST_DUCK_MIX_MODE_ADD, "Plain sum", "add" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstDuckMixMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define CAPS_F32 \
  "audio/x-raw, format = (string) " GST_AUDIO_NE ( \
      F32) ", " \
           "layout = (string) interleaved, rate = (int) [ 1, MAX ], "

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
        GST_STATIC_CAPS (CAPS_F32 "channels = (int) [ 1, 8 ]"));

static GstStaticPadTemplate programme_template =
    GST_STATIC_PAD_TEMPLATE ("programme", GST_PAD_SINK, GST_PAD_REQUEST,
        GST_STATIC_CAPS (CAPS_F32 "channels = (int) [ 1, 8 ]"));

static GstStaticPadTemplate voice_template =
    GST_STATIC_PAD_TEMPLATE ("voice", GST_PAD_SINK, GST_PAD_REQUEST,
        GST_STATIC_CAPS (CAPS_F32 "channels = (int) 1"));

struct DuckMixPrivate {
  /* GST_OBJECT_LOCK guards: config (the properties) and config_serial. */
  ganvoice::DuckMixConfig config;
  GstDuckMixMode mode = DEFAULT_MODE;
  guint config_serial = 1;

  /* Set from any thread, acted on by the src streaming thread. */
  std::atomic<bool> reset_pending{ true };
  /* The programme out as it was staged: no voice, delay or mastering. */
  std::atomic<bool> bypass{ false };

  /* The src pad's streaming thread (aggregate and its vfuncs) owns the
   * rest. */
  ganvoice::DuckMix dsp;
  guint applied_serial = 0;
  int rate = 0;
  int channels = 0;
  bool configured = false;
  std::vector<float> programme; /* this output block's inputs */
  std::vector<float> voice;
  guint block_frames = 0;
  guint programme_filled = 0; /* programme frames in this block (end) */
  guint voice_filled = 0;
  gint64 data_end = -1; /* aggregator offset where the end-defining
                                   * input (the programme) stopped so far */
  gint64 next_offset = -1; /* aggregator offset after the last block */

  /* Running time where the last programme buffer, GAP or not, ended (-1:
   * none). Written by the programme pad's streaming thread (a probe, as
   * GAP buffers never reach aggregate_one_buffer), read by the src one. */
  std::atomic<gint64> programme_end_rt{ -1 };
  bool finished = false; /* output reached the programme's end */
  bool alloc_failed = false; /* a block could not be allocated: stop */
};

struct _GstDuckMix {
  GstAudioAggregator parent;

  DuckMixPrivate *priv;
};

#define gst_duck_mix_parent_class parent_class
G_DEFINE_TYPE (GstDuckMix, gst_duck_mix, GST_TYPE_AUDIO_AGGREGATOR);
GST_ELEMENT_REGISTER_DEFINE (
    duckmix, "duckmix", GST_RANK_NONE, GST_TYPE_DUCK_MIX);

static GstAudioAggregatorPad *
find_pad (GstDuckMix *self, const char *name)
{
  GstAudioAggregatorPad *found = NULL;
  GST_OBJECT_LOCK (self);
  for (GList *l = GST_ELEMENT (self)->sinkpads; l; l = l->next) {
    if (g_strcmp0 (GST_OBJECT_NAME (l->data), name) == 0) {
      found = GST_AUDIO_AGGREGATOR_PAD (gst_object_ref (l->data));
      break;
    }
  }
  GST_OBJECT_UNLOCK (self);
  return found;
}

static bool
is_voice_pad (GstAudioAggregatorPad *pad)
{
  return g_strcmp0 (GST_OBJECT_NAME (pad), "voice") == 0;
}

static guint64
lookahead_ns (GstDuckMix *self)
{
  GST_OBJECT_LOCK (self);
  double ms = self->priv->config.ducker.lookahead_ms;
  GST_OBJECT_UNLOCK (self);
  return (guint64) (ms * GST_MSECOND);
}

static void
update_latency (GstDuckMix *self)
{
  guint64 latency = lookahead_ns (self);
  gst_aggregator_set_latency (GST_AGGREGATOR (self), latency, latency);
}

/* Notes where each programme buffer or GAP event ends, in running time:
 * the output ends there even when the programme ends in GAPs. */
static GstPadProbeReturn
note_programme_end (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstDuckMix *self = GST_DUCK_MIX (user_data);
  GstClockTime end = GST_CLOCK_TIME_NONE;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
    if (GST_BUFFER_PTS_IS_VALID (buffer))
      end = GST_BUFFER_PTS (buffer) +
          (GST_BUFFER_DURATION_IS_VALID (buffer) ? GST_BUFFER_DURATION (buffer)
                                                 : 0);
  } else if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) ==
      GST_EVENT_GAP) {
    GstClockTime ts, duration;
    gst_event_parse_gap (GST_PAD_PROBE_INFO_EVENT (info), &ts, &duration);
    if (GST_CLOCK_TIME_IS_VALID (ts))
      end = ts + (GST_CLOCK_TIME_IS_VALID (duration) ? duration : 0);
  }
  if (!GST_CLOCK_TIME_IS_VALID (end))
    return GST_PAD_PROBE_OK;
  GstEvent *event = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
  if (!event)
    return GST_PAD_PROBE_OK;
  const GstSegment *segment;
  gst_event_parse_segment (event, &segment);
  guint64 rt = segment->format == GST_FORMAT_TIME
      ? gst_segment_to_running_time (segment, GST_FORMAT_TIME, end)
      : GST_CLOCK_TIME_NONE;
  gst_event_unref (event);
  if (GST_CLOCK_TIME_IS_VALID (rt)) {
    gint64 old = self->priv->programme_end_rt.load ();
    while ((gint64) rt > old &&
        !self->priv->programme_end_rt.compare_exchange_weak (old, (gint64) rt))
      ;
  }
  return GST_PAD_PROBE_OK;
}

static GstAggregatorPad *
gst_duck_mix_create_new_pad (GstAggregator *agg, GstPadTemplate *templ,
    const gchar *req_name, const GstCaps *caps)
{
  GstDuckMix *self = GST_DUCK_MIX (agg);
  const gchar *name = GST_PAD_TEMPLATE_NAME_TEMPLATE (templ);

  if (req_name && g_strcmp0 (req_name, name) != 0) {
    GST_WARNING_OBJECT (self,
        "pad name %s: the pads are 'programme' and "
        "'voice'",
        req_name);
    return NULL;
  }
  GstAudioAggregatorPad *existing = find_pad (self, name);
  if (existing) {
    gst_object_unref (existing);
    GST_WARNING_OBJECT (self, "there is already a '%s' pad", name);
    return NULL;
  }
  /* GstAggregator 1.22 would call it sink_%u. */
  GstAggregatorPad *pad =
      GST_AGGREGATOR_PAD (g_object_new (GST_TYPE_AUDIO_AGGREGATOR_PAD, "name",
          name, "direction", GST_PAD_SINK, "template", templ, NULL));
  if (g_strcmp0 (name, "programme") == 0)
    gst_pad_add_probe (GST_PAD (pad),
        (GstPadProbeType) (GST_PAD_PROBE_TYPE_BUFFER |
            GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
        note_programme_end, self, NULL);
  return pad;
}

/* Each sink pad takes its template's caps; once a rate is configured on
 * any pad, only that rate (the base class mixes without resampling). */
static gboolean
gst_duck_mix_sink_query (
    GstAggregator *agg, GstAggregatorPad *aggpad, GstQuery *query)
{
  if (GST_QUERY_TYPE (query) != GST_QUERY_CAPS)
    return GST_AGGREGATOR_CLASS (parent_class)->sink_query (agg, aggpad, query);

  GstCaps *filter;
  gst_query_parse_caps (query, &filter);
  GstCaps *caps = gst_pad_get_pad_template_caps (GST_PAD (aggpad));
  int rate = 0;
  GST_OBJECT_LOCK (agg);
  for (GList *l = GST_ELEMENT (agg)->sinkpads; l && !rate; l = l->next) {
    GstAudioAggregatorPad *pad = GST_AUDIO_AGGREGATOR_PAD (l->data);
    if ((GstAggregatorPad *) pad == aggpad)
      continue;
    GST_OBJECT_LOCK (pad);
    if (GST_AUDIO_INFO_IS_VALID (&pad->info))
      rate = GST_AUDIO_INFO_RATE (&pad->info);
    GST_OBJECT_UNLOCK (pad);
  }
  GST_OBJECT_UNLOCK (agg);
  if (rate) {
    caps = gst_caps_make_writable (caps);
    gst_caps_set_simple (caps, "rate", G_TYPE_INT, rate, NULL);
  }
  if (filter) {
    GstCaps *both =
        gst_caps_intersect_full (filter, caps, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (caps);
    caps = both;
  }
  gst_query_set_caps_result (query, caps);
  gst_caps_unref (caps);
  return TRUE;
}

/* Output caps: F32 at the programme's rate and channels (the voice's, mono,
 * when there is no programme pad). */
static GstFlowReturn
gst_duck_mix_update_src_caps (GstAggregator *agg, GstCaps *caps, GstCaps **ret)
{
  GstDuckMix *self = GST_DUCK_MIX (agg);
  GstAudioAggregatorPad *pad = find_pad (self, "programme");
  if (!pad)
    pad = find_pad (self, "voice");
  if (!pad)
    return GST_AGGREGATOR_FLOW_NEED_DATA;

  GST_OBJECT_LOCK (pad);
  GstAudioInfo info = pad->info;
  GST_OBJECT_UNLOCK (pad);
  gst_object_unref (pad);
  if (!GST_AUDIO_INFO_IS_VALID (&info))
    return GST_AGGREGATOR_FLOW_NEED_DATA;

  GstCaps *wanted = gst_audio_info_to_caps (&info);
  GstCaps *downstream = gst_pad_peer_query_caps (agg->srcpad, wanted);
  *ret = gst_caps_intersect (wanted, downstream);
  gst_caps_unref (downstream);
  gst_caps_unref (wanted);
  if (gst_caps_is_empty (*ret)) {
    GST_WARNING_OBJECT (self, "downstream refuses the programme's format");
    gst_caps_replace (ret, NULL);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  GST_DEBUG_OBJECT (self, "output caps %" GST_PTR_FORMAT, *ret);
  return GST_FLOW_OK;
}

/* Streaming thread: brings the DSP in line with the output format and the
 * properties. */
static void
prepare_dsp (GstDuckMix *self)
{
  DuckMixPrivate *priv = self->priv;
  GstAudioAggregatorPad *srcpad =
      GST_AUDIO_AGGREGATOR_PAD (GST_AGGREGATOR_SRC_PAD (self));

  GST_OBJECT_LOCK (srcpad);
  int rate = GST_AUDIO_INFO_RATE (&srcpad->info);
  int channels = GST_AUDIO_INFO_CHANNELS (&srcpad->info);
  GST_OBJECT_UNLOCK (srcpad);

  GST_OBJECT_LOCK (self);
  ganvoice::DuckMixConfig config = priv->config;
  guint serial = priv->config_serial;
  GST_OBJECT_UNLOCK (self);

  bool reset = priv->reset_pending.exchange (false);
  if (reset) {
    priv->programme_end_rt = -1;
    priv->data_end = -1;
    priv->next_offset = -1;
    priv->finished = false;
  }
  if (!priv->configured || rate != priv->rate || channels != priv->channels ||
      serial != priv->applied_serial) {
    config.ducker.rate = rate;
    config.ducker.channels = channels;
    priv->dsp.configure (config);
    GST_DEBUG_OBJECT (self, "DSP for %d Hz x %d, latency %zu frames", rate,
        channels, priv->dsp.latency_frames ());
    priv->rate = rate;
    priv->channels = channels;
    priv->applied_serial = serial;
    priv->configured = true;
  } else if (reset) {
    priv->dsp.reset ();
  }
}

static GstBuffer *
gst_duck_mix_create_output_buffer (GstAudioAggregator *aagg, guint num_frames)
{
  GstDuckMix *self = GST_DUCK_MIX (aagg);
  DuckMixPrivate *priv = self->priv;

  try {
    prepare_dsp (self);
    priv->block_frames = num_frames;
    priv->programme.assign (
        (size_t) num_frames * std::max (1, priv->channels), 0.0f);
    priv->voice.assign (num_frames, 0.0f);
    priv->programme_filled = 0;
    priv->voice_filled = 0;
  } catch (const std::exception &e) {
    /* No block to mix into: an error that stops the stream (aggregate()
     * returns it), not a silent hole in the output. The base class needs
     * a buffer all the same; nothing is staged into it. */
    priv->block_frames = 0;
    priv->alloc_failed = true;
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED,
        ("Could not prepare a mix block of %u frames", num_frames),
        ("%s", e.what ()));
  }
  return GST_AUDIO_AGGREGATOR_CLASS (parent_class)
      ->create_output_buffer (aagg, num_frames);
}

/* Only stages the inputs: the mix needs both pads' frames for a block, so it
 * happens in finish_buffer, whatever the pad order. GAP buffers never come
 * here and stay silence. */
static gboolean
gst_duck_mix_aggregate_one_buffer (GstAudioAggregator *aagg,
    GstAudioAggregatorPad *pad, GstBuffer *inbuf, guint in_offset,
    GstBuffer *outbuf, guint out_offset, guint num_frames)
{
  GstDuckMix *self = GST_DUCK_MIX (aagg);
  DuckMixPrivate *priv = self->priv;
  bool voice = is_voice_pad (pad);

  GST_OBJECT_LOCK (pad);
  int in_channels = GST_AUDIO_INFO_CHANNELS (&pad->info);
  GST_OBJECT_UNLOCK (pad);
  if (in_channels <= 0 || out_offset + num_frames > priv->block_frames ||
      (!voice &&
          priv->programme.size () <
              (size_t) priv->block_frames * priv->channels))
    return FALSE;

  GstMapInfo map;
  if (!gst_buffer_map (inbuf, &map, GST_MAP_READ))
    return FALSE;
  const float *in = (const float *) map.data + (size_t) in_offset * in_channels;
  gsize available = map.size / (sizeof (float) * in_channels);
  if (in_offset + num_frames > available) {
    gst_buffer_unmap (inbuf, &map);
    return FALSE;
  }
  if (voice) {
    /* Mono by caps. */
    std::copy (in, in + num_frames, priv->voice.begin () + out_offset);
    priv->voice_filled = std::max (priv->voice_filled, out_offset + num_frames);
  } else {
    int oc = priv->channels;
    int n = std::min (oc, in_channels);
    for (guint i = 0; i < num_frames; i++)
      std::copy (in + (size_t) i * in_channels,
          in + (size_t) i * in_channels + n,
          priv->programme.begin () + (size_t) (out_offset + i) * oc);
    priv->programme_filled =
        std::max (priv->programme_filled, out_offset + num_frames);
  }
  gst_buffer_unmap (inbuf, &map);
  return TRUE;
}

/* Has the programme ended (or, without a programme pad, the voice)? */
static bool
end_defining_pad_is_eos (GstDuckMix *self)
{
  GstAudioAggregatorPad *pad = find_pad (self, "programme");
  if (!pad)
    pad = find_pad (self, "voice");
  if (!pad)
    return true;
  bool eos = gst_aggregator_pad_is_eos (GST_AGGREGATOR_PAD (pad));
  gst_object_unref (pad);
  return eos;
}

/* Once the programme is EOS, its end is where its last buffer ended, GAP
 * buffers included: moves data_end there (aggregator offsets). */
static void
absorb_programme_end (GstDuckMix *self)
{
  DuckMixPrivate *priv = self->priv;
  gint64 rt = priv->programme_end_rt.load ();
  if (rt < 0 || priv->rate <= 0)
    return;
  GstAudioAggregatorPad *programme = find_pad (self, "programme");
  if (!programme)
    return;
  bool eos = gst_aggregator_pad_is_eos (GST_AGGREGATOR_PAD (programme));
  gst_object_unref (programme);
  if (!eos)
    return;
  GstAggregator *agg = GST_AGGREGATOR (self);
  GST_OBJECT_LOCK (self);
  GstSegment segment = GST_AGGREGATOR_PAD (agg->srcpad)->segment;
  GST_OBJECT_UNLOCK (self);
  if (segment.format != GST_FORMAT_TIME)
    return;
  guint64 position = gst_segment_position_from_running_time (
      &segment, GST_FORMAT_TIME, (guint64) rt);
  if (!GST_CLOCK_TIME_IS_VALID (position))
    return;
  guint64 start = GST_CLOCK_TIME_IS_VALID (segment.start) ? segment.start : 0;
  if (position <= start)
    return;
  gint64 end = (gint64) gst_util_uint64_scale_round (
      position - start, priv->rate, GST_SECOND);
  priv->data_end = std::max (priv->data_end, end);
}

/* Mixes the staged block into @buffer and gives it the timestamps of the
 * content it holds: the output is the input delayed by the look-ahead, so
 * the first look-ahead of it is dropped and every PTS moves back by it.
 * Returns NULL when nothing of it is to be pushed. */
static GstBuffer *
mix_block (GstDuckMix *self, GstBuffer *buffer)
{
  DuckMixPrivate *priv = self->priv;
  GstAggregator *agg = GST_AGGREGATOR (self);
  const int channels = priv->channels;
  if (channels <= 0 || priv->rate <= 0)
    return buffer; /* not configured: nothing to mix */
  const gsize bpf = sizeof (float) * channels;
  guint frames = gst_buffer_get_size (buffer) / bpf;
  gint64 offset = GST_BUFFER_OFFSET_IS_VALID (buffer)
      ? (gint64) GST_BUFFER_OFFSET (buffer)
      : std::max<gint64> (0, priv->next_offset);

  frames = std::min (frames, priv->block_frames);
  absorb_programme_end (self);
  if (priv->programme_filled > 0 || priv->voice_filled > 0) {
    GstAudioAggregatorPad *programme = find_pad (self, "programme");
    bool programme_defines = programme != NULL;
    if (programme)
      gst_object_unref (programme);
    guint filled =
        programme_defines ? priv->programme_filled : priv->voice_filled;
    if (filled > 0)
      priv->data_end = std::max (priv->data_end, offset + (gint64) filled);
  }

  GstMapInfo map;
  if (!gst_buffer_map (buffer, &map, GST_MAP_WRITE)) {
    gst_buffer_unref (buffer);
    return NULL;
  }
  float *out = (float *) map.data;
  const bool bypass = priv->bypass;
  if (bypass)
    std::copy (priv->programme.begin (),
        priv->programme.begin () + (size_t) frames * channels, out);
  else
    priv->dsp.process (
        priv->programme.data (), priv->voice.data (), out, frames);
  bool silent = std::all_of (out, out + (size_t) frames * channels,
      [] (float s) { return s == 0.0f; });
  gst_buffer_unmap (buffer, &map);
  priv->next_offset = offset + frames;

  /* Content frames [c0, c1) of this block, in aggregator offsets. */
  const gint64 latency = bypass ? 0 : (gint64) priv->dsp.latency_frames ();
  gint64 c0 = offset - latency;
  gint64 c1 = offset + frames - latency;
  gint64 keep0 = std::max<gint64> (c0, 0);
  gint64 keep1 = c1;
  if (priv->data_end >= 0 && end_defining_pad_is_eos (self) &&
      c1 >= priv->data_end) {
    keep1 = std::min (keep1, priv->data_end);
    priv->finished = true;
  }
  if (keep1 <= keep0) {
    gst_buffer_unref (buffer);
    return NULL;
  }
  if (keep0 != c0 || keep1 != c1)
    gst_buffer_resize (buffer, (keep0 - c0) * bpf, (keep1 - keep0) * bpf);

  GST_OBJECT_LOCK (self);
  GstClockTime start = GST_AGGREGATOR_PAD (agg->srcpad)->segment.start;
  GST_OBJECT_UNLOCK (self);
  if (!GST_CLOCK_TIME_IS_VALID (start))
    start = 0;
  GstClockTime pts =
      start + gst_util_uint64_scale_int (keep0, GST_SECOND, priv->rate);
  GstClockTime end =
      start + gst_util_uint64_scale_int (keep1, GST_SECOND, priv->rate);
  GST_BUFFER_PTS (buffer) = pts;
  GST_BUFFER_DURATION (buffer) = end - pts;
  GST_BUFFER_OFFSET (buffer) = keep0;
  GST_BUFFER_OFFSET_END (buffer) = keep1;
  if (silent)
    GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_GAP);
  else
    GST_BUFFER_FLAG_UNSET (buffer, GST_BUFFER_FLAG_GAP);
  return buffer;
}

static GstFlowReturn
gst_duck_mix_finish_buffer (GstAggregator *agg, GstBuffer *buffer)
{
  GstDuckMix *self = GST_DUCK_MIX (agg);
  DuckMixPrivate *priv = self->priv;

  if (priv->finished) {
    gst_buffer_unref (buffer);
    return GST_FLOW_EOS;
  }
  try {
    buffer = mix_block (self, buffer);
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (
        self, CORE, FAILED, ("duckmix failed: %s", e.what ()), (NULL));
    return GST_FLOW_ERROR;
  }
  if (!buffer)
    return GST_FLOW_OK;
  return GST_AGGREGATOR_CLASS (parent_class)->finish_buffer (agg, buffer);
}

/* All inputs are done: push what the look-ahead still holds, up to the
 * programme's end. */
static GstFlowReturn
drain (GstDuckMix *self)
{
  DuckMixPrivate *priv = self->priv;
  absorb_programme_end (self);
  if (priv->finished || priv->data_end < 0 || priv->next_offset < 0 ||
      priv->channels <= 0)
    return GST_FLOW_OK;
  gint64 want = priv->data_end +
      (priv->bypass ? 0 : (gint64) priv->dsp.latency_frames ());
  if (want <= priv->next_offset)
    return GST_FLOW_OK;
  guint frames = (guint) (want - priv->next_offset);
  GST_DEBUG_OBJECT (self, "draining %u frames of look-ahead", frames);
  priv->block_frames = frames;
  priv->programme.assign ((size_t) frames * priv->channels, 0.0f);
  priv->voice.assign (frames, 0.0f);
  priv->programme_filled = 0;
  priv->voice_filled = 0;
  GstBuffer *buffer = gst_buffer_new_allocate (
      NULL, (gsize) frames * priv->channels * sizeof (float), NULL);
  GST_BUFFER_OFFSET (buffer) = priv->next_offset;
  GstFlowReturn ret =
      gst_aggregator_finish_buffer (GST_AGGREGATOR (self), buffer);
  priv->finished = true;
  return ret;
}

static GstFlowReturn
gst_duck_mix_aggregate (GstAggregator *agg, gboolean timeout)
{
  GstDuckMix *self = GST_DUCK_MIX (agg);
  DuckMixPrivate *priv = self->priv;

  if (priv->finished)
    return GST_FLOW_EOS;
  GstFlowReturn ret =
      GST_AGGREGATOR_CLASS (parent_class)->aggregate (agg, timeout);
  if (priv->alloc_failed)
    return GST_FLOW_ERROR;
  if (ret == GST_FLOW_EOS) {
    try {
      GstFlowReturn drained = drain (self);
      if (drained != GST_FLOW_OK && drained != GST_FLOW_EOS)
        return drained;
    } catch (const std::exception &e) {
      GST_ELEMENT_ERROR (
          self, CORE, FAILED, ("duckmix failed: %s", e.what ()), (NULL));
      return GST_FLOW_ERROR;
    }
    return GST_FLOW_EOS;
  }
  if (priv->finished && (ret == GST_FLOW_OK || ret == GST_FLOW_EOS)) {
    GST_DEBUG_OBJECT (self, "the programme has ended: EOS");
    return GST_FLOW_EOS;
  }
  return ret;
}

static GstFlowReturn
gst_duck_mix_flush (GstAggregator *agg)
{
  GstDuckMix *self = GST_DUCK_MIX (agg);
  self->priv->reset_pending = true;
  self->priv->finished = false;
  return GST_AGGREGATOR_CLASS (parent_class)->flush (agg);
}

static gboolean
gst_duck_mix_start (GstAggregator *agg)
{
  GstDuckMix *self = GST_DUCK_MIX (agg);
  self->priv->reset_pending = true;
  self->priv->finished = false;
  self->priv->alloc_failed = false;
  self->priv->configured = false;
  update_latency (self);
  return GST_AGGREGATOR_CLASS (parent_class)->start (agg);
}

static void
gst_duck_mix_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstDuckMix *self = GST_DUCK_MIX (object);
  DuckMixPrivate *priv = self->priv;
  ganvoice::DuckerConfig &d = priv->config.ducker;
  bool latency_changed = false;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODE:
      priv->mode = (GstDuckMixMode) g_value_get_enum (value);
      d.mode = priv->mode == GST_DUCK_MIX_MODE_REPLACE
          ? ganvoice::DuckMode::Replace
          : priv->mode == GST_DUCK_MIX_MODE_ADD ? ganvoice::DuckMode::Add
                                                : ganvoice::DuckMode::Duck;
      break;
    case PROP_DUCK_LEVEL:
      d.duck_level_db = g_value_get_double (value);
      break;
    case PROP_ATTACK:
      d.attack_ms = g_value_get_double (value);
      break;
    case PROP_RELEASE:
      d.release_ms = g_value_get_double (value);
      break;
    case PROP_LOOKAHEAD:
      d.lookahead_ms = g_value_get_double (value);
      latency_changed = true;
      break;
    case PROP_VOICE_THRESHOLD:
      d.voice_threshold_db = g_value_get_double (value);
      break;
    case PROP_DIALOGUE_SUPPRESSION:
      d.dialogue_suppression = g_value_get_boolean (value);
      break;
    case PROP_LOUDNESS_TARGET:
      priv->config.loudness_target = g_value_get_double (value);
      break;
    case PROP_LIMIT:
      priv->config.limit_db = g_value_get_double (value);
      break;
    case PROP_MASTERING:
      priv->config.mastering = g_value_get_boolean (value);
      break;
    case PROP_BYPASS:
      priv->bypass = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  priv->config_serial++;
  GST_OBJECT_UNLOCK (self);

  if (latency_changed)
    update_latency (self);
}

static void
gst_duck_mix_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstDuckMix *self = GST_DUCK_MIX (object);
  DuckMixPrivate *priv = self->priv;
  const ganvoice::DuckerConfig &d = priv->config.ducker;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_MODE:
      g_value_set_enum (value, priv->mode);
      break;
    case PROP_DUCK_LEVEL:
      g_value_set_double (value, d.duck_level_db);
      break;
    case PROP_ATTACK:
      g_value_set_double (value, d.attack_ms);
      break;
    case PROP_RELEASE:
      g_value_set_double (value, d.release_ms);
      break;
    case PROP_LOOKAHEAD:
      g_value_set_double (value, d.lookahead_ms);
      break;
    case PROP_VOICE_THRESHOLD:
      g_value_set_double (value, d.voice_threshold_db);
      break;
    case PROP_DIALOGUE_SUPPRESSION:
      g_value_set_boolean (value, d.dialogue_suppression);
      break;
    case PROP_LOUDNESS_TARGET:
      g_value_set_double (value, priv->config.loudness_target);
      break;
    case PROP_LIMIT:
      g_value_set_double (value, priv->config.limit_db);
      break;
    case PROP_MASTERING:
      g_value_set_boolean (value, priv->config.mastering);
      break;
    case PROP_BYPASS:
      g_value_set_boolean (value, priv->bypass);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_duck_mix_finalize (GObject *object)
{
  GstDuckMix *self = GST_DUCK_MIX (object);

  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_duck_mix_class_init (GstDuckMixClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstAggregatorClass *agg_class = GST_AGGREGATOR_CLASS (klass);
  GstAudioAggregatorClass *aagg_class = GST_AUDIO_AGGREGATOR_CLASS (klass);
  const GParamFlags playing = (GParamFlags) (G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);

  GST_DEBUG_CATEGORY_INIT (gst_duck_mix_debug, "duckmix", 0,
      "ganvoice voice and programme mixer with ducking");

  gobject_class->set_property = gst_duck_mix_set_property;
  gobject_class->get_property = gst_duck_mix_get_property;
  gobject_class->finalize = gst_duck_mix_finalize;

  g_object_class_install_property (gobject_class, PROP_MODE,
      g_param_spec_enum ("mode", "Mode",
          "How the voice goes into the "
          "programme",
          GST_TYPE_DUCK_MIX_MODE, DEFAULT_MODE, playing));
  g_object_class_install_property (gobject_class, PROP_DUCK_LEVEL,
      g_param_spec_double ("duck-level", "Duck level",
          "Programme gain while the voice speaks in mode=duck, in dB", -60.0,
          0.0, DEFAULT_DUCK_LEVEL, playing));
  g_object_class_install_property (gobject_class, PROP_ATTACK,
      g_param_spec_double ("attack", "Attack",
          "Time to reach the full duck, in ms", 0.0, 5000.0, DEFAULT_ATTACK,
          playing));
  g_object_class_install_property (gobject_class, PROP_RELEASE,
      g_param_spec_double ("release", "Release",
          "Time to come back from the duck after the voice stops, in ms", 0.0,
          10000.0, DEFAULT_RELEASE, playing));
  g_object_class_install_property (gobject_class, PROP_LOOKAHEAD,
      g_param_spec_double ("lookahead", "Look-ahead",
          "The duck starts this long before the voice; the output is delayed "
          "(reported as latency) by as much, in ms",
          0.0, 1000.0, DEFAULT_LOOKAHEAD,
          (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_VOICE_THRESHOLD,
      g_param_spec_double ("voice-threshold", "Voice threshold",
          "Voice level above which the voice counts as speaking, in dBFS",
          -120.0, 0.0, DEFAULT_VOICE_THRESHOLD, playing));
  g_object_class_install_property (gobject_class, PROP_DIALOGUE_SUPPRESSION,
      g_param_spec_boolean ("dialogue-suppression", "Dialogue suppression",
          "For stereo programmes: while the voice speaks, lower only the "
          "centre (mid, (L+R)/2) by the duck gain and keep the sides",
          DEFAULT_DIALOGUE_SUPPRESSION, playing));
  g_object_class_install_property (gobject_class, PROP_LOUDNESS_TARGET,
      g_param_spec_double ("loudness-target", "Loudness target",
          "EBU R128 loudness the output is brought to, in LUFS (>= 0: no "
          "normalisation)",
          -70.0, 0.0, DEFAULT_LOUDNESS_TARGET, playing));
  g_object_class_install_property (gobject_class, PROP_LIMIT,
      g_param_spec_double ("limit", "Limit",
          "Peak limiter ceiling: no output sample goes above it, in dBFS",
          -30.0, 0.0, DEFAULT_LIMIT, playing));
  g_object_class_install_property (gobject_class, PROP_MASTERING,
      g_param_spec_boolean ("mastering", "Mastering",
          "Normalise (loudness-target) and limit (limit) the mix; false: the "
          "plain ducked mix, for a film rendered in chunks and mastered once "
          "at assembly",
          DEFAULT_MASTERING, playing));
  g_object_class_install_property (gobject_class, PROP_BYPASS,
      g_param_spec_boolean ("bypass", "Bypass",
          "Output the programme exactly as it is staged for the mix, frame "
          "for frame at the mix's positions: no voice, no look-ahead delay, "
          "no ducking or mastering (ganvoice-dub --programme)",
          FALSE,
          (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_READY)));

  gst_element_class_add_static_pad_template_with_gtype (
      element_class, &src_template, GST_TYPE_AUDIO_AGGREGATOR_PAD);
  gst_element_class_add_static_pad_template_with_gtype (
      element_class, &programme_template, GST_TYPE_AUDIO_AGGREGATOR_PAD);
  gst_element_class_add_static_pad_template_with_gtype (
      element_class, &voice_template, GST_TYPE_AUDIO_AGGREGATOR_PAD);
  gst_element_class_set_static_metadata (element_class,
      "Voice and programme mixer with ducking", "Filter/Audio/Mixer",
      "Mixes a dub voice into a programme soundtrack, ducking, muting or "
      "keeping the programme while the voice speaks, with look-ahead, "
      "EBU R128 loudness normalisation and a peak limiter",
      "ganvoice developers");
  gst_element_class_add_static_metadata (element_class, "doc-section",
      "element-duckmix: mixes a dub voice into a programme with ducking "
      "(gtk-doc in plugins/gstduckmix.cpp; modes, latency, EOS rules and "
      "loudness method in docs/duckmix.md)");
  gst_element_class_add_static_metadata (element_class, "example-launch-line",
      "gst-launch-1.0 audiotestsrc wave=pink-noise num-buffers=500 ! "
      "audioconvert ! audio/x-raw,format=F32LE,rate=48000,channels=2 ! "
      "duckmix name=m mode=duck duck-level=-15 ! audioconvert ! wavenc ! "
      "filesink location=ducked.wav  audiotestsrc freq=440 num-buffers=200 ! "
      "audioconvert ! audio/x-raw,format=F32LE,rate=48000,channels=1 ! "
      "m.voice");

  agg_class->create_new_pad = GST_DEBUG_FUNCPTR (gst_duck_mix_create_new_pad);
  agg_class->sink_query = GST_DEBUG_FUNCPTR (gst_duck_mix_sink_query);
  agg_class->update_src_caps = GST_DEBUG_FUNCPTR (gst_duck_mix_update_src_caps);
  agg_class->finish_buffer = GST_DEBUG_FUNCPTR (gst_duck_mix_finish_buffer);
  agg_class->aggregate = GST_DEBUG_FUNCPTR (gst_duck_mix_aggregate);
  agg_class->flush = GST_DEBUG_FUNCPTR (gst_duck_mix_flush);
  agg_class->start = GST_DEBUG_FUNCPTR (gst_duck_mix_start);
  aagg_class->create_output_buffer =
      GST_DEBUG_FUNCPTR (gst_duck_mix_create_output_buffer);
  aagg_class->aggregate_one_buffer =
      GST_DEBUG_FUNCPTR (gst_duck_mix_aggregate_one_buffer);

  gst_type_mark_as_plugin_api (GST_TYPE_DUCK_MIX_MODE, (GstPluginAPIFlags) 0);
}

static void
gst_duck_mix_init (GstDuckMix *self)
{
  self->priv = new DuckMixPrivate ();
  update_latency (self);
}

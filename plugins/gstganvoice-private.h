/* ganvoice: what the ganvoice element's files share: its state
 * (GanvoicePrivate), the queue entries and the functions that one file
 * calls in another (gstganvoice.cpp: the element and its sink pads;
 * gstganvoice-synth.cpp: the queue and the synthesis worker;
 * gstganvoice-src.cpp: the src pad task).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gstganvoice.h"

#include <ganvoice/speaker-map.h>
#include <ganvoice/speech-timeline.h>
#include <ganvoice/synthesizer.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

GST_DEBUG_CATEGORY_EXTERN (gst_ganvoice_debug);
#define GST_CAT_DEFAULT gst_ganvoice_debug

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
/* Synthesis threads, at most (and no more than the CPUs; on the CPU with
 * one intra-op thread each): cues that nobody waits for (a file upstream)
 * are rendered side by side, so that speech can use a second core. */
#define MAX_SYNTH_WORKERS 2

namespace ganvoice_element {

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
  /* Someone may wait for the first audio (a live upstream, or the text
   * property): the vocoder streams in small chunks. Else (a file) it
   * vocodes whole pieces, which costs less CPU. */
  bool low_latency = true;
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
  /* Its place in the order of the ganvoice-cue messages (worker). */
  guint64 seq = 0;

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

inline ganvoice::FitPolicy
to_policy (GstGanvoiceOverflow overflow)
{
  return (ganvoice::FitPolicy) overflow; /* the type's values are its */
}

inline GstSegment
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
  /* Whether upstream is live (asked at the first cue): see Job. */
  std::optional<bool> live;
};

/* The output as far as one segment goes. */
struct OutputSegment {
  bool segment_sent = false;
  GstSegment out_segment = time_segment ();
  ganvoice::SpeechTimeline timeline; /* no position until a segment */
  bool out_discont = true;
};

/* What the workers keep between cues (GanvoicePrivate::prep_lock). */
struct WorkerState {
  std::map<std::string, ganvoice::VoiceProfile> voice_cache;
  std::set<std::string> warned_languages;
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
  /* The workers: renders running outside prep_lock, the end of the last
   * speech (for the shift policy), and the next cue message's turn. */
  guint renders = 0;
  GstClockTime previous_end = GST_CLOCK_TIME_NONE;
  guint64 previous_end_seq = 0; /* the cue it is from */
  guint64 next_seq = 0; /* given to cues as the workers take them */
  guint64 posted_seq = 0; /* the cue whose message goes out next */
  /* The reference pad: cues wait until it has given a profile or ended. */
  GstPad *reference = nullptr;
  bool reference_done = true;
  std::shared_ptr<const ganvoice::VoiceProfile> reference_profile;
  guint reference_serial = 0; /* bumped by each profile it gives */

  /* Started and joined by change_state (the state lock). */
  std::vector<std::thread> workers;
  /* Held by a worker from taking a cue to its plan (and through its
   * render when that must be alone): the text frontend, the voice
   * preparation and `work` are one thread's at a time. Taken before
   * `lock`, never while holding it. */
  std::mutex prep_lock;

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

  /* The workers own this block (under prep_lock). */
  WorkerState work; /* reset when the workers start */

  GanvoicePrivate ()
  {
    gst_segment_init (&last_segment, GST_FORMAT_TIME);
  }
};

} // namespace ganvoice_element

struct _GstGanvoice {
  GstElement parent;

  GstPad *sinkpad;
  GstPad *srcpad;
  ganvoice_element::GanvoicePrivate *priv;
};

namespace ganvoice_element {

/* gstganvoice-synth.cpp: settings, the queue and the worker. */
Settings copy_settings (GstGanvoice *self);
void start_worker (GstGanvoice *self);
void stop_worker (GstGanvoice *self);
void clear_queue_locked (GanvoicePrivate *priv);
GstFlowReturn enqueue_cue (GstGanvoice *self, Job job, bool wait);
bool enqueue_event (GstGanvoice *self, GstEvent *event);
GstFlowReturn release_pending (GstGanvoice *self, GstClockTime next_start);
Job make_job (const Settings &s, const std::string &text, GstClockTime start,
    GstClockTime end);
void speak_text_now (GstGanvoice *self, const std::string &text);

/* gstganvoice-src.cpp: the src pad task. */
void src_loop (GstGanvoice *self);
void reset_src_state (GanvoicePrivate *priv, bool new_stream);
gboolean src_activate_mode (
    GstPad *pad, GstObject *parent, GstPadMode mode, gboolean active);
gboolean src_query (GstPad *pad, GstObject *parent, GstQuery *query);

} // namespace ganvoice_element

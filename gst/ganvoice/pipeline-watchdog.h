/* ganvoice: notices a pipeline that stopped moving, and says where.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/ganvoice-prelude.h>

#include <gst/gst.h>

#include <memory>
#include <string>

namespace ganvoice {

/* Watches the data flow of a pipeline. Progress is a buffer reaching a
 * sink element or an input of an element with several sink pads (a muxer,
 * a mixer). The owner asks idle_seconds() now and then (from a main-loop
 * timer, say) and, past its limit, stops the pipeline with describe() in
 * the error: which input of which muxer or mixer waits, how far each input
 * got, and how full each queue is.
 *
 * Elements and pads added after construction (parsebin's, request pads)
 * are watched from the next rescan(), which idle_seconds() runs. All
 * methods are for one thread (the owner's); the pad probes are safe from
 * any streaming thread. */
class PipelineWatchdog {
public:
  GANVOICE_API explicit PipelineWatchdog (GstElement *pipeline);
  GANVOICE_API ~PipelineWatchdog ();
  PipelineWatchdog (const PipelineWatchdog &) = delete;
  PipelineWatchdog &operator= (const PipelineWatchdog &) = delete;

  /* Watches the sink pads that appeared since the last call. */
  GANVOICE_API void rescan ();
  /* Seconds since the last buffer reached a watched pad (or since
   * construction or restart()). Rescans first. */
  GANVOICE_API double idle_seconds ();
  /* Starts the idle clock again (after a pause the owner made, say). */
  GANVOICE_API void restart ();
  /* Buffers seen at the watched pads so far. */
  GANVOICE_API guint64 buffers_seen () const;
  /* One paragraph for an error message: the inputs of the muxers and
   * mixers (how far each got, which have ended, the one that holds the
   * others back) and the fill level of every queue. */
  GANVOICE_API std::string describe ();

  struct Impl;

private:
  std::shared_ptr<Impl> impl_;
};

/* Waits on @pipeline's bus for its EOS or ERROR message (returned; the
 * caller unrefs it) while a watchdog looks on; returns null when no data
 * moved for @stall_seconds (@stalled then gets describe ()). For programs
 * without a main loop. The pipeline's state is the caller's. */
GANVOICE_API GstMessage *wait_for_end (
    GstElement *pipeline, double stall_seconds, std::string *stalled);

} // namespace ganvoice

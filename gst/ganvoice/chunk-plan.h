/* ganvoice: where to cut one long film into chunks that render apart and
 * concatenate sample-exactly (ganvoice-dub --plan / --chunk / --assemble,
 * docs/dubbing.md). Plain C++, no pads.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/ganvoice-prelude.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ganvoice {

/* A cue's subtitle times, in ns of the programme. */
struct ChunkCue {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
};

struct ChunkPlanOptions {
  int rate = 48000; /* the mix's rate: cuts are frame indices at it */
  /* Chunks of 2/3 to 4/3 of it (60 to 120 s for 90): the largest gap in
   * that window is cut; none there: the first gap after it. */
  double target_s = 90.0;
  /* A cut lies at least this long before the next cue's start: the voice
   * of a later chunk must not reach back over the cut through duckmix's
   * look-ahead (100 ms) or the resampler. */
  double lead_s = 0.5;
  /* ...and at least this long after the end of every cue before it: the
   * speech's tail past its cue (up to 1.5 s) and the ducker's return to
   * rest after the voice (3.5 s), so that no state crosses the cut. */
  double clearance_s = 5.0;
  /* Cuts fall on multiples of this many frames. 960 at 48 kHz is 20 ms,
   * where a frame at 48 kHz, a sample at 22.05 kHz (the voice's rate) and
   * a time in ns are all whole: a chunk that starts there from a programme
   * file (ganvoice-dub --programme) puts the voice's resampler and every
   * timestamp exactly where a render from the film's start has them. */
  int64_t grid = 960;
};

/* Frames [start, end) of the mix, and the cues that start inside (indices
 * into the planner's input, by start time). The last chunk also owns the
 * cues that start at or after the programme's end. */
struct Chunk {
  int64_t start = 0;
  int64_t end = 0;
  std::vector<size_t> cues;
};

/* The frame that holds the instant @ns at @rate (rounded down; ns < 0
 * counts as 0): a cue belongs to the chunk that holds this frame of its
 * start. */
GANVOICE_API int64_t frame_of (int64_t ns, int rate);

/* Cuts @frames frames of programme with @cues into chunks: contiguous,
 * from 0 to @frames, each cut on the grid in a gap between cues where it
 * lies lead_s before the next start and clearance_s after every earlier
 * end.
 * A programme no longer than 4/3 of the target, or one without such gaps,
 * is one chunk. @frames <= 0 gives no chunk. */
GANVOICE_API std::vector<Chunk> plan_chunks (const std::vector<ChunkCue> &cues,
    int64_t frames, const ChunkPlanOptions &options = {});

} // namespace ganvoice

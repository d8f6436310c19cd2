/* ganvoice: cutting a film into chunks between cues (see
 * ganvoice/chunk-plan.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/chunk-plan.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ganvoice {

namespace {

constexpr int64_t kSecond = 1000000000;

/* The first frame at or after @ns. */
int64_t
frame_at (int64_t ns, int rate)
{
  if (ns <= 0)
    return 0;
  return ns / kSecond * rate + (ns % kSecond * rate + kSecond - 1) / kSecond;
}

/* Where a cut may go in one gap: [lo, hi], and the gap's length. */
struct Gap {
  int64_t lo = 0;
  int64_t hi = 0;
  int64_t size = 0;
};

} // namespace

int64_t
frame_of (int64_t ns, int rate)
{
  if (ns <= 0)
    return 0;
  return ns / kSecond * rate + ns % kSecond * rate / kSecond;
}

std::vector<Chunk>
plan_chunks (const std::vector<ChunkCue> &cues, int64_t frames,
    const ChunkPlanOptions &options)
{
  std::vector<Chunk> chunks;
  if (frames <= 0)
    return chunks;
  const int rate = std::max (1, options.rate);
  auto seconds = [rate] (double s) {
    return (int64_t) std::llround (std::max (0.0, s) * rate);
  };
  const double target_s = options.target_s > 0.0 ? options.target_s : 90.0;
  const int64_t target = std::max<int64_t> (1, seconds (target_s));
  const int64_t min_len = std::max<int64_t> (1, seconds (target_s * 2 / 3));
  const int64_t max_len = std::max (min_len, seconds (target_s * 4 / 3));
  const int64_t lead = seconds (options.lead_s);
  const int64_t clearance = seconds (options.clearance_s);
  const int64_t grid = std::max<int64_t> (1, options.grid);
  auto grid_up = [grid] (int64_t f) { return (f + grid - 1) / grid * grid; };
  auto grid_down = [grid] (int64_t f) { return f / grid * grid; };

  std::vector<size_t> order (cues.size ());
  std::iota (order.begin (), order.end (), 0);
  std::stable_sort (order.begin (), order.end (),
      [&] (size_t a, size_t b) { return cues[a].start_ns < cues[b].start_ns; });

  /* The gaps: after the reach (latest end) of the cues so far, before the
   * next start; the programme's start and end bound the first and last. */
  std::vector<Gap> gaps;
  bool any = false;
  int64_t reach = 0; /* frames */
  auto add_gap = [&] (bool after_cue, int64_t next_start, bool before_cue) {
    Gap g;
    g.lo = after_cue ? reach + clearance : 1;
    g.hi = before_cue ? next_start - lead : frames - 1;
    g.hi = std::min (g.hi, frames - 1);
    g.size = (before_cue ? next_start : frames) - (after_cue ? reach : 0);
    g.lo = grid_up (g.lo);
    g.hi = grid_down (g.hi);
    if (g.lo <= g.hi)
      gaps.push_back (g);
  };
  for (size_t i : order) {
    int64_t start = frame_of (cues[i].start_ns, rate);
    if (start >= frames)
      break;
    if (!any || start > reach)
      add_gap (any, start, true);
    reach = std::max (any ? reach : 0,
        frame_at (std::max (cues[i].end_ns, cues[i].start_ns), rate));
    any = true;
  }
  if (!any || reach < frames)
    add_gap (any, frames, false);

  int64_t pos = 0;
  while (frames - pos > max_len) {
    const int64_t window_lo = grid_up (pos + min_len);
    int64_t window_hi = pos + max_len;
    if (frames - min_len >= window_lo)
      window_hi = std::min (window_hi, frames - min_len);
    window_hi = grid_down (window_hi);
    /* The largest gap in the window (ties: the one nearer the target),
     * cut as late as it allows: the most room after the speech before. */
    const Gap *best = nullptr;
    int64_t cut = -1;
    for (const Gap &g : gaps) {
      int64_t lo = std::max (g.lo, window_lo), hi = std::min (g.hi, window_hi);
      if (lo > hi)
        continue;
      bool better = !best || g.size > best->size ||
          (g.size == best->size &&
              std::llabs (hi - (pos + target)) <
                  std::llabs (cut - (pos + target)));
      if (better) {
        best = &g;
        cut = hi;
      }
    }
    if (!best) {
      /* None in the window: the first gap after it (a longer chunk), as
       * late as it allows too. */
      for (const Gap &g : gaps) {
        if (g.hi > window_hi) {
          cut = g.hi;
          break;
        }
      }
    }
    if (cut <= pos)
      break; /* nowhere to cut: the rest is one chunk */
    chunks.push_back ({ pos, cut, {} });
    pos = cut;
  }
  chunks.push_back ({ pos, frames, {} });

  /* Every cue to the chunk where it starts; those past the end to the
   * last. */
  size_t c = 0;
  for (size_t i : order) {
    int64_t start = frame_of (cues[i].start_ns, rate);
    while (c + 1 < chunks.size () && start >= chunks[c].end)
      c++;
    chunks[c].cues.push_back (i);
  }
  return chunks;
}

} // namespace ganvoice

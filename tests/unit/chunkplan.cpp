/* Unit tests of the chunk planner (ganvoice/chunk-plan.h) and of what
 * chunked rendering relies on in the duckmix DSP: the ducker at rest after
 * the voice's silence, and mastering that does not depend on how the
 * frames are split. Without pads.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/chunk-plan.h>
#include <ganvoice/ducking.h>

#include <gst/check/gstcheck.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using namespace ganvoice;

static const int RATE = 48000;
static const int64_t NS = 1000000000;

static int64_t
sec (double s)
{
  return (int64_t) std::llround (s * NS);
}

static int64_t
frames (double s)
{
  return (int64_t) std::llround (s * RATE);
}

/* Checks what holds for every plan: contiguous from 0 to @total, every
 * cut in a gap (lead before the next start, clearance after every earlier
 * end), every cue in the chunk where it starts. */
static void
check_plan (const std::vector<Chunk> &plan, const std::vector<ChunkCue> &cues,
    int64_t total, const ChunkPlanOptions &opt, const char *name)
{
  fail_unless (!plan.empty (), "%s: no chunk", name);
  fail_unless (plan.front ().start == 0, "%s", name);
  fail_unless (plan.back ().end == total, "%s", name);
  size_t owned = 0;
  for (size_t k = 0; k < plan.size (); k++) {
    const Chunk &c = plan[k];
    fail_unless (c.start < c.end, "%s: empty chunk %zu", name, k);
    if (k > 0)
      fail_unless (
          plan[k - 1].end == c.start, "%s: chunk %zu not contiguous", name, k);
    for (size_t i : c.cues) {
      int64_t f = frame_of (cues[i].start_ns, RATE);
      bool last = k + 1 == plan.size ();
      fail_unless (f >= c.start && (f < c.end || last),
          "%s: cue %zu (frame %lld) in chunk %zu [%lld, %lld)", name, i,
          (long long) f, k, (long long) c.start, (long long) c.end);
    }
    owned += c.cues.size ();
    if (k == 0)
      continue;
    const int64_t cut = c.start;
    fail_unless (cut % opt.grid == 0, "%s: cut %lld off the %lld-frame grid",
        name, (long long) cut, (long long) opt.grid);
    for (const ChunkCue &q : cues) {
      int64_t s = frame_of (q.start_ns, RATE);
      if (s >= cut)
        fail_unless (s - cut >= frames (opt.lead_s),
            "%s: cut %lld only %lld frames before a cue", name, (long long) cut,
            (long long) (s - cut));
      else
        fail_unless (cut * NS >= q.end_ns * RATE + sec (opt.clearance_s) * RATE,
            "%s: cut %lld too close after a cue ending at %lld ns", name,
            (long long) cut, (long long) q.end_ns);
    }
  }
  fail_unless_equals_int (owned, cues.size ());
}

/* Cues of @len s every @step s from @from to @to. */
static std::vector<ChunkCue>
regular (double from, double to, double step, double len)
{
  std::vector<ChunkCue> out;
  for (double t = from; t + len <= to; t += step)
    out.push_back ({ sec (t), sec (t + len) });
  return out;
}

GST_START_TEST (test_plan_table)
{
  ChunkPlanOptions opt; /* 90 s target: 60 to 120 s */
  struct Case {
    const char *name;
    std::vector<ChunkCue> cues;
    double seconds;
    size_t chunks; /* 0: not checked */
    std::vector<double> cuts; /* expected cut times (s), when given */
    bool lengths = false; /* all chunks but the last 60 to 120 s */
  };
  std::vector<ChunkCue> dense = regular (0.0, 600.0, 3.0, 2.5);
  /* Cues every 4 s (gaps of 2 s) with a 6 s gap at 78.5 s, nearer the
   * target, and a 10 s one at 98.5 s: the larger one wins. */
  std::vector<ChunkCue> two_gaps;
  for (double t = 0.5; t < 200.0; t += 4.0) {
    if ((t > 78.0 && t < 82.0) || (t > 98.0 && t < 106.0))
      continue;
    two_gaps.push_back ({ sec (t), sec (t + 2.0) });
  }
  /* A long cue over the window overlaps others: no cut inside it. */
  std::vector<ChunkCue> overlap = { { sec (1), sec (3) },
    { sec (50), sec (170) }, { sec (60), sec (62) }, { sec (100), sec (105) },
    { sec (180), sec (182) } };
  std::vector<Case> cases = {
    { "no cues: cut anywhere", {}, 300.0, 3, { 120.0, 240.0 }, true },
    { "short programme: one chunk", regular (1.0, 100.0, 10.0, 2.0), 110.0, 1,
        {} },
    { "no gap long enough: one chunk", dense, 600.0, 1, {} },
    { "largest gap in the window", two_gaps, 200.0, 2, { 108.0 }, true },
    { "cue at the very start and the very end",
        { { 0, sec (2) }, { sec (60), sec (62) }, { sec (148), sec (150) } },
        150.0, 2, { 90.0 } },
    { "overlapping cues", overlap, 240.0, 2, { 179.5 } },
    { "cue past the end: in the last chunk",
        { { sec (10), sec (12) }, { sec (200), sec (205) } }, 150.0, 2,
        { 90.0 } },
    { "empty programme", {}, 0.0, 0, {} },
  };
  for (const Case &c : cases) {
    int64_t total = frames (c.seconds);
    std::vector<Chunk> plan = plan_chunks (c.cues, total, opt);
    if (total == 0) {
      fail_unless (plan.empty (), "%s", c.name);
      continue;
    }
    check_plan (plan, c.cues, total, opt, c.name);
    if (c.chunks)
      fail_unless_equals_int (plan.size (), c.chunks);
    for (size_t k = 0; k < c.cuts.size (); k++)
      fail_unless (plan[k + 1].start == frames (c.cuts[k]),
          "%s: cut %zu at %lld, not %lld", c.name, k,
          (long long) plan[k + 1].start, (long long) frames (c.cuts[k]));
    for (size_t k = 0; k + 1 < plan.size (); k++) {
      int64_t len = plan[k].end - plan[k].start;
      if (c.lengths)
        fail_unless (len >= frames (60) && len <= frames (120),
            "%s: chunk %zu is %lld frames", c.name, k, (long long) len);
    }
  }
  /* The cue past the end belongs to the last chunk. */
  std::vector<Chunk> plan = plan_chunks (
      { { sec (10), sec (12) }, { sec (200), sec (205) } }, frames (150), opt);
  fail_unless (plan.back ().cues.size () == 1 && plan.back ().cues[0] == 1);
}
GST_END_TEST;

/* Cuts go on the grid: as late as the gap allows, rounded down to it. */
GST_START_TEST (test_plan_grid)
{
  std::vector<ChunkCue> cues = { { sec (1), sec (3) },
    { sec (100.5103), sec (102) }, { sec (140), sec (141) } };
  ChunkPlanOptions opt;
  opt.grid = 1;
  std::vector<Chunk> plan = plan_chunks (cues, frames (200), opt);
  fail_unless_equals_int (plan.size (), 2);
  const int64_t exact = frame_of (sec (100.5103), RATE) - frames (0.5);
  fail_unless_equals_int64 (plan[1].start, exact);
  opt.grid = 960;
  plan = plan_chunks (cues, frames (200), opt);
  fail_unless_equals_int (plan.size (), 2);
  fail_unless_equals_int64 (plan[1].start, exact / 960 * 960);
  fail_unless (exact % 960 != 0);
  check_plan (plan, cues, frames (200), opt, "grid");
  /* A gap narrower than the grid step holds no cut. */
  opt.grid = frames (30);
  plan = plan_chunks (
      { { sec (1), sec (3) }, { sec (75), sec (77) } }, frames (150), opt);
  check_plan (plan, { { sec (1), sec (3) }, { sec (75), sec (77) } },
      frames (150), opt, "coarse grid");
  for (size_t k = 1; k < plan.size (); k++)
    fail_unless (plan[k].start % frames (30) == 0);
}
GST_END_TEST;

/* Random cues, many targets: the invariants always hold. */
GST_START_TEST (test_plan_random)
{
  std::mt19937 rng (21);
  for (int round = 0; round < 200; round++) {
    ChunkPlanOptions opt;
    opt.target_s = 10.0 + rng () % 100;
    opt.grid = round % 4 == 0 ? 1 : round % 4 == 1 ? 4801 : 960;
    double total_s = 30.0 + rng () % 600;
    std::vector<ChunkCue> cues;
    double t = (rng () % 3000) / 1000.0;
    while (t < total_s + 5.0) {
      double len = 0.3 + (rng () % 4000) / 1000.0;
      cues.push_back ({ sec (t), sec (t + len) });
      /* Mostly short gaps, some long ones, some overlaps. */
      int kind = rng () % 10;
      t += kind == 0 ? -len / 2
          : kind < 8 ? len + (rng () % 2000) / 1000.0
                     : len + 5.0 + (rng () % 20000) / 1000.0;
      t = std::max (t, 0.0);
    }
    std::shuffle (cues.begin (), cues.end (), rng);
    std::vector<Chunk> plan = plan_chunks (cues, frames (total_s), opt);
    check_plan (plan, cues, frames (total_s), opt, "random");
  }
}
GST_END_TEST;

/* The ducker's state does not cross a cut: after frames_to_rest of
 * silence on the voice it is at rest, and from there its output is that
 * of a fresh ducker fed from the cut (bit for bit), the programme before
 * the cut notwithstanding. */
GST_START_TEST (test_ducker_rest)
{
  for (DuckMode mode : { DuckMode::Duck, DuckMode::Replace }) {
    DuckerConfig config;
    config.channels = 2;
    config.mode = mode;
    const size_t speech = RATE * 2;
    const float peak = 1.3f;
    const size_t rest = Ducker::frames_to_rest (config, peak);
    fail_unless (rest > (size_t) RATE && rest < (size_t) RATE * 4, "%zu", rest);
    const size_t cut = speech + rest;
    const size_t total = cut + RATE * 3;
    std::mt19937 rng (7);
    std::uniform_real_distribution<float> noise (-0.5f, 0.5f);
    std::vector<float> programme (total * 2), voice (total, 0.0f);
    for (float &x : programme)
      x = noise (rng);
    for (size_t i = 0; i < speech; i++)
      voice[i] = peak * (float) std::sin (2.0 * M_PI * 180.0 * i / RATE);
    /* The next chunk's voice: from the cut plus the look-ahead. */
    for (size_t i = cut + RATE / 10; i < cut + RATE; i++)
      voice[i] = 0.4f * (float) std::sin (2.0 * M_PI * 220.0 * i / RATE);

    Ducker whole, fresh;
    whole.configure (config);
    fresh.configure (config);
    std::vector<float> a (total * 2), b (total * 2, 0.0f);
    whole.process (programme.data (), voice.data (), a.data (), cut);
    fail_unless (whole.at_rest ());
    whole.process (programme.data () + cut * 2, voice.data () + cut,
        a.data () + cut * 2, total - cut);
    /* The chunk: nothing of the earlier speech, the programme from the cut
     * (the delay line is all that the programme leaves). */
    fresh.process (programme.data () + cut * 2, voice.data () + cut,
        b.data () + cut * 2, total - cut);
    const size_t delay = whole.latency_frames ();
    fail_unless (std::memcmp (a.data () + (cut + delay) * 2,
                     b.data () + (cut + delay) * 2,
                     (total - cut - delay) * 2 * sizeof (float)) == 0,
        "the ducker's state crossed the cut");

    /* Half the rest is not enough: the envelope is still above 0. */
    Ducker early;
    early.configure (config);
    std::vector<float> c (total * 2);
    early.process (
        programme.data (), voice.data (), c.data (), speech + rest / 2);
    fail_unless (!early.at_rest ());
  }
}
GST_END_TEST;

/* Mastering does not depend on how the frames are split, and duckmix's
 * mastered output is the plain mix (its first look-ahead dropped)
 * mastered on its own: what --assemble does with the chunks. */
GST_START_TEST (test_mastering_split)
{
  const size_t total = RATE * 25;
  std::mt19937 rng (3);
  std::uniform_real_distribution<float> noise (-0.05f, 0.05f);
  std::vector<float> programme (total * 2), voice (total, 0.0f);
  for (size_t i = 0; i < total; i++) {
    float p = noise (rng) * (i > total / 2 ? 4.0f : 1.0f);
    programme[2 * i] = p;
    programme[2 * i + 1] = -p;
    if ((i / RATE) % 4 == 1)
      voice[i] = 0.9f * (float) std::sin (2.0 * M_PI * 300.0 * i / RATE);
  }
  DuckMixConfig config;
  config.ducker.channels = 2;
  config.loudness_target = -14.0;

  /* In duckmix: blocks of 100 ms, the first look-ahead dropped. */
  DuckMix mastered;
  mastered.configure (config);
  std::vector<float> a (total * 2);
  for (size_t at = 0; at < total; at += RATE / 10) {
    size_t n = std::min<size_t> (RATE / 10, total - at);
    mastered.process (
        programme.data () + at * 2, voice.data () + at, a.data () + at * 2, n);
  }
  fail_unless (std::fabs (mastered.normaliser ().gain_db ()) > 1.0, "%.2f",
      mastered.normaliser ().gain_db ());

  /* Chunks: the plain mix in odd pieces, then mastered at once... */
  config.mastering = false;
  DuckMix plain;
  plain.configure (config);
  std::vector<float> b (total * 2);
  for (size_t at = 0; at < total;) {
    size_t n = std::min<size_t> (1 + rng () % 7000, total - at);
    plain.process (
        programme.data () + at * 2, voice.data () + at, b.data () + at * 2, n);
    at += n;
  }
  const size_t delay = plain.latency_frames ();
  Mastering once;
  once.configure (RATE, 2, -14.0, -1.0);
  once.process (b.data () + delay * 2, total - delay);
  fail_unless (std::memcmp (a.data () + delay * 2, b.data () + delay * 2,
                   (total - delay) * 2 * sizeof (float)) == 0,
      "mastering the assembled mix differs from duckmix's");

  /* ...and in other pieces: the same. */
  std::vector<float> c (b.size ());
  plain.reset ();
  plain.process (programme.data (), voice.data (), c.data (), total);
  Mastering pieces;
  pieces.configure (RATE, 2, -14.0, -1.0);
  for (size_t at = delay; at < total;) {
    size_t n = std::min<size_t> (1 + rng () % 30000, total - at);
    pieces.process (c.data () + at * 2, n);
    at += n;
  }
  fail_unless (std::memcmp (a.data () + delay * 2, c.data () + delay * 2,
                   (total - delay) * 2 * sizeof (float)) == 0,
      "mastering depends on how the frames are split");
}
GST_END_TEST;

static Suite *
chunkplan_suite (void)
{
  Suite *s = suite_create ("chunkplan");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_plan_table);
  tcase_add_test (tc, test_plan_grid);
  tcase_add_test (tc, test_plan_random);
  tcase_add_test (tc, test_ducker_rest);
  tcase_add_test (tc, test_mastering_split);
  return s;
}

GST_CHECK_MAIN (chunkplan);

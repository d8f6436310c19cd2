/* Unit tests of the slot fitting planner.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/slot-fit.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <gst/check/gstcheck.h>

using namespace ganvoice;

static const int64_t ms = kFitMillisecond;
static const int64_t NONE = kFitNoTime;

static int64_t
sum (const std::vector<int64_t> &v)
{
  return std::accumulate (v.begin (), v.end (), (int64_t) 0);
}

GST_START_TEST (test_policies_table)
{
  /* Cue 1000..2000 ms, next cue at 2500 ms unless said otherwise. */
  static const struct {
    const char *what;
    FitPolicy policy;
    int64_t natural, next, previous_end;
    FitStep step;
    int64_t start, end, clip_at, overflow;
    double rate, stretch;
  } cases[] = {
    { "fits", FitPolicy::Default, 800, 2500, NONE, FitStep::Natural, 1000, 1800,
        NONE, 0, 1.0, 1.0 },
    { "exactly fits", FitPolicy::Default, 1000, 2500, NONE, FitStep::Natural,
        1000, 2000, NONE, 0, 1.0, 1.0 },
    { "free time", FitPolicy::Default, 1400, 2500, NONE, FitStep::FreeTime,
        1000, 2400, NONE, 0, 1.0, 1.0 },
    { "last cue: open", FitPolicy::Default, 9000, NONE, NONE, FitStep::FreeTime,
        1000, 10000, NONE, 0, 1.0, 1.0 },
    { "faster", FitPolicy::Default, 1800, 2500, NONE, FitStep::Rate, 1000, 2500,
        NONE, 0, 1.2, 1.0 },
    { "at max rate", FitPolicy::Default, 2100, 2500, NONE, FitStep::Rate, 1000,
        2500, NONE, 0, 1.4, 1.0 },
    { "clipped", FitPolicy::Default, 2800, 2500, NONE, FitStep::Clipped, 1000,
        2500, 2500, 500, 1.4, 1.0 },
    { "next cue starts early", FitPolicy::Default, 700, 1500, NONE,
        FitStep::Rate, 1000, 1500, NONE, 0, 1.4, 1.0 },
    { "next cue at the same time", FitPolicy::Default, 700, 1000, NONE,
        FitStep::Clipped, 1000, 1000, 1000, 500, 1.4, 1.0 },
    { "clip: natural", FitPolicy::Clip, 900, 2500, NONE, FitStep::Natural, 1000,
        1900, NONE, 0, 1.0, 1.0 },
    { "clip: no free time", FitPolicy::Clip, 1400, 2500, NONE, FitStep::Clipped,
        1000, 2000, 2000, 400, 1.0, 1.0 },
    { "compress: faster first", FitPolicy::Compress, 1800, 2500, NONE,
        FitStep::Rate, 1000, 2500, NONE, 0, 1.2, 1.0 },
    { "compress: stretched", FitPolicy::Compress, 2800, 2500, NONE,
        FitStep::Stretched, 1000, 2500, NONE, 500, 1.4, 4.0 / 3.0 },
    { "overlap: free time", FitPolicy::Overlap, 1400, 2500, NONE,
        FitStep::FreeTime, 1000, 2400, NONE, 0, 1.0, 1.0 },
    { "overlap: runs over", FitPolicy::Overlap, 2800, 2500, NONE,
        FitStep::Overflowed, 1000, 3000, NONE, 500, 1.4, 1.0 },
    { "shift: no previous", FitPolicy::Shift, 800, 2500, NONE, FitStep::Natural,
        1000, 1800, NONE, 0, 1.0, 1.0 },
    { "shift: waits", FitPolicy::Shift, 800, 2500, 1300, FitStep::FreeTime,
        1300, 2100, NONE, 0, 1.0, 1.0 },
    { "shift: previous ended early", FitPolicy::Shift, 800, 2500, 500,
        FitStep::Natural, 1000, 1800, NONE, 0, 1.0, 1.0 },
    { "shift: runs over", FitPolicy::Shift, 2100, 2500, 1800,
        FitStep::Overflowed, 1800, 3300, NONE, 800, 1.4, 1.0 },
  };
  for (const auto &c : cases) {
    FitRequest r;
    r.cue_start = 1000 * ms;
    r.cue_end = 2000 * ms;
    r.next_start = c.next == NONE ? NONE : c.next * ms;
    r.previous_end = c.previous_end == NONE ? NONE : c.previous_end * ms;
    r.natural = c.natural * ms;
    r.policy = c.policy;
    FitPlan p = fit_slot (r);
    fail_unless (p.step == c.step, "%s: step %s, not %s", c.what,
        fit_step_name (p.step), fit_step_name (c.step));
    fail_unless_equals_int64 (p.start, c.start * ms);
    fail_unless (std::llabs (p.end - c.end * ms) <= 1,
        "%s: end %" G_GINT64_FORMAT, c.what, p.end);
    fail_unless_equals_int64 (
        p.clip_at, c.clip_at == NONE ? NONE : c.clip_at * ms);
    fail_unless (std::llabs (p.overflow - c.overflow * ms) <= 1,
        "%s: overflow %" G_GINT64_FORMAT, c.what, p.overflow);
    fail_unless (
        std::fabs (p.rate - c.rate) < 1e-9, "%s: rate %f", c.what, p.rate);
    fail_unless (std::fabs (p.stretch - c.stretch) < 1e-9, "%s: stretch %f",
        c.what, p.stretch);
    int64_t fade =
        p.step == FitStep::Clipped ? std::min (30 * ms, p.end - p.start) : 0;
    fail_unless_equals_int64 (p.fade, fade);
  }

  /* A max_rate below 1 counts as 1; no natural speech is no speech. */
  FitRequest r;
  r.cue_start = 0;
  r.cue_end = 1000 * ms;
  r.next_start = 1000 * ms;
  r.natural = 1200 * ms;
  r.max_rate = 0.5;
  FitPlan p = fit_slot (r);
  fail_unless (p.step == FitStep::Clipped);
  fail_unless_equals_int64 (p.overflow, 200 * ms);
  fail_unless (p.rate == 1.0);
  r.natural = 0;
  p = fit_slot (r);
  fail_unless (p.step == FitStep::Natural && p.end == 0);
  fail_unless_equals_string (fit_policy_name (FitPolicy::Compress), "compress");
  /* The one table the elements' enum is made from: FitPolicy order,
   * distinct nicks, each described. */
  const auto &policies = fit_policies ();
  fail_unless_equals_int (policies.size (), 5);
  for (size_t i = 0; i < policies.size (); i++) {
    fail_unless_equals_int ((int) policies[i].policy, (int) i);
    fail_unless (policies[i].description && *policies[i].description);
    fail_unless_equals_string (
        fit_policy_name (policies[i].policy), policies[i].nick);
    for (size_t j = 0; j < i; j++)
      fail_if (g_str_equal (policies[i].nick, policies[j].nick));
  }
}
GST_END_TEST;

/* The acceptance test: 100 cues, Default policy. */
GST_START_TEST (test_hundred_cues_default)
{
  const int64_t tolerance = 20 * ms;
  std::mt19937 rng (4242);
  auto uniform = [&] (int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t> (lo, hi) (rng);
  };
  struct Cue {
    int64_t start, end, natural;
  };
  std::vector<Cue> cues;
  int64_t t = 500 * ms;
  for (int i = 0; i < 100; i++) {
    Cue c;
    c.start = t;
    c.end = t + uniform (300, 5000) * ms;
    int kind = i % 5;
    if (kind == 0) /* much longer than its slot */
      c.natural = (c.end - c.start) * uniform (20, 40) / 10;
    else if (kind == 1) /* a little longer */
      c.natural = (c.end - c.start) * uniform (105, 140) / 100;
    else /* shorter */
      c.natural = (c.end - c.start) * uniform (30, 100) / 100;
    cues.push_back (c);
    /* Some next cues start before this one ends, some right at its end,
     * some after a gap. */
    int gap = i % 7;
    if (gap == 0)
      t = c.end - uniform (100, 300) * ms;
    else if (gap == 1)
      t = c.end;
    else
      t = c.end + uniform (0, 2000) * ms;
  }

  int steps[6] = { 0 };
  for (size_t i = 0; i < cues.size (); i++) {
    FitRequest r;
    r.cue_start = cues[i].start;
    r.cue_end = cues[i].end;
    r.next_start = i + 1 < cues.size () ? cues[i + 1].start : kFitNoTime;
    r.natural = cues[i].natural;
    FitPlan p = fit_slot (r);
    steps[(int) p.step]++;
    fail_unless (p.rate >= 1.0 && p.rate <= r.max_rate + 1e-12,
        "cue %zu: rate %f", i, p.rate);
    fail_unless (p.stretch == 1.0);
    fail_unless (p.start >= r.cue_start - tolerance &&
            p.start <= r.cue_start + tolerance,
        "cue %zu starts off", i);
    /* The speech as it will be: natural / rate, cut at clip_at. */
    int64_t spoken = (int64_t) std::llround (r.natural / p.rate);
    int64_t end = p.start + spoken;
    if (p.clip_at != kFitNoTime)
      end = std::min (end, p.clip_at);
    fail_unless (end >= p.start);
    fail_unless (std::llabs (end - p.end) <= 1,
        "cue %zu: end %" G_GINT64_FORMAT " planned %" G_GINT64_FORMAT, i, end,
        p.end);
    if (r.next_start != kFitNoTime)
      fail_unless (end <= r.next_start + tolerance,
          "cue %zu ends %" G_GINT64_FORMAT " ms after the next cue starts", i,
          (end - r.next_start) / ms);
  }
  /* The data exercises every step of the default policy. */
  fail_unless (steps[(int) FitStep::Natural] > 0);
  fail_unless (steps[(int) FitStep::FreeTime] > 0);
  fail_unless (steps[(int) FitStep::Rate] > 0);
  fail_unless (steps[(int) FitStep::Clipped] > 0);
}
GST_END_TEST;

GST_START_TEST (test_scale_frames)
{
  static const struct {
    std::vector<int64_t> in;
    int64_t target;
    std::vector<int64_t> out;
  } cases[] = {
    { { 10, 10, 10 }, 15, { 5, 5, 5 } }, { { 10, 10, 10 }, 30, { 10, 10, 10 } },
    { { 3, 3, 3 }, 10, { 4, 3, 3 } }, /* the first remainder wins a tie */
    { { 1, 1, 1, 1, 100 }, 5, { 1, 1, 1, 1, 1 } },
    { { 1, 1, 1, 1, 100 }, 3, { 1, 1, 1, 1, 1 } }, /* can go no lower */
    { { 0, 4, 0, 4 }, 4, { 0, 2, 0, 2 } }, { { 0, 0 }, 10, { 0, 0 } },
    { {}, 10, {} }, { { 5, 2 }, 14, { 10, 4 } }, /* slower works too */
  };
  for (const auto &c : cases) {
    std::vector<int64_t> out = scale_frames (c.in, c.target);
    fail_unless (out == c.out,
        "scaling %zu frames to %" G_GINT64_FORMAT " went wrong", c.in.size (),
        c.target);
  }

  /* Random durations: exact sums, floors kept, near-proportional. */
  std::mt19937 rng (7);
  for (int round = 0; round < 200; round++) {
    std::vector<int64_t> in (1 + rng () % 60);
    for (int64_t &f : in)
      f = rng () % 4 == 0 ? 0 : 1 + rng () % 20;
    int64_t total = sum (in);
    double rate = 1.0 + (rng () % 1000) / 1000.0;
    int64_t target = frames_at_rate (total, rate);
    std::vector<int64_t> out = scale_frames (in, target);
    int64_t nonzero = std::count_if (
        in.begin (), in.end (), [] (int64_t f) { return f > 0; });
    fail_unless_equals_int64 (
        sum (out), total ? std::max (target, nonzero) : 0);
    for (size_t i = 0; i < in.size (); i++) {
      fail_unless ((in[i] > 0) == (out[i] > 0));
      if (target >= total)
        continue;
      fail_unless (out[i] <= in[i], "a phoneme grew while speeding up");
    }
  }
  fail_unless_equals_int64 (frames_at_rate (100, 1.4), 71);
  fail_unless_equals_int64 (frames_at_rate (100, 0.0), 100);
}
GST_END_TEST;

GST_START_TEST (test_round_durations)
{
  std::vector<int64_t> f =
      round_durations ({ 1.4f, 1.4f, 1.4f, 0.0f, 2.6f, -1.0f, NAN });
  fail_unless_equals_int (f.size (), 7);
  fail_unless_equals_int64 (sum (f), 7); /* round (6.8) */
  fail_unless_equals_int64 (f[3], 0);
  fail_unless_equals_int64 (f[5], 0);
  fail_unless_equals_int64 (f[6], 0);
  for (int64_t x : f)
    fail_unless (x >= 0);
}
GST_END_TEST;

static Suite *
slotfit_suite (void)
{
  Suite *s = suite_create ("slotfit");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_policies_table);
  tcase_add_test (tc, test_hundred_cues_default);
  tcase_add_test (tc, test_scale_frames);
  tcase_add_test (tc, test_round_durations);
  return s;
}

GST_CHECK_MAIN (slotfit);

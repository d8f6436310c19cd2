/* ganvoice: fitting a cue's speech into its time slot.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/slot-fit.h>

#include <algorithm>
#include <cmath>
#include <queue>

namespace ganvoice {

FitPlan
fit_slot (const FitRequest &r)
{
  const int64_t start0 = r.cue_start;
  const int64_t natural = std::max<int64_t> (r.natural, 0);
  const double max_rate = r.max_rate >= 1.0 ? r.max_rate : 1.0; /* NaN too */
  const bool open = r.next_start == kFitNoTime;

  FitPlan plan;
  plan.start = start0;
  if (r.policy == FitPolicy::Shift && r.previous_end != kFitNoTime)
    plan.start = std::max (start0, r.previous_end);
  const int64_t s = plan.start;

  /* The cue's own window, cut short where the next cue starts early; and
   * the slot, up to the next cue (open after the last one). */
  int64_t cue_end = std::max (r.cue_end, start0);
  if (!open)
    cue_end = std::min (cue_end, std::max (r.next_start, start0));
  cue_end = std::max (cue_end, s);
  const int64_t slot_end = open ? kFitNoTime : std::max (r.next_start, s);

  auto clip = [&] (int64_t at, int64_t spoken) {
    plan.step = FitStep::Clipped;
    plan.end = at;
    plan.clip_at = at;
    plan.fade = std::min (std::max<int64_t> (r.fade, 0), at - s);
    plan.overflow = spoken - (at - s);
  };

  /* 1. The natural rate, inside the cue. */
  plan.allowed_end = r.policy == FitPolicy::Clip ? cue_end : slot_end;
  if (natural <= cue_end - s) {
    plan.step = FitStep::Natural;
    plan.end = s + natural;
    return plan;
  }
  if (r.policy == FitPolicy::Clip) {
    clip (cue_end, natural);
    return plan;
  }

  /* 2. The free time after the cue. */
  if (open || natural <= slot_end - s) {
    plan.step = FitStep::FreeTime;
    plan.end = s + natural;
    return plan;
  }

  /* 3. Faster, by shortening the durations. */
  const int64_t room = slot_end - s;
  if (room > 0 && (double) natural / room <= max_rate) {
    plan.step = FitStep::Rate;
    plan.rate = (double) natural / room;
    plan.end = slot_end;
    return plan;
  }

  /* 4. Still too long at max_rate. */
  plan.rate = max_rate;
  const int64_t spoken = (int64_t) std::llround (natural / max_rate);
  switch (r.policy) {
    case FitPolicy::Compress:
      if (room > 0) {
        plan.step = FitStep::Stretched;
        plan.stretch = (double) spoken / room;
        plan.end = slot_end;
        plan.overflow = spoken - room;
      } else {
        clip (slot_end, spoken); /* nothing to stretch into */
      }
      break;
    case FitPolicy::Overlap:
    case FitPolicy::Shift:
      plan.step = FitStep::Overflowed;
      plan.end = s + spoken;
      plan.overflow = spoken - room;
      break;
    default:
      clip (slot_end, spoken);
      break;
  }
  return plan;
}

const std::vector<FitPolicyInfo> &
fit_policies ()
{
  static const std::vector<FitPolicyInfo> policies = {
    { FitPolicy::Default, "default",
        "Natural rate, free time until the next cue, faster up to max-rate, "
        "then clip with a fade" },
    { FitPolicy::Clip, "clip", "Natural rate, clipped at the cue end" },
    { FitPolicy::Overlap, "overlap",
        "As default, but never clipped: runs over the next cue" },
    { FitPolicy::Shift, "shift",
        "As overlap, but speech starts after the previous speech ended" },
    { FitPolicy::Compress, "compress",
        "As default, but time-stretched to end at the next cue instead of "
        "clipped" },
  };
  return policies;
}

const char *
fit_policy_name (FitPolicy policy)
{
  for (const FitPolicyInfo &p : fit_policies ())
    if (p.policy == policy)
      return p.nick;
  return "unknown";
}

const char *
fit_step_name (FitStep step)
{
  switch (step) {
    case FitStep::Natural:
      return "natural";
    case FitStep::FreeTime:
      return "free-time";
    case FitStep::Rate:
      return "rate";
    case FitStep::Clipped:
      return "clipped";
    case FitStep::Stretched:
      return "stretched";
    case FitStep::Overflowed:
      return "overflowed";
  }
  return "unknown";
}

std::vector<int64_t>
scale_frames (const std::vector<int64_t> &frames, int64_t target)
{
  const size_t n = frames.size ();
  std::vector<int64_t> out (n, 0);
  int64_t total = 0, nonzero = 0;
  for (int64_t f : frames) {
    total += std::max<int64_t> (f, 0);
    nonzero += f > 0;
  }
  if (total == 0)
    return out;
  target = std::max (target, nonzero);

  /* Floors of the exact shares (at least 1), then +-1 by remainder. */
  std::vector<double> exact (n, 0.0);
  int64_t sum = 0;
  for (size_t i = 0; i < n; i++) {
    if (frames[i] <= 0)
      continue;
    exact[i] = (double) frames[i] * (double) target / (double) total;
    out[i] = std::max<int64_t> (1, (int64_t) std::floor (exact[i]));
    sum += out[i];
  }
  if (sum < target) {
    /* Short by fewer than n: the largest remainders get one more each. */
    std::vector<size_t> order;
    for (size_t i = 0; i < n; i++)
      if (frames[i] > 0)
        order.push_back (i);
    std::stable_sort (order.begin (), order.end (), [&] (size_t a, size_t b) {
      return exact[a] - out[a] > exact[b] - out[b];
    });
    for (size_t k = 0; sum < target; k = (k + 1) % order.size ()) {
      out[order[k]]++;
      sum++;
    }
  } else if (sum > target) {
    /* Over because of the 1-frame floor: take from the most over-served. */
    auto less_over = [&] (size_t a, size_t b) {
      double oa = out[a] - exact[a], ob = out[b] - exact[b];
      return oa != ob ? oa < ob : a > b;
    };
    std::priority_queue<size_t, std::vector<size_t>, decltype (less_over)>
        queue (less_over);
    for (size_t i = 0; i < n; i++)
      if (out[i] > 1)
        queue.push (i);
    while (sum > target && !queue.empty ()) {
      size_t i = queue.top ();
      queue.pop ();
      out[i]--;
      sum--;
      if (out[i] > 1)
        queue.push (i);
    }
  }
  return out;
}

int64_t
frames_at_rate (int64_t total, double rate)
{
  if (!(rate > 0.0) || total <= 0)
    return std::max<int64_t> (total, 0);
  return (int64_t) std::llround ((double) total / rate);
}

std::vector<int64_t>
round_durations (const std::vector<float> &durations)
{
  std::vector<int64_t> out;
  out.reserve (durations.size ());
  double running = 0.0;
  int64_t given = 0;
  for (float d : durations) {
    if (d > 0.0f && std::isfinite (d))
      running += d;
    int64_t upto = (int64_t) std::llround (running);
    out.push_back (upto - given);
    given = upto;
  }
  return out;
}

} // namespace ganvoice

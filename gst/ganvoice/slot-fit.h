/* ganvoice: fitting a cue's speech into its time slot.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/ganvoice-prelude.h>

#include <cstdint>
#include <vector>

namespace ganvoice {

/* Times are nanoseconds on the cues' timeline (as GstClockTime, signed). */
constexpr int64_t kFitNoTime = -1;
constexpr int64_t kFitMillisecond = 1000000;

/* What to do with speech that is too long for its slot; see
 * docs/ganvoice-fit.md. Modelled on elevenlabssynthesizer's "overflow". */
enum class FitPolicy
{
  Default, /* natural, free time, faster up to max_rate, then clip + fade */
  Clip, /* natural rate, cut at the cue end with a fade */
  Overlap, /* as Default, but never cut: runs on over the next cue */
  Shift, /* as Overlap, but starts after the previous speech ended */
  Compress, /* as Default, but time-stretches the rest instead of cutting */
};

/* Which step decided the plan. */
enum class FitStep
{
  Natural, /* fits inside the cue at the natural rate */
  FreeTime, /* fits at the natural rate using the time after the cue */
  Rate, /* fits with durations shortened, rate <= max_rate */
  Clipped, /* still too long: cut at allowed_end with a fade */
  Stretched, /* still too long: time-stretched to end at allowed_end */
  Overflowed, /* still too long: runs past allowed_end (Overlap, Shift) */
};

struct FitRequest {
  int64_t cue_start = 0;
  int64_t cue_end = 0;
  int64_t next_start = kFitNoTime; /* the next cue's start, or none */
  int64_t natural = 0; /* speech length at the natural rate */
  double max_rate = 1.4; /* >= 1 */
  FitPolicy policy = FitPolicy::Default;
  /* Shift only: where the previous cue's speech ends, or none. */
  int64_t previous_end = kFitNoTime;
  int64_t fade = 30 * kFitMillisecond; /* fade-out before a clip */
};

struct FitPlan {
  FitStep step = FitStep::Natural;
  int64_t start = 0; /* speech starts here */
  int64_t end = 0; /* and ends here, after rate, stretch and clip */
  int64_t allowed_end = kFitNoTime; /* the slot's end; none: open-ended */
  double rate = 1.0; /* divide the model's durations by this */
  double stretch = 1.0; /* then time-stretch: length / stretch */
  int64_t clip_at = kFitNoTime; /* cut the speech here, or none */
  int64_t fade = 0; /* fade-out ending at clip_at */
  /* How much longer than the slot the speech was at the rate applied
   * (what was clipped, stretched away, or runs over); 0 when it fits. */
  int64_t overflow = 0;
};

/* Plans one cue. Pure; never fails: a slot of no length gives a plan of no
 * length (Default, Clip, Compress). */
GANVOICE_API FitPlan fit_slot (const FitRequest &request);

/* A policy's nick (the elements' `overflow` values, ganvoice-dub's
 * --overflow) and what it does: the one description of each. */
struct FitPolicyInfo {
  FitPolicy policy;
  const char *nick;
  const char *description;
};
/* Every policy, in FitPolicy order. */
GANVOICE_API const std::vector<FitPolicyInfo> &fit_policies ();

GANVOICE_API const char *fit_policy_name (FitPolicy policy);
GANVOICE_API const char *fit_step_name (FitStep step);

/* Scales whole-frame durations so that they sum to exactly @target frames,
 * in proportion, spreading the rounding (largest remainders). A phoneme of
 * at least 1 frame keeps at least 1, one of 0 stays 0; so when @target is
 * below the number of non-zero phonemes, that number is the sum instead.
 * Negative frames count as 0. */
GANVOICE_API std::vector<int64_t> scale_frames (
    const std::vector<int64_t> &frames, int64_t target);

/* The frame target for @total frames spoken at @rate (round (total / rate)). */
GANVOICE_API int64_t frames_at_rate (int64_t total, double rate);

/* The model's fractional durations to whole frames, rounding the running
 * sum so that the total stays round (sum). Negative or NaN counts as 0. */
GANVOICE_API std::vector<int64_t> round_durations (
    const std::vector<float> &durations);

} // namespace ganvoice

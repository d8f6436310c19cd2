/* ganvoice-studio: how each cue of the editor will fit its slot, before a
 * render: the slots as the ganvoice element sees them and the library's
 * own fit_slot() (docs/ganvoice-fit.md). Used by the worker's `fit`.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/slot-fit.h>

#include <string>
#include <vector>

namespace studio {

/* One cue of the editor. Times in seconds. */
struct FitCue {
  double start = 0, end = 0;
  std::string text; /* as typed: newlines, markup */
  double natural = -1; /* its speech at the natural rate, s; < 0 unknown */
};

struct CueFitPlan {
  bool spoken = false; /* false: nothing to say (empty, annotations only) */
  double next_start = -1; /* where its slot ends, s; < 0: after the last */
  ganvoice::FitPlan plan; /* times in ns */
  const char *verdict = "silent"; /* fits, tight, too-long, silent */
};

/* What a render speaks of @text: its speakable turns (cleaned as the ASS
 * file the studio writes is cleaned by subcues), joined by spaces; "" when
 * there is nothing to say. */
std::string spoken_text (const std::string &text);

/* "fits" (natural rate, inside the cue or its free time), "tight" (sped
 * up, within the maximum rate) or "too-long" (clipped, stretched or run
 * over). */
const char *fit_verdict (ganvoice::FitStep step);

/* Plans every cue as the element would: the spoken cues in order of start
 * (ties in list order), each slot ending at the next spoken cue's start
 * (open after the last), each natural length as given (an unknown one
 * counts as 0). Shift's delay carries from cue to cue. The result is in
 * the order of @cues. */
std::vector<CueFitPlan> plan_cues (const std::vector<FitCue> &cues,
    ganvoice::FitPolicy policy, double max_rate);

} // namespace studio

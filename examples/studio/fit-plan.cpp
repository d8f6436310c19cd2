/* ganvoice-studio: how each cue will fit its slot (fit-plan.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fit-plan.h"

#include <ganvoice/cue-text.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace studio {

namespace {

int64_t
to_ns (double seconds)
{
  return std::isfinite (seconds) && seconds > 0
      ? (int64_t) std::llround (seconds * 1e9)
      : 0;
}

} // namespace

std::string
spoken_text (const std::string &text)
{
  /* The studio saves cues as ASS (\N for a newline, braces as
   * parentheses: projects.cpp), which the render parses back. */
  std::string ass;
  for (char ch : text)
    ass += ch == '\n' ? std::string ("\\N")
        : ch == '\r'  ? std::string ()
        : ch == '{'   ? std::string ("(")
        : ch == '}'   ? std::string (")")
                      : std::string (1, ch);
  std::string out;
  for (const ganvoice::Turn &t : ganvoice::speakable_turns (
           ass, ganvoice::MarkupKind::Ass, "", ganvoice::TextOptions ()))
    if (!t.text.empty ())
      out += (out.empty () ? "" : " ") + t.text;
  return out;
}

const char *
fit_verdict (ganvoice::FitStep step)
{
  switch (step) {
    case ganvoice::FitStep::Natural:
    case ganvoice::FitStep::FreeTime:
      return "fits";
    case ganvoice::FitStep::Rate:
      return "tight";
    case ganvoice::FitStep::Clipped:
    case ganvoice::FitStep::Stretched:
    case ganvoice::FitStep::Overflowed:
      return "too-long";
  }
  return "too-long";
}

std::vector<CueFitPlan>
plan_cues (const std::vector<FitCue> &cues, ganvoice::FitPolicy policy,
    double max_rate)
{
  std::vector<CueFitPlan> out (cues.size ());
  std::vector<size_t> order;
  for (size_t i = 0; i < cues.size (); i++) {
    out[i].spoken = !spoken_text (cues[i].text).empty ();
    if (out[i].spoken)
      order.push_back (i);
  }
  std::stable_sort (order.begin (), order.end (), [&] (size_t a, size_t b) {
    return to_ns (cues[a].start) < to_ns (cues[b].start);
  });
  int64_t previous_end = ganvoice::kFitNoTime;
  for (size_t k = 0; k < order.size (); k++) {
    const FitCue &c = cues[order[k]];
    ganvoice::FitRequest r;
    r.cue_start = to_ns (c.start);
    r.cue_end = std::max (to_ns (c.end), r.cue_start);
    r.next_start = k + 1 < order.size () ? to_ns (cues[order[k + 1]].start)
                                         : ganvoice::kFitNoTime;
    r.natural = to_ns (c.natural);
    r.max_rate = max_rate;
    r.policy = policy;
    r.previous_end = previous_end;
    CueFitPlan &p = out[order[k]];
    p.plan = ganvoice::fit_slot (r);
    p.next_start =
        r.next_start == ganvoice::kFitNoTime ? -1 : r.next_start / 1e9;
    p.verdict = fit_verdict (p.plan.step);
    previous_end = p.plan.end;
  }
  return out;
}

} // namespace studio

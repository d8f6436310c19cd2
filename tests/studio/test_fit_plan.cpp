/* Unit test of the studio's fit plans before a render
 * (examples/studio/fit-plan.cpp): the slots of the editor's cues as the
 * ganvoice element sees them (order, the next spoken cue, open after the
 * last), the verdicts, and the policies passed to fit_slot().
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fit-plan.h"

#include <glib.h>

#include <cmath>
#include <string>
#include <vector>

using ganvoice::FitPolicy;
using ganvoice::FitStep;
using studio::FitCue;
using studio::plan_cues;

namespace {

FitCue
cue (double start, double end, const char *text, double natural)
{
  FitCue c;
  c.start = start;
  c.end = end;
  c.text = text;
  c.natural = natural;
  return c;
}

void
test_spoken_text ()
{
  g_assert_cmpstr (
      studio::spoken_text ("Hello there.").c_str (), ==, "Hello there.");
  /* A newline is a line break, not a word glued to the next. */
  g_assert_cmpstr (
      studio::spoken_text ("Hello\nthere.").c_str (), ==, "Hello there.");
  /* Annotations are not spoken, as in a render. */
  g_assert_cmpstr (studio::spoken_text ("[music]").c_str (), ==, "");
  g_assert_cmpstr (studio::spoken_text ("  ").c_str (), ==, "");
  /* Dialogue turns are all spoken. */
  g_assert_cmpstr (
      studio::spoken_text ("- Hi.\n- Hello.").c_str (), ==, "Hi. Hello.");
}

void
test_slots_and_verdicts ()
{
  /* Listed out of order; an empty cue in the middle ends no slot. */
  std::vector<FitCue> cues = {
    cue (5.0, 6.0, "Tight one.", 2.0), /* slot 5..6.5: 2 s at 1.33x */
    cue (0.0, 2.0, "Fits.", 1.5), /* inside the cue */
    cue (3.0, 4.0, "", 0), /* nothing to say */
    cue (2.0, 3.0, "Free time.", 2.5), /* runs into the gap until 5 */
    cue (6.5, 7.0, "Last one, long.", 10.0), /* open after the last */
  };
  auto plans = plan_cues (cues, FitPolicy::Default, 1.4);
  g_assert_cmpuint (plans.size (), ==, 5);

  g_assert_true (plans[1].spoken);
  g_assert_cmpstr (plans[1].verdict, ==, "fits");
  g_assert_true (plans[1].plan.step == FitStep::Natural);
  g_assert_cmpfloat_with_epsilon (plans[1].next_start, 2.0, 1e-9);

  g_assert_false (plans[2].spoken);
  g_assert_cmpstr (plans[2].verdict, ==, "silent");

  g_assert_cmpstr (plans[3].verdict, ==, "fits");
  g_assert_true (plans[3].plan.step == FitStep::FreeTime);
  g_assert_cmpfloat_with_epsilon (plans[3].next_start, 5.0, 1e-9);

  g_assert_cmpstr (plans[0].verdict, ==, "tight");
  g_assert_true (plans[0].plan.step == FitStep::Rate);
  g_assert_cmpfloat_with_epsilon (plans[0].plan.rate, 2.0 / 1.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (plans[0].next_start, 6.5, 1e-9);

  g_assert_cmpstr (plans[4].verdict, ==, "fits");
  g_assert_true (plans[4].plan.step == FitStep::FreeTime);
  g_assert_cmpfloat (plans[4].next_start, <, 0);
}

void
test_too_long_by_policy ()
{
  /* 5 s of speech for the 2 s until the next cue. */
  std::vector<FitCue> cues = {
    cue (10.0, 11.0, "Far too long for its time.", 5.0),
    cue (12.0, 13.0, "Next.", 0.5),
  };
  auto plans = plan_cues (cues, FitPolicy::Default, 1.4);
  g_assert_cmpstr (plans[0].verdict, ==, "too-long");
  g_assert_true (plans[0].plan.step == FitStep::Clipped);
  g_assert_cmpfloat_with_epsilon (plans[0].plan.rate, 1.4, 1e-9);
  g_assert_cmpint (plans[0].plan.clip_at, ==, 12 * INT64_C (1000000000));
  /* 5 / 1.4 = 3.571 s spoken in 2 s: 1.571 s cut. */
  g_assert_cmpfloat_with_epsilon (
      plans[0].plan.overflow / 1e9, 5.0 / 1.4 - 2.0, 1e-6);
  g_assert_cmpstr (plans[1].verdict, ==, "fits");

  plans = plan_cues (cues, FitPolicy::Compress, 1.4);
  g_assert_true (plans[0].plan.step == FitStep::Stretched);
  g_assert_cmpstr (plans[0].verdict, ==, "too-long");
  plans = plan_cues (cues, FitPolicy::Overlap, 1.4);
  g_assert_true (plans[0].plan.step == FitStep::Overflowed);
  /* Clip: the natural rate, cut at the cue's end. */
  plans = plan_cues (cues, FitPolicy::Clip, 1.4);
  g_assert_true (plans[0].plan.step == FitStep::Clipped);
  g_assert_cmpint (plans[0].plan.clip_at, ==, 11 * INT64_C (1000000000));
  g_assert_cmpfloat_with_epsilon (plans[0].plan.rate, 1.0, 1e-9);
  /* A higher maximum rate makes it fit, faster. */
  plans = plan_cues (cues, FitPolicy::Default, 3.0);
  g_assert_cmpstr (plans[0].verdict, ==, "tight");
}

void
test_shift_carries_delay ()
{
  /* Under shift, the second cue starts after the first one's speech. */
  std::vector<FitCue> cues = {
    cue (0.0, 1.0, "Long first line.", 3.0),
    cue (1.0, 2.0, "Second.", 0.5),
  };
  auto plans = plan_cues (cues, FitPolicy::Shift, 1.4);
  g_assert_true (plans[0].plan.step == FitStep::Overflowed);
  const int64_t first_end = plans[0].plan.end;
  g_assert_cmpint (plans[1].plan.start, ==, first_end);
  /* Unknown lengths count as nothing to say yet: they fit. */
  cues[0].natural = -1;
  plans = plan_cues (cues, FitPolicy::Default, 1.4);
  g_assert_cmpstr (plans[0].verdict, ==, "fits");
}

} // namespace

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, nullptr);
  g_test_add_func ("/fit-plan/spoken-text", test_spoken_text);
  g_test_add_func ("/fit-plan/slots-and-verdicts", test_slots_and_verdicts);
  g_test_add_func ("/fit-plan/too-long-by-policy", test_too_long_by_policy);
  g_test_add_func ("/fit-plan/shift-carries-delay", test_shift_carries_delay);
  return g_test_run ();
}

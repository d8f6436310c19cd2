/* Unit tests of SpeechTimeline: mixing, overlap, late speech, the spans
 * that become final, and stopping.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/speech-timeline.h>

#include <gst/check/gstcheck.h>

#include <vector>

using ganvoice::SpeechTimeline;

namespace {

struct Span {
  int64_t start;
  std::vector<float> samples;
  bool silence;
};

/* Collects what becomes final; stops after @stop_after spans (0: never). */
struct Collector {
  std::vector<Span> spans;
  size_t stop_after = 0;
  SpeechTimeline::EmitFunc emit ()
  {
    return [this] (int64_t start, const float *samples, size_t n) {
      spans.push_back ({ start,
          samples ? std::vector<float> (samples, samples + n)
                  : std::vector<float> (n, 0.0f),
          samples == nullptr });
      return stop_after == 0 || spans.size () < stop_after;
    };
  }
  /* Every span back to back from @from, as one signal. */
  std::vector<float> joined (int64_t from) const
  {
    std::vector<float> out;
    int64_t at = from;
    for (const Span &s : spans) {
      fail_unless_equals_int64 (s.start, at);
      out.insert (out.end (), s.samples.begin (), s.samples.end ());
      at += (int64_t) s.samples.size ();
    }
    return out;
  }
};

} // namespace

GST_START_TEST (test_speech_and_silence)
{
  SpeechTimeline t;
  Collector c;
  const float a[] = { 1, 2, 3 };
  fail_if (t.started ());
  fail_unless_equals_int (t.mix (0, a, 3), 3); /* no position: dropped */
  t.reset (100);
  /* Silence to the speech's start, the speech, silence to 120; silence in
   * spans of at most 4. */
  fail_unless (t.advance_to (105, 4, c.emit ()));
  fail_unless_equals_int (t.mix (105, a, 3), 0);
  fail_unless_equals_int64 (t.end (), 108);
  fail_unless (t.advance_to (120, 4, c.emit ()));
  std::vector<float> out = c.joined (100);
  fail_unless_equals_int (out.size (), 20);
  const float want[] = { 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0 };
  for (size_t i = 0; i < 20; i++)
    fail_unless_equals_float (out[i], want[i]);
  for (const Span &s : c.spans) {
    fail_unless (s.samples.size () <= 4);
    fail_unless (s.silence == (s.start < 105 || s.start >= 108));
  }
  fail_unless_equals_int64 (t.position (), 120);
  fail_unless_equals_int64 (t.end (), 120);
  /* Going back does nothing. */
  c.spans.clear ();
  fail_unless (t.advance_to (110, 4, c.emit ()));
  fail_unless (c.spans.empty ());
}
GST_END_TEST;

/* Overlapping speech adds up; speech before the position is dropped. */
GST_START_TEST (test_overlap_and_late_speech)
{
  SpeechTimeline t;
  Collector c;
  const float a[] = { 1, 1, 1, 1 }, b[] = { 10, 10, 10, 10 };
  t.reset (0);
  t.mix (0, a, 4);
  t.mix (2, b, 4); /* overlaps a's last two samples */
  fail_unless_equals_int64 (t.end (), 6);
  fail_unless (t.advance_to (3, 100, c.emit ()));
  fail_unless_equals_int (t.mix (1, a, 4), 2); /* 1..2 are final: dropped */
  fail_unless (t.flush (100, c.emit ()));
  std::vector<float> out = c.joined (0);
  const float want[] = { 1, 1, 11, 12, 11, 10 };
  fail_unless_equals_int (out.size (), 6);
  for (size_t i = 0; i < 6; i++)
    fail_unless_equals_float (out[i], want[i]);
}
GST_END_TEST;

/* A cue that starts where the previous speech ends (the shift policy)
 * continues it without a gap or a seam. */
GST_START_TEST (test_follow_on)
{
  SpeechTimeline t;
  Collector c;
  const float a[] = { 1, 2 }, b[] = { 3, 4 };
  t.reset (0);
  t.mix (0, a, 2);
  t.mix (t.end (), b, 2);
  fail_unless (t.flush (8, c.emit ()));
  std::vector<float> out = c.joined (0);
  fail_unless_equals_int (out.size (), 4);
  for (size_t i = 0; i < 4; i++)
    fail_unless_equals_float (out[i], (float) (i + 1));
  fail_unless_equals_int (c.spans.size (), 1);
}
GST_END_TEST;

/* An emit that fails stops the advance; what it got counts as emitted,
 * and a long timeline keeps its samples in order through the compaction. */
GST_START_TEST (test_stop_and_long_runs)
{
  SpeechTimeline t;
  Collector c;
  c.stop_after = 2;
  t.reset (0);
  fail_if (t.advance_to (10, 2, c.emit ()));
  fail_unless_equals_int (c.spans.size (), 2);
  fail_unless_equals_int64 (t.position (), 4);

  Collector all;
  std::vector<float> ramp (1000);
  for (size_t i = 0; i < ramp.size (); i++)
    ramp[i] = (float) i;
  t.reset (0);
  t.mix (0, ramp.data (), ramp.size ());
  for (int64_t to = 7; to < 1000; to += 7)
    fail_unless (t.advance_to (to, 100, all.emit ()));
  fail_unless (t.flush (100, all.emit ()));
  std::vector<float> out = all.joined (0);
  fail_unless (out == ramp);
  t.clear ();
  fail_if (t.started ());
}
GST_END_TEST;

static Suite *
speech_timeline_suite (void)
{
  Suite *s = suite_create ("speech-timeline");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_speech_and_silence);
  tcase_add_test (tc, test_overlap_and_late_speech);
  tcase_add_test (tc, test_follow_on);
  tcase_add_test (tc, test_stop_and_long_runs);
  return s;
}

GST_CHECK_MAIN (speech_timeline);

/* Unit tests of the deep-clone transcripts: subtitle files and plain text
 * read, their errors with lines, and a recording cut at the cue times.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/reading-transcript.h>

#include <gst/check/gstcheck.h>

#include <string>
#include <vector>

using namespace ganvoice;

GST_START_TEST (test_subrip)
{
  const char *srt = "1\n00:00:01,000 --> 00:00:03,500\n<i>The quick</i> brown "
                    "fox.\n\n"
                    "2\n00:00:04,000 --> 00:00:06,000\n[music]\n\n"
                    "3\n00:00:06,500 --> 00:00:09,000\n- Hi there.\n- Hello "
                    "again.\n";
  ReadingTranscript t = parse_transcript (srt, "reading.srt", "en");
  fail_unless (t.ok, "%s", t.error.message.c_str ());
  fail_unless (t.timed);
  fail_unless (t.format == SubtitleFormat::SubRip);
  /* The annotation-only cue has nothing to read; the dialogue dashes are
   * one reader's text, not split. */
  fail_unless_equals_int (t.cues.size (), 2);
  fail_unless_equals_string (t.cues[0].text.c_str (), "The quick brown fox.");
  fail_unless_equals_int64 (t.cues[0].start_ns, 1000000000);
  fail_unless_equals_int64 (t.cues[0].end_ns, 3500000000);
  fail_unless_equals_int (t.cues[0].index, 1);
  fail_unless_equals_int (t.cues[0].line, 2);
  fail_unless_equals_string (t.cues[0].origin.c_str (), "reading.srt:2");
  fail_unless (t.cues[1].text.find ("Hi there.") != std::string::npos);
  fail_unless (t.cues[1].text.find ("Hello again.") != std::string::npos);
  fail_unless_equals_int (t.cues[1].index, 2);
  fail_unless_equals_int (t.cues[1].line, 10);

  /* WebVTT is found by its header whatever the file is called. */
  ReadingTranscript vtt = parse_transcript (
      "WEBVTT\n\n00:01.000 --> 00:02.000\nOne.\n", "reading.txt", "en");
  fail_unless (vtt.ok && vtt.timed);
  fail_unless_equals_int (vtt.cues.size (), 1);
}
GST_END_TEST;

GST_START_TEST (test_plain_text)
{
  ReadingTranscript t = parse_transcript (
      "\n  The quick brown fox.\r\nShe sells sea shells.  \n\n", "me.txt",
      "en");
  fail_unless (t.ok);
  fail_if (t.timed);
  fail_unless_equals_string (
      t.text.c_str (), "The quick brown fox.\nShe sells sea shells.");
  fail_unless (t.cues.empty ());
}
GST_END_TEST;

GST_START_TEST (test_errors)
{
  /* Not subtitles in a file named .srt: the line it gave up on. */
  ReadingTranscript bad =
      parse_transcript ("\n\nthis is no subtitle file\n", "bad.srt", "en");
  fail_if (bad.ok);
  fail_if (bad.unreadable);
  fail_unless_equals_int (bad.error.line, 3);
  fail_unless (bad.error.message.find ("SubRip") != std::string::npos);

  /* Cues with no text at all. */
  ReadingTranscript silent = parse_transcript (
      "1\n00:00:01,000 --> 00:00:02,000\n[applause]\n", "x.srt", "en");
  fail_if (silent.ok);
  fail_unless (silent.error.message.find ("no cue") != std::string::npos);

  ReadingTranscript empty = parse_transcript (" \n\n", "x.txt", "en");
  fail_if (empty.ok);
  fail_unless (empty.error.message.find ("empty") != std::string::npos);

  ReadingTranscript missing = read_transcript ("/nonexistent/x.srt", "en");
  fail_if (missing.ok);
  fail_unless (missing.unreadable);
  fail_if (missing.error.message.empty ());
}
GST_END_TEST;

static TimedText
cue (double start, double end, const char *text)
{
  TimedText t;
  t.start_ns = (int64_t) (start * 1e9);
  t.end_ns = (int64_t) (end * 1e9);
  t.text = text;
  t.origin = text;
  return t;
}

GST_START_TEST (test_cut)
{
  /* 10 s at 1 kHz, each sample its own index; the audio starts at 2 s on
   * the cues' timeline. */
  std::vector<float> audio (10000);
  for (size_t i = 0; i < audio.size (); i++)
    audio[i] = (float) i;
  std::vector<TimedText> cues = { cue (3.0, 4.0, "a"), cue (4.2, 5.0, "b"),
    cue (1.0, 2.5, "early"), cue (20.0, 21.0, "late"),
    cue (11.0, 13.0, "end") };
  std::vector<ReadSentence> s = cut_reading (audio, 1000, 2000000000, cues);
  fail_unless_equals_int (s.size (), 5);
  /* a: 0.25 s before (no neighbour that close), after only to the middle of
   * the 0.2 s gap to b. */
  fail_unless_equals_string (s[0].text.c_str (), "a");
  fail_unless_equals_int (s[0].rate, 1000);
  fail_unless_equals_int (s[0].samples.size (), 1350);
  fail_unless_equals_int ((int) s[0].samples.front (), 750);
  /* b: from the middle of the gap. */
  fail_unless_equals_int ((int) s[1].samples.front (), 2100);
  fail_unless_equals_int ((int) s[1].samples.back (), 3249);
  /* Before the audio: only what was recorded; after it: nothing. */
  fail_unless_equals_int ((int) s[2].samples.front (), 0);
  fail_unless_equals_int (s[2].samples.size (), 750);
  fail_unless (s[3].samples.empty ());
  fail_unless_equals_string (s[3].origin.c_str (), "late");
  /* At the end: up to the last sample. */
  fail_unless_equals_int ((int) s[4].samples.back (), 9999);

  fail_unless (cut_reading ({}, 16000, 0, cues)[0].samples.empty ());
}
GST_END_TEST;

static Suite *
reading_transcript_suite (void)
{
  Suite *s = suite_create ("reading-transcript");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_subrip);
  tcase_add_test (tc, test_plain_text);
  tcase_add_test (tc, test_errors);
  tcase_add_test (tc, test_cut);
  return s;
}

GST_CHECK_MAIN (reading_transcript);

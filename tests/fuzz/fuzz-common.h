/* ganvoice fuzzing: invariant checks shared by the libFuzzer targets.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every check here is a promise made by gst/ganvoice/subtitles.h (or one
 * that follows directly from how the parsers are specified); a broken one
 * calls __builtin_trap () so that libFuzzer saves the input. FUZZ_CHECK
 * prints the failed condition first, so the report says which one. */
#pragma once

#include <ganvoice/subtitles.h>

#include <glib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <tuple>
#include <string_view>
#include <vector>

#define FUZZ_CHECK(cond) \
  do { \
    if (G_UNLIKELY (!(cond))) { \
      fprintf ( \
          stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
      __builtin_trap (); \
    } \
  } while (0)

namespace ganvoice_fuzz {

using namespace ganvoice;

inline bool
is_valid_utf8 (std::string_view s)
{
  /* With an explicit length g_utf8_validate also rejects NUL bytes. */
  return g_utf8_validate (s.data (), (gssize) s.size (), nullptr);
}

/* 1 + the number of '\n': the most lines a diagnostic can name is this. */
inline unsigned
count_lines (std::string_view s)
{
  unsigned n = 1;
  for (char c : s)
    n += c == '\n';
  return n;
}

inline void
check_diagnostics (const std::vector<Diagnostic> &diagnostics, unsigned n_lines)
{
  for (const Diagnostic &d : diagnostics) {
    FUZZ_CHECK (d.line <= n_lines + 1);
    FUZZ_CHECK (!d.message.empty ());
  }
}

/* Speakable text: valid UTF-8, at least one letter or digit, nothing
 * unspeakable (control or format characters, U+FFFD), single spaces,
 * trimmed, one line. @input_valid says whether the markup it came from was
 * valid UTF-8 without NUL, as decode_subtitle_text() guarantees; from other
 * bytes the cleaner may pass stray bytes through (but must not crash). */
inline void
check_speakable_text (std::string_view text, bool input_valid)
{
  FUZZ_CHECK (!text.empty ());
  FUZZ_CHECK (text.find ('\n') == std::string_view::npos);
  FUZZ_CHECK (text.find ('\r') == std::string_view::npos);
  FUZZ_CHECK (text.find ('\t') == std::string_view::npos);
  FUZZ_CHECK (text.find ("  ") == std::string_view::npos);
  FUZZ_CHECK (text.front () != ' ' && text.back () != ' ');
  if (!input_valid)
    return;
  FUZZ_CHECK (is_valid_utf8 (text));
  bool speakable = false;
  bool prev_space = true; /* so that a leading space fails */
  for (const gchar *p = text.data (), *end = p + text.size (); p < end;
       p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);
    bool space = g_unichar_isspace (c) || c == 0x200B || c == 0xFEFF;
    FUZZ_CHECK (!space || c == ' ');
    FUZZ_CHECK (!(space && prev_space));
    FUZZ_CHECK (c != 0xFFFD);
    FUZZ_CHECK (!g_unichar_iscntrl (c));
    FUZZ_CHECK (g_unichar_type (c) != G_UNICODE_FORMAT);
    prev_space = space;
    speakable = speakable || g_unichar_isalnum (c);
  }
  FUZZ_CHECK (!prev_space); /* trailing space */
  FUZZ_CHECK (speakable);
}

/* Timed cues as make_spoken_cues() promises them: end > start >= 0,
 * sorted by start, numbered 0..n-1, turn < n_turns, exact duplicates
 * (same start, end and text) merged. */
inline void
check_spoken_cues (
    const std::vector<Cue> &cues, bool input_valid, const std::string &language)
{
  std::set<std::tuple<int64_t, int64_t, std::string_view> > seen;
  for (size_t i = 0; i < cues.size (); i++) {
    const Cue &cue = cues[i];
    FUZZ_CHECK (cue.start_ns >= 0);
    FUZZ_CHECK (cue.end_ns > cue.start_ns);
    FUZZ_CHECK (cue.index == i);
    FUZZ_CHECK (cue.turn < cue.n_turns);
    FUZZ_CHECK (cue.language == language);
    if (i > 0)
      FUZZ_CHECK (cues[i - 1].start_ns <= cue.start_ns);
    check_speakable_text (cue.text, input_valid);
    FUZZ_CHECK (seen.emplace (cue.start_ns, cue.end_ns, cue.text).second);
  }
}

/* The turns of a cue share its time: each lies within it, give or take
 * the millisecond the shares are rounded to. @raw must have one cue per
 * line number (true of SubRip and WebVTT). */
inline void
check_turn_times (const std::vector<Cue> &cues, const std::vector<RawCue> &raw)
{
  for (const Cue &cue : cues) {
    const RawCue *from = nullptr;
    for (const RawCue &rc : raw)
      if (rc.line == cue.line)
        from = &rc;
    FUZZ_CHECK (from != nullptr);
    FUZZ_CHECK (cue.start_ns >= from->start_ns);
    FUZZ_CHECK (cue.start_ns <= from->end_ns);
    FUZZ_CHECK (cue.end_ns <= from->end_ns + 1000000);
    if (cue.turn == 0)
      FUZZ_CHECK (cue.start_ns == from->start_ns);
    if (cue.turn + 1 == cue.n_turns && cue.start_ns < from->end_ns)
      FUZZ_CHECK (cue.end_ns == from->end_ns);
    FUZZ_CHECK (cue.markup == from->markup);
  }
}

/* Raw cues from any parser: end > start >= 0, line within the text. */
inline void
check_raw_cues (const ParsedSubtitles &parsed, unsigned n_lines)
{
  check_diagnostics (parsed.warnings, n_lines);
  if (!parsed.ok) {
    FUZZ_CHECK (parsed.cues.empty ());
    FUZZ_CHECK (parsed.error.line <= n_lines + 1);
    FUZZ_CHECK (!parsed.error.message.empty ());
  }
  for (const RawCue &cue : parsed.cues) {
    FUZZ_CHECK (cue.start_ns >= 0);
    FUZZ_CHECK (cue.end_ns > cue.start_ns);
    FUZZ_CHECK (cue.line >= 1 && cue.line <= n_lines);
  }
}

/* The options a target tries, picked from one byte. */
inline TextOptions
text_options_from (uint8_t bits)
{
  TextOptions options;
  options.keep_annotations = bits & 1;
  options.split_dialogue = !(bits & 2);
  return options;
}

} // namespace ganvoice_fuzz

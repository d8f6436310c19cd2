/* ganvoice: SubRip and WebVTT parsing, format detection.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "subtitles/subtitle-lines.h"

#include <ganvoice/subtitle-parse.h>

#include <glib.h>

#include <cstring>

namespace ganvoice {
namespace {

bool
is_digits (std::string_view s)
{
  if (s.empty () || s.size () > 9)
    return false;
  for (char c : s)
    if (!g_ascii_isdigit (c))
      return false;
  return true;
}

/* Parses "start --> end[ settings]". Returns false when @line has no
 * arrow; sets start/end to -1 where a side is not a timestamp. */
bool
split_timing (std::string_view line, int64_t &start, int64_t &end,
    std::string_view *settings = nullptr)
{
  size_t arrow = line.find ("-->");
  if (arrow == std::string_view::npos)
    return false;
  start = parse_timestamp (trim (line.substr (0, arrow)));
  std::string_view rest = trim (line.substr (arrow + 3));
  size_t space = rest.find_first_of (" \t");
  end = parse_timestamp (rest.substr (0, space));
  if (settings)
    *settings = space == std::string_view::npos ? std::string_view ()
                                                : trim (rest.substr (space));
  return true;
}

/* Any line with an arrow is a timing line, well-formed or not, so that a
 * cue with a broken timestamp is reported rather than taken as text. */
bool
is_timing_line (std::string_view line)
{
  return line.find ("-->") != std::string_view::npos;
}

/* A cue starts at @i: a timing line, or a number followed by one. */
bool
srt_cue_starts_at (const Lines &lines, size_t i)
{
  std::string_view line = trim (lines[i].text);
  if (is_timing_line (line))
    return true;
  return is_digits (line) && i + 1 < lines.size () &&
      is_timing_line (trim (lines[i + 1].text));
}

std::string
join_lines (const Lines &lines, size_t from, size_t to)
{
  std::string text;
  for (size_t i = from; i < to; i++) {
    if (i > from)
      text.push_back ('\n');
    text.append (lines[i].text);
  }
  return text;
}

/* Adds a cue, or a warning when its times make no sense. */
void
add_cue (ParsedSubtitles &out, unsigned line, int64_t start, int64_t end,
    std::string markup)
{
  if (start < 0 || end < 0) {
    out.warnings.push_back ({ line, "malformed timestamp; cue skipped" });
    return;
  }
  if (end <= start) {
    out.warnings.push_back ({ line, cue_time_problem (start, end) });
    return;
  }
  RawCue cue;
  cue.start_ns = start;
  cue.end_ns = end;
  cue.markup = std::move (markup);
  cue.kind = MarkupKind::Html;
  cue.line = line;
  out.cues.push_back (std::move (cue));
}

} // namespace

std::string
cue_time_problem (int64_t start_ns, int64_t end_ns)
{
  if (end_ns == start_ns)
    return "cue has zero length (it ends when it starts); cue skipped";
  return "cue ends before it starts; cue skipped";
}

int64_t
parse_timestamp (std::string_view text)
{
  text = trim (text);
  int64_t parts[3] = { 0, 0, 0 };
  int n_parts = 0;
  size_t i = 0;
  /* Up to three ':'-separated integer fields: [hours:]minutes:seconds. */
  while (true) {
    size_t digits = 0;
    int64_t value = 0;
    while (i < text.size () && g_ascii_isdigit (text[i]) && digits < 7) {
      value = value * 10 + (text[i] - '0');
      i++;
      digits++;
    }
    if (digits == 0 || n_parts == 3)
      return -1;
    parts[n_parts++] = value;
    if (i < text.size () && text[i] == ':' && n_parts < 3 &&
        i + 1 < text.size () && g_ascii_isdigit (text[i + 1])) {
      i++;
      continue;
    }
    break;
  }
  if (n_parts < 2)
    return -1;
  int64_t fraction_ns = 0;
  if (i < text.size () && (text[i] == ',' || text[i] == '.')) {
    i++;
    int64_t scale = 100000000;
    size_t digits = 0;
    while (i < text.size () && g_ascii_isdigit (text[i])) {
      if (digits < 9)
        fraction_ns += (text[i] - '0') * scale;
      scale /= 10;
      i++;
      digits++;
    }
    if (digits == 0)
      return -1;
  }
  if (i != text.size ())
    return -1;
  int64_t hours = n_parts == 3 ? parts[0] : 0;
  int64_t minutes = parts[n_parts - 2];
  int64_t seconds = parts[n_parts - 1];
  if (seconds >= 60 || (n_parts == 3 && minutes >= 60))
    return -1;
  int64_t total_seconds = (hours * 60 + minutes) * 60 + seconds;
  /* Beyond ~100 days is a broken timestamp, and would overflow in ns. */
  if (total_seconds > kMaxTimestampSeconds)
    return -1;
  return total_seconds * G_GINT64_CONSTANT (1000000000) + fraction_ns;
}

int64_t
parse_ssa_time (std::string_view text)
{
  text = trim (text);
  size_t colons = 0, last_colon = 0;
  for (size_t i = 0; i < text.size (); i++) {
    if (text[i] == ':') {
      colons++;
      last_colon = i;
    }
  }
  if (colons < 2 || colons > 3)
    return -1;
  std::string time (text);
  if (colons == 3)
    time[last_colon] = '.'; /* "0:00:04:56" */
  size_t dot = time.find_first_of (".,");
  if (dot != std::string::npos && time.size () - dot - 1 > 3)
    return -1;
  return parse_timestamp (time);
}

const char *
subtitle_format_name (SubtitleFormat format)
{
  switch (format) {
    case SubtitleFormat::SubRip:
      return "SubRip";
    case SubtitleFormat::WebVTT:
      return "WebVTT";
    case SubtitleFormat::SubStationAlpha:
      return "SSA/ASS";
    case SubtitleFormat::Unknown:
      break;
  }
  return "unknown";
}

SubtitleFormat
detect_subtitle_format (std::string_view text)
{
  Lines lines = split_lines (text, 64);
  size_t i = 0;
  while (i < lines.size () && trim (lines[i].text).empty ())
    i++;
  if (i == lines.size ())
    return SubtitleFormat::Unknown;
  std::string_view first = trim (lines[i].text);
  if (starts_with (first, "WEBVTT") &&
      (first.size () == 6 || first[6] == ' ' || first[6] == '\t'))
    return SubtitleFormat::WebVTT;
  for (size_t j = i; j < lines.size (); j++) {
    std::string_view line = trim (lines[j].text);
    if (starts_with_nocase (line, "[script info]") ||
        starts_with_nocase (line, "[v4+ styles]") ||
        starts_with_nocase (line, "[v4 styles]") ||
        starts_with_nocase (line, "[events]"))
      return SubtitleFormat::SubStationAlpha;
  }
  if (srt_cue_starts_at (lines, i))
    return SubtitleFormat::SubRip;
  return SubtitleFormat::Unknown;
}

ParsedSubtitles
parse_subrip (std::string_view text)
{
  ParsedSubtitles out;
  out.format = SubtitleFormat::SubRip;
  Lines lines = split_lines (text);
  size_t n = lines.size ();
  size_t i = 0;
  while (i < n) {
    if (trim (lines[i].text).empty ()) {
      i++;
      continue;
    }
    if (!srt_cue_starts_at (lines, i)) {
      out.warnings.push_back ({ lines[i].number,
          is_digits (trim (lines[i].text))
              ? "a cue number with no timing line 'start --> end' under it; "
                "block skipped"
              : "text with no cue number or timing line 'start --> end' "
                "before it; skipped up to the next blank line" });
      while (i < n && !trim (lines[i].text).empty ())
        i++;
      continue;
    }
    if (!is_timing_line (trim (lines[i].text)))
      i++; /* the cue number */
    unsigned timing_line = lines[i].number;
    int64_t start, end;
    split_timing (trim (lines[i].text), start, end);
    i++;
    /* Text runs to a blank line, or straight into the next cue when a
     * blank line is missing. A block after the blank line that is not a
     * cue (a cue number with no timing line, a dangling number at the end,
     * text without times) is reported and skipped by the loop above, never
     * merged into this cue. */
    size_t text_start = i, text_end = i;
    while (i < n && !trim (lines[i].text).empty () &&
        !srt_cue_starts_at (lines, i)) {
      i++;
      text_end = i;
    }
    add_cue (
        out, timing_line, start, end, join_lines (lines, text_start, text_end));
  }
  fail_if_nothing_recovered (out);
  return out;
}

ParsedSubtitles
parse_webvtt (std::string_view text)
{
  ParsedSubtitles out;
  out.format = SubtitleFormat::WebVTT;
  Lines lines = split_lines (text);
  size_t n = lines.size ();
  size_t i = 0;
  while (i < n && trim (lines[i].text).empty ())
    i++;
  if (i == n || !starts_with (trim (lines[i].text), "WEBVTT")) {
    out.ok = false;
    out.error = { i < n ? lines[i].number : 1,
      "a WebVTT file must start with "
      "'WEBVTT'" };
    return out;
  }
  /* Header: up to the first blank line. "Language: xx" is a common extension. */
  for (i++; i < n && !trim (lines[i].text).empty (); i++) {
    std::string_view line = trim (lines[i].text);
    /* Leniency: a cue right under the header, with no blank line between,
     * is a cue (a strict parser would lose it to the header). */
    if (line.find ("-->") != std::string_view::npos) {
      if (i > 0 && !trim (lines[i - 1].text).empty () &&
          !starts_with (trim (lines[i - 1].text), "WEBVTT") &&
          lines[i - 1].text.find (':') == std::string_view::npos)
        i--; /* the line above was its identifier */
      break;
    }
    if (starts_with_nocase (line, "language:"))
      out.language = std::string (trim (line.substr (9)));
  }

  while (i < n) {
    if (trim (lines[i].text).empty ()) {
      i++;
      continue;
    }
    size_t block = i;
    size_t block_end = i;
    while (block_end < n && !trim (lines[block_end].text).empty ())
      block_end++;
    i = block_end;

    std::string_view first = trim (lines[block].text);
    auto is_keyword_block = [&] (const char *word) {
      size_t len = strlen (word);
      return starts_with (first, word) &&
          (first.size () == len || first[len] == ' ' || first[len] == '\t');
    };
    if ((is_keyword_block ("NOTE") || is_keyword_block ("STYLE") ||
            is_keyword_block ("REGION")) &&
        first.find ("-->") == std::string_view::npos)
      continue;

    size_t timing = block;
    if (first.find ("-->") == std::string_view::npos) {
      timing = block + 1; /* a cue identifier came first */
      if (timing >= block_end ||
          trim (lines[timing].text).find ("-->") == std::string_view::npos) {
        out.warnings.push_back ({ lines[block].number,
            "expected a timing line 'start --> end'; block skipped" });
        continue;
      }
    }
    /* A timing line inside the text starts the next cue, though no blank
     * line came before it (YouTube's automatic captions). */
    while (timing < block_end) {
      size_t next = timing + 1;
      while (next < block_end && !is_timing_line (trim (lines[next].text)))
        next++;
      /* A number right above that timing line is its cue identifier. */
      size_t text_end = next;
      if (next < block_end && text_end > timing + 1 &&
          is_digits (trim (lines[text_end - 1].text)))
        text_end--;
      int64_t start, end;
      split_timing (trim (lines[timing].text), start, end);
      add_cue (out, lines[timing].number, start, end,
          join_lines (lines, timing + 1, text_end));
      timing = next;
    }
  }
  fail_if_nothing_recovered (out);
  return out;
}

ParsedSubtitles
parse_subtitles (
    std::string_view text, SubtitleFormat format, const ParseOptions &options)
{
  if (format == SubtitleFormat::Unknown)
    format = detect_subtitle_format (text);
  switch (format) {
    case SubtitleFormat::SubRip:
      return parse_subrip (text);
    case SubtitleFormat::WebVTT:
      return parse_webvtt (text);
    case SubtitleFormat::SubStationAlpha:
      return parse_ssa (text, options);
    case SubtitleFormat::Unknown:
      break;
  }
  ParsedSubtitles out;
  /* Name the first non-blank line; blank input is a file with no cues. */
  unsigned line = 1;
  for (char c : text) {
    if (c == '\n') {
      line++;
    } else if (c != ' ' && c != '\t') {
      out.ok = false;
      out.error = { line, "not a SubRip, WebVTT or SSA/ASS subtitle file" };
      return out;
    }
  }
  return out;
}

} // namespace ganvoice

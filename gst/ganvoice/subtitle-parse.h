/* ganvoice: SubRip, WebVTT and SSA/ASS text to timed raw cues
 * (subtitle-parse.cpp; SSA/ASS in subtitle-parse-ssa.cpp, with libass).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/diagnostic.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ganvoice {

enum class SubtitleFormat
{
  Unknown,
  SubRip,
  WebVTT,
  SubStationAlpha
};

/* How a cue's markup is written, which decides how it is cleaned. */
enum class MarkupKind
{
  Html, /* SubRip/WebVTT tags, pango markup from subparse, entities */
  Ass, /* {\override} blocks, \N line breaks, \h hard spaces */
};

GANVOICE_API const char *subtitle_format_name (SubtitleFormat format);

/* Guesses the format from the first non-blank lines of UTF-8 text. */
GANVOICE_API SubtitleFormat detect_subtitle_format (std::string_view text);

struct RawCue {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  std::string markup; /* original text with markup, lines joined by \n */
  MarkupKind kind = MarkupKind::Html;
  std::string speaker; /* ASS Name field, if any */
  std::string style; /* ASS style or the first WebVTT class */
  unsigned line = 0; /* 1-based line where the cue starts */
};

struct ParseOptions {
  /* Keep ASS lines that the sign rule marks as signs, songs or effects. */
  bool keep_signs = false;
};

struct ParsedSubtitles {
  SubtitleFormat format = SubtitleFormat::Unknown;
  std::vector<RawCue> cues; /* file order */
  std::string language; /* from the file header, if it names one */
  std::vector<Diagnostic> warnings; /* cue skipped, parsing went on */
  bool ok = true;
  Diagnostic error; /* nothing could be recovered */
};

/* Parses UTF-8 text with LF line endings. The format is detected when
 * @format is Unknown. A malformed cue is skipped with a warning naming its
 * line; a file with no recognisable structure is an error naming the line. */
GANVOICE_API ParsedSubtitles parse_subtitles (std::string_view text,
    SubtitleFormat format = SubtitleFormat::Unknown,
    const ParseOptions &options = {});

GANVOICE_API ParsedSubtitles parse_subrip (std::string_view text);
GANVOICE_API ParsedSubtitles parse_webvtt (std::string_view text);
GANVOICE_API ParsedSubtitles parse_ssa (
    std::string_view text, const ParseOptions &options = {});

/* Parses "HH:MM:SS,mmm", "MM:SS.mmm", "H:MM:SS.cc" and similar. Returns -1
 * when @text is not a timestamp. */
GANVOICE_API int64_t parse_timestamp (std::string_view text);

/* An SSA/ASS time, H:MM:SS.ff, as libass and other players read it: 1 to 3
 * fraction digits (".5", ".50", ".500" are all half a second) and ':' as
 * well as '.' before them ("0:00:04:56"). -1 when @text is not a time. */
GANVOICE_API int64_t parse_ssa_time (std::string_view text);

/* The warning for a cue whose end is not after its start: zero length, or
 * ending before it starts. */
GANVOICE_API std::string cue_time_problem (int64_t start_ns, int64_t end_ns);

} // namespace ganvoice

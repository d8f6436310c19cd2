/* ganvoice: subtitle files to spoken cues, as plain C++ (no pads).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The pipeline is: bytes --decode_subtitle_text--> UTF-8 text with LF line
 * endings --parse_subtitles--> RawCue list (timed markup, file order)
 * --make_spoken_cues--> Cue list (clean speakable text, sorted, split into
 * dialogue turns). parse_cue_document() runs all three. */
#pragma once

#include <ganvoice/ganvoice-prelude.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ganvoice {

/* A problem found in the input. line is 1-based; 0 when it has no line. */
struct Diagnostic {
  unsigned line = 0;
  std::string message;
};

/* ---- Encodings and line endings ------------------------------------- */

struct DecodedText {
  std::string text; /* UTF-8, LF line endings, no BOM, no NUL */
  std::string encoding; /* what the input was read as, e.g. "UTF-16LE" */
  std::vector<Diagnostic> warnings;
  bool ok = false;
  Diagnostic error; /* set when !ok */
};

/* Detects the encoding and converts to UTF-8. In order: a BOM (UTF-8,
 * UTF-16LE/BE, UTF-32LE/BE); UTF-16 without BOM by its NUL pattern; valid
 * UTF-8 (a few invalid bytes in otherwise UTF-8 text become U+FFFD with a
 * warning); then @legacy_encoding (any iconv name), or WINDOWS-1252 when it
 * is empty. CRLF and lone CR become LF. */
GANVOICE_API DecodedText decode_subtitle_text (
    std::string_view bytes, const std::string &legacy_encoding);

/* ---- Parsing ------------------------------------------------------------ */

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

/* ---- Text clean-up ---------------------------------------------------- */

struct TextOptions {
  /* Keep SDH annotations such as [music], (laughs) and ♪ lyrics ♪. */
  bool keep_annotations = false;
  /* Split "- Hi.\n- Hello." into one turn per dash. */
  bool split_dialogue = true;
};

struct Turn {
  std::string speaker;
  std::string text; /* speakable: no markup, single spaces */
};

/* Cleans one cue's markup into speakable turns. @speaker_hint (ASS Name)
 * goes to the first turn unless that turn names its own speaker. */
GANVOICE_API std::vector<Turn> speakable_turns (std::string_view markup,
    MarkupKind kind, std::string_view speaker_hint, const TextOptions &options);

/* ---- Spoken cues ------------------------------------------------------ */

struct Cue {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  std::string text;
  std::string speaker;
  std::string style;
  std::string language;
  std::string markup;
  unsigned index = 0;
  unsigned line = 0;
  unsigned turn = 0;
  unsigned n_turns = 1;
};

/* Cleans, splits dialogue turns (sharing the cue's time by text length),
 * drops cues with nothing to say, sorts by start time (file order breaks
 * ties), merges exact duplicates and numbers the result. Overlapping cues
 * are all kept with their own times. */
GANVOICE_API std::vector<Cue> make_spoken_cues (const std::vector<RawCue> &raw,
    const std::string &language, const TextOptions &options);

struct CueDocument {
  std::vector<Cue> cues;
  SubtitleFormat format = SubtitleFormat::Unknown;
  std::string encoding;
  std::string language;
  size_t raw_cue_count = 0;
  std::vector<Diagnostic> warnings;
  bool ok = false;
  Diagnostic error;
};

struct DocumentOptions {
  std::string legacy_encoding; /* see decode_subtitle_text() */
  std::string language; /* overrides the file's language when set */
  SubtitleFormat format = SubtitleFormat::Unknown;
  ParseOptions parse;
  TextOptions text;
};

/* decode_subtitle_text + parse_subtitles + make_spoken_cues. */
GANVOICE_API CueDocument parse_cue_document (
    std::string_view bytes, const DocumentOptions &options);

} // namespace ganvoice

/* ganvoice: raw cues to the ordered list of spoken cues, and the whole
 * bytes-to-cues document parse (cue-list.cpp).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/cue-text.h>
#include <ganvoice/subtitle-encoding.h>
#include <ganvoice/subtitle-parse.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ganvoice {

/* Shorter than this, a cue is too short to say anything in: it is spoken
 * with a warning. */
constexpr int64_t kMinSpeakableNs = 100 * INT64_C (1000000);

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
/* The "Language: xx" line of a WebVTT or SSA/ASS header, read from the raw
 * bytes (ASCII in every encoding that matters here): parse_cue_document()'s
 * hint for detecting the encoding when no language is set. Empty if none. */
GANVOICE_API std::string subtitle_header_language (std::string_view bytes);

GANVOICE_API CueDocument parse_cue_document (
    std::string_view bytes, const DocumentOptions &options);

} // namespace ganvoice

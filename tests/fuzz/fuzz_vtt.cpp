/* ganvoice fuzzing: parse_webvtt, then make_spoken_cues on what it found.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

using namespace ganvoice_fuzz;

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  std::string_view text ((const char *) data, size);
  bool valid = is_valid_utf8 (text);
  unsigned n_lines = count_lines (text);

  ParsedSubtitles parsed = parse_webvtt (text);
  FUZZ_CHECK (parsed.format == SubtitleFormat::WebVTT);
  check_raw_cues (parsed, n_lines);
  FUZZ_CHECK (parsed.language.find ('\n') == std::string::npos);
  if (parsed.ok) {
    /* Only a file whose first non-blank line starts with WEBVTT is read. */
    size_t first = text.find_first_not_of (" \t\n");
    FUZZ_CHECK (first != std::string_view::npos);
    FUZZ_CHECK (text.substr (first, 6) == "WEBVTT");
  }
  for (const RawCue &cue : parsed.cues) {
    FUZZ_CHECK (cue.kind == MarkupKind::Html);
    /* A cue's text ends at the first blank (or white space only) line, so
     * every line of it has something on it. */
    if (cue.markup.empty ())
      continue;
    std::string_view markup = cue.markup;
    size_t pos = 0;
    while (true) {
      size_t nl = markup.find ('\n', pos);
      std::string_view line = markup.substr (pos,
          nl == std::string_view::npos ? std::string_view::npos : nl - pos);
      FUZZ_CHECK (line.find_first_not_of (" \t") != std::string_view::npos);
      if (nl == std::string_view::npos)
        break;
      pos = nl + 1;
    }
  }

  TextOptions options = text_options_from ((uint8_t) size);
  std::vector<Cue> cues =
      make_spoken_cues (parsed.cues, parsed.language, options);
  check_spoken_cues (cues, valid, parsed.language);
  check_turn_times (cues, parsed.cues);
  return 0;
}

/* ganvoice fuzzing: parse_subrip, then make_spoken_cues on what it found.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

using namespace ganvoice_fuzz;

namespace {

/* What split_timing() in subtitle-parse.cpp calls a timing line: an arrow
 * with a timestamp before it. */
bool
looks_like_timing_line (std::string_view line)
{
  size_t arrow = line.find ("-->");
  return arrow != std::string_view::npos &&
      parse_timestamp (line.substr (0, arrow)) >= 0;
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  std::string_view text ((const char *) data, size);
  bool valid = is_valid_utf8 (text);
  unsigned n_lines = count_lines (text);

  ParsedSubtitles parsed = parse_subrip (text);
  FUZZ_CHECK (parsed.format == SubtitleFormat::SubRip);
  check_raw_cues (parsed, n_lines);
  for (const RawCue &cue : parsed.cues) {
    FUZZ_CHECK (cue.kind == MarkupKind::Html);
    /* A timing line always starts a new cue, so none is inside a cue. */
    std::string_view markup = cue.markup;
    size_t pos = 0;
    while (pos <= markup.size ()) {
      size_t nl = markup.find ('\n', pos);
      std::string_view line = markup.substr (pos,
          nl == std::string_view::npos ? std::string_view::npos : nl - pos);
      FUZZ_CHECK (!looks_like_timing_line (line));
      if (nl == std::string_view::npos)
        break;
      pos = nl + 1;
    }
  }

  /* The options come from the size so that the input stays a plain file. */
  TextOptions options = text_options_from ((uint8_t) size);
  std::vector<Cue> cues = make_spoken_cues (parsed.cues, "und", options);
  check_spoken_cues (cues, valid, "und");
  check_turn_times (cues, parsed.cues);
  return 0;
}

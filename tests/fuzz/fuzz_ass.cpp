/* ganvoice fuzzing: parse_ssa (libass), then make_spoken_cues.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

using namespace ganvoice_fuzz;

namespace {

void
check_ssa (const ParsedSubtitles &parsed, unsigned n_lines)
{
  FUZZ_CHECK (parsed.format == SubtitleFormat::SubStationAlpha);
  check_raw_cues (parsed, n_lines);
  FUZZ_CHECK (parsed.language.find ('\n') == std::string::npos);
  for (const RawCue &cue : parsed.cues) {
    FUZZ_CHECK (cue.kind == MarkupKind::Ass);
    /* libass counts in milliseconds; beyond ~100 days is rejected. */
    FUZZ_CHECK (cue.start_ns % 1000000 == 0 && cue.end_ns % 1000000 == 0);
    FUZZ_CHECK (cue.end_ns <= G_GINT64_CONSTANT (9000000000) * 1000000);
    FUZZ_CHECK (cue.markup.find ('\n') == std::string::npos);
  }
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  std::string_view text ((const char *) data, size);
  bool valid = is_valid_utf8 (text);
  unsigned n_lines = count_lines (text);

  ParseOptions drop_signs;
  ParsedSubtitles parsed = parse_ssa (text, drop_signs);
  check_ssa (parsed, n_lines);

  /* Keeping signs only ever adds cues. */
  ParseOptions keep_signs;
  keep_signs.keep_signs = true;
  ParsedSubtitles all = parse_ssa (text, keep_signs);
  check_ssa (all, n_lines);
  FUZZ_CHECK (all.cues.size () >= parsed.cues.size ());
  FUZZ_CHECK (all.language == parsed.language);

  TextOptions options = text_options_from ((uint8_t) size);
  std::vector<Cue> cues =
      make_spoken_cues (parsed.cues, parsed.language, options);
  check_spoken_cues (cues, valid, parsed.language);
  for (const Cue &cue : cues)
    FUZZ_CHECK (cue.start_ns <= G_GINT64_CONSTANT (9000000000) * 1000000);
  return 0;
}

/* ganvoice fuzzing: parse_cue_document with format and encoding detection,
 * checked against the three steps it is made of.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

using namespace ganvoice_fuzz;

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  std::string_view bytes ((const char *) data, size);
  /* The whole input is the file; the options come from its size. */
  DocumentOptions options;
  options.text = text_options_from ((uint8_t) size);
  options.parse.keep_signs = size & 4;
  if (size & 8)
    options.language = "fr";

  CueDocument doc = parse_cue_document (bytes, options);

  /* The same language hint as the document: the option, else the header. */
  DecodedText decoded = decode_subtitle_text (bytes, options.legacy_encoding,
      options.language.empty () ? subtitle_header_language (bytes)
                                : options.language);
  FUZZ_CHECK (doc.encoding == decoded.encoding);
  FUZZ_CHECK (decoded.ok); /* automatic decoding never fails */
  unsigned n_lines = count_lines (decoded.text);
  FUZZ_CHECK (is_valid_utf8 (decoded.text));
  FUZZ_CHECK (decoded.text.find ('\r') == std::string::npos);

  check_diagnostics (doc.warnings, n_lines);
  FUZZ_CHECK (doc.format == detect_subtitle_format (decoded.text));
  if (!doc.ok) {
    FUZZ_CHECK (doc.cues.empty ());
    FUZZ_CHECK (!doc.error.message.empty ());
    FUZZ_CHECK (doc.error.line <= n_lines + 1);
    return 0;
  }
  if (!options.language.empty ())
    FUZZ_CHECK (doc.language == options.language);
  check_spoken_cues (doc.cues, true, doc.language);
  for (const Cue &cue : doc.cues) {
    FUZZ_CHECK (cue.line >= 1 && cue.line <= n_lines);
    FUZZ_CHECK (cue.style.find ('\n') == std::string::npos);
  }

  /* The same as doing the steps by hand. */
  ParsedSubtitles parsed =
      parse_subtitles (decoded.text, SubtitleFormat::Unknown, options.parse);
  FUZZ_CHECK (parsed.ok);
  FUZZ_CHECK (doc.raw_cue_count == parsed.cues.size ());
  /* Every spoken cue has a letter or digit of its own. */
  FUZZ_CHECK (doc.cues.size () <= decoded.text.size ());
  std::vector<Cue> cues =
      make_spoken_cues (parsed.cues, doc.language, options.text);
  FUZZ_CHECK (cues.size () == doc.cues.size ());
  for (size_t i = 0; i < cues.size (); i++) {
    FUZZ_CHECK (cues[i].text == doc.cues[i].text);
    FUZZ_CHECK (cues[i].start_ns == doc.cues[i].start_ns);
    FUZZ_CHECK (cues[i].end_ns == doc.cues[i].end_ns);
  }
  return 0;
}

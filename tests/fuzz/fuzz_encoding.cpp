/* ganvoice fuzzing: decode_subtitle_text. The first byte picks the legacy
 * encoding to fall back on; the rest is the file.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

using namespace ganvoice_fuzz;

namespace {

const char *const kLegacy[] = {
  "", /* auto: WINDOWS-1252, then ISO-8859-1 */
  "WINDOWS-1252",
  "ISO-8859-15",
  "SHIFT_JIS",
  "GB18030",
  "BIG5",
  "KOI8-R",
  "EUC-KR",
  "no-such-encoding",
};

/* CRLF and lone CR to LF, NUL dropped: what the decoder promises. */
std::string
normalized (std::string_view text)
{
  std::string out;
  for (size_t i = 0; i < text.size (); i++) {
    if (text[i] == '\r') {
      out.push_back ('\n');
      if (i + 1 < text.size () && text[i + 1] == '\n')
        i++;
    } else if (text[i] != '\0') {
      out.push_back (text[i]);
    }
  }
  return out;
}

constexpr std::string_view kBom = "\xEF\xBB\xBF";

} // namespace

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  const std::string legacy = kLegacy[data[0] % G_N_ELEMENTS (kLegacy)];
  std::string_view bytes ((const char *) data + 1, size - 1);

  DecodedText decoded = decode_subtitle_text (bytes, legacy);
  FUZZ_CHECK (!decoded.encoding.empty ());
  if (!decoded.ok) {
    /* Only an explicit legacy encoding can fail: the automatic fallback,
     * ISO-8859-1, maps every byte, and so does ISO-8859-15. */
    FUZZ_CHECK (!legacy.empty () && legacy != "ISO-8859-15");
    FUZZ_CHECK (decoded.encoding == legacy);
    FUZZ_CHECK (!decoded.error.message.empty ());
    FUZZ_CHECK (decoded.error.line <= count_lines (bytes) + 1);
    return 0;
  }

  const std::string &text = decoded.text;
  FUZZ_CHECK (is_valid_utf8 (text)); /* also: no NUL */
  FUZZ_CHECK (text.find ('\r') == std::string::npos);
  check_diagnostics (decoded.warnings, count_lines (text));

  /* Valid UTF-8 comes through unchanged but for line endings and a BOM. */
  if (is_valid_utf8 (bytes)) {
    std::string_view body =
        bytes.substr (0, 3) == kBom ? bytes.substr (3) : bytes;
    FUZZ_CHECK (decoded.encoding == "UTF-8");
    FUZZ_CHECK (decoded.warnings.empty ());
    FUZZ_CHECK (text == normalized (body));
  }

  /* Decoding the result again changes nothing but one leading BOM. */
  DecodedText again = decode_subtitle_text (text, legacy);
  FUZZ_CHECK (again.ok);
  FUZZ_CHECK (again.encoding == "UTF-8");
  FUZZ_CHECK (again.warnings.empty ());
  std::string_view expected = text;
  if (expected.substr (0, 3) == kBom)
    expected.remove_prefix (3);
  FUZZ_CHECK (again.text == expected);
  return 0;
}

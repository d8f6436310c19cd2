/* ganvoice: subtitle bytes in any encoding to UTF-8 text with LF line
 * endings (subtitle-encoding.cpp).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/diagnostic.h>

#include <string>
#include <string_view>
#include <vector>

namespace ganvoice {

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
 * warning); then @legacy_encoding (any iconv name), or when it is empty the
 * encoding detect_legacy_encoding() finds with the @language hint, else
 * WINDOWS-1252. CRLF and lone CR become LF. */
GANVOICE_API DecodedText decode_subtitle_text (std::string_view bytes,
    const std::string &legacy_encoding, const std::string &language = "");

/* The legacy 8-bit or multi-byte encoding of @bytes (an iconv name such as
 * "WINDOWS-1251", "CP949", "CP932", "GB18030"), detected by uchardet, with
 * @language (ISO 639, may be empty) as a hint: a detection that is not a
 * usual encoding for the language gives way to the language's own. Empty
 * when nothing fits. */
GANVOICE_API std::string detect_legacy_encoding (
    std::string_view bytes, const std::string &language);

} // namespace ganvoice

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
 * warning); then @legacy_encoding (any iconv name), or WINDOWS-1252 when it
 * is empty. CRLF and lone CR become LF. */
GANVOICE_API DecodedText decode_subtitle_text (
    std::string_view bytes, const std::string &legacy_encoding);

} // namespace ganvoice

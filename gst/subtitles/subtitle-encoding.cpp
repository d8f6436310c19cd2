/* ganvoice: subtitle text encodings and line endings.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/subtitle-encoding.h>

#include <glib.h>

#include <cstring>

namespace ganvoice {
namespace {

constexpr const char kReplacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

void
append_utf8 (std::string &out, gunichar c)
{
  char buf[6];
  out.append (buf, g_unichar_to_utf8 (c, buf));
}

/* Appends @text with CRLF and CR turned into LF and NULs dropped, so that
 * the parsers see one kind of line ending and C strings stay whole. */
void
append_normalized (std::string &out, std::string_view text)
{
  out.reserve (out.size () + text.size ());
  for (size_t i = 0; i < text.size (); i++) {
    char c = text[i];
    if (c == '\r') {
      out.push_back ('\n');
      if (i + 1 < text.size () && text[i + 1] == '\n')
        i++;
    } else if (c != '\0') {
      out.push_back (c);
    }
  }
}

/* Decodes UTF-16 or UTF-32 by hand so that bad code units become U+FFFD
 * with a warning instead of failing the whole file. */
void
decode_utf16_32 (
    std::string_view bytes, unsigned unit, bool big_endian, DecodedText &result)
{
  std::string utf8;
  utf8.reserve (bytes.size ());
  unsigned line = 1;
  unsigned bad = 0, first_bad_line = 0;
  auto read_unit = [&] (size_t pos) -> guint32 {
    guint32 v = 0;
    for (unsigned k = 0; k < unit; k++) {
      guint32 b = (guint8) bytes[pos + k];
      v |= big_endian ? b << (8 * (unit - 1 - k)) : b << (8 * k);
    }
    return v;
  };
  auto note_bad = [&] () {
    if (bad++ == 0)
      first_bad_line = line;
    utf8 += kReplacement;
  };

  size_t n = bytes.size () / unit;
  for (size_t i = 0; i < n; i++) {
    guint32 c = read_unit (i * unit);
    if (unit == 2 && c >= 0xD800 && c <= 0xDBFF) {
      guint32 low = i + 1 < n ? read_unit ((i + 1) * unit) : 0;
      if (low >= 0xDC00 && low <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
        i++;
      } else {
        note_bad ();
        continue;
      }
    } else if ((c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) {
      note_bad ();
      continue;
    }
    if (c == '\n')
      line++;
    append_utf8 (utf8, c);
  }
  if (bytes.size () % unit != 0)
    note_bad ();
  if (bad > 0)
    result.warnings.push_back ({ first_bad_line,
        std::to_string (bad) + " invalid " + result.encoding +
            " code unit(s) replaced by U+FFFD" });
  append_normalized (result.text, utf8);
  result.ok = true;
}

/* Returns the number of invalid bytes and of valid multi-byte sequences. */
void
count_utf8 (std::string_view bytes, size_t &invalid, size_t &multibyte)
{
  invalid = multibyte = 0;
  const gchar *p = bytes.data ();
  const gchar *end = p + bytes.size ();
  while (p < end) {
    if ((guint8) *p < 0x80) {
      p++;
      continue;
    }
    gunichar c = g_utf8_get_char_validated (p, end - p);
    if (c == (gunichar) -1 || c == (gunichar) -2) {
      invalid++;
      p++;
    } else {
      multibyte++;
      p = g_utf8_next_char (p);
    }
  }
}

/* UTF-8 with each invalid byte replaced by U+FFFD. */
void
decode_lenient_utf8 (std::string_view bytes, DecodedText &result)
{
  std::string utf8;
  utf8.reserve (bytes.size ());
  const gchar *p = bytes.data ();
  const gchar *end = p + bytes.size ();
  unsigned line = 1, first_bad_line = 0, bad = 0;
  while (p < end) {
    if ((guint8) *p < 0x80) {
      if (*p == '\n')
        line++;
      utf8.push_back (*p++);
      continue;
    }
    gunichar c = g_utf8_get_char_validated (p, end - p);
    if (c == (gunichar) -1 || c == (gunichar) -2) {
      if (bad++ == 0)
        first_bad_line = line;
      utf8 += kReplacement;
      p++;
    } else {
      const gchar *next = g_utf8_next_char (p);
      utf8.append (p, next - p);
      p = next;
    }
  }
  if (bad > 0)
    result.warnings.push_back ({ first_bad_line,
        std::to_string (bad) +
            " byte(s) that are not UTF-8 replaced by U+FFFD; set the encoding "
            "property if the file is in a legacy encoding" });
  append_normalized (result.text, utf8);
  result.ok = true;
}

bool
looks_like_utf16 (std::string_view bytes, bool &big_endian)
{
  size_t n = std::min<size_t> (bytes.size (), 4096) & ~(size_t) 1;
  if (n < 4)
    return false;
  size_t even_nul = 0, odd_nul = 0;
  for (size_t i = 0; i < n; i += 2) {
    even_nul += bytes[i] == '\0';
    odd_nul += bytes[i + 1] == '\0';
  }
  size_t pairs = n / 2;
  /* ASCII-heavy text puts NUL in every other byte. */
  if (odd_nul * 10 > pairs * 7 && even_nul * 10 < pairs) {
    big_endian = false;
    return true;
  }
  if (even_nul * 10 > pairs * 7 && odd_nul * 10 < pairs) {
    big_endian = true;
    return true;
  }
  return false;
}

unsigned
line_of_offset (std::string_view bytes, size_t offset)
{
  unsigned line = 1;
  for (size_t i = 0; i < offset && i < bytes.size (); i++)
    line += bytes[i] == '\n';
  return line;
}

} // namespace

DecodedText
decode_subtitle_text (
    std::string_view bytes, const std::string &legacy_encoding)
{
  DecodedText result;
  auto starts_with = [&] (const char *bom, size_t len) {
    return bytes.size () >= len && memcmp (bytes.data (), bom, len) == 0;
  };

  if (starts_with ("\xFF\xFE\x00\x00", 4)) {
    result.encoding = "UTF-32LE";
    decode_utf16_32 (bytes.substr (4), 4, false, result);
    return result;
  }
  if (starts_with ("\x00\x00\xFE\xFF", 4)) {
    result.encoding = "UTF-32BE";
    decode_utf16_32 (bytes.substr (4), 4, true, result);
    return result;
  }
  if (starts_with ("\xFF\xFE", 2) || starts_with ("\xFE\xFF", 2)) {
    bool big = bytes[0] == '\xFE';
    result.encoding = big ? "UTF-16BE" : "UTF-16LE";
    decode_utf16_32 (bytes.substr (2), 2, big, result);
    return result;
  }
  /* A UTF-8 BOM is dropped, but the bytes still decide: some tools put one
   * in front of legacy 8-bit text. */
  if (starts_with ("\xEF\xBB\xBF", 3))
    bytes = bytes.substr (3);
  bool big_endian = false;
  if (looks_like_utf16 (bytes, big_endian)) {
    result.encoding = big_endian ? "UTF-16BE" : "UTF-16LE";
    decode_utf16_32 (bytes, 2, big_endian, result);
    return result;
  }

  size_t invalid = 0, multibyte = 0;
  count_utf8 (bytes, invalid, multibyte);
  /* Valid UTF-8, or UTF-8 with a few stray bytes: a legacy 8-bit file with
   * accents would have almost no valid multi-byte sequences. */
  if (invalid == 0 || (legacy_encoding.empty () && multibyte > invalid * 4)) {
    result.encoding = "UTF-8";
    decode_lenient_utf8 (bytes, result);
    return result;
  }

  result.encoding = legacy_encoding.empty () ? "WINDOWS-1252" : legacy_encoding;
  gsize read = 0, written = 0;
  GError *err = nullptr;
  gchar *utf8 = g_convert_with_fallback (bytes.data (), bytes.size (), "UTF-8",
      result.encoding.c_str (), kReplacement, &read, &written, &err);
  if (utf8 == nullptr && legacy_encoding.empty ()) {
    /* WINDOWS-1252 leaves five bytes undefined; ISO-8859-1 maps them all. */
    g_clear_error (&err);
    result.encoding = "ISO-8859-1";
    utf8 = g_convert (bytes.data (), bytes.size (), "UTF-8",
        result.encoding.c_str (), &read, &written, &err);
  }
  if (utf8 == nullptr) {
    result.ok = false;
    result.error.line = err && err->code == G_CONVERT_ERROR_NO_CONVERSION
        ? 0
        : line_of_offset (bytes, read);
    result.error.message = "cannot read the file as " + result.encoding + ": " +
        (err ? err->message : "conversion failed");
    g_clear_error (&err);
    return result;
  }
  if (legacy_encoding.empty ())
    result.warnings.push_back ({ 0,
        "the file is not UTF-8; read it as " + result.encoding +
            " (set the encoding property to choose another)" });
  append_normalized (result.text, std::string_view (utf8, written));
  g_free (utf8);
  result.ok = true;
  return result;
}

} // namespace ganvoice

/* ganvoice: subtitle text encodings and line endings.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/subtitle-encoding.h>

#include "subtitle-lines.h"

#include <glib.h>
#include <uchardet.h>

#include <algorithm>
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

/* The legacy encodings in use for a language, most common first. */
const std::vector<std::string> &
encodings_of_language (const std::string &language)
{
  static const std::vector<std::string> kNone;
  static const struct {
    const char *languages;
    std::vector<std::string> encodings;
  } kTable[] = {
    { " ru be bg mk uk ",
        { "WINDOWS-1251", "KOI8-R", "KOI8-U", "ISO-8859-5" } },
    { " pl cs sk hu sl hr bs ro sr sq ", { "WINDOWS-1250", "ISO-8859-2" } },
    { " el ", { "WINDOWS-1253", "ISO-8859-7" } },
    { " tr az ", { "WINDOWS-1254", "ISO-8859-9" } },
    { " he yi ", { "WINDOWS-1255", "ISO-8859-8" } },
    { " ar fa ur ", { "WINDOWS-1256", "ISO-8859-6" } },
    { " lt lv et ", { "WINDOWS-1257", "ISO-8859-13" } },
    { " vi ", { "WINDOWS-1258" } },
    { " th ", { "CP874" } },
    { " ko ", { "CP949" } },
    { " ja ", { "CP932", "EUC-JP" } },
    { " zh ", { "GB18030", "BIG5" } },
    { " en fr de es it pt nl sv da no nb nn fi is ca eu gl ga af ms id sw ",
        { "WINDOWS-1252", "ISO-8859-15" } },
  };
  /* "pt-BR", "sr_Latn", "zho": the first two letters of the tag. */
  std::string code;
  for (char c : language) {
    if (!g_ascii_isalpha (c) || code.size () == 2)
      break;
    code.push_back (g_ascii_tolower (c));
  }
  if (code.size () != 2)
    return kNone;
  std::string key = " " + code + " ";
  for (const auto &row : kTable)
    if (strstr (row.languages, key.c_str ()))
      return row.encodings;
  return kNone;
}

/* uchardet's names to the iconv names of the supersets that files labelled
 * so really use (Korean files are CP949, Japanese ones CP932). */
std::string
iconv_name (std::string name)
{
  for (char &c : name)
    c = g_ascii_toupper (c);
  if (name == "EUC-KR" || name == "UHC" || name == "CP949")
    return "CP949";
  if (name == "SHIFT_JIS" || name == "SJIS" || name == "CP932")
    return "CP932";
  if (name == "GB2312" || name == "GBK" || name == "GB18030" ||
      name == "HZ-GB-2312")
    return "GB18030";
  /* Western text: short files fool detectors into rarer Latin sets. */
  if (name == "ISO-8859-1" || name == "ISO-8859-3" || name == "ISO-8859-4" ||
      name == "ISO-8859-10" || name == "ISO-8859-13" || name == "ISO-8859-15" ||
      name == "ISO-8859-16" || starts_with (name, "MAC-") ||
      name == "WINDOWS-1252")
    return "WINDOWS-1252";
  /* The Windows code pages are the supersets in use. */
  if (name == "ISO-8859-7")
    return "WINDOWS-1253";
  if (name == "ISO-8859-8")
    return "WINDOWS-1255";
  if (name == "ISO-8859-9")
    return "WINDOWS-1254";
  return name;
}

bool
decodes_cleanly (std::string_view bytes, const std::string &encoding)
{
  gsize read = 0, written = 0;
  gchar *utf8 = g_convert (bytes.data (), bytes.size (), "UTF-8",
      encoding.c_str (), &read, &written, nullptr);
  g_free (utf8);
  return utf8 != nullptr;
}

} // namespace

std::string
detect_legacy_encoding (std::string_view bytes, const std::string &language)
{
  std::string detected;
  uchardet_t detector = uchardet_new ();
  if (detector) {
    if (uchardet_handle_data (detector, bytes.data (), bytes.size ()) == 0) {
      uchardet_data_end (detector);
      const char *charset = uchardet_get_charset (detector);
      if (charset && *charset && g_ascii_strcasecmp (charset, "ASCII") != 0 &&
          g_ascii_strncasecmp (charset, "UTF-", 4) != 0)
        detected = iconv_name (charset);
    }
    uchardet_delete (detector);
  }
  /* The language, when known, says which encodings are plausible: a
   * detection outside them (short files fool detectors) gives way to the
   * language's own first one that reads the file. */
  const std::vector<std::string> &plausible = encodings_of_language (language);
  if (!plausible.empty () &&
      std::find (plausible.begin (), plausible.end (), detected) ==
          plausible.end ()) {
    for (const std::string &encoding : plausible)
      if (decodes_cleanly (bytes, encoding))
        return encoding;
  }
  if (!detected.empty () && decodes_cleanly (bytes, detected))
    return detected;
  return "";
}

DecodedText
decode_subtitle_text (std::string_view bytes,
    const std::string &legacy_encoding, const std::string &language)
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

  std::string detected;
  if (legacy_encoding.empty ())
    detected = detect_legacy_encoding (bytes, language);
  result.encoding = !legacy_encoding.empty () ? legacy_encoding
      : !detected.empty ()                    ? detected
                                              : "WINDOWS-1252";
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
            (detected.empty () ? " (no encoding could be detected;"
                               : " (detected;") +
            " set the encoding property to choose another)" });
  append_normalized (result.text, std::string_view (utf8, written));
  g_free (utf8);
  result.ok = true;
  return result;
}

} // namespace ganvoice

/* ganvoice: line splitting helpers shared by the subtitle parsers (private).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/subtitle-parse.h>

#include <glib.h>

#include <cstddef>
#include <string_view>
#include <vector>

namespace ganvoice {

/* Timestamps past this are broken input (and would overflow in ns). */
constexpr int64_t kMaxTimestampSeconds = 9000000;

struct Line {
  std::string_view text;
  unsigned number; /* 1-based */
};
using Lines = std::vector<Line>;

/* Splits LF-separated text; stops after @max_lines lines. */
inline Lines
split_lines (std::string_view text, size_t max_lines = (size_t) -1)
{
  Lines lines;
  size_t pos = 0;
  unsigned number = 1;
  while (pos <= text.size () && lines.size () < max_lines) {
    size_t nl = text.find ('\n', pos);
    if (nl == std::string_view::npos) {
      if (pos < text.size ())
        lines.push_back ({ text.substr (pos), number });
      break;
    }
    lines.push_back ({ text.substr (pos, nl - pos), number++ });
    pos = nl + 1;
  }
  return lines;
}

inline std::string_view
trim (std::string_view s)
{
  size_t b = 0, e = s.size ();
  while (b < e && (s[b] == ' ' || s[b] == '\t'))
    b++;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
    e--;
  return s.substr (b, e - b);
}

inline bool
starts_with (std::string_view s, std::string_view prefix)
{
  return s.substr (0, prefix.size ()) == prefix;
}

inline bool
starts_with_nocase (std::string_view s, std::string_view prefix)
{
  if (s.size () < prefix.size ())
    return false;
  for (size_t i = 0; i < prefix.size (); i++)
    if (g_ascii_tolower (s[i]) != g_ascii_tolower (prefix[i]))
      return false;
  return true;
}

/* A file whose every cue was malformed has nothing to recover. */
inline void
fail_if_nothing_recovered (ParsedSubtitles &out)
{
  if (out.cues.empty () && !out.warnings.empty ()) {
    out.ok = false;
    out.error = out.warnings.front ();
    out.error.message =
        "no valid cue in the file; first problem: " + out.error.message;
  }
}

} // namespace ganvoice

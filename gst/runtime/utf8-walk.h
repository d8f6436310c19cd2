/* ganvoice: walking UTF-8 text one character at a time (private).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include <string_view>

namespace ganvoice {

constexpr gunichar kInvalidChar = (gunichar) -1;

/* Calls @visit (c, bytes) for each character of @text, where @bytes are its
 * UTF-8 bytes. A run of bytes that is not valid UTF-8 (up to the next byte
 * that can start a character) comes as one kInvalidChar. @visit returns
 * false to stop the walk. */
template <typename Visit>
inline void
walk_utf8 (std::string_view text, Visit visit)
{
  const gchar *p = text.data ();
  const gchar *end = p + text.size ();
  while (p < end) {
    const gchar *next = g_utf8_find_next_char (p, end);
    if (!next)
      next = end;
    gunichar c = g_utf8_get_char_validated (p, next - p);
    /* Stray continuation bytes after a character make the chunk invalid. */
    if (c == (gunichar) -2 || g_utf8_next_char (p) != next)
      c = kInvalidChar;
    if (!visit (c, std::string_view (p, next - p)))
      return;
    p = next;
  }
}

} // namespace ganvoice

/* ganvoice: reading a whole file, for the JSON documents and checksums
 * (private).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include <string>

namespace ganvoice {

/* The whole of @path into @contents; false with @error set to the reason
 * when it cannot be read. */
inline bool
read_file (const std::string &path, std::string &contents, std::string &error)
{
  gchar *data = nullptr;
  gsize size = 0;
  GError *err = nullptr;
  if (!g_file_get_contents (path.c_str (), &data, &size, &err)) {
    error = err ? err->message : "unreadable";
    g_clear_error (&err);
    return false;
  }
  contents.assign (data, size);
  g_free (data);
  return true;
}

} // namespace ganvoice

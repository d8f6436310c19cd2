/* ganvoice-dub: warnings, errors and JSON lines.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "report.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace dub {

std::string
json_string (const char *s)
{
  std::string out = "\"";
  for (; s && *s; s++) {
    unsigned char c = (unsigned char) *s;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += (char) c;
    } else if (c < 0x20) {
      char buf[8];
      g_snprintf (buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += (char) c;
    }
  }
  return out + "\"";
}

std::string
json_number (double v)
{
  if (!std::isfinite (v))
    return "null";
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (buf, sizeof buf, "%.3f", v);
  return buf;
}

void
json_line (const std::string &body)
{
  fputs (("{" + body + "}\n").c_str (), stdout);
  fflush (stdout);
}

void
clear_progress (App *app)
{
  if (app->progress_shown) {
    fputs ("\r\033[K", stderr);
    app->progress_shown = false;
  }
}

namespace {

/* A warning or an error: on stderr, and as a JSON line with --json. */
void
report (App *app, const char *kind, const char *format, va_list args)
{
  gchar *msg = g_strdup_vprintf (format, args);
  clear_progress (app);
  fprintf (stderr, "ganvoice-dub: %s: %s\n", kind, msg);
  if (app->opt.json)
    json_line (std::string ("\"type\": \"") + kind +
        "\", \"message\": " + json_string (msg));
  g_free (msg);
}

} // namespace

void G_GNUC_PRINTF (2, 3) warn (App *app, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  report (app, "warning", format, args);
  va_end (args);
}

void G_GNUC_PRINTF (2, 3) fail (App *app, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  report (app, "error", format, args);
  va_end (args);
  if (app->exit_code == 0)
    app->exit_code = 1;
}

std::string
cue_time (gint64 ns)
{
  guint64 ms = ns > 0 ? (guint64) ns / 1000000 : 0;
  gchar *s = g_strdup_printf ("%u:%02u:%02u.%03u", (guint) (ms / 3600000),
      (guint) (ms / 60000 % 60), (guint) (ms / 1000 % 60), (guint) (ms % 1000));
  std::string out = s;
  g_free (s);
  return out;
}

} // namespace dub

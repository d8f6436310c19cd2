/* ganvoice-dub: what it tells the user: warnings and errors on
 * stderr, and JSON lines on stdout with --json.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "app.h"

#include <glib.h>

#include <string>

namespace dub {

/* @s as a JSON string, quoted. */
std::string json_string (const char *s);
/* @v with 3 decimals, or null. */
std::string json_number (double v);
/* {@body} as a line on stdout. */
void json_line (const std::string &body);
/* Clears the progress bar from stderr's last line. */
void clear_progress (App *app);
/* A warning: on stderr, and as a JSON line with --json. */
void G_GNUC_PRINTF (2, 3) warn (App *app, const char *format, ...);
/* An error, likewise; the exit code becomes 1 unless one is set. */
void G_GNUC_PRINTF (2, 3) fail (App *app, const char *format, ...);
/* H:MM:SS.mmm */
std::string cue_time (gint64 ns);

} // namespace dub

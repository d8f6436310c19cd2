/* ganvoice-dub: the output file: its container, from its name, and
 * the temporary OUTPUT.partXXXXXX beside it that becomes OUTPUT at the end
 * or is removed.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "app.h"

namespace dub {

/* The container from OUTPUT's name; fails on a name it does not know, and
 * on --embed-subtitles for anything but Matroska. */
bool choose_container (App *app);
/* Makes app->temp: OUTPUT.partXXXXXX beside OUTPUT. */
bool make_temp (App *app);
/* Removes app->temp, if any: nothing half-written is kept. */
void remove_temp (App *app);

/* GStreamer 1.22's matroskamux stores string tags as gst_value_serialize ()
 * writes them ("\"Dub\\ test\"" for Dub test), which other players show
 * as is. Rewrites the TagString of @value in app->temp (written, not yet
 * renamed) as the plain text, in the same bytes: a shorter TagString and an
 * EBML Void after it. Nothing to do for MP4 or text that needs no quotes;
 * returns false (and leaves the file) when the tag is not found. */
bool unquote_matroska_tag (App *app, const std::string &value);

/* An extra track (--mode add-track) in Matroska or WebM: makes the dub the
 * default audio track. matroskamux writes no FlagDefault (every track is
 * then a default one), so each other audio track gets FlagDefault 0 in
 * app->temp, in the same bytes (the 8-byte size of its Audio element
 * written in 1, with an EBML Void over the rest). The dub's track is the
 * one named app->opt.title. Nothing to do for MP4. */
bool mark_dub_default (App *app);

} // namespace dub

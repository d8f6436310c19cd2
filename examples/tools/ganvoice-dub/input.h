/* ganvoice-dub: checks before the pipeline: the input probed, the
 * subtitles read, their language, and cues past the video's end.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "app.h"

#include <ganvoice/subtitles.h>

#include <gst/pbutils/pbutils.h>

#include <string>
#include <vector>

namespace dub {

/* Probes INPUT (GstDiscoverer): its streams and app->duration. */
GstDiscovererInfo *probe_input (App *app);
/* A language from a name like film.es.srt. */
std::string language_from_name (const std::string &path);
/* Reads SUBTITLES: the cues as written (@raw) and as spoken (@spoken). */
bool read_subtitles (App *app, std::vector<ganvoice::RawCue> *raw,
    std::vector<ganvoice::Cue> *spoken);
/* Warns about cues that run past the end of the video (they are cut). */
void check_cue_times (App *app, const std::vector<ganvoice::Cue> &cues);

} // namespace dub

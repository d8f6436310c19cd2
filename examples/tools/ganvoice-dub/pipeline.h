/* ganvoice-dub: the GStreamer graph: filesrc ! parsebin into one
 * multiqueue; the video copied into the muxer; the first audio track
 * decoded into dubbin (and kept beside it with --mode add-track); the dub
 * encoded and tagged; the subtitles as a track; the muxer into the
 * temporary file.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "app.h"

#include <ganvoice/subtitles.h>

#include <gst/pbutils/pbutils.h>

#include <string>
#include <vector>

namespace dub {

/* Builds app->pipeline for the probed input (@info), with @voice and
 * @speaker_map for dubbin and @raw_cues for --embed-subtitles. */
bool build_pipeline (App *app, GstDiscovererInfo *info,
    const std::vector<ganvoice::RawCue> &raw_cues, const std::string &voice,
    const std::string &speaker_map);

/* --chunk from a programme file: the file (from START) into dubbin into
 * a fakesink (start_chunk hangs the probes). */
bool build_programme_chunk_pipeline (
    App *app, const std::string &voice, const std::string &speaker_map);

} // namespace dub

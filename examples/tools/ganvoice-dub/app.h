/* ganvoice-dub: the state of one run (App), shared by its parts.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "options.h"

#include <ganvoice/pipeline-watchdog.h>

#include <glib/gstdio.h>
#include <gst/gst.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace dub {

enum class Container
{
  Mp4,
  Matroska,
  WebM
};

/* Files removed when the App goes (profiles made from reference audio). */
struct TempFiles {
  std::vector<std::string> paths;
  ~TempFiles ()
  {
    for (const std::string &p : paths)
      g_unlink (p.c_str ());
  }
};

struct ChunkRender; /* chunks.cpp: --chunk */
struct Assembly; /* chunks.cpp: --assemble */
struct ProgrammeRender; /* chunks.cpp: --programme */
struct ProgrammeInput; /* chunks.cpp: --chunk from a programme file */

struct App {
  Options opt;
  std::shared_ptr<ChunkRender> chunk;
  std::shared_ptr<Assembly> assembly;
  std::shared_ptr<ProgrammeRender> programme;
  std::shared_ptr<ProgrammeInput> programme_input;
  TempFiles temp_profiles;
  Container container = Container::Matroska;
  GMainLoop *loop = nullptr;
  GstElement *pipeline = nullptr;
  std::unique_ptr<ganvoice::PipelineWatchdog> watchdog;
  GstElement *mux = nullptr;
  GstElement *dub = nullptr;
  /* One multiqueue between the demuxer and every branch: a branch that
   * waits (the muxer for a video stream that ended before the audio) lets
   * the others grow instead of blocking the demuxer. */
  GstElement *demux_queue = nullptr;
  GstPad *video_sink = nullptr; /* where parsebin's video goes */
  GstPad *audio_sink = nullptr; /* where parsebin's audio goes */
  std::string temp;
  std::vector<std::string> temps; /* more of them (--programme's files) */
  int exit_code = 0;
  bool finished = false;
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  std::atomic<guint64> position{ 0 };
  /* End of the programme's last buffer or GAP (buffer time) and its
   * segment: the probe on dubbin's sink pad, in the streaming thread. */
  std::atomic<guint64> programme_end{ 0 };
  GstSegment programme_segment;
  std::atomic<guint64> programme_padded_from{ GST_CLOCK_TIME_NONE };
  gint64 started_us = 0;
  guint cues_spoken = 0;
  guint cues_total = 0;
  bool progress_shown = false; /* a bar is on stderr's last line */
  bool stderr_tty = false;
  GMutex lock; /* guards the two flags below */
  bool video_linked = false;
  bool audio_linked = false;
};

} // namespace dub

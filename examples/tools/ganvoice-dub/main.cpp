/* ganvoice-dub: dubs a video from its subtitles.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   ganvoice-dub INPUT SUBTITLES -o OUTPUT [--voice NAME|PROFILE|AUDIO]
 *       [--voice SPEAKER=VOICE ...] [--lang L] [--mode duck|replace|add-track]
 *       [--embed-subtitles] [--json] ...
 *
 * The input is probed with GstDiscoverer, then one pipeline copies the video
 * (demuxed and parsed, never decoded), decodes the first audio track into
 * dubbin (subcues ! ganvoice ! duckmix), encodes the dub (AAC for .mp4, Opus
 * for .mkv and .webm) and muxes everything into OUTPUT.partXXXXXX beside
 * OUTPUT, which is renamed to OUTPUT at the end. See docs/dubbing.md.
 *
 * The parts, in the order main () uses them: options (the command line),
 * output (the container and the temporary file), input (the probe and the
 * subtitles), voices (--voice, cloning), pipeline (the graph, with the
 * programme's probes in programme), progress (the bus, the progress bar,
 * the watchdog and the signals). app.h holds the state they share, and
 * report writes the messages (warnings, errors, JSON lines).
 */
#include "app.h"
#include "chunks.h"
#include "input.h"
#include "options.h"
#include "output.h"
#include "pipeline.h"
#include "progress.h"
#include "report.h"
#include "voices.h"

#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>

#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

using namespace dub;

namespace {

App *app_for_signals = nullptr;

} // namespace

int
main (int argc, char **argv)
{
  App app;
  g_mutex_init (&app.lock);
  gst_segment_init (&app.programme_segment, GST_FORMAT_UNDEFINED);
  gst_init (&argc, &argv);
  if (!parse_args (&app.opt, argc, argv))
    return 2;
  app.stderr_tty = isatty (STDERR_FILENO);
  app.started_us = g_get_monotonic_time ();

  std::vector<ganvoice::RawCue> raw;
  std::vector<ganvoice::Cue> spoken;
  std::string voice, speaker_map;
  const Task task = app.opt.task;
  if ((task == Task::Dub || task == Task::Assemble) && !choose_container (&app))
    return app.exit_code;
  /* --chunk from a programme file (--programme) reads that file alone;
   * anything else is probed. */
  const int programme_input =
      task == Task::Chunk ? open_programme_input (&app) : 0;
  if (programme_input < 0)
    return app.exit_code;
  GstDiscovererInfo *info = programme_input ? NULL : probe_input (&app);
  if (!info && !programme_input)
    return app.exit_code;
  if (app.opt.language.empty ())
    app.opt.language = language_from_name (app.opt.subtitles);
  if (app.opt.provenance.empty ())
    app.opt.provenance = provenance_note (app.opt);
  /* --plan and --programme need the cues alone; --assemble no voices
   * (the chunks were spoken), but the chunk files. */
  if (!read_subtitles (&app, &raw, &spoken) ||
      (task == Task::Plan && !print_plan (&app, spoken)) ||
      ((task == Task::Dub || task == Task::Chunk) &&
          !resolve_voices (&app, &voice, &speaker_map)) ||
      (task == Task::Assemble && !open_chunks (&app))) {
    if (info)
      gst_discoverer_info_unref (info);
    return app.exit_code;
  }
  if (task == Task::Plan) {
    gst_discoverer_info_unref (info);
    return 0;
  }
  app.cues_total = spoken.size ();
  if (task == Task::Assemble)
    app.cues_spoken = app.cues_total; /* in the chunks */
  if (app.opt.title.empty ())
    app.opt.title = app.opt.language.empty ()
        ? "Dub (ganvoice)"
        : "Dub (" + app.opt.language + ", ganvoice)";
  /* A programme file that is not the last ends where the next chunk's
   * cues begin. */
  if (!programme_input || programme_input_is_last (&app))
    check_cue_times (&app, spoken);
  if (info) {
    GList *audios = gst_discoverer_info_get_audio_streams (info);
    if (!audios)
      warn (&app, "%s: has no audio track; the dub is the only sound",
          app.opt.input.c_str ());
    if (!audios && app.opt.mode == Mode::AddTrack)
      app.opt.mode = Mode::Duck;
    gst_discoverer_stream_info_list_free (audios);
  }

  if (task != Task::Programme && !make_temp (&app)) {
    if (info)
      gst_discoverer_info_unref (info);
    return app.exit_code;
  }
  app_for_signals = &app;
  guint sigint = g_unix_signal_add (SIGINT, on_signal, &app);
  guint sigterm = g_unix_signal_add (SIGTERM, on_sigterm, &app);

  bool built =
      (programme_input
              ? build_programme_chunk_pipeline (&app, voice, speaker_map)
              : build_pipeline (&app, info, raw, voice, speaker_map)) &&
      (task != Task::Chunk || start_chunk (&app)) &&
      (!programme_input || start_programme_chunk (&app)) &&
      (task != Task::Programme || start_programme (&app, spoken));
  if (info)
    gst_discoverer_info_unref (info);
  if (built) {
    app.loop = g_main_loop_new (NULL, FALSE);
    GstBus *bus = gst_element_get_bus (app.pipeline);
    guint watch = gst_bus_add_watch (bus, on_bus, &app);
    gst_object_unref (bus);
    if (app.opt.stall_timeout > 0)
      app.watchdog =
          std::make_unique<ganvoice::PipelineWatchdog> (app.pipeline);
    guint timer = g_timeout_add (500, on_progress, &app);
    if (app.opt.json)
      json_line ("\"type\": \"start\", \"input\": " +
          json_string (app.opt.input.c_str ()) + ", \"output\": " +
          json_string (app.opt.output.c_str ()) + ", \"duration\": " +
          json_number (app.duration / (double) GST_SECOND) +
          ", \"cues\": " + std::to_string (app.cues_total));
    if (gst_element_set_state (app.pipeline, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE) {
      /* The bus has the reason; let it be read. */
      g_timeout_add (
          100,
          [] (gpointer data) -> gboolean {
            App *a = (App *) data;
            if (!a->finished) {
              fail (a, "the pipeline could not start");
              stop_pipeline (a);
              remove_temp (a);
              finish (a);
            }
            return G_SOURCE_REMOVE;
          },
          &app);
    }
    if (!app.finished)
      g_main_loop_run (app.loop);
    g_source_remove (watch);
    g_source_remove (timer);
    g_main_loop_unref (app.loop);
  }
  stop_pipeline (&app);
  app.watchdog.reset ();
  if (app.pipeline)
    gst_object_unref (app.pipeline);
  remove_temp (&app);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_mutex_clear (&app.lock);
  return app.exit_code;
}

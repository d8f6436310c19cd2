/* ganvoice-dub: the run: bus, progress, watchdog and signals.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "progress.h"

#include "chunks.h"
#include "output.h"
#include "report.h"

#include <glib/gstdio.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <string>

namespace dub {

void
stop_pipeline (App *app)
{
  if (app->pipeline)
    gst_element_set_state (app->pipeline, GST_STATE_NULL);
}

void
finish (App *app)
{
  app->finished = true;
  if (app->loop)
    g_main_loop_quit (app->loop);
}

namespace {

/* What an interrupted or stopped run leaves out. */
std::string
not_written (App *app)
{
  if (app->opt.task == Task::Programme)
    return "no programme file was written to " + app->opt.programme_dir;
  return app->opt.output + " was not written";
}

} // namespace

/* The signal sources stay until main () removes them. */
gboolean
on_signal (gpointer user_data)
{
  App *app = (App *) user_data;
  if (app->finished)
    return G_SOURCE_CONTINUE;
  /* Abort: no EOS, nothing half-written is kept. */
  stop_pipeline (app);
  remove_temp (app);
  clear_progress (app);
  fprintf (
      stderr, "ganvoice-dub: interrupted; %s\n", not_written (app).c_str ());
  if (app->opt.json)
    json_line ("\"type\": \"error\", \"message\": \"interrupted\"");
  app->exit_code = 130;
  finish (app);
  return G_SOURCE_CONTINUE;
}

gboolean
on_sigterm (gpointer user_data)
{
  App *app = (App *) user_data;
  if (!app->finished) {
    on_signal (app);
    app->exit_code = 143;
  }
  return G_SOURCE_CONTINUE;
}

namespace {

std::string
format_time (double s)
{
  if (!std::isfinite (s) || s < 0)
    return "--:--";
  guint t = (guint) (s + 0.5);
  gchar *str = t >= 3600
      ? g_strdup_printf ("%u:%02u:%02u", t / 3600, t / 60 % 60, t % 60)
      : g_strdup_printf ("%02u:%02u", t / 60, t % 60);
  std::string out = str;
  g_free (str);
  return out;
}

} // namespace

gboolean
on_progress (gpointer user_data)
{
  App *app = (App *) user_data;
  if (app->finished)
    return G_SOURCE_CONTINUE; /* removed by main () */
  if (app->watchdog &&
      app->watchdog->idle_seconds () >= app->opt.stall_timeout) {
    /* Never a silent wait: stop with where it stalled, keep nothing. */
    std::string where = app->watchdog->describe ();
    stop_pipeline (app);
    fail (app, "the dub made no progress for %.0f s and was stopped (%s); %s",
        app->opt.stall_timeout, where.c_str (), not_written (app).c_str ());
    remove_temp (app);
    finish (app);
    return G_SOURCE_CONTINUE;
  }
  double pos = app->position.load () / (double) GST_SECOND;
  double dur = GST_CLOCK_TIME_IS_VALID (app->duration)
      ? app->duration / (double) GST_SECOND
      : NAN;
  double elapsed = (g_get_monotonic_time () - app->started_us) / 1e6;
  double fraction = dur > 0 ? CLAMP (pos / dur, 0.0, 1.0) : NAN;
  double eta = fraction > 0.001 ? elapsed * (1.0 - fraction) / fraction : NAN;

  if (app->opt.json) {
    json_line ("\"type\": \"progress\", \"position\": " + json_number (pos) +
        ", \"duration\": " + json_number (dur) + ", \"percent\": " +
        json_number (fraction * 100.0) + ", \"eta\": " + json_number (eta) +
        ", \"elapsed\": " + json_number (elapsed));
  }
  if (app->stderr_tty && !app->opt.quiet) {
    const int width = 30;
    int filled = std::isfinite (fraction) ? (int) (fraction * width) : 0;
    std::string bar (filled, '#');
    bar += std::string (width - filled, '-');
    fprintf (stderr, "\r\033[K[%s] %5.1f%%  %s / %s  cue %u/%u  ETA %s",
        bar.c_str (), std::isfinite (fraction) ? fraction * 100.0 : 0.0,
        format_time (pos).c_str (), format_time (dur).c_str (),
        app->cues_spoken, app->cues_total, format_time (eta).c_str ());
    fflush (stderr);
    app->progress_shown = true;
  }
  return G_SOURCE_CONTINUE;
}

GstPadProbeReturn
on_dub_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  App *app = (App *) user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  if (GST_BUFFER_PTS_IS_VALID (buf)) {
    guint64 end = GST_BUFFER_PTS (buf) +
        (GST_BUFFER_DURATION_IS_VALID (buf) ? GST_BUFFER_DURATION (buf) : 0);
    guint64 old = app->position.load ();
    while (end > old && !app->position.compare_exchange_weak (old, end)) {
    }
  }
  return GST_PAD_PROBE_OK;
}

namespace {

/* A ganvoice-cue report as JSON; times (ns) become seconds. */
std::string
cue_report_json (const GstStructure *s)
{
  std::string body = "\"type\": \"cue\"";
  for (int i = 0; i < gst_structure_n_fields (s); i++) {
    const char *name = gst_structure_nth_field_name (s, i);
    const GValue *v = gst_structure_get_value (s, name);
    std::string value;
    bool is_time = g_str_equal (name, "start") || g_str_equal (name, "end") ||
        g_str_equal (name, "natural-duration") ||
        g_str_equal (name, "overflow") || g_str_has_suffix (name, "-start") ||
        g_str_has_suffix (name, "-end") || g_str_has_suffix (name, "-time");
    if (G_VALUE_HOLDS_UINT64 (v)) {
      guint64 x = g_value_get_uint64 (v);
      value = is_time ? (x == GST_CLOCK_TIME_NONE || x >= G_MAXINT64
                                ? "null"
                                : json_number (x / (double) GST_SECOND))
                      : std::to_string (x);
    } else if (G_VALUE_HOLDS_INT64 (v)) {
      gint64 x = g_value_get_int64 (v);
      value =
          is_time ? json_number (x / (double) GST_SECOND) : std::to_string (x);
    } else if (G_VALUE_HOLDS_UINT (v)) {
      value = std::to_string (g_value_get_uint (v));
    } else if (G_VALUE_HOLDS_INT (v)) {
      value = std::to_string (g_value_get_int (v));
    } else if (G_VALUE_HOLDS_DOUBLE (v)) {
      value = json_number (g_value_get_double (v));
    } else if (G_VALUE_HOLDS_FLOAT (v)) {
      value = json_number (g_value_get_float (v));
    } else if (G_VALUE_HOLDS_BOOLEAN (v)) {
      value = g_value_get_boolean (v) ? "true" : "false";
    } else if (G_VALUE_HOLDS_STRING (v)) {
      value = json_string (g_value_get_string (v));
    } else {
      gchar *str = gst_value_serialize (v);
      value = json_string (str ? str : "");
      g_free (str);
    }
    body += ", " + json_string (name) + ": " + value;
  }
  return body;
}

bool
from_element (GstMessage *msg, GstElement *bin, const char *name)
{
  if (!bin)
    return false;
  GstElement *e = gst_bin_get_by_name (GST_BIN (bin), name);
  if (!e)
    return false;
  GstObject *src = GST_MESSAGE_SRC (msg);
  bool inside =
      src == GST_OBJECT (e) || gst_object_has_as_ancestor (src, GST_OBJECT (e));
  gst_object_unref (e);
  return inside;
}

/* Which file the message is about, for the user. */
std::string
blame (App *app, GstMessage *msg)
{
  if (from_element (msg, app->dub, "subtitles") ||
      from_element (msg, app->dub, "subcues"))
    return app->opt.subtitles + ": ";
  if (from_element (msg, app->dub, "ganvoice"))
    return "voice: ";
  if (from_element (msg, app->pipeline, "output") ||
      from_element (msg, app->pipeline, "mux"))
    return app->opt.output + ": ";
  if (from_element (msg, app->pipeline, "input") ||
      from_element (msg, app->pipeline, "parse") ||
      from_element (msg, app->pipeline, "programme-decode") ||
      from_element (msg, app->pipeline, "original-decode"))
    return app->opt.input + ": ";
  return "";
}

} // namespace

gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  App *app = (App *) user_data;
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR: {
      GError *err = NULL;
      gchar *debug = NULL;
      gst_message_parse_error (msg, &err, &debug);
      fail (app, "%s%s", blame (app, msg).c_str (), err->message);
      if (debug && g_getenv ("GANVOICE_DUB_DEBUG"))
        fprintf (stderr, "  (%s)\n", debug);
      g_clear_error (&err);
      g_free (debug);
      stop_pipeline (app);
      remove_temp (app);
      finish (app);
      break;
    }
    case GST_MESSAGE_WARNING: {
      /* --programme runs dubbin without subtitles on purpose. */
      if (app->opt.task == Task::Programme &&
          GST_MESSAGE_SRC (msg) == GST_OBJECT (app->dub))
        break;
      GError *err = NULL;
      gst_message_parse_warning (msg, &err, NULL);
      warn (app, "%s%s", blame (app, msg).c_str (), err->message);
      g_clear_error (&err);
      break;
    }
    case GST_MESSAGE_ELEMENT: {
      const GstStructure *s = gst_message_get_structure (msg);
      if (s && gst_structure_has_name (s, "ganvoice-cue")) {
        app->cues_spoken++;
        if (app->opt.json)
          json_line (cue_report_json (s));
      }
      break;
    }
    case GST_MESSAGE_APPLICATION:
      if (app->opt.task == Task::Chunk &&
          gst_message_has_name (msg, kChunkDone) && !app->finished) {
        finish_chunk (app);
        finish (app);
      }
      break;
    case GST_MESSAGE_EOS: {
      if (app->opt.task == Task::Programme) {
        if (GST_CLOCK_TIME_IS_VALID (app->programme_padded_from.load ()))
          warn (app,
              "%s: its audio track ends early: the programme goes on as "
              "silence from %s to the end (%s)",
              app->opt.input.c_str (),
              cue_time (app->programme_padded_from.load ()).c_str (),
              cue_time (app->duration).c_str ());
        if (!app->finished)
          finish_programme (app);
        finish (app);
        break;
      }
      if (app->opt.task == Task::Chunk) {
        if (!app->finished)
          finish_chunk (app);
        finish (app);
        break;
      }
      stop_pipeline (app);
      on_progress (app);
      if (GST_CLOCK_TIME_IS_VALID (app->programme_padded_from.load ()))
        warn (app,
            "%s: its audio track ends early: the dub goes on over silence "
            "from %s to the end (%s)",
            app->opt.input.c_str (),
            cue_time (app->programme_padded_from.load ()).c_str (),
            cue_time (app->duration).c_str ());
      if (app->position.load () + GST_SECOND < app->duration)
        warn (app,
            "%s: the audio ended at %s of %s; the file may be "
            "truncated",
            app->opt.input.c_str (), cue_time (app->position.load ()).c_str (),
            cue_time (app->duration).c_str ());
      clear_progress (app);
      /* The provenance note and the dub's title, readable by any player. */
      unquote_matroska_tag (app, app->opt.provenance);
      unquote_matroska_tag (app, app->opt.title);
      if (app->opt.mode == Mode::AddTrack)
        mark_dub_default (app);
      if (g_rename (app->temp.c_str (), app->opt.output.c_str ()) != 0) {
        fail (app, "%s: cannot rename %s to it: %s", app->opt.output.c_str (),
            app->temp.c_str (), g_strerror (errno));
        remove_temp (app);
      } else {
        app->temp.clear ();
        double elapsed = (g_get_monotonic_time () - app->started_us) / 1e6;
        if (app->opt.json) {
          json_line ("\"type\": \"done\", \"output\": " +
              json_string (app->opt.output.c_str ()) +
              ", \"elapsed\": " + json_number (elapsed) +
              ", \"cues\": " + std::to_string (app->cues_spoken));
        }
        if (!app->opt.quiet)
          fprintf (stderr, "ganvoice-dub: wrote %s (%u cues spoken, %.1f s)\n",
              app->opt.output.c_str (), app->cues_spoken, elapsed);
      }
      finish (app);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

} // namespace dub

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
 */
#include <ganvoice/model-paths.h>
#include <ganvoice/pipeline-watchdog.h>
#include <ganvoice/speaker-map.h>
#include <ganvoice/subtitles.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

namespace {

enum class Mode
{
  Duck,
  Replace,
  AddTrack
};

struct Options {
  std::string input, subtitles, output;
  std::vector<std::string> voices;
  std::string language, overflow, acoustic_model, vocoder_model, device;
  std::string speaker_encoder; /* for --voice AUDIO */
  std::string title;
  Mode mode = Mode::Duck;
  double duck_level = -12.0;
  double loudness_target = -16.0;
  double stall_timeout = 60.0; /* s without data moving; 0: no watchdog */
  int threads = 0;
  bool json = false;
  bool embed_subtitles = false;
  bool quiet = false;
};

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

struct App {
  Options opt;
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

App *app_for_signals = nullptr;

/* ---- Output ----------------------------------------------------------- */

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

/* ---- Tear-down -------------------------------------------------------- */

void
remove_temp (App *app)
{
  if (!app->temp.empty ()) {
    g_unlink (app->temp.c_str ());
    app->temp.clear ();
  }
}

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
  fprintf (stderr, "ganvoice-dub: interrupted; %s was not written\n",
      app->opt.output.c_str ());
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

/* ---- Progress --------------------------------------------------------- */

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
    fail (app,
        "the dub made no progress for %.0f s and was stopped (%s); "
        "%s was not written",
        app->opt.stall_timeout, where.c_str (), app->opt.output.c_str ());
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

/* The film's end as a buffer time of the programme: where its running
 * time (from 0 at the file's start, as the muxer counts) reaches the
 * film's duration. Timestamps in MPEG-TS start at 1.4 s, say. */
guint64
film_end_position (App *app)
{
  if (app->programme_segment.format != GST_FORMAT_TIME)
    return GST_CLOCK_TIME_NONE;
  GstSegment open = app->programme_segment;
  open.stop = GST_CLOCK_TIME_NONE; /* the film may end after it */
  return gst_segment_position_from_running_time (
      &open, GST_FORMAT_TIME, app->duration);
}

/* A programme that ends before the film does (audio shorter than the
 * video) is continued with a GAP to the film's end, so that the dub covers
 * the whole film and cues there are spoken. */
GstPadProbeReturn
on_programme (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  App *app = (App *) user_data;
  GstClockTime end = GST_CLOCK_TIME_NONE;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    if (GST_BUFFER_PTS_IS_VALID (buf))
      end = GST_BUFFER_PTS (buf) +
          (GST_BUFFER_DURATION_IS_VALID (buf) ? GST_BUFFER_DURATION (buf) : 0);
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    if (GST_EVENT_TYPE (event) == GST_EVENT_GAP) {
      GstClockTime ts, duration;
      gst_event_parse_gap (event, &ts, &duration);
      if (GST_CLOCK_TIME_IS_VALID (ts))
        end = ts + (GST_CLOCK_TIME_IS_VALID (duration) ? duration : 0);
    } else if (GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT) {
      const GstSegment *segment;
      gst_event_parse_segment (event, &segment);
      app->programme_segment = *segment;
      /* A segment that stops at the audio's end (qtdemux's) would drop
       * that GAP: it stops at the film's end instead. */
      guint64 film_end = film_end_position (app);
      if (GST_CLOCK_TIME_IS_VALID (film_end) &&
          GST_CLOCK_TIME_IS_VALID (segment->stop) && segment->stop < film_end) {
        app->programme_segment.stop = film_end;
        GstEvent *replaced = gst_event_new_segment (&app->programme_segment);
        gst_event_set_seqnum (replaced, gst_event_get_seqnum (event));
        gst_event_unref (event);
        GST_PAD_PROBE_INFO_DATA (info) = replaced;
      }
    } else if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
      guint64 last = app->programme_end.load ();
      guint64 film_end = film_end_position (app);
      if (GST_CLOCK_TIME_IS_VALID (film_end) &&
          last + 20 * GST_MSECOND < film_end) {
        app->programme_padded_from = gst_segment_to_running_time (
            &app->programme_segment, GST_FORMAT_TIME, last);
        gst_pad_send_event (pad, gst_event_new_gap (last, film_end - last));
      }
    }
  }
  if (GST_CLOCK_TIME_IS_VALID (end) && end > app->programme_end.load ())
    app->programme_end = end;
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn
on_silence_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)) {
    buf = gst_buffer_make_writable (buf);
    GST_BUFFER_FLAG_UNSET (buf, GST_BUFFER_FLAG_GAP);
    GST_PAD_PROBE_INFO_DATA (info) = buf;
  }
  return GST_PAD_PROBE_OK;
}

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

/* ---- Errors ----------------------------------------------------------- */

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
    case GST_MESSAGE_EOS: {
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

/* ---- Building the pipeline -------------------------------------------- */

GstElement *
make (App *app, const char *factory, const char *name = NULL)
{
  GstElement *e = gst_element_factory_make (factory, name);
  if (!e) {
    fail (app,
        "the GStreamer element '%s' is missing (see setup.sh for the "
        "Debian packages)",
        factory);
    return NULL;
  }
  gst_bin_add (GST_BIN (app->pipeline), e);
  return e;
}

bool
link_many (App *app, std::initializer_list<GstElement *> chain)
{
  GstElement *prev = NULL;
  for (GstElement *e : chain) {
    if (!e)
      return false;
    if (prev && !gst_element_link (prev, e)) {
      fail (app, "cannot link %s to %s", GST_OBJECT_NAME (prev),
          GST_OBJECT_NAME (e));
      return false;
    }
    prev = e;
  }
  return true;
}

/* Links @src to a new request pad of the muxer. */
bool
link_pad_to_mux (App *app, GstPad *src, const char *templ)
{
  GstPad *sink = gst_element_request_pad_simple (app->mux, templ);
  bool ok = sink && src && gst_pad_link (src, sink) == GST_PAD_LINK_OK;
  if (!ok)
    fail (app, "%s: the muxer takes no %s stream here",
        app->opt.output.c_str (), templ);
  if (sink)
    gst_object_unref (sink);
  return ok;
}

/* Links @e's src to a new request pad of the muxer. */
bool
link_to_mux (App *app, GstElement *e, const char *templ)
{
  GstPad *src = gst_element_get_static_pad (e, "src");
  bool ok = link_pad_to_mux (app, src, templ);
  if (src)
    gst_object_unref (src);
  return ok;
}

/* A new stream of the demuxer multiqueue: returns its sink pad (owned by
 * the multiqueue) and gives its src pad to @src (a new reference). */
GstPad *
add_demux_stream (App *app, GstPad **src)
{
  GstPad *sink = gst_element_request_pad_simple (app->demux_queue, "sink_%u");
  if (!sink) {
    fail (app, "the multiqueue gave no new stream");
    return NULL;
  }
  /* sink_N feeds src_N */
  gchar *name = g_strdup_printf ("src_%s", GST_PAD_NAME (sink) + 5);
  *src = gst_element_get_static_pad (app->demux_queue, name);
  g_free (name);
  gst_object_unref (sink); /* the element keeps it */
  return *src ? sink : NULL;
}

/* A demuxer stream into @target's sink pad, through the multiqueue. */
GstPad *
queue_to_element (App *app, GstElement *target)
{
  GstPad *src = NULL;
  GstPad *sink = add_demux_stream (app, &src);
  if (!sink)
    return NULL;
  GstPad *target_sink = gst_element_get_static_pad (target, "sink");
  bool ok = gst_pad_link (src, target_sink) == GST_PAD_LINK_OK;
  if (!ok)
    fail (app, "cannot link the multiqueue to %s", GST_OBJECT_NAME (target));
  gst_object_unref (target_sink);
  gst_object_unref (src);
  return ok ? sink : NULL;
}

/* A demuxer stream into a new @templ pad of the muxer, through the
 * multiqueue. */
GstPad *
queue_to_mux (App *app, const char *templ)
{
  GstPad *src = NULL;
  GstPad *sink = add_demux_stream (app, &src);
  if (!sink)
    return NULL;
  bool ok = link_pad_to_mux (app, src, templ);
  gst_object_unref (src);
  return ok ? sink : NULL;
}

/* Can the muxer take @caps on a @templ pad? */
bool
mux_accepts (GstElement *mux, const char *templ, GstCaps *caps)
{
  GstPadTemplate *t =
      gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (mux), templ);
  if (!t || !caps)
    return false;
  GstCaps *tc = gst_pad_template_get_caps (t);
  bool ok = gst_caps_can_intersect (caps, tc);
  gst_caps_unref (tc);
  return ok;
}

void
link_or_drop (App *app, GstPad *pad, GstPad *target, bool *linked)
{
  bool use = false;
  g_mutex_lock (&app->lock);
  if (target && !*linked) {
    *linked = true;
    use = true;
  }
  g_mutex_unlock (&app->lock);
  if (use) {
    if (gst_pad_link (pad, target) != GST_PAD_LINK_OK)
      GST_ELEMENT_ERROR (app->pipeline, CORE, NEGOTIATION,
          ("cannot link the input's %s stream", GST_PAD_NAME (pad)), (NULL));
    return;
  }
  /* Streams we do not use end in a fakesink. */
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (app->pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sinkpad);
  gst_object_unref (sinkpad);
}

void
on_parsebin_pad (GstElement *parsebin, GstPad *pad, gpointer user_data)
{
  App *app = (App *) user_data;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  const char *media = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  if (g_str_has_prefix (media, "video/"))
    link_or_drop (app, pad, app->video_sink, &app->video_linked);
  else if (g_str_has_prefix (media, "audio/"))
    link_or_drop (app, pad, app->audio_sink, &app->audio_linked);
  else
    link_or_drop (app, pad, NULL, NULL);
  gst_caps_unref (caps);
}

/* decodebin's raw audio goes to @user_data's sink pad. */
void
on_decoded_pad (GstElement *decodebin, GstPad *pad, gpointer user_data)
{
  GstElement *target = GST_ELEMENT (user_data);
  GstCaps *caps = gst_pad_query_caps (pad, NULL);
  bool audio = g_str_has_prefix (
      gst_structure_get_name (gst_caps_get_structure (caps, 0)), "audio/x-raw");
  gst_caps_unref (caps);
  if (!audio)
    return;
  GstPad *sink = gst_element_get_static_pad (target, "sink");
  if (!gst_pad_is_linked (sink))
    gst_pad_link (pad, sink);
  gst_object_unref (sink);
}

/* An encoder for the output container; the chain ends in its src. */
GstElement *
make_encoder (App *app, const char *name)
{
  GstElement *enc;
  if (app->container == Container::Mp4) {
    const char *aac[] = { "avenc_aac", "fdkaacenc", "voaacenc" };
    for (const char *f : aac) {
      GstElementFactory *factory = gst_element_factory_find (f);
      if (factory) {
        gst_object_unref (factory);
        return make (app, f, name);
      }
    }
    fail (app,
        "no AAC encoder for .mp4 output: install gstreamer1.0-libav "
        "(avenc_aac)");
    return NULL;
  }
  enc = make (app, "opusenc", name);
  if (enc)
    g_object_set (enc, "bitrate", 128000, NULL);
  return enc;
}

/* The embedded subtitle track: the file's cues as plain UTF-8 text. */
std::string
embed_text (const ganvoice::RawCue &cue)
{
  if (cue.kind == ganvoice::MarkupKind::Html)
    return cue.markup; /* SubRip tags are what Matroska expects */
  std::string out;
  bool in_block = false;
  for (size_t i = 0; i < cue.markup.size (); i++) {
    char c = cue.markup[i];
    if (in_block) {
      in_block = c != '}';
    } else if (c == '{') {
      in_block = true;
    } else if (c == '\\' && i + 1 < cue.markup.size () &&
        (cue.markup[i + 1] == 'N' || cue.markup[i + 1] == 'n')) {
      out += '\n';
      i++;
    } else if (c == '\\' && i + 1 < cue.markup.size () &&
        cue.markup[i + 1] == 'h') {
      out += ' ';
      i++;
    } else {
      out += c;
    }
  }
  return out;
}

bool
add_subtitle_track (App *app, const std::vector<ganvoice::RawCue> &cues)
{
  GstElement *src = make (app, "appsrc", "subtitle-src");
  GstElement *queue = make (app, "queue", "subtitle-queue");
  if (!src || !queue || !link_many (app, { src, queue }))
    return false;
  GstCaps *caps = gst_caps_from_string ("text/x-raw, format=(string)utf8");
  g_object_set (src, "caps", caps, "format", GST_FORMAT_TIME, "max-bytes",
      (guint64) 0, NULL);
  gst_caps_unref (caps);
  if (!link_to_mux (app, queue, "subtitle_%u"))
    return false;

  std::vector<const ganvoice::RawCue *> sorted;
  for (const auto &c : cues)
    sorted.push_back (&c);
  std::stable_sort (sorted.begin (), sorted.end (),
      [] (auto a, auto b) { return a->start_ns < b->start_ns; });
  for (const ganvoice::RawCue *c : sorted) {
    gint64 start = c->start_ns, end = c->end_ns;
    if (GST_CLOCK_TIME_IS_VALID (app->duration)) {
      if (start >= (gint64) app->duration)
        continue; /* cut: past the end of the video */
      end = MIN (end, (gint64) app->duration);
    }
    std::string text = embed_text (*c);
    if (text.empty () || end <= start)
      continue;
    GstBuffer *buf = gst_buffer_new_memdup (text.data (), text.size ());
    GST_BUFFER_PTS (buf) = start;
    GST_BUFFER_DURATION (buf) = end - start;
    gst_app_src_push_buffer (GST_APP_SRC (src), buf);
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  return true;
}

/* The dub's track tags: language and title. */
GstElement *
make_tagger (App *app)
{
  GstElement *tagger = make (app, "taginject", "dub-tags");
  if (!tagger)
    return NULL;
  GstTagList *tags = gst_tag_list_new_empty ();
  gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE, GST_TAG_TITLE,
      app->opt.title.c_str (), NULL);
  if (!app->opt.language.empty ())
    gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE, GST_TAG_LANGUAGE_CODE,
        app->opt.language.c_str (), NULL);
  gchar *str = gst_tag_list_to_string (tags);
  /* "taglist, title=(string)..." -> the fields after the name */
  const char *fields = strchr (str, ',');
  g_object_set (tagger, "tags", fields ? fields + 1 : "", NULL);
  g_free (str);
  gst_tag_list_unref (tags);
  return tagger;
}

/* MODEL.ts and its card MODEL.json beside it. */
void
set_model (GstElement *dub, const char *kind, const std::string &model)
{
  if (model.empty ())
    return;
  std::string prop = std::string (kind) + "-model";
  g_object_set (dub, prop.c_str (), model.c_str (), NULL);
  std::string card = ganvoice::card_beside (model);
  prop = std::string (kind) + "-card";
  if (g_file_test (card.c_str (), G_FILE_TEST_IS_REGULAR))
    g_object_set (dub, prop.c_str (), card.c_str (), NULL);
}

bool
build_pipeline (App *app, GstDiscovererInfo *info,
    const std::vector<ganvoice::RawCue> &raw_cues, const std::string &voice,
    const std::string &speaker_map)
{
  const Options &opt = app->opt;
  GList *videos = gst_discoverer_info_get_video_streams (info);
  GList *audios = gst_discoverer_info_get_audio_streams (info);
  bool has_video = videos != NULL;
  bool has_audio = audios != NULL;
  GstCaps *video_caps = has_video
      ? gst_discoverer_stream_info_get_caps (
            GST_DISCOVERER_STREAM_INFO (videos->data))
      : NULL;
  GstCaps *audio_caps = has_audio
      ? gst_discoverer_stream_info_get_caps (
            GST_DISCOVERER_STREAM_INFO (audios->data))
      : NULL;
  if (g_list_length (videos) > 1)
    warn (app, "%s: has %u video tracks; only the first is kept",
        opt.input.c_str (), g_list_length (videos));
  if (g_list_length (audios) > 1)
    warn (app,
        "%s: has %u audio tracks; the first is dubbed, the others "
        "are dropped",
        opt.input.c_str (), g_list_length (audios));
  gst_discoverer_stream_info_list_free (videos);
  gst_discoverer_stream_info_list_free (audios);
  bool ok = false;

  app->pipeline = gst_pipeline_new ("ganvoice-dub");
  const char *mux_factory = app->container == Container::Mp4 ? "mp4mux"
      : app->container == Container::WebM                    ? "webmmux"
                                                             : "matroskamux";
  app->mux = make (app, mux_factory, "mux");
  GstElement *sink = make (app, "filesink", "output");
  if (!app->mux || !sink)
    goto out;
  if (app->container != Container::Mp4)
    g_object_set (app->mux, "writing-app", "ganvoice-dub", NULL);
  g_object_set (sink, "location", app->temp.c_str (), NULL);
  if (!gst_element_link (app->mux, sink))
    goto out;

  if (has_video && !mux_accepts (app->mux, "video_%u", video_caps)) {
    gchar *desc = gst_pb_utils_get_codec_description (video_caps);
    fail (app,
        "%s: its video is %s, which %s cannot hold without "
        "re-encoding (ganvoice-dub copies the video): write .mkv instead",
        opt.input.c_str (), desc ? desc : "of an unknown kind",
        app->container == Container::Mp4 ? ".mp4" : ".webm");
    g_free (desc);
    goto out;
  }

  /* The dubbed track first gets its mux pad requested in track order. */
  if (has_video || has_audio) {
    GstElement *src = make (app, "filesrc", "input");
    GstElement *parse = make (app, "parsebin", "parse");
    if (!link_many (app, { src, parse }))
      goto out;
    g_object_set (src, "location", opt.input.c_str (), NULL);
    g_signal_connect (parse, "pad-added", G_CALLBACK (on_parsebin_pad), app);
    /* Limits in buffers alone: the multiqueue lets a full stream grow
     * while another is empty, which time and byte limits forbid. The
     * growth is bounded by how far the file's streams are apart. */
    app->demux_queue = make (app, "multiqueue", "demux-queue");
    if (!app->demux_queue)
      goto out;
    g_object_set (app->demux_queue, "max-size-buffers", 64, "max-size-bytes", 0,
        "max-size-time", (guint64) 0, NULL);
  }
  if (has_video && !(app->video_sink = queue_to_mux (app, "video_%u")))
    goto out;

  app->dub = make (app, "dubbin", "dub");
  if (!app->dub)
    goto out;
  g_object_set (app->dub, "subtitle-location", opt.subtitles.c_str (),
      "duck-level", opt.duck_level, "loudness-target", opt.loudness_target,
      NULL);
  gst_util_set_object_arg (G_OBJECT (app->dub), "mode",
      opt.mode == Mode::Replace ? "replace" : "duck");
  if (!voice.empty ())
    g_object_set (app->dub, "voice", voice.c_str (), NULL);
  if (!speaker_map.empty ())
    g_object_set (app->dub, "speaker-map", speaker_map.c_str (), NULL);
  if (!opt.language.empty ())
    g_object_set (app->dub, "language", opt.language.c_str (), NULL);
  if (!opt.overflow.empty ())
    gst_util_set_object_arg (
        G_OBJECT (app->dub), "overflow", opt.overflow.c_str ());
  set_model (app->dub, "acoustic", opt.acoustic_model);
  set_model (app->dub, "vocoder", opt.vocoder_model);
  if (!opt.device.empty ())
    g_object_set (app->dub, "device", opt.device.c_str (), NULL);
  if (opt.threads > 0)
    g_object_set (app->dub, "threads", opt.threads, NULL);

  /* The programme into dubbin. */
  if (has_audio) {
    GstElement *dec = make (app, "decodebin", "programme-decode");
    GstPad *programme = dec ? queue_to_element (app, dec) : NULL;
    if (!programme)
      goto out;
    g_signal_connect (dec, "pad-added", G_CALLBACK (on_decoded_pad), app->dub);
    if (opt.mode == Mode::AddTrack) {
      /* The original track is kept: copied when the container takes it,
       * re-encoded otherwise. The tee feeds two multiqueue streams. */
      GstElement *tee = make (app, "tee", "audio-tee");
      if (!tee)
        goto out;
      GstPad *tee_src = gst_element_request_pad_simple (tee, "src_%u");
      bool linked = gst_pad_link (tee_src, programme) == GST_PAD_LINK_OK;
      gst_object_unref (tee_src);
      if (!linked)
        goto out;
      GstPad *original;
      if (mux_accepts (app->mux, "audio_%u", audio_caps)) {
        original = queue_to_mux (app, "audio_%u");
      } else {
        GstElement *odec = make (app, "decodebin", "original-decode");
        GstElement *conv = make (app, "audioconvert", "original-convert");
        GstElement *res = make (app, "audioresample", "original-resample");
        GstElement *enc = make_encoder (app, "original-encode");
        GstElement *oq = make (app, "queue", "original-encoded-queue");
        if (!link_many (app, { conv, res, enc, oq }) ||
            !link_to_mux (app, oq, "audio_%u"))
          goto out;
        original = odec ? queue_to_element (app, odec) : NULL;
        g_signal_connect (odec, "pad-added", G_CALLBACK (on_decoded_pad), conv);
      }
      tee_src = gst_element_request_pad_simple (tee, "src_%u");
      linked = original && gst_pad_link (tee_src, original) == GST_PAD_LINK_OK;
      gst_object_unref (tee_src);
      if (!linked)
        goto out;
      app->audio_sink = gst_element_get_static_pad (tee, "sink");
      gst_object_unref (app->audio_sink); /* the tee keeps it */
    } else {
      app->audio_sink = programme;
    }
  } else {
    /* No audio: the dub alone, over silence as long as the video. */
    GstElement *silence = make (app, "audiotestsrc", "silence");
    GstElement *caps = make (app, "capsfilter", "silence-caps");
    if (!link_many (app, { silence, caps, app->dub }))
      goto out;
    guint64 frames = GST_CLOCK_TIME_IS_VALID (app->duration)
        ? gst_util_uint64_scale_ceil (app->duration, 48000, GST_SECOND)
        : 0;
    g_object_set (silence, "wave", 4 /* silence */, "samplesperbuffer", 480,
        "num-buffers", (gint) ((frames + 479) / 480), NULL);
    GstCaps *c = gst_caps_from_string (
        "audio/x-raw, format=(string)F32LE, "
        "rate=(int)48000, channels=(int)2, layout=(string)interleaved");
    g_object_set (caps, "caps", c, NULL);
    gst_caps_unref (c);
    /* Silence comes as GAP buffers, and a programme of GAPs does not end
     * duckmix's output at its end: make them plain zeros. */
    GstPad *pad = gst_element_get_static_pad (caps, "src");
    gst_pad_add_probe (
        pad, GST_PAD_PROBE_TYPE_BUFFER, on_silence_buffer, NULL, NULL);
    gst_object_unref (pad);
  }

  {
    GstElement *conv = make (app, "audioconvert", "dub-convert");
    GstElement *enc = make_encoder (app, "dub-encode");
    GstElement *tags = make_tagger (app);
    GstElement *q = make (app, "queue", "dub-queue");
    if (!link_many (app, { app->dub, conv, enc, tags, q }) ||
        !link_to_mux (app, q, "audio_%u"))
      goto out;
    GstPad *pad = gst_element_get_static_pad (app->dub, "src");
    gst_pad_add_probe (
        pad, GST_PAD_PROBE_TYPE_BUFFER, on_dub_buffer, app, NULL);
    gst_object_unref (pad);
    if (has_audio) {
      pad = gst_element_get_static_pad (app->dub, "sink");
      gst_pad_add_probe (pad,
          (GstPadProbeType) (GST_PAD_PROBE_TYPE_BUFFER |
              GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
          on_programme, app, NULL);
      gst_object_unref (pad);
    }
  }

  if (opt.embed_subtitles && !add_subtitle_track (app, raw_cues))
    goto out;
  ok = true;

out:
  if (video_caps)
    gst_caps_unref (video_caps);
  if (audio_caps)
    gst_caps_unref (audio_caps);
  return ok;
}

/* ---- Checks before the pipeline ---------------------------------------- */

/* Is @path an audio (or video) file rather than a voice profile? */
bool
looks_like_media (const std::string &path)
{
  guchar data[4096];
  gsize n = 0;
  FILE *f = fopen (path.c_str (), "rb");
  if (f) {
    n = fread (data, 1, sizeof data, f);
    fclose (f);
  }
  gboolean uncertain = FALSE;
  gchar *type = g_content_type_guess (path.c_str (), data, n, &uncertain);
  gchar *mime = g_content_type_get_mime_type (type);
  bool media = mime &&
      (g_str_has_prefix (mime, "audio/") || g_str_has_prefix (mime, "video/"));
  g_free (mime);
  g_free (type);
  return media;
}

/* decodebin's audio pad to the converter. */
void
link_decoded_audio (GstElement *, GstPad *pad, gpointer convert)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  const GstStructure *s = caps ? gst_caps_get_structure (caps, 0) : NULL;
  bool audio = s && g_str_has_prefix (gst_structure_get_name (s), "audio/");
  if (caps)
    gst_caps_unref (caps);
  GstPad *sink = gst_element_get_static_pad (GST_ELEMENT (convert), "sink");
  if (audio && !gst_pad_is_linked (sink))
    gst_pad_link (pad, sink);
  gst_object_unref (sink);
}

/* Clones a voice: runs @media through speakerembed into a temporary
 * profile, whose path goes to @profile. */
bool
profile_from_audio (App *app, const std::string &media, std::string *profile)
{
  GError *err = NULL;
  gchar *tmp = NULL;
  gint fd = g_file_open_tmp ("ganvoice-dub-voice-XXXXXX.json", &tmp, &err);
  if (fd < 0) {
    fail (app, "cannot make a temporary voice profile: %s", err->message);
    g_clear_error (&err);
    return false;
  }
  close (fd);
  app->temp_profiles.paths.push_back (tmp);
  *profile = tmp;
  g_free (tmp);

  GstElement *pipe = gst_pipeline_new ("ganvoice-dub-clone");
  GstElement *src = gst_element_factory_make ("filesrc", NULL);
  GstElement *dec = gst_element_factory_make ("decodebin", NULL);
  GstElement *conv = gst_element_factory_make ("audioconvert", NULL);
  GstElement *embed = gst_element_factory_make ("speakerembed", NULL);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  if (!src || !dec || !conv || !embed || !sink) {
    fail (app,
        "--voice %s: cloning needs filesrc, decodebin, audioconvert "
        "and speakerembed",
        media.c_str ());
    for (GstElement *e : { src, dec, conv, embed, sink })
      if (e)
        gst_object_unref (e);
    gst_object_unref (pipe);
    return false;
  }
  gchar *name = g_path_get_basename (media.c_str ());
  g_object_set (src, "location", media.c_str (), NULL);
  g_object_set (embed, "location", profile->c_str (), "voice-name", name,
      "language", app->opt.language.c_str (), NULL);
  g_free (name);
  if (!app->opt.acoustic_model.empty ())
    g_object_set (embed, "acoustic-card",
        ganvoice::card_beside (app->opt.acoustic_model).c_str (), NULL);
  if (!app->opt.speaker_encoder.empty ())
    g_object_set (embed, "encoder", app->opt.speaker_encoder.c_str (), NULL);
  gst_bin_add_many (GST_BIN (pipe), src, dec, conv, embed, sink, NULL);
  gst_element_link (src, dec);
  gst_element_link_many (conv, embed, sink, NULL);
  g_signal_connect (dec, "pad-added", G_CALLBACK (link_decoded_audio), conv);

  bool ok = gst_element_set_state (pipe, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE;
  GstMessage *msg = NULL;
  bool stalled = false;
  if (ok) {
    /* --stall-timeout 0: no watchdog, a wait without end. */
    std::string where;
    msg = ganvoice::wait_for_end (pipe,
        app->opt.stall_timeout > 0 ? app->opt.stall_timeout : G_MAXDOUBLE,
        &where);
    if (!msg) {
      fail (app, "--voice %s: reading it made no progress for %.0f s (%s)",
          media.c_str (), app->opt.stall_timeout, where.c_str ());
      ok = false;
      stalled = true;
    }
  }
  if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &err, NULL);
    fail (app, "--voice %s: cannot clone this voice: %s", media.c_str (),
        err ? err->message : "unknown error");
    g_clear_error (&err);
    ok = false;
  } else if (!ok && !stalled) {
    fail (app, "--voice %s: cannot read this file", media.c_str ());
  }
  if (msg)
    gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  if (ok) {
    ok = g_file_test (profile->c_str (), G_FILE_TEST_IS_REGULAR);
    gchar *contents = NULL;
    if (ok &&
        (!g_file_get_contents (profile->c_str (), &contents, NULL, NULL) ||
            !contents || !*contents)) {
      fail (app, "--voice %s: no speech to clone was found", media.c_str ());
      ok = false;
    }
    g_free (contents);
  }
  return ok;
}

/* Splits --voice values into one voice and a speaker map (its text
 * form, for dubbin's speaker-map). */
bool
resolve_voices (App *app, std::string *voice, std::string *speaker_map)
{
  ganvoice::SpeakerMap speakers;
  for (const std::string &v : app->opt.voices) {
    std::string speaker, target = v;
    size_t eq = v.find ('=');
    if (eq != std::string::npos &&
        !g_file_test (v.c_str (), G_FILE_TEST_EXISTS)) {
      speaker = v.substr (0, eq);
      target = v.substr (eq + 1);
      if (speaker.empty () || target.empty ()) {
        fail (app, "--voice %s: expected SPEAKER=VOICE", v.c_str ());
        return false;
      }
    }
    bool is_file = g_file_test (target.c_str (), G_FILE_TEST_IS_REGULAR);
    if (is_file && looks_like_media (target)) {
      std::string profile;
      if (!profile_from_audio (app, target, &profile))
        return false;
      target = profile;
    }
    if (!is_file && target.find ('/') != std::string::npos) {
      fail (app, "--voice %s: no such voice-profile file", target.c_str ());
      return false;
    }
    if (!speaker.empty ()) {
      try {
        speakers.set (speaker, target);
      } catch (const std::invalid_argument &e) {
        fail (app, "--voice %s: %s", v.c_str (), e.what ());
        return false;
      }
    } else if (!voice->empty ()) {
      fail (app,
          "--voice given twice (%s and %s): name one default voice, "
          "and the others as SPEAKER=VOICE",
          voice->c_str (), target.c_str ());
      return false;
    } else {
      *voice = target;
    }
  }
  *speaker_map = speakers.format ();
  return true;
}

/* A language from a name like film.es.srt. */
std::string
language_from_name (const std::string &path)
{
  gchar *base = g_path_get_basename (path.c_str ());
  gchar **parts = g_strsplit (base, ".", -1);
  guint n = g_strv_length (parts);
  std::string lang;
  if (n >= 3) {
    const char *p = parts[n - 2];
    size_t len = strlen (p);
    bool alpha = len == 2 || len == 3;
    for (size_t i = 0; alpha && i < len; i++)
      alpha = g_ascii_isalpha (p[i]);
    if (alpha)
      lang = g_ascii_strdown (p, -1);
  }
  g_strfreev (parts);
  g_free (base);
  return lang;
}

bool
read_subtitles (App *app, std::vector<ganvoice::RawCue> *raw,
    std::vector<ganvoice::Cue> *spoken)
{
  gchar *data = NULL;
  gsize size = 0;
  GError *err = NULL;
  const char *path = app->opt.subtitles.c_str ();
  if (!g_file_get_contents (path, &data, &size, &err)) {
    fail (app, "%s: %s", path, err->message);
    g_clear_error (&err);
    return false;
  }
  std::string_view bytes (data, size);
  ganvoice::DocumentOptions options;
  options.language = app->opt.language;
  ganvoice::CueDocument doc = ganvoice::parse_cue_document (bytes, options);
  if (!doc.ok) {
    if (doc.error.line)
      fail (app, "%s: line %u: %s", path, doc.error.line,
          doc.error.message.c_str ());
    else
      fail (app, "%s: %s", path, doc.error.message.c_str ());
    g_free (data);
    return false;
  }
  ganvoice::DecodedText text = ganvoice::decode_subtitle_text (bytes, "");
  ganvoice::ParsedSubtitles parsed = ganvoice::parse_subtitles (text.text);
  g_free (data);
  *raw = parsed.cues;
  *spoken = doc.cues;
  if (app->opt.language.empty ())
    app->opt.language = doc.language;
  if (doc.cues.empty ()) {
    fail (app, "%s: no cue has anything to say", path);
    return false;
  }
  return true;
}

/* Are the plugins the probe missed only video decoders? */
bool
only_video_decoders_missing (GstDiscovererInfo *info)
{
  const gchar **details =
      gst_discoverer_info_get_missing_elements_installer_details (info);
  if (!details || !details[0])
    return false;
  for (const gchar **d = details; *d; d++)
    if (!strstr (*d, "|decoder-video/"))
      return false;
  return true;
}

GstDiscovererInfo *
probe_input (App *app)
{
  const char *path = app->opt.input.c_str ();
  if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
    fail (app, "%s: no such file", path);
    return NULL;
  }
  if (g_access (path, R_OK) != 0 || g_file_test (path, G_FILE_TEST_IS_DIR)) {
    fail (app, "%s: cannot be read", path);
    return NULL;
  }
  GError *err = NULL;
  GstDiscoverer *disc = gst_discoverer_new (30 * GST_SECOND, &err);
  if (!disc) {
    fail (app, "cannot probe %s: %s", path, err->message);
    g_clear_error (&err);
    return NULL;
  }
  gchar *uri = gst_filename_to_uri (path, NULL);
  GstDiscovererInfo *info = gst_discoverer_discover_uri (disc, uri, &err);
  g_free (uri);
  gst_object_unref (disc);
  GstDiscovererResult result =
      info ? gst_discoverer_info_get_result (info) : GST_DISCOVERER_ERROR;
  if (result == GST_DISCOVERER_MISSING_PLUGINS &&
      only_video_decoders_missing (info))
    result = GST_DISCOVERER_OK; /* the video is copied, never decoded */
  switch (result) {
    case GST_DISCOVERER_OK:
      break;
    case GST_DISCOVERER_MISSING_PLUGINS: {
      const gchar **details = info
          ? gst_discoverer_info_get_missing_elements_installer_details (info)
          : NULL;
      fail (app, "%s: unsupported: GStreamer lacks a plugin to read it%s%s",
          path, details && details[0] ? " (" : "",
          details && details[0] ? (std::string (details[0]) + ")").c_str ()
                                : "");
      break;
    }
    case GST_DISCOVERER_TIMEOUT:
      fail (app, "%s: probing it timed out; the file may be corrupt", path);
      break;
    default:
      fail (app, "%s: not a media file GStreamer can read, or corrupt (%s)",
          path, err ? err->message : "unknown error");
      break;
  }
  g_clear_error (&err);
  if (result != GST_DISCOVERER_OK) {
    if (info)
      gst_discoverer_info_unref (info);
    return NULL;
  }
  GList *videos = gst_discoverer_info_get_video_streams (info);
  GList *audios = gst_discoverer_info_get_audio_streams (info);
  bool empty = !videos && !audios;
  gst_discoverer_stream_info_list_free (videos);
  gst_discoverer_stream_info_list_free (audios);
  if (empty) {
    fail (app, "%s: has neither video nor audio", path);
    gst_discoverer_info_unref (info);
    return NULL;
  }
  app->duration = gst_discoverer_info_get_duration (info);
  if (!GST_CLOCK_TIME_IS_VALID (app->duration) || app->duration == 0) {
    fail (app,
        "%s: its duration is unknown; ganvoice-dub needs a file of "
        "known length",
        path);
    gst_discoverer_info_unref (info);
    return NULL;
  }
  return info;
}

/* Warns about cues that run past the end of the video (they are cut). */
void
check_cue_times (App *app, const std::vector<ganvoice::Cue> &cues)
{
  std::string list;
  guint n = 0;
  for (const auto &c : cues) {
    if (c.end_ns <= (gint64) app->duration)
      continue;
    if (++n <= 10) {
      std::string text =
          c.text.size () > 40 ? c.text.substr (0, 37) + "..." : c.text;
      list += "\n  cue " + std::to_string (c.index) + " (line " +
          std::to_string (c.line) + ", " + cue_time (c.start_ns) + " --> " +
          cue_time (c.end_ns) + "): " + text;
    }
  }
  if (n == 0)
    return;
  if (n > 10)
    list += "\n  ... and " + std::to_string (n - 10) + " more";
  warn (app, "%s: %u cue%s run%s past the end of %s (%s) and %s cut:%s",
      app->opt.subtitles.c_str (), n, n == 1 ? "" : "s", n == 1 ? "s" : "",
      app->opt.input.c_str (), cue_time (app->duration).c_str (),
      n == 1 ? "is" : "are", list.c_str ());
}

/* OUTPUT.partXXXXXX beside OUTPUT. */
bool
make_temp (App *app)
{
  std::string templ = app->opt.output + ".partXXXXXX";
  std::vector<char> buf (templ.begin (), templ.end ());
  buf.push_back ('\0');
  int fd = g_mkstemp (buf.data ());
  if (fd < 0) {
    fail (app, "%s: cannot write beside it: %s", app->opt.output.c_str (),
        g_strerror (errno));
    return false;
  }
  mode_t mask = umask (0);
  umask (mask);
  fchmod (fd, 0666 & ~mask);
  close (fd);
  app->temp = buf.data ();
  return true;
}

bool
parse_args (App *app, int argc, char **argv)
{
  Options &o = app->opt;
  gchar *output = NULL, *lang = NULL, *mode = NULL, *overflow = NULL;
  gchar *acoustic = NULL, *vocoder = NULL, *device = NULL, *title = NULL,
        *encoder = NULL;
  gchar **voices = NULL;
  gboolean json = FALSE, embed = FALSE, quiet = FALSE;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
        "Where to write the dubbed video (.mkv, .webm or .mp4)", "OUTPUT" },
    { "voice", 'v', 0, G_OPTION_ARG_STRING_ARRAY, &voices,
        "A built-in voice name or a voice-profile file; SPEAKER=VOICE for "
        "one speaker (repeatable)",
        "VOICE" },
    { "lang", 'l', 0, G_OPTION_ARG_STRING, &lang,
        "Language of the subtitles and the dub (default: from the file)", "L" },
    { "mode", 'm', 0, G_OPTION_ARG_STRING, &mode,
        "duck (default): the original soundtrack lowered under the voice; "
        "replace: muted under the voice; add-track: keep the original track "
        "and add the dub (ducked) as a second one",
        "MODE" },
    { "overflow", 0, 0, G_OPTION_ARG_STRING, &overflow,
        "Speech longer than its slot: default, clip, overlap, shift or "
        "compress",
        "POLICY" },
    { "duck-level", 0, 0, G_OPTION_ARG_DOUBLE, &o.duck_level,
        "Programme gain under the voice in dB (default -12)", "DB" },
    { "loudness", 0, 0, G_OPTION_ARG_DOUBLE, &o.loudness_target,
        "EBU R128 target of the dub in LUFS (default -16; 0: off)", "LUFS" },
    { "title", 0, 0, G_OPTION_ARG_STRING, &title,
        "Title of the dub's audio track", "TITLE" },
    { "embed-subtitles", 0, 0, G_OPTION_ARG_NONE, &embed,
        "Also store the subtitles as a track (.mkv only)", NULL },
    { "acoustic-model", 0, 0, G_OPTION_ARG_FILENAME, &acoustic,
        "TorchScript acoustic model, its card beside it as .json (default: the "
        "shipped one, or $GANVOICE_MODEL_DIR)",
        "FILE" },
    { "vocoder-model", 0, 0, G_OPTION_ARG_FILENAME, &vocoder,
        "TorchScript vocoder (its card beside it)", "FILE" },
    { "speaker-encoder", 0, 0, G_OPTION_ARG_FILENAME, &encoder,
        "TorchScript speaker encoder for --voice AUDIO (its card beside it; "
        "default: the shipped one)",
        "FILE" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device,
        "Where the models run: cpu or cuda", "DEV" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &o.threads, "Threads for the models",
        "N" },
    { "stall-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &o.stall_timeout,
        "Stop with an error when no data moves for this long (default 60; "
        "0: never)",
        "SECONDS" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
        "Progress, per-cue reports and warnings as JSON lines on stdout",
        NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress bar", NULL },
    { NULL },
  };
  GOptionContext *ctx = g_option_context_new ("INPUT SUBTITLES -o OUTPUT");
  g_option_context_set_summary (ctx,
      "Dubs a video from its subtitles: the "
      "video is copied, the subtitles are spoken and mixed into the "
      "soundtrack.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  GError *err = NULL;
  bool ok = g_option_context_parse (ctx, &argc, &argv, &err);
  if (!ok) {
    fprintf (stderr, "ganvoice-dub: %s\n", err->message);
    g_clear_error (&err);
  } else if (argc != 3 || !output) {
    gchar *help = g_option_context_get_help (ctx, TRUE, NULL);
    fprintf (stderr, "%s", help);
    g_free (help);
    ok = false;
  }
  g_option_context_free (ctx);
  if (ok) {
    o.input = argv[1];
    o.subtitles = argv[2];
    o.output = output;
    o.json = json;
    o.embed_subtitles = embed;
    o.quiet = quiet;
    if (lang)
      o.language = lang;
    if (overflow)
      o.overflow = overflow;
    if (acoustic)
      o.acoustic_model = acoustic;
    if (vocoder)
      o.vocoder_model = vocoder;
    if (encoder)
      o.speaker_encoder = encoder;
    if (device)
      o.device = device;
    if (title)
      o.title = title;
    for (gchar **v = voices; v && *v; v++)
      o.voices.push_back (*v);
    if (!mode || g_str_equal (mode, "duck")) {
      o.mode = Mode::Duck;
    } else if (g_str_equal (mode, "replace")) {
      o.mode = Mode::Replace;
    } else if (g_str_equal (mode, "add-track") || g_str_equal (mode, "add")) {
      o.mode = Mode::AddTrack;
    } else {
      fprintf (stderr,
          "ganvoice-dub: --mode %s: use duck, replace or "
          "add-track\n",
          mode);
      ok = false;
    }
    if (o.loudness_target >= 0.0)
      o.loudness_target = 0.0;
    if (!(o.stall_timeout >= 0.0)) {
      fprintf (stderr, "ganvoice-dub: --stall-timeout must be 0 or more\n");
      ok = false;
    }
  }
  g_free (output);
  g_free (lang);
  g_free (mode);
  g_free (overflow);
  g_free (acoustic);
  g_free (vocoder);
  g_free (encoder);
  g_free (device);
  g_free (title);
  g_strfreev (voices);
  return ok;
}

bool
choose_container (App *app)
{
  gchar *lower = g_ascii_strdown (app->opt.output.c_str (), -1);
  bool ok = true;
  if (g_str_has_suffix (lower, ".mkv") || g_str_has_suffix (lower, ".mka"))
    app->container = Container::Matroska;
  else if (g_str_has_suffix (lower, ".webm"))
    app->container = Container::WebM;
  else if (g_str_has_suffix (lower, ".mp4") ||
      g_str_has_suffix (lower, ".m4v") || g_str_has_suffix (lower, ".mov"))
    app->container = Container::Mp4;
  else {
    fail (app, "%s: unsupported output format: name it .mkv, .webm or .mp4",
        app->opt.output.c_str ());
    ok = false;
  }
  g_free (lower);
  if (ok && app->opt.embed_subtitles && app->container != Container::Matroska) {
    fail (app, "--embed-subtitles needs a Matroska (.mkv) output");
    ok = false;
  }
  return ok;
}

} // namespace

int
main (int argc, char **argv)
{
  App app;
  g_mutex_init (&app.lock);
  gst_segment_init (&app.programme_segment, GST_FORMAT_UNDEFINED);
  gst_init (&argc, &argv);
  if (!parse_args (&app, argc, argv))
    return 2;
  app.stderr_tty = isatty (STDERR_FILENO);
  app.started_us = g_get_monotonic_time ();

  std::vector<ganvoice::RawCue> raw;
  std::vector<ganvoice::Cue> spoken;
  std::string voice, speaker_map;
  if (!choose_container (&app))
    return app.exit_code;
  GstDiscovererInfo *info = probe_input (&app);
  if (!info)
    return app.exit_code;
  if (app.opt.language.empty ())
    app.opt.language = language_from_name (app.opt.subtitles);
  if (!read_subtitles (&app, &raw, &spoken) ||
      !resolve_voices (&app, &voice, &speaker_map)) {
    gst_discoverer_info_unref (info);
    return app.exit_code;
  }
  app.cues_total = spoken.size ();
  if (app.opt.title.empty ())
    app.opt.title = app.opt.language.empty ()
        ? "Dub (ganvoice)"
        : "Dub (" + app.opt.language + ", ganvoice)";
  check_cue_times (&app, spoken);
  {
    GList *audios = gst_discoverer_info_get_audio_streams (info);
    if (!audios)
      warn (&app, "%s: has no audio track; the dub is the only sound",
          app.opt.input.c_str ());
    if (!audios && app.opt.mode == Mode::AddTrack)
      app.opt.mode = Mode::Duck;
    gst_discoverer_stream_info_list_free (audios);
  }

  if (!make_temp (&app)) {
    gst_discoverer_info_unref (info);
    return app.exit_code;
  }
  app_for_signals = &app;
  guint sigint = g_unix_signal_add (SIGINT, on_signal, &app);
  guint sigterm = g_unix_signal_add (SIGTERM, on_sigterm, &app);

  bool built = build_pipeline (&app, info, raw, voice, speaker_map);
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

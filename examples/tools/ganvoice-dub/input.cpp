/* ganvoice-dub: the input and the subtitles, checked.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "input.h"

#include "report.h"

#include <glib/gstdio.h>

#include <cstring>

#include <unistd.h>

namespace dub {

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

namespace {

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

} // namespace

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

} // namespace dub

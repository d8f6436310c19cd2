/* ganvoice-clone: audio files to mono float samples.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "audio.h"

#include "options.h"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include <cstring>

namespace clonecli {

namespace {

struct Decoder {
  GstElement *convert = nullptr;
  std::atomic<bool> linked{ false };
  std::atomic<bool> no_more_pads{ false };
};

/* uridecodebin's pads: the first raw audio one goes to audioconvert. */
void
on_pad_added (GstElement *src, GstPad *pad, gpointer user_data)
{
  Decoder *d = (Decoder *) user_data;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  bool audio = caps && gst_caps_get_size (caps) > 0 &&
      g_str_has_prefix (
          gst_structure_get_name (gst_caps_get_structure (caps, 0)),
          "audio/x-raw");
  if (caps)
    gst_caps_unref (caps);
  if (!audio || d->linked.load ())
    return;
  GstPad *sink = gst_element_get_static_pad (d->convert, "sink");
  if (!gst_pad_is_linked (sink) && gst_pad_link (pad, sink) == GST_PAD_LINK_OK)
    d->linked = true;
  gst_object_unref (sink);
}

void
on_no_more_pads (GstElement *src, gpointer user_data)
{
  ((Decoder *) user_data)->no_more_pads = true;
}

std::string
bus_error (GstElement *pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  gst_object_unref (bus);
  if (!m)
    return "";
  GError *e = nullptr;
  gst_message_parse_error (m, &e, nullptr);
  std::string out = e ? e->message : "unknown error";
  g_clear_error (&e);
  gst_message_unref (m);
  return out;
}

} // namespace

bool
has_audio_extension (const std::string &path)
{
  static const char *const kExtensions[] = { ".wav", ".flac", ".ogg", ".oga",
    ".opus", ".mp3", ".m4a", ".aac", ".wma", ".aif", ".aiff", ".au", ".caf",
    ".webm", ".mka", ".mkv", ".mp4", ".mov", ".3gp", ".amr" };
  gchar *lower = g_ascii_strdown (path.c_str (), -1);
  bool yes = false;
  for (const char *ext : kExtensions)
    yes = yes || g_str_has_suffix (lower, ext);
  g_free (lower);
  return yes;
}

Audio
decode_audio (const std::string &path, const std::atomic<bool> *cancel)
{
  if (!g_file_test (path.c_str (), G_FILE_TEST_EXISTS))
    throw CloneError (path + ": no such file");
  if (!g_file_test (path.c_str (), G_FILE_TEST_IS_REGULAR))
    throw CloneError (path + ": not a file");
  GError *err = nullptr;
  gchar *uri = gst_filename_to_uri (path.c_str (), &err);
  if (!uri) {
    std::string message = path + ": " + err->message;
    g_clear_error (&err);
    throw CloneError (message);
  }
  GstElement *pipeline = gst_pipeline_new ("decode");
  GstElement *src = gst_element_factory_make ("uridecodebin", NULL);
  Decoder d;
  d.convert = gst_element_factory_make ("audioconvert", NULL);
  GstElement *filter = gst_element_factory_make ("capsfilter", NULL);
  GstElement *sink = gst_element_factory_make ("appsink", NULL);
  if (!src || !d.convert || !filter || !sink) {
    g_free (uri);
    for (GstElement *e : { src, d.convert, filter, sink })
      if (e)
        gst_object_unref (e);
    gst_object_unref (pipeline);
    throw CloneError ("GStreamer's base plugins (uridecodebin, audioconvert, "
                      "appsink) are missing");
  }
  /* Only audio is decoded; the rate stays the file's own. */
  GstCaps *raw = gst_caps_from_string ("audio/x-raw");
  g_object_set (src, "uri", uri, "caps", raw, NULL);
  gst_caps_unref (raw);
  g_free (uri);
  GstCaps *mono = gst_caps_from_string (
      "audio/x-raw,format=F32LE,channels=1,layout=interleaved");
  g_object_set (filter, "caps", mono, NULL);
  gst_caps_unref (mono);
  g_object_set (sink, "sync", FALSE, "max-buffers", 16, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, d.convert, filter, sink, NULL);
  gst_element_link_many (d.convert, filter, sink, NULL);
  g_signal_connect (src, "pad-added", G_CALLBACK (on_pad_added), &d);
  g_signal_connect (src, "no-more-pads", G_CALLBACK (on_no_more_pads), &d);

  Audio out;
  std::string error;
  bool interrupted = false;
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    error = bus_error (pipeline);
    if (error.empty ())
      error = "cannot be decoded";
  }
  /* Short pulls, so that an error on the bus, Ctrl-C or a stall is seen. */
  gint64 idle_since = g_get_monotonic_time ();
  while (error.empty ()) {
    if (cancel && cancel->load ()) {
      interrupted = true;
      break;
    }
    GstSample *sample =
        gst_app_sink_try_pull_sample (GST_APP_SINK (sink), GST_SECOND / 10);
    if (!sample) {
      if (gst_app_sink_is_eos (GST_APP_SINK (sink)))
        break;
      error = bus_error (pipeline);
      if (!error.empty ())
        break;
      if (d.no_more_pads.load () && !d.linked.load ()) {
        error = "has no audio";
        break;
      }
      if (g_get_monotonic_time () - idle_since > 30 * G_USEC_PER_SEC) {
        error = "decoding stalled for 30 s; the file may be corrupt";
        break;
      }
      continue;
    }
    idle_since = g_get_monotonic_time ();
    if (out.rate == 0) {
      GstCaps *caps = gst_sample_get_caps (sample);
      if (caps)
        gst_structure_get_int (
            gst_caps_get_structure (caps, 0), "rate", &out.rate);
    }
    GstBuffer *b = gst_sample_get_buffer (sample);
    GstMapInfo map;
    if (b && gst_buffer_map (b, &map, GST_MAP_READ)) {
      const float *f = (const float *) map.data;
      out.samples.insert (out.samples.end (), f, f + map.size / sizeof (float));
      gst_buffer_unmap (b, &map);
    }
    gst_sample_unref (sample);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  if (interrupted)
    throw Interrupted ();
  if (!error.empty ())
    throw CloneError (path + ": cannot be decoded: " + error);
  if (out.samples.empty () || out.rate <= 0)
    throw CloneError (path + ": has no audio samples");
  return out;
}

} // namespace clonecli

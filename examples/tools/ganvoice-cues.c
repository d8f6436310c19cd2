/* ganvoice-cues: prints the spoken cues that subcues makes of a subtitle file.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   ganvoice-cues [--language L] [--encoding E] [--json] FILE
 */
#include <ganvoice/cuemeta.h>

#include <gst/gst.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static gboolean json_output = FALSE;

/* UTF-8 as is: g_print would transliterate to the locale's charset. */
static void G_GNUC_PRINTF (1, 2) out (const gchar *format, ...)
{
  va_list args;
  gchar *s;

  va_start (args, format);
  s = g_strdup_vprintf (format, args);
  va_end (args);
  fputs (s, stdout);
  g_free (s);
}

static void
print_time (GstClockTime t)
{
  guint64 ms = t / GST_MSECOND;
  out ("%02u:%02u:%02u.%03u", (guint) (ms / 3600000), (guint) (ms / 60000 % 60),
      (guint) (ms / 1000 % 60), (guint) (ms % 1000));
}

static void
print_json_string (const gchar *s)
{
  GString *json;

  if (!s) {
    out ("null");
    return;
  }
  json = g_string_new ("\"");
  for (; *s; s++) {
    guchar c = (guchar) *s;
    if (c == '"' || c == '\\')
      g_string_append_printf (json, "\\%c", c);
    else if (c < 0x20)
      g_string_append_printf (json, "\\u%04x", c);
    else
      g_string_append_c (json, c);
  }
  g_string_append_c (json, '"');
  out ("%s", json->str);
  g_string_free (json, TRUE);
}

static void
on_handoff (GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer user_data)
{
  GanvoiceCueMeta *meta = gst_buffer_get_ganvoice_cue_meta (buf);
  GstMapInfo map;
  gchar *text;

  if (!meta || !gst_buffer_map (buf, &map, GST_MAP_READ))
    return;
  text = g_strndup ((const gchar *) map.data, map.size);
  gst_buffer_unmap (buf, &map);
  if (json_output) {
    out ("{\"index\": %u, \"start\": %.3f, \"end\": %.3f, \"line\": %u, "
         "\"turn\": %u, \"n_turns\": %u, \"speaker\": ",
        meta->index, GST_BUFFER_PTS (buf) / (double) GST_SECOND,
        (GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf)) /
            (double) GST_SECOND,
        meta->source_line, meta->turn, meta->n_turns);
    print_json_string (meta->speaker);
    out (", \"language\": ");
    print_json_string (meta->language);
    out (", \"style\": ");
    print_json_string (meta->style);
    out (", \"text\": ");
    print_json_string (text);
    out (", \"markup\": ");
    print_json_string (meta->markup);
    out ("}\n");
  } else {
    out ("%4u  ", meta->index);
    print_time (GST_BUFFER_PTS (buf));
    out (" --> ");
    print_time (GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf));
    out ("  %s%s%s\n", meta->speaker ? meta->speaker : "",
        meta->speaker ? ": " : "", text);
  }
  g_free (text);
}

int
main (int argc, char **argv)
{
  gchar *language = NULL, *encoding = NULL;
  gchar **files = NULL;
  GOptionEntry entries[] = { { "language", 'l', 0, G_OPTION_ARG_STRING,
                                 &language, "Language of the cues (ISO 639)",
                                 "L" },
    { "encoding", 'e', 0, G_OPTION_ARG_STRING, &encoding,
        "Encoding of legacy 8-bit files", "E" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json_output, "One JSON object per cue",
        NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL,
        "FILE" },
    { NULL } };
  GOptionContext *ctx = g_option_context_new ("FILE - print spoken cues");
  GError *err = NULL;
  GstElement *pipeline, *src, *cues, *sink;
  GstBus *bus;
  GstMessage *msg;
  int status = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err) || !files ||
      !files[0] || files[1]) {
    g_printerr ("%s\n",
        err ? err->message
            : "usage: ganvoice-cues [--language L] [--encoding E] [--json] "
              "FILE");
    return 2;
  }
  g_option_context_free (ctx);

  pipeline = gst_pipeline_new ("cues");
  src = gst_element_factory_make ("filesrc", NULL);
  cues = gst_element_factory_make ("subcues", NULL);
  sink = gst_element_factory_make ("fakesink", NULL);
  if (!src || !cues || !sink) {
    g_printerr ("ganvoice-cues: the subcues element is not installed "
                "(set GST_PLUGIN_PATH to the build's plugins directory)\n");
    return 1;
  }
  g_object_set (src, "location", files[0], NULL);
  if (language)
    g_object_set (cues, "language", language, NULL);
  if (encoding)
    g_object_set (cues, "encoding", encoding, NULL);
  g_object_set (sink, "signal-handoffs", TRUE, "sync", FALSE, NULL);
  g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, cues, sink, NULL);
  gst_element_link_many (src, cues, sink, NULL);

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipeline);
  while ((msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
              GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))) {
    GstMessageType type = GST_MESSAGE_TYPE (msg);
    if (type == GST_MESSAGE_WARNING) {
      gst_message_parse_warning (msg, &err, NULL);
      g_printerr ("warning: %s\n", err->message);
      g_clear_error (&err);
    } else if (type == GST_MESSAGE_ERROR) {
      gst_message_parse_error (msg, &err, NULL);
      g_printerr ("error: %s\n", err->message);
      g_clear_error (&err);
      status = 1;
    }
    gst_message_unref (msg);
    if (type != GST_MESSAGE_WARNING)
      break;
  }
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  g_strfreev (files);
  g_free (language);
  g_free (encoding);
  return status;
}

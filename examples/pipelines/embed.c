/* embed: dubbin from a C program. Dubs the soundtrack of a media file from
 * a subtitle file into a WAV file, printing each cue as ganvoice speaks it.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   embed INPUT SUBTITLES OUT.wav [VOICE]
 *
 * Built by meson (build/examples/pipelines/embed); run it with the plugin on
 * GST_PLUGIN_PATH (build/plugins) and the models where ganvoice finds them.
 * The pipeline:
 *
 *   uridecodebin (audio) ! dubbin ! audioconvert ! wavenc ! filesink
 */
#include <gst/gst.h>

#include <stdio.h>

static void
on_pad_added (GstElement *decodebin, GstPad *pad, gpointer user_data)
{
  GstElement *dub = GST_ELEMENT (user_data);
  GstCaps *caps = gst_pad_query_caps (pad, NULL);
  gboolean audio = g_str_has_prefix (
      gst_structure_get_name (gst_caps_get_structure (caps, 0)), "audio/");
  GstPad *sink = gst_element_get_static_pad (dub, "sink");

  gst_caps_unref (caps);
  /* The first audio stream; video and other streams stay unlinked. */
  if (audio && !gst_pad_is_linked (sink))
    gst_pad_link (pad, sink);
  gst_object_unref (sink);
}

static gboolean
on_message (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  GMainLoop *loop = user_data;
  const GstStructure *s;
  GError *err = NULL;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:
      /* ganvoice's per-cue report, through the bin. */
      s = gst_message_get_structure (msg);
      if (gst_structure_has_name (s, "ganvoice-cue")) {
        guint index = 0;
        guint64 start = 0, end = 0;
        gdouble rate = 1.0;
        gst_structure_get_uint (s, "index", &index);
        gst_structure_get_uint64 (s, "start", &start);
        gst_structure_get_uint64 (s, "end", &end);
        gst_structure_get_double (s, "applied-rate", &rate);
        printf ("cue %u: %" GST_TIME_FORMAT " - %" GST_TIME_FORMAT
                ", rate %.2f, %s\n",
            index, GST_TIME_ARGS (start), GST_TIME_ARGS (end), rate,
            gst_structure_get_string (s, "step"));
      }
      break;
    case GST_MESSAGE_ERROR:
      gst_message_parse_error (msg, &err, NULL);
      fprintf (stderr, "embed: error from %s: %s\n",
          GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message);
      g_clear_error (&err);
      g_main_loop_quit (loop);
      break;
    case GST_MESSAGE_EOS:
      g_main_loop_quit (loop);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  GstElement *pipeline, *decode, *dub, *convert, *encode, *sink;
  GMainLoop *loop;
  GstBus *bus;
  gchar *uri;

  gst_init (&argc, &argv);
  if (argc < 4) {
    fprintf (stderr, "usage: embed INPUT SUBTITLES OUT.wav [VOICE]\n");
    return 2;
  }

  pipeline = gst_pipeline_new ("embed");
  decode = gst_element_factory_make ("uridecodebin", NULL);
  dub = gst_element_factory_make ("dubbin", NULL);
  convert = gst_element_factory_make ("audioconvert", NULL);
  encode = gst_element_factory_make ("wavenc", NULL);
  sink = gst_element_factory_make ("filesink", NULL);
  if (!decode || !dub || !convert || !encode || !sink) {
    fprintf (stderr,
        "embed: an element is missing (is the ganvoice plugin "
        "on GST_PLUGIN_PATH?)\n");
    return 1;
  }

  uri = gst_filename_to_uri (argv[1], NULL);
  g_object_set (decode, "uri", uri, NULL);
  g_free (uri);
  g_object_set (dub, "subtitle-location", argv[2], "duck-level", -15.0, NULL);
  gst_util_set_object_arg (G_OBJECT (dub), "mode", "duck");
  if (argc > 4)
    g_object_set (dub, "voice", argv[4], NULL);
  g_object_set (sink, "location", argv[3], NULL);

  gst_bin_add_many (
      GST_BIN (pipeline), decode, dub, convert, encode, sink, NULL);
  if (!gst_element_link_many (dub, convert, encode, sink, NULL)) {
    fprintf (stderr, "embed: cannot link the pipeline\n");
    return 1;
  }
  g_signal_connect (decode, "pad-added", G_CALLBACK (on_pad_added), dub);

  loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (pipeline);
  gst_bus_add_watch (bus, on_message, loop);
  gst_object_unref (bus);

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_main_loop_run (loop);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  gst_object_unref (pipeline);
  g_main_loop_unref (loop);
  printf ("wrote %s\n", argv[3]);
  return 0;
}

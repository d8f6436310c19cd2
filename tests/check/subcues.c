/* GstHarness tests of the subcues element.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/cuemeta.h>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/tag/tag.h>

#include <string.h>

#define MS GST_MSECOND

static gchar *
read_sample (const gchar *name, gsize *size)
{
  const gchar *root = g_getenv ("GANVOICE_SOURCE_DIR");
  gchar *path, *contents = NULL;

  fail_unless (root != NULL, "GANVOICE_SOURCE_DIR is not set");
  path = g_build_filename (root, "examples", "media", name, NULL);
  fail_unless (g_file_get_contents (path, &contents, size, NULL), "%s", path);
  g_free (path);
  return contents;
}

static GstHarness *
new_harness (GstBus **bus)
{
  GstHarness *h = gst_harness_new ("subcues");

  if (bus) {
    *bus = gst_bus_new ();
    gst_element_set_bus (h->element, *bus);
  }
  gst_harness_play (h);
  return h;
}

/* Pushes @data in small pieces, as a file source would, then EOS. */
static gboolean
push_file (GstHarness *h, const gchar *data, gsize size, gsize chunk)
{
  gsize off;
  GstSegment bytes;

  /* A file source starts each run with a BYTES segment. */
  gst_segment_init (&bytes, GST_FORMAT_BYTES);
  if (!gst_harness_push_event (h, gst_event_new_segment (&bytes)))
    return FALSE;
  for (off = 0; off < size; off += chunk) {
    gsize n = MIN (chunk, size - off);
    GstBuffer *buf = gst_buffer_new_memdup (data + off, n);
    GstFlowReturn ret = gst_harness_push (h, buf);
    if (ret != GST_FLOW_OK)
      return FALSE;
  }
  return gst_harness_push_event (h, gst_event_new_eos ());
}

typedef struct {
  GstClockTime pts;
  GstClockTime duration;
  const gchar *text;
  const gchar *speaker;
} ExpectedCue;

static void
check_cues (
    GstHarness *h, const ExpectedCue *expected, guint n, const gchar *language)
{
  guint i;

  fail_unless_equals_int (gst_harness_buffers_in_queue (h), n);
  for (i = 0; i < n; i++) {
    GstBuffer *buf = gst_harness_pull (h);
    GanvoiceCueMeta *meta = gst_buffer_get_ganvoice_cue_meta (buf);
    GstMapInfo map;

    fail_unless (meta != NULL);
    fail_unless_equals_clocktime (GST_BUFFER_PTS (buf), expected[i].pts);
    fail_unless_equals_clocktime (
        GST_BUFFER_DURATION (buf), expected[i].duration);
    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    fail_unless_equals_int (map.size, strlen (expected[i].text));
    fail_unless (memcmp (map.data, expected[i].text, map.size) == 0,
        "cue %u: '%.*s' != '%s'", i, (int) map.size, map.data,
        expected[i].text);
    gst_buffer_unmap (buf, &map);
    fail_unless_equals_string (meta->speaker, expected[i].speaker);
    fail_unless_equals_string (meta->language, language);
    fail_unless_equals_int (meta->index, i);
    fail_unless (meta->markup != NULL);
    fail_unless_equals_int (
        GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT), i == 0);
    gst_buffer_unref (buf);
  }
}

static const ExpectedCue sample_en_srt[] = {
  { 500 * MS, 2700 * MS,
      "Every morning, the lighthouse keeper climbed the stairs.", "NARRATOR" },
  { 3600 * MS, 1400 * MS, "Did you see the ship last night?", NULL },
  { 5000 * MS, 1400 * MS, "Only its lights, far out at sea.", NULL },
  { 6900 * MS, 2900 * MS,
      "The storm is coming closer. We should light the lamp early.", "MARA" },
  { 10300 * MS, 2700 * MS, "I will fetch the oil from the shed.", "TOM" },
  { 13500 * MS, 3000 * MS,
      "\"Keep the light burning,\" my father said, \"and nobody is ever "
      "lost.\"",
      NULL },
  { 19800 * MS, 3200 * MS,
      "There it is! The ship is turning toward the harbour.", "MARA" },
  { 23500 * MS, 3000 * MS, "And that night, everyone came home safely.",
      "NARRATOR" },
};

GST_START_TEST (test_srt_cues)
{
  GstHarness *h = new_harness (NULL);
  gsize size;
  gchar *data = read_sample ("sample.en.srt", &size);
  GstEvent *event;
  GstCaps *caps;
  const GstSegment *segment;

  g_object_set (h->element, "language", "en", NULL);
  fail_unless (push_file (h, data, size, 7));

  /* stream-start, caps, tags, segment, in that order. */
  event = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (event), GST_EVENT_STREAM_START);
  gst_event_unref (event);
  event = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (event), GST_EVENT_CAPS);
  gst_event_parse_caps (event, &caps);
  fail_unless (gst_caps_is_equal (
      caps, gst_caps_from_string ("text/x-raw, format=utf8")));
  gst_event_unref (event);
  event = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (event), GST_EVENT_TAG);
  gst_event_unref (event);
  event = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (event), GST_EVENT_SEGMENT);
  gst_event_parse_segment (event, &segment);
  fail_unless_equals_int (segment->format, GST_FORMAT_TIME);
  fail_unless_equals_uint64 (segment->start, 0);
  gst_event_unref (event);

  check_cues (h, sample_en_srt, G_N_ELEMENTS (sample_en_srt), "en");
  event = gst_harness_pull_event (h);
  fail_unless_equals_int (GST_EVENT_TYPE (event), GST_EVENT_EOS);
  gst_event_unref (event);

  g_free (data);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_ass_speakers_and_language)
{
  static const ExpectedCue expected[] = {
    { 500 * MS, 2700 * MS,
        "Every morning, the lighthouse keeper climbed the stairs.",
        "Narrator" },
    { 3600 * MS, 2800 * MS, "Did you see the ship last night?", "Tom" },
    { 5000 * MS, 1400 * MS, "Only its lights, far out at sea.", "Mara" },
    { 6900 * MS, 2900 * MS,
        "The storm is coming closer. We should light the lamp early.", "Mara" },
    { 10300 * MS, 2700 * MS, "I will fetch the oil from the shed.", "Tom" },
    { 13500 * MS, 3000 * MS,
        "\"Keep the light burning,\" my father said, \"and nobody is ever "
        "lost.\"",
        "Narrator" },
    { 19800 * MS, 3200 * MS,
        "There it is! The ship is turning toward the harbour.", "Mara" },
    { 23500 * MS, 3000 * MS, "And that night, everyone came home safely.",
        "Narrator" },
  };
  GstHarness *h = new_harness (NULL);
  gsize size;
  gchar *data = read_sample ("sample.en.ass", &size);
  GstBuffer *buf;
  GanvoiceCueMeta *meta;

  /* The file says "Language: en"; typefind-style caps pick the parser. */
  gst_harness_set_src_caps_str (h, "application/x-ass");
  fail_unless (push_file (h, data, size, 4096));
  buf = gst_harness_pull (h);
  meta = gst_buffer_get_ganvoice_cue_meta (buf);
  fail_unless_equals_string (meta->style, "Narration");
  fail_unless_equals_int (meta->source_line, 18);
  gst_buffer_unref (buf);
  /* Put it back in the comparison by checking the rest. */
  fail_unless_equals_int (
      gst_harness_buffers_in_queue (h), G_N_ELEMENTS (expected) - 1);
  {
    guint i;
    for (i = 1; i < G_N_ELEMENTS (expected); i++) {
      GstBuffer *b = gst_harness_pull (h);
      GanvoiceCueMeta *m = gst_buffer_get_ganvoice_cue_meta (b);
      fail_unless_equals_clocktime (GST_BUFFER_PTS (b), expected[i].pts);
      fail_unless_equals_clocktime (
          GST_BUFFER_DURATION (b), expected[i].duration);
      fail_unless_equals_string (m->speaker, expected[i].speaker);
      fail_unless_equals_string (m->language, "en");
      gst_buffer_unref (b);
    }
  }
  g_free (data);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_text_input_from_subparse_caps)
{
  GstHarness *h = new_harness (NULL);
  GstBuffer *buf;
  const gchar *markup = "<i>- Hi.</i>\n- Hello there.";
  GanvoiceCueMeta *meta;
  GstSegment segment;

  gst_harness_set_src_caps_str (h, "text/x-raw, format=pango-markup");
  gst_segment_init (&segment, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));
  gst_harness_push_event (h,
      gst_event_new_tag (
          gst_tag_list_new (GST_TAG_LANGUAGE_CODE, "fra", NULL)));

  buf = gst_buffer_new_memdup (markup, strlen (markup));
  GST_BUFFER_PTS (buf) = 1 * GST_SECOND;
  GST_BUFFER_DURATION (buf) = 3 * GST_SECOND;
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  fail_unless (gst_harness_push_event (
      h, gst_event_new_gap (5 * GST_SECOND, GST_SECOND)));

  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 2);
  buf = gst_harness_pull (h);
  meta = gst_buffer_get_ganvoice_cue_meta (buf);
  fail_unless_equals_clocktime (GST_BUFFER_PTS (buf), 1 * GST_SECOND);
  fail_unless_equals_clocktime (GST_BUFFER_DURATION (buf), 600 * MS);
  fail_unless_equals_int (meta->turn, 0);
  fail_unless_equals_int (meta->n_turns, 2);
  fail_unless_equals_string (meta->language, "fr");
  fail_unless_equals_string (meta->markup, markup);
  gst_buffer_unref (buf);
  buf = gst_harness_pull (h);
  meta = gst_buffer_get_ganvoice_cue_meta (buf);
  fail_unless_equals_clocktime (GST_BUFFER_PTS (buf), 1600 * MS);
  fail_unless_equals_int (meta->index, 1);
  fail_unless_equals_int (meta->turn, 1);
  gst_buffer_unref (buf);

  /* The GAP went through. */
  {
    GstEvent *event;
    gboolean saw_gap = FALSE;
    while ((event = gst_harness_try_pull_event (h))) {
      saw_gap |= GST_EVENT_TYPE (event) == GST_EVENT_GAP;
      gst_event_unref (event);
    }
    fail_unless (saw_gap);
  }
  gst_harness_teardown (h);
}
GST_END_TEST;

static GstMessage *
pop_message (GstBus *bus, GstMessageType type)
{
  return gst_bus_pop_filtered (bus, type);
}

GST_START_TEST (test_malformed_cue_warns_with_line)
{
  GstBus *bus;
  GstHarness *h = new_harness (&bus);
  const gchar *srt = "1\n00:00:01,000 --> 00:00:02,000\nGood\n\n"
                     "2\n00:00:03,000 --> 00:0x:04,000\nBroken\n\n"
                     "3\n00:00:05,000 --> 00:00:06,000\nGood too\n";
  GstMessage *msg;
  GError *err = NULL;
  const GstStructure *details;
  guint line = 0;

  fail_unless (push_file (h, srt, strlen (srt), 5));
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 2);

  msg = pop_message (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless (strstr (err->message, "line 6") != NULL, "%s", err->message);
  gst_message_parse_warning_details (msg, &details);
  fail_unless (details != NULL);
  fail_unless (gst_structure_get_uint (details, "line", &line));
  fail_unless_equals_int (line, 6);
  g_clear_error (&err);
  gst_message_unref (msg);
  fail_unless (pop_message (bus, GST_MESSAGE_ERROR) == NULL);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_unrecoverable_input_errors)
{
  static const struct {
    const gchar *input;
    const gchar *encoding;
    guint line;
    const gchar *words;
  } cases[] = {
    { "Hello,\nthis is not a subtitle file.\n", NULL, 1, "not a SubRip" },
    { "\n\nWEBVTT\n\nno timing\nat all\n", NULL, 5, "no valid cue" },
    { "1\n00:00:05,000 --> 00:00:01,000\nbackwards\n", NULL, 2,
        "no valid cue" },
    { "[Script Info]\nTitle: no events\n", NULL, 1, "[Events]" },
    { "1\n00:00:01,000 --> 00:00:02,000\nSe\xF1or\n", "NO-SUCH-CHARSET", 0,
        "NO-SUCH-CHARSET" },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstBus *bus;
    GstHarness *h = gst_harness_new ("subcues");
    GstMessage *msg;
    GError *err = NULL;
    const GstStructure *details;
    guint line = 99;

    bus = gst_bus_new ();
    gst_element_set_bus (h->element, bus);
    if (cases[i].encoding)
      g_object_set (h->element, "encoding", cases[i].encoding, NULL);
    gst_harness_play (h);
    /* EOS is refused: the error ends the stream instead. */
    fail_if (push_file (h, cases[i].input, strlen (cases[i].input), 64));
    fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
    msg = pop_message (bus, GST_MESSAGE_ERROR);
    fail_unless (msg != NULL, "case %u: no error", i);
    gst_message_parse_error (msg, &err, NULL);
    fail_unless (strstr (err->message, cases[i].words) != NULL, "case %u: %s",
        i, err->message);
    gst_message_parse_error_details (msg, &details);
    fail_unless (gst_structure_get_uint (details, "line", &line));
    fail_unless_equals_int (line, cases[i].line);
    g_clear_error (&err);
    gst_message_unref (msg);
    gst_element_set_bus (h->element, NULL);
    gst_object_unref (bus);
    gst_harness_teardown (h);
  }
}
GST_END_TEST;

GST_START_TEST (test_max_size)
{
  GstBus *bus;
  GstHarness *h = gst_harness_new ("subcues");
  GstMessage *msg;
  gchar big[100];

  bus = gst_bus_new ();
  gst_element_set_bus (h->element, bus);
  g_object_set (h->element, "max-size", (guint64) 150, NULL);
  gst_harness_play (h);
  memset (big, 'x', sizeof (big));
  {
    GstSegment bytes;
    gst_segment_init (&bytes, GST_FORMAT_BYTES);
    gst_harness_push_event (h, gst_event_new_segment (&bytes));
  }
  fail_unless_equals_int (
      gst_harness_push (h, gst_buffer_new_memdup (big, sizeof (big))),
      GST_FLOW_OK);
  fail_unless_equals_int (
      gst_harness_push (h, gst_buffer_new_memdup (big, sizeof (big))),
      GST_FLOW_ERROR);
  msg = pop_message (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_unref (msg);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_seek_rereads_from_start)
{
  GstHarness *h = new_harness (NULL);
  gsize size;
  gchar *data = read_sample ("sample.en.srt", &size);
  GstEvent *seek, *event;
  GstFormat format;
  gint64 start;
  guint32 seqnum;
  const GstSegment *segment;
  gboolean saw_segment = FALSE;

  fail_unless (push_file (h, data, size, 100));
  gst_harness_buffers_received (h);
  while ((event = gst_harness_try_pull_event (h)))
    gst_event_unref (event);
  while (gst_harness_buffers_in_queue (h))
    gst_buffer_unref (gst_harness_pull (h));

  seek = gst_event_new_seek (1.0, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH,
      GST_SEEK_TYPE_SET, 10 * GST_SECOND, GST_SEEK_TYPE_NONE, -1);
  seqnum = gst_event_get_seqnum (seek);
  fail_unless (gst_harness_push_upstream_event (h, seek));

  /* Upstream is asked to start over from byte 0. */
  do {
    event = gst_harness_try_pull_upstream_event (h);
    fail_unless (event != NULL, "no seek went upstream");
    if (GST_EVENT_TYPE (event) != GST_EVENT_SEEK)
      gst_clear_event (&event);
  } while (event == NULL);
  gst_event_parse_seek (event, NULL, &format, NULL, NULL, &start, NULL, NULL);
  fail_unless_equals_int (format, GST_FORMAT_BYTES);
  fail_unless_equals_int64 (start, 0);
  gst_event_unref (event);

  /* ... and does, as a file source would. */
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  fail_unless (push_file (h, data, size, 100));

  while ((event = gst_harness_try_pull_event (h))) {
    if (GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT) {
      gst_event_parse_segment (event, &segment);
      fail_unless_equals_uint64 (segment->start, 10 * GST_SECOND);
      fail_unless_equals_int (gst_event_get_seqnum (event), seqnum);
      saw_segment = TRUE;
    }
    gst_event_unref (event);
  }
  fail_unless (saw_segment);
  /* Cues ending before 10 s are gone: TOM's cue at 10.3 s comes first. */
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 4);
  {
    GstBuffer *buf = gst_harness_pull (h);
    fail_unless_equals_clocktime (GST_BUFFER_PTS (buf), 10300 * MS);
    fail_unless (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT));
    gst_buffer_unref (buf);
  }

  /* Negative rates and BYTES seeks are refused. */
  fail_if (gst_harness_push_upstream_event (h,
      gst_event_new_seek (-1.0, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH,
          GST_SEEK_TYPE_SET, 0, GST_SEEK_TYPE_NONE, -1)));
  fail_if (gst_harness_push_upstream_event (h,
      gst_event_new_seek (1.0, GST_FORMAT_BYTES, GST_SEEK_FLAG_FLUSH,
          GST_SEEK_TYPE_SET, 0, GST_SEEK_TYPE_NONE, -1)));
  g_free (data);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_flush_and_reuse)
{
  GstHarness *h = new_harness (NULL);
  gsize size;
  gchar *data = read_sample ("sample.es.srt", &size);
  gint round;

  /* Half a file, then a flush: the half is forgotten. */
  {
    GstSegment bytes;
    gst_segment_init (&bytes, GST_FORMAT_BYTES);
    gst_harness_push_event (h, gst_event_new_segment (&bytes));
  }
  fail_unless_equals_int (
      gst_harness_push (h, gst_buffer_new_memdup (data, size / 2)),
      GST_FLOW_OK);
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));

  for (round = 0; round < 2; round++) {
    GstBuffer *buf;
    GstMapInfo map;

    fail_unless (push_file (h, data, size, 33));
    fail_unless_equals_int (gst_harness_buffers_in_queue (h), 8);
    buf = gst_harness_pull (h);
    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    fail_unless (g_str_has_prefix ((const gchar *) map.data,
        "Cada ma\xC3\xB1"
        "ana"));
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
    while (gst_harness_buffers_in_queue (h))
      gst_buffer_unref (gst_harness_pull (h));

    /* Back to READY and up again: the element starts afresh. */
    fail_unless_equals_int (gst_element_set_state (h->element, GST_STATE_READY),
        GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int (
        gst_element_set_state (h->element, GST_STATE_PLAYING),
        GST_STATE_CHANGE_SUCCESS);
    gst_harness_push_event (h, gst_event_new_stream_start ("again"));
  }
  g_free (data);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_legacy_encoding)
{
  /* "Привет" in CP1251, and the same file as UTF-16BE with a BOM. */
  const gchar cp1251[] = "1\r\n00:00:01,000 --> 00:00:02,000\r\n"
                         "\xCF\xF0\xE8\xE2\xE5\xF2\r\n";
  GstHarness *h = gst_harness_new ("subcues");
  GstBuffer *buf;
  GstMapInfo map;
  gchar *utf16;
  gsize utf16_size;

  g_object_set (h->element, "encoding", "CP1251", NULL);
  gst_harness_play (h);
  fail_unless (push_file (h, cp1251, strlen (cp1251), 3));
  buf = gst_harness_pull (h);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  fail_unless_equals_int (map.size, strlen ("Привет"));
  fail_unless (memcmp (map.data, "Привет", map.size) == 0);
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
  gst_harness_teardown (h);

  utf16 = g_convert ("\xEF\xBB\xBF"
                     "1\n00:00:01,000 --> 00:00:02,000\nПривет\n",
      -1, "UTF-16BE", "UTF-8", NULL, &utf16_size, NULL);
  fail_unless (utf16 != NULL);
  h = new_harness (NULL);
  fail_unless (push_file (h, utf16, utf16_size, 5));
  buf = gst_harness_pull (h);
  fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
  fail_unless (memcmp (map.data, "Привет", map.size) == 0);
  gst_buffer_unmap (buf, &map);
  gst_buffer_unref (buf);
  g_free (utf16);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_keep_annotations_property)
{
  const gchar *srt = "1\n00:00:01,000 --> 00:00:02,000\n[thunder]\n\n"
                     "2\n00:00:03,000 --> 00:00:04,000\n(sighs) Fine.\n";
  GstHarness *h = gst_harness_new ("subcues");

  g_object_set (h->element, "keep-annotations", TRUE, NULL);
  gst_harness_play (h);
  fail_unless (push_file (h, srt, strlen (srt), 50));
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 2);
  gst_harness_teardown (h);

  h = new_harness (NULL);
  fail_unless (push_file (h, srt, strlen (srt), 50));
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 1);
  gst_harness_teardown (h);
}
GST_END_TEST;

static void
on_handoff (GstElement *sink, GstBuffer *buf, GstPad *pad, guint *count)
{
  if (gst_buffer_get_ganvoice_cue_meta (buf))
    (*count)++;
}

/* Runs a launch line to EOS and returns how many cues reached "sink". */
static guint
count_cues_in_pipeline (const gchar *description, GstClockTime seek_to)
{
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (description, &err);
  GstElement *sink;
  GstBus *bus;
  GstMessage *msg;
  guint count = 0;

  fail_unless (pipeline != NULL, "%s", err ? err->message : "?");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_object_set (sink, "signal-handoffs", TRUE, NULL);
  g_signal_connect (sink, "handoff", G_CALLBACK (on_handoff), &count);
  gst_object_unref (sink);

  fail_unless (gst_element_set_state (pipeline, GST_STATE_PAUSED) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (
      gst_element_get_state (pipeline, NULL, NULL, 5 * GST_SECOND),
      GST_STATE_CHANGE_SUCCESS);
  if (GST_CLOCK_TIME_IS_VALID (seek_to)) {
    count = 0;
    fail_unless (gst_element_seek_simple (
        pipeline, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH, seek_to));
  }
  fail_unless (gst_element_set_state (pipeline, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (
      bus, 10 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  return count;
}

static gchar *
sample_path (const gchar *name)
{
  return g_build_filename (
      g_getenv ("GANVOICE_SOURCE_DIR"), "examples", "media", name, NULL);
}

GST_START_TEST (test_pipelines)
{
  gchar *srt = sample_path ("sample.en.srt");
  gchar *ass = sample_path ("sample.en.ass");
  gchar *line;

  /* A file source, as in the README. */
  line = g_strdup_printf ("filesrc location=\"%s\" ! subcues ! "
                          "fakesink name=sink sync=false",
      srt);
  fail_unless_equals_int (
      count_cues_in_pipeline (line, GST_CLOCK_TIME_NONE), 8);
  /* A flushing seek in a real pipeline re-reads the file. */
  fail_unless_equals_int (count_cues_in_pipeline (line, 10 * GST_SECOND), 4);
  g_free (line);

  /* subparse's text/x-raw output. */
  line = g_strdup_printf ("filesrc location=\"%s\" ! subparse ! subcues ! "
                          "fakesink name=sink sync=false",
      srt);
  fail_unless_equals_int (
      count_cues_in_pipeline (line, GST_CLOCK_TIME_NONE), 8);
  g_free (line);

  /* typefind in front, and ASS. */
  line = g_strdup_printf ("filesrc location=\"%s\" ! typefind ! subcues ! "
                          "fakesink name=sink sync=false",
      ass);
  fail_unless_equals_int (
      count_cues_in_pipeline (line, GST_CLOCK_TIME_NONE), 8);
  g_free (line);

  /* Standard text elements accept the cues. */
  line = g_strdup_printf (
      "filesrc location=\"%s\" ! subcues ! o.text_sink "
      "videotestsrc num-buffers=10 ! video/x-raw,width=160,height=120 ! "
      "textoverlay name=o ! fakesink name=sink sync=false",
      srt);
  count_cues_in_pipeline (line, GST_CLOCK_TIME_NONE);
  g_free (line);

  g_free (srt);
  g_free (ass);
}
GST_END_TEST;

static Suite *
subcues_suite (void)
{
  Suite *s = suite_create ("subcues");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_srt_cues);
  tcase_add_test (tc, test_ass_speakers_and_language);
  tcase_add_test (tc, test_text_input_from_subparse_caps);
  tcase_add_test (tc, test_malformed_cue_warns_with_line);
  tcase_add_test (tc, test_unrecoverable_input_errors);
  tcase_add_test (tc, test_max_size);
  tcase_add_test (tc, test_seek_rereads_from_start);
  tcase_add_test (tc, test_flush_and_reuse);
  tcase_add_test (tc, test_legacy_encoding);
  tcase_add_test (tc, test_keep_annotations_property);
  tcase_add_test (tc, test_pipelines);
  return s;
}

GST_CHECK_MAIN (subcues);

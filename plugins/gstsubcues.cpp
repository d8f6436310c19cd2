/* ganvoice: subcues, subtitles to timed speech cues.
 * SPDX-License-Identifier: LGPL-2.1-or-later */

/**
 * SECTION:element-subcues
 * @title: subcues
 * @short_description: Subtitle files to timed speech cues
 *
 * Reads a SubRip (.srt), WebVTT (.vtt) or SSA/ASS subtitle file, or the
 * `text/x-raw` cues of `subparse`, and outputs one `text/x-raw` buffer per
 * spoken cue: the PTS is the cue start, the duration its length, and the
 * text is clean and speakable (markup, entities and, unless
 * #GstSubCues:keep-annotations is set, SDH annotations such as `[music]` are
 * gone). Each buffer carries a #GanvoiceCueMeta with the cue index, speaker,
 * style, language and original markup. Cues with dialogue dashes are split
 * into one cue per turn.
 *
 * A malformed cue is skipped with a WARNING message naming the file and
 * line; an input from which nothing can be recovered (not a subtitle file,
 * no valid cue at all, an unreadable encoding, larger than
 * #GstSubCues:max-size) is an ERROR naming the line. See docs/subcues.md.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=film.srt ! subcues ! fakesink dump=true silent=false -v
 * gst-launch-1.0 filesrc location=film.ass ! subcues language=en ! o.text_sink filesrc location=film.mkv ! decodebin ! videoconvert ! textoverlay name=o ! videoconvert ! autovideosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstsubcues.h"

#include <ganvoice/cuemeta.h>
#include <ganvoice/subtitles.h>

#include <gst/tag/tag.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <string>
#include <vector>

GST_DEBUG_CATEGORY_STATIC (gst_sub_cues_debug);
#define GST_CAT_DEFAULT gst_sub_cues_debug

enum
{
  PROP_0,
  PROP_LANGUAGE,
  PROP_ENCODING,
  PROP_KEEP_ANNOTATIONS,
  PROP_SPLIT_DIALOGUE,
  PROP_KEEP_SIGNS,
  PROP_MAX_SIZE,
};

#define DEFAULT_KEEP_ANNOTATIONS FALSE
#define DEFAULT_SPLIT_DIALOGUE TRUE
#define DEFAULT_KEEP_SIGNS FALSE
#define DEFAULT_MAX_SIZE (64 * 1024 * 1024)
/* Beyond this many, warnings are summed up in one last message. */
#define MAX_POSTED_WARNINGS 50

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("application/x-subtitle; application/x-subtitle-vtt; "
                     "application/x-ssa; application/x-ass; "
                     "text/x-raw, format = (string) { utf8, pango-markup }"));

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
        GST_STATIC_CAPS ("text/x-raw, format = (string) utf8"));

namespace {

enum class InputKind
{
  File, /* a whole subtitle file, parsed at EOS */
  TextCues, /* timed text/x-raw buffers, one cue each */
};

struct Settings {
  std::string language;
  std::string encoding;
  bool keep_annotations = DEFAULT_KEEP_ANNOTATIONS;
  bool split_dialogue = DEFAULT_SPLIT_DIALOGUE;
  bool keep_signs = DEFAULT_KEEP_SIGNS;
  guint64 max_size = DEFAULT_MAX_SIZE;
};

} // namespace

struct SubCuesPrivate {
  /* GST_OBJECT_LOCK guards: settings, seek_segment, seek_seqnum. */
  Settings settings;
  GstSegment seek_segment; /* output segment asked for by the last seek */
  guint32 seek_seqnum = GST_SEQNUM_INVALID;

  /* The sink pad's stream lock guards the rest. */
  std::atomic<InputKind> kind{ InputKind::File }; /* also read by seeks */
  ganvoice::SubtitleFormat caps_format = ganvoice::SubtitleFormat::Unknown;
  std::string input; /* the file so far (InputKind::File) */
  std::string location; /* upstream file name, for messages */
  std::string tag_language; /* from upstream tags */
  bool stream_started = false;
  bool caps_sent = false;
  bool segment_pending = true; /* a SEGMENT must precede the next buffer */
  bool discont = true;
  bool failed = false; /* an error was posted; drop the rest */
  guint next_text_index = 0; /* cue numbering in TextCues mode */

  SubCuesPrivate ()
  {
    gst_segment_init (&seek_segment, GST_FORMAT_TIME);
  }

  void reset_stream ()
  {
    input.clear ();
    input.shrink_to_fit ();
    segment_pending = true;
    discont = true;
    failed = false;
    next_text_index = 0;
  }
};

struct _GstSubCues {
  GstElement parent;

  GstPad *sinkpad;
  GstPad *srcpad;
  SubCuesPrivate *priv;
};

#define gst_sub_cues_parent_class parent_class
G_DEFINE_TYPE (GstSubCues, gst_sub_cues, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (
    subcues, "subcues", GST_RANK_NONE, GST_TYPE_SUB_CUES);

static Settings
copy_settings (GstSubCues *self)
{
  GST_OBJECT_LOCK (self);
  Settings settings = self->priv->settings;
  GST_OBJECT_UNLOCK (self);
  return settings;
}

/* "film.srt:12", "line 12" or "film.srt", for messages. */
static std::string
where (GstSubCues *self, unsigned line)
{
  const std::string &file = self->priv->location;
  if (line == 0)
    return file.empty () ? std::string ("subtitles") : file;
  return (file.empty () ? std::string ("line ") : file + ":") +
      std::to_string (line);
}

static void
post_warnings (
    GstSubCues *self, const std::vector<ganvoice::Diagnostic> &warnings)
{
  size_t posted = 0;
  for (const auto &w : warnings) {
    if (posted == MAX_POSTED_WARNINGS) {
      GST_ELEMENT_WARNING (self, STREAM, DECODE,
          ("%s: %u more problems in the subtitles were not reported",
              where (self, 0).c_str (), (unsigned) (warnings.size () - posted)),
          (NULL));
      break;
    }
    GST_ELEMENT_WARNING_WITH_DETAILS (self, STREAM, DECODE,
        ("%s: %s", where (self, w.line).c_str (), w.message.c_str ()), (NULL),
        ("line", G_TYPE_UINT, w.line, "location", G_TYPE_STRING,
            self->priv->location.c_str (), NULL));
    posted++;
  }
}

static void
post_parse_error (GstSubCues *self, const ganvoice::Diagnostic &error)
{
  self->priv->failed = true;
  GST_ELEMENT_ERROR_WITH_DETAILS (self, STREAM, DECODE,
      ("%s: %s", where (self, error.line).c_str (), error.message.c_str ()),
      (NULL),
      ("line", G_TYPE_UINT, error.line, "location", G_TYPE_STRING,
          self->priv->location.c_str (), NULL));
}

static void
remember_upstream_location (GstSubCues *self)
{
  GstQuery *query = gst_query_new_uri ();
  if (gst_pad_peer_query (self->sinkpad, query)) {
    gchar *uri = NULL;
    gst_query_parse_uri (query, &uri);
    gchar *file = uri ? g_filename_from_uri (uri, NULL, NULL) : NULL;
    if (file)
      self->priv->location = file;
    else if (uri)
      self->priv->location = uri;
    g_free (file);
    g_free (uri);
  }
  gst_query_unref (query);
}

/* Sends stream-start (when upstream sent none), caps, segment and tags
 * ahead of the first buffer of a segment. */
static void
push_stream_headers (
    GstSubCues *self, const std::string &language, const char *codec)
{
  SubCuesPrivate *priv = self->priv;

  if (!priv->stream_started) {
    gchar *id =
        gst_pad_create_stream_id (self->srcpad, GST_ELEMENT (self), "cues");
    gst_pad_push_event (self->srcpad, gst_event_new_stream_start (id));
    g_free (id);
    priv->stream_started = true;
  }
  if (!priv->caps_sent) {
    GstCaps *caps = gst_static_pad_template_get_caps (&src_template);
    gst_pad_set_caps (self->srcpad, caps);
    gst_caps_unref (caps);
    priv->caps_sent = true;
    GstTagList *tags = gst_tag_list_new_empty ();
    if (!language.empty ())
      gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE, GST_TAG_LANGUAGE_CODE,
          language.c_str (), NULL);
    if (codec)
      gst_tag_list_add (
          tags, GST_TAG_MERGE_REPLACE, GST_TAG_SUBTITLE_CODEC, codec, NULL);
    gst_tag_list_set_scope (tags, GST_TAG_SCOPE_STREAM);
    if (gst_tag_list_is_empty (tags))
      gst_tag_list_unref (tags);
    else
      gst_pad_push_event (self->srcpad, gst_event_new_tag (tags));
  }
}

static GstBuffer *
make_cue_buffer (const ganvoice::Cue &cue)
{
  GstBuffer *buf = gst_buffer_new_memdup (cue.text.data (), cue.text.size ());
  GST_BUFFER_PTS (buf) = cue.start_ns;
  GST_BUFFER_DURATION (buf) = cue.end_ns - cue.start_ns;
  auto nullable = [] (const std::string &s) {
    return s.empty () ? nullptr : s.c_str ();
  };
  GanvoiceCueMeta *meta =
      gst_buffer_add_ganvoice_cue_meta (buf, cue.index, nullable (cue.speaker),
          nullable (cue.style), nullable (cue.language), nullable (cue.markup));
  meta->source_line = cue.line;
  meta->turn = cue.turn;
  meta->n_turns = cue.n_turns;
  return buf;
}

static GstFlowReturn
push_cue (GstSubCues *self, const ganvoice::Cue &cue)
{
  GstBuffer *buf = make_cue_buffer (cue);
  if (self->priv->discont) {
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    self->priv->discont = false;
  }
  GST_LOG_OBJECT (self,
      "cue %u %" GST_TIME_FORMAT " - %" GST_TIME_FORMAT " [%s] %s", cue.index,
      GST_TIME_ARGS (cue.start_ns), GST_TIME_ARGS (cue.end_ns),
      cue.speaker.c_str (), cue.text.c_str ());
  return gst_pad_push (self->srcpad, buf);
}

static void
push_segment (GstSubCues *self, const GstSegment &segment, guint32 seqnum)
{
  GstEvent *event = gst_event_new_segment (&segment);
  if (seqnum != GST_SEQNUM_INVALID)
    gst_event_set_seqnum (event, seqnum);
  gst_pad_push_event (self->srcpad, event);
  self->priv->segment_pending = false;
}

/* The whole file is in: parse it and push the cues of the current segment.
 * Returns FALSE when an error was posted. */
static gboolean
finish_file (GstSubCues *self)
{
  SubCuesPrivate *priv = self->priv;
  Settings settings = copy_settings (self);

  ganvoice::DocumentOptions options;
  options.legacy_encoding = settings.encoding;
  options.language = settings.language;
  options.format = priv->caps_format;
  options.parse.keep_signs = settings.keep_signs;
  options.text.keep_annotations = settings.keep_annotations;
  options.text.split_dialogue = settings.split_dialogue;

  /* An empty file never reached the chain function, where the name is
   * usually asked for: every message names the file. */
  if (priv->location.empty ())
    remember_upstream_location (self);
  ganvoice::CueDocument doc =
      ganvoice::parse_cue_document (priv->input, options);
  priv->input.clear ();
  priv->input.shrink_to_fit ();
  post_warnings (self, doc.warnings);
  if (!doc.ok) {
    post_parse_error (self, doc.error);
    return FALSE;
  }
  if (doc.language.empty () && !priv->tag_language.empty ()) {
    doc.language = priv->tag_language;
    for (auto &cue : doc.cues)
      cue.language = doc.language;
  }
  GST_INFO_OBJECT (self,
      "%s file read as %s: %zu timed cues, %zu spoken cues, "
      "language '%s'",
      ganvoice::subtitle_format_name (doc.format), doc.encoding.c_str (),
      doc.raw_cue_count, doc.cues.size (), doc.language.c_str ());
  if (doc.cues.empty ())
    GST_ELEMENT_WARNING (self, STREAM, DECODE,
        ("%s: the subtitles have no spoken cue", where (self, 0).c_str ()),
        (NULL));

  GST_OBJECT_LOCK (self);
  GstSegment segment = priv->seek_segment;
  guint32 seqnum = priv->seek_seqnum;
  GST_OBJECT_UNLOCK (self);

  push_stream_headers (
      self, doc.language, ganvoice::subtitle_format_name (doc.format));
  push_segment (self, segment, seqnum);
  for (const auto &cue : doc.cues) {
    if (cue.end_ns <= (gint64) segment.start)
      continue;
    if (GST_CLOCK_TIME_IS_VALID (segment.stop) &&
        cue.start_ns >= (gint64) segment.stop)
      break;
    GstFlowReturn ret = push_cue (self, cue);
    if (ret == GST_FLOW_FLUSHING) {
      GST_DEBUG_OBJECT (self, "flushing, stop pushing cues");
      return TRUE;
    }
    if (ret != GST_FLOW_OK && ret != GST_FLOW_NOT_LINKED) {
      if (ret == GST_FLOW_EOS)
        break;
      GST_ELEMENT_FLOW_ERROR (self, ret);
      priv->failed = true;
      return FALSE;
    }
  }
  return TRUE;
}

/* A timed text/x-raw buffer: one cue, perhaps split into turns. */
static GstFlowReturn
handle_text_cue (GstSubCues *self, GstBuffer *buf)
{
  SubCuesPrivate *priv = self->priv;
  if (!GST_BUFFER_PTS_IS_VALID (buf)) {
    GST_ELEMENT_WARNING (self, STREAM, DECODE,
        ("text buffer without a timestamp; skipped"), (NULL));
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }
  Settings settings = copy_settings (self);
  ganvoice::TextOptions text_options;
  text_options.keep_annotations = settings.keep_annotations;
  text_options.split_dialogue = settings.split_dialogue;

  GstMapInfo map;
  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    gst_buffer_unref (buf);
    GST_ELEMENT_ERROR (
        self, RESOURCE, READ, ("could not map a text buffer"), (NULL));
    return GST_FLOW_ERROR;
  }
  ganvoice::RawCue raw;
  raw.start_ns = GST_BUFFER_PTS (buf);
  raw.end_ns = raw.start_ns +
      (GST_BUFFER_DURATION_IS_VALID (buf) ? GST_BUFFER_DURATION (buf)
                                          : GST_SECOND);
  /* The text may be anything: make it valid UTF-8 first. */
  ganvoice::DecodedText decoded = ganvoice::decode_subtitle_text (
      std::string_view ((const char *) map.data, map.size), "UTF-8");
  gst_buffer_unmap (buf, &map);
  gboolean discont = GST_BUFFER_IS_DISCONT (buf);
  gst_buffer_unref (buf);
  if (!decoded.ok) {
    GST_ELEMENT_WARNING (
        self, STREAM, DECODE, ("%s", decoded.error.message.c_str ()), (NULL));
    return GST_FLOW_OK;
  }
  raw.markup = std::move (decoded.text);

  std::string language =
      settings.language.empty () ? priv->tag_language : settings.language;
  std::vector<ganvoice::Cue> cues =
      ganvoice::make_spoken_cues ({ raw }, language, text_options);
  if (discont)
    priv->discont = true;
  push_stream_headers (self, language, NULL);
  for (auto &cue : cues) {
    cue.index = priv->next_text_index++;
    GstFlowReturn ret = push_cue (self, cue);
    if (ret != GST_FLOW_OK)
      return ret;
  }
  return GST_FLOW_OK;
}

static GstFlowReturn
gst_sub_cues_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  GstSubCues *self = GST_SUB_CUES (parent);
  SubCuesPrivate *priv = self->priv;

  try {
    if (priv->failed) {
      gst_buffer_unref (buf);
      return GST_FLOW_ERROR;
    }
    if (priv->kind == InputKind::TextCues) {
      if (priv->segment_pending) {
        /* Upstream's own segment normally came first; be safe. */
        GstSegment segment;
        gst_segment_init (&segment, GST_FORMAT_TIME);
        push_stream_headers (self, priv->tag_language, NULL);
        push_segment (self, segment, GST_SEQNUM_INVALID);
      }
      return handle_text_cue (self, buf);
    }

    if (priv->input.empty () && priv->location.empty ())
      remember_upstream_location (self);
    guint64 max_size = copy_settings (self).max_size;
    gsize size = gst_buffer_get_size (buf);
    if (priv->input.size () + size > max_size) {
      gst_buffer_unref (buf);
      priv->failed = true;
      GST_ELEMENT_ERROR (self, STREAM, TOO_LAZY,
          ("%s: the subtitle file is larger than max-size (%" G_GUINT64_FORMAT
           " bytes)",
              where (self, 0).c_str (), max_size),
          (NULL));
      return GST_FLOW_ERROR;
    }
    gsize old = priv->input.size ();
    priv->input.resize (old + size);
    gst_buffer_extract (buf, 0, &priv->input[old], size);
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  } catch (const std::exception &e) {
    priv->failed = true;
    GST_ELEMENT_ERROR (
        self, CORE, FAILED, ("subcues failed: %s", e.what ()), (NULL));
    return GST_FLOW_ERROR;
  }
}

static void
set_input_caps (GstSubCues *self, GstCaps *caps)
{
  SubCuesPrivate *priv = self->priv;
  GstStructure *s = gst_caps_get_structure (caps, 0);
  const gchar *name = gst_structure_get_name (s);

  priv->kind = InputKind::File;
  priv->caps_format = ganvoice::SubtitleFormat::Unknown;
  if (g_str_equal (name, "text/x-raw"))
    priv->kind = InputKind::TextCues;
  else if (g_str_equal (name, "application/x-subtitle-vtt"))
    priv->caps_format = ganvoice::SubtitleFormat::WebVTT;
  else if (g_str_equal (name, "application/x-ssa") ||
      g_str_equal (name, "application/x-ass"))
    priv->caps_format = ganvoice::SubtitleFormat::SubStationAlpha;
  /* application/x-subtitle covers several formats: the content decides. */
  GST_DEBUG_OBJECT (self, "input caps %" GST_PTR_FORMAT, caps);
}

static gboolean
gst_sub_cues_sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstSubCues *self = GST_SUB_CUES (parent);
  SubCuesPrivate *priv = self->priv;

  GST_LOG_OBJECT (self, "sink event %" GST_PTR_FORMAT, event);
  try {
    switch (GST_EVENT_TYPE (event)) {
      case GST_EVENT_STREAM_START:
        priv->stream_started = true;
        return gst_pad_push_event (self->srcpad, event);
      case GST_EVENT_CAPS: {
        GstCaps *caps;
        gst_event_parse_caps (event, &caps);
        set_input_caps (self, caps);
        gst_event_unref (event);
        return TRUE;
      }
      case GST_EVENT_SEGMENT:
        if (priv->kind == InputKind::TextCues) {
          const GstSegment *segment;
          gst_event_parse_segment (event, &segment);
          if (segment->format != GST_FORMAT_TIME) {
            gst_event_unref (event);
            GST_ELEMENT_ERROR (self, STREAM, FORMAT,
                ("text cues need a TIME segment"), (NULL));
            return FALSE;
          }
          push_stream_headers (self, priv->tag_language, NULL);
          priv->segment_pending = false;
          return gst_pad_push_event (self->srcpad, event);
        }
        /* A file arrives in BYTES; our TIME segment goes out with the cues. */
        gst_event_unref (event);
        return TRUE;
      case GST_EVENT_TAG: {
        GstTagList *tags;
        gst_event_parse_tag (event, &tags);
        gchar *lang = NULL;
        if (gst_tag_list_get_string (tags, GST_TAG_LANGUAGE_CODE, &lang)) {
          const gchar *iso = gst_tag_get_language_code_iso_639_1 (lang);
          priv->tag_language = iso ? iso : lang;
          g_free (lang);
        }
        if (priv->kind == InputKind::TextCues)
          return gst_pad_push_event (self->srcpad, event);
        gst_event_unref (event);
        return TRUE;
      }
      case GST_EVENT_GAP:
        if (priv->kind == InputKind::TextCues)
          return gst_pad_push_event (self->srcpad, event);
        gst_event_unref (event);
        return TRUE;
      case GST_EVENT_FLUSH_STOP:
        priv->reset_stream ();
        return gst_pad_push_event (self->srcpad, event);
      case GST_EVENT_EOS:
        if (priv->failed) {
          gst_event_unref (event);
          return FALSE;
        }
        if (priv->kind == InputKind::File && !finish_file (self)) {
          gst_event_unref (event);
          return FALSE;
        }
        return gst_pad_push_event (self->srcpad, event);
      default:
        return gst_pad_event_default (pad, parent, event);
    }
  } catch (const std::exception &e) {
    gst_event_unref (event);
    priv->failed = true;
    GST_ELEMENT_ERROR (
        self, CORE, FAILED, ("subcues failed: %s", e.what ()), (NULL));
    return FALSE;
  }
}

/* A TIME seek on a file: re-read it from byte 0 and push the cues of the
 * new segment (as subparse does). */
static gboolean
handle_file_seek (GstSubCues *self, GstEvent *event)
{
  gdouble rate;
  GstFormat format;
  GstSeekFlags flags;
  GstSeekType start_type, stop_type;
  gint64 start, stop;
  gst_event_parse_seek (
      event, &rate, &format, &flags, &start_type, &start, &stop_type, &stop);
  if (format != GST_FORMAT_TIME || rate <= 0.0) {
    GST_DEBUG_OBJECT (self, "only forward TIME seeks are supported");
    return FALSE;
  }

  GST_OBJECT_LOCK (self);
  GstSegment previous = self->priv->seek_segment;
  guint32 previous_seqnum = self->priv->seek_seqnum;
  gboolean update;
  gst_segment_do_seek (&self->priv->seek_segment, rate, format, flags,
      start_type, start, stop_type, stop, &update);
  self->priv->seek_seqnum = gst_event_get_seqnum (event);
  GST_OBJECT_UNLOCK (self);

  GstEvent *byte_seek = gst_event_new_seek (1.0, GST_FORMAT_BYTES,
      (GstSeekFlags) (flags & GST_SEEK_FLAG_FLUSH), GST_SEEK_TYPE_SET, 0,
      GST_SEEK_TYPE_NONE, -1);
  gst_event_set_seqnum (byte_seek, gst_event_get_seqnum (event));
  if (gst_pad_push_event (self->sinkpad, byte_seek))
    return TRUE;

  GST_DEBUG_OBJECT (self, "upstream refused to seek back to the start");
  GST_OBJECT_LOCK (self);
  self->priv->seek_segment = previous;
  self->priv->seek_seqnum = previous_seqnum;
  GST_OBJECT_UNLOCK (self);
  return FALSE;
}

static gboolean
gst_sub_cues_src_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstSubCues *self = GST_SUB_CUES (parent);

  if (GST_EVENT_TYPE (event) == GST_EVENT_SEEK &&
      self->priv->kind == InputKind::File) {
    gboolean ok = handle_file_seek (self, event);
    gst_event_unref (event);
    return ok;
  }
  return gst_pad_event_default (pad, parent, event);
}

static gboolean
gst_sub_cues_src_query (GstPad *pad, GstObject *parent, GstQuery *query)
{
  GstSubCues *self = GST_SUB_CUES (parent);

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS: {
      GstCaps *filter, *caps = gst_pad_get_pad_template_caps (pad);
      gst_query_parse_caps (query, &filter);
      if (filter) {
        GstCaps *both =
            gst_caps_intersect_full (filter, caps, GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref (caps);
        caps = both;
      }
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      return TRUE;
    }
    case GST_QUERY_SEEKING: {
      GstFormat format;
      gst_query_parse_seeking (query, &format, NULL, NULL, NULL);
      if (self->priv->kind == InputKind::TextCues)
        return gst_pad_query_default (pad, parent, query);
      if (format != GST_FORMAT_TIME) {
        gst_query_set_seeking (query, format, FALSE, -1, -1);
        return TRUE;
      }
      /* Seekable in time when upstream can go back to byte 0. */
      GstQuery *bytes = gst_query_new_seeking (GST_FORMAT_BYTES);
      gboolean seekable = FALSE;
      if (gst_pad_peer_query (self->sinkpad, bytes))
        gst_query_parse_seeking (bytes, NULL, &seekable, NULL, NULL);
      gst_query_unref (bytes);
      gst_query_set_seeking (query, GST_FORMAT_TIME, seekable, 0, -1);
      return TRUE;
    }
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

static GstStateChangeReturn
gst_sub_cues_change_state (GstElement *element, GstStateChange transition)
{
  GstSubCues *self = GST_SUB_CUES (element);

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    GST_PAD_STREAM_LOCK (self->sinkpad);
    self->priv->reset_stream ();
    self->priv->kind = InputKind::File;
    self->priv->caps_format = ganvoice::SubtitleFormat::Unknown;
    self->priv->location.clear ();
    self->priv->tag_language.clear ();
    self->priv->stream_started = false;
    self->priv->caps_sent = false;
    GST_PAD_STREAM_UNLOCK (self->sinkpad);
    GST_OBJECT_LOCK (self);
    gst_segment_init (&self->priv->seek_segment, GST_FORMAT_TIME);
    self->priv->seek_seqnum = GST_SEQNUM_INVALID;
    GST_OBJECT_UNLOCK (self);
  }

  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    /* The pads are deactivated: no streaming thread is inside us. */
    self->priv->reset_stream ();
  }
  return ret;
}

static void
gst_sub_cues_set_property (
    GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstSubCues *self = GST_SUB_CUES (object);
  Settings &s = self->priv->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LANGUAGE: {
      const gchar *lang = g_value_get_string (value);
      s.language = lang ? lang : "";
      break;
    }
    case PROP_ENCODING: {
      const gchar *enc = g_value_get_string (value);
      s.encoding = enc ? enc : "";
      break;
    }
    case PROP_KEEP_ANNOTATIONS:
      s.keep_annotations = g_value_get_boolean (value);
      break;
    case PROP_SPLIT_DIALOGUE:
      s.split_dialogue = g_value_get_boolean (value);
      break;
    case PROP_KEEP_SIGNS:
      s.keep_signs = g_value_get_boolean (value);
      break;
    case PROP_MAX_SIZE:
      s.max_size = g_value_get_uint64 (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_sub_cues_get_property (
    GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstSubCues *self = GST_SUB_CUES (object);
  const Settings &s = self->priv->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LANGUAGE:
      g_value_set_string (
          value, s.language.empty () ? NULL : s.language.c_str ());
      break;
    case PROP_ENCODING:
      g_value_set_string (
          value, s.encoding.empty () ? NULL : s.encoding.c_str ());
      break;
    case PROP_KEEP_ANNOTATIONS:
      g_value_set_boolean (value, s.keep_annotations);
      break;
    case PROP_SPLIT_DIALOGUE:
      g_value_set_boolean (value, s.split_dialogue);
      break;
    case PROP_KEEP_SIGNS:
      g_value_set_boolean (value, s.keep_signs);
      break;
    case PROP_MAX_SIZE:
      g_value_set_uint64 (value, s.max_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_sub_cues_finalize (GObject *object)
{
  GstSubCues *self = GST_SUB_CUES (object);

  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_sub_cues_class_init (GstSubCuesClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (
      gst_sub_cues_debug, "subcues", 0, "ganvoice subtitles to speech cues");

  gobject_class->set_property = gst_sub_cues_set_property;
  gobject_class->get_property = gst_sub_cues_get_property;
  gobject_class->finalize = gst_sub_cues_finalize;

  g_object_class_install_property (gobject_class, PROP_LANGUAGE,
      g_param_spec_string ("language", "Language",
          "Language of the cues as an ISO 639 code (e.g. \"en\"); overrides "
          "the file's own (NULL: from the file or upstream tags)",
          NULL,
          (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_ENCODING,
      g_param_spec_string ("encoding", "Encoding",
          "Encoding of files that are neither UTF-8 nor UTF-16/32 with a "
          "BOM, as an iconv name such as WINDOWS-1251 (NULL: WINDOWS-1252)",
          NULL,
          (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_KEEP_ANNOTATIONS,
      g_param_spec_boolean ("keep-annotations", "Keep annotations",
          "Keep non-speech SDH annotations such as [music], (laughs) and "
          "\u266A lyrics \u266A instead of dropping them",
          DEFAULT_KEEP_ANNOTATIONS,
          (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property (gobject_class, PROP_SPLIT_DIALOGUE,
      g_param_spec_boolean ("split-dialogue", "Split dialogue",
          "Split cues with dialogue dashes into one cue per turn, sharing the "
          "cue's time by text length",
          DEFAULT_SPLIT_DIALOGUE,
          (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property (gobject_class, PROP_KEEP_SIGNS,
      g_param_spec_boolean ("keep-signs", "Keep signs",
          "Keep ASS lines that look like signs, songs or effects (an Effect, "
          "drawing or karaoke tags, or a sign/song/OP/ED style or name)",
          DEFAULT_KEEP_SIGNS,
          (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_MAX_SIZE,
      g_param_spec_uint64 ("max-size", "Maximum size",
          "Largest subtitle file accepted, in bytes", 1, G_MAXUINT64,
          DEFAULT_MAX_SIZE,
          (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
              GST_PARAM_MUTABLE_READY)));

  element_class->change_state = gst_sub_cues_change_state;

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Subtitles to speech cues", "Codec/Parser/Subtitle",
      "Parses SubRip, WebVTT and SSA/ASS subtitles (or subparse's text) into "
      "one clean, speakable text buffer per cue, with a cue meta carrying "
      "speaker, style, language and markup",
      "ganvoice developers");
  /* gst-inspect shows these beside the description. */
  gst_element_class_add_static_metadata (element_class, "doc-section",
      "element-subcues: subtitle files to timed speech cues (gtk-doc in "
      "plugins/gstsubcues.cpp; clean-up and error rules in docs/subcues.md)");
  gst_element_class_add_static_metadata (element_class, "example-launch-line",
      "gst-launch-1.0 filesrc location=film.srt ! subcues ! "
      "fakesink dump=true silent=false -v");
}

static void
gst_sub_cues_init (GstSubCues *self)
{
  self->priv = new SubCuesPrivate ();

  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (
      self->sinkpad, GST_DEBUG_FUNCPTR (gst_sub_cues_chain));
  gst_pad_set_event_function (
      self->sinkpad, GST_DEBUG_FUNCPTR (gst_sub_cues_sink_event));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_event_function (
      self->srcpad, GST_DEBUG_FUNCPTR (gst_sub_cues_src_event));
  gst_pad_set_query_function (
      self->srcpad, GST_DEBUG_FUNCPTR (gst_sub_cues_src_query));
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
}

/* ganvoice-dub: building the GStreamer graph.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pipeline.h"

#include "chunks.h"
#include "programme.h"
#include "progress.h"
#include "report.h"

#include <ganvoice/model-paths.h>

#include <gst/app/gstappsrc.h>

#include <algorithm>
#include <cstring>

namespace dub {

namespace {

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
  /* Complexity 5 instead of 10: the encode is the programme chain's
   * biggest cost, and at 128 kbit/s the difference does not show; it takes
   * about a third off (docs/benchmarks.md). */
  if (enc)
    g_object_set (enc, "bitrate", 128000, "complexity", 5, NULL);
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

/* The dub's track tags: language and title. mp4mux has no track titles:
 * it would make the dub's title the whole file's, so MP4 gets none. */
GstElement *
make_tagger (App *app)
{
  GstElement *tagger = make (app, "taginject", "dub-tags");
  if (!tagger)
    return NULL;
  GstTagList *tags = gst_tag_list_new_empty ();
  if (app->container != Container::Mp4)
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

/* add-track: the input's audio kept as a track of its own, copied when
 * the container takes its codec (@caps), re-encoded otherwise. Returns
 * the pad that takes the demuxed stream. */
GstPad *
keep_original (App *app, GstCaps *caps)
{
  if (mux_accepts (app->mux, "audio_%u", caps))
    return queue_to_mux (app, "audio_%u");
  GstElement *odec = make (app, "decodebin", "original-decode");
  GstElement *conv = make (app, "audioconvert", "original-convert");
  GstElement *res = make (app, "audioresample", "original-resample");
  GstElement *enc = make_encoder (app, "original-encode");
  GstElement *oq = make (app, "queue", "original-encoded-queue");
  if (!odec || !link_many (app, { conv, res, enc, oq }) ||
      !link_to_mux (app, oq, "audio_%u"))
    return NULL;
  g_signal_connect (odec, "pad-added", G_CALLBACK (on_decoded_pad), conv);
  return queue_to_element (app, odec);
}

/* The muxer into the temporary file, with the provenance tag; fails on a
 * video codec that the container cannot hold. */
bool
make_output (App *app, bool has_video, GstCaps *video_caps)
{
  const Options &opt = app->opt;
  const char *mux_factory = app->container == Container::Mp4 ? "mp4mux"
      : app->container == Container::WebM                    ? "webmmux"
                                                             : "matroskamux";
  app->mux = make (app, mux_factory, "mux");
  GstElement *sink = make (app, "filesink", "output");
  if (!app->mux || !sink)
    return false;
  if (app->container != Container::Mp4)
    g_object_set (app->mux, "writing-app", "ganvoice-dub", NULL);
  /* Provenance: the file says that its dub is synthetic speech, in which
   * voices, made by what (a COMMENT in Matroska and WebM, ©cmt in MP4).
   * The muxer keeps its own over the input's tags. */
  gst_tag_setter_add_tags (GST_TAG_SETTER (app->mux), GST_TAG_MERGE_REPLACE,
      GST_TAG_COMMENT, opt.provenance.c_str (), NULL);
  g_object_set (sink, "location", app->temp.c_str (), NULL);
  if (!gst_element_link (app->mux, sink))
    return false;

  if (has_video && !mux_accepts (app->mux, "video_%u", video_caps)) {
    gchar *desc = gst_pb_utils_get_codec_description (video_caps);
    fail (app,
        "%s: its video is %s, which %s cannot hold without "
        "re-encoding (ganvoice-dub copies the video): write .mkv instead",
        opt.input.c_str (), desc ? desc : "of an unknown kind",
        app->container == Container::Mp4 ? ".mp4" : ".webm");
    g_free (desc);
    return false;
  }
  return true;
}

/* filesrc ! parsebin into the multiqueue; its pads are linked as they
 * come (on_parsebin_pad). */
bool
make_input (App *app)
{
  GstElement *src = make (app, "filesrc", "input");
  GstElement *parse = make (app, "parsebin", "parse");
  if (!link_many (app, { src, parse }))
    return false;
  g_object_set (src, "location", app->opt.input.c_str (), NULL);
  g_signal_connect (parse, "pad-added", G_CALLBACK (on_parsebin_pad), app);
  /* Limits in buffers alone: the multiqueue lets a full stream grow
   * while another is empty, which time and byte limits forbid. The
   * growth is bounded by how far the file's streams are apart. */
  app->demux_queue = make (app, "multiqueue", "demux-queue");
  if (!app->demux_queue)
    return false;
  g_object_set (app->demux_queue, "max-size-buffers", 64, "max-size-bytes", 0,
      "max-size-time", (guint64) 0, NULL);
  return true;
}

/* dubbin, set from the options, in 100 ms blocks. */
bool
make_dubbin (App *app, const std::string &voice, const std::string &speaker_map)
{
  const Options &opt = app->opt;
  app->dub = make (app, "dubbin", "dub");
  if (!app->dub)
    return false;
  g_object_set (app->dub, "duck-level", opt.duck_level, "loudness-target",
      opt.loudness_target, NULL);
  /* --programme: no subtitles, so no voice (no models are loaded). */
  if (opt.task != Task::Programme)
    g_object_set (app->dub, "subtitle-location", opt.subtitles.c_str (), NULL);
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
  /* The mixer's blocks: 100 ms rather than the aggregator's 10 ms, a
   * tenth of the per-buffer work in the mix, convert and encode
   * (latency does not matter in a file-to-file dub). */
  GstElement *mix = gst_bin_get_by_name (GST_BIN (app->dub), "duckmix");
  if (mix) {
    g_object_set (
        mix, "output-buffer-duration", (guint64) 100 * GST_MSECOND, NULL);
    gst_object_unref (mix);
  }
  return true;
}

/* The input's first audio track, decoded, into dubbin; with
 * @keep_track and add-track, also kept as a track of its own. */
bool
feed_programme (App *app, GstCaps *audio_caps, bool keep_track)
{
  GstElement *dec = make (app, "decodebin", "programme-decode");
  GstPad *programme = dec ? queue_to_element (app, dec) : NULL;
  if (!programme)
    return false;
  g_signal_connect (dec, "pad-added", G_CALLBACK (on_decoded_pad), app->dub);
  if (app->opt.mode != Mode::AddTrack || !keep_track) {
    app->audio_sink = programme;
    return true;
  }
  /* The original track is kept: copied when the container takes it,
   * re-encoded otherwise. The tee feeds two multiqueue streams. */
  GstElement *tee = make (app, "tee", "audio-tee");
  if (!tee)
    return false;
  GstPad *tee_src = gst_element_request_pad_simple (tee, "src_%u");
  bool linked = gst_pad_link (tee_src, programme) == GST_PAD_LINK_OK;
  gst_object_unref (tee_src);
  if (!linked)
    return false;
  GstPad *original = keep_original (app, audio_caps);
  tee_src = gst_element_request_pad_simple (tee, "src_%u");
  linked = original && gst_pad_link (tee_src, original) == GST_PAD_LINK_OK;
  gst_object_unref (tee_src);
  if (!linked)
    return false;
  app->audio_sink = gst_element_get_static_pad (tee, "sink");
  gst_object_unref (app->audio_sink); /* the tee keeps it */
  return true;
}

/* No audio: the dub alone, over silence as long as the video. */
bool
feed_silence (App *app)
{
  GstElement *silence = make (app, "audiotestsrc", "silence");
  GstElement *caps = make (app, "capsfilter", "silence-caps");
  if (!link_many (app, { silence, caps, app->dub }))
    return false;
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
  return true;
}

} // namespace

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
  /* --chunk: the mix alone, into a fakesink whose probe writes the range
   * (--programme: the programme, likewise); --assemble: the dub track from
   * the chunk files instead of dubbin. */
  const bool chunk = opt.task == Task::Chunk || opt.task == Task::Programme;
  const bool assemble = opt.task == Task::Assemble;
  bool ok = false;

  app->pipeline = gst_pipeline_new ("ganvoice-dub");
  if (!chunk && !make_output (app, has_video, video_caps))
    goto out;
  /* The dubbed track first gets its mux pad requested in track order. */
  if ((has_video || has_audio) && !make_input (app))
    goto out;
  if (has_video && !chunk &&
      !(app->video_sink = queue_to_mux (app, "video_%u")))
    goto out;

  if (assemble) {
    app->dub = make_assembled_source (app);
    if (!app->dub)
      goto out;
    if (has_audio && opt.mode == Mode::AddTrack &&
        !(app->audio_sink = keep_original (app, audio_caps)))
      goto out;
  } else if (!make_dubbin (app, voice, speaker_map) ||
      !(has_audio ? feed_programme (app, audio_caps, !chunk)
                  : feed_silence (app))) {
    goto out;
  }

  if (chunk) {
    /* The mix's frames go to the chunk file from a probe on dubbin's src. */
    GstElement *fake = make (app, "fakesink", "chunk-sink");
    if (!link_many (app, { app->dub, fake }))
      goto out;
    g_object_set (fake, "sync", FALSE, "async", FALSE, NULL);
  } else {
    /* The queue before the encoder gives the encode a thread of its own,
     * beside the mix: on two cores they overlap. It holds up to 2 s of
     * the dub's 100 ms blocks, and is the muxer's decoupling too. The
     * conversion to the encoder's format runs before it, in the mix
     * thread: the encode is the longer of the two. */
    GstElement *conv = make (app, "audioconvert", "dub-convert");
    GstElement *q = make (app, "queue", "dub-queue");
    GstElement *enc = make_encoder (app, "dub-encode");
    GstElement *tags = make_tagger (app);
    if (!link_many (app, { app->dub, conv, q, enc, tags }) ||
        !link_to_mux (app, tags, "audio_%u"))
      goto out;
    g_object_set (q, "max-size-buffers", 0, "max-size-bytes", 0,
        "max-size-time", (guint64) 2 * GST_SECOND, NULL);
    /* No dither into the encoder (opusenc takes S16): the lossy codec's
     * own noise is far above 16-bit rounding, dither would only turn
     * digital silence into noise to encode, and it cost 0.15 s of CPU per
     * 10 minutes of stereo (docs/benchmarks.md, issue 18). */
    gst_util_set_object_arg (G_OBJECT (conv), "dithering", "none");
  }
  {
    GstPad *pad = gst_element_get_static_pad (app->dub, "src");
    gst_pad_add_probe (
        pad, GST_PAD_PROBE_TYPE_BUFFER, on_dub_buffer, app, NULL);
    gst_object_unref (pad);
    if (has_audio && !assemble) {
      pad = gst_element_get_static_pad (app->dub, "sink");
      gst_pad_add_probe (pad,
          (GstPadProbeType) (GST_PAD_PROBE_TYPE_BUFFER |
              GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
          on_programme, app, NULL);
      gst_object_unref (pad);
    }
  }

  if (opt.embed_subtitles && !chunk && !add_subtitle_track (app, raw_cues))
    goto out;
  ok = true;

out:
  if (video_caps)
    gst_caps_unref (video_caps);
  if (audio_caps)
    gst_caps_unref (audio_caps);
  return ok;
}

bool
build_programme_chunk_pipeline (
    App *app, const std::string &voice, const std::string &speaker_map)
{
  app->pipeline = gst_pipeline_new ("ganvoice-dub");
  GstElement *src = make_programme_source (app);
  if (!src || !make_dubbin (app, voice, speaker_map))
    return false;
  GstElement *fake = make (app, "fakesink", "chunk-sink");
  if (!link_many (app, { src, app->dub, fake }))
    return false;
  g_object_set (fake, "sync", FALSE, "async", FALSE, NULL);
  GstPad *pad = gst_element_get_static_pad (app->dub, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_dub_buffer, app, NULL);
  gst_object_unref (pad);
  return true;
}

} // namespace dub

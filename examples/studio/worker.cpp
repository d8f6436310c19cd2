/* ganvoice-studio-worker: the studio's GStreamer work, one job per process.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   ganvoice-studio-worker probe FILE             what FILE holds (GstDiscoverer)
 *   ganvoice-studio-worker cues FILE              the cues of a subtitle file
 *   ganvoice-studio-worker peaks FILE -o OUT      waveform peaks (50/s) as JSON
 *   ganvoice-studio-worker say TEXTFILE VOICE LANG -o OUT.wav   a spoken line
 *   ganvoice-studio-worker profile AUDIO [--adapt] -o OUT   a voice profile
 *                                                 (speakerembed; --adapt: then
 *                                                 the opt-in adapt step)
 *   ganvoice-studio-worker dubonly FILE -o OUT    FILE (an extra-track
 *                                                 render) with its last audio
 *                                                 track as its only sound
 *   ganvoice-studio-worker take -o OUT.wav AUDIO LANG TEXT   a take of "Read
 *                                                 to me": decoded, checked
 *                                                 against TEXT, kept as WAV
 *   ganvoice-studio-worker fit REQUEST.json      how each cue will fit its slot:
 *                                                 natural speech lengths from the
 *                                                 duration predictor (no audio)
 *                                                 and the library's fit plan
 *   ganvoice-studio-worker finetune -o OUT TAKES.tsv --language L --name N
 *       [--gender G] [--checkpoint F] [--time-limit S] [--max-steps N]
 *       [--threads N]                             a deep clone from the takes
 *                                                 ("path<TAB>text" lines)
 *
 * Each prints one JSON object on stdout: the result, or {"error": "...",
 * "code": "..."} with a non-zero exit status; profile and dubonly print
 * {"type": "progress", "stage", "done", "total"} lines before it, and
 * finetune prints JSON lines instead (progress, then done, cancelled or
 * error; see finetune ()). Outputs are written to a temp
 * file and renamed. Keeping decoders and models out of the server process
 * means a bad file or a model crash costs one worker, not the server. */
#include "fit-plan.h"

#include <ganvoice/model-paths.h>
#include <ganvoice/pipeline-watchdog.h>
#include <ganvoice/subtitles.h>
#include <ganvoice/voice-adapt.h>
#include <ganvoice/voice-finetune.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <json-glib/json-glib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string
q (const std::string &s)
{
  JsonNode *n = json_node_new (JSON_NODE_VALUE);
  json_node_set_string (
      n, g_utf8_validate (s.c_str (), -1, nullptr) ? s.c_str () : "?");
  gchar *t = json_to_string (n, FALSE);
  std::string out (t);
  g_free (t);
  json_node_unref (n);
  return out;
}

int
fail (const std::string &message, const char *code = "failed")
{
  printf ("{\"error\": %s, \"code\": %s}\n", q (message).c_str (),
      q (code).c_str ());
  return 2;
}

std::string
num (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (buf, sizeof buf, "%.3f", std::isfinite (v) ? v : 0.0);
  return buf;
}

/* A progress line of a long task (profile, dubonly). */
void
progress_line (const char *stage, gint64 done, gint64 total)
{
  printf ("{\"type\": \"progress\", \"stage\": %s, \"done\": %" G_GINT64_FORMAT
          ", \"total\": %" G_GINT64_FORMAT "}\n",
      q (stage).c_str (), done, total);
  fflush (stdout);
}

bool
rename_into_place (const std::string &tmp, const std::string &out)
{
  return g_rename (tmp.c_str (), out.c_str ()) == 0;
}

/* ---- probe ---- */

int
probe (const char *path)
{
  GError *err = nullptr;
  gchar *uri = gst_filename_to_uri (path, &err);
  if (!uri)
    return fail (err->message);
  GstDiscoverer *d = gst_discoverer_new (20 * GST_SECOND, &err);
  if (!d)
    return fail (err->message);
  GstDiscovererInfo *info = gst_discoverer_discover_uri (d, uri, &err);
  g_free (uri);
  GstDiscovererResult res =
      info ? gst_discoverer_info_get_result (info) : GST_DISCOVERER_ERROR;
  if (res != GST_DISCOVERER_OK) {
    std::string why = res == GST_DISCOVERER_MISSING_PLUGINS
        ? "no decoder for this format is installed"
        : res == GST_DISCOVERER_TIMEOUT ? "it took too long to read"
                                        : "it is not a media file we can read";
    g_clear_error (&err);
    if (info)
      gst_discoverer_info_unref (info);
    g_object_unref (d);
    return fail (why, "unreadable");
  }
  g_clear_error (&err);
  std::string body = "{\"duration\": " +
      num (gst_discoverer_info_get_duration (info) / (double) GST_SECOND);
  GstDiscovererStreamInfo *top = gst_discoverer_info_get_stream_info (info);
  std::string container;
  if (top && GST_IS_DISCOVERER_CONTAINER_INFO (top)) {
    GstCaps *c = gst_discoverer_stream_info_get_caps (top);
    if (c) {
      container = gst_structure_get_name (gst_caps_get_structure (c, 0));
      gst_caps_unref (c);
    }
  }
  if (top)
    gst_discoverer_stream_info_unref (top);
  body += ", \"container\": " + q (container);
  body += ", \"video\": [";
  GList *vs = gst_discoverer_info_get_video_streams (info);
  bool first = true;
  for (GList *l = vs; l; l = l->next) {
    auto *v = (GstDiscovererVideoInfo *) l->data;
    GstCaps *c =
        gst_discoverer_stream_info_get_caps ((GstDiscovererStreamInfo *) v);
    std::string codec =
        c ? gst_structure_get_name (gst_caps_get_structure (c, 0)) : "";
    if (c)
      gst_caps_unref (c);
    if (gst_discoverer_video_info_is_image (v))
      continue;
    body += std::string (first ? "" : ", ") + "{\"codec\": " + q (codec) +
        ", \"width\": " +
        std::to_string (gst_discoverer_video_info_get_width (v)) +
        ", \"height\": " +
        std::to_string (gst_discoverer_video_info_get_height (v)) + "}";
    first = false;
  }
  gst_discoverer_stream_info_list_free (vs);
  body += "], \"audio\": [";
  GList *as = gst_discoverer_info_get_audio_streams (info);
  first = true;
  for (GList *l = as; l; l = l->next) {
    auto *a = (GstDiscovererAudioInfo *) l->data;
    GstCaps *c =
        gst_discoverer_stream_info_get_caps ((GstDiscovererStreamInfo *) a);
    std::string codec =
        c ? gst_structure_get_name (gst_caps_get_structure (c, 0)) : "";
    if (c)
      gst_caps_unref (c);
    const char *lang = gst_discoverer_audio_info_get_language (a);
    body += std::string (first ? "" : ", ") + "{\"codec\": " + q (codec) +
        ", \"channels\": " +
        std::to_string (gst_discoverer_audio_info_get_channels (a)) +
        ", \"rate\": " +
        std::to_string (gst_discoverer_audio_info_get_sample_rate (a)) +
        ", \"language\": " + q (lang ? lang : "") + "}";
    first = false;
  }
  gst_discoverer_stream_info_list_free (as);
  body += "]}";
  printf ("%s\n", body.c_str ());
  gst_discoverer_info_unref (info);
  g_object_unref (d);
  return 0;
}

/* ---- cues ---- */

int
cues (const char *path)
{
  gchar *data = nullptr;
  gsize len = 0;
  if (!g_file_get_contents (path, &data, &len, nullptr))
    return fail ("the file cannot be read");
  std::string bytes (data, len);
  g_free (data);
  /* The pipeline's parser with subcues' defaults, so that the editor shows
   * the cues a render speaks: one per spoken turn, annotations dropped. */
  ganvoice::CueDocument doc =
      ganvoice::parse_cue_document (bytes, ganvoice::DocumentOptions ());
  if (!doc.ok || doc.format == ganvoice::SubtitleFormat::Unknown)
    return fail ("this is not a subtitle file we can read (SRT, VTT, SSA/ASS)" +
            (doc.error.message.empty ()
                    ? std::string ()
                    : ": line " + std::to_string (doc.error.line) + ": " +
                        doc.error.message),
        "unreadable");
  if (doc.cues.empty ())
    return fail (doc.raw_cue_count == 0
            ? "the subtitle file has no cues"
            : "the subtitle file has no cue with anything to say",
        "unreadable");
  std::string body =
      "{\"format\": " + q (ganvoice::subtitle_format_name (doc.format)) +
      ", \"language\": " + q (doc.language) +
      ", \"encoding\": " + q (doc.encoding) + ", \"cues\": [";
  bool first = true;
  for (const ganvoice::Cue &c : doc.cues) {
    body += std::string (first ? "" : ", ") +
        "{\"start\": " + num (c.start_ns / 1e9) +
        ", \"end\": " + num (c.end_ns / 1e9) + ", \"text\": " + q (c.text) +
        ", \"speaker\": " + q (c.speaker) + ", \"style\": " + q (c.style) +
        ", \"line\": " + std::to_string (c.line) +
        ", \"turn\": " + std::to_string (c.turn) +
        ", \"n_turns\": " + std::to_string (c.n_turns) +
        ", \"markup\": " + q (c.markup) + "}";
    first = false;
  }
  body += "], \"warnings\": " + std::to_string (doc.warnings.size ()) + "}";
  printf ("%s\n", body.c_str ());
  return 0;
}

/* ---- pipelines ---- */

/* Seconds without data moving before a pipeline is stopped (as
 * ganvoice-dub's --stall-timeout). */
constexpr double kStallSeconds = 60.0;

/* Runs @pipeline to EOS; returns "" or the error. A pipeline whose data
 * stops moving is stopped with the watchdog's account of where. */
std::string
run_pipeline (GstElement *pipeline)
{
  std::string error;
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    error = "the pipeline could not start";
  } else {
    std::string stalled;
    GstMessage *m = ganvoice::wait_for_end (pipeline, kStallSeconds, &stalled);
    if (!m) {
      error =
          "it made no progress for a minute and was stopped (" + stalled + ")";
    } else if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      GError *e = nullptr;
      gst_message_parse_error (m, &e, nullptr);
      error = e ? e->message : "unknown error";
      g_clear_error (&e);
    }
    if (m)
      gst_message_unref (m);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return error;
}

GstElement *
make (GstElement *bin, const char *factory, const char *name = nullptr)
{
  GstElement *e = gst_element_factory_make (factory, name);
  if (e)
    gst_bin_add (GST_BIN (bin), e);
  return e;
}

/* ---- peaks ---- */

struct PeakState {
  GstElement *convert = nullptr;
  std::vector<unsigned> peaks;
  float cur = 0;
  unsigned in_bin = 0;
};

/* Links a decoder's audio pad to the converter @data. */
void
on_pad (GstElement *, GstPad *pad, gpointer data)
{
  GstElement *convert = (GstElement *) data;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, nullptr);
  bool audio = caps &&
      g_str_has_prefix (
          gst_structure_get_name (gst_caps_get_structure (caps, 0)), "audio/");
  if (caps)
    gst_caps_unref (caps);
  if (!audio)
    return;
  GstPad *sink = gst_element_get_static_pad (convert, "sink");
  if (!gst_pad_is_linked (sink))
    gst_pad_link (pad, sink);
  gst_object_unref (sink);
}

int
peaks (const char *path, const char *out)
{
  const int rate = 8000, per_peak = 160; /* 50 peaks a second */
  GstElement *p = gst_pipeline_new ("peaks");
  GstElement *src = make (p, "uridecodebin");
  PeakState s;
  s.convert = make (p, "audioconvert");
  GstElement *res = make (p, "audioresample");
  GstElement *caps = make (p, "capsfilter");
  GstElement *sink = make (p, "appsink");
  if (!src || !s.convert || !res || !caps || !sink)
    return fail ("GStreamer's base plugins are missing");
  GError *err = nullptr;
  gchar *uri = gst_filename_to_uri (path, &err);
  if (!uri)
    return fail (err->message);
  /* Audio only: nothing else is decoded. */
  GstCaps *ac = gst_caps_from_string ("audio/x-raw");
  g_object_set (src, "uri", uri, "caps", ac, nullptr);
  gst_caps_unref (ac);
  g_free (uri);
  GstCaps *c = gst_caps_new_simple ("audio/x-raw", "format", G_TYPE_STRING,
      "F32LE", "channels", G_TYPE_INT, 1, "rate", G_TYPE_INT, rate, nullptr);
  g_object_set (caps, "caps", c, nullptr);
  gst_caps_unref (c);
  g_object_set (
      sink, "sync", FALSE, "emit-signals", FALSE, "max-buffers", 8, nullptr);
  gst_element_link_many (s.convert, res, caps, sink, nullptr);
  g_signal_connect (src, "pad-added", G_CALLBACK (on_pad), s.convert);
  std::string error;
  if (gst_element_set_state (p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    error = "the file could not be decoded";
  while (error.empty ()) {
    GstSample *sample =
        gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 30 * GST_SECOND);
    if (!sample) {
      if (!gst_app_sink_is_eos (GST_APP_SINK (sink))) {
        GstBus *bus = gst_element_get_bus (p);
        GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
        if (m) {
          GError *e = nullptr;
          gst_message_parse_error (m, &e, nullptr);
          error = e->message;
          g_clear_error (&e);
          gst_message_unref (m);
        } else {
          error = "decoding stalled";
        }
        gst_object_unref (bus);
      }
      break;
    }
    GstBuffer *b = gst_sample_get_buffer (sample);
    GstMapInfo map;
    if (gst_buffer_map (b, &map, GST_MAP_READ)) {
      const float *f = (const float *) map.data;
      size_t n = map.size / sizeof (float);
      for (size_t i = 0; i < n; i++) {
        s.cur = std::max (s.cur, std::fabs (f[i]));
        if (++s.in_bin == per_peak) {
          s.peaks.push_back (
              (unsigned) std::lround (std::min (1.0f, s.cur) * 255));
          s.cur = 0;
          s.in_bin = 0;
        }
      }
      gst_buffer_unmap (b, &map);
    }
    gst_sample_unref (sample);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
  if (!error.empty () && s.peaks.empty ())
    return fail ("the sound could not be read: " + error);
  std::string body = "{\"rate\": 50, \"peaks\": [";
  for (size_t i = 0; i < s.peaks.size (); i++)
    body += (i ? "," : "") + std::to_string (s.peaks[i]);
  body += "]}";
  std::string tmp = std::string (out) + ".tmp";
  if (!g_file_set_contents (
          tmp.c_str (), body.c_str (), (gssize) body.size (), nullptr) ||
      !rename_into_place (tmp, out))
    return fail ("cannot write the waveform");
  printf ("{\"count\": %zu}\n", s.peaks.size ());
  return 0;
}

/* ---- say ---- */

int
say (
    const char *text_file, const char *voice, const char *lang, const char *out)
{
  GstElementFactory *f = gst_element_factory_find ("ganvoice");
  if (!f)
    return fail ("The voice engine (the ganvoice element) is not available on "
                 "this server yet, so voices cannot be previewed.",
        "unavailable");
  gst_object_unref (f);
  gchar *text = nullptr;
  if (!g_file_get_contents (text_file, &text, nullptr, nullptr))
    return fail ("cannot read the text");
  GstElement *p = gst_pipeline_new ("say");
  GstElement *tts = make (p, "ganvoice");
  GstElement *conv = make (p, "audioconvert");
  GstElement *res = make (p, "audioresample");
  GstElement *enc = make (p, "wavenc");
  GstElement *sink = make (p, "filesink");
  if (!tts || !conv || !res || !enc || !sink) {
    g_free (text);
    return fail ("GStreamer plugins are missing (audioconvert, wavenc)");
  }
  std::string tmp = std::string (out) + ".tmp";
  g_object_set (tts, "text", text, nullptr);
  if (*voice)
    g_object_set (tts, "voice", voice, nullptr);
  if (*lang)
    g_object_set (tts, "language", lang, nullptr);
  g_object_set (sink, "location", tmp.c_str (), nullptr);
  g_free (text);
  gst_element_link_many (tts, conv, res, enc, sink, nullptr);
  std::string error = run_pipeline (p);
  gst_object_unref (p);
  if (!error.empty ()) {
    g_unlink (tmp.c_str ());
    return fail ("The voice could not speak this line: " + error);
  }
  if (!rename_into_place (tmp, out))
    return fail ("cannot write the sound");
  printf ("{\"ok\": true}\n");
  return 0;
}

/* ---- fit ---- */

/* REQUEST.json: {"lang", "overflow" (a policy nick), "cues": [{"start",
 * "end", "text", "voice" (a built-in name or a profile file), "natural"
 * (seconds, optional: known from an earlier answer)}]}. Measures the
 * natural length of each spoken cue that has none with the duration
 * predictor only (Synthesizer::prepare_voice: the frontend and the
 * acoustic model's durations, no decoding or vocoding), then plans every
 * cue with plan_cues(). Prints {"max_rate", "overflow", "cues": [{"spoken",
 * "natural", "measured", "step", "verdict", "rate", "stretch", "speech_end",
 * "allowed_end", "next_start", "overflow"}]} (times in seconds, null for
 * none). */
int
fit (const char *path)
{
  JsonParser *parser = json_parser_new ();
  GError *err = nullptr;
  if (!json_parser_load_from_file (parser, path, &err)) {
    std::string m = err ? err->message : "?";
    g_clear_error (&err);
    g_object_unref (parser);
    return fail ("the request cannot be read: " + m, "bad_request");
  }
  JsonNode *root = json_parser_get_root (parser);
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT (root)
      ? json_node_get_object (root)
      : nullptr;
  JsonArray *a = o && json_object_has_member (o, "cues") &&
          JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "cues"))
      ? json_object_get_array_member (o, "cues")
      : nullptr;
  if (!a) {
    g_object_unref (parser);
    return fail ("the request has no cues", "bad_request");
  }
  auto str = [] (JsonObject *obj, const char *name) {
    JsonNode *n = obj ? json_object_get_member (obj, name) : nullptr;
    return n && JSON_NODE_HOLDS_VALUE (n) &&
            json_node_get_value_type (n) == G_TYPE_STRING
        ? std::string (json_node_get_string (n))
        : std::string ();
  };
  auto number = [] (JsonObject *obj, const char *name, double fallback) {
    JsonNode *n = obj ? json_object_get_member (obj, name) : nullptr;
    return n && JSON_NODE_HOLDS_VALUE (n) &&
            (json_node_get_value_type (n) == G_TYPE_DOUBLE ||
                json_node_get_value_type (n) == G_TYPE_INT64)
        ? json_node_get_double (n)
        : fallback;
  };
  const std::string lang = str (o, "lang");
  const std::string overflow =
      str (o, "overflow").empty () ? "default" : str (o, "overflow");
  const ganvoice::FitPolicyInfo *policy = nullptr;
  for (const ganvoice::FitPolicyInfo &p : ganvoice::fit_policies ())
    if (overflow == p.nick)
      policy = &p;
  if (!policy) {
    g_object_unref (parser);
    return fail ("unknown overflow mode \"" + overflow + "\"", "bad_request");
  }
  std::vector<studio::FitCue> cues;
  std::vector<std::string> voices;
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *n = json_array_get_element (a, i);
    JsonObject *c =
        JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : nullptr;
    studio::FitCue cue;
    cue.start = number (c, "start", 0);
    cue.end = number (c, "end", 0);
    cue.text = str (c, "text");
    cue.natural = number (c, "natural", -1);
    cues.push_back (cue);
    voices.push_back (str (c, "voice"));
  }
  g_object_unref (parser);

  std::vector<bool> measured (cues.size (), false);
  try {
    std::unique_ptr<ganvoice::Synthesizer> synth;
    std::map<std::string, ganvoice::VoiceProfile> voice_cache;
    for (size_t i = 0; i < cues.size (); i++) {
      if (cues[i].natural >= 0)
        continue;
      const std::string text = studio::spoken_text (cues[i].text);
      if (text.empty ())
        continue;
      if (!synth) {
        ganvoice::SynthesizerOptions so;
        so.threads = 1;
        synth =
            ganvoice::Synthesizer::load (ganvoice::require_model_options (so));
      }
      const std::string name = voices[i].empty ()
          ? synth->acoustic ().voices ().front ().name
          : voices[i];
      auto it = voice_cache.find (name);
      if (it == voice_cache.end ()) {
        /* A clone's mel statistics change its sound, not its timing: left
         * out, they are not measured (the traits' speaking rate is kept). */
        ganvoice::VoiceProfile v = synth->voice (name);
        v.mel_statistics = ganvoice::MelStatistics ();
        it = voice_cache.emplace (name, std::move (v)).first;
      }
      ganvoice::Utterance u = synth->prepare_voice (text,
          ganvoice::Synthesizer::spoken_language (lang, it->second.language),
          it->second);
      cues[i].natural = u.natural / 1e9;
      measured[i] = true;
    }
  } catch (const std::exception &e) {
    return fail (
        std::string ("The speech lengths cannot be measured: ") + e.what ());
  }

  const double max_rate = ganvoice::FitRequest ().max_rate;
  std::vector<studio::CueFitPlan> plans =
      studio::plan_cues (cues, policy->policy, max_rate);
  auto secs = [] (int64_t ns) {
    return ns == ganvoice::kFitNoTime ? std::string ("null") : num (ns / 1e9);
  };
  std::string body = "{\"max_rate\": " + num (max_rate) +
      ", \"overflow\": " + q (policy->nick) + ", \"cues\": [";
  for (size_t i = 0; i < plans.size (); i++) {
    const studio::CueFitPlan &p = plans[i];
    body += std::string (i ? ", " : "") +
        "{\"spoken\": " + (p.spoken ? "true" : "false") + ", \"natural\": " +
        (p.spoken ? num (std::max (cues[i].natural, 0.0)) : "null") +
        ", \"measured\": " + (measured[i] ? "true" : "false");
    if (p.spoken)
      body += ", \"step\": " + q (ganvoice::fit_step_name (p.plan.step)) +
          ", \"verdict\": " + q (p.verdict) +
          ", \"rate\": " + num (p.plan.rate) +
          ", \"stretch\": " + num (p.plan.stretch) +
          ", \"speech_end\": " + secs (p.plan.end) +
          ", \"allowed_end\": " + secs (p.plan.allowed_end) +
          ", \"next_start\": " +
          (p.next_start < 0 ? "null" : num (p.next_start)) +
          ", \"overflow\": " +
          num (std::max<int64_t> (p.plan.overflow, 0) / 1e9);
    body += "}";
  }
  body += "]}";
  printf ("%s\n", body.c_str ());
  return 0;
}

/* ---- profile ---- */

/* The opt-in adapt step on the profile at @path (docs/cloning.md), with
 * the shipped models on one thread. Returns "" or why it failed. */
std::string
adapt_profile (const std::string &path)
{
  try {
    progress_line ("loading", 0, 1);
    ganvoice::SynthesizerOptions so;
    so.threads = 1;
    auto synth =
        ganvoice::Synthesizer::load (ganvoice::require_model_options (so));
    std::string enc =
        ganvoice::require_model_file ("", ganvoice::kSpeakerEncoderFile);
    auto encoder =
        ganvoice::SpeakerEncoder::load (enc, ganvoice::card_beside (enc), 1);
    ganvoice::VoiceProfile profile = ganvoice::VoiceProfile::load (
        path, synth->acoustic ().card ().speaker_embedding_dim);
    ganvoice::AdaptOptions options;
    progress_line ("adapting", 0, options.evaluations);
    ganvoice::adapt_voice (
        *synth, *encoder, profile, options, [] (int done, int total) {
          progress_line ("adapting", done, total);
          return true;
        });
    progress_line ("adapting", options.evaluations, options.evaluations);
    profile.save (path);
    return "";
  } catch (const std::exception &e) {
    return e.what ();
  }
}

int
profile (const char *audio, const char *out, bool adapt)
{
  GstElementFactory *f = gst_element_factory_find ("speakerembed");
  if (!f)
    return fail ("Voice cloning is not available yet: the speaker-embedding "
                 "model (speakerembed) is still being built. Your recording "
                 "is saved, and a voice will be made from it once cloning is "
                 "available.",
        "unavailable");
  gst_object_unref (f);
  /* speakerembed consumes audio and writes the voice profile file. */
  progress_line ("listening", 0, 1);
  std::string tmp = std::string (out) + ".tmp";
  gchar *desc =
      g_strdup_printf ("filesrc name=src ! decodebin ! audioconvert ! "
                       "audioresample ! speakerembed name=embed ! fakesink");
  GError *err = nullptr;
  GstElement *p = gst_parse_launch (desc, &err);
  g_free (desc);
  if (!p) {
    std::string m = err ? err->message : "cannot build the pipeline";
    g_clear_error (&err);
    return fail (m);
  }
  g_clear_error (&err);
  GstElement *src = gst_bin_get_by_name (GST_BIN (p), "src");
  GstElement *embed = gst_bin_get_by_name (GST_BIN (p), "embed");
  g_object_set (src, "location", audio, nullptr);
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (embed), "location"))
    g_object_set (embed, "location", tmp.c_str (), nullptr);
  gst_object_unref (src);
  gst_object_unref (embed);
  std::string error = run_pipeline (p);
  gst_object_unref (p);
  if (!error.empty () || !g_file_test (tmp.c_str (), G_FILE_TEST_EXISTS)) {
    g_unlink (tmp.c_str ());
    return fail ("The voice could not be made from this recording" +
        (error.empty () ? std::string (".") : ": " + error));
  }
  if (adapt) {
    std::string why = adapt_profile (tmp);
    if (!why.empty ()) {
      g_unlink (tmp.c_str ());
      return fail ("The voice could not be adapted to this recording: " + why);
    }
  }
  if (!rename_into_place (tmp, out))
    return fail ("cannot write the voice profile");
  printf ("{\"ok\": true}\n");
  return 0;
}

/* ---- dubonly: an extra-track render with the dub as its only sound ---- */

struct DubOnly {
  GstElement *pipeline = nullptr, *mux = nullptr;
  guint audios = 0; /* in the file */
  guint audio_seen = 0, video_seen = 0;
  std::string error;
};

/* Video (the first) and the last audio track go to the muxer, the rest
 * to a fakesink. */
void
on_dubonly_pad (GstElement *, GstPad *pad, gpointer data)
{
  DubOnly *d = (DubOnly *) data;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, nullptr);
  std::string kind =
      caps ? gst_structure_get_name (gst_caps_get_structure (caps, 0)) : "";
  if (caps)
    gst_caps_unref (caps);
  const char *mux_pad = nullptr;
  if (g_str_has_prefix (kind.c_str (), "video/") && d->video_seen++ == 0)
    mux_pad = "video_%u";
  else if (g_str_has_prefix (kind.c_str (), "audio/") &&
      ++d->audio_seen == d->audios)
    mux_pad = "audio_%u";
  GstElement *q =
      gst_element_factory_make (mux_pad ? "queue" : "fakesink", nullptr);
  if (!mux_pad)
    g_object_set (q, "sync", FALSE, nullptr);
  gst_bin_add (GST_BIN (d->pipeline), q);
  gst_element_sync_state_with_parent (q);
  GstPad *sink = gst_element_get_static_pad (q, "sink");
  bool ok = gst_pad_link (pad, sink) == GST_PAD_LINK_OK;
  gst_object_unref (sink);
  if (ok && mux_pad) {
    GstPad *src = gst_element_get_static_pad (q, "src");
    GstPad *to = gst_element_request_pad_simple (d->mux, mux_pad);
    ok = to && gst_pad_link (src, to) == GST_PAD_LINK_OK;
    gst_object_unref (src);
    if (to)
      gst_object_unref (to);
  }
  if (!ok && d->error.empty ())
    d->error = "cannot copy its " + kind + " track";
}

int
dubonly (const char *path, const char *out)
{
  GError *err = nullptr;
  gchar *uri = gst_filename_to_uri (path, &err);
  GstDiscoverer *disc =
      uri ? gst_discoverer_new (20 * GST_SECOND, &err) : nullptr;
  GstDiscovererInfo *info =
      disc ? gst_discoverer_discover_uri (disc, uri, &err) : nullptr;
  g_free (uri);
  if (disc)
    g_object_unref (disc);
  if (!info || gst_discoverer_info_get_result (info) != GST_DISCOVERER_OK) {
    std::string why = err ? err->message : "it cannot be read";
    g_clear_error (&err);
    if (info)
      gst_discoverer_info_unref (info);
    return fail ("The render cannot be read: " + why);
  }
  DubOnly d;
  GList *audios = gst_discoverer_info_get_audio_streams (info);
  d.audios = g_list_length (audios);
  GstClockTime duration = gst_discoverer_info_get_duration (info);
  gst_discoverer_stream_info_list_free (audios);
  gst_discoverer_info_unref (info);
  if (d.audios < 2)
    return fail ("The render has no extra audio track.");
  std::string o = out;
  auto ends = [&o] (const char *ext) {
    return g_str_has_suffix (o.c_str (), ext);
  };
  d.pipeline = gst_pipeline_new ("dubonly");
  GstElement *src = make (d.pipeline, "filesrc");
  GstElement *parse = make (d.pipeline, "parsebin");
  d.mux = make (d.pipeline,
      ends (".mp4")        ? "mp4mux"
          : ends (".webm") ? "webmmux"
                           : "matroskamux");
  GstElement *sink = make (d.pipeline, "filesink");
  std::string tmp = o + ".tmp";
  if (!src || !parse || !d.mux || !sink || !gst_element_link (src, parse) ||
      !gst_element_link (d.mux, sink)) {
    gst_object_unref (d.pipeline);
    return fail ("cannot build the pipeline");
  }
  g_object_set (src, "location", path, nullptr);
  g_object_set (sink, "location", tmp.c_str (), nullptr);
  g_signal_connect (parse, "pad-added", G_CALLBACK (on_dubonly_pad), &d);
  /* Where the copy is, once a second. */
  std::atomic<bool> finished (false);
  GstElement *pipeline = d.pipeline;
  std::thread progress ([&finished, pipeline, duration] () {
    while (!finished) {
      gint64 pos = 0;
      if (gst_element_query_position (pipeline, GST_FORMAT_TIME, &pos))
        progress_line (
            "copying", pos / GST_MSECOND, (gint64) (duration / GST_MSECOND));
      for (int i = 0; i < 10 && !finished; i++)
        g_usleep (100000);
    }
  });
  std::string error = run_pipeline (d.pipeline);
  finished = true;
  progress.join ();
  gst_object_unref (d.pipeline);
  if (error.empty ())
    error = d.error;
  if (!error.empty () || !rename_into_place (tmp, out)) {
    g_unlink (tmp.c_str ());
    return fail ("The copy with the dub alone failed: " +
        (error.empty () ? std::string ("cannot write it") : error));
  }
  printf ("{\"ok\": true}\n");
  return 0;
}

/* ---- Read to me: takes and deep clones ---- */

/* The longest take kept (a sentence takes a few seconds). */
constexpr double kMaxTakeSeconds = 120.0;

void
on_no_more_pads (GstElement *, gpointer data)
{
  ((std::atomic<bool> *) data)->store (true);
}

/* Decodes the first audio stream of @path to mono float at its own rate.
 * Returns "" or why it cannot (too long: more than @max_seconds). */
std::string
decode_mono (const std::string &path, double max_seconds,
    std::vector<float> *samples, int *rate)
{
  GstElement *p = gst_pipeline_new ("decode");
  GstElement *src = make (p, "uridecodebin");
  GstElement *conv = make (p, "audioconvert");
  GstElement *res = make (p, "audioresample");
  GstElement *caps = make (p, "capsfilter");
  GstElement *sink = make (p, "appsink");
  if (!src || !conv || !res || !caps || !sink) {
    gst_object_unref (p);
    return "GStreamer's base plugins are missing";
  }
  GError *err = nullptr;
  gchar *uri = gst_filename_to_uri (path.c_str (), &err);
  if (!uri) {
    std::string m = err->message;
    g_clear_error (&err);
    gst_object_unref (p);
    return m;
  }
  GstCaps *ac = gst_caps_from_string ("audio/x-raw");
  g_object_set (src, "uri", uri, "caps", ac, nullptr);
  gst_caps_unref (ac);
  g_free (uri);
  GstCaps *c = gst_caps_from_string (
      "audio/x-raw,format=F32LE,channels=1,layout=interleaved");
  g_object_set (caps, "caps", c, nullptr);
  gst_caps_unref (c);
  g_object_set (
      sink, "sync", FALSE, "emit-signals", FALSE, "max-buffers", 16, nullptr);
  gst_element_link_many (conv, res, caps, sink, nullptr);
  std::atomic<bool> no_more_pads (false);
  g_signal_connect (src, "pad-added", G_CALLBACK (on_pad), conv);
  g_signal_connect (
      src, "no-more-pads", G_CALLBACK (on_no_more_pads), &no_more_pads);
  std::string error;
  if (gst_element_set_state (p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    error = "it could not be decoded";
  GstBus *bus = gst_element_get_bus (p);
  GstPad *conv_sink = gst_element_get_static_pad (conv, "sink");
  gint64 last = g_get_monotonic_time ();
  *rate = 0;
  while (error.empty ()) {
    GstSample *sample =
        gst_app_sink_try_pull_sample (GST_APP_SINK (sink), GST_SECOND / 10);
    if (!sample) {
      if (gst_app_sink_is_eos (GST_APP_SINK (sink)))
        break;
      if (GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR)) {
        GError *e = nullptr;
        gst_message_parse_error (m, &e, nullptr);
        error = e ? e->message : "it could not be decoded";
        g_clear_error (&e);
        gst_message_unref (m);
      } else if (no_more_pads && !gst_pad_is_linked (conv_sink)) {
        error = "it has no sound in it";
      } else if (g_get_monotonic_time () - last > 20 * G_USEC_PER_SEC) {
        error = "decoding it made no progress";
      }
      continue;
    }
    last = g_get_monotonic_time ();
    GstCaps *sc = gst_sample_get_caps (sample);
    if (sc && *rate == 0)
      gst_structure_get_int (gst_caps_get_structure (sc, 0), "rate", rate);
    GstBuffer *b = gst_sample_get_buffer (sample);
    GstMapInfo map;
    if (b && gst_buffer_map (b, &map, GST_MAP_READ)) {
      const float *f = (const float *) map.data;
      samples->insert (samples->end (), f, f + map.size / sizeof (float));
      gst_buffer_unmap (b, &map);
    }
    gst_sample_unref (sample);
    if (*rate > 0 && samples->size () > max_seconds * *rate)
      error = "it is longer than " + std::to_string ((int) max_seconds) +
          " seconds";
  }
  gst_object_unref (conv_sink);
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
  if (error.empty () && *rate <= 0 && !samples->empty ())
    error = "its sample rate is unknown";
  return error;
}

/* Writes mono @samples as 16-bit PCM WAV at @path (through a temp file and
 * a rename). */
bool
write_wav (const std::string &path, const std::vector<float> &samples, int rate)
{
  auto le = [] (std::string &s, uint32_t v, int bytes) {
    for (int i = 0; i < bytes; i++)
      s += (char) ((v >> (8 * i)) & 0xff);
  };
  const uint32_t data = (uint32_t) samples.size () * 2;
  std::string w = "RIFF";
  le (w, 36 + data, 4);
  w += "WAVEfmt ";
  le (w, 16, 4);
  le (w, 1, 2); /* PCM */
  le (w, 1, 2); /* mono */
  le (w, (uint32_t) rate, 4);
  le (w, (uint32_t) rate * 2, 4);
  le (w, 2, 2);
  le (w, 16, 2);
  w += "data";
  le (w, data, 4);
  w.reserve (w.size () + data);
  for (float x : samples) {
    float v = std::isfinite (x) ? std::clamp (x, -1.0f, 1.0f) : 0.0f;
    le (w, (uint32_t) (uint16_t) (int16_t) std::lround (v * 32767.0f), 2);
  }
  std::string tmp = path + ".tmp";
  if (!g_file_set_contents (
          tmp.c_str (), w.data (), (gssize) w.size (), nullptr) ||
      !rename_into_place (tmp, path)) {
    g_unlink (tmp.c_str ());
    return false;
  }
  return true;
}

std::string
check_json (const ganvoice::TakeCheck &c)
{
  std::string problems = "[";
  for (size_t i = 0; i < c.problems.size (); i++)
    problems += (i ? ", " : "") + q (c.problems[i]);
  return "{\"ok\": " + std::string (c.ok () ? "true" : "false") +
      ", \"seconds\": " + num (c.seconds) +
      ", \"speech_seconds\": " + num (c.speech_seconds) +
      ", \"peak_dbfs\": " + num (c.peak_dbfs) +
      ", \"speech_dbfs\": " + num (c.speech_dbfs) +
      ", \"clipped_fraction\": " + num (c.clipped_fraction) +
      ", \"expected_seconds\": " + num (c.expected_seconds) +
      ", \"phonemes\": " + std::to_string (c.phonemes) +
      ", \"problems\": " + problems + "]}";
}

/* One take of "Read to me": decoded, checked against its text, and kept as
 * WAV at @out (even with problems, so that the person can hear why). */
int
take (const std::string &audio, const std::string &lang,
    const std::string &text, const std::string &out)
{
  ganvoice::ReadSentence s;
  std::string error = decode_mono (audio, kMaxTakeSeconds, &s.samples, &s.rate);
  if (!error.empty ()) {
    while (!error.empty () && (error.back () == '.' || error.back () == ' '))
      error.pop_back ();
    if (!error.empty ())
      error[0] = g_ascii_tolower (error[0]);
    return fail ("This recording cannot be used: " + error + ".", "unreadable");
  }
  if (s.samples.empty ())
    return fail ("This recording is empty.", "empty");
  s.text = text;
  s.origin = "the take";
  ganvoice::TakeCheck check;
  try {
    check = ganvoice::check_take (s, lang);
  } catch (const std::exception &e) {
    return fail (
        std::string ("This take cannot be checked: ") + e.what (), "language");
  }
  if (!write_wav (out, s.samples, s.rate))
    return fail ("cannot write the take");
  printf ("%s\n", check_json (check).c_str ());
  return 0;
}

std::atomic<bool> g_cancel (false);

void
on_cancel_signal (int)
{
  g_cancel = true;
}

/* One JSON line of finetune's output. */
void
line (const std::string &json)
{
  printf ("%s\n", json.c_str ());
  fflush (stdout);
}

int
line_error (const std::string &message, const char *code = "failed")
{
  line ("{\"type\": \"error\", \"message\": " + q (message) +
      ", \"code\": " + q (code) + "}");
  return 2;
}

/* A deep clone from the takes listed in @tsv ("path<TAB>text" lines) with
 * the shipped acoustic model. Prints JSON lines:
 *   {"type": "takes", "added", "skipped", "speech_seconds"}
 *   {"type": "progress", "stage", "fraction", "step", "max_steps",
 *    "elapsed", "remaining", "loss", "resumed", "message"}
 * then one of {"type": "done", "output"}, {"type": "cancelled"} (exit 3;
 * SIGTERM or SIGINT cancels, and the state is saved to the checkpoint
 * first) or {"type": "error", "message", "code"} (exit 2). */
int
finetune (const std::vector<std::string> &args, const std::string &out)
{
  std::signal (SIGTERM, on_cancel_signal);
  std::signal (SIGINT, on_cancel_signal);
  ganvoice::FineTuneOptions o;
  std::string tsv;
  for (size_t i = 1; i < args.size (); i++) {
    const std::string &a = args[i];
    bool has_value = i + 1 < args.size ();
    if (a.rfind ("--", 0) != 0) {
      tsv = a;
      continue;
    }
    if (!has_value)
      return line_error ("bad arguments: " + a + " needs a value", "usage");
    const std::string &v = args[++i];
    if (a == "--language")
      o.language = v;
    else if (a == "--name")
      o.name = v;
    else if (a == "--gender")
      o.gender = v;
    else if (a == "--checkpoint")
      o.checkpoint = v;
    else if (a == "--time-limit")
      o.time_limit_s = g_ascii_strtod (v.c_str (), nullptr);
    else if (a == "--max-steps")
      o.max_steps = atoi (v.c_str ());
    else if (a == "--threads")
      o.threads = atoi (v.c_str ());
    else
      return line_error ("bad arguments: unknown option " + a, "usage");
  }
  gchar *text = nullptr;
  gsize len = 0;
  if (tsv.empty () || !g_file_get_contents (tsv.c_str (), &text, &len, nullptr))
    return line_error ("cannot read the list of takes", "usage");
  std::vector<std::pair<std::string, std::string> > takes;
  gchar **lines = g_strsplit (text, "\n", -1);
  g_free (text);
  for (gchar **l = lines; *l; l++) {
    const char *tab = strchr (*l, '\t');
    if (tab && tab != *l && tab[1])
      takes.emplace_back (
          std::string (*l, (size_t) (tab - *l)), std::string (tab + 1));
  }
  g_strfreev (lines);
  try {
    std::string model =
        ganvoice::require_model_file ("", ganvoice::kAcousticModelFile);
    std::string card =
        ganvoice::require_model_file ("", ganvoice::kAcousticCardFile);
    auto tuner = ganvoice::VoiceFineTuner::load (model, card, o);
    size_t skipped = 0;
    for (size_t i = 0; i < takes.size (); i++) {
      const auto &t = takes[i];
      if (g_cancel) {
        line ("{\"type\": \"cancelled\"}");
        return 3;
      }
      line ("{\"type\": \"progress\", \"stage\": \"preparing\", "
            "\"fraction\": 0, \"message\": " +
          q ("reading take " + std::to_string (i + 1) + " of " +
              std::to_string (takes.size ())) +
          "}");
      ganvoice::ReadSentence s;
      std::string why =
          decode_mono (t.first, kMaxTakeSeconds, &s.samples, &s.rate);
      s.text = t.second;
      s.origin = t.first;
      if (!why.empty () || s.samples.empty () || !tuner->add (s).ok ())
        skipped++;
    }
    line ("{\"type\": \"takes\", \"added\": " +
        std::to_string (tuner->sentences ()) +
        ", \"skipped\": " + std::to_string (skipped) +
        ", \"speech_seconds\": " + num (tuner->speech_seconds ()) + "}");
    ganvoice::VoiceProfile profile = tuner->run (
        [] (const ganvoice::FineTuneProgress &p) {
          line (std::string ("{\"type\": \"progress\", \"stage\": ") +
              q (ganvoice::fine_tune_stage_name (p.stage)) +
              ", \"fraction\": " + num (std::clamp (p.fraction, 0.0, 1.0)) +
              ", \"step\": " + std::to_string (p.step) +
              ", \"max_steps\": " + std::to_string (p.max_steps) +
              ", \"elapsed\": " + num (p.elapsed_s) + ", \"remaining\": " +
              num (p.remaining_s) + ", \"loss\": " + num (p.mel_loss) +
              ", \"resumed\": " + (p.resumed ? "true" : "false") +
              ", \"message\": " + q (p.message) + "}");
        },
        &g_cancel);
    if (profile.name.empty ())
      profile.name = o.name;
    if (profile.gender.empty ())
      profile.gender = o.gender;
    profile.save (out);
    line ("{\"type\": \"done\", \"output\": " + q (out) + "}");
    return 0;
  } catch (const ganvoice::FineTuneCancelled &) {
    line ("{\"type\": \"cancelled\"}");
    return 3;
  } catch (const std::exception &e) {
    return line_error (e.what ());
  } catch (...) {
    return line_error ("the training failed (an unknown error)");
  }
}

} // namespace

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  std::vector<std::string> args (argv + 1, argv + argc);
  std::string out;
  for (size_t i = 0; i + 1 < args.size (); i++) {
    if (args[i] == "-o") {
      out = args[i + 1];
      args.erase (args.begin () + (long) i, args.begin () + (long) i + 2);
      break;
    }
  }
  int rc;
  if (args.size () == 2 && args[0] == "probe")
    rc = probe (args[1].c_str ());
  else if (args.size () == 2 && args[0] == "cues")
    rc = cues (args[1].c_str ());
  else if (args.size () == 2 && args[0] == "fit")
    rc = fit (args[1].c_str ());
  else if (args.size () == 2 && args[0] == "peaks" && !out.empty ())
    rc = peaks (args[1].c_str (), out.c_str ());
  else if (args.size () == 4 && args[0] == "say" && !out.empty ())
    rc = say (
        args[1].c_str (), args[2].c_str (), args[3].c_str (), out.c_str ());
  else if (args.size () == 2 && args[0] == "dubonly" && !out.empty ())
    rc = dubonly (args[1].c_str (), out.c_str ());
  else if (args.size () == 2 && args[0] == "profile" && !out.empty ())
    rc = profile (args[1].c_str (), out.c_str (), false);
  else if (args.size () == 3 && args[0] == "profile" && args[2] == "--adapt" &&
      !out.empty ())
    rc = profile (args[1].c_str (), out.c_str (), true);
  else if (args.size () == 4 && args[0] == "take" && !out.empty ()) {
    try {
      rc = take (args[1], args[2], args[3], out);
    } catch (const std::exception &e) {
      rc = fail (std::string ("This take cannot be checked: ") + e.what ());
    }
  } else if (!args.empty () && args[0] == "finetune" && !out.empty ())
    rc = finetune (args, out);
  else {
    fprintf (stderr,
        "usage: ganvoice-studio-worker probe|cues|fit FILE | peaks FILE -o OUT"
        " | say TEXTFILE VOICE LANG -o OUT | profile AUDIO [--adapt] -o OUT"
        " | dubonly FILE -o OUT"
        " | take -o OUT.wav AUDIO LANG TEXT | finetune -o OUT TAKES.tsv"
        " --language L --name N [--gender G] [--checkpoint F]"
        " [--time-limit S] [--max-steps N] [--threads N]\n");
    rc = fail ("bad arguments", "usage");
  }
  fflush (stdout);
  return rc;
}

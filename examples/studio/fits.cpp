/* ganvoice-studio: how the editor's cues will fit their slots, before a
 * render: POST /api/projects/PID/fit. The natural length of each cue's
 * speech comes from the model's duration predictor (the worker's `fit`,
 * no audio made), kept by (voice, language, text) so that typing in one
 * cue measures only that cue again; the plan is the library's fit_slot()
 * with the element's slots (fit-plan.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "http.h"
#include "routes.h"
#include "server.h"

#include <glib/gstdio.h>

#include <cmath>

namespace studio {

const char *const kOverflowError =
    "The overflow mode must be default, clip, overlap, shift or compress.";

bool
overflow_ok (const std::string &nick)
{
  /* ganvoice::fit_policies()' nicks: the server does not link the engine;
   * the worker checks them against it too. */
  for (const char *p : { "default", "clip", "overlap", "shift", "compress" })
    if (nick == p)
      return true;
  return false;
}

namespace {

const size_t kMaxFitCues = 5000; /* as many as a project has */
const size_t kMaxFitText = 2000; /* a cue's text, as for saving */
const size_t kMaxKeptLengths = 50000; /* the cache is emptied beyond this */

/* The cache's key for a voice: a profile file also by its time, so that a
 * voice made again is measured again. */
std::string
voice_key (const std::string &arg)
{
  GStatBuf st;
  if (arg.find ('/') != std::string::npos && g_stat (arg.c_str (), &st) == 0)
    return arg + "@" + std::to_string ((long long) st.st_mtime);
  return arg;
}

std::string
secs (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (buf, sizeof buf, "%.3f", std::isfinite (v) ? v : 0.0);
  return buf;
}

/* A number or null member of a worker's answer. */
std::string
number_or_null (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : nullptr;
  if (!n || !JSON_NODE_HOLDS_VALUE (n) ||
      (json_node_get_value_type (n) != G_TYPE_DOUBLE &&
          json_node_get_value_type (n) != G_TYPE_INT64))
    return "null";
  return secs (json_node_get_double (n));
}

} // namespace

/* {voice, speakers: {NAME: voice}, lang, overflow, cues: [{start, end,
 * text, speaker}]} -> {overflow, max_rate, measured, cues: [{index, spoken,
 * natural, step, verdict, rate, stretch, speed, clipped, overrun,
 * speech_end, allowed_end, next_start}]}, in the order of the request. */
void
plan_fits (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project");
  JsonNodePtr node;
  JsonObject *o = body_object (msg, &node);
  if (!o)
    return;
  std::string voice = Json::optional_string (o, "voice", kRequest);
  std::string lang = Json::optional_string (o, "lang", kRequest);
  std::string overflow =
      Json::optional_string (o, "overflow", kRequest, "default");
  JsonNode *cn = json_object_has_member (o, "cues")
      ? json_object_get_member (o, "cues")
      : nullptr;
  JsonArray *a =
      cn && JSON_NODE_HOLDS_ARRAY (cn) ? json_node_get_array (cn) : nullptr;
  std::string error, voice_arg;
  if (!a)
    error = "Send {\"cues\": [...]}.";
  else if (json_array_get_length (a) > kMaxFitCues)
    error = "Too many cues (at most " + std::to_string (kMaxFitCues) + ").";
  else if (!overflow_ok (overflow))
    error = kOverflowError;
  else if (lang.size () > 15 ||
      lang.find_first_not_of ("abcdefghijklmnopqrstuvwxyz-") !=
          std::string::npos)
    error = "The language must be a code such as en or es.";
  else if (!voice.empty () && !s->voice_ok (pid, voice, &voice_arg))
    error = "There is no voice called \"" + clean_name (voice, 40) + "\".";
  std::map<std::string, std::string> speaker_args;
  JsonNode *sp = json_object_has_member (o, "speakers")
      ? json_object_get_member (o, "speakers")
      : nullptr;
  if (error.empty () && sp && !JSON_NODE_HOLDS_NULL (sp)) {
    if (!JSON_NODE_HOLDS_OBJECT (sp))
      error = "speakers must map speaker names to voices.";
    else
      for (const auto &sv : speaker_voices (
               json_node_get_object (sp), "The request's speakers")) {
        std::string arg;
        if (sv.second.empty ())
          continue;
        if (!s->voice_ok (pid, sv.second, &arg)) {
          error = "There is no voice called \"" + clean_name (sv.second, 40) +
              "\" for " + clean_name (sv.first, 40) + ".";
          break;
        }
        speaker_args[sv.first] = arg;
      }
  }

  /* The worker's request: each cue with its voice, and its length when
   * it is known already. */
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "lang");
  json_builder_add_string_value (b, lang.c_str ());
  json_builder_set_member_name (b, "overflow");
  json_builder_add_string_value (b, overflow.c_str ());
  json_builder_set_member_name (b, "cues");
  json_builder_begin_array (b);
  std::vector<std::string> keys;
  size_t known = 0;
  for (guint i = 0; a && error.empty () && i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    JsonObject *c =
        JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : nullptr;
    const std::string cue = "Cue " + std::to_string (i + 1);
    if (!c) {
      error = cue + ": it must be an object.";
      break;
    }
    double start = Json::optional_number (c, "start", cue, -1),
           end = Json::optional_number (c, "end", cue, -1);
    std::string text = Json::optional_string (c, "text", cue),
                speaker = Json::optional_string (c, "speaker", cue);
    if (!std::isfinite (start) || !std::isfinite (end) || start < 0 ||
        end < 0 || end > 48 * 3600) {
      error = cue + ": its times are not valid.";
      break;
    }
    if (text.size () > kMaxFitText ||
        !g_utf8_validate (text.c_str (), (gssize) text.size (), nullptr)) {
      error = cue + ": its text is too long.";
      break;
    }
    auto it = speaker_args.find (speaker);
    const std::string &arg =
        !speaker.empty () && it != speaker_args.end () ? it->second : voice_arg;
    keys.push_back (voice_key (arg) + "\n" + lang + "\n" + text);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "start");
    json_builder_add_double_value (b, start);
    json_builder_set_member_name (b, "end");
    json_builder_add_double_value (b, end);
    json_builder_set_member_name (b, "text");
    json_builder_add_string_value (b, text.c_str ());
    json_builder_set_member_name (b, "voice");
    json_builder_add_string_value (b, arg.c_str ());
    auto hit = s->natural_lengths.find (keys.back ());
    if (hit != s->natural_lengths.end ()) {
      json_builder_set_member_name (b, "natural");
      json_builder_add_double_value (b, hit->second);
      known++;
    }
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  JsonNode *req = json_builder_get_root (b);
  g_object_unref (b);
  std::string request = to_json (req);
  json_node_unref (req);
  node.reset ();
  if (!error.empty ()) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST, error);
    return;
  }

  const std::string dir = s->project_dir (pid) + "/previews";
  make_dirs (dir);
  const std::string file = dir + "/fit-" + new_id () + ".json";
  if (!write_file_atomic (file, request)) {
    reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
        "The studio cannot write its work files.");
    return;
  }
  g_object_ref (msg);
  soup_server_message_pause (msg);
  s->helpers->run (
      { "fit", file }, [s, msg, file, keys, known] (WorkerResult &r) {
        g_unlink (file.c_str ());
        JsonObject *ro = r.ok && r.result && JSON_NODE_HOLDS_OBJECT (r.result)
            ? json_node_get_object (r.result)
            : nullptr;
        JsonNode *rc = ro && json_object_has_member (ro, "cues")
            ? json_object_get_member (ro, "cues")
            : nullptr;
        JsonArray *plans = rc && JSON_NODE_HOLDS_ARRAY (rc)
            ? json_node_get_array (rc)
            : nullptr;
        if (!plans || json_array_get_length (plans) != keys.size ()) {
          reply_json (msg,
              r.code == "unavailable" ? SOUP_STATUS_SERVICE_UNAVAILABLE
                                      : SOUP_STATUS_UNPROCESSABLE_ENTITY,
              "{\"error\": " +
                  json_quote (r.ok ? "The speech lengths could not be measured."
                                   : r.error) +
                  ", \"code\": " + json_quote (r.code) + "}");
          soup_server_message_unpause (msg);
          g_object_unref (msg);
          return;
        }
        if (s->natural_lengths.size () > kMaxKeptLengths)
          s->natural_lengths.clear ();
        std::string out = "[";
        size_t measured = 0;
        for (guint i = 0; i < keys.size (); i++) {
          JsonNode *e = json_array_get_element (plans, i);
          JsonObject *p =
              JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : nullptr;
          const bool spoken = p &&
              json_object_get_boolean_member_with_default (p, "spoken", FALSE);
          if (p &&
              json_object_get_boolean_member_with_default (
                  p, "measured", FALSE)) {
            s->natural_lengths[keys[i]] =
                json_object_get_double_member_with_default (p, "natural", 0);
            measured++;
          }
          out += std::string (i ? ", " : "") +
              "{\"index\": " + std::to_string (i) +
              ", \"spoken\": " + (spoken ? "true" : "false");
          if (spoken) {
            const std::string step =
                json_object_get_string_member_with_default (p, "step", "");
            const double rate =
                json_object_get_double_member_with_default (p, "rate", 1);
            const double stretch =
                json_object_get_double_member_with_default (p, "stretch", 1);
            const double over =
                json_object_get_double_member_with_default (p, "overflow", 0);
            out += ", \"natural\": " + number_or_null (p, "natural") +
                ", \"step\": " + json_quote (step) + ", \"verdict\": " +
                json_quote (json_object_get_string_member_with_default (
                    p, "verdict", "")) +
                ", \"rate\": " + secs (rate) +
                ", \"stretch\": " + secs (stretch) +
                ", \"speed\": " + secs (rate * stretch) +
                ", \"clipped\": " + secs (step == "clipped" ? over : 0) +
                ", \"overrun\": " + secs (step == "overflowed" ? over : 0) +
                ", \"speech_end\": " + number_or_null (p, "speech_end") +
                ", \"allowed_end\": " + number_or_null (p, "allowed_end") +
                ", \"next_start\": " + number_or_null (p, "next_start");
          }
          out += "}";
        }
        out += "]";
        reply_json (msg, SOUP_STATUS_OK,
            "{\"overflow\": " +
                json_quote (json_object_get_string_member_with_default (
                    ro, "overflow", "default")) +
                ", \"max_rate\": " + number_or_null (ro, "max_rate") +
                ", \"measured\": " + std::to_string (measured) +
                ", \"known\": " + std::to_string (known) +
                ", \"cues\": " + out + "}");
        soup_server_message_unpause (msg);
        g_object_unref (msg);
      });
}

} // namespace studio

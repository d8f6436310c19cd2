/* ganvoice-studio: the project routes: create, read, rename, delete, the
 * live events of a project, and its cues (read, and save from the editor).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "http.h"
#include "routes.h"
#include "server.h"

#include <algorithm>
#include <cmath>

namespace studio {

namespace {

const size_t kMaxCues = 5000;
const size_t kMaxCueText = 2000;

/* A finished events request leaves the list of pages to tell. */
void
on_sse_finished (SoupServerMessage *msg, gpointer data)
{
  Server *s = (Server *) data;
  s->sse.erase (std::remove_if (s->sse.begin (), s->sse.end (),
                    [msg] (const SseClient &c) { return c.msg == msg; }),
      s->sse.end ());
}

/* Seconds as ASS time, H:MM:SS.cc */
std::string
ass_time (double t)
{
  long long cs = std::llround (t * 100);
  char buf[32];
  g_snprintf (buf, sizeof buf, "%lld:%02lld:%02lld.%02lld", cs / 360000,
      cs / 6000 % 60, cs / 100 % 60, cs % 100);
  return buf;
}

} // namespace

bool
speaker_ok (const std::string &s)
{
  return s.size () <= 100 &&
      g_utf8_validate (s.c_str (), (gssize) s.size (), nullptr) &&
      s.find_first_of (",;=\n\r{}") == std::string::npos;
}

std::string
Server::project_json (const std::string &pid)
{
  Row p = db.one ("SELECT * FROM projects WHERE id = ?", { pid });
  if (p.empty ())
    return "null";
  std::string s = "{\"id\": " + json_quote (pid) +
      ", \"name\": " + json_quote (p["name"]) +
      ", \"created\": " + p["created"] +
      ", \"edited\": " + (p["edited"] == "1" ? "true" : "false") +
      ", \"updated\": " + p["updated"] +
      ", \"owned\": " + (p["owner"].empty () ? "false" : "true") +
      ", \"settings\": " + p["settings"];
  for (const char *k : { "video", "subtitles" }) {
    Row u = p[k].empty ()
        ? Row ()
        : db.one ("SELECT * FROM uploads WHERE id = ?", { p[k] });
    s += std::string (", \"") + k +
        "\": " + (u.empty () ? "null" : upload_json (u));
  }
  s += ", \"recordings\": [";
  bool first = true;
  for (const Row &u :
      db.all ("SELECT * FROM uploads WHERE project = ? AND kind = "
              "'recording' ORDER BY created",
          { pid })) {
    s += (first ? "" : ", ") + upload_json (u);
    first = false;
  }
  s += "], \"profiles\": [";
  first = true;
  for (const Row &r : usable_profiles (pid)) {
    s += (first ? "" : ", ") + profile_json (r);
    first = false;
  }
  s += "], \"readings\": [";
  first = true;
  for (const Row &r :
      db.all ("SELECT * FROM readings WHERE project = ? ORDER BY created",
          { pid })) {
    s += (first ? "" : ", ") + reading_json (r);
    first = false;
  }
  s += "], \"jobs\": [";
  first = true;
  for (const Row &r :
      db.all ("SELECT * FROM jobs WHERE project = ? ORDER BY created DESC "
              "LIMIT 20",
          { pid })) {
    s += (first ? "" : ", ") + job_json (r);
    first = false;
  }
  return s + "]}";
}

/* ---- projects --------------------------------------------------------- */

void
create_project (Server *s, SoupServerMessage *msg, const RouteMatch &)
{
  JsonNodePtr node;
  JsonObject *o = body_object (msg, &node);
  if (!o)
    return;
  std::string name =
      clean_name (Json::optional_string (o, "name", kRequest, "Untitled"), 100);
  node.reset ();
  std::string owner = request_owner (s, msg);
  if (owner == "!")
    return;
  Row count = s->db.one ("SELECT COUNT(*) AS n FROM projects", {});
  if (atoi (count["n"].c_str ()) >= s->cfg.max_projects) {
    reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "The studio is full; try again later.");
    return;
  }
  std::string pid = new_id (), token = new_token ();
  s->db.exec ("INSERT INTO projects (id, token_hash, name, created, owner, "
              "updated) VALUES (?, ?, ?, ?, ?, ?)",
      { pid, hash_token (token), name, (long long) now_s (), owner,
          (long long) now_s () });
  make_dirs (s->project_dir (pid));
  std::string j = s->project_json (pid);
  j.insert (j.size () - 1, ", \"token\": " + json_quote (token));
  reply_json (msg, SOUP_STATUS_CREATED, j);
}

/* A project from before owners, opened by a page with an owner key (and
 * the project's token), becomes that owner's, with its voices. */
void
get_project (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  std::string owner = request_owner (s, msg);
  if (owner == "!")
    return;
  s->claim_project (m.param ("project"), owner);
  reply_json (msg, SOUP_STATUS_OK, s->project_json (m.param ("project")));
}

void
update_project (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project");
  JsonNodePtr node;
  JsonObject *o = body_object (msg, &node);
  if (!o)
    return;
  if (json_object_has_member (o, "name")) {
    std::string name =
        clean_name (Json::optional_string (o, "name", kRequest), 100);
    s->db.exec ("UPDATE projects SET name = ? WHERE id = ?", { name, pid });
  }
  if (json_object_has_member (o, "settings") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "settings"))) {
    std::string st = to_json (json_object_get_member (o, "settings"));
    if (st.size () > 32 * 1024) {
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "The settings are too large.");
      return;
    }
    s->db.exec ("UPDATE projects SET settings = ? WHERE id = ?", { st, pid });
  }
  reply_json (msg, SOUP_STATUS_OK, s->project_json (pid));
}

void
delete_project (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  s->delete_project (m.param ("project"));
  reply_json (msg, SOUP_STATUS_OK, "{\"deleted\": true}");
}

/* Server-Sent Events: the project now, then each change (Server::broadcast)
 * until the page goes. */
void
project_events (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project");
  if (s->sse.size () >= 256) {
    reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "Too many open pages.");
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, nullptr);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  soup_message_headers_set_encoding (h, SOUP_ENCODING_CHUNKED);
  soup_message_headers_set_content_type (h, "text/event-stream", nullptr);
  soup_message_headers_replace (h, "Cache-Control", "no-store");
  soup_message_headers_replace (h, "X-Accel-Buffering", "no");
  soup_message_body_set_accumulate (
      soup_server_message_get_response_body (msg), FALSE);
  s->sse.push_back ({ msg, pid });
  g_signal_connect (msg, "finished", G_CALLBACK (on_sse_finished), s);
  s->send_event (msg, "project", s->project_json (pid));
}

/* ---- cues ------------------------------------------------------------- */

/* The edited cues when there are, else the uploaded subtitles' cues. */
void
get_cues (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project");
  Row p = s->db.one ("SELECT * FROM projects WHERE id = ?", { pid });
  std::string text;
  if (p["edited"] == "1" &&
      read_file (s->project_dir (pid) + "/edited.json", &text, 64 << 20)) {
    text.insert (text.size () - 1, ", \"source\": \"edited\"");
    reply_json (msg, SOUP_STATUS_OK, text);
  } else if (!p["subtitles"].empty () &&
      read_file (s->upload_path (pid, p["subtitles"]) + ".cues.json", &text,
          64 << 20)) {
    text.insert (text.size () - 1, ", \"source\": \"upload\"");
    reply_json (msg, SOUP_STATUS_OK, text);
  } else {
    reply_json (msg, SOUP_STATUS_OK, "{\"cues\": [], \"source\": \"none\"}");
  }
}

/* Saves the editor's cues as edited.json (what GET gives back) and
 * edited.ass (what ganvoice-dub reads). */
void
put_cues (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project");
  JsonNodePtr n;
  JsonObject *o = body_object (msg, &n);
  if (!o)
    return;
  JsonArray *a = json_object_has_member (o, "cues") &&
          JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "cues"))
      ? json_object_get_array_member (o, "cues")
      : nullptr;
  std::string error;
  if (!a)
    error = "Send {\"cues\": [...]}.";
  else if (json_array_get_length (a) > kMaxCues)
    error = "Too many cues (at most " + std::to_string (kMaxCues) + ").";
  std::string ass =
      "[Script Info]\nScriptType: v4.00+\nPlayResX: 1280\nPlayResY: 720\n";
  std::string lang = Json::optional_string (o, "lang", kRequest);
  if (!lang.empty () && lang.size () < 16 &&
      lang.find_first_of ("\n\r") == std::string::npos)
    ass += "Language: " + lang + "\n";
  ass +=
      "\n[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, "
      "SecondaryColour, "
      "OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, "
      "ScaleY, "
      "Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
      "MarginR, "
      "MarginV, Encoding\nStyle: Default,DejaVu Sans,48,&H00FFFFFF,&H000000FF,"
      "&H00000000,&H64000000,0,0,0,0,100,100,0,0,1,2,1,2,40,40,40,1\n\n[Events]"
      "\n"
      "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, "
      "Effect, Text\n";
  std::string clean = "{\"cues\": [";
  for (guint i = 0; a && error.empty () && i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    JsonObject *c =
        JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : nullptr;
    std::string cue = "Cue " + std::to_string (i + 1), where = cue + ": ";
    double start = Json::optional_number (c, "start", cue, -1),
           end = Json::optional_number (c, "end", cue, -1);
    std::string text = Json::optional_string (c, "text", cue),
                speaker = Json::optional_string (c, "speaker", cue);
    /* Where the cue came from in the uploaded file (its line and dialogue
     * turn), kept so that an export can keep what was not edited. */
    std::int64_t line = Json::optional_integer (c, "line", cue, 0),
                 turn = Json::optional_integer (c, "turn", cue, 0);
    if (!c || !std::isfinite (start) || !std::isfinite (end) || start < 0 ||
        end > 48 * 3600)
      error = where + "its times are not valid.";
    else if (end <= start)
      error = where + "it must end after it starts.";
    else if (text.size () > kMaxCueText ||
        !g_utf8_validate (text.c_str (), (gssize) text.size (), nullptr))
      error = where + "its text is too long.";
    else if (!speaker_ok (speaker))
      error = where + "a speaker name may not contain , ; = or braces.";
    else if (line < 0 || line > (1 << 30) || turn < 0 || turn > 1000)
      error = where + "its \"line\" or \"turn\" is out of range.";
    if (!error.empty ())
      break;
    std::string t;
    for (char ch : text)
      t += ch == '\n'  ? std::string ("\\N")
          : ch == '\r' ? std::string ()
          : ch == '{'  ? std::string ("(")
          : ch == '}'  ? std::string (")")
                       : std::string (1, ch);
    ass += "Dialogue: 0," + ass_time (start) + "," + ass_time (end) +
        ",Default," + speaker + ",0,0,0,," + t + "\n";
    char buf[64];
    g_snprintf (buf, sizeof buf, "%.3f, \"end\": %.3f", start, end);
    clean += std::string (i ? ", " : "") + "{\"start\": " + buf +
        ", \"text\": " + json_quote (text) +
        ", \"speaker\": " + json_quote (speaker) +
        (line > 0 ? ", \"line\": " + std::to_string (line) +
                    ", \"turn\": " + std::to_string (turn)
                  : std::string ()) +
        "}";
  }
  guint count = a ? json_array_get_length (a) : 0;
  n.reset ();
  if (!error.empty ()) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST, error);
    return;
  }
  clean += "], \"lang\": " + json_quote (lang) + "}";
  if (!write_file_atomic (s->project_dir (pid) + "/edited.json", clean) ||
      !write_file_atomic (s->project_dir (pid) + "/edited.ass", ass)) {
    reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
        "The server could not save the cues.");
    return;
  }
  s->db.exec ("UPDATE projects SET edited = 1 WHERE id = ?", { pid });
  reply_json (
      msg, SOUP_STATUS_OK, "{\"saved\": " + std::to_string (count) + "}");
}

} // namespace studio

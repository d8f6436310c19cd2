/* ganvoice-studio: the dubbing studio's web server (libsoup-3).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One process serves the page (web/), the JSON API under /api/, range
 * requests for media, and Server-Sent Events for live progress. Projects,
 * uploads, voice profiles and jobs live in SQLite (DATA/studio.db) with their
 * files under DATA/projects/ID/. GStreamer work runs in helper processes
 * (ganvoice-studio-worker) and renders in `ganvoice-dub --json` workers behind
 * the JobQueue interface. See docs/studio.md for the API. */
#include "common.h"
#include "db.h"
#include "jobqueue.h"

#include <glib-unix.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#ifndef STUDIO_SOURCE_DIR
#define STUDIO_SOURCE_DIR ""
#endif
#ifndef STUDIO_BUILD_DIR
#define STUDIO_BUILD_DIR ""
#endif
#ifndef STUDIO_DATA_DIR
#define STUDIO_DATA_DIR "/usr/local/share/ganvoice"
#endif

namespace studio {
namespace {

const gint64 kMaxJsonBody = 1024 * 1024;
const size_t kMaxCues = 5000;
const size_t kMaxCueText = 2000;
const size_t kMaxPreviewText = 400;

struct Voice {
  std::string name, language, gender;
};

/* Per-request state attached to the SoupServerMessage. */
struct RequestCtx {
  std::string body; /* collected request body (bounded) */
  bool too_large = false;
  /* A chunk being streamed into an upload. */
  int fd = -1;
  std::string upload_id;
  gint64 offset = 0, expected = 0, written = 0;
  bool write_failed = false;
  std::set<std::string> *writing = nullptr;
  ~RequestCtx ()
  {
    if (fd >= 0)
      close (fd);
    if (writing && !upload_id.empty ())
      writing->erase (upload_id);
  }
};

class Server;

struct SseClient {
  SoupServerMessage *msg;
  std::string project;
};

class Server : public JobListener {
public:
  Config cfg;
  Db db;
  SoupServer *soup = nullptr;
  std::unique_ptr<JobQueue> queue;
  std::unique_ptr<HelperPool> helpers;
  std::vector<Voice> voices;
  std::string voices_source;
  std::vector<SseClient> sse;
  std::set<std::string> writing; /* uploads receiving a chunk now */
  std::set<std::string> peaks_running;
  std::map<std::string, std::string> peaks_errors;
  std::map<std::string, std::string>
      job_project; /* running/queued job -> project */
  bool shutting_down = false;

  bool start (std::string *error);
  void stop ();

  /* ---- paths ---- */
  std::string project_dir (const std::string &p)
  {
    return cfg.data_dir + "/projects/" + p;
  }
  std::string upload_path (const std::string &p, const std::string &u)
  {
    return project_dir (p) + "/uploads/" + u;
  }
  std::string part_path (const std::string &p, const std::string &u)
  {
    return upload_path (p, u) + ".part";
  }

  /* ---- JSON views ---- */
  std::string upload_json (const Row &u);
  std::string profile_json (const Row &r);
  std::string job_json (const Row &r);
  std::string project_json (const std::string &pid);

  /* ---- events ---- */
  void broadcast (const std::string &project, const std::string &type,
      const std::string &json);
  void send_event (
      SoupServerMessage *msg, const std::string &type, const std::string &json);

  /* ---- JobListener ---- */
  void job_started (const std::string &id) override;
  void job_progress (const std::string &id, const JobProgress &p) override;
  void job_warning (const std::string &id, const std::string &message) override;
  void job_finished (
      const std::string &id, bool ok, const std::string &error) override;

  /* ---- work ---- */
  void check_upload (const std::string &pid, const std::string &uid,
      SoupServerMessage *reply_to);
  void make_peaks (const std::string &pid, const std::string &uid);
  /* Runs the worker for profile @prid, with --adapt when the row asks for it. */
  void make_profile (const std::string &pid, const std::string &prid);
  bool submit_job (const Row &job, std::string *error);
  void recover ();
  void load_voices ();
  bool voice_ok (
      const std::string &pid, const std::string &voice, std::string *arg);
};

Server *the_server = nullptr;

/* ---- responses -------------------------------------------------------- */

void
common_headers (SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  soup_message_headers_replace (h, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (h, "Referrer-Policy", "no-referrer");
  soup_message_headers_replace (h, "X-Frame-Options", "DENY");
}

void
reply_json (SoupServerMessage *msg, guint status, const std::string &json)
{
  soup_server_message_set_status (msg, status, nullptr);
  soup_server_message_set_response (
      msg, "application/json", SOUP_MEMORY_COPY, json.data (), json.size ());
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
      "Cache-Control", "no-store");
}

void
reply_error (SoupServerMessage *msg, guint status, const std::string &message)
{
  reply_json (msg, status, "{\"error\": " + json_quote (message) + "}");
}

const char *
mime_for (const std::string &name)
{
  static const std::pair<const char *, const char *> types[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".svg", "image/svg+xml" },
    { ".png", "image/png" },
    { ".ico", "image/x-icon" },
    { ".json", "application/json" },
    { ".wav", "audio/wav" },
    { ".webm", "video/webm" },
    { ".mp4", "video/mp4" },
    { ".mkv", "video/x-matroska" },
  };
  for (auto &t : types)
    if (g_str_has_suffix (name.c_str (), t.first))
      return t.second;
  return "application/octet-stream";
}

/* Serves a file, honouring a single byte range (RFC 9110). The file is
 * mapped, not read, so a large video costs no heap. */
void
serve_file (SoupServerMessage *msg, const std::string &path, const char *type,
    const std::string &download_name = "")
{
  GError *err = nullptr;
  GMappedFile *mf = g_mapped_file_new (path.c_str (), FALSE, &err);
  if (!mf) {
    g_clear_error (&err);
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "This file is no longer there.");
    return;
  }
  GBytes *all = g_mapped_file_get_bytes (mf);
  g_mapped_file_unref (mf);
  gint64 total = (gint64) g_bytes_get_size (all);
  gint64 start = 0, end = total - 1;
  bool partial = false;
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  const char *range = soup_message_headers_get_one (req, "Range");
  if (range && g_str_has_prefix (range, "bytes=") && !strchr (range, ',')) {
    std::string spec (range + 6);
    size_t dash = spec.find ('-');
    bool valid = dash != std::string::npos;
    gint64 a = -1, b = -1;
    if (valid) {
      std::string sa = spec.substr (0, dash), sb = spec.substr (dash + 1);
      auto parse = [] (const std::string &s, gint64 *v) {
        if (s.empty ())
          return true;
        if (s.size () > 18 ||
            s.find_first_not_of ("0123456789") != std::string::npos)
          return false;
        *v = g_ascii_strtoll (s.c_str (), nullptr, 10);
        return true;
      };
      valid = parse (sa, &a) && parse (sb, &b) && (a >= 0 || b >= 0);
    }
    if (valid) {
      if (a < 0) { /* suffix: last b bytes */
        start = std::max<gint64> (0, total - b);
      } else {
        start = a;
        if (b >= 0)
          end = std::min (b, total - 1);
      }
      if (start >= total || start > end || (b >= 0 && a > b)) {
        g_bytes_unref (all);
        soup_message_headers_replace (
            h, "Content-Range", ("bytes */" + std::to_string (total)).c_str ());
        reply_error (msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE,
            "That part of the file does not exist.");
        return;
      }
      partial = true;
    }
  }
  soup_message_headers_replace (h, "Accept-Ranges", "bytes");
  soup_message_headers_replace (h, "Cache-Control", "private, no-cache");
  soup_message_headers_set_content_type (h, type, nullptr);
  if (!download_name.empty ()) {
    std::string cd = "attachment; filename=\"" + download_name + "\"";
    soup_message_headers_replace (h, "Content-Disposition", cd.c_str ());
  }
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  if (total > 0) {
    GBytes *slice =
        g_bytes_new_from_bytes (all, (gsize) start, (gsize) (end - start + 1));
    soup_message_body_append_bytes (body, slice);
    g_bytes_unref (slice);
  }
  g_bytes_unref (all);
  if (partial) {
    std::string cr = "bytes " + std::to_string (start) + "-" +
        std::to_string (end) + "/" + std::to_string (total);
    soup_message_headers_replace (h, "Content-Range", cr.c_str ());
    soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, nullptr);
  } else {
    soup_server_message_set_status (msg, SOUP_STATUS_OK, nullptr);
  }
}

/* ---- request helpers -------------------------------------------------- */

std::vector<std::string>
split_path (const char *path)
{
  std::vector<std::string> parts;
  gchar **v = g_strsplit (path, "/", 0);
  for (gchar **p = v; *p; p++)
    if (**p)
      parts.push_back (*p);
  g_strfreev (v);
  return parts;
}

std::string
query_get (GHashTable *query, const char *key)
{
  if (!query)
    return "";
  const char *v = (const char *) g_hash_table_lookup (query, key);
  return v ? v : "";
}

std::string
clean_name (const std::string &in, size_t max_chars)
{
  std::string s = in;
  if (!g_utf8_validate (s.c_str (), (gssize) s.size (), nullptr))
    s = "file";
  std::string out;
  size_t chars = 0;
  for (const char *p = s.c_str (); *p && chars < max_chars;
       p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);
    if (c < 0x20 || c == 0x7f)
      continue;
    char buf[8];
    int n = g_unichar_to_utf8 (c, buf);
    out.append (buf, (size_t) n);
    chars++;
  }
  return out;
}

/* ---- JSON views ------------------------------------------------------- */

std::string
Server::upload_json (const Row &u)
{
  std::string pid = u.at ("project"), uid = u.at ("id");
  gint64 offset = u.at ("state") == "receiving"
      ? std::max<gint64> (0, file_size (part_path (pid, uid)))
      : g_ascii_strtoll (u.at ("size").c_str (), nullptr, 10);
  std::string info = u.at ("info").empty () ? "{}" : u.at ("info");
  return "{\"id\": " + json_quote (uid) +
      ", \"kind\": " + json_quote (u.at ("kind")) +
      ", \"name\": " + json_quote (u.at ("name")) +
      ", \"size\": " + u.at ("size") +
      ", \"offset\": " + std::to_string (offset) +
      ", \"state\": " + json_quote (u.at ("state")) +
      ", \"error\": " + json_quote (u.at ("error")) + ", \"info\": " + info +
      ", \"url\": " + json_quote ("/api/projects/" + pid + "/media/" + uid) +
      "}";
}

std::string
Server::profile_json (const Row &r)
{
  return "{\"id\": " + json_quote (r.at ("id")) +
      ", \"name\": " + json_quote (r.at ("name")) +
      ", \"state\": " + json_quote (r.at ("state")) +
      ", \"error\": " + json_quote (r.at ("error")) +
      ", \"recording\": " + json_quote (r.at ("upload")) +
      ", \"voice\": " + json_quote ("profile:" + r.at ("id")) +
      ", \"adapt\": " + (r.at ("adapt") == "1" ? "true" : "false") +
      ", \"created\": " + r.at ("created") + "}";
}

std::string
Server::job_json (const Row &r)
{
  std::string s = "{\"id\": " + json_quote (r.at ("id")) +
      ", \"state\": " + json_quote (r.at ("state")) +
      ", \"percent\": " + r.at ("percent") + ", \"eta\": " + r.at ("eta") +
      ", \"options\": " + r.at ("options") +
      ", \"error\": " + json_quote (r.at ("error")) +
      ", \"warnings\": " + r.at ("warnings") +
      ", \"created\": " + r.at ("created") +
      ", \"updated\": " + r.at ("updated");
  if (r.at ("state") == "done")
    s += ", \"result\": " +
        json_quote ("/api/projects/" + r.at ("project") + "/jobs/" +
            r.at ("id") + "/result") +
        ", \"file\": " + json_quote (r.at ("output"));
  return s + "}";
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
  for (const Row &r :
      db.all ("SELECT * FROM profiles WHERE project = ? ORDER BY created",
          { pid })) {
    s += (first ? "" : ", ") + profile_json (r);
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

/* ---- SSE -------------------------------------------------------------- */

void
Server::send_event (
    SoupServerMessage *msg, const std::string &type, const std::string &json)
{
  std::string ev = "event: " + type + "\ndata: " + json + "\n\n";
  soup_message_body_append (soup_server_message_get_response_body (msg),
      SOUP_MEMORY_COPY, ev.data (), ev.size ());
  soup_server_message_unpause (msg);
}

void
Server::broadcast (const std::string &project, const std::string &type,
    const std::string &json)
{
  for (const SseClient &c : sse)
    if (c.project == project)
      send_event (c.msg, type, json);
}

void
on_sse_finished (SoupServerMessage *msg, gpointer data)
{
  Server *s = (Server *) data;
  s->sse.erase (std::remove_if (s->sse.begin (), s->sse.end (),
                    [msg] (const SseClient &c) { return c.msg == msg; }),
      s->sse.end ());
}

gboolean
sse_ping (gpointer data)
{
  Server *s = (Server *) data;
  for (const SseClient &c : s->sse) {
    static const char ping[] = ": ping\n\n";
    soup_message_body_append (soup_server_message_get_response_body (c.msg),
        SOUP_MEMORY_STATIC, ping, sizeof ping - 1);
    soup_server_message_unpause (c.msg);
  }
  return G_SOURCE_CONTINUE;
}

/* ---- jobs ------------------------------------------------------------- */

void
Server::job_started (const std::string &id)
{
  db.exec ("UPDATE jobs SET state = 'running', updated = ? WHERE id = ?",
      { (long long) now_s (), id });
  Row r = db.one ("SELECT * FROM jobs WHERE id = ?", { id });
  if (!r.empty ())
    broadcast (r["project"], "job", job_json (r));
}

void
Server::job_progress (const std::string &id, const JobProgress &p)
{
  double pct =
      std::isfinite (p.percent) ? std::clamp (p.percent, 0.0, 100.0) : 0;
  double eta = std::isfinite (p.eta) ? p.eta : -1;
  db.exec ("UPDATE jobs SET percent = ?, eta = ?, updated = ? WHERE id = ?",
      { pct, eta, (long long) now_s (), id });
  auto it = job_project.find (id);
  if (it == job_project.end ())
    return;
  char buf[200];
  g_snprintf (buf, sizeof buf,
      "{\"id\": \"%s\", \"percent\": %.1f, \"eta\": %.1f, \"position\": %.2f, "
      "\"duration\": %.2f}",
      id.c_str (), pct, eta, std::isfinite (p.position) ? p.position : 0.0,
      std::isfinite (p.duration) ? p.duration : 0.0);
  broadcast (it->second, "progress", buf);
}

void
Server::job_warning (const std::string &id, const std::string &message)
{
  Row r = db.one ("SELECT warnings, project FROM jobs WHERE id = ?", { id });
  if (r.empty ())
    return;
  JsonNode *n = parse_json (r["warnings"], nullptr);
  if (!n || !JSON_NODE_HOLDS_ARRAY (n)) {
    if (n)
      json_node_unref (n);
    n = json_node_new (JSON_NODE_ARRAY);
    json_node_take_array (n, json_array_new ());
  }
  JsonArray *a = json_node_get_array (n);
  if (json_array_get_length (a) < 100)
    json_array_add_string_element (a, message.c_str ());
  db.exec ("UPDATE jobs SET warnings = ? WHERE id = ?", { to_json (n), id });
  json_node_unref (n);
  broadcast (r["project"], "warning",
      "{\"id\": " + json_quote (id) + ", \"message\": " + json_quote (message) +
          "}");
}

void
Server::job_finished (const std::string &id, bool ok, const std::string &error)
{
  if (shutting_down)
    return;
  const char *state = ok      ? "done"
      : error == "Cancelled." ? "cancelled"
                              : "failed";
  db.exec ("UPDATE jobs SET state = ?, error = ?, percent = CASE WHEN ? THEN "
           "100 ELSE "
           "percent END, eta = -1, updated = ? WHERE id = ?",
      { state, ok ? "" : error, (long long) ok, (long long) now_s (), id });
  job_project.erase (id);
  Row r = db.one ("SELECT * FROM jobs WHERE id = ?", { id });
  if (!r.empty ())
    broadcast (r["project"], "job", job_json (r));
}

bool
Server::voice_ok (
    const std::string &pid, const std::string &voice, std::string *arg)
{
  if (g_str_has_prefix (voice.c_str (), "profile:")) {
    std::string prid = voice.substr (8);
    if (!valid_id (prid))
      return false;
    Row r = db.one ("SELECT state FROM profiles WHERE id = ? AND project = ?",
        { prid, pid });
    if (r.empty () || r["state"] != "ready")
      return false;
    *arg = project_dir (pid) + "/profiles/" + prid + ".voice";
    return true;
  }
  for (const Voice &v : voices)
    if (v.name == voice) {
      *arg = voice;
      return true;
    }
  return false;
}

bool
Server::submit_job (const Row &job, std::string *error)
{
  std::string pid = job.at ("project");
  Row p = db.one ("SELECT * FROM projects WHERE id = ?", { pid });
  JsonNode *n = parse_json (job.at ("options"), nullptr);
  JsonObject *o =
      n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : nullptr;
  RenderJob rj;
  rj.id = job.at ("id");
  rj.input = upload_path (pid, p["video"]);
  rj.subtitles = p["edited"] == "1" ? project_dir (pid) + "/edited.ass"
                                    : upload_path (pid, p["subtitles"]);
  if (p["edited"] != "1") {
    /* ganvoice-dub detects the format by content, but wants a name it knows. */
    Row su =
        db.one ("SELECT info FROM uploads WHERE id = ?", { p["subtitles"] });
    std::string fmt = su["info"];
    std::string ext = fmt.find ("WebVTT") != std::string::npos ? ".vtt"
        : fmt.find ("SubStation") != std::string::npos ||
            fmt.find ("SSA") != std::string::npos
        ? ".ass"
        : ".srt";
    std::string link = project_dir (pid) + "/subtitles" + ext;
    g_unlink (link.c_str ());
    if (symlink (rj.subtitles.c_str (), link.c_str ()) == 0)
      rj.subtitles = link;
  }
  rj.output = project_dir (pid) + "/results/" + job.at ("output");
  rj.log_path = project_dir (pid) + "/results/" + job.at ("id") + ".log";
  rj.mode = obj_string (o, "mode", "duck");
  rj.language = obj_string (o, "lang");
  std::string arg;
  std::string voice = obj_string (o, "voice");
  bool ok = true;
  if (!voice.empty ()) {
    if (voice_ok (pid, voice, &arg))
      rj.voices.push_back (arg);
    else
      ok = false;
  }
  JsonObject *sp = o && json_object_has_member (o, "speakers")
      ? json_object_get_object_member (o, "speakers")
      : nullptr;
  if (sp) {
    GList *names = json_object_get_members (sp);
    for (GList *l = names; l; l = l->next) {
      std::string v = obj_string (sp, (const char *) l->data);
      if (v.empty ())
        continue;
      if (voice_ok (pid, v, &arg))
        rj.voices.push_back (std::string ((const char *) l->data) + "=" + arg);
      else
        ok = false;
    }
    g_list_free (names);
  }
  if (n)
    json_node_unref (n);
  if (!ok) {
    *error = "A chosen voice no longer exists. Choose the voices again.";
    return false;
  }
  make_dirs (project_dir (pid) + "/results");
  job_project[rj.id] = pid;
  queue->submit (rj);
  return true;
}

/* ---- uploads: checks, peaks, profiles --------------------------------- */

void
Server::check_upload (
    const std::string &pid, const std::string &uid, SoupServerMessage *reply_to)
{
  Row u = db.one ("SELECT * FROM uploads WHERE id = ?", { uid });
  std::string path = upload_path (pid, uid);
  std::string kind = u["kind"];
  if (reply_to) {
    g_object_ref (reply_to);
    soup_server_message_pause (reply_to);
  }
  helpers->run ({ kind == "subtitles" ? "cues" : "probe", path },
      [this, pid, uid, kind, path, reply_to] (WorkerResult &r) {
        std::string error;
        std::string info = "{}";
        if (!r.ok) {
          error = "This file was refused: " + r.error;
        } else {
          JsonObject *o = json_node_get_object (r.result);
          if (kind == "subtitles") {
            write_file_atomic (path + ".cues.json", to_json (r.result));
            info = "{\"format\": " + json_quote (obj_string (o, "format")) +
                ", \"language\": " + json_quote (obj_string (o, "language")) +
                ", \"cues\": " +
                std::to_string (json_array_get_length (
                    json_object_get_array_member (o, "cues"))) +
                "}";
          } else {
            JsonArray *v = json_object_get_array_member (o, "video");
            JsonArray *a = json_object_get_array_member (o, "audio");
            guint nv = v ? json_array_get_length (v) : 0;
            guint na = a ? json_array_get_length (a) : 0;
            if (kind == "video" && nv == 0)
              error = "This file was refused: it has no video picture. "
                      "Choose a video file (MKV, WebM, MP4, …).";
            else if (kind == "recording" && na == 0)
              error = "This file was refused: it has no sound in it.";
            else
              info = to_json (r.result);
          }
        }
        if (!error.empty ()) {
          g_unlink (path.c_str ());
          db.exec (
              "UPDATE uploads SET state = 'rejected', error = ? WHERE id = ?",
              { error, uid });
          if (kind != "recording")
            db.exec (std::string ("UPDATE projects SET ") + kind +
                    " = NULL WHERE id = ? AND " + kind + " = ?",
                { pid, uid });
        } else {
          db.exec ("UPDATE uploads SET state = 'ready', info = ? WHERE id = ?",
              { info, uid });
          if (kind == "video")
            db.exec (
                "UPDATE projects SET video = ? WHERE id = ?", { uid, pid });
          if (kind == "subtitles")
            db.exec (
                "UPDATE projects SET subtitles = ?, edited = 0 WHERE id = ?",
                { uid, pid });
          if (kind == "video")
            make_peaks (pid, uid);
        }
        Row u2 = db.one ("SELECT * FROM uploads WHERE id = ?", { uid });
        if (!u2.empty ())
          broadcast (pid, "upload", upload_json (u2));
        if (reply_to) {
          if (u2.empty ())
            reply_error (
                reply_to, SOUP_STATUS_GONE, "The project was deleted.");
          else if (!error.empty ())
            reply_json (reply_to, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                "{\"error\": " + json_quote (error) +
                    ", \"upload\": " + upload_json (u2) + "}");
          else
            reply_json (reply_to, SOUP_STATUS_OK, upload_json (u2));
          soup_server_message_unpause (reply_to);
          g_object_unref (reply_to);
        }
      });
}

void
Server::make_peaks (const std::string &pid, const std::string &uid)
{
  if (peaks_running.count (uid))
    return;
  peaks_running.insert (uid);
  std::string out = upload_path (pid, uid) + ".peaks.json";
  helpers->run ({ "peaks", upload_path (pid, uid), "-o", out },
      [this, pid, uid] (WorkerResult &r) {
        peaks_running.erase (uid);
        if (!r.ok)
          peaks_errors[uid] = r.error;
        broadcast (pid, "peaks", "{\"upload\": " + json_quote (uid) + "}");
      });
}

void
Server::make_profile (const std::string &pid, const std::string &prid)
{
  Row r = db.one ("SELECT * FROM profiles WHERE id = ?", { prid });
  if (r.empty ())
    return;
  const bool adapt = r["adapt"] == "1";
  make_dirs (project_dir (pid) + "/profiles");
  std::string out = project_dir (pid) + "/profiles/" + prid + ".voice";
  std::vector<std::string> args = { "profile", upload_path (pid, r["upload"]),
    "-o", out };
  if (adapt)
    args.push_back ("--adapt");
  helpers->run (args, [this, pid, prid] (WorkerResult &res) {
    if (res.ok)
      db.exec ("UPDATE profiles SET state = 'ready', error = '' WHERE id = ?",
          { prid });
    else
      db.exec ("UPDATE profiles SET state = 'failed', error = ? WHERE id = ?",
          { res.error, prid });
    Row r2 = db.one ("SELECT * FROM profiles WHERE id = ?", { prid });
    if (!r2.empty ())
      broadcast (pid, "profile", profile_json (r2));
  });
}

void
Server::recover ()
{
  /* A job that was running when the server died cannot be trusted. */
  db.exec (
      "UPDATE jobs SET state = 'failed', error = 'The server stopped while "
      "this "
      "video was being rendered. Render it again.', updated = ? WHERE state = "
      "'running'",
      { (long long) now_s () });
  for (const Row &j : db.all (
           "SELECT * FROM jobs WHERE state = 'queued' ORDER BY created", {})) {
    std::string err;
    if (!submit_job (j, &err))
      db.exec ("UPDATE jobs SET state = 'failed', error = ? WHERE id = ?",
          { err, j.at ("id") });
  }
  db.exec ("UPDATE profiles SET state = 'failed', error = 'The server "
           "restarted while "
           "this voice was being made. Try again.' WHERE state = 'making'",
      {});
  for (const Row &u :
      db.all ("SELECT * FROM uploads WHERE state = 'checking'", {}))
    check_upload (u.at ("project"), u.at ("id"), nullptr);
}

void
Server::load_voices ()
{
  std::vector<std::string> cards;
  if (!cfg.acoustic_card.empty ())
    cards.push_back (cfg.acoustic_card);
  if (const char *d = g_getenv ("GANVOICE_MODEL_DIR"))
    cards.push_back (std::string (d) + "/acoustic/acoustic.json");
  if (*STUDIO_SOURCE_DIR) {
    cards.push_back (
        std::string (STUDIO_SOURCE_DIR) + "/models/acoustic/acoustic.json");
    cards.push_back (
        std::string (STUDIO_SOURCE_DIR) + "/tests/models/tiny-acoustic.json");
  }
  cards.push_back (
      std::string (STUDIO_DATA_DIR) + "/models/acoustic/acoustic.json");
  for (const std::string &c : cards) {
    std::string text;
    if (!read_file (c, &text, 16 * 1024 * 1024))
      continue;
    JsonNode *n = parse_json (text, nullptr);
    if (!n || !JSON_NODE_HOLDS_OBJECT (n)) {
      if (n)
        json_node_unref (n);
      g_warning ("%s: not a model card", c.c_str ());
      continue;
    }
    JsonObject *o = json_node_get_object (n);
    JsonArray *a = json_object_has_member (o, "voices")
        ? json_object_get_array_member (o, "voices")
        : nullptr;
    for (guint i = 0; a && i < json_array_get_length (a); i++) {
      JsonNode *e = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_OBJECT (e))
        continue;
      JsonObject *v = json_node_get_object (e);
      Voice voice{ obj_string (v, "name"), obj_string (v, "language"),
        obj_string (v, "gender") };
      if (!voice.name.empty () && voice.name.size () < 64 &&
          voice.name.find_first_of ("/=;\\ ") == std::string::npos)
        voices.push_back (voice);
    }
    json_node_unref (n);
    voices_source = c;
    return;
  }
  g_warning ("no acoustic model card found: the voice gallery is empty");
}

/* ---- request body collection (early handler) ------------------------- */

void
on_body_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer data)
{
  RequestCtx *ctx = (RequestCtx *) data;
  gsize len = 0;
  const char *p = (const char *) g_bytes_get_data (chunk, &len);
  if (ctx->fd >= 0) {
    if (ctx->write_failed || ctx->written + (gint64) len > ctx->expected) {
      ctx->write_failed = true;
      return;
    }
    while (len > 0) {
      ssize_t w = write (ctx->fd, p, len);
      if (w < 0) {
        if (errno == EINTR)
          continue;
        ctx->write_failed = true;
        return;
      }
      p += w;
      len -= (size_t) w;
      ctx->written += w;
    }
    return;
  }
  if (ctx->too_large || (gint64) (ctx->body.size () + len) > kMaxJsonBody) {
    ctx->too_large = true;
    ctx->body.clear ();
    return;
  }
  ctx->body.append (p, len);
}

bool check_token (Server *s, SoupServerMessage *msg, const std::string &pid,
    GHashTable *query);

void
early_handler (SoupServer *, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer data)
{
  Server *s = (Server *) data;
  common_headers (msg);
  std::string method = soup_server_message_get_method (msg);
  if (method == "GET" || method == "HEAD" || method == "OPTIONS")
    return;
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  goffset length =
      soup_message_headers_get_encoding (req) == SOUP_ENCODING_CONTENT_LENGTH
      ? soup_message_headers_get_content_length (req)
      : -1;
  RequestCtx *ctx = new RequestCtx;
  g_object_set_data_full (G_OBJECT (msg), "studio-ctx", ctx,
      [] (gpointer p) { delete (RequestCtx *) p; });
  soup_message_body_set_accumulate (
      soup_server_message_get_request_body (msg), FALSE);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (on_body_chunk), ctx);

  std::vector<std::string> parts = split_path (path);
  bool chunk = method == "PUT" && parts.size () == 5 && parts[0] == "api" &&
      parts[1] == "projects" && parts[3] == "uploads";
  if (!chunk) {
    if (length > kMaxJsonBody)
      reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
          "The request is too large.");
    return;
  }
  /* A chunk of an upload: checked now, then streamed straight to disk. */
  std::string pid = parts[2], uid = parts[4];
  if (!valid_id (pid) || !valid_id (uid)) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such upload.");
    return;
  }
  if (!check_token (s, msg, pid, query))
    return;
  Row u = s->db.one (
      "SELECT * FROM uploads WHERE id = ? AND project = ?", { uid, pid });
  if (u.empty ()) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such upload.");
    return;
  }
  if (u["state"] != "receiving") {
    reply_json (msg, SOUP_STATUS_CONFLICT,
        "{\"error\": \"This upload is already complete.\", \"upload\": " +
            s->upload_json (u) + "}");
    return;
  }
  if (length < 0) {
    reply_error (
        msg, SOUP_STATUS_LENGTH_REQUIRED, "A chunk needs a Content-Length.");
    return;
  }
  if (length > s->cfg.max_chunk_bytes) {
    reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
        "A chunk may hold at most " + std::to_string (s->cfg.max_chunk_bytes) +
            " bytes.");
    return;
  }
  if (s->writing.count (uid)) {
    reply_error (msg, SOUP_STATUS_CONFLICT,
        "Another part of this upload is being received; wait for it.");
    return;
  }
  std::string part = s->part_path (pid, uid);
  gint64 have = std::max<gint64> (0, file_size (part));
  gint64 size = g_ascii_strtoll (u["size"].c_str (), nullptr, 10);
  std::string off = query_get (query, "offset");
  gint64 offset = off.empty () ||
          off.find_first_not_of ("0123456789") != std::string::npos ||
          off.size () > 18
      ? -1
      : g_ascii_strtoll (off.c_str (), nullptr, 10);
  if (offset != have) {
    reply_json (msg, SOUP_STATUS_CONFLICT,
        "{\"error\": \"The upload continues at another offset.\", "
        "\"offset\": " +
            std::to_string (have) + "}");
    return;
  }
  if (offset + length > size) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST,
        "This chunk goes past the end of the file.");
    return;
  }
  int fd =
      open (part.c_str (), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
        "The server cannot store the upload.");
    return;
  }
  ctx->fd = fd;
  ctx->upload_id = uid;
  ctx->offset = offset;
  ctx->expected = length;
  ctx->writing = &s->writing;
  s->writing.insert (uid);
}

/* ---- the API ---------------------------------------------------------- */

bool
check_token (Server *s, SoupServerMessage *msg, const std::string &pid,
    GHashTable *query)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  const char *t = soup_message_headers_get_one (req, "X-Studio-Token");
  std::string token = t ? t : query_get (query, "token");
  Row p = s->db.one ("SELECT token_hash FROM projects WHERE id = ?", { pid });
  if (p.empty ()) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such project.");
    return false;
  }
  if (token.empty () || !same_secret (hash_token (token), p["token_hash"])) {
    reply_error (msg, SOUP_STATUS_FORBIDDEN,
        "This project needs its own link (the token is missing or wrong).");
    return false;
  }
  return true;
}

JsonObject *
body_object (SoupServerMessage *msg, JsonNode **node)
{
  RequestCtx *ctx =
      (RequestCtx *) g_object_get_data (G_OBJECT (msg), "studio-ctx");
  std::string body = ctx ? ctx->body : "";
  if (ctx && ctx->too_large) {
    reply_error (
        msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "The request is too large.");
    return nullptr;
  }
  if (body.empty ())
    body = "{}";
  std::string err;
  *node = parse_json (body, &err);
  if (!*node || !JSON_NODE_HOLDS_OBJECT (*node)) {
    if (*node)
      json_node_unref (*node);
    *node = nullptr;
    reply_error (msg, SOUP_STATUS_BAD_REQUEST,
        err.empty () ? "The request must be a JSON object." : err);
    return nullptr;
  }
  return json_node_get_object (*node);
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

bool
speaker_ok (const std::string &s)
{
  return s.size () <= 100 &&
      g_utf8_validate (s.c_str (), (gssize) s.size (), nullptr) &&
      s.find_first_of (",;=\n\r{}") == std::string::npos;
}

void
handle_cues_put (Server *s, SoupServerMessage *msg, const std::string &pid)
{
  JsonNode *n = nullptr;
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
  std::string lang = obj_string (o, "lang");
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
    double start = obj_double (c, "start", -1), end = obj_double (c, "end", -1);
    std::string text = obj_string (c, "text"),
                speaker = obj_string (c, "speaker");
    std::string where = "Cue " + std::to_string (i + 1) + ": ";
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
        ", \"speaker\": " + json_quote (speaker) + "}";
  }
  guint count = a ? json_array_get_length (a) : 0;
  json_node_unref (n);
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

void
handle_preview (Server *s, SoupServerMessage *msg, const std::string &pid,
    const std::string &voice_in, const std::string &text_in,
    const std::string &lang_in)
{
  std::string voice_arg;
  if (!s->voice_ok (pid, voice_in, &voice_arg)) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST,
        "There is no voice called \"" + clean_name (voice_in, 40) + "\".");
    return;
  }
  std::string text = text_in;
  if (text.empty () || text.size () > kMaxPreviewText * 4 ||
      !g_utf8_validate (text.c_str (), (gssize) text.size (), nullptr) ||
      g_utf8_strlen (text.c_str (), -1) > (glong) kMaxPreviewText) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST,
        "The line to preview must have 1 to " +
            std::to_string (kMaxPreviewText) + " characters.");
    return;
  }
  std::string lang = lang_in.size () < 16 &&
          lang_in.find_first_not_of (
              "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_") ==
              std::string::npos
      ? lang_in
      : "";
  std::string dir = pid.empty () ? s->cfg.data_dir + "/voices"
                                 : s->project_dir (pid) + "/previews";
  make_dirs (dir);
  std::string key =
      hash_token (voice_arg + "\n" + lang + "\n" + text).substr (0, 32);
  std::string wav = dir + "/" + key + ".wav";
  if (file_exists (wav)) {
    serve_file (msg, wav, "audio/wav");
    return;
  }
  std::string txt = dir + "/" + key + ".txt";
  write_file_atomic (txt, text);
  g_object_ref (msg);
  soup_server_message_pause (msg);
  s->helpers->run ({ "say", txt, voice_arg, lang, "-o", wav },
      [msg, wav, txt] (WorkerResult &r) {
        g_unlink (txt.c_str ());
        if (r.ok && file_exists (wav))
          serve_file (msg, wav, "audio/wav");
        else
          reply_json (msg,
              r.code == "unavailable" ? SOUP_STATUS_SERVICE_UNAVAILABLE
                                      : SOUP_STATUS_UNPROCESSABLE_ENTITY,
              "{\"error\": " + json_quote (r.error) +
                  ", \"code\": " + json_quote (r.code) + "}");
        soup_server_message_unpause (msg);
        g_object_unref (msg);
      });
}

const char *
preview_line (const std::string &lang)
{
  if (g_str_has_prefix (lang.c_str (), "es"))
    return "¡Hola! Así sonará mi voz cuando lea tus subtítulos.";
  if (g_str_has_prefix (lang.c_str (), "fr"))
    return "Bonjour ! Voici ma voix quand je lis vos sous-titres.";
  if (g_str_has_prefix (lang.c_str (), "de"))
    return "Hallo! So klingt meine Stimme, wenn ich Ihre Untertitel lese.";
  return "Hello! This is how I will sound when I read your subtitles.";
}

void
handle_project (Server *s, SoupServerMessage *msg, const std::string &method,
    const std::vector<std::string> &parts, GHashTable *query)
{
  std::string pid = parts[2];
  if (!valid_id (pid)) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such project.");
    return;
  }
  if (!check_token (s, msg, pid, query))
    return;
  std::string what = parts.size () > 3 ? parts[3] : "";
  std::string id = parts.size () > 4 ? parts[4] : "";
  std::string sub = parts.size () > 5 ? parts[5] : "";
  size_t n = parts.size ();
  Db &db = s->db;

  if (n == 3 && method == "GET") {
    reply_json (msg, SOUP_STATUS_OK, s->project_json (pid));
  } else if (n == 3 && method == "DELETE") {
    for (const Row &j :
        db.all ("SELECT id FROM jobs WHERE project = ? AND state IN "
                "('queued', 'running')",
            { pid }))
      s->queue->cancel (j.at ("id"));
    db.exec ("DELETE FROM projects WHERE id = ?", { pid });
    remove_tree (s->project_dir (pid));
    reply_json (msg, SOUP_STATUS_OK, "{\"deleted\": true}");
  } else if (n == 3 && method == "PATCH") {
    JsonNode *node = nullptr;
    JsonObject *o = body_object (msg, &node);
    if (!o)
      return;
    if (json_object_has_member (o, "name"))
      db.exec ("UPDATE projects SET name = ? WHERE id = ?",
          { clean_name (obj_string (o, "name"), 100), pid });
    if (json_object_has_member (o, "settings") &&
        JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "settings"))) {
      std::string st = to_json (json_object_get_member (o, "settings"));
      if (st.size () > 32 * 1024) {
        json_node_unref (node);
        reply_error (
            msg, SOUP_STATUS_BAD_REQUEST, "The settings are too large.");
        return;
      }
      db.exec ("UPDATE projects SET settings = ? WHERE id = ?", { st, pid });
    }
    json_node_unref (node);
    reply_json (msg, SOUP_STATUS_OK, s->project_json (pid));
  } else if (what == "events" && n == 4 && method == "GET") {
    if (s->sse.size () >= 256) {
      reply_error (
          msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "Too many open pages.");
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
  } else if (what == "uploads" && n == 4 && method == "POST") {
    JsonNode *node = nullptr;
    JsonObject *o = body_object (msg, &node);
    if (!o)
      return;
    std::string kind = obj_string (o, "kind");
    gint64 size = obj_int (o, "size", -1);
    std::string name = clean_name (obj_string (o, "name", "file"), 200);
    json_node_unref (node);
    gint64 limit = kind == "video" ? s->cfg.max_upload_bytes
        : kind == "subtitles"      ? s->cfg.max_subtitle_bytes
        : kind == "recording"      ? s->cfg.max_recording_bytes
                                   : -1;
    if (limit < 0) {
      reply_error (msg, SOUP_STATUS_BAD_REQUEST,
          "kind must be video, subtitles or recording.");
      return;
    }
    if (size <= 0) {
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "The file is empty.");
      return;
    }
    if (size > limit) {
      char *h = g_format_size ((guint64) limit);
      reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
          std::string ("This file is too large: the limit is ") + h + ".");
      g_free (h);
      return;
    }
    Row count =
        db.one ("SELECT COUNT(*) AS n FROM uploads WHERE project = ?", { pid });
    if (atoi (count["n"].c_str ()) >= s->cfg.max_uploads_per_project) {
      reply_error (msg, (guint) 429,
          "This project has too many uploads; start a new project.");
      return;
    }
    std::string uid = new_id ();
    make_dirs (s->project_dir (pid) + "/uploads");
    db.exec ("INSERT INTO uploads (id, project, kind, name, size, state, "
             "created) VALUES "
             "(?, ?, ?, ?, ?, 'receiving', ?)",
        { uid, pid, kind, name, (long long) size, (long long) now_s () });
    Row u = db.one ("SELECT * FROM uploads WHERE id = ?", { uid });
    std::string j = s->upload_json (u);
    j.insert (j.size () - 1,
        ", \"chunk_size\": " +
            std::to_string (
                std::min<gint64> (s->cfg.max_chunk_bytes, 4 * 1024 * 1024)));
    reply_json (msg, SOUP_STATUS_CREATED, j);
  } else if (what == "uploads" && n == 5 && valid_id (id)) {
    Row u = db.one (
        "SELECT * FROM uploads WHERE id = ? AND project = ?", { id, pid });
    if (u.empty ()) {
      reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such upload.");
      return;
    }
    if (method == "GET") {
      reply_json (msg, SOUP_STATUS_OK, s->upload_json (u));
    } else if (method == "PUT") {
      RequestCtx *ctx =
          (RequestCtx *) g_object_get_data (G_OBJECT (msg), "studio-ctx");
      if (!ctx || ctx->fd < 0) {
        reply_error (
            msg, SOUP_STATUS_BAD_REQUEST, "This chunk was not accepted.");
        return;
      }
      close (ctx->fd);
      ctx->fd = -1;
      std::string part = s->part_path (pid, id);
      if (ctx->write_failed || ctx->written != ctx->expected) {
        if (truncate (part.c_str (), ctx->offset) != 0)
          g_warning ("%s: cannot truncate", part.c_str ());
        reply_error (msg,
            ctx->write_failed ? SOUP_STATUS_INSUFFICIENT_STORAGE
                              : SOUP_STATUS_BAD_REQUEST,
            ctx->write_failed
                ? "The server could not store this chunk (is its disk full?)."
                : "The chunk arrived incomplete; send it again.");
        return;
      }
      gint64 size = g_ascii_strtoll (u["size"].c_str (), nullptr, 10);
      if (file_size (part) < size) {
        reply_json (msg, SOUP_STATUS_OK, s->upload_json (u));
        return;
      }
      /* Complete: the content decides whether it is accepted. */
      if (g_rename (part.c_str (), s->upload_path (pid, id).c_str ()) != 0) {
        reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
            "The server could not store the upload.");
        return;
      }
      db.exec ("UPDATE uploads SET state = 'checking' WHERE id = ?", { id });
      s->check_upload (pid, id, msg);
    } else if (method == "DELETE") {
      if (s->writing.count (id)) {
        reply_error (
            msg, SOUP_STATUS_CONFLICT, "This upload is receiving data.");
        return;
      }
      Row used = db.one ("SELECT id FROM profiles WHERE upload = ?", { id });
      if (!used.empty ()) {
        reply_error (msg, SOUP_STATUS_CONFLICT,
            "A voice was made from this recording; delete the voice first.");
        return;
      }
      db.exec ("UPDATE projects SET video = NULL WHERE id = ? AND video = ?",
          { pid, id });
      db.exec (
          "UPDATE projects SET subtitles = NULL WHERE id = ? AND subtitles = ?",
          { pid, id });
      db.exec ("DELETE FROM uploads WHERE id = ?", { id });
      g_unlink (s->part_path (pid, id).c_str ());
      g_unlink (s->upload_path (pid, id).c_str ());
      reply_json (msg, SOUP_STATUS_OK, "{\"deleted\": true}");
    } else {
      reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Not allowed here.");
    }
  } else if (what == "media" && (n == 5 || n == 6) && valid_id (id) &&
      (method == "GET" || method == "HEAD")) {
    Row u = db.one (
        "SELECT * FROM uploads WHERE id = ? AND project = ?", { id, pid });
    if (u.empty () || u["state"] != "ready") {
      reply_error (msg, SOUP_STATUS_NOT_FOUND, "This file is not available.");
      return;
    }
    std::string path = s->upload_path (pid, id);
    if (n == 6 && sub == "peaks") {
      std::string peaks = path + ".peaks.json";
      if (file_exists (peaks))
        serve_file (msg, peaks, "application/json");
      else if (s->peaks_errors.count (id))
        reply_error (
            msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, s->peaks_errors[id]);
      else {
        if (u["kind"] != "subtitles")
          s->make_peaks (pid, id);
        reply_json (msg, SOUP_STATUS_ACCEPTED, "{\"state\": \"working\"}");
      }
    } else if (n == 6 && sub == "cues" && u["kind"] == "subtitles") {
      serve_file (msg, path + ".cues.json", "application/json");
    } else if (n == 5) {
      std::string container;
      std::string info = u["info"];
      const char *type = info.find ("video/webm") != std::string::npos
          ? "video/webm"
          : info.find ("quicktime") != std::string::npos ||
              info.find ("mp4") != std::string::npos
          ? "video/mp4"
          : info.find ("ogg") != std::string::npos
          ? (u["kind"] == "video" ? "video/ogg" : "audio/ogg")
          : info.find ("matroska") != std::string::npos
          ? (u["kind"] == "video" ? "video/webm" : "audio/webm")
          : u["kind"] == "subtitles" ? "text/plain; charset=utf-8"
          : info.find ("audio/x-wav") != std::string::npos
          ? "audio/wav"
          : "application/octet-stream";
      serve_file (msg, path, type);
    } else {
      reply_error (msg, SOUP_STATUS_NOT_FOUND, "Not found.");
    }
  } else if (what == "cues" && n == 4 && method == "GET") {
    Row p = db.one ("SELECT * FROM projects WHERE id = ?", { pid });
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
  } else if (what == "cues" && n == 4 && method == "PUT") {
    handle_cues_put (s, msg, pid);
  } else if (what == "preview" && n == 4 && method == "POST") {
    JsonNode *node = nullptr;
    JsonObject *o = body_object (msg, &node);
    if (!o)
      return;
    std::string voice = obj_string (o, "voice"), text = obj_string (o, "text"),
                lang = obj_string (o, "lang");
    json_node_unref (node);
    handle_preview (s, msg, pid, voice, text, lang);
  } else if (what == "profiles" && n == 4 && method == "GET") {
    std::string out = "[";
    for (const Row &r :
        db.all ("SELECT * FROM profiles WHERE project = ? ORDER BY created",
            { pid }))
      out += (out.size () > 1 ? ", " : "") + s->profile_json (r);
    reply_json (msg, SOUP_STATUS_OK, "{\"profiles\": " + out + "]}");
  } else if (what == "profiles" && n == 4 && method == "POST") {
    JsonNode *node = nullptr;
    JsonObject *o = body_object (msg, &node);
    if (!o)
      return;
    std::string uid = obj_string (o, "recording");
    std::string name = clean_name (obj_string (o, "name"), 60);
    /* The opt-in adapt step: a better clone, about half a minute more. */
    const bool adapt = obj_bool (o, "adapt", false);
    json_node_unref (node);
    Row u = valid_id (uid)
        ? db.one ("SELECT * FROM uploads WHERE id = ? AND project = ?",
              { uid, pid })
        : Row ();
    if (u.empty () || u["kind"] != "recording") {
      reply_error (
          msg, SOUP_STATUS_BAD_REQUEST, "Record or upload your voice first.");
      return;
    }
    if (u["state"] != "ready") {
      reply_error (
          msg, SOUP_STATUS_CONFLICT, "The recording is not ready yet.");
      return;
    }
    if (name.empty ())
      name = "My voice";
    Row count = db.one (
        "SELECT COUNT(*) AS n FROM profiles WHERE project = ?", { pid });
    if (atoi (count["n"].c_str ()) >= 20) {
      reply_error (msg, (guint) 429, "A project can hold at most 20 voices.");
      return;
    }
    std::string prid = new_id ();
    db.exec ("INSERT INTO profiles (id, project, name, upload, state, created, "
             "adapt) VALUES "
             "(?, ?, ?, ?, 'making', ?, ?)",
        { prid, pid, name, uid, (long long) now_s (),
            (long long) (adapt ? 1 : 0) });
    s->make_profile (pid, prid);
    reply_json (msg, SOUP_STATUS_CREATED,
        s->profile_json (
            db.one ("SELECT * FROM profiles WHERE id = ?", { prid })));
  } else if (what == "profiles" && n >= 5 && valid_id (id)) {
    Row r = db.one (
        "SELECT * FROM profiles WHERE id = ? AND project = ?", { id, pid });
    if (r.empty ()) {
      reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such voice.");
      return;
    }
    if (n == 5 && method == "PATCH") {
      JsonNode *node = nullptr;
      JsonObject *o = body_object (msg, &node);
      if (!o)
        return;
      std::string name = clean_name (obj_string (o, "name"), 60);
      json_node_unref (node);
      if (name.empty ()) {
        reply_error (msg, SOUP_STATUS_BAD_REQUEST, "A voice needs a name.");
        return;
      }
      db.exec ("UPDATE profiles SET name = ? WHERE id = ?", { name, id });
      reply_json (msg, SOUP_STATUS_OK,
          s->profile_json (
              db.one ("SELECT * FROM profiles WHERE id = ?", { id })));
    } else if (n == 5 && method == "DELETE") {
      db.exec ("DELETE FROM profiles WHERE id = ?", { id });
      g_unlink ((s->project_dir (pid) + "/profiles/" + id + ".voice").c_str ());
      reply_json (msg, SOUP_STATUS_OK, "{\"deleted\": true}");
    } else if (n == 6 && sub == "retry" && method == "POST") {
      if (r["state"] == "making") {
        reply_error (
            msg, SOUP_STATUS_CONFLICT, "This voice is being made already.");
        return;
      }
      db.exec ("UPDATE profiles SET state = 'making', error = '' WHERE id = ?",
          { id });
      s->make_profile (pid, id); /* as first asked: plain or adapted */
      reply_json (msg, SOUP_STATUS_ACCEPTED,
          s->profile_json (
              db.one ("SELECT * FROM profiles WHERE id = ?", { id })));
    } else if (n == 6 && sub == "preview" && method == "GET") {
      if (r["state"] != "ready") {
        reply_error (msg, SOUP_STATUS_CONFLICT,
            r["error"].empty () ? "This voice is not ready yet." : r["error"]);
        return;
      }
      std::string lang = query_get (query, "lang");
      handle_preview (s, msg, pid, "profile:" + id, preview_line (lang), lang);
    } else {
      reply_error (msg, SOUP_STATUS_NOT_FOUND, "Not found.");
    }
  } else if (what == "jobs" && n == 4 && method == "GET") {
    std::string out = "[";
    for (const Row &r :
        db.all ("SELECT * FROM jobs WHERE project = ? ORDER BY created DESC",
            { pid }))
      out += (out.size () > 1 ? ", " : "") + s->job_json (r);
    reply_json (msg, SOUP_STATUS_OK, "{\"jobs\": " + out + "]}");
  } else if (what == "jobs" && n == 4 && method == "POST") {
    JsonNode *node = nullptr;
    JsonObject *o = body_object (msg, &node);
    if (!o)
      return;
    Row p = db.one ("SELECT * FROM projects WHERE id = ?", { pid });
    std::string mode = obj_string (o, "mode", "duck");
    std::string lang = obj_string (o, "lang");
    std::string voice = obj_string (o, "voice");
    std::string error;
    guint status = SOUP_STATUS_BAD_REQUEST;
    std::string arg;
    if (p["video"].empty ())
      error = "Upload a video first.", status = SOUP_STATUS_CONFLICT;
    else if (p["edited"] != "1" && p["subtitles"].empty ())
      error = "Upload subtitles or write some in the editor first.",
      status = SOUP_STATUS_CONFLICT;
    else if (mode != "duck" && mode != "replace" && mode != "add-track")
      error = "The mode must be duck, replace or add-track.";
    else if (lang.size () > 15 ||
        lang.find_first_not_of ("abcdefghijklmnopqrstuvwxyz-") !=
            std::string::npos)
      error = "The language must be a code such as en or es.";
    else if (!voice.empty () && !s->voice_ok (pid, voice, &arg))
      error = "There is no voice called \"" + clean_name (voice, 40) + "\".";
    JsonNode *speakers = json_object_has_member (o, "speakers")
        ? json_object_get_member (o, "speakers")
        : nullptr;
    if (error.empty () && speakers) {
      if (!JSON_NODE_HOLDS_OBJECT (speakers)) {
        error = "speakers must map speaker names to voices.";
      } else {
        JsonObject *sp = json_node_get_object (speakers);
        GList *names = json_object_get_members (sp);
        if (g_list_length (names) > 100)
          error = "Too many speakers.";
        for (GList *l = names; l && error.empty (); l = l->next) {
          std::string name = (const char *) l->data,
                      v = obj_string (sp, name.c_str ());
          if (name.empty () || !speaker_ok (name))
            error = "A speaker name may not contain , ; = or braces.";
          else if (!v.empty () && !s->voice_ok (pid, v, &arg))
            error = "There is no voice called \"" + clean_name (v, 40) +
                "\" for " + name + ".";
        }
        g_list_free (names);
      }
    }
    if (error.empty ()) {
      Row busy = db.one ("SELECT id FROM jobs WHERE project = ? AND state IN "
                         "('queued', 'running')",
          { pid });
      if (!busy.empty ())
        error =
            "This project is already being rendered; wait for it or cancel it.",
        status = SOUP_STATUS_CONFLICT;
    }
    if (!error.empty ()) {
      json_node_unref (node);
      reply_error (msg, status, error);
      return;
    }
    /* The result's container follows the video codec, so the page can play it. */
    Row vu = db.one ("SELECT info FROM uploads WHERE id = ?", { p["video"] });
    std::string info = vu["info"];
    std::string ext = info.find ("video/x-h264") != std::string::npos ? ".mp4"
        : info.find ("video/x-vp8") != std::string::npos ||
            info.find ("video/x-vp9") != std::string::npos ||
            info.find ("video/x-av1") != std::string::npos
        ? ".webm"
        : ".mkv";
    std::string jid = new_id ();
    JsonObject *opts = json_object_new ();
    json_object_set_string_member (opts, "mode", mode.c_str ());
    json_object_set_string_member (opts, "lang", lang.c_str ());
    json_object_set_string_member (opts, "voice", voice.c_str ());
    if (speakers && JSON_NODE_HOLDS_OBJECT (speakers))
      json_object_set_member (opts, "speakers", json_node_copy (speakers));
    JsonNode *on = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (on, opts);
    std::string options = to_json (on);
    json_node_unref (on);
    json_node_unref (node);
    db.exec ("INSERT INTO jobs (id, project, state, options, output, created, "
             "updated) "
             "VALUES (?, ?, 'queued', ?, ?, ?, ?)",
        { jid, pid, options, jid + ext, (long long) now_s (),
            (long long) now_s () });
    Row job = db.one ("SELECT * FROM jobs WHERE id = ?", { jid });
    if (!s->submit_job (job, &error)) {
      db.exec ("UPDATE jobs SET state = 'failed', error = ? WHERE id = ?",
          { error, jid });
      job = db.one ("SELECT * FROM jobs WHERE id = ?", { jid });
    }
    reply_json (msg, SOUP_STATUS_CREATED, s->job_json (job));
    s->broadcast (pid, "job", s->job_json (job));
  } else if (what == "jobs" && n >= 5 && valid_id (id)) {
    Row r =
        db.one ("SELECT * FROM jobs WHERE id = ? AND project = ?", { id, pid });
    if (r.empty ()) {
      reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such render.");
      return;
    }
    if (n == 5 && method == "GET") {
      reply_json (msg, SOUP_STATUS_OK, s->job_json (r));
    } else if (n == 5 && method == "DELETE") {
      if (r["state"] == "queued" || r["state"] == "running") {
        s->queue->cancel (id);
        reply_json (msg, SOUP_STATUS_OK, "{\"cancelled\": true}");
      } else {
        g_unlink ((s->project_dir (pid) + "/results/" + r["output"]).c_str ());
        db.exec ("DELETE FROM jobs WHERE id = ?", { id });
        reply_json (msg, SOUP_STATUS_OK, "{\"deleted\": true}");
      }
    } else if (n == 6 && sub == "result" &&
        (method == "GET" || method == "HEAD")) {
      /* Only a finished job's file, which the worker renamed into place. */
      if (r["state"] != "done") {
        reply_error (
            msg, SOUP_STATUS_CONFLICT, "This render has not finished.");
        return;
      }
      std::string file = s->project_dir (pid) + "/results/" + r["output"];
      std::string name;
      if (query_get (query, "download") == "1") {
        Row p = db.one ("SELECT video FROM projects WHERE id = ?", { pid });
        Row vu =
            db.one ("SELECT name FROM uploads WHERE id = ?", { p["video"] });
        std::string base = vu["name"];
        size_t dot = base.rfind ('.');
        if (dot != std::string::npos && dot > 0)
          base = base.substr (0, dot);
        std::string safe;
        for (char c : base)
          safe += (g_ascii_isalnum (c) || c == '-' || c == '_' || c == '.')
              ? c
              : '_';
        if (safe.empty ())
          safe = "video";
        std::string ext = r["output"].substr (r["output"].rfind ('.'));
        name = safe + ".dubbed" + ext;
      }
      serve_file (msg, file, mime_for (r["output"]), name);
    } else {
      reply_error (msg, SOUP_STATUS_NOT_FOUND, "Not found.");
    }
  } else {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is nothing here.");
  }
}

void
handler (SoupServer *, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer data)
{
  Server *s = (Server *) data;
  if (soup_server_message_get_status (msg) != 0)
    return; /* answered by the early handler */
  common_headers (msg);
  std::string method = soup_server_message_get_method (msg);
  std::vector<std::string> parts = split_path (path);
  if (parts.empty () || parts[0] != "api") {
    /* The page. Only plain names in web/, nothing else. */
    if (method != "GET" && method != "HEAD") {
      reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Not allowed here.");
      return;
    }
    std::string name = parts.empty () ? "index.html"
        : parts.size () == 1          ? parts[0]
                                      : "";
    if (name.empty () || name[0] == '.' ||
        name.find_first_not_of ("abcdefghijklmnopqrstuvwxyz0123456789._-") !=
            std::string::npos ||
        !file_exists (s->cfg.web_dir + "/" + name)) {
      reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such page.");
      return;
    }
    SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
    soup_message_headers_replace (h, "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' "
        "blob:; "
        "style-src 'self'; script-src 'self'; connect-src 'self'; "
        "frame-ancestors 'none'");
    serve_file (msg, s->cfg.web_dir + "/" + name, mime_for (name));
    soup_message_headers_remove (h, "Accept-Ranges");
    return;
  }
  size_t n = parts.size ();
  if (n == 2 && parts[1] == "health" && method == "GET") {
    reply_json (msg, SOUP_STATUS_OK,
        "{\"ok\": true, \"running\": " + std::to_string (s->queue->running ()) +
            ", \"queued\": " + std::to_string (s->queue->queued ()) + "}");
  } else if (n == 2 && parts[1] == "config" && method == "GET") {
    reply_json (msg, SOUP_STATUS_OK,
        "{\"max_upload_bytes\": " + std::to_string (s->cfg.max_upload_bytes) +
            ", \"max_subtitle_bytes\": " +
            std::to_string (s->cfg.max_subtitle_bytes) +
            ", \"max_recording_bytes\": " +
            std::to_string (s->cfg.max_recording_bytes) +
            ", \"max_chunk_bytes\": " +
            std::to_string (s->cfg.max_chunk_bytes) + "}");
  } else if (n == 2 && parts[1] == "voices" && method == "GET") {
    std::string out = "{\"voices\": [";
    for (size_t i = 0; i < s->voices.size (); i++)
      out += std::string (i ? ", " : "") +
          "{\"name\": " + json_quote (s->voices[i].name) +
          ", \"language\": " + json_quote (s->voices[i].language) +
          ", \"gender\": " + json_quote (s->voices[i].gender) +
          ", \"preview\": " +
          json_quote ("/api/voices/" + s->voices[i].name + "/preview") + "}";
    reply_json (msg, SOUP_STATUS_OK, out + "]}");
  } else if (n == 4 && parts[1] == "voices" && parts[3] == "preview" &&
      method == "GET") {
    const Voice *v = nullptr;
    for (const Voice &x : s->voices)
      if (x.name == parts[2])
        v = &x;
    if (!v) {
      reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such voice.");
      return;
    }
    handle_preview (
        s, msg, "", v->name, preview_line (v->language), v->language);
  } else if (n == 2 && parts[1] == "projects" && method == "POST") {
    JsonNode *node = nullptr;
    JsonObject *o = body_object (msg, &node);
    if (!o)
      return;
    std::string name = clean_name (obj_string (o, "name", "Untitled"), 100);
    json_node_unref (node);
    Row count = s->db.one ("SELECT COUNT(*) AS n FROM projects", {});
    if (atoi (count["n"].c_str ()) >= s->cfg.max_projects) {
      reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
          "The studio is full; try again later.");
      return;
    }
    std::string pid = new_id (), token = new_token ();
    s->db.exec ("INSERT INTO projects (id, token_hash, name, created) VALUES "
                "(?, ?, ?, ?)",
        { pid, hash_token (token), name, (long long) now_s () });
    make_dirs (s->project_dir (pid));
    std::string j = s->project_json (pid);
    j.insert (j.size () - 1, ", \"token\": " + json_quote (token));
    reply_json (msg, SOUP_STATUS_CREATED, j);
  } else if (n >= 3 && parts[1] == "projects") {
    handle_project (s, msg, method, parts, query);
  } else {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is nothing here.");
  }
}

void
on_request_started (SoupServer *, SoupServerMessage *msg, gpointer data)
{
  Server *s = (Server *) data;
  GSocket *sock = soup_server_message_get_socket (msg);
  if (sock)
    g_socket_set_timeout (sock, (guint) s->cfg.idle_timeout_s);
}

bool
Server::start (std::string *error)
{
  if (!make_dirs (cfg.data_dir + "/projects") ||
      !make_dirs (cfg.data_dir + "/voices")) {
    *error = cfg.data_dir + ": cannot create the data directory";
    return false;
  }
  if (!db.open (cfg.data_dir + "/studio.db", error))
    return false;
  load_voices ();
  std::vector<std::string> env;
  if (!cfg.plugin_dir.empty ()) {
    const char *old = g_getenv ("GST_PLUGIN_PATH_1_0");
    if (!old)
      old = g_getenv ("GST_PLUGIN_PATH");
    env.push_back ("GST_PLUGIN_PATH_1_0=" + cfg.plugin_dir +
        (old ? std::string (":") + old : ""));
  }
  queue =
      make_local_job_queue (cfg.dub_command, env, cfg.jobs, cfg.job_timeout_s);
  queue->set_listener (this);
  helpers = std::make_unique<HelperPool> (
      cfg.worker_command, env, cfg.helpers, cfg.helper_timeout_s);
  soup = soup_server_new ("server-header", "ganvoice-studio", nullptr);
  soup_server_add_early_handler (soup, nullptr, early_handler, this, nullptr);
  soup_server_add_handler (soup, nullptr, handler, this, nullptr);
  g_signal_connect (
      soup, "request-started", G_CALLBACK (on_request_started), this);
  GInetAddress *ia = g_inet_address_new_from_string (cfg.address.c_str ());
  if (!ia) {
    *error = cfg.address + ": not an IP address";
    return false;
  }
  GSocketAddress *sa = g_inet_socket_address_new (ia, (guint16) cfg.port);
  g_object_unref (ia);
  GError *err = nullptr;
  bool ok = soup_server_listen (soup, sa, (SoupServerListenOptions) 0, &err);
  g_object_unref (sa);
  if (!ok) {
    *error = std::string ("cannot listen on ") + cfg.address + ":" +
        std::to_string (cfg.port) + ": " + err->message;
    g_clear_error (&err);
    return false;
  }
  recover ();
  g_timeout_add_seconds (20, sse_ping, this);
  GSList *uris = soup_server_get_uris (soup);
  for (GSList *l = uris; l; l = l->next) {
    char *u = g_uri_to_string ((GUri *) l->data);
    printf ("ganvoice-studio: listening on %s\n", u);
    g_free (u);
  }
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  printf ("ganvoice-studio: data in %s, %zu built-in voices from %s\n",
      cfg.data_dir.c_str (), voices.size (),
      voices_source.empty () ? "(none)" : voices_source.c_str ());
  fflush (stdout);
  return true;
}

void
Server::stop ()
{
  shutting_down = true;
  /* A clean stop puts running jobs back in the queue for the next start. */
  db.exec (
      "UPDATE jobs SET state = 'queued', percent = 0 WHERE state = 'running'",
      {});
  queue->shutdown ();
  if (soup) {
    soup_server_disconnect (soup);
    g_object_unref (soup);
    soup = nullptr;
  }
}

gboolean
on_quit (gpointer data)
{
  g_main_loop_quit ((GMainLoop *) data);
  return G_SOURCE_REMOVE;
}

std::string
env_or (const char *name, const std::string &def)
{
  const char *v = g_getenv (name);
  return v && *v ? v : def;
}

std::string
first_existing (
    std::initializer_list<std::string> paths, const std::string &fallback)
{
  for (const std::string &p : paths)
    if (!p.empty () && g_file_test (p.c_str (), G_FILE_TEST_EXISTS))
      return p;
  return fallback;
}

} // namespace
} // namespace studio

int
main (int argc, char **argv)
{
  using namespace studio;
  signal (SIGPIPE, SIG_IGN);
  Config cfg;
  std::string build = STUDIO_BUILD_DIR, source = STUDIO_SOURCE_DIR;
  cfg.address = env_or ("GANVOICE_STUDIO_ADDRESS", cfg.address);
  cfg.port = atoi (
      env_or ("GANVOICE_STUDIO_PORT", std::to_string (cfg.port)).c_str ());
  cfg.data_dir = env_or ("GANVOICE_STUDIO_DATA", "studio-data");
  cfg.web_dir = env_or ("GANVOICE_STUDIO_WEB",
      first_existing (
          { source.empty () ? "" : source + "/examples/studio/web" },
          std::string (STUDIO_DATA_DIR) + "/studio/web"));
  cfg.dub_command = env_or ("GANVOICE_STUDIO_DUB",
      first_existing (
          { build.empty () ? "" : build + "/examples/tools/ganvoice-dub" },
          "ganvoice-dub"));
  cfg.worker_command = env_or ("GANVOICE_STUDIO_WORKER",
      first_existing ({ build.empty () ? ""
                                       : build +
                                  "/examples/studio/ganvoice-studio-worker" },
          "ganvoice-studio-worker"));
  cfg.plugin_dir = env_or ("GANVOICE_STUDIO_PLUGIN_DIR",
      first_existing ({ build.empty () ? "" : build + "/plugins" }, ""));
  cfg.acoustic_card = env_or ("GANVOICE_STUDIO_ACOUSTIC_CARD", "");
  cfg.jobs = atoi (env_or ("GANVOICE_STUDIO_JOBS", "1").c_str ());
  int max_upload_mb =
      atoi (env_or ("GANVOICE_STUDIO_MAX_UPLOAD_MB", "2048").c_str ());
  cfg.job_timeout_s = atoi (
      env_or ("GANVOICE_STUDIO_JOB_TIMEOUT", std::to_string (cfg.job_timeout_s))
          .c_str ());

  gchar *address = nullptr, *data = nullptr, *web = nullptr, *dub = nullptr,
        *worker = nullptr, *card = nullptr, *plugins = nullptr;
  GOptionEntry entries[] = {
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address,
        "Address to listen on (default 127.0.0.1; $GANVOICE_STUDIO_ADDRESS)",
        "IP" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &cfg.port,
        "Port (default 8800, 0: any free one; $GANVOICE_STUDIO_PORT)", "PORT" },
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &data,
        "Where projects, uploads and the database live (default ./studio-data; "
        "$GANVOICE_STUDIO_DATA)",
        "DIR" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &cfg.jobs,
        "Renders at once (default 1; $GANVOICE_STUDIO_JOBS)", "N" },
    { "helpers", 0, 0, G_OPTION_ARG_INT, &cfg.helpers,
        "Probe/preview workers at once (default 2)", "N" },
    { "max-upload-mb", 0, 0, G_OPTION_ARG_INT, &max_upload_mb,
        "Largest video upload in MiB (default 2048; "
        "$GANVOICE_STUDIO_MAX_UPLOAD_MB)",
        "MB" },
    { "job-timeout", 0, 0, G_OPTION_ARG_INT, &cfg.job_timeout_s,
        "Longest render in seconds (default 10800; "
        "$GANVOICE_STUDIO_JOB_TIMEOUT)",
        "S" },
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &cfg.idle_timeout_s,
        "Seconds a connection may stall (default 60)", "S" },
    { "web-dir", 0, 0, G_OPTION_ARG_FILENAME, &web,
        "The page's files ($GANVOICE_STUDIO_WEB)", "DIR" },
    { "dub", 0, 0, G_OPTION_ARG_FILENAME, &dub,
        "The ganvoice-dub command ($GANVOICE_STUDIO_DUB)", "PATH" },
    { "worker", 0, 0, G_OPTION_ARG_FILENAME, &worker,
        "The ganvoice-studio-worker command ($GANVOICE_STUDIO_WORKER)",
        "PATH" },
    { "acoustic-card", 0, 0, G_OPTION_ARG_FILENAME, &card,
        "Model card listing the built-in voices "
        "($GANVOICE_STUDIO_ACOUSTIC_CARD)",
        "FILE" },
    { "plugin-dir", 0, 0, G_OPTION_ARG_FILENAME, &plugins,
        "GStreamer plugin directory for the workers "
        "($GANVOICE_STUDIO_PLUGIN_DIR)",
        "DIR" },
    { nullptr },
  };
  GOptionContext *ctx = g_option_context_new ("- the ganvoice dubbing studio");
  g_option_context_add_main_entries (ctx, entries, nullptr);
  GError *err = nullptr;
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    fprintf (stderr, "ganvoice-studio: %s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  auto take = [] (gchar *v, std::string *dst) {
    if (v)
      *dst = v;
    g_free (v);
  };
  take (address, &cfg.address);
  take (data, &cfg.data_dir);
  take (web, &cfg.web_dir);
  take (dub, &cfg.dub_command);
  take (worker, &cfg.worker_command);
  take (card, &cfg.acoustic_card);
  take (plugins, &cfg.plugin_dir);
  cfg.max_upload_bytes = (gint64) std::max (1, max_upload_mb) * 1024 * 1024;
  cfg.jobs = std::max (1, cfg.jobs);
  cfg.helpers = std::max (1, cfg.helpers);
  if (cfg.port < 0 || cfg.port > 65535) {
    fprintf (stderr, "ganvoice-studio: --port must be 0 to 65535\n");
    return 2;
  }
  if (!g_path_is_absolute (cfg.data_dir.c_str ())) {
    gchar *cwd = g_get_current_dir ();
    cfg.data_dir = std::string (cwd) + "/" + cfg.data_dir;
    g_free (cwd);
  }

  Server server;
  server.cfg = cfg;
  the_server = &server;
  std::string error;
  if (!server.start (&error)) {
    fprintf (stderr, "ganvoice-studio: %s\n", error.c_str ());
    return 1;
  }
  GMainLoop *loop = g_main_loop_new (nullptr, FALSE);
  g_unix_signal_add (SIGINT, on_quit, loop);
  g_unix_signal_add (SIGTERM, on_quit, loop);
  g_main_loop_run (loop);
  server.stop ();
  g_main_loop_unref (loop);
  printf ("ganvoice-studio: stopped\n");
  return 0;
}

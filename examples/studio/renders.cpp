/* ganvoice-studio: renders: the job routes, handing a job to the queue
 * (ganvoice-dub workers, jobs.cpp), and what the queue tells of its jobs.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "http.h"
#include "routes.h"
#include "server.h"

#include <glib/gstdio.h>

#include <algorithm>
#include <cmath>

#include <unistd.h>

namespace studio {

namespace {

/* Job {job} of project {project}; an empty row after answering 404. */
Row
find_job (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  return find_in_project (s, msg, m, "job", "jobs", "There is no such render.");
}

/* Seconds with @decimals, for JSON and messages. */
std::string
seconds (double v, const char *format = "%.2f")
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (buf, sizeof buf, format, std::isfinite (v) ? v : 0.0);
  return buf;
}

/* 75.2 -> "1:15.2" */
std::string
clock_time (double s)
{
  if (!std::isfinite (s) || s < 0)
    s = 0;
  int minutes = (int) (s / 60);
  std::string rest = seconds (s - minutes * 60.0, "%04.1f");
  return std::to_string (minutes) + ":" + rest;
}

/* What was done to a cue that did not fit, in plain words. */
std::string
fit_message (const CueFit &f)
{
  std::string m = "Line at " + clock_time (f.start) + "–" + clock_time (f.end) +
      " (" + seconds (f.natural, "%.1f") + " s of speech for " +
      seconds (f.end - f.start, "%.1f") + " s): ";
  std::string speed = seconds (f.rate * f.stretch, "%.2f") + "×";
  if (f.step == "clipped")
    m += (f.rate > 1.005 ? "sped up " + seconds (f.rate, "%.2f") + "× and " +
                     "the last "
                         : std::string ("the last ")) +
        seconds (f.overflow, "%.1f") + " s cut.";
  else if (f.step == "stretched")
    m += "sped up " + speed + " (time-stretched).";
  else if (f.step == "overflowed")
    m += (f.rate > 1.005
                 ? "sped up " + seconds (f.rate, "%.2f") + "×, " + "still "
                 : std::string ()) +
        "runs " + seconds (f.overflow, "%.1f") + " s into the next line.";
  else
    m += "sped up " + speed + ".";
  return m;
}

} // namespace

std::vector<std::pair<std::string, std::string> >
speaker_voices (JsonObject *speakers, const std::string &origin)
{
  std::vector<std::pair<std::string, std::string> > out;
  GList *names = json_object_get_members (speakers);
  for (GList *l = names; l; l = l->next)
    out.emplace_back ((const char *) l->data, std::string ());
  g_list_free (names);
  for (auto &sv : out)
    sv.second = Json::optional_string (speakers, sv.first.c_str (), origin);
  return out;
}

/* The render's provenance note: synthetic speech, each voice by the name
 * the user sees, built-in or a clone (with when its consent was given),
 * and the studio's version. Written in the result's tags. */
std::string
Server::provenance_note (const std::string &pid, const std::string &voice,
    const std::vector<std::pair<std::string, std::string> > &speakers)
{
  auto describe = [&] (const std::string &v) -> std::string {
    if (v.empty ())
      return "the model's default voice (built-in)";
    if (!g_str_has_prefix (v.c_str (), "profile:"))
      return v + " (built-in)";
    Row p = usable_profile (pid, v.substr (8));
    return p["name"] + " (" + (p["reading"].empty () ? "clone" : "deep clone") +
        (p["consent_at"].empty () ? std::string ()
                                  : ", consent given " + p["consent_at"]) +
        ")";
  };
  std::string voices = describe (voice);
  for (const auto &sv : speakers)
    if (!sv.second.empty ())
      voices += "; " + sv.first + ": " + describe (sv.second);
  return "Synthetic speech: dubbed with AI voices by ganvoice-studio " +
      std::string (GANVOICE_VERSION) + " (ganvoice-dub). Voices: " + voices +
      ".";
}

/* The language of the project's subtitles, for "from the subtitles": what
 * their file says (an ASS Language header, a VTT one), else their name's
 * NAME.LL.srt; "" when neither says. */
std::string
Server::subtitles_language (const std::string &pid)
{
  Row p = db.one ("SELECT subtitles FROM projects WHERE id = ?", { pid });
  Row u = db.one (
      "SELECT name, info FROM uploads WHERE id = ?", { p["subtitles"] });
  if (u.empty ())
    return "";
  std::string lang;
  JsonNodePtr n (parse_json (u["info"], nullptr));
  if (n && JSON_NODE_HOLDS_OBJECT (n.get ()))
    lang = json_object_get_string_member_with_default (
        json_node_get_object (n.get ()), "language", "");
  if (lang.empty ()) {
    gchar **parts = g_strsplit (u["name"].c_str (), ".", -1);
    guint count = g_strv_length (parts);
    if (count >= 3)
      lang = parts[count - 2];
    g_strfreev (parts);
  }
  bool ok = lang.size () >= 2 && lang.size () <= 8 &&
      lang.find_first_not_of (
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_") ==
          std::string::npos &&
      g_ascii_isalpha (lang[0]);
  return ok ? lang : "";
}

/* The dub track's title: "Dub — voice NAME" (the default voice's name as
 * the user knows it). */
std::string
Server::dub_title (const std::string &pid, const std::string &voice)
{
  std::string name = voice;
  if (voice.empty ())
    return "Dub — the model's default voice";
  if (g_str_has_prefix (voice.c_str (), "profile:"))
    name = usable_profile (pid, voice.substr (8))["name"];
  return "Dub — voice " + name;
}

std::string
Server::job_json (const Row &r)
{
  std::string s = "{\"id\": " + json_quote (r.at ("id")) +
      ", \"state\": " + json_quote (r.at ("state")) +
      ", \"percent\": " + r.at ("percent") + ", \"eta\": " + r.at ("eta") +
      ", \"options\": " + r.at ("options") +
      ", \"error\": " + json_quote (r.at ("error")) +
      ", \"warnings\": " + r.at ("warnings") + ", \"fits\": " + r.at ("fits") +
      ", \"created\": " + r.at ("created") +
      ", \"updated\": " + r.at ("updated");
  if (r.at ("state") == "done")
    s += ", \"result\": " +
        json_quote ("/api/projects/" + r.at ("project") + "/jobs/" +
            r.at ("id") + "/result") +
        ", \"file\": " + json_quote (r.at ("output"));
  /* An extra track: what the page plays, with the dub as its only sound. */
  if (r.at ("state") == "done" &&
      file_exists (preview_path (r.at ("project"), r.at ("output"))))
    s += ", \"preview\": " +
        json_quote ("/api/projects/" + r.at ("project") + "/jobs/" +
            r.at ("id") + "/preview");
  return s + "}";
}

/* ---- what the queue tells ------------------------------------------- */

void
Server::job_started (const std::string &id)
{
  /* A job put back in the queue by a clean stop starts its list afresh. */
  db.exec ("UPDATE jobs SET state = 'running', fits = '[]', updated = ? "
           "WHERE id = ?",
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

/* @text parsed as a JSON array, or a new empty one. */
static JsonNode *
json_array_node (const std::string &text)
{
  JsonNode *n = parse_json (text, nullptr);
  if (!n || !JSON_NODE_HOLDS_ARRAY (n)) {
    if (n)
      json_node_unref (n);
    n = json_node_new (JSON_NODE_ARRAY);
    json_node_take_array (n, json_array_new ());
  }
  return n;
}

void
Server::job_warning (const std::string &id, const std::string &message)
{
  Row r = db.one ("SELECT warnings, project FROM jobs WHERE id = ?", { id });
  if (r.empty ())
    return;
  JsonNode *n = json_array_node (r["warnings"]);
  JsonArray *a = json_node_get_array (n);
  if (json_array_get_length (a) < 100)
    json_array_add_string_element (a, message.c_str ());
  db.exec ("UPDATE jobs SET warnings = ? WHERE id = ?", { to_json (n), id });
  json_node_unref (n);
  broadcast (r["project"], "warning",
      "{\"id\": " + json_quote (id) + ", \"message\": " + json_quote (message) +
          "}");
}

/* A cue that did not fit: kept with the job (its result lists them) and
 * sent to the page as a "fit" event. */
void
Server::job_fit (const std::string &id, const CueFit &f)
{
  Row r = db.one ("SELECT fits, project FROM jobs WHERE id = ?", { id });
  if (r.empty ())
    return;
  const double clipped = f.step == "clipped" ? f.overflow : 0.0;
  const double overrun = f.step == "overflowed" ? f.overflow : 0.0;
  std::string item = "{\"index\": " + std::to_string (f.index) +
      ", \"start\": " + seconds (f.start, "%.3f") +
      ", \"end\": " + seconds (f.end, "%.3f") +
      ", \"natural\": " + seconds (f.natural, "%.3f") +
      ", \"step\": " + json_quote (f.step) +
      ", \"speed\": " + seconds (f.rate * f.stretch, "%.3f") +
      ", \"rate\": " + seconds (f.rate, "%.3f") +
      ", \"stretch\": " + seconds (f.stretch, "%.3f") +
      ", \"clipped\": " + seconds (clipped, "%.3f") +
      ", \"overrun\": " + seconds (overrun, "%.3f") +
      ", \"message\": " + json_quote (fit_message (f)) + "}";
  JsonNode *n = json_array_node (r["fits"]);
  JsonArray *a = json_node_get_array (n);
  if (json_array_get_length (a) < 5000) /* the most cues a project has */
    json_array_add_element (a, parse_json (item, nullptr));
  db.exec ("UPDATE jobs SET fits = ? WHERE id = ?", { to_json (n), id });
  json_node_unref (n);
  broadcast (r["project"], "fit",
      "{\"id\": " + json_quote (id) + ", \"fit\": " + item + "}");
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
  if (r.empty ())
    return;
  if (ok && r["options"].find ("\"add-track\"") != std::string::npos) {
    /* A browser plays a file's first audio track: the page gets a copy
     * with the dub alone, made before the job says it is done. */
    std::string pid = r["project"], output = r["output"];
    std::string result = project_dir (pid) + "/results/" + output;
    helpers->run (
        { "dubonly", result, "-o", preview_path (pid, output) },
        [this, id] (WorkerResult &res) {
          if (!res.ok)
            job_warning (id,
                "The page plays the original sound of this render (the "
                "copy with the dub alone failed: " +
                    res.error + "); the downloaded file has both tracks.");
          Row r2 = db.one ("SELECT * FROM jobs WHERE id = ?", { id });
          if (!r2.empty ())
            broadcast (r2["project"], "job", job_json (r2));
        },
        [] (JsonObject *) {});
    return;
  }
  broadcast (r["project"], "job", job_json (r));
}

bool
Server::submit_job (const Row &job, std::string *error)
{
  std::string pid = job.at ("project");
  Row p = db.one ("SELECT * FROM projects WHERE id = ?", { pid });
  JsonNodePtr n (parse_json (job.at ("options"), nullptr));
  JsonObject *o = n && JSON_NODE_HOLDS_OBJECT (n.get ())
      ? json_node_get_object (n.get ())
      : nullptr;
  /* The options as create_job() stored them. */
  RenderJob rj;
  std::string voice;
  std::vector<std::pair<std::string, std::string> > speakers;
  try {
    const char *origin = "The render's options";
    rj.mode = Json::optional_string (o, "mode", origin, "duck");
    rj.language = Json::optional_string (o, "lang", origin);
    rj.overflow = Json::optional_string (o, "overflow", origin);
    voice = Json::optional_string (o, "voice", origin);
    JsonNode *sp = o && json_object_has_member (o, "speakers")
        ? json_object_get_member (o, "speakers")
        : nullptr;
    if (sp && JSON_NODE_HOLDS_OBJECT (sp))
      speakers = speaker_voices (json_node_get_object (sp), origin);
  } catch (const JsonError &e) {
    *error = e.what ();
    return false;
  }
  n.reset ();
  rj.id = job.at ("id");
  rj.input = upload_path (pid, p["video"]);
  if (rj.language.empty ())
    rj.language = subtitles_language (pid);
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
  std::string arg;
  bool ok = true;
  if (!voice.empty ()) {
    if (voice_ok (pid, voice, &arg))
      rj.voices.push_back (arg);
    else
      ok = false;
  }
  for (const auto &sv : speakers) {
    if (sv.second.empty ())
      continue;
    if (voice_ok (pid, sv.second, &arg))
      rj.voices.push_back (sv.first + "=" + arg);
    else
      ok = false;
  }
  if (!ok) {
    *error = "A chosen voice no longer exists. Choose the voices again.";
    return false;
  }
  rj.provenance = provenance_note (pid, voice, speakers);
  rj.title = dub_title (pid, voice);
  make_dirs (project_dir (pid) + "/results");
  job_project[rj.id] = pid;
  queue->submit (rj);
  return true;
}

/* ---- routes ----------------------------------------------------------- */

void
list_jobs (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  std::string out = "[";
  for (const Row &r :
      s->db.all ("SELECT * FROM jobs WHERE project = ? ORDER BY created DESC",
          { m.param ("project") }))
    out += (out.size () > 1 ? ", " : "") + s->job_json (r);
  reply_json (msg, SOUP_STATUS_OK, "{\"jobs\": " + out + "]}");
}

/* Checks the render's options and queues it; 201 with the job. */
void
create_job (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project");
  Db &db = s->db;
  JsonNodePtr node;
  JsonObject *o = body_object (msg, &node);
  if (!o)
    return;
  Row p = db.one ("SELECT * FROM projects WHERE id = ?", { pid });
  std::string mode = Json::optional_string (o, "mode", kRequest, "duck");
  std::string lang = Json::optional_string (o, "lang", kRequest);
  std::string voice = Json::optional_string (o, "voice", kRequest);
  std::string overflow = Json::optional_string (o, "overflow", kRequest);
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
  else if (!overflow.empty () && !overflow_ok (overflow))
    error = kOverflowError;
  else if (!voice.empty () && !s->voice_ok (pid, voice, &arg))
    error = "There is no voice called \"" + clean_name (voice, 40) + "\".";
  JsonNode *speakers = json_object_has_member (o, "speakers")
      ? json_object_get_member (o, "speakers")
      : nullptr;
  if (error.empty () && speakers) {
    if (!JSON_NODE_HOLDS_OBJECT (speakers)) {
      error = "speakers must map speaker names to voices.";
    } else {
      auto named = speaker_voices (
          json_node_get_object (speakers), "The request's speakers");
      if (named.size () > 100)
        error = "Too many speakers.";
      for (size_t i = 0; i < named.size () && error.empty (); i++) {
        const std::string &name = named[i].first, &v = named[i].second;
        if (name.empty () || !speaker_ok (name))
          error = "A speaker name may not contain , ; = or braces.";
        else if (!v.empty () && !s->voice_ok (pid, v, &arg))
          error = "There is no voice called \"" + clean_name (v, 40) +
              "\" for " + name + ".";
      }
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
  if (!overflow.empty ())
    json_object_set_string_member (opts, "overflow", overflow.c_str ());
  if (speakers && JSON_NODE_HOLDS_OBJECT (speakers))
    json_object_set_member (opts, "speakers", json_node_copy (speakers));
  JsonNode *on = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (on, opts);
  std::string options = to_json (on);
  json_node_unref (on);
  node.reset ();
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
}

void
get_job (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  Row r = find_job (s, msg, m);
  if (!r.empty ())
    reply_json (msg, SOUP_STATUS_OK, s->job_json (r));
}

/* Cancels a queued or running job; deletes a finished one and its file. */
void
delete_job (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project"), &jid = m.param ("job");
  Row r = find_job (s, msg, m);
  if (r.empty ())
    return;
  if (r["state"] == "queued" || r["state"] == "running") {
    s->queue->cancel (jid);
    reply_json (msg, SOUP_STATUS_OK, "{\"cancelled\": true}");
  } else {
    g_unlink ((s->project_dir (pid) + "/results/" + r["output"]).c_str ());
    g_unlink (s->preview_path (pid, r["output"]).c_str ());
    s->db.exec ("DELETE FROM jobs WHERE id = ?", { jid });
    reply_json (msg, SOUP_STATUS_OK, "{\"deleted\": true}");
  }
}

/* The rendered video; ?download=1 names it after the uploaded one. */
void
get_job_result (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project");
  Row r = find_job (s, msg, m);
  if (r.empty ())
    return;
  /* Only a finished job's file, which the worker renamed into place. */
  if (r["state"] != "done") {
    reply_error (msg, SOUP_STATUS_CONFLICT, "This render has not finished.");
    return;
  }
  std::string file = s->project_dir (pid) + "/results/" + r["output"];
  std::string name;
  if (m.query_value ("download") == "1") {
    Row p = s->db.one ("SELECT video FROM projects WHERE id = ?", { pid });
    Row vu =
        s->db.one ("SELECT name FROM uploads WHERE id = ?", { p["video"] });
    std::string base = vu["name"];
    size_t dot = base.rfind ('.');
    if (dot != std::string::npos && dot > 0)
      base = base.substr (0, dot);
    std::string safe;
    for (char c : base)
      safe +=
          (g_ascii_isalnum (c) || c == '-' || c == '_' || c == '.') ? c : '_';
    if (safe.empty ())
      safe = "video";
    std::string ext = r["output"].substr (r["output"].rfind ('.'));
    name = safe + ".dubbed" + ext;
  }
  serve_file (msg, file, mime_for (r["output"]), name);
}

/* What the page plays of an extra-track render: the video with the dub as
 * its only sound (a browser plays a file's first audio track, the
 * original). */
void
get_job_preview (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  Row r = find_job (s, msg, m);
  if (r.empty ())
    return;
  std::string file = s->preview_path (m.param ("project"), r["output"]);
  if (r["state"] != "done" || !file_exists (file)) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND,
        "This render has no copy with the dub alone.");
    return;
  }
  serve_file (msg, file, mime_for (r["output"]));
}

} // namespace studio

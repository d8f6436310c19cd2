/* ganvoice-studio: "Read to me", deep clones from read speech: the prompt
 * lists, readings and their takes (each checked by a worker), and the
 * trainer (one fine-tuning at a time, in a worker process).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Files of a reading, under DATA/projects/PID/readings/RID/: take-NNN.wav
 * (sentence NNN as decoded, mono 16-bit), takes.tsv (what a training
 * reads), checkpoint.pt (the training state: a cancelled or interrupted
 * training resumes from it), train.log (the worker's stderr) and
 * profile.voice (the result, moved to profiles/ when the training ends). */
#include "reading.h"

#include "http.h"
#include "routes.h"
#include "server.h"

#include <glib/gstdio.h>

#include <algorithm>
#include <cmath>
#include <csignal>

#include <fcntl.h>
#include <unistd.h>

#ifndef STUDIO_SOURCE_DIR
#define STUDIO_SOURCE_DIR ""
#endif
#ifndef STUDIO_DATA_DIR
#define STUDIO_DATA_DIR "/usr/local/share/ganvoice"
#endif

namespace studio {

namespace {

/* The largest take (a sentence: WAV from the browser is about 100 KiB a
 * second, compressed much less). */
const gint64 kMaxTakeBytes = 16LL * 1024 * 1024;
const int kMaxReadingsPerProject = 5;
const int kMaxProfilesPerProject = 20;
/* Progress reaches the pages (and the database) at most this often. */
const gint64 kProgressIntervalUs = G_USEC_PER_SEC / 2;

/* The languages of the shipped lists (models/acoustic/prompts/README.md). */
struct KnownLanguage {
  const char *code, *name, *espeak;
};
const KnownLanguage kLanguages[] = {
  { "en", "English", "en-us" },
  { "es", "Spanish", "es" },
  { "fr", "French", "fr" },
  { "it", "Italian", "it" },
  { "de", "German", "de" },
  { "ru", "Russian", "ru" },
  { "ko", "Korean", "ko" },
  { "cs", "Czech", "cs" },
};

std::string
fmt_number (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (buf, sizeof buf, "%.3f", std::isfinite (v) ? v : 0.0);
  return buf;
}

/* A prompt list's code: the name of a file CODE.txt, such as en or pt-br. */
bool
code_ok (const std::string &c)
{
  return !c.empty () && c.size () <= 12 && g_ascii_islower (c[0]) &&
      c.find_first_not_of ("abcdefghijklmnopqrstuvwxyz0123456789-") ==
      std::string::npos;
}

/* Reading {reading} of project {project}; an empty row after answering
 * 404. */
Row
find_reading (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  return find_in_project (s, msg, m, "reading", "readings",
      "There is no such reading (Read to me).");
}

std::string
reading_dir (Server *s, const std::string &pid, const std::string &rid)
{
  return s->project_dir (pid) + "/readings/" + rid;
}

std::string
take_path (Server *s, const std::string &pid, const std::string &rid, int i)
{
  char name[32];
  g_snprintf (name, sizeof name, "/take-%03d.wav", i);
  return reading_dir (s, pid, rid) + name;
}

/* The sentence index of the path parameter {index}: 0 … count-1, else -1. */
int
sentence_index (const RouteMatch &m, size_t count)
{
  const std::string &v = m.param ("index");
  if (v.empty () || v.size () > 4 ||
      v.find_first_not_of ("0123456789") != std::string::npos)
    return -1;
  int i = atoi (v.c_str ());
  return i < (int) count ? i : -1;
}

/* The prompt list of a reading; nullptr when it is no longer installed. */
const PromptList *
reading_prompts (Server *s, const Row &r)
{
  auto it = s->prompts.find (r.at ("language"));
  return it == s->prompts.end () ? nullptr : &it->second;
}

/* What the worker measured on a take, read with the typed readers (a
 * field of the wrong type is a JsonError) and written back as the
 * server's own JSON. */
std::string
check_from_worker (JsonObject *o, bool *ok, double *speech)
{
  const std::string origin = "The take check";
  std::string problems = "[";
  JsonArray *a = Json::array (o, "problems", origin);
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonNode *e = json_array_get_element (a, i);
    if (!JSON_NODE_HOLDS_VALUE (e) ||
        json_node_get_value_type (e) != G_TYPE_STRING)
      throw JsonError (origin + ": \"problems\" must be a list of strings");
    problems += (i ? ", " : "") +
        json_quote (clean_name (json_node_get_string (e), 300));
  }
  problems += "]";
  *ok = json_array_get_length (a) == 0;
  *speech = Json::optional_number (o, "speech_seconds", origin, 0);
  std::string out = "{\"ok\": " + std::string (*ok ? "true" : "false");
  for (const char *k : { "seconds", "speech_seconds", "peak_dbfs",
           "speech_dbfs", "clipped_fraction", "expected_seconds" })
    out += std::string (", \"") + k +
        "\": " + fmt_number (Json::optional_number (o, k, origin, 0));
  out += ", \"phonemes\": " +
      std::to_string (Json::optional_integer (o, "phonemes", origin, 0));
  return out + ", \"problems\": " + problems + "}";
}

/* The body of every reading answer: the reading and its takes. */
void
reply_reading (
    Server *s, SoupServerMessage *msg, guint status, const std::string &rid)
{
  Row r = s->db.one ("SELECT * FROM readings WHERE id = ?", { rid });
  reply_json (msg, status, r.empty () ? "null" : s->reading_json (r));
}

void
broadcast_reading (Server *s, const std::string &rid)
{
  Row r = s->db.one ("SELECT * FROM readings WHERE id = ?", { rid });
  if (!r.empty ())
    s->broadcast (r["project"], "reading", s->reading_json (r));
}

} // namespace

/* ---- prompt lists --------------------------------------------------- */

std::map<std::string, PromptList>
load_prompt_lists (const std::string &configured, std::string *source)
{
  std::vector<std::string> dirs;
  if (!configured.empty ())
    dirs.push_back (configured);
  /* As ganvoice-clone looks for them. */
  if (const char *d = g_getenv ("GANVOICE_PROMPT_DIR"))
    if (*d)
      dirs.push_back (d);
  if (*STUDIO_SOURCE_DIR)
    dirs.push_back (
        std::string (STUDIO_SOURCE_DIR) + "/models/acoustic/prompts");
  dirs.push_back (std::string (STUDIO_DATA_DIR) + "/prompts");
  std::map<std::string, PromptList> lists;
  for (const std::string &dir : dirs) {
    GDir *d = g_dir_open (dir.c_str (), 0, nullptr);
    if (!d)
      continue;
    while (const char *name = g_dir_read_name (d)) {
      std::string file = name;
      if (!g_str_has_suffix (name, ".txt"))
        continue;
      PromptList l;
      l.code = file.substr (0, file.size () - 4);
      std::string text;
      if (!code_ok (l.code) ||
          !read_file (dir + "/" + file, &text, 1024 * 1024) ||
          !g_utf8_validate (text.c_str (), (gssize) text.size (), nullptr))
        continue;
      l.name = l.code;
      l.espeak = l.code;
      for (const KnownLanguage &k : kLanguages)
        if (l.code == k.code)
          l.name = k.name, l.espeak = k.espeak;
      gchar **lines = g_strsplit (text.c_str (), "\n", -1);
      for (gchar **p = lines; *p && l.sentences.size () < 500; p++) {
        /* One sentence a line; blank lines and '#' lines do not count. */
        std::string s = clean_name (g_strstrip (*p), 400);
        if (!s.empty () && s[0] != '#')
          l.sentences.push_back (s);
      }
      g_strfreev (lines);
      if (!l.sentences.empty ())
        lists[l.code] = l;
    }
    g_dir_close (d);
    if (!lists.empty ()) {
      *source = dir;
      break;
    }
  }
  return lists;
}

void
list_prompts (Server *s, SoupServerMessage *msg, const RouteMatch &)
{
  std::string out = "{\"languages\": [";
  bool first = true;
  for (const auto &kv : s->prompts) {
    const PromptList &l = kv.second;
    out += std::string (first ? "" : ", ") +
        "{\"code\": " + json_quote (l.code) +
        ", \"name\": " + json_quote (l.name) +
        ", \"espeak\": " + json_quote (l.espeak) +
        ", \"sentences\": " + std::to_string (l.sentences.size ()) + "}";
    first = false;
  }
  reply_json (msg, SOUP_STATUS_OK, out + "]}");
}

void
get_prompts (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  auto it = s->prompts.find (m.param ("language"));
  if (it == s->prompts.end ()) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND,
        "There is no list of sentences for this language.");
    return;
  }
  const PromptList &l = it->second;
  std::string out = "{\"code\": " + json_quote (l.code) +
      ", \"name\": " + json_quote (l.name) +
      ", \"espeak\": " + json_quote (l.espeak) + ", \"sentences\": [";
  for (size_t i = 0; i < l.sentences.size (); i++)
    out += (i ? ", " : "") + json_quote (l.sentences[i]);
  reply_json (msg, SOUP_STATUS_OK, out + "]}");
}

/* ---- readings ------------------------------------------------------- */

std::string
Server::reading_json (const Row &r)
{
  const std::string &rid = r.at ("id"), &pid = r.at ("project");
  const PromptList *l = reading_prompts (this, r);
  std::string takes = "[";
  int good = 0;
  double speech = 0;
  for (const Row &t : db.all ("SELECT * FROM takes WHERE reading = ? ORDER BY "
                              "idx",
           { rid })) {
    int i = atoi (t.at ("idx").c_str ());
    const std::string &check = t.at ("check_json");
    if (t.at ("ok") == "1") {
      good++;
      speech += g_ascii_strtod (t.at ("speech").c_str (), nullptr);
    }
    takes += std::string (takes.size () > 1 ? ", " : "") +
        "{\"index\": " + std::to_string (i) + ", \"url\": " +
        json_quote ("/api/projects/" + pid + "/readings/" + rid + "/takes/" +
            std::to_string (i)) +
        ", " + check.substr (1);
  }
  takes += "]";
  int pos = trainer ? trainer->position (rid) : -1;
  const std::string &state = r.at ("state");
  bool busy = state == "queued" || state == "training";
  const std::string &profile = r.at ("profile");
  return "{\"id\": " + json_quote (rid) +
      ", \"language\": " + json_quote (r.at ("language")) +
      ", \"language_name\": " + json_quote (l ? l->name : r.at ("language")) +
      ", \"name\": " + json_quote (r.at ("name")) +
      ", \"gender\": " + json_quote (r.at ("gender")) +
      ", \"state\": " + json_quote (state) +
      ", \"sentences\": " + std::to_string (l ? l->sentences.size () : 0) +
      ", \"takes\": " + takes + ", \"good_takes\": " + std::to_string (good) +
      ", \"speech_seconds\": " + fmt_number (speech) +
      ", \"min_speech_seconds\": " + fmt_number (kMinTrainSpeechSeconds) +
      ", \"suggested_speech_seconds\": " +
      fmt_number (kSuggestedTrainSpeechSeconds) + ", \"can_train\": " +
      (l && !busy && speech >= kMinTrainSpeechSeconds ? "true" : "false") +
      ", \"queue_position\": " + (pos >= 0 ? std::to_string (pos) : "null") +
      ", \"cancelling\": " + (r.at ("cancelling") == "1" ? "true" : "false") +
      ", \"progress\": " +
      (r.at ("progress").empty () ? "null" : r.at ("progress")) +
      ", \"options\": " + r.at ("options") +
      ", \"profile\": " + json_quote (profile) + ", \"voice\": " +
      json_quote (profile.empty () ? "" : "profile:" + profile) +
      ", \"error\": " + json_quote (r.at ("error")) +
      ", \"consent\": " + consent_json (r) +
      ", \"created\": " + r.at ("created") +
      ", \"updated\": " + r.at ("updated") + "}";
}

void
list_readings (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  std::string out = "[";
  for (const Row &r :
      s->db.all ("SELECT * FROM readings WHERE project = ? ORDER BY created",
          { m.param ("project") }))
    out += (out.size () > 1 ? ", " : "") + s->reading_json (r);
  reply_json (msg, SOUP_STATUS_OK, "{\"readings\": " + out + "]}");
}

/* A new reading: {language, name, gender}; 201 with it. */
void
create_reading (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project");
  JsonNodePtr node;
  JsonObject *o = body_object (msg, &node);
  if (!o)
    return;
  std::string lang = Json::optional_string (o, "language", kRequest);
  std::string name =
      clean_name (Json::optional_string (o, "name", kRequest), 60);
  std::string gender = Json::optional_string (o, "gender", kRequest);
  /* Asked before the first sentence is read: the voice is a clone. */
  Consent consent;
  if (!read_consent (msg, o, pid, &consent))
    return;
  node.reset ();
  if (!s->prompts.count (lang)) {
    std::string known;
    for (const auto &kv : s->prompts)
      known += (known.empty () ? "" : ", ") + kv.first;
    reply_error (msg, SOUP_STATUS_BAD_REQUEST,
        "There is no list of sentences for the language \"" +
            clean_name (lang, 20) + "\"" +
            (known.empty () ? std::string (" (none is installed).")
                            : " (there are: " + known + ")."));
    return;
  }
  if (gender != "" && gender != "female" && gender != "male") {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST,
        "The gender must be female, male or empty.");
    return;
  }
  if (name.empty ())
    name = "My voice";
  Row count = s->db.one (
      "SELECT COUNT(*) AS n FROM readings WHERE project = ?", { pid });
  if (atoi (count["n"].c_str ()) >= kMaxReadingsPerProject) {
    reply_error (msg, (guint) 429,
        "A project can hold at most " +
            std::to_string (kMaxReadingsPerProject) +
            " readings; delete one first.");
    return;
  }
  std::string rid = new_id ();
  long long now = (long long) now_s ();
  s->db.exec ("INSERT INTO readings (id, project, language, name, gender, "
              "state, created, updated, consent_by, consent_at, "
              "consent_statement) VALUES (?, ?, ?, ?, ?, 'reading', ?, ?, ?, "
              "?, ?)",
      { rid, pid, lang, name, gender, now, now, consent.by, consent.at,
          consent.statement });
  make_dirs (reading_dir (s, pid, rid));
  reply_reading (s, msg, SOUP_STATUS_CREATED, rid);
  broadcast_reading (s, rid);
}

void
get_reading (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  Row r = find_reading (s, msg, m);
  if (!r.empty ())
    reply_json (msg, SOUP_STATUS_OK, s->reading_json (r));
}

/* Changes the voice's name or gender (for the next training). */
void
update_reading (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  Row r = find_reading (s, msg, m);
  if (r.empty ())
    return;
  JsonNodePtr node;
  JsonObject *o = body_object (msg, &node);
  if (!o)
    return;
  std::string name =
      clean_name (Json::optional_string (o, "name", kRequest, r["name"]), 60);
  std::string gender =
      Json::optional_string (o, "gender", kRequest, r["gender"]);
  node.reset ();
  if (name.empty ()) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST, "A voice needs a name.");
    return;
  }
  if (gender != "" && gender != "female" && gender != "male") {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST,
        "The gender must be female, male or empty.");
    return;
  }
  s->db.exec ("UPDATE readings SET name = ?, gender = ?, updated = ? WHERE "
              "id = ?",
      { name, gender, (long long) now_s (), r["id"] });
  reply_reading (s, msg, SOUP_STATUS_OK, r["id"]);
}

/* Deletes a reading and its takes (not the voice made from it). */
void
delete_reading (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  Row r = find_reading (s, msg, m);
  if (r.empty ())
    return;
  if (r["state"] == "queued" || r["state"] == "training") {
    reply_error (msg, SOUP_STATUS_CONFLICT,
        "This voice is being trained; cancel the training first.");
    return;
  }
  s->db.exec ("DELETE FROM takes WHERE reading = ?", { r["id"] });
  s->db.exec ("DELETE FROM readings WHERE id = ?", { r["id"] });
  remove_tree (reading_dir (s, m.param ("project"), r["id"]));
  reply_json (msg, SOUP_STATUS_OK, "{\"deleted\": true}");
}

/* ---- takes ---------------------------------------------------------- */

/* Early: a take's body streams into readings/RID/upload-N.part once the
 * headers say it can be taken. */
void
begin_take_upload (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project"), &rid = m.param ("reading");
  if (!valid_id (pid)) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such project.");
    return;
  }
  if (!check_token (s, msg, m))
    return;
  Row r = valid_id (rid) ? s->db.one ("SELECT * FROM readings WHERE id = ? AND "
                                      "project = ?",
                               { rid, pid })
                         : Row ();
  if (r.empty ()) {
    reply_error (
        msg, SOUP_STATUS_NOT_FOUND, "There is no such reading (Read to me).");
    return;
  }
  const PromptList *l = reading_prompts (s, r);
  int i = l ? sentence_index (m, l->sentences.size ()) : -1;
  if (i < 0) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND,
        "There is no such sentence: the list has " +
            std::to_string (l ? l->sentences.size () : 0) +
            " (numbered from 0).");
    return;
  }
  if (r["state"] == "queued" || r["state"] == "training") {
    reply_error (msg, SOUP_STATUS_CONFLICT,
        "This voice is being trained: the takes cannot change until it is "
        "done or cancelled.");
    return;
  }
  std::string key = rid + ":" + std::to_string (i);
  if (s->takes_checking.count (key)) {
    reply_error (msg, SOUP_STATUS_CONFLICT,
        "The last take of this sentence is still being checked.");
    return;
  }
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  goffset length =
      soup_message_headers_get_encoding (req) == SOUP_ENCODING_CONTENT_LENGTH
      ? soup_message_headers_get_content_length (req)
      : -1;
  if (length < 0) {
    reply_error (
        msg, SOUP_STATUS_LENGTH_REQUIRED, "A take needs a Content-Length.");
    return;
  }
  if (length == 0) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST,
        "The recording is empty: record the sentence again.");
    return;
  }
  if (length > kMaxTakeBytes) {
    reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
        "A take may have at most 16 MiB: record one sentence at a time.");
    return;
  }
  std::string dir = reading_dir (s, pid, rid);
  make_dirs (dir);
  std::string part = dir + "/upload-" + std::to_string (i) + ".part";
  int fd = open (part.c_str (), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
        "The server cannot store the take.");
    return;
  }
  RequestCtx *ctx = request_ctx (msg);
  ctx->fd = fd;
  ctx->offset = 0;
  ctx->expected = length;
}

/* The take has arrived: a worker decodes and checks it; the answer is the
 * check (200, also when the take has problems) or why it cannot be used
 * (415 not audio, 422 no sound). */
void
put_take (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project"), &rid = m.param ("reading");
  Row r = find_reading (s, msg, m);
  if (r.empty ())
    return;
  const PromptList *l = reading_prompts (s, r);
  int i = l ? sentence_index (m, l->sentences.size ()) : -1;
  RequestCtx *ctx = request_ctx (msg);
  if (i < 0 || !ctx || ctx->fd < 0) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST, "This take was not accepted.");
    return;
  }
  close (ctx->fd);
  ctx->fd = -1;
  std::string dir = reading_dir (s, pid, rid);
  std::string part = dir + "/upload-" + std::to_string (i) + ".part";
  if (ctx->write_failed || ctx->written != ctx->expected) {
    g_unlink (part.c_str ());
    reply_error (msg,
        ctx->write_failed ? SOUP_STATUS_INSUFFICIENT_STORAGE
                          : SOUP_STATUS_BAD_REQUEST,
        ctx->write_failed
            ? "The server could not store this take (is its disk full?)."
            : "The take arrived incomplete; send it again.");
    return;
  }
  std::string key = rid + ":" + std::to_string (i);
  if (s->takes_checking.count (key)) {
    g_unlink (part.c_str ());
    reply_error (msg, SOUP_STATUS_CONFLICT,
        "The last take of this sentence is still being checked.");
    return;
  }
  s->takes_checking.insert (key);
  std::string wav = take_path (s, pid, rid, i);
  std::string fresh = wav + ".new.wav";
  g_object_ref (msg);
  soup_server_message_pause (msg);
  s->helpers->run (
      { "take", "-o", fresh, part, l->espeak, l->sentences[(size_t) i] },
      [s, msg, pid, rid, i, key, part, wav, fresh] (WorkerResult &res) {
        s->takes_checking.erase (key);
        g_unlink (part.c_str ());
        Row r2 = s->db.one ("SELECT * FROM readings WHERE id = ?", { rid });
        guint status = SOUP_STATUS_OK;
        std::string error, check;
        bool ok = false;
        double speech = 0;
        if (r2.empty ()) {
          status = SOUP_STATUS_GONE;
          error = "The reading was deleted.";
        } else if (r2["state"] == "queued" || r2["state"] == "training") {
          status = SOUP_STATUS_CONFLICT;
          error = "This voice is being trained: the takes cannot change "
                  "until it is done or cancelled.";
        } else if (!res.ok) {
          status = res.code == "unreadable" ? SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE
              : res.code == "timeout"       ? SOUP_STATUS_GATEWAY_TIMEOUT
                                            : SOUP_STATUS_UNPROCESSABLE_ENTITY;
          error = res.error;
        } else {
          try {
            check = check_from_worker (
                json_node_get_object (res.result), &ok, &speech);
          } catch (const JsonError &e) {
            status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
            error = e.what ();
          }
        }
        if (error.empty () && g_rename (fresh.c_str (), wav.c_str ()) != 0) {
          status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
          error = "The server could not store the take.";
        }
        if (!error.empty ()) {
          g_unlink (fresh.c_str ());
          reply_json (msg, status,
              "{\"error\": " + json_quote (error) +
                  ", \"code\": " + json_quote (res.code) + "}");
        } else {
          s->db.exec ("INSERT OR REPLACE INTO takes (reading, idx, "
                      "check_json, ok, speech, created) VALUES (?, ?, ?, ?, "
                      "?, ?)",
              { rid, i, check, ok ? 1 : 0, speech, (long long) now_s () });
          s->db.exec ("UPDATE readings SET updated = ? WHERE id = ?",
              { (long long) now_s (), rid });
          Row r3 = s->db.one ("SELECT * FROM readings WHERE id = ?", { rid });
          std::string reading = s->reading_json (r3);
          reply_json (msg, SOUP_STATUS_OK,
              "{\"take\": {\"index\": " + std::to_string (i) + ", \"url\": " +
                  json_quote ("/api/projects/" + pid + "/readings/" + rid +
                      "/takes/" + std::to_string (i)) +
                  ", " + check.substr (1) + ", \"reading\": " + reading + "}");
          s->broadcast (pid, "reading", reading);
        }
        soup_server_message_unpause (msg);
        g_object_unref (msg);
      });
}

/* A take as the server keeps it (WAV), to hear it again. */
void
get_take (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  Row r = find_reading (s, msg, m);
  if (r.empty ())
    return;
  const PromptList *l = reading_prompts (s, r);
  int i = l ? sentence_index (m, l->sentences.size ()) : -1;
  Row t = i < 0 ? Row ()
                : s->db.one ("SELECT idx FROM takes WHERE reading = ? AND "
                             "idx = ?",
                      { r["id"], i });
  if (t.empty ()) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "This sentence has no take.");
    return;
  }
  serve_file (msg, take_path (s, m.param ("project"), r["id"], i), "audio/wav");
}

void
delete_take (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  Row r = find_reading (s, msg, m);
  if (r.empty ())
    return;
  const PromptList *l = reading_prompts (s, r);
  int i = l ? sentence_index (m, l->sentences.size ()) : -1;
  if (i < 0) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such sentence.");
    return;
  }
  if (r["state"] == "queued" || r["state"] == "training") {
    reply_error (msg, SOUP_STATUS_CONFLICT,
        "This voice is being trained: the takes cannot change until it is "
        "done or cancelled.");
    return;
  }
  s->db.exec (
      "DELETE FROM takes WHERE reading = ? AND idx = ?", { r["id"], i });
  g_unlink (take_path (s, m.param ("project"), r["id"], i).c_str ());
  reply_reading (s, msg, SOUP_STATUS_OK, r["id"]);
  broadcast_reading (s, r["id"]);
}

/* ---- training ------------------------------------------------------- */

/* Starts (or queues) the training of a reading's good takes:
 * {time_limit, max_steps}, each at most the studio's own limit; 202. */
void
start_training (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project");
  Row r = find_reading (s, msg, m);
  if (r.empty ())
    return;
  const std::string &rid = r["id"];
  JsonNodePtr node;
  JsonObject *o = body_object (msg, &node);
  if (!o)
    return;
  double limit =
      Json::optional_number (o, "time_limit", kRequest, s->cfg.train_seconds);
  gint64 steps =
      Json::optional_integer (o, "max_steps", kRequest, s->cfg.train_steps);
  /* A reading started before consent was asked for asks for it now. */
  if (r["consent_by"].empty ()) {
    Consent consent;
    if (!read_consent (msg, o, pid, &consent))
      return;
    s->db.exec ("UPDATE readings SET consent_by = ?, consent_at = ?, "
                "consent_statement = ? WHERE id = ?",
        { consent.by, consent.at, consent.statement, rid });
    r["consent_by"] = consent.by;
  }
  node.reset ();
  if (!std::isfinite (limit) || limit <= 0 || steps <= 0) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST,
        "time_limit and max_steps must be above 0.");
    return;
  }
  limit = std::min (limit, s->cfg.train_seconds);
  steps = std::min<gint64> (steps, s->cfg.train_steps);
  const PromptList *l = reading_prompts (s, r);
  if (r["state"] == "queued" || r["state"] == "training") {
    reply_error (msg, SOUP_STATUS_CONFLICT,
        "This voice is already being trained (or waiting for its turn).");
    return;
  }
  if (!l) {
    reply_error (msg, SOUP_STATUS_CONFLICT,
        "The list of sentences for \"" + r["language"] +
            "\" is no longer installed on this server.");
    return;
  }
  std::string tsv;
  double speech = 0;
  for (const Row &t :
      s->db.all ("SELECT idx, speech FROM takes WHERE reading = ? AND ok = 1 "
                 "ORDER BY idx",
          { rid })) {
    int i = atoi (t.at ("idx").c_str ());
    if (i < 0 || i >= (int) l->sentences.size ())
      continue;
    std::string text = l->sentences[(size_t) i];
    std::replace (text.begin (), text.end (), '\t', ' ');
    tsv += take_path (s, pid, rid, i) + "\t" + text + "\n";
    speech += g_ascii_strtod (t.at ("speech").c_str (), nullptr);
  }
  if (speech < kMinTrainSpeechSeconds) {
    char buf[300];
    g_snprintf (buf, sizeof buf,
        "Read a little more first: there are %.0f s of good speech, and "
        "training needs at least %.0f s (about 60 sentences, 3 minutes, "
        "gives the best voice).",
        std::floor (speech), kMinTrainSpeechSeconds);
    reply_json (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY,
        "{\"error\": " + json_quote (buf) + ", \"code\": \"too_little\"}");
    return;
  }
  if (r["profile"].empty () ||
      s->db.one ("SELECT id FROM profiles WHERE id = ?", { r["profile"] })
          .empty ()) {
    Row count = s->db.one (
        "SELECT COUNT(*) AS n FROM profiles WHERE project = ?", { pid });
    if (atoi (count["n"].c_str ()) >= kMaxProfilesPerProject) {
      reply_error (msg, (guint) 429,
          "A project can hold at most 20 voices; delete one first.");
      return;
    }
  }
  if (!write_file_atomic (reading_dir (s, pid, rid) + "/takes.tsv", tsv)) {
    reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
        "The server could not store the list of takes.");
    return;
  }
  std::string options = "{\"time_limit\": " + fmt_number (limit) +
      ", \"max_steps\": " + std::to_string (steps) + "}";
  s->db.exec ("UPDATE readings SET state = 'queued', error = '', progress = "
              "'', cancelling = 0, options = ?, updated = ? WHERE id = ?",
      { options, (long long) now_s (), rid });
  s->trainer->enqueue (rid);
  reply_reading (s, msg, SOUP_STATUS_ACCEPTED, rid);
  broadcast_reading (s, rid);
}

/* Cancels a waiting or running training (the running one saves its state:
 * training again carries on from there). */
void
cancel_training (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  Row r = find_reading (s, msg, m);
  if (r.empty ())
    return;
  if (r["state"] != "queued" && r["state"] != "training") {
    reply_error (msg, SOUP_STATUS_CONFLICT, "This voice is not being trained.");
    return;
  }
  s->trainer->cancel (r["id"]);
  reply_reading (s, msg, SOUP_STATUS_OK, r["id"]);
  broadcast_reading (s, r["id"]);
}

/* ---- the trainer ---------------------------------------------------- */

struct Trainer::Run {
  Trainer *trainer = nullptr;
  std::string rid, pid;
  std::string output, log;
  GSubprocess *proc = nullptr;
  GDataInputStream *out = nullptr;
  GCancellable *cancel = nullptr;
  guint watchdog = 0, kill_timer = 0;
  gint64 started = 0, last_line = 0, last_sent = 0;
  double time_limit = 0;
  /* The last progress, as the worker told it. */
  std::string stage, message;
  double fraction = 0, step = 0, max_steps = 0, elapsed = 0, remaining = 0;
  double loss = 0;
  bool resumed = false;
  bool cancelled = false, forget = false, stopping = false, stalled = false;
  bool done = false, worker_cancelled = false, eof = false, exited = false;
  std::string error;
  std::string progress_json (const std::string &st, double f) const
  {
    return "{\"stage\": " + json_quote (st) +
        ", \"fraction\": " + fmt_number (f) +
        ", \"step\": " + fmt_number (step) +
        ", \"max_steps\": " + fmt_number (max_steps) +
        ", \"elapsed\": " + fmt_number (elapsed) +
        ", \"remaining\": " + fmt_number (f >= 1 ? 0 : remaining) +
        ", \"loss\": " + fmt_number (loss) +
        ", \"resumed\": " + (resumed ? "true" : "false") +
        ", \"message\": " + json_quote (message) + "}";
  }
  ~Run ()
  {
    if (watchdog)
      g_source_remove (watchdog);
    if (kill_timer)
      g_source_remove (kill_timer);
    g_clear_object (&out);
    g_clear_object (&proc);
    g_clear_object (&cancel);
  }
};

Trainer::Trainer (Server *server, std::vector<std::string> env)
    : s_ (server), env_ (std::move (env))
{
}

Trainer::~Trainer ()
{
  if (run_) {
    /* The callbacks still hold it: they free it when cancelled. */
    run_->trainer = nullptr;
    g_cancellable_cancel (run_->cancel);
    run_ = nullptr;
  }
}

void
Trainer::enqueue (const std::string &rid)
{
  if (std::find (queue_.begin (), queue_.end (), rid) == queue_.end () &&
      !(run_ && run_->rid == rid))
    queue_.push_back (rid);
  start_next ();
}

int
Trainer::position (const std::string &rid) const
{
  if (run_ && run_->rid == rid)
    return 0;
  auto it = std::find (queue_.begin (), queue_.end (), rid);
  return it == queue_.end () ? -1 : (int) (it - queue_.begin ()) + 1;
}

bool
Trainer::cancel (const std::string &rid, bool forget)
{
  auto it = std::find (queue_.begin (), queue_.end (), rid);
  if (it != queue_.end ()) {
    queue_.erase (it);
    if (!forget)
      s_->db.exec ("UPDATE readings SET state = 'cancelled', updated = ? "
                   "WHERE id = ?",
          { (long long) now_s (), rid });
    return true;
  }
  if (!run_ || run_->rid != rid)
    return false;
  run_->cancelled = true;
  run_->forget = run_->forget || forget;
  if (!forget)
    s_->db.exec ("UPDATE readings SET cancelling = 1 WHERE id = ?", { rid });
  if (!run_->kill_timer) {
    g_subprocess_send_signal (run_->proc, SIGTERM);
    /* Saving the state takes a moment; a worker that does not stop is
     * killed (its last checkpoint stays). */
    run_->kill_timer = g_timeout_add_seconds (60, on_kill, run_);
  }
  return true;
}

void
Trainer::shutdown ()
{
  queue_.clear ();
  if (!run_)
    return;
  Run *r = run_;
  r->stopping = true;
  g_subprocess_send_signal (r->proc, SIGTERM);
  /* The next start carries on from the checkpoint the worker saves now. */
  s_->db.exec ("UPDATE readings SET state = 'queued', cancelling = 0 WHERE "
               "id = ? AND state = 'training'",
      { r->rid });
  gint64 until = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
  while (run_ == r && g_get_monotonic_time () < until) {
    if (!g_main_context_iteration (nullptr, FALSE))
      g_usleep (20000);
  }
}

gboolean
Trainer::on_kill (gpointer data)
{
  Run *r = (Run *) data;
  r->kill_timer = 0;
  g_subprocess_force_exit (r->proc);
  return G_SOURCE_REMOVE;
}

/* A worker that says nothing for too long is stopped (its last
 * checkpoint stays); so is one past its time limit with a wide margin. */
gboolean
Trainer::on_watchdog (gpointer data)
{
  Run *r = (Run *) data;
  gint64 now = g_get_monotonic_time ();
  const Config &cfg = r->trainer->s_->cfg;
  bool silent =
      now - r->last_line > (gint64) cfg.train_stall_s * G_USEC_PER_SEC;
  bool too_long =
      now - r->started > (gint64) (r->time_limit * 2 + 3600) * G_USEC_PER_SEC;
  if ((silent || too_long) && !r->stalled && !r->kill_timer) {
    r->stalled = true;
    r->error = silent ? "The training made no progress for " +
            std::to_string (cfg.train_stall_s / 60) +
            " minutes and was stopped. Train again to carry on."
                      : "The training took far longer than its time limit "
                        "and was stopped. Train again to carry on.";
    g_subprocess_send_signal (r->proc, SIGTERM);
    r->kill_timer = g_timeout_add_seconds (60, on_kill, r);
  }
  return G_SOURCE_CONTINUE;
}

void
Trainer::start_next ()
{
  while (!run_ && !queue_.empty () && !s_->shutting_down) {
    std::string rid = queue_.front ();
    queue_.pop_front ();
    start (rid);
  }
}

void
Trainer::fail (const std::string &rid, const std::string &error)
{
  s_->db.exec ("UPDATE readings SET state = 'failed', error = ?, updated = ? "
               "WHERE id = ?",
      { error, (long long) now_s (), rid });
  broadcast_reading (s_, rid);
}

void
Trainer::start (const std::string &rid)
{
  Row r = s_->db.one ("SELECT * FROM readings WHERE id = ?", { rid });
  if (r.empty () || r["state"] != "queued")
    return;
  const PromptList *l = reading_prompts (s_, r);
  if (!l) {
    fail (rid,
        "The list of sentences for \"" + r["language"] +
            "\" is no longer installed on this server.");
    return;
  }
  JsonNodePtr n (parse_json (r["options"], nullptr));
  JsonObject *o = n && JSON_NODE_HOLDS_OBJECT (n.get ())
      ? json_node_get_object (n.get ())
      : nullptr;
  double limit = s_->cfg.train_seconds;
  gint64 steps = s_->cfg.train_steps;
  try {
    limit = Json::optional_number (o, "time_limit", "The options", limit);
    steps = Json::optional_integer (o, "max_steps", "The options", steps);
  } catch (const JsonError &) {
    /* The studio's own limits. */
  }
  n.reset ();
  std::string pid = r["project"], dir = reading_dir (s_, pid, rid);
  Run *run = new Run;
  run->trainer = this;
  run->rid = rid;
  run->pid = pid;
  run->output = dir + "/profile.voice";
  run->log = dir + "/train.log";
  run->time_limit = limit;
  g_unlink (run->output.c_str ());
  std::vector<std::string> argv = { s_->cfg.worker_command, "finetune", "-o",
    run->output, dir + "/takes.tsv", "--language", l->espeak, "--name",
    r["name"], "--gender", r["gender"], "--checkpoint", dir + "/checkpoint.pt",
    "--time-limit", fmt_number (limit), "--max-steps", std::to_string (steps),
    "--threads", std::to_string (s_->cfg.train_threads) };
  GSubprocessLauncher *launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  for (const std::string &kv : env_) {
    size_t eq = kv.find ('=');
    if (eq != std::string::npos)
      g_subprocess_launcher_setenv (launcher, kv.substr (0, eq).c_str (),
          kv.substr (eq + 1).c_str (), TRUE);
  }
  g_subprocess_launcher_set_stderr_file_path (launcher, run->log.c_str ());
  std::vector<const char *> a;
  for (const std::string &x : argv)
    a.push_back (x.c_str ());
  a.push_back (nullptr);
  GError *err = nullptr;
  run->proc = g_subprocess_launcher_spawnv (launcher, a.data (), &err);
  g_object_unref (launcher);
  if (!run->proc) {
    std::string why = std::string ("The training could not start (") +
        s_->cfg.worker_command + "): " + (err ? err->message : "?");
    g_clear_error (&err);
    delete run;
    fail (rid, why);
    return;
  }
  run_ = run;
  run->cancel = g_cancellable_new ();
  run->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (run->proc));
  run->started = run->last_line = g_get_monotonic_time ();
  run->watchdog = g_timeout_add_seconds (5, on_watchdog, run);
  s_->db.exec ("UPDATE readings SET state = 'training', cancelling = 0, "
               "error = '', progress = ?, updated = ? WHERE id = ?",
      { "{\"stage\": \"starting\", \"fraction\": 0}", (long long) now_s (),
          rid });
  broadcast_reading (s_, rid);
  g_data_input_stream_read_line_async (
      run->out, G_PRIORITY_DEFAULT, run->cancel, on_line, run);
  g_subprocess_wait_async (run->proc, run->cancel, on_exit, run);
}

void
Trainer::on_line (GObject *src, GAsyncResult *res, gpointer data)
{
  GError *err = nullptr;
  gsize len = 0;
  char *line = g_data_input_stream_read_line_finish (
      G_DATA_INPUT_STREAM (src), res, &len, &err);
  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_error_free (err);
    g_free (line);
    delete (Run *) data; /* the trainer let go of it */
    return;
  }
  Run *r = (Run *) data;
  if (!line) {
    g_clear_error (&err);
    r->eof = true;
    if (r->exited)
      r->trainer->finish (r);
    return;
  }
  r->trainer->handle_line (r, line);
  g_free (line);
  g_data_input_stream_read_line_async (
      r->out, G_PRIORITY_DEFAULT, r->cancel, on_line, r);
}

void
Trainer::on_exit (GObject *src, GAsyncResult *res, gpointer data)
{
  GError *err = nullptr;
  g_subprocess_wait_finish (G_SUBPROCESS (src), res, &err);
  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_error_free (err);
    return; /* on_line frees the run */
  }
  g_clear_error (&err);
  Run *r = (Run *) data;
  r->exited = true;
  if (r->eof)
    r->trainer->finish (r);
}

void
Trainer::handle_line (Run *r, const char *line)
{
  r->last_line = g_get_monotonic_time ();
  JsonNodePtr n (parse_json (line, nullptr));
  if (!n || !JSON_NODE_HOLDS_OBJECT (n.get ()))
    return;
  JsonObject *o = json_node_get_object (n.get ());
  const std::string origin = "ganvoice-studio-worker finetune";
  try {
    std::string type = Json::optional_string (o, "type", origin);
    if (type == "progress") {
      auto number = [&] (const char *k) {
        double v = Json::optional_number (o, k, origin, 0);
        return std::isfinite (v) ? std::max (0.0, v) : 0.0;
      };
      std::string stage =
          clean_name (Json::optional_string (o, "stage", origin), 40);
      r->fraction = std::min (1.0, number ("fraction"));
      r->step = number ("step");
      r->max_steps = number ("max_steps");
      r->elapsed = number ("elapsed");
      r->remaining = number ("remaining");
      r->loss = number ("loss");
      r->resumed = Json::optional_boolean (o, "resumed", origin, false);
      r->message =
          clean_name (Json::optional_string (o, "message", origin), 300);
      gint64 now = g_get_monotonic_time ();
      if (stage != r->stage || now - r->last_sent >= kProgressIntervalUs) {
        r->stage = stage;
        r->last_sent = now;
        std::string progress = r->progress_json (stage, r->fraction);
        s_->db.exec ("UPDATE readings SET progress = ?, updated = ? WHERE "
                     "id = ?",
            { progress, (long long) now_s (), r->rid });
        if (!r->forget)
          s_->broadcast (r->pid, "training",
              "{\"id\": " + json_quote (r->rid) +
                  ", \"progress\": " + progress + "}");
      }
    } else if (type == "done") {
      r->done = true;
    } else if (type == "cancelled") {
      r->worker_cancelled = true;
    } else if (type == "error") {
      r->error = Json::optional_string (o, "message", origin);
    }
  } catch (const JsonError &e) {
    g_warning ("%s", e.what ());
  }
}

void
Trainer::finish (Run *r)
{
  run_ = nullptr;
  Server *s = s_;
  const std::string rid = r->rid, pid = r->pid;
  bool ok = r->done && g_subprocess_get_if_exited (r->proc) &&
      g_subprocess_get_exit_status (r->proc) == 0 && file_size (r->output) > 0;
  Row row = s->db.one ("SELECT * FROM readings WHERE id = ?", { rid });
  if (r->forget || row.empty ()) {
    /* Its project was deleted. */
  } else if (r->stopping && !ok) {
    /* A clean stop of the studio: queued again for the next start. */
  } else if (ok) {
    std::string prid = row["profile"];
    if (prid.empty () ||
        s->db.one ("SELECT id FROM profiles WHERE id = ?", { prid }).empty ())
      prid.clear ();
    std::string id = prid.empty () ? new_id () : prid;
    /* A new voice goes to the owner's library (see owners.cpp). */
    Row where = prid.empty ()
        ? Row{ { "id", id }, { "project", pid },
            { "owner", s->project_owner (pid) } }
        : s->db.one ("SELECT * FROM profiles WHERE id = ?", { prid });
    std::string dest = s->profile_path (where);
    make_dirs (dest.substr (0, dest.rfind ('/')));
    if (g_rename (r->output.c_str (), dest.c_str ()) != 0) {
      fail (rid, "The server could not store the new voice.");
    } else {
      if (prid.empty ())
        s->db.exec ("INSERT INTO profiles (id, project, owner, name, upload, "
                    "state, created, adapt, reading, consent_by, consent_at, "
                    "consent_statement) VALUES (?, ?, ?, ?, '', 'ready', ?, "
                    "0, ?, ?, ?, ?)",
            { id, pid, where["owner"], row["name"], (long long) now_s (), rid,
                row["consent_by"], row["consent_at"],
                row["consent_statement"] });
      else
        s->db.exec ("UPDATE profiles SET name = ?, state = 'ready', error = "
                    "'', consent_by = ?, consent_at = ?, consent_statement = "
                    "? WHERE id = ?",
            { row["name"], row["consent_by"], row["consent_at"],
                row["consent_statement"], id });
      /* The voice changed: spoken previews of the old one go. */
      remove_tree (s->project_dir (pid) + "/previews");
      /* Trained: a new training starts afresh. */
      g_unlink ((reading_dir (s, pid, rid) + "/checkpoint.pt").c_str ());
      std::string progress = r->progress_json ("done", 1.0);
      s->db.exec ("UPDATE readings SET state = 'done', profile = ?, error = "
                  "'', cancelling = 0, progress = ?, updated = ? WHERE id = ?",
          { id, progress, (long long) now_s (), rid });
      Row prof = s->db.one ("SELECT * FROM profiles WHERE id = ?", { id });
      if (!prof.empty ())
        s->broadcast (pid, "profile", s->profile_json (prof));
      broadcast_reading (s, rid);
    }
  } else if (r->cancelled) {
    s->db.exec ("UPDATE readings SET state = 'cancelled', cancelling = 0, "
                "updated = ? WHERE id = ?",
        { (long long) now_s (), rid });
    broadcast_reading (s, rid);
  } else {
    std::string error = r->error;
    if (error.empty () && !g_subprocess_get_if_exited (r->proc))
      error = "The training worker stopped unexpectedly (signal " +
          std::to_string (g_subprocess_get_term_sig (r->proc)) +
          "). Train again to carry on where it stopped.";
    if (error.empty ())
      error = "The training failed (exit status " +
          std::to_string (g_subprocess_get_exit_status (r->proc)) + ").";
    s->db.exec ("UPDATE readings SET cancelling = 0 WHERE id = ?", { rid });
    fail (rid, error);
  }
  g_unlink (r->output.c_str ());
  delete r;
  start_next ();
}

/* ---- the server's part ---------------------------------------------- */

void
Server::recover_readings ()
{
  db.exec ("UPDATE readings SET state = 'failed', cancelling = 0, error = "
           "'The studio stopped while this voice was being trained. Train "
           "again to carry on where it stopped.' WHERE state = 'training'",
      {});
  for (const Row &r :
      db.all ("SELECT id FROM readings WHERE state = 'queued' ORDER BY updated",
          {}))
    trainer->enqueue (r.at ("id"));
}

void
Server::forget_readings (const std::string &pid)
{
  for (const Row &r :
      db.all ("SELECT id FROM readings WHERE project = ? AND state IN "
              "('queued', 'training')",
          { pid }))
    trainer->cancel (r.at ("id"), true);
}

} // namespace studio

/* ganvoice-studio: voices: the built-in ones (from the acoustic model card),
 * spoken previews of a line, and voice profiles made from a recording, with
 * their routes.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "http.h"
#include "routes.h"
#include "server.h"

#include <glib/gstdio.h>

#include <algorithm>

#ifndef STUDIO_SOURCE_DIR
#define STUDIO_SOURCE_DIR ""
#endif
#ifndef STUDIO_DATA_DIR
#define STUDIO_DATA_DIR "/usr/local/share/ganvoice"
#endif

namespace studio {

namespace {

const size_t kMaxPreviewText = 400;

/* Speaks @text_in with @voice_in into a WAV (cached by voice, language and
 * text) and serves it; pid "" for a built-in voice outside a project. */
void
answer_preview (Server *s, SoupServerMessage *msg, const std::string &pid,
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

/* The line a voice says to introduce itself. */
const char *
sample_sentence (const std::string &lang)
{
  if (g_str_has_prefix (lang.c_str (), "es"))
    return "¡Hola! Así sonará mi voz cuando lea tus subtítulos.";
  if (g_str_has_prefix (lang.c_str (), "fr"))
    return "Bonjour ! Voici ma voix quand je lis vos sous-titres.";
  if (g_str_has_prefix (lang.c_str (), "de"))
    return "Hallo! So klingt meine Stimme, wenn ich Ihre Untertitel lese.";
  return "Hello! This is how I will sound when I read your subtitles.";
}

/* Profile {profile}, if project {project} can use it (its own, or its
 * owner's library); an empty row after answering 404. */
Row
find_profile (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &prid = m.param ("profile");
  if (!valid_id (prid)) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is nothing here.");
    return Row ();
  }
  Row r = s->usable_profile (m.param ("project"), prid);
  if (r.empty ())
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such voice.");
  return r;
}

/* The most voices of one project, and of one owner's library. */
const int kMaxProjectVoices = 20;
const int kMaxLibraryVoices = 50;

} // namespace

/* ---- consent -------------------------------------------------------- */

const char *const kConsentStatement =
    "This is my own voice, or the person whose voice this is has given me "
    "permission to make a synthetic copy of it and to use it for dubbing.";

bool
read_consent (SoupServerMessage *msg, JsonObject *request,
    const std::string &pid, Consent *consent)
{
  std::string statement = Json::optional_string (request, "consent", kRequest);
  if (statement != kConsentStatement) {
    reply_json (msg, SOUP_STATUS_BAD_REQUEST,
        std::string ("{\"error\": ") +
            json_quote (statement.empty ()
                    ? "Before a voice is cloned, confirm that it is your "
                      "own voice or that you have the speaker's "
                      "permission."
                    : "The consent statement is not the one this studio "
                      "asks for: reload the page and confirm it again.") +
            ", \"code\": \"consent_required\", \"statement\": " +
            json_quote (kConsentStatement) + "}");
    return false;
  }
  GDateTime *now = g_date_time_new_now_utc ();
  gchar *at = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  consent->by = "project:" + pid;
  consent->at = at;
  consent->statement = statement;
  g_free (at);
  g_date_time_unref (now);
  return true;
}

std::string
consent_json (const Row &r)
{
  auto by = r.find ("consent_by");
  if (by == r.end () || by->second.empty ())
    return "null";
  return "{\"by\": " + json_quote (by->second) +
      ", \"at\": " + json_quote (r.at ("consent_at")) +
      ", \"statement\": " + json_quote (r.at ("consent_statement")) + "}";
}

/* ---- built-in voices -------------------------------------------------- */

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
    JsonNode *list = json_object_has_member (o, "voices")
        ? json_object_get_member (o, "voices")
        : nullptr;
    JsonArray *a = list && JSON_NODE_HOLDS_ARRAY (list)
        ? json_node_get_array (list)
        : nullptr;
    for (guint i = 0; a && i < json_array_get_length (a); i++) {
      JsonNode *e = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_OBJECT (e))
        continue;
      JsonObject *v = json_node_get_object (e);
      Voice voice;
      try {
        std::string origin = c + ": voice " + std::to_string (i + 1);
        voice.name = Json::optional_string (v, "name", origin);
        voice.language = Json::optional_string (v, "language", origin);
        voice.gender = Json::optional_string (v, "gender", origin);
      } catch (const JsonError &err) {
        g_warning ("%s", err.what ());
        continue;
      }
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

bool
Server::voice_ok (
    const std::string &pid, const std::string &voice, std::string *arg)
{
  if (g_str_has_prefix (voice.c_str (), "profile:")) {
    std::string prid = voice.substr (8);
    if (!valid_id (prid))
      return false;
    Row r = usable_profile (pid, prid);
    if (r.empty () || r["state"] != "ready")
      return false;
    *arg = profile_path (r);
    return true;
  }
  for (const Voice &v : voices)
    if (v.name == voice) {
      *arg = voice;
      return true;
    }
  return false;
}

void
list_voices (Server *s, SoupServerMessage *msg, const RouteMatch &)
{
  std::string out = "{\"voices\": [";
  for (size_t i = 0; i < s->voices.size (); i++)
    out += std::string (i ? ", " : "") +
        "{\"name\": " + json_quote (s->voices[i].name) +
        ", \"language\": " + json_quote (s->voices[i].language) +
        ", \"gender\": " + json_quote (s->voices[i].gender) +
        ", \"preview\": " +
        json_quote ("/api/voices/" + s->voices[i].name + "/preview") + "}";
  reply_json (msg, SOUP_STATUS_OK, out + "]}");
}

void
preview_voice (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const Voice *v = nullptr;
  for (const Voice &x : s->voices)
    if (x.name == m.param ("voice"))
      v = &x;
  if (!v) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such voice.");
    return;
  }
  answer_preview (
      s, msg, "", v->name, sample_sentence (v->language), v->language);
}

/* A line of the editor, spoken by the voice of its speaker. */
void
preview_line (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  JsonNodePtr node;
  JsonObject *o = body_object (msg, &node);
  if (!o)
    return;
  std::string voice = Json::optional_string (o, "voice", kRequest),
              text = Json::optional_string (o, "text", kRequest),
              lang = Json::optional_string (o, "lang", kRequest);
  node.reset ();
  answer_preview (s, msg, m.param ("project"), voice, text, lang);
}

/* ---- voice profiles --------------------------------------------------- */

std::string
Server::profile_json (const Row &r)
{
  auto p = profile_progress.find (r.at ("id"));
  std::string progress =
      r.at ("state") == "making" && p != profile_progress.end () ? p->second
                                                                 : "null";
  return "{\"id\": " + json_quote (r.at ("id")) +
      ", \"name\": " + json_quote (r.at ("name")) +
      ", \"state\": " + json_quote (r.at ("state")) +
      ", \"error\": " + json_quote (r.at ("error")) +
      ", \"recording\": " + json_quote (r.at ("upload")) +
      ", \"voice\": " + json_quote ("profile:" + r.at ("id")) +
      ", \"adapt\": " + (r.at ("adapt") == "1" ? "true" : "false") +
      ", \"deep\": " + (r.at ("reading").empty () ? "false" : "true") +
      ", \"reading\": " + json_quote (r.at ("reading")) +
      ", \"consent\": " + consent_json (r) +
      ", \"project\": " + json_quote (r.at ("project")) +
      ", \"library\": " + (r.at ("owner").empty () ? "false" : "true") +
      ", \"progress\": " + progress + ", \"created\": " + r.at ("created") +
      "}";
}

void
Server::make_profile (const std::string &pid, const std::string &prid)
{
  Row r = db.one ("SELECT * FROM profiles WHERE id = ?", { prid });
  if (r.empty () || !r["reading"].empty ()) /* deep clones: reading.cpp */
    return;
  const bool adapt = r["adapt"] == "1";
  std::string out = profile_path (r);
  make_dirs (out.substr (0, out.rfind ('/')));
  /* The recording is in the project the voice was made in. */
  std::string recording = upload_path (r["project"], r["upload"]);
  auto broadcast_profile = [this, pid, prid] () {
    Row r2 = db.one ("SELECT * FROM profiles WHERE id = ?", { prid });
    if (!r2.empty ())
      broadcast (pid, "profile", profile_json (r2));
  };
  if (!file_exists (recording)) {
    db.exec ("UPDATE profiles SET state = 'failed', error = ? WHERE id = ?",
        { "The recording of this voice was deleted with its project: record "
          "the voice again.",
            prid });
    broadcast_profile ();
    return;
  }
  std::vector<std::string> args = { "profile", recording, "-o", out };
  if (adapt)
    args.push_back ("--adapt");
  profile_progress[prid] = "{\"stage\": \"waiting\", \"fraction\": 0}";
  profile_tasks[prid] = voice_makers->run (
      args,
      [this, prid, broadcast_profile] (WorkerResult &res) {
        profile_tasks.erase (prid);
        profile_progress.erase (prid);
        profile_progress_sent.erase (prid);
        if (res.ok)
          db.exec (
              "UPDATE profiles SET state = 'ready', error = '' WHERE id = ?",
              { prid });
        else
          db.exec (
              "UPDATE profiles SET state = 'failed', error = ? WHERE id = ?",
              { res.code == "cancelled" ? "You stopped making this voice."
                                        : res.error,
                  prid });
        broadcast_profile ();
      },
      /* The worker's stages and, while it adapts, its tries. */
      [this, prid, broadcast_profile] (JsonObject *line) {
        const char *stage =
            json_object_get_string_member_with_default (line, "stage", "");
        gint64 done = json_object_get_int_member_with_default (line, "done", 0),
               total =
                   json_object_get_int_member_with_default (line, "total", 0);
        char fraction[32];
        g_ascii_formatd (fraction, sizeof fraction, "%.3f",
            total > 0 ? std::clamp ((double) done / total, 0.0, 1.0) : 0.0);
        profile_progress[prid] = "{\"stage\": " + json_quote (stage) +
            ", \"done\": " + std::to_string (done) +
            ", \"total\": " + std::to_string (total) +
            ", \"fraction\": " + fraction + "}";
        /* At most twice a second to the pages. */
        gint64 now = g_get_monotonic_time ();
        if (now - profile_progress_sent[prid] >= 500000) {
          profile_progress_sent[prid] = now;
          broadcast_profile ();
        }
      });
}

void
list_profiles (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  std::string out = "[";
  for (const Row &r : s->usable_profiles (m.param ("project")))
    out += (out.size () > 1 ? ", " : "") + s->profile_json (r);
  reply_json (msg, SOUP_STATUS_OK, "{\"profiles\": " + out + "]}");
}

/* Makes a voice from a recording of the project (a worker, in the
 * background); 201 with the profile in state "making". */
void
create_profile (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project");
  JsonNodePtr node;
  JsonObject *o = body_object (msg, &node);
  if (!o)
    return;
  std::string uid = Json::optional_string (o, "recording", kRequest);
  std::string name =
      clean_name (Json::optional_string (o, "name", kRequest), 60);
  /* The opt-in adapt step: a better clone, about half a minute more. */
  const bool adapt = Json::optional_boolean (o, "adapt", kRequest, false);
  Consent consent;
  if (!read_consent (msg, o, pid, &consent))
    return;
  node.reset ();
  Row u = valid_id (uid)
      ? s->db.one (
            "SELECT * FROM uploads WHERE id = ? AND project = ?", { uid, pid })
      : Row ();
  if (u.empty () || u["kind"] != "recording") {
    reply_error (
        msg, SOUP_STATUS_BAD_REQUEST, "Record or upload your voice first.");
    return;
  }
  if (u["state"] != "ready") {
    reply_error (msg, SOUP_STATUS_CONFLICT, "The recording is not ready yet.");
    return;
  }
  if (name.empty ())
    name = "My voice";
  /* A voice goes to the owner's library, usable in all its projects. */
  std::string owner = s->project_owner (pid);
  Row count = owner.empty ()
      ? s->db.one ("SELECT COUNT(*) AS n FROM profiles WHERE project = ? AND "
                   "owner = ''",
            { pid })
      : s->db.one (
            "SELECT COUNT(*) AS n FROM profiles WHERE owner = ?", { owner });
  if (atoi (count["n"].c_str ()) >=
      (owner.empty () ? kMaxProjectVoices : kMaxLibraryVoices)) {
    reply_error (msg, (guint) 429,
        owner.empty () ? "A project can hold at most " +
                std::to_string (kMaxProjectVoices) + " voices."
                       : "Your voice library can hold at most " +
                std::to_string (kMaxLibraryVoices) +
                " voices: delete one first.");
    return;
  }
  std::string prid = new_id ();
  s->db.exec ("INSERT INTO profiles (id, project, owner, name, upload, state, "
              "created, adapt, consent_by, consent_at, consent_statement) "
              "VALUES (?, ?, ?, ?, ?, 'making', ?, ?, ?, ?, ?)",
      { prid, pid, owner, name, uid, (long long) now_s (),
          (long long) (adapt ? 1 : 0), consent.by, consent.at,
          consent.statement });
  s->make_profile (pid, prid);
  reply_json (msg, SOUP_STATUS_CREATED,
      s->profile_json (
          s->db.one ("SELECT * FROM profiles WHERE id = ?", { prid })));
}

void
rename_profile (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &prid = m.param ("profile");
  if (find_profile (s, msg, m).empty ())
    return;
  JsonNodePtr node;
  JsonObject *o = body_object (msg, &node);
  if (!o)
    return;
  std::string name =
      clean_name (Json::optional_string (o, "name", kRequest), 60);
  node.reset ();
  if (name.empty ()) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST, "A voice needs a name.");
    return;
  }
  s->db.exec ("UPDATE profiles SET name = ? WHERE id = ?", { name, prid });
  reply_json (msg, SOUP_STATUS_OK,
      s->profile_json (
          s->db.one ("SELECT * FROM profiles WHERE id = ?", { prid })));
}

void
delete_profile (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &prid = m.param ("profile");
  Row r = find_profile (s, msg, m);
  if (r.empty ())
    return;
  auto task = s->profile_tasks.find (prid);
  if (task != s->profile_tasks.end ()) {
    guint64 id = task->second;
    s->profile_tasks.erase (task);
    s->voice_makers->cancel (id);
  }
  s->db.exec ("DELETE FROM profiles WHERE id = ?", { prid });
  g_unlink (s->profile_path (r).c_str ());
  reply_json (msg, SOUP_STATUS_OK, "{\"deleted\": true}");
}

/* Makes a failed (or made) voice again, the way it was first asked for. */
void
retry_profile (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project"), &prid = m.param ("profile");
  Row r = find_profile (s, msg, m);
  if (r.empty ())
    return;
  if (r["state"] == "making") {
    reply_error (
        msg, SOUP_STATUS_CONFLICT, "This voice is being made already.");
    return;
  }
  if (!r["reading"].empty ()) {
    reply_error (msg, SOUP_STATUS_CONFLICT,
        "This voice was trained on your reading: train it again in “Read to "
        "me”.");
    return;
  }
  /* A voice made before consent was asked for asks for it now. */
  if (r["consent_by"].empty ()) {
    JsonNodePtr node;
    JsonObject *o = body_object (msg, &node);
    Consent consent;
    if (!o || !read_consent (msg, o, pid, &consent))
      return;
    s->db.exec ("UPDATE profiles SET consent_by = ?, consent_at = ?, "
                "consent_statement = ? WHERE id = ?",
        { consent.by, consent.at, consent.statement, prid });
  }
  s->db.exec ("UPDATE profiles SET state = 'making', error = '' WHERE id = ?",
      { prid });
  s->make_profile (pid, prid); /* as first asked: plain or adapted */
  reply_json (msg, SOUP_STATUS_ACCEPTED,
      s->profile_json (
          s->db.one ("SELECT * FROM profiles WHERE id = ?", { prid })));
}

void
preview_profile (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  Row r = find_profile (s, msg, m);
  if (r.empty ())
    return;
  if (r["state"] != "ready") {
    reply_error (msg, SOUP_STATUS_CONFLICT,
        r["error"].empty () ? "This voice is not ready yet." : r["error"]);
    return;
  }
  std::string lang = m.query_value ("lang");
  answer_preview (s, msg, m.param ("project"), "profile:" + r["id"],
      sample_sentence (lang), lang);
}

/* Stops making a voice (the adapt step can take minutes); it can be made
 * again with retry. */
void
cancel_profile (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &prid = m.param ("profile");
  Row r = find_profile (s, msg, m);
  if (r.empty ())
    return;
  auto task = s->profile_tasks.find (prid);
  if (r["state"] != "making" || task == s->profile_tasks.end ()) {
    reply_error (msg, SOUP_STATUS_CONFLICT, "This voice is not being made.");
    return;
  }
  /* The task's end marks it failed ("You stopped making this voice."). */
  s->voice_makers->cancel (task->second);
  reply_json (msg, SOUP_STATUS_OK,
      s->profile_json (
          s->db.one ("SELECT * FROM profiles WHERE id = ?", { prid })));
}

} // namespace studio

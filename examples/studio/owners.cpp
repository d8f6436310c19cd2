/* ganvoice-studio: owners (a key kept by the page) with their projects and
 * voice library, project deletion, and the clean-up policy (age, disk
 * quota).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * There are no accounts: the page makes a random owner key, keeps it in the
 * browser and sends it as X-Studio-Owner. The server keeps its SHA-256 with
 * the projects made with it and the voices cloned in them, so that the page
 * can list its projects and every project of the owner can use its voices.
 * A project still needs its own token. */
#include "http.h"
#include "routes.h"
#include "server.h"

#include <glib/gstdio.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>

namespace studio {

namespace {

/* Bytes under @path (files, not following links). */
gint64
tree_size (const std::string &path)
{
  GStatBuf st;
  if (g_lstat (path.c_str (), &st) != 0)
    return 0;
  if (!S_ISDIR (st.st_mode))
    return S_ISREG (st.st_mode) ? (gint64) st.st_size : 0;
  gint64 total = 0;
  GDir *d = g_dir_open (path.c_str (), 0, nullptr);
  if (!d)
    return 0;
  while (const char *name = g_dir_read_name (d))
    total += tree_size (path + "/" + name);
  g_dir_close (d);
  return total;
}

/* Whether a project is in use: a render, a training or a voice being made,
 * an upload receiving, or a page open on it. */
bool
project_busy (Server *s, const std::string &pid)
{
  if (!s->db
           .one ("SELECT id FROM jobs WHERE project = ? AND state IN "
                 "('queued', 'running') LIMIT 1",
               { pid })
           .empty () ||
      !s->db
           .one ("SELECT id FROM readings WHERE project = ? AND state IN "
                 "('queued', 'training') LIMIT 1",
               { pid })
           .empty () ||
      !s->db
           .one ("SELECT id FROM profiles WHERE project = ? AND state = "
                 "'making' LIMIT 1",
               { pid })
           .empty ())
    return true;
  for (const SseClient &c : s->sse)
    if (c.project == pid)
      return true;
  for (const Row &u :
      s->db.all ("SELECT id FROM uploads WHERE project = ? AND state IN "
                 "('receiving', 'checking')",
          { pid }))
    if (s->writing.count (u.at ("id")))
      return true;
  return false;
}

/* The owner of the request, answering 400 when it has none. */
bool
require_owner (Server *s, SoupServerMessage *msg, std::string *owner)
{
  *owner = request_owner (s, msg);
  if (*owner == "!")
    return false;
  if (owner->empty ()) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST,
        "Send your owner key (the X-Studio-Owner header).");
    return false;
  }
  return true;
}

} // namespace

std::string
request_owner (Server *s, SoupServerMessage *msg)
{
  const char *key = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "X-Studio-Owner");
  if (!key || !*key)
    return "";
  std::string k = key;
  if (k.size () < 32 || k.size () > 64 ||
      k.find_first_not_of ("0123456789abcdef") != std::string::npos) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST,
        "The owner key must be 32 to 64 lowercase hex digits.");
    return "!";
  }
  std::string owner = hash_token (k);
  gint64 now = now_s ();
  s->db.exec ("INSERT INTO owners (id, seen) VALUES (?, ?) ON CONFLICT (id) "
              "DO UPDATE SET seen = excluded.seen WHERE seen < ?",
      { owner, (long long) now, (long long) (now - 60) });
  return owner;
}

std::string
Server::project_owner (const std::string &pid)
{
  return db.one ("SELECT owner FROM projects WHERE id = ?", { pid })["owner"];
}

std::vector<Row>
Server::usable_profiles (const std::string &pid)
{
  std::string owner = project_owner (pid);
  if (owner.empty ())
    return db.all (
        "SELECT * FROM profiles WHERE project = ? ORDER BY created", { pid });
  return db.all ("SELECT * FROM profiles WHERE project = ? OR owner = ? "
                 "ORDER BY created",
      { pid, owner });
}

Row
Server::usable_profile (const std::string &pid, const std::string &prid)
{
  if (!valid_id (prid))
    return Row ();
  Row r = db.one ("SELECT * FROM profiles WHERE id = ?", { prid });
  if (r.empty () || r["project"] == pid)
    return r;
  std::string owner = project_owner (pid);
  return !owner.empty () && r["owner"] == owner ? r : Row ();
}

void
Server::claim_project (const std::string &pid, const std::string &owner)
{
  if (owner.empty () || !project_owner (pid).empty ())
    return;
  db.exec ("UPDATE projects SET owner = ? WHERE id = ? AND owner = ''",
      { owner, pid });
  /* Its voices join the owner's library (their files move there). */
  make_dirs (cfg.data_dir + "/library");
  for (Row r :
      db.all (
          "SELECT * FROM profiles WHERE project = ? AND owner = ''", { pid })) {
    std::string from = profile_path (r);
    r["owner"] = owner;
    std::string to = profile_path (r);
    if (file_exists (from) && g_rename (from.c_str (), to.c_str ()) != 0)
      continue; /* stays the project's own */
    db.exec ("UPDATE profiles SET owner = ? WHERE id = ?", { owner, r["id"] });
  }
}

void
Server::delete_project (const std::string &pid)
{
  for (const Row &j :
      db.all ("SELECT id FROM jobs WHERE project = ? AND state IN "
              "('queued', 'running')",
          { pid }))
    queue->cancel (j.at ("id"));
  forget_readings (pid);
  /* Voices being made from its recordings stop and go; the owner's made
   * voices stay in the library, the others go with the project. */
  for (const Row &r :
      db.all ("SELECT id FROM profiles WHERE project = ? AND state = 'making'",
          { pid })) {
    auto t = profile_tasks.find (r.at ("id"));
    if (t != profile_tasks.end ()) {
      guint64 task = t->second;
      profile_tasks.erase (t);
      voice_makers->cancel (task);
    }
  }
  for (const Row &r : db.all ("SELECT * FROM profiles WHERE project = ? AND "
                              "(owner = '' OR state = 'making')",
           { pid }))
    g_unlink (profile_path (r).c_str ());
  db.exec ("DELETE FROM profiles WHERE project = ? AND (owner = '' OR state = "
           "'making')",
      { pid });
  db.exec ("DELETE FROM projects WHERE id = ?", { pid });
  remove_tree (project_dir (pid));
}

void
Server::remove_replaced_uploads (const std::string &pid)
{
  Row p = db.one ("SELECT * FROM projects WHERE id = ?", { pid });
  if (p.empty ())
    return;
  /* A render reads the video and subtitles it was given. */
  if (!db.one ("SELECT id FROM jobs WHERE project = ? AND state IN "
               "('queued', 'running') LIMIT 1",
             { pid })
           .empty ())
    return;
  for (const char *kind : { "video", "subtitles" }) {
    if (p[kind].empty ())
      continue;
    /* Checked ones of the kind that are not the project's: replaced (or
     * refused). One still receiving may be resumed. */
    for (const Row &u :
        db.all ("SELECT id FROM uploads WHERE project = ? AND kind = ? AND "
                "id != ? AND state IN ('ready', 'rejected')",
            { pid, kind, p[kind] })) {
      const std::string &uid = u.at ("id");
      db.exec ("DELETE FROM uploads WHERE id = ?", { uid });
      for (const char *suffix : { "", ".part", ".peaks.json", ".cues.json" })
        g_unlink ((upload_path (pid, uid) + suffix).c_str ());
      peaks_errors.erase (uid);
    }
  }
}

void
Server::touch_project (const std::string &pid)
{
  gint64 now = now_s ();
  db.exec ("UPDATE projects SET updated = ? WHERE id = ? AND updated < ?",
      { (long long) now, pid, (long long) (now - 60) });
}

std::string
Server::clean_up ()
{
  int by_age = 0, by_quota = 0, voices = 0;
  gint64 now = now_s ();
  for (const Row &p : db.all ("SELECT id FROM projects", {}))
    remove_replaced_uploads (p.at ("id"));
  if (cfg.keep_days > 0) {
    long long cutoff = (long long) (now - (gint64) cfg.keep_days * 86400);
    for (const Row &p :
        db.all ("SELECT id FROM projects WHERE updated < ?", { cutoff }))
      if (!project_busy (this, p.at ("id"))) {
        delete_project (p.at ("id"));
        by_age++;
      }
    /* An owner not seen for as long, with no project left: its voices. */
    for (const Row &o :
        db.all ("SELECT id FROM owners WHERE seen < ? AND NOT EXISTS (SELECT "
                "1 FROM projects WHERE owner = owners.id)",
            { cutoff })) {
      for (const Row &r :
          db.all ("SELECT * FROM profiles WHERE owner = ?", { o.at ("id") })) {
        g_unlink (profile_path (r).c_str ());
        voices++;
      }
      db.exec ("DELETE FROM profiles WHERE owner = ?", { o.at ("id") });
      db.exec ("DELETE FROM owners WHERE id = ?", { o.at ("id") });
    }
  }
  gint64 used = 0;
  if (cfg.max_disk_bytes > 0) {
    used = tree_size (cfg.data_dir + "/projects") +
        tree_size (cfg.data_dir + "/library");
    /* The least recently used projects first, while over the quota. */
    for (const Row &p :
        db.all ("SELECT id FROM projects ORDER BY updated, created", {})) {
      if (used <= cfg.max_disk_bytes)
        break;
      if (project_busy (this, p.at ("id")))
        continue;
      used -= tree_size (project_dir (p.at ("id")));
      delete_project (p.at ("id"));
      by_quota++;
    }
  }
  std::string what = std::to_string (by_age) + " unused for " +
      std::to_string (cfg.keep_days) + " days, " + std::to_string (by_quota) +
      " over the disk quota, " + std::to_string (voices) +
      " voices of owners gone";
  if (by_age || by_quota || voices) {
    printf ("ganvoice-studio: clean-up: removed %s\n", what.c_str ());
    fflush (stdout);
  }
  return what;
}

/* ---- routes ------------------------------------------------------------ */

/* The owner's projects, the most recently used first. */
void
list_projects (Server *s, SoupServerMessage *msg, const RouteMatch &)
{
  std::string owner;
  if (!require_owner (s, msg, &owner))
    return;
  std::string out = "{\"projects\": [";
  bool first = true;
  for (const Row &p :
      s->db.all ("SELECT p.id, p.name, p.created, p.updated, v.name AS "
                 "video, t.name AS subtitles, (SELECT COUNT(*) FROM jobs j "
                 "WHERE j.project = p.id AND j.state = 'done') AS renders "
                 "FROM projects p LEFT JOIN uploads v ON v.id = p.video "
                 "LEFT JOIN uploads t ON t.id = p.subtitles WHERE p.owner = "
                 "? ORDER BY p.updated DESC, p.created DESC",
          { owner })) {
    auto name_or_null = [] (const std::string &n) {
      return n.empty () ? std::string ("null") : json_quote (n);
    };
    out += std::string (first ? "" : ", ") +
        "{\"id\": " + json_quote (p.at ("id")) +
        ", \"name\": " + json_quote (p.at ("name")) +
        ", \"created\": " + p.at ("created") +
        ", \"updated\": " + p.at ("updated") +
        ", \"video\": " + name_or_null (p.at ("video")) +
        ", \"subtitles\": " + name_or_null (p.at ("subtitles")) +
        ", \"renders\": " + p.at ("renders") + "}";
    first = false;
  }
  reply_json (msg, SOUP_STATUS_OK, out + "]}");
}

/* The owner's voice library. */
void
list_library (Server *s, SoupServerMessage *msg, const RouteMatch &)
{
  std::string owner;
  if (!require_owner (s, msg, &owner))
    return;
  std::string out = "{\"profiles\": [";
  bool first = true;
  for (const Row &r :
      s->db.all ("SELECT * FROM profiles WHERE owner = ? ORDER BY created",
          { owner })) {
    out += (first ? "" : ", ") + s->profile_json (r);
    first = false;
  }
  reply_json (msg, SOUP_STATUS_OK, out + "]}");
}

} // namespace studio

/* ganvoice-studio: the upload routes (resumable uploads in chunks, streamed
 * to disk), the check of a finished upload's content, and the media routes
 * that serve uploads, their waveform peaks and their cues.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "http.h"
#include "routes.h"
#include "server.h"

#include <glib/gstdio.h>

#include <algorithm>

#include <fcntl.h>
#include <unistd.h>

namespace studio {

namespace {

/* Upload {upload} of project {project}; an empty row after answering 404. */
Row
find_upload (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  return find_in_project (
      s, msg, m, "upload", "uploads", "There is no such upload.");
}

/* Like find_upload(), for a file that passed its check. */
Row
find_media (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const char *missing = "This file is not available.";
  Row u = find_in_project (s, msg, m, "upload", "uploads", missing);
  if (!u.empty () && u["state"] != "ready") {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, missing);
    return Row ();
  }
  return u;
}

} // namespace

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

/* ---- uploads ---------------------------------------------------------- */

void
create_upload (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project");
  JsonNodePtr node;
  JsonObject *o = body_object (msg, &node);
  if (!o)
    return;
  std::string kind = Json::optional_string (o, "kind", kRequest);
  gint64 size = Json::optional_integer (o, "size", kRequest, -1);
  std::string name =
      clean_name (Json::optional_string (o, "name", kRequest, "file"), 200);
  node.reset ();
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
  Row count = s->db.one (
      "SELECT COUNT(*) AS n FROM uploads WHERE project = ?", { pid });
  if (atoi (count["n"].c_str ()) >= s->cfg.max_uploads_per_project) {
    reply_error (msg, (guint) 429,
        "This project has too many uploads; start a new project.");
    return;
  }
  std::string uid = new_id ();
  make_dirs (s->project_dir (pid) + "/uploads");
  s->db.exec ("INSERT INTO uploads (id, project, kind, name, size, state, "
              "created) VALUES "
              "(?, ?, ?, ?, ?, 'receiving', ?)",
      { uid, pid, kind, name, (long long) size, (long long) now_s () });
  Row u = s->db.one ("SELECT * FROM uploads WHERE id = ?", { uid });
  std::string j = s->upload_json (u);
  j.insert (j.size () - 1,
      ", \"chunk_size\": " +
          std::to_string (
              std::min<gint64> (s->cfg.max_chunk_bytes, 4 * 1024 * 1024)));
  reply_json (msg, SOUP_STATUS_CREATED, j);
}

void
get_upload (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  Row u = find_upload (s, msg, m);
  if (!u.empty ())
    reply_json (msg, SOUP_STATUS_OK, s->upload_json (u));
}

/* A chunk of an upload: checked when its headers arrive, then streamed
 * straight to disk (RequestCtx::fd) as it comes. */
void
begin_upload_chunk (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project"), &uid = m.param ("upload");
  if (!valid_id (pid) || !valid_id (uid)) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such upload.");
    return;
  }
  if (!check_token (s, msg, m))
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
  goffset length = chunk_length (s, msg);
  if (length < 0)
    return;
  if (s->writing.count (uid)) {
    reply_error (msg, SOUP_STATUS_CONFLICT,
        "Another part of this upload is being received; wait for it.");
    return;
  }
  std::string part = s->part_path (pid, uid);
  gint64 size = g_ascii_strtoll (u["size"].c_str (), nullptr, 10);
  gint64 offset = chunk_offset (msg, m, part, "The upload");
  if (offset < 0)
    return;
  if (offset + length > size) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST,
        "This chunk goes past the end of the file.");
    return;
  }
  append_request_body (
      s, msg, part, uid, offset, length, "The server cannot store the upload.");
}

gint64
chunk_offset (SoupServerMessage *msg, const RouteMatch &m,
    const std::string &part, const std::string &what)
{
  gint64 have = std::max<gint64> (0, file_size (part));
  std::string off = m.query_value ("offset");
  gint64 offset = off.empty () || off.size () > 18 ||
          off.find_first_not_of ("0123456789") != std::string::npos
      ? -1
      : g_ascii_strtoll (off.c_str (), nullptr, 10);
  if (offset != have) {
    reply_json (msg, SOUP_STATUS_CONFLICT,
        "{\"error\": \"" + what + " continues at another offset.\", " +
            "\"offset\": " + std::to_string (have) + "}");
    return -1;
  }
  return offset;
}

goffset
chunk_length (Server *s, SoupServerMessage *msg)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  goffset length =
      soup_message_headers_get_encoding (req) == SOUP_ENCODING_CONTENT_LENGTH
      ? soup_message_headers_get_content_length (req)
      : -1;
  if (length < 0) {
    reply_error (
        msg, SOUP_STATUS_LENGTH_REQUIRED, "A chunk needs a Content-Length.");
    return -1;
  }
  if (length > s->cfg.max_chunk_bytes) {
    reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
        "A chunk may hold at most " + std::to_string (s->cfg.max_chunk_bytes) +
            " bytes.");
    return -1;
  }
  return length;
}

void
append_request_body (Server *s, SoupServerMessage *msg, const std::string &part,
    const std::string &key, gint64 offset, gint64 length,
    const char *cannot_store)
{
  int fd =
      open (part.c_str (), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, cannot_store);
    return;
  }
  RequestCtx *ctx = request_ctx (msg);
  ctx->fd = fd;
  ctx->upload_id = key;
  ctx->offset = offset;
  ctx->expected = length;
  ctx->writing = &s->writing;
  s->writing.insert (key);
}

/* The chunk has arrived: keep it, and check the file once it is whole. */
void
put_upload_chunk (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project"), &uid = m.param ("upload");
  Row u = find_upload (s, msg, m);
  if (u.empty ())
    return;
  RequestCtx *ctx = request_ctx (msg);
  if (!ctx || ctx->fd < 0) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST, "This chunk was not accepted.");
    return;
  }
  close (ctx->fd);
  ctx->fd = -1;
  std::string part = s->part_path (pid, uid);
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
  if (g_rename (part.c_str (), s->upload_path (pid, uid).c_str ()) != 0) {
    reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
        "The server could not store the upload.");
    return;
  }
  s->db.exec ("UPDATE uploads SET state = 'checking' WHERE id = ?", { uid });
  s->check_upload (pid, uid, msg);
}

void
delete_upload (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project"), &uid = m.param ("upload");
  if (find_upload (s, msg, m).empty ())
    return;
  if (s->writing.count (uid)) {
    reply_error (msg, SOUP_STATUS_CONFLICT, "This upload is receiving data.");
    return;
  }
  Row used = s->db.one ("SELECT id FROM profiles WHERE upload = ?", { uid });
  if (!used.empty ()) {
    reply_error (msg, SOUP_STATUS_CONFLICT,
        "A voice was made from this recording; delete the voice first.");
    return;
  }
  s->db.exec ("UPDATE projects SET video = NULL WHERE id = ? AND video = ?",
      { pid, uid });
  s->db.exec (
      "UPDATE projects SET subtitles = NULL WHERE id = ? AND subtitles = ?",
      { pid, uid });
  s->db.exec ("DELETE FROM uploads WHERE id = ?", { uid });
  g_unlink (s->part_path (pid, uid).c_str ());
  g_unlink (s->upload_path (pid, uid).c_str ());
  reply_json (msg, SOUP_STATUS_OK, "{\"deleted\": true}");
}

/* ---- media ------------------------------------------------------------ */

/* The uploaded file itself, typed from what the check found in it. */
void
get_media (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  Row u = find_media (s, msg, m);
  if (u.empty ())
    return;
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
  serve_file (msg, s->upload_path (m.param ("project"), u["id"]), type);
}

/* The soundtrack's waveform peaks: 202 while a worker makes them. */
void
get_media_peaks (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  Row u = find_media (s, msg, m);
  if (u.empty ())
    return;
  const std::string &pid = m.param ("project"), &uid = m.param ("upload");
  std::string peaks = s->upload_path (pid, uid) + ".peaks.json";
  if (file_exists (peaks)) {
    serve_file (msg, peaks, "application/json");
  } else if (s->peaks_errors.count (uid)) {
    reply_error (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, s->peaks_errors[uid]);
  } else {
    if (u["kind"] != "subtitles")
      s->make_peaks (pid, uid);
    reply_json (msg, SOUP_STATUS_ACCEPTED, "{\"state\": \"working\"}");
  }
}

/* The cues of uploaded subtitles, as the check read them. */
void
get_media_cues (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  Row u = find_media (s, msg, m);
  if (u.empty ())
    return;
  if (u["kind"] != "subtitles") {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "Not found.");
    return;
  }
  serve_file (msg, s->upload_path (m.param ("project"), u["id"]) + ".cues.json",
      "application/json");
}

/* ---- the check of an upload's content --------------------------------- */

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
          const std::string origin = "The worker's answer";
          try {
            if (kind == "subtitles") {
              std::string format = Json::optional_string (o, "format", origin),
                          language =
                              Json::optional_string (o, "language", origin);
              guint cues =
                  json_array_get_length (Json::array (o, "cues", origin));
              write_file_atomic (path + ".cues.json", to_json (r.result));
              info = "{\"format\": " + json_quote (format) +
                  ", \"language\": " + json_quote (language) +
                  ", \"cues\": " + std::to_string (cues) + "}";
            } else {
              guint nv =
                  json_array_get_length (Json::array (o, "video", origin));
              guint na =
                  json_array_get_length (Json::array (o, "audio", origin));
              if (kind == "video" && nv == 0)
                error = "This file was refused: it has no video picture. "
                        "Choose a video file (MKV, WebM, MP4, …).";
              else if (kind == "recording" && na == 0)
                error = "This file was refused: it has no sound in it.";
              else
                info = to_json (r.result);
            }
          } catch (const JsonError &e) {
            error = std::string ("This file was refused: ") + e.what ();
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
          /* A project named by default takes its video's name (the list of
           * projects shows it). */
          if (kind == "video") {
            std::string name = db.one (
                "SELECT name FROM uploads WHERE id = ?", { uid })["name"];
            size_t dot = name.rfind ('.');
            if (dot != std::string::npos && dot > 0)
              name = name.substr (0, dot);
            db.exec ("UPDATE projects SET name = ? WHERE id = ? AND name IN "
                     "('My video', 'Untitled', '')",
                { clean_name (name, 100), pid });
          }
          /* The video or subtitles this one replaces leave the disk. */
          if (kind != "recording")
            remove_replaced_uploads (pid);
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

} // namespace studio

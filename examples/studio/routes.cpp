/* ganvoice-studio: the route table, the dispatchers that use it, the token
 * check, and the handlers of the page, health and config.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "routes.h"

#include "http.h"
#include "server.h"

namespace studio {

namespace {

const Auth kOpen = Auth::none;
const Auth kToken = Auth::project_token;
const Auth kWorker = Auth::worker_token;

/* Every route of the studio. The first route whose method and pattern fit
 * a request handles it. See docs/studio.md for what each one does. */
const std::vector<Route> kRoutes = {
  /* The page: plain names in web/. */
  { "GET", "/", get_page, kOpen },
  { "HEAD", "/", get_page, kOpen },
  { "GET", "/{file}", get_page, kOpen },
  { "HEAD", "/{file}", get_page, kOpen },

  { "GET", "/api/health", get_health, kOpen },
  { "GET", "/api/config", get_config, kOpen },
  { "GET", "/api/voices", list_voices, kOpen },
  { "GET", "/api/voices/{voice}/preview", preview_voice, kOpen },
  { "GET", "/api/prompts", list_prompts, kOpen },
  { "GET", "/api/prompts/{language}", get_prompts, kOpen },
  { "POST", "/api/projects", create_project, kOpen },
  { "GET", "/api/projects", list_projects, kOpen },
  { "GET", "/api/library", list_library, kOpen },

  { "GET", "/api/projects/{project}", get_project, kToken },
  { "PATCH", "/api/projects/{project}", update_project, kToken },
  { "DELETE", "/api/projects/{project}", delete_project, kToken },
  { "GET", "/api/projects/{project}/events", project_events, kToken },

  { "POST", "/api/projects/{project}/uploads", create_upload, kToken },
  { "GET", "/api/projects/{project}/uploads/{upload}", get_upload, kToken },
  { "PUT", "/api/projects/{project}/uploads/{upload}", put_upload_chunk, kToken,
      begin_upload_chunk },
  { "DELETE", "/api/projects/{project}/uploads/{upload}", delete_upload,
      kToken },
  { "GET", "/api/projects/{project}/media/{upload}", get_media, kToken },
  { "HEAD", "/api/projects/{project}/media/{upload}", get_media, kToken },
  { "GET", "/api/projects/{project}/media/{upload}/peaks", get_media_peaks,
      kToken },
  { "HEAD", "/api/projects/{project}/media/{upload}/peaks", get_media_peaks,
      kToken },
  { "GET", "/api/projects/{project}/media/{upload}/cues", get_media_cues,
      kToken },
  { "HEAD", "/api/projects/{project}/media/{upload}/cues", get_media_cues,
      kToken },

  { "GET", "/api/projects/{project}/cues", get_cues, kToken },
  { "PUT", "/api/projects/{project}/cues", put_cues, kToken },
  { "POST", "/api/projects/{project}/preview", preview_line, kToken },
  { "POST", "/api/projects/{project}/fit", plan_fits, kToken },

  { "GET", "/api/projects/{project}/profiles", list_profiles, kToken },
  { "POST", "/api/projects/{project}/profiles", create_profile, kToken },
  { "PATCH", "/api/projects/{project}/profiles/{profile}", rename_profile,
      kToken },
  { "DELETE", "/api/projects/{project}/profiles/{profile}", delete_profile,
      kToken },
  { "POST", "/api/projects/{project}/profiles/{profile}/retry", retry_profile,
      kToken },
  { "GET", "/api/projects/{project}/profiles/{profile}/preview",
      preview_profile, kToken },
  { "POST", "/api/projects/{project}/profiles/{profile}/cancel", cancel_profile,
      kToken },

  { "GET", "/api/projects/{project}/readings", list_readings, kToken },
  { "POST", "/api/projects/{project}/readings", create_reading, kToken },
  { "GET", "/api/projects/{project}/readings/{reading}", get_reading, kToken },
  { "PATCH", "/api/projects/{project}/readings/{reading}", update_reading,
      kToken },
  { "DELETE", "/api/projects/{project}/readings/{reading}", delete_reading,
      kToken },
  { "PUT", "/api/projects/{project}/readings/{reading}/takes/{index}", put_take,
      kToken, begin_take_upload },
  { "GET", "/api/projects/{project}/readings/{reading}/takes/{index}", get_take,
      kToken },
  { "HEAD", "/api/projects/{project}/readings/{reading}/takes/{index}",
      get_take, kToken },
  { "DELETE", "/api/projects/{project}/readings/{reading}/takes/{index}",
      delete_take, kToken },
  { "POST", "/api/projects/{project}/readings/{reading}/train", start_training,
      kToken },
  { "DELETE", "/api/projects/{project}/readings/{reading}/train",
      cancel_training, kToken },
  { "POST", "/api/projects/{project}/readings/{reading}/cancel",
      cancel_training, kToken },

  { "GET", "/api/projects/{project}/jobs", list_jobs, kToken },
  { "POST", "/api/projects/{project}/jobs", create_job, kToken },
  { "GET", "/api/projects/{project}/jobs/{job}", get_job, kToken },
  { "DELETE", "/api/projects/{project}/jobs/{job}", delete_job, kToken },
  { "GET", "/api/projects/{project}/jobs/{job}/result", get_job_result,
      kToken },
  { "HEAD", "/api/projects/{project}/jobs/{job}/result", get_job_result,
      kToken },

  /* Remote workers (ganvoice-worker): a job's inputs and its result. */
  { "GET", "/api/worker/jobs/{job}/files/{file}", get_worker_file, kWorker },
  { "HEAD", "/api/worker/jobs/{job}/files/{file}", get_worker_file, kWorker },
  { "PUT", "/api/worker/jobs/{job}/result", put_worker_result, kWorker,
      begin_worker_result },
  { "POST", "/api/worker/jobs/{job}/result", deliver_worker_result, kWorker },
  { "GET", "/api/projects/{project}/jobs/{job}/preview", get_job_preview,
      kToken },
  { "HEAD", "/api/projects/{project}/jobs/{job}/preview", get_job_preview,
      kToken },
};

/* Whether a path is under /api/ (its 404 speaks of the API, not the page). */
bool
is_api_path (const char *path)
{
  std::vector<std::string> parts = split_path (path);
  return !parts.empty () && parts[0] == "api";
}

} // namespace

bool
check_token (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  const std::string &pid = m.param ("project");
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  const char *t = soup_message_headers_get_one (req, "X-Studio-Token");
  std::string token = t ? t : m.query_value ("token");
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

void
dispatch_early (SoupServer *, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer server)
{
  Server *s = (Server *) server;
  common_headers (msg);
  std::string method = soup_server_message_get_method (msg);
  if (method == "GET" || method == "HEAD" || method == "OPTIONS")
    return;
  collect_body (msg);
  RouteMatch m = match_route (kRoutes, method, path);
  m.query = query;
  if (m.route && m.route->early) {
    m.route->early (s, msg, m);
    return;
  }
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  if (soup_message_headers_get_encoding (req) == SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_content_length (req) > kMaxJsonBody)
    reply_error (
        msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "The request is too large.");
}

void
dispatch (SoupServer *, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer server)
{
  Server *s = (Server *) server;
  if (soup_server_message_get_status (msg) != 0)
    return; /* answered by the early dispatcher */
  common_headers (msg);
  std::string method = soup_server_message_get_method (msg);
  RouteMatch m = match_route (kRoutes, method, path);
  m.query = query;
  if (!m.route && !m.allow.empty ()) {
    soup_message_headers_replace (
        soup_server_message_get_response_headers (msg), "Allow",
        m.allow.c_str ());
    reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "Not allowed here.");
    return;
  }
  if (!m.route) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND,
        is_api_path (path) ? "There is nothing here."
                           : "There is no such page.");
    return;
  }
  if (m.route->auth == Auth::project_token) {
    const std::string &pid = m.param ("project");
    if (!valid_id (pid)) {
      reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such project.");
      return;
    }
    if (!check_token (s, msg, m))
      return;
    s->touch_project (pid);
  }
  if (m.route->auth == Auth::worker_token && !check_worker_token (s, msg))
    return;
  try {
    m.route->handler (s, msg, m);
  } catch (const JsonError &e) {
    /* A field of the wrong type: handlers read before they act. */
    reply_error (msg, SOUP_STATUS_BAD_REQUEST, e.what ());
  }
}

/* ---- the page, health, config ----------------------------------------- */

void
get_page (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  /* Only plain names in web/, nothing else. */
  std::string name = m.params.empty () ? "index.html" : m.param ("file");
  if (name[0] == '.' ||
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
}

void
get_health (Server *s, SoupServerMessage *msg, const RouteMatch &)
{
  reply_json (msg, SOUP_STATUS_OK,
      "{\"ok\": true, \"running\": " + std::to_string (s->queue->running ()) +
          ", \"queued\": " + std::to_string (s->queue->queued ()) + "}");
}

void
get_config (Server *s, SoupServerMessage *msg, const RouteMatch &)
{
  reply_json (msg, SOUP_STATUS_OK,
      "{\"max_upload_bytes\": " + std::to_string (s->cfg.max_upload_bytes) +
          ", \"max_subtitle_bytes\": " +
          std::to_string (s->cfg.max_subtitle_bytes) +
          ", \"max_recording_bytes\": " +
          std::to_string (s->cfg.max_recording_bytes) +
          ", \"max_chunk_bytes\": " + std::to_string (s->cfg.max_chunk_bytes) +
          ", \"consent_statement\": " + json_quote (kConsentStatement) +
          ", \"keep_days\": " + std::to_string (s->cfg.keep_days) +
          ", \"max_disk_bytes\": " + std::to_string (s->cfg.max_disk_bytes) +
          "}");
}

Row
find_in_project (Server *s, SoupServerMessage *msg, const RouteMatch &m,
    const char *param, const char *table, const char *missing)
{
  const std::string &id = m.param (param);
  if (!valid_id (id)) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is nothing here.");
    return Row ();
  }
  /* @table is one of the code's own names, never the request's. */
  Row r = s->db.one (
      std::string ("SELECT * FROM ") + table + " WHERE id = ? AND project = ?",
      { id, m.param ("project") });
  if (r.empty ())
    reply_error (msg, SOUP_STATUS_NOT_FOUND, missing);
  return r;
}

} // namespace studio

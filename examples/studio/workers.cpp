/* ganvoice-studio: the routes of remote workers (ganvoice-worker, with the
 * PostgreSQL queue): a job's inputs, with range requests, and its result,
 * sent in chunks and delivered with its attempt and checksum.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every request names the attempt it comes from (?attempt=N, the claim's
 * fencing token); only the job's current attempt may fetch or deliver. A
 * result is received into a part file of its own attempt, checked against
 * its SHA-256, and renamed into place as the job is marked done, in one
 * transaction (RemoteJobQueue::deliver). Delivering it again is a no-op. */
#include "http.h"
#include "routes.h"
#include "server.h"

#include <fcntl.h>
#include <unistd.h>

namespace studio {

namespace {

/* ?attempt=N, or -1. */
long
attempt_of (const RouteMatch &m)
{
  std::string a = m.query_value ("attempt");
  if (a.empty () || a.size () > 9 ||
      a.find_first_not_of ("0123456789") != std::string::npos)
    return -1;
  return (long) g_ascii_strtoll (a.c_str (), nullptr, 10);
}

/* The job and attempt of the request, when the attempt is @wanted (or, with
 * @delivered_ok, already delivered); otherwise answers and returns false. */
bool
check_attempt (Server *s, SoupServerMessage *msg, const RouteMatch &m,
    RemoteJobQueue::Attempt *state)
{
  const std::string &jid = m.param ("job");
  long attempt = attempt_of (m);
  if (!valid_job_id (jid)) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such job.");
    return false;
  }
  if (attempt < 1) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST,
        "attempt must be the claim's attempt number.");
    return false;
  }
  *state = s->remote->check_attempt (jid, attempt);
  switch (*state) {
    case RemoteJobQueue::Attempt::current:
    case RemoteJobQueue::Attempt::delivered:
      return true;
    case RemoteJobQueue::Attempt::stale:
      reply_error (msg, SOUP_STATUS_CONFLICT,
          "Attempt " + std::to_string (attempt) +
              " of this job is over; another attempt holds it or it ended.");
      return false;
    case RemoteJobQueue::Attempt::unknown:
      reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such job.");
      return false;
    default:
      reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
          "The job queue is not available; try again.");
      return false;
  }
}

} // namespace

bool
check_worker_token (Server *s, SoupServerMessage *msg)
{
  if (!s->remote || s->cfg.worker_token_hash.empty ()) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is nothing here.");
    return false;
  }
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  const char *auth = soup_message_headers_get_one (req, "Authorization");
  std::string token = auth && g_str_has_prefix (auth, "Bearer ")
      ? std::string (auth + 7)
      : std::string ();
  if (token.empty () ||
      !same_secret (hash_token (token), s->cfg.worker_token_hash)) {
    soup_message_headers_replace (
        soup_server_message_get_response_headers (msg), "WWW-Authenticate",
        "Bearer");
    reply_error (msg, SOUP_STATUS_UNAUTHORIZED,
        "This is for the studio's workers (the worker token is missing or "
        "wrong).");
    return false;
  }
  return true;
}

/* An input of a job (video, subtitles, voice-N), for its current attempt. */
void
get_worker_file (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  RemoteJobQueue::Attempt state;
  if (!check_attempt (s, msg, m, &state))
    return;
  if (state != RemoteJobQueue::Attempt::current) {
    reply_error (msg, SOUP_STATUS_CONFLICT, "This job is done.");
    return;
  }
  std::string path = s->remote->input_path (m.param ("job"), m.param ("file"));
  if (path.empty () || !file_exists (path)) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "This job has no such input.");
    return;
  }
  serve_file (msg, path, "application/octet-stream");
}

/* A chunk of a result: checked when its headers arrive, then streamed to the
 * attempt's part file. ?offset= must be what has arrived so far. */
void
begin_worker_result (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  if (!check_worker_token (s, msg))
    return;
  RemoteJobQueue::Attempt state;
  if (!check_attempt (s, msg, m, &state))
    return;
  const std::string &jid = m.param ("job");
  if (state == RemoteJobQueue::Attempt::delivered) {
    reply_json (msg, SOUP_STATUS_OK, "{\"delivered\": true}");
    return;
  }
  goffset length = chunk_length (s, msg);
  if (length < 0)
    return;
  std::string key = "result:" + jid;
  if (s->writing.count (key)) {
    reply_error (msg, SOUP_STATUS_CONFLICT,
        "Another part of this result is being received; wait for it.");
    return;
  }
  std::string part = s->remote->part_path (jid, attempt_of (m));
  gint64 offset = chunk_offset (msg, m, part, "The result");
  if (offset < 0)
    return;
  append_request_body (
      s, msg, part, key, offset, length, "The studio cannot store the result.");
}

void
put_worker_result (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  RequestCtx *ctx = request_ctx (msg);
  if (!ctx || ctx->fd < 0) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST, "This chunk was not accepted.");
    return;
  }
  close (ctx->fd);
  ctx->fd = -1;
  std::string part = s->remote->part_path (m.param ("job"), attempt_of (m));
  if (ctx->write_failed || ctx->written != ctx->expected) {
    if (truncate (part.c_str (), ctx->offset) != 0)
      g_warning ("%s: cannot truncate", part.c_str ());
    reply_error (msg,
        ctx->write_failed ? SOUP_STATUS_INSUFFICIENT_STORAGE
                          : SOUP_STATUS_BAD_REQUEST,
        ctx->write_failed
            ? "The studio could not store this chunk (is its disk full?)."
            : "The chunk arrived incomplete; send it again.");
    return;
  }
  reply_json (msg, SOUP_STATUS_OK,
      "{\"offset\": " +
          std::to_string (std::max<gint64> (0, file_size (part))) + "}");
}

/* {"sha256": HEX}: the whole result has arrived; deliver it. */
void
deliver_worker_result (Server *s, SoupServerMessage *msg, const RouteMatch &m)
{
  JsonNodePtr node;
  JsonObject *o = body_object (msg, &node);
  if (!o)
    return;
  std::string sha = Json::optional_string (o, "sha256", kRequest);
  if (sha.size () != 64 ||
      sha.find_first_not_of ("0123456789abcdef") != std::string::npos) {
    reply_error (msg, SOUP_STATUS_BAD_REQUEST,
        "sha256 must be the result's SHA-256 in lowercase hex.");
    return;
  }
  const std::string &jid = m.param ("job");
  long attempt = attempt_of (m);
  if (!valid_job_id (jid) || attempt < 1) {
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "There is no such job.");
    return;
  }
  std::string why;
  switch (s->remote->deliver (jid, attempt, sha, &why)) {
    case RemoteJobQueue::Attempt::current:
      reply_json (msg, SOUP_STATUS_OK, "{\"delivered\": true}");
      break;
    case RemoteJobQueue::Attempt::delivered:
      reply_json (
          msg, SOUP_STATUS_OK, "{\"delivered\": true, \"duplicate\": true}");
      break;
    case RemoteJobQueue::Attempt::stale:
      reply_error (msg, SOUP_STATUS_CONFLICT, why);
      break;
    case RemoteJobQueue::Attempt::unknown:
      reply_error (msg, SOUP_STATUS_NOT_FOUND, why);
      break;
    case RemoteJobQueue::Attempt::mismatch:
      reply_error (msg, (guint) 422, why);
      break;
    default:
      reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, why);
      break;
  }
}

} // namespace studio

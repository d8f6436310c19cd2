/* ganvoice-studio: HTTP helpers (see http.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "http.h"

#include "common.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <unistd.h>

namespace studio {

RequestCtx::~RequestCtx ()
{
  if (fd >= 0)
    close (fd);
  if (writing && !upload_id.empty ())
    writing->erase (upload_id);
}

RequestCtx *
request_ctx (SoupServerMessage *msg)
{
  return (RequestCtx *) g_object_get_data (G_OBJECT (msg), "studio-ctx");
}

namespace {

/* A piece of the request body: into the upload's file once the early step
 * opened one, else into ctx->body (past kMaxJsonBody it is dropped and the
 * request marked too large). */
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

} // namespace

RequestCtx *
collect_body (SoupServerMessage *msg)
{
  RequestCtx *ctx = new RequestCtx;
  g_object_set_data_full (G_OBJECT (msg), "studio-ctx", ctx,
      [] (gpointer p) { delete (RequestCtx *) p; });
  soup_message_body_set_accumulate (
      soup_server_message_get_request_body (msg), FALSE);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (on_body_chunk), ctx);
  return ctx;
}

/* ---- answers ---------------------------------------------------------- */

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
    const std::string &download_name)
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

/* ---- requests --------------------------------------------------------- */

JsonObject *
body_object (SoupServerMessage *msg, JsonNodePtr *node)
{
  RequestCtx *ctx = request_ctx (msg);
  std::string body = ctx ? ctx->body : "";
  if (ctx && ctx->too_large) {
    reply_error (
        msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "The request is too large.");
    return nullptr;
  }
  if (body.empty ())
    body = "{}";
  std::string err;
  node->reset (parse_json (body, &err));
  if (!*node || !JSON_NODE_HOLDS_OBJECT (node->get ())) {
    node->reset ();
    reply_error (msg, SOUP_STATUS_BAD_REQUEST,
        err.empty () ? "The request must be a JSON object." : err);
    return nullptr;
  }
  return json_node_get_object (node->get ());
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

} // namespace studio

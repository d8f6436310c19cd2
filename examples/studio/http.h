/* ganvoice-studio: HTTP helpers: answers (JSON, errors, files with ranges),
 * the request body, and names from requests.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <memory>
#include <set>
#include <string>

namespace studio {

/* The largest JSON request body. */
const gint64 kMaxJsonBody = 1024 * 1024;

/* Per-request state attached to the SoupServerMessage ("studio-ctx") by the
 * early dispatcher, for requests with a body. */
struct RequestCtx {
  std::string body; /* collected request body (bounded) */
  bool too_large = false;
  /* A chunk being streamed into an upload. */
  int fd = -1;
  std::string upload_id;
  gint64 offset = 0, expected = 0, written = 0;
  bool write_failed = false;
  std::set<std::string> *writing = nullptr; /* Server::writing */
  ~RequestCtx ();
};

/* The message's RequestCtx, or nullptr. */
RequestCtx *request_ctx (SoupServerMessage *msg);
/* Attaches a fresh RequestCtx to @msg and collects its body into it: into
 * ctx->body, or into ctx->fd once that is set. */
RequestCtx *collect_body (SoupServerMessage *msg);

/* The headers every answer has. */
void common_headers (SoupServerMessage *msg);
void reply_json (SoupServerMessage *msg, guint status, const std::string &json);
/* {"error": MESSAGE} */
void reply_error (
    SoupServerMessage *msg, guint status, const std::string &message);
/* The Content-Type for a file name. */
const char *mime_for (const std::string &name);
/* Serves a file, honouring a single byte range (RFC 9110); with
 * @download_name, as an attachment of that name. */
void serve_file (SoupServerMessage *msg, const std::string &path,
    const char *type, const std::string &download_name = "");

struct JsonNodeUnref {
  void operator() (JsonNode *n) const
  {
    json_node_unref (n);
  }
};
using JsonNodePtr = std::unique_ptr<JsonNode, JsonNodeUnref>;

/* The request body as a JSON object (an empty body reads as {}), kept alive
 * by @node; nullptr after answering 400 or 413. */
JsonObject *body_object (SoupServerMessage *msg, JsonNodePtr *node);

/* A name from a request: valid UTF-8, no control characters, at most
 * @max_chars characters. */
std::string clean_name (const std::string &in, size_t max_chars);

} // namespace studio

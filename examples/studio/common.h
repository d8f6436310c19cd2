/* ganvoice-studio: shared helpers (configuration, IDs, tokens, JSON, files).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "runtime/json-fields.h" /* the library's, header-only */

#include <glib.h>
#include <json-glib/json-glib.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace studio {

struct Config {
  std::string address = "127.0.0.1";
  int port = 8800;
  std::string data_dir; /* default: ./studio-data */
  std::string web_dir; /* the page: examples/studio/web */
  std::string dub_command; /* ganvoice-dub */
  std::string worker_command; /* ganvoice-studio-worker */
  std::string acoustic_card; /* model card with the built-in voices */
  std::string plugin_dir; /* prepended to GST_PLUGIN_PATH for workers */
  std::string prompts_dir; /* "Read to me" sentence lists (see reading.h) */
  gint64 max_upload_bytes = 2LL * 1024 * 1024 * 1024;
  gint64 max_chunk_bytes = 8LL * 1024 * 1024;
  gint64 max_subtitle_bytes = 8LL * 1024 * 1024;
  gint64 max_recording_bytes = 64LL * 1024 * 1024;
  int max_uploads_per_project = 64;
  int max_projects = 10000;
  int jobs = 1; /* render jobs at once */
  int helpers = 2; /* probe/preview/peaks workers at once */
  int job_timeout_s = 3 * 3600;
  int helper_timeout_s = 120;
  int idle_timeout_s = 60; /* per connection, between reads/writes */
  /* Deep-clone trainings ("Read to me"): the most a request may ask for. */
  double train_seconds = 480; /* training seconds, across resumes */
  int train_steps = 2000;
  int train_threads = 0; /* LibTorch threads of the training worker */
  int train_stall_s = 900; /* a worker silent this long is stopped */
  /* The job queue: "sqlite:PATH" (the database, local render processes) or
   * postgresql://… (ganvoice-worker on other machines). */
  std::string queue = "";
  std::string worker_token_hash; /* SHA-256 of the workers' token */
  double queue_poll_s = 5;
  double queue_listen_retry_s = 10;
  int max_attempts = 3;
  double retry_delay_s = 30;
  double chunk_target_s = 90; /* a split render's parts (postgresql) */
  /* The clean-up (owners.cpp): projects unused this many days go, and the
   * least recently used ones while the data is over the quota (0: no
   * limit for either). */
  int keep_days = 30;
  gint64 max_disk_bytes = 0;
};

/* A fresh random ID: 16 lowercase hex digits from the system's CSPRNG. */
std::string new_id ();
/* A project token: 48 hex digits. */
std::string new_token ();
/* SHA-256 hex of a token, which is what the database keeps. */
std::string hash_token (const std::string &token);
/* Constant-time comparison. */
bool same_secret (const std::string &a, const std::string &b);
/* True for IDs that new_id() could have made (anything else is a 404). */
bool valid_id (const std::string &s);
/* A job id as the queue hands it to workers: a render's (16 hex digits), or
 * a chunk's (the render's, then -cN). */
bool valid_job_id (const std::string &id);

gint64 now_s ();

/* Files. */
bool make_dirs (const std::string &path);
gint64 file_size (const std::string &path); /* -1 if missing */
bool file_exists (const std::string &path);
bool read_file (const std::string &path, std::string *out, gint64 max_bytes);
/* Writes PATH.tmpXXXXXX then renames it over PATH. */
bool write_file_atomic (const std::string &path, const std::string &data);
void remove_tree (const std::string &path);
/* Removes the half-written files of @path (PATH.part*) beside it. */
void remove_partial_files (const std::string &path);
/* The SHA-256 of a file's content, in hex; "" when it cannot be read. */
std::string file_sha256 (const std::string &path);

/* JSON. */
std::string json_quote (const std::string &s);
std::string to_json (JsonNode *node); /* does not take ownership */
JsonNode *parse_json (const std::string &text, std::string *error);

/* A JSON field of the wrong type, in a request or in a helper's answer: a
 * sentence for the page ("The request: "size" must be a number."). A route
 * handler that throws it answers 400 with it. */
struct JsonError : std::runtime_error {
  explicit JsonError (const std::string &what) : std::runtime_error (what + ".")
  {
  }
};
struct StudioJsonTraits {
  using Error = JsonError;
  static constexpr const char *kDocument = "the JSON object";
};
/* Typed reads of JSON fields, e.g.
 * Json::optional_string (o, "lang", kRequest). */
using Json = ganvoice::JsonFields<StudioJsonTraits>;
/* The origin of a request's fields in Json's messages. */
const char *const kRequest = "The request";

/* Message from a worker process whose stdout is one JSON object. */
struct WorkerResult {
  bool ok = false;
  int exit_status = -1;
  std::string error; /* plain words, for the page */
  std::string code; /* machine-readable error code, e.g. "unavailable" */
  JsonNode *result = nullptr; /* the parsed object when ok (owned) */
  WorkerResult () = default;
  WorkerResult (const WorkerResult &) = delete;
  WorkerResult &operator= (const WorkerResult &) = delete;
  ~WorkerResult ()
  {
    if (result)
      json_node_unref (result);
  }
};

} // namespace studio

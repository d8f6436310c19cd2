/* ganvoice-worker: renders the jobs of a ganvoice-studio whose queue is in
 * PostgreSQL, on any machine that reaches the database and the studio.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   ganvoice-worker --queue postgresql://… --studio http://studio:8800
 *                   --token-file FILE [--models SHA256SUMS]
 *
 * It claims a job (SELECT … FOR UPDATE SKIP LOCKED: the next attempt and a
 * lease), fetches its inputs from the studio over HTTP (resuming with range
 * requests; each checked by size and SHA-256), runs `ganvoice-dub --json`
 * in a child process (LocalJobQueue, as the studio does on its own machine),
 * writes its progress, warnings and cue reports as events in the queue, and
 * sends the result to the studio with its attempt and checksum. A thread of
 * its own extends the lease while the job runs (a busy child cannot starve
 * it); when the attempt is no longer current (another worker took the job
 * after the lease ran out, or it was cancelled) the child is stopped. A
 * failed render goes back to the queue with a back-off, or fails for good
 * after the last attempt. Waits on LISTEN ganvoice_jobs and polls. */
#include "jobqueue.h"
#include "pg.h"

#include <glib-unix.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <cstdarg>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

#ifndef STUDIO_BUILD_DIR
#define STUDIO_BUILD_DIR ""
#endif

namespace studio {
namespace {

struct Options {
  std::string queue, studio, token, dub, name, work_dir, models, plugin_dir;
  double lease_s = 60, poll_s = 5, listen_retry_s = 10;
  double http_patience_s = 600; /* how long the studio may be unreachable */
  int job_timeout_s = 3 * 3600;
};

void say (const char *format, ...) G_GNUC_PRINTF (1, 2);

void
say (const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  gchar *s = g_strdup_vprintf (format, ap);
  va_end (ap);
  fprintf (stderr, "ganvoice-worker: %s\n", s);
  fflush (stderr);
  g_free (s);
}

/* Checks the files of a sha256sum manifest (paths relative to it). */
bool
check_models (const std::string &manifest, std::string *error, int *count)
{
  std::string text;
  if (!read_file (manifest, &text, 1 << 20)) {
    *error = manifest + ": cannot read the model checksums";
    return false;
  }
  gchar *dir = g_path_get_dirname (manifest.c_str ());
  std::string base = dir;
  g_free (dir);
  *count = 0;
  gchar **lines = g_strsplit (text.c_str (), "\n", -1);
  bool ok = true;
  for (gchar **l = lines; ok && *l; l++) {
    std::string line = g_strstrip (*l);
    if (line.empty () || line[0] == '#')
      continue;
    size_t sp = line.find (' ');
    if (sp != 64 || line.find_first_not_of ("0123456789abcdef") != 64) {
      *error = manifest + ": not a sha256sum line: " + line;
      ok = false;
      break;
    }
    std::string want = line.substr (0, 64);
    std::string rel = line.substr (line.find_first_not_of (" *", sp));
    std::string path =
        g_path_is_absolute (rel.c_str ()) ? rel : base + "/" + rel;
    std::string have = file_sha256 (path);
    if (have.empty ()) {
      *error = path + ": model file missing or unreadable";
      ok = false;
    } else if (have != want) {
      *error = path + ": the model weights differ from " + manifest +
          " (SHA-256 " + have + ", expected " + want + ")";
      ok = false;
    }
    (*count)++;
  }
  g_strfreev (lines);
  if (ok && *count == 0) {
    *error = manifest + ": lists no model files";
    ok = false;
  }
  return ok;
}

class Worker : public JobListener {
public:
  explicit Worker (Options o)
      : o_ (std::move (o)), pg_ (o_.queue, "ganvoice-worker " + o_.name),
        listen_ (
            o_.queue, "ganvoice-worker-listen " + o_.name, "ganvoice_jobs",
            o_.listen_retry_s, o_.poll_s, [this] () { try_claim (); },
            [] (const std::string &why) { say ("%s", why.c_str ()); }),
        beat_pg_ (o_.queue, "ganvoice-worker-heartbeat " + o_.name)
  {
  }

  ~Worker () override
  {
    {
      std::lock_guard<std::mutex> lock (mu_);
      quit_beat_ = true;
    }
    cv_.notify_all ();
    if (beat_.joinable ())
      beat_.join ();
    local_.reset ();
    if (http_)
      g_object_unref (http_);
  }

  bool start (std::string *error)
  {
    if (!pg_create_schema (pg_, error))
      return false;
    std::vector<std::string> env;
    if (!o_.plugin_dir.empty ()) {
      const char *old = g_getenv ("GST_PLUGIN_PATH_1_0");
      env.push_back ("GST_PLUGIN_PATH_1_0=" + o_.plugin_dir +
          (old ? std::string (":") + old : ""));
    }
    if (!o_.models.empty ()) {
      gchar *dir = g_path_get_dirname (o_.models.c_str ());
      env.push_back (std::string ("GANVOICE_MODEL_DIR=") + dir);
      g_free (dir);
    }
    local_ = make_local_job_queue (o_.dub, env, 1, o_.job_timeout_s);
    local_->set_listener (this);
    http_ = soup_session_new_with_options ("timeout", 60, "user-agent",
        "ganvoice-worker/" GANVOICE_VERSION, nullptr);
    loop_ = g_main_loop_new (nullptr, FALSE);
    listen_.start ();
    g_timeout_add ((guint) std::max (50.0, o_.poll_s * 1000), on_poll, this);
    g_unix_signal_add (SIGTERM, on_stop, this);
    g_unix_signal_add (SIGINT, on_stop, this);
    beat_ = std::thread ([this] () { heartbeats (); });
    /* A first look at once (on_poll repeats: not as an idle source, which
     * would spin). */
    g_idle_add (
        [] (gpointer data) -> gboolean {
          on_poll (data);
          return G_SOURCE_REMOVE;
        },
        this);
    return true;
  }

  void run ()
  {
    g_main_loop_run (loop_);
  }

  /* ---- JobListener: the local render ---- */

  void job_started (const std::string &) override
  {
  }

  void job_progress (const std::string &, const JobProgress &p) override
  {
    gint64 now = g_get_monotonic_time ();
    if (p.percent < 100 && now - last_progress_ < G_USEC_PER_SEC / 4)
      return;
    last_progress_ = now;
    event ("progress", progress_json (p));
  }

  void job_warning (const std::string &, const std::string &message) override
  {
    event ("warning", "{\"message\": " + json_quote (message) + "}");
  }

  void job_fit (const std::string &, const CueFit &fit) override
  {
    event ("fit", fit_json (fit));
  }

  void job_finished (
      const std::string &id, bool ok, const std::string &error) override
  {
    /* A finished result is offered even when the lease was lost: the
     * studio takes it only from the current attempt. */
    if (ok) {
      deliver (id, output_);
    } else if (is_lost ()) {
      say ("job %s attempt %ld: the attempt is no longer current (another "
           "worker has the job, or it was cancelled); stopped",
          id.c_str (), attempt_);
    } else if (stopping_) {
      std::string err;
      pg_.exec (
          pgsql::kRelease, { id, std::to_string (attempt_) }, nullptr, &err);
      say ("job %s attempt %ld: given back to the queue (stopping)",
          id.c_str (), attempt_);
    } else {
      fail (error);
    }
    end_job ();
  }

private:
  /* ---- the queue ---- */

  static gboolean on_poll (gpointer data)
  {
    Worker *w = (Worker *) data;
    if (!w->stopping_)
      w->listen_.again ();
    w->try_claim ();
    return G_SOURCE_CONTINUE;
  }

  static gboolean on_stop (gpointer data)
  {
    Worker *w = (Worker *) data;
    w->stopping_ = true;
    if (w->busy_)
      w->local_->cancel (w->job_id_); /* job_finished gives it back */
    else
      g_main_loop_quit (w->loop_);
    return G_SOURCE_CONTINUE;
  }

  void try_claim ()
  {
    if (busy_ || stopping_)
      return;
    std::string error;
    std::vector<PgRow> rows;
    if (!pg_.exec (pgsql::kExpire, {}, nullptr, &error) ||
        !pg_.exec (
            pgsql::kClaim, { o_.name, number (o_.lease_s) }, &rows, &error)) {
      if (error != last_error_)
        say ("%s", error.c_str ());
      last_error_ = error;
      return;
    }
    last_error_.clear ();
    if (rows.empty ())
      return;
    PgRow &job = rows[0];
    busy_ = true;
    job_id_ = job["id"];
    attempt_ = (long) g_ascii_strtoll (job["attempt"].c_str (), nullptr, 10);
    {
      std::lock_guard<std::mutex> lock (mu_);
      beat_id_ = job_id_;
      beat_attempt_ = attempt_;
      lost_ = false;
    }
    cv_.notify_all ();
    say ("job %s: attempt %ld of %s (%s)", job_id_.c_str (), attempt_,
        job["max_attempts"].c_str (), job["kind"].c_str ());
    if (job["kind"] != "render" && job["kind"] != "chunk") {
      fail ("This worker cannot do jobs of kind \"" + job["kind"] + "\".");
      end_job ();
      return;
    }
    std::string why;
    RenderJob rj;
    if (!prepare (job["spec"], &rj, &why)) {
      if (is_lost ())
        say ("job %s attempt %ld: no longer current; stopped", job_id_.c_str (),
            attempt_);
      else
        fail (why);
      end_job ();
      return;
    }
    output_ = rj.output;
    last_progress_ = 0;
    local_->submit (rj);
  }

  void end_job ()
  {
    {
      std::lock_guard<std::mutex> lock (mu_);
      beat_id_.clear ();
      beat_attempt_ = 0;
    }
    if (!dir_.empty ())
      remove_tree (dir_);
    dir_.clear ();
    busy_ = false;
    if (stopping_)
      g_main_loop_quit (loop_);
    else
      g_idle_add (
          [] (gpointer data) -> gboolean {
            ((Worker *) data)->try_claim ();
            return G_SOURCE_REMOVE;
          },
          this);
  }

  /* An event of the current attempt (none once it is stale). */
  void event (const char *type, const std::string &data)
  {
    std::string error;
    if (!pg_.exec (pgsql::kEvent,
            { job_id_, std::to_string (attempt_), type, data }, nullptr,
            &error))
      say ("job %s: an event was lost: %s", job_id_.c_str (), error.c_str ());
  }

  void fail (const std::string &error)
  {
    std::vector<PgRow> rows;
    std::string err;
    if (!pg_.exec (pgsql::kFail, { job_id_, std::to_string (attempt_), error },
            &rows, &err)) {
      say ("job %s: cannot record its failure (%s); its lease will run out",
          job_id_.c_str (), err.c_str ());
      return;
    }
    if (rows.empty ())
      say ("job %s attempt %ld failed (%s), and is no longer current",
          job_id_.c_str (), attempt_, error.c_str ());
    else
      say ("job %s attempt %ld failed: %s -> %s", job_id_.c_str (), attempt_,
          error.c_str (),
          rows[0]["state"] == "failed"
              ? "failed for good"
              : ("again in " + rows[0]["delay"] + " s").c_str ());
  }

  /* ---- the lease ---- */

  bool is_lost ()
  {
    std::lock_guard<std::mutex> lock (mu_);
    return lost_;
  }

  /* Its own thread and connection: extends the lease every third of it; a
   * stale attempt stops the render. */
  void heartbeats ()
  {
    std::unique_lock<std::mutex> lock (mu_);
    while (!quit_beat_) {
      cv_.wait_for (
          lock, std::chrono::milliseconds ((long) (o_.lease_s * 1000 / 3)));
      if (quit_beat_ || beat_id_.empty () || lost_)
        continue;
      std::string id = beat_id_, attempt = std::to_string (beat_attempt_);
      lock.unlock ();
      std::vector<PgRow> rows;
      std::string error;
      bool ok = beat_pg_.exec (pgsql::kHeartbeat,
          { id, attempt, number (o_.lease_s) }, &rows, &error);
      lock.lock ();
      if (!ok) {
        say ("job %s: heartbeat failed: %s", id.c_str (), error.c_str ());
      } else if (rows.empty () && beat_id_ == id &&
          std::to_string (beat_attempt_) == attempt) {
        lost_ = true;
        g_main_context_invoke (
            nullptr,
            [] (gpointer data) -> gboolean {
              Worker *w = (Worker *) data;
              /* Still this job (lost_ is reset by a claim), and not yet
               * rendered: ganvoice-dub renames its output only at the end. */
              if (w->busy_ && w->is_lost () && !file_exists (w->output_))
                w->local_->cancel (w->job_id_);
              return G_SOURCE_REMOVE;
            },
            this);
      }
    }
  }

  /* ---- HTTP ---- */

  std::string job_url (const std::string &tail)
  {
    std::string base = o_.studio;
    while (!base.empty () && base.back () == '/')
      base.pop_back ();
    return base + "/api/worker/jobs/" + job_id_ + tail;
  }

  SoupMessage *request (const char *method, const std::string &url)
  {
    SoupMessage *m = soup_message_new (method, url.c_str ());
    SoupMessageHeaders *h = soup_message_get_request_headers (m);
    soup_message_headers_replace (
        h, "Authorization", ("Bearer " + o_.token).c_str ());
    /* A connection kept from an earlier job may have been closed by the
     * studio (or a proxy) meanwhile: one per request. */
    soup_message_headers_replace (h, "Connection", "close");
    return m;
  }

  /* Waits before trying the studio again; false when patience ran out or
   * the attempt is over. */
  bool backoff (gint64 since, int *round, const std::string &what)
  {
    if (is_lost () || stopping_)
      return false;
    if (g_get_monotonic_time () - since >
        (gint64) (o_.http_patience_s * G_USEC_PER_SEC))
      return false;
    double wait = std::min (10.0, 0.25 * (1 << std::min (*round, 6)));
    if (*round == 0)
      say ("job %s: %s; trying again", job_id_.c_str (), what.c_str ());
    (*round)++;
    g_usleep ((gulong) (wait * G_USEC_PER_SEC));
    return true;
  }

  /* Fetches input @name into @path (size and SHA-256 checked), resuming a
   * part already there. */
  bool fetch (const std::string &name, const std::string &path, gint64 size,
      const std::string &sha256, std::string *why)
  {
    std::string part = path + ".part";
    gint64 start = g_get_monotonic_time ();
    int round = 0, mismatches = 0;
    for (;;) {
      gint64 have = std::max<gint64> (0, file_size (part));
      if (have == size) {
        if (file_sha256 (part) == sha256 &&
            g_rename (part.c_str (), path.c_str ()) == 0)
          return true;
        g_unlink (part.c_str ());
        if (++mismatches > 1) {
          *why = "The input " + name + " arrived damaged twice (checksum).";
          return false;
        }
        continue;
      }
      if (have > size)
        g_unlink (part.c_str ()), have = 0;
      SoupMessage *m = request ("GET",
          job_url ("/files/" + name + "?attempt=" + std::to_string (attempt_)));
      if (have > 0)
        soup_message_headers_set_range (
            soup_message_get_request_headers (m), have, -1);
      GError *err = nullptr;
      GInputStream *in = soup_session_send (http_, m, nullptr, &err);
      guint status = soup_message_get_status (m);
      std::string problem;
      if (!in) {
        problem = std::string ("cannot reach the studio: ") + err->message;
        g_clear_error (&err);
      } else if (status == SOUP_STATUS_OK ||
          status == SOUP_STATUS_PARTIAL_CONTENT) {
        int fd = open (part.c_str (),
            O_WRONLY | O_CREAT | O_CLOEXEC |
                (status == SOUP_STATUS_OK ? O_TRUNC : O_APPEND),
            0600);
        if (fd < 0) {
          *why = "The worker cannot write " + part + ".";
          g_object_unref (in);
          g_object_unref (m);
          return false;
        }
        char buf[65536];
        gssize n;
        bool wrote = true;
        while (
            (n = g_input_stream_read (in, buf, sizeof buf, nullptr, &err)) > 0)
          if (write (fd, buf, (size_t) n) != n) {
            wrote = false;
            break;
          }
        close (fd);
        if (!wrote) {
          *why = "The worker cannot write " + part + " (is its disk full?).";
          g_object_unref (in);
          g_object_unref (m);
          return false;
        }
        if (n < 0) {
          problem = std::string ("the download of ") + name +
              " broke off: " + err->message;
          g_clear_error (&err);
        }
      } else if (status == SOUP_STATUS_CONFLICT) {
        std::lock_guard<std::mutex> lock (mu_);
        lost_ = true;
      } else if (status >= 500 ||
          status == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE) {
        if (status == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE)
          g_unlink (part.c_str ());
        problem = "the studio answered " + std::to_string (status);
      } else {
        *why = "The studio refused the input " + name + " (HTTP " +
            std::to_string (status) + ").";
      }
      if (in)
        g_object_unref (in);
      g_object_unref (m);
      if (is_lost ())
        return false;
      if (!why->empty ())
        return false;
      if (!problem.empty () && !backoff (start, &round, problem)) {
        *why = "The inputs could not be fetched from the studio (" + problem +
            ").";
        return false;
      }
    }
  }

  /* The job's spec, its inputs fetched into a directory of its own. */
  bool prepare (const std::string &spec, RenderJob *rj, std::string *why)
  {
    JsonNodePtr n (parse_json (spec, why));
    if (!n || !JSON_NODE_HOLDS_OBJECT (n.get ())) {
      *why = "The job's spec is not a JSON object.";
      return false;
    }
    JsonObject *o = json_node_get_object (n.get ());
    const char *origin = "The job's spec";
    dir_ = o_.work_dir + "/" + job_id_ + "-a" + std::to_string (attempt_);
    remove_tree (dir_);
    if (!make_dirs (dir_)) {
      *why = "The worker cannot create " + dir_ + ".";
      return false;
    }
    try {
      std::map<std::string, std::string> local;
      JsonArray *files = json_object_has_member (o, "files")
          ? json_object_get_array_member (o, "files")
          : nullptr;
      for (guint i = 0; files && i < json_array_get_length (files); i++) {
        JsonObject *f = json_array_get_object_element (files, i);
        std::string name = Json::optional_string (f, "name", origin);
        std::string file = Json::optional_string (f, "file", origin);
        if (name.empty () || file.empty () ||
            file.find ('/') != std::string::npos || file[0] == '.' ||
            !valid_name (name)) {
          *why = "The job's spec names an input badly.";
          return false;
        }
        std::string path = dir_ + "/" + file;
        if (!fetch (name, path, Json::optional_integer (f, "size", origin, 0),
                Json::optional_string (f, "sha256", origin), why))
          return false;
        local[name] = path;
      }
      /* A chunk of a split render: its programme audio, never the video
       * (ganvoice-dub --chunk; docs/dubbing.md). */
      rj->chunk = Json::optional_string (o, "chunk", origin);
      const char *input = rj->chunk.empty () ? "video" : "programme";
      if (!local.count (input) || !local.count ("subtitles")) {
        *why = std::string ("The job's spec lacks the ") + input +
            " or the subtitles.";
        return false;
      }
      if (!rj->chunk.empty () &&
          (rj->chunk.size () > 40 ||
              rj->chunk.find_first_not_of ("0123456789:end") !=
                  std::string::npos)) {
        *why = "The job's chunk range is not START:END.";
        return false;
      }
      rj->id = job_id_;
      rj->input = local[input];
      rj->subtitles = local["subtitles"];
      std::string out = rj->chunk.empty ()
          ? Json::optional_string (o, "output", origin, "out.mkv")
          : "chunk.wav";
      if (out.find ('/') != std::string::npos || out[0] == '.')
        out = "out.mkv";
      rj->output = dir_ + "/" + out;
      rj->log_path = dir_ + "/dub.log";
      rj->mode = Json::optional_string (o, "mode", origin);
      rj->language = Json::optional_string (o, "lang", origin);
      rj->overflow = Json::optional_string (o, "overflow", origin);
      rj->provenance = Json::optional_string (o, "provenance", origin);
      JsonArray *voices = json_object_has_member (o, "voices")
          ? json_object_get_array_member (o, "voices")
          : nullptr;
      for (guint i = 0; voices && i < json_array_get_length (voices); i++) {
        JsonObject *v = json_array_get_object_element (voices, i);
        std::string speaker = Json::optional_string (v, "speaker", origin);
        std::string voice = Json::optional_string (v, "voice", origin);
        if (!voice.empty () && voice[0] == '@') {
          if (!local.count (voice.substr (1))) {
            *why = "The job's voice profile " + voice +
                " is not among its inputs.";
            return false;
          }
          voice = local[voice.substr (1)];
        }
        rj->voices.push_back (speaker.empty () ? voice : speaker + "=" + voice);
      }
    } catch (const JsonError &e) {
      *why = e.what ();
      return false;
    }
    return true;
  }

  static bool valid_name (const std::string &s)
  {
    return !s.empty () && s.size () < 64 &&
        s.find_first_not_of ("abcdefghijklmnopqrstuvwxyz0123456789-") ==
        std::string::npos;
  }

  /* Sends the result in chunks, then delivers it with its checksum. */
  void deliver (const std::string &id, const std::string &path)
  {
    std::string sha = file_sha256 (path);
    gint64 size = file_size (path);
    gint64 start = g_get_monotonic_time ();
    int round = 0, resends = 0;
    gint64 offset = 0;
    const gint64 chunk = 4 * 1024 * 1024;
    std::string attempt = std::to_string (attempt_);
    int fd = open (path.c_str (), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || sha.empty ()) {
      if (fd >= 0)
        close (fd);
      fail ("The worker cannot read the result it rendered.");
      return;
    }
    std::vector<char> buf ((size_t) chunk);
    bool sent = false;
    for (;;) {
      std::string problem;
      SoupMessage *m;
      if (!sent) {
        gint64 len = std::min (chunk, size - offset);
        ssize_t got = pread (fd, buf.data (), (size_t) len, offset);
        if (got != len) {
          close (fd);
          fail ("The worker cannot read the result it rendered.");
          return;
        }
        m = request ("PUT",
            job_url ("/result?attempt=" + attempt +
                "&offset=" + std::to_string (offset)));
        GBytes *body = g_bytes_new (buf.data (), (gsize) len);
        soup_message_set_request_body_from_bytes (
            m, "application/octet-stream", body);
        g_bytes_unref (body);
      } else {
        m = request ("POST", job_url ("/result?attempt=" + attempt));
        std::string json = "{\"sha256\": \"" + sha + "\"}";
        GBytes *body = g_bytes_new (json.data (), json.size ());
        soup_message_set_request_body_from_bytes (m, "application/json", body);
        g_bytes_unref (body);
      }
      GError *err = nullptr;
      GBytes *answer = soup_session_send_and_read (http_, m, nullptr, &err);
      guint status = soup_message_get_status (m);
      std::string text;
      if (answer) {
        gsize len = 0;
        const char *d = (const char *) g_bytes_get_data (answer, &len);
        text.assign (d ? d : "", len);
        g_bytes_unref (answer);
      }
      g_object_unref (m);
      JsonNodePtr reply (text.empty () ? nullptr : parse_json (text, nullptr));
      JsonObject *r = reply && JSON_NODE_HOLDS_OBJECT (reply.get ())
          ? json_node_get_object (reply.get ())
          : nullptr;
      auto member = [&] (const char *k) -> JsonNode * {
        return r && json_object_has_member (r, k)
            ? json_object_get_member (r, k)
            : nullptr;
      };
      std::string message =
          member ("error") && JSON_NODE_HOLDS_VALUE (member ("error"))
          ? json_node_get_string (member ("error"))
          : text;
      if (err) {
        problem = std::string ("cannot reach the studio: ") + err->message;
        g_clear_error (&err);
      } else if (status == SOUP_STATUS_OK && member ("delivered")) {
        say ("job %s attempt %s: delivered%s (%" G_GINT64_FORMAT
             " bytes, SHA-256 %s)",
            id.c_str (), attempt.c_str (),
            member ("duplicate") ? " already" : "", size, sha.c_str ());
        break;
      } else if (status == SOUP_STATUS_OK && member ("offset")) {
        offset = json_node_get_int (member ("offset"));
        sent = offset >= size;
        round = 0;
        continue;
      } else if (status == SOUP_STATUS_CONFLICT && member ("offset")) {
        offset = json_node_get_int (member ("offset"));
        if (offset > size) {
          problem = "the studio holds more than the result";
          offset = 0;
        }
        sent = offset >= size;
        continue;
      } else if (status == SOUP_STATUS_CONFLICT ||
          status == SOUP_STATUS_NOT_FOUND) {
        say ("job %s attempt %s: the studio refused the result: %s",
            id.c_str (), attempt.c_str (), message.c_str ());
        break;
      } else if (status == 422 && ++resends <= 2) {
        offset = 0;
        sent = false;
        continue;
      } else if (status >= 500 || status == SOUP_STATUS_REQUEST_TIMEOUT) {
        problem =
            "the studio answered " + std::to_string (status) + ": " + message;
      } else {
        close (fd);
        fail ("The studio did not take the result (HTTP " +
            std::to_string (status) + ": " + message + ").");
        return;
      }
      if (!backoff (start, &round, problem)) {
        if (!is_lost () && !stopping_)
          fail (
              "The result could not be sent to the studio (" + problem + ").");
        break;
      }
    }
    close (fd);
  }

  static std::string number (double v)
  {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    return g_ascii_dtostr (buf, sizeof buf, v);
  }

  struct JsonNodeUnref {
    void operator() (JsonNode *n) const
    {
      json_node_unref (n);
    }
  };
  using JsonNodePtr = std::unique_ptr<JsonNode, JsonNodeUnref>;

  Options o_;
  PgConn pg_;
  PgListener listen_; /* wakes try_claim() */
  PgConn beat_pg_;
  SoupSession *http_ = nullptr;
  GMainLoop *loop_ = nullptr;
  std::unique_ptr<JobQueue> local_;
  gint64 last_progress_ = 0;
  std::string last_error_;
  /* The job in hand (main thread). */
  bool busy_ = false, stopping_ = false;
  std::string job_id_, dir_, output_;
  long attempt_ = 0;
  /* Shared with the heartbeat thread. */
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread beat_;
  std::string beat_id_;
  long beat_attempt_ = 0;
  bool lost_ = false, quit_beat_ = false;
};

std::string
env_or (const char *name, const std::string &def)
{
  const char *v = g_getenv (name);
  return v && *v ? v : def;
}

} // namespace
} // namespace studio

int
main (int argc, char **argv)
{
  using namespace studio;
  signal (SIGPIPE, SIG_IGN);
  Options o;
  std::string build = STUDIO_BUILD_DIR;
  o.queue = env_or ("GANVOICE_WORKER_QUEUE", "");
  o.studio = env_or ("GANVOICE_WORKER_STUDIO", "");
  std::string token_file = env_or ("GANVOICE_WORKER_TOKEN_FILE", "");
  std::string dub_default =
      build.empty () ? "" : build + "/examples/tools/ganvoice-dub";
  o.dub = env_or ("GANVOICE_WORKER_DUB",
      !dub_default.empty () &&
              g_file_test (dub_default.c_str (), G_FILE_TEST_EXISTS)
          ? dub_default
          : "ganvoice-dub");
  o.plugin_dir = env_or ("GANVOICE_WORKER_PLUGIN_DIR", "");
  o.name = std::string (g_get_host_name ()) + ":" + std::to_string (getpid ());
  o.work_dir = env_or ("GANVOICE_WORKER_DIR", g_get_tmp_dir ());
  gchar *queue = nullptr, *studio_url = nullptr, *token = nullptr,
        *dub = nullptr, *name = nullptr, *work = nullptr, *models = nullptr,
        *plugins = nullptr;
  GOptionEntry entries[] = {
    { "queue", 'q', 0, G_OPTION_ARG_STRING, &queue,
        "The studio's queue, postgresql://… ($GANVOICE_WORKER_QUEUE)", "URL" },
    { "studio", 's', 0, G_OPTION_ARG_STRING, &studio_url,
        "The studio's URL, http://host:port ($GANVOICE_WORKER_STUDIO)", "URL" },
    { "token-file", 't', 0, G_OPTION_ARG_FILENAME, &token,
        "File holding the workers' token ($GANVOICE_WORKER_TOKEN_FILE)",
        "FILE" },
    { "dub", 0, 0, G_OPTION_ARG_FILENAME, &dub,
        "The ganvoice-dub command ($GANVOICE_WORKER_DUB)", "PATH" },
    { "models", 'm', 0, G_OPTION_ARG_FILENAME, &models,
        "sha256sum list of the model files, checked at start; their "
        "directory becomes GANVOICE_MODEL_DIR of the renders",
        "FILE" },
    { "plugin-dir", 0, 0, G_OPTION_ARG_FILENAME, &plugins,
        "GStreamer plugin directory for the renders "
        "($GANVOICE_WORKER_PLUGIN_DIR)",
        "DIR" },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name,
        "This worker's name in the queue (default HOST:PID)", "NAME" },
    { "work-dir", 0, 0, G_OPTION_ARG_FILENAME, &work,
        "Where a job's inputs and result are kept while it runs (default "
        "$TMPDIR; $GANVOICE_WORKER_DIR)",
        "DIR" },
    { "lease", 0, 0, G_OPTION_ARG_DOUBLE, &o.lease_s,
        "Seconds a claim lasts without a heartbeat (default 60; heartbeats "
        "every third of it)",
        "S" },
    { "poll", 0, 0, G_OPTION_ARG_DOUBLE, &o.poll_s,
        "Seconds between looks at the queue besides LISTEN (default 5)", "S" },
    { "listen-retry", 0, 0, G_OPTION_ARG_DOUBLE, &o.listen_retry_s,
        "Seconds before a lost LISTEN connection is made again (default 10)",
        "S" },
    { "studio-patience", 0, 0, G_OPTION_ARG_DOUBLE, &o.http_patience_s,
        "Seconds the studio may be unreachable before the attempt fails "
        "(default 600)",
        "S" },
    { "job-timeout", 0, 0, G_OPTION_ARG_INT, &o.job_timeout_s,
        "Longest render in seconds (default 10800)", "S" },
    { nullptr },
  };
  GOptionContext *ctx =
      g_option_context_new ("- renders for a ganvoice-studio on PostgreSQL");
  g_option_context_add_main_entries (ctx, entries, nullptr);
  GError *err = nullptr;
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    fprintf (stderr, "ganvoice-worker: %s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  auto take = [] (gchar *v, std::string *dst) {
    if (v)
      *dst = v;
    g_free (v);
  };
  take (queue, &o.queue);
  take (studio_url, &o.studio);
  take (token, &token_file);
  take (dub, &o.dub);
  take (name, &o.name);
  take (work, &o.work_dir);
  take (models, &o.models);
  take (plugins, &o.plugin_dir);
  if (!is_postgres_url (o.queue) ||
      !(g_str_has_prefix (o.studio.c_str (), "http://") ||
          g_str_has_prefix (o.studio.c_str (), "https://"))) {
    fprintf (stderr,
        "ganvoice-worker: needs --queue postgresql://… and "
        "--studio http://…\n");
    return 2;
  }
  if (token_file.empty () || !read_file (token_file, &o.token, 4096)) {
    fprintf (stderr,
        "ganvoice-worker: needs the workers' token: --token-file FILE\n");
    return 2;
  }
  while (!o.token.empty () && g_ascii_isspace (o.token.back ()))
    o.token.pop_back ();
  if (!(o.lease_s >= 1) || !(o.poll_s > 0) || !(o.listen_retry_s > 0) ||
      o.job_timeout_s < 1 || o.name.empty () || o.name.size () > 200) {
    fprintf (stderr,
        "ganvoice-worker: --lease must be at least 1 s, "
        "--poll, --listen-retry and --job-timeout above 0, "
        "--name 1 to 200 characters\n");
    return 2;
  }
  if (!o.models.empty ()) {
    std::string error;
    int count = 0;
    if (!check_models (o.models, &error, &count)) {
      fprintf (stderr, "ganvoice-worker: %s\n", error.c_str ());
      return 1;
    }
    say ("%d model files match %s", count, o.models.c_str ());
  }
  if (!make_dirs (o.work_dir)) {
    fprintf (
        stderr, "ganvoice-worker: cannot create %s\n", o.work_dir.c_str ());
    return 1;
  }
  Worker w (o);
  std::string error;
  if (!w.start (&error)) {
    fprintf (stderr, "ganvoice-worker: %s\n", error.c_str ());
    return 1;
  }
  say ("%s: waiting for jobs of %s", o.name.c_str (), o.studio.c_str ());
  w.run ();
  say ("stopped");
  return 0;
}

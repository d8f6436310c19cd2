/* ganvoice-studio: PgJobQueue, the job queue in PostgreSQL for workers on
 * other machines (ganvoice-worker). See pg.h for the tables.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The studio writes a job's row (its spec: the inputs by name, size and
 * checksum, and the choices), reads the events workers write (LISTEN
 * ganvoice_events, and a poll every poll_s because notifications are not
 * durable) and turns them into JobListener calls, fails jobs whose lease
 * expired with no attempts left, and accepts a result only from the job's
 * current attempt. */
#include "jobqueue.h"
#include "pg.h"

#include <glib-unix.h>
#include <glib/gstdio.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace studio {

namespace {

const char *const kSubmit = R"SQL(
INSERT INTO ganvoice_jobs (id, kind, spec, max_attempts, retry_delay)
VALUES ($1, 'render', $2, $3::integer, $4::double precision)
ON CONFLICT (id) DO NOTHING
RETURNING id
)SQL";

const char *const kCancel = R"SQL(
WITH gone AS (
  UPDATE ganvoice_jobs SET state = 'cancelled', error = 'Cancelled.',
         lease_until = NULL, updated = now()
   WHERE id = $1 AND state IN ('queued', 'running')
  RETURNING id, attempt)
INSERT INTO ganvoice_job_events (job, attempt, type, data)
SELECT id, attempt, 'finished', '{"ok": false, "error": "Cancelled."}' FROM gone
RETURNING job
)SQL";

const char *const kDone = R"SQL(
WITH done AS (
  UPDATE ganvoice_jobs SET state = 'done', result_sha256 = $3, error = '',
         lease_until = NULL, updated = now()
   WHERE id = $1 AND attempt = $2::integer AND state = 'running'
  RETURNING id, attempt)
INSERT INTO ganvoice_job_events (job, attempt, type, data)
SELECT id, attempt, 'finished', '{"ok": true}' FROM done
RETURNING job
)SQL";

class PgJobQueue : public RemoteJobQueue {
public:
  explicit PgJobQueue (const PgQueueOptions &o)
      : opt_ (o), pg_ (o.url, "ganvoice-studio"),
        listen_ (o.url, "ganvoice-studio-listen")
  {
  }
  ~PgJobQueue () override
  {
    shutdown ();
  }

  bool start (std::string *error)
  {
    if (!pg_create_schema (pg_, error))
      return false;
    listen ();
    poll_timer_ = g_timeout_add (
        (guint) std::max (50.0, opt_.poll_s * 1000), on_poll, this);
    return true;
  }

  void set_listener (JobListener *l) override
  {
    listener_ = l;
  }

  bool durable () const override
  {
    return true;
  }

  void submit (const RenderJob &job) override
  {
    Tracked t;
    t.job = job;
    std::string spec = make_spec (job, &t.files);
    std::vector<PgRow> rows;
    std::string error;
    bool ok = pg_.exec (kSubmit,
        { job.id, spec, std::to_string (opt_.max_attempts),
            number (opt_.retry_delay_s) },
        &rows, &error);
    jobs_[job.id] = t;
    if (!ok) {
      report_later (job.id, false,
          "The job queue could not take this render (" + error + ").");
      return;
    }
    if (rows.empty ()) {
      /* Submitted again after a restart: it carries on where it is. */
      PgRow r = pg_.one (
          "SELECT state, error FROM ganvoice_jobs WHERE id = $1", { job.id });
      if (r["state"] == "done")
        report_later (job.id, true, "");
      else if (r["state"] == "failed" || r["state"] == "cancelled")
        report_later (job.id, false, r["error"]);
    }
    queued_++;
  }

  bool cancel (const std::string &id) override
  {
    std::vector<PgRow> rows;
    std::string error;
    if (!pg_.exec (kCancel, { id }, &rows, &error)) {
      g_warning ("%s", error.c_str ());
      return false;
    }
    drain ();
    return !rows.empty ();
  }

  size_t running () const override
  {
    return running_;
  }
  size_t queued () const override
  {
    return queued_;
  }

  void shutdown () override
  {
    listener_ = nullptr;
    if (poll_timer_)
      g_source_remove (poll_timer_);
    poll_timer_ = 0;
    if (listen_watch_)
      g_source_remove (listen_watch_);
    listen_watch_ = 0;
    for (guint id : later_)
      g_source_remove (id);
    later_.clear ();
    listen_.close ();
    pg_.close ();
  }

  /* ---- RemoteJobQueue ---- */

  Attempt check_attempt (const std::string &id, long attempt) override
  {
    bool ok = false;
    PgRow r = pg_.one (
        "SELECT state, attempt FROM ganvoice_jobs WHERE id = $1", { id }, &ok);
    if (!ok)
      return Attempt::error;
    if (r.empty ())
      return Attempt::unknown;
    if (r["attempt"] != std::to_string (attempt))
      return Attempt::stale;
    if (r["state"] == "done")
      return Attempt::delivered; /* kept a day after it ended */
    if (r["state"] == "running")
      return jobs_.count (id) ? Attempt::current : Attempt::unknown;
    return Attempt::stale;
  }

  std::string input_path (
      const std::string &id, const std::string &name) override
  {
    auto it = jobs_.find (id);
    if (it == jobs_.end ())
      return "";
    auto f = it->second.files.find (name);
    return f == it->second.files.end () ? "" : f->second;
  }

  std::string part_path (const std::string &id, long attempt) override
  {
    auto it = jobs_.find (id);
    if (it == jobs_.end ())
      return "";
    return it->second.job.output + ".part-a" + std::to_string (attempt);
  }

  Attempt deliver (const std::string &id, long attempt,
      const std::string &sha256, std::string *why) override
  {
    auto it = jobs_.find (id);
    if (it == jobs_.end ()) {
      /* Ended: a second delivery of the result it has is no error. */
      bool ok = false;
      PgRow r = pg_.one ("SELECT state, attempt, result_sha256 FROM "
                         "ganvoice_jobs WHERE id = $1",
          { id }, &ok);
      *why = r.empty () ? "There is no such job." : "This job has ended.";
      if (!ok)
        return Attempt::error;
      if (r.empty ())
        return Attempt::unknown;
      return r["state"] == "done" && r["attempt"] == std::to_string (attempt) &&
              r["result_sha256"] == sha256
          ? Attempt::delivered
          : Attempt::stale;
    }
    const std::string part = part_path (id, attempt);
    const std::string &output = it->second.job.output;
    /* Read before the row is locked: a big file takes a while. */
    const std::string have = file_sha256 (part);
    /* The row is locked from the check to the commit: a claim by another
     * worker waits, then finds the job done. */
    std::string error;
    std::vector<PgRow> rows;
    auto rollback = [&] () {
      std::string ignored;
      pg_.exec ("ROLLBACK", {}, nullptr, &ignored, false);
    };
    if (!pg_.exec ("BEGIN", {}, nullptr, &error) ||
        !pg_.exec ("SELECT state, attempt, result_sha256 FROM ganvoice_jobs "
                   "WHERE id = $1 FOR UPDATE",
            { id }, &rows, &error, false)) {
      rollback ();
      *why = "The job queue is not available (" + error + ").";
      return Attempt::error;
    }
    if (rows.empty ()) {
      rollback ();
      *why = "There is no such job.";
      return Attempt::unknown;
    }
    PgRow r = rows[0];
    const std::string a = std::to_string (attempt);
    if (r["state"] == "done" && r["attempt"] == a &&
        r["result_sha256"] == sha256) {
      rollback ();
      g_unlink (part.c_str ());
      *why = "This result was delivered already.";
      return Attempt::delivered;
    }
    if (r["state"] != "running" || r["attempt"] != a) {
      rollback ();
      g_unlink (part.c_str ());
      *why = "This result is from attempt " + a + ", but the job is " +
          (r["state"] == "running"
                  ? "now on attempt " + r["attempt"]
                  : r["state"] + " (attempt " + r["attempt"] + ")") +
          ".";
      return Attempt::stale;
    }
    if (have != sha256) {
      rollback ();
      g_unlink (part.c_str ());
      *why = have.empty () ? "No result was received for this attempt."
                           : "The result's checksum does not match (received " +
              have + "); send it again.";
      return Attempt::mismatch;
    }
    if (g_rename (part.c_str (), output.c_str ()) != 0) {
      rollback ();
      *why = "The studio cannot store the result.";
      return Attempt::error;
    }
    rows.clear ();
    if (!pg_.exec (kDone, { id, a, sha256 }, &rows, &error, false) ||
        !pg_.exec ("COMMIT", {}, nullptr, &error, false)) {
      rollback ();
      g_unlink (output.c_str ());
      *why = "The job queue is not available (" + error + ").";
      return Attempt::error;
    }
    drain ();
    return Attempt::current;
  }

private:
  struct Tracked {
    RenderJob job;
    std::map<std::string, std::string> files; /* input name -> path */
    long attempt = 0; /* the newest attempt heard of */
  };

  static std::string number (double v)
  {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    return g_ascii_dtostr (buf, sizeof buf, v);
  }

  /* What a worker needs: the inputs (fetched by name over HTTP, checked by
   * size and SHA-256), a profile file for each cloned voice, and the
   * choices. */
  std::string make_spec (
      const RenderJob &job, std::map<std::string, std::string> *files)
  {
    JsonBuilder *b = json_builder_new ();
    json_builder_begin_object (b);
    auto str = [&] (const char *k, const std::string &v) {
      json_builder_set_member_name (b, k);
      json_builder_add_string_value (b, v.c_str ());
    };
    str ("mode", job.mode);
    str ("lang", job.language);
    str ("provenance", job.provenance);
    gchar *out = g_path_get_basename (job.output.c_str ());
    str ("output", out);
    g_free (out);
    json_builder_set_member_name (b, "files");
    json_builder_begin_array (b);
    auto add_file = [&] (const std::string &name, const std::string &path,
                        const std::string &local) {
      (*files)[name] = path;
      json_builder_begin_object (b);
      str ("name", name);
      str ("file", local);
      json_builder_set_member_name (b, "size");
      json_builder_add_int_value (b, std::max<gint64> (0, file_size (path)));
      str ("sha256", checksum (path));
      json_builder_end_object (b);
    };
    add_file ("video", job.input, "video");
    /* The subtitles as they are now: the editor may change edited.ass
     * while the job waits (the spec holds the checksum). A job submitted
     * again after a restart keeps the copy it had. */
    gchar *sub = g_path_get_basename (job.subtitles.c_str ());
    std::string copy = subtitles_copy (job);
    std::string text;
    if (!file_exists (copy) &&
        !(read_file (job.subtitles, &text, 64LL * 1024 * 1024) &&
            write_file_atomic (copy, text)))
      g_warning ("%s: cannot copy the subtitles", copy.c_str ());
    add_file ("subtitles", copy, sub);
    g_free (sub);
    std::vector<std::pair<std::string, std::string> > voices;
    for (const std::string &v : job.voices) {
      size_t eq = v.find ('=');
      std::string speaker, value = v;
      if (eq != std::string::npos && v[0] != '/')
        speaker = v.substr (0, eq), value = v.substr (eq + 1);
      if (!value.empty () && value[0] == '/') {
        std::string name = "voice-" + std::to_string (voices.size ());
        add_file (name, value, name + ".voice");
        value = "@" + name;
      }
      voices.emplace_back (speaker, value);
    }
    json_builder_end_array (b);
    /* "@NAME": the profile in input NAME. */
    json_builder_set_member_name (b, "voices");
    json_builder_begin_array (b);
    for (const auto &sv : voices) {
      json_builder_begin_object (b);
      str ("speaker", sv.first);
      str ("voice", sv.second);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    json_builder_end_object (b);
    JsonNode *root = json_builder_get_root (b);
    std::string s = to_json (root);
    json_node_unref (root);
    g_object_unref (b);
    return s;
  }

  static std::string subtitles_copy (const RenderJob &job)
  {
    return job.output + ".subtitles";
  }

  /* Uploads do not change once checked: their checksum is kept. */
  std::string checksum (const std::string &path)
  {
    GStatBuf st;
    if (g_stat (path.c_str (), &st) != 0)
      return "";
    std::string key = path + "\n" + std::to_string ((gint64) st.st_size) +
        "\n" + std::to_string ((gint64) st.st_mtime);
    auto it = checksums_.find (key);
    if (it != checksums_.end ())
      return it->second;
    std::string sum = file_sha256 (path);
    if (checksums_.size () > 1000)
      checksums_.clear ();
    checksums_[key] = sum;
    return sum;
  }

  /* A job found ended when it was submitted again: told from the main
   * loop, as a queue's listener expects. */
  void report_later (const std::string &id, bool ok, const std::string &error)
  {
    struct Later {
      PgJobQueue *q;
      std::string id, error;
      bool ok;
      guint source;
    };
    Later *l = new Later{ this, id, error, ok, 0 };
    l->source = g_idle_add_full (
        G_PRIORITY_DEFAULT_IDLE,
        [] (gpointer data) -> gboolean {
          Later *l = (Later *) data;
          l->q->later_.erase (l->source);
          l->q->finished (l->id, l->ok, l->error);
          return G_SOURCE_REMOVE;
        },
        l, [] (gpointer data) { delete (Later *) data; });
    later_.insert (l->source);
  }

  void finished (const std::string &id, bool ok, const std::string &error)
  {
    auto it = jobs_.find (id);
    if (it == jobs_.end ())
      return;
    if (!ok) {
      /* Nothing half-received stays behind. */
      remove_partial_files (it->second.job.output);
    }
    g_unlink (subtitles_copy (it->second.job).c_str ());
    jobs_.erase (it);
    if (listener_)
      listener_->job_finished (id, ok, error);
  }

  /* ---- events ---- */

  void handle (const PgRow &e)
  {
    const std::string &id = e.at ("job"), &type = e.at ("type");
    long attempt = g_ascii_strtoll (e.at ("attempt").c_str (), nullptr, 10);
    auto it = jobs_.find (id);
    if (it == jobs_.end ())
      return; /* not this studio's, or already ended */
    Tracked &t = it->second;
    if (attempt < t.attempt)
      return; /* from an attempt that lost its lease */
    JsonNode *n = parse_json (e.at ("data"), nullptr);
    JsonObject *o =
        n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : nullptr;
    const char *origin = "A worker's event";
    try {
      if (type == "started") {
        t.attempt = attempt;
        if (listener_)
          listener_->job_started (id);
      } else if (type == "progress" && o) {
        JobProgress p;
        if (read_progress (o, &p) && listener_)
          listener_->job_progress (id, p);
      } else if (type == "warning" && o) {
        if (listener_)
          listener_->job_warning (
              id, Json::optional_string (o, "message", origin));
      } else if (type == "fit" && o) {
        CueFit f;
        if (read_fit (o, &f) && listener_)
          listener_->job_fit (id, f);
      } else if (type == "retry" && o) {
        double delay = Json::optional_number (o, "delay", origin, 0);
        char when[32];
        g_snprintf (when, sizeof when, "%.0f", std::ceil (delay));
        if (listener_)
          listener_->job_warning (id,
              "Attempt " + e.at ("attempt") + " of " +
                  std::to_string (
                      Json::optional_integer (o, "max_attempts", origin, 0)) +
                  " failed: " + Json::optional_string (o, "error", origin) +
                  " Trying again in " + when + " s.");
      } else if (type == "finished" && o) {
        bool ok = o && json_object_has_member (o, "ok") &&
            json_object_get_boolean_member (o, "ok");
        finished (id, ok, Json::optional_string (o, "error", origin));
      }
    } catch (const JsonError &err) {
      g_warning ("%s", err.what ());
    }
    if (n)
      json_node_unref (n);
  }

  /* Reads the events workers wrote, in order, and deletes those read. */
  void drain ()
  {
    if (draining_)
      return;
    draining_ = true;
    for (int round = 0; round < 20; round++) {
      std::vector<PgRow> rows;
      std::string error;
      if (!pg_.exec ("SELECT seq, job, attempt, type, data FROM "
                     "ganvoice_job_events ORDER BY seq LIMIT 500",
              {}, &rows, &error)) {
        g_warning ("%s", error.c_str ());
        break;
      }
      if (rows.empty ())
        break;
      std::string seqs = "{";
      for (const PgRow &e : rows) {
        handle (e);
        seqs += (seqs.size () > 1 ? "," : "") + e.at ("seq");
      }
      seqs += "}";
      if (!pg_.exec ("DELETE FROM ganvoice_job_events WHERE seq = "
                     "ANY($1::bigint[])",
              { seqs }, nullptr, &error)) {
        g_warning ("%s", error.c_str ());
        break;
      }
      if (rows.size () < 500)
        break;
    }
    draining_ = false;
  }

  /* ---- LISTEN, and polling when it is lost ---- */

  void listen ()
  {
    std::string error;
    if (!listen_.connect (&error) ||
        !listen_.exec ("LISTEN ganvoice_events", {}, nullptr, &error, false)) {
      g_warning ("%s; polling every %g s", error.c_str (), opt_.poll_s);
      listen_.close ();
      listen_again_ = g_get_monotonic_time () +
          (gint64) (opt_.listen_retry_s * G_USEC_PER_SEC);
      return;
    }
    listen_watch_ = g_unix_fd_add (listen_.socket (),
        (GIOCondition) (G_IO_IN | G_IO_HUP | G_IO_ERR), on_listen, this);
  }

  static gboolean on_listen (gint, GIOCondition, gpointer data)
  {
    PgJobQueue *q = (PgJobQueue *) data;
    std::vector<std::string> channels;
    if (!q->listen_.take_notifications (&channels)) {
      g_warning ("ganvoice-studio: the job queue's LISTEN connection was "
                 "lost; polling every %g s, listening again in %g s",
          q->opt_.poll_s, q->opt_.listen_retry_s);
      q->listen_watch_ = 0;
      q->listen_.close ();
      q->listen_again_ = g_get_monotonic_time () +
          (gint64) (q->opt_.listen_retry_s * G_USEC_PER_SEC);
      return G_SOURCE_REMOVE;
    }
    if (!channels.empty ())
      q->drain ();
    return G_SOURCE_CONTINUE;
  }

  static gboolean on_poll (gpointer data)
  {
    PgJobQueue *q = (PgJobQueue *) data;
    std::string error;
    if (!q->pg_.exec (pgsql::kExpire, {}, nullptr, &error))
      g_warning ("%s", error.c_str ());
    q->drain ();
    std::vector<PgRow> rows;
    if (q->pg_.exec ("SELECT count(*) FILTER (WHERE state = 'running') AS r, "
                     "count(*) FILTER (WHERE state = 'queued') AS q "
                     "FROM ganvoice_jobs WHERE state IN ('queued', 'running')",
            {}, &rows, &error) &&
        !rows.empty ()) {
      q->running_ =
          (size_t) g_ascii_strtoull (rows[0]["r"].c_str (), nullptr, 10);
      q->queued_ =
          (size_t) g_ascii_strtoull (rows[0]["q"].c_str (), nullptr, 10);
    }
    gint64 now = g_get_monotonic_time ();
    if (now > q->cleaned_ + 600 * G_USEC_PER_SEC) {
      /* Ended jobs are kept a day: a late delivery is still recognised. */
      q->cleaned_ = now;
      q->pg_.exec ("DELETE FROM ganvoice_jobs WHERE state IN ('done', "
                   "'failed', 'cancelled') AND updated < now() - interval "
                   "'1 day'",
          {}, nullptr, &error);
    }
    if (!q->listen_watch_ && now >= q->listen_again_)
      q->listen ();
    return G_SOURCE_CONTINUE;
  }

  PgQueueOptions opt_;
  PgConn pg_, listen_;
  JobListener *listener_ = nullptr;
  std::map<std::string, Tracked> jobs_;
  std::map<std::string, std::string> checksums_;
  std::set<guint> later_;
  guint poll_timer_ = 0, listen_watch_ = 0;
  gint64 listen_again_ = 0, cleaned_ = 0;
  size_t running_ = 0, queued_ = 0;
  bool draining_ = false;
};

} // namespace

std::unique_ptr<RemoteJobQueue>
make_pg_job_queue (const PgQueueOptions &options, std::string *error)
{
  auto q = std::make_unique<PgJobQueue> (options);
  if (!q->start (error))
    return nullptr;
  return q;
}

} // namespace studio

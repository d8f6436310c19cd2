/* ganvoice-studio: PgJobQueue, the job queue in PostgreSQL for workers on
 * other machines (ganvoice-worker). See pg.h for the tables.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The studio writes a job's row (its spec: the inputs by name, size and
 * checksum, and the choices), reads the events workers write (LISTEN
 * ganvoice_events, and a poll every poll_s because notifications are not
 * durable) and turns them into JobListener calls, fails jobs whose lease
 * expired with no attempts left, and accepts a result only from the job's
 * current attempt.
 *
 * A render is split (docs/studio.md, "Several machines"): the studio runs
 * `ganvoice-dub --programme` on the video, which plans the chunks (cut in
 * gaps between cues) and writes each chunk's programme audio; a row of kind
 * assemble (the render's id) waits while one row of kind chunk per chunk
 * (ID-cK) goes to the workers, who fetch only that audio, the subtitles and
 * the voice profiles, and send back the chunk's mix. When every chunk is
 * in, the studio joins them with `ganvoice-dub --assemble` (loudness, the
 * encode and the mux once, on the whole film, with the video that never
 * left it). */
#include "jobqueue.h"
#include "pg.h"

#include <glib/gstdio.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <set>
#include <thread>

namespace studio {

namespace {

struct NodeUnref {
  void operator() (JsonNode *n) const
  {
    json_node_unref (n);
  }
};
using NodeRef = std::unique_ptr<JsonNode, NodeUnref>;

const char *const kSubmit = R"SQL(
INSERT INTO ganvoice_jobs (id, kind, spec, max_attempts, retry_delay)
VALUES ($1, 'render', $2, $3::integer, $4::double precision)
ON CONFLICT (id) DO NOTHING
RETURNING id
)SQL";

const char *const kSubmitSplit = R"SQL(
INSERT INTO ganvoice_jobs (id, kind, state, spec, max_attempts, retry_delay)
VALUES ($1, 'assemble', 'preparing', '{}', 1, 0)
ON CONFLICT (id) DO NOTHING
RETURNING id
)SQL";

const char *const kChunk = R"SQL(
INSERT INTO ganvoice_jobs (id, kind, parent, spec, max_attempts, retry_delay)
VALUES ($1, 'chunk', $2, $3, $4::integer, $5::double precision)
ON CONFLICT (id) DO NOTHING
)SQL";

/* A render and its chunks; the assemble row waits in preparing or waiting,
 * or runs on the studio. */
const char *const kCancel = R"SQL(
WITH gone AS (
  UPDATE ganvoice_jobs SET state = 'cancelled', error = 'Cancelled.',
         lease_until = NULL, updated = now()
   WHERE (id = $1 OR parent = $1)
     AND state IN ('queued', 'running', 'preparing', 'waiting')
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
        listen_ (
            o.url, "ganvoice-studio-listen", "ganvoice_events",
            o.listen_retry_s, o.poll_s, [this] () { drain (); },
            [] (const std::string &why) {
              g_warning ("ganvoice-studio: the job queue: %s", why.c_str ());
            })
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
    assembler_ = make_local_job_queue (
        opt_.dub_command, opt_.env, 2, opt_.job_timeout_s);
    assembly_.q = this;
    assembler_->set_listener (&assembly_);
    listen_.start ();
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
    bool ok = false;
    PgRow r = pg_.one ("SELECT kind, state, spec, error FROM ganvoice_jobs "
                       "WHERE id = $1",
        { job.id }, &ok);
    if (ok && !r.empty () && r["kind"] == "render") {
      submit_whole (job); /* queued whole before an upgrade */
      return;
    }
    Split &sp = splits_[job.id];
    sp.job = job;
    sp.dir = split_dir (job);
    sp.began = g_get_monotonic_time ();
    queued_++;
    std::vector<PgRow> rows;
    std::string error;
    if (!ok ||
        (r.empty () && !pg_.exec (kSubmitSplit, { job.id }, &rows, &error))) {
      report_later (job.id, false,
          "The job queue could not take this render (" +
              (error.empty () ? std::string ("no database") : error) + ").");
      return;
    }
    const std::string state = r.empty () ? "preparing" : r["state"];
    if (state == "preparing")
      prepare (job.id);
    else if (state == "waiting" || state == "running")
      follow_plan (job.id, r["spec"], false);
    else if (state == "done")
      report_later (job.id, true, "");
    else
      report_later (job.id, false, r["error"]);
  }

  void submit_whole (const RenderJob &job)
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
    if (splits_.count (id)) {
      /* Before the chunks' events, which would fail it otherwise. */
      finish_split (id, false, "Cancelled.");
      drain ();
      return true;
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
    alive_->store (false);
    for (auto &kv : splits_)
      stop_programme (kv.second);
    if (assembler_)
      assembler_->shutdown ();
    if (poll_timer_)
      g_source_remove (poll_timer_);
    poll_timer_ = 0;
    for (guint id : later_)
      g_source_remove (id);
    later_.clear ();
    listen_.stop ();
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
      return jobs_.count (id) ? Attempt::current
          : recovering (id)   ? Attempt::error
                              : Attempt::unknown;
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
    if (it == jobs_.end () && recovering (id)) {
      *why = "The studio is taking this job up again; try again.";
      return Attempt::error;
    }
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
    std::string parent; /* a chunk's render */
    size_t index = 0; /* a chunk's place in it */
  };

  /* A split render, from its plan to its assembly (main loop only). */
  struct Split {
    RenderJob job;
    std::string dir; /* the programme and chunk files */
    std::vector<std::string> chunks; /* their ids, in order */
    std::vector<double> seconds, percent;
    std::vector<bool> done;
    std::vector<std::string> ranges;
    double duration = 0;
    double assembled = 0; /* the assembly's percent */
    bool started = false, assembling = false;
    gint64 began = 0;
    std::set<std::string> warned; /* chunks repeat whole-film warnings */
    GSubprocess *programme = nullptr;
    GCancellable *cancel = nullptr;
  };

  /* Hears the studio's own assembly runs (LocalJobQueue). */
  struct Assembly : JobListener {
    PgJobQueue *q = nullptr;
    void job_started (const std::string &) override
    {
    }
    void job_progress (const std::string &id, const JobProgress &p) override
    {
      auto it = q->splits_.find (id);
      if (it == q->splits_.end ())
        return;
      it->second.assembled = p.percent;
      q->split_progress (id);
    }
    void job_warning (const std::string &id, const std::string &m) override
    {
      q->split_warning (id, m);
    }
    void job_fit (const std::string &id, const CueFit &f) override
    {
      if (q->splits_.count (id) && q->listener_)
        q->listener_->job_fit (id, f);
    }
    void job_finished (
        const std::string &id, bool ok, const std::string &error) override
    {
      q->assembled (id, ok, error);
    }
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
    str ("overflow", job.overflow);
    str ("provenance", job.provenance);
    if (!job.chunk.empty ())
      str ("chunk", job.chunk);
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
    /* A chunk's input is its programme audio; never the video. */
    if (job.chunk.empty ())
      add_file ("video", job.input, "video");
    else
      add_file ("programme", job.input, "programme.wav");
    gchar *sub = g_path_get_basename (job.subtitles.c_str ());
    add_file ("subtitles", copy_subtitles (job), sub);
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

  /* The subtitles as they are now: the editor may change edited.ass while
   * the job waits (the spec holds the checksum). A job submitted again
   * after a restart keeps the copy it had. A chunk's subtitles are its
   * render's copy already. */
  static std::string copy_subtitles (const RenderJob &job)
  {
    if (!job.chunk.empty ())
      return job.subtitles;
    std::string copy = subtitles_copy (job);
    std::string text;
    if (!file_exists (copy) &&
        !(read_file (job.subtitles, &text, 64LL * 1024 * 1024) &&
            write_file_atomic (copy, text)))
      g_warning ("%s: cannot copy the subtitles", copy.c_str ());
    return copy;
  }

  /* A part of a split render whose plan is still being checked after a
   * restart: its worker is asked to try again (503) rather than told the
   * job is gone. */
  bool recovering (const std::string &id) const
  {
    size_t dash = id.find ("-c");
    if (dash == std::string::npos)
      return false;
    auto it = splits_.find (id.substr (0, dash));
    return it != splits_.end () && it->second.chunks.empty ();
  }

  /* Beside the result: .chunks-ID/ in the results directory. */
  static std::string split_dir (const RenderJob &job)
  {
    gchar *dir = g_path_get_dirname (job.output.c_str ());
    std::string d = std::string (dir) + "/.chunks-" + job.id;
    g_free (dir);
    return d;
  }

  /* ---- split renders ---- */

  /* Runs ganvoice-dub --programme: the plan and every chunk's programme. */
  void prepare (const std::string &id)
  {
    Split &sp = splits_[id];
    remove_tree (sp.dir);
    if (!make_dirs (sp.dir)) {
      fail_split (id, "The studio cannot create " + sp.dir + ".");
      return;
    }
    std::vector<std::string> argv = { opt_.dub_command, sp.job.input,
      copy_subtitles (sp.job), "--programme", sp.dir, "--chunk-target",
      number (opt_.chunk_target_s) };
    if (!sp.job.language.empty ())
      argv.insert (argv.end (), { "--lang", sp.job.language });
    if (!sp.job.mode.empty ())
      argv.insert (argv.end (), { "--mode", sp.job.mode });
    GSubprocessLauncher *l = make_launcher (opt_.env,
        (GSubprocessFlags) (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
            G_SUBPROCESS_FLAGS_STDERR_PIPE));
    GError *err = nullptr;
    auto a = to_argv (argv);
    sp.programme = g_subprocess_launcher_spawnv (l, a.data (), &err);
    g_object_unref (l);
    if (!sp.programme) {
      std::string why = std::string ("The dubbing command could not start (") +
          opt_.dub_command + "): " + err->message;
      g_clear_error (&err);
      fail_split (id, why);
      return;
    }
    sp.cancel = g_cancellable_new ();
    struct Ctx {
      PgJobQueue *q;
      std::string id;
    };
    g_subprocess_communicate_utf8_async (
        sp.programme, nullptr, sp.cancel,
        [] (GObject *src, GAsyncResult *res, gpointer data) {
          Ctx *c = (Ctx *) data;
          gchar *out = nullptr, *errs = nullptr;
          GError *e = nullptr;
          bool ok = g_subprocess_communicate_utf8_finish (
              G_SUBPROCESS (src), res, &out, &errs, &e);
          bool cancelled =
              g_error_matches (e, G_IO_ERROR, G_IO_ERROR_CANCELLED);
          if (!cancelled) {
            std::string text = out ? out : "", log = errs ? errs : "";
            int status = ok && g_subprocess_get_if_exited (G_SUBPROCESS (src))
                ? g_subprocess_get_exit_status (G_SUBPROCESS (src))
                : -1;
            c->q->programme_done (c->id, status, text, log);
          }
          g_clear_error (&e);
          g_free (out);
          g_free (errs);
          delete c;
        },
        new Ctx{ this, id });
  }

  static void stop_programme (Split &sp)
  {
    if (sp.cancel)
      g_cancellable_cancel (sp.cancel);
    if (sp.programme)
      g_subprocess_force_exit (sp.programme);
    g_clear_object (&sp.cancel);
    g_clear_object (&sp.programme);
  }

  static std::string last_line (const std::string &log)
  {
    std::string t = log;
    while (!t.empty () && g_ascii_isspace (t.back ()))
      t.pop_back ();
    size_t nl = t.rfind ('\n');
    t = nl == std::string::npos ? t : t.substr (nl + 1);
    const char *prefix = "ganvoice-dub: ";
    if (t.rfind (prefix, 0) == 0)
      t = t.substr (strlen (prefix));
    return t;
  }

  void programme_done (const std::string &id, int status,
      const std::string &out, const std::string &log)
  {
    auto it = splits_.find (id);
    if (it == splits_.end ())
      return;
    g_clear_object (&it->second.cancel);
    g_clear_object (&it->second.programme);
    if (status != 0) {
      std::string why = last_line (log);
      fail_split (id,
          "The film could not be prepared for the workers" +
              (why.empty () ? std::string (".") : ": " + why));
      return;
    }
    follow_plan (id, out, true);
  }

  /* The plan (ganvoice-dub --programme's JSON, kept in the assemble row):
   * the chunks tracked, their programme files checked (on a thread: a long
   * film's are gigabytes), and with @fresh their rows written. */
  void follow_plan (const std::string &id, const std::string &plan, bool fresh)
  {
    Split &sp = splits_[id];
    std::string why;
    JsonNode *n = parse_json (plan, &why);
    JsonObject *o =
        n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : nullptr;
    std::vector<std::string> files;
    try {
      const char *origin = "ganvoice-dub --programme";
      JsonArray *chunks = o && json_object_has_member (o, "chunks")
          ? json_object_get_array_member (o, "chunks")
          : nullptr;
      if (!chunks || json_array_get_length (chunks) == 0)
        throw JsonError ("ganvoice-dub --programme printed no chunks");
      sp.duration = Json::optional_number (o, "duration", origin, 0);
      for (guint i = 0; i < json_array_get_length (chunks); i++) {
        JsonObject *c = json_array_get_object_element (chunks, i);
        std::string range = c ? Json::optional_string (c, "range", origin) : "";
        std::string file =
            c ? Json::optional_string (c, "programme", origin) : "";
        if (range.empty () || file.empty () ||
            file.find ('/') != std::string::npos || file[0] == '.')
          throw JsonError ("ganvoice-dub --programme: chunk " +
              std::to_string (i) + " has no range or programme file");
        sp.ranges.push_back (range);
        sp.seconds.push_back (std::max (0.001,
            Json::optional_number (c, "end_time", origin, 0) -
                Json::optional_number (c, "start_time", origin, 0)));
        files.push_back (sp.dir + "/" + file);
      }
    } catch (const JsonError &e) {
      why = e.what ();
    }
    if (n)
      json_node_unref (n);
    if (!why.empty () || files.empty ()) {
      fail_split (
          id, "The film could not be prepared for the workers (" + why + ").");
      return;
    }
    sp.percent.assign (files.size (), 0);
    sp.done.assign (files.size (), false);
    /* The checksums on a thread, then back here. */
    struct Sums {
      PgJobQueue *q;
      std::string id, plan;
      bool fresh;
      std::vector<std::string> files;
      std::vector<std::pair<std::string, std::string> > sums;
      std::atomic<bool> *alive;
    };
    Sums *w = new Sums{ this, id, plan, fresh, files, {}, alive_ };
    std::thread ([w] () {
      for (const std::string &f : w->files)
        w->sums.emplace_back (f, file_sha256 (f));
      g_idle_add (
          [] (gpointer data) -> gboolean {
            Sums *w = (Sums *) data;
            if (w->alive->load ())
              w->q->plan_checked (w->id, w->plan, w->fresh, w->sums);
            delete w;
            return G_SOURCE_REMOVE;
          },
          w);
    }).detach ();
  }

  void plan_checked (const std::string &id, const std::string &plan, bool fresh,
      const std::vector<std::pair<std::string, std::string> > &sums)
  {
    auto it = splits_.find (id);
    if (it == splits_.end ())
      return;
    Split &sp = it->second;
    for (const auto &fs : sums) {
      if (fs.second.empty ()) {
        fail_split (id, "The studio cannot read " + fs.first + ".");
        return;
      }
      GStatBuf st;
      if (g_stat (fs.first.c_str (), &st) == 0)
        checksums_[fs.first + "\n" + std::to_string ((gint64) st.st_size) +
            "\n" + std::to_string ((gint64) st.st_mtime)] = fs.second;
    }
    const size_t count = sums.size ();
    std::string error;
    bool ok = !fresh || pg_.exec ("BEGIN", {}, nullptr, &error);
    for (size_t k = 0; k < count; k++) {
      Tracked t;
      t.parent = id;
      t.index = k;
      t.job = sp.job;
      t.job.id = id + "-c" + std::to_string (k);
      t.job.input = sums[k].first;
      t.job.subtitles = subtitles_copy (sp.job);
      t.job.output = sp.dir + "/chunk-" + std::to_string (k) + ".wav";
      t.job.chunk = sp.ranges[k];
      t.job.title.clear ();
      t.job.provenance.clear ();
      std::string spec = make_spec (t.job, &t.files);
      sp.chunks.push_back (t.job.id);
      jobs_[t.job.id] = t;
      if (fresh && ok)
        ok = pg_.exec (kChunk,
            { t.job.id, id, spec, std::to_string (opt_.max_attempts),
                number (opt_.retry_delay_s) },
            nullptr, &error, false);
    }
    if (fresh) {
      std::vector<PgRow> rows;
      if (ok)
        ok = pg_.exec ("UPDATE ganvoice_jobs SET state = 'waiting', spec = "
                       "$2, updated = now() WHERE id = $1 AND state = "
                       "'preparing' RETURNING id",
            { id, plan }, &rows, &error, false);
      if (ok && rows.empty ()) {
        std::string ignored;
        pg_.exec ("ROLLBACK", {}, nullptr, &ignored, false);
        finish_split (id, false, "Cancelled.");
        return;
      }
      if (!ok || !pg_.exec ("COMMIT", {}, nullptr, &error, false)) {
        std::string ignored;
        pg_.exec ("ROLLBACK", {}, nullptr, &ignored, false);
        fail_split (
            id, "The job queue could not take this render (" + error + ").");
        return;
      }
      return;
    }
    /* Carried on after a restart: what the chunks' rows say. */
    std::vector<PgRow> rows;
    if (!pg_.exec ("SELECT id, state, error FROM ganvoice_jobs WHERE parent "
                   "= $1",
            { id }, &rows, &error)) {
      fail_split (id, "The job queue is not available (" + error + ").");
      return;
    }
    for (const PgRow &r : rows) {
      auto c = jobs_.find (r.at ("id"));
      if (c == jobs_.end () || c->second.parent != id)
        continue;
      size_t k = c->second.index;
      if (r.at ("state") == "done" && file_exists (c->second.job.output)) {
        sp.done[k] = true;
        sp.percent[k] = 100;
      } else if (r.at ("state") == "done") {
        /* Its file was lost with the studio: rendered again. */
        pg_.exec ("UPDATE ganvoice_jobs SET state = 'queued', run_after = "
                  "now(), max_attempts = max_attempts + 1, updated = now() "
                  "WHERE id = $1",
            { r.at ("id") }, nullptr, &error);
      } else if (r.at ("state") == "failed" || r.at ("state") == "cancelled") {
        fail_split (id, chunk_error (sp, k, r.at ("error")));
        return;
      }
    }
    if (std::all_of (
            sp.done.begin (), sp.done.end (), [] (bool d) { return d; }))
      assemble (id);
  }

  std::string chunk_error (const Split &sp, size_t k, const std::string &e)
  {
    return sp.chunks.size () == 1 ? e
                                  : "Part " + std::to_string (k + 1) + " of " +
            std::to_string (sp.chunks.size ()) + ": " + e;
  }

  void split_progress (const std::string &id)
  {
    auto it = splits_.find (id);
    if (it == splits_.end () || !listener_)
      return;
    Split &sp = it->second;
    double total = 0, have = 0;
    for (size_t k = 0; k < sp.seconds.size (); k++) {
      total += sp.seconds[k];
      have += sp.seconds[k] * (sp.done[k] ? 100 : sp.percent[k]);
    }
    /* The chunks are nine tenths of the work, the assembly the rest. */
    JobProgress p;
    p.percent = std::min (
        100.0, 0.9 * (total > 0 ? have / total : 0) + 0.1 * sp.assembled);
    p.duration = sp.duration;
    p.position = sp.duration * p.percent / 100;
    double elapsed =
        (g_get_monotonic_time () - sp.began) / (double) G_USEC_PER_SEC;
    p.eta = p.percent >= 5 ? elapsed * (100 - p.percent) / p.percent : -1;
    listener_->job_progress (id, p);
  }

  void split_warning (const std::string &id, const std::string &message)
  {
    auto it = splits_.find (id);
    if (it == splits_.end () || !it->second.warned.insert (message).second)
      return;
    if (listener_)
      listener_->job_warning (id, message);
  }

  /* Every chunk is in: the studio joins them (it has the video). */
  void assemble (const std::string &id)
  {
    Split &sp = splits_[id];
    if (sp.assembling)
      return;
    std::vector<PgRow> rows;
    std::string error;
    if (!pg_.exec ("UPDATE ganvoice_jobs SET state = 'running', attempt = "
                   "attempt + 1, worker = 'studio', updated = now() WHERE id "
                   "= $1 AND state IN ('waiting', 'running') RETURNING id",
            { id }, &rows, &error)) {
      fail_split (id, "The job queue is not available (" + error + ").");
      return;
    }
    if (rows.empty ())
      return; /* cancelled meanwhile: its event ends it */
    sp.assembling = true;
    RenderJob aj = sp.job;
    aj.subtitles = subtitles_copy (sp.job);
    for (size_t k = 0; k < sp.chunks.size (); k++)
      aj.assemble.push_back (sp.dir + "/chunk-" + std::to_string (k) + ".wav");
    assembler_->submit (aj);
  }

  void assembled (const std::string &id, bool ok, const std::string &error)
  {
    if (!splits_.count (id))
      return;
    std::vector<PgRow> rows;
    std::string err;
    pg_.exec ("UPDATE ganvoice_jobs SET state = $2, error = $3, updated = "
              "now() WHERE id = $1 AND state = 'running' RETURNING id",
        { id, ok ? "done" : "failed", ok ? "" : error }, &rows, &err);
    finish_split (id, ok, ok ? "" : "The parts could not be joined: " + error);
  }

  /* A chunk failed for good, or the studio could not go on: the render
   * fails and its other chunks are called off. */
  void fail_split (const std::string &id, const std::string &error)
  {
    std::string err;
    pg_.exec ("UPDATE ganvoice_jobs SET state = CASE WHEN id = $1 THEN "
              "'failed' ELSE 'cancelled' END, error = $2, lease_until = "
              "NULL, updated = now() WHERE (id = $1 OR parent = $1) AND "
              "state IN ('queued', 'running', 'preparing', 'waiting')",
        { id, error }, nullptr, &err);
    finish_split (id, false, error);
  }

  void finish_split (const std::string &id, bool ok, const std::string &error)
  {
    auto it = splits_.find (id);
    if (it == splits_.end ())
      return;
    Split sp = it->second;
    splits_.erase (it); /* first: a cancelled assembly finds nothing */
    stop_programme (sp);
    if (sp.assembling && !ok)
      assembler_->cancel (id);
    for (const std::string &c : sp.chunks)
      jobs_.erase (c);
    remove_tree (sp.dir);
    g_unlink (subtitles_copy (sp.job).c_str ());
    if (!ok)
      remove_partial_files (sp.job.output);
    if (listener_)
      listener_->job_finished (id, ok, error);
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
    if (splits_.count (id)) {
      finish_split (id, ok, error);
      return;
    }
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
    if (it == jobs_.end () && splits_.count (id) && type == "finished") {
      /* A split render cancelled (its own row's event). */
      NodeRef n (parse_json (e.at ("data"), nullptr));
      JsonObject *o = n && JSON_NODE_HOLDS_OBJECT (n.get ())
          ? json_node_get_object (n.get ())
          : nullptr;
      if (o && !json_object_get_boolean_member_with_default (o, "ok", FALSE))
        finish_split (id, false,
            json_object_get_string_member_with_default (o, "error", ""));
      return;
    }
    if (it == jobs_.end ())
      return; /* not this studio's, or already ended */
    Tracked &t = it->second;
    if (attempt < t.attempt)
      return; /* from an attempt that lost its lease */
    if (!t.parent.empty ()) {
      chunk_event (t, attempt, type, e.at ("data"));
      return;
    }
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
        if (listener_)
          listener_->job_warning (id, retry_message (attempt, o));
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

  /* The page's warning for a "retry" event (kFail's data). Throws
   * JsonError on a field of the wrong type. */
  static std::string retry_message (long attempt, JsonObject *o)
  {
    const char *origin = "A worker's event";
    char when[32];
    g_snprintf (when, sizeof when, "%.0f",
        std::ceil (Json::optional_number (o, "delay", origin, 0)));
    return "Attempt " + std::to_string (attempt) + " of " +
        std::to_string (Json::optional_integer (o, "max_attempts", origin, 0)) +
        " failed: " + Json::optional_string (o, "error", origin) +
        " Trying again in " + when + " s.";
  }

  /* A chunk's event, told as its render's. */
  void chunk_event (Tracked &t, long attempt, const std::string &type,
      const std::string &data)
  {
    const std::string parent = t.parent, id = t.job.id;
    const size_t k = t.index;
    auto sit = splits_.find (parent);
    if (sit == splits_.end ())
      return;
    Split &sp = sit->second;
    NodeRef n (parse_json (data, nullptr));
    JsonObject *o = n && JSON_NODE_HOLDS_OBJECT (n.get ())
        ? json_node_get_object (n.get ())
        : nullptr;
    const char *origin = "A worker's event";
    try {
      if (type == "started") {
        t.attempt = attempt;
        sp.percent[k] = 0;
        if (!sp.started && listener_) {
          sp.started = true;
          listener_->job_started (parent);
        }
      } else if (type == "progress" && o) {
        JobProgress p;
        if (read_progress (o, &p)) {
          sp.percent[k] = std::max (0.0, std::min (100.0, p.percent));
          split_progress (parent);
        }
      } else if (type == "warning" && o) {
        split_warning (parent, Json::optional_string (o, "message", origin));
      } else if (type == "fit" && o) {
        CueFit f;
        if (read_fit (o, &f) && listener_)
          listener_->job_fit (parent, f);
      } else if (type == "retry" && o) {
        split_warning (parent, chunk_error (sp, k, retry_message (attempt, o)));
      } else if (type == "finished" && o) {
        bool ok = json_object_get_boolean_member_with_default (o, "ok", FALSE);
        if (!ok) {
          fail_split (parent,
              chunk_error (sp, k, Json::optional_string (o, "error", origin)));
        } else {
          sp.done[k] = true;
          jobs_.erase (id); /* a second delivery finds it done in the table */
          split_progress (parent);
          if (std::all_of (
                  sp.done.begin (), sp.done.end (), [] (bool d) { return d; }))
            assemble (parent);
        }
      }
    } catch (const JsonError &err) {
      g_warning ("%s", err.what ());
    }
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

  static gboolean on_poll (gpointer data)
  {
    PgJobQueue *q = (PgJobQueue *) data;
    std::string error;
    if (!q->pg_.exec (pgsql::kExpire, {}, nullptr, &error))
      g_warning ("%s", error.c_str ());
    q->drain ();
    std::vector<PgRow> rows;
    /* Renders, not their chunks: a split one runs while it is prepared,
     * its chunks render and it is joined. */
    if (q->pg_.exec ("SELECT count(*) FILTER (WHERE state <> 'queued') AS r, "
                     "count(*) FILTER (WHERE state = 'queued') AS q "
                     "FROM ganvoice_jobs WHERE kind <> 'chunk' AND state IN "
                     "('queued', 'running', 'preparing', 'waiting')",
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
    q->listen_.again ();
    return G_SOURCE_CONTINUE;
  }

  PgQueueOptions opt_;
  PgConn pg_;
  PgListener listen_; /* wakes drain() */
  JobListener *listener_ = nullptr;
  std::map<std::string, Tracked> jobs_; /* renders queued whole; chunks */
  std::map<std::string, Split> splits_;
  std::unique_ptr<JobQueue> assembler_;
  Assembly assembly_;
  /* Read by checksum threads that outlive a shut-down queue. */
  std::atomic<bool> *alive_ = new std::atomic<bool> (true);
  std::map<std::string, std::string> checksums_;
  std::set<guint> later_;
  guint poll_timer_ = 0;
  gint64 cleaned_ = 0;
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

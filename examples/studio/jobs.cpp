/* ganvoice-studio: LocalJobQueue (ganvoice-dub --json workers) and HelperPool.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "jobqueue.h"

#include <glib/gstdio.h>

#include <algorithm>
#include <cmath>
#include <csignal>

#include <sys/prctl.h>

namespace studio {

GSubprocessLauncher *
make_launcher (const std::vector<std::string> &env, GSubprocessFlags flags)
{
  GSubprocessLauncher *l = g_subprocess_launcher_new (flags);
  for (const std::string &kv : env) {
    size_t eq = kv.find ('=');
    if (eq != std::string::npos)
      g_subprocess_launcher_setenv (
          l, kv.substr (0, eq).c_str (), kv.substr (eq + 1).c_str (), TRUE);
  }
  return l;
}

std::vector<const char *>
to_argv (const std::vector<std::string> &v)
{
  std::vector<const char *> a;
  for (const std::string &s : v)
    a.push_back (s.c_str ());
  a.push_back (nullptr);
  return a;
}

namespace {

/* The last non-empty lines of a log file, for an error message. */
std::string
log_tail (const std::string &path)
{
  std::string text;
  gint64 size = file_size (path);
  if (size <= 0)
    return "";
  FILE *f = fopen (path.c_str (), "rb");
  if (!f)
    return "";
  long from = size > 2000 ? (long) (size - 2000) : 0;
  fseek (f, from, SEEK_SET);
  char buf[2001];
  size_t n = fread (buf, 1, 2000, f);
  fclose (f);
  text.assign (buf, n);
  while (!text.empty () && (text.back () == '\n' || text.back () == ' '))
    text.pop_back ();
  size_t nl = text.rfind ('\n');
  std::string last = nl == std::string::npos ? text : text.substr (nl + 1);
  if (!g_utf8_validate (last.data (), (gssize) last.size (), nullptr))
    return "";
  return last;
}

class LocalJobQueue : public JobQueue {
public:
  LocalJobQueue (std::string dub, std::vector<std::string> env, int max_running,
      int timeout_s)
      : dub_ (std::move (dub)), env_ (std::move (env)),
        max_running_ (std::max (1, max_running)), timeout_s_ (timeout_s)
  {
  }
  ~LocalJobQueue () override
  {
    shutdown ();
  }

  void set_listener (JobListener *l) override
  {
    listener_ = l;
  }

  void submit (const RenderJob &job) override
  {
    pending_.push_back (job);
    start_next ();
  }

  bool cancel (const std::string &id) override
  {
    for (auto it = pending_.begin (); it != pending_.end (); ++it) {
      if (it->id == id) {
        pending_.erase (it);
        if (listener_)
          listener_->job_finished (id, false, "Cancelled.");
        return true;
      }
    }
    auto it = running_.find (id);
    if (it == running_.end ())
      return false;
    it->second->cancelled = true;
    stop_run (it->second);
    return true;
  }

  size_t running () const override
  {
    return running_.size ();
  }
  size_t queued () const override
  {
    return pending_.size ();
  }

  void shutdown () override
  {
    listener_ = nullptr;
    pending_.clear ();
    for (auto &kv : running_) {
      Run *r = kv.second;
      r->queue = nullptr;
      g_cancellable_cancel (r->cancel);
      g_subprocess_force_exit (r->proc);
    }
    running_.clear ();
  }

private:
  struct Run {
    LocalJobQueue *queue = nullptr;
    RenderJob job;
    GSubprocess *proc = nullptr;
    GDataInputStream *out = nullptr;
    GCancellable *cancel = nullptr;
    guint timer = 0;
    bool cancelled = false, timed_out = false, done_ok = false;
    bool eof = false, exited = false;
    std::string error;
    ~Run ()
    {
      if (timer)
        g_source_remove (timer);
      g_clear_object (&out);
      g_clear_object (&proc);
      g_clear_object (&cancel);
    }
  };

  void start_next ()
  {
    while ((int) running_.size () < max_running_ && !pending_.empty ()) {
      RenderJob job = pending_.front ();
      pending_.pop_front ();
      start (job);
    }
  }

  void start (const RenderJob &job)
  {
    std::vector<std::string> argv = { dub_ };
    if (!job.assemble.empty ())
      argv.push_back ("--assemble");
    argv.insert (argv.end (), { job.input, job.subtitles });
    argv.insert (argv.end (), job.assemble.begin (), job.assemble.end ());
    argv.insert (argv.end (), { "-o", job.output, "--json", "--quiet" });
    if (!job.chunk.empty ())
      argv.insert (argv.end (), { "--chunk", job.chunk });
    if (!job.mode.empty ())
      argv.insert (argv.end (), { "--mode", job.mode });
    if (!job.language.empty ())
      argv.insert (argv.end (), { "--lang", job.language });
    if (!job.overflow.empty ())
      argv.insert (argv.end (), { "--overflow", job.overflow });
    for (const std::string &v : job.voices)
      argv.insert (argv.end (), { "--voice", v });
    if (!job.provenance.empty ())
      argv.insert (argv.end (), { "--provenance", job.provenance });
    if (!job.title.empty ())
      argv.insert (argv.end (), { "--title", job.title });
    GSubprocessLauncher *l =
        make_launcher (env_, G_SUBPROCESS_FLAGS_STDOUT_PIPE);
    /* A render does not outlive the process that runs it (SIGTERM: it
     * removes its temp file). */
    g_subprocess_launcher_set_child_setup (
        l, [] (gpointer) { prctl (PR_SET_PDEATHSIG, SIGTERM); }, nullptr,
        nullptr);
    if (!job.log_path.empty ())
      g_subprocess_launcher_set_stderr_file_path (l, job.log_path.c_str ());
    GError *err = nullptr;
    auto a = to_argv (argv);
    GSubprocess *proc = g_subprocess_launcher_spawnv (l, a.data (), &err);
    g_object_unref (l);
    if (!proc) {
      std::string msg = std::string ("The dubbing command could not start (") +
          dub_ + "): " + err->message;
      g_clear_error (&err);
      if (listener_)
        listener_->job_finished (job.id, false, msg);
      return;
    }
    Run *r = new Run;
    r->queue = this;
    r->job = job;
    r->proc = proc;
    r->cancel = g_cancellable_new ();
    r->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
    running_[job.id] = r;
    if (timeout_s_ > 0)
      r->timer = g_timeout_add_seconds ((guint) timeout_s_, on_timeout, r);
    if (listener_)
      listener_->job_started (job.id);
    g_data_input_stream_read_line_async (
        r->out, G_PRIORITY_DEFAULT, r->cancel, on_line, r);
    g_subprocess_wait_async (proc, r->cancel, on_exit, r);
  }

  /* SIGTERM lets ganvoice-dub remove its temp file; SIGKILL 10 s later. */
  static void stop_run (Run *r)
  {
    g_subprocess_send_signal (r->proc, SIGTERM);
    if (r->timer)
      g_source_remove (r->timer);
    r->timer = g_timeout_add_seconds (10, on_kill, r);
  }

  static gboolean on_kill (gpointer data)
  {
    Run *r = (Run *) data;
    r->timer = 0;
    g_subprocess_force_exit (r->proc);
    return G_SOURCE_REMOVE;
  }

  static gboolean on_timeout (gpointer data)
  {
    Run *r = (Run *) data;
    r->timer = 0;
    r->timed_out = true;
    stop_run (r);
    return G_SOURCE_REMOVE;
  }

  static void on_line (GObject *src, GAsyncResult *res, gpointer data)
  {
    GError *err = nullptr;
    gsize len = 0;
    char *line = g_data_input_stream_read_line_finish (
        G_DATA_INPUT_STREAM (src), res, &len, &err);
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_error_free (err);
      delete (Run *) data; /* shutdown: the queue let go of it */
      return;
    }
    Run *r = (Run *) data;
    if (!line) {
      g_clear_error (&err);
      r->eof = true;
      if (r->exited)
        r->queue->finish (r);
      return;
    }
    r->queue->handle_line (r, line);
    g_free (line);
    g_data_input_stream_read_line_async (
        r->out, G_PRIORITY_DEFAULT, r->cancel, on_line, r);
  }

  static void on_exit (GObject *src, GAsyncResult *res, gpointer data)
  {
    GError *err = nullptr;
    g_subprocess_wait_finish (G_SUBPROCESS (src), res, &err);
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_error_free (err);
      return; /* on_line frees the run */
    }
    g_clear_error (&err);
    Run *r = (Run *) data;
    r->exited = true;
    if (r->eof)
      r->queue->finish (r);
  }

  void handle_line (Run *r, const char *line)
  {
    std::string perr;
    JsonNode *n = parse_json (line, &perr);
    if (!n || !JSON_NODE_HOLDS_OBJECT (n)) {
      if (n)
        json_node_unref (n);
      return;
    }
    JsonObject *o = json_node_get_object (n);
    /* A line with a field of the wrong type is left out (and logged). */
    const std::string origin = "ganvoice-dub --json";
    try {
      std::string type = Json::optional_string (o, "type", origin);
      if (type == "progress" && listener_) {
        JobProgress p;
        p.percent = Json::optional_number (o, "percent", origin, 0);
        p.eta = Json::optional_number (o, "eta", origin, -1);
        p.position = Json::optional_number (o, "position", origin, 0);
        p.duration = Json::optional_number (o, "duration", origin, 0);
        listener_->job_progress (r->job.id, p);
      } else if (type == "warning" && listener_) {
        listener_->job_warning (
            r->job.id, Json::optional_string (o, "message", origin));
      } else if (type == "cue" && listener_) {
        CueFit f;
        f.step = Json::optional_string (o, "step", origin);
        if (f.step != "" && f.step != "natural" && f.step != "free-time") {
          f.index = Json::optional_integer (o, "index", origin, 0);
          f.start = Json::optional_number (o, "start", origin, 0);
          f.end = Json::optional_number (o, "end", origin, 0);
          f.natural = Json::optional_number (o, "natural-duration", origin, 0);
          f.rate = Json::optional_number (o, "applied-rate", origin, 1);
          f.stretch = Json::optional_number (o, "stretch", origin, 1);
          f.overflow = Json::optional_number (o, "overflow", origin, 0);
          listener_->job_fit (r->job.id, f);
        }
      } else if (type == "error") {
        r->error = Json::optional_string (o, "message", origin);
      } else if (type == "done" || type == "result") {
        r->done_ok = true;
      }
    } catch (const JsonError &e) {
      g_warning ("%s", e.what ());
    }
    json_node_unref (n);
  }

  void finish (Run *r)
  {
    std::string id = r->job.id;
    bool ok = false;
    std::string error;
    if (r->cancelled) {
      error = "Cancelled.";
    } else if (r->timed_out) {
      error = "The render took longer than the limit of " +
          std::to_string (timeout_s_ / 60) + " minutes and was stopped.";
    } else if (!g_subprocess_get_if_exited (r->proc)) {
      error = "The dubbing worker stopped unexpectedly (signal " +
          std::to_string (g_subprocess_get_term_sig (r->proc)) + ").";
    } else if (g_subprocess_get_exit_status (r->proc) != 0) {
      error = r->error;
      if (error.empty ())
        error = log_tail (r->job.log_path);
      if (error.empty ())
        error = "The dubbing worker failed (exit status " +
            std::to_string (g_subprocess_get_exit_status (r->proc)) + ").";
    } else if (file_size (r->job.output) <= 0) {
      error = "The dubbing worker finished but wrote no video.";
    } else {
      ok = true;
    }
    if (!ok) {
      /* Never a partial result, nor a worker's leftover temp file. */
      g_unlink (r->job.output.c_str ());
      remove_partial_files (r->job.output);
    }
    running_.erase (id);
    delete r;
    if (listener_)
      listener_->job_finished (id, ok, error);
    start_next ();
  }

  std::string dub_;
  std::vector<std::string> env_;
  int max_running_, timeout_s_;
  JobListener *listener_ = nullptr;
  std::deque<RenderJob> pending_;
  std::map<std::string, Run *> running_;
};

} // namespace

std::unique_ptr<JobQueue>
make_local_job_queue (const std::string &dub_command,
    const std::vector<std::string> &extra_env, int max_running, int timeout_s)
{
  return std::make_unique<LocalJobQueue> (
      dub_command, extra_env, max_running, timeout_s);
}

#ifndef STUDIO_HAVE_PG
std::unique_ptr<RemoteJobQueue>
make_pg_job_queue (const PgQueueOptions &, std::string *error)
{
  *error = "this ganvoice-studio was built without PostgreSQL (libpq-dev)";
  return nullptr;
}
#endif

/* ---- events of remote workers ------------------------------------------- */

namespace {

std::string
number (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_dtostr (buf, sizeof buf, std::isfinite (v) ? v : 0.0);
  return buf;
}

} // namespace

std::string
progress_json (const JobProgress &p)
{
  return "{\"percent\": " + number (p.percent) +
      ", \"eta\": " + number (p.eta) +
      ", \"position\": " + number (p.position) +
      ", \"duration\": " + number (p.duration) + "}";
}

std::string
fit_json (const CueFit &f)
{
  return "{\"index\": " + std::to_string (f.index) +
      ", \"start\": " + number (f.start) + ", \"end\": " + number (f.end) +
      ", \"natural\": " + number (f.natural) +
      ", \"rate\": " + number (f.rate) +
      ", \"stretch\": " + number (f.stretch) +
      ", \"overflow\": " + number (f.overflow) +
      ", \"step\": " + json_quote (f.step) + "}";
}

bool
read_progress (JsonObject *o, JobProgress *p)
{
  const char *origin = "A worker's progress";
  try {
    p->percent = Json::optional_number (o, "percent", origin, 0);
    p->eta = Json::optional_number (o, "eta", origin, -1);
    p->position = Json::optional_number (o, "position", origin, 0);
    p->duration = Json::optional_number (o, "duration", origin, 0);
  } catch (const JsonError &e) {
    g_warning ("%s", e.what ());
    return false;
  }
  return true;
}

bool
read_fit (JsonObject *o, CueFit *f)
{
  const char *origin = "A worker's cue report";
  try {
    f->index = Json::optional_integer (o, "index", origin, 0);
    f->start = Json::optional_number (o, "start", origin, 0);
    f->end = Json::optional_number (o, "end", origin, 0);
    f->natural = Json::optional_number (o, "natural", origin, 0);
    f->rate = Json::optional_number (o, "rate", origin, 1);
    f->stretch = Json::optional_number (o, "stretch", origin, 1);
    f->overflow = Json::optional_number (o, "overflow", origin, 0);
    f->step = Json::optional_string (o, "step", origin);
  } catch (const JsonError &e) {
    g_warning ("%s", e.what ());
    return false;
  }
  return true;
}

/* ---- HelperPool ---------------------------------------------------------- */

struct HelperPool::Task {
  HelperPool *pool = nullptr;
  guint64 id = 0;
  std::vector<std::string> args;
  Done done;
  Progress progress; /* set: JSON lines */
  GSubprocess *proc = nullptr;
  GDataInputStream *lines = nullptr;
  std::string answer; /* the last line that is not progress */
  guint timer = 0;
  bool timed_out = false, cancelled = false;
};

HelperPool::HelperPool (std::string command, std::vector<std::string> env,
    int max_running, int timeout_s)
    : command_ (std::move (command)), env_ (std::move (env)),
      max_running_ (std::max (1, max_running)), timeout_s_ (timeout_s)
{
}

HelperPool::~HelperPool ()
{
  for (Task *t : pending_)
    delete t;
}

guint64
HelperPool::run (
    const std::vector<std::string> &args, Done done, Progress progress)
{
  Task *t = new Task;
  t->pool = this;
  t->id = next_id_++;
  t->args = args;
  t->done = std::move (done);
  t->progress = std::move (progress);
  pending_.push_back (t);
  guint64 id = t->id;
  start_next ();
  return id;
}

bool
HelperPool::cancel (guint64 task)
{
  for (auto it = pending_.begin (); it != pending_.end (); ++it) {
    if ((*it)->id != task)
      continue;
    Task *t = *it;
    pending_.erase (it);
    WorkerResult r;
    r.error = "Cancelled.";
    r.code = "cancelled";
    Done done = std::move (t->done);
    delete t;
    done (r);
    return true;
  }
  auto it = started_.find (task);
  if (it == started_.end () || it->second->cancelled)
    return false;
  it->second->cancelled = true;
  g_subprocess_force_exit (it->second->proc);
  return true;
}

void
HelperPool::start_next ()
{
  while ((int) running_ < max_running_ && !pending_.empty ()) {
    Task *t = pending_.front ();
    pending_.pop_front ();
    std::vector<std::string> argv = { command_ };
    argv.insert (argv.end (), t->args.begin (), t->args.end ());
    GSubprocessLauncher *l = make_launcher (env_,
        (GSubprocessFlags) (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
            G_SUBPROCESS_FLAGS_STDERR_SILENCE));
    GError *err = nullptr;
    auto a = to_argv (argv);
    t->proc = g_subprocess_launcher_spawnv (l, a.data (), &err);
    g_object_unref (l);
    if (!t->proc) {
      WorkerResult r;
      r.error = std::string ("The studio's helper program could not start (") +
          command_ + "): " + err->message;
      g_clear_error (&err);
      t->done (r);
      delete t;
      continue;
    }
    running_++;
    started_[t->id] = t;
    t->timer = g_timeout_add_seconds ((guint) timeout_s_, on_timeout, t);
    if (t->progress) {
      t->lines =
          g_data_input_stream_new (g_subprocess_get_stdout_pipe (t->proc));
      g_data_input_stream_read_line_async (
          t->lines, G_PRIORITY_DEFAULT, nullptr, on_line, t);
    } else {
      g_subprocess_communicate_async (
          t->proc, nullptr, nullptr, on_communicate, t);
    }
  }
}

gboolean
HelperPool::on_timeout (gpointer data)
{
  Task *t = (Task *) data;
  t->timer = 0;
  t->timed_out = true;
  g_subprocess_force_exit (t->proc);
  return G_SOURCE_REMOVE;
}

void
HelperPool::on_communicate (GObject *src, GAsyncResult *res, gpointer data)
{
  Task *t = (Task *) data;
  GBytes *out = nullptr;
  GError *err = nullptr;
  g_subprocess_communicate_finish (
      G_SUBPROCESS (src), res, &out, nullptr, &err);
  gsize len = 0;
  const char *bytes = out ? (const char *) g_bytes_get_data (out, &len) : "";
  std::string text (bytes ? bytes : "", len);
  if (out)
    g_bytes_unref (out);
  t->pool->finish (t, text, err);
}

/* A line of a task with progress: progress, or (the last one) the answer. */
void
HelperPool::on_line (GObject *src, GAsyncResult *res, gpointer data)
{
  Task *t = (Task *) data;
  gsize len = 0;
  gchar *line = g_data_input_stream_read_line_finish (
      G_DATA_INPUT_STREAM (src), res, &len, nullptr);
  if (!line) {
    /* The end of its output: the answer once it has exited. */
    g_subprocess_wait_async (t->proc, nullptr, on_exit, t);
    return;
  }
  JsonNode *n = *line ? parse_json (line, nullptr) : nullptr;
  JsonObject *o =
      n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : nullptr;
  if (o && json_object_has_member (o, "type") &&
      g_strcmp0 (json_object_get_string_member_with_default (o, "type", ""),
          "progress") == 0) {
    /* Alive: the time limit starts again. */
    if (t->timer) {
      g_source_remove (t->timer);
      t->timer =
          g_timeout_add_seconds ((guint) t->pool->timeout_s_, on_timeout, t);
    }
    if (!t->cancelled)
      t->progress (o);
  } else if (*line) {
    t->answer = line;
  }
  if (n)
    json_node_unref (n);
  g_free (line);
  g_data_input_stream_read_line_async (
      t->lines, G_PRIORITY_DEFAULT, nullptr, on_line, t);
}

void
HelperPool::on_exit (GObject *src, GAsyncResult *res, gpointer data)
{
  Task *t = (Task *) data;
  g_subprocess_wait_finish (G_SUBPROCESS (src), res, nullptr);
  t->pool->finish (t, t->answer, nullptr);
}

void
HelperPool::finish (Task *t, const std::string &text, GError *err)
{
  WorkerResult r;
  if (t->timer)
    g_source_remove (t->timer);
  if (t->cancelled) {
    r.error = "Cancelled.";
    r.code = "cancelled";
  } else if (t->timed_out) {
    r.error = t->progress ? "This stopped making progress (nothing for " +
            std::to_string (timeout_s_) + " seconds) and was stopped."
                          : "This took too long (over " +
            std::to_string (timeout_s_) + " seconds) and was stopped.";
    r.code = "timeout";
  } else if (err) {
    r.error = std::string ("The helper program failed: ") + err->message;
  } else {
    std::string perr;
    JsonNode *n = text.empty () ? nullptr : parse_json (text, &perr);
    r.exit_status = g_subprocess_get_if_exited (t->proc)
        ? g_subprocess_get_exit_status (t->proc)
        : -1;
    if (n && JSON_NODE_HOLDS_OBJECT (n)) {
      JsonObject *o = json_node_get_object (n);
      const std::string origin = "The worker's answer";
      try {
        r.error = Json::optional_string (o, "error", origin);
        r.code = Json::optional_string (o, "code", origin);
      } catch (const JsonError &e) {
        r.error = e.what ();
      }
      r.ok = r.error.empty () && r.exit_status == 0;
      if (r.ok)
        r.result = json_node_ref (n);
      else if (r.error.empty ())
        r.error = "The helper program failed.";
    } else {
      r.error = r.exit_status == -1 ? "The helper program crashed on this file."
                                    : "The helper program gave no answer.";
    }
    if (n)
      json_node_unref (n);
  }
  g_clear_error (&err);
  g_clear_object (&t->lines);
  g_clear_object (&t->proc);
  started_.erase (t->id);
  running_--;
  Done done = std::move (t->done);
  delete t;
  done (r);
  start_next ();
}

} // namespace studio

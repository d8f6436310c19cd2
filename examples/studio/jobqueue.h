/* ganvoice-studio: the render job queue, behind one small interface.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The server describes a render by its files and choices (RenderJob) and
 * hears back through a JobListener. LocalJobQueue runs `ganvoice-dub --json`
 * as worker subprocesses on this machine, at most N at once. PgJobQueue
 * (jobs-pg.cpp) hands them to ganvoice-worker processes on other machines
 * through PostgreSQL; they fetch the inputs and deliver the result over HTTP
 * (workers.cpp). */
#pragma once

#include "common.h"

#include <gio/gio.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace studio {

struct RenderJob {
  std::string id;
  std::string input; /* the video */
  std::string subtitles; /* SRT/VTT/ASS */
  std::string output; /* final path; written as a temp file, then renamed */
  std::string mode; /* duck, replace, add-track */
  std::string language; /* "" = from the subtitles */
  /* What to do with speech too long for its slot: a fit policy's nick
   * (ganvoice-dub --overflow; docs/ganvoice-fit.md); "" = the default. */
  std::string overflow;
  std::vector<std::string>
      voices; /* VOICE or SPEAKER=VOICE (names or profile files) */
  std::string log_path; /* the worker's stderr */
  /* The provenance note of the result's tags (ganvoice-dub --provenance):
   * synthetic speech, its voices by name, built-in or clone. */
  std::string provenance;
  /* The dub track's title ("Dub — voice Allison"); "" for the default. */
  std::string title;
  /* A chunk of a split render (ganvoice-dub --chunk): "START:END" frames;
   * input is then the chunk's programme file and output a chunk file. */
  std::string chunk;
  /* The assembly of a split render (ganvoice-dub --assemble): the chunk
   * files in order; input is the video, output the final file. */
  std::vector<std::string> assemble;
};

struct JobProgress {
  double percent = 0;
  double eta = -1; /* seconds, -1 unknown */
  double position = 0;
  double duration = 0;
};

/* A cue whose speech did not fit its slot at the natural rate, as the
 * ganvoice element reported it (a `cue` line of ganvoice-dub --json; see
 * docs/ganvoice.md and docs/ganvoice-fit.md). Times in seconds. */
struct CueFit {
  gint64 index = 0; /* the cue's index in the subtitles, from 0 */
  double start = 0, end = 0;
  double natural = 0; /* the speech at the natural rate */
  double rate = 1; /* the speed-up applied (1: none) */
  double stretch = 1; /* then time-stretched by this (1: none) */
  double overflow = 0; /* longer than its window at that rate */
  std::string step; /* rate, clipped, stretched, overflowed */
};

class JobListener {
public:
  virtual ~JobListener () = default;
  virtual void job_started (const std::string &id) = 0;
  virtual void job_progress (const std::string &id, const JobProgress &p) = 0;
  virtual void job_warning (
      const std::string &id, const std::string &message) = 0;
  /* A cue that was sped up, clipped, stretched or ran over. */
  virtual void job_fit (const std::string &id, const CueFit &fit) = 0;
  /* ok: the result is at RenderJob::output (complete, renamed into place). */
  virtual void job_finished (
      const std::string &id, bool ok, const std::string &error) = 0;
};

class JobQueue {
public:
  virtual ~JobQueue () = default;
  virtual void set_listener (JobListener *listener) = 0;
  virtual void submit (const RenderJob &job) = 0;
  /* Cancels a queued or running job; the listener hears job_finished. */
  virtual bool cancel (const std::string &id) = 0;
  virtual size_t running () const = 0;
  virtual size_t queued () const = 0;
  /* Stops everything (server shutdown); no listener calls afterwards. */
  virtual void shutdown () = 0;
  /* Whether jobs outlive the studio (their workers run elsewhere): after a
   * restart, running jobs are submitted again and carry on. */
  virtual bool durable () const
  {
    return false;
  }
};

/* A queue whose workers run on other machines and fetch their inputs and
 * deliver their result over HTTP (the /api/worker/ routes, workers.cpp).
 * @attempt is the claim's fencing token: only the job's current attempt may
 * fetch or deliver. */
class RemoteJobQueue : public JobQueue {
public:
  enum class Attempt
  {
    current, /* running, and this is its attempt */
    delivered, /* done, delivered by this attempt */
    stale, /* another attempt holds it, or it ended */
    unknown, /* no such job here */
    mismatch, /* the result received is not the one announced */
    error, /* the queue cannot say (database down) */
  };
  virtual Attempt check_attempt (const std::string &id, long attempt) = 0;
  /* The file behind input @name of job @id ("" when it has none). */
  virtual std::string input_path (
      const std::string &id, const std::string &name) = 0;
  /* Where attempt @attempt's result is received before it is delivered. */
  virtual std::string part_path (const std::string &id, long attempt) = 0;
  /* The result of @attempt, whole at part_path(): checked against @sha256
   * (hex) and renamed to the job's output, and the job done, when the
   * attempt is current. current: accepted; delivered: the same result was
   * already delivered (nothing changes); stale, unknown or error: refused
   * (*why says why); mismatch: the part file's checksum is not @sha256 (it
   * is deleted: send it again). */
  virtual Attempt deliver (const std::string &id, long attempt,
      const std::string &sha256, std::string *why) = 0;
};

struct PgQueueOptions {
  std::string url; /* postgresql://… */
  double poll_s = 5; /* how often events and expired leases are checked */
  double listen_retry_s = 10; /* before a lost LISTEN connection is redone */
  int max_attempts = 3;
  double retry_delay_s = 30; /* before the 2nd attempt; doubles after */
  /* The studio's own runs: the programme files of a split render
   * (ganvoice-dub --programme) and its assembly (--assemble). */
  std::string dub_command;
  std::vector<std::string> env;
  double chunk_target_s = 90; /* ganvoice-dub --chunk-target */
  int job_timeout_s = 0; /* longest assembly; 0: none */
};

/* A queue URL of the form postgresql://… or postgres://…. */
inline bool
is_postgres_url (const std::string &url)
{
  return url.rfind ("postgresql://", 0) == 0 ||
      url.rfind ("postgres://", 0) == 0;
}

/* The PostgreSQL queue; nullptr with *error set when it cannot start (or the
 * studio was built without libpq). */
std::unique_ptr<RemoteJobQueue> make_pg_job_queue (
    const PgQueueOptions &options, std::string *error);

/* The JSON of a progress report and of a cue that did not fit, as a worker
 * stores them in the queue's events (jobs.cpp); read back with
 * read_progress() and read_fit(), false on a malformed one. */
std::string progress_json (const JobProgress &p);
std::string fit_json (const CueFit &f);
bool read_progress (JsonObject *o, JobProgress *p);
bool read_fit (JsonObject *o, CueFit *f);

/* A launcher with @env (NAME=VALUE) set; argv for g_subprocess_launcher_spawnv
 * (pointers into @v, null-terminated). */
GSubprocessLauncher *make_launcher (
    const std::vector<std::string> &env, GSubprocessFlags flags);
std::vector<const char *> to_argv (const std::vector<std::string> &v);

/* Runs ganvoice-dub --json locally, max_running at a time. */
std::unique_ptr<JobQueue> make_local_job_queue (const std::string &dub_command,
    const std::vector<std::string> &extra_env, int max_running, int timeout_s);

/* ---- Short helper processes (probe, cues, peaks, previews, profiles) --- */

/* Runs `worker_command ARGS...` with bounded concurrency and a timeout; the
 * worker prints one JSON object on stdout. The callback runs on the main
 * loop. */
class HelperPool {
public:
  using Done = std::function<void (WorkerResult &result)>;
  /* A {"type": "progress", ...} line of a long task. */
  using Progress = std::function<void (JsonObject *line)>;
  HelperPool (std::string command, std::vector<std::string> env,
      int max_running, int timeout_s);
  ~HelperPool ();
  /* Returns the task's number, for cancel(). With @progress, the worker
   * prints JSON lines: each progress line goes to @progress as it comes,
   * and the last other line is the answer; the time limit is then on
   * silence between lines, not on the whole task. */
  guint64 run (
      const std::vector<std::string> &args, Done done, Progress progress = {});
  /* Stops a waiting or running task: its Done hears code "cancelled".
   * False when there is no such task (any more). */
  bool cancel (guint64 task);
  size_t busy () const
  {
    return running_;
  }

private:
  struct Task;
  void start_next ();
  static void on_communicate (GObject *src, GAsyncResult *res, gpointer data);
  static void on_line (GObject *src, GAsyncResult *res, gpointer data);
  static void on_exit (GObject *src, GAsyncResult *res, gpointer data);
  static gboolean on_timeout (gpointer data);
  void finish (Task *t, const std::string &text, GError *err);
  std::string command_;
  std::vector<std::string> env_;
  int max_running_, timeout_s_;
  size_t running_ = 0;
  guint64 next_id_ = 1;
  std::deque<Task *> pending_;
  std::map<guint64, Task *> started_;
};

} // namespace studio

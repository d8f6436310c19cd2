/* ganvoice-studio: the render job queue, behind one small interface.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The server describes a render by its files and choices (RenderJob) and
 * hears back through a JobListener. LocalJobQueue runs `ganvoice-dub --json`
 * as worker subprocesses on this machine, at most N at once. A queue that
 * hands jobs to workers on other machines (copying the inputs and the result)
 * implements the same interface; nothing else in the server changes. */
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
  std::vector<std::string>
      voices; /* VOICE or SPEAKER=VOICE (names or profile files) */
  std::string log_path; /* the worker's stderr */
  /* The provenance note of the result's tags (ganvoice-dub --provenance):
   * synthetic speech, its voices by name, built-in or clone. */
  std::string provenance;
  /* The dub track's title ("Dub — voice Allison"); "" for the default. */
  std::string title;
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
};

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

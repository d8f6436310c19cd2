/* ganvoice-studio and ganvoice-worker: the PostgreSQL job queue's tables and
 * the statements both sides run on them (libpq).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ganvoice_jobs holds one row per job: its kind (render now; chunk and
 * assemble later), what a worker needs (spec, JSON), its state, the current
 * attempt (the fencing token: every claim adds one, and only the current
 * attempt may report, heartbeat or deliver), and the lease that heartbeats
 * extend. ganvoice_job_events is what workers tell the studio (started,
 * progress, warning, fit, retry, finished); the studio reads and deletes
 * them. Triggers NOTIFY ganvoice_jobs when a job becomes claimable and
 * ganvoice_events when an event is written; polling covers lost
 * notifications. */
#pragma once

#include <glib.h>
#include <libpq-fe.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace studio {

using PgRow = std::map<std::string, std::string>;

/* One libpq connection, reconnected when it breaks. Not thread-safe: one per
 * thread. */
class PgConn {
public:
  PgConn (std::string url, std::string application_name)
      : url_ (std::move (url)), app_ (std::move (application_name))
  {
  }
  ~PgConn ();
  PgConn (const PgConn &) = delete;
  PgConn &operator= (const PgConn &) = delete;

  /* Connects when not connected; false with *error set. */
  bool connect (std::string *error);
  void close ();
  bool connected () const;
  /* Runs one statement with text parameters ($1, $2, …). Rows in *rows;
   * false with *error on failure. A broken connection is reconnected and the
   * statement tried once more when @retry. */
  bool exec (const std::string &sql, const std::vector<std::string> &params,
      std::vector<PgRow> *rows, std::string *error, bool retry = true);
  /* exec(), logging the error; the first row or an empty one. */
  PgRow one (const std::string &sql, const std::vector<std::string> &params,
      bool *ok = nullptr);
  int socket () const;
  /* Reads what arrived on the socket; the channels notified since. False
   * when the connection broke. */
  bool take_notifications (std::vector<std::string> *channels);
  const std::string &url () const
  {
    return url_;
  }

private:
  std::string url_, app_;
  PGconn *conn_ = nullptr;
};

/* LISTEN on one channel of its own connection, watched from the GLib main
 * loop: @notified runs when notifications arrive. When the connection
 * cannot be made or is lost, @say hears why and again() listens anew once
 * @retry_s has passed (call it from a poll timer: notifications are not
 * durable, so the caller polls anyway). */
class PgListener {
public:
  PgListener (std::string url, std::string application_name,
      std::string channel, double retry_s, double poll_s,
      std::function<void ()> notified,
      std::function<void (const std::string &)> say);
  ~PgListener ();
  PgListener (const PgListener &) = delete;
  PgListener &operator= (const PgListener &) = delete;

  /* Listens now; on failure, says so and waits retry_s. */
  void start ();
  /* Listens again when not listening and retry_s has passed. */
  void again ();
  void stop ();

private:
  static gboolean on_socket (gint fd, GIOCondition condition, gpointer data);
  void lost (const std::string &why);
  PgConn conn_;
  std::string channel_;
  double retry_s_, poll_s_;
  std::function<void ()> notified_;
  std::function<void (const std::string &)> say_;
  guint watch_ = 0;
  gint64 again_at_ = 0; /* monotonic µs */
};

/* Creates the tables, indexes and triggers when missing (under an advisory
 * lock, so that several processes may start at once). */
bool pg_create_schema (PgConn &pg, std::string *error);

/* The states of a job row. */
const char *const kPgQueued = "queued";
const char *const kPgRunning = "running";

/* ---- statements (pg.cpp) ---- */
namespace pgsql {
/* $1 worker name, $2 lease seconds: the oldest claimable job (queued and due,
 * or running with an expired lease and attempts left), claimed with the next
 * attempt and a fresh lease, and its "started" event. Returns id, kind, spec,
 * attempt, max_attempts. */
extern const char *const kClaim;
/* $1 id, $2 attempt, $3 lease seconds: extends the lease of the current
 * attempt; no row when the attempt is no longer current. */
extern const char *const kHeartbeat;
/* $1 id, $2 attempt, $3 type, $4 data (JSON): an event of the current
 * attempt of a running job; none for an older attempt. */
extern const char *const kEvent;
/* $1 id, $2 attempt, $3 error: a failed attempt. Queued again after
 * retry_delay * 2^(attempt-1) seconds while attempts are left, else failed;
 * writes a "retry" or "finished" event. Returns state, delay. */
extern const char *const kFail;
/* $1 id, $2 attempt: a worker that stops gives its job back at once; the
 * attempt does not count against the limit. */
extern const char *const kRelease;
/* Running jobs whose lease expired with no attempts left: failed, with their
 * "finished" event. */
extern const char *const kExpire;
} // namespace pgsql

} // namespace studio

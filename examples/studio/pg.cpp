/* ganvoice-studio and ganvoice-worker: the PostgreSQL job queue (pg.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pg.h"

#include <glib-unix.h>

namespace studio {

PgConn::~PgConn ()
{
  close ();
}

void
PgConn::close ()
{
  if (conn_)
    PQfinish (conn_);
  conn_ = nullptr;
}

bool
PgConn::connected () const
{
  return conn_ && PQstatus (conn_) == CONNECTION_OK;
}

bool
PgConn::connect (std::string *error)
{
  if (connected ())
    return true;
  close ();
  const char *keys[] = { "dbname", "application_name", "connect_timeout",
    nullptr };
  const char *values[] = { url_.c_str (), app_.c_str (), "10", nullptr };
  conn_ = PQconnectdbParams (keys, values, 1);
  if (!conn_ || PQstatus (conn_) != CONNECTION_OK) {
    std::string msg = conn_ ? PQerrorMessage (conn_) : "out of memory";
    while (!msg.empty () && (msg.back () == '\n' || msg.back () == ' '))
      msg.pop_back ();
    *error = "cannot connect to the job queue's PostgreSQL: " + msg;
    close ();
    return false;
  }
  /* "already exists, skipping" and the like are not worth a line. */
  PQsetNoticeProcessor (
      conn_, [] (void *, const char *) {}, nullptr);
  return true;
}

int
PgConn::socket () const
{
  return conn_ ? PQsocket (conn_) : -1;
}

bool
PgConn::exec (const std::string &sql, const std::vector<std::string> &params,
    std::vector<PgRow> *rows, std::string *error, bool retry)
{
  for (int round = 0; round < (retry ? 2 : 1); round++) {
    if (!connect (error))
      return false;
    std::vector<const char *> values;
    for (const std::string &p : params)
      values.push_back (p.c_str ());
    PGresult *res = PQexecParams (conn_, sql.c_str (), (int) values.size (),
        nullptr, values.data (), nullptr, nullptr, 0);
    ExecStatusType st = res ? PQresultStatus (res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
      if (rows) {
        int n = PQntuples (res), nf = PQnfields (res);
        for (int i = 0; i < n; i++) {
          PgRow row;
          for (int f = 0; f < nf; f++)
            row[PQfname (res, f)] =
                PQgetisnull (res, i, f) ? "" : PQgetvalue (res, i, f);
          rows->push_back (std::move (row));
        }
      }
      PQclear (res);
      return true;
    }
    std::string msg = res && PQresultErrorMessage (res)[0]
        ? PQresultErrorMessage (res)
        : PQerrorMessage (conn_);
    while (!msg.empty () && (msg.back () == '\n' || msg.back () == ' '))
      msg.pop_back ();
    *error = "PostgreSQL: " + msg;
    if (res)
      PQclear (res);
    if (PQstatus (conn_) == CONNECTION_OK)
      return false; /* an SQL error: trying again would not help */
    close ();
  }
  return false;
}

PgRow
PgConn::one (
    const std::string &sql, const std::vector<std::string> &params, bool *ok)
{
  std::vector<PgRow> rows;
  std::string error;
  bool done = exec (sql, params, &rows, &error);
  if (!done)
    g_warning ("%s", error.c_str ());
  if (ok)
    *ok = done;
  return rows.empty () ? PgRow () : rows[0];
}

bool
PgConn::take_notifications (std::vector<std::string> *channels)
{
  if (!conn_ || !PQconsumeInput (conn_) || PQstatus (conn_) != CONNECTION_OK)
    return false;
  while (PGnotify *n = PQnotifies (conn_)) {
    channels->push_back (n->relname);
    PQfreemem (n);
  }
  return true;
}

PgListener::PgListener (std::string url, std::string application_name,
    std::string channel, double retry_s, double poll_s,
    std::function<void ()> notified,
    std::function<void (const std::string &)> say)
    : conn_ (std::move (url), std::move (application_name)),
      channel_ (std::move (channel)), retry_s_ (retry_s), poll_s_ (poll_s),
      notified_ (std::move (notified)), say_ (std::move (say))
{
}

PgListener::~PgListener ()
{
  stop ();
}

void
PgListener::start ()
{
  std::string error;
  if (!conn_.connect (&error) ||
      !conn_.exec ("LISTEN " + channel_, {}, nullptr, &error, false)) {
    char poll[G_ASCII_DTOSTR_BUF_SIZE];
    lost (error + "; polling every " +
        g_ascii_formatd (poll, sizeof poll, "%g", poll_s_) + " s");
    return;
  }
  watch_ = g_unix_fd_add (conn_.socket (),
      (GIOCondition) (G_IO_IN | G_IO_HUP | G_IO_ERR), on_socket, this);
}

void
PgListener::again ()
{
  if (!watch_ && g_get_monotonic_time () >= again_at_)
    start ();
}

void
PgListener::stop ()
{
  if (watch_)
    g_source_remove (watch_);
  watch_ = 0;
  conn_.close ();
}

void
PgListener::lost (const std::string &why)
{
  say_ (why);
  conn_.close ();
  again_at_ = g_get_monotonic_time () + (gint64) (retry_s_ * G_USEC_PER_SEC);
}

gboolean
PgListener::on_socket (gint, GIOCondition, gpointer data)
{
  PgListener *l = (PgListener *) data;
  std::vector<std::string> channels;
  if (!l->conn_.take_notifications (&channels)) {
    char poll[G_ASCII_DTOSTR_BUF_SIZE], retry[G_ASCII_DTOSTR_BUF_SIZE];
    l->watch_ = 0;
    l->lost (std::string ("the LISTEN connection was lost; polling every ") +
        g_ascii_formatd (poll, sizeof poll, "%g", l->poll_s_) +
        " s, listening again in " +
        g_ascii_formatd (retry, sizeof retry, "%g", l->retry_s_) + " s");
    return G_SOURCE_REMOVE;
  }
  if (!channels.empty ())
    l->notified_ ();
  return G_SOURCE_CONTINUE;
}

/* SQL in raw strings, left as written. */
// clang-format off
static const char *kSchema = R"SQL(
BEGIN;
SELECT pg_advisory_xact_lock(7319021);
CREATE TABLE IF NOT EXISTS ganvoice_jobs (
  id text PRIMARY KEY,
  kind text NOT NULL DEFAULT 'render',   -- render; later chunk, assemble
  parent text,                            -- the job a chunk belongs to
  spec text NOT NULL,                     -- JSON: what the worker needs
  state text NOT NULL DEFAULT 'queued',   -- queued, running, done, failed, cancelled
  attempt integer NOT NULL DEFAULT 0,     -- the current claim: the fencing token
  max_attempts integer NOT NULL DEFAULT 3,
  retry_delay double precision NOT NULL DEFAULT 30, -- doubles per attempt
  worker text NOT NULL DEFAULT '',
  lease_until timestamptz,
  run_after timestamptz NOT NULL DEFAULT now(),
  error text NOT NULL DEFAULT '',
  result_sha256 text NOT NULL DEFAULT '',
  created timestamptz NOT NULL DEFAULT now(),
  updated timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ganvoice_jobs_claimable
  ON ganvoice_jobs (created) WHERE state IN ('queued', 'running');
CREATE TABLE IF NOT EXISTS ganvoice_job_events (
  seq bigserial PRIMARY KEY,
  job text NOT NULL,
  attempt integer NOT NULL,
  type text NOT NULL,   -- started, progress, warning, fit, retry, finished
  data text NOT NULL DEFAULT '{}',
  created timestamptz NOT NULL DEFAULT now()
);
-- Per row, so that a statement that writes nothing notifies no one (one
-- notification per transaction and channel reaches the listeners).
CREATE OR REPLACE FUNCTION ganvoice_notify_jobs() RETURNS trigger
  LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('ganvoice_jobs', ''); RETURN NULL; END $$;
CREATE OR REPLACE TRIGGER ganvoice_jobs_claimable
  AFTER INSERT OR UPDATE ON ganvoice_jobs
  FOR EACH ROW WHEN (NEW.state = 'queued') EXECUTE FUNCTION ganvoice_notify_jobs();
CREATE OR REPLACE FUNCTION ganvoice_notify_events() RETURNS trigger
  LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('ganvoice_events', ''); RETURN NULL; END $$;
CREATE OR REPLACE TRIGGER ganvoice_job_events_written
  AFTER INSERT ON ganvoice_job_events
  FOR EACH ROW EXECUTE FUNCTION ganvoice_notify_events();
COMMIT;
)SQL";

namespace pgsql {

const char *const kClaim = R"SQL(
WITH next AS (
  SELECT id FROM ganvoice_jobs
   WHERE attempt < max_attempts
     AND ((state = 'queued' AND run_after <= now())
       OR (state = 'running' AND lease_until < now()))
   ORDER BY created, id
   LIMIT 1 FOR UPDATE SKIP LOCKED),
claimed AS (
  UPDATE ganvoice_jobs j SET state = 'running', attempt = j.attempt + 1,
         worker = $1, updated = now(),
         lease_until = now() + make_interval(secs => $2::double precision)
    FROM next WHERE j.id = next.id
  RETURNING j.id, j.kind, j.spec, j.attempt, j.max_attempts, j.worker),
started AS (
  INSERT INTO ganvoice_job_events (job, attempt, type, data)
  SELECT id, attempt, 'started', json_build_object('worker', worker)::text
    FROM claimed)
SELECT id, kind, spec, attempt, max_attempts FROM claimed
)SQL";

const char *const kHeartbeat = R"SQL(
UPDATE ganvoice_jobs
   SET lease_until = now() + make_interval(secs => $3::double precision),
       updated = now()
 WHERE id = $1 AND attempt = $2::integer AND state = 'running'
RETURNING attempt
)SQL";

const char *const kEvent = R"SQL(
INSERT INTO ganvoice_job_events (job, attempt, type, data)
SELECT id, attempt, $3, $4 FROM ganvoice_jobs
 WHERE id = $1 AND attempt = $2::integer AND state = 'running'
   FOR SHARE
RETURNING seq
)SQL";

const char *const kFail = R"SQL(
WITH failed AS (
  UPDATE ganvoice_jobs SET
    state = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'queued' END,
    run_after = now() + make_interval(secs => retry_delay * power(2, attempt - 1)),
    error = $3, lease_until = NULL, worker = '', updated = now()
  WHERE id = $1 AND attempt = $2::integer AND state = 'running'
  RETURNING id, attempt, max_attempts, state, error,
            retry_delay * power(2, attempt - 1) AS delay),
ev AS (
  INSERT INTO ganvoice_job_events (job, attempt, type, data)
  SELECT id, attempt, CASE WHEN state = 'failed' THEN 'finished' ELSE 'retry' END,
         json_build_object('ok', false, 'error', error, 'attempt', attempt,
                           'max_attempts', max_attempts, 'delay', delay)::text
    FROM failed)
SELECT state, delay FROM failed
)SQL";

const char *const kRelease = R"SQL(
UPDATE ganvoice_jobs
   SET state = 'queued', run_after = now(), lease_until = NULL, worker = '',
       max_attempts = max_attempts + 1, updated = now()
 WHERE id = $1 AND attempt = $2::integer AND state = 'running'
RETURNING id
)SQL";

const char *const kExpire = R"SQL(
WITH dead AS (
  UPDATE ganvoice_jobs SET state = 'failed', lease_until = NULL, updated = now(),
    error = 'The worker rendering this video stopped answering (attempt '
            || attempt || ' of ' || max_attempts || '); the render was given up.'
  WHERE state = 'running' AND lease_until < now() AND attempt >= max_attempts
  RETURNING id, attempt, error)
INSERT INTO ganvoice_job_events (job, attempt, type, data)
SELECT id, attempt, 'finished', json_build_object('ok', false, 'error', error)::text
  FROM dead
)SQL";

} // namespace pgsql
// clang-format on

bool
pg_create_schema (PgConn &pg, std::string *error)
{
  if (!pg.connect (error))
    return false;
  std::string sql = kSchema;
  /* exec() uses the extended protocol (one statement at a time). */
  size_t from = 0;
  while (from < sql.size ()) {
    /* Statements end with ";\n" except inside the $$ bodies, which hold
     * "; " only. */
    size_t end = sql.find (";\n", from);
    if (end == std::string::npos)
      end = sql.size ();
    std::string stmt = sql.substr (from, end - from);
    from = end + 2;
    if (stmt.find_first_not_of (" \n") == std::string::npos)
      continue;
    if (!pg.exec (stmt, {}, nullptr, error, false)) {
      std::string ignored;
      pg.exec ("ROLLBACK", {}, nullptr, &ignored, false);
      *error = "cannot create the job queue's tables: " + *error;
      return false;
    }
  }
  return true;
}

} // namespace studio

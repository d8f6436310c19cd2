/* ganvoice-studio: SQLite persistence.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "db.h"

#include <glib.h>

namespace studio {

/* The schema is SQL in a raw string, left as written. */
// clang-format off
static const char *kSchema = R"SQL(
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS projects (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  video TEXT,            -- upload id of the video
  subtitles TEXT,        -- upload id of the subtitle file
  edited INTEGER NOT NULL DEFAULT 0,   -- cues edited in the page (edited.json)
  settings TEXT NOT NULL DEFAULT '{}', -- default voice, speaker voices, mode
  created INTEGER NOT NULL,
  owner TEXT NOT NULL DEFAULT '',      -- SHA-256 of the owner key ('' none)
  updated INTEGER NOT NULL DEFAULT 0   -- last use (the clean-up's age)
);
CREATE TABLE IF NOT EXISTS owners (   -- owner keys seen (SHA-256)
  id TEXT PRIMARY KEY,
  seen INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS uploads (
  id TEXT PRIMARY KEY,
  project TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,    -- video, subtitles, recording
  name TEXT NOT NULL,    -- the user's file name, for display only
  size INTEGER NOT NULL,
  state TEXT NOT NULL,   -- receiving, checking, ready, rejected
  info TEXT NOT NULL DEFAULT '{}',
  error TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS profiles (
  id TEXT PRIMARY KEY,
  project TEXT NOT NULL, -- where it was made; an owned voice outlives it
  owner TEXT NOT NULL DEFAULT '', -- the owner's voice library ('' none)
  name TEXT NOT NULL,
  upload TEXT NOT NULL,  -- the recording
  state TEXT NOT NULL,   -- making, ready, failed
  error TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL,
  adapt INTEGER NOT NULL DEFAULT 0, -- 1: made with the opt-in adapt step
  reading TEXT NOT NULL DEFAULT '', -- a deep clone: the reading it was trained on
  consent_by TEXT NOT NULL DEFAULT '',       -- who confirmed the consent statement
  consent_at TEXT NOT NULL DEFAULT '',       -- when (UTC, ISO 8601)
  consent_statement TEXT NOT NULL DEFAULT '' -- the statement they confirmed
);
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  project TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  state TEXT NOT NULL,   -- queued, running, done, failed, cancelled
  percent REAL NOT NULL DEFAULT 0,
  eta REAL NOT NULL DEFAULT -1,
  options TEXT NOT NULL DEFAULT '{}',
  output TEXT NOT NULL DEFAULT '',   -- file name of the result in results/
  error TEXT NOT NULL DEFAULT '',
  warnings TEXT NOT NULL DEFAULT '[]',
  fits TEXT NOT NULL DEFAULT '[]',   -- cues whose speech did not fit, and what was done
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS readings (  -- "Read to me": deep clones
  id TEXT PRIMARY KEY,
  project TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  language TEXT NOT NULL,  -- the prompt list: en, es, ...
  name TEXT NOT NULL,      -- of the voice
  gender TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,     -- reading, queued, training, done, failed, cancelled
  cancelling INTEGER NOT NULL DEFAULT 0,
  progress TEXT NOT NULL DEFAULT '',   -- the last progress (JSON)
  options TEXT NOT NULL DEFAULT '{}',  -- time_limit, max_steps
  profile TEXT NOT NULL DEFAULT '',    -- the voice it made
  error TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  consent_by TEXT NOT NULL DEFAULT '',       -- as for profiles
  consent_at TEXT NOT NULL DEFAULT '',
  consent_statement TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS takes (
  reading TEXT NOT NULL REFERENCES readings(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,        -- the sentence, from 0
  check_json TEXT NOT NULL,    -- what the check measured, and the problems
  ok INTEGER NOT NULL,
  speech REAL NOT NULL,        -- seconds of speech
  created INTEGER NOT NULL,
  PRIMARY KEY (reading, idx)
);
CREATE INDEX IF NOT EXISTS uploads_project ON uploads(project);
CREATE INDEX IF NOT EXISTS readings_project ON readings(project);
CREATE INDEX IF NOT EXISTS profiles_project ON profiles(project);

CREATE INDEX IF NOT EXISTS jobs_project ON jobs(project);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
)SQL";
// clang-format on

Db::~Db ()
{
  if (db_)
    sqlite3_close (db_);
}

bool
Db::open (const std::string &path, std::string *error)
{
  if (sqlite3_open_v2 (path.c_str (), &db_,
          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
          nullptr) != SQLITE_OK) {
    *error = path + ": " + (db_ ? sqlite3_errmsg (db_) : "cannot open");
    return false;
  }
  sqlite3_busy_timeout (db_, 5000);
  char *msg = nullptr;
  if (sqlite3_exec (db_, kSchema, nullptr, nullptr, &msg) != SQLITE_OK) {
    *error = path + ": " + (msg ? msg : "schema failed");
    sqlite3_free (msg);
    return false;
  }
  /* Databases from before a column was added lack it. */
  struct Added {
    const char *table, *column, *type;
  };
  static const Added kAdded[] = {
    { "profiles", "adapt", "INTEGER NOT NULL DEFAULT 0" },
    { "profiles", "reading", "TEXT NOT NULL DEFAULT ''" },
    { "profiles", "consent_by", "TEXT NOT NULL DEFAULT ''" },
    { "profiles", "consent_at", "TEXT NOT NULL DEFAULT ''" },
    { "profiles", "consent_statement", "TEXT NOT NULL DEFAULT ''" },
    { "readings", "consent_by", "TEXT NOT NULL DEFAULT ''" },
    { "readings", "consent_at", "TEXT NOT NULL DEFAULT ''" },
    { "readings", "consent_statement", "TEXT NOT NULL DEFAULT ''" },
    { "jobs", "fits", "TEXT NOT NULL DEFAULT '[]'" },
    { "projects", "owner", "TEXT NOT NULL DEFAULT ''" },
    { "projects", "updated", "INTEGER NOT NULL DEFAULT 0" },
    { "profiles", "owner", "TEXT NOT NULL DEFAULT ''" },
  };
  for (const Added &a : kAdded) {
    std::vector<Row> columns;
    exec (std::string ("PRAGMA table_info(") + a.table + ")", {}, &columns);
    bool has = false;
    for (const Row &c : columns)
      has = has || c.at ("name") == a.column;
    if (!has &&
        !exec (std::string ("ALTER TABLE ") + a.table + " ADD COLUMN " +
                a.column + " " + a.type,
            {})) {
      *error = path + ": cannot add the " + a.table + "." + a.column +
          " column: " + sqlite3_errmsg (db_);
      return false;
    }
  }
  /* Projects from before the clean-up count as used now. */
  exec ("UPDATE projects SET updated = ? WHERE updated = 0",
      { (long long) (g_get_real_time () / G_USEC_PER_SEC) });
  /* Voices were deleted with their project (a foreign key); an owner's
   * voice now outlives it: the table is rebuilt without the key. */
  Row profiles =
      one ("SELECT sql FROM sqlite_master WHERE name = 'profiles'", {});
  if (profiles["sql"].find ("REFERENCES") != std::string::npos) {
    std::vector<Row> columns;
    exec ("PRAGMA table_info(profiles)", {}, &columns);
    std::string names;
    for (const Row &c : columns)
      names += (names.empty () ? "" : ", ") + c.at ("name");
    std::string table = profiles["sql"];
    size_t at = table.find ("REFERENCES");
    size_t comma = table.find (',', at);
    table.erase (at, comma - at);
    table.replace (table.find ("profiles"), 8, "profiles_new");
    if (!exec ("PRAGMA foreign_keys = OFF") || !exec ("BEGIN") ||
        !exec (table) ||
        !exec ("INSERT INTO profiles_new (" + names + ") SELECT " + names +
            " FROM profiles") ||
        !exec ("DROP TABLE profiles") ||
        !exec ("ALTER TABLE profiles_new RENAME TO profiles") ||
        !exec ("CREATE INDEX IF NOT EXISTS profiles_project ON "
               "profiles(project)") ||
        !exec ("COMMIT") || !exec ("PRAGMA foreign_keys = ON")) {
      exec ("ROLLBACK");
      exec ("PRAGMA foreign_keys = ON");
      *error = path + ": cannot update the profiles table";
      return false;
    }
  }
  exec ("CREATE INDEX IF NOT EXISTS profiles_owner ON profiles(owner)");
  exec ("CREATE INDEX IF NOT EXISTS projects_owner ON projects(owner)");
  return true;
}

bool
Db::exec (const std::string &sql, const std::vector<Value> &args,
    std::vector<Row> *rows)
{
  sqlite3_stmt *st = nullptr;
  if (sqlite3_prepare_v2 (db_, sql.c_str (), -1, &st, nullptr) != SQLITE_OK) {
    g_warning ("SQL %s: %s", sql.c_str (), sqlite3_errmsg (db_));
    return false;
  }
  for (size_t i = 0; i < args.size (); i++) {
    const Value &v = args[i];
    int k = (int) i + 1;
    if (v.is_null)
      sqlite3_bind_null (st, k);
    else if (v.is_int)
      sqlite3_bind_int64 (st, k, v.number);
    else
      sqlite3_bind_text (
          st, k, v.text.c_str (), (int) v.text.size (), SQLITE_TRANSIENT);
  }
  int rc;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW) {
    if (!rows)
      continue;
    Row row;
    int n = sqlite3_column_count (st);
    for (int c = 0; c < n; c++) {
      const unsigned char *t = sqlite3_column_text (st, c);
      row[sqlite3_column_name (st, c)] = t ? (const char *) t : "";
    }
    rows->push_back (std::move (row));
  }
  bool ok = rc == SQLITE_DONE;
  if (!ok)
    g_warning ("SQL %s: %s", sql.c_str (), sqlite3_errmsg (db_));
  sqlite3_finalize (st);
  return ok;
}

Row
Db::one (const std::string &sql, const std::vector<Value> &args)
{
  std::vector<Row> rows;
  exec (sql, args, &rows);
  return rows.empty () ? Row () : rows[0];
}

std::vector<Row>
Db::all (const std::string &sql, const std::vector<Value> &args)
{
  std::vector<Row> rows;
  exec (sql, args, &rows);
  return rows;
}

long long
Db::changes () const
{
  return sqlite3_changes (db_);
}

} // namespace studio

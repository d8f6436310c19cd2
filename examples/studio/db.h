/* ganvoice-studio: SQLite persistence of projects, uploads, profiles, jobs.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sqlite3.h>

#include <map>
#include <string>
#include <vector>

namespace studio {

/* One result row: column name -> text (NULL reads as ""). */
using Row = std::map<std::string, std::string>;

/* A bound value: text, or an integer when is_int, or NULL when is_null. */
struct Value {
  std::string text;
  long long number = 0;
  bool is_int = false;
  bool is_null = false;
  Value (const std::string &s) : text (s)
  {
  }
  Value (const char *s) : text (s ? s : ""), is_null (s == nullptr)
  {
  }
  Value (long long n) : number (n), is_int (true)
  {
  }
  Value (int n) : number (n), is_int (true)
  {
  }
  Value (double d) : text (std::to_string (d))
  {
  }
};

class Db {
public:
  ~Db ();
  /* Opens (creating) the database and its schema; false with *error set. */
  bool open (const std::string &path, std::string *error);
  /* Runs one statement. Returns false (and logs) on an SQL error. */
  bool exec (const std::string &sql, const std::vector<Value> &args = {},
      std::vector<Row> *rows = nullptr);
  /* First row or an empty map. */
  Row one (const std::string &sql, const std::vector<Value> &args);
  std::vector<Row> all (const std::string &sql, const std::vector<Value> &args);
  long long changes () const;

private:
  sqlite3 *db_ = nullptr;
};

} // namespace studio

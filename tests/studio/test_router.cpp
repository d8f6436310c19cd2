/* Unit test of the studio's route matcher (examples/studio/router.cpp):
 * methods and paths against a table shaped like the studio's, to the route
 * and parameters they pick, or a 404, or a 405 with its Allow list.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "router.h"

#include <glib.h>

#include <string>
#include <vector>

using studio::Auth;
using studio::match_route;
using studio::Route;
using studio::RouteMatch;

namespace {

/* The matcher never calls handlers; the test tells routes apart by index. */
void
no_handler (studio::Server *, SoupServerMessage *, const RouteMatch &)
{
}

const std::vector<Route> kTable = {
  { "GET", "/", no_handler, Auth::none }, /* 0 */
  { "HEAD", "/", no_handler, Auth::none }, /* 1 */
  { "GET", "/{file}", no_handler, Auth::none }, /* 2 */
  { "POST", "/api/projects", no_handler, Auth::none }, /* 3 */
  { "GET", "/api/projects/{project}", no_handler, Auth::project_token }, /* 4 */
  { "DELETE", "/api/projects/{project}", no_handler,
      Auth::project_token }, /* 5 */
  { "GET", "/api/projects/{project}/jobs/{job}", no_handler,
      Auth::project_token }, /* 6 */
  { "DELETE", "/api/projects/{project}/jobs/{job}", no_handler,
      Auth::project_token }, /* 7 */
  { "GET", "/api/projects/{project}/jobs/{job}/result", no_handler,
      Auth::project_token }, /* 8 */
  /* A parameter before a literal at the same place: the first wins. */
  { "GET", "/api/voices/{voice}", no_handler, Auth::none }, /* 9 */
  { "GET", "/api/voices/all", no_handler, Auth::none }, /* 10 */
  { "PUT", "/api/voices/all", no_handler, Auth::none }, /* 11 */
};

struct Case {
  const char *method, *path;
  int route; /* index in kTable; -1: none */
  const char *params; /* "name=value;…" in name order */
  const char *allow; /* when route is -1: "" for 404, else the 405's */
};

const Case kCases[] = {
  { "GET", "/", 0, "", "" },
  { "HEAD", "/", 1, "", "" },
  { "GET", "/index.html", 2, "file=index.html", "" },
  { "POST", "/", -1, "", "GET, HEAD" },
  { "POST", "/app.js", -1, "", "GET" },
  { "GET", "/a/b", -1, "", "" },
  { "POST", "/api/projects", 3, "", "" },
  { "GET", "/api/projects", -1, "", "POST" },
  { "GET", "/api/projects/0123456789abcdef", 4, "project=0123456789abcdef",
      "" },
  { "DELETE", "/api/projects/p", 5, "project=p", "" },
  { "PATCH", "/api/projects/p", -1, "", "GET, DELETE" },
  { "GET", "/api/projects/p/jobs/j", 6, "job=j;project=p", "" },
  { "DELETE", "/api/projects/p/jobs/j", 7, "job=j;project=p", "" },
  { "POST", "/api/projects/p/jobs/j", -1, "", "GET, DELETE" },
  { "GET", "/api/projects/p/jobs/j/result", 8, "job=j;project=p", "" },
  { "HEAD", "/api/projects/p/jobs/j/result", -1, "", "GET" },
  { "GET", "/api/projects/p/jobs/j/other", -1, "", "" },
  { "GET", "/api/projects/p/nothing", -1, "", "" },
  { "GET", "/api/projects/p/jobs/j/result/more", -1, "", "" },
  /* Empty segments do not count. */
  { "GET", "//api//projects/p/jobs/j/", 6, "job=j;project=p", "" },
  { "GET", "/api/projects/p/", 4, "project=p", "" },
  /* Methods are case-sensitive (RFC 9110). */
  { "get", "/api/projects/p", -1, "", "GET, DELETE" },
  /* First match wins; the Allow list names each method once. */
  { "GET", "/api/voices/all", 9, "voice=all", "" },
  { "PUT", "/api/voices/all", 11, "", "" },
  { "POST", "/api/voices/all", -1, "", "GET, PUT" },
  { "PUT", "/api/voices/ana", -1, "", "GET" },
  /* Segments are compared as they come: no decoding. */
  { "GET", "/api/projects/..%2f..", 4, "project=..%2f..", "" },
};

std::string
params_of (const RouteMatch &m)
{
  std::string s;
  for (const auto &p : m.params)
    s += (s.empty () ? "" : ";") + p.first + "=" + p.second;
  return s;
}

void
test_table (void)
{
  for (const Case &c : kCases) {
    RouteMatch m = match_route (kTable, c.method, c.path);
    int index = m.route ? (int) (m.route - kTable.data ()) : -1;
    /* g_assert_cmpstr keeps the pointer: no temporaries in it. */
    std::string params = params_of (m);
    g_test_message ("%s %s", c.method, c.path);
    g_assert_cmpint (index, ==, c.route);
    g_assert_cmpstr (params.c_str (), ==, c.params);
    g_assert_cmpstr (m.allow.c_str (), ==, c.allow);
  }
}

void
test_param_and_query (void)
{
  RouteMatch m = match_route (kTable, "GET", "/api/projects/p/jobs/j");
  g_assert_cmpstr (m.param ("job").c_str (), ==, "j");
  g_assert_cmpstr (m.param ("upload").c_str (), ==, "");
  g_assert_true (m.query_value ("token").empty ());
  GHashTable *query = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (query, (gpointer) "token", (gpointer) "abc");
  m.query = query;
  g_assert_true (m.query_value ("token") == "abc");
  g_assert_true (m.query_value ("offset").empty ());
  g_hash_table_unref (query);
}

void
test_split_path (void)
{
  std::vector<std::string> parts = studio::split_path ("//a/b//c/");
  g_assert_cmpuint (parts.size (), ==, 3);
  g_assert_cmpstr (parts[0].c_str (), ==, "a");
  g_assert_cmpstr (parts[2].c_str (), ==, "c");
  g_assert_cmpuint (studio::split_path ("/").size (), ==, 0);
}

} // namespace

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, nullptr);
  g_test_add_func ("/router/table", test_table);
  g_test_add_func ("/router/param-and-query", test_param_and_query);
  g_test_add_func ("/router/split-path", test_split_path);
  return g_test_run ();
}

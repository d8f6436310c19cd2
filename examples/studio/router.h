/* ganvoice-studio: the router, a table of routes and the matcher that picks
 * one for a request's method and path.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A route's pattern is its path with `{name}` for a segment that becomes a
 * parameter, e.g. "/api/projects/{project}/jobs/{job}". Paths are compared
 * segment by segment; empty segments ("//", a trailing "/") are ignored. */
#pragma once

#include <glib.h>
#include <libsoup/soup.h>

#include <map>
#include <string>
#include <vector>

namespace studio {

class Server;
struct RouteMatch;

/* What a route asks of the request before its handler runs. */
enum class Auth
{
  none,
  /* {project} names a project and the request carries its token
   * (X-Studio-Token or ?token=). */
  project_token,
  /* The workers' token (Authorization: Bearer …), not a project's. */
  worker_token,
};

using RouteHandler = void (*) (
    Server *s, SoupServerMessage *msg, const RouteMatch &m);

struct Route {
  const char *method; /* "GET", "HEAD", "POST", … */
  const char *pattern;
  RouteHandler handler;
  Auth auth;
  /* Runs when the headers have arrived, before the body: may answer at once,
   * or say where the body goes (an upload's chunk). nullptr: the body is
   * collected as JSON, at most 1 MiB. */
  RouteHandler early = nullptr;
};

struct RouteMatch {
  const Route *route = nullptr; /* nullptr: no route for this method */
  std::map<std::string, std::string> params;
  /* When no route matched the method but some matched the path: their
   * methods, for a 405's Allow header ("GET, DELETE"). Empty: a 404. */
  std::string allow;
  GHashTable *query = nullptr; /* the URL's query; set by the dispatcher */

  /* A path parameter ("" when the route has none of that name). */
  const std::string &param (const char *name) const;
  /* A query value ("" when missing). */
  std::string query_value (const char *key) const;
};

/* The path's non-empty segments. */
std::vector<std::string> split_path (const char *path);

/* The first route of @routes whose method and pattern fit; otherwise the
 * methods of those whose pattern fits (405), or nothing (404). */
RouteMatch match_route (const std::vector<Route> &routes,
    const std::string &method, const char *path);

} // namespace studio

/* ganvoice-studio: the route matcher (see router.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "router.h"

#include <algorithm>

namespace studio {

namespace {

/* Whether @pattern's segments fit @path's; fills @params when they do. */
bool
pattern_fits (const std::vector<std::string> &pattern,
    const std::vector<std::string> &path,
    std::map<std::string, std::string> *params)
{
  if (pattern.size () != path.size ())
    return false;
  std::map<std::string, std::string> found;
  for (size_t i = 0; i < pattern.size (); i++) {
    const std::string &p = pattern[i];
    if (p.size () > 2 && p.front () == '{' && p.back () == '}')
      found[p.substr (1, p.size () - 2)] = path[i];
    else if (p != path[i])
      return false;
  }
  *params = std::move (found);
  return true;
}

} // namespace

const std::string &
RouteMatch::param (const char *name) const
{
  static const std::string none;
  auto it = params.find (name);
  return it == params.end () ? none : it->second;
}

std::string
RouteMatch::query_value (const char *key) const
{
  if (!query)
    return "";
  const char *v = (const char *) g_hash_table_lookup (query, key);
  return v ? v : "";
}

std::vector<std::string>
split_path (const char *path)
{
  std::vector<std::string> parts;
  gchar **v = g_strsplit (path, "/", 0);
  for (gchar **p = v; *p; p++)
    if (**p)
      parts.push_back (*p);
  g_strfreev (v);
  return parts;
}

RouteMatch
match_route (const std::vector<Route> &routes, const std::string &method,
    const char *path)
{
  RouteMatch m;
  std::vector<std::string> segments = split_path (path);
  std::vector<std::string> allowed;
  for (const Route &r : routes) {
    std::map<std::string, std::string> params;
    if (!pattern_fits (split_path (r.pattern), segments, &params))
      continue;
    if (method == r.method) {
      m.route = &r;
      m.params = std::move (params);
      return m;
    }
    if (std::find (allowed.begin (), allowed.end (), r.method) ==
        allowed.end ())
      allowed.push_back (r.method);
  }
  for (const std::string &a : allowed)
    m.allow += (m.allow.empty () ? "" : ", ") + a;
  return m;
}

} // namespace studio

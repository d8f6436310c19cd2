/* ganvoice-dub: the output file.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "output.h"

#include "report.h"

#include <glib/gstdio.h>

#include <cerrno>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

namespace dub {

void
remove_temp (App *app)
{
  if (!app->temp.empty ()) {
    g_unlink (app->temp.c_str ());
    app->temp.clear ();
  }
}

/* OUTPUT.partXXXXXX beside OUTPUT. */
bool
make_temp (App *app)
{
  std::string templ = app->opt.output + ".partXXXXXX";
  std::vector<char> buf (templ.begin (), templ.end ());
  buf.push_back ('\0');
  int fd = g_mkstemp (buf.data ());
  if (fd < 0) {
    fail (app, "%s: cannot write beside it: %s", app->opt.output.c_str (),
        g_strerror (errno));
    return false;
  }
  mode_t mask = umask (0);
  umask (mask);
  fchmod (fd, 0666 & ~mask);
  close (fd);
  app->temp = buf.data ();
  return true;
}

bool
choose_container (App *app)
{
  gchar *lower = g_ascii_strdown (app->opt.output.c_str (), -1);
  bool ok = true;
  if (g_str_has_suffix (lower, ".mkv") || g_str_has_suffix (lower, ".mka"))
    app->container = Container::Matroska;
  else if (g_str_has_suffix (lower, ".webm"))
    app->container = Container::WebM;
  else if (g_str_has_suffix (lower, ".mp4") ||
      g_str_has_suffix (lower, ".m4v") || g_str_has_suffix (lower, ".mov"))
    app->container = Container::Mp4;
  else {
    fail (app, "%s: unsupported output format: name it .mkv, .webm or .mp4",
        app->opt.output.c_str ());
    ok = false;
  }
  g_free (lower);
  if (ok && app->opt.embed_subtitles && app->container != Container::Matroska) {
    fail (app, "--embed-subtitles needs a Matroska (.mkv) output");
    ok = false;
  }
  return ok;
}

} // namespace dub

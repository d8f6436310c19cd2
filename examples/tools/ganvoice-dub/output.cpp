/* ganvoice-dub: the output file.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "output.h"

#include "report.h"

#include <glib/gstdio.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
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

namespace {

/* An EBML size of @width bytes at @p, or -1 when it is not one. */
gint64
ebml_size (const guchar *p, int width)
{
  if (width < 1 || width > 8 || (p[0] & (0x80 >> (width - 1))) == 0 ||
      (p[0] >> (8 - width + 1)) != 0)
    return -1;
  guint64 v = p[0] & (0xFF >> width);
  for (int i = 1; i < width; i++)
    v = (v << 8) | p[i];
  return (gint64) v;
}

/* @v as an EBML size of @width bytes. */
void
put_ebml_size (guchar *p, int width, guint64 v)
{
  for (int i = width - 1; i > 0; i--, v >>= 8)
    p[i] = (guchar) (v & 0xFF);
  p[0] = (guchar) ((0x80 >> (width - 1)) | v);
}

} // namespace

bool
unquote_matroska_tag (App *app, const std::string &value)
{
  if (app->container == Container::Mp4 || value.empty ())
    return true;
  GValue v = G_VALUE_INIT;
  g_value_init (&v, G_TYPE_STRING);
  g_value_set_string (&v, value.c_str ());
  gchar *ser = gst_value_serialize (&v);
  g_value_unset (&v);
  std::string quoted = ser ? ser : "";
  g_free (ser);
  if (quoted == value)
    return true; /* written as is */
  const size_t n = quoted.size (), m = value.size ();
  if (n < m + 2)
    return false;
  /* matroskamux writes the tags at the end: the last 4 MiB hold them. */
  FILE *f = fopen (app->temp.c_str (), "r+b");
  if (!f)
    return false;
  fseek (f, 0, SEEK_END);
  long size = ftell (f);
  long from = size > 4 * 1024 * 1024 ? size - 4 * 1024 * 1024 : 0;
  std::vector<guchar> tail ((size_t) (size - from));
  fseek (f, from, SEEK_SET);
  bool ok = fread (tail.data (), 1, tail.size (), f) == tail.size ();
  bool patched = false;
  for (size_t at = 0; ok && !patched && at + n <= tail.size (); at++) {
    if (memcmp (tail.data () + at, quoted.data (), n) != 0)
      continue;
    /* TagString (0x4487), its size, then the text (with the NUL that
     * GStreamer's EBML writer ends strings with, or without). */
    for (int w = 1; w <= 8 && !patched; w++) {
      if (at < (size_t) w + 2)
        break;
      guchar *id = tail.data () + at - w - 2;
      gint64 total = ebml_size (id + 2, w);
      if (id[0] != 0x44 || id[1] != 0x87 ||
          (total != (gint64) n && total != (gint64) n + 1))
        continue;
      const size_t nul = (size_t) total - n;
      /* The plain text (and its NUL), then a Void (0xEC) over the bytes
       * left. */
      const size_t rest = n - m; /* >= 2 */
      std::vector<guchar> out (n + nul, 0);
      memcpy (out.data (), value.data (), m);
      std::vector<guchar> size_field (w);
      put_ebml_size (size_field.data (), w, m + nul);
      guchar *pad = out.data () + m + nul;
      if (rest - 2 < 127) {
        pad[0] = 0xEC;
        pad[1] = (guchar) (0x80 | (rest - 2));
      } else if (rest >= 9) {
        pad[0] = 0xEC;
        put_ebml_size (pad + 1, 8, rest - 9);
      } else {
        break;
      }
      ok = fseek (f, from + (long) (at - w), SEEK_SET) == 0 &&
          fwrite (size_field.data (), 1, w, f) == (size_t) w &&
          fwrite (out.data (), 1, out.size (), f) == out.size ();
      patched = ok;
    }
  }
  if (fclose (f) != 0)
    ok = false;
  if (!patched)
    warn (app, "%s: could not write the tag \"%s\" in plain text",
        app->opt.output.c_str (), value.c_str ());
  return ok && patched;
}

} // namespace dub

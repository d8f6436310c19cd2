/* ganvoice-dub: the output file.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "output.h"

#include "report.h"

#include <glib/gstdio.h>

#include <cerrno>
#include <cstdio>
#include <algorithm>
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
  for (const std::string &path : app->temps)
    g_unlink (path.c_str ());
  app->temps.clear ();
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

namespace {

/* An EBML element's head at @at of @d: its ID (with the length marker),
 * the width of its size and the size (-1: unknown). False past @end. */
bool
ebml_head (const std::vector<guchar> &d, size_t at, size_t end, guint32 *id,
    int *width, gint64 *size)
{
  if (at >= end)
    return false;
  int idw = 1;
  while (idw <= 4 && !(d[at] & (0x80 >> (idw - 1))))
    idw++;
  if (idw > 4 || at + idw >= end)
    return false;
  *id = 0;
  for (int i = 0; i < idw; i++)
    *id = (*id << 8) | d[at + i];
  int w = 1;
  while (w <= 8 && !(d[at + idw] & (0x80 >> (w - 1))))
    w++;
  if (w > 8 || at + idw + w > end)
    return false;
  *width = idw * 16 + w; /* both widths: ID in the high part */
  *size = ebml_size (&d[at + idw], w);
  guint64 all_ones = (1ULL << (7 * w)) - 1;
  if ((guint64) *size == all_ones)
    *size = -1;
  return true;
}

} // namespace

bool
mark_dub_default (App *app)
{
  if (app->container == Container::Mp4)
    return true;
  FILE *f = fopen (app->temp.c_str (), "r+b");
  if (!f)
    return false;
  /* The track list is near the start. */
  std::vector<guchar> d (1 << 20);
  d.resize (fread (d.data (), 1, d.size (), f));
  const size_t n = d.size ();
  guint32 id;
  int w;
  gint64 size;
  size_t at = 0;
  int patched = 0, others = 0;
  bool ok = true;
  /* The EBML header, then the Segment's children up to Tracks. */
  if (!ebml_head (d, 0, n, &id, &w, &size) || id != 0x1A45DFA3 || size < 0)
    ok = false;
  at = ok ? (w >> 4) + (w & 15) + (size_t) size : 0;
  if (ok && (!ebml_head (d, at, n, &id, &w, &size) || id != 0x18538067))
    ok = false;
  at += (w >> 4) + (w & 15);
  size_t tracks = 0, tracks_end = 0;
  while (ok && !tracks && ebml_head (d, at, n, &id, &w, &size) && size >= 0) {
    size_t body = at + (w >> 4) + (w & 15);
    if (id == 0x1654AE6B) {
      tracks = body;
      tracks_end = std::min (n, body + (size_t) size);
    }
    if (id == 0x1F43B675) /* a Cluster: no Tracks before it */
      break;
    at = body + (size_t) size;
  }
  /* Each audio TrackEntry that is not the dub (named by its title) gets
   * FlagDefault 0: written over its FlagDefault, or in the bytes its Audio
   * element's 8-byte size wastes (the size in 1 byte, then FlagDefault and
   * an EBML Void), so the file keeps its length and offsets. */
  for (at = tracks; ok && tracks && at < tracks_end;) {
    if (!ebml_head (d, at, tracks_end, &id, &w, &size) || size < 0)
      break;
    size_t body = at + (w >> 4) + (w & 15), end = body + (size_t) size;
    at = end;
    if (id != 0xAE || end > tracks_end)
      continue;
    guint64 type = 0;
    std::string name;
    size_t flag = 0, flag_size = 0, audio = 0;
    int audio_w = 0;
    gint64 audio_size = 0;
    for (size_t c = body; c < end;) {
      guint32 cid;
      int cw;
      gint64 cs;
      if (!ebml_head (d, c, end, &cid, &cw, &cs) || cs < 0)
        break;
      size_t cb = c + (cw >> 4) + (cw & 15);
      if (cb + (size_t) cs > end)
        break;
      if (cid == 0x83)
        for (gint64 i = 0; i < cs; i++)
          type = (type << 8) | d[cb + i];
      else if (cid == 0x536E)
        name.assign ((const char *) &d[cb], (size_t) cs);
      else if (cid == 0x88)
        flag = cb, flag_size = (size_t) cs;
      else if (cid == 0xE1)
        audio = c, audio_w = cw, audio_size = cs;
      c = cb + (size_t) cs;
    }
    while (!name.empty () && name.back () == '\0')
      name.pop_back ();
    if (type != 2 || name == app->opt.title)
      continue;
    others++;
    std::vector<guchar> out;
    long where = 0;
    int saved = (audio_w & 15) - 1; /* bytes a 1-byte size frees */
    if (flag) {
      out.assign (flag_size, 0);
      where = (long) flag;
    } else if (audio && audio_w >> 4 == 1 && audio_size < 127 &&
        (saved == 3 || saved >= 5)) {
      out = { 0x88, 0x81, 0x00 };
      if (saved > 3)
        out.insert (out.end (), { 0xEC, (guchar) (0x80 | (saved - 5)) });
      out.resize (3 + (saved > 3 ? saved - 3 : 0), 0);
      out.push_back (0xE1);
      out.push_back ((guchar) (0x80 | audio_size));
      size_t children = audio + 1 + (audio_w & 15);
      out.insert (out.end (), d.begin () + children,
          d.begin () + children + audio_size);
      where = (long) audio;
    } else {
      continue;
    }
    if (fseek (f, where, SEEK_SET) != 0 ||
        fwrite (out.data (), 1, out.size (), f) != out.size ())
      ok = false;
    else
      patched++;
  }
  if (fclose (f) != 0)
    ok = false;
  if (!ok || patched < others || !tracks)
    warn (app, "%s: could not mark the dub as the default audio track",
        app->opt.output.c_str ());
  return ok && patched == others && tracks;
}

} // namespace dub

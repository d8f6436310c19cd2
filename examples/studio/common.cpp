/* ganvoice-studio: shared helpers.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "common.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace studio {

static std::string
random_hex (size_t n_bytes)
{
  std::vector<unsigned char> buf (n_bytes);
  size_t got = 0;
  int fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    while (got < n_bytes) {
      ssize_t r = read (fd, buf.data () + got, n_bytes - got);
      if (r <= 0) {
        if (r < 0 && errno == EINTR)
          continue;
        break;
      }
      got += (size_t) r;
    }
    close (fd);
  }
  if (got < n_bytes)
    g_error ("ganvoice-studio: cannot read /dev/urandom");
  static const char hex[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : buf) {
    s += hex[c >> 4];
    s += hex[c & 15];
  }
  return s;
}

std::string
new_id ()
{
  return random_hex (8);
}

std::string
new_token ()
{
  return random_hex (24);
}

std::string
hash_token (const std::string &token)
{
  gchar *h = g_compute_checksum_for_string (
      G_CHECKSUM_SHA256, token.c_str (), (gssize) token.size ());
  std::string s (h);
  g_free (h);
  return s;
}

bool
same_secret (const std::string &a, const std::string &b)
{
  if (a.size () != b.size ())
    return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size (); i++)
    diff |= (unsigned char) (a[i] ^ b[i]);
  return diff == 0;
}

bool
valid_job_id (const std::string &id)
{
  if (id.size () <= 16)
    return valid_id (id);
  const std::string k = id.substr (16);
  return valid_id (id.substr (0, 16)) && k.size () >= 3 && k.size () <= 8 &&
      k.compare (0, 2, "-c") == 0 &&
      k.find_first_not_of ("0123456789", 2) == std::string::npos;
}

bool
valid_id (const std::string &s)
{
  if (s.size () != 16)
    return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

gint64
now_s ()
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

bool
make_dirs (const std::string &path)
{
  return g_mkdir_with_parents (path.c_str (), 0700) == 0;
}

gint64
file_size (const std::string &path)
{
  struct stat st;
  if (stat (path.c_str (), &st) != 0 || !S_ISREG (st.st_mode))
    return -1;
  return (gint64) st.st_size;
}

bool
file_exists (const std::string &path)
{
  return file_size (path) >= 0;
}

bool
read_file (const std::string &path, std::string *out, gint64 max_bytes)
{
  gint64 size = file_size (path);
  if (size < 0 || size > max_bytes)
    return false;
  gchar *data = nullptr;
  gsize len = 0;
  if (!g_file_get_contents (path.c_str (), &data, &len, nullptr))
    return false;
  out->assign (data, len);
  g_free (data);
  return true;
}

bool
write_file_atomic (const std::string &path, const std::string &data)
{
  std::string tmpl = path + ".tmpXXXXXX";
  std::vector<char> name (tmpl.begin (), tmpl.end ());
  name.push_back ('\0');
  int fd = g_mkstemp_full (name.data (), O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    return false;
  const char *p = data.data ();
  size_t left = data.size ();
  bool ok = true;
  while (left > 0) {
    ssize_t w = write (fd, p, left);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      ok = false;
      break;
    }
    p += w;
    left -= (size_t) w;
  }
  if (ok && fsync (fd) != 0)
    ok = false;
  if (close (fd) != 0)
    ok = false;
  if (ok && g_rename (name.data (), path.c_str ()) != 0)
    ok = false;
  if (!ok)
    g_unlink (name.data ());
  return ok;
}

static void
remove_file_tree (GFile *file)
{
  GFileEnumerator *e = g_file_enumerate_children (file,
      G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
      G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, nullptr, nullptr);
  if (e) {
    GFileInfo *info;
    while ((info = g_file_enumerator_next_file (e, nullptr, nullptr))) {
      GFile *child = g_file_get_child (file, g_file_info_get_name (info));
      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        remove_file_tree (child);
      else
        g_file_delete (child, nullptr, nullptr);
      g_object_unref (child);
      g_object_unref (info);
    }
    g_object_unref (e);
  }
  g_file_delete (file, nullptr, nullptr);
}

void
remove_partial_files (const std::string &path)
{
  gchar *dir = g_path_get_dirname (path.c_str ());
  gchar *base = g_path_get_basename (path.c_str ());
  std::string prefix = std::string (base) + ".part";
  if (GDir *d = g_dir_open (dir, 0, nullptr)) {
    while (const char *name = g_dir_read_name (d))
      if (g_str_has_prefix (name, prefix.c_str ()))
        g_unlink ((std::string (dir) + "/" + name).c_str ());
    g_dir_close (d);
  }
  g_free (dir);
  g_free (base);
}

void
remove_tree (const std::string &path)
{
  GFile *f = g_file_new_for_path (path.c_str ());
  remove_file_tree (f);
  g_object_unref (f);
}

std::string
json_quote (const std::string &s)
{
  JsonNode *n = json_node_new (JSON_NODE_VALUE);
  json_node_set_string (n, s.c_str ());
  std::string out = to_json (n);
  json_node_unref (n);
  return out;
}

std::string
to_json (JsonNode *node)
{
  JsonGenerator *g = json_generator_new ();
  json_generator_set_root (g, node);
  gchar *s = json_generator_to_data (g, nullptr);
  std::string out (s ? s : "null");
  g_free (s);
  g_object_unref (g);
  return out;
}

JsonNode *
parse_json (const std::string &text, std::string *error)
{
  JsonParser *p = json_parser_new ();
  GError *err = nullptr;
  JsonNode *root = nullptr;
  if (!g_utf8_validate (text.data (), (gssize) text.size (), nullptr)) {
    if (error)
      *error = "the request is not valid UTF-8";
  } else if (!json_parser_load_from_data (
                 p, text.data (), (gssize) text.size (), &err)) {
    if (error)
      *error = std::string ("the request is not valid JSON: ") + err->message;
    g_clear_error (&err);
  } else if (json_parser_get_root (p)) {
    root = json_node_copy (json_parser_get_root (p));
  } else if (error) {
    *error = "the request body is empty";
  }
  g_object_unref (p);
  return root;
}

std::string
file_sha256 (const std::string &path)
{
  int fd = open (path.c_str (), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return "";
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  std::vector<guchar> buf (1 << 20);
  bool ok = true;
  for (;;) {
    ssize_t n = read (fd, buf.data (), buf.size ());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      ok = false;
    if (n <= 0)
      break;
    g_checksum_update (sum, buf.data (), (gssize) n);
  }
  close (fd);
  std::string hex = ok ? g_checksum_get_string (sum) : "";
  g_checksum_free (sum);
  return hex;
}

} // namespace studio

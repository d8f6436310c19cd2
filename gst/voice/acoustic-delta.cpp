/* ganvoice: a deep clone's weights delta (see acoustic-delta.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/acoustic-delta.h>
#include <ganvoice/model-card.h>

#include "runtime/file-contents.h"

#include <glib.h>

#include <cstring>
#include <memory>

namespace ganvoice {
namespace {

size_t
product (const std::vector<int64_t> &shape, size_t from)
{
  size_t n = 1;
  for (size_t i = from; i < shape.size (); i++)
    n *= (size_t) shape[i];
  return n;
}

} // namespace

void
AcousticDelta::finish (const std::string &origin)
{
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  for (const Tensor &t : tensors) {
    const std::string where = origin + ": acoustic delta tensor \"" + t.name;
    if (t.name.empty ())
      throw ModelError (origin + ": an acoustic delta tensor has no name");
    if (t.shape.empty ())
      throw ModelError (where + "\" has no shape");
    for (int64_t d : t.shape)
      if (d <= 0 || d > (1 << 24))
        throw ModelError (where + "\" has a bad shape");
    if (t.rank > 0) {
      if (t.a.size () != (size_t) t.rank * product (t.shape, 1) ||
          t.b.size () != (size_t) t.shape[0] * t.rank)
        throw ModelError (where + "\": a and b do not match shape and rank " +
            std::to_string (t.rank));
    } else if (t.data.size () != product (t.shape, 0)) {
      throw ModelError (where + "\" has " + std::to_string (t.data.size ()) +
          " values for a shape of " + std::to_string (product (t.shape, 0)));
    }
    if (t.rows && t.rank > 0)
      throw ModelError (where + "\" cannot be both rows and low-rank");
    g_checksum_update (sum, (const guchar *) t.name.data (), t.name.size ());
    g_checksum_update (sum, (const guchar *) (t.rows ? "+" : "="), 1);
    for (const std::vector<float> *v : { &t.a, &t.b, &t.data })
      g_checksum_update (
          sum, (const guchar *) v->data (), v->size () * sizeof (float));
  }
  for (const std::string &p : phonemes) {
    if (p.empty ())
      throw ModelError (origin + ": an added phoneme is empty");
    g_checksum_update (sum, (const guchar *) p.c_str (), p.size () + 1);
  }
  digest = g_checksum_get_string (sum);
  g_checksum_free (sum);
}

size_t
AcousticDelta::stored_values () const
{
  size_t n = 0;
  for (const Tensor &t : tensors)
    n += t.a.size () + t.b.size () + t.data.size ();
  return n;
}

std::vector<float>
AcousticDelta::expand (const Tensor &t)
{
  if (t.rank <= 0)
    return t.data;
  const size_t rows = (size_t) t.shape[0], cols = product (t.shape, 1);
  const size_t r = (size_t) t.rank;
  std::vector<float> out (rows * cols, 0.0f);
  for (size_t i = 0; i < rows; i++)
    for (size_t k = 0; k < r; k++) {
      const float bik = t.b[i * r + k];
      const float *arow = &t.a[k * cols];
      float *orow = &out[i * cols];
      for (size_t j = 0; j < cols; j++)
        orow[j] += bik * arow[j];
    }
  return out;
}

std::string
encode_floats_base64 (const std::vector<float> &v)
{
  static_assert (sizeof (float) == 4, "float32");
  std::vector<guchar> bytes (v.size () * 4);
  for (size_t i = 0; i < v.size (); i++) {
    guint32 u;
    std::memcpy (&u, &v[i], 4);
    u = GUINT32_TO_LE (u);
    std::memcpy (&bytes[i * 4], &u, 4);
  }
  gchar *text = g_base64_encode (bytes.data (), bytes.size ());
  std::string out (text);
  g_free (text);
  return out;
}

std::vector<float>
decode_floats_base64 (const std::string &text, const std::string &what)
{
  for (char c : text)
    if (!(g_ascii_isalnum (c) || c == '+' || c == '/' || c == '='))
      throw ModelError (what + " is not base64");
  gsize n = 0;
  guchar *bytes = g_base64_decode (text.c_str (), &n);
  std::unique_ptr<guchar, decltype (&g_free)> hold (bytes, g_free);
  if (n % 4 != 0)
    throw ModelError (what + " is not a whole number of float32 values");
  std::vector<float> out (n / 4);
  for (size_t i = 0; i < out.size (); i++) {
    guint32 u;
    std::memcpy (&u, bytes + i * 4, 4);
    u = GUINT32_FROM_LE (u);
    std::memcpy (&out[i], &u, 4);
  }
  return out;
}

std::string
file_sha256 (const std::string &path)
{
  std::string contents, why;
  if (!read_file (path, contents, why))
    throw ModelError ("cannot read " + path + ": " + why);
  gchar *hex = g_compute_checksum_for_data (
      G_CHECKSUM_SHA256, (const guchar *) contents.data (), contents.size ());
  std::string out (hex);
  g_free (hex);
  return out;
}

} // namespace ganvoice

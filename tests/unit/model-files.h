/* Test helpers for the tiny models in tests/models (include after
 * gst/check/gstcheck.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/synthesizer.h>

#include <string>

/* A file in tests/models. */
static inline std::string
model_file (const char *name)
{
  const gchar *root = g_getenv ("GANVOICE_SOURCE_DIR");
  fail_unless (root != NULL, "GANVOICE_SOURCE_DIR is not set");
  return std::string (root) + "/tests/models/" + name;
}

/* The tiny acoustic model and vocoder, on one thread. */
static inline ganvoice::SynthesizerOptions
tiny_synthesizer_options ()
{
  ganvoice::SynthesizerOptions o;
  o.acoustic_model = model_file ("tiny-acoustic.ts");
  o.acoustic_card = model_file ("tiny-acoustic.json");
  o.vocoder_model = model_file ("tiny-vocoder.ts");
  o.vocoder_card = model_file ("tiny-vocoder.json");
  o.threads = 1;
  return o;
}

static inline std::string
read_model_file (const char *name)
{
  gchar *contents = NULL;
  gsize size = 0;
  fail_unless (
      g_file_get_contents (model_file (name).c_str (), &contents, &size, NULL),
      "cannot read %s", name);
  std::string text (contents, size);
  g_free (contents);
  return text;
}

/* Writes @contents to @name in a temporary folder of this test run. */
static inline std::string
write_temp (const char *name, const std::string &contents)
{
  static std::string dir;
  if (dir.empty ()) {
    gchar *made = g_dir_make_tmp ("ganvoice-test-XXXXXX", NULL);
    fail_unless (made != NULL);
    dir = made;
    g_free (made);
  }
  std::string path = dir + "/" + name;
  fail_unless (g_file_set_contents (
      path.c_str (), contents.data (), contents.size (), NULL));
  return path;
}

/* Bytes that start like a TorchScript zip and then are not one. */
static inline std::string
corrupt_model_bytes ()
{
  static const char bytes[] = "PK\x03\x04 not a zip";
  return std::string (bytes, sizeof (bytes) - 1);
}

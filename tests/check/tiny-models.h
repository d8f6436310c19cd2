/* The tiny generated test models (tests/models) for the check tests.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/check/gstcheck.h>

/* tests/models/@name; free with g_free. */
static inline gchar *
model_path (const gchar *name)
{
  const gchar *root = g_getenv ("GANVOICE_SOURCE_DIR");
  fail_unless (root != NULL, "GANVOICE_SOURCE_DIR is not set");
  return g_build_filename (root, "tests", "models", name, NULL);
}

/* A ganvoice with the tiny models and one thread. */
static inline GstElement *
make_ganvoice (void)
{
  GstElement *e = gst_element_factory_make ("ganvoice", NULL);
  gchar *am = model_path ("tiny-acoustic.ts");
  gchar *ac = model_path ("tiny-acoustic.json");
  gchar *vm = model_path ("tiny-vocoder.ts");
  gchar *vc = model_path ("tiny-vocoder.json");

  fail_unless (e != NULL);
  g_object_set (e, "acoustic-model", am, "acoustic-card", ac, "vocoder-model",
      vm, "vocoder-card", vc, "threads", 1, NULL);
  g_free (am);
  g_free (ac);
  g_free (vm);
  g_free (vc);
  return e;
}

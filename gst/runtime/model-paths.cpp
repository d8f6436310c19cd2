/* ganvoice: where the shipped models are found.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/model-card.h>
#include <ganvoice/model-paths.h>
#include <ganvoice/synthesizer.h>

#include <glib.h>

#include <vector>

namespace ganvoice {

std::string
default_model_file (const std::string &rel, std::string *looked)
{
  std::vector<std::string> dirs;
  /* $GANVOICE_MODEL_DIR, when set, is the only place: an override that
   * fell back elsewhere would hide a mistyped path. */
  const gchar *env = g_getenv ("GANVOICE_MODEL_DIR");
  if (env && *env) {
    dirs.push_back (env);
  } else {
#ifdef GANVOICE_MODEL_INSTALL_DIR
    dirs.push_back (GANVOICE_MODEL_INSTALL_DIR);
#endif
#ifdef GANVOICE_MODEL_SOURCE_DIR
    dirs.push_back (GANVOICE_MODEL_SOURCE_DIR);
#endif
  }
  std::string first;
  for (const std::string &dir : dirs) {
    gchar *path = g_build_filename (dir.c_str (), rel.c_str (), NULL);
    std::string p = path;
    g_free (path);
    if (looked)
      *looked += (looked->empty () ? "" : ", ") + p;
    if (first.empty ())
      first = p;
    if (g_file_test (p.c_str (), G_FILE_TEST_IS_REGULAR))
      return p;
  }
  return first.empty () ? rel : first;
}

std::string
require_model_file (const std::string &given, const std::string &rel)
{
  std::string looked;
  std::string path = given.empty () ? default_model_file (rel, &looked) : given;
  if (!g_file_test (path.c_str (), G_FILE_TEST_IS_REGULAR))
    throw ModelError ("model file not found: " +
        (given.empty () ? rel + " (looked in " + looked + ")" : given));
  return path;
}

SynthesizerOptions
resolve_model_options (const SynthesizerOptions &given, std::string *error)
{
  SynthesizerOptions o = given;
  auto shipped = [&] (std::string &path, const char *rel) {
    std::string looked;
    path = default_model_file (rel, &looked);
    if (error && error->empty () &&
        !g_file_test (path.c_str (), G_FILE_TEST_IS_REGULAR))
      *error = std::string ("model file not found: ") + rel + " (looked in " +
          looked + "; set GANVOICE_MODEL_DIR, or give the model files)";
  };
  auto card = [&] (std::string &path, const std::string &model,
                  const char *rel) {
    if (!path.empty ())
      return;
    if (!model.empty ())
      path = card_beside (model);
    else
      shipped (path, rel);
  };
  if (o.acoustic_model.empty ())
    shipped (o.acoustic_model, kAcousticModelFile);
  card (o.acoustic_card, given.acoustic_model, kAcousticCardFile);
  if (o.vocoder_model.empty ())
    shipped (o.vocoder_model, kVocoderModelFile);
  card (o.vocoder_card, given.vocoder_model, kVocoderCardFile);
  return o;
}

SynthesizerOptions
require_model_options (const SynthesizerOptions &given)
{
  std::string error;
  SynthesizerOptions o = resolve_model_options (given, &error);
  if (!error.empty ())
    throw ModelError (error);
  return o;
}

std::string
card_beside (const std::string &model)
{
  std::string base = model;
  size_t dot = base.rfind ('.');
  size_t slash = base.rfind ('/');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash))
    base.resize (dot);
  return base + ".json";
}

} // namespace ganvoice

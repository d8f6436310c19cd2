/* ganvoice: where the shipped models are found.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/ganvoice-prelude.h>

#include <string>

namespace ganvoice {

/* The shipped models, under the model folder. */
constexpr const char *kAcousticModelFile = "acoustic/acoustic.ts";
constexpr const char *kAcousticCardFile = "acoustic/acoustic.json";
constexpr const char *kVocoderModelFile = "vocoder/vocoder.ts";
constexpr const char *kVocoderCardFile = "vocoder/vocoder.json";
constexpr const char *kSpeakerEncoderFile = "speaker/speaker.ts";

/* A shipped model file, @rel under the model folder (for example
 * "acoustic/acoustic.json"), looked for only in $GANVOICE_MODEL_DIR when
 * it is set, else in the installed data dir
 * (<prefix>/share/ganvoice/models), then the source tree's models/. Returns the first place that has it, else the first
 * place looked at; @looked (when given) gets every place, comma-separated,
 * for error messages. */
GANVOICE_API std::string default_model_file (
    const std::string &rel, std::string *looked = nullptr);

/* @given when it is not empty, else default_model_file (@rel); throws
 * ModelError naming the file (and where it was looked for) when it is not
 * there. */
GANVOICE_API std::string require_model_file (
    const std::string &given, const std::string &rel);

/* "dir/name.ts" to "dir/name.json": a model's card beside it. */
GANVOICE_API std::string card_beside (const std::string &model);

} // namespace ganvoice

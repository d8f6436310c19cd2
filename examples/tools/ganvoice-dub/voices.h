/* ganvoice-dub: the --voice values: built-in names, voice profiles,
 * SPEAKER=VOICE, and reference audio cloned into a temporary profile (a
 * speakerembed pipeline).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "app.h"

#include <string>

namespace dub {

/* Splits --voice values into one voice and a speaker map (its text
 * form); audio files are cloned first. */
bool resolve_voices (App *app, std::string *voice, std::string *speaker_map);

} // namespace dub

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

/* The provenance note written in the output's container tags (a comment):
 * that the dub is synthetic speech, each voice's name and whether it is
 * built-in or a clone (a profile file, or audio cloned here), and the tool
 * and its version. Reads the --voice values, before resolve_voices (). */
std::string provenance_note (const Options &opt);

} // namespace dub

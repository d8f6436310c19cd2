/* ganvoice: one cue's markup to clean, speakable dialogue turns
 * (cue-text.cpp).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/subtitle-parse.h>

#include <string>
#include <string_view>
#include <vector>

namespace ganvoice {

struct TextOptions {
  /* Keep SDH annotations such as [music], (laughs) and ♪ lyrics ♪. */
  bool keep_annotations = false;
  /* Split "- Hi.\n- Hello." into one turn per dash. */
  bool split_dialogue = true;
};

struct Turn {
  std::string speaker;
  std::string text; /* speakable: no markup, single spaces */
};

/* Cleans one cue's markup into speakable turns. @speaker_hint (ASS Name)
 * goes to the first turn unless that turn names its own speaker. */
GANVOICE_API std::vector<Turn> speakable_turns (std::string_view markup,
    MarkupKind kind, std::string_view speaker_hint, const TextOptions &options);

} // namespace ganvoice

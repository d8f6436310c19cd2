/* ganvoice: subtitle files to spoken cues, as plain C++ (no pads).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The pipeline is: bytes --decode_subtitle_text--> UTF-8 text with LF line
 * endings --parse_subtitles--> RawCue list (timed markup, file order)
 * --make_spoken_cues--> Cue list (clean speakable text, sorted, split into
 * dialogue turns). parse_cue_document() runs all three. */
#pragma once

/* One header per step: */
#include <ganvoice/diagnostic.h>
#include <ganvoice/subtitle-encoding.h>
#include <ganvoice/subtitle-parse.h>
#include <ganvoice/cue-text.h>
#include <ganvoice/cue-list.h>

/* ganvoice-dub: the command line, parsed and checked into a plain
 * struct (Options).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <string>
#include <vector>

namespace dub {

enum class Mode
{
  Duck,
  Replace,
  AddTrack
};

struct Options {
  std::string input, subtitles, output;
  std::vector<std::string> voices;
  std::string language, overflow, acoustic_model, vocoder_model, device;
  std::string speaker_encoder; /* for --voice AUDIO */
  std::string title;
  /* The provenance note of the file's tags; "": made from the voices
   * (provenance_note ()). */
  std::string provenance;
  Mode mode = Mode::Duck;
  double duck_level = -12.0;
  double loudness_target = -16.0;
  double stall_timeout = 60.0; /* s without data moving; 0: no watchdog */
  int threads = 0;
  bool json = false;
  bool embed_subtitles = false;
  bool quiet = false;
};

/* Parses and checks the command line into @opt; prints what is wrong (or
 * the help) on stderr and returns false when it cannot be run. */
bool parse_args (Options *opt, int argc, char **argv);

} // namespace dub

/* ganvoice-dub: the command line, parsed and checked into a plain
 * struct (Options).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

#include <string>
#include <vector>

namespace dub {

enum class Mode
{
  Duck,
  Replace,
  AddTrack
};

/* What one run does (docs/dubbing.md, "Rendering in chunks"). */
enum class Task
{
  Dub, /* the whole dub, in one process */
  Plan, /* --plan: where to cut, as JSON */
  Chunk, /* --chunk START:END: a range of the plain mix into a WAV file */
  Assemble, /* --assemble CHUNK...: the chunks mastered, encoded and muxed */
  Programme /* --programme DIR: each chunk's programme into DIR, no voice */
};

struct Options {
  Task task = Task::Dub;
  /* --chunk: frames [chunk_start, chunk_end) at 48 kHz; -1: to the end. */
  gint64 chunk_start = 0;
  gint64 chunk_end = -1;
  double chunk_target = 90.0; /* --plan: seconds */
  std::vector<std::string> chunks; /* --assemble's chunk files */
  std::string programme_dir; /* --programme */
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

/* START:END (END may be "end": -1) into frame indices; prints what is
 * wrong on stderr. */
bool parse_chunk_range (const char *text, gint64 *start, gint64 *end);

/* Parses and checks the command line into @opt; prints what is wrong (or
 * the help) on stderr and returns false when it cannot be run. */
bool parse_args (Options *opt, int argc, char **argv);

} // namespace dub

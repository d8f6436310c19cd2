/* ganvoice: what was read in a recording for a deep clone, and the
 * recording cut into one read sentence per subtitle cue
 * (reading-transcript.cpp).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/diagnostic.h>
#include <ganvoice/subtitle-parse.h>
#include <ganvoice/voice-finetune.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ganvoice {

/* One stretch of a recording and the text read in it (a subtitle cue). */
struct TimedText {
  int64_t start_ns = 0; /* on the recording's own timeline */
  int64_t end_ns = 0;
  std::string text; /* speakable: no markup */
  unsigned index = 0; /* 1-based, in time order */
  unsigned line = 0; /* where the cue starts in its file (0: unknown) */
  std::string origin; /* "file:line", for messages */
};

/* A transcript: timed cues from a subtitle file, or one plain text read
 * through the whole recording. */
struct ReadingTranscript {
  std::string path;
  bool ok = false;
  /* !ok because the file could not be read at all (else it did not parse). */
  bool unreadable = false;
  Diagnostic error; /* when !ok; line 0 when it has no line */
  bool timed = false; /* a subtitle file: @cues; else @text */
  SubtitleFormat format = SubtitleFormat::Unknown;
  std::vector<TimedText> cues; /* sorted by start */
  std::string text;
  std::vector<Diagnostic> warnings; /* cues the parser skipped */
};

/* Reads a transcript file. A file named .srt, .vtt, .ass or .ssa, or whose
 * text looks like one of those, is parsed as subtitles (the project's
 * parser; dialogue dashes are not split, annotations such as [laughs] are
 * dropped): a file that does not parse, or has no cue with text, is an
 * error naming its line. Anything else is plain text read through the
 * whole recording: an empty one is an error. @language is the cues'
 * language for the text cleaning. Never throws. */
GANVOICE_API ReadingTranscript read_transcript (
    const std::string &path, const std::string &language);

/* The same, for @bytes already read; @name is the file's name (its
 * extension chooses as above). */
GANVOICE_API ReadingTranscript parse_transcript (std::string_view bytes,
    const std::string &name, const std::string &language);

/* Cuts a recording into one ReadSentence per cue, in the order of @cues.
 * @audio is mono at @rate Hz; its first sample is at @audio_start_ns on the
 * cues' timeline. Each cut runs from the cue's start to its end, widened by
 * up to @margin_s on each side (cue times are rarely exact; the take checks
 * and the fine-tuner trim silence) but never past the middle of the gap to
 * a neighbouring cue. A cue wholly outside the audio gets no samples
 * (check_take () says "empty"). The origin of each is the cue's. */
GANVOICE_API std::vector<ReadSentence> cut_reading (
    const std::vector<float> &audio, int rate, int64_t audio_start_ns,
    const std::vector<TimedText> &cues, double margin_s = 0.25);

} // namespace ganvoice

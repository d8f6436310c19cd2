/* ganvoice-clone: the inputs into a list of takes (an audio file and the
 * text read in it): --folder, --pairs, --prompts/--takes, and the
 * transcript of --recording; and the prompt lists.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace clonecli {

/* One take to read: an audio file and its text. */
struct TakeSource {
  std::string path; /* the audio file */
  std::string text; /* one line, whitespace collapsed */
  std::string origin; /* for messages: the file, or "list line N" */
};

/* A prompt list: one sentence a line; blank lines and lines starting with
 * '#' are skipped. Sentence n (from 1) is read into take n. */
struct PromptList {
  std::string path;
  std::vector<std::string> sentences;
  std::vector<unsigned> lines; /* the line of each sentence in the file */
};

/* @arg as a file when there is one, else a language code ("cs", "en-us"
 * then "en") looked for as LANG.txt in $GANVOICE_PROMPT_DIR, the source
 * tree's models/acoustic/prompts and the installed
 * <datadir>/ganvoice/prompts. Throws CloneError naming every place looked
 * at. */
std::string find_prompt_list (const std::string &arg);
/* Reads a prompt list; throws CloneError naming the file (and line). */
PromptList read_prompt_list (const std::string &path);

/* NAME.<audio> + NAME.txt pairs in @dir (natural order). Notes the audio
 * without text and the texts without audio; throws CloneError for a missing
 * folder or one without any pair. */
std::vector<TakeSource> folder_takes (const std::string &dir);
/* The 'path<TAB>text' lines of @tsv (blank and '#' lines skipped); paths
 * relative to its folder. Throws CloneError naming the line for a line
 * without a tab or text, and for an audio file that is not there. */
std::vector<TakeSource> tsv_takes (const std::string &tsv);
/* The takes of @list in @dir: 001.wav (or 1.wav, 01.flac, ...) for its
 * first sentence. Notes the missing ones and the files past the list's
 * end; throws CloneError for a missing folder, two files for one sentence
 * or no take at all. */
std::vector<TakeSource> prompt_takes (
    const PromptList &list, const std::string &dir);

/* A transcript: subtitles (the cues with their times) or plain text. */
struct Transcript {
  bool timed = false;
  std::string text; /* plain: all of it, one line */
  struct Cue {
    int64_t start_ns = 0, end_ns = 0;
    std::string text;
    unsigned line = 0;
  };
  std::vector<Cue> cues; /* timed: in time order */
};

/* Reads a transcript: SRT, WebVTT or SSA/ASS by their content (parsed
 * with the project's subtitle parser, in @language), else plain text.
 * Throws CloneError naming the file (and line). */
Transcript read_transcript (
    const std::string &path, const std::string &language);

/* A text file's content in one line (any encoding the subtitle reader
 * knows; whitespace collapsed). Throws CloneError naming the file. */
std::string read_text_file (const std::string &path);

} // namespace clonecli

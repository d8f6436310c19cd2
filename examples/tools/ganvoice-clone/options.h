/* ganvoice-clone: the command line, parsed and checked into a plain struct
 * (Options), and the messages every part writes.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace clonecli {

struct Options {
  /* Inputs, any mix. */
  std::vector<std::string> folders; /* NAME.wav + NAME.txt */
  std::vector<std::string> pairs; /* path<TAB>text */
  std::string prompts, takes; /* a prompt list and its numbered takes */
  std::string recording, transcript; /* one long take */
  std::string list_prompts; /* --list-prompts: print and exit */

  std::string language, name, gender, output, checkpoint;
  std::string model, card;
  double seconds = 0.0; /* 0: all */
  double time_limit = 480.0;
  int steps = 2000;
  int rank = 8;
  int threads = 1;
  bool no_resume = false;
  bool check_only = false;
  bool quiet = false;
};

/* What parse_args () decided. */
enum class Parsed
{
  Run,
  Usage, /* printed; exit 2 */
};

/* Parses and checks the command line into @opt; prints what is wrong (or
 * the help) on stderr. */
Parsed parse_args (Options *opt, int argc, char **argv);

/* An error that ends the command (exit 1): the message names the file and,
 * where there is one, the line. */
class CloneError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/* Ctrl-C while reading the takes (before any training). */
class Interrupted : public std::runtime_error {
public:
  Interrupted () : std::runtime_error ("interrupted")
  {
  }
};

/* "ganvoice-clone: note: ..." on stderr (a skipped take, a missing file). */
void note (const std::string &message);
/* "ganvoice-clone: ..." on stderr, a line of its own. */
void say (const std::string &message);
/* A status line redrawn in place on stderr (the progress bar), only when
 * stderr is a terminal and not --quiet; say () and note () clear it
 * first. */
void status (const std::string &line);
void clear_status ();
/* Called once by main (): stderr is a terminal, and --quiet. */
void init_status (bool quiet);
bool status_shown_on_terminal ();
/* printf into a std::string. */
std::string strprintf (const char *format, ...)
    __attribute__ ((format (printf, 1, 2)));
/* The start of @text for a message: at most @chars characters, with "...". */
std::string text_start (const std::string &text, long chars = 32);

} // namespace clonecli

/* ganvoice-clone: what it tells the person: the takes' checks (one line a
 * rejected take, the --check-only table) and the training's progress (a
 * bar on a terminal, plain lines otherwise).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/voice-finetune.h>

#include <cstdint>
#include <string>
#include <vector>

namespace clonecli {

/* One take and what its check found. */
struct CheckedTake {
  std::string origin;
  std::string text;
  ganvoice::TakeCheck check;
};

/* "takes/003.wav ("Řeka se po bouřce..."): too quiet: ...; ...". */
std::string rejected_line (const CheckedTake &take);

/* The --check-only table on stdout: one row a take, its measures and its
 * problems. */
void print_check_table (const std::vector<CheckedTake> &takes);

/* "12:34" or "1:02:03". */
std::string clock_time (double seconds);

/* Shows FineTuneProgress: a bar redrawn in place when stderr is a
 * terminal; otherwise one line at each stage and every 10 s of training.
 * The library's messages and "resumed" are lines of their own. */
class ProgressReport {
public:
  explicit ProgressReport (const std::string &checkpoint, bool quiet);
  void operator() (const ganvoice::FineTuneProgress &p);
  bool resumed () const
  {
    return resumed_;
  }
  /* A message already said (the library's are said once each). */
  void said (const std::string &message)
  {
    last_message_ = message;
  }
  /* The last progress seen (steps and loss for the final line). */
  const ganvoice::FineTuneProgress &last () const
  {
    return last_;
  }

private:
  std::string checkpoint_;
  bool quiet_;
  bool started_ = false;
  bool resumed_ = false;
  ganvoice::FineTuneProgress last_;
  std::string last_message_;
  int64_t last_line_us_ = 0;
  int64_t last_bar_us_ = 0;
};

} // namespace clonecli

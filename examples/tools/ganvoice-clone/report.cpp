/* ganvoice-clone: the checks' report and the progress.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "report.h"

#include "options.h"

#include <glib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace clonecli {

namespace {

/* @s padded with spaces (or cut from the left) to @width characters. */
std::string
fit (const std::string &s, long width)
{
  long n = g_utf8_validate (s.c_str (), s.size (), NULL)
      ? g_utf8_strlen (s.c_str (), s.size ())
      : (long) s.size ();
  if (n <= width)
    return s + std::string (width - n, ' ');
  const char *p = s.c_str ();
  if (g_utf8_validate (p, s.size (), NULL))
    p = g_utf8_offset_to_pointer (p, n - (width - 3));
  else
    p += s.size () - (width - 3);
  return "..." + std::string (p);
}

std::string
problems_of (const ganvoice::TakeCheck &c)
{
  std::string out;
  for (const std::string &p : c.problems)
    out += (out.empty () ? "" : "; ") + p;
  return out;
}

} // namespace

std::string
clock_time (double s)
{
  if (!std::isfinite (s) || s < 0)
    return "--:--";
  unsigned t = (unsigned) (s + 0.5);
  return t >= 3600 ? strprintf ("%u:%02u:%02u", t / 3600, t / 60 % 60, t % 60)
                   : strprintf ("%02u:%02u", t / 60, t % 60);
}

std::string
rejected_line (const CheckedTake &take)
{
  return "rejected " + take.origin + " (\"" + text_start (take.text) +
      "\"): " + problems_of (take.check);
}

void
print_check_table (const std::vector<CheckedTake> &takes)
{
  long width = 4;
  for (const CheckedTake &t : takes)
    width = std::max (width, (long) g_utf8_strlen (t.origin.c_str (), -1));
  width = std::min (width, 40L);
  printf ("%s  length  speech  expect  peak dB  level dB  clipped  result\n",
      fit ("take", width).c_str ());
  for (const CheckedTake &t : takes) {
    const ganvoice::TakeCheck &c = t.check;
    std::string result = c.ok () ? "ok" : problems_of (c);
    if (c.seconds <= 0.0) {
      /* Not decoded: nothing was measured. */
      printf ("%s  %6s  %6s  %6s  %7s  %8s  %7s  %s\n",
          fit (t.origin, width).c_str (), "-", "-", "-", "-", "-", "-",
          result.c_str ());
      continue;
    }
    printf ("%s  %5.1fs  %5.1fs  %5.1fs  %7.1f  %8.1f  %6.2f%%  %s\n",
        fit (t.origin, width).c_str (), c.seconds, c.speech_seconds,
        c.expected_seconds, c.peak_dbfs, c.speech_dbfs,
        c.clipped_fraction * 100.0, result.c_str ());
  }
  fflush (stdout);
}

ProgressReport::ProgressReport (const std::string &checkpoint, bool quiet)
    : checkpoint_ (checkpoint), quiet_ (quiet)
{
}

void
ProgressReport::operator() (const ganvoice::FineTuneProgress &p)
{
  using Stage = ganvoice::FineTuneProgress::Stage;
  bool new_stage = !started_ || p.stage != last_.stage;
  started_ = true;
  last_ = p;
  if (p.resumed && !resumed_) {
    /* The library's "resumed at step N", with the file. */
    resumed_ = true;
    last_message_ = p.message;
    if (!quiet_)
      say ("the state in " + checkpoint_ + " fits: " +
          (p.message.empty () ? std::string ("resumed") : p.message));
  }
  if (quiet_)
    return;
  /* The library's messages, each once, after the stage's line. */
  auto message = [&] () {
    if (!p.message.empty () && p.message != last_message_) {
      last_message_ = p.message;
      say (p.message);
    }
  };
  const char *stage = ganvoice::fine_tune_stage_name (p.stage);
  double percent = p.stage == Stage::kDone
      ? 100.0
      : std::clamp (p.fraction, 0.0, 1.0) * 100.0;
  bool tty = status_shown_on_terminal ();
  /* Steps, times and loss once the training has begun. */
  std::string detail;
  if (p.step > 0 || p.stage == Stage::kTraining) {
    if (p.max_steps > 0)
      detail += strprintf ("  step %d/%d", p.step, p.max_steps);
    detail += "  " + clock_time (p.elapsed_s) + (tty ? "" : " elapsed");
    if (p.remaining_s > 0)
      detail += "  " + clock_time (p.remaining_s) + " left";
    if (p.mel_loss > 0)
      detail += strprintf ("  mel loss %.3f", p.mel_loss);
    if (resumed_)
      detail += "  (resumed)";
  }
  int64_t now = g_get_monotonic_time ();
  if (tty) {
    message ();
    /* At most ten redraws a second. */
    if (!new_stage && p.stage != Stage::kDone &&
        now - last_bar_us_ < G_USEC_PER_SEC / 10)
      return;
    last_bar_us_ = now;
    const int width = 24;
    int filled = (int) (percent / 100.0 * width);
    std::string bar =
        std::string (filled, '#') + std::string (width - filled, '-');
    status (
        strprintf ("%-9s [%s] %5.1f%%", stage, bar.c_str (), percent) + detail);
    return;
  }
  /* A log: a line at each stage and every 10 s; the end is the library's
   * message ("N steps in T s; mel L1 ..."). */
  if (p.stage != Stage::kDone &&
      (new_stage || now - last_line_us_ >= 10 * G_USEC_PER_SEC)) {
    last_line_us_ = now;
    say (strprintf ("%s %.0f%%", stage, percent) + detail);
  }
  message ();
}

} // namespace clonecli

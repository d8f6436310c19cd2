/* subcues-bench: how long parse_cue_document() takes on large SubRip files,
 * and how much memory it needs, for growing sizes.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   subcues-bench [--cues N]... [--runs R] [--seed S]
 *   subcues-bench --dump N      (prints the generated N-cue file instead)
 *
 * Without --cues it measures 12500, 25000, 50000 and 100000 cues. Each size
 * runs in a forked child, so that one size's allocations do not hide the
 * next one's peak: the child builds the SRT text in memory, resets its peak
 * RSS (VmHWM) through /proc/self/clear_refs, parses the text R times (best
 * and median wall time) and reports how far VmHWM rose, during the first
 * parse, above the RSS it had before parsing (the input text is not counted;
 * the returned CueDocument is). Prints a Markdown table; run it pinned to one core, e.g.
 * `taskset -c 0 build/tests/bench/subcues-bench`. Exits non-zero only when a
 * parse fails or loses cues, never on timing. */
#include <ganvoice/subtitles.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <glib.h>

#include <sys/wait.h>
#include <unistd.h>

namespace {

/* ---- A realistic SRT file ------------------------------------------- */

/* xorshift64*: fast, and the same file on every machine. */
struct Rng {
  uint64_t state;
  uint64_t next ()
  {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
  }
  unsigned below (unsigned n)
  {
    return (unsigned) (next () % n);
  }
};

const char *const kWords[] = {
  "I",
  "you",
  "we",
  "they",
  "it",
  "that",
  "this",
  "what",
  "where",
  "when",
  "know",
  "think",
  "want",
  "need",
  "going",
  "come",
  "back",
  "here",
  "there",
  "now",
  "just",
  "really",
  "never",
  "always",
  "something",
  "nothing",
  "tonight",
  "tomorrow",
  "people",
  "house",
  "car",
  "money",
  "time",
  "way",
  "believe",
  "remember",
  "forget",
  "listen",
  "look",
  "tell",
  "said",
  "don't",
  "can't",
  "won't",
  "it's",
  "I'm",
  "you're",
  "we'll",
  "gonna",
  "caf\u00e9",
  "na\u00efve",
  "\u00fcber",
  "se\u00f1or",
  "r\u00e9sum\u00e9",
  "the",
  "a",
  "to",
  "of",
  "and",
  "in",
  "on",
  "for",
  "with",
  "about",
};
const char *const kNames[] = { "JOHN", "MARY", "DR. SMITH", "ANNA", "MAN",
  "WOMAN", "OFFICER", "NARRATOR" };
const char *const kEnd[] = { ".", ".", ".", "?", "!", "...", ",", "\u2026" };

std::string
random_sentence (Rng &rng, unsigned min_words, unsigned max_words)
{
  std::string s;
  unsigned n = min_words + rng.below (max_words - min_words + 1);
  for (unsigned w = 0; w < n; w++) {
    if (w > 0)
      s.push_back (' ');
    std::string word = kWords[rng.below (G_N_ELEMENTS (kWords))];
    if (w == 0 && word[0] >= 'a' && word[0] <= 'z')
      word[0] = (char) (word[0] - 'a' + 'A');
    s += word;
  }
  s += kEnd[rng.below (G_N_ELEMENTS (kEnd))];
  return s;
}

/* One cue's text: one or two lines, with the usual SubRip decorations. */
std::string
random_cue_text (Rng &rng)
{
  unsigned kind = rng.below (100);
  if (kind < 12) {
    /* Two speakers, one dash each. */
    return "- " + random_sentence (rng, 1, 5) + "\r\n- " +
        random_sentence (rng, 1, 5);
  }
  std::string first = random_sentence (rng, 2, 7);
  if (kind < 22)
    first =
        std::string (kNames[rng.below (G_N_ELEMENTS (kNames))]) + ": " + first;
  else if (kind < 34)
    first = "<i>" + first + "</i>";
  else if (kind < 40)
    first = "[" + std::string (rng.below (2) ? "door slams" : "music") + "] " +
        first;
  else if (kind < 46)
    first = "Tom &amp; Jerry &quot;" + first + "&quot;";
  else if (kind < 48)
    first = "\u266A " + first + " \u266A";
  if (rng.below (100) < 45) {
    std::string second = random_sentence (rng, 2, 7);
    if (rng.below (100) < 10)
      second = "<i>" + second + "</i>";
    return first + "\r\n" + second;
  }
  return first;
}

void
append_timestamp (std::string &out, int64_t ms)
{
  char buf[32];
  snprintf (buf, sizeof buf,
      "%02" PRId64 ":%02" PRId64 ":%02" PRId64 ",%03" PRId64, ms / 3600000,
      ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
  out += buf;
}

std::string
make_srt (unsigned n_cues, uint64_t seed)
{
  Rng rng{ seed * 0x9E3779B97F4A7C15ULL + 1 };
  std::string out;
  out.reserve ((size_t) n_cues * 90);
  int64_t t = 1000;
  for (unsigned i = 0; i < n_cues; i++) {
    int64_t start = t + rng.below (1500);
    int64_t end = start + 800 + rng.below (4200);
    t = end;
    out += std::to_string (i + 1);
    out += "\r\n";
    append_timestamp (out, start);
    out += " --> ";
    append_timestamp (out, end);
    out += "\r\n";
    out += random_cue_text (rng);
    out += "\r\n\r\n";
  }
  return out;
}

/* ---- Measuring ----------------------------------------------------------- */

/* A "VmXXX:   1234 kB" field of /proc/self/status, in bytes; -1 if absent. */
long long
proc_status_bytes (const char *field)
{
  FILE *f = fopen ("/proc/self/status", "r");
  if (!f)
    return -1;
  char line[256];
  long long kb = -1;
  size_t len = strlen (field);
  while (fgets (line, sizeof line, f)) {
    if (strncmp (line, field, len) == 0 && line[len] == ':') {
      kb = atoll (line + len + 1);
      break;
    }
  }
  fclose (f);
  return kb < 0 ? -1 : kb * 1024;
}

/* Resets VmHWM to the current RSS (Linux >= 4.0); false if not allowed. */
bool
reset_peak_rss ()
{
  FILE *f = fopen ("/proc/self/clear_refs", "w");
  if (!f)
    return false;
  bool ok = fputs ("5", f) >= 0;
  return fclose (f) == 0 && ok;
}

struct Result {
  unsigned cues;
  unsigned spoken;
  unsigned long long input_bytes;
  double best_s;
  double median_s;
  long long peak_growth; /* bytes; -1 when unknown */
  int ok;
};

/* Runs in the child: builds the file, parses it @runs times. */
Result
measure (unsigned n_cues, unsigned runs, uint64_t seed)
{
  Result r{};
  r.cues = n_cues;
  r.peak_growth = -1;
  std::string srt = make_srt (n_cues, seed);
  r.input_bytes = srt.size ();

  ganvoice::DocumentOptions options;
  /* Warm up glib's one-time state (charset tables, type system) on a tiny
   * file, so that it is not counted against the big one. */
  ganvoice::parse_cue_document (
      "1\n00:00:01,000 --> 00:00:02,000\nHi.\n", options);

  bool reset = reset_peak_rss ();
  long long before =
      reset ? proc_status_bytes ("VmRSS") : proc_status_bytes ("VmHWM");
  std::vector<double> times;
  r.ok = 1;
  for (unsigned i = 0; i < runs; i++) {
    auto t0 = std::chrono::steady_clock::now ();
    ganvoice::CueDocument doc = ganvoice::parse_cue_document (srt, options);
    auto t1 = std::chrono::steady_clock::now ();
    times.push_back (std::chrono::duration<double> (t1 - t0).count ());
    if (!doc.ok || doc.raw_cue_count != n_cues || doc.cues.size () < n_cues)
      r.ok = 0;
    r.spoken = (unsigned) doc.cues.size ();
    if (i == 0) {
      /* The peak of the first parse, result included (it is still alive):
       * later runs only add allocator fragmentation. */
      long long after = proc_status_bytes ("VmHWM");
      if (before >= 0 && after >= 0)
        r.peak_growth = std::max (0LL, after - before);
    }
  }
  std::sort (times.begin (), times.end ());
  r.best_s = times.front ();
  r.median_s = times[times.size () / 2];
  return r;
}

bool
measure_in_child (unsigned n_cues, unsigned runs, uint64_t seed, Result &out)
{
  int fds[2];
  if (pipe (fds) != 0)
    return false;
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    return false;
  if (pid == 0) {
    close (fds[0]);
    Result r = measure (n_cues, runs, seed);
    ssize_t w = write (fds[1], &r, sizeof r);
    _exit (w == (ssize_t) sizeof r ? 0 : 1);
  }
  close (fds[1]);
  ssize_t got = read (fds[0], &out, sizeof out);
  close (fds[0]);
  int status = 0;
  waitpid (pid, &status, 0);
  return got == (ssize_t) sizeof out && WIFEXITED (status) &&
      WEXITSTATUS (status) == 0;
}

void
usage (const char *argv0)
{
  fprintf (stderr,
      "usage: %s [--cues N]... [--runs R] [--seed S]\n"
      "       %s --dump N [--seed S]\n",
      argv0, argv0);
}

} // namespace

int
main (int argc, char **argv)
{
  std::vector<unsigned> sizes;
  unsigned runs = 3;
  uint64_t seed = 1;
  unsigned dump = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp (argv[i], "--cues") && i + 1 < argc)
      sizes.push_back ((unsigned) strtoul (argv[++i], nullptr, 10));
    else if (!strcmp (argv[i], "--runs") && i + 1 < argc)
      runs = std::max (1UL, strtoul (argv[++i], nullptr, 10));
    else if (!strcmp (argv[i], "--seed") && i + 1 < argc)
      seed = strtoull (argv[++i], nullptr, 10);
    else if (!strcmp (argv[i], "--dump") && i + 1 < argc)
      dump = (unsigned) strtoul (argv[++i], nullptr, 10);
    else {
      usage (argv[0]);
      return 2;
    }
  }
  if (dump > 0) {
    std::string srt = make_srt (dump, seed);
    fwrite (srt.data (), 1, srt.size (), stdout);
    return 0;
  }
  if (sizes.empty ())
    sizes = { 12500, 25000, 50000, 100000 };

  printf ("| cues | spoken cues | input bytes | best (s) | median (s) | "
          "cues/s | peak RSS growth (MiB) | peak bytes / input byte |\n");
  printf ("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  int status = 0;
  for (unsigned n : sizes) {
    Result r;
    if (!measure_in_child (n, runs, seed, r)) {
      fprintf (stderr, "subcues-bench: the run for %u cues failed\n", n);
      status = 1;
      continue;
    }
    if (!r.ok) {
      fprintf (
          stderr, "subcues-bench: %u cues: parse failed or lost cues\n", n);
      status = 1;
    }
    char growth[32] = "n/a", per_byte[32] = "n/a";
    if (r.peak_growth >= 0) {
      snprintf (growth, sizeof growth, "%.1f", r.peak_growth / 1048576.0);
      snprintf (per_byte, sizeof per_byte, "%.1f",
          (double) r.peak_growth / (double) r.input_bytes);
    }
    printf ("| %u | %u | %llu | %.3f | %.3f | %.0f | %s | %s |\n", r.cues,
        r.spoken, r.input_bytes, r.best_s, r.median_s, r.cues / r.best_s,
        growth, per_byte);
    fflush (stdout);
  }
  printf ("\n%u runs per size; times are wall clock for parse_cue_document() "
          "(decode, parse, clean up, sort).\n",
      runs);
  return status;
}

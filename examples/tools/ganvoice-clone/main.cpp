/* ganvoice-clone: makes a deep clone, the acoustic model fine-tuned on a
 * few minutes of one person's read speech, into a voice profile.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   ganvoice-clone --prompts cs --takes takes/ --language cs -o me.json
 *   ganvoice-clone --folder takes/ | --pairs takes.tsv |
 *       --recording talk.flac --transcript talk.srt ... -o me.json
 *   ganvoice-clone --list-prompts cs
 *
 * The parts, in the order main () uses them: options (the command line and
 * the messages), inputs (the takes of each kind of input, the prompt lists
 * and the transcripts), audio (each file decoded with GStreamer), report
 * (the checks and the progress). Every take goes through
 * VoiceFineTuner::add () (or check_take () with --check-only); the training
 * is VoiceFineTuner::run () on this thread, with a cancel flag that
 * SIGINT/SIGTERM set: the library saves its state to the checkpoint, and
 * the same command resumes. See docs/deep-clone.md.
 */
#include "audio.h"
#include "inputs.h"
#include "options.h"
#include "report.h"

#include <ganvoice/model-paths.h>
#include <ganvoice/text-frontend.h>
#include <ganvoice/voice-finetune.h>

#include <glib/gstdio.h>
#include <gst/gst.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

using namespace clonecli;

namespace {

std::atomic<bool> g_cancel{ false };
volatile sig_atomic_t g_signal = 0;

/* The first SIGINT/SIGTERM asks the training to stop (its state is saved);
 * a second one ends the process at once. Only async-signal-safe calls. */
void
on_signal (int sig)
{
  if (g_cancel.load ())
    _exit (128 + sig);
  g_signal = sig;
  g_cancel.store (true);
  static const char msg[] = "\nganvoice-clone: stopping (Ctrl-C again to "
                            "quit at once)\n";
  ssize_t ignored = write (STDERR_FILENO, msg, sizeof msg - 1);
  (void) ignored;
}

void
install_signals ()
{
  struct sigaction sa;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
}

int
interrupted_code ()
{
  return g_signal == SIGTERM ? 143 : 130;
}

int
list_prompts (const std::string &arg)
{
  PromptList list = read_prompt_list (find_prompt_list (arg));
  printf ("# %s: %zu sentences. Read each into its own file named by its\n"
          "# number: 001.wav for the first, 002.wav, ... (1.wav works too;\n"
          "# any format GStreamer reads), all in one folder, then:\n"
          "#   ganvoice-clone --prompts %s --takes FOLDER --language LANG "
          "-o me.json\n",
      list.path.c_str (), list.sentences.size (), arg.c_str ());
  for (size_t i = 0; i < list.sentences.size (); i++)
    printf ("%03zu  %s\n", i + 1, list.sentences[i].c_str ());
  return 0;
}

/* A path as typed in a shell: quoted only when it has to be. */
std::string
shell_word (const std::string &s)
{
  bool plain = !s.empty () && std::all_of (s.begin (), s.end (), [] (char c) {
    return g_ascii_isalnum (c) || strchr ("._/-+,:@%=", c);
  });
  if (plain)
    return s;
  gchar *q = g_shell_quote (s.c_str ());
  std::string out = q;
  g_free (q);
  return out;
}

/* The cues of a timed transcript cut out of the recording (with up to
 * 0.15 s around each, never past half the gap to its neighbour). */
std::vector<ganvoice::ReadSentence>
cut_at_cues (const Audio &audio, const Transcript &t, const std::string &path,
    const std::string &transcript)
{
  std::vector<ganvoice::ReadSentence> out;
  double length = audio.samples.size () / (double) audio.rate;
  unsigned past_end = 0;
  for (size_t i = 0; i < t.cues.size (); i++) {
    const Transcript::Cue &c = t.cues[i];
    double start = c.start_ns / 1e9, end = c.end_ns / 1e9;
    double before = i > 0 ? (start - t.cues[i - 1].end_ns / 1e9) / 2 : 1.0;
    double after =
        i + 1 < t.cues.size () ? (t.cues[i + 1].start_ns / 1e9 - end) / 2 : 1.0;
    start -= std::clamp (before, 0.0, 0.15);
    end += std::clamp (after, 0.0, 0.15);
    start = std::max (start, 0.0);
    end = std::min (end, length);
    if (end - start < 0.1) {
      past_end++;
      continue;
    }
    ganvoice::ReadSentence s;
    size_t a = (size_t) (start * audio.rate), b = (size_t) (end * audio.rate);
    s.samples.assign (audio.samples.begin () + a,
        audio.samples.begin () + std::min (b, audio.samples.size ()));
    s.rate = audio.rate;
    s.text = c.text;
    s.origin = strprintf ("%s at %u:%04.1f (%s line %u)", path.c_str (),
        (unsigned) (c.start_ns / 60000000000), c.start_ns % 60000000000 / 1e9,
        transcript.c_str (), c.line);
    out.push_back (std::move (s));
  }
  if (past_end)
    note (strprintf ("%s: %u cue%s after the end of %s (%s); skipped",
        transcript.c_str (), past_end, past_end == 1 ? " starts" : "s start",
        path.c_str (), clock_time (length).c_str ()));
  return out;
}

/* Fails early, before minutes of work, when OUTPUT cannot be written. */
void
check_output (const std::string &output)
{
  if (g_file_test (output.c_str (), G_FILE_TEST_IS_DIR))
    throw CloneError (output + ": a folder; give the profile's file name");
  gchar *d = g_path_get_dirname (output.c_str ());
  std::string dir = d;
  g_free (d);
  if (!g_file_test (dir.c_str (), G_FILE_TEST_IS_DIR))
    throw CloneError (output + ": no such folder: " + dir);
  if (g_access (dir.c_str (), W_OK) != 0)
    throw CloneError (output + ": cannot write in " + dir);
}

struct Run {
  Options opt;
  std::unique_ptr<ganvoice::VoiceFineTuner> tuner;
  std::vector<CheckedTake> checked; /* every take, in order */
  size_t rejected = 0;
  double checked_speech_s = 0.0; /* --check-only: of the good takes */
  size_t checked_good = 0;
  size_t total = 0; /* takes to read from files */
  size_t beyond_limit = 0; /* takes not read: --seconds was reached */

  /* --seconds of speech are in: the remaining takes are not read. */
  bool enough () const
  {
    return tuner && opt.seconds > 0.0 &&
        tuner->speech_seconds () >= opt.seconds;
  }

  /* One take: checked (--check-only) or added; a rejected one is said. */
  void take (const ganvoice::ReadSentence &s)
  {
    CheckedTake t{ s.origin, s.text, {} };
    t.check = tuner ? tuner->add (s) : ganvoice::check_take (s, opt.language);
    record (t);
  }

  void record (const CheckedTake &t)
  {
    if (!t.check.ok ()) {
      rejected++;
      if (!opt.check_only)
        say (rejected_line (t));
    } else {
      checked_good++;
      checked_speech_s += t.check.speech_seconds;
    }
    checked.push_back (t);
  }

  void take_file (const TakeSource &src)
  {
    if (g_cancel.load ())
      throw Interrupted ();
    if (enough ()) {
      beyond_limit++;
      return;
    }
    status (strprintf ("reading takes: %zu/%zu  %s", checked.size () + 1, total,
        src.origin.c_str ()));
    CheckedTake failed{ src.origin, src.text, {} };
    if (src.text.empty ()) {
      failed.check.problems.push_back ("its text is empty");
      record (failed);
      return;
    }
    Audio audio;
    try {
      audio = decode_audio (src.path, &g_cancel);
    } catch (const CloneError &e) {
      /* One unreadable take is a rejected take, not the end. */
      std::string m = e.what ();
      if (m.compare (0, src.path.size () + 2, src.path + ": ") == 0)
        m = m.substr (src.path.size () + 2);
      failed.check.problems.push_back (m);
      record (failed);
      return;
    }
    ganvoice::ReadSentence s;
    s.samples = std::move (audio.samples);
    s.rate = audio.rate;
    s.text = src.text;
    s.origin = src.origin;
    take (s);
  }

  void recording ()
  {
    const std::string &path = opt.recording;
    Transcript t = read_transcript (opt.transcript, opt.language);
    if (!opt.quiet)
      say ("reading " + path);
    Audio audio = decode_audio (path, &g_cancel);
    if (t.timed) {
      for (const ganvoice::ReadSentence &s :
          cut_at_cues (audio, t, path, opt.transcript)) {
        if (g_cancel.load ())
          throw Interrupted ();
        if (enough ()) {
          beyond_limit++;
          continue;
        }
        take (s);
      }
      return;
    }
    ganvoice::ReadSentence s;
    s.samples = std::move (audio.samples);
    s.rate = audio.rate;
    s.text = t.text;
    s.origin = path;
    if (!tuner) {
      /* --check-only: the whole recording against the whole text. */
      take (s);
      return;
    }
    if (!opt.quiet)
      say ("aligning " + path + " with " + opt.transcript);
    size_t added = tuner->add_recording (s);
    if (!opt.quiet)
      say (strprintf ("%s: cut into %zu sentences", path.c_str (), added));
  }
};

int
run (Run &r)
{
  Options &o = r.opt;
  if (!ganvoice::TextFrontend::has_language (o.language))
    throw CloneError ("--language " + o.language +
        ": not a language espeak-ng knows (cs, de, en-us, es, fr, ...)");
  /* Every input file is read before the model is loaded: a mistyped
   * path fails at once. */
  std::vector<TakeSource> sources;
  for (const std::string &dir : o.folders)
    for (TakeSource &t : folder_takes (dir))
      sources.push_back (std::move (t));
  for (const std::string &tsv : o.pairs)
    for (TakeSource &t : tsv_takes (tsv))
      sources.push_back (std::move (t));
  if (!o.prompts.empty ()) {
    PromptList list = read_prompt_list (find_prompt_list (o.prompts));
    for (TakeSource &t : prompt_takes (list, o.takes))
      sources.push_back (std::move (t));
  }
  if (!o.recording.empty () &&
      !g_file_test (o.recording.c_str (), G_FILE_TEST_IS_REGULAR))
    throw CloneError (o.recording + ": no such file");

  if (!o.check_only) {
    check_output (o.output);
    std::string model =
        ganvoice::require_model_file (o.model, ganvoice::kAcousticModelFile);
    std::string card = !o.card.empty () ? o.card
        : !o.model.empty ()
        ? ganvoice::card_beside (model)
        : ganvoice::require_model_file ("", ganvoice::kAcousticCardFile);
    ganvoice::FineTuneOptions fo;
    fo.language = o.language;
    fo.name = o.name;
    fo.gender = o.gender;
    fo.rank = o.rank;
    fo.time_limit_s = o.time_limit;
    fo.max_steps = o.steps;
    fo.max_speech_s = o.seconds;
    fo.checkpoint = o.checkpoint;
    fo.threads = o.threads;
    r.tuner = ganvoice::VoiceFineTuner::load (model, card, fo);
  }

  r.total = sources.size ();
  for (const TakeSource &src : sources)
    r.take_file (src);
  if (!o.recording.empty ())
    r.recording ();
  clear_status ();

  if (o.check_only) {
    print_check_table (r.checked);
    printf ("%zu take%s: %zu good (%.0f s of speech), %zu with problems\n",
        r.checked.size (), r.checked.size () == 1 ? "" : "s", r.checked_good,
        r.checked_speech_s, r.rejected);
    if (r.checked_speech_s < ganvoice::kMinFineTuneSpeechSeconds)
      printf ("a deep clone needs at least %.0f s of good speech (1 to 5 "
              "minutes is better)\n",
          ganvoice::kMinFineTuneSpeechSeconds);
    return r.rejected == 0 && !r.checked.empty () ? 0 : 1;
  }

  size_t sentences = r.tuner->sentences ();
  double speech = r.tuner->speech_seconds ();
  /* As the library's first message says it (said once). */
  std::string summary = strprintf (
      "%zu sentences, %ld s of speech", sentences, std::lround (speech));
  if (r.beyond_limit)
    summary += strprintf (
        " (%zu more takes not read: --seconds %g)", r.beyond_limit, o.seconds);
  if (!o.quiet || r.rejected)
    say (summary + strprintf (", %zu rejected", r.rejected));
  if (speech < ganvoice::kMinFineTuneSpeechSeconds)
    throw CloneError (strprintf (
        "only %.0f s of usable speech; a deep clone needs at least %.0f s "
        "(1 to 5 minutes is better)",
        speech, ganvoice::kMinFineTuneSpeechSeconds));

  if (o.no_resume && g_file_test (o.checkpoint.c_str (), G_FILE_TEST_EXISTS)) {
    if (g_unlink (o.checkpoint.c_str ()) != 0)
      throw CloneError (
          o.checkpoint + ": cannot delete it: " + g_strerror (errno));
    if (!o.quiet)
      say ("deleted the old state " + o.checkpoint + " (--no-resume)");
  }
  ProgressReport progress (o.checkpoint, o.quiet);
  progress.said (summary);
  ganvoice::VoiceProfile profile;
  try {
    profile = r.tuner->run (
        [&] (const ganvoice::FineTuneProgress &p) { progress (p); }, &g_cancel);
  } catch (const ganvoice::FineTuneCancelled &) {
    clear_status ();
    if (g_file_test (o.checkpoint.c_str (), G_FILE_TEST_EXISTS))
      say ("stopped; the state is in " + o.checkpoint +
          ": run the same command again to resume");
    else
      say ("stopped before the training; nothing was written");
    return interrupted_code ();
  }
  clear_status ();
  profile.save (o.output);
  /* The state served its purpose; a new run starts over. */
  if (g_file_test (o.checkpoint.c_str (), G_FILE_TEST_EXISTS))
    g_unlink (o.checkpoint.c_str ());
  const ganvoice::FineTuneProgress &p = progress.last ();
  say (strprintf ("wrote %s: a deep clone from %zu sentences (%s of speech), "
                  "%d steps in %s",
      o.output.c_str (), sentences, clock_time (speech).c_str (), p.step,
      clock_time (p.elapsed_s).c_str ()));
  std::string voice = shell_word (o.output);
  /* A profile made with another model speaks only with that model. */
  std::string element_model, dub_model;
  if (!o.model.empty ()) {
    element_model = " acoustic-model=" + shell_word (o.model);
    dub_model = " --acoustic-model " + shell_word (o.model);
  }
  fprintf (stderr,
      "Speak with it:\n"
      "  gst-launch-1.0 filesrc location=film.srt ! subcues ! ganvoice "
      "voice=%s%s ! audioconvert ! autoaudiosink\n"
      "  ganvoice-dub film.mkv film.srt --voice %s%s -o film-dubbed.mkv\n",
      voice.c_str (), element_model.c_str (), voice.c_str (),
      dub_model.c_str ());
  return 0;
}

} // namespace

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  Run r;
  if (parse_args (&r.opt, argc, argv) == Parsed::Usage)
    return 2;
  init_status (r.opt.quiet);
  try {
    if (!r.opt.list_prompts.empty ())
      return list_prompts (r.opt.list_prompts);
    install_signals ();
    return run (r);
  } catch (const Interrupted &) {
    clear_status ();
    say ("interrupted before the training; nothing was written");
    return interrupted_code ();
  } catch (const std::exception &e) {
    /* CloneError, ModelError (the model, a language espeak-ng does not
     * know, a transcript that does not fit), VoiceProfileError (saving). */
    clear_status ();
    fprintf (stderr, "ganvoice-clone: %s\n", e.what ());
    return 1;
  }
}

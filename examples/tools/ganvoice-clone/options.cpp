/* ganvoice-clone: the command line into Options, and the messages.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "options.h"

#include <glib.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include <unistd.h>

namespace clonecli {

namespace {

const char *kExamples =
    "Inputs (any mix; every audio file GStreamer can read):\n"
    "  --folder DIR              NAME.wav (.flac, .ogg, .mp3, ...) with the "
    "text\n"
    "                            read in it in NAME.txt beside it\n"
    "  --pairs FILE.tsv          lines 'path<TAB>text' (paths relative to "
    "the TSV)\n"
    "  --prompts LIST --takes DIR\n"
    "                            a prompt list (a file, or a language code "
    "for a\n"
    "                            shipped list) and its takes named by "
    "sentence\n"
    "                            number: 001.wav (or 1.wav) for the first, "
    "...\n"
    "  --recording FILE --transcript FILE\n"
    "                            one long recording and its text: plain "
    "text, or\n"
    "                            subtitles (SRT, WebVTT, SSA) cut at their "
    "cue times\n"
    "\n"
    "Examples:\n"
    "  ganvoice-clone --list-prompts cs        # the sentences to read, "
    "numbered\n"
    "  ganvoice-clone --prompts cs --takes takes/ --language cs -o me.json\n"
    "  ganvoice-clone --folder takes/ --language en-us -o me.json\n"
    "  ganvoice-clone --pairs takes.tsv --language fr -o me.json\n"
    "  ganvoice-clone --recording talk.flac --transcript talk.srt "
    "--language es -o me.json\n"
    "  ganvoice-clone --recording book.ogg --transcript book.txt "
    "--language de -o me.json\n"
    "  ganvoice-clone --folder takes/ --language cs --check-only\n"
    "\n"
    "Ctrl-C stops and keeps the training state in OUTPUT.state: the same "
    "command\n"
    "resumes. Exit status: 0 done, 1 error (or a bad take with "
    "--check-only),\n"
    "2 bad usage, 130 interrupted. See docs/deep-clone.md.";

bool g_tty = false;
bool g_quiet = false;
bool g_shown = false;

} // namespace

void
init_status (bool quiet)
{
  g_tty = isatty (STDERR_FILENO);
  g_quiet = quiet;
}

bool
status_shown_on_terminal ()
{
  return g_tty && !g_quiet;
}

void
status (const std::string &line)
{
  if (!g_tty || g_quiet)
    return;
  fprintf (stderr, "\r\033[K%s", line.c_str ());
  fflush (stderr);
  g_shown = true;
}

void
clear_status ()
{
  if (!g_shown)
    return;
  fprintf (stderr, "\r\033[K");
  fflush (stderr);
  g_shown = false;
}

void
say (const std::string &message)
{
  clear_status ();
  fprintf (stderr, "ganvoice-clone: %s\n", message.c_str ());
}

void
note (const std::string &message)
{
  if (!g_quiet)
    say ("note: " + message);
}

std::string
strprintf (const char *format, ...)
{
  va_list args;
  va_start (args, format);
  gchar *s = g_strdup_vprintf (format, args);
  va_end (args);
  std::string out = s;
  g_free (s);
  return out;
}

std::string
text_start (const std::string &text, long chars)
{
  if (!g_utf8_validate (text.c_str (), text.size (), NULL))
    return "?";
  if (g_utf8_strlen (text.c_str (), text.size ()) <= chars)
    return text;
  gchar *s = g_utf8_substring (text.c_str (), 0, chars - 3);
  std::string out = std::string (s) + "...";
  g_free (s);
  return out;
}

Parsed
parse_args (Options *opt, int argc, char **argv)
{
  Options &o = *opt;
  gchar **folders = NULL, **pairs = NULL;
  gchar *prompts = NULL, *takes = NULL, *recording = NULL, *transcript = NULL;
  gchar *list = NULL, *lang = NULL, *name = NULL, *gender = NULL;
  gchar *output = NULL, *checkpoint = NULL, *model = NULL, *card = NULL;
  gboolean no_resume = FALSE, check_only = FALSE, quiet = FALSE;
  GOptionEntry entries[] = {
    { "folder", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &folders,
        "A folder of NAME.wav + NAME.txt pairs (repeatable)", "DIR" },
    { "pairs", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &pairs,
        "A TSV file of 'path<TAB>text' lines (repeatable)", "FILE" },
    { "prompts", 0, 0, G_OPTION_ARG_FILENAME, &prompts,
        "A prompt list (one sentence a line), or a language code for a "
        "shipped one (cs, en, ...); with --takes",
        "LIST" },
    { "takes", 0, 0, G_OPTION_ARG_FILENAME, &takes,
        "The takes of --prompts: 001.wav (or 1.wav) for its first "
        "sentence, ...",
        "DIR" },
    { "recording", 0, 0, G_OPTION_ARG_FILENAME, &recording,
        "One long recording; with --transcript", "FILE" },
    { "transcript", 0, 0, G_OPTION_ARG_FILENAME, &transcript,
        "What is read in --recording: plain text, or subtitles (SRT, "
        "WebVTT, SSA) timed to it",
        "FILE" },
    { "list-prompts", 0, 0, G_OPTION_ARG_FILENAME, &list,
        "Print the numbered sentences of a prompt list (a language code or "
        "a file) and exit",
        "LIST" },
    { "language", 'l', 0, G_OPTION_ARG_STRING, &lang,
        "The espeak-ng language of the texts (required): cs, en-us, fr, ...",
        "LANG" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
        "Where to write the voice profile (required)", "PROFILE.json" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name,
        "The voice's name (default: OUTPUT's file name)", "NAME" },
    { "gender", 0, 0, G_OPTION_ARG_STRING, &gender,
        "female or male (default: not said)", "GENDER" },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &o.seconds,
        "Use at most this much speech (default: all)", "S" },
    { "time-limit", 0, 0, G_OPTION_ARG_DOUBLE, &o.time_limit,
        "Seconds of training, counted across resumes (default 480)", "S" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &o.steps,
        "At most this many training steps (default 2000)", "N" },
    { "rank", 0, 0, G_OPTION_ARG_INT, &o.rank,
        "Rank of the low-rank updates (default 8)", "R" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &o.threads,
        "LibTorch threads (default 1, as the recipe; 0: all cores)", "N" },
    { "checkpoint", 0, 0, G_OPTION_ARG_FILENAME, &checkpoint,
        "The training state, to resume from (default: OUTPUT.state)", "FILE" },
    { "no-resume", 0, 0, G_OPTION_ARG_NONE, &no_resume,
        "Delete the training state first: start over", NULL },
    { "check-only", 0, 0, G_OPTION_ARG_NONE, &check_only,
        "Only check every take and print a table; exit 0 when all are good",
        NULL },
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model,
        "TorchScript acoustic model (default: the shipped one, or "
        "$GANVOICE_MODEL_DIR)",
        "FILE" },
    { "card", 0, 0, G_OPTION_ARG_FILENAME, &card,
        "Its model card (default: beside --model, as .json)", "FILE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet,
        "No progress and no notes (errors and rejected takes only)", NULL },
    { NULL },
  };
  GOptionContext *ctx = g_option_context_new ("-o PROFILE.json");
  g_option_context_set_summary (ctx,
      "Makes a deep clone: fine-tunes the acoustic model on a few minutes of "
      "one person's read speech (known text) into a voice profile that "
      "ganvoice speaks like any other. At least 20 s of speech, 1 to 5 "
      "minutes is better.");
  g_option_context_set_description (ctx, kExamples);
  g_option_context_add_main_entries (ctx, entries, NULL);
  GError *err = NULL;
  Parsed result = Parsed::Run;
  auto bad = [&] (const std::string &message) {
    if (result == Parsed::Run)
      fprintf (stderr, "ganvoice-clone: %s (see --help)\n", message.c_str ());
    result = Parsed::Usage;
  };
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    bad (err->message);
    g_clear_error (&err);
  } else if (argc > 1) {
    bad (std::string ("unexpected argument '") + argv[1] +
        "': inputs are given with --folder, --pairs, --prompts/--takes or "
        "--recording/--transcript");
  }
  for (gchar **f = folders; f && *f; f++)
    o.folders.push_back (*f);
  for (gchar **f = pairs; f && *f; f++)
    o.pairs.push_back (*f);
  auto set = [] (std::string &to, const gchar *from) {
    if (from)
      to = from;
  };
  set (o.prompts, prompts);
  set (o.takes, takes);
  set (o.recording, recording);
  set (o.transcript, transcript);
  set (o.list_prompts, list);
  set (o.language, lang);
  set (o.name, name);
  set (o.gender, gender);
  set (o.output, output);
  set (o.checkpoint, checkpoint);
  set (o.model, model);
  set (o.card, card);
  o.no_resume = no_resume;
  o.check_only = check_only;
  o.quiet = quiet;
  if (result == Parsed::Run && o.list_prompts.empty ()) {
    bool any = !o.folders.empty () || !o.pairs.empty () ||
        !o.prompts.empty () || !o.takes.empty () || !o.recording.empty () ||
        !o.transcript.empty ();
    if (!any) {
      gchar *help = g_option_context_get_help (ctx, TRUE, NULL);
      fprintf (stderr, "%s", help);
      g_free (help);
      result = Parsed::Usage;
    }
    if (o.prompts.empty () != o.takes.empty ())
      bad ("--prompts and --takes go together");
    if (o.recording.empty () != o.transcript.empty ())
      bad ("--recording and --transcript go together");
    if (o.language.empty ())
      bad ("--language is required (the espeak-ng language of the texts)");
    if (o.output.empty () && !o.check_only)
      bad ("-o/--output is required (where to write the voice profile)");
    if (o.gender == "f")
      o.gender = "female";
    else if (o.gender == "m")
      o.gender = "male";
    if (!o.gender.empty () && o.gender != "female" && o.gender != "male")
      bad ("--gender " + o.gender + ": use female or male");
    if (!(o.seconds >= 0.0))
      bad ("--seconds must be 0 (all) or more");
    if (!(o.time_limit > 0.0))
      bad ("--time-limit must be more than 0");
    if (o.steps < 1)
      bad ("--steps must be 1 or more");
    if (o.rank < 1)
      bad ("--rank must be 1 or more");
    if (o.threads < 0)
      bad ("--threads must be 0 (all cores) or more");
    if (o.checkpoint.empty () && !o.output.empty ())
      o.checkpoint = o.output + ".state";
    if (o.name.empty () && !o.output.empty ()) {
      gchar *base = g_path_get_basename (o.output.c_str ());
      gchar *dot = strchr (base, '.');
      if (dot && dot != base)
        *dot = '\0';
      o.name = base;
      g_free (base);
    }
  }
  g_option_context_free (ctx);
  g_strfreev (folders);
  g_strfreev (pairs);
  g_free (prompts);
  g_free (takes);
  g_free (recording);
  g_free (transcript);
  g_free (list);
  g_free (lang);
  g_free (name);
  g_free (gender);
  g_free (output);
  g_free (checkpoint);
  g_free (model);
  g_free (card);
  return result;
}

} // namespace clonecli

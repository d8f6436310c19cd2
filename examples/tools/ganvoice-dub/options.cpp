/* ganvoice-dub: the command line into Options.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "options.h"

#include <glib.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace dub {

bool
parse_chunk_range (const char *text, gint64 *start, gint64 *end)
{
  const char *colon = strchr (text, ':');
  bool ok = colon != NULL;
  guint64 a = 0, b = 0;
  if (ok) {
    std::string first (text, colon - text);
    ok = g_ascii_string_to_unsigned (
        first.c_str (), 10, 0, G_MAXINT64, &a, NULL);
    if (ok && g_str_equal (colon + 1, "end"))
      *end = -1;
    else if (ok)
      ok =
          g_ascii_string_to_unsigned (colon + 1, 10, 0, G_MAXINT64, &b, NULL) &&
          b > a;
    if (ok && !g_str_equal (colon + 1, "end"))
      *end = (gint64) b;
    *start = (gint64) a;
  }
  if (!ok)
    fprintf (stderr,
        "ganvoice-dub: --chunk %s: expected START:END, frame indices at "
        "48 kHz with START < END (END may be 'end'), e.g. 0:4320000\n",
        text);
  return ok;
}

bool
parse_args (Options *opt, int argc, char **argv)
{
  Options &o = *opt;
  gchar *output = NULL, *lang = NULL, *mode = NULL, *overflow = NULL;
  gchar *acoustic = NULL, *vocoder = NULL, *device = NULL, *title = NULL,
        *encoder = NULL, *provenance = NULL;
  gchar **voices = NULL;
  gchar *chunk = NULL, *programme = NULL;
  gboolean json = FALSE, embed = FALSE, quiet = FALSE, plan = FALSE,
           assemble = FALSE;
  /* Text that may not be ASCII (a title, a note, a voice or speaker's name)
   * is read as bytes (the FILENAME kinds: not converted from the locale's
   * charset, which is ASCII in a service's C locale) and checked as UTF-8
   * below. */
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
        "Where to write the dubbed video (.mkv, .webm or .mp4)", "OUTPUT" },
    { "voice", 'v', 0, G_OPTION_ARG_FILENAME_ARRAY, &voices,
        "A built-in voice name or a voice-profile file; SPEAKER=VOICE for "
        "one speaker (repeatable)",
        "VOICE" },
    { "lang", 'l', 0, G_OPTION_ARG_STRING, &lang,
        "Language of the subtitles and the dub (default: from the file)", "L" },
    { "mode", 'm', 0, G_OPTION_ARG_STRING, &mode,
        "duck (default): the original soundtrack lowered under the voice; "
        "replace: muted under the voice; add-track: keep the original track "
        "and add the dub (ducked) as a second one",
        "MODE" },
    { "overflow", 0, 0, G_OPTION_ARG_STRING, &overflow,
        "Speech longer than its slot: default, clip, overlap, shift or "
        "compress",
        "POLICY" },
    { "duck-level", 0, 0, G_OPTION_ARG_DOUBLE, &o.duck_level,
        "Programme gain under the voice in dB (default -12)", "DB" },
    { "loudness", 0, 0, G_OPTION_ARG_DOUBLE, &o.loudness_target,
        "EBU R128 target of the dub in LUFS (default -16; 0: off)", "LUFS" },
    { "title", 0, 0, G_OPTION_ARG_FILENAME, &title,
        "Title of the dub's audio track", "TITLE" },
    { "provenance", 0, 0, G_OPTION_ARG_FILENAME, &provenance,
        "The provenance note in the file's tags (default: synthetic speech, "
        "the voices, built-in or cloned, and ganvoice-dub's version)",
        "TEXT" },
    { "embed-subtitles", 0, 0, G_OPTION_ARG_NONE, &embed,
        "Also store the subtitles as a track (.mkv only)", NULL },
    { "acoustic-model", 0, 0, G_OPTION_ARG_FILENAME, &acoustic,
        "TorchScript acoustic model, its card beside it as .json (default: the "
        "shipped one, or $GANVOICE_MODEL_DIR)",
        "FILE" },
    { "vocoder-model", 0, 0, G_OPTION_ARG_FILENAME, &vocoder,
        "TorchScript vocoder (its card beside it)", "FILE" },
    { "speaker-encoder", 0, 0, G_OPTION_ARG_FILENAME, &encoder,
        "TorchScript speaker encoder for --voice AUDIO (its card beside it; "
        "default: the shipped one)",
        "FILE" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device,
        "Where the models run: cpu or cuda", "DEV" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &o.threads, "Threads for the models",
        "N" },
    { "stall-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &o.stall_timeout,
        "Stop with an error when no data moves for this long (default 60; "
        "0: never)",
        "SECONDS" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
        "Progress, per-cue reports and warnings as JSON lines on stdout",
        NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress bar", NULL },
    { "plan", 0, 0, G_OPTION_ARG_NONE, &plan,
        "Print where to cut the film into chunks, as JSON (no -o)", NULL },
    { "chunk-target", 0, 0, G_OPTION_ARG_DOUBLE, &o.chunk_target,
        "--plan and --programme: the chunks' target length (default 90: 60 "
        "to 120 s)",
        "SECONDS" },
    { "programme", 0, 0, G_OPTION_ARG_FILENAME, &programme,
        "Decode the film's audio once into DIR/programme-K.wav, one file per "
        "chunk of the plan (the programme as it enters the mix; no voice, no "
        "video decode), and print the plan as JSON (no -o)",
        "DIR" },
    { "chunk", 0, 0, G_OPTION_ARG_STRING, &chunk,
        "Render only frames START to END (48 kHz; END may be 'end') of the "
        "mix, neither normalised nor encoded, into -o CHUNK.wav; INPUT may "
        "be the chunk's programme-K.wav from --programme (then nothing "
        "before START is decoded or mixed)",
        "START:END" },
    { "assemble", 0, 0, G_OPTION_ARG_NONE, &assemble,
        "Join the chunk files given after SUBTITLES, normalise, encode and "
        "mux them with the video into -o OUTPUT",
        NULL },
    { NULL },
  };
  GOptionContext *ctx = g_option_context_new (
      "INPUT SUBTITLES -o OUTPUT | INPUT SUBTITLES --plan | INPUT SUBTITLES "
      "--programme DIR | INPUT|PROGRAMME-K.wav SUBTITLES --chunk START:END "
      "-o CHUNK.wav | --assemble INPUT SUBTITLES CHUNK.wav... -o OUTPUT");
  g_option_context_set_summary (ctx,
      "Dubs a video from its subtitles: the "
      "video is copied, the subtitles are spoken and mixed into the "
      "soundtrack.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  GError *err = NULL;
  bool ok = g_option_context_parse (ctx, &argc, &argv, &err);
  if (!ok) {
    fprintf (stderr, "ganvoice-dub: %s\n", err->message);
    g_clear_error (&err);
  } else if ((plan ? 1 : 0) + (chunk ? 1 : 0) + (assemble ? 1 : 0) +
          (programme ? 1 : 0) >
      1) {
    fprintf (stderr,
        "ganvoice-dub: --plan, --programme, --chunk and --assemble are "
        "separate runs: give one\n");
    ok = false;
  } else if (programme && (output || json)) {
    fprintf (stderr,
        "ganvoice-dub: --programme writes DIR/programme-K.wav and prints "
        "the plan as JSON on stdout: no -o, no --json\n");
    ok = false;
  } else if ((assemble ? argc < 4 : argc != 3) ||
      (!output && !plan && !programme)) {
    gchar *help = g_option_context_get_help (ctx, TRUE, NULL);
    fprintf (stderr, "%s", help);
    g_free (help);
    ok = false;
  }
  g_option_context_free (ctx);
  for (const gchar *text :
      { (const gchar *) title, (const gchar *) provenance })
    if (ok && text && !g_utf8_validate (text, -1, NULL)) {
      fprintf (stderr,
          "ganvoice-dub: --title and --provenance must be UTF-8 "
          "text\n");
      ok = false;
    }
  for (gchar **v = voices; ok && v && *v; v++)
    if (!g_utf8_validate (*v, -1, NULL)) {
      fprintf (stderr, "ganvoice-dub: --voice %s: not UTF-8 text\n", *v);
      ok = false;
    }
  if (ok) {
    o.input = argv[1];
    o.subtitles = argv[2];
    o.output = output ? output : "";
    for (int i = 3; i < argc; i++)
      o.chunks.push_back (argv[i]);
    if (plan)
      o.task = Task::Plan;
    else if (programme) {
      o.task = Task::Programme;
      o.programme_dir = programme;
      if (o.programme_dir.empty ()) {
        fprintf (stderr, "ganvoice-dub: --programme needs a directory\n");
        ok = false;
      }
    } else if (assemble)
      o.task = Task::Assemble;
    else if (chunk) {
      o.task = Task::Chunk;
      ok = parse_chunk_range (chunk, &o.chunk_start, &o.chunk_end);
      if (ok && !g_str_has_suffix (o.output.c_str (), ".wav")) {
        fprintf (
            stderr, "ganvoice-dub: --chunk writes a WAV file: name it .wav\n");
        ok = false;
      }
    }
    if (!(o.chunk_target >= 3.0 && o.chunk_target <= 86400.0)) {
      fprintf (
          stderr, "ganvoice-dub: --chunk-target must be 3 to 86400 seconds\n");
      ok = false;
    }
    o.json = json;
    o.embed_subtitles = embed;
    o.quiet = quiet;
    if (lang)
      o.language = lang;
    if (overflow)
      o.overflow = overflow;
    if (acoustic)
      o.acoustic_model = acoustic;
    if (vocoder)
      o.vocoder_model = vocoder;
    if (encoder)
      o.speaker_encoder = encoder;
    if (device)
      o.device = device;
    if (title)
      o.title = title;
    if (provenance)
      o.provenance = provenance;
    for (gchar **v = voices; v && *v; v++)
      o.voices.push_back (*v);
    if (!mode || g_str_equal (mode, "duck")) {
      o.mode = Mode::Duck;
    } else if (g_str_equal (mode, "replace")) {
      o.mode = Mode::Replace;
    } else if (g_str_equal (mode, "add-track") || g_str_equal (mode, "add")) {
      o.mode = Mode::AddTrack;
    } else {
      fprintf (stderr,
          "ganvoice-dub: --mode %s: use duck, replace or "
          "add-track\n",
          mode);
      ok = false;
    }
    if (o.loudness_target >= 0.0)
      o.loudness_target = 0.0;
    if (!(o.stall_timeout >= 0.0)) {
      fprintf (stderr, "ganvoice-dub: --stall-timeout must be 0 or more\n");
      ok = false;
    }
  }
  g_free (output);
  g_free (lang);
  g_free (mode);
  g_free (overflow);
  g_free (acoustic);
  g_free (vocoder);
  g_free (encoder);
  g_free (device);
  g_free (title);
  g_free (provenance);
  g_strfreev (voices);
  g_free (chunk);
  g_free (programme);
  return ok;
}

} // namespace dub

/* ganvoice-adapt: the opt-in adapt step of voice cloning. Tunes a voice
 * profile made by speakerembed so that ganvoice's speech with it sounds
 * most like the reference to the speaker encoder (docs/cloning.md).
 *
 *   ganvoice-adapt me.json -o me-adapted.json [--evaluations 40]
 *
 * Takes about 1 s per evaluation on one core (two syntheses of about 10 s
 * of speech each). The models are the shipped ones unless given.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/model-paths.h>
#include <ganvoice/voice-adapt.h>

#include <glib.h>

#include <cstdio>
#include <exception>
#include <string>

int
main (int argc, char **argv)
{
  gchar *out = NULL, *acoustic = NULL, *vocoder = NULL, *encoder = NULL;
  gint evaluations = 40, threads = 1;
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out,
        "Where to write the adapted profile", "FILE" },
    { "evaluations", 'n', 0, G_OPTION_ARG_INT, &evaluations,
        "Syntheses to try (default 40)", "N" },
    { "acoustic-model", 0, 0, G_OPTION_ARG_FILENAME, &acoustic,
        "TorchScript acoustic model, its card beside it", "FILE" },
    { "vocoder-model", 0, 0, G_OPTION_ARG_FILENAME, &vocoder,
        "TorchScript vocoder, its card beside it", "FILE" },
    { "speaker-encoder", 0, 0, G_OPTION_ARG_FILENAME, &encoder,
        "TorchScript speaker encoder, its card beside it", "FILE" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
        "LibTorch threads (default 1)", "N" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress", NULL },
    { NULL },
  };
  GOptionContext *ctx = g_option_context_new ("PROFILE -o OUTPUT");
  g_option_context_set_summary (ctx,
      "Adapts a cloned voice profile (from speakerembed) to its reference: "
      "searches the mix of built-in voices and the formant scale whose "
      "speech the speaker encoder finds closest to the reference.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  GError *err = NULL;
  bool ok = g_option_context_parse (ctx, &argc, &argv, &err);
  if (!ok) {
    fprintf (stderr, "ganvoice-adapt: %s\n", err->message);
    g_clear_error (&err);
  } else if (argc != 2 || !out) {
    gchar *help = g_option_context_get_help (ctx, TRUE, NULL);
    fprintf (stderr, "%s", help);
    g_free (help);
    ok = false;
  }
  g_option_context_free (ctx);
  int code = ok ? 0 : 2;
  if (ok) {
    try {
      ganvoice::SynthesizerOptions so;
      so.acoustic_model = acoustic ? acoustic : "";
      so.vocoder_model = vocoder ? vocoder : "";
      so.threads = threads;
      auto synth =
          ganvoice::Synthesizer::load (ganvoice::require_model_options (so));
      std::string enc = ganvoice::require_model_file (
          encoder ? encoder : "", ganvoice::kSpeakerEncoderFile);
      auto speaker = ganvoice::SpeakerEncoder::load (
          enc, ganvoice::card_beside (enc), threads);
      ganvoice::VoiceProfile profile = ganvoice::VoiceProfile::load (
          argv[1], synth->acoustic ().card ().speaker_embedding_dim);
      ganvoice::AdaptOptions ao;
      ao.evaluations = evaluations;
      gint64 t0 = g_get_monotonic_time ();
      ganvoice::AdaptReport r = ganvoice::adapt_voice (
          *synth, *speaker, profile, ao, [&] (int done, int total) {
            if (!quiet)
              fprintf (stderr, "\rganvoice-adapt: %d/%d", done, total);
            return true;
          });
      profile.save (out);
      if (!quiet)
        fprintf (stderr,
            "\rganvoice-adapt: similarity %.3f -> %.3f in %d syntheses "
            "(%.0f s, %d left out for their F0), base voice %s, formant "
            "x%.3f; wrote %s\n",
            r.before, r.after, r.evaluations,
            (g_get_monotonic_time () - t0) / 1e6, r.rejected_f0,
            profile.base_voice.c_str (), r.formant_factor, out);
    } catch (const std::exception &e) {
      fprintf (stderr, "ganvoice-adapt: %s\n", e.what ());
      code = 1;
    }
  }
  g_free (out);
  g_free (acoustic);
  g_free (vocoder);
  g_free (encoder);
  return code;
}

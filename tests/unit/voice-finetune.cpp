/* Unit tests of deep-clone fine-tuning on the tiny models: take checks,
 * a run to a profile that speaks, cancel and resume, long recordings, and
 * the errors.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/synthesizer.h>
#include <ganvoice/voice-finetune.h>
#include <ganvoice/voice-profile.h>

#include <glib/gstdio.h>

#include <atomic>
#include <cmath>
#include <string>
#include <vector>

#include <gst/check/gstcheck.h>

#include "model-files.h"

using namespace ganvoice;

static const char *kSentences[] = {
  "The quick brown fox jumps over the lazy dog.",
  "She sells sea shells by the sea shore.",
  "A big black bug bit a big black bear.",
  "How much wood would a woodchuck chuck?",
  "Peter Piper picked a peck of pickled peppers.",
  "Red lorry, yellow lorry, red lorry, yellow lorry.",
  "I scream, you scream, we all scream for ice cream.",
  "Fuzzy Wuzzy was a bear, and he had no hair.",
};

/* Voiced "speech" at 16 kHz: harmonics of a gliding F0 in syllables of
 * 0.25 s, @seconds long, with 0.2 s of silence around it. */
static std::vector<float>
speech (double seconds, double f0, float level = 0.3f)
{
  const int rate = 16000;
  const size_t pad = (size_t) (0.2 * rate), n = (size_t) (seconds * rate);
  std::vector<float> x (pad * 2 + n, 0.0f);
  double phase = 0.0;
  for (size_t i = 0; i < n; i++) {
    double t = (double) i / rate;
    double hz = f0 * (1.0 + 0.1 * std::sin (2.0 * G_PI * 0.7 * t));
    phase += 2.0 * G_PI * hz / rate;
    double v = 0.0;
    for (int h = 1; h <= 6; h++)
      v += std::sin (h * phase) / h;
    double env = std::fabs (std::sin (G_PI * t * 4.0));
    x[pad + i] = (float) (level * env * v / 1.5);
  }
  return x;
}

static ReadSentence
take (const char *text, double seconds, double f0 = 140.0, float level = 0.3f)
{
  ReadSentence s;
  s.samples = speech (seconds, f0, level);
  s.rate = 16000;
  s.text = text;
  s.origin = "test";
  return s;
}

/* A take of the right length for its text. */
static ReadSentence
good_take (const char *text, double f0 = 140.0)
{
  TakeCheck c = check_take (take (text, 1.0), "en");
  return take (text, std::max (1.0, c.expected_seconds), f0);
}

static FineTuneOptions
tiny_options (const std::string &checkpoint = "")
{
  FineTuneOptions o;
  o.language = "en";
  o.name = "me";
  o.time_limit_s = 60.0;
  o.max_steps = 12;
  o.threads = 1;
  o.checkpoint = checkpoint;
  o.checkpoint_interval_s = 0.0; /* save after every step */
  return o;
}

static std::unique_ptr<VoiceFineTuner>
tiny_tuner (const FineTuneOptions &o)
{
  return VoiceFineTuner::load (
      model_file ("tiny-acoustic.ts"), model_file ("tiny-acoustic.json"), o);
}

/* Adds every sentence twice (about 40 s of speech). */
static void
add_sentences (VoiceFineTuner &t)
{
  for (int round = 0; round < 2; round++)
    for (const char *s : kSentences) {
      TakeCheck c = t.add (good_take (s, 120.0 + 20.0 * round));
      fail_unless (c.ok (), "a good take was refused: %s",
          c.problems.empty () ? "" : c.problems[0].c_str ());
    }
}

static bool
has_problem (const TakeCheck &c, const char *start)
{
  for (const std::string &p : c.problems)
    if (p.rfind (start, 0) == 0)
      return true;
  return false;
}

GST_START_TEST (test_check_take)
{
  const char *text = kSentences[0];
  TakeCheck good = check_take (good_take (text), "en");
  fail_unless (good.ok ());
  fail_unless (good.phonemes > 20);
  fail_unless (std::fabs (good.speech_seconds - good.expected_seconds) < 0.3);
  fail_unless (good.peak_dbfs < 0.0 && good.peak_dbfs > -20.0);

  ReadSentence silent = take (text, 3.0, 140.0, 0.0f);
  fail_unless (has_problem (check_take (silent, "en"), "no speech"));

  ReadSentence quiet = take (text, good.expected_seconds, 140.0, 0.01f);
  fail_unless (has_problem (check_take (quiet, "en"), "too quiet"));

  ReadSentence clipped = take (text, good.expected_seconds, 140.0, 3.0f);
  for (float &v : clipped.samples)
    v = std::clamp (v, -1.0f, 1.0f);
  fail_unless (has_problem (check_take (clipped, "en"), "clipped"));

  ReadSentence cut = take (text, 0.6 * good.expected_seconds * 0.6);
  fail_unless (has_problem (check_take (cut, "en"), "too short"));
  ReadSentence rambling = take (text, 3.0 * good.expected_seconds + 2.0);
  fail_unless (has_problem (check_take (rambling, "en"), "too long"));

  ReadSentence empty;
  empty.rate = 16000;
  empty.text = text;
  fail_unless (has_problem (check_take (empty, "en"), "empty"));

  bool threw = false;
  try {
    check_take (good_take (text), "xx-nolanguage");
  } catch (const ModelError &) {
    threw = true;
  }
  fail_unless (threw);
}
GST_END_TEST;

GST_START_TEST (test_fine_tune_speaks)
{
  auto tuner = tiny_tuner (tiny_options ());
  add_sentences (*tuner);
  fail_unless_equals_int (tuner->sentences (), 16);
  fail_unless (tuner->speech_seconds () > 30.0);
  /* A bad take is refused and not added. */
  TakeCheck bad = tuner->add (take (kSentences[1], 3.0, 140.0, 0.0f));
  fail_if (bad.ok ());
  fail_unless_equals_int (tuner->sentences (), 16);

  std::vector<FineTuneProgress> seen;
  VoiceProfile p =
      tuner->run ([&] (const FineTuneProgress &x) { seen.push_back (x); });
  fail_unless (!seen.empty ());
  fail_unless (seen.back ().stage == FineTuneProgress::Stage::kDone);
  fail_unless (seen.back ().fraction == 1.0);
  bool trained = false;
  double last = 0.0;
  for (const FineTuneProgress &x : seen) {
    fail_unless (x.fraction >= last - 1e-9, "progress went back");
    last = x.fraction;
    trained = trained || x.stage == FineTuneProgress::Stage::kTraining;
  }
  fail_unless (trained);
  fail_unless_equals_int (seen.back ().step, 12);
  fail_unless (std::isfinite (seen.back ().mel_loss));

  fail_unless_equals_string (p.name.c_str (), "me");
  fail_unless_equals_string (p.model.c_str (), "tiny-acoustic");
  fail_unless_equals_int (p.embedding.size (), 4);
  fail_unless (!p.base_voice.empty ());
  fail_unless (p.acoustic_delta != nullptr);
  bool low_rank = false, full = false;
  for (const AcousticDelta::Tensor &t : p.acoustic_delta->tensors) {
    low_rank = low_rank || (t.name == "post.weight" && t.rank == 8);
    full = full || t.name == "dur.weight";
    fail_if (t.name.rfind ("embed", 0) == 0, "the encoder must stay frozen");
  }
  fail_unless (low_rank && full);

  /* The profile round-trips and speaks. */
  VoiceProfile back = VoiceProfile::parse (p.to_json (), "test", 4);
  fail_unless (back.acoustic_delta != nullptr);
  fail_unless_equals_string (
      back.acoustic_delta->digest.c_str (), p.acoustic_delta->digest.c_str ());
  /* With the record of how it was made. */
  const AcousticDelta::Record &rec = back.acoustic_delta->record;
  fail_unless_equals_int (rec.steps, 12);
  fail_unless_equals_int (rec.utterances, 16);
  fail_unless_equals_string (rec.start_voice.c_str (), p.base_voice.c_str ());
  fail_unless (rec.speech_seconds > 30.0 && rec.mel_l1_start > 0.0);
  auto synth = Synthesizer::load (tiny_synthesizer_options ());
  SpeakRequest r;
  r.text = "Hello there.";
  r.language = "en";
  r.voice = back;
  fail_unless (!synth->speak (r).samples.empty ());

  /* The tuner can run again (the model's own weights were put back). */
  VoiceProfile again = tuner->run ();
  fail_unless_equals_string (
      again.acoustic_delta->digest.c_str (), p.acoustic_delta->digest.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_cancel_and_resume)
{
  gchar *dir = g_dir_make_tmp ("ganvoice-finetune-XXXXXX", NULL);
  std::string state = std::string (dir) + "/me.state";
  auto tuner = tiny_tuner (tiny_options (state));
  add_sentences (*tuner);
  std::atomic<bool> cancel{ false };
  bool cancelled = false;
  try {
    tuner->run (
        [&] (const FineTuneProgress &x) {
          if (x.step >= 4)
            cancel = true;
        },
        &cancel);
  } catch (const FineTuneCancelled &) {
    cancelled = true;
  }
  fail_unless (cancelled);
  fail_unless (g_file_test (state.c_str (), G_FILE_TEST_EXISTS));

  /* A new tuner on the same speech resumes where the first stopped. */
  auto second = tiny_tuner (tiny_options (state));
  add_sentences (*second);
  int first_step = -1;
  bool resumed = false;
  VoiceProfile p = second->run ([&] (const FineTuneProgress &x) {
    if (x.stage == FineTuneProgress::Stage::kTraining && first_step < 0 &&
        x.step > 0)
      first_step = x.step;
    resumed = resumed || x.resumed;
  });
  fail_unless (resumed);
  fail_unless (first_step >= 4, "resumed at step %d", first_step);
  fail_unless (p.acoustic_delta != nullptr);

  /* Other speech does not resume from that state. */
  auto other = tiny_tuner (tiny_options (state));
  for (const char *s : kSentences)
    other->add (good_take (s, 200.0));
  for (const char *s : kSentences)
    other->add (good_take (s, 90.0));
  bool other_resumed = false;
  other->run ([&] (const FineTuneProgress &x) { other_resumed |= x.resumed; });
  fail_if (other_resumed);

  g_unlink (state.c_str ());
  g_rmdir (dir);
  g_free (dir);
}
GST_END_TEST;

GST_START_TEST (test_long_recording)
{
  auto tuner = tiny_tuner (tiny_options ());
  ReadSentence whole;
  whole.rate = 16000;
  whole.origin = "reading.wav";
  for (int i = 0; i < 5; i++) {
    ReadSentence one = good_take (kSentences[i]);
    whole.samples.insert (
        whole.samples.end (), one.samples.begin (), one.samples.end ());
    whole.text += std::string (kSentences[i]) + " ";
  }
  size_t added = tuner->add_recording (whole);
  fail_unless (added >= 1 && added <= 5, "added %zu", added);
  fail_unless_equals_int (tuner->sentences (), added);

  /* 0.06 s (60 frames of the tiny model) for about 150 phonemes. */
  ReadSentence too_short = take (kSentences[0], 0.5);
  too_short.samples.resize (1000);
  too_short.text = whole.text;
  bool threw = false;
  try {
    tuner->add_recording (too_short);
  } catch (const ModelError &) {
    threw = true;
  }
  fail_unless (threw);
}
GST_END_TEST;

/* Czech has phonemes the tiny model never heard (ɟ, ɦ, the raised
 * diacritic of ř): the voice learns embedding rows for them. */
GST_START_TEST (test_new_phonemes)
{
  static const char *czech[] = {
    "Dědeček hledá ďábla v hluboké řece.",
    "Řehoř hraje na harfu a ťuká do hrnce.",
    "Hodně hezkých holek hledá ďatla.",
    "Tři sta třicet tři stříbrných stříkaček.",
  };
  FineTuneOptions o = tiny_options ();
  o.language = "cs";
  auto tuner = tiny_tuner (o);
  for (int round = 0; round < 4; round++)
    for (const char *s : czech) {
      TakeCheck c = check_take (take (s, 1.0), "cs");
      TakeCheck added = tuner->add (
          take (s, std::max (1.0, c.expected_seconds), 110.0 + 10 * round));
      fail_unless (added.ok ());
    }
  std::vector<std::string> messages;
  VoiceProfile p = tuner->run (
      [&] (const FineTuneProgress &x) { messages.push_back (x.message); });
  const AcousticDelta &d = *p.acoustic_delta;
  fail_unless (!d.phonemes.empty ());
  bool has_dj = false, rows = false;
  for (const std::string &ph : d.phonemes)
    has_dj = has_dj || ph == "ɟ";
  for (const AcousticDelta::Tensor &t : d.tensors)
    if (t.rows) {
      rows = true;
      fail_unless_equals_string (t.name.c_str (), "embed.weight");
      fail_unless_equals_int (t.shape[0], d.phonemes.size ());
    }
  fail_unless (has_dj && rows);
  bool said = false;
  for (const std::string &m : messages)
    said = said || m.find ("never heard") != std::string::npos;
  fail_unless (said);

  /* Written as delta version 2; read back, the voice speaks Czech. */
  std::string json = p.to_json ();
  fail_unless (json.find ("\"rows\"") != std::string::npos);
  VoiceProfile back = VoiceProfile::parse (json, "test", 4);
  fail_unless (back.acoustic_delta->phonemes == d.phonemes);
  auto synth = Synthesizer::load (tiny_synthesizer_options ());
  SpeakRequest r;
  r.text = czech[0];
  r.language = "cs";
  r.voice = back;
  fail_unless (!synth->speak (r).samples.empty ());

  /* Adding a phoneme the model already has is refused at load. */
  auto bad = std::make_shared<AcousticDelta> (d);
  bad->phonemes[0] = "a";
  bad->finish ("test");
  VoiceProfile wrong = back;
  wrong.acoustic_delta = bad;
  r.voice = wrong;
  bool threw = false;
  try {
    synth->speak (r);
  } catch (const ModelError &e) {
    threw = std::string (e.what ()).find ("already has") != std::string::npos;
  }
  fail_unless (threw);
}
GST_END_TEST;

GST_START_TEST (test_errors)
{
  /* Too little speech. */
  auto tuner = tiny_tuner (tiny_options ());
  tuner->add (good_take (kSentences[0]));
  bool threw = false;
  try {
    tuner->run ();
  } catch (const ModelError &e) {
    threw = std::string (e.what ()).find ("at least") != std::string::npos;
  }
  fail_unless (threw);

  /* A card without "fine_tune". */
  std::string card = read_model_file ("tiny-acoustic.json");
  size_t at = card.find ("\"fine_tune\"");
  fail_unless (at != std::string::npos);
  card = card.substr (0, at) + "\"not_fine_tune\"" + card.substr (at + 11);
  gchar *path = NULL;
  int fd = g_file_open_tmp ("tiny-XXXXXX.json", &path, NULL);
  fail_unless (fd >= 0);
  close (fd);
  fail_unless (g_file_set_contents (path, card.c_str (), -1, NULL));
  threw = false;
  try {
    VoiceFineTuner::load (
        model_file ("tiny-acoustic.ts"), path, tiny_options ());
  } catch (const ModelError &e) {
    threw = std::string (e.what ()).find ("fine_tune") != std::string::npos;
  }
  fail_unless (threw);
  g_unlink (path);
  g_free (path);

  /* An unknown language, a missing model. */
  FineTuneOptions o = tiny_options ();
  o.language = "xx-nolanguage";
  threw = false;
  try {
    tiny_tuner (o);
  } catch (const ModelError &) {
    threw = true;
  }
  fail_unless (threw);
  threw = false;
  try {
    VoiceFineTuner::load (
        "/nonexistent.ts", model_file ("tiny-acoustic.json"), tiny_options ());
  } catch (const ModelError &) {
    threw = true;
  }
  fail_unless (threw);
}
GST_END_TEST;

static Suite *
voice_finetune_suite (void)
{
  Suite *s = suite_create ("voice-finetune");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_check_take);
  tcase_add_test (tc, test_fine_tune_speaks);
  tcase_add_test (tc, test_cancel_and_resume);
  tcase_add_test (tc, test_long_recording);
  tcase_add_test (tc, test_new_phonemes);
  tcase_add_test (tc, test_errors);
  return s;
}

GST_CHECK_MAIN (voice_finetune);

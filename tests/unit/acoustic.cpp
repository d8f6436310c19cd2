/* Unit tests of the acoustic model runtime and its card, on the tiny
 * generated models in tests/models (see make_test_models.py).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/acoustic-model.h>
#include <ganvoice/slot-fit.h>
#include <ganvoice/text-frontend.h>
#include <ganvoice/vocoder.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include <gst/check/gstcheck.h>

#include "model-files.h"

using namespace ganvoice;

/* The tiny card with the first @from replaced by @to. */
static std::string
card_with (const std::string &from, const std::string &to)
{
  std::string card = read_model_file ("tiny-acoustic.json");
  size_t at = card.find (from);
  fail_unless (at != std::string::npos, "no '%s' in the card", from.c_str ());
  card.replace (at, from.size (), to);
  return card;
}

static std::unique_ptr<AcousticModel>
load_tiny ()
{
  return AcousticModel::load (
      model_file ("tiny-acoustic.ts"), model_file ("tiny-acoustic.json"));
}

static std::vector<int>
some_ids (const AcousticModel &model)
{
  std::vector<std::string> symbols = { "h", "ə", "l", "ˈ", "o", "ʊ", " ", "w",
    "ɜ", "ː", "l", "d", "." };
  std::vector<int> ids = model.inventory ().encode (symbols);
  fail_unless_equals_int (ids.size (), symbols.size ());
  return ids;
}

static int64_t
sum (const std::vector<int64_t> &v)
{
  return std::accumulate (v.begin (), v.end (), (int64_t) 0);
}

GST_START_TEST (test_load_and_card)
{
  auto model = load_tiny ();
  const ModelCard &card = model->card ();
  fail_unless_equals_string (card.name.c_str (), "tiny-acoustic");
  fail_unless_equals_string (card.kind.c_str (), "acoustic");
  fail_unless_equals_int (card.mel.n_mels, 8);
  fail_unless_equals_int (card.mel.hop, 16);
  fail_unless_equals_int (card.speaker_embedding_dim, 4);
  std::string device = model->device (), graph = model->graph ();
  fail_unless_equals_string (device.c_str (), "cpu");
  fail_unless_equals_string (graph.c_str (), "frozen, optimized");

  /* The inventory holds the pauses, marks and common IPA. */
  const PhonemeInventory &inv = model->inventory ();
  fail_unless_equals_int (inv.size (), card.phonemes.size ());
  for (const char *s : { kWordBreak, kShortPause, kLongPause, kQuestion, "ˈ",
           "ˌ", "ː", "a", "z", "ə", "ʃ", "ɾ", "ɲ" })
    fail_unless (inv.id (s) >= 0, "no id for '%s'", s);

  /* Five voices, two languages, both genders; eve is a library voice with
   * a profile (acoustic-delta.cpp), whose embedding voice () gives alone. */
  const std::vector<Voice> &voices = model->voices ();
  fail_unless_equals_int (voices.size (), 5);
  std::vector<std::string> languages, genders;
  for (const Voice &v : voices) {
    fail_unless_equals_int (v.embedding.size (), 4);
    languages.push_back (v.language);
    genders.push_back (v.gender);
    fail_unless (model->voice (v.name) == v.embedding);
  }
  fail_unless (std::count (languages.begin (), languages.end (), "en") == 3);
  fail_unless (std::count (languages.begin (), languages.end (), "es") == 2);
  fail_unless (std::count (genders.begin (), genders.end (), "female") == 3);
  for (size_t i = 0; i < voices.size (); i++)
    fail_unless (voices[i].profile.empty () == (voices[i].name != "eve"));
  try {
    model->voice ("zoe");
    fail ("found a voice that is not there");
  } catch (const ModelError &e) {
    std::string what = e.what ();
    fail_unless (what.find ("\"zoe\"") != std::string::npos &&
            what.find ("ana, ben, chloe, dmitri") != std::string::npos,
        "%s", e.what ());
  }

  /* The vocoder's card still parses, without acoustic fields. */
  ModelCard vocoder = ModelCard::load (model_file ("tiny-vocoder.json"));
  fail_unless (vocoder.phonemes.empty () && vocoder.voices.empty ());
  model->check_compatible (vocoder);
}
GST_END_TEST;

GST_START_TEST (test_incompatible_vocoder)
{
  auto model = load_tiny ();
  ModelCard vocoder = ModelCard::load (model_file ("tiny-vocoder.json"));
  static const struct {
    const char *field;
    void (*change) (MelSpec &);
  } cases[] = {
    { "\"sample_rate\"", [] (MelSpec &m) { m.sample_rate = 22050; } },
    { "\"hop\"", [] (MelSpec &m) { m.hop = 256; } },
    { "\"n_mels\"", [] (MelSpec &m) { m.n_mels = 80; } },
    { "\"fmax\"", [] (MelSpec &m) { m.fmax = 7600; } },
    { "\"scale\"", [] (MelSpec &m) { m.scale = "htk"; } },
    { "\"clamp\"", [] (MelSpec &m) { m.clamp = 1e-4; } },
  };
  for (const auto &c : cases) {
    ModelCard other = vocoder;
    c.change (other.mel);
    try {
      model->check_compatible (other);
      fail ("%s: compatible", c.field);
    } catch (const ModelError &e) {
      fail_unless (std::string (e.what ()).find (c.field) != std::string::npos,
          "'%s' lacks %s", e.what (), c.field);
    }
  }
}
GST_END_TEST;

GST_START_TEST (test_durations_and_decode)
{
  auto model = load_tiny ();
  std::vector<int> ids = some_ids (*model);
  const std::vector<float> &ana = model->voice ("ana");
  const std::vector<float> &ben = model->voice ("ben");

  std::vector<float> d = model->durations (ids, ana);
  fail_unless_equals_int (d.size (), ids.size ());
  for (float x : d)
    fail_unless (std::isfinite (x) && x >= 1.0f, "duration %f", x); /* +1 */
  fail_unless (model->durations (ids, ana) == d, "not deterministic");
  fail_unless (model->durations (ids, ben) != d, "the voice changes nothing");
  fail_unless (model->durations ({}, ana).empty ());

  std::vector<int64_t> frames = round_durations (d);
  Mel mel = model->decode (ids, ana, frames);
  fail_unless_equals_int (mel.n_mels, 8);
  fail_unless_equals_int (mel.frames, sum (frames));
  fail_unless_equals_int (mel.data.size (), 8 * sum (frames));
  for (float x : mel.data)
    fail_unless (std::isfinite (x));
  Mel again = model->decode (ids, ana, frames);
  fail_unless (again.data == mel.data, "decode is not deterministic");

  /* Shorter durations (speaking faster) give fewer frames. */
  std::vector<int64_t> fast =
      scale_frames (frames, frames_at_rate (sum (frames), 1.4));
  Mel quick = model->decode (ids, ana, fast);
  fail_unless_equals_int (quick.frames, sum (fast));
  fail_unless (quick.frames < mel.frames);

  /* pitch_shift moves the output. */
  Mel up = model->decode (ids, ana, frames, 2.0);
  fail_unless_equals_int (up.frames, mel.frames);
  double diff = 0;
  for (size_t i = 0; i < mel.data.size (); i++)
    diff = std::max (diff, (double) std::fabs (up.data[i] - mel.data[i]));
  fail_unless (diff > 0.1, "pitch_shift changed nothing (%g)", diff);

  /* No frames at all: an empty mel, without running the model. */
  std::vector<int64_t> none (ids.size (), 0);
  Mel empty = model->decode (ids, ana, none);
  fail_unless (empty.frames == 0 && empty.data.empty ());
  /* Some phonemes may get no frames. */
  std::vector<int64_t> gaps = frames;
  gaps[0] = 0;
  gaps[3] = 0;
  fail_unless_equals_int (model->decode (ids, ana, gaps).frames, sum (gaps));
}
GST_END_TEST;

GST_START_TEST (test_text_to_audio)
{
  TextFrontend frontend;
  auto model = load_tiny ();
  auto vocoder = Vocoder::load (
      model_file ("tiny-vocoder.ts"), model_file ("tiny-vocoder.json"));
  model->check_compatible (vocoder->card ());

  struct {
    const char *text, *language, *voice;
  } cases[] = {
    { "Hello, world! Is it you?", "en", "chloe" },
    { "¿Dónde está la biblioteca, señor?", "es", "dmitri" },
  };
  for (const auto &c : cases) {
    Phonemes p = frontend.phonemize (c.text, c.language);
    std::vector<std::string> skipped;
    std::vector<int> ids = model->inventory ().encode (p.symbols, &skipped);
    fail_unless (ids.size () + skipped.size () == p.symbols.size ());
    fail_unless (ids.size () > 10);
    const std::vector<float> &speaker = model->voice (c.voice);
    std::vector<int64_t> frames =
        round_durations (model->durations (ids, speaker));
    Mel mel = model->decode (ids, speaker, frames);
    std::vector<float> audio = vocoder->vocode (mel.data.data (), mel.frames);
    fail_unless_equals_int (audio.size (), sum (frames) * 16);
    fail_unless (sum (frames) >= (int64_t) ids.size ());
  }
}
GST_END_TEST;

GST_START_TEST (test_bad_inputs)
{
  auto model = load_tiny ();
  std::vector<int> ids = some_ids (*model);
  const std::vector<float> &ana = model->voice ("ana");
  std::vector<int64_t> frames (ids.size (), 2);
  const int n = (int) model->inventory ().size ();

  auto expect = [] (const char *what, const char *words, auto &&call) {
    try {
      call ();
      fail ("%s: accepted", what);
    } catch (const ModelError &e) {
      fail_unless (std::string (e.what ()).find (words) != std::string::npos,
          "%s: '%s' lacks '%s'", what, e.what (), words);
    }
  };
  expect ("short embedding", "takes 4", [&] {
    model->durations (ids, { 0.1f, 0.2f });
  });
  expect ("long embedding", "takes 4", [&] {
    model->decode (ids, { 1, 2, 3, 4, 5 }, frames);
  });
  expect ("id too big", "outside the inventory", [&] {
    model->durations ({ 1, n }, ana);
  });
  expect ("negative id", "outside the inventory", [&] {
    model->decode ({ -1, 2 }, ana, { 1, 1 });
  });
  expect ("frames for other ids", "durations for", [&] {
    model->decode (ids, ana, { 1, 2 });
  });
  expect ("negative frames", "negative", [&] {
    std::vector<int64_t> bad = frames;
    bad[1] = -3;
    model->decode (ids, ana, bad);
  });
  expect ("NaN in the embedding", "not finite", [&] {
    model->durations (ids, { 0, NAN, 0, 0 });
  });
  /* Still usable afterwards. */
  fail_unless_equals_int (
      model->decode (ids, ana, frames).frames, 2 * ids.size ());
}
GST_END_TEST;

GST_START_TEST (test_bad_models)
{
  static const struct {
    const char *what;
    const char *from, *to; /* card text to replace, or NULL */
    const char *model; /* "missing", "corrupt", "broken", "vocoder" or NULL */
    const char *words; /* expected in the error */
  } cases[] = {
    { "missing model", NULL, NULL, "missing", "not found" },
    { "durations of the wrong shape", NULL, NULL, "broken",
        "durations() of 3 phonemes gave shape [1, 3, 1]" },
    { "corrupt model", NULL, NULL, "corrupt", "cannot load" },
    { "not an acoustic model", NULL, NULL, "vocoder", "no method durations()" },
    { "wrong kind", "\"kind\": \"acoustic\"", "\"kind\": \"vocoder\"", NULL,
        "not \"acoustic\"" },
    { "no phonemes", "\"phonemes\"", "\"phonemez\"", NULL, "\"phonemes\"" },
    { "no word break", "\" \",", "\"#\",", NULL, "lacks \" \"" },
    { "phoneme twice", "\"b\",", "\"a\",", NULL, "\"a\" twice" },
    { "no dim", "\"speaker_embedding_dim\"", "\"speaker_dim\"", NULL,
        "\"speaker_embedding_dim\"" },
    { "no voices", "\"voices\"", "\"voice\"", NULL, "\"voices\"" },
    { "bad gender", "\"gender\": \"female\"", "\"gender\": \"f\"", NULL,
        "\"gender\"" },
    { "no voice name", "\"name\": \"ben\"", "\"nom\": \"ben\"", NULL,
        "\"name\"" },
    { "short embedding", "\"speaker_embedding_dim\": 4",
        "\"speaker_embedding_dim\": 5", NULL, "has 4 numbers" },
    { "wrong n_mels", "\"n_mels\": 8", "\"n_mels\": 10", NULL,
        "breaks the acoustic contract" },
    { "more phonemes than the model", "\"_\",", "\"_\", \"@\", \"$\",", NULL,
        "n_phonemes is 63, but" },
  };
  for (const auto &c : cases) {
    std::string model = model_file ("tiny-acoustic.ts");
    std::string card = model_file ("tiny-acoustic.json");
    if (c.model && g_str_equal (c.model, "missing"))
      model = write_temp ("none.json", "") + ".nothing-here.ts";
    else if (c.model && g_str_equal (c.model, "corrupt"))
      model = write_temp ("corrupt.ts", corrupt_model_bytes ());
    else if (c.model && g_str_equal (c.model, "broken"))
      model = model_file ("tiny-acoustic-broken.ts");
    else if (c.model && g_str_equal (c.model, "vocoder"))
      model = model_file ("tiny-vocoder.ts");
    if (c.from)
      card = write_temp ("card.json", card_with (c.from, c.to));
    try {
      AcousticModel::load (model, card);
      fail ("%s: loaded", c.what);
    } catch (const ModelError &e) {
      fail_unless (std::string (e.what ()).find (c.words) != std::string::npos,
          "%s: '%s' lacks '%s'", c.what, e.what (), c.words);
    }
  }

  /* A card of embeddings of 3 for a model that takes 4. */
  std::string card = read_model_file ("tiny-acoustic.json");
  card = card_with (
      "\"speaker_embedding_dim\": 4", "\"speaker_embedding_dim\": 3");
  for (size_t at = 0;
       (at = card.find ("\"embedding\": [", at)) != std::string::npos;) {
    size_t comma = card.find (',', at);
    /* drop the first value */
    card.erase (at + 14, comma + 1 - (at + 14));
    at += 14;
  }
  try {
    AcousticModel::load (
        model_file ("tiny-acoustic.ts"), write_temp ("dim3.json", card));
    fail ("loaded with embeddings of 3");
  } catch (const ModelError &e) {
    fail_unless (std::string (e.what ()).find ("speaker_embedding_dim is 4, "
                                               "but") != std::string::npos,
        "%s", e.what ());
  }
}
GST_END_TEST;

static Suite *
acoustic_suite (void)
{
  Suite *s = suite_create ("acoustic");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_load_and_card);
  tcase_add_test (tc, test_incompatible_vocoder);
  tcase_add_test (tc, test_durations_and_decode);
  tcase_add_test (tc, test_text_to_audio);
  tcase_add_test (tc, test_bad_inputs);
  tcase_add_test (tc, test_bad_models);
  return s;
}

GST_CHECK_MAIN (acoustic);

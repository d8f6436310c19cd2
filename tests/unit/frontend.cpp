/* Unit tests of the espeak-ng text frontend and the phoneme inventory.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/text-frontend.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include <gst/check/gstcheck.h>

using namespace ganvoice;

static size_t
count (const Phonemes &p, const char *symbol)
{
  return std::count (
      p.symbols.begin (), p.symbols.end (), std::string (symbol));
}

GST_START_TEST (test_english_words_and_pauses)
{
  TextFrontend frontend;
  Phonemes p = frontend.phonemize ("Hello, world! Is it you?", "en");
  std::string joined = TextFrontend::join (p);
  fail_unless_equals_string (p.language.c_str (), "en");
  fail_if (p.fell_back);
  fail_unless (joined.find ("w") != std::string::npos, "%s", joined.c_str ());
  fail_unless_equals_int (count (p, kShortPause), 1);
  fail_unless_equals_int (count (p, kLongPause), 1);
  fail_unless_equals_string (p.symbols.back ().c_str (), kQuestion);
  fail_unless_equals_int (count (p, kWordBreak), 2); /* is it you */
  /* Stress marks are symbols of their own. */
  fail_unless (count (p, "ˈ") >= 2);

  /* Text without final punctuation ends with a long pause. */
  Phonemes plain = frontend.phonemize ("hello", "en");
  fail_unless_equals_string (plain.symbols.back ().c_str (), kLongPause);
  fail_unless (frontend.phonemize ("", "en").symbols.empty ());
  fail_unless (frontend.phonemize (" ... ", "en").symbols.empty ());
}
GST_END_TEST;

GST_START_TEST (test_dates)
{
  static const struct {
    const char *language, *text, *expected;
  } cases[] = {
    { "en", "On 12/03/2024 we met.", "On 12 March 2024 we met." },
    { "en-us", "On 12/03/2024 we met.", "On December 3, 2024 we met." },
    { "en-us", "Due 25/12/2024.", "Due December 25, 2024." }, /* 25 > 12 */
    { "en", "Due 2024-03-12, at 10:30.", "Due 12 March 2024, at 10:30." },
    { "es", "El 5/7/1999 llovió.", "El 5 de julio de 1999 llovió." },
    { "fr", "Le 14.07.1789", "Le 14 juillet 1789" },
    { "de", "Am 03.10.1990 war es.", "Am 3. Oktober 1990 war es." },
    { "ru", "1.9.2001", "1 сентября 2001 года" },
    { "nl", "31-12-1999", "31 december 1999" },
    /* not dates: left alone */
    { "en", "Version 1.2.3 and 3/4 cup.", "Version 1.2.3 and 3/4 cup." },
    { "en", "On 45/13/2024.", "On 45/13/2024." },
    { "en", "IP 10.0.0.1234 ok", "IP 10.0.0.1234 ok" },
    { "ko", "2024-03-12", "2024-03-12" }, /* no table: espeak reads it */
  };
  for (const auto &c : cases) {
    const std::string got = expand_dates (c.text, c.language);
    fail_unless_equals_string (got.c_str (), c.expected);
  }
  /* And phonemize uses it: a date has no "slash" in it. */
  TextFrontend frontend;
  Phonemes slashed = frontend.phonemize ("3/4", "en");
  Phonemes date = frontend.phonemize ("12/03/2024", "en");
  fail_unless (TextFrontend::join (date) != TextFrontend::join (slashed));
  fail_if (TextFrontend::join (date).find (TextFrontend::join (
               frontend.phonemize ("slash", "en"))) != std::string::npos);
}

GST_END_TEST;

GST_START_TEST (test_numbers_and_abbreviations)
{
  TextFrontend frontend;
  /* Numbers are read out: far more phonemes than digits. */
  Phonemes n = frontend.phonemize ("123", "en");
  fail_unless (n.symbols.size () > 15, "%s", TextFrontend::join (n).c_str ());
  /* A decimal point, a thousands comma and a title's dot are no pauses. */
  for (const char *text : { "1.5 litres", "3,000 people", "Dr. Smith came" }) {
    Phonemes p = frontend.phonemize (text, "en");
    fail_unless_equals_int (count (p, kShortPause) + count (p, kLongPause), 1);
    fail_unless_equals_string (p.symbols.back ().c_str (), kLongPause);
  }
  Phonemes dr = frontend.phonemize ("Dr. Smith", "en");
  std::string ipa = TextFrontend::join (dr);
  fail_unless (ipa.find ("dˈɒktə") != std::string::npos, "%s", ipa.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_languages)
{
  TextFrontend frontend;
  static const struct {
    const char *language;
    const char *text;
  } cases[] = {
    { "en", "The ship is turning toward the harbour." },
    { "es", "El barco gira hacia el puerto." },
    { "fr", "Le bateau tourne vers le port." },
    { "it", "La nave gira verso il porto." },
    { "ru", "Корабль поворачивает к гавани." },
    { "nl", "Het schip draait naar de haven." },
    { "de", "Das Schiff dreht zum Hafen." },
    { "ko", "배가 항구 쪽으로 돌고 있어요." },
    { "en-us", "Color." },
    { "pt-BR", "O navio vira para o porto." },
  };
  for (const auto &c : cases) {
    fail_unless (TextFrontend::has_language (c.language), "%s", c.language);
    Phonemes p = frontend.phonemize (c.text, c.language);
    fail_unless (p.symbols.size () > 5, "%s: %s", c.language,
        TextFrontend::join (p).c_str ());
    fail_if (
        p.fell_back, "%s fell back to %s", c.language, p.language.c_str ());
    /* No language-switch marks like "(en)" leak through. */
    fail_unless (count (p, "(") == 0, "%s", TextFrontend::join (p).c_str ());
  }
  /* Unknown languages fall back, and say so. */
  fail_if (TextFrontend::has_language ("xx"));
  Phonemes unknown = frontend.phonemize ("hello", "xx");
  fail_unless (unknown.fell_back);
  fail_unless_equals_string (unknown.language.c_str (), "en");
  Phonemes dialect = frontend.phonemize ("hola", "es-zz");
  fail_unless_equals_string (dialect.language.c_str (), "es");
  fail_if (dialect.fell_back);
}
GST_END_TEST;

GST_START_TEST (test_inventory_nearest_symbols)
{
  /* A model that only knows a few English phonemes. */
  PhonemeInventory inventory (
      { "_", " ", ".", ",", "ˈ", "a", "e", "i", "o", "u", "k", "g", "r", "n",
          "s", "t", "d", "l", "j", "h", "b", "m", "ə", "p" });
  std::vector<std::string> skipped;
  std::vector<int> ids = inventory.encode (
      { "ɐ", "q", "ʁ", "ŋ", "ɕ", "ʌ", "?", "ˌ", "ʰ", "é", "a" }, &skipped);
  std::vector<int> expected = { inventory.id ("a"), inventory.id ("k"),
    inventory.id ("r"), inventory.id ("n"), inventory.id ("s"),
    inventory.id ("ə"), inventory.id ("."), inventory.id ("ˈ"),
    inventory.id ("e"), inventory.id ("a") };
  fail_unless (ids == expected);
  fail_unless_equals_int (skipped.size (), 1);
  fail_unless_equals_string (skipped[0].c_str (), "ʰ");

  /* Korean through that inventory: mostly mapped, the rest reported. */
  TextFrontend frontend;
  Phonemes ko = frontend.phonemize ("안녕하세요", "ko");
  skipped.clear ();
  ids = inventory.encode (ko.symbols, &skipped);
  fail_unless (ids.size () > skipped.size () * 2, "%zu mapped, %zu skipped",
      ids.size (), skipped.size ());
}
GST_END_TEST;

GST_START_TEST (test_long_text_and_threads)
{
  TextFrontend frontend;
  std::string text;
  while (text.size () < 10000)
    text += "The storm is coming closer, we should light the lamp early. ";
  Phonemes p = frontend.phonemize (text, "en");
  fail_unless (p.symbols.size () > 5000);

  /* Concurrent callers in two languages get what a lone caller gets. */
  Phonemes en = frontend.phonemize ("The lighthouse keeper.", "en");
  Phonemes es = frontend.phonemize ("El farero.", "es");
  bool same = true;
  std::thread a ([&] {
    for (int i = 0; i < 20; i++)
      same &= frontend.phonemize ("The lighthouse keeper.", "en").symbols ==
          en.symbols;
  });
  std::thread b ([&] {
    for (int i = 0; i < 20; i++)
      same &= frontend.phonemize ("El farero.", "es").symbols == es.symbols;
  });
  a.join ();
  b.join ();
  fail_unless (same);
}
GST_END_TEST;

static Suite *
frontend_suite (void)
{
  Suite *s = suite_create ("frontend");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_english_words_and_pauses);
  tcase_add_test (tc, test_numbers_and_abbreviations);
  tcase_add_test (tc, test_dates);
  tcase_add_test (tc, test_languages);
  tcase_add_test (tc, test_inventory_nearest_symbols);
  tcase_add_test (tc, test_long_text_and_threads);
  return s;
}

GST_CHECK_MAIN (frontend);

/* Unit tests of SpeakerMap: the speaker-map text, lookups, errors.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/speaker-map.h>

#include <gst/check/gstcheck.h>

#include <stdexcept>

using ganvoice::SpeakerMap;

GST_START_TEST (test_parse_and_format)
{
  struct {
    const char *text, *formatted;
    size_t bad;
  } cases[] = {
    { "", "", 0 },
    { "ALICE=ana", "ALICE=ana", 0 },
    { " Bob = /voices/bob.json ; ALICE=ana;", "ALICE=ana;Bob=/voices/bob.json",
        0 },
    { "noequals;=ana;carl=;dan=ben", "dan=ben", 3 },
    { "A=x;A=y", "A=y", 0 }, /* the later entry wins */
    { ";;", "", 0 },
  };
  for (const auto &c : cases) {
    std::vector<std::string> bad;
    SpeakerMap map = SpeakerMap::parse (c.text, &bad);
    std::string text = map.format ();
    fail_unless_equals_string (text.c_str (), c.formatted);
    fail_unless_equals_int (bad.size (), c.bad);
    /* format() reads back to the same map. */
    fail_unless (SpeakerMap::parse (map.format ()).voices () == map.voices ());
  }
}
GST_END_TEST;

GST_START_TEST (test_find)
{
  SpeakerMap map = SpeakerMap::parse ("ALICE=ana;alice=chloe;Bob=ben");
  fail_unless_equals_string (map.find ("ALICE")->c_str (), "ana");
  fail_unless_equals_string (map.find ("alice")->c_str (), "chloe");
  fail_unless_equals_string (map.find ("bob")->c_str (), "ben");
  fail_unless_equals_string (map.find ("BOB")->c_str (), "ben");
  fail_unless (map.find ("carol") == nullptr);
  fail_unless (map.find ("") == nullptr);
}
GST_END_TEST;

GST_START_TEST (test_set)
{
  SpeakerMap map;
  map.set ("NARRATOR", "/voices/me.json");
  map.set (" Bob ", "ben");
  std::string text = map.format ();
  fail_unless_equals_string (text.c_str (), "Bob=ben;NARRATOR=/voices/me.json");
  const char *bad[][2] = { { "", "ben" }, { "A", "" }, { "A;B", "ben" },
    { "A=B", "ben" }, { "A", "x;y" } };
  for (const auto &b : bad) {
    bool threw = false;
    try {
      map.set (b[0], b[1]);
    } catch (const std::invalid_argument &) {
      threw = true;
    }
    fail_unless (threw, "'%s' -> '%s' accepted", b[0], b[1]);
  }
  /* A voice path with '=' is fine. */
  map.set ("C", "/voices/a=b.json");
  std::string path = *SpeakerMap::parse (map.format ()).find ("C");
  fail_unless_equals_string (path.c_str (), "/voices/a=b.json");
}
GST_END_TEST;

static Suite *
speaker_map_suite (void)
{
  Suite *s = suite_create ("speaker-map");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_parse_and_format);
  tcase_add_test (tc, test_find);
  tcase_add_test (tc, test_set);
  return s;
}

GST_CHECK_MAIN (speaker_map);

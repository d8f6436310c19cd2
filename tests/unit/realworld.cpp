/* Real-world subtitle files from other projects (tests/realworld): every
 * timed cue is accounted for, and every spoken cue is clean text.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/subtitles.h>

/* Before gstcheck.h, whose fail() macro clashes with std::ios::fail(). */
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gst/check/gstcheck.h>

using namespace ganvoice;

struct Entry {
  std::string name, format, encoding, language;
  size_t timed_cues = 0;
};

static std::vector<Entry>
read_manifest ()
{
  std::string path = std::string (g_getenv ("GANVOICE_SOURCE_DIR")) +
      "/tests/realworld/manifest.tsv";
  std::ifstream in (path);
  fail_unless (in.good (), "cannot read %s", path.c_str ());
  std::vector<Entry> entries;
  std::string line;
  std::getline (in, line); /* header */
  while (std::getline (in, line)) {
    std::vector<std::string> cols;
    std::stringstream ss (line);
    std::string col;
    while (std::getline (ss, col, '\t'))
      cols.push_back (col);
    if (cols.size () < 8)
      continue;
    Entry e;
    e.name = cols[0];
    e.format = cols[3];
    e.encoding = cols[4];
    e.language = cols[6];
    e.timed_cues = std::stoul (cols[7]);
    entries.push_back (e);
  }
  return entries;
}

static std::string
read_file (const std::string &path)
{
  std::ifstream in (path, std::ios::binary);
  fail_unless (in.good (),
      "cannot read %s: run ./setup.sh --tests, which "
      "fetches the corpus",
      path.c_str ());
  std::stringstream ss;
  ss << in.rdbuf ();
  return ss.str ();
}

static void
check_clean (const Entry &e, const Cue &cue)
{
  const std::string &t = cue.text;
  const char *name = e.name.c_str ();
  fail_unless (
      g_utf8_validate (t.data (), t.size (), NULL), "%s: bad UTF-8", name);
  fail_if (t.empty () || t.front () == ' ' || t.back () == ' ', "%s: '%s'",
      name, t.c_str ());
  for (const char *bad :
      { "  ", "\n", "\r", "<i>", "</i>", "<b>", "<font", "</", "{\\", "\\N",
          "&amp;", "&lt;", "&gt;", "&quot;", "&#", "&nbsp;", "\xEF\xBF\xBD" })
    fail_unless (t.find (bad) == std::string::npos, "%s line %u: '%s' in '%s'",
        name, cue.line, bad, t.c_str ());
  fail_unless (
      cue.end_ns > cue.start_ns, "%s line %u: empty slot", name, cue.line);
}

GST_START_TEST (test_realworld_corpus)
{
  const gchar *dir = g_getenv ("GANVOICE_REALWORLD_DIR");
  fail_unless (dir != NULL, "GANVOICE_REALWORLD_DIR is not set");
  std::vector<Entry> entries = read_manifest ();
  fail_unless (entries.size () >= 20);

  GST_INFO ("%-26s %6s %6s %6s %8s  %s", "file", "timed", "parsed", "spoken",
      "warnings", "encoding");
  for (const Entry &e : entries) {
    std::string bytes = read_file (std::string (dir) + "/files/" + e.name);
    /* Legacy encodings are detected: no encoding named. */
    DocumentOptions options;
    /* Count every timed cue, signs included. */
    options.parse.keep_signs = true;
    CueDocument doc = parse_cue_document (bytes, options);
    fail_unless (doc.ok, "%s: %u: %s", e.name.c_str (), doc.error.line,
        doc.error.message.c_str ());
    size_t skipped = 0;
    for (const Diagnostic &d : doc.warnings)
      skipped += d.message.find ("cue skipped") != std::string::npos;
    GST_INFO ("%-26s %6zu %6zu %6zu %8zu  %s", e.name.c_str (), e.timed_cues,
        doc.raw_cue_count, doc.cues.size (), doc.warnings.size (),
        doc.encoding.c_str ());
    fail_unless_equals_int (doc.raw_cue_count + skipped, e.timed_cues);

    const char *want_format = e.format == "srt" ? "SubRip"
        : e.format == "vtt"                     ? "WebVTT"
                                                : "SSA/ASS";
    fail_unless_equals_string (subtitle_format_name (doc.format), want_format);
    if (e.encoding.rfind ("utf-16", 0) == 0)
      fail_unless (
          g_ascii_strcasecmp (doc.encoding.c_str (), e.encoding.c_str ()) == 0,
          "%s read as %s", e.name.c_str (), doc.encoding.c_str ());

    /* Default options: clean, sorted, spoken text. */
    DocumentOptions spoken = options;
    spoken.parse.keep_signs = false;
    CueDocument clean = parse_cue_document (bytes, spoken);
    fail_unless (clean.ok);
    for (size_t i = 0; i < clean.cues.size (); i++) {
      check_clean (e, clean.cues[i]);
      if (i > 0)
        fail_unless (clean.cues[i - 1].start_ns <= clean.cues[i].start_ns);
    }
    /* Dialogue files say something; tiny test files may hold only symbols. */
    if (e.language != "zxx" && e.format != "ass" && e.timed_cues >= 3)
      fail_unless (!clean.cues.empty (), "%s: nothing to say", e.name.c_str ());
  }
}
GST_END_TEST;

GST_START_TEST (test_realworld_specifics)
{
  std::string dir = g_getenv ("GANVOICE_REALWORLD_DIR");
  /* The karaoke script is all song: nothing is spoken by default. */
  CueDocument karaoke = parse_cue_document (
      read_file (dir + "/files/railgun-op-karaoke.ass"), {});
  fail_unless (karaoke.ok);
  fail_unless_equals_int (karaoke.cues.size (), 0);

  /* Arabic in windows-1256, detected. */
  DocumentOptions arabic;
  CueDocument ar = parse_cue_document (
      read_file (dir + "/files/forced-ar-cp1256.srt"), arabic);
  fail_unless (ar.ok);
  fail_unless (!ar.cues.empty ());
  bool has_arabic = false;
  for (const gchar *p = ar.cues[0].text.c_str (); *p; p = g_utf8_next_char (p))
    has_arabic |=
        g_unichar_get_script (g_utf8_get_char (p)) == G_UNICODE_SCRIPT_ARABIC;
  fail_unless (has_arabic, "not Arabic: %s", ar.cues[0].text.c_str ());

  /* Characters outside the BMP survive UTF-16 surrogate pairs. */
  DecodedText clef =
      decode_subtitle_text (read_file (dir + "/files/gclef-utf16le.srt"), "");
  fail_unless (clef.ok && clef.warnings.empty ());
  fail_unless (clef.text.find ("\xF0\x9D\x84\x9E") != std::string::npos,
      "no G clef in '%s'", clef.text.c_str ());

  /* WebVTT voices become speakers. */
  CueDocument voices =
      parse_cue_document (read_file (dir + "/files/mimetype-voices.vtt"), {});
  fail_unless (voices.ok);
  bool any_speaker = false;
  for (const Cue &cue : voices.cues)
    any_speaker |= !cue.speaker.empty ();
  fail_unless (any_speaker);
}
GST_END_TEST;

/* The iconv name a detection must give for a manifest encoding, "" for
 * files that are not in a legacy encoding. */
static std::string
expected_encoding (const std::string &label)
{
  if (label == "ascii" || label.rfind ("utf-", 0) == 0)
    return "";
  if (label == "iso-8859-1" || label == "windows-1252")
    return "WINDOWS-1252";
  if (label == "euc-kr" || label == "cp949")
    return "CP949";
  if (label == "shift_jis")
    return "CP932";
  if (label == "tis-620")
    return "CP874";
  std::string name = label;
  for (char &c : name)
    c = g_ascii_toupper (c);
  return name;
}

/* The detector on every legacy-encoded corpus file, without and with the
 * file's language as the hint; the rates are in docs/subcues.md. */
GST_START_TEST (test_realworld_encoding_detection)
{
  std::string dir = g_getenv ("GANVOICE_REALWORLD_DIR");
  size_t files = 0, right = 0, right_hinted = 0;
  std::set<std::string> encodings;
  for (const Entry &e : read_manifest ()) {
    std::string want = expected_encoding (e.encoding);
    if (want.empty ())
      continue;
    std::string bytes = read_file (dir + "/files/" + e.name);
    std::string plain = detect_legacy_encoding (bytes, "");
    std::string hinted = detect_legacy_encoding (bytes, e.language);
    /* TIS-620 is CP874 without the Windows additions. */
    auto same = [&] (const std::string &got) {
      return got == want || (want == "CP874" && got == "TIS-620");
    };
    files++;
    encodings.insert (want);
    right += same (plain);
    right_hinted += same (hinted);
    GST_INFO ("%-30s %-13s detected %-13s with '%s': %s", e.name.c_str (),
        want.c_str (), plain.c_str (), e.language.c_str (), hinted.c_str ());
    /* With the language known, every file is read right. */
    fail_unless (same (hinted), "%s (%s, %s): detected %s", e.name.c_str (),
        want.c_str (), e.language.c_str (), hinted.c_str ());
  }
  GST_INFO ("encoding detection: %zu of %zu files without a language hint, "
            "%zu of %zu with it, %zu encodings",
      right, files, right_hinted, files, encodings.size ());
  fail_unless (encodings.size () >= 8);
  /* Without a hint, uchardet still gets most of them. */
  fail_unless (right * 10 >= files * 8, "%zu of %zu", right, files);
}
GST_END_TEST;

static Suite *
realworld_suite (void)
{
  Suite *s = suite_create ("realworld");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_realworld_corpus);
  tcase_add_test (tc, test_realworld_specifics);
  tcase_add_test (tc, test_realworld_encoding_detection);
  return s;
}

GST_CHECK_MAIN (realworld);

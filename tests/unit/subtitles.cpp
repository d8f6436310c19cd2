/* Unit tests of the subtitle parsers and text clean-up, without pads.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/subtitles.h>

#include <gst/check/gstcheck.h>

#include <string>
#include <vector>

using namespace ganvoice;

static const int64_t MS = 1000000;

static std::string
turns_to_string (const std::vector<Turn> &turns)
{
  std::string out;
  for (const auto &t : turns) {
    if (!out.empty ())
      out += " | ";
    if (!t.speaker.empty ())
      out += t.speaker + "> ";
    out += t.text;
  }
  return out;
}

static std::vector<Cue>
cues_of (const std::string &text, const DocumentOptions &options = {})
{
  CueDocument doc = parse_cue_document (text, options);
  fail_unless (doc.ok, "parse failed: line %u: %s", doc.error.line,
      doc.error.message.c_str ());
  return doc.cues;
}

GST_START_TEST (test_timestamps)
{
  static const struct {
    const char *text;
    int64_t ns;
  } cases[] = {
    { "00:00:01,500", 1500 * MS },
    { "01:02:03.004", ((1 * 60 + 2) * 60 + 3) * 1000 * MS + 4 * MS },
    { "1:02:03,4", 3723400 * MS },
    { "02:03.250", 123250 * MS },
    { "12:34", 754000 * MS },
    { " 00:00:02,000 ", 2000 * MS },
    { "00:00:00,123456789", 123456789 },
    { "100:00:00,000", 360000000 * MS },
    { "00:00:60,000", -1 },
    { "00:61:00,000", -1 },
    { "1:2:3:4", -1 },
    { "abc", -1 },
    { "", -1 },
    { "00:00:01,", -1 },
    { "00:00:01,5x", -1 },
    { "-00:00:01,000", -1 },
    { "99999999999:00:00", -1 },
    { "5888888:00:00,000", -1 },
    { "2500:00:00,000", G_GINT64_CONSTANT (9000000) * 1000 * MS },
    { "2500:00:01,000", -1 },
  };
  for (const auto &c : cases)
    fail_unless_equals_int64_hex (parse_timestamp (c.text), c.ns);
}
GST_END_TEST;

GST_START_TEST (test_detect_format)
{
  static const struct {
    const char *text;
    SubtitleFormat format;
  } cases[] = {
    { "1\n00:00:01,000 --> 00:00:02,000\nHi\n", SubtitleFormat::SubRip },
    { "\n\n00:00:01,000 --> 00:00:02,000\nHi\n", SubtitleFormat::SubRip },
    { "WEBVTT\n\n00:01.000 --> 00:02.000\nHi\n", SubtitleFormat::WebVTT },
    { "WEBVTT - a title\n", SubtitleFormat::WebVTT },
    { "WEBVTTX\n", SubtitleFormat::Unknown },
    { "[Script Info]\nTitle: x\n", SubtitleFormat::SubStationAlpha },
    { "; comment\n[Events]\n", SubtitleFormat::SubStationAlpha },
    { "Hello world\n", SubtitleFormat::Unknown },
    { "", SubtitleFormat::Unknown },
  };
  for (const auto &c : cases)
    fail_unless (detect_subtitle_format (c.text) == c.format,
        "wrong format for '%s'", c.text);
}
GST_END_TEST;

GST_START_TEST (test_encodings)
{
  /* "Señor\r\n" in several encodings; all decode to "Señor\n". */
  const std::string expected = "Se\xC3\xB1or\n";
  static const struct {
    const char *bytes;
    size_t size;
    const char *legacy;
    const char *encoding;
    bool warns;
  } cases[] = {
    { "Se\xC3\xB1or\r\n", 8, "", "UTF-8", false },
    { "\xEF\xBB\xBFSe\xC3\xB1or\r\n", 11, "", "UTF-8", false },
    { "\xFF\xFES\0e\0\xF1\0o\0r\0\r\0\n\0", 16, "", "UTF-16LE", false },
    { "\xFE\xFF\0S\0e\0\xF1\0o\0r\0\r\0\n", 16, "", "UTF-16BE", false },
    { "S\0e\0\xF1\0o\0r\0\r\0\n\0", 14, "", "UTF-16LE", false },
    { "\0S\0e\0\xF1\0o\0r\0\r\0\n", 14, "", "UTF-16BE", false },
    { "\xFF\xFE\0\0S\0\0\0e\0\0\0\xF1\0\0\0o\0\0\0r\0\0\0\n\0\0\0", 28, "",
        "UTF-32LE", false },
    { "Se\xF1or\r", 6, "", "WINDOWS-1252", true },
    { "Se\xF1or\n", 6, "ISO-8859-15", "ISO-8859-15", false },
  };
  for (const auto &c : cases) {
    DecodedText d =
        decode_subtitle_text (std::string_view (c.bytes, c.size), c.legacy);
    fail_unless (d.ok, "%s: %s", c.encoding, d.error.message.c_str ());
    fail_unless_equals_string (d.encoding.c_str (), c.encoding);
    fail_unless_equals_string (d.text.c_str (), expected.c_str ());
    fail_unless_equals_int (!d.warnings.empty (), c.warns);
  }

  /* A UTF-8 BOM in front of WINDOWS-1252 bytes: the bytes win. */
  DecodedText bom_legacy = decode_subtitle_text ("\xEF\xBB\xBFSe\xF1or", "");
  fail_unless_equals_string (bom_legacy.encoding.c_str (), "WINDOWS-1252");
  fail_unless_equals_string (bom_legacy.text.c_str (), "Se\xC3\xB1or");

  /* Cyrillic in CP1251 needs the legacy encoding named. */
  DecodedText ru = decode_subtitle_text ("\xCF\xF0\xE8\xE2\xE5\xF2", "CP1251");
  fail_unless (ru.ok);
  fail_unless_equals_string (ru.text.c_str (), "Привет");

  /* A stray byte in UTF-8 text becomes U+FFFD with a warning on its line. */
  DecodedText stray = decode_subtitle_text (
      "\xC3\xA9t\xC3\xA9 \xC3\xA9t\xC3\xA9 \xC3\xA9\na\xE9"
      "b\n",
      "");
  fail_unless (stray.ok);
  fail_unless_equals_string (stray.encoding.c_str (), "UTF-8");
  fail_unless_equals_string (stray.text.c_str (),
      "\xC3\xA9t\xC3\xA9 \xC3\xA9t\xC3\xA9 \xC3\xA9\na\xEF\xBF\xBD"
      "b\n");
  fail_unless_equals_int (stray.warnings.size (), 1);
  fail_unless_equals_int (stray.warnings[0].line, 2);

  /* A lone surrogate in UTF-16 is replaced, with a warning. */
  DecodedText lone = decode_subtitle_text (std::string_view ("\xFF\xFE"
                                                             "a\0\n\0\x00\xD8"
                                                             "b\0",
                                               10),
      "");
  fail_unless (lone.ok);
  fail_unless_equals_string (lone.text.c_str (),
      "a\n\xEF\xBF\xBD"
      "b");
  fail_unless_equals_int (lone.warnings.size (), 1);
  fail_unless_equals_int (lone.warnings[0].line, 2);

  /* An unknown encoding name is an error. */
  DecodedText bad = decode_subtitle_text ("Se\xF1or", "NO-SUCH-ENCODING");
  fail_if (bad.ok);
  fail_unless (
      bad.error.message.find ("NO-SUCH-ENCODING") != std::string::npos);

  /* CR alone ends lines too; NULs are dropped. */
  DecodedText cr =
      decode_subtitle_text (std::string_view ("a\rb\r\rc\0d", 9), "");
  fail_unless_equals_string (cr.text.c_str (), "a\nb\n\ncd");
}
GST_END_TEST;

GST_START_TEST (test_subrip)
{
  ParsedSubtitles p =
      parse_subrip ("1\n"
                    "00:00:01,000 --> 00:00:02,500\n"
                    "Hello\n"
                    "world\n"
                    "\n"
                    "2\n"
                    "00:00:03,000 --> 00:00:04,000 X1:10 X2:20 Y1:5 Y2:30\n"
                    "Position cue\n"
                    "3\n"
                    "00:00:05.000 --> 00:00:06.000\n"
                    "No blank line before me\n"
                    "\n"
                    "\n"
                    "A blank line inside a cue\n"
                    "\n"
                    "00:00:07,000 --> 00:00:08,000\n"
                    "Cue without a number\n");
  fail_unless (p.ok);
  /* Text after a blank line with no times of its own is not merged into
   * the cue above: it is skipped with a warning on its line. */
  fail_unless_equals_int (p.warnings.size (), 1);
  fail_unless_equals_int (p.warnings[0].line, 14);
  fail_unless_equals_int (p.cues.size (), 4);
  fail_unless_equals_int64 (p.cues[0].start_ns, 1000 * MS);
  fail_unless_equals_int64 (p.cues[0].end_ns, 2500 * MS);
  fail_unless_equals_string (p.cues[0].markup.c_str (), "Hello\nworld");
  fail_unless_equals_int (p.cues[0].line, 2);
  fail_unless_equals_string (p.cues[1].markup.c_str (), "Position cue");
  fail_unless_equals_string (
      p.cues[2].markup.c_str (), "No blank line before me");
  fail_unless_equals_int64 (p.cues[3].start_ns, 7000 * MS);
  fail_unless_equals_int (p.cues[3].line, 16);
}
GST_END_TEST;

GST_START_TEST (test_subrip_malformed)
{
  ParsedSubtitles p = parse_subrip ("garbage line\n"
                                    "more garbage\n"
                                    "\n"
                                    "1\n"
                                    "00:00:01,000 --> 00:00:02,000\n"
                                    "Good\n"
                                    "\n"
                                    "2\n"
                                    "00:00:0x,000 --> 00:00:04,000\n"
                                    "Bad start\n"
                                    "\n"
                                    "3\n"
                                    "00:00:06,000 --> 00:00:05,000\n"
                                    "Backwards\n"
                                    "\n"
                                    "4\n"
                                    "00:00:07,000 --> 00:00:08,000\n"
                                    "Good again\n");
  fail_unless (p.ok);
  fail_unless_equals_int (p.cues.size (), 2);
  fail_unless_equals_string (p.cues[0].markup.c_str (), "Good");
  fail_unless_equals_int (p.warnings.size (), 3);
  fail_unless_equals_int (p.warnings[0].line, 1);
  fail_unless (p.warnings[0].message.find ("no cue number or timing line") !=
      std::string::npos);
  fail_unless_equals_int (p.warnings[1].line, 9);
  fail_unless (p.warnings[1].message.find ("timestamp") != std::string::npos);
  fail_unless_equals_int (p.warnings[2].line, 13);
  fail_unless (p.warnings[2].message.find ("ends before") != std::string::npos);

  /* Nothing recoverable: an error naming the first bad line. */
  ParsedSubtitles none =
      parse_subrip ("\n\n1\n00:00:05,000 --> 00:00:01,000\nx\n");
  fail_if (none.ok);
  fail_unless_equals_int (none.error.line, 4);
}
GST_END_TEST;

GST_START_TEST (test_webvtt)
{
  ParsedSubtitles p =
      parse_webvtt ("WEBVTT - sample\n"
                    "Kind: captions\n"
                    "Language: fr\n"
                    "\n"
                    "STYLE\n"
                    "::cue { color: yellow }\n"
                    "\n"
                    "NOTE this is\n"
                    "a comment\n"
                    "\n"
                    "intro\n"
                    "00:01.000 --> 00:02.000 align:start line:0\n"
                    "<v Roger Bingham>We are in New York City\n"
                    "\n"
                    "00:00:03.500 --> 00:00:05.000\n"
                    "<c.loud>Second</c> <00:00:04.000>cue\n"
                    "\n"
                    "broken\n"
                    "not a timing line\n"
                    "\n"
                    "01:00:00.000 --> 01:00:01.000\n"
                    "Last\n");
  fail_unless (p.ok);
  fail_unless_equals_string (p.language.c_str (), "fr");
  fail_unless_equals_int (p.cues.size (), 3);
  fail_unless_equals_int64 (p.cues[0].start_ns, 1000 * MS);
  fail_unless_equals_int (p.cues[0].line, 12);
  fail_unless_equals_int64 (p.cues[2].start_ns, 3600000 * MS);
  fail_unless_equals_int (p.warnings.size (), 1);
  fail_unless_equals_int (p.warnings[0].line, 18);

  /* No blank line after the header: the cue is still a cue. */
  ParsedSubtitles tight = parse_webvtt ("WEBVTT\n00:01.000 --> 00:02.000\nA\n\n"
                                        "00:03.000 --> 00:04.000\nB\n");
  fail_unless_equals_int (tight.cues.size (), 2);
  ParsedSubtitles tight_id = parse_webvtt ("WEBVTT\nLanguage: en\nfirst\n"
                                           "00:01.000 --> 00:02.000\nA\n");
  fail_unless_equals_int (tight_id.cues.size (), 1);
  fail_unless_equals_string (tight_id.language.c_str (), "en");
  fail_unless_equals_string (tight_id.cues[0].markup.c_str (), "A");

  ParsedSubtitles bad = parse_webvtt ("\n00:01.000 --> 00:02.000\nx\n");
  fail_if (bad.ok);
  fail_unless_equals_int (bad.error.line, 2);
}
GST_END_TEST;

static const char *kAssHeader =
    "[Script Info]\n"
    "ScriptType: v4.00+\n"
    "Language: de\n"
    "\n"
    "[V4+ Styles]\n"
    "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, "
    "OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, "
    "ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
    "MarginR, MarginV, Encoding\n"
    "Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,"
    "0,100,100,0,0,1,2,2,2,10,10,10,1\n"
    "Style: Signs,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,"
    "0,100,100,0,0,1,2,2,8,10,10,10,1\n"
    "\n"
    "[Events]\n"
    "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, "
    "Effect, "
    "Text\n";

GST_START_TEST (test_ssa)
{
  std::string text = std::string (kAssHeader) +
      /* line 12 */
      "Dialogue: 0,0:00:01.00,0:00:02.50,Default,Anna,0,0,0,,"
      "{\\i1}Hallo{\\i0} Welt\\Nzweite Zeile\n"
      "Comment: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,not spoken\n"
      "Dialogue: 0,0:00:01.00,0:00:02.00,Signs,,0,0,0,,{\\pos(10,10)}BAKERY\n"
      "Dialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,Banner;20,scrolling\n"
      "Dialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,{\\k20}la {\\k30}la\n"
      "Dialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,{\\p1}m 0 0 l 10 "
      "10{\\p0}\n"
      /* line 18 */
      "Dialogue: 0,0:00:05.00,0:00:06.00,Default,Ben,0,0,0,,"
      "Tsch\xC3\xBCss\\h!\n"
      "Dialogue: broken\n"
      "Dialogue: 0,0:00:08.00,0:00:07.00,Default,,0,0,0,,backwards\n";
  ParsedSubtitles p = parse_ssa (text);
  fail_unless (p.ok);
  fail_unless_equals_string (p.language.c_str (), "de");
  fail_unless_equals_int (p.cues.size (), 2);
  fail_unless_equals_string (p.cues[0].speaker.c_str (), "Anna");
  fail_unless_equals_string (p.cues[0].style.c_str (), "Default");
  fail_unless_equals_int (p.cues[0].line, 12);
  fail_unless_equals_int64 (p.cues[0].start_ns, 1000 * MS);
  fail_unless_equals_int64 (p.cues[0].end_ns, 2500 * MS);
  fail_unless (p.cues[0].kind == MarkupKind::Ass);
  fail_unless_equals_int (p.cues[1].line, 18);
  fail_unless_equals_int (p.warnings.size (), 2);
  fail_unless_equals_int (p.warnings[0].line, 19);
  fail_unless_equals_int (p.warnings[1].line, 20);

  ParseOptions keep;
  keep.keep_signs = true;
  fail_unless_equals_int (parse_ssa (text, keep).cues.size (), 6);

  std::vector<Cue> cues = make_spoken_cues (p.cues, "de", {});
  fail_unless_equals_int (cues.size (), 2);
  fail_unless_equals_string (cues[0].text.c_str (), "Hallo Welt zweite Zeile");
  fail_unless_equals_string (cues[1].text.c_str (), "Tsch\xC3\xBCss !");

  ParsedSubtitles no_events = parse_ssa ("[Script Info]\nTitle: x\n");
  fail_if (no_events.ok);
  fail_unless (no_events.error.message.find ("[Events]") != std::string::npos);
}
GST_END_TEST;

GST_START_TEST (test_speakable_turns)
{
  static const struct {
    const char *markup;
    MarkupKind kind;
    const char *hint;
    bool keep_annotations;
    bool split;
    const char *expected;
  } cases[] = {
    { "<i>Hello</i>   <b>world</b>", MarkupKind::Html, "", false, true,
        "Hello world" },
    { "Tom &amp; Jerry &lt;3 &#233;&#x e9; &nbsp;x", MarkupKind::Html, "",
        false, true, "Tom & Jerry <3 \xC3\xA9&#x e9; x" },
    { "<font color=\"#ff0000\">Red</font> a < b", MarkupKind::Html, "", false,
        true, "Red a < b" },
    { "{\\an8}Top line", MarkupKind::Html, "", false, true, "Top line" },
    { "line one\nline two", MarkupKind::Html, "", false, true,
        "line one line two" },
    { "[music]", MarkupKind::Html, "", false, true, "" },
    { "[music]", MarkupKind::Html, "", true, true, "[music]" },
    { "(laughs) Very funny.", MarkupKind::Html, "", false, true,
        "Very funny." },
    { "\xE2\x99\xAA Over the waves \xE2\x99\xAA", MarkupKind::Html, "", false,
        true, "" },
    { "\xE2\x99\xAA la la la", MarkupKind::Html, "", false, true, "" },
    { "Wait! \xE2\x99\xAA la \xE2\x99\xAA Stop.", MarkupKind::Html, "", false,
        true, "Wait! Stop." },
    { "JOHN: Hi there.", MarkupKind::Html, "", false, true, "JOHN> Hi there." },
    { "DR. SMITH: Sit.", MarkupKind::Html, "", false, true, "DR. SMITH> Sit." },
    { "Note: lower case is not a speaker", MarkupKind::Html, "", false, true,
        "Note: lower case is not a speaker" },
    { "At 10:30 we go", MarkupKind::Html, "", false, true, "At 10:30 we go" },
    { "[door slams] MARY: Who's there?", MarkupKind::Html, "", false, true,
        "MARY> Who's there?" },
    { "- Hi.\n- Hello.", MarkupKind::Html, "", false, true, "Hi. | Hello." },
    { "- Hi.\n- Hello.", MarkupKind::Html, "", false, false, "Hi. Hello." },
    { "-Hi.\n-JOE: Hello.", MarkupKind::Html, "", false, true,
        "Hi. | JOE> Hello." },
    { "- Only one turn", MarkupKind::Html, "", false, true, "Only one turn" },
    /* A leading "--" goes like a dash, without starting a turn. */
    { "-- not a turn\n-- either", MarkupKind::Html, "", false, true,
        "not a turn either" },
    { "<v Bob>Hi!\n<v.loud Ann>Hey!", MarkupKind::Html, "", false, true,
        "Bob> Hi! | Ann> Hey!" },
    { "<ruby>\xE6\xBC\xA2<rt>kan</rt></ruby>", MarkupKind::Html, "", false,
        true, "\xE6\xBC\xA2" },
    { "{\\i1}Hi{\\i0}\\Nthere\\hyou", MarkupKind::Ass, "Anna", false, true,
        "Anna> Hi there you" },
    { "- Go!\\N- No!", MarkupKind::Ass, "Anna", false, true,
        "Anna> Go! | No!" },
    { "{comment}text {\\p1}m 0 0 l 1 1{\\p0}end", MarkupKind::Ass, "", false,
        true, "text end" },
    { "...", MarkupKind::Html, "", false, true, "" },
    { "84\xEF\xBF\xBD"
      "F \xE2\x80\x8Fok\xC2\xAD",
        MarkupKind::Html, "", false, true, "84F ok" },
    { "\xE2\x80\x94 \xC2\xBFQu\xC3\xA9?\n\xE2\x80\x94 Nada.", MarkupKind::Html,
        "", false, true, "\xC2\xBFQu\xC3\xA9? | Nada." },
    { "\xD0\x98\xD0\x92\xD0\x90\xD0\x9D: \xD0\x94\xD0\xB0.", MarkupKind::Html,
        "", false, true,
        "\xD0\x98\xD0\x92\xD0\x90\xD0\x9D> \xD0\x94\xD0\xB0." },
  };
  for (const auto &c : cases) {
    TextOptions options;
    options.keep_annotations = c.keep_annotations;
    options.split_dialogue = c.split;
    std::string got =
        turns_to_string (speakable_turns (c.markup, c.kind, c.hint, options));
    fail_unless_equals_string (got.c_str (), c.expected);
  }
}
GST_END_TEST;

GST_START_TEST (test_spoken_cues_order_and_split)
{
  std::vector<Cue> cues =
      cues_of ("3\n00:00:10,000 --> 00:00:12,000\nThird\n\n"
               "1\n00:00:01,000 --> 00:00:04,000\n- Hi.\n- Hello there.\n\n"
               "2\n00:00:05,000 --> 00:00:06,000\n[music]\n\n"
               "4\n00:00:10,000 --> 00:00:12,000\n<i>Third</i>\n\n"
               "5\n00:00:10,000 --> 00:00:11,000\nOverlaps third\n");
  /* "Hi." (3 chars) and "Hello there." (12 chars) share 3 s by length;
   * [music] is dropped; the duplicate "Third" is merged; order is by start,
   * file order breaking the tie. */
  fail_unless_equals_int (cues.size (), 4);
  fail_unless_equals_string (cues[0].text.c_str (), "Hi.");
  fail_unless_equals_int64 (cues[0].start_ns, 1000 * MS);
  fail_unless_equals_int64 (cues[0].end_ns, 1600 * MS);
  fail_unless_equals_int (cues[0].turn, 0);
  fail_unless_equals_int (cues[0].n_turns, 2);
  fail_unless_equals_string (cues[1].text.c_str (), "Hello there.");
  fail_unless_equals_int64 (cues[1].start_ns, 1600 * MS);
  fail_unless_equals_int64 (cues[1].end_ns, 4000 * MS);
  fail_unless_equals_int (cues[1].turn, 1);
  fail_unless_equals_string (cues[2].text.c_str (), "Third");
  fail_unless_equals_int (cues[2].line, 2);
  fail_unless_equals_string (cues[3].text.c_str (), "Overlaps third");
  fail_unless_equals_int64 (cues[3].end_ns, 11000 * MS);
  for (unsigned i = 0; i < cues.size (); i++)
    fail_unless_equals_int (cues[i].index, i);
  fail_unless_equals_string (cues[1].markup.c_str (), "- Hi.\n- Hello there.");
}
GST_END_TEST;

GST_START_TEST (test_interleaved_duplicates)
{
  /* Two layers, each with a top and a bottom line: A B A B at one time. */
  std::vector<Cue> cues =
      cues_of ("1\n00:00:01,000 --> 00:00:02,000\nTop\n\n"
               "2\n00:00:01,000 --> 00:00:02,000\nBottom\n\n"
               "3\n00:00:01,000 --> 00:00:02,000\n<b>Top</b>\n\n"
               "4\n00:00:01,000 --> 00:00:02,000\nBottom\n");
  fail_unless_equals_int (cues.size (), 2);
  fail_unless_equals_string (cues[0].text.c_str (), "Top");
  fail_unless_equals_string (cues[1].text.c_str (), "Bottom");
}
GST_END_TEST;

GST_START_TEST (test_document_language_and_errors)
{
  DocumentOptions options;
  CueDocument vtt = parse_cue_document (
      "WEBVTT\nLanguage: es\n\n00:01.000 --> 00:02.000\nHola\n", options);
  fail_unless (vtt.ok);
  fail_unless_equals_string (vtt.language.c_str (), "es");
  fail_unless_equals_string (vtt.cues[0].language.c_str (), "es");

  options.language = "ca";
  CueDocument forced = parse_cue_document (
      "WEBVTT\nLanguage: es\n\n00:01.000 --> 00:02.000\nHola\n", options);
  fail_unless_equals_string (forced.cues[0].language.c_str (), "ca");

  CueDocument not_subs = parse_cue_document ("\n\nthis is\nplain text\n", {});
  fail_if (not_subs.ok);
  fail_unless_equals_int (not_subs.error.line, 3);

  CueDocument empty = parse_cue_document ("\n\n  \n", {});
  fail_unless (empty.ok);
  fail_unless_equals_int (empty.cues.size (), 0);

  /* UTF-16 with CRLF end to end. */
  std::string utf16 = "\xFF\xFE";
  for (char c : std::string ("1\r\n00:00:01,000 --> 00:00:02,000\r\nHi\r\n")) {
    utf16.push_back (c);
    utf16.push_back ('\0');
  }
  std::vector<Cue> cues = cues_of (utf16);
  fail_unless_equals_int (cues.size (), 1);
  fail_unless_equals_string (cues[0].text.c_str (), "Hi");
}
GST_END_TEST;

GST_START_TEST (test_hostile_input_is_bounded)
{
  /* Deep nesting, unclosed tags and endless lines stay linear and safe. */
  std::string text = "1\n00:00:01,000 --> 00:00:02,000\n";
  text += std::string (100000, '<') + std::string (100000, '{') +
      std::string (100000, '[') + std::string (50000, '&') + "ok\n";
  std::vector<Cue> cues = cues_of (text);
  fail_unless_equals_int (cues.size (), 1);

  std::string many;
  for (int i = 0; i < 20000; i++)
    many += "x\n00:00:0" + std::to_string (i % 10) + ",000 --> junk\n\n";
  CueDocument doc = parse_cue_document (many, {});
  fail_if (doc.ok);
}
GST_END_TEST;

/* Issue 19: times written as other players read them. */
GST_START_TEST (test_ssa_times)
{
  static const struct {
    const char *text;
    int64_t ns;
  } cases[] = {
    { "0:00:03.766", 3766 * MS },
    { "0:00:03.76", 3760 * MS },
    { "0:00:03.7", 3700 * MS },
    { "0:00:03", 3000 * MS },
    { "0:00:04:56", 4560 * MS },
    { "1:02:03.04", 3723040 * MS },
    { "Invalid", -1 },
    { "", -1 },
    { "0:03.76", -1 },
    { "0:00:03.7666", -1 },
    { "0:00:4:5:6", -1 },
  };
  for (const auto &c : cases)
    fail_unless (parse_ssa_time (c.text) == c.ns, "'%s': %" G_GINT64_FORMAT,
        c.text, parse_ssa_time (c.text));

  std::string text = std::string (kAssHeader) +
      /* line 12 */
      "Dialogue: 0,0:00:01.500,0:00:03.766,Default,,0,0,0,,Three digits\n"
      "Dialogue: 0,0:00:04:00,0:00:04:56,Default,,0,0,0,,Colon\n"
      "Dialogue: 0,Invalid,0:00:06.00,Default,,0,0,0,,Not a start\n"
      "Dialogue: 0,0:00:07.00,0:00:07.00,Default,,0,0,0,,Zero length\n"
      "Dialogue: 0,0:00:09.00,0:00:08.00,Default,,0,0,0,,Backwards\n";
  ParsedSubtitles p = parse_ssa (text);
  fail_unless (p.ok);
  fail_unless_equals_int (p.cues.size (), 2);
  fail_unless_equals_int64 (p.cues[0].start_ns, 1500 * MS);
  fail_unless_equals_int64 (p.cues[0].end_ns, 3766 * MS);
  fail_unless_equals_int64 (p.cues[1].start_ns, 4000 * MS);
  fail_unless_equals_int64 (p.cues[1].end_ns, 4560 * MS);
  fail_unless_equals_int (p.warnings.size (), 3);
  fail_unless_equals_int (p.warnings[0].line, 14);
  fail_unless (p.warnings[0].message.find ("'Invalid' is not a time") !=
          std::string::npos,
      "%s", p.warnings[0].message.c_str ());
  fail_unless_equals_int (p.warnings[1].line, 15);
  fail_unless (p.warnings[1].message.find ("zero length") != std::string::npos,
      "%s", p.warnings[1].message.c_str ());
  fail_unless_equals_int (p.warnings[2].line, 16);
  fail_unless (p.warnings[2].message.find ("ends before it starts") !=
      std::string::npos);

  /* SubRip's zero-length cues get the true reason too. */
  ParsedSubtitles srt = parse_subrip ("1\n00:00:01,000 --> 00:00:01,000\nx\n");
  fail_unless_equals_int (srt.warnings.size (), 1);
  fail_unless (
      srt.warnings[0].message.find ("zero length") != std::string::npos);
}
GST_END_TEST;

/* Issue 19: blocks that are not cues are skipped, never spoken. */
GST_START_TEST (test_orphan_blocks)
{
  ParsedSubtitles srt = parse_subrip ("1\n00:00:01,000 --> 00:00:02,000\n"
                                      "This is the first subtitle.\n"
                                      "\n"
                                      "2\n"
                                      "This is the second, with no times.\n"
                                      "\n"
                                      "3\n00:00:05,000 --> 00:00:06,000\n"
                                      "Third.\n"
                                      "\n"
                                      "4\n");
  fail_unless (srt.ok);
  fail_unless_equals_int (srt.cues.size (), 2);
  fail_unless_equals_string (
      srt.cues[0].markup.c_str (), "This is the first subtitle.");
  fail_unless_equals_string (srt.cues[1].markup.c_str (), "Third.");
  fail_unless_equals_int (srt.warnings.size (), 2);
  fail_unless_equals_int (srt.warnings[0].line, 5);
  fail_unless (
      srt.warnings[0].message.find ("no timing line") != std::string::npos);
  fail_unless_equals_int (srt.warnings[1].line, 12);

  /* WebVTT: a timing line right under text starts the next cue. */
  ParsedSubtitles vtt =
      parse_webvtt ("WEBVTT\n\n"
                    "00:05:02.000 --> 00:05:04.080 align:start position:0%\n"
                    "words here\n"
                    "00:05:04.080 --> 00:05:05.069 align:start position:0%\n"
                    "more words\n");
  fail_unless (vtt.ok);
  fail_unless_equals_int (vtt.cues.size (), 2);
  fail_unless_equals_string (vtt.cues[0].markup.c_str (), "words here");
  fail_unless_equals_string (vtt.cues[1].markup.c_str (), "more words");
  fail_unless_equals_int (vtt.cues[1].line, 5);

  /* ... and a number right above it is that cue's identifier. */
  ParsedSubtitles ids =
      parse_webvtt ("WEBVTT\n\n1\n00:00.424 --> 00:01.464\n"
                    "The end of programming\n2\n"
                    "00:01.464 --> 00:02.744\nas we know it.\n");
  fail_unless_equals_int (ids.cues.size (), 2);
  fail_unless_equals_string (
      ids.cues[0].markup.c_str (), "The end of programming");
}
GST_END_TEST;

/* Issue 19: only real tags go; what looks like markup but is not stays. */
GST_START_TEST (test_markup_leftovers)
{
  static const struct {
    const char *markup;
    MarkupKind kind;
    const char *turns;
  } cases[] = {
    { "2<3,5>1,4<6", MarkupKind::Html, "2<3,5>1,4<6" },
    { "<I>Loud</I> and <font color=\"red\">red</font>", MarkupKind::Html,
        "Loud and red" },
    { "a <b>bold</b> <x-y> tag", MarkupKind::Html, "a bold <x-y> tag" },
    { "{Y:i}Italic in MicroDVD style", MarkupKind::Html,
        "Italic in MicroDVD style" },
    { "{y:b}{C:$0000ff}Blue", MarkupKind::Html, "Blue" },
    { "Hard\\hspace\\Nnew line", MarkupKind::Html, "Hard space new line" },
    { "Text (negative \\pos()) after", MarkupKind::Ass, "Text after" },
    { "Line in {\\c&H0000FF&}RED{\\c} [beep].", MarkupKind::Ass,
        "Line in RED." },
    { "<ruby>\xE6\xBC\xA2<rt>kan</rt></ruby>", MarkupKind::Html,
        "\xE6\xBC\xA2" },
    { "<ruby>\xE6\xBC\xA2<rt.small>kan</rt></ruby>", MarkupKind::Html,
        "\xE6\xBC\xA2" },
    { "<ruby>\xE6\xBC\xA2<rp>(</rp><rt lang=\"ja\">kan</rt><rp>)</rp></ruby>",
        MarkupKind::Html, "\xE6\xBC\xA2" },
    { "<ruby>\xE6\xBC\xA2<rt>kan</ruby> ji", MarkupKind::Html,
        "\xE6\xBC\xA2 ji" },
    { "<v.loud Esme>This</v> shouldn't be bold. <v Esme>This</v> should be "
      "bold.",
        MarkupKind::Html,
        "Esme> This shouldn't be bold. This should be bold." },
    { "<v A>Hi there.\n<v B>Hello.", MarkupKind::Html,
        "A> Hi there. | B> Hello." },
    { "<i>Laughter</i> Right.", MarkupKind::Html, "Laughter Right." },
    { "Come in (door creaks) .", MarkupKind::Html, "Come in." },
    { "Well \xE2\x99\xAA la la \xE2\x99\xAA!", MarkupKind::Html, "Well!" },
    { "--and then he left.", MarkupKind::Html, "and then he left." },
    { "[Alba] Where were you?", MarkupKind::Html, "Alba> Where were you?" },
    { "[Mary Jane] Hi.\n- [Peter] Hey.", MarkupKind::Html,
        "Mary Jane> Hi. | Peter> Hey." },
    { "[Laughs] Funny.", MarkupKind::Html, "Funny." },
    { "[MUSIC PLAYING] Go.", MarkupKind::Html, "Go." },
    { "[door creaks] Who?", MarkupKind::Html, "Who?" },
  };
  for (const auto &c : cases) {
    std::string got =
        turns_to_string (speakable_turns (c.markup, c.kind, "", {}));
    fail_unless (got == c.turns, "'%s': got '%s', want '%s'", c.markup,
        got.c_str (), c.turns);
  }
}
GST_END_TEST;

/* Issue 19: frame-by-frame typesetting is a sign; a very short cue is
 * spoken with a warning. */
GST_START_TEST (test_frame_runs_and_short_cues)
{
  std::string text = std::string (kAssHeader);
  /* 20 events of one frame each, all "Episode 3", as Aegisub's motion
   * tracking writes them; then a real line. */
  for (int f = 0; f < 20; f++) {
    gchar *line = g_strdup_printf (
        "Dialogue: 0,0:00:01.%02d,0:00:01.%02d,Default,,0,0,0,,"
        "{\\pos(%d,20)}Episode 3\n",
        f * 4, f * 4 + 4, 100 + f);
    text += line;
    g_free (line);
  }
  text += "Dialogue: 0,0:00:03.00,0:00:05.00,Default,,0,0,0,,Episode 3\n";
  text += "Dialogue: 0,0:00:06.00,0:00:06.04,Default,,0,0,0,,Hey\n";
  CueDocument doc = parse_cue_document (text, {});
  fail_unless (doc.ok);
  fail_unless_equals_int (doc.cues.size (), 2);
  fail_unless_equals_int64 (doc.cues[0].start_ns, 3000 * MS);
  fail_unless_equals_string (doc.cues[1].text.c_str (), "Hey");
  bool warned = false;
  for (const Diagnostic &d : doc.warnings)
    warned |= d.line == 33 && d.message.find ("40 ms") != std::string::npos;
  fail_unless (warned);

  /* keep-signs keeps every event. */
  DocumentOptions keep;
  keep.parse.keep_signs = true;
  CueDocument all = parse_cue_document (text, keep);
  fail_unless_equals_int (all.raw_cue_count, 22);
}
GST_END_TEST;

/* Issue 19: legacy encodings are detected, the language helps. */
GST_START_TEST (test_detect_legacy_encoding)
{
  /* "Đino, dođavola, gdje si bio cijelu noć? Čekali smo te." */
  std::string sr_utf8 = "\xC4\x90ino, do\xC4\x91"
                        "avola, gdje si bio cijelu "
                        "no\xC4\x87? \xC4\x8C"
                        "ekali smo te.\n";
  gchar *sr = g_convert (sr_utf8.data (), sr_utf8.size (), "WINDOWS-1250",
      "UTF-8", NULL, NULL, NULL);
  std::string srt = std::string ("1\n00:00:01,000 --> 00:00:02,000\n") + sr;
  g_free (sr);
  DocumentOptions hr;
  hr.language = "hr";
  CueDocument doc = parse_cue_document (srt, hr);
  fail_unless (doc.ok);
  fail_unless_equals_string (doc.encoding.c_str (), "WINDOWS-1250");
  fail_unless (
      doc.cues[0].text + "\n" == sr_utf8, "%s", doc.cues[0].text.c_str ());

  /* Russian, without a hint. */
  std::string ru_utf8 =
      "\xD0\x93\xD0\xB4\xD0\xB5 \xD1\x82\xD1\x8B \xD0\xB1\xD1\x8B\xD0\xBB "
      "\xD0\xB2\xD1\x87\xD0\xB5\xD1\x80\xD0\xB0 \xD0\xB2\xD0\xB5\xD1\x87"
      "\xD0\xB5\xD1\x80\xD0\xBE\xD0\xBC? \xD0\x9C\xD1\x8B \xD1\x82\xD0\xB5"
      "\xD0\xB1\xD1\x8F \xD0\xB6\xD0\xB4\xD0\xB0\xD0\xBB\xD0\xB8 \xD0\xB4"
      "\xD0\xBE \xD0\xBF\xD0\xBE\xD0\xBB\xD1\x83\xD0\xBD\xD0\xBE\xD1\x87"
      "\xD0\xB8.";
  for (const char *encoding : { "WINDOWS-1251", "KOI8-R" }) {
    gchar *ru = g_convert (
        ru_utf8.data (), ru_utf8.size (), encoding, "UTF-8", NULL, NULL, NULL);
    DecodedText d = decode_subtitle_text (ru, "");
    g_free (ru);
    fail_unless_equals_string (d.encoding.c_str (), encoding);
    fail_unless_equals_string (d.text.c_str (), ru_utf8.c_str ());
    fail_unless_equals_int (d.warnings.size (), 1);
    fail_unless (d.warnings[0].message.find ("detected") != std::string::npos);
  }

  /* The encoding property still wins. */
  DecodedText forced = decode_subtitle_text ("\xCF\xF0\xE8", "KOI8-R", "ru");
  fail_unless_equals_string (forced.encoding.c_str (), "KOI8-R");

  /* The language decides where the detector is unsure. */
  fail_unless_equals_string (
      detect_legacy_encoding ("\xC8\xE4\xE8", "el").c_str (), "WINDOWS-1253");
}
GST_END_TEST;

static Suite *
subtitles_suite (void)
{
  Suite *s = suite_create ("subtitles");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_timestamps);
  tcase_add_test (tc, test_detect_format);
  tcase_add_test (tc, test_encodings);
  tcase_add_test (tc, test_subrip);
  tcase_add_test (tc, test_subrip_malformed);
  tcase_add_test (tc, test_webvtt);
  tcase_add_test (tc, test_ssa);
  tcase_add_test (tc, test_speakable_turns);
  tcase_add_test (tc, test_spoken_cues_order_and_split);
  tcase_add_test (tc, test_interleaved_duplicates);
  tcase_add_test (tc, test_document_language_and_errors);
  tcase_add_test (tc, test_hostile_input_is_bounded);
  tcase_add_test (tc, test_ssa_times);
  tcase_add_test (tc, test_orphan_blocks);
  tcase_add_test (tc, test_markup_leftovers);
  tcase_add_test (tc, test_frame_runs_and_short_cues);
  tcase_add_test (tc, test_detect_legacy_encoding);
  return s;
}

GST_CHECK_MAIN (subtitles);

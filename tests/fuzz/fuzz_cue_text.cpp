/* ganvoice fuzzing: speakable_turns. The first byte picks the markup kind,
 * the text options and a speaker hint; the rest is one cue's markup.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

using namespace ganvoice_fuzz;

namespace {

const char *const kHints[] = { "", "JOHN", "Dr. Ana Mar\u00EDa", " \t" };

bool
contains (std::string_view s, std::string_view what)
{
  return s.find (what) != std::string_view::npos;
}

/* Every '<' opens a tag the cleaner recognises: '<', then a letter, digit
 * or '/', then '>' before the end of the line. */
bool
all_tags_well_formed (std::string_view markup)
{
  for (size_t i = 0; i < markup.size (); i++) {
    if (markup[i] != '<')
      continue;
    if (i + 1 >= markup.size () ||
        !(g_ascii_isalnum (markup[i + 1]) || markup[i + 1] == '/'))
      return false;
    size_t close = markup.find ('>', i);
    size_t nl = markup.find ('\n', i);
    if (close == std::string_view::npos || close > nl)
      return false;
    /* Only the tags the cleaner knows are markup ("2<3,5>1" is text). */
    std::string_view tag = markup.substr (i + 1, close - i - 1);
    if (tag.find ('<') != std::string_view::npos)
      return false;
    if (tag[0] == '/')
      tag = tag.substr (1);
    size_t end = 0;
    while (end < tag.size () && g_ascii_isalnum (tag[end]))
      end++;
    if (end < tag.size () && !strchr (" \t./", tag[end]))
      return false;
    std::string name (tag.substr (0, end));
    for (char &c : name)
      c = g_ascii_tolower (c);
    static const char *const kKnown[] = { "i", "b", "u", "s", "c", "v", "lang",
      "ruby", "rt", "rp", "font", "br", "span", "em", "strong", "sub", "sup",
      "small", "big", "tt", "strike", "del", "ins", "p", "div", "q" };
    bool known = false;
    for (const char *k : kKnown)
      known = known || name == k;
    if (!known)
      return false;
  }
  return true;
}

/* Every '{' opens a block that closes; for Html it must also be "{\". */
bool
all_blocks_closed (std::string_view markup, bool need_backslash)
{
  for (size_t i = 0; i < markup.size (); i++) {
    if (markup[i] != '{')
      continue;
    if (need_backslash && (i + 1 >= markup.size () || markup[i + 1] != '\\'))
      return false;
    if (markup.find ('}', i) == std::string_view::npos)
      return false;
  }
  return true;
}

/* Whether the cleaner will drop characters of @markup as unspeakable:
 * bytes that are not UTF-8, U+FFFD, control and format characters. */
bool
has_unspeakable (std::string_view markup)
{
  const gchar *p = markup.data ();
  const gchar *end = p + markup.size ();
  while (p < end) {
    gunichar c = g_utf8_get_char_validated (p, end - p);
    if (c == (gunichar) -1 || c == (gunichar) -2 || c == 0xFFFD)
      return true;
    if (!g_unichar_isspace (c) &&
        (g_unichar_iscntrl (c) || g_unichar_type (c) == G_UNICODE_FORMAT))
      return true;
    p = g_utf8_next_char (p);
  }
  return false;
}

/* An @open with a @close somewhere after it. */
bool
has_pair (std::string_view text, std::string_view open, std::string_view close)
{
  size_t o = text.find (open);
  return o != std::string_view::npos &&
      text.find (close, o + open.size ()) != std::string_view::npos;
}

} // namespace

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  uint8_t bits = data[0];
  std::string_view markup ((const char *) data + 1, size - 1);
  MarkupKind kind = bits & 1 ? MarkupKind::Ass : MarkupKind::Html;
  TextOptions options = text_options_from (bits >> 1);
  std::string_view hint = kHints[(bits >> 3) % G_N_ELEMENTS (kHints)];

  std::vector<Turn> turns = speakable_turns (markup, kind, hint, options);

  bool valid = is_valid_utf8 (markup);
  for (const Turn &turn : turns) {
    check_speakable_text (turn.text, valid);
    FUZZ_CHECK (turn.speaker.find ('\n') == std::string::npos);
  }

  /* Without dashes to split on and without <v> spans, one turn at most. */
  if (!options.split_dialogue &&
      (kind == MarkupKind::Ass || !contains (markup, "<v")))
    FUZZ_CHECK (turns.size () <= 1);

  bool entities = contains (markup, "&");
  for (const Turn &turn : turns) {
    const std::string &text = turn.text;
    /* Well-formed tags and override blocks never reach the speech. */
    if (kind == MarkupKind::Html && !entities && all_tags_well_formed (markup))
      FUZZ_CHECK (!contains (text, "<"));
    if (!entities && all_blocks_closed (markup, kind == MarkupKind::Html))
      FUZZ_CHECK (!contains (text, "{"));
    /* (Characters dropped as unspeakable may bring a '\' and an 'N' that
     * were apart in the markup together: "\<U+200E>N" is not a break.) */
    if (kind == MarkupKind::Ass && !entities && !contains (markup, "{") &&
        !has_unspeakable (markup)) {
      FUZZ_CHECK (!contains (text, "\\N"));
      FUZZ_CHECK (!contains (text, "\\n"));
      FUZZ_CHECK (!contains (text, "\\h"));
    }
    /* SDH annotations go unless asked for. */
    if (!options.keep_annotations) {
      FUZZ_CHECK (!contains (text, "\u266A") && !contains (text, "\u266B") &&
          !contains (text, "\u266C"));
      FUZZ_CHECK (!has_pair (text, "[", "]"));
      FUZZ_CHECK (!has_pair (text, "(", ")"));
      FUZZ_CHECK (!has_pair (text, "\uFF08", "\uFF09"));
    }
  }
  return 0;
}

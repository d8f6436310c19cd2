/* ganvoice: cue markup to speakable text, speakers and dialogue turns.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "subtitles/subtitle-lines.h"
#include "runtime/utf8-walk.h"

#include <ganvoice/cue-text.h>

#include <glib.h>

#include <algorithm>
#include <cstring>

namespace ganvoice {
namespace {

/* One line of plain text; @voice is set when a WebVTT <v Name> span
 * started on it. */
struct PlainLine {
  std::string text;
  std::string voice;
  bool has_voice = false;
};

void
append_unichar (std::string &out, gunichar c)
{
  char buf[6];
  out.append (buf, g_unichar_to_utf8 (c, buf));
}

/* Decodes the entity at @s (which starts with '&'); returns its length or 0. */
size_t
decode_entity (std::string_view s, std::string &out)
{
  size_t semi = s.find (';');
  if (semi == std::string_view::npos || semi < 2 || semi > 10)
    return 0;
  std::string_view name = s.substr (1, semi - 1);
  static const struct {
    const char *name;
    gunichar c;
  } kNamed[] = { { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
    { "apos", '\'' }, { "nbsp", ' ' }, { "lrm", 0 }, { "rlm", 0 },
    { "hellip", 0x2026 }, { "mdash", 0x2014 }, { "ndash", 0x2013 },
    { "lsquo", 0x2018 }, { "rsquo", 0x2019 }, { "ldquo", 0x201C },
    { "rdquo", 0x201D }, { "shy", 0 } };
  for (const auto &entity : kNamed) {
    if (name == entity.name) {
      if (entity.c)
        append_unichar (out, entity.c);
      return semi + 1;
    }
  }
  if (name[0] != '#')
    return 0;
  guint64 value = 0;
  bool hex = name.size () > 1 && (name[1] == 'x' || name[1] == 'X');
  std::string_view digits = name.substr (hex ? 2 : 1);
  if (digits.empty ())
    return 0;
  for (char c : digits) {
    if (!(hex ? g_ascii_isxdigit (c) : g_ascii_isdigit (c)))
      return 0;
    value = value * (hex ? 16 : 10) +
        (hex ? g_ascii_xdigit_value (c) : g_ascii_digit_value (c));
  }
  gunichar c = (gunichar) value;
  if (value > 0 && g_unichar_validate (c))
    append_unichar (out, c);
  return semi + 1;
}

/* Handles an ASS override block "{...}" at @s; returns its length, or 0 if
 * it does not close. Tracks \pN drawing mode in @drawing. */
size_t
skip_override_block (std::string_view s, bool &drawing)
{
  size_t close = s.find ('}');
  if (close == std::string_view::npos)
    return 0;
  std::string_view block = s.substr (1, close - 1);
  size_t slash = 0;
  while ((slash = block.find ("\\p", slash)) != std::string_view::npos) {
    slash += 2;
    if (slash < block.size () && g_ascii_isdigit (block[slash]))
      drawing = block[slash] != '0';
  }
  return close + 1;
}

/* MicroDVD-style codes left in SubRip files by converters: {Y:i},
 * {y:b,u}, {C:$0000ff}, {F:Arial}, {s:20}, {P:1}, {H:...}. Returns the
 * length of the code at @s, or 0. */
size_t
microdvd_code_length (std::string_view s)
{
  if (s.size () < 4 || s[0] != '{' || s[2] != ':' ||
      !strchr ("YyCcFfSsPpHh", s[1]))
    return 0;
  size_t close = s.find ('}');
  size_t nl = s.find ('\n');
  if (close == std::string_view::npos || close > nl || close > 64)
    return 0;
  return close + 1;
}

/* The tags of SubRip, WebVTT and the pango markup subparse makes; anything
 * else between '<' and '>' is text ("2<3,5>1"). */
bool
is_known_tag (std::string_view name)
{
  static const char *const kTags[] = { "i", "b", "u", "s", "c", "v", "lang",
    "ruby", "rt", "rp", "font", "br", "span", "em", "strong", "sub", "sup",
    "small", "big", "tt", "strike", "del", "ins", "p", "div", "q" };
  for (const char *tag : kTags)
    if (name.size () == strlen (tag) && starts_with_nocase (name, tag))
      return true;
  return false;
}

/* Name of the tag in "<name.class attr>" or "</name>"; empty for a WebVTT
 * timestamp "<00:01.000>". Sets @known when it is a tag to remove. */
std::string_view
tag_name (std::string_view tag, bool &known)
{
  std::string_view body = tag;
  if (!body.empty () && body[0] == '/')
    body = body.substr (1);
  size_t end = 0;
  while (end < body.size () && g_ascii_isalnum (body[end]))
    end++;
  std::string_view name = body.substr (0, end);
  bool ends_well = end == body.size () || strchr (" \t./", body[end]);
  if (!name.empty () && g_ascii_isdigit (name[0]))
    known = tag[0] != '/' && parse_timestamp (tag) >= 0;
  else
    known = ends_well && is_known_tag (name);
  return name;
}

/* Markup to plain lines: tags, override blocks and entities go; \N and
 * <br> break lines; WebVTT voices are remembered. */
std::vector<PlainLine>
to_plain_lines (std::string_view markup, MarkupKind kind)
{
  std::vector<PlainLine> lines (1);
  bool drawing = false;
  for (size_t i = 0; i < markup.size ();) {
    char c = markup[i];
    std::string_view rest = markup.substr (i);
    if (c == '\n') {
      lines.emplace_back ();
      i++;
      continue;
    }
    if (c == '{' && (kind == MarkupKind::Ass || starts_with (rest, "{\\"))) {
      size_t len = skip_override_block (rest, drawing);
      if (len) {
        i += len;
        continue;
      }
    }
    if (c == '{') {
      size_t len = microdvd_code_length (rest);
      if (len) {
        i += len;
        continue;
      }
    }
    /* \N and \h are ASS, but converters leave them in SubRip files too. */
    if (c == '\\' && i + 1 < markup.size () &&
        (kind == MarkupKind::Ass || markup[i + 1] == 'N' ||
            markup[i + 1] == 'h')) {
      char next = markup[i + 1];
      if (next == 'N' || next == 'n') {
        lines.emplace_back ();
        i += 2;
        continue;
      }
      if (next == 'h') {
        if (!drawing)
          lines.back ().text.push_back (' ');
        i += 2;
        continue;
      }
    }
    if (drawing) {
      i++;
      continue;
    }
    if (kind == MarkupKind::Html && c == '<' && i + 1 < markup.size () &&
        (g_ascii_isalnum (markup[i + 1]) || markup[i + 1] == '/')) {
      size_t close = rest.find ('>');
      size_t nl = rest.find ('\n');
      bool known = false;
      std::string_view tag = close != std::string_view::npos && close < nl
          ? rest.substr (1, close - 1)
          : std::string_view ();
      std::string_view name = tag.empty () ? tag : tag_name (tag, known);
      if (known) {
        i += close + 1;
        bool opening = tag[0] != '/';
        if (opening && name == "v") {
          /* A voice span at the start of a line starts a turn; one in the
           * middle of a sentence only styles it. */
          if (trim (lines.back ().text).empty ()) {
            size_t space = tag.find_first_of (" \t");
            lines.back ().voice = space == std::string_view::npos
                ? std::string ()
                : std::string (trim (tag.substr (space)));
            lines.back ().has_voice = true;
          }
        } else if (opening && (name == "rt" || name == "rp")) {
          /* Ruby text (a reading aid) and its fallback parentheses: to the
           * closing tag, or to the end of the ruby. */
          std::string closing = "</" + std::string (name) + ">";
          size_t end = markup.find (closing, i);
          size_t ruby_end = markup.find ("</ruby>", i);
          if (end == std::string_view::npos || ruby_end < end)
            i = ruby_end == std::string_view::npos ? markup.size () : ruby_end;
          else
            i = end + closing.size ();
        } else if (name == "br") {
          lines.emplace_back ();
        }
        continue;
      }
    }
    if (c == '&') {
      size_t len = decode_entity (rest, lines.back ().text);
      if (len) {
        i += len;
        continue;
      }
    }
    lines.back ().text.push_back (c);
    i++;
  }
  return lines;
}

/* Returns the length of a leading "--" (an interrupted or continued line,
 * removed without starting a turn), or 0. */
size_t
double_dash_length (std::string_view s)
{
  size_t len = 0;
  while (len < s.size () && s[len] == '-')
    len++;
  return len >= 2 ? len : 0;
}

/* Returns the length of a dialogue dash that starts @s, or 0. */
size_t
dialogue_dash_length (std::string_view s)
{
  static const char *const kDashes[] = { "-", "\u2010", "\u2011", "\u2013",
    "\u2014" };
  for (const char *dash : kDashes) {
    size_t len = strlen (dash);
    if (starts_with (s, dash)) {
      std::string_view after = s.substr (len);
      /* "--" and "—-" are not turn marks; "-Hi" and "- Hi" are. */
      if (!after.empty () && (after[0] == '-' || starts_with (after, "\u2014")))
        return 0;
      return len;
    }
  }
  return 0;
}

bool
is_music_note (std::string_view s)
{
  return starts_with (s, "\u266A") || starts_with (s, "\u266B") ||
      starts_with (s, "\u266C");
}

/* Removes [..], (..), full-width brackets and ♪..♪ spans. */
std::string
drop_annotations (std::string_view text)
{
  static const struct {
    const char *open, *close;
  } kPairs[] = { { "[", "]" }, { "(", ")" }, { "\uFF08", "\uFF09" },
    { "\u3010", "\u3011" }, { "\uFF3B", "\uFF3D" } };
  std::string out;
  out.reserve (text.size ());
  /* What was dropped leaves a space, but none before punctuation. */
  auto after_drop = [&] (size_t &i) {
    size_t k = i;
    while (k < text.size () && text[k] == ' ')
      k++;
    if (k < text.size () &&
        (strchr (".,!?;:", text[k]) ||
            starts_with (text.substr (k), "\u2026"))) {
      while (!out.empty () && out.back () == ' ')
        out.pop_back ();
      i = k;
    } else {
      out.push_back (' ');
    }
  };
  for (size_t i = 0; i < text.size ();) {
    std::string_view rest = text.substr (i);
    if (is_music_note (rest)) {
      /* To the closing note, or to the end when none closes. */
      size_t j = i + 3;
      while (j < text.size () && !is_music_note (text.substr (j)))
        j++;
      i = j < text.size () ? j + 3 : text.size ();
      after_drop (i);
      continue;
    }
    bool dropped = false;
    for (const auto &pair : kPairs) {
      if (!starts_with (rest, pair.open))
        continue;
      /* To the matching close: "(negative \pos())" is one annotation. */
      size_t open_len = strlen (pair.open), close_len = strlen (pair.close);
      size_t depth = 1, k = open_len;
      /* An annotation is short: this bounds the work on hostile input. */
      size_t limit = std::min<size_t> (rest.size (), 400);
      while (k < limit && depth > 0) {
        if (starts_with (rest.substr (k), pair.close)) {
          depth--;
          k += close_len;
        } else if (starts_with (rest.substr (k), pair.open)) {
          depth++;
          k += open_len;
        } else {
          k++;
        }
      }
      if (depth > 0) {
        /* Unbalanced or long: to the first close, as far as it is. */
        size_t close = rest.find (pair.close, open_len);
        if (close == std::string_view::npos)
          break;
        k = close + close_len;
      }
      i += k;
      after_drop (i);
      dropped = true;
      break;
    }
    if (!dropped)
      out.push_back (text[i++]);
  }
  return out;
}

/* Collapses all Unicode white space to single spaces, drops characters that
 * cannot be spoken, and trims. */
std::string
collapse_space (std::string_view text)
{
  std::string out;
  out.reserve (text.size ());
  bool pending_space = false;
  walk_utf8 (text, [&] (gunichar c, std::string_view bytes) {
    bool invalid = c == kInvalidChar;
    bool space =
        !invalid && (g_unichar_isspace (c) || c == 0x200B || c == 0xFEFF);
    /* Unspeakable: U+FFFD from broken input, control and format
         * characters (bidi marks, soft hyphens, zero-width joiners). */
    bool drop = invalid || c == 0xFFFD ||
        (!space &&
            (g_unichar_iscntrl (c) || g_unichar_type (c) == G_UNICODE_FORMAT));
    if (drop)
      return true;
    if (space) {
      pending_space = !out.empty ();
    } else {
      if (pending_space)
        out.push_back (' ');
      pending_space = false;
      out.append (bytes);
    }
    return true;
  });
  return out;
}

bool
has_speakable_char (std::string_view text)
{
  bool found = false;
  walk_utf8 (text, [&] (gunichar c, std::string_view) {
    found = c != kInvalidChar && g_unichar_isalnum (c);
    return !found;
  });
  return found;
}

/* "JOHN: Hi" and "DR. SMITH: Hi": an upper-case label of at most four words
 * before a colon. Returns the label and removes it from @text. */
std::string
take_name_prefix (std::string &text)
{
  size_t colon = text.find (':');
  if (colon == std::string::npos || colon == 0 || colon > 40)
    return {};
  if (colon + 1 < text.size () && text[colon + 1] != ' ')
    return {};
  std::string_view label = trim (std::string_view (text).substr (0, colon));
  unsigned letters = 0, words = 1;
  bool is_label = true;
  walk_utf8 (label, [&] (gunichar c, std::string_view) {
    if (c == kInvalidChar || g_unichar_islower (c))
      is_label = false;
    else if (g_unichar_isalpha (c))
      letters++;
    else if (c == ' ')
      words++;
    else if (!g_unichar_isdigit (c) && (c > 127 || !strchr (".#'-&", (int) c)))
      is_label = false;
    return is_label;
  });
  if (!is_label || letters == 0 || words > 4)
    return {};
  std::string name (label);
  text.erase (0, colon + 1);
  return name;
}

/* "[Alba] Hi": a speaker label in brackets (Netflix style), a name in
 * title case of at most three words, followed by what is said. Sound
 * descriptions ("[door creaks]", "[MUSIC]", "[Laughs]") are not names.
 * Returns the label and removes it from @text. */
std::string
take_bracket_label (std::string &text)
{
  static const char *const kSounds[] = { "laughs", "laughing", "laughter",
    "sighs", "music", "applause", "cheering", "cheers", "chuckles", "gasps",
    "groans", "screams", "screaming", "crying", "cries", "sobs", "sobbing",
    "coughs", "sniffs", "grunts", "panting", "whispers", "whispering",
    "shouting", "shouts", "yells", "silence", "thunder", "explosion", "gunshot",
    "gunshots", "footsteps", "knocking", "ringing", "beeping", "static",
    "continues", "inaudible", "indistinct", "echoing", "humming", "singing",
    "narrator", "sound", "noise", "chatter", "chattering" };
  if (text.empty () || text[0] != '[')
    return {};
  size_t close = text.find (']');
  if (close == std::string::npos || close < 2 || close > 40)
    return {};
  std::string_view label = trim (std::string_view (text).substr (1, close - 1));
  if (label.empty () ||
      !has_speakable_char (std::string_view (text).substr (close + 1)))
    return {};
  bool is_name = true, word_start = true, has_lower = false;
  unsigned words = 1;
  walk_utf8 (label, [&] (gunichar c, std::string_view) {
    if (c == ' ') {
      words++;
      word_start = true;
    } else if (word_start) {
      is_name = g_unichar_isupper (c) || g_unichar_istitle (c);
      word_start = false;
    } else if (g_unichar_islower (c)) {
      has_lower = true;
    } else if (!g_unichar_isalpha (c) && c != '\'' && c != '-' && c != '.') {
      is_name = false;
    }
    return is_name;
  });
  if (!is_name || !has_lower || words > 3)
    return {};
  for (const char *sound : kSounds) {
    for (size_t w = 0; w < label.size ();) {
      size_t e = label.find (' ', w);
      if (e == std::string_view::npos)
        e = label.size ();
      std::string_view word = label.substr (w, e - w);
      if (word.size () == strlen (sound) && starts_with_nocase (word, sound))
        return {};
      w = e + 1;
    }
  }
  std::string name (label);
  text.erase (0, close + 1);
  return name;
}

} // namespace

std::vector<Turn>
speakable_turns (std::string_view markup, MarkupKind kind,
    std::string_view speaker_hint, const TextOptions &options)
{
  struct RawTurn {
    std::string text;
    std::string voice;
    bool has_voice = false;
  };
  std::vector<RawTurn> raw (1);
  for (PlainLine &line : to_plain_lines (markup, kind)) {
    std::string_view text = trim (line.text);
    size_t dash = dialogue_dash_length (text);
    bool new_turn = line.has_voice || (dash > 0 && options.split_dialogue);
    if (new_turn &&
        (!trim (raw.back ().text).empty () || raw.back ().has_voice))
      raw.emplace_back ();
    if (line.has_voice) {
      raw.back ().voice = line.voice;
      raw.back ().has_voice = true;
    }
    if (dash > 0)
      text = text.substr (dash);
    else
      text = text.substr (double_dash_length (text));
    if (!raw.back ().text.empty ())
      raw.back ().text.push_back (' ');
    raw.back ().text.append (text);
  }

  std::vector<Turn> turns;
  for (size_t t = 0; t < raw.size (); t++) {
    std::string text = collapse_space (raw[t].text);
    Turn turn;
    turn.speaker = take_bracket_label (text);
    if (!options.keep_annotations)
      text = drop_annotations (text);
    text = collapse_space (text);
    if (turn.speaker.empty ())
      turn.speaker = take_name_prefix (text);
    if (turn.speaker.empty () && raw[t].has_voice)
      turn.speaker = raw[t].voice;
    if (turn.speaker.empty () && t == 0)
      turn.speaker = std::string (speaker_hint);
    turn.text = collapse_space (text);
    if (!has_speakable_char (turn.text))
      continue;
    turns.push_back (std::move (turn));
  }
  return turns;
}

} // namespace ganvoice

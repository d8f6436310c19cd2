/* ganvoice: cue markup to speakable text, speakers and dialogue turns.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "subtitles/subtitle-lines.h"
#include "runtime/utf8-walk.h"

#include <ganvoice/cue-text.h>

#include <glib.h>

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
    if (kind == MarkupKind::Ass && c == '\\' && i + 1 < markup.size ()) {
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
      if (close != std::string_view::npos && close < nl) {
        std::string_view tag = rest.substr (1, close - 1);
        i += close + 1;
        if (tag[0] == 'v' &&
            (tag.size () == 1 || tag[1] == ' ' || tag[1] == '.' ||
                tag[1] == '\t')) {
          size_t space = tag.find_first_of (" \t");
          std::string_view name =
              space == std::string_view::npos ? "" : trim (tag.substr (space));
          if (!lines.back ().text.empty () &&
              !trim (lines.back ().text).empty ())
            lines.emplace_back ();
          lines.back ().voice = std::string (name);
          lines.back ().has_voice = true;
        } else if (tag == "rt") {
          size_t end = markup.find ("</rt>", i);
          i = end == std::string_view::npos ? markup.size () : end + 5;
        } else if (tag == "br" || tag == "br/" || tag == "br /") {
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
  for (size_t i = 0; i < text.size ();) {
    std::string_view rest = text.substr (i);
    if (is_music_note (rest)) {
      /* To the closing note, or to the end when none closes. */
      size_t j = i + 3;
      while (j < text.size () && !is_music_note (text.substr (j)))
        j++;
      i = j < text.size () ? j + 3 : text.size ();
      out.push_back (' ');
      continue;
    }
    bool dropped = false;
    for (const auto &pair : kPairs) {
      if (!starts_with (rest, pair.open))
        continue;
      size_t close = rest.find (pair.close, strlen (pair.open));
      if (close == std::string_view::npos)
        break;
      i += close + strlen (pair.close);
      out.push_back (' ');
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
    if (!raw.back ().text.empty ())
      raw.back ().text.push_back (' ');
    raw.back ().text.append (text);
  }

  std::vector<Turn> turns;
  for (size_t t = 0; t < raw.size (); t++) {
    std::string text =
        options.keep_annotations ? raw[t].text : drop_annotations (raw[t].text);
    text = collapse_space (text);
    Turn turn;
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

/* ganvoice: the text frontend on libespeak-ng.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "runtime/utf8-walk.h"

#include <ganvoice/text-frontend.h>

#include <espeak-ng/speak_lib.h>
#include <glib.h>

#include <algorithm>
#include <mutex>
#include <unordered_map>

namespace ganvoice {
namespace {

/* espeak-ng is one global state machine: every call goes through here. */
std::mutex &
espeak_lock ()
{
  static std::mutex lock;
  return lock;
}

/* Guarded by espeak_lock(). */
bool espeak_ready = false;
std::string espeak_voice;

void
ensure_espeak_locked ()
{
  if (espeak_ready)
    return;
  /* Synchronous, no audio device; DONT_EXIT keeps a failure from exiting. */
  int rate = espeak_Initialize (
      AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, espeakINITIALIZE_DONT_EXIT);
  if (rate <= 0)
    throw FrontendError ("espeak-ng could not start: is espeak-ng-data "
                         "installed (package espeak-ng-data)?");
  espeak_ready = true;
}

bool
set_voice_locked (const std::string &name)
{
  if (name == espeak_voice)
    return true;
  if (name.empty () || espeak_SetVoiceByName (name.c_str ()) != EE_OK)
    return false;
  espeak_voice = name;
  return true;
}

enum class Pause
{
  None,
  Short,
  Long,
  Question
};

Pause
pause_of (gunichar c)
{
  switch (c) {
    case ',':
    case ';':
    case ':':
    case 0x3001:
    case 0xFF0C:
    case 0x060C:
    case 0x061B:
    case 0xFF1B:
    case 0xFF1A:
    case 0x2013:
    case 0x2014:
      return Pause::Short;
    case '.':
    case '!':
    case 0x2026:
    case 0x3002:
    case 0xFF01:
    case 0xFF0E:
    case 0x0964:
      return Pause::Long;
    case '?':
    case 0xFF1F:
    case 0x061F:
    case 0x037E:
      return Pause::Question;
    default:
      return Pause::None;
  }
}

/* "1.5", "3,000" and "Dr." keep their dot or comma: espeak reads them. */
bool
is_inside_token (std::string_view text, size_t at, gunichar c)
{
  if (c != '.' && c != ',' && c != ':')
    return false;
  size_t next = at + 1;
  bool digit_before = at > 0 && g_ascii_isdigit (text[at - 1]);
  bool digit_after = next < text.size () && g_ascii_isdigit (text[next]);
  if (digit_before && digit_after)
    return true;
  /* An abbreviation: "Dr. Smith", "e.g. this" -- a dot right after a short
   * word and followed by a space and a lower-case or capitalised name is
   * ambiguous, so only single letters and known titles keep theirs. */
  if (c == '.' && at > 0 && g_ascii_isalpha (text[at - 1])) {
    size_t start = at;
    while (start > 0 && g_ascii_isalpha (text[start - 1]))
      start--;
    std::string word (text.substr (start, at - start));
    for (char &ch : word)
      ch = g_ascii_tolower (ch);
    static const char *const kTitles[] = { "dr", "mr", "mrs", "ms", "st",
      "prof", "sr", "jr", "vs", "etc", "sra", "srta", "mme", "mlle", "nr", "hr",
      "fr", "dott", "sig", "ing" };
    if (word.size () == 1)
      return true;
    for (const char *title : kTitles)
      if (word == title && next < text.size () && text[next] == ' ')
        return true;
  }
  return false;
}

/* espeak marks words it reads in another language as "(en)...(fr)". */
std::string
strip_language_switches (const std::string &ipa)
{
  std::string out;
  out.reserve (ipa.size ());
  for (size_t i = 0; i < ipa.size (); i++) {
    if (ipa[i] == '(') {
      size_t close = ipa.find (')', i);
      if (close != std::string::npos && close - i <= 8) {
        bool code = close > i + 1;
        for (size_t k = i + 1; k < close; k++)
          code &= g_ascii_isalpha (ipa[k]) || ipa[k] == '-';
        if (code) {
          i = close;
          continue;
        }
      }
    }
    out.push_back (ipa[i]);
  }
  return out;
}

/* Phonemizes one clause (no clause punctuation inside) with espeak. */
std::string
clause_to_ipa_locked (const std::string &clause)
{
  std::string ipa;
  const void *ptr = clause.c_str ();
  /* IPA, no separator between phonemes. */
  const int mode = espeakPHONEMES_IPA;
  while (ptr != nullptr) {
    const char *part = espeak_TextToPhonemes (&ptr, espeakCHARS_UTF8, mode);
    if (!part)
      break;
    if (!ipa.empty () && *part)
      ipa.push_back (' ');
    ipa += part;
  }
  return strip_language_switches (ipa);
}

void
append_symbols (std::vector<std::string> &symbols, const std::string &ipa)
{
  walk_utf8 (ipa, [&] (gunichar c, std::string_view bytes) {
    if (c == kInvalidChar)
      return true;
    if (g_unichar_isspace (c)) {
      if (!symbols.empty () && symbols.back () != kWordBreak)
        symbols.emplace_back (kWordBreak);
    } else if (c != '_' && c != '\'' && c != '-' && !g_unichar_iscntrl (c)) {
      /* espeak marks short pauses with "_" and joins syllables with "-". */
      symbols.emplace_back (bytes);
    }
    return true;
  });
}

void
append_pause (std::vector<std::string> &symbols, Pause pause)
{
  while (!symbols.empty () && symbols.back () == kWordBreak)
    symbols.pop_back ();
  if (symbols.empty () || pause == Pause::None)
    return;
  const char *sym = pause == Pause::Short ? kShortPause
      : pause == Pause::Question          ? kQuestion
                                          : kLongPause;
  /* A stronger pause replaces a weaker one ("!?", "...,"). */
  const std::string &last = symbols.back ();
  if (last == kShortPause || last == kLongPause || last == kQuestion) {
    if (last == kShortPause || pause == Pause::Question)
      symbols.back () = sym;
    return;
  }
  symbols.emplace_back (sym);
}

std::string
lower (std::string s)
{
  for (char &c : s)
    c = g_ascii_tolower (c);
  return s;
}

} // namespace

std::string
language_base (const std::string &tag)
{
  return lower (tag.substr (0, tag.find_first_of ("-_")));
}

TextFrontend::TextFrontend ()
{
  std::lock_guard<std::mutex> guard (espeak_lock ());
  ensure_espeak_locked ();
}

bool
TextFrontend::has_language (const std::string &language)
{
  std::lock_guard<std::mutex> guard (espeak_lock ());
  ensure_espeak_locked ();
  std::string previous = espeak_voice;
  bool ok = set_voice_locked (lower (language));
  if (ok && !previous.empty ())
    set_voice_locked (previous);
  return ok;
}

Phonemes
TextFrontend::phonemize (
    std::string_view text, const std::string &language) const
{
  Phonemes out;
  std::lock_guard<std::mutex> guard (espeak_lock ());
  ensure_espeak_locked ();

  std::string wanted =
      lower (language.empty () ? std::string ("en") : language);
  for (const std::string &candidate :
      { wanted, language_base (wanted), std::string ("en") }) {
    if (set_voice_locked (candidate)) {
      out.language = candidate;
      break;
    }
  }
  if (out.language.empty ())
    throw FrontendError ("espeak-ng has no English voice: is espeak-ng-data "
                         "installed?");
  out.fell_back =
      out.language != wanted && out.language != language_base (wanted);
  const std::string expanded = expand_dates (std::string (text), out.language);
  text = expanded;

  /* Split into clauses at punctuation, which becomes pause symbols. */
  std::string clause;
  auto flush = [&] (Pause pause) {
    if (!clause.empty ()) {
      append_symbols (out.symbols, clause_to_ipa_locked (clause));
      clause.clear ();
    }
    append_pause (out.symbols, pause);
  };
  walk_utf8 (text, [&] (gunichar c, std::string_view bytes) {
    if (c == kInvalidChar)
      return true;
    Pause pause = pause_of (c);
    if (pause != Pause::None &&
        !is_inside_token (text, bytes.data () - text.data (), c))
      flush (pause);
    else
      clause.append (bytes);
    return true;
  });
  flush (Pause::Long);
  return out;
}

std::string
TextFrontend::join (const Phonemes &phonemes)
{
  std::string s;
  for (const std::string &sym : phonemes.symbols)
    s += sym;
  return s;
}

PhonemeInventory::PhonemeInventory (std::vector<std::string> symbols)
    : symbols_ (std::move (symbols))
{
}

int
PhonemeInventory::id (const std::string &symbol) const
{
  auto it = std::find (symbols_.begin (), symbols_.end (), symbol);
  return it == symbols_.end () ? -1 : (int) (it - symbols_.begin ());
}

std::vector<int>
PhonemeInventory::encode (const std::vector<std::string> &symbols,
    std::vector<std::string> *skipped) const
{
  /* Close sounds, tried in turn until the model knows one. */
  static const std::unordered_map<std::string, std::string> kNearest = {
    { "ɐ", "a" },
    { "ɑ", "a" },
    { "æ", "a" },
    { "ɶ", "a" },
    { "ɒ", "ɔ" },
    { "ɔ", "o" },
    { "ʌ", "ə" },
    { "ɜ", "ə" },
    { "ɘ", "ə" },
    { "ɞ", "ə" },
    { "ɵ", "o" },
    { "ɤ", "o" },
    { "ə", "e" },
    { "ɛ", "e" },
    { "œ", "ɛ" },
    { "ø", "e" },
    { "ɪ", "i" },
    { "ɨ", "i" },
    { "y", "i" },
    { "ʏ", "ɪ" },
    { "ʊ", "u" },
    { "ʉ", "u" },
    { "ɯ", "u" },
    { "ɚ", "ə" },
    { "q", "k" },
    { "c", "k" },
    { "ɢ", "g" },
    { "ɟ", "g" },
    { "ɡ", "g" },
    { "ʈ", "t" },
    { "ɖ", "d" },
    { "ʁ", "r" },
    { "ʀ", "r" },
    { "ɾ", "r" },
    { "ɹ", "r" },
    { "ɻ", "r" },
    { "ɽ", "r" },
    { "ʎ", "j" },
    { "ʝ", "j" },
    { "ɥ", "j" },
    { "ɲ", "n" },
    { "ŋ", "n" },
    { "ɳ", "n" },
    { "ɴ", "n" },
    { "ç", "x" },
    { "χ", "x" },
    { "x", "h" },
    { "ħ", "h" },
    { "ʕ", "h" },
    { "ɦ", "h" },
    { "β", "v" },
    { "ʋ", "v" },
    { "ɸ", "f" },
    { "θ", "f" },
    { "ð", "d" },
    { "ɕ", "ʃ" },
    { "ʂ", "ʃ" },
    { "ʃ", "s" },
    { "ʑ", "ʒ" },
    { "ʐ", "ʒ" },
    { "ʒ", "z" },
    { "ɬ", "l" },
    { "ɭ", "l" },
    { "ʟ", "l" },
    { "ɫ", "l" },
    { "ɰ", "w" },
    { "ɱ", "m" },
    { "ɣ", "g" },
    { "ʍ", "w" },
    { "ɺ", "l" },
    { "ɓ", "b" },
    { "ɗ", "d" },
    { "ˌ", "ˈ" },
    { "?", "." },
  };
  std::vector<int> ids;
  ids.reserve (symbols.size ());
  for (const std::string &symbol : symbols) {
    std::string s = symbol;
    int found = id (s);
    for (int step = 0; found < 0 && step < 4; step++) {
      auto it = kNearest.find (s);
      if (it == kNearest.end ()) {
        /* A letter with a diacritic: try its base letter. */
        gunichar c = g_utf8_get_char_validated (s.c_str (), s.size ());
        gunichar decomposed[4];
        gsize n = c == (gunichar) -1 || c == (gunichar) -2
            ? 0
            : g_unichar_fully_decompose (c, FALSE, decomposed, 4);
        if (n < 2)
          break;
        char buf[6];
        s.assign (buf, g_unichar_to_utf8 (decomposed[0], buf));
      } else {
        s = it->second;
      }
      found = id (s);
    }
    if (found >= 0)
      ids.push_back (found);
    else if (skipped)
      skipped->push_back (symbol);
  }
  return ids;
}

} // namespace ganvoice

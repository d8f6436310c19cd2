/* ganvoice: the text frontend, text to phonemes with libespeak-ng.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/ganvoice-prelude.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ganvoice {

class FrontendError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/* Pause symbols that stand for punctuation in phoneme strings. */
constexpr const char *kShortPause = ","; /* , ; : and the like */
constexpr const char *kLongPause = "."; /* . ! … and the end of text */
constexpr const char *kQuestion = "?"; /* a question: a long pause too */
constexpr const char *kWordBreak = " ";

struct Phonemes {
  /* One symbol per IPA code point (stress and length marks included), plus
   * the word break and pause symbols above. */
  std::vector<std::string> symbols;
  std::string language; /* the espeak-ng voice that was used */
  bool fell_back = false; /* @language was unknown; a fallback was used */
};

/* Turns text into IPA phoneme symbols with libespeak-ng, which also expands
 * numbers and abbreviations; punctuation becomes pause symbols.
 * espeak-ng keeps global state: all instances share one lock. */
class TextFrontend {
public:
  /* Throws FrontendError when espeak-ng's data cannot be found. */
  GANVOICE_API TextFrontend ();

  /* @language is an ISO 639-1 code or an espeak-ng voice name ("en",
   * "en-us", "pt-br"). An unknown one falls back to its base language
   * ("en-xx" to "en"), then to English, and sets fell_back. */
  GANVOICE_API Phonemes phonemize (
      std::string_view text, const std::string &language) const;

  /* Whether espeak-ng has a voice for @language. */
  GANVOICE_API static bool has_language (const std::string &language);

  /* The phonemes as one string, symbols joined (for logs and recipes). */
  GANVOICE_API static std::string join (const Phonemes &phonemes);
};

/* The language of a tag, lower case: "en-US" and "en_us" give "en". */
GANVOICE_API std::string language_base (const std::string &tag);

/* Writes numeric dates (2024-03-12, 12/03/2024, 12.03.2024) out in words
 * for @language ("12 de marzo de 2024"; en-us: "March 12, 2024"; slashed
 * dates are month first there, day first elsewhere unless that cannot be a
 * date). Languages without a table, and impossible dates, are unchanged.
 * TextFrontend::phonemize does this before espeak-ng. */
GANVOICE_API std::string expand_dates (
    const std::string &text, const std::string &language);

/* Maps phoneme symbols to a model's inventory. Symbols the model does not
 * know are replaced by their nearest known symbol (same base letter, or a
 * table of close sounds), else skipped and reported in @skipped. */
class PhonemeInventory {
public:
  GANVOICE_API explicit PhonemeInventory (std::vector<std::string> symbols);

  GANVOICE_API std::vector<int> encode (const std::vector<std::string> &symbols,
      std::vector<std::string> *skipped = nullptr) const;
  GANVOICE_API int id (const std::string &symbol) const; /* -1 if unknown */
  GANVOICE_API size_t size () const
  {
    return symbols_.size ();
  }
  GANVOICE_API const std::vector<std::string> &symbols () const
  {
    return symbols_;
  }

private:
  std::vector<std::string> symbols_;
};

} // namespace ganvoice

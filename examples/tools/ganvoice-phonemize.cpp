/* ganvoice-phonemize: text to the phoneme symbols ganvoice's models see.
 * Training recipes use it so that they phonemize exactly as the runtime.
 *
 *   ganvoice-phonemize --language es < lines.txt > phonemes.txt
 *
 * One output line per input line: the symbols separated by '|' (a word
 * break is the symbol " ").
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/text-frontend.h>

#include <cstring>
#include <iostream>
#include <string>

int
main (int argc, char **argv)
{
  std::string language = "en";
  for (int i = 1; i < argc; i++) {
    if ((!strcmp (argv[i], "--language") || !strcmp (argv[i], "-l")) &&
        i + 1 < argc) {
      language = argv[++i];
    } else {
      std::cerr
          << "usage: ganvoice-phonemize [--language L] < text > phonemes\n";
      return 2;
    }
  }
  try {
    ganvoice::TextFrontend frontend;
    if (!ganvoice::TextFrontend::has_language (language))
      std::cerr << "ganvoice-phonemize: espeak-ng has no voice for '"
                << language << "'; falling back\n";
    std::string line;
    while (std::getline (std::cin, line)) {
      ganvoice::Phonemes p = frontend.phonemize (line, language);
      for (size_t i = 0; i < p.symbols.size (); i++)
        std::cout << (i ? "|" : "") << p.symbols[i];
      std::cout << '\n';
    }
  } catch (const ganvoice::FrontendError &e) {
    std::cerr << "ganvoice-phonemize: " << e.what () << '\n';
    return 1;
  }
  return 0;
}

/* ganvoice: which voice speaks for which speaker.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/ganvoice-prelude.h>

#include <map>
#include <string>
#include <vector>

namespace ganvoice {

/* Speakers (a cue meta's speaker: an ASS Name, a "NAME:" label) to voices
 * (a built-in voice name or a voice-profile path). Its text form is
 * `ganvoice`'s speaker-map property and what `ganvoice-dub --voice
 * SPEAKER=VOICE` passes on: "ALICE=ana;Bob=/voices/bob.json". */
class SpeakerMap {
public:
  /* Reads the text form; entries that are not SPEAKER=VOICE are skipped
   * and, with @bad, listed there. Spaces around names are dropped. */
  GANVOICE_API static SpeakerMap parse (
      const std::string &text, std::vector<std::string> *bad = nullptr);
  /* The text form parse() reads back. Throws std::invalid_argument for a
   * speaker or voice that cannot be written in it (empty, or with ';', or
   * '=' in the speaker). */
  GANVOICE_API std::string format () const;

  /* Adds or replaces one speaker's voice (checked as format() would). */
  GANVOICE_API void set (const std::string &speaker, const std::string &voice);
  /* The voice of @speaker: the exact name, else the first that matches it
   * ignoring ASCII case; nullptr when none does. */
  GANVOICE_API const std::string *find (const std::string &speaker) const;

  bool empty () const
  {
    return voices_.empty ();
  }
  const std::map<std::string, std::string> &voices () const
  {
    return voices_;
  }

private:
  std::map<std::string, std::string> voices_;
};

} // namespace ganvoice

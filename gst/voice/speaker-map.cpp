/* ganvoice: which voice speaks for which speaker.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/speaker-map.h>

#include <glib.h>

#include <stdexcept>

namespace ganvoice {

namespace {

std::string
strip (const std::string &s)
{
  size_t a = s.find_first_not_of (" \t\r\n");
  if (a == std::string::npos)
    return "";
  size_t b = s.find_last_not_of (" \t\r\n");
  return s.substr (a, b - a + 1);
}

} // namespace

SpeakerMap
SpeakerMap::parse (const std::string &text, std::vector<std::string> *bad)
{
  SpeakerMap map;
  size_t from = 0;
  while (from <= text.size ()) {
    size_t end = text.find (';', from);
    if (end == std::string::npos)
      end = text.size ();
    std::string entry = strip (text.substr (from, end - from));
    from = end + 1;
    if (entry.empty ())
      continue;
    size_t eq = entry.find ('=');
    std::string speaker =
        eq == std::string::npos ? "" : strip (entry.substr (0, eq));
    std::string voice =
        eq == std::string::npos ? "" : strip (entry.substr (eq + 1));
    if (speaker.empty () || voice.empty ()) {
      if (bad)
        bad->push_back (entry);
      continue;
    }
    map.voices_[speaker] = voice;
  }
  return map;
}

void
SpeakerMap::set (const std::string &speaker, const std::string &voice)
{
  if (strip (speaker).empty () || strip (voice).empty () ||
      speaker.find_first_of (";=") != std::string::npos ||
      voice.find (';') != std::string::npos)
    throw std::invalid_argument ("cannot map speaker \"" + speaker +
        "\" to voice \"" + voice +
        "\": both must be non-empty, without ';' (nor '=' in the speaker)");
  voices_[strip (speaker)] = strip (voice);
}

std::string
SpeakerMap::format () const
{
  std::string out;
  for (const auto &entry : voices_)
    out += (out.empty () ? "" : ";") + entry.first + "=" + entry.second;
  return out;
}

const std::string *
SpeakerMap::find (const std::string &speaker) const
{
  auto it = voices_.find (speaker);
  if (it != voices_.end ())
    return &it->second;
  for (const auto &entry : voices_)
    if (g_ascii_strcasecmp (entry.first.c_str (), speaker.c_str ()) == 0)
      return &entry.second;
  return nullptr;
}

} // namespace ganvoice

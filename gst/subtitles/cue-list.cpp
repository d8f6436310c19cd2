/* ganvoice: raw cues to the ordered list of spoken cues.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/cue-list.h>

#include "subtitle-lines.h"

#include <glib.h>

#include <algorithm>
#include <set>
#include <tuple>

namespace ganvoice {
namespace {

/* Weight of a turn when a cue's time is shared: its length in characters,
 * a fair proxy for speaking time across scripts. */
int64_t
turn_weight (const std::string &text)
{
  return std::max<int64_t> (1, g_utf8_strlen (text.c_str (), text.size ()));
}

} // namespace

std::string
subtitle_header_language (std::string_view bytes)
{
  for (const Line &line : split_lines (bytes.substr (0, 8192))) {
    if (line.text.size () > 9 && starts_with_nocase (line.text, "language:")) {
      std::string code;
      for (char c : line.text.substr (9))
        if (g_ascii_isalnum (c) || c == '-' || c == '_')
          code.push_back (c);
      return code;
    }
  }
  return "";
}

std::vector<Cue>
make_spoken_cues (const std::vector<RawCue> &raw, const std::string &language,
    const TextOptions &options)
{
  std::vector<Cue> cues;
  cues.reserve (raw.size ());
  for (const RawCue &rc : raw) {
    std::vector<Turn> turns =
        speakable_turns (rc.markup, rc.kind, rc.speaker, options);
    std::vector<int64_t> weights;
    int64_t total = 0;
    for (const Turn &turn : turns)
      total += weights.emplace_back (turn_weight (turn.text));
    int64_t duration = rc.end_ns - rc.start_ns;
    /* Turn boundaries fall on whole milliseconds after the cue start, never
     * past the cue end; the last turn ends with the cue. */
    auto boundary = [&] (int64_t done) {
      int64_t offset =
          (int64_t) ((double) duration * done / total / 1e6 + 0.5) * 1000000;
      return std::min (rc.end_ns, rc.start_ns + offset);
    };
    int64_t done = 0;
    for (size_t t = 0; t < turns.size (); t++) {
      Cue cue;
      cue.start_ns = boundary (done);
      done += weights[t];
      int64_t end = t + 1 == turns.size () ? rc.end_ns : boundary (done);
      cue.end_ns = std::max (end, cue.start_ns + 1);
      cue.text = std::move (turns[t].text);
      cue.speaker = std::move (turns[t].speaker);
      cue.style = rc.style;
      cue.language = language;
      cue.markup = rc.markup;
      cue.line = rc.line;
      cue.turn = (unsigned) t;
      cue.n_turns = (unsigned) turns.size ();
      cues.push_back (std::move (cue));
    }
  }

  std::stable_sort (cues.begin (), cues.end (),
      [] (const Cue &a, const Cue &b) { return a.start_ns < b.start_ns; });
  /* The same line styled twice (a common fansub trick, often interleaved
   * with other lines at the same time) is spoken once: the first is kept. */
  std::set<std::tuple<int64_t, int64_t, std::string> > seen;
  cues.erase (std::remove_if (cues.begin (), cues.end (),
                  [&seen] (const Cue &c) {
                    return !seen.emplace (c.start_ns, c.end_ns, c.text).second;
                  }),
      cues.end ());
  for (size_t i = 0; i < cues.size (); i++)
    cues[i].index = (unsigned) i;
  return cues;
}

CueDocument
parse_cue_document (std::string_view bytes, const DocumentOptions &options)
{
  CueDocument doc;
  std::string hint = options.language.empty ()
      ? subtitle_header_language (bytes)
      : options.language;
  DecodedText decoded =
      decode_subtitle_text (bytes, options.legacy_encoding, hint);
  doc.encoding = decoded.encoding;
  doc.warnings = std::move (decoded.warnings);
  if (!decoded.ok) {
    doc.error = decoded.error;
    return doc;
  }
  ParsedSubtitles parsed =
      parse_subtitles (decoded.text, options.format, options.parse);
  doc.format = parsed.format;
  doc.warnings.insert (
      doc.warnings.end (), parsed.warnings.begin (), parsed.warnings.end ());
  if (!parsed.ok) {
    doc.error = parsed.error;
    return doc;
  }
  doc.language = options.language.empty () ? parsed.language : options.language;
  doc.raw_cue_count = parsed.cues.size ();
  doc.cues = make_spoken_cues (parsed.cues, doc.language, options.text);
  /* A cue too short to say anything in is spoken (squeezed, or late), but
   * not without saying so. */
  std::set<unsigned> spoken_lines;
  for (const Cue &cue : doc.cues)
    spoken_lines.insert (cue.line);
  for (const RawCue &rc : parsed.cues) {
    int64_t ms = (rc.end_ns - rc.start_ns) / 1000000;
    if (rc.end_ns - rc.start_ns < kMinSpeakableNs &&
        spoken_lines.count (rc.line))
      doc.warnings.push_back ({ rc.line,
          "the cue lasts only " + std::to_string (ms) +
              " ms, too short to be spoken in its time; spoken anyway" });
  }
  doc.ok = true;
  return doc;
}

} // namespace ganvoice

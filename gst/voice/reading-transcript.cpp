/* ganvoice: what was read in a recording for a deep clone, and the
 * recording cut into one read sentence per subtitle cue.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ganvoice/cue-list.h>
#include <ganvoice/reading-transcript.h>

#include <glib.h>

#include <algorithm>
#include <cmath>

namespace ganvoice {
namespace {

bool
has_subtitle_extension (const std::string &name)
{
  gchar *lower = g_ascii_strdown (name.c_str (), -1);
  bool yes = false;
  for (const char *ext : { ".srt", ".vtt", ".webvtt", ".ass", ".ssa" })
    yes = yes || g_str_has_suffix (lower, ext);
  g_free (lower);
  return yes;
}

std::string
where (const std::string &path, unsigned line)
{
  return line ? path + ":" + std::to_string (line) : path;
}

} // namespace

ReadingTranscript
parse_transcript (std::string_view bytes, const std::string &name,
    const std::string &language)
{
  ReadingTranscript t;
  t.path = name;
  DecodedText decoded = decode_subtitle_text (bytes, "");
  if (!decoded.ok) {
    t.error = decoded.error;
    return t;
  }
  SubtitleFormat format = detect_subtitle_format (decoded.text);
  if (format == SubtitleFormat::Unknown && !has_subtitle_extension (name)) {
    /* Plain text, read through the whole recording. */
    std::string text = decoded.text;
    size_t a = text.find_first_not_of (" \t\n");
    if (a == std::string::npos) {
      t.error = { 0, "the transcript is empty" };
      return t;
    }
    size_t b = text.find_last_not_of (" \t\n");
    t.text = text.substr (a, b - a + 1);
    t.warnings = std::move (decoded.warnings);
    t.ok = true;
    return t;
  }

  DocumentOptions options;
  options.language = language;
  options.format = format;
  /* A reading is one voice: "- Hi. - Hello." is read as one text. */
  options.text.split_dialogue = false;
  CueDocument doc = parse_cue_document (bytes, options);
  t.timed = true;
  t.format = doc.format;
  t.warnings = std::move (doc.warnings);
  if (!doc.ok) {
    t.error = doc.error;
    return t;
  }
  for (const Cue &c : doc.cues) {
    TimedText x;
    x.start_ns = c.start_ns;
    x.end_ns = c.end_ns;
    x.text = c.text;
    x.index = c.index + 1;
    x.line = c.line;
    x.origin = where (name, c.line);
    t.cues.push_back (std::move (x));
  }
  if (t.cues.empty ()) {
    t.error = { t.warnings.empty () ? 0 : t.warnings.front ().line,
      "the subtitle file has no cue with text to read" };
    return t;
  }
  t.ok = true;
  return t;
}

ReadingTranscript
read_transcript (const std::string &path, const std::string &language)
{
  gchar *data = nullptr;
  gsize length = 0;
  GError *err = nullptr;
  if (!g_file_get_contents (path.c_str (), &data, &length, &err)) {
    ReadingTranscript t;
    t.path = path;
    t.unreadable = true;
    t.error = { 0, err ? err->message : "cannot read the file" };
    g_clear_error (&err);
    return t;
  }
  ReadingTranscript t =
      parse_transcript (std::string_view (data, length), path, language);
  g_free (data);
  return t;
}

std::vector<ReadSentence>
cut_reading (const std::vector<float> &audio, int rate, int64_t audio_start_ns,
    const std::vector<TimedText> &cues, double margin_s)
{
  std::vector<ReadSentence> out;
  out.reserve (cues.size ());
  const int64_t margin = (int64_t) std::llround (margin_s * 1e9);
  const double total_ns =
      rate > 0 ? (double) audio.size () * 1e9 / (double) rate : 0.0;
  for (size_t i = 0; i < cues.size (); i++) {
    const TimedText &c = cues[i];
    int64_t from = c.start_ns - margin, to = c.end_ns + margin;
    /* Not past the middle of the gap to a neighbour on either side. */
    for (size_t j = 0; j < cues.size (); j++) {
      if (j == i)
        continue;
      const TimedText &o = cues[j];
      if (o.end_ns <= c.start_ns)
        from = std::max (from, c.start_ns - (c.start_ns - o.end_ns) / 2);
      if (o.start_ns >= c.end_ns)
        to = std::min (to, c.end_ns + (o.start_ns - c.end_ns) / 2);
    }
    ReadSentence s;
    s.rate = rate;
    s.text = c.text;
    s.origin = c.origin;
    if (rate > 0 && to > from) {
      double a = std::max (0.0, (double) (from - audio_start_ns));
      double b = std::min (total_ns, (double) (to - audio_start_ns));
      if (b > a) {
        size_t first = (size_t) std::llround (a * rate / 1e9);
        size_t last =
            std::min (audio.size (), (size_t) std::llround (b * rate / 1e9));
        if (last > first)
          s.samples.assign (
              audio.begin () + (long) first, audio.begin () + (long) last);
      }
    }
    out.push_back (std::move (s));
  }
  return out;
}

} // namespace ganvoice

/* ganvoice: SSA/ASS parsing with libass.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "subtitles/subtitle-lines.h"

#include <ganvoice/cue-text.h>
#include <ganvoice/subtitle-parse.h>

#include <ass/ass.h>
#include <glib.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <memory>
#include <string>

namespace ganvoice {
namespace {

/* libass reports problems through a callback, without line numbers: they
 * are collected here and attached to the line being fed. */
struct MessageSink {
  std::vector<std::string> messages;
};

void
on_libass_message (int level, const char *fmt, va_list args, void *data)
{
  /* 0 fatal .. 2 warning; higher levels are informational. */
  if (level > 2)
    return;
  char buf[512];
  vsnprintf (buf, sizeof (buf), fmt, args);
  static_cast<MessageSink *> (data)->messages.emplace_back (buf);
}

struct LibassDeleter {
  void operator() (ASS_Library *lib) const
  {
    ass_library_done (lib);
  }
  void operator() (ASS_Track *track) const
  {
    ass_free_track (track);
  }
};

/* Case-insensitive whole-word search, words being runs of letters/digits. */
bool
has_word (std::string_view haystack, std::string_view word)
{
  size_t i = 0;
  while (i < haystack.size ()) {
    while (i < haystack.size () && !g_ascii_isalnum (haystack[i]))
      i++;
    size_t start = i;
    while (i < haystack.size () && g_ascii_isalnum (haystack[i]))
      i++;
    std::string_view token = haystack.substr (start, i - start);
    if (token.size () == word.size () && starts_with_nocase (token, word))
      return true;
  }
  return false;
}

bool
has_override_tag (std::string_view text, bool (*match) (std::string_view tag))
{
  size_t open = 0;
  while ((open = text.find ('{', open)) != std::string_view::npos) {
    size_t close = text.find ('}', open);
    if (close == std::string_view::npos)
      return false;
    std::string_view block = text.substr (open + 1, close - open - 1);
    size_t slash = 0;
    while ((slash = block.find ('\\', slash)) != std::string_view::npos) {
      if (match (block.substr (slash + 1)))
        return true;
      slash++;
    }
    open = close;
  }
  return false;
}

/* \p1 and up switch to vector drawing; \k, \K, \kf, \ko time karaoke. */
bool
is_drawing_or_karaoke_tag (std::string_view tag)
{
  if (tag.size () >= 2 && tag[0] == 'p' && g_ascii_isdigit (tag[1]))
    return tag[1] != '0';
  if (!tag.empty () && (tag[0] == 'k' || tag[0] == 'K')) {
    std::string_view rest = tag.substr (1);
    if (starts_with (rest, "f") || starts_with (rest, "o"))
      rest = rest.substr (1);
    return !rest.empty () && g_ascii_isdigit (rest[0]);
  }
  return false;
}

/* The sign rule, documented in docs/subcues.md. */
bool
is_sign_or_effect (const ASS_Event &event, std::string_view style)
{
  static const char *const kSignWords[] = { "sign", "signs", "song", "songs",
    "lyrics", "karaoke", "kara", "op", "ed", "opening", "ending", "title",
    "titles", "credit", "credits", "note", "notes", "typeset", "insert",
    "caption", "captions" };

  if (event.Effect && *event.Effect)
    return true;
  if (event.Text && has_override_tag (event.Text, is_drawing_or_karaoke_tag))
    return true;
  for (const char *word : kSignWords) {
    if (has_word (style, word) || (event.Name && has_word (event.Name, word)))
      return true;
  }
  return false;
}

/* The comma-separated fields after "Dialogue:", the last one (the text)
 * taking the rest of the line. */
std::vector<std::string_view>
split_fields (std::string_view line, size_t n_fields)
{
  std::vector<std::string_view> fields;
  size_t colon = line.find (':');
  std::string_view rest = colon == std::string_view::npos
      ? std::string_view ()
      : line.substr (colon + 1);
  while (fields.size () + 1 < n_fields) {
    size_t comma = rest.find (',');
    if (comma == std::string_view::npos)
      break;
    fields.push_back (trim (rest.substr (0, comma)));
    rest = rest.substr (comma + 1);
  }
  fields.push_back (rest);
  return fields;
}

/* The times of an event as written on its line, read by parse_ssa_time():
 * libass reads "0:00:03.766" as 3 s + 766 cs and "Invalid" as 0. */
struct EventTimes {
  bool known = false; /* false: take libass's */
  int64_t start_ns = -1, end_ns = -1;
  std::string start_text, end_text;
};

/* Frame-by-frame typesetting: a sign drawn as a run of events of one or two
 * frames each, all with the same text. */
constexpr int64_t kFrameEventNs = 100 * G_GINT64_CONSTANT (1000000);
/* Events of a run follow each other within this gap. */
constexpr int64_t kRunGapNs = 50 * G_GINT64_CONSTANT (1000000);

std::string
clean_text_of (const RawCue &cue)
{
  std::string text;
  for (const Turn &turn :
      speakable_turns (cue.markup, cue.kind, "", TextOptions ()))
    text += turn.text + "\n";
  return text;
}

/* Drops the cues that belong to runs of two or more frame-length events
 * with the same text. */
void
drop_frame_runs (std::vector<RawCue> &cues)
{
  std::vector<std::pair<std::string, size_t> > shorts;
  for (size_t i = 0; i < cues.size (); i++)
    if (cues[i].end_ns - cues[i].start_ns <= kFrameEventNs)
      shorts.emplace_back (clean_text_of (cues[i]), i);
  std::stable_sort (
      shorts.begin (), shorts.end (), [&] (const auto &a, const auto &b) {
        if (a.first != b.first)
          return a.first < b.first;
        return cues[a.second].start_ns < cues[b.second].start_ns;
      });
  std::vector<bool> drop (cues.size (), false);
  for (size_t r = 0; r < shorts.size ();) {
    size_t e = r + 1;
    int64_t run_end = cues[shorts[r].second].end_ns;
    while (e < shorts.size () && shorts[e].first == shorts[r].first &&
        cues[shorts[e].second].start_ns <= run_end + kRunGapNs) {
      run_end = std::max (run_end, cues[shorts[e].second].end_ns);
      e++;
    }
    if (e - r >= 2)
      for (size_t k = r; k < e; k++)
        drop[shorts[k].second] = true;
    r = e;
  }
  size_t kept = 0;
  for (size_t i = 0; i < cues.size (); i++)
    if (!drop[i] && kept++ != i)
      cues[kept - 1] = std::move (cues[i]);
  cues.resize (kept);
}

} // namespace

ParsedSubtitles
parse_ssa (std::string_view text, const ParseOptions &options)
{
  ParsedSubtitles out;
  out.format = SubtitleFormat::SubStationAlpha;

  MessageSink sink;
  std::unique_ptr<ASS_Library, LibassDeleter> library (ass_library_init ());
  if (!library) {
    out.ok = false;
    out.error = { 0, "libass could not be initialised" };
    return out;
  }
  ass_set_message_cb (library.get (), on_libass_message, &sink);
  std::unique_ptr<ASS_Track, LibassDeleter> track (
      ass_new_track (library.get ()));
  if (!track) {
    out.ok = false;
    out.error = { 0, "libass could not create a track" };
    return out;
  }

  /* Feed libass one line at a time, so that each event and each complaint
   * can be tied to its line. */
  Lines lines = split_lines (text);
  std::vector<unsigned> event_lines;
  std::vector<EventTimes> event_times;
  /* Where Start and End are among the Format line's fields. */
  size_t n_fields = 10, start_field = 1, end_field = 2;
  bool in_events = false;
  bool saw_section = false;
  unsigned events_line = 0;
  std::string chunk;
  for (const Line &line : lines) {
    std::string_view content = trim (line.text);
    if (!content.empty () && content[0] == '[') {
      saw_section = true;
      in_events = starts_with_nocase (content, "[events]");
      if (in_events)
        events_line = line.number;
    }
    int before = track->n_events;
    sink.messages.clear ();
    chunk.assign (line.text);
    chunk.push_back ('\n');
    ass_process_data (track.get (), chunk.data (), (int) chunk.size ());
    bool is_dialogue = in_events && starts_with_nocase (content, "dialogue:");
    if (in_events && starts_with_nocase (content, "format:")) {
      std::vector<std::string_view> names = split_fields (content, 64);
      for (size_t f = 0; f < names.size (); f++) {
        std::string_view name = trim (names[f]);
        if (starts_with_nocase (name, "start") && name.size () == 5)
          start_field = f;
        else if (starts_with_nocase (name, "end") && name.size () == 3)
          end_field = f;
      }
      n_fields = names.size ();
    }
    EventTimes times;
    if (is_dialogue) {
      std::vector<std::string_view> fields = split_fields (content, n_fields);
      if (fields.size () > std::max (start_field, end_field) &&
          fields.size () == n_fields) {
        times.known = true;
        times.start_text = std::string (trim (fields[start_field]));
        times.end_text = std::string (trim (fields[end_field]));
        times.start_ns = parse_ssa_time (times.start_text);
        times.end_ns = parse_ssa_time (times.end_text);
      }
    }
    for (int e = before; e < track->n_events; e++) {
      event_lines.push_back (line.number);
      event_times.push_back (times);
    }

    if (is_dialogue && track->n_events == before) {
      std::string why = sink.messages.empty () ? std::string ("libass "
                                                              "rejected it")
                                               : sink.messages.front ();
      if (!why.empty () && why.back () == '\n')
        why.pop_back ();
      out.warnings.push_back ({ line.number,
          "malformed Dialogue line (" + why + "); cue skipped" });
    }
  }

  if (!saw_section || events_line == 0) {
    out.ok = false;
    out.error = { lines.empty () ? 1u : lines.front ().number,
      "SSA/ASS file has no [Events] section" };
    return out;
  }
  if (track->Language && *track->Language)
    out.language = track->Language;

  for (int e = 0; e < track->n_events; e++) {
    const ASS_Event &event = track->events[e];
    unsigned line = e < (int) event_lines.size () ? event_lines[e] : 0;
    std::string style;
    if (event.Style >= 0 && event.Style < track->n_styles &&
        track->styles[event.Style].Name)
      style = track->styles[event.Style].Name;
    if (!options.keep_signs && is_sign_or_effect (event, style))
      continue;
    int64_t start_ns, end_ns;
    const EventTimes *times =
        e < (int) event_times.size () && event_times[e].known ? &event_times[e]
                                                              : nullptr;
    if (times) {
      if (times->start_ns < 0 || times->end_ns < 0) {
        bool bad_start = times->start_ns < 0;
        out.warnings.push_back ({ line,
            std::string (bad_start ? "the start" : "the end") + " '" +
                (bad_start ? times->start_text : times->end_text) +
                "' is not a time H:MM:SS.cc; cue skipped" });
        continue;
      }
      start_ns = times->start_ns;
      end_ns = times->end_ns;
    } else {
      /* Each bounded on its own: a huge start with a huge negative
       * duration must not pass as a small end, nor overflow in ns. */
      const long long max_ms = kMaxTimestampSeconds * 1000LL;
      if (event.Start < 0 || event.Start > max_ms || event.Duration > max_ms ||
          event.Duration < -max_ms || event.Start + event.Duration > max_ms) {
        out.warnings.push_back ({ line, "malformed timestamp; cue skipped" });
        continue;
      }
      start_ns = event.Start * G_GINT64_CONSTANT (1000000);
      end_ns = (event.Start + event.Duration) * G_GINT64_CONSTANT (1000000);
    }
    if (end_ns <= start_ns) {
      out.warnings.push_back ({ line, cue_time_problem (start_ns, end_ns) });
      continue;
    }
    RawCue cue;
    cue.start_ns = start_ns;
    cue.end_ns = end_ns;
    cue.markup = event.Text ? event.Text : "";
    cue.kind = MarkupKind::Ass;
    cue.speaker = event.Name ? event.Name : "";
    cue.style = std::move (style);
    cue.line = line;
    out.cues.push_back (std::move (cue));
  }
  if (!options.keep_signs)
    drop_frame_runs (out.cues);
  fail_if_nothing_recovered (out);
  return out;
}

} // namespace ganvoice

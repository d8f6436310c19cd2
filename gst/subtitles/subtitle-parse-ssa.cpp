/* ganvoice: SSA/ASS parsing with libass.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "subtitles/subtitle-lines.h"

#include <ganvoice/subtitle-parse.h>

#include <ass/ass.h>
#include <glib.h>

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
    for (int e = before; e < track->n_events; e++)
      event_lines.push_back (line.number);

    bool is_dialogue = in_events && starts_with_nocase (content, "dialogue:");
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
    if (event.Duration <= 0) {
      out.warnings.push_back (
          { line, "cue ends before it starts; cue skipped" });
      continue;
    }
    if (event.Start < 0 ||
        event.Start / 1000 + event.Duration / 1000 > kMaxTimestampSeconds) {
      out.warnings.push_back ({ line, "malformed timestamp; cue skipped" });
      continue;
    }
    RawCue cue;
    cue.start_ns = event.Start * G_GINT64_CONSTANT (1000000);
    cue.end_ns = (event.Start + event.Duration) * G_GINT64_CONSTANT (1000000);
    cue.markup = event.Text ? event.Text : "";
    cue.kind = MarkupKind::Ass;
    cue.speaker = event.Name ? event.Name : "";
    cue.style = std::move (style);
    cue.line = line;
    out.cues.push_back (std::move (cue));
  }
  fail_if_nothing_recovered (out);
  return out;
}

} // namespace ganvoice

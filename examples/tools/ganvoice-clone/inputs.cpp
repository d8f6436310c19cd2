/* ganvoice-clone: the inputs into takes, and the prompt lists.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "inputs.h"

#include "audio.h"
#include "options.h"

#include <ganvoice/subtitles.h>

#include <glib.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

namespace clonecli {

namespace {

/* The bytes of a file; throws CloneError naming it. */
std::string
read_bytes (const std::string &path, const char *what)
{
  if (g_file_test (path.c_str (), G_FILE_TEST_IS_DIR))
    throw CloneError (path + ": a folder, not " + what);
  gchar *data = NULL;
  gsize size = 0;
  GError *err = NULL;
  if (!g_file_get_contents (path.c_str (), &data, &size, &err)) {
    std::string message =
        g_error_matches (err, G_FILE_ERROR, G_FILE_ERROR_NOENT)
        ? path + ": no such file"
        : path + ": " + err->message;
    g_clear_error (&err);
    throw CloneError (message);
  }
  std::string out (data, size);
  g_free (data);
  return out;
}

/* Bytes in any encoding to UTF-8 lines (the subtitle reader's decoding:
 * BOM, UTF-16, UTF-8, else Windows-1252). */
std::vector<std::string>
text_lines (const std::string &bytes, const std::string &path)
{
  ganvoice::DecodedText decoded = ganvoice::decode_subtitle_text (bytes, "");
  if (!decoded.ok)
    throw CloneError (path + ": " + decoded.error.message);
  std::vector<std::string> lines;
  size_t start = 0;
  const std::string &t = decoded.text;
  while (start <= t.size ()) {
    size_t end = t.find ('\n', start);
    if (end == std::string::npos)
      end = t.size ();
    lines.push_back (t.substr (start, end - start));
    start = end + 1;
  }
  return lines;
}

/* Whitespace (tabs, newlines, runs) to single spaces, trimmed. */
std::string
collapse (const std::string &s)
{
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
        c == '\v') {
      space = !out.empty ();
      continue;
    }
    if (space)
      out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string
join_path (const std::string &dir, const std::string &name)
{
  if (dir.empty () || g_path_is_absolute (name.c_str ()))
    return name;
  gchar *p = g_build_filename (dir.c_str (), name.c_str (), NULL);
  std::string out = p;
  g_free (p);
  return out;
}

/* The entries of a folder (names), in natural order (2 before 10). */
std::vector<std::string>
list_folder (const std::string &dir, const char *option)
{
  if (!g_file_test (dir.c_str (), G_FILE_TEST_EXISTS))
    throw CloneError (dir + ": no such folder (" + option + ")");
  if (!g_file_test (dir.c_str (), G_FILE_TEST_IS_DIR))
    throw CloneError (dir + ": not a folder (" + option + ")");
  GError *err = NULL;
  GDir *d = g_dir_open (dir.c_str (), 0, &err);
  if (!d) {
    std::string message = dir + ": " + err->message;
    g_clear_error (&err);
    throw CloneError (message);
  }
  std::vector<std::pair<std::string, std::string> > keyed;
  while (const gchar *name = g_dir_read_name (d)) {
    gchar *key = g_utf8_collate_key_for_filename (name, -1);
    keyed.emplace_back (key, name);
    g_free (key);
  }
  g_dir_close (d);
  std::sort (keyed.begin (), keyed.end ());
  std::vector<std::string> names;
  for (auto &k : keyed)
    names.push_back (k.second);
  return names;
}

/* "name.wav" to "name"; the extension from the last dot. */
std::string
stem (const std::string &name)
{
  size_t dot = name.rfind ('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr (0, dot);
}

/* "1, 4, 7-12": numbers as ranges. */
std::string
ranges (const std::vector<unsigned> &numbers)
{
  std::string out;
  for (size_t i = 0; i < numbers.size ();) {
    size_t j = i;
    while (j + 1 < numbers.size () && numbers[j + 1] == numbers[j] + 1)
      j++;
    if (!out.empty ())
      out += ", ";
    out += std::to_string (numbers[i]);
    if (j > i)
      out += "-" + std::to_string (numbers[j]);
    i = j + 1;
  }
  return out;
}

} // namespace

std::string
read_text_file (const std::string &path)
{
  std::string text;
  for (const std::string &line : text_lines (read_bytes (path, "a text"), path))
    text += line + "\n";
  return collapse (text);
}

std::string
find_prompt_list (const std::string &arg)
{
  if (g_file_test (arg.c_str (), G_FILE_TEST_IS_REGULAR))
    return arg;
  bool code = !arg.empty () && arg.size () <= 16 &&
      arg.find_first_of ("/\\.") == std::string::npos;
  if (!code)
    throw CloneError (arg + ": no such file");
  std::vector<std::string> dirs;
  const gchar *env = g_getenv ("GANVOICE_PROMPT_DIR");
  if (env && *env)
    dirs.push_back (env);
#ifdef GANVOICE_PROMPT_SOURCE_DIR
  dirs.push_back (GANVOICE_PROMPT_SOURCE_DIR);
#endif
#ifdef GANVOICE_PROMPT_INSTALL_DIR
  dirs.push_back (GANVOICE_PROMPT_INSTALL_DIR);
#endif
  /* "en-us" is looked for as en-us.txt, then en.txt. */
  gchar *lower = g_ascii_strdown (arg.c_str (), -1);
  std::vector<std::string> names = { lower };
  g_free (lower);
  size_t dash = names[0].find_first_of ("-_");
  if (dash != std::string::npos)
    names.push_back (names[0].substr (0, dash));
  std::string looked;
  for (const std::string &name : names) {
    for (const std::string &dir : dirs) {
      std::string path = join_path (dir, name + ".txt");
      if (g_file_test (path.c_str (), G_FILE_TEST_IS_REGULAR))
        return path;
      looked += (looked.empty () ? "" : ", ") + path;
    }
  }
  throw CloneError ("no prompt list for '" + arg + "' (looked for " + looked +
      "; set GANVOICE_PROMPT_DIR, or give the list's file)");
}

PromptList
read_prompt_list (const std::string &path)
{
  PromptList list;
  list.path = path;
  std::vector<std::string> lines =
      text_lines (read_bytes (path, "a prompt list"), path);
  for (size_t i = 0; i < lines.size (); i++) {
    std::string s = collapse (lines[i]);
    if (s.empty () || s[0] == '#')
      continue;
    list.sentences.push_back (s);
    list.lines.push_back (i + 1);
  }
  if (list.sentences.empty ())
    throw CloneError (path +
        ": no sentences (one a line; '#' starts a "
        "comment)");
  return list;
}

std::vector<TakeSource>
folder_takes (const std::string &dir)
{
  std::vector<std::string> names = list_folder (dir, "--folder");
  std::set<std::string> all (names.begin (), names.end ());
  std::map<std::string, std::string> audio_of; /* stem to audio name */
  std::vector<TakeSource> out;
  std::vector<std::string> no_text;
  for (const std::string &name : names) {
    std::string path = join_path (dir, name);
    if (!has_audio_extension (name) ||
        !g_file_test (path.c_str (), G_FILE_TEST_IS_REGULAR))
      continue;
    std::string base = stem (name);
    auto seen = audio_of.find (base);
    if (seen != audio_of.end ())
      throw CloneError (join_path (dir, seen->second) + " and " + path +
          ": two recordings of " + join_path (dir, base + ".txt") +
          "; keep one");
    audio_of[base] = name;
    if (!all.count (base + ".txt")) {
      no_text.push_back (name);
      continue;
    }
    TakeSource t;
    t.path = path;
    t.origin = path;
    t.text = read_text_file (join_path (dir, base + ".txt"));
    out.push_back (t);
  }
  std::vector<std::string> no_audio;
  for (const std::string &name : names)
    if (g_str_has_suffix (name.c_str (), ".txt") &&
        !audio_of.count (stem (name)))
      no_audio.push_back (name);
  auto list = [] (const std::vector<std::string> &v) {
    std::string s;
    for (size_t i = 0; i < v.size () && i < 8; i++)
      s += (i ? ", " : "") + v[i];
    if (v.size () > 8)
      s += strprintf (" and %zu more", v.size () - 8);
    return s;
  };
  if (!no_text.empty ())
    note (dir + ": no NAME.txt beside " + list (no_text) + "; skipped");
  if (!no_audio.empty () && !out.empty ())
    note (dir + ": no recording for " + list (no_audio) + "; skipped");
  if (out.empty ())
    throw CloneError (dir +
        ": no recording with its text (NAME.wav, .flac, .ogg, .mp3... with "
        "NAME.txt beside it)");
  return out;
}

std::vector<TakeSource>
tsv_takes (const std::string &tsv)
{
  std::vector<std::string> lines =
      text_lines (read_bytes (tsv, "a TSV file"), tsv);
  gchar *d = g_path_get_dirname (tsv.c_str ());
  std::string dir = strcmp (d, ".") == 0 ? "" : d;
  g_free (d);
  std::vector<TakeSource> out;
  for (size_t i = 0; i < lines.size (); i++) {
    const std::string &line = lines[i];
    std::string where = tsv + ": line " + std::to_string (i + 1) + ": ";
    std::string trimmed = collapse (line);
    if (trimmed.empty () || trimmed[0] == '#')
      continue;
    size_t tab = line.find ('\t');
    if (tab == std::string::npos)
      throw CloneError (where + "expected 'path<TAB>text', found no tab in '" +
          text_start (trimmed, 40) + "'");
    std::string path = collapse (line.substr (0, tab));
    std::string text = collapse (line.substr (tab + 1));
    if (path.empty ())
      throw CloneError (where + "no audio file before the tab");
    if (text.empty ())
      throw CloneError (where + "no text after the tab");
    TakeSource t;
    t.path = join_path (dir, path);
    if (!g_file_test (t.path.c_str (), G_FILE_TEST_IS_REGULAR))
      throw CloneError (where + t.path + ": no such file");
    t.text = text;
    t.origin = t.path;
    out.push_back (t);
  }
  if (out.empty ())
    throw CloneError (tsv + ": no 'path<TAB>text' lines");
  return out;
}

std::vector<TakeSource>
prompt_takes (const PromptList &list, const std::string &dir)
{
  std::vector<std::string> names = list_folder (dir, "--takes");
  std::map<unsigned, std::string> take_of; /* sentence number to name */
  std::vector<std::string> past_end;
  for (const std::string &name : names) {
    std::string base = stem (name);
    bool digits = !base.empty () && base.size () <= 6 &&
        std::all_of (base.begin (), base.end (),
            [] (char c) { return g_ascii_isdigit (c); });
    if (!digits || !has_audio_extension (name))
      continue;
    unsigned n = std::stoul (base);
    if (n == 0 || n > list.sentences.size ()) {
      past_end.push_back (name);
      continue;
    }
    auto seen = take_of.find (n);
    if (seen != take_of.end ())
      throw CloneError (join_path (dir, seen->second) + " and " +
          join_path (dir, name) + ": two takes of sentence " +
          std::to_string (n) + "; keep one");
    take_of[n] = name;
  }
  if (!past_end.empty ())
    note (dir + ": " + past_end[0] +
        (past_end.size () > 1
                ? strprintf (" and %zu more", past_end.size () - 1)
                : "") +
        strprintf (": %s has sentences 1 to %zu only; skipped",
            list.path.c_str (), list.sentences.size ()));
  if (take_of.empty ())
    throw CloneError (dir + ": no takes of " + list.path +
        " (001.wav or 1.wav for its first sentence, 002.wav for the "
        "second, ...; see --list-prompts)");
  std::vector<unsigned> missing;
  std::vector<TakeSource> out;
  for (unsigned n = 1; n <= list.sentences.size (); n++) {
    auto it = take_of.find (n);
    if (it == take_of.end ()) {
      missing.push_back (n);
      continue;
    }
    TakeSource t;
    t.path = join_path (dir, it->second);
    t.origin = t.path;
    t.text = list.sentences[n - 1];
    out.push_back (t);
  }
  if (!missing.empty ())
    note (strprintf ("%s: no take of sentence%s %s of %s; skipped",
        dir.c_str (), missing.size () == 1 ? "" : "s",
        ranges (missing).c_str (), list.path.c_str ()));
  return out;
}

Transcript
read_transcript (const std::string &path, const std::string &language)
{
  std::string bytes = read_bytes (path, "a transcript");
  ganvoice::DecodedText decoded = ganvoice::decode_subtitle_text (bytes, "");
  if (!decoded.ok)
    throw CloneError (path + ": " + decoded.error.message);
  Transcript t;
  if (ganvoice::detect_subtitle_format (decoded.text) ==
      ganvoice::SubtitleFormat::Unknown) {
    t.text = read_text_file (path);
    if (t.text.empty ())
      throw CloneError (path + ": the transcript is empty");
    return t;
  }
  t.timed = true;
  ganvoice::DocumentOptions options;
  options.language = language;
  ganvoice::CueDocument doc = ganvoice::parse_cue_document (bytes, options);
  if (!doc.ok)
    throw CloneError (path + ": " +
        (doc.error.line ? "line " + std::to_string (doc.error.line) + ": "
                        : std::string ()) +
        doc.error.message);
  for (const ganvoice::Diagnostic &w : doc.warnings)
    note (path + ": " +
        (w.line ? "line " + std::to_string (w.line) + ": " : std::string ()) +
        w.message);
  /* The dialogue turns of one cue, split by the parser, are one take. */
  for (const ganvoice::Cue &c : doc.cues) {
    if (!t.cues.empty () && c.turn > 0 && t.cues.back ().line == c.line) {
      Transcript::Cue &last = t.cues.back ();
      last.start_ns = std::min (last.start_ns, c.start_ns);
      last.end_ns = std::max (last.end_ns, c.end_ns);
      last.text += " " + c.text;
      continue;
    }
    t.cues.push_back ({ c.start_ns, c.end_ns, collapse (c.text), c.line });
  }
  if (t.cues.empty ())
    throw CloneError (path + ": no cue has anything to say");
  return t;
}

} // namespace clonecli

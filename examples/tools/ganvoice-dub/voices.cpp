/* ganvoice-dub: the --voice values, and cloning from audio.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "voices.h"

#include "report.h"

#include <ganvoice/model-paths.h>
#include <ganvoice/pipeline-watchdog.h>
#include <ganvoice/speaker-map.h>
#include <ganvoice/voice-profile.h>

#include <gio/gio.h>
#include <gst/gst.h>

#include <cstdio>
#include <stdexcept>

#include <unistd.h>

namespace dub {

namespace {

/* Is @path an audio (or video) file rather than a voice profile? */
bool
looks_like_media (const std::string &path)
{
  guchar data[4096];
  gsize n = 0;
  FILE *f = fopen (path.c_str (), "rb");
  if (f) {
    n = fread (data, 1, sizeof data, f);
    fclose (f);
  }
  gboolean uncertain = FALSE;
  gchar *type = g_content_type_guess (path.c_str (), data, n, &uncertain);
  gchar *mime = g_content_type_get_mime_type (type);
  bool media = mime &&
      (g_str_has_prefix (mime, "audio/") || g_str_has_prefix (mime, "video/"));
  g_free (mime);
  g_free (type);
  return media;
}

/* decodebin's audio pad to the converter. */
void
link_decoded_audio (GstElement *, GstPad *pad, gpointer convert)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  const GstStructure *s = caps ? gst_caps_get_structure (caps, 0) : NULL;
  bool audio = s && g_str_has_prefix (gst_structure_get_name (s), "audio/");
  if (caps)
    gst_caps_unref (caps);
  GstPad *sink = gst_element_get_static_pad (GST_ELEMENT (convert), "sink");
  if (audio && !gst_pad_is_linked (sink))
    gst_pad_link (pad, sink);
  gst_object_unref (sink);
}

/* Clones a voice: runs @media through speakerembed into a temporary
 * profile, whose path goes to @profile. */
bool
profile_from_audio (App *app, const std::string &media, std::string *profile)
{
  GError *err = NULL;
  gchar *tmp = NULL;
  gint fd = g_file_open_tmp ("ganvoice-dub-voice-XXXXXX.json", &tmp, &err);
  if (fd < 0) {
    fail (app, "cannot make a temporary voice profile: %s", err->message);
    g_clear_error (&err);
    return false;
  }
  close (fd);
  app->temp_profiles.paths.push_back (tmp);
  *profile = tmp;
  g_free (tmp);

  GstElement *pipe = gst_pipeline_new ("ganvoice-dub-clone");
  GstElement *src = gst_element_factory_make ("filesrc", NULL);
  GstElement *dec = gst_element_factory_make ("decodebin", NULL);
  GstElement *conv = gst_element_factory_make ("audioconvert", NULL);
  GstElement *embed = gst_element_factory_make ("speakerembed", NULL);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  if (!src || !dec || !conv || !embed || !sink) {
    fail (app,
        "--voice %s: cloning needs filesrc, decodebin, audioconvert "
        "and speakerembed",
        media.c_str ());
    for (GstElement *e : { src, dec, conv, embed, sink })
      if (e)
        gst_object_unref (e);
    gst_object_unref (pipe);
    return false;
  }
  gchar *name = g_path_get_basename (media.c_str ());
  g_object_set (src, "location", media.c_str (), NULL);
  g_object_set (embed, "location", profile->c_str (), "voice-name", name,
      "language", app->opt.language.c_str (), NULL);
  g_free (name);
  if (!app->opt.acoustic_model.empty ())
    g_object_set (embed, "acoustic-card",
        ganvoice::card_beside (app->opt.acoustic_model).c_str (), NULL);
  if (!app->opt.speaker_encoder.empty ())
    g_object_set (embed, "encoder", app->opt.speaker_encoder.c_str (), NULL);
  gst_bin_add_many (GST_BIN (pipe), src, dec, conv, embed, sink, NULL);
  gst_element_link (src, dec);
  gst_element_link_many (conv, embed, sink, NULL);
  g_signal_connect (dec, "pad-added", G_CALLBACK (link_decoded_audio), conv);

  bool ok = gst_element_set_state (pipe, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE;
  GstMessage *msg = NULL;
  bool stalled = false;
  if (ok) {
    /* --stall-timeout 0: no watchdog, a wait without end. */
    std::string where;
    msg = ganvoice::wait_for_end (pipe,
        app->opt.stall_timeout > 0 ? app->opt.stall_timeout : G_MAXDOUBLE,
        &where);
    if (!msg) {
      fail (app, "--voice %s: reading it made no progress for %.0f s (%s)",
          media.c_str (), app->opt.stall_timeout, where.c_str ());
      ok = false;
      stalled = true;
    }
  }
  if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &err, NULL);
    fail (app, "--voice %s: cannot clone this voice: %s", media.c_str (),
        err ? err->message : "unknown error");
    g_clear_error (&err);
    ok = false;
  } else if (!ok && !stalled) {
    fail (app, "--voice %s: cannot read this file", media.c_str ());
  }
  if (msg)
    gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  if (ok) {
    ok = g_file_test (profile->c_str (), G_FILE_TEST_IS_REGULAR);
    gchar *contents = NULL;
    if (ok &&
        (!g_file_get_contents (profile->c_str (), &contents, NULL, NULL) ||
            !contents || !*contents)) {
      fail (app, "--voice %s: no speech to clone was found", media.c_str ());
      ok = false;
    }
    g_free (contents);
  }
  return ok;
}

/* A --voice target in words: "Allison (built-in)", "Jo (clone)". */
std::string
describe_voice (const std::string &target)
{
  if (!g_file_test (target.c_str (), G_FILE_TEST_IS_REGULAR))
    return target + " (built-in)";
  gchar *base = g_path_get_basename (target.c_str ());
  std::string name = base;
  g_free (base);
  if (looks_like_media (target))
    return name + " (clone of this recording)";
  try {
    std::string n = ganvoice::VoiceProfile::load (target).name;
    if (!n.empty ())
      name = n;
  } catch (const ganvoice::VoiceProfileError &) {
    /* resolve_voices () and the element say what is wrong with it */
  }
  return name + " (clone)";
}

/* A --voice value: SPEAKER=VOICE (true; unless it names an existing
 * file) or VOICE alone (false, @speaker empty). */
bool
split_voice (const std::string &v, std::string *speaker, std::string *target)
{
  size_t eq = v.find ('=');
  if (eq == std::string::npos || g_file_test (v.c_str (), G_FILE_TEST_EXISTS)) {
    speaker->clear ();
    *target = v;
    return false;
  }
  *speaker = v.substr (0, eq);
  *target = v.substr (eq + 1);
  return true;
}

} // namespace

std::string
provenance_note (const Options &opt)
{
  std::string voices;
  bool has_default = false;
  for (const std::string &v : opt.voices) {
    std::string speaker, target;
    split_voice (v, &speaker, &target);
    has_default = has_default || speaker.empty ();
    voices += (voices.empty () ? "" : "; ") +
        (speaker.empty () ? std::string () : speaker + ": ") +
        describe_voice (target);
  }
  if (!has_default)
    voices += std::string (voices.empty () ? "" : "; ") +
        "the model's default voice (built-in)";
  return "Synthetic speech: dubbed with AI voices by ganvoice-dub " +
      std::string (GANVOICE_VERSION) + ". Voices: " + voices + ".";
}

/* Splits --voice values into one voice and a speaker map (its text
 * form, for dubbin's speaker-map). */
bool
resolve_voices (App *app, std::string *voice, std::string *speaker_map)
{
  ganvoice::SpeakerMap speakers;
  for (const std::string &v : app->opt.voices) {
    std::string speaker, target;
    if (split_voice (v, &speaker, &target)) {
      if (speaker.empty () || target.empty ()) {
        fail (app, "--voice %s: expected SPEAKER=VOICE", v.c_str ());
        return false;
      }
    }
    bool is_file = g_file_test (target.c_str (), G_FILE_TEST_IS_REGULAR);
    if (is_file && looks_like_media (target)) {
      std::string profile;
      if (!profile_from_audio (app, target, &profile))
        return false;
      target = profile;
    }
    if (!is_file && target.find ('/') != std::string::npos) {
      fail (app, "--voice %s: no such voice-profile file", target.c_str ());
      return false;
    }
    if (!speaker.empty ()) {
      try {
        speakers.set (speaker, target);
      } catch (const std::invalid_argument &e) {
        fail (app, "--voice %s: %s", v.c_str (), e.what ());
        return false;
      }
    } else if (!voice->empty ()) {
      fail (app,
          "--voice given twice (%s and %s): name one default voice, "
          "and the others as SPEAKER=VOICE",
          voice->c_str (), target.c_str ());
      return false;
    } else {
      *voice = target;
    }
  }
  *speaker_map = speakers.format ();
  return true;
}

} // namespace dub

/* ganvoice: speakerembed, a voice profile from reference speech.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/audio/gstaudiofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_SPEAKER_EMBED (gst_speaker_embed_get_type ())
G_DECLARE_FINAL_TYPE (
    GstSpeakerEmbed, gst_speaker_embed, GST, SPEAKER_EMBED, GstAudioFilter)

/* quick: a profile from measured traits and the speaker encoder (seconds
 * of any speech); deep: the acoustic model fine-tuned on a reading with
 * its transcript (minutes of speech, docs/deep-clone.md). */
typedef enum
{
  GST_SPEAKER_EMBED_MODE_QUICK,
  GST_SPEAKER_EMBED_MODE_DEEP,
} GstSpeakerEmbedMode;

#define GST_TYPE_SPEAKER_EMBED_MODE (gst_speaker_embed_mode_get_type ())
GType gst_speaker_embed_mode_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (speakerembed);

G_END_DECLS

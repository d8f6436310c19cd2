/* ganvoice: speakerembed, a voice profile from reference speech.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/audio/gstaudiofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_SPEAKER_EMBED (gst_speaker_embed_get_type ())
G_DECLARE_FINAL_TYPE (
    GstSpeakerEmbed, gst_speaker_embed, GST, SPEAKER_EMBED, GstAudioFilter)

GST_ELEMENT_REGISTER_DECLARE (speakerembed);

G_END_DECLS

/* ganvoice: duckmix, mixes a dub voice into a programme with ducking.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/audio/gstaudioaggregator.h>

G_BEGIN_DECLS

#define GST_TYPE_DUCK_MIX (gst_duck_mix_get_type ())
G_DECLARE_FINAL_TYPE (
    GstDuckMix, gst_duck_mix, GST, DUCK_MIX, GstAudioAggregator)

#define GST_TYPE_DUCK_MIX_MODE (gst_duck_mix_mode_get_type ())
GType gst_duck_mix_mode_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (duckmix);

G_END_DECLS

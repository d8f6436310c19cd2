/* ganvoice: subcues, subtitles to timed speech cues.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_SUB_CUES (gst_sub_cues_get_type ())
G_DECLARE_FINAL_TYPE (GstSubCues, gst_sub_cues, GST, SUB_CUES, GstElement)

GST_ELEMENT_REGISTER_DECLARE (subcues);

G_END_DECLS

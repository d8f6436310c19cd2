/* ganvoice: dubbin, dubs a programme soundtrack from a subtitle file.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_DUB_BIN (gst_dub_bin_get_type ())
G_DECLARE_FINAL_TYPE (GstDubBin, gst_dub_bin, GST, DUB_BIN, GstBin)

GST_ELEMENT_REGISTER_DECLARE (dubbin);

G_END_DECLS

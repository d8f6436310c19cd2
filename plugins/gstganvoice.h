/* ganvoice: the ganvoice element, timed text to fitted speech.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_GANVOICE (gst_ganvoice_get_type ())
G_DECLARE_FINAL_TYPE (GstGanvoice, gst_ganvoice, GST, GANVOICE, GstElement)

/**
 * GstGanvoiceOverflow:
 * @GST_GANVOICE_OVERFLOW_DEFAULT: natural rate, free time, faster up to
 *   max-rate, then clip with a fade at the next cue
 * @GST_GANVOICE_OVERFLOW_CLIP: natural rate, clipped at the cue end
 * @GST_GANVOICE_OVERFLOW_OVERLAP: as default, but never clipped: overlaps
 *   the next cue's speech
 * @GST_GANVOICE_OVERFLOW_SHIFT: as overlap, but later speech starts after
 *   the earlier ended
 * @GST_GANVOICE_OVERFLOW_COMPRESS: as default, but time-stretched to end at
 *   the next cue instead of clipped
 *
 * What to do with speech too long for its slot (docs/ganvoice-fit.md).
 */
typedef enum
{
  GST_GANVOICE_OVERFLOW_DEFAULT,
  GST_GANVOICE_OVERFLOW_CLIP,
  GST_GANVOICE_OVERFLOW_OVERLAP,
  GST_GANVOICE_OVERFLOW_SHIFT,
  GST_GANVOICE_OVERFLOW_COMPRESS,
} GstGanvoiceOverflow;

GType gst_ganvoice_overflow_get_type (void);
#define GST_TYPE_GANVOICE_OVERFLOW (gst_ganvoice_overflow_get_type ())

/**
 * GstGanvoiceDevice:
 * @GST_GANVOICE_DEVICE_CPU: run the models on the CPU
 * @GST_GANVOICE_DEVICE_CUDA: run them on a CUDA GPU (when built with CUDA)
 */
typedef enum
{
  GST_GANVOICE_DEVICE_CPU,
  GST_GANVOICE_DEVICE_CUDA,
} GstGanvoiceDevice;

GType gst_ganvoice_device_get_type (void);
#define GST_TYPE_GANVOICE_DEVICE (gst_ganvoice_device_get_type ())

GST_ELEMENT_REGISTER_DECLARE (ganvoice);

G_END_DECLS

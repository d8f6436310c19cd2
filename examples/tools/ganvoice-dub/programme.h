/* ganvoice-dub: the programme (the input's soundtrack) on its way
 * into dubbin: continued to the film's end when it ends early.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>

namespace dub {

/* On dubbin's sink pad (buffers and downstream events; user_data: the
 * App): tracks where the programme ends and continues it with a GAP to
 * the film's end. */
GstPadProbeReturn on_programme (
    GstPad *pad, GstPadProbeInfo *info, gpointer user_data);
/* On the silence that stands in for a missing programme: GAP buffers
 * become plain zeros. */
GstPadProbeReturn on_silence_buffer (
    GstPad *pad, GstPadProbeInfo *info, gpointer user_data);

} // namespace dub

/* ganvoice-dub: the run: the bus (errors, cues, the end), the
 * progress bar and JSON progress, the watchdog, and the signals that stop it.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "app.h"

#include <gst/gst.h>

namespace dub {

/* Sets the pipeline to NULL. */
void stop_pipeline (App *app);
/* Ends the main loop. */
void finish (App *app);
/* SIGINT: stops, keeps nothing, exits 130. */
gboolean on_signal (gpointer user_data);
/* SIGTERM: the same, exits 143. */
gboolean on_sigterm (gpointer user_data);
/* Every 500 ms: progress, and the watchdog's check. */
gboolean on_progress (gpointer user_data);
/* On dubbin's src pad: how far the dub is. */
GstPadProbeReturn on_dub_buffer (
    GstPad *pad, GstPadProbeInfo *info, gpointer user_data);
/* The pipeline's bus: errors, warnings, cue reports and the end, where
 * the temporary file becomes OUTPUT. */
gboolean on_bus (GstBus *bus, GstMessage *msg, gpointer user_data);

} // namespace dub

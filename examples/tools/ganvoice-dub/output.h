/* ganvoice-dub: the output file: its container, from its name, and
 * the temporary OUTPUT.partXXXXXX beside it that becomes OUTPUT at the end
 * or is removed.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "app.h"

namespace dub {

/* The container from OUTPUT's name; fails on a name it does not know, and
 * on --embed-subtitles for anything but Matroska. */
bool choose_container (App *app);
/* Makes app->temp: OUTPUT.partXXXXXX beside OUTPUT. */
bool make_temp (App *app);
/* Removes app->temp, if any: nothing half-written is kept. */
void remove_temp (App *app);

} // namespace dub

/* ganvoice: dubbing videos from their subtitles with neural voices.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>

/* The library is built with hidden visibility; this exports its API. */
#if defined(__GNUC__)
#define GANVOICE_API __attribute__ ((visibility ("default")))
#else
#define GANVOICE_API
#endif

/* ganvoice: a problem found in an input file, with its line.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/ganvoice-prelude.h>

#include <string>

namespace ganvoice {

/* A problem found in the input. line is 1-based; 0 when it has no line. */
struct Diagnostic {
  unsigned line = 0;
  std::string message;
};

} // namespace ganvoice

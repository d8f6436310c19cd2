/* ganvoice-dub: opus_encoder_get_size(), remembered.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * opusenc encodes through libopus's multistream API, and Debian 12's
 * libopus (1.3.1) asks opus_encoder_get_size() where each stream's encoder
 * lies twice per 20 ms frame; each call runs CPUID, which on a virtual
 * machine traps to the hypervisor (about 18 µs here). That was a quarter of
 * the dub's Opus encode: 10 minutes of stereo took 5.6 s of CPU to decode
 * and encode, 4.4 s with the sizes remembered, bit for bit the same
 * packets (docs/benchmarks.md, issue 18).
 *
 * The size is a constant of the library for a channel count, so this
 * definition, exported from the executable (meson: the dynamic list
 * opus-size.map), comes first in the symbol lookup of libopus's own calls
 * (they go through its PLT): it asks libopus once per channel count and
 * remembers. Any other program is untouched. */
#include <dlfcn.h>

#include <atomic>

namespace {

using GetSize = int (*) (int);

GetSize
library_get_size ()
{
  static std::atomic<GetSize> real{ nullptr };
  GetSize f = real.load ();
  if (f == nullptr) {
    /* libopus is loaded: it is the caller. dlsym on its handle searches
     * it before anything else, so this finds its own definition. */
    void *lib = dlopen ("libopus.so.0", RTLD_LAZY | RTLD_NOLOAD);
    if (lib == nullptr)
      lib = dlopen ("libopus.so.0", RTLD_LAZY);
    if (lib != nullptr)
      f = reinterpret_cast<GetSize> (dlsym (lib, "opus_encoder_get_size"));
    real.store (f);
  }
  return f;
}

} // namespace

extern "C" __attribute__ ((visibility ("default"))) int
opus_encoder_get_size (int channels)
{
  static std::atomic<int> sizes[3] = { { 0 }, { 0 }, { 0 } };
  const bool known = channels == 1 || channels == 2;
  if (known) {
    int size = sizes[channels].load (std::memory_order_relaxed);
    if (size > 0)
      return size;
  }
  GetSize f = library_get_size ();
  /* Without the library's definition (never: libopus is the caller),
   * 0 is what libopus itself answers for a channel count it refuses. */
  int size = f != nullptr && f != &opus_encoder_get_size ? f (channels) : 0;
  if (known && size > 0)
    sizes[channels].store (size, std::memory_order_relaxed);
  return size;
}

/* ganvoice: LibTorch set-up shared by the model runtimes.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "runtime/torch-runtime.h"

#include <ganvoice/vocoder.h>

#include <ATen/Parallel.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include <glib.h>

#ifdef __GLIBC__
#include <dlfcn.h>
#include <malloc.h>
#endif

#include <mutex>

namespace ganvoice {

std::string
torch_error_gist (const char *what)
{
  std::string text (what ? what : "");
  size_t error = text.rfind ("Error: ");
  if (error != std::string::npos)
    text = text.substr (error + 7);
  size_t nl = text.find ('\n');
  return (nl == std::string::npos ? text : text.substr (0, nl)).substr (0, 300);
}

torch::Device
select_device (const std::string &device)
{
  if (device == "cuda") {
    if (!vocoder_cuda_available ())
      throw ModelError ("device \"cuda\" asked for, but this build of ganvoice "
                        "or LibTorch has no usable CUDA");
    return torch::Device (torch::kCUDA);
  }
  if (device != "cpu")
    throw ModelError (
        "unknown device \"" + device + "\" (use \"cpu\" or \"cuda\")");
  return torch::Device (torch::kCPU);
}

#ifdef __GLIBC__
/* Debian's LibTorch does its matrix products in the system BLAS, OpenBLAS
 * (libopenblas0-pthread), which keeps its own pool of one thread per core
 * whatever at::set_num_threads says. Its spare thread competes with the
 * pipeline's other threads; this sets the pool to the same count. */
static void
match_blas_threads (int threads)
{
  if (g_getenv ("GANVOICE_KEEP_BLAS_THREADS") != nullptr)
    return;
  void *blas = dlopen ("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD);
  if (blas == nullptr)
    return; /* another BLAS, or none loaded */
  using SetThreads = void (*) (int);
  auto set =
      reinterpret_cast<SetThreads> (dlsym (blas, "openblas_set_num_threads"));
  if (set != nullptr)
    set (threads);
  dlclose (blas);
}
#endif

void
configure_torch (int threads)
{
  if (threads > 0) {
    at::set_num_threads (threads);
#ifdef __GLIBC__
    match_blas_threads (threads);
#endif
  }
  if (g_getenv ("GANVOICE_TORCH_PROFILING") == nullptr)
    torch::jit::getProfilingMode () = false;
#ifdef __GLIBC__
  /* The vocoder's post-filter allocates a dozen 2–4 MiB tensors per call;
   * with glibc's adaptive thresholds they were unmapped and faulted in
   * again every time (half the run time was system time). */
  static std::once_flag malloc_once;
  std::call_once (malloc_once, [] () {
    if (g_getenv ("GANVOICE_KEEP_MALLOC") == nullptr) {
      mallopt (M_MMAP_THRESHOLD, 32 << 20);
      mallopt (M_TRIM_THRESHOLD, 128 << 20);
    }
  });
#endif
}

torch::jit::Module
load_torchscript (const std::string &path, torch::Device device)
{
  if (!g_file_test (path.c_str (), G_FILE_TEST_IS_REGULAR))
    throw ModelError ("model file not found: " + path);
  try {
    torch::jit::Module module = torch::jit::load (path, device);
    module.eval ();
    return module;
  } catch (const std::exception &e) {
    throw ModelError ("cannot load the TorchScript model " + path +
        " (corrupt, or not TorchScript): " + torch_error_gist (e.what ()));
  }
}

} // namespace ganvoice

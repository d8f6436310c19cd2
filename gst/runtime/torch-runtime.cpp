/* ganvoice: LibTorch set-up shared by the model runtimes.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "runtime/torch-runtime.h"

#include <ganvoice/vocoder.h>

#include <ATen/Parallel.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include <glib.h>
#include <gst/gst.h>

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

/* OpenBLAS picks its kernels from the CPU's family and model. A model
 * newer than the library (0.3.21 in Debian 12 does not know family 6
 * model 207, say, or a VM's masked one) falls back to its oldest 64-bit
 * kernels, "Prescott" (SSE3), which do the vocoder's and the acoustic
 * model's products 5–7x slower than the AVX2 ones. Where that happened on
 * a CPU with AVX2 and FMA, and nobody chose a core type
 * (OPENBLAS_CORETYPE), this selects "SkylakeX" (AVX-512) when the CPU and
 * the OS have AVX-512 F, BW, DQ and VL, else "Haswell" (AVX2/FMA), through
 * OpenBLAS's own dynamic-arch entry points, before any model runs (the
 * vocoder: 22 % less CPU with SkylakeX than Haswell on family 6 model 207;
 * docs/benchmarks.md). GANVOICE_KEEP_BLAS_CORE=1 opts out. */
static void
select_blas_kernels ()
{
  if (g_getenv ("GANVOICE_KEEP_BLAS_CORE") != nullptr ||
      g_getenv ("OPENBLAS_CORETYPE") != nullptr)
    return;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init ();
  if (!__builtin_cpu_supports ("avx2") || !__builtin_cpu_supports ("fma"))
    return;
  void *blas = dlopen ("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD);
  if (blas == nullptr)
    return;
  using CoreName = char *(*) ();
  using Hook = void (*) ();
  auto corename =
      reinterpret_cast<CoreName> (dlsym (blas, "openblas_get_corename"));
  auto quit = reinterpret_cast<Hook> (dlsym (blas, "gotoblas_dynamic_quit"));
  auto init = reinterpret_cast<Hook> (dlsym (blas, "gotoblas_dynamic_init"));
  const char *core = corename ? corename () : nullptr;
  if (core != nullptr && quit != nullptr && init != nullptr &&
      g_ascii_strcasecmp (core, "prescott") == 0) {
    /* libgcc's CPU check includes the OS saving the AVX-512 state. */
    const bool avx512 = __builtin_cpu_supports ("avx512f") &&
        __builtin_cpu_supports ("avx512bw") &&
        __builtin_cpu_supports ("avx512dq") &&
        __builtin_cpu_supports ("avx512vl");
    /* gotoblas_dynamic_init reads the variable; it stays set, so that
     * child processes (Python recipes, say) get the same kernels. */
    g_setenv ("OPENBLAS_CORETYPE", avx512 ? "SkylakeX" : "Haswell", FALSE);
    quit ();
    init ();
    core = corename ();
    if (gst_is_initialized ()) {
      GST_DEBUG_CATEGORY_STATIC (runtime_debug);
      GST_DEBUG_CATEGORY_INIT (
          runtime_debug, "ganvoice-runtime", 0, "ganvoice model runtime");
      GST_CAT_INFO (runtime_debug,
          "OpenBLAS had fallen back to its Prescott kernels on a CPU with "
          "AVX2%s: now %s",
          avx512 ? " and AVX-512" : "", core ? core : "?");
    }
  }
  dlclose (blas);
#endif
}
#endif

void
configure_torch (int threads)
{
  /* Models may load on two threads at once (Synthesizer::load). */
  static std::mutex configure_lock;
  std::lock_guard<std::mutex> guard (configure_lock);
#ifdef __GLIBC__
  static std::once_flag blas_once;
  std::call_once (blas_once, select_blas_kernels);
#endif
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

/* ganvoice: LibTorch set-up shared by the model runtimes (private).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <ganvoice/model-card.h>

#include <torch/script.h>

#include <string>

namespace ganvoice {

/* The gist of a Torch message: its last "Error:" line, or its first line. */
std::string torch_error_gist (const char *what);

/* "cpu", or "cuda" where available; throws ModelError otherwise. */
torch::Device select_device (const std::string &device);

/* Process-wide LibTorch settings: intra-op @threads (0 leaves them), and no
 * profiling executor, which re-specialises graphs for every new input
 * length (every cue and chunk has another; GANVOICE_TORCH_PROFILING=1
 * keeps it for experiments). Once per process it also raises glibc's mmap
 * and trim thresholds (32 and 128 MiB), so the models' multi-MiB
 * temporaries reuse heap memory instead of being mapped and zeroed anew on
 * every call; GANVOICE_KEEP_MALLOC=1 leaves the host's malloc settings.
 * With @threads set, an OpenBLAS already loaded (Debian's LibTorch uses it)
 * gets the same thread count; GANVOICE_KEEP_BLAS_THREADS=1 leaves it. */
void configure_torch (int threads);

/* Loads a TorchScript file in eval mode; ModelError when it is missing or
 * not TorchScript. */
torch::jit::Module load_torchscript (
    const std::string &path, torch::Device device);

} // namespace ganvoice

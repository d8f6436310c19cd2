"""Thread set-up shared by the Python benches, as the C++ runtime does it (gst/runtime/torch-runtime.cpp)."""
import ctypes
import os

import torch


def set_threads(threads):
    """LibTorch's intra-op threads, and the same count for OpenBLAS's own pool: Debian's torch
    multiplies matrices in OpenBLAS, whose pool ignores torch.set_num_threads.
    GANVOICE_KEEP_BLAS_THREADS=1 leaves the pool as it is."""
    torch.set_num_threads(threads)
    if os.environ.get("GANVOICE_KEEP_BLAS_THREADS") is not None:  # set at all, as in C++
        return
    try:
        ctypes.CDLL("libopenblas.so.0", mode=os.RTLD_NOLOAD).openblas_set_num_threads(threads)
    except (OSError, AttributeError):
        pass  # another BLAS

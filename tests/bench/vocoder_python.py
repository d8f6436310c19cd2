#!/usr/bin/python3
"""Python reference speed bench of the shipped vocoder (compare the C++ runtime against it).

  PYTHONPATH=. /usr/bin/python3 tests/bench/vocoder_python.py [--threads 2] [--seconds 10] [--runs 5]

(from the repository root: PYTHONPATH makes the recipes' package `models` importable).

Loads models/vocoder/vocoder.ts with the system torch, vocodes the log-mel of
--seconds of a deterministic synthetic voice-like signal (computed with the shared
front-end models/common/mel.py) --runs times after --warmup runs, and prints one
JSON line: real-time factor (compute time / audio time) and peak RSS.
"""
import argparse
import json
import math
import os
import resource
import time

import torch

from models.common.mel import CFG, MelSpectrogram
from torch_threads import set_threads

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def synthetic_voice(seconds, sr=CFG.sample_rate):
    t = torch.arange(int(seconds * sr), dtype=torch.float64) / sr
    f0 = 140.0 + 40.0 * torch.sin(2 * math.pi * 0.7 * t)           # gliding pitch
    phase = 2 * math.pi * torch.cumsum(f0, 0) / sr
    x = sum(torch.sin(k * phase) / k for k in range(1, 30))
    env = 0.5 + 0.5 * torch.sin(2 * math.pi * 3.0 * t).clamp(min=0)  # syllable-like envelope
    g = torch.Generator().manual_seed(0)
    x = 0.3 * env * x / x.abs().max() + 0.01 * torch.randn(t.shape, generator=g, dtype=torch.float64)
    return x.float()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(REPO, "models", "vocoder", "vocoder.ts"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_interop_threads(1)
    set_threads(a.threads)
    mel = MelSpectrogram(CFG)(synthetic_voice(a.seconds)[None]).contiguous()  # [1, 80, frames]
    model = torch.jit.load(a.model, map_location="cpu")
    model.eval()
    # As the C++ runtime does: freeze the shipped (unfrozen) module.
    model = torch.jit.freeze(model)
    audio_s = mel.shape[-1] * CFG.hop / CFG.sample_rate
    times = []
    with torch.inference_mode():
        for i in range(a.warmup + a.runs):
            t0 = time.perf_counter()
            y = model(mel)
            dt = time.perf_counter() - t0
            if i >= a.warmup:
                times.append(dt)
    assert y.shape == (1, mel.shape[-1] * CFG.hop), y.shape
    times.sort()
    print(json.dumps({
        "bench": "vocoder_python", "model": os.path.relpath(a.model, REPO), "torch": torch.__version__,
        "threads": a.threads, "audio_s": round(audio_s, 3), "frames": mel.shape[-1], "runs": a.runs,
        "rtf_median": round(times[len(times) // 2] / audio_s, 5), "rtf_min": round(times[0] / audio_s, 5),
        "rtf_mean": round(sum(times) / len(times) / audio_s, 5),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "cpu": os.cpu_count(),
    }))


if __name__ == "__main__":
    main()

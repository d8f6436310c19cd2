#!/usr/bin/python3
"""Generates the tiny models the tests use (no training: seeded weights).

  /usr/bin/python3 tests/models/make_test_models.py tests/models

tiny-vocoder.ts: log-mel [1, 8, T] -> audio [1, T*16], two convolutions
(receptive field +-2 frames), with the card tiny-vocoder.json. Tests derive
broken variants (wrong hop, wrong n_mels, corrupt bytes) from these.
"""
import json
import os
import sys

import torch
from torch import nn

N_MELS = 8
HOP = 16


class TinyVocoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.pre = nn.Conv1d(N_MELS, 16, 3, padding=1)
        self.post = nn.Conv1d(16, HOP, 3, padding=1)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = torch.tanh(self.pre(mel))
        x = torch.tanh(self.post(x))                  # [1, HOP, T]
        return x.transpose(1, 2).reshape(mel.shape[0], -1)


def main(out_dir):
    torch.manual_seed(1234)
    model = TinyVocoder().eval()
    scripted = torch.jit.script(model)
    scripted.save(os.path.join(out_dir, "tiny-vocoder.ts"))
    card = {
        "name": "tiny-vocoder",
        "kind": "vocoder",
        "version": "1",
        "sample_rate": 16000,
        "n_fft": 64,
        "hop": HOP,
        "win": 64,
        "n_mels": N_MELS,
        "fmin": 0.0,
        "fmax": 8000.0,
        "mel": {"scale": "slaney", "norm": "slaney", "clamp": 1e-5},
        "f0_input": False,
        "inputs": [{"name": "mel", "shape": [1, N_MELS, "frames"], "dtype": "float32"}],
        "outputs": [{"name": "audio", "shape": [1, "frames*16"], "dtype": "float32"}],
        "training_data": "none: seeded random weights, for tests only",
    }
    with open(os.path.join(out_dir, "tiny-vocoder.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))

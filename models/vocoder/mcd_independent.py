"""Diagnostic: MCD from an analysis independent of the vocoder's mel.

evaluate_vocoder.py computes MCD on the same 80-band, 1024/256 log-mel that the
Griffin-Lim baseline is fitted to, which favours Griffin-Lim. This script
measures both against the real audio with another front-end: 40 HTK mel
bands up to 7.6 kHz from a 512-point (23 ms) STFT with a 110-sample (5 ms)
hop, cepstra c1..c24, frames within 40 dB of the loudest.

  /usr/bin/python3 -m models.vocoder.mcd_independent [--per-set 4]
"""
import argparse
import math
import os
import random

import numpy as np
import torch

from models.common.audio import decode, trim
from models.common.mel import CFG, MelSpectrogram, htk_filterbank
from models.vocoder import evaluate_vocoder as E


FB = torch.tensor(htk_filterbank(22050, 512, 40, 0.0, 7600))
D = E.dct_matrix(40, 25)


def cep(x):
    S = torch.stft(x.double(), 512, 110, 512, torch.hann_window(512, dtype=torch.float64), return_complex=True).abs()**2
    m = torch.log10((FB @ S).clamp(min=1e-10))
    return (D @ m)[1:], 10 * torch.log10(S.sum(0) + 1e-12)


def mcd_ind(x, y):
    cx, ex = cep(x)
    cy, _ = cep(y)
    n = min(cx.shape[1], cy.shape[1])
    keep = (ex[:n] > ex.max() - 40)
    d = (cx[:, :n] - cy[:, :n])[:, keep]
    return float((10 / math.log(10)) * math.sqrt(2) * torch.sqrt((d * d * (math.log(10)**2)).sum(0)).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--per-set', type=int, default=4)
    ap.add_argument('--root', default='/var/tmp/ganvoice')
    a = ap.parse_args()
    torch.set_num_threads(1)
    sets = E.heldout_sets(os.path.join(a.root, 'data'))
    voc = torch.jit.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'vocoder.ts'))
    voc.eval()
    mel_fn = MelSpectrogram(CFG)
    for name, files in sets.items():
        files = list(files)
        random.Random(0).shuffle(files)
        res = {'voc': [], 'gl': []}
        used = 0
        for f in files:
            if used >= a.per_set:
                break
            x = trim(decode(f))
            if len(x) < 22050 or len(x) > 8 * 22050:
                continue
            x = x[:len(x) // 256 * 256]
            x = x / max(1e-3, np.abs(x).max()) * 0.8
            xt = torch.from_numpy(x.astype(np.float32))
            with torch.inference_mode():
                m = mel_fn(xt[None])[0]
                yv = voc(m[None])[0]
            yg = E.griffin_lim(m, len(x), iters=64)
            res['voc'].append(mcd_ind(xt, yv))
            res['gl'].append(mcd_ind(xt, yg.float()))
            used += 1
        print(name, 'MCD(indep. 40-HTK-mel, 23ms/5ms) vocoder %.2f  griffin-lim %.2f' %
              (np.mean(res['voc']), np.mean(res['gl'])), flush=True)


if __name__ == "__main__":
    main()

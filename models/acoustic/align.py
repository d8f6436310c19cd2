"""Stage 1: learn each utterance's phoneme durations from the data.

  /usr/bin/python3 -m models.acoustic.align [--data /var/tmp/ganvoice/acoustic/dataset.pt]
      [--out /var/tmp/ganvoice/acoustic/align/durations.pt] [--iterations 8]

Flat-start Viterbi training, as HTK does it, with monotonic alignment search
(MAS) as the Viterbi step:
  1. every utterance starts from the beta-binomial diagonal (durations in
     proportion to position);
  2. one diagonal Gaussian per (speaker, phoneme) is estimated from the
     frames aligned to it (features: 20 mel-cepstra and their deltas,
     mean-normalised per utterance), backed off to the phoneme over all
     speakers when a pair has few frames;
  3. MAS finds the monotonic path through each utterance's [frames x
     phonemes] log-likelihood that maximises the total, every phoneme
     getting at least one frame; that path gives new durations;
  4. repeat 2-3.
Stress (ˈ ˌ) and length (ː) marks are not sounds of their own: they get 0
frames and the encoder passes their meaning to the neighbouring phonemes.

Writes a dict with `durations` (one int64 tensor per utterance, frames per
phoneme, summing to its mel length), which train.py --durations uses.
Takes about a minute per iteration on one core.
"""
import argparse
import os
import time

import numpy as np
import torch

from models.acoustic.model import beta_binomial_prior, mas

ZERO_FRAME_SYMBOLS = ("ˈ", "ˌ", "ː")
N_CEPS = 20


def features(mel):
    """log-mel [80, T] -> mean-normalised mel-cepstra + deltas [T, 2*N_CEPS]."""
    x = mel.float().numpy().T  # [T, 80]
    n = x.shape[1]
    k = np.arange(n)
    dct = np.cos(np.pi / n * (k[None, :] + 0.5) * np.arange(N_CEPS)[:, None])  # [C, 80]
    c = x @ dct.T
    c = c - c.mean(axis=0, keepdims=True)
    pad = np.pad(c, ((2, 2), (0, 0)), mode="edge")
    d = (2 * (pad[4:] - pad[:-4]) + (pad[3:-1] - pad[1:-3])) / 10.0
    return np.concatenate([c, d], axis=1).astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/var/tmp/ganvoice/acoustic/dataset.pt")
    ap.add_argument("--out", default="/var/tmp/ganvoice/acoustic/align/durations.pt")
    ap.add_argument("--iterations", type=int, default=8)
    ap.add_argument("--min-frames", type=int, default=200, help="per (speaker, phoneme) before backing off")
    a = ap.parse_args()
    data = torch.load(a.data)
    items, phonemes, speakers = data["items"], data["phonemes"], data["speakers"]
    zero = {phonemes.index(s) for s in ZERO_FRAME_SYMBOLS if s in phonemes}
    P, S, D = len(phonemes), len(speakers), 2 * N_CEPS
    feats, sound_ids, keeps = [], [], []
    for it in items:
        ids = it["ids"].long().numpy()
        keep = np.array([i not in zero for i in ids])
        feats.append(features(it["mel"]))
        sound_ids.append(ids[keep])
        keeps.append(keep)
    # flat start: the prior's own MAS path
    durs = [mas(beta_binomial_prior(len(s), f.shape[0]).numpy()) for s, f in zip(sound_ids, feats)]
    gvar = np.var(np.concatenate(feats[:500]), axis=0) + 1e-3
    for iteration in range(a.iterations):
        t0 = time.time()
        # M step: statistics per (speaker, phoneme) and per phoneme
        s1 = np.zeros((S, P, D))
        s2 = np.zeros((S, P, D))
        cnt = np.zeros((S, P))
        for it, f, ids, d in zip(items, feats, sound_ids, durs):
            seg = np.repeat(ids, d)
            spk = it["speaker_id"]
            np.add.at(s1[spk], seg, f)
            np.add.at(s2[spk], seg, f * f)
            np.add.at(cnt[spk], seg, 1)
        all_c = cnt.sum(0)
        all_m = s1.sum(0) / np.maximum(all_c, 1)[:, None]
        all_v = s2.sum(0) / np.maximum(all_c, 1)[:, None] - all_m ** 2
        w = (cnt / (cnt + a.min_frames))[:, :, None]  # trust the pair's own data by its amount
        own_m = s1 / np.maximum(cnt, 1)[:, :, None]
        own_v = s2 / np.maximum(cnt, 1)[:, :, None] - own_m ** 2
        mean = w * own_m + (1 - w) * all_m[None]
        var = w * own_v + (1 - w) * all_v[None]
        var = np.maximum(var, 0.05 * gvar[None, None])
        var = np.where(all_c[None, :, None] > 0, var, gvar[None, None])
        logdet = np.log(var).sum(-1)
        # E step (Viterbi): MAS over each utterance's log-likelihoods
        total, frames = 0.0, 0
        new = []
        for it, f, ids in zip(items, feats, sound_ids):
            m, v, ld = mean[it["speaker_id"], ids], var[it["speaker_id"], ids], logdet[it["speaker_id"], ids]
            ll = -0.5 * ((((f[:, None, :] - m[None]) ** 2) / v[None]).sum(-1) + ld[None])  # [T, N]
            d = mas(ll)
            new.append(d)
            ends = np.cumsum(d)
            total += float(ll[np.arange(f.shape[0]), np.searchsorted(ends, np.arange(f.shape[0]), side="right")].sum())
            frames += f.shape[0]
        changed = np.mean([np.abs(np.cumsum(x) - np.cumsum(y)).mean() for x, y in zip(durs, new)])
        durs = new
        print(f"iteration {iteration + 1}: log-likelihood/frame {total / frames:.2f}, "
              f"boundaries moved {changed:.2f} frames on average, {time.time() - t0:.0f} s", flush=True)
    out = []
    for d, keep in zip(durs, keeps):
        full = np.zeros(len(keep), dtype=np.int64)
        full[keep] = d
        out.append(torch.from_numpy(full))
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    torch.save(dict(durations=out, iterations=a.iterations, method="flat-start Viterbi (MAS) on Gaussians"), a.out)
    print(f"wrote {a.out}: durations for {len(out)} utterances", flush=True)


if __name__ == "__main__":
    main()

"""Compare settings of the mel-consistency post-filter on the held-out copy-synthesis set.

  /usr/bin/python3 -m models.vocoder.sweep_post_filter [--per-set 40] \
      '{"iters": 10, "alpha": 1.5, "momentum": 0.4}' '{"iters": 16, "alpha": 1.8, "momentum": 0.5}'

The utterances are evaluate_vocoder.py's (same selection, same metrics). The generator runs once per
utterance; each setting then only re-runs the post-filter on its output, so a setting takes
seconds. The utterances, their mels and Griffin-Lim A's metrics are cached (outside the repo)
in --cache. Prints, per setting, each metric's all-set mean beside Griffin-Lim A's, the 95 %
paired bootstrap interval of the difference, and the per-set means.
"""
import argparse
import json
import os
import pickle
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from models.common.mel import CFG, MelSpectrogram, mel_filterbank
from models.vocoder import evaluate_vocoder as E
from models.vocoder.model import MelConsistencyFilter, build_generator

HERE = os.path.dirname(os.path.abspath(__file__))


def utterance_metrics(mel_fn, u, y):
    with torch.inference_mode():
        my = mel_fn(y[None].float())[0]
    return dict({"mrstft": E.mr_stft(u["x"], y), "mcd": E.mcd(u["m"], my, u["keep"])}, **E.f0_metrics(u["x"], y))


def held_out(root, per_set, mel_fn):
    sets = E.heldout_sets(os.path.join(root, "data"))
    out = {}
    for name, files in sets.items():
        utts = []
        for x in E.held_out_utterances(files, per_set):
            xt = torch.from_numpy(x.astype(np.float32))
            with torch.inference_mode():
                m = mel_fn(xt[None])[0]
            u = {"x": xt, "m": m, "keep": E.loud_frames(m)}
            u["griffin_lim"] = utterance_metrics(mel_fn, u, E.griffin_lim(m, len(x)))
            utts.append(u)
        out[name] = utts
        print(f"{name}: {len(utts)} utterances", file=sys.stderr, flush=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("settings", nargs="+", help='JSON: {"iters": N, "alpha": A, "momentum": M[, "max_db": D]}')
    ap.add_argument("--root", default="/var/tmp/ganvoice")
    ap.add_argument("--model", default=os.path.join(HERE, "vocoder.ts"), help="the generator's weights come from here")
    ap.add_argument("--per-set", type=int, default=40)
    ap.add_argument("--cache", default=None, help="default: ROOT/post-filter-sweep-PER_SET.pkl")
    a = ap.parse_args()
    torch.set_num_threads(1)
    mel_fn = MelSpectrogram(CFG)
    cache = a.cache or os.path.join(a.root, f"post-filter-sweep-{a.per_set}.pkl")
    if os.path.exists(cache):
        sets = pickle.load(open(cache, "rb"))
    else:
        sets = held_out(a.root, a.per_set, mel_fn)
        pickle.dump(sets, open(cache, "wb"))

    gen = build_generator()
    state = torch.jit.load(a.model, map_location="cpu").state_dict()
    gen.load_state_dict({k: v for k, v in state.items() if k in gen.state_dict()})
    gen.eval()
    pad = torch.jit.load(a.model, map_location="cpu").edge_pad  # the exported model's edge padding
    raw = {}
    with torch.inference_mode():
        for name, utts in sets.items():
            raw[name] = []
            for u in utts:
                m = F.pad(u["m"][None], (pad, pad), mode="replicate")
                re, im = gen.spectrum(m)
                y = torch.istft(torch.complex(re, im), CFG.n_fft, hop_length=CFG.hop, win_length=CFG.win,
                                window=gen.window, center=True, length=m.shape[-1] * CFG.hop)
                raw[name].append((y, m))

    fb = mel_filterbank(CFG)
    for text in a.settings:
        s = json.loads(text)
        post = MelConsistencyFilter(fb, CFG.n_fft, CFG.hop, s["iters"], s["alpha"], s.get("max_db", 40.0),
                                    s.get("momentum", 0.0))
        t0 = time.time()
        rows = {}
        with torch.inference_mode():
            for name, utts in sets.items():
                rows[name] = {"vocoder": [], "griffin_lim": [u["griffin_lim"] for u in utts]}
                for u, (y, m) in zip(utts, raw[name]):
                    z = post(y, m)[0, pad * CFG.hop: pad * CFG.hop + u["x"].shape[0]]
                    rows[name]["vocoder"].append(utterance_metrics(mel_fn, u, z))
        print(f"{json.dumps(s)} ({time.time() - t0:.0f} s)")
        for metric in E.METRICS:
            mean = {k: float(np.mean([np.nanmean([r[metric] for r in rows[n][k]]) for n in rows]))
                    for k in ("vocoder", "griffin_lim")}
            lo, hi = E.paired_interval(rows, "vocoder", "griffin_lim", metric)
            per = "  ".join(f"{n} {np.nanmean([r[metric] for r in rows[n]['vocoder']]):.4f}" for n in rows)
            print(f"  {metric:8s} {mean['vocoder']:.4f} (Griffin-Lim A {mean['griffin_lim']:.4f}), "
                  f"difference in [{lo:+.4f}, {hi:+.4f}] | {per}", flush=True)


if __name__ == "__main__":
    main()

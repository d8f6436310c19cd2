"""Copy-synthesis evaluation of models/vocoder/vocoder.ts on held-out recordings.

  /usr/bin/python3 -m models.vocoder.evaluate_vocoder [--per-set 40]

Held-out sets (fetched by prepare_data.py --heldout-only, never trained on):
  es-co       asterisk-prompt-es-co            (GSM 8 kHz, upsampled to 22050)
  fr-armelle  asterisk-prompt-fr-armelle       (GSM 8 kHz)
  it-menardi  asterisk-prompt-it-menardi-wav   (PCM 8 kHz)
  cs-fillets  fillets-ng-data-cs               (Vorbis 22.05 kHz, many characters)
  en-conf     asterisk-core-sounds-en-g722 conf-* (G.722 16 kHz; excluded from training)

real audio -> log-mel (models/common/mel.py MelSpectrogram) -> (a) vocoder, (b) Griffin-Lim
(mel inverted by non-negative least squares, then 64 iterations of fast Griffin-Lim,
momentum 0.99, with the same STFT framing).  Metrics, real vs resynthesis, on the
frames where the real signal is within 50 dB of its loudest frame:
  MR-STFT : mean over (n_fft, hop) in (512,128), (1024,256), (2048,512) of
            spectral convergence + mean |log|X| - log|Y||  (lower is better)
  MCD     : mel-cepstral distortion in dB, c1..c24 = DCT-II (ortho) of the 80 natural-log mels,
            10/ln(10) * sqrt(2 * sum_d (c_d - c'_d)^2), averaged over frames
  F0 RMSE : Hz, YIN (models/common/pitch.py: threshold 0.15, 60-500 Hz, 1024-sample frames, hop 256),
            frames voiced in both
  GPE     : share of those frames more than 20 % off (gross pitch errors: octave jumps and the like)
  FPE     : F0 RMSE over the rest (fine pitch error)
  V/UV    : fraction of frames whose voicing decision differs
"Clearly better" on a metric: the 95 % bootstrap interval of the paired difference (vocoder minus
Griffin-Lim, utterances resampled within each set) lies below zero.
Writes the table to stdout, metrics into vocoder.json and the picture
docs/img/vocoder-spectrograms.png.  No held-out audio is written into the repo.
"""
import argparse
import glob
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch

from models.common.audio import decode, trim, write_wav
from models.common.data import HELDOUT_PACKAGES, fetch
from models.common.mel import CFG, MelSpectrogram, mel_filterbank
from models.common.pitch import yin

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

SR = CFG.sample_rate
METHODS = {"griffin_lim": "Griffin-Lim A: NNLS + 64 it fast GL (momentum 0.99)",
           "griffin_lim_pinv32": "Griffin-Lim B: pinv + 32 it plain GL",
           "vocoder": "vocoder.ts"}


def heldout_sets(data):
    snd = "usr/share/asterisk/sounds"
    return {
        "es-co": sorted(glob.glob(os.path.join(data, "asterisk-prompt-es-co", snd, "**", "*.gsm"), recursive=True)),
        "fr-armelle": sorted(glob.glob(os.path.join(data, "asterisk-prompt-fr-armelle", snd, "**", "*.gsm"), recursive=True)),
        "it-menardi": sorted(glob.glob(os.path.join(data, "asterisk-prompt-it-menardi-wav", snd, "**", "*.wav"), recursive=True)),
        "cs-fillets": sorted(glob.glob(os.path.join(data, "fillets-ng-data-cs", "usr/share/games/fillets-ng/sound/*/cs/*.ogg"))),
        "en-conf": sorted(f for f in glob.glob(os.path.join(data, "asterisk-core-sounds-en-g722", snd, "**", "*.g722"), recursive=True)
                          if os.path.basename(f).startswith("conf-")),
    }


# ------------------------------------------------------------------ STFT with the mel framing
PAD = (CFG.n_fft - CFG.hop) // 2
WIN = torch.hann_window(CFG.win, periodic=True, dtype=torch.float64)


def stft_c(x):
    xp = torch.nn.functional.pad(x[None, None], (PAD, PAD), mode="reflect")[0, 0]
    return torch.stft(xp, CFG.n_fft, CFG.hop, CFG.win, WIN, center=False, return_complex=True)


def istft_c(S, length):
    frames = torch.fft.irfft(S, n=CFG.n_fft, dim=0) * WIN[:, None]  # [n_fft, T]
    T = S.shape[1]
    n = (T - 1) * CFG.hop + CFG.n_fft
    y = torch.zeros(n, dtype=frames.dtype)
    env = torch.zeros(n, dtype=frames.dtype)
    idx = torch.arange(CFG.n_fft)[:, None] + CFG.hop * torch.arange(T)[None, :]
    y.index_add_(0, idx.T.reshape(-1), frames.T.reshape(-1))
    env.index_add_(0, idx.T.reshape(-1), (WIN ** 2).repeat(T))
    y = y / env.clamp(min=1e-3)
    return y[PAD:PAD + length]


def griffin_lim(logmel, length, iters=64, momentum=0.99, nnls=True):
    fb = mel_filterbank(CFG).double()
    mel = torch.exp(logmel.double())
    # pseudo-inverse clamped at 0, optionally refined to NNLS by multiplicative updates
    S = torch.clamp(torch.linalg.pinv(fb) @ mel, min=1e-6)
    num = fb.T @ mel
    fbtfb = fb.T @ fb
    for _ in range(200 if nnls else 0):
        S = S * num / (fbtfb @ S + 1e-10)
    mag = S
    rng = torch.Generator().manual_seed(0)
    angles = torch.exp(2j * math.pi * torch.rand(mag.shape, generator=rng, dtype=torch.float64))
    prev = torch.zeros_like(angles)
    for _ in range(iters):
        y = istft_c(mag * angles, length)
        reb = stft_c(y)
        ang = reb - momentum / (1 + momentum) * prev
        prev = reb
        angles = ang / ang.abs().clamp(min=1e-16)
    return istft_c(mag * angles, length).float()


# ------------------------------------------------------------------ metrics
def mr_stft(x, y, mask_db=50.0):
    tot = 0.0
    for n_fft, hop in ((512, 128), (1024, 256), (2048, 512)):
        w = torch.hann_window(n_fft, dtype=torch.float64)
        X = torch.stft(x.double(), n_fft, hop, n_fft, w, return_complex=True).abs()
        Y = torch.stft(y.double(), n_fft, hop, n_fft, w, return_complex=True).abs()
        e = 10 * torch.log10((X ** 2).sum(0) + 1e-12)
        keep = e > e.max() - mask_db
        X, Y = X[:, keep], Y[:, keep]
        sc = torch.linalg.norm(X - Y) / torch.linalg.norm(X)
        lm = (torch.log(X.clamp(min=1e-5)) - torch.log(Y.clamp(min=1e-5))).abs().mean()
        tot += float(sc + lm)
    return tot / 3


def dct_matrix(n, k):
    i = torch.arange(n, dtype=torch.float64)
    m = torch.cos(math.pi / n * (i[None, :] + 0.5) * torch.arange(k, dtype=torch.float64)[:, None])
    m[0] *= math.sqrt(1.0 / n)
    m[1:] *= math.sqrt(2.0 / n)
    return m


DCT = dct_matrix(CFG.n_mels, 25)


def mcd(mel_x, mel_y, keep):
    cx = (DCT @ mel_x.double())[1:, keep]
    cy = (DCT @ mel_y.double())[1:, keep]
    return float((10.0 / math.log(10.0)) * torch.sqrt(2.0 * ((cx - cy) ** 2).sum(0)).mean())


def f0_metrics(x, y):
    """F0 RMSE (Hz) over frames voiced in both, split into gross errors (GPE: the share of those
    frames more than 20 % off) and the fine pitch error (FPE: RMSE over the rest), plus V/UV."""
    fx, vx = yin(x.numpy())
    fy, vy = yin(y.numpy())
    n = min(len(fx), len(fy))
    fx, vx, fy, vy = fx[:n], vx[:n], fy[:n], vy[:n]
    both = vx & vy
    gross = both & (np.abs(fy / np.where(fx > 0, fx, 1.0) - 1.0) > 0.2)
    fine = both & ~gross
    rmse = float(np.sqrt(np.mean((fx[both] - fy[both]) ** 2))) if both.any() else float("nan")
    fpe = float(np.sqrt(np.mean((fx[fine] - fy[fine]) ** 2))) if fine.any() else float("nan")
    gpe = float(gross.sum() / both.sum()) if both.any() else float("nan")
    return {"f0_rmse": rmse, "gpe": gpe, "fpe": fpe, "vuv": float(np.mean(vx != vy))}


METRICS = ("mrstft", "mcd", "f0_rmse", "gpe", "fpe", "vuv")


def paired_interval(rows, method, floor, metric, draws=2000, seed=0):
    """95 % bootstrap interval of (method - floor) in the all-sets mean of `metric`. Utterances are
    resampled within each set, and the two methods are paired by utterance."""
    rng = np.random.default_rng(seed)
    diffs = [np.array([a[metric] - b[metric] for a, b in zip(r[method], r[floor])]) for r in rows.values()]
    means = [np.mean([np.nanmean(d[rng.integers(0, len(d), len(d))]) for d in diffs]) for _ in range(draws)]
    return [float(v) for v in np.percentile(means, [2.5, 97.5])]


def held_out_utterances(files, per_set):
    """The evaluated utterances of one set: a seeded shuffle, then the first per_set files of 1-8 s,
    trimmed, cut to whole hops and peak-normalised to 0.8 (a common level, as prompts vary)."""
    files = list(files)
    random.Random(0).shuffle(files)
    used = 0
    for f in files:
        if used >= per_set:
            return
        x = trim(decode(f))
        if len(x) < SR or len(x) > 8 * SR:
            continue
        x = x[: len(x) // CFG.hop * CFG.hop]
        yield x / max(1e-3, np.abs(x).max()) * 0.8
        used += 1


def loud_frames(logmel, range_db=50.0):
    """The frames the metrics count: within range_db of the loudest."""
    power = 10 * torch.log10(torch.exp(logmel).pow(2).sum(0))
    return power > power.max() - range_db


# ------------------------------------------------------------------ main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/var/tmp/ganvoice")
    ap.add_argument("--model", default=os.path.join(HERE, "vocoder.ts"))
    ap.add_argument("--card", default=os.path.join(HERE, "vocoder.json"))
    ap.add_argument("--per-set", type=int, default=40)
    ap.add_argument("--gl-iters", type=int, default=64)
    ap.add_argument("--picture", default=os.path.join(REPO, "docs", "img", "vocoder-spectrograms.png"))
    ap.add_argument("--wav-dir", default="/var/tmp/ganvoice/eval", help="resynthesised wavs (outside the repo)")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    fetch(a.root, HELDOUT_PACKAGES + ["asterisk-core-sounds-en-g722"])
    sets = heldout_sets(os.path.join(a.root, "data"))
    voc = torch.jit.load(a.model)
    voc.eval()
    mel_fn = MelSpectrogram(CFG)
    os.makedirs(a.wav_dir, exist_ok=True)
    results = {}
    per_utt = {}
    examples = {}
    t_start = time.time()
    for name, files in sets.items():
        assert files, name
        rows = {"vocoder": [], "griffin_lim": [], "griffin_lim_pinv32": []}
        used = 0
        for x in held_out_utterances(files, a.per_set):
            xt = torch.from_numpy(x.astype(np.float32))
            with torch.inference_mode():
                m = mel_fn(xt[None])[0]
                yv = voc(m[None])[0]
            yg = griffin_lim(m, len(x), iters=a.gl_iters)
            yg2 = griffin_lim(m, len(x), iters=32, momentum=0.0, nnls=False)
            keep = loud_frames(m)
            for key, y in (("vocoder", yv), ("griffin_lim", yg), ("griffin_lim_pinv32", yg2)):
                with torch.inference_mode():
                    my = mel_fn(y[None].float())[0]
                rows[key].append(dict({"mrstft": mr_stft(xt, y), "mcd": mcd(m, my, keep)}, **f0_metrics(xt, y)))
            if used == 0:
                examples[name] = (x, yg.numpy(), yv.numpy())
                for tag, sig in (("real", x), ("gl", yg.numpy()), ("voc", yv.numpy())):
                    write_wav(os.path.join(a.wav_dir, f"{name}-{tag}.wav"), sig, SR)
            used += 1
        per_utt[name] = rows
        results[name] = {k: {m_: float(np.nanmean([r[m_] for r in v])) for m_ in METRICS}
                         for k, v in rows.items()}
        results[name]["n"] = used
        print(f"{name}: {used} utts, {time.time() - t_start:.0f}s", file=sys.stderr, flush=True)
    allr = {}
    for k in METHODS:
        allr[k] = {m_: float(np.mean([results[s][k][m_] for s in results])) for m_ in METRICS}
    results["all"] = dict(allr, n=sum(results[s]["n"] for s in sets))

    lines = ["| held-out set | n | method | MR-STFT ↓ | MCD dB ↓ | F0 RMSE Hz ↓ | GPE ↓ | FPE Hz ↓ | V/UV err ↓ |",
             "|---|---|---|---|---|---|---|---|---|"]
    for s, r in results.items():
        for k in METHODS:
            v = r[k]
            lines.append(f"| {s} | {r['n']} | {METHODS[k]} | {v['mrstft']:.3f} | {v['mcd']:.2f} | "
                         f"{v['f0_rmse']:.2f} | {v['gpe'] * 100:.2f} % | {v['fpe']:.2f} | {v['vuv']:.4f} |")
    print("\n".join(lines))
    better = {g: all(results[s]["vocoder"][m_] < results[s][g][m_]
                     for s in results for m_ in ("mrstft", "mcd", "f0_rmse"))
              for g in ("griffin_lim", "griffin_lim_pinv32")}
    wins = {g: {m_: sum(results[s]["vocoder"][m_] < results[s][g][m_] for s in sets)
                for m_ in METRICS} for g in better}
    # "clearly better": the 95 % interval of the paired difference lies wholly below zero
    intervals = {g: {m_: paired_interval(per_utt, "vocoder", g, m_) for m_ in METRICS} for g in better}
    clearly = {g: {m_: iv[1] < 0 for m_, iv in intervals[g].items()} for g in better}
    print("vocoder better on every set and metric:", better)
    print("sets (of %d) where the vocoder is better:" % len(sets), wins)
    print("\n| vocoder − Griffin-Lim A, all sets | mean | 95 % interval | clearly better |")
    print("|---|---|---|---|")
    for m_ in METRICS:
        lo, hi = intervals["griffin_lim"][m_]
        d = results["all"]["vocoder"][m_] - results["all"]["griffin_lim"][m_]
        print(f"| {m_} | {d:+.4f} | [{lo:+.4f}, {hi:+.4f}] | {'yes' if hi < 0 else 'no'} |")

    if os.path.exists(a.card):
        card = json.load(open(a.card))
        card["metrics"] = {
            "protocol": "copy synthesis (real -> log-mel -> vocoder | Griffin-Lim A/B), see models/vocoder/evaluate_vocoder.py",
            "per_set_utterances": a.per_set,
            "methods": METHODS,
            "results": {s: dict({"n": r["n"]}, **{k: {m_: round(v, 4) for m_, v in r[k].items()} for k in METHODS})
                        for s, r in results.items()},
            "vocoder_better_on_every_set_and_metric": better,
            "sets_where_vocoder_better": wins,
            "paired_95_interval_vocoder_minus": {g: {m_: [round(v, 4) for v in iv] for m_, iv in ivs.items()}
                                                 for g, ivs in intervals.items()},
            "clearly_better": clearly,
        }
        json.dump(card, open(a.card, "w"), indent=2, ensure_ascii=False)
    json.dump(results, open(os.path.join(a.wav_dir, "metrics.json"), "w"), indent=1)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(examples)
    fig, axes = plt.subplots(len(names), 3, figsize=(15, 2.6 * len(names)), squeeze=False)
    for i, n in enumerate(names):
        for j, (title, sig) in enumerate(zip(("real", "Griffin-Lim A (NNLS + 64 it)", "vocoder"), examples[n])):
            t = torch.from_numpy(np.asarray(sig, dtype=np.float32))
            S = torch.stft(t, 1024, 256, 1024, torch.hann_window(1024), return_complex=True).abs()
            db = 20 * torch.log10(S.clamp(min=1e-5)).numpy()
            ax = axes[i][j]
            ax.imshow(db, origin="lower", aspect="auto", vmin=db.max() - 80, vmax=db.max(), cmap="magma",
                      extent=[0, len(sig) / SR, 0, SR / 2000])
            ax.set_title(f"{n}: {title}", fontsize=9)
            ax.set_ylabel("kHz", fontsize=8)
            ax.tick_params(labelsize=7)
    axes[-1][0].set_xlabel("s")
    fig.tight_layout()
    os.makedirs(os.path.dirname(a.picture), exist_ok=True)
    fig.savefig(a.picture, dpi=80)
    print("wrote", a.picture)


if __name__ == "__main__":
    main()

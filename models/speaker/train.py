"""Train the ganvoice speaker encoder (models/speaker/encoder.py).

  /usr/bin/python3 -m models.speaker.train --time-limit 1500

Data: the training speakers of the vocoder and acoustic recipes (Debian
packages fetched with apt-get download): the five asterisk-core-sounds voices
(en without conf-*, es, fr, it, ru) and the fillets-ng characters in English
and Dutch (fillets-ng-data, fillets-ng-data-nl). Held-out packages are never
read here.

Virtual speakers: each real speaker is turned into many by augmenting in the
spectral domain: the spectral envelope (cepstrally smoothed log|STFT|) is
warped in frequency by alpha (vocal-tract length), the harmonic fine structure
by beta (pitch), and a smooth random EQ curve is added. A batch holds N virtual
speakers x M segments; two virtual speakers drawn from one real speaker get
clearly different (alpha, beta, EQ), so the encoder learns that these change the
identity. Per-segment (not per-speaker) random level and telephone band limits
teach it to ignore the channel. Loss: GE2E softmax.

Resumes from <ckpt-dir>/last.pt; the decoded features are cached in <root>/speaker/feats.pt.
"""
import argparse
import glob
import math
import os
import random
import signal
import time

import numpy as np
import torch
import torch.nn.functional as F

from models.common.audio import decode, trim
from models.common.data import FORBIDDEN, TRAIN_PACKAGES, fetch
from models.common.mel import mel_filterbank
from models.speaker import encoder as M

MIN_CLIPS = 6


def speaker_files(data):
    """speaker name -> files. Asterisk: one voice per language; fillets: the
    file's speaker code (m and v are the two fish, the same actor in every
    level; other codes are per-level characters)."""
    spk = {}
    for lang in ["en", "es", "fr", "it", "ru"]:
        files = sorted(glob.glob(os.path.join(data, f"asterisk-core-sounds-{lang}-g722", "**", "*.g722"),
                                 recursive=True))
        spk[f"asterisk-{lang}"] = [f for f in files if not os.path.basename(f).startswith("conf-")]
    for pkg, lang in (("fillets-ng-data", "en"), ("fillets-ng-data-nl", "nl")):
        base = os.path.join(data, pkg, "usr/share/games/fillets-ng/sound")
        for f in sorted(glob.glob(os.path.join(base, "*", lang, "*.ogg"))):
            parts = os.path.basename(f)[:-4].split("-")
            if len(parts) < 3:
                continue
            code = parts[1]
            name = f"fillets-{lang}-{code}" if code in ("m", "v") else f"fillets-{lang}-{parts[0]}-{code}"
            spk.setdefault(name, []).append(f)
    spk = {k: v for k, v in spk.items() if len(v) >= MIN_CLIPS}
    for v in spk.values():
        for f in v:
            assert not any(b in f for b in FORBIDDEN), f
            assert not os.path.basename(f).startswith("conf-"), f
    return spk


def magnitude(wav: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(wav)[None]
    spec = torch.stft(x, M.N_FFT, hop_length=M.HOP, win_length=M.WIN,
                      window=torch.hann_window(M.WIN, periodic=True), center=False, return_complex=True)
    return spec.abs()[0].to(torch.float16)  # [257, T]


def load_features(root):
    cache = os.path.join(root, "speaker", "feats.pt")
    if os.path.exists(cache):
        return torch.load(cache)
    fetch(root, TRAIN_PACKAGES)
    spk = speaker_files(os.path.join(root, "data"))
    feats = {}
    for name, files in spk.items():
        mags = []
        for f in files:
            w = trim(decode(f, sr=M.SAMPLE_RATE), sr=M.SAMPLE_RATE)
            if len(w) >= M.WIN + 20 * M.HOP:
                mags.append(magnitude(w))
        if len(mags) >= MIN_CLIPS:
            feats[name] = mags
        print(f"{name}: {len(mags)} clips, {sum(m.shape[1] for m in mags) / 100 / 60:.1f} min", flush=True)
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    torch.save(feats, cache)
    return feats


class Augmenter:
    """Spectral-domain virtual speakers: L' = E(f/alpha) + Fine(f/beta) + EQ(f)."""

    def __init__(self, lifter=30):
        self.nbin = M.N_FFT // 2 + 1
        self.lifter = lifter
        self.melfb = mel_filterbank(M.FRONT_END)
        self.freqs = torch.arange(self.nbin, dtype=torch.float32) * M.SAMPLE_RATE / M.N_FFT

    def warp(self, L, factor):
        """L [B, K, T] -> L(f / factor) along K (linear interpolation, clamped at the edges)."""
        src = (torch.arange(self.nbin, dtype=torch.float32)[None, :] / factor[:, None]).clamp(0, self.nbin - 1)
        i0 = src.floor().long().clamp(max=self.nbin - 2)
        fr = (src - i0.float())[:, :, None]
        g0 = torch.gather(L, 1, i0[:, :, None].expand(-1, -1, L.shape[2]))
        g1 = torch.gather(L, 1, (i0 + 1)[:, :, None].expand(-1, -1, L.shape[2]))
        return g0 * (1 - fr) + g1 * fr

    def __call__(self, mag, alpha, beta, eq, lowpass):
        """mag [B, 257, T] linear; alpha, beta [B]; eq [B, 257] (ln units); lowpass [B] Hz or 0."""
        L = torch.log(mag + 1e-5)
        c = torch.fft.irfft(L, n=M.N_FFT, dim=1)
        c[:, self.lifter:M.N_FFT - self.lifter + 1] = 0
        env = torch.fft.rfft(c, dim=1).real
        fine = L - env
        L2 = self.warp(env, alpha) + self.warp(fine, beta) + eq[:, :, None]
        cut = torch.where(lowpass > 0, lowpass, torch.full_like(lowpass, 1e9))
        L2 = L2 - 7.0 * (self.freqs[None, :] > cut[:, None]).float()[:, :, None]
        mel = torch.matmul(self.melfb, torch.exp(L2))
        return torch.log(mel.clamp(min=1e-5))


def random_eq(n, gen, max_db=5.0):
    """Smooth random curves over log-frequency, in natural-log units: [n, 257]."""
    f = torch.arange(M.N_FFT // 2 + 1, dtype=torch.float32) * M.SAMPLE_RATE / M.N_FFT
    u = torch.log2(f.clamp(min=60.0) / 60.0) / math.log2(8000 / 60.0)  # 0..1
    curve = torch.zeros(n, f.numel())
    for k in (1, 2, 3):
        amp = (torch.rand(n, 1, generator=gen) * 2 - 1) * max_db / k
        ph = torch.rand(n, 1, generator=gen) * 2 * math.pi
        curve += amp * torch.cos(math.pi * k * u[None] + ph)
    return curve / (20.0 / math.log(10.0))


class Batcher:
    def __init__(self, feats, n_spk, n_utt, frames, seed):
        self.names = sorted(feats)
        self.feats = [feats[n] for n in self.names]
        self.n_spk, self.n_utt, self.frames = n_spk, n_utt, frames
        self.rng = random.Random(seed)
        self.gen = torch.Generator().manual_seed(seed)
        self.aug = Augmenter()

    def segment(self, clips):
        """Random clips of one speaker joined until `frames` long, random crop."""
        parts, n = [], 0
        while n < self.frames + 1:
            m = self.rng.choice(clips)
            parts.append(m)
            n += m.shape[1]
        x = torch.cat(parts, dim=1)
        s = self.rng.randrange(0, x.shape[1] - self.frames)
        return x[:, s:s + self.frames].float()

    def __call__(self):
        # real speakers for the N virtual speakers: every real one at most twice
        pool = list(range(len(self.feats))) * 2
        self.rng.shuffle(pool)
        reals = pool[:self.n_spk]
        alpha = torch.ones(self.n_spk)
        beta = torch.ones(self.n_spk)
        eq = random_eq(self.n_spk, self.gen)
        seen = {}
        for i, r in enumerate(reals):
            for _ in range(50):
                if self.rng.random() < 0.25 and r not in seen:
                    a, b = 1.0, 1.0
                    e = torch.zeros_like(eq[i])
                else:
                    a = math.exp(self.rng.uniform(math.log(0.85), math.log(1.18)))
                    b = math.exp(self.rng.uniform(math.log(0.75), math.log(1.35)))
                    e = eq[i]
                if r not in seen:
                    break
                pa, pb = seen[r]
                if abs(math.log(a / pa)) > 0.08 or abs(math.log(b / pb)) > 0.15:
                    break
            seen[r] = (a, b)
            alpha[i], beta[i], eq[i] = a, b, e
        mags = torch.stack([self.segment(self.feats[r]) for r in reals for _ in range(self.n_utt)])
        rep = lambda t: t.repeat_interleave(self.n_utt, dim=0)  # noqa: E731
        B = mags.shape[0]
        # per segment: level (+-10 dB) and, for 30 %, a telephone-like band limit
        level = torch.exp((torch.rand(B, generator=self.gen) * 2 - 1) * 10 / 8.686)[:, None, None]
        lowpass = torch.where(torch.rand(B, generator=self.gen) < 0.3,
                              3400 + 4200 * torch.rand(B, generator=self.gen), torch.zeros(B))
        return self.aug(mags * level, rep(alpha), rep(beta), rep(eq), lowpass)


def ge2e_loss(emb, n_spk, n_utt, w, b):
    e = emb.view(n_spk, n_utt, -1)
    centroids = F.normalize(e.mean(dim=1), dim=-1)  # [N, D]
    # leave-one-out centroid for the utterance's own speaker
    loo = F.normalize((e.sum(dim=1, keepdim=True) - e) / (n_utt - 1), dim=-1)  # [N, M, D]
    sim = torch.einsum("nmd,kd->nmk", e, centroids)
    own = (e * loo).sum(-1)
    idx = torch.arange(n_spk)
    sim[idx, :, idx] = own
    logits = w * sim + b
    target = idx[:, None].expand(n_spk, n_utt).reshape(-1)
    loss = F.cross_entropy(logits.reshape(n_spk * n_utt, n_spk), target)
    acc = (logits.reshape(n_spk * n_utt, n_spk).argmax(1) == target).float().mean()
    return loss, acc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/var/tmp/ganvoice")
    ap.add_argument("--ckpt-dir", default="/var/tmp/ganvoice/speaker/ckpt")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--speakers", type=int, default=24, help="virtual speakers per batch")
    ap.add_argument("--utterances", type=int, default=4, help="segments per virtual speaker")
    ap.add_argument("--frames", type=int, default=160, help="segment length (10 ms frames)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--total-steps", type=int, default=3000)
    ap.add_argument("--time-limit", type=float, default=1e9)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    t0 = time.time()
    feats = load_features(a.root)
    print(f"{len(feats)} real speakers, {sum(len(v) for v in feats.values())} clips", flush=True)
    enc = M.SpeakerEncoder()
    w = torch.nn.Parameter(torch.tensor(10.0))
    b = torch.nn.Parameter(torch.tensor(-5.0))
    opt = torch.optim.Adam(list(enc.parameters()) + [w, b], lr=a.lr)
    step, trained_s = 0, 0.0
    os.makedirs(a.ckpt_dir, exist_ok=True)
    last = os.path.join(a.ckpt_dir, "last.pt")
    if os.path.exists(last):
        ck = torch.load(last)
        enc.load_state_dict(ck["enc"])
        opt.load_state_dict(ck["opt"])
        w.data.fill_(ck["w"])
        b.data.fill_(ck["b"])
        step, trained_s = ck["step"], ck["trained_s"]
        print(f"resumed at step {step}", flush=True)
    batcher = Batcher(feats, a.speakers, a.utterances, a.frames, a.seed + step)
    stop = {"sig": None}
    signal.signal(signal.SIGTERM, lambda s, f: stop.update(sig=s))
    signal.signal(signal.SIGINT, lambda s, f: stop.update(sig=s))
    t_loop = time.time()

    def save():
        tmp = last + ".tmp"
        torch.save({"enc": enc.state_dict(), "opt": opt.state_dict(), "w": float(w), "b": float(b),
                    "step": step, "trained_s": trained_s + time.time() - t_loop,
                    "speakers": sorted(feats), "args": vars(a)}, tmp)
        os.replace(tmp, last)

    enc.train()
    acc_l, acc_a, t_save = 0.0, 0.0, time.time()
    while step < a.total_steps:
        lr = a.lr * 0.5 * (1 + math.cos(math.pi * min(step, a.total_steps) / a.total_steps))
        for g in opt.param_groups:
            g["lr"] = lr
        with torch.no_grad():
            mel = batcher()
        loss, acc = ge2e_loss(enc.embed_mels(mel), a.speakers, a.utterances, w, b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(enc.parameters(), 3.0)
        opt.step()
        w.data.clamp_(min=1e-3)
        step += 1
        acc_l += float(loss)
        acc_a += float(acc)
        if step % 50 == 0:
            print(f"step {step} lr {lr:.2e} loss {acc_l / 50:.3f} acc {acc_a / 50:.3f} "
                  f"w {float(w):.1f} elapsed {time.time() - t0:.0f}s", flush=True)
            acc_l, acc_a = 0.0, 0.0
        if time.time() - t_save > 300:
            save()
            t_save = time.time()
        if time.time() - t0 > a.time_limit or stop["sig"] is not None:
            break
    save()
    print(f"saved step {step} ({time.time() - t0:.0f}s this run)", flush=True)


if __name__ == "__main__":
    main()

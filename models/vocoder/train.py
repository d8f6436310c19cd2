"""Train the ganvoice GAN vocoder (Vocos-style generator, MPD + MRD discriminators).

  /usr/bin/python3 -m models.vocoder.train --device cuda            # GPU
  /usr/bin/python3 -m models.vocoder.train --device cpu --batch 4 --seg 8192 --threads 2

Resumes from <ckpt-dir>/last.pt when it exists (default /var/tmp/ganvoice/vocoder).
Stops by itself after --time-limit seconds of wall clock or --max-steps, always
writing last.pt (full state: weights + optimisers) and the light files gen.pt,
disc.pt (fp32 state_dicts of plain tensors, loadable by torch 1.13) and meta.json.
"""
import argparse
import io
import json
import lzma
import math
import os
import shutil
import signal
import time

import numpy as np
import torch

from models.common.mel import CFG, MelSpectrogram
from models.vocoder.model import Discriminators, build_generator, disc_loss, feature_loss, gen_adv_loss


def load_pack(path):
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rb") as fh:
        z = np.load(io.BytesIO(fh.read()), allow_pickle=False)
        return {k: z[k] for k in z.files}


class Batcher:
    """Random segments of random utterances (prob. ~ length), on the training device."""

    def __init__(self, pack, device, seg, seed=0, lowpass_prob=0.0):
        self.lowpass_prob = lowpass_prob
        self.audio = torch.from_numpy(pack["audio"].astype(np.float32) / 32768.0).to(device)
        self.off = torch.from_numpy(pack["offsets"]).to(device)
        self.len = torch.from_numpy(pack["lengths"]).to(device)
        peaks = [np.abs(pack["audio"][o:o + n]).max() / 32768.0 for o, n in zip(pack["offsets"], pack["lengths"])]
        self.peak = torch.tensor(peaks, dtype=torch.float32, device=device).clamp(min=1e-3)
        self.prob = self.len.float() / self.len.sum()
        self.seg = seg
        self.device = device
        self.gen = torch.Generator(device=device)
        self.gen.manual_seed(seed)
        self.ar = torch.arange(seg, device=device)

    def __call__(self, batch):
        u = torch.multinomial(self.prob, batch, replacement=True, generator=self.gen)
        n = self.len[u]
        r = torch.rand(batch, device=self.device, generator=self.gen)
        start = (r * (n - self.seg).clamp(min=0).float()).long()
        pos = start[:, None] + self.ar[None, :]
        valid = pos < n[:, None]
        idx = self.off[u][:, None] + pos
        idx = torch.where(valid, idx, torch.zeros_like(idx))
        x = self.audio[idx] * valid.float()
        # random level: peak of the utterance mapped to U(0.25, 0.95)
        target = 0.25 + 0.7 * torch.rand(batch, device=self.device, generator=self.gen)
        x = (x * (target / self.peak[u])[:, None]).clamp(-1.0, 1.0)
        if self.lowpass_prob > 0:
            # telephone-band augmentation: brick-wall low-pass at U(3400, 8000) Hz
            X = torch.fft.rfft(x, dim=-1)
            f = torch.fft.rfftfreq(self.seg, 1.0 / CFG.sample_rate).to(self.device)
            cut = 3400.0 + 4600.0 * torch.rand(batch, 1, device=self.device, generator=self.gen)
            on = torch.rand(batch, 1, device=self.device, generator=self.gen) < self.lowpass_prob
            keep = torch.where(on, (f[None, :] < cut).float(), torch.ones_like(cut))
            x = torch.fft.irfft(X * keep, n=self.seg, dim=-1).clamp(-1.0, 1.0)
        return x


def anti_wrap(x):
    """|x| after wrapping to [-pi, pi] (APNet's anti-wrapping function)."""
    return torch.abs(x - 2 * math.pi * torch.round(x / (2 * math.pi)))


def supervised_losses(G, x, m, window):
    """Generator-only losses against the real STFT in the iSTFT head's own framing:
    L1 log-magnitude, anti-wrapped instantaneous phase, group delay and
    instantaneous frequency (APNet), each weighted by the real magnitude so that
    silent bins with meaningless phase do not dominate."""
    re, im = G.spectrum(m)
    frames = m.shape[-1]
    X = torch.stft(x, G.n_fft, hop_length=G.hop, win_length=G.win, window=window,
                   center=True, return_complex=True)[..., :frames]
    mag = X.abs().clamp(min=1e-5)
    mag_hat = torch.sqrt(re * re + im * im + 1e-9).clamp(min=1e-5)
    l_mag = torch.nn.functional.l1_loss(torch.log(mag_hat), torch.log(mag))
    phase = torch.angle(X)
    phase_hat = torch.atan2(im, re + 1e-9)
    w = mag / mag.mean(dim=(1, 2), keepdim=True)
    w = w.clamp(max=10.0)

    def wmean(d, ww):
        return (anti_wrap(d) * ww).sum() / ww.sum()
    l_ip = wmean(phase_hat - phase, w)
    l_gd = wmean(torch.diff(phase_hat, dim=1) - torch.diff(phase, dim=1), w[:, 1:])
    l_iaf = wmean(torch.diff(phase_hat, dim=2) - torch.diff(phase, dim=2), w[:, :, 1:])
    return l_mag, l_ip + l_gd + l_iaf


def mr_stft_loss(y, x, resolutions=((512, 128), (1024, 256), (2048, 512))):
    """Spectral convergence + log-magnitude L1, averaged over resolutions."""
    total = 0.0
    for n_fft, hop in resolutions:
        win = torch.hann_window(n_fft, device=x.device)
        Y = torch.stft(y, n_fft, hop, window=win, return_complex=True).abs().clamp(min=1e-5)
        X = torch.stft(x, n_fft, hop, window=win, return_complex=True).abs().clamp(min=1e-5)
        sc = torch.linalg.norm(X - Y) / torch.linalg.norm(X)
        total = total + sc + torch.nn.functional.l1_loss(torch.log(Y), torch.log(X))
    return total / len(resolutions)


def lr_at(step, base, total, warm, restart_step):
    w = min(1.0, (step - restart_step + 1) / warm)
    t = min(1.0, step / max(1, total))
    return base * w * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def adapt_weight_norm_keys(sd, module):
    """Map weight-norm keys between torch>=2.1 parametrizations and torch 1.13 weight_norm."""
    want = set(module.state_dict().keys())
    out = {}
    for k, v in sd.items():
        k2 = k
        if k not in want:
            if k.endswith("parametrizations.weight.original0"):
                k2 = k.replace("parametrizations.weight.original0", "weight_g")
            elif k.endswith("parametrizations.weight.original1"):
                k2 = k.replace("parametrizations.weight.original1", "weight_v")
            elif k.endswith("weight_g"):
                k2 = k[:-len("weight_g")] + "parametrizations.weight.original0"
            elif k.endswith("weight_v"):
                k2 = k[:-len("weight_v")] + "parametrizations.weight.original1"
        out[k2] = v
    return out


def state_cpu(sd):
    return {k: v.detach().float().cpu().clone() for k, v in sd.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", default="/var/tmp/ganvoice/pack.npz.xz")
    ap.add_argument("--ckpt-dir", default="/var/tmp/ganvoice/vocoder")
    ap.add_argument("--init-light", default=None, help="dir with gen.pt/disc.pt/meta.json to start from "
                    "when ckpt-dir has no last.pt (optimisers restart)")
    ap.add_argument("--init-shipped", default=None, metavar="VOCODER_TS",
                    help="start the generator from a shipped (unfrozen) TorchScript vocoder and its card's "
                         "step count, with fresh discriminators and optimisers, when ckpt-dir has no checkpoint")
    ap.add_argument("--copy-light-to", default=None, help="also copy gen.pt/disc.pt/meta.json here at the end")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seg", type=int, default=16384)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--total-steps", type=int, default=20000, help="length of the cosine LR schedule")
    ap.add_argument("--max-steps", type=int, default=10 ** 9)
    ap.add_argument("--time-limit", type=float, default=1e9, help="seconds of wall clock for this run")
    ap.add_argument("--save-every", type=int, default=2000, help="steps between checkpoints")
    ap.add_argument("--save-minutes", type=float, default=10.0, help="also checkpoint after this much wall clock")
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--mel-weight", type=float, default=45.0)
    ap.add_argument("--fm-weight", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mag-clamp", type=float, default=1000.0,
                    help="generator |S| clamp (the first 10267 shipped steps used 100, see docs/vocoder.md)")
    ap.add_argument("--lowpass-prob", type=float, default=0.25,
                    help="fraction of segments low-passed at U(3.4k, 8k) Hz (telephone-band robustness)")
    ap.add_argument("--supervised", action="store_true",
                    help="generator only, no discriminators: log-magnitude and anti-wrapped phase "
                         "losses on the iSTFT head, re-analysed mel and multi-resolution STFT "
                         "(5-10x cheaper per step; the CPU path)")
    ap.add_argument("--mag-weight", type=float, default=45.0)
    ap.add_argument("--phase-weight", type=float, default=10.0)
    ap.add_argument("--stft-weight", type=float, default=20.0)
    a = ap.parse_args()
    t0 = time.time()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dev = torch.device(a.device)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    os.makedirs(a.ckpt_dir, exist_ok=True)

    pack = load_pack(a.pack)
    print(f"pack: {len(pack['lengths'])} utts, {pack['lengths'].sum() / CFG.sample_rate / 60:.1f} min, "
          f"sources {list(pack['sources'])}", flush=True)
    batcher = Batcher(pack, dev, a.seg, seed=a.seed, lowpass_prob=a.lowpass_prob)
    mel_fn = MelSpectrogram(CFG).to(dev)
    G = build_generator(mag_clamp=a.mag_clamp).to(dev)
    D = Discriminators().to(dev)
    betas = (0.8, 0.99)
    optG = torch.optim.AdamW(G.parameters(), lr=a.lr, betas=betas, weight_decay=0.01)
    optD = torch.optim.AdamW(D.parameters(), lr=a.lr, betas=betas, weight_decay=0.01)
    step, restart_step, trained_s = 0, 0, 0.0
    last = os.path.join(a.ckpt_dir, "last.pt")
    if os.path.exists(last):
        ck = torch.load(last, map_location=dev)
        G.load_state_dict(ck["G"])
        D.load_state_dict(ck["D"])
        optG.load_state_dict(ck["optG"])
        optD.load_state_dict(ck["optD"])
        step, restart_step, trained_s = ck["step"], ck.get("restart_step", 0), ck.get("trained_s", 0.0)
        print(f"resumed full state from {last} at step {step}", flush=True)
    elif a.init_light or os.path.exists(os.path.join(a.ckpt_dir, "gen.pt")):
        a.init_light = a.init_light or a.ckpt_dir
        G.load_state_dict(torch.load(os.path.join(a.init_light, "gen.pt"), map_location=dev))
        D.load_state_dict(adapt_weight_norm_keys(
            torch.load(os.path.join(a.init_light, "disc.pt"), map_location=dev), D))
        meta = json.load(open(os.path.join(a.init_light, "meta.json")))
        step = restart_step = meta["step"]
        trained_s = meta.get("trained_s", 0.0)
        print(f"started from light weights {a.init_light} at step {step} (fresh optimisers)", flush=True)
    elif a.init_shipped:
        shipped = torch.jit.load(a.init_shipped, map_location="cpu")
        G.load_state_dict({k: v for k, v in shipped.state_dict().items() if k in G.state_dict()})
        card = json.load(open(os.path.splitext(a.init_shipped)[0] + ".json"))
        step = restart_step = int(card.get("training", {}).get("steps", 0))
        print(f"started the generator from {a.init_shipped} at step {step} "
              "(fresh discriminators and optimisers)", flush=True)

    def save():
        tmp = last + ".tmp"
        torch.save({"G": G.state_dict(), "D": D.state_dict(), "optG": optG.state_dict(),
                    "optD": optD.state_dict(), "step": step, "restart_step": restart_step,
                    "trained_s": trained_s + (time.time() - t_loop)}, tmp)
        os.replace(tmp, last)
        torch.save(state_cpu(G.state_dict()), os.path.join(a.ckpt_dir, "gen.pt"),
                   _use_new_zipfile_serialization=True)
        torch.save(state_cpu(D.state_dict()), os.path.join(a.ckpt_dir, "disc.pt"),
                   _use_new_zipfile_serialization=True)
        meta = {"step": step, "trained_s": round(trained_s + (time.time() - t_loop), 1),
                "device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
                "torch": torch.__version__, "batch": a.batch, "seg": a.seg, "lr": a.lr,
                "total_steps": a.total_steps}
        json.dump(meta, open(os.path.join(a.ckpt_dir, "meta.json"), "w"), indent=1)

    G.train()
    D.train()
    t_loop = time.time()
    t_log = time.time()
    s_log = step
    acc = {}
    limit_end = t0 + a.time_limit
    stop = {"sig": None}

    def on_signal(signum, frame):  # SIGTERM / SIGINT: save at the end of the current step
        stop["sig"] = signum
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    t_save = time.time()
    while step < a.max_steps:
        lr = lr_at(step, a.lr, a.total_steps, 200, restart_step)
        for o in (optG, optD):
            for g in o.param_groups:
                g["lr"] = lr
        with torch.no_grad():
            x = batcher(a.batch)
            m = mel_fn(x)
        if a.supervised:
            y = G(m)
            l_mag, l_phase = supervised_losses(G, x, m, G.window)
            l_mel = torch.nn.functional.l1_loss(mel_fn(y), m)
            l_stft = mr_stft_loss(y, x)
            lg = (a.mag_weight * l_mag + a.phase_weight * l_phase + a.mel_weight * l_mel +
                  a.stft_weight * l_stft)
            optG.zero_grad(set_to_none=True)
            lg.backward()
            torch.nn.utils.clip_grad_norm_(G.parameters(), 100.0)
            optG.step()
            losses = (("mag", l_mag), ("phase", l_phase), ("mel", l_mel), ("stft", l_stft))
        else:
            y = G(m)
            # discriminator step
            r_out, _ = D(x)
            f_out, _ = D(y.detach())
            ld = disc_loss(r_out, f_out)
            optD.zero_grad(set_to_none=True)
            ld.backward()
            torch.nn.utils.clip_grad_norm_(D.parameters(), 100.0)
            optD.step()
            # generator step
            r_out, r_f = D(x)
            f_out, f_f = D(y)
            l_adv = gen_adv_loss(f_out)
            l_fm = feature_loss(r_f, f_f)
            l_mel = torch.nn.functional.l1_loss(mel_fn(y), m)
            lg = l_adv + a.fm_weight * l_fm + a.mel_weight * l_mel
            optG.zero_grad(set_to_none=True)
            lg.backward()
            torch.nn.utils.clip_grad_norm_(G.parameters(), 100.0)
            optG.step()
            losses = (("d", ld), ("adv", l_adv), ("fm", l_fm), ("mel", l_mel))
        step += 1
        for k, v in losses:
            acc[k] = acc.get(k, 0.0) + v.detach()
        if step % a.log_every == 0:
            now = time.time()
            n = step - s_log
            msg = " ".join(f"{k}={float(v) / n:.4f}" for k, v in acc.items())
            print(f"step {step} lr {lr:.2e} {msg} {n / (now - t_log):.2f} it/s "
                  f"elapsed {now - t0:.0f}s", flush=True)
            acc = {}
            t_log, s_log = now, step
        if step % a.save_every == 0 or time.time() - t_save > 60 * a.save_minutes:
            save()
            t_save = time.time()
        if time.time() > limit_end or stop["sig"] is not None:
            print(f"{'time limit' if stop['sig'] is None else 'signal'} reached at step {step}", flush=True)
            break
    save()
    if a.copy_light_to:
        os.makedirs(a.copy_light_to, exist_ok=True)
        for f in ("gen.pt", "disc.pt", "meta.json"):
            shutil.copy(os.path.join(a.ckpt_dir, f), a.copy_light_to)
    print(f"saved step {step} to {a.ckpt_dir} ({time.time() - t0:.0f}s this run)", flush=True)


if __name__ == "__main__":
    main()

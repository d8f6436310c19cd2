"""Train the ganvoice acoustic model (resumable).

  /usr/bin/python3 -m models.acoustic.train [--data /var/tmp/ganvoice/acoustic/dataset.pt]
      [--ckpt-dir /var/tmp/ganvoice/acoustic/ckpt] [--time-limit 6600] [--device cpu|cuda]

Every step: the aligner's soft alignment (forward-sum loss) and its MAS hard
path give each phoneme's duration; the decoder learns the log-mel from the
encoder expanded by those durations (L1), the predictors learn the durations
and the mean log-F0 of each phoneme (MSE), and a binarisation loss pulls the
soft alignment toward the hard one.

Checkpoints (`last.pt`: model, aligner, optimiser, step, elapsed) are written
every --save-every seconds, on SIGTERM/SIGINT and at the end; a new run
resumes from `last.pt`.  Training stops after --time-limit seconds of
training in total (across resumes) or --total-steps.
"""
import argparse
import json
import math
import os
import random
import signal
import time

import torch
import torch.nn.functional as F

from models.acoustic.model import AcousticModel, Aligner, beta_binomial_prior, forward_sum_loss, mas

LOG_CLAMP = math.log(1e-5)


def make_batches(items, max_frames, rng):
    order = sorted(range(len(items)), key=lambda i: items[i]["mel"].shape[1])
    batches, cur, cur_max = [], [], 0
    for i in order:
        T = items[i]["mel"].shape[1]
        if cur and max(cur_max, T) * (len(cur) + 1) > max_frames:
            batches.append(cur)
            cur, cur_max = [], 0
        cur.append(i)
        cur_max = max(cur_max, T)
    if cur:
        batches.append(cur)
    rng.shuffle(batches)
    return batches


def collate(items, idx, f0_mean, f0_std):
    B = len(idx)
    N = max(items[i]["ids"].shape[0] for i in idx)
    T = max(items[i]["mel"].shape[1] for i in idx)
    ids = torch.zeros(B, N, dtype=torch.long)
    mel = torch.full((B, 80, T), LOG_CLAMP)
    lf0 = torch.zeros(B, T)
    voiced = torch.zeros(B, T)
    n_ids = torch.zeros(B, dtype=torch.long)
    n_frames = torch.zeros(B, dtype=torch.long)
    spk = torch.zeros(B, dtype=torch.long)
    for b, i in enumerate(idx):
        it = items[i]
        n, t = it["ids"].shape[0], it["mel"].shape[1]
        ids[b, :n] = it["ids"].long()
        mel[b, :, :t] = it["mel"].float()
        f0 = it["f0"].float()
        v = f0 > 0
        lf0[b, :t] = torch.where(v, (torch.log(f0.clamp(min=1.0)) - f0_mean) / f0_std, torch.zeros_like(f0))
        voiced[b, :t] = v.float()
        n_ids[b], n_frames[b], spk[b] = n, t, it["speaker_id"]
    return ids, mel, lf0, voiced, n_ids, n_frames, spk


def alignment_is_plausible(it, phonemes):
    """False for an utterance whose aligned durations look broken: over a third of its sounds at one
    frame (12 ms), or a sound (not a pause) over 35 frames (0.4 s)."""
    pauses = {phonemes.index(s) for s in (",", ".", "?", " ") if s in phonemes}
    sounds = [int(d) for i, d in zip(it["ids"].tolist(), it["durations"].tolist()) if d > 0 and i not in pauses]
    if not sounds:
        return False
    return sum(1 for d in sounds if d == 1) / len(sounds) <= 0.35 and max(sounds) <= 35


def phoneme_f0(durs, lf0, voiced):
    """Mean normalised log-F0 over each phoneme's voiced frames (0 when none)."""
    B, N = durs.shape
    T = lf0.shape[1]
    ends = torch.cumsum(durs, 1)
    t = torch.arange(T)[None].expand(B, T).contiguous()
    idx = torch.searchsorted(ends, t, right=True).clamp(max=N - 1)
    s = torch.zeros(B, N).scatter_add_(1, idx, lf0 * voiced)
    c = torch.zeros(B, N).scatter_add_(1, idx, voiced)
    return torch.where(c > 0, s / c.clamp(min=1.0), torch.zeros_like(s))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/var/tmp/ganvoice/acoustic/dataset.pt")
    ap.add_argument("--ckpt-dir", default="/var/tmp/ganvoice/acoustic/ckpt")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=6600.0, help="seconds of training in total")
    ap.add_argument("--total-steps", type=int, default=200000)
    ap.add_argument("--max-frames", type=int, default=4000, help="padded frames per batch")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--save-every", type=float, default=300.0)
    ap.add_argument("--bin-start", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--exclude-speakers", default="nl-small,nl-big",
                    help="speakers left out (the Dutch game dialogue aligns badly: see docs/acoustic.md)")
    ap.add_argument("--durations", default=None,
                    help="durations.pt from align.py: train with these instead of aligning on the fly")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    data = torch.load(a.data)
    items = data["items"]
    fixed = None
    if a.durations:
        fixed = torch.load(a.durations)["durations"]
        assert len(fixed) == len(items), "durations.pt does not match the dataset"
        for it, d in zip(items, fixed):
            assert int(d.sum()) == it["mel"].shape[1] and d.shape[0] == it["ids"].shape[0]
            it["durations"] = d
    excluded = set(s for s in a.exclude_speakers.split(",") if s)
    kept = [it for it in items if it["speaker"] not in excluded]
    if fixed is not None:
        kept = [it for it in kept if alignment_is_plausible(it, data["phonemes"])]
    print(f"{len(kept)} of {len(items)} utterances used (excluded speakers: {sorted(excluded)})", flush=True)
    items = kept
    # global log-F0 statistics over voiced frames
    allf0 = torch.cat([it["f0"].float() for it in items])
    lv = torch.log(allf0[allf0 > 0])
    f0_mean, f0_std = float(lv.mean()), float(lv.std())
    os.makedirs(a.ckpt_dir, exist_ok=True)
    hp = dict(n_phonemes=len(data["phonemes"]), n_speakers=len(data["speakers"]), speaker_dim=16, hidden=192,
              f0_mean=f0_mean, f0_std=f0_std)
    dev = torch.device(a.device)
    model = AcousticModel(**hp).to(dev)
    aligner = Aligner(hp["n_phonemes"]).to(dev)
    params = list(model.parameters()) + (list(aligner.parameters()) if fixed is None else [])
    opt = torch.optim.AdamW(params, lr=a.lr, betas=(0.9, 0.98), weight_decay=1e-6)
    step, elapsed, epoch = 0, 0.0, 0
    last = os.path.join(a.ckpt_dir, "last.pt")
    if os.path.exists(last):
        ck = torch.load(last, map_location="cpu")
        model.load_state_dict(ck["model"])
        aligner.load_state_dict(ck["aligner"])
        opt.load_state_dict(ck["opt"])
        step, elapsed, epoch = ck["step"], ck["elapsed"], ck.get("epoch", 0)
        print(f"resumed at step {step}, {elapsed:.0f} s", flush=True)
    print(f"params: model {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M, aligner "
          f"{sum(p.numel() for p in aligner.parameters()) / 1e6:.2f} M; {len(items)} utterances; "
          f"log-F0 mean {f0_mean:.3f} std {f0_std:.3f}", flush=True)

    def save():
        tmp = last + ".tmp"
        torch.save(dict(model=model.state_dict(), aligner=aligner.state_dict(), opt=opt.state_dict(), step=step,
                        elapsed=elapsed, epoch=epoch, hparams=hp, phonemes=data["phonemes"],
                        speakers=data["speakers"], trained_speakers=sorted({it["speaker"] for it in items}),
                        utterances=len(items), minutes=sum(it["mel"].shape[1] for it in items) * 256 / 22050 / 60),
                   tmp)
        os.replace(tmp, last)
        with open(os.path.join(a.ckpt_dir, "meta.json"), "w") as fh:
            json.dump(dict(step=step, elapsed=elapsed, epoch=epoch), fh)

    stop = {"now": False}

    def on_signal(signum, frame):
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    prior_cache = {}
    t_save = time.time()
    agg = {}
    while not stop["now"] and elapsed < a.time_limit and step < a.total_steps:
        batches = make_batches(items, a.max_frames, random.Random(a.seed + epoch))
        for bidx in batches:
            if stop["now"] or elapsed >= a.time_limit or step >= a.total_steps:
                break
            t0 = time.time()
            ids, mel, lf0, voiced, n_ids, n_frames, spk = collate(items, bidx, f0_mean, f0_std)
            B, N = ids.shape
            T = mel.shape[2]
            id_mask_b = torch.arange(N)[None] < n_ids[:, None]
            mel_mask_b = torch.arange(T)[None] < n_frames[:, None]
            ids_d, mel_d = ids.to(dev), mel.to(dev)
            if fixed is None:
                logits = aligner(ids_d, (mel_d - LOG_CLAMP) / 4.0, id_mask_b.to(dev))  # [B, T, N]
                prior = torch.full((B, T, N), -1e4)
                for b in range(B):
                    key = (int(n_ids[b]), int(n_frames[b]))
                    if key not in prior_cache:
                        prior_cache[key] = beta_binomial_prior(key[0], key[1])
                    prior[b, : key[1], : key[0]] = prior_cache[key]
                log_attn = F.log_softmax(logits + prior.to(dev), dim=2)
                loss_ctc = forward_sum_loss(log_attn.cpu() if dev.type != "cpu" else log_attn, n_ids, n_frames)
                la = log_attn.detach().cpu().numpy()
                durs = torch.zeros(B, N, dtype=torch.long)
                for b in range(B):
                    durs[b, : n_ids[b]] = torch.from_numpy(mas(la[b, : n_frames[b], : n_ids[b]]))
                hard = torch.zeros(B, T, N)
                ends = torch.cumsum(durs, 1)
                tt = torch.arange(T)[None].expand(B, T).contiguous()
                which = torch.searchsorted(ends, tt, right=True).clamp(max=N - 1)
                hard.scatter_(2, which[:, :, None], 1.0)
                hard = hard * mel_mask_b[:, :, None]
            else:
                durs = torch.zeros(B, N, dtype=torch.long)
                for b, i in enumerate(bidx):
                    durs[b, : n_ids[b]] = items[i]["durations"]
                loss_ctc = torch.tensor(0.0)
            pf0 = phoneme_f0(durs, lf0, voiced)
            id_mask = id_mask_b[:, None].float().to(dev)
            mel_mask = mel_mask_b[:, None].float().to(dev)
            speaker = model.speaker_table(spk.to(dev))
            mel_pred, log_dur, f0_pred = model.forward_train(ids_d, id_mask, speaker, durs.to(dev), pf0.to(dev), T,
                                                             mel_mask)
            n_mel = mel_mask.sum() * 80
            loss_mel = ((mel_pred - mel_d).abs() * mel_mask).sum() / n_mel
            n_id = id_mask.sum()
            loss_dur = (((log_dur - torch.log1p(durs.to(dev).float())) ** 2) * id_mask[:, 0]).sum() / n_id
            loss_f0 = (((f0_pred - pf0.to(dev)) ** 2) * id_mask[:, 0]).sum() / n_id
            loss = loss_mel + loss_ctc + 0.3 * loss_dur + 0.1 * loss_f0
            if fixed is None and step >= a.bin_start:
                loss_bin = -(log_attn.clamp(min=-1e3) * hard.to(dev)).sum() / hard.sum()
                loss = loss + 0.5 * min(1.0, (step - a.bin_start) / 2000) * loss_bin
            else:
                loss_bin = torch.tensor(0.0)
            warm = min(1.0, (step + 1) / 500)
            decay = 0.5 * (1 + math.cos(math.pi * min(1.0, elapsed / a.time_limit)))
            for g in opt.param_groups:
                g["lr"] = a.lr * warm * (0.05 + 0.95 * decay)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            step += 1
            elapsed += time.time() - t0
            for k, v in dict(mel=loss_mel, ctc=loss_ctc, dur=loss_dur, f0=loss_f0, bin=loss_bin).items():
                agg[k] = agg.get(k, 0.0) + float(v)
            agg["n"] = agg.get("n", 0) + 1
            if step % 50 == 0:
                n = agg.pop("n")
                print(f"step {step} ep {epoch} {elapsed:.0f}s " +
                      " ".join(f"{k} {v / n:.3f}" for k, v in agg.items()), flush=True)
                agg = {}
            if time.time() - t_save > a.save_every:
                save()
                t_save = time.time()
        else:
            epoch += 1
    save()
    print(f"saved at step {step}, {elapsed:.0f} s", flush=True)


if __name__ == "__main__":
    main()

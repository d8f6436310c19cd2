#!/usr/bin/python3
"""Stage 1: learn the text-to-mel alignment, then write every utterance's durations.

  /usr/bin/python3 models/acoustic/align.py [--data /var/tmp/ganvoice/acoustic/dataset.pt]
      [--ckpt-dir /var/tmp/ganvoice/acoustic/align] [--steps 3000]

Trains only the aligner (model.Aligner, 0.2 M parameters) with the
forward-sum (CTC) loss under a beta-binomial diagonal prior, which is far
cheaper per step than the whole model.  Then runs monotonic alignment search
on every utterance and writes <ckpt-dir>/durations.pt: one int64 tensor of
frames per phoneme per utterance (summing to its mel length).  train.py
--durations uses them instead of aligning on the fly.  Resumes from
<ckpt-dir>/aligner.pt.
"""
import argparse
import math
import os
import random
import signal
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import Aligner, beta_binomial_prior, forward_sum_loss, mas  # noqa: E402
from train import make_batches  # noqa: E402

LOG_CLAMP = math.log(1e-5)
# Marks that are not sounds of their own: aligned with 0 frames (the encoder
# passes their meaning to the neighbouring phonemes).
ZERO_FRAME_SYMBOLS = ("ˈ", "ˌ", "ː")


def sound_items(items, phonemes):
    """Copies of the items whose ids keep only the symbols that get frames, and each one's positions."""
    zero = {phonemes.index(s) for s in ZERO_FRAME_SYMBOLS if s in phonemes}
    out = []
    for it in items:
        ids = it["ids"].long()
        keep = torch.tensor([int(i) not in zero for i in ids], dtype=torch.bool)
        out.append(dict(ids=ids[keep], mel=it["mel"], keep=keep))
    return out


def full_durations(sound_durs, keep):
    d = torch.zeros(keep.shape[0], dtype=torch.long)
    d[keep] = sound_durs
    return d


def batch_tensors(items, idx):
    B = len(idx)
    N = max(items[i]["ids"].shape[0] for i in idx)
    T = max(items[i]["mel"].shape[1] for i in idx)
    ids = torch.zeros(B, N, dtype=torch.long)
    mel = torch.full((B, 80, T), LOG_CLAMP)
    n_ids = torch.zeros(B, dtype=torch.long)
    n_frames = torch.zeros(B, dtype=torch.long)
    for b, i in enumerate(idx):
        n, t = items[i]["ids"].shape[0], items[i]["mel"].shape[1]
        ids[b, :n] = items[i]["ids"].long()
        mel[b, :, :t] = items[i]["mel"].float()
        n_ids[b], n_frames[b] = n, t
    return ids, mel, n_ids, n_frames


def log_attention(aligner, ids, mel, n_ids, n_frames, cache):
    B, N = ids.shape
    T = mel.shape[2]
    mask = torch.arange(N)[None] < n_ids[:, None]
    logits = aligner(ids, (mel - LOG_CLAMP) / 4.0, mask)
    prior = torch.full((B, T, N), -1e4)
    for b in range(B):
        key = (int(n_ids[b]), int(n_frames[b]))
        if key not in cache:
            cache[key] = beta_binomial_prior(*key)
        prior[b, : key[1], : key[0]] = cache[key]
    return F.log_softmax(logits + prior, dim=2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/var/tmp/ganvoice/acoustic/dataset.pt")
    ap.add_argument("--ckpt-dir", default="/var/tmp/ganvoice/acoustic/align")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--max-frames", type=int, default=4000)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1234)
    data = torch.load(a.data)
    items = sound_items(data["items"], data["phonemes"])
    os.makedirs(a.ckpt_dir, exist_ok=True)
    aligner = Aligner(len(data["phonemes"]))
    opt = torch.optim.Adam(aligner.parameters(), lr=a.lr)
    step = 0
    path = os.path.join(a.ckpt_dir, "aligner.pt")
    if os.path.exists(path):
        ck = torch.load(path)
        aligner.load_state_dict(ck["aligner"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda s, f: stop.update(now=True))
    signal.signal(signal.SIGINT, lambda s, f: stop.update(now=True))
    cache = {}
    epoch = 0
    t0, acc, n = time.time(), 0.0, 0
    while step < a.steps and not stop["now"]:
        for idx in make_batches(items, a.max_frames, random.Random(epoch)):
            if step >= a.steps or stop["now"]:
                break
            ids, mel, n_ids, n_frames = batch_tensors(items, idx)
            la = log_attention(aligner, ids, mel, n_ids, n_frames, cache)
            loss = forward_sum_loss(la, n_ids, n_frames)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(aligner.parameters(), 1.0)
            opt.step()
            step += 1
            acc, n = acc + float(loss), n + 1
            if step % 50 == 0:
                print(f"step {step} ctc {acc / n:.3f} {time.time() - t0:.0f}s", flush=True)
                acc, n = 0.0, 0
            if step % 500 == 0:
                torch.save(dict(aligner=aligner.state_dict(), opt=opt.state_dict(), step=step), path)
        epoch += 1
    torch.save(dict(aligner=aligner.state_dict(), opt=opt.state_dict(), step=step), path)
    if stop["now"]:
        return
    # durations for every utterance
    aligner.eval()
    durs = [None] * len(items)
    with torch.inference_mode():
        for idx in make_batches(items, a.max_frames, random.Random(0)):
            ids, mel, n_ids, n_frames = batch_tensors(items, idx)
            la = log_attention(aligner, ids, mel, n_ids, n_frames, cache).numpy()
            for b, i in enumerate(idx):
                durs[i] = full_durations(torch.from_numpy(mas(la[b, : n_frames[b], : n_ids[b]])),
                                         items[i]["keep"])
    torch.save(dict(durations=durs, step=step), os.path.join(a.ckpt_dir, "durations.pt"))
    print(f"wrote durations for {len(durs)} utterances after {step} aligner steps", flush=True)


if __name__ == "__main__":
    main()

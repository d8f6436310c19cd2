"""Deep clone: fine-tune the shipped acoustic model on a few minutes of one person's read speech
(known text) into a small weights delta, on CPU.

  /usr/bin/python3 -m models.acoustic.finetune --folder DIR --language cs --out voice.delta.json
  (DIR holds NAME.wav + NAME.txt pairs; or --pairs FILE.tsv with "path<TAB>text" lines)

What is learned (everything else stays the shipped model's):
  * the speaker vector (16 numbers), started from the built-in voice that fits the speech best;
  * low-rank updates (rank --rank) of the decoder's and the pitch and duration predictors'
    convolutions, and full updates of the small tensors around them (biases, layer norms,
    speaker projections, pitch embedding, mel output): intonation, rhythm and timbre.
The encoder (what the phonemes mean) stays frozen.

Alignment is the model's own: each phoneme is modelled by the cepstra of the mel the model
predicts for it, and monotonic alignment search (MAS) finds the best path through the person's
frames; after a third of the steps the adapted model aligns again.

The result is a voice profile (docs/voice-profile.md, version 2): the speaker vector as its
"embedding" and the delta as its "acoustic_delta" (format "ganvoice-acoustic-delta", version 1:
the tensors as base64 little-endian float32, and the base model's SHA-256), used by
`ganvoice voice=PROFILE` and speaker-map like any other profile.
"""
import argparse
import base64
import glob
import json
import math
import os
import random
import signal
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.utils.parametrize as parametrize

from models.acoustic.align import features
from models.acoustic.model import AcousticModel, mas
from models.acoustic.prepare_data import f0_track
from models.acoustic.train import LOG_CLAMP, make_batches, phoneme_f0
from models.acoustic.ttsdrive import Inventory, phonemize, round_durations
from models.common.audio import decode, trim
from models.common.files import file_digest
from models.common.mel import MelSpectrogram

HERE = os.path.dirname(os.path.abspath(__file__))
DELTA_FORMAT = "ganvoice-acoustic-delta"
DELTA_VERSION = 2  # this recipe writes version 1 (it adds no phonemes); the C++ fine-tuner may write 2


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------ data

def read_pairs(folder=None, pairs=None):
    out = []
    if folder:
        for wav in sorted(glob.glob(os.path.join(folder, "*.wav"))):
            txt = wav[:-4] + ".txt"
            if os.path.exists(txt):
                out.append((wav, open(txt, encoding="utf-8").read().strip()))
    if pairs:
        for line in open(pairs, encoding="utf-8"):
            if "\t" in line:
                path, text = line.rstrip("\n").split("\t", 1)
                out.append((path, text.strip()))
    return [(p, t.replace("\n", " ")) for p, t in out if t]


def load_utterances(pairs, language, inventory, seconds=None, phonemizer=None):
    """[(path, text)] -> items with mel [80, T], frame F0 [T], ids [N]; at most `seconds` of speech."""
    kw = {"binary": phonemizer} if phonemizer else {}
    symbols = phonemize([t for _, t in pairs], language, **kw)
    mel_fn = MelSpectrogram()
    items, total = [], 0.0
    for (path, text), syms in zip(pairs, symbols):
        ids = inventory.encode(syms)
        if len(ids) < 2:
            continue
        x = trim(decode(path), thresh_db=-40.0, margin=0.05)
        if len(x) < 22050 * 0.3:
            continue
        peak = float(np.max(np.abs(x)))
        x = x * (0.9 / peak) if peak > 0 else x
        x = x[: len(x) // 256 * 256]
        with torch.no_grad():
            mel = mel_fn(torch.from_numpy(x.astype(np.float32))[None])[0]
        f0 = f0_track(x)[: mel.shape[1]]
        if mel.shape[1] < len(ids) + 2:
            continue
        items.append(dict(path=path, text=text, ids=torch.tensor(ids, dtype=torch.long), mel=mel,
                          f0=torch.from_numpy(f0)))
        total += len(x) / 22050
        if seconds and total >= seconds:
            break
    clean_speaker_f0([it["f0"] for it in items])
    return items, total


def clean_speaker_f0(tracks, max_ratio=1.8):
    """One speaker's frame F0 tracks (Hz, 0 = unvoiced), in place, without the tracker's octave and range-edge
    errors: voiced frames further than max_ratio from the speaker's median F0 become unvoiced, and so do voiced
    frames left alone. Returns how many were unvoiced. (C++: gst/voice/speech-alignment.cpp)"""
    voiced = [f[f > 0] for f in tracks]
    if not voiced or sum(len(v) for v in voiced) == 0:
        return 0
    median = float(torch.cat(voiced).median())
    removed = 0
    for f in tracks:
        inside = (f >= median / max_ratio) & (f <= median * max_ratio)
        prev = torch.cat([torch.zeros(1, dtype=torch.bool), inside[:-1]])
        nxt = torch.cat([inside[1:], torch.zeros(1, dtype=torch.bool)])
        keep = inside & (prev | nxt)
        removed += int(((f > 0) & ~keep).sum())
        f[~keep] = 0.0
    return removed


def band_bins(items):
    """Mel bins the recordings really have (a telephone recording has nothing above ~3.6 kHz):
    bins whose median level is clearly above the floor."""
    med = torch.cat([it["mel"] for it in items], dim=1).median(dim=1).values
    keep = med > LOG_CLAMP + 2.0
    return keep if keep.sum() >= 20 else torch.ones_like(keep)


# ------------------------------------------------------------------------------------ alignment

@torch.no_grad()
def align(model, speaker, items, zero_ids, bins):
    """Durations [N] per item: MAS of the person's cepstra against Gaussians centred on the
    cepstra of the mel the model predicts for each phoneme (variance: the utterance's own)."""
    out = []
    for it in items:
        ids = it["ids"][None]
        keep = np.array([int(i) not in zero_ids for i in it["ids"]])
        pred = model.durations(ids, speaker)[0].clamp(min=1.0)
        frames = torch.tensor([[max(1, f) for f in round_durations(pred.tolist())]])
        frames[0, ~torch.from_numpy(keep)] = 0
        m = model.decode(ids, speaker, frames, 0.0)[0]
        fm = features(m[bins])
        fr = features(it["mel"][bins])
        seg = np.repeat(np.arange(len(keep)), frames[0].numpy())
        means = np.stack([fm[seg == n].mean(0) for n in np.nonzero(keep)[0]])
        var = fr.var(0) + 1e-3
        ll = -0.5 * (((fr[:, None, :] - means[None]) ** 2) / var).sum(-1)
        if fr.shape[0] < means.shape[0]:
            out.append(None)
            continue
        d = mas(ll)
        full = np.zeros(len(keep), dtype=np.int64)
        full[keep] = d
        out.append(torch.from_numpy(full))
    return out


# ------------------------------------------------------------------------------------ the delta

class LowRankDelta(nn.Module):
    """weight + B @ A (reshaped): a conv weight [out, in, k] adapted at rank r."""

    def __init__(self, shape, rank):
        super().__init__()
        fan_in = int(np.prod(shape[1:]))
        self.shape = tuple(shape)
        self.a = nn.Parameter(torch.randn(rank, fan_in) / math.sqrt(fan_in))
        self.b = nn.Parameter(torch.zeros(shape[0], rank))

    def forward(self, w):
        return w + (self.b @ self.a).view(self.shape)


def attach_delta(model, rank, fine_tune):
    """Freezes the model, then makes the parts the card's "fine_tune" names trainable: low-rank updates of
    the convolutions under its "low_rank" prefixes, full updates of the other tensors under its "full"
    prefixes. Returns (params, full names)."""
    low_rank, full_prefixes = tuple(fine_tune["low_rank"]), tuple(fine_tune["full"])
    for p in model.parameters():
        p.requires_grad_(False)
    params, full = [], []
    for name, module in list(model.named_modules()):
        if isinstance(module, nn.Conv1d) and name.startswith(low_rank) and module.weight.shape[2] > 1:
            parametrize.register_parametrization(module, "weight", LowRankDelta(module.weight.shape, rank))
            params += list(module.parametrizations.weight[0].parameters())
    for name, p in model.named_parameters():
        if "parametrizations" in name:
            continue
        if name.startswith(full_prefixes):
            p.requires_grad_(True)
            params.append(p)
            full.append(name)
    return params, full


def b64(t):
    return base64.b64encode(t.detach().float().contiguous().numpy().astype("<f4").tobytes()).decode("ascii")


def unb64(s, shape):
    return torch.from_numpy(np.frombuffer(base64.b64decode(s), dtype="<f4").copy()).view(*shape)


def make_delta(model, base_state, full_names, speaker, meta):
    tensors = []
    for name, module in model.named_modules():
        if parametrize.is_parametrized(module, "weight"):
            d = module.parametrizations.weight[0]
            tensors.append({"name": name + ".weight", "kind": "low-rank", "shape": list(d.shape),
                            "rank": int(d.a.shape[0]), "a": b64(d.a), "b": b64(d.b)})
    state = dict(model.named_parameters())
    for name in full_names:
        diff = state[name].detach() - base_state[name]
        tensors.append({"name": name, "kind": "add", "shape": list(diff.shape), "data": b64(diff)})
    return dict(format=DELTA_FORMAT, version=1, speaker_embedding=[float(v) for v in speaker[0]],
                tensors=tensors, **meta)


def make_profile(delta, name, language, card, gender=""):
    """The voice profile (version 2) that carries the delta."""
    delta = dict(delta)
    embedding = delta.pop("speaker_embedding")
    profile = dict(format="ganvoice-voice-profile", version=2, name=name, language=language,
                   model=card.get("name", ""), embedding=embedding, acoustic_delta=delta)
    if gender:
        profile["gender"] = gender
    return profile


def profile_delta(doc):
    """(delta, speaker embedding) from a profile or a bare delta document."""
    if "acoustic_delta" in doc:
        return doc["acoustic_delta"], doc["embedding"]
    return doc, doc["speaker_embedding"]


def apply_delta(state, delta):
    """A copy of the state dict with the delta added (what the runtime does at load). Version 2 deltas
    (made by the C++ VoiceFineTuner) may add phonemes: their embedding rows are appended ("rows")."""
    if delta.get("format") != DELTA_FORMAT or not 1 <= int(delta.get("version", 0)) <= DELTA_VERSION:
        raise ValueError("not a %s document of version 1 .. %d" % (DELTA_FORMAT, DELTA_VERSION))
    out = {k: v.clone() for k, v in state.items()}
    for t in delta["tensors"]:
        shape = t["shape"]
        if t["kind"] == "rows":
            out[t["name"]] = torch.cat([out[t["name"]], unb64(t["data"], shape)])
        elif t["kind"] == "low-rank":
            r = int(t["rank"])
            a = unb64(t["a"], (r, int(np.prod(shape[1:]))))
            b = unb64(t["b"], (shape[0], r))
            out[t["name"]] += (b @ a).view(*shape)
        else:
            out[t["name"]] += unb64(t["data"], shape)
    return out


# ------------------------------------------------------------------------------------- training

def load_base(path, delta=None):
    """The exported model as an eager AcousticModel, and its state; with @delta, the deep voice's model."""
    ts = torch.jit.load(path, map_location="cpu")
    state = {k: v.detach().clone() for k, v in ts.state_dict().items()}
    if delta is not None:
        state = apply_delta(state, delta)
    model = AcousticModel(n_phonemes=state["embed.weight"].shape[0], n_speakers=state["speaker_table.weight"].shape[0],
                          speaker_dim=state["spk_enc.weight"].shape[1], hidden=state["embed.weight"].shape[1],
                          f0_mean=float(ts.f0_mean), f0_std=float(ts.f0_std))
    model.load_state_dict(state)
    return model.eval(), state


def losses(model, speaker, items, idx, bins):
    B = len(idx)
    N = max(items[i]["ids"].shape[0] for i in idx)
    T = max(items[i]["mel"].shape[1] for i in idx)
    ids = torch.zeros(B, N, dtype=torch.long)
    durs = torch.zeros(B, N, dtype=torch.long)
    mel = torch.full((B, 80, T), LOG_CLAMP)
    lf0 = torch.zeros(B, T)
    voiced = torch.zeros(B, T)
    id_mask = torch.zeros(B, 1, N)
    mel_mask = torch.zeros(B, 1, T)
    for b, i in enumerate(idx):
        it = items[i]
        n, t = it["ids"].shape[0], it["mel"].shape[1]
        ids[b, :n], durs[b, :n], mel[b, :, :t] = it["ids"], it["durations"], it["mel"]
        f0 = it["f0"]
        v = f0 > 0
        lf0[b, :t] = torch.where(v, (torch.log(f0.clamp(min=1.0)) - model.f0_mean) / model.f0_std, torch.zeros_like(f0))
        voiced[b, :t] = v.float()
        id_mask[b, 0, :n] = 1.0
        mel_mask[b, 0, :t] = 1.0
    pf0 = phoneme_f0(durs, lf0, voiced)
    spk = speaker.expand(B, -1)
    mel_pred, log_dur, f0_pred = model.forward_train(ids, id_mask, spk, durs, pf0, T, mel_mask)
    w = mel_mask * bins.float()[None, :, None]
    loss_mel = ((mel_pred - mel).abs() * w).sum() / w.sum()
    n_id = id_mask.sum()
    loss_dur = (((log_dur - torch.log1p(durs.float())) ** 2) * id_mask[:, 0]).sum() / n_id
    loss_f0 = (((f0_pred - pf0) ** 2) * id_mask[:, 0]).sum() / n_id
    return loss_mel, loss_dur, loss_f0


@torch.no_grad()
def calibrate_pitch_spread(model, speaker, items, low=1.0, high=1.8):
    """A pitch predictor trained on squared error flattens intonation, and one value per phoneme
    has no movement inside the phoneme: scales the predictor's output around the speaker's mean
    so that the within-sentence spread of the predicted pitch, held over each phoneme's frames,
    matches the spread of the recordings' frame F0 (measured on the training sentences). The
    centre is the predicted pitch's own mean, so the voice's median stays where training put it.
    The scale is folded into pitch.out."""
    real_sd, pred_sd, pred_all = [], [], []
    for it in items:
        ids, durs = it["ids"][None], it["durations"]
        T = it["mel"].shape[1]
        f0 = it["f0"][:T]
        voiced = f0 > 0
        if voiced.sum() < 10:
            continue
        lf0 = (torch.log(f0[voiced].clamp(min=1.0)) - model.f0_mean) / model.f0_std
        mask = torch.ones(1, 1, ids.shape[1])
        pred = model.pitch(model.encode(ids, speaker, mask), mask)[0]
        held = torch.repeat_interleave(pred, durs)[:T][voiced[: int(durs.sum())]]
        if held.numel() < 10:
            continue
        real_sd.append(float(lf0.std()))
        pred_sd.append(float(held.std()))
        pred_all.append(held)
    if not real_sd or np.mean(pred_sd) <= 0:
        return 1.0
    scale = float(np.clip(np.mean(real_sd) / np.mean(pred_sd), low, high))
    centre = float(torch.cat(pred_all).mean())
    out = model.pitch.out
    out.weight.mul_(scale)
    out.bias.mul_(scale).add_((1.0 - scale) * centre)
    return scale


def choose_start_voice(model, card, items, zero_ids, bins):
    """The built-in voice whose aligned, teacher-forced mel is closest to the person's. Voices of the
    voice library (a "profile" with their own delta) are not starting points: their embedding alone
    is not their voice."""
    best = None
    sample = items[: min(12, len(items))]
    for v in card["voices"]:
        if "profile" in v:
            continue
        spk = torch.tensor([v["embedding"]], dtype=torch.float32)
        durs = align(model, spk, sample, zero_ids, bins)
        use = [dict(it, durations=d) for it, d in zip(sample, durs) if d is not None]
        with torch.no_grad():
            loss = float(losses(model, spk, use, list(range(len(use))), bins)[0])
        log(f"  start voice {v['name']}: mel L1 {loss:.3f}")
        if best is None or loss < best[0]:
            best = (loss, v["name"], spk)
    return best


def finetune(items, card, base_path, rank=8, time_limit=480.0, max_steps=2000, lr=2e-3, seed=1234,
             max_spread=1.0, progress=None, stop=None):
    torch.manual_seed(seed)
    model, base_state = load_base(base_path)
    zero_ids = {card["phonemes"].index(s) for s in card["fine_tune"]["zero_frame_phonemes"] if s in card["phonemes"]}
    bins = band_bins(items)
    loss0, start_voice, spk0 = choose_start_voice(model, card, items, zero_ids, bins)
    log(f"starting from {start_voice} ({int(bins.sum())} of 80 mel bins used)")
    speaker = nn.Parameter(spk0.clone())
    params, full_names = attach_delta(model, rank, card["fine_tune"])
    opt = torch.optim.Adam([{"params": params, "lr": lr}, {"params": [speaker], "lr": lr * 5}])
    t_start = time.time()
    step, realigned = 0, False
    model.eval()  # dropout off: few minutes of data, few steps
    durs = align(model, speaker.detach(), items, zero_ids, bins)
    use = [dict(it, durations=d) for it, d in zip(items, durs) if d is not None]
    rng = random.Random(seed)
    hist = []
    while step < max_steps and time.time() - t_start < time_limit and not (stop and stop()):
        if not realigned and (step >= max_steps // 3 or time.time() - t_start > time_limit / 3):
            durs = align(model, speaker.detach(), items, zero_ids, bins)
            use = [dict(it, durations=d) for it, d in zip(items, durs) if d is not None]
            realigned = True
            log(f"step {step}: aligned again with the adapted model")
        for bidx in make_batches(use, 3000, rng):
            frac = min(1.0, max(step / max_steps, (time.time() - t_start) / time_limit))
            for g, base_lr in zip(opt.param_groups, (lr, lr * 5)):
                g["lr"] = base_lr * min(1.0, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
            lm, ld, lf = losses(model, speaker, use, bidx, bins)
            loss = lm + 0.3 * ld + 0.1 * lf
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params + [speaker], 1.0)
            opt.step()
            step += 1
            hist.append((float(lm), float(ld), float(lf)))
            if step % 25 == 0:
                m = np.mean(hist[-25:], axis=0)
                log(f"step {step} {time.time() - t_start:.0f}s mel {m[0]:.3f} dur {m[1]:.3f} f0 {m[2]:.3f}")
            if progress:
                progress(frac)
            if step >= max_steps or time.time() - t_start >= time_limit or (stop and stop()):
                break
    spread = 1.0
    if max_spread > 1.0:  # off by default: see docs/cloning-evaluation.md, "Deep clones"
        spread = calibrate_pitch_spread(model, speaker.detach(), use, high=max_spread)
        log(f"pitch spread scaled by {spread:.2f} (the real speech's within-sentence spread over the model's)")
    meta = dict(base=dict(name=card.get("name", ""), sha256=file_digest(base_path)), start_voice=start_voice,
                pitch_spread_scale=round(spread, 3),
                steps=step, seconds=round(time.time() - t_start, 1), rank=rank,
                speech_seconds=round(sum(it["mel"].shape[1] for it in items) * 256 / 22050, 1),
                utterances=len(items), mel_l1_start=round(loss0, 4),
                mel_l1_end=round(float(np.mean([h[0] for h in hist[-25:]])) if hist else loss0, 4))
    return make_delta(model, base_state, full_names, speaker.detach(), meta)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--folder", help="NAME.wav + NAME.txt pairs")
    ap.add_argument("--pairs", help="TSV: path<TAB>text")
    ap.add_argument("--language", required=True, help="espeak-ng language of the text")
    ap.add_argument("--out", required=True, help="the voice profile (JSON)")
    ap.add_argument("--name", default=None, help="the voice's name (default: the file name)")
    ap.add_argument("--gender", default="", choices=["", "female", "male"])
    ap.add_argument("--seconds", type=float, default=None, help="use at most this much speech")
    ap.add_argument("--model", default=os.path.join(HERE, "acoustic.ts"))
    ap.add_argument("--card", default=os.path.join(HERE, "acoustic.json"))
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--time-limit", type=float, default=480.0, help="seconds of training")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-pitch-spread", type=float, default=1.0,
                    help="widen the predicted intonation up to this factor to match the recordings' (1: off)")
    ap.add_argument("--phonemizer", default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    pairs = read_pairs(a.folder, a.pairs)
    if not pairs:
        sys.exit("finetune: no speech with text (give --folder or --pairs)")
    card = json.load(open(a.card, encoding="utf-8"))
    items, total = load_utterances(pairs, a.language, Inventory(card["phonemes"]), a.seconds, a.phonemizer)
    if total < 20.0:
        sys.exit(f"finetune: only {total:.0f} s of usable speech; at least 20 s (better 1-5 minutes) is needed")
    log(f"{len(items)} utterances, {total:.0f} s of speech")
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    delta = finetune(items, card, a.model, a.rank, a.time_limit, a.steps, max_spread=a.max_pitch_spread,
                     stop=lambda: stop["now"])
    name = a.name or os.path.basename(a.out).split(".")[0]
    profile = make_profile(delta, name, a.language, card, a.gender)
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(profile, fh)
    os.replace(tmp, a.out)
    log(f"wrote {a.out} ({os.path.getsize(a.out) / 1e6:.2f} MB): {delta['steps']} steps in {delta['seconds']} s, "
        f"mel L1 {delta['mel_l1_start']} -> {delta['mel_l1_end']}")


if __name__ == "__main__":
    main()

"""Export the speaker encoder: models/speaker/speaker.ts + speaker.json.

  /usr/bin/python3 -m models.speaker.export [--ckpt /var/tmp/ganvoice/speaker/ckpt/last.pt]

The card holds the encoder's embeddings of the acoustic model's built-in
voices (the mean over 10 s chunks of their training recordings), which is
what ganvoice's blend_voices() compares a reference with, and held-out
metrics: identification among 11 speakers (6 unseen: the fillets-ng-data-cs
fish, asterisk-prompt-fr-armelle, -es-co, -it-menardi, the pocketsphinx
LibriVox reader; and the 5 built-in voices), one 10 s enrollment chunk per
speaker against 3 s test chunks, nearest by cosine, plus the equal error
rate of all chunk pairs. Held-out audio is only ever scored here.
"""
import argparse
import json
import os
import random

import numpy as np
import torch

from models.speaker import encoder as M
from models.speaker import evaluate_cloning as EC

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))

TEMPERATURE = 0.05


def load_encoder(ckpt):
    ck = torch.load(ckpt, map_location="cpu")
    enc = M.SpeakerEncoder()
    enc.load_state_dict(ck["enc"])
    enc.eval()
    return enc, ck


def clips16(files, seconds, seed):
    order = list(files)
    random.Random(seed).shuffle(order)
    out, total = [], 0.0
    for f in order:
        x, _ = EC.decode(f, M.SAMPLE_RATE)
        if len(x) < M.SAMPLE_RATE or np.max(np.abs(x)) < 1e-3:
            continue
        out.append(x / max(1e-3, float(np.max(np.abs(x)))) * 0.5)
        total += len(x) / M.SAMPLE_RATE
        if total >= seconds:
            break
    return out


def chunks(clips, seconds):
    """Clips joined and cut into chunks of `seconds` (the last partial one dropped)."""
    cat = np.concatenate(clips)
    n = int(seconds * M.SAMPLE_RATE)
    return [cat[i:i + n] for i in range(0, len(cat) - n + 1, n)]


@torch.no_grad()
def embed(enc, x):
    return enc(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None])[0].numpy()


def eer(scores, labels):
    order = np.argsort(-scores)
    labels = labels[order]
    tp = np.cumsum(labels) / max(1, labels.sum())
    fp = np.cumsum(1 - labels) / max(1, (1 - labels).sum())
    i = np.argmin(np.abs((1 - tp) - fp))
    return float(((1 - tp[i]) + fp[i]) / 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="/var/tmp/ganvoice/speaker/ckpt/last.pt")
    ap.add_argument("--root", default="/var/tmp/ganvoice")
    ap.add_argument("--acoustic-card", default=os.path.join(REPO, "models/acoustic/acoustic.json"))
    ap.add_argument("--out", default=os.path.join(HERE, "speaker.ts"))
    ap.add_argument("--no-heldout", action="store_true", help="skip the held-out metrics")
    a = ap.parse_args()
    torch.set_num_threads(1)
    enc, ck = load_encoder(a.ckpt)
    scripted = torch.jit.script(enc)
    probe = torch.randn(1, 32000) * 0.1
    assert torch.allclose(scripted(probe), enc(probe), atol=1e-5)

    data = os.path.join(a.root, "data")
    files = EC.speaker_files(data)
    acoustic = json.load(open(a.acoustic_card))
    voices = []
    for v in acoustic["voices"]:
        if "profile" in v:  # the voice library's: not the speech the encoder's card describes
            continue
        chs = chunks(clips16(files[v["name"]], 60.0, "voice-" + v["name"]), 10.0)
        e = np.mean([embed(enc, c) for c in chs], axis=0)
        e = e / np.linalg.norm(e)
        voices.append({"name": v["name"], "language": v["language"], "gender": v["gender"],
                       "embedding": [round(float(x), 5) for x in e]})
        print(f"voice {v['name']}: {len(chs)} chunks", flush=True)

    metrics = {}
    if not a.no_heldout:
        names = list(EC.TARGETS) + list(EC.BUILTINS)
        enroll, tests = {}, {}
        for n in names:
            cl = clips16(files[n], 45.0, "heldout-" + n)
            ch = chunks(cl, 3.0)
            if len(ch) < 5:
                print(f"{n}: too little audio ({len(ch)} chunks)", flush=True)
                continue
            e = embed(enc, np.concatenate(ch[:3]))  # 9 s enrollment
            enroll[n] = e / np.linalg.norm(e)
            tests[n] = [embed(enc, c) for c in ch[3:13]]
        keys = list(enroll)
        E = np.stack([enroll[k] for k in keys])
        correct, total, per = 0, 0, {}
        scores, labels = [], []
        for k in keys:
            ok = 0
            for t in tests[k]:
                s = E @ t
                ok += int(keys[int(np.argmax(s))] == k)
                scores.extend(s.tolist())
                labels.extend([int(j == k) for j in keys])
            per[k] = round(ok / len(tests[k]), 3)
            correct += ok
            total += len(tests[k])
        metrics = {
            "heldout_identification": {
                "speakers": len(keys), "trials": total,
                "accuracy": round(correct / total, 3), "per_speaker": per,
                "method": "9 s enrollment vs 3 s test chunks, nearest by cosine, 11 speakers "
                          "(6 unseen held-out + 5 built-in voices' recordings)"},
            "heldout_eer": round(eer(np.array(scores), np.array(labels)), 3),
        }
        print(json.dumps(metrics, indent=1), flush=True)

    scripted.save(a.out)
    card = {
        "name": "ganvoice-speaker",
        "kind": "speaker",
        "version": "1",
        "sample_rate": M.SAMPLE_RATE, "n_fft": M.N_FFT, "win": M.WIN, "hop": M.HOP,
        "n_mels": M.N_MELS, "fmin": M.FMIN, "fmax": M.FMAX,
        "mel": {"scale": "slaney", "norm": "slaney", "clamp": 1e-5},
        "speaker_embedding_dim": enc.embedding_dim,
        "acoustic_model": acoustic["name"],
        "blend_temperature": TEMPERATURE,
        "voices": voices,
        "inputs": [{"name": "audio", "shape": [1, "samples"], "dtype": "float32",
                    "note": "mono, 16 kHz, full scale +-1; at least 0.5 s"}],
        "outputs": [{"name": "embedding", "shape": [1, enc.embedding_dim], "dtype": "float32",
                     "note": "unit length"}],
        "architecture": "log-mel -> 4 conv blocks (dilations 1/2/3/4, 192 ch, BatchNorm, "
                        "residual) -> 576 ch -> mean+std pooling over frames within 45 dB of "
                        "the loudest -> Linear -> L2 norm; "
                        f"{sum(p.numel() for p in enc.parameters())} parameters",
        "training": {
            "recipe": "models/speaker/train.py (GE2E softmax over virtual speakers: spectral "
                      "envelope warp 0.85-1.18, pitch (fine structure) warp 0.75-1.35, smooth "
                      "EQ +-5 dB; per segment level +-10 dB and 30 % telephone band limits)",
            "steps": ck["step"], "seconds": round(ck["trained_s"]), "device": "cpu (1 thread)",
            "real_speakers": ck["speakers"],
            "data": ["asterisk-core-sounds-{en,es,fr,it,ru}-g722 1.6.1-1 (en without conf-*): "
                     "CC-BY-SA-3.0 (en, es, fr), CC-BY-3.0 (it, ru); Allison Smith, June "
                     "Wallack, Carlo Flora, Maxim Topal (ivrvoice.ru), Digium, Inc.",
                     "fillets-ng-data, fillets-ng-data-nl 1.0.1-1.1: GPL-2; Fish Fillets NG "
                     "(Ivo & Pavel Danihelka, ALTAR interactive and contributors)"],
            "heldout_never_trained_on": ["asterisk-prompt-es-co", "asterisk-prompt-fr-armelle",
                                         "asterisk-prompt-it-menardi*", "fillets-ng-data-cs",
                                         "pocketsphinx-testdata", "English conf-* prompts"],
        },
        "metrics": metrics,
    }
    with open(os.path.splitext(a.out)[0] + ".json", "w") as f:
        json.dump(card, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {a.out} ({os.path.getsize(a.out) / 1e6:.1f} MB) and its card", flush=True)


if __name__ == "__main__":
    main()

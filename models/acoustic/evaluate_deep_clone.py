"""Deep clone against the quick clone, on held-out speakers never trained on.

  /usr/bin/python3 -m models.acoustic.evaluate_deep_clone [--targets es-co] [--minutes 1 3]

For each target: its transcribed clips are shuffled (seeded); 15 are the test sentences, never
used for cloning; the deep clone is fine-tuned (models.acoustic.finetune) on the first 1 and 3
minutes of the rest; the quick clone is speakerembed's profile from the first 10 s of the same
clips. Each voice speaks the test sentences; against the target's real recordings of them:
  * MCD-DTW (models.common.mcd, c1..c13, in the target's band), mean and 95 % paired bootstrap
    interval of the difference to the quick clone;
  * F0 median (Hz) and within-utterance F0 spread (standard deviation in semitones, mean over
    sentences) against the real recordings'.
The deep clone speaks through the Python reference of the runtime (the acoustic model with the
delta added, the shipped vocoder); the quick clone and the built-in voice through GStreamer
(`ganvoice`). Needs the data under --data (models.common.data.fetch of the held-out packages and
asterisk-core-sounds-XX for the transcripts) and a build (--build).
"""
import argparse
import glob
import json
import os
import random
import sys

import numpy as np
import torch
from scipy.io import wavfile

from models.acoustic import finetune as FT
from models.acoustic.ttsdrive import Inventory, phonemize, round_durations
from models.common import mcd as MCD
from models.common.audio import decode, probe_rate
from models.common.data import asterisk_transcripts
from models.acoustic.prepare_data import LUA
from models.speaker.evaluate_cloning import Gst, make_profile, synthesize, transcripts

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
N_TEST = 15
QUICK_SECONDS = 10.0
TARGETS = {  # name -> (espeak language, package, sound folder, transcript language)
    "es-co": ("es", "asterisk-prompt-es-co", "usr/share/asterisk/sounds/es", "es"),
    "fr-armelle": ("fr", "asterisk-prompt-fr-armelle", "usr/share/asterisk/sounds/fr", "fr"),
    "it-menardi": ("it", "asterisk-prompt-it-menardi-wav", "usr/share/asterisk/sounds/it_IT_f_Menardi", "it"),
    # fillets-ng-data-cs: the two fish (file names "<level>-m-…" and "<level>-v-…"), Czech, 22 kHz;
    # the words are the dialogStr of fillets-ng-data's script/*/dialogs_cs.lua
    "cs-m": ("cs", "fillets-ng-data-cs", "usr/share/games/fillets-ng/sound", "cs"),
    "cs-v": ("cs", "fillets-ng-data-cs", "usr/share/games/fillets-ng/sound", "cs"),
    # pocketsphinx-testdata: a LibriVox reader, English, 16 kHz
    "librivox": ("en-us", "pocketsphinx-testdata", "usr/share/pocketsphinx/test/data/librivox", "en"),
}


def fillets_pairs(data, code):
    script = os.path.join(data, "fillets-ng-data", "usr/share/games/fillets-ng/script")
    sound = os.path.join(data, "fillets-ng-data-cs", "usr/share/games/fillets-ng/sound")
    pairs = []
    for lua in sorted(glob.glob(os.path.join(script, "*", "dialogs_cs.lua"))):
        level = os.path.basename(os.path.dirname(lua))
        src = open(lua, encoding="utf-8", errors="replace").read()
        for ident, _font, _en, cs in LUA.findall(src):
            path = os.path.join(sound, level, "cs", ident + ".ogg")
            parts = ident.split("-")
            if len(parts) == 3 and parts[1] == code and os.path.exists(path) and cs.strip():
                pairs.append((path, cs.replace('\\"', '"').replace("\\n", " ").strip()))
    return pairs


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def target_pairs(data, name):
    lang, pkg, sub, tlang = TARGETS[name]
    if name.startswith("cs-"):
        pairs = fillets_pairs(data, name[3:])
        random.Random(f"deep-{name}").shuffle(pairs)
        return pairs[:N_TEST], pairs[N_TEST:]
    if name == "librivox":
        texts = transcripts(data)["librivox"]
        files = sorted(glob.glob(os.path.join(data, pkg, sub, "*.wav")))
        pairs = [(f, texts[os.path.basename(f)[:-4]]) for f in files if os.path.basename(f)[:-4] in texts]
        random.Random(f"deep-{name}").shuffle(pairs)
        return pairs[:N_TEST], pairs[N_TEST:]
    found = glob.glob(os.path.join(data, f"asterisk-core-sounds-{tlang}", "**", f"core-sounds-{tlang}.txt.gz"),
                      recursive=True)
    if not found:
        sys.exit(f"evaluate_deep_clone: no core-sounds-{tlang}.txt.gz under {data}")
    texts = {os.path.basename(k): t for k, t in asterisk_transcripts(found[0])}
    files = sorted(f for f in glob.glob(os.path.join(data, pkg, sub, "*"))
                   if os.path.splitext(os.path.basename(f))[0] in texts)
    pairs = [(f, texts[os.path.splitext(os.path.basename(f))[0]]) for f in files]
    random.Random(f"deep-{name}").shuffle(pairs)
    return pairs[:N_TEST], pairs[N_TEST:]


def python_voice(doc, base, card):
    """The deep voice's model, speaker vector and phoneme inventory (the card's plus any it adds)."""
    delta, embedding = FT.profile_delta(doc)
    model, _ = FT.load_base(base, delta)
    return (model, torch.tensor([embedding], dtype=torch.float32),
            Inventory(card["phonemes"] + delta.get("phonemes", [])))


@torch.no_grad()
def speak_python(model, speaker, vocoder, inventory, sentences, lang):
    out = []
    for syms in phonemize(sentences, lang):
        ids = torch.tensor([inventory.encode(syms)], dtype=torch.long)
        frames = round_durations(model.durations(ids, speaker)[0].tolist())
        mel = model.decode(ids, speaker, torch.tensor([frames]), 0.0)
        out.append(vocoder(mel)[0].numpy().astype(np.float32))
    return out


def cut_cues(wav_path, meta, n):
    rate, x = wavfile.read(wav_path)
    x = x.astype(np.float32)
    none = 2 ** 64 - 1
    out = []
    for c in meta["cues"][:n]:
        a, b = c.get("speech-start", none), c.get("speech-end", none)
        out.append(x[int(a * rate // 1e9):int(b * rate // 1e9)] if a != none and b != none else np.zeros(0))
    return out, rate


def f0_stats(analyses):
    allf, spread = [], []
    for a in analyses:
        f = a.f0[a.voiced]
        if len(f) > 5:
            allf.append(f)
            spread.append(float(np.std(12 * np.log2(f))))
    return float(np.median(np.concatenate(allf))) if allf else float("nan"), float(np.mean(spread) if spread else 0)


def bootstrap(diff, seed=7, n=2000):
    rng = np.random.default_rng(seed)
    d = np.asarray(diff)
    means = [float(np.mean(d[rng.integers(0, len(d), len(d))])) for _ in range(n)]
    return float(np.mean(d)), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--targets", nargs="+", default=["es-co"])
    ap.add_argument("--minutes", nargs="+", type=float, default=[1.0, 3.0])
    ap.add_argument("--data", default="/var/tmp/ganvoice/data")
    ap.add_argument("--work", default="/var/tmp/ganvoice/deep")
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--model-dir", default=os.path.join(REPO, "models"))
    ap.add_argument("--time-limit", type=float, default=480.0, help="fine-tuning seconds per clone")
    ap.add_argument("--out", default=None, help="results JSON (default <work>/results.json)")
    ap.add_argument("--max-pitch-spread", type=float, default=1.0, help="see models.acoustic.finetune")
    a = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(a.work, exist_ok=True)
    base = os.path.join(a.model_dir, "acoustic", "acoustic.ts")
    card = json.load(open(os.path.join(a.model_dir, "acoustic", "acoustic.json"), encoding="utf-8"))
    vocoder = torch.jit.load(os.path.join(a.model_dir, "vocoder", "vocoder.ts")).eval()
    inventory = Inventory(card["phonemes"])
    gst = Gst(a.build, a.model_dir, a.work)
    results = {}
    for name in a.targets:
        lang = TARGETS[name][0]
        test, train = target_pairs(a.data, name)
        native = probe_rate(test[0][0])
        narrow = native <= 8000
        real = [MCD.Analysis(MCD.trim(MCD.to16k_band(decode(f, native, float_samples=True), native, narrow)))
                for f, _ in test]
        sentences = [t for _, t in test]
        voices = {}
        # the quick clone: speakerembed on the first 10 s of the training clips
        ref, acc = [], 0.0
        for f, _ in train:
            x = decode(f, native, float_samples=True)
            ref.append(x)
            acc += len(x) / native
            if acc >= QUICK_SECONDS:
                break
        ref_wav = os.path.join(a.work, f"{name}-ref.wav")
        wavfile.write(ref_wav, native, (np.concatenate(ref) * 32767 * 0.9).astype(np.int16))
        prof, _ = make_profile(gst, f"{name}-quick", ref_wav, lang, os.path.join(a.work, "profiles"), False)
        for label, voice in (("quick", prof),):
            m = synthesize(gst, f"{label}-{name}", voice, lang, sentences, os.path.join(a.work, "synth"), False)
            voices[label] = cut_cues(os.path.join(a.work, "synth", f"{label}-{name}.wav"), m, len(sentences))
        # the deep clones
        items_all, _ = FT.load_utterances(train, lang, inventory)
        for minutes in a.minutes:
            path = os.path.join(a.work, f"{name}-{minutes:g}min.json")
            items, got = [], 0.0
            for it in items_all:
                items.append(it)
                got += it["mel"].shape[1] * 256 / 22050
                if got >= minutes * 60:
                    break
            if not os.path.exists(path):
                log(f"{name}: fine-tuning on {got:.0f} s")
                delta = FT.finetune(items, card, base, time_limit=a.time_limit, max_spread=a.max_pitch_spread)
                json.dump(FT.make_profile(delta, f"{name}-deep-{minutes:g}min", lang, card), open(path, "w"))
            doc = json.load(open(path))
            delta = FT.profile_delta(doc)[0]
            model, spk, deep_inventory = python_voice(doc, base, card)
            voices[f"deep-{minutes:g}min"] = (speak_python(model, spk, vocoder, deep_inventory, sentences, lang),
                                              22050)
            if "start" not in voices:
                sv = [v for v in card["voices"] if v["name"] == delta["start_voice"]][0]
                model0, _ = FT.load_base(base)
                voices["start"] = (speak_python(model0, torch.tensor([sv["embedding"]]), vocoder, inventory,
                                                sentences, lang), 22050)
        rf0 = f0_stats(real)
        res = {"native_rate": native, "test_sentences": len(test), "real_f0_median": rf0[0],
               "real_f0_spread_st": rf0[1], "voices": {}}
        per = {}
        for label, (clips, rate) in voices.items():
            an = [MCD.Analysis(MCD.trim(MCD.to16k_band(c, rate, narrow))) if len(c) > rate // 10 else None
                  for c in clips]
            per[label] = [MCD.compare(r, s)["mcd13"] if s else float("nan") for r, s in zip(real, an)]
            f0m, f0s = f0_stats([s for s in an if s])
            res["voices"][label] = {"mcd13": float(np.nanmean(per[label])), "f0_median": f0m,
                                    "f0_median_error_pct": 100 * (f0m / rf0[0] - 1),
                                    "f0_spread_st": f0s, "f0_spread_error_pct": 100 * (f0s / rf0[1] - 1)}
        for label in per:
            if label != "quick":
                d = np.array(per[label]) - np.array(per["quick"])
                res["voices"][label]["mcd13_minus_quick"] = bootstrap(d[np.isfinite(d)])
        results[name] = res
        log(json.dumps({name: res}, indent=1))
    out = a.out or os.path.join(a.work, "results.json")
    json.dump(results, open(out, "w"), indent=1)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

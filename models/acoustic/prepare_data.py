"""Build the acoustic model's training set from Debian-packaged speech.

  /usr/bin/python3 -m models.acoustic.prepare_data [--root /var/tmp/ganvoice]
      [--phonemizer build/examples/tools/ganvoice-phonemize]

Sources (fetched with `apt-get download`, unpacked with `dpkg-deb -x`):
  * asterisk-core-sounds-{en,es,fr,it,ru}-g722 (audio) with the transcripts
    core-sounds-XX.txt.gz from asterisk-core-sounds-XX; English `conf-*`
    prompts are held out and never read;
  * fillets-ng-data-nl (Dutch game dialogue, audio) with the Dutch lines of
    fillets-ng-data's script/*/dialogs_nl.lua; the speaker is the line's font
    (one font per character).  fillets-ng-data's own English audio is sound
    effects without transcripts, and is not used.
Held out, never read here: asterisk-prompt-*, fillets-ng-data-cs,
pocketsphinx-testdata.

Text is phonemized by the project's own `ganvoice-phonemize` (the C++ text
frontend on espeak-ng), so training and runtime see identical symbols.
Each utterance is decoded to 22050 Hz mono, trimmed, and turned into the
vocoder's log-mel (models/common/mel.py) and a frame-rate F0 track.

Output: <root>/acoustic/dataset.pt, a dict with `items` (ids int16, mel
float16 [80, T], f0 float16 [T] (0 = unvoiced), speaker, language), the
symbol inventory, and the speaker table.
"""
import argparse
import glob
import os
import re
import subprocess
import sys

import numpy as np
import torch

from models.common.audio import decode, trim
from models.common.data import FORBIDDEN, asterisk_transcripts, fetch
from models.common.mel import MelSpectrogram

HERE = os.path.dirname(os.path.abspath(__file__))

ASTERISK = {  # package language -> (espeak language, speaker, gender)
    "en": ("en-us", "allison", "female"),
    "es": ("es-419", "allison-es", "female"),
    "fr": ("fr", "june", "female"),
    "it": ("it", "carlo", "male"),
    "ru": ("ru", "ivrvoice", "female"),
}
TEXT_PACKAGES = [f"asterisk-core-sounds-{lang}" for lang in ASTERISK]
MIN_UTTS_PER_SPEAKER = 25
MAX_SECONDS = 12.0


def asterisk_items(data):
    items = []
    for lang, (esp, speaker, _) in ASTERISK.items():
        txt = glob.glob(os.path.join(data, f"asterisk-core-sounds-{lang}", "**",
                                     f"core-sounds-{lang}.txt.gz"), recursive=True)[0]
        transcripts = dict(asterisk_transcripts(txt))
        root = glob.glob(os.path.join(data, f"asterisk-core-sounds-{lang}-g722", "usr/share/asterisk/sounds/*"))[0]
        for f in sorted(glob.glob(os.path.join(root, "**", "*.g722"), recursive=True)):
            key = os.path.relpath(f, root)[: -len(".g722")]
            if lang == "en" and os.path.basename(key).startswith("conf-"):
                continue  # held out
            if key in transcripts:
                items.append(dict(path=f, text=transcripts[key], language=esp, speaker=speaker))
    return items


LUA = re.compile(r'dialogId\(\s*"([^"]+)"\s*,\s*"([^"]*)"\s*,\s*"((?:[^"\\]|\\.)*)"\s*\)\s*'
                 r'dialogStr\(\s*"((?:[^"\\]|\\.)*)"\s*\)')


def fillets_nl_items(data):
    script = os.path.join(data, "fillets-ng-data", "usr/share/games/fillets-ng/script")
    sound = os.path.join(data, "fillets-ng-data-nl", "usr/share/games/fillets-ng/sound")
    items = []
    for lua in sorted(glob.glob(os.path.join(script, "*", "dialogs_nl.lua"))):
        level = os.path.basename(os.path.dirname(lua))
        with open(lua, encoding="utf-8", errors="replace") as fh:
            src = fh.read()
        for ident, font, _en, nl in LUA.findall(src):
            wav = os.path.join(sound, level, "nl", ident + ".ogg")
            if not os.path.exists(wav) or not nl.strip():
                continue
            text = nl.replace('\\"', '"').replace("\\n", " ").strip()
            speaker = "nl-" + font.replace("font_", "")
            items.append(dict(path=wav, text=text, language="nl", speaker=speaker))
    return items


def phonemize(phonemizer, items):
    by_lang = {}
    for i, it in enumerate(items):
        by_lang.setdefault(it["language"], []).append(i)
    for lang, idx in by_lang.items():
        lines = "\n".join(items[i]["text"].replace("\n", " ") for i in idx) + "\n"
        out = subprocess.run([phonemizer, "--language", lang], input=lines.encode(), check=True,
                             stdout=subprocess.PIPE).stdout.decode().split("\n")
        for k, i in enumerate(idx):
            items[i]["symbols"] = [s for s in out[k].split("|") if s != ""] if out[k] else []


def f0_track(x, sr=22050, hop=256, fmin=55.0, fmax=600.0, win=1024):
    """Frame-rate F0 by normalised autocorrelation (0 = unvoiced); frames = len(x) // hop."""
    n = len(x) // hop
    pad = np.pad(x, (win // 2, win // 2))
    idx = np.arange(n)[:, None] * hop + np.arange(win)[None, :]
    frames = pad[idx] * np.hanning(win)[None, :]
    frames = frames - frames.mean(axis=1, keepdims=True)
    spec = np.fft.rfft(frames, n=2 * win)
    ac = np.fft.irfft(np.abs(spec) ** 2)[:, :win]
    wac = np.fft.irfft(np.abs(np.fft.rfft(np.hanning(win), n=2 * win)) ** 2)[:win]
    ac = ac / np.maximum(wac[None, :], 1e-9)  # unbias the window taper
    ac = ac / np.maximum(ac[:, :1], 1e-9)
    lo, hi = int(sr / fmax), int(sr / fmin)
    seg = ac[:, lo:hi]
    lag = np.argmax(seg, axis=1) + lo
    peak = seg[np.arange(n), lag - lo]
    # parabolic refinement
    k = np.clip(lag, 1, win - 2)
    a, b, c = ac[np.arange(n), k - 1], ac[np.arange(n), k], ac[np.arange(n), k + 1]
    den = a - 2 * b + c
    shift = np.where(np.abs(den) > 1e-9, 0.5 * (a - c) / den, 0.0)
    f0 = sr / (k + np.clip(shift, -0.5, 0.5))
    energy = np.sqrt(np.mean(frames ** 2, axis=1))
    voiced = (peak > 0.45) & (energy > 0.02 * energy.max())
    f0 = np.where(voiced, f0, 0.0)
    # remove isolated voiced frames
    v = f0 > 0
    iso = v & ~np.roll(v, 1) & ~np.roll(v, -1)
    f0[iso] = 0.0
    return f0.astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/var/tmp/ganvoice")
    ap.add_argument("--phonemizer", default=os.path.join(HERE, "..", "..", "build", "examples",
                                                         "tools", "ganvoice-phonemize"))
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    fetch(a.root, [p + "-g722" for p in TEXT_PACKAGES] + TEXT_PACKAGES +
          ["fillets-ng-data", "fillets-ng-data-nl"])
    data = os.path.join(a.root, "data")
    items = asterisk_items(data) + fillets_nl_items(data)
    for it in items:
        assert not any(b in it["path"] for b in FORBIDDEN), it["path"]
    counts = {}
    for it in items:
        counts[it["speaker"]] = counts.get(it["speaker"], 0) + 1
    items = [it for it in items if counts[it["speaker"]] >= MIN_UTTS_PER_SPEAKER]
    print("speakers:", {k: v for k, v in sorted(counts.items()) if v >= MIN_UTTS_PER_SPEAKER},
          file=sys.stderr)
    phonemize(a.phonemizer, items)
    mel_fn = MelSpectrogram()
    symbols = {}
    out_items = []
    total = 0.0
    for k, it in enumerate(items):
        syms = it["symbols"]
        if len(syms) < 2:
            continue
        x = trim(decode(it["path"]), thresh_db=-40.0, margin=0.05)
        if len(x) < 22050 * 0.3 or len(x) > 22050 * MAX_SECONDS:
            continue
        peak = np.max(np.abs(x))
        x = x * (0.9 / peak) if peak > 0 else x
        x = x[: len(x) // 256 * 256]
        mel = mel_fn(torch.from_numpy(x)[None])[0]
        f0 = f0_track(x)
        T = mel.shape[1]
        f0 = f0[:T]
        if T < len(syms) + 2:
            continue
        for s in syms:
            symbols[s] = symbols.get(s, 0) + 1
        out_items.append(dict(symbols=syms, mel=mel.to(torch.float16), f0=torch.from_numpy(f0).to(torch.float16),
                              speaker=it["speaker"], language=it["language"], text=it["text"],
                              name=os.path.relpath(it["path"], data)))
        total += len(x) / 22050
        if k % 200 == 0:
            print(f"{k}/{len(items)} {total / 60:.1f} min", file=sys.stderr)
    # inventory: pad, specials, then symbols by frequency (ties by code point)
    specials = ["_", " ", ",", ".", "?"]
    inventory = specials + sorted([s for s in symbols if s not in specials], key=lambda s: (-symbols[s], s))
    speakers = sorted({it["speaker"] for it in out_items})
    for it in out_items:
        it["ids"] = torch.tensor([inventory.index(s) for s in it.pop("symbols")], dtype=torch.int16)
        it["speaker_id"] = speakers.index(it["speaker"])
    out = a.out or os.path.join(a.root, "acoustic", "dataset.pt")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    torch.save(dict(items=out_items, phonemes=inventory, speakers=speakers), out)
    per = {}
    for it in out_items:
        per[it["speaker"]] = per.get(it["speaker"], 0) + it["mel"].shape[1] * 256 / 22050 / 60
    print(f"wrote {out}: {len(out_items)} utterances, {total / 60:.1f} min, {len(inventory)} symbols",
          file=sys.stderr)
    print({k: round(v, 1) for k, v in per.items()}, file=sys.stderr)


if __name__ == "__main__":
    main()

"""Drive the text-to-speech systems compared by evaluate_tts.py from Python.

  * Ganvoice: the same TorchScript models the C++ runtime loads
    (docs/models.md): text -> build/examples/tools/ganvoice-phonemize (the C++ text
    frontend) -> ids by the card's `phonemes` (with the runtime's
    PhonemeInventory fallbacks) -> acoustic `durations` -> running-sum
    rounding (ganvoice::round_durations) -> acoustic `decode` -> vocoder.
  * espeak-ng and flite through their command-line programs.

Every synthesiser returns (float32 mono waveform in [-1, 1], sample rate).

  /usr/bin/python3 -m models.acoustic.ttsdrive --acoustic A.ts --acoustic-card A.json \
      --vocoder models/vocoder/vocoder.ts "Some text." out.wav
"""
import json
import os
import subprocess
import sys
import tempfile
import unicodedata

import numpy as np

from models.common.audio import read_wav, write_wav

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PHONEMIZER = os.path.join(REPO, "build", "examples", "tools", "ganvoice-phonemize")

# gst/tts/text-frontend.cpp PhonemeInventory::encode: close sounds, tried in turn
# (at most 4 steps) until the model knows one.
NEAREST = {
    "ɐ": "a", "ɑ": "a", "æ": "a", "ɶ": "a", "ɒ": "ɔ", "ɔ": "o",
    "ʌ": "ə", "ɜ": "ə", "ɘ": "ə", "ɞ": "ə", "ɵ": "o", "ɤ": "o",
    "ə": "e", "ɛ": "e", "œ": "ɛ", "ø": "e", "ɪ": "i", "ɨ": "i",
    "y": "i", "ʏ": "ɪ", "ʊ": "u", "ʉ": "u", "ɯ": "u", "ɚ": "ə",
    "q": "k", "c": "k", "ɢ": "g", "ɟ": "g", "ɡ": "g", "ʈ": "t",
    "ɖ": "d", "ʁ": "r", "ʀ": "r", "ɾ": "r", "ɹ": "r", "ɻ": "r",
    "ɽ": "r", "ʎ": "j", "ʝ": "j", "ɥ": "j", "ɲ": "n", "ŋ": "n",
    "ɳ": "n", "ɴ": "n", "ç": "x", "χ": "x", "x": "h", "ħ": "h",
    "ʕ": "h", "ɦ": "h", "β": "v", "ʋ": "v", "ɸ": "f", "θ": "f",
    "ð": "d", "ɕ": "ʃ", "ʂ": "ʃ", "ʃ": "s", "ʑ": "ʒ", "ʐ": "ʒ",
    "ʒ": "z", "ɬ": "l", "ɭ": "l", "ʟ": "l", "ɫ": "l", "ɰ": "w",
    "ɱ": "m", "ɣ": "g", "ʍ": "w", "ɺ": "l", "ɓ": "b", "ɗ": "d",
    "ˌ": "ˈ", "?": ".",
}


def phonemize(texts, language="en-us", binary=PHONEMIZER):
    """texts -> list of symbol lists, one ganvoice-phonemize call for all."""
    for t in texts:
        if "\n" in t or "\r" in t:
            raise ValueError("one line per text: %r" % t)
    out = subprocess.run([binary, "--language", language], input="".join(t + "\n" for t in texts),
                         stdout=subprocess.PIPE, check=True, text=True, encoding="utf-8").stdout
    lines = out.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    if len(lines) != len(texts):
        raise RuntimeError("ganvoice-phonemize gave %d lines for %d texts" % (len(lines), len(texts)))
    return [[s for s in line.split("|") if s != ""] if line else [] for line in lines]


def round_durations(durations):
    """ganvoice::round_durations: running-sum rounding, total = round(sum)."""
    out, running, given = [], 0.0, 0
    for d in durations:
        d = float(d)
        if d > 0.0 and np.isfinite(d):
            running += d
        upto = int(np.floor(running + 0.5))  # llround of a non-negative value
        out.append(upto - given)
        given = upto
    return out


class Inventory:
    def __init__(self, symbols):
        self.symbols = list(symbols)
        self.index = {s: i for i, s in enumerate(self.symbols)}

    def encode(self, symbols, skipped=None):
        ids = []
        for sym in symbols:
            s = sym
            found = self.index.get(s, -1)
            step = 0
            while found < 0 and step < 4:
                if s in NEAREST:
                    s = NEAREST[s]
                else:  # a letter with a diacritic: its base letter
                    base = unicodedata.normalize("NFD", s)
                    if len(s) != 1 or len(base) < 2:
                        break
                    s = base[0]
                found = self.index.get(s, -1)
                step += 1
            if found >= 0:
                ids.append(found)
            elif skipped is not None:
                skipped.append(sym)
        return ids


class Ganvoice:
    """The acoustic model + vocoder pair as the C++ runtime uses them."""

    def __init__(self, acoustic, card, vocoder, voice="allison", language="en-us",
                 phonemizer=PHONEMIZER, pitch_shift=0.0):
        import torch
        self.torch = torch
        self.card = json.load(open(card, encoding="utf-8"))
        voices = {v["name"]: v for v in self.card["voices"]}
        if voice not in voices:
            raise SystemExit("voice %r not in %s (has: %s)" % (voice, card, ", ".join(voices)))
        self.voice = voices[voice]
        self.language = language
        self.phonemizer = phonemizer
        self.pitch_shift = float(pitch_shift)
        self.inventory = Inventory(self.card["phonemes"])
        self.sample_rate = int(self.card["sample_rate"])
        self.hop = int(self.card["hop"])
        self.acoustic = torch.jit.load(acoustic, map_location="cpu").eval()
        self.vocoder = torch.jit.load(vocoder, map_location="cpu").eval()
        n = int(self.acoustic.n_phonemes)
        if n != len(self.card["phonemes"]):
            raise SystemExit("%s: n_phonemes %d but the card lists %d" % (acoustic, n, len(self.card["phonemes"])))
        self.speaker = torch.tensor([self.voice["embedding"]], dtype=torch.float32)
        self.skipped = set()

    def synth_symbols(self, symbols):
        torch = self.torch
        skipped = []
        ids = self.inventory.encode(symbols, skipped)
        self.skipped.update(skipped)
        if not ids:
            return np.zeros(0, np.float32), self.sample_rate
        with torch.inference_mode():
            t_ids = torch.tensor([ids], dtype=torch.int64)
            d = self.acoustic.durations(t_ids, self.speaker)[0]
            frames = round_durations(d.tolist())
            if sum(frames) == 0:
                return np.zeros(0, np.float32), self.sample_rate
            mel = self.acoustic.decode(t_ids, self.speaker, torch.tensor([frames], dtype=torch.int64),
                                       self.pitch_shift)
            wav = self.vocoder(mel)[0]
        return wav.numpy().astype(np.float32), self.sample_rate

    def synth_many(self, texts):
        return [self.synth_symbols(s) for s in phonemize(texts, self.language, self.phonemizer)]

    def synth(self, text):
        return self.synth_many([text])[0]


class CommandTTS:
    """A TTS program that writes a wav file: argv template with {text} and {out}."""

    def __init__(self, argv):
        self.argv = argv

    def synth(self, text):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out.wav")
            argv = [a.replace("{text}", text).replace("{out}", out) for a in self.argv]
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return read_wav(out)

    def synth_many(self, texts):
        return [self.synth(t) for t in texts]


def espeak_ng(voice="en-us"):
    return CommandTTS(["espeak-ng", "-v", voice, "-w", "{out}", "--", "{text}"])


def flite(voice=None):
    return CommandTTS(["flite"] + (["-voice", voice] if voice else []) + ["-t", "{text}", "-o", "{out}"])


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--acoustic", required=True)
    ap.add_argument("--acoustic-card", required=True)
    ap.add_argument("--vocoder", default=os.path.join(REPO, "models", "vocoder", "vocoder.ts"))
    ap.add_argument("--voice", default="allison")
    ap.add_argument("--language", default="en-us")
    ap.add_argument("text")
    ap.add_argument("out")
    a = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    g = Ganvoice(a.acoustic, a.acoustic_card, a.vocoder, a.voice, a.language)
    x, sr = g.synth(a.text)
    write_wav(a.out, x, sr)
    if g.skipped:
        print("skipped phonemes:", " ".join(sorted(g.skipped)), file=sys.stderr)


if __name__ == "__main__":
    main()

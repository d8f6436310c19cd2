#!/usr/bin/python3
"""The same whole-TTS speed bench as ganvoice-bench, with the shipped models driven from Python,
and espeak-ng beside it.

  /usr/bin/python3 tests/bench/tts_python.py [--models DIR] [--threads 2] [--repeats 3]

Same cue texts as tests/bench/ganvoice-bench.cpp. Python: phonemes from the project's
ganvoice-phonemize (the same C++ frontend, one process per cue, timed apart as
`frontend_s`), ids by the card, acoustic durations + decode, vocoder, all with
torch.jit.load + freeze under inference_mode. espeak-ng: the command-line program
writing a WAV (`espeak-ng -v en -w`), process start included. Prints one JSON line.
"""
import argparse
import json
import os
import resource
import subprocess
import tempfile
import time

import torch

from torch_threads import set_threads

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LONG = "The quick brown fox jumps over the lazy dog, and then it runs back into the forest before anyone notices. " * 6
CASES = [("short", "Yes, of course."),
         ("medium", "I told you already, we have to leave before the sun comes up, or they will find us here."),
         ("long", LONG)]


def freeze(path, methods):
    m = torch.jit.load(path, map_location="cpu").eval()
    try:
        return torch.jit.optimize_for_inference(torch.jit.freeze(m, preserved_attrs=methods))
    except Exception:  # noqa: BLE001 - a model that cannot be frozen runs as it is
        return m


def round_durations(d):
    out, acc, prev = [], 0.0, 0
    for x in d:
        acc += max(0.0, float(x))
        r = int(round(acc))
        out.append(r - prev)
        prev = r
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=os.environ.get("GANVOICE_MODEL_DIR", os.path.join(REPO, "models")))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--phonemizer", default=os.path.join(REPO, "build", "examples", "tools", "ganvoice-phonemize"))
    a = ap.parse_args()
    set_threads(a.threads)
    card = json.load(open(os.path.join(a.models, "acoustic", "acoustic.json")))
    sym = {s: i for i, s in enumerate(card["phonemes"])}
    spk = torch.tensor([card["voices"][0]["embedding"]], dtype=torch.float32)
    t0 = time.perf_counter()
    acoustic = freeze(os.path.join(a.models, "acoustic", "acoustic.ts"), ["durations", "decode"])
    vocoder = freeze(os.path.join(a.models, "vocoder", "vocoder.ts"), [])
    load_s = time.perf_counter() - t0
    rate = card["sample_rate"]

    def phonemize(text):
        out = subprocess.run([a.phonemizer, "--language", "en"], input=text.encode(), check=True,
                             stdout=subprocess.PIPE).stdout.decode().strip()
        return [sym[s] for s in out.split("|") if s in sym]

    def speak(ids):
        x = torch.tensor([ids], dtype=torch.long)
        with torch.inference_mode():
            frames = torch.tensor([round_durations(acoustic.durations(x, spk)[0].tolist())], dtype=torch.long)
            mel = acoustic.decode(x, spk, frames, 0.0)
            return vocoder(mel)[0]

    result = {"load_s": load_s, "threads": a.threads}
    speak(phonemize(CASES[1][1]))  # warm-up
    for name, text in CASES:
        walls, fronts, esp = [], [], []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            ids = phonemize(text)
            t1 = time.perf_counter()
            wav = speak(ids)
            t2 = time.perf_counter()
            walls.append(t2 - t0)
            fronts.append(t1 - t0)
            with tempfile.NamedTemporaryFile(suffix=".wav") as f:
                t3 = time.perf_counter()
                subprocess.run(["espeak-ng", "-v", "en", "-w", f.name, text], check=True)
                esp.append(time.perf_counter() - t3)
                esp_audio = max(0, os.path.getsize(f.name) - 44) / 2 / 22050
        audio_s = wav.numel() / rate
        walls.sort(), fronts.sort(), esp.sort()
        m = len(walls) // 2
        result[name] = {"audio_s": audio_s, "wall_s": walls[m], "rtf": walls[m] / audio_s,
                        "frontend_s": fronts[m], "rtf_models_only": (walls[m] - fronts[m]) / audio_s,
                        "espeak_wall_s": esp[m], "espeak_audio_s": esp_audio,
                        "espeak_rtf": esp[m] / esp_audio if esp_audio else None}
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Deep clone against the quick clone, on held-out speakers never trained on.

  /usr/bin/python3 -m models.acoustic.evaluate_deep_clone [--targets es-co ...] [--minutes 1 3]
      [--build build] [--work /var/tmp/ganvoice/eval] [--steps 1900 --time-limit 1500] [--trainer cpp]

docs/cloning-evaluation.md ("Deep clones") describes the protocol and the figures; in short:

For each target its transcribed clips are shuffled (seeded); 15 are the test sentences, never used for
cloning; the deep clone is made by the product, `ganvoice-clone` (the C++ VoiceFineTuner), from a TSV of
the first clips of the rest, up to 1 and 3 minutes of speech (--trainer python: the recipe
models.acoustic.finetune instead); the quick clone is speakerembed's profile from the first 10 s of the
same clips. Each voice speaks the test sentences; against the target's real recordings of them:
  * MCD-DTW (models.common.mcd, c1..c13, in the target's band), mean and 95 % paired bootstrap
    interval of the difference to the quick clone;
  * F0 median (Hz) and within-utterance F0 spread (standard deviation in semitones, mean over
    sentences) against the real recordings';
  * speaking rate: mean phoneme duration (trimmed speech / phonemes of the text) against the real's;
  * speaker identification with models.speaker.evaluate_cloning's GMM-UBM (MFCC, CMN) among the 6
    held-out targets and the 5 built-in voices' real speakers, in full band (16 kHz) and telephone
    band (8 kHz); the targets are enrolled from 60 s of their clips taken from the end of the shuffled
    pool, never in a fine-tuning TSV, a quick-clone reference or the test sentences;
  * English intelligibility: pocketsphinx WER (models.acoustic.evaluate_tts's recogniser) of 10
    sentences of models/acoustic/prompts/en.txt spoken by every quick and deep clone (cross-lingual for
    the non-English targets) and by the built-in allison.
`librivox` has only 5 transcribed clips (25 s): its deep clone is made from all of them and gets only the
English WER and speaker ID (its enrollment is evaluate_cloning's, 2 of the same clips).
The deep clone speaks through the Python reference of the runtime (the acoustic model with the delta
added, the shipped vocoder); the quick clone and the built-in voice through GStreamer (`ganvoice`).
Needs the data under --data (models.common.data.fetch of the held-out packages, asterisk-core-sounds-XX
for the transcripts, asterisk-core-sounds-XX-g722 for the built-in voices' speakers) and a build (--build).
Results are merged per target into --out (default <work>/results.json).
"""
import argparse
import glob
import json
import os
import random
import re
import struct
import subprocess
import sys
import time
import unicodedata
import zlib

import numpy as np
import torch
from scipy.io import wavfile

from models.acoustic import evaluate_tts as TTS
from models.acoustic import finetune as FT
from models.acoustic.prepare_data import LUA
from models.acoustic.ttsdrive import Inventory, phonemize, round_durations
from models.common import mcd as MCD
from models.common.audio import decode, probe_rate, resample
from models.common.data import asterisk_transcripts
from models.speaker import evaluate_cloning as EC
from models.speaker.evaluate_cloning import Gst, make_profile, synthesize, transcripts

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
N_TEST = 15
QUICK_SECONDS = 10.0
N_ENGLISH = 10          # English sentences for the WER (the first of prompts/en.txt)
FULL_RATE = 16000       # speaker ID, full band
TRIM_SLACK = 1.3        # a TSV holds clips up to this times the speech wanted (ends are trimmed)
TARGETS = {  # name -> (espeak language, package, sound folder, transcript language)
    "es-co": ("es", "asterisk-prompt-es-co", "usr/share/asterisk/sounds/es", "es"),
    "fr-armelle": ("fr", "asterisk-prompt-fr-armelle", "usr/share/asterisk/sounds/fr", "fr"),
    "it-menardi": ("it", "asterisk-prompt-it-menardi-wav", "usr/share/asterisk/sounds/it_IT_f_Menardi", "it"),
    # fillets-ng-data-cs: the two fish (file names "<level>-m-…" and "<level>-v-…"), Czech, 22 kHz;
    # the words are the dialogStr of fillets-ng-data's script/*/dialogs_cs.lua
    "cs-m": ("cs", "fillets-ng-data-cs", "usr/share/games/fillets-ng/sound", "cs"),
    "cs-v": ("cs", "fillets-ng-data-cs", "usr/share/games/fillets-ng/sound", "cs"),
    # pocketsphinx-testdata: a LibriVox reader, English, 16 kHz, 5 clips: no test sentences of its own
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
    """(test pairs, training pool) of (path, text), the pool in its seeded order."""
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
        return [], pairs
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


def durations(pool, work, name, seconds):
    """Seconds of each clip of the pool's head, cached, until `seconds` are summed."""
    path = os.path.join(work, "durations", f"{name}.json")
    known = json.load(open(path)) if os.path.exists(path) else {}
    out, acc = [], 0.0
    for f, _ in pool:
        if f not in known:
            x = decode(f, probe_rate(f), float_samples=True)
            known[f] = len(x) / probe_rate(f)
        out.append(known[f])
        acc += known[f]
        if acc >= seconds:
            break
    os.makedirs(os.path.dirname(path), exist_ok=True)
    json.dump(known, open(path, "w"), indent=0)
    return out


def readable(path, work):
    """A path ganvoice-clone (GStreamer) can read: raw GSM (.gsm, no container, so no typefinding) is
    decoded to a WAV under <work>/wav first."""
    if not path.endswith(".gsm"):
        return path
    out = os.path.join(work, "wav", sha1(path)[:10] + "-" + os.path.basename(path)[:-4] + ".wav")
    if not os.path.exists(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        r = probe_rate(path)
        x = decode(path, r, float_samples=True)
        wavfile.write(out + ".tmp.wav", r, (np.clip(x, -1, 1) * 32767).astype(np.int16))
        os.replace(out + ".tmp.wav", out)
    return out


def write_tsv(path, pairs, work):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        for p, t in pairs:
            f.write(f"{readable(p, work)}\t{' '.join(t.split())}\n")
    os.replace(path + ".tmp", path)


def sha1(*parts):
    return EC.sha1(*parts)


def deep_clone(a, name, lang, pool, minutes, card, base, inventory):
    """Make (or reuse, when made with the same settings) the deep clone from the pool's first clips up to
    `minutes` of speech. Returns (profile path, facts: trainer, clips in the TSV, steps, seconds, ...)."""
    dur = durations(pool, a.work, name, minutes * 60 * TRIM_SLACK)
    pairs = pool[:len(dur)]
    tag = f"{name}-{minutes:g}min" + ("" if a.trainer == "cpp" else "-py")
    path = os.path.join(a.work, "deep", f"{tag}.json")
    tsv = path[:-5] + ".tsv"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_tsv(tsv, pairs, a.work)
    tool = os.path.join(a.build, "examples", "tools", "ganvoice-clone")
    # the settings and the data, not the tool's binary (a rebuild does not make new clones; the facts say
    # which binary made each)
    key = sha1(a.trainer, EC.file_sha1(tsv), minutes, a.steps, a.time_limit, a.rank,
               EC.file_sha1(base), "" if a.trainer == "cpp" else a.max_pitch_spread)
    meta_p = path + ".meta"
    if os.path.exists(path) and os.path.exists(meta_p) and json.load(open(meta_p)).get("key") == key:
        return path, json.load(open(meta_p))
    logf = path[:-5] + ".log"
    log(f"{name}: fine-tuning ({a.trainer}) on up to {minutes:g} min ({len(pairs)} clips, "
        f"{sum(dur):.0f} s before trimming), log {logf}")
    t0 = time.time()
    facts = {"key": key, "trainer": a.trainer, "tsv_clips": len(pairs), "tsv_seconds": sum(dur),
             "steps_budget": a.steps, "time_limit": a.time_limit, "made": time.strftime("%Y-%m-%d %H:%M")}
    if a.trainer == "cpp":
        facts.update(tool_sha1=EC.file_sha1(tool),
                     tool_mtime=time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(tool))))
    if a.trainer == "cpp":
        cmd = [tool, "--pairs", tsv, "--language", lang, "-o", path, "--name", f"{name}-deep-{minutes:g}min",
               "--seconds", f"{minutes * 60:g}", "--time-limit", f"{a.time_limit:g}", "--steps", str(a.steps),
               "--rank", str(a.rank), "--threads", "1", "--no-resume",
               "--model", base, "--card", base[:-3] + ".json"]
        with open(logf, "w") as lf:
            lf.write(" ".join(cmd) + "\n")
            lf.flush()
            r = subprocess.run(cmd, env=a.gst.env, stdout=lf, stderr=subprocess.STDOUT)
        text = open(logf, encoding="utf-8", errors="replace").read()
        if r.returncode != 0 or not os.path.exists(path):
            sys.exit(f"evaluate_deep_clone: ganvoice-clone failed ({r.returncode}):\n{text[-3000:]}")
        m = re.search(r"(\d+) steps in (\d+) s; mel L1 ([0-9.]+) -> ([0-9.]+)", text)
        if m:
            facts.update(steps=int(m.group(1)), train_seconds=int(m.group(2)), mel_l1_start=float(m.group(3)),
                         mel_l1_end=float(m.group(4)))
        m = re.search(r"(\d+) sentences, (\d+) s of speech", text)
        if m:
            facts.update(sentences=int(m.group(1)), speech_seconds=int(m.group(2)))
        m = re.search(r"never heard, learned for this voice: (.*)", text)
        facts["new_phonemes"] = m.group(1).split() if m else []
        m = re.search(r"starting from (\S+)", text)
        facts["start_voice"] = m.group(1) if m else None
    else:
        items, got = FT.load_utterances(pairs, lang, inventory, seconds=minutes * 60, phonemizer=a.phonemizer)
        delta = FT.finetune(items, card, base, rank=a.rank, time_limit=a.time_limit, max_steps=a.steps,
                            max_spread=a.max_pitch_spread)
        json.dump(FT.make_profile(delta, f"{name}-deep-{minutes:g}min", lang, card), open(path, "w"))
        facts.update(sentences=len(items), speech_seconds=got, start_voice=delta.get("start_voice"))
    facts["wall_seconds"] = time.time() - t0
    json.dump(facts, open(meta_p, "w"), indent=1)
    return path, facts


def python_voice(doc, base, card):
    """The deep voice's model, speaker vector and phoneme inventory (the card's plus any it adds)."""
    delta, embedding = FT.profile_delta(doc)
    model, _ = FT.load_base(base, delta)
    return (model, torch.tensor([embedding], dtype=torch.float32),
            Inventory(card["phonemes"] + delta.get("phonemes", [])))


@torch.no_grad()
def speak_python(model, speaker, vocoder, inventory, sentences, lang, phonemizer):
    out = []
    for syms in phonemize(sentences, lang, binary=phonemizer):
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


def phoneme_counts(sentences, lang, phonemizer):
    """Phonemes of each sentence: the phonemizer's symbols that are letters (no stress, length, diacritic,
    pause or punctuation)."""
    return [sum(1 for s in syms if s and unicodedata.category(s[0]) in ("Ll", "Lu", "Lo"))
            for syms in phonemize(sentences, lang, binary=phonemizer)]


def speech_seconds(x, rate):
    """Seconds of speech without the pauses: the frames evaluate_cloning's energy VAD keeps (10 ms hop, within
    30 dB of the loudest, 16 kHz)."""
    return float(EC.vad(MCD.to16k(np.asarray(x, np.float64), rate), 16000).sum()) * 0.010


# ------------------------------------------------------------------ speaker ID

def enrollment(a, name, pool, reserved):
    """A target's enrollment clips (native rate): from the end of the training pool backwards, clips of at
    least EC.MIN_CLIP s until EC.ENROLL_SECONDS, none of the pool's first `reserved` clips (the ones any TSV
    or quick reference may use). librivox (5 clips): evaluate_cloning's own enrollment."""
    if name == "librivox":
        files = EC.speaker_files(a.data)
        meta, _ = EC.split_speaker(name, files[name], os.path.join(a.work, "speaker-id"), True)
        return meta["enroll_files"]
    out, acc = [], 0.0
    for i in range(len(pool) - 1, reserved - 1, -1):
        f = pool[i][0]
        x = decode(f, probe_rate(f), float_samples=True)
        if len(x) / probe_rate(f) < EC.MIN_CLIP or np.max(np.abs(x)) < 1e-3:
            continue
        out.append(f)
        acc += len(x) / probe_rate(f)
        if acc >= EC.ENROLL_SECONDS:
            return out
    sys.exit(f"evaluate_deep_clone: {name}: only {acc:.0f} s for enrollment after the first {reserved} clips")


def two_bands(x, rate):
    """(telephone band at EC.SR, full band at FULL_RATE) float32."""
    return EC.to_sr(x, rate), resample(x, rate, FULL_RATE).astype(np.float32)


def speaker_backends(a, pools, reserved):
    """{"tel": Backend at 8 kHz, "full": Backend at 16 kHz}, CMN, over the 6 targets and the 5 built-in voices'
    real speakers (evaluate_cloning's enrollment clips for those), and the enrollment file lists."""
    files = EC.speaker_files(a.data)
    lists = {}
    for name in TARGETS:
        lists[name] = enrollment(a, name, pools[name], reserved.get(name, 0))
    for v in EC.BUILTINS:
        meta, _ = EC.split_speaker(v, files[v], os.path.join(a.work, "speaker-id"), False)
        lists[v] = meta["enroll_files"]
    key = sha1(EC.SEED, FULL_RATE, *[f for k in sorted(lists) for f in [k] + lists[k]])[:12]
    npz = os.path.join(a.work, "speaker-id", f"enroll-{key}.npz")
    if os.path.exists(npz):
        z = np.load(npz, allow_pickle=True)
        tel, full = z["tel"].item(), z["full"].item()
    else:
        tel, full = {}, {}
        for k, fs in lists.items():
            tel[k], full[k] = [], []
            for f in fs:
                r = probe_rate(f)
                t, u = two_bands(decode(f, r, float_samples=True), r)
                tel[k].append(t)
                full[k].append(u)
        os.makedirs(os.path.dirname(npz), exist_ok=True)
        np.savez(npz, tel=np.array(tel, dtype=object), full=np.array(full, dtype=object))
    log("speaker ID enrollment: " + ", ".join(f"{k} {sum(len(x) for x in v) / EC.SR:.0f} s" for k, v in tel.items()))
    return ({"tel": EC.Backend(tel, True, rate=EC.SR), "full": EC.Backend(full, True, rate=FULL_RATE)},
            {k: {"files": len(v), "seconds": sum(len(x) for x in tel[k]) / EC.SR} for k, v in lists.items()})


def identify(backends, clips, rate, truth):
    out = {}
    for band, be in backends.items():
        utts = [two_bands(c, rate)[0 if band == "tel" else 1] for c in clips if len(c) > rate // 10]
        s = EC.summarize(be.trials(utts), truth)
        out[band] = {"rate": s["id_rate"], "correct": s["correct"], "n": s["n"], "predicted": s["predicted"]}
    return out


# ------------------------------------------------------------------ picture

def _colour(v):
    """v in [0, 1] -> RGB uint8 (black, purple, orange, pale yellow: a magma-like ramp)."""
    stops = np.array([[0, 0, 4], [80, 18, 123], [182, 54, 121], [251, 136, 97], [252, 253, 191]], float)
    pos = np.clip(v, 0, 1) * (len(stops) - 1)
    i = np.minimum(pos.astype(int), len(stops) - 2)
    f = (pos - i)[..., None]
    return (stops[i] * (1 - f) + stops[i + 1] * f).astype(np.uint8)


def spectrogram_rows(x, rate, seconds, height=160, hop=0.005):
    """Log-magnitude spectrogram 0-8 kHz (16 kHz, 25 ms Hann, 5 ms hop), top = 8 kHz, 80 dB range."""
    y = MCD.to16k(np.asarray(x, np.float64), rate)[:int(seconds * 16000)]
    y = np.pad(y, (0, max(0, int(seconds * 16000) - len(y))))
    win, h = 400, int(hop * 16000)
    n = 1 + (len(y) - win) // h
    f = y[np.arange(win)[None, :] + h * np.arange(n)[:, None]] * np.hanning(win)
    s = 20 * np.log10(np.abs(np.fft.rfft(f, 512)) + 1e-9).T[:256]
    s = (s - (s.max() - 80)) / 80
    idx = np.linspace(0, 255, height).astype(int)
    return _colour(s[idx][::-1])


def write_png(path, rgb):
    """A minimal RGB PNG (8-bit, no filter, zlib)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\0" + rgb[r].tobytes() for r in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def picture(path, panels):
    """panels: [(x, rate)] drawn one under the other, separated by white lines, as long as the longest."""
    seconds = max(len(x) / r for x, r in panels)
    rows = []
    for x, r in panels:
        rows += [spectrogram_rows(x, r, seconds), np.full((4, int(seconds / 0.005) - 4 + 1, 3), 255, np.uint8)]
    w = min(r.shape[1] for r in rows)
    write_png(path, np.vstack([r[:, :w] for r in rows[:-1]]))


# ------------------------------------------------------------------ main

def merge_results(path, name, res):
    results = json.load(open(path)) if os.path.exists(path) else {}
    results[name] = res
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=1, default=float)
    os.replace(path + ".tmp", path)


def pct(r):
    return f"{100 * r['rate']:.0f} %" if r and r.get("n") else "-"


def report(path):
    """Markdown tables of a results JSON (one per target, then the English WER)."""
    results = json.load(open(path))
    lines = []
    for name, res in results.items():
        if name.startswith("_"):
            continue
        lines += [f"\n**{name}** (native {res['native_rate']} Hz, {res['test_sentences']} test sentences"
                  + (f"; real F0 median {res['real_f0_median']:.0f} Hz, spread {res['real_f0_spread_st']:.2f} st, "
                     f"{res['real_phoneme_ms']:.0f} ms per phoneme"
                     + (f" ({res['real_articulation_ms']:.0f} without pauses)" if "real_articulation_ms" in res else "")
                     + (f", {100 * res['real_voiced']:.0f} % voiced" if "real_voiced" in res else "")
                     + "; real clips identified "
                     f"{pct(res['speaker_id_real']['full'])} full band, {pct(res['speaker_id_real']['tel'])} "
                     "telephone" if res["test_sentences"] else "") + ")\n"]
        for label, f in res["deep"].items():
            if isinstance(f, dict) and "profile" in f:
                lines.append(f"- {label}: made elsewhere, {f['profile']}")
            elif isinstance(f, dict):
                lines.append(f"- {label}: {f.get('sentences')} sentences, {f.get('speech_seconds')} s of speech, "
                             f"{f.get('steps')} steps in {f.get('train_seconds')} s, mel L1 {f.get('mel_l1_start')} "
                             f"-> {f.get('mel_l1_end')}, from {f.get('start_voice')}"
                             + (f", new phonemes {' '.join(f['new_phonemes'])}" if f.get("new_phonemes") else ""))
        lines += ["", "| voice | MCD (dB) | − quick [95 % CI] | F0 median error | F0 spread error | voiced frames | "
                  "ms per phoneme (÷ real); without pauses | ID full | ID tel | English WER | "
                  "ID of English full / tel |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        labels = list(res["voices"]) or list(res["english"])
        for label in sorted(set(labels) | set(res["english"]), key=lambda k: (k != "start", k != "quick", k)):
            v = res["voices"].get(label)
            e = res["english"].get(label)
            ie = res["speaker_id_english"].get(label)
            row = [label]
            if v:
                ci = v.get("mcd13_minus_quick")
                row += [f"{v['mcd13']:.2f}", f"{ci[0]:+.2f} [{ci[1]:+.2f}, {ci[2]:+.2f}]" if ci else "—",
                        f"{v['f0_median_error_pct']:+.1f} %", f"{v['f0_spread_error_pct']:+.0f} %",
                        f"{100 * v['voiced']:.0f} %" if "voiced" in v else "-",
                        f"{v['phoneme_ms']:.0f} ({v['duration_ratio']:.2f})"
                        + (f"; {v['articulation_ms']:.0f} ({v['articulation_ratio']:.2f})" if "articulation_ms" in v
                           else ""),
                        pct(v["speaker_id"]["full"]), pct(v["speaker_id"]["tel"])]
            else:
                row += ["-"] * 8
            row += [f"{100 * e['wer']:.1f} %" if e else "-",
                    f"{pct(ie['full'])} / {pct(ie['tel'])}" if ie else "-"]
            lines.append("| " + " | ".join(row) + " |")
    b = results.get("_english_builtin")
    if b:
        lines.append("\nBuilt-in English: " + ", ".join(f"{k} {100 * v['wer']:.1f} %" for k, v in b["wer"].items()))
    print("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--targets", nargs="+", default=["es-co", "fr-armelle", "it-menardi", "cs-m", "cs-v"])
    ap.add_argument("--minutes", nargs="*", type=float, default=[1.0, 3.0])
    ap.add_argument("--data", default="/var/tmp/ganvoice/data")
    ap.add_argument("--work", default="/var/tmp/ganvoice/eval")
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--model-dir", default=os.path.join(REPO, "models"))
    ap.add_argument("--trainer", choices=["cpp", "python"], default="cpp",
                    help="cpp: ganvoice-clone (the product); python: the recipe models.acoustic.finetune")
    ap.add_argument("--steps", type=int, default=1900,
                    help="training steps per clone (1900: what 480 s give on an idle machine)")
    ap.add_argument("--time-limit", type=float, default=1500.0,
                    help="seconds of training at most per clone (a safety net: the steps are the budget)")
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--max-pitch-spread", type=float, default=1.0, help="--trainer python: see finetune")
    ap.add_argument("--extra", action="append", default=[], metavar="TARGET:LABEL=PROFILE",
                    help="also evaluate a deep profile made elsewhere, as LABEL (repeatable)")
    ap.add_argument("--train-only", action="store_true", help="make the deep clones and stop")
    ap.add_argument("--picture", default=None, help="write the Czech spectrograms here (a PNG)")
    ap.add_argument("--out", default=None, help="results JSON (default <work>/results.json)")
    ap.add_argument("--report", action="store_true", help="print the Markdown tables of --out and stop")
    a = ap.parse_args()
    if a.report:
        report(a.out or os.path.join(a.work, "results.json"))
        return
    torch.set_num_threads(1)
    os.makedirs(a.work, exist_ok=True)
    a.phonemizer = os.path.join(a.build, "examples", "tools", "ganvoice-phonemize")
    base = os.path.join(a.model_dir, "acoustic", "acoustic.ts")
    card = json.load(open(os.path.join(a.model_dir, "acoustic", "acoustic.json"), encoding="utf-8"))
    inventory = Inventory(card["phonemes"])
    gst = a.gst = Gst(a.build, a.model_dir, a.work)
    out_path = a.out or os.path.join(a.work, "results.json")
    splits = {name: target_pairs(a.data, name) for name in TARGETS}

    if a.train_only:
        for name in a.targets:
            for minutes in a.minutes:
                deep_clone(a, name, TARGETS[name][0], splits[name][1], minutes, card, base, inventory)
        return

    vocoder = torch.jit.load(os.path.join(a.model_dir, "vocoder", "vocoder.ts")).eval()
    # clips any TSV (up to the largest --minutes, or 3 min) or quick reference may use, per target
    reserved = {}
    for name in TARGETS:
        if name != "librivox":
            reserved[name] = len(durations(splits[name][1], a.work, name,
                                           max(a.minutes + [3.0]) * 60 * TRIM_SLACK))
    backends, enrolled = speaker_backends(a, {n: s[1] for n, s in splits.items()}, reserved)
    english = TTS.load_sentences(os.path.join(HERE, "prompts", "en.txt"))[:N_ENGLISH]
    recogniser = TTS.Recogniser([TTS.normalise(s) for s in english], os.path.join(a.work, "asr"))

    def wer(clips, rate):
        e = w = 0
        hyps = []
        for k, (x, s) in enumerate(zip(clips, english)):
            ref = TTS.normalise(s)
            hyp = recogniser(TTS.asr_input(x, rate, k)) if len(x) else []
            e += TTS.edits(ref, hyp)
            w += len(ref)
            hyps.append(" ".join(hyp))
        return {"wer": e / max(1, w), "edits": e, "words": w, "hyp": hyps}

    # the built-in English voice, through GStreamer and through the Python reference
    m = synthesize(gst, "en-allison", "allison", "en-us", english, os.path.join(a.work, "synth"), False)
    clips, rate = cut_cues(os.path.join(a.work, "synth", "en-allison.wav"), m, len(english))
    english_ref = {"allison (ganvoice)": wer(clips, rate)}
    model0, _ = FT.load_base(base)
    allison = [v for v in card["voices"] if v["name"] == "allison"][0]
    english_ref["allison (Python reference)"] = wer(speak_python(model0, torch.tensor([allison["embedding"]]),
                                                                 vocoder, inventory, english, "en-us",
                                                                 a.phonemizer), 22050)
    log("English WER: " + ", ".join(f"{k} {100 * v['wer']:.1f} %" for k, v in english_ref.items()))
    merge_results(out_path, "_english_builtin", {"sentences": english, "wer": english_ref,
                                                 "speaker_id_enrollment": enrolled})

    for name in a.targets:
        lang = TARGETS[name][0]
        test, pool = splits[name]
        t_start = time.time()
        native = probe_rate(pool[0][0])
        narrow = native <= 8000
        sentences = [t for _, t in test]
        voices, english_voices, deep_facts = {}, {}, {}
        # the quick clone: speakerembed on the first 10 s of the training clips
        ref, acc = [], 0.0
        for f, _ in pool:
            x = decode(f, native, float_samples=True)
            ref.append(x)
            acc += len(x) / native
            if acc >= QUICK_SECONDS:
                break
        ref_wav = os.path.join(a.work, f"{name}-ref.wav")
        wavfile.write(ref_wav, native, (np.concatenate(ref) * 32767 * 0.9).astype(np.int16))
        prof, _ = make_profile(gst, f"{name}-quick", ref_wav, lang, os.path.join(a.work, "profiles"), False)
        if sentences:
            m = synthesize(gst, f"quick-{name}", prof, lang, sentences, os.path.join(a.work, "synth"), False)
            voices["quick"] = cut_cues(os.path.join(a.work, "synth", f"quick-{name}.wav"), m, len(sentences))
        m = synthesize(gst, f"en-quick-{name}", prof, "en-us", english, os.path.join(a.work, "synth"), False)
        english_voices["quick"] = cut_cues(os.path.join(a.work, "synth", f"en-quick-{name}.wav"), m, len(english))
        # the deep clones
        made = [(f"deep-{minutes:g}min", minutes) for minutes in a.minutes]
        made += [(e.split(":", 1)[1].split("=", 1)[0], e.split("=", 1)[1]) for e in a.extra
                 if e.split(":", 1)[0] == name]
        for label, minutes in made:
            if isinstance(minutes, str):
                path, facts = minutes, {"profile": minutes}
            else:
                path, facts = deep_clone(a, name, lang, pool, minutes, card, base, inventory)
            deep_facts[label] = {k: v for k, v in facts.items() if k != "key"}
            doc = json.load(open(path))
            model, spk, deep_inventory = python_voice(doc, base, card)
            if sentences:
                voices[label] = (speak_python(model, spk, vocoder, deep_inventory, sentences, lang, a.phonemizer),
                                 22050)
            english_voices[label] = (speak_python(model, spk, vocoder, deep_inventory, english, "en-us",
                                                  a.phonemizer), 22050)
            start = doc.get("base_voice") or FT.profile_delta(doc)[0].get("start_voice")
            if sentences and "start" not in voices and start:
                sv = [v for v in card["voices"] if v["name"] == start][0]
                voices["start"] = (speak_python(model0, torch.tensor([sv["embedding"]]), vocoder, inventory,
                                                sentences, lang, a.phonemizer), 22050)
                deep_facts["start_voice"] = start
        res = {"native_rate": native, "test_sentences": len(test), "deep": deep_facts, "voices": {},
               "english": {label: wer(clips, rate) for label, (clips, rate) in english_voices.items()},
               "speaker_id_english": {label: identify(backends, clips, rate, name)
                                      for label, (clips, rate) in english_voices.items()}}
        if sentences:
            real_audio = [decode(f, native, float_samples=True) for f, _ in test]
            real = [MCD.Analysis(MCD.trim(MCD.to16k_band(x, native, narrow))) for x in real_audio]
            phonemes = phoneme_counts(sentences, lang, a.phonemizer)
            rf0 = f0_stats(real)
            real_len = [len(MCD.trim(MCD.to16k_band(x, native, narrow))) / MCD.SR for x in real_audio]
            real_speech = [speech_seconds(x, native) for x in real_audio]
            res.update(real_f0_median=rf0[0], real_f0_spread_st=rf0[1],
                       real_voiced=float(np.mean([r.voiced.mean() for r in real])),
                       real_phoneme_ms=1000 * float(np.sum(real_len) / np.sum(phonemes)),
                       real_articulation_ms=1000 * float(np.sum(real_speech) / np.sum(phonemes)),
                       speaker_id_real=identify(backends, real_audio, native, name))
            per = {}
            for label, (clips, rate) in voices.items():
                trimmed = [MCD.trim(MCD.to16k_band(c, rate, narrow)) if len(c) > rate // 10 else None
                           for c in clips]
                an = [MCD.Analysis(t) if t is not None else None for t in trimmed]
                per[label] = [MCD.compare(r, s)["mcd13"] if s else float("nan") for r, s in zip(real, an)]
                f0m, f0s = f0_stats([s for s in an if s])
                lens = [len(t) / MCD.SR if t is not None else float("nan") for t in trimmed]
                ratio = [s / r for s, r in zip(lens, real_len)]
                speech = [speech_seconds(c, rate) if len(c) > rate // 10 else float("nan") for c in clips]
                res["voices"][label] = {
                    "mcd13": float(np.nanmean(per[label])), "f0_median": f0m,
                    "f0_median_error_pct": 100 * (f0m / rf0[0] - 1),
                    "f0_spread_st": f0s, "f0_spread_error_pct": 100 * (f0s / rf0[1] - 1),
                    "voiced": float(np.mean([s.voiced.mean() for s in an if s])),
                    "phoneme_ms": 1000 * float(np.nansum(lens) / np.sum(phonemes)),
                    "duration_ratio": float(np.nanmean(ratio)),
                    "articulation_ms": 1000 * float(np.nansum(speech) / np.sum(phonemes)),
                    "articulation_ratio": float(np.nanmean([s / r for s, r in zip(speech, real_speech)])),
                    "speaker_id": identify(backends, clips, rate, name)}
            for label in per:
                if label != "quick":
                    d = np.array(per[label]) - np.array(per["quick"])
                    res["voices"][label]["mcd13_minus_quick"] = bootstrap(d[np.isfinite(d)])
            if a.picture and name.startswith("cs-") and ("deep-3min" in voices or len(voices) > 2):
                deep = "deep-3min" if "deep-3min" in voices else [k for k in voices if k.startswith("deep")][-1]
                picture(a.picture, [(real_audio[0], native), (voices["quick"][0][0], voices["quick"][1]),
                                    (voices[deep][0][0], voices[deep][1])])
                res["picture"] = {"path": a.picture, "sentence": sentences[0], "rows": ["real", "quick", deep]}
                log(f"wrote {a.picture}")
        res["seconds"] = time.time() - t_start
        merge_results(out_path, name, res)
        log(json.dumps({name: {k: v for k, v in res.items() if k not in ("english",)}}, indent=1, default=float))
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()

"""Objective quality of ganvoice's English TTS next to espeak-ng and flite.

  /usr/bin/python3 -m models.acoustic.evaluate_tts \
      --acoustic models/acoustic/acoustic.ts --acoustic-card models/acoustic/acoustic.json \
      --vocoder models/vocoder/vocoder.ts [--systems ganvoice,espeak,flite] [--out metrics.json]

Protocol (docs/tts-quality.md defines every number precisely):

  1. Closeness to the real speaker on the held-out English asterisk prompts
     `conf-*` (Allison Smith, G.722 16 kHz; never read by the acoustic or the
     vocoder training).  Each system speaks the prompt's transcript; ganvoice
     speaks as its built-in voice `allison`.  Everything is resampled to 16 kHz
     mono and trimmed at both ends with one rule, then compared with the real
     recording (the analysis is models/common/mcd.py):
       MCD-DTW   mel-cepstral distortion (dB) of c1..c13 (and c1..c24) from an
                 independent 40-band HTK mel analysis (25 ms Hamming, 5 ms hop,
                 0-7 kHz), averaged over the DTW path;
       F0 RMSE   YIN F0 on the same 5 ms frames, on the DTW path, frames voiced
                 in both; Hz and cents;
       duration  synthetic length / real length after trimming.
  2. Intelligibility: pocketsphinx (Debian's en-us acoustic model) with a
     trigram LM of the test sentences (models/acoustic/sentences-en.txt) on
     each system's speech of those sentences; WER = word edits / reference
     words, numbers compared as words.
  3. docs/img/tts-spectrograms.png: two conf-* prompts, real and every system.

Audio goes to --work (outside the repo).  Metrics are merged into --out, so
`--systems ganvoice` re-measures only ganvoice and keeps the other rows.
"""
import argparse
import gzip
import json
import math
import os
import re
import sys
import time

import numpy as np

from models.acoustic import ttsdrive
from models.common.audio import decode, read_wav, write_wav
from models.common.mcd import FLOOR_DB, FMAX, HOP, N_MELS, NFFT, SR, TRIM_DB, WIN, Analysis, compare, to16k, trim

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

SOUNDS = "asterisk-core-sounds-en-g722/usr/share/asterisk/sounds/en_US_f_Allison"
TRANSCRIPTS = "asterisk-core-sounds-en/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz"
# Transcript typos (the recording says the corrected word).
TRANSCRIPT_FIXES = {"umute": "unmute"}
PICTURE_PROMPTS = ("conf-placeintoconf", "conf-waitforleader")

SYSTEMS = {
    "ganvoice": "ganvoice, voice allison (acoustic.ts + vocoder.ts)",
    "espeak": "espeak-ng -v en-us (22.05 kHz)",
    "flite": "flite, default voice kal (8 kHz diphone)",
    "flite-slt": "flite -voice slt (16 kHz, US female, clustergen)",
}
DEFAULT_SYSTEMS = "ganvoice,espeak,flite,flite-slt"


# ------------------------------------------------------------------ audio
def decode_real(path):
    """G.722 is natively 16 kHz: decode straight to 16 kHz (no resampling), float64."""
    return decode(path, SR).astype(np.float64)


def level(x, peak=0.8):
    return x / max(1e-4, np.abs(x).max()) * peak


# ------------------------------------------------------------------ text
ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen " \
       "fifteen sixteen seventeen eighteen nineteen".split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n):
    """0..999999 in American English words, no 'and' (what espeak-ng en-us and flite say)."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        return ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + number_words(n % 100))
    return number_words(n // 1000) + " thousand" + ("" if n % 1000 == 0 else " " + number_words(n % 1000))


def normalise(text):
    """Words for the recogniser: lower case, digits spelt out, punctuation dropped."""
    text = re.sub(r"\d+", lambda m: " " + number_words(int(m.group(0))) + " ", text.lower())
    text = re.sub(r"[^a-z' ]+", " ", text)
    return [w.strip("'") for w in text.split() if w.strip("'")]


def load_sentences(path):
    out = []
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def load_prompts(data):
    """conf-* prompts that have both audio and a transcript without [brackets]."""
    texts = {}
    with gzip.open(os.path.join(data, TRANSCRIPTS), "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^(conf-[^:\s]+):\s*(.*\S)\s*$", line)
            if m and "[" not in m.group(2):
                t = m.group(2)
                for bad, good in TRANSCRIPT_FIXES.items():
                    t = re.sub(r"\b%s\b" % bad, good, t)
                texts[m.group(1)] = re.sub(r"\s+", " ", t)
    sounds = os.path.join(data, SOUNDS)
    prompts = []
    for name in sorted(texts):
        path = os.path.join(sounds, name + ".g722")
        if os.path.exists(path):
            prompts.append((name, texts[name], path))
    return prompts


def edits(ref, hyp):
    d = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, d[0] = d[0], i
        for j, h in enumerate(hyp, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r != h))
    return d[len(hyp)]


# ------------------------------------------------------------------ recogniser
def arpa_trigram(sentences, discount=0.5):
    """A backoff trigram LM (absolute discounting, add-one unigrams) as ARPA text."""
    from collections import Counter, defaultdict
    c1, c2, c3 = Counter(), Counter(), Counter()
    for words in sentences:
        t = ["<s>"] + words + ["</s>"]
        c1.update(t[1:])
        c2.update(zip(t, t[1:]))
        c3.update(zip(t, t[1:], t[2:]))
    vocab = sorted(c1)
    N = sum(c1.values())
    p1 = {w: (c1[w] + 1.0) / (N + len(vocab)) for w in vocab}
    by_h2, by_h3 = defaultdict(dict), defaultdict(dict)
    for (h, w), c in c2.items():
        by_h2[h][w] = c
    for (u, v, w), c in c3.items():
        by_h3[(u, v)][w] = c
    p2, a1 = {}, {}
    for h, ws in by_h2.items():
        tot = sum(ws.values())
        for w, c in ws.items():
            p2[(h, w)] = (c - discount) / tot
        a1[h] = (1.0 - sum(p2[(h, w)] for w in ws)) / (1.0 - sum(p1[w] for w in ws))

    def pbo2(v, w):
        return p2[(v, w)] if (v, w) in p2 else a1.get(v, 1.0) * p1[w]

    p3, a2 = {}, {}
    for (u, v), ws in by_h3.items():
        tot = sum(ws.values())
        for w, c in ws.items():
            p3[(u, v, w)] = (c - discount) / tot
        a2[(u, v)] = (1.0 - sum(p3[(u, v, w)] for w in ws)) / max(1e-9, 1.0 - sum(pbo2(v, w) for w in ws))
    lg = lambda p: math.log10(p)  # noqa: E731
    out = ["\\data\\", "ngram 1=%d" % (len(vocab) + 1), "ngram 2=%d" % len(p2), "ngram 3=%d" % len(p3), "",
           "\\1-grams:", "-99.0000 <s> %.4f" % lg(a1["<s>"])]
    for w in vocab:
        out.append("%.4f %s" % (lg(p1[w]), w) + (" %.4f" % lg(a1[w]) if w in a1 else ""))
    out += ["", "\\2-grams:"]
    for (h, w), p in sorted(p2.items()):
        out.append("%.4f %s %s" % (lg(p), h, w) + (" %.4f" % lg(a2[(h, w)]) if (h, w) in a2 else ""))
    out += ["", "\\3-grams:"]
    for (u, v, w), p in sorted(p3.items()):
        out.append("%.4f %s %s %s" % (lg(p), u, v, w))
    out += ["", "\\end\\", ""]
    return "\n".join(out)


ASR_PAD = 0.3       # seconds of padding at both ends
ASR_NOISE = 1e-4    # RMS of the white noise added everywhere (-80 dB re full scale)


def asr_input(x, sr, seed):
    """The same treatment for every system: peak 0.9, 16 kHz, 0.3 s of padding
    at both ends, and seeded white noise at -80 dBFS so that no system hands
    the recogniser digital silence (its batch CMN and energy floor react to it)."""
    y = to16k(level(x, 0.9), sr) if len(x) else np.zeros(0)
    pad = np.zeros(int(ASR_PAD * SR))
    y = np.concatenate([pad, y, pad])
    return y + ASR_NOISE * np.random.default_rng(seed).standard_normal(len(y))


class Recogniser:
    def __init__(self, references, work, grammar="ngram"):
        from pocketsphinx import Decoder, get_model_path
        model = get_model_path()
        os.makedirs(work, exist_ok=True)
        vocab = sorted({w for r in references for w in r})
        full = os.path.join(model, "cmudict-en-us.dict")
        entries, have = [], set()
        for line in open(full, encoding="utf-8", errors="replace"):
            head = line.split(" ", 1)[0]
            word = re.sub(r"\(\d+\)$", "", head)
            if word in vocab:
                entries.append(line.rstrip("\n"))
                have.add(word)
        missing = [w for w in vocab if w not in have]
        if missing:
            raise SystemExit("words missing from cmudict-en-us.dict: " + " ".join(missing))
        dic = os.path.join(work, "sentences.dict")
        open(dic, "w", encoding="utf-8").write("\n".join(entries) + "\n")
        cfg = Decoder.default_config()
        cfg.set_string("-hmm", os.path.join(model, "en-us"))
        cfg.set_string("-dict", dic)
        cfg.set_string("-logfn", "/dev/null")
        if grammar == "jsgf":
            g = os.path.join(work, "sentences.jsgf")
            alts = " | ".join("( %s )" % " ".join(r) for r in sorted({" ".join(r) for r in references}))
            open(g, "w").write("#JSGF V1.0;\ngrammar sentences;\npublic <s> = %s;\n" % alts)
            cfg.set_string("-jsgf", g)
        else:
            lm = os.path.join(work, "sentences.arpa")
            open(lm, "w").write(arpa_trigram(references))
            cfg.set_string("-lm", lm)
        self.decoder = Decoder(cfg)

    def __call__(self, x16):
        pcm = (np.clip(x16, -1, 1) * 32767).astype("<i2").tobytes()
        d = self.decoder
        d.start_utt()
        d.process_raw(pcm, False, True)
        d.end_utt()
        h = d.hyp()
        words = h.hypstr.split() if h is not None else []
        return [w for w in words if not w.startswith(("<", "[", "+"))]


# ------------------------------------------------------------------ main
def make_system(name, a):
    if name == "ganvoice":
        if not (a.acoustic and a.acoustic_card):
            raise SystemExit("ganvoice needs --acoustic and --acoustic-card")
        return ttsdrive.Ganvoice(a.acoustic, a.acoustic_card, a.vocoder, a.voice, "en-us")
    if name == "espeak":
        return ttsdrive.espeak_ng("en-us")
    if name == "flite":
        return ttsdrive.flite()
    if name == "flite-slt":
        return ttsdrive.flite("slt")
    raise SystemExit("unknown system %r (have: %s)" % (name, ", ".join(SYSTEMS)))


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def fmt(v, f):
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f % v


def table(results, order):
    lines = ["| system | MCD-DTW c1–13 (dB) ↓ | MCD-DTW c1–24 (dB) ↓ | F0 RMSE (Hz) ↓ | F0 RMSE (cents) ↓ "
             "| F0 RMSE mean-free (cents) ↓ | duration ratio | WER (%) ↓ | sentences wrong |",
             "|---|---|---|---|---|---|---|---|---|"]
    for s in order:
        r = results.get(s)
        if not r:
            continue
        m, w = r.get("conf", {}), r.get("asr", {})
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            s, fmt(m.get("mcd13"), "%.2f"), fmt(m.get("mcd24"), "%.2f"), fmt(m.get("f0_rmse_hz"), "%.1f"),
            fmt(m.get("f0_rmse_cents"), "%.0f"), fmt(m.get("f0_rmse_cents_meanfree"), "%.0f"),
            fmt(m.get("dur_ratio"), "%.2f"), fmt(None if not w else 100 * w["wer"], "%.1f"),
            "%d/%d" % (w["sentences_wrong"], w["sentences"]) if w else "–"))
    return "\n".join(lines)


def picture(path, prompts, work, systems):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = ["real"] + [s for s in systems if os.path.exists(os.path.join(work, "wav", s))]
    fig, axes = plt.subplots(len(rows), len(prompts), figsize=(7.5 * len(prompts), 1.9 * len(rows)), squeeze=False)
    for j, (name, text, src) in enumerate(prompts):
        longest = 0.0
        for i, s in enumerate(rows):
            ax = axes[i][j]
            f = os.path.join(work, "wav", s, name + ".wav")
            if s == "real":
                x = level(trim(decode_real(src)))
            elif os.path.exists(f):
                x, sr = read_wav(f)
                x = level(trim(to16k(x, sr)))
            else:
                ax.set_axis_off()
                continue
            w = np.hanning(NFFT + 1)[:-1]
            n = 1 + max(0, len(x) - NFFT) // 128
            fr = np.stack([x[k * 128:k * 128 + NFFT] for k in range(n)]) if len(x) >= NFFT else np.zeros((1, NFFT))
            S = 20 * np.log10(np.abs(np.fft.rfft(fr * w, axis=1)).T + 1e-6)
            ax.imshow(S, origin="lower", aspect="auto", cmap="magma", vmin=S.max() - 80, vmax=S.max(),
                      extent=[0, len(x) / SR, 0, SR / 2000])
            short = text if len(text) <= 70 else text[:67] + "…"
            ax.set_title("%s — %s" % (name, s) + (": “%s”" % short if i == 0 else ""), fontsize=9)
            ax.set_ylabel("kHz", fontsize=8)
            ax.tick_params(labelsize=7)
            longest = max(longest, len(x) / SR)
        for i in range(len(rows)):
            axes[i][j].set_xlim(0, longest)   # one time scale per prompt: lengths compare
        axes[-1][j].set_xlabel("s (trimmed)", fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=72)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--acoustic", help="acoustic TorchScript (models/acoustic/acoustic.ts)")
    ap.add_argument("--acoustic-card", help="its card (models/acoustic/acoustic.json)")
    ap.add_argument("--vocoder", default=os.path.join(REPO, "models", "vocoder", "vocoder.ts"))
    ap.add_argument("--voice", default="allison")
    ap.add_argument("--systems", default=DEFAULT_SYSTEMS, help="comma-separated, of: " + ", ".join(SYSTEMS))
    ap.add_argument("--root", default="/var/tmp/ganvoice")
    ap.add_argument("--sentences", default=os.path.join(HERE, "sentences-en.txt"))
    ap.add_argument("--out", default="/var/tmp/ganvoice/acoustic/eval/metrics.json")
    ap.add_argument("--work", default=None, help="audio and recogniser files (default: beside --out)")
    ap.add_argument("--picture", default=os.path.join(REPO, "docs", "img", "tts-spectrograms.png"))
    ap.add_argument("--grammar", choices=("ngram", "jsgf"), default="ngram",
                    help="recogniser language model: trigram of the sentences, or a JSGF alternation of them")
    ap.add_argument("--limit", type=int, default=0, help="only the first N prompts and sentences (a quick check)")
    ap.add_argument("--fresh", action="store_true", help="do not merge into an existing --out")
    a = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    systems = [s.strip() for s in a.systems.split(",") if s.strip()]
    for s in systems:
        if s not in SYSTEMS:
            raise SystemExit("unknown system %r (have: %s)" % (s, ", ".join(SYSTEMS)))
    work = a.work or os.path.dirname(os.path.abspath(a.out))
    os.makedirs(work, exist_ok=True)
    t0 = time.time()

    prompts = load_prompts(os.path.join(a.root, "data"))
    if not prompts:
        raise SystemExit("no conf-* prompts under %s (run /usr/bin/python3 -m models.vocoder.prepare_data "
                         "--heldout-only)" % os.path.join(a.root, "data"))
    sentences = load_sentences(a.sentences)
    if a.limit:
        prompts, sentences = prompts[:a.limit], sentences[:a.limit]
    refs = [normalise(s) for s in sentences]
    log("%d conf-* prompts, %d sentences" % (len(prompts), len(sentences)))

    real = {}
    for name, text, path in prompts:
        real[name] = Analysis(trim(decode_real(path)))
    log("real prompts analysed (%.0fs)" % (time.time() - t0))
    rec = Recogniser(refs, work, a.grammar)

    results = {}
    if os.path.exists(a.out) and not a.fresh:
        try:
            results = json.load(open(a.out)).get("systems", {})
        except (ValueError, OSError):
            results = {}

    for s in systems:
        t1 = time.time()
        tts = make_system(s, a)
        wdir = os.path.join(work, "wav", s)
        os.makedirs(wdir, exist_ok=True)
        texts = [t for _, t, _ in prompts] + sentences
        audio = tts.synth_many(texts)
        t_synth = time.time() - t1
        per = {}
        for (name, text, _), (x, sr) in zip(prompts, audio[:len(prompts)]):
            write_wav(os.path.join(wdir, name + ".wav"), level(x, 0.9) if len(x) else x, sr)
            y = trim(to16k(x, sr))
            if len(y) < 2 * HOP:
                per[name] = {"error": "no audio"}
                continue
            per[name] = compare(real[name], Analysis(y))
        ok = [r for r in per.values() if "error" not in r]
        agg = {k: float(np.nanmean([r[k] for r in ok])) for k in
               ("mcd13", "mcd24", "f0_rmse_hz", "f0_rmse_cents", "f0_rmse_cents_meanfree", "f0_offset_cents",
                "dur_ratio")}
        agg["dur_ratio_median"] = float(np.median([r["dur_ratio"] for r in ok]))
        agg["prompts"] = len(ok)
        asr_rows, tot_e, tot_w, wrong = [], 0, 0, 0
        for k, (sent, ref, (x, sr)) in enumerate(zip(sentences, refs, audio[len(prompts):])):
            write_wav(os.path.join(wdir, "sent-%02d.wav" % (k + 1)), level(x, 0.9) if len(x) else x, sr)
            hyp = rec(asr_input(x, sr, k))
            e = edits(ref, hyp)
            tot_e += e
            tot_w += len(ref)
            wrong += e > 0
            asr_rows.append({"text": sent, "ref": " ".join(ref), "hyp": " ".join(hyp), "edits": e})
        asr = {"wer": tot_e / max(1, tot_w), "edits": tot_e, "words": tot_w, "sentences": len(sentences),
               "sentences_wrong": wrong, "grammar": a.grammar}
        results[s] = {"description": SYSTEMS[s], "conf": agg, "asr": asr, "per_prompt": per,
                      "per_sentence": asr_rows, "synth_seconds": round(t_synth, 1),
                      "measured": time.strftime("%Y-%m-%d %H:%M:%S")}
        if s == "ganvoice":
            results[s]["models"] = {"acoustic": os.path.abspath(a.acoustic), "card": os.path.abspath(a.acoustic_card),
                                    "vocoder": os.path.abspath(a.vocoder), "voice": a.voice,
                                    "skipped_phonemes": sorted(tts.skipped)}
        log("%s: MCD %.2f dB, F0 %.1f Hz, dur %.2f, WER %.1f%% (%.0fs, synthesis %.0fs)" % (
            s, agg["mcd13"], agg["f0_rmse_hz"], agg["dur_ratio"], 100 * asr["wer"], time.time() - t1, t_synth))

    order = [s for s in SYSTEMS if s in results] + [s for s in results if s not in SYSTEMS]
    doc = {
        "protocol": "models/acoustic/evaluate_tts.py (analysis: models/common/mcd.py), see docs/tts-quality.md",
        "analysis": {"sample_rate": SR, "window": "%d-sample Hamming (25 ms)" % WIN, "hop": "%d (5 ms)" % HOP,
                     "n_fft": NFFT, "mel": "%d HTK triangles 0-%d Hz" % (N_MELS, FMAX),
                     "floor_db": FLOOR_DB, "trim_db": TRIM_DB,
                     "mcd": "10/ln10 * sqrt(2 * sum_d (c_d - c'_d)^2), c_k = 1/(2N) sum_n ln(E_n) cos(pi k (n+1/2)/N) "
                            "(cepstrum of the log amplitude), mean over the DTW path (DTW on c1..c13)",
                     "f0": "YIN (models/common/pitch.py), 640-sample frames, 60-500 Hz, threshold 0.15"},
        "prompts": [n for n, _, _ in prompts], "sentences": len(sentences), "limit": a.limit,
        "systems": {s: results[s] for s in order},
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    json.dump(doc, open(a.out, "w"), indent=1, ensure_ascii=False)
    if a.picture:
        pp = [p for p in prompts if p[0] in PICTURE_PROMPTS] or prompts[:2]
        picture(a.picture, pp, work, order)
    print(table(results, order))
    log("wrote %s and %s (%.0fs)" % (a.out, a.picture, time.time() - t0))
    g, others = results.get("ganvoice"), [results[s] for s in ("espeak", "flite") if s in results]
    if g and others:
        better = all(g["conf"]["mcd13"] < o["conf"]["mcd13"] for o in others)
        print("\nganvoice MCD-DTW below espeak-ng and flite:", "yes" if better else "NO")


if __name__ == "__main__":
    main()

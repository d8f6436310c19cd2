"""Objective evaluation of voice cloning (speakerembed + ganvoice) on unseen speakers.

  /usr/bin/python3 -m models.speaker.evaluate_cloning [--build build] [--model-dir models]
      [--work /var/tmp/ganvoice/clone-eval] [--data /var/tmp/ganvoice/data] [--resynth]

docs/cloning-evaluation.md describes the protocol and every number; in short:

  Targets (held out from every training recipe): cs-m, cs-v (fillets-ng-data-cs, the
  two fish actors), fr-armelle, es-co, it-menardi (asterisk-prompt-*, 8 kHz telephone
  prompts) and librivox (pocketsphinx-testdata).  Per target a seeded shuffle of its
  clips gives a reference (clips concatenated until >= 10 s), then held-out test clips
  and enrollment clips, all three disjoint.  Built-in voices (allison, allison-es, june,
  carlo, ivrvoice) are enrolled from their own real recordings (asterisk-core-sounds-*-g722,
  English conf-* excluded).

  Cloning: speakerembed makes a profile from the reference; ganvoice speaks 10 sentences
  with it (the target's language, English for cs-*/librivox; plus English for the three
  telephone targets: cross-lingual), and the profile's base_voice speaks the same
  sentences as a baseline.

  Metrics: everything at 8 kHz mono (0-4 kHz), energy VAD, 20 MFCC (c1..c20) + deltas,
  per-utterance CMN (primary; no-CMN reported too), a 32-component diagonal GMM-UBM on
  the pooled enrollment of the 11 speakers and one MAP-adapted (means) GMM per speaker.
  Each utterance is identified by its highest average log-likelihood.  F0: median YIN F0.

Caching: decoded audio, references, profiles and synthesized clips live under --work;
a rerun redoes synthesis only when the binaries, models, profile, sentences or language
changed (or with --resynth).  Results: <work>/results.json and a Markdown table on stdout.
"""
import argparse
import glob
import hashlib
import json
import math
import os
import random
import re
import subprocess
import sys
import time

import numpy as np
from scipy.io import wavfile

from models.common import audio
from models.common import mcd as MCD
from models.common.data import asterisk_transcripts
from models.common.files import file_digest
from models.common.mel import htk_filterbank, htk_mel, htk_mel_to_hz

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))

SR = 8000            # analysis rate: 0-4 kHz, the telephone band of three targets
SEED = 20251125
REF_SECONDS = 10.0   # reference: clips concatenated until at least this much audio
TEST_SECONDS = 20.0  # held-out real test clips (at most; 25 % of what is left if less)
ENROLL_SECONDS = 60.0
MIN_CLIP = 1.0       # shorter clips are skipped (single words)
SLOT = 20.0          # seconds per cue in the synthesis SRT (no fitting pressure)

BUILTINS = {  # voice -> (package dir, language of its recordings)
    "allison": ("asterisk-core-sounds-en-g722", "en"),
    "allison-es": ("asterisk-core-sounds-es-g722", "es"),
    "june": ("asterisk-core-sounds-fr-g722", "fr"),
    "carlo": ("asterisk-core-sounds-it-g722", "it"),
    "ivrvoice": ("asterisk-core-sounds-ru-g722", "ru"),
}
TARGETS = {  # target -> language of its real speech, language the clone speaks
    "cs-m": ("cs", "en"),
    "cs-v": ("cs", "en"),
    "fr-armelle": ("fr", "fr"),
    "es-co": ("es", "es"),
    "it-menardi": ("it", "it"),
    "librivox": ("en", "en"),
}
CROSS = ["fr-armelle", "es-co", "it-menardi"]  # also speak English

SENTENCES = {
    "en": [
        "The old lighthouse keeper walked down to the harbour every morning.",
        "Please remember to close the window before you leave the house.",
        "We found a small wooden box hidden under the kitchen floor.",
        "The train to the coast was late again because of the storm.",
        "She painted the garden fence a bright shade of yellow.",
        "Nobody expected the quiet student to win the chess tournament.",
        "If the weather clears up, we will climb the hill after lunch.",
        "He told me the story of his first journey across the mountains.",
        "The market sells fresh bread, cheese and apples on Saturdays.",
        "Could you tell me how long it takes to get to the museum?",
    ],
    "es": [
        "El viejo farero bajaba al puerto todas las mañanas.",
        "Por favor, recuerda cerrar la ventana antes de salir de casa.",
        "Encontramos una pequeña caja de madera debajo del suelo de la cocina.",
        "El tren a la costa llegó tarde otra vez por culpa de la tormenta.",
        "Ella pintó la cerca del jardín de un amarillo muy vivo.",
        "Nadie esperaba que el estudiante callado ganara el torneo de ajedrez.",
        "Si el tiempo mejora, subiremos la colina después de comer.",
        "Me contó la historia de su primer viaje a través de las montañas.",
        "En el mercado venden pan fresco, queso y manzanas los sábados.",
        "¿Podría decirme cuánto tiempo se tarda en llegar al museo?",
    ],
    "fr": [
        "Le vieux gardien du phare descendait au port chaque matin.",
        "N'oublie pas de fermer la fenêtre avant de quitter la maison.",
        "Nous avons trouvé une petite boîte en bois sous le plancher de la cuisine.",
        "Le train pour la côte était encore en retard à cause de la tempête.",
        "Elle a peint la clôture du jardin d'un jaune très vif.",
        "Personne ne pensait que l'élève silencieux gagnerait le tournoi d'échecs.",
        "Si le temps s'éclaircit, nous monterons sur la colline après le déjeuner.",
        "Il m'a raconté l'histoire de son premier voyage à travers les montagnes.",
        "Le marché vend du pain frais, du fromage et des pommes le samedi.",
        "Pourriez-vous me dire combien de temps il faut pour aller au musée?",
    ],
    "it": [
        "Il vecchio guardiano del faro scendeva al porto ogni mattina.",
        "Ricordati di chiudere la finestra prima di uscire di casa.",
        "Abbiamo trovato una piccola scatola di legno sotto il pavimento della cucina.",
        "Il treno per la costa era di nuovo in ritardo a causa del temporale.",
        "Lei ha dipinto il recinto del giardino di un giallo molto vivace.",
        "Nessuno si aspettava che lo studente silenzioso vincesse il torneo di scacchi.",
        "Se il tempo migliora, saliremo sulla collina dopo pranzo.",
        "Mi ha raccontato la storia del suo primo viaggio attraverso le montagne.",
        "Il mercato vende pane fresco, formaggio e mele il sabato.",
        "Potrebbe dirmi quanto tempo ci vuole per arrivare al museo?",
    ],
}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def sha1(*parts):
    h = hashlib.sha1()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()


def file_sha1(path):
    return file_digest(path, "sha1")


# ----------------------------------------------------------------------------- data

def speaker_files(data):
    """speaker -> sorted candidate files (sentences only: no digits/letters/... subfolders,
    no beeps or tones)."""
    def asterisk(pkg, ext, subdir=None):
        base = os.path.join(data, pkg, "usr/share/asterisk/sounds")
        dirs = [os.path.join(base, subdir)] if subdir else sorted(glob.glob(os.path.join(base, "*")))
        out = []
        for d in dirs:
            for f in sorted(glob.glob(os.path.join(d, "*." + ext))):
                b = os.path.basename(f)
                if re.search(r"beep|tone|silence|music|moh", b):
                    continue
                if pkg.startswith("asterisk-core-sounds-en") and b.startswith("conf-"):
                    continue  # held out (models/acoustic/evaluate_tts.py)
                out.append(f)
        return out

    spk = {}
    fl = os.path.join(data, "fillets-ng-data-cs/usr/share/games/fillets-ng/sound")
    for code in ("m", "v"):
        spk["cs-" + code] = sorted(
            f for f in glob.glob(os.path.join(fl, "*", "cs", "*.ogg"))
            if len(os.path.basename(f)[:-4].split("-")) == 3 and
            os.path.basename(f)[:-4].split("-")[1] == code)
    spk["fr-armelle"] = asterisk("asterisk-prompt-fr-armelle", "gsm", "fr")
    spk["es-co"] = asterisk("asterisk-prompt-es-co", "gsm", "es")
    spk["it-menardi"] = asterisk("asterisk-prompt-it-menardi-wav", "wav", "it_IT_f_Menardi")
    spk["librivox"] = sorted(glob.glob(os.path.join(
        data, "pocketsphinx-testdata/usr/share/pocketsphinx/test/data/librivox/*.wav")))
    for v, (pkg, _) in BUILTINS.items():
        spk[v] = asterisk(pkg, "g722")
    for k, v in spk.items():
        if not v:
            sys.exit(f"evaluate_cloning: no audio for {k} under {data} (see the docstring)")
    return spk


def decode(path, rate=None):
    """(mono float32 at `rate`, rate); None: the file's own rate, read with ffprobe."""
    rate = rate or audio.probe_rate(path)
    return audio.decode(path, rate, float_samples=True), rate


def to_sr(x, rate):
    """float32 at the analysis rate SR."""
    return audio.resample(x, rate, SR).astype(np.float32)


def split_speaker(name, files, cache, target):
    """Seeded shuffle, then reference (targets only), test and enrollment clips,
    disjoint.  Cached as npz (8 kHz clips) + the reference WAV at its native rate."""
    key = sha1(name, SEED, REF_SECONDS, TEST_SECONDS, ENROLL_SECONDS, MIN_CLIP, *files)[:12]
    npz = os.path.join(cache, "decoded", f"{name}-{key}.npz")
    ref_wav = os.path.join(cache, "refs", f"{name}.wav")
    if os.path.exists(npz) and (not target or os.path.exists(ref_wav)):
        z = np.load(npz, allow_pickle=True)
        return json.loads(str(z["meta"])), {k: list(z[k]) for k in ("test", "enroll")}
    order = list(files)
    random.Random(f"{SEED}-{name}").shuffle(order)
    need = (REF_SECONDS if target else 0.0) + TEST_SECONDS + ENROLL_SECONDS + 5.0
    clips, total, native = [], 0.0, None
    for f in order:
        x, r = decode(f)
        if native is None:
            native = r
        if r != native:
            x, r = decode(f, native)
        if len(x) / r < MIN_CLIP or np.max(np.abs(x)) < 1e-3:
            continue
        clips.append((f, x, r))
        total += len(x) / r
        if total >= need:
            break
    i, ref = 0, []
    if target:
        acc = 0.0
        while acc < REF_SECONDS and i < len(clips):
            ref.append(clips[i])
            acc += len(clips[i][1]) / native
            i += 1
        if acc < REF_SECONDS:
            sys.exit(f"evaluate_cloning: {name}: only {acc:.1f} s of audio for the reference")
    rest = clips[i:]
    avail = sum(len(c[1]) / native for c in rest)
    test_goal = min(TEST_SECONDS, 0.25 * avail)
    test, acc = [], 0.0
    while rest and len(rest) > 1 and (acc < test_goal or not test):
        test.append(rest.pop(0))
        acc += len(test[-1][1]) / native
    enroll, acc = [], 0.0
    while rest and acc < ENROLL_SECONDS:
        enroll.append(rest.pop(0))
        acc += len(enroll[-1][1]) / native
    if not test or not enroll:
        sys.exit(f"evaluate_cloning: {name}: too few clips for test and enrollment")
    meta = {
        "native_rate": native,
        "reference_files": [c[0] for c in ref],
        "reference_seconds": sum(len(c[1]) for c in ref) / native,
        "test_files": [c[0] for c in test],
        "test_seconds": sum(len(c[1]) for c in test) / native,
        "enroll_files": [c[0] for c in enroll],
        "enroll_seconds": sum(len(c[1]) for c in enroll) / native,
    }
    os.makedirs(os.path.dirname(npz), exist_ok=True)
    if target:
        os.makedirs(os.path.dirname(ref_wav), exist_ok=True)
        cat = np.concatenate([c[1] for c in ref])
        cat = cat / max(1.0, float(np.max(np.abs(cat))) / 0.99)
        wavfile.write(ref_wav, native, (cat * 32767).astype(np.int16))
    sets = {"test": [to_sr(c[1], native) for c in test], "enroll": [to_sr(c[1], native) for c in enroll]}
    arr = {}
    for k, v in sets.items():
        a = np.empty(len(v), dtype=object)
        a[:] = v
        arr[k] = a
    np.savez(npz, meta=json.dumps(meta), **arr)
    return meta, sets


# ----------------------------------------------------------------------- synthesis

class Gst:
    def __init__(self, build, model_dir, work):
        self.env = dict(os.environ)
        self.env["GST_PLUGIN_PATH"] = os.path.join(build, "plugins")
        self.env["GANVOICE_MODEL_DIR"] = model_dir
        self.env["GST_REGISTRY"] = os.path.join(work, "gst-registry.bin")
        parts = []
        for p in sorted(glob.glob(os.path.join(build, "plugins", "*.so"))) + \
                sorted(glob.glob(os.path.join(build, "gst", "libganvoice-1.0.so*"))):
            if os.path.isfile(p) and not os.path.islink(p):
                parts.append(file_sha1(p))
        for f in ("acoustic/acoustic.ts", "acoustic/acoustic.json", "vocoder/vocoder.ts",
                  "vocoder/vocoder.json", "speaker/speaker.ts", "speaker/speaker.json"):
            p = os.path.join(model_dir, f)
            if not os.path.exists(p):
                sys.exit(f"evaluate_cloning: {p} is missing (--model-dir)")
            parts.append(file_sha1(p))
        if not os.path.exists(os.path.join(build, "plugins", "libgstganvoice.so")):
            sys.exit(f"evaluate_cloning: {build}/plugins/libgstganvoice.so is missing (--build)")
        self.fingerprint = sha1(*parts)

    def launch(self, args):
        t = time.time()
        r = subprocess.run(["gst-launch-1.0", "-m"] + args, env=self.env, capture_output=True,
                           text=True)
        out = r.stdout + r.stderr
        issues = sorted(set(line.strip() for line in out.splitlines()
                            if re.match(r"\s*(ERROR|WARNING)", line) or
                            "CRITICAL" in line or "GStreamer-WARNING" in line))
        return r.returncode, out, issues, time.time() - t


def cached_meta(path, key):
    """The .meta of `path` when both exist and were made with `key`, else None."""
    meta_p = path + ".meta"
    if os.path.exists(path) and os.path.exists(meta_p):
        m = json.load(open(meta_p))
        if m.get("key") == key:
            return m
    return None


def make_profile(gst, name, ref_wav, lang, out_dir, force):
    prof = os.path.join(out_dir, f"{name}.json")
    meta_p = prof + ".meta"
    key = sha1(gst.fingerprint, file_sha1(ref_wav), lang)
    m = None if force else cached_meta(prof, key)
    if m:
        return prof, m
    os.makedirs(out_dir, exist_ok=True)
    rc, out, issues, dt = gst.launch(
        ["filesrc", f"location={ref_wav}", "!", "wavparse", "!", "audioconvert", "!",
         "speakerembed", f"location={prof}", f"voice-name={name}", f"language={lang}",
         "!", "fakesink"])
    if rc != 0 or not os.path.exists(prof):
        sys.exit(f"evaluate_cloning: speakerembed failed on {ref_wav}:\n{out[-3000:]}")
    m = {"key": key, "issues": issues, "seconds": dt}
    s = re.search(r"speech-seconds=\(double\)([0-9.eE+-]+)", out)
    m["speech_seconds"] = float(s.group(1)) if s else None
    json.dump(m, open(meta_p, "w"), indent=1)
    return prof, m


def adapt_profile(gst, build, name, prof, n, force):
    """ganvoice-adapt (the opt-in adapt step) on a profile; cached like make_profile."""
    out = prof[:-5] + "-adapted.json"
    meta_p = out + ".meta"
    key = sha1(gst.fingerprint, file_sha1(prof), n)
    m = None if force else cached_meta(out, key)
    if m:
        return out, m
    t = time.time()
    r = subprocess.run([os.path.join(build, "examples", "tools", "ganvoice-adapt"), prof, "-o", out,
                        "-n", str(n)], env=gst.env, capture_output=True, text=True)
    if r.returncode != 0 or not os.path.exists(out):
        sys.exit(f"evaluate_cloning: ganvoice-adapt failed on {prof}:\n{r.stderr[-3000:]}")
    s = re.search(r"similarity ([0-9.-]+) -> ([0-9.-]+)", r.stderr)
    m = {"key": key, "seconds": time.time() - t, "evaluations": n,
         "similarity_before": float(s.group(1)) if s else None,
         "similarity_after": float(s.group(2)) if s else None}
    json.dump(m, open(meta_p, "w"), indent=1)
    log(f"{name}: adapted in {m['seconds']:.0f} s, similarity {m['similarity_before']} -> "
        f"{m['similarity_after']}")
    return out, m


def srt_time(t):
    ms = int(round(t * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def synthesize(gst, cond, voice, lang, sentences, out_dir, force):
    """Speak the sentences as one SRT (a cue every SLOT s) and cut each cue's speech out
    by its ganvoice-cue message (speech-start .. speech-end)."""
    wav = os.path.join(out_dir, f"{cond}.wav")
    meta_p = os.path.join(out_dir, f"{cond}.json")
    vkey = file_sha1(voice) if os.path.exists(voice) else voice
    key = sha1(gst.fingerprint, vkey, lang, SLOT, *sentences)
    if not force and os.path.exists(wav) and os.path.exists(meta_p):
        m = json.load(open(meta_p))
        if m.get("key") == key:
            return m
    os.makedirs(out_dir, exist_ok=True)
    srt = os.path.join(out_dir, f"{cond}.srt")
    with open(srt, "w") as f:
        for i, s in enumerate(sentences):
            f.write(f"{i + 1}\n{srt_time(i * SLOT + 0.5)} --> {srt_time(i * SLOT + 0.5 + SLOT * 0.75)}\n{s}\n\n")
    if os.path.exists(wav):
        os.unlink(wav)
    rc, out, issues, dt = gst.launch(
        ["filesrc", f"location={srt}", "!", "subcues", "!", "ganvoice", f"voice={voice}",
         f"language={lang}", "!", "audiorate", "!", "audioconvert", "!", "audio/x-raw,format=F32LE",
         "!", "wavenc", "!", "filesink", f"location={wav}"])
    if rc != 0 or not os.path.exists(wav):
        sys.exit(f"evaluate_cloning: synthesis of {cond} failed:\n{out[-3000:]}")
    cues = []
    for line in out.splitlines():
        if "ganvoice-cue" not in line:
            continue
        c = {}
        for k, t, v in re.findall(r"([a-z-]+)=\((\w+)\)(\"[^\"]*\"|[^,;]*)", line):
            v = v.strip('"')
            c[k] = (v == "true") if t == "boolean" else (
                float(v) if t == "double" else (int(v) if t in ("guint64", "uint", "int") else v))
        cues.append(c)
    m = {"key": key, "voice": voice, "language": lang, "issues": issues, "seconds": dt,
         "cues": cues}
    json.dump(m, open(meta_p, "w"), indent=1)
    return m


def envelope_gain(gst, target_profile, base_wav, base_meta, out_dir):
    """Diagnostic: the envelope gain plan_conversion () would apply (voice-conversion.cpp:
    target - base envelope within the target's band, [1/4 1/2 1/4] twice, clamp +-12 dB;
    the warp is ignored), with
    the base voice's envelope measured by speakerembed on its baseline speech (the cues
    joined with 0.3 s pauses; the synthesizer measures four fixed English sentences
    instead).  Returns the gain per trait band and how many bands hit the clamp."""
    p = os.path.join(out_dir, os.path.basename(base_wav)[:-4] + ".json")
    key = base_meta["key"]
    if not (os.path.exists(p) and json.load(open(p)).get("name") == key[:16]):
        os.makedirs(out_dir, exist_ok=True)
        rate, x = wavfile.read(base_wav)
        gap = np.zeros(int(0.3 * rate), np.float32)
        segs = []
        for c in base_meta["cues"]:
            segs += [x[int(c["speech-start"] * rate // 1e9):int(c["speech-end"] * rate // 1e9)], gap]
        w = p[:-5] + ".joined.wav"
        wavfile.write(w, rate, np.concatenate(segs).astype(np.float32))
        rc, out, _, _ = gst.launch(["filesrc", f"location={w}", "!", "wavparse", "!", "audioconvert",
                                    "!", "speakerembed", f"location={p}", f"voice-name={key[:16]}",
                                    "max-speech=600", "!", "fakesink"])
        if rc != 0 or not os.path.exists(p):
            return None
    te = np.array(target_profile["traits"]["spectral_envelope"], float)
    be = np.array(json.load(open(p))["traits"]["spectral_envelope"], float)
    if len(te) != len(be):
        return None
    # the band limit of plan_conversion: bands within 35 dB of the target's loudest one,
    # each side relative to its own mean over them, edge gains held outside
    inband = np.nonzero(te >= te.max() - 35.0)[0]
    lo, hi = inband[0], inband[-1]
    idx = np.clip(np.arange(len(te)), lo, hi)
    g = (te[idx] - te[lo:hi + 1].mean()) - (be[idx] - be[lo:hi + 1].mean())
    for _ in range(2):
        g = 0.25 * np.r_[g[0], g[:-1]] + 0.5 * g + 0.25 * np.r_[g[1:], g[-1]]

    hz = htk_mel_to_hz(np.linspace(0, htk_mel(8000), len(te) + 2))[1:-1]
    return {"band_hz": hz.round().tolist(), "target": te.tolist(), "base": be.tolist(),
            "gain_db": np.clip(g, -12, 12).round(2).tolist(),
            "clamped_bands": int(np.sum(np.abs(g) > 12)),
            "clamped_bands_below_4k": int(np.sum((np.abs(g) > 12) & (hz < 4000))),
            "bands_below_4k": int(np.sum(hz < 4000))}


def cut_cues(wav, meta):
    rate, x = wavfile.read(wav)
    x = x.astype(np.float32)
    if x.ndim > 1:
        x = x.mean(axis=1)
    none = 2 ** 64 - 1
    utts = []
    for i, c in enumerate(meta["cues"]):
        a, b = c.get("speech-start", none), c.get("speech-end", none)
        if a == none or b == none:
            a, b = int((i * SLOT + 0.5) * 1e9), int(((i + 1) * SLOT) * 1e9)
        seg = x[int(a * rate // 1e9):int(b * rate // 1e9)]
        if len(seg) > rate // 10:
            utts.append(to_sr(seg, rate))
    return utts, rate


# ------------------------------------------------------------------------ features

FRAME, HOP, NFFT = 200, 80, 256   # 25 ms, 10 ms, at 8 kHz


def frames(x, length, hop):
    if len(x) < length:
        x = np.pad(x, (0, length - len(x)))
    n = 1 + (len(x) - length) // hop
    idx = np.arange(length)[None, :] + hop * np.arange(n)[:, None]
    return x[idx]


def feature_setup(rate):
    """(frame, hop, nfft, filterbank, DCT) of the MFCC analysis at `rate`: 25 ms frames every
    10 ms, 24 HTK mel bands over 0 .. rate/2, c1..c20.  At SR: FRAME, HOP, NFFT, FB, DCT."""
    if rate not in _FEATURES:
        frame, hop = int(round(0.025 * rate)), int(round(0.010 * rate))
        nfft = 1 << int(math.ceil(math.log2(frame)))
        fb = htk_filterbank(rate, nfft, 24)
        n = fb.shape[0]
        dct = np.sqrt(2.0 / n) * np.cos(np.pi / n * (np.arange(n)[None, :] + 0.5) * np.arange(1, 21)[:, None])
        _FEATURES[rate] = (frame, hop, nfft, fb, dct)
    return _FEATURES[rate]


_FEATURES = {}


def vad(x, rate=SR):
    """Energy VAD: 25 ms frames every 10 ms whose level is within 30 dB of the clip's
    99th-percentile frame level and above -60 dBFS."""
    frame, hop = feature_setup(rate)[:2]
    f = frames(x, frame, hop)
    db = 10 * np.log10(np.mean(f.astype(np.float64) ** 2, axis=1) + 1e-12)
    return db > max(np.percentile(db, 99) - 30.0, -60.0)


FB = htk_filterbank(SR, NFFT, 24)   # 24 HTK mel bands, 0-4 kHz
NMELS = FB.shape[0]
DCT = np.sqrt(2.0 / NMELS) * np.cos(np.pi / NMELS * (np.arange(NMELS)[None, :] + 0.5) *
                                    np.arange(1, 21)[:, None])   # c1..c20


def mfcc(x, cmn, rate=SR):
    """20 MFCC (c1..c20: 24 HTK-mel bands 0-4 kHz, pre-emphasis 0.97, Hamming 25 ms,
    hop 10 ms) + deltas (+-2 frames), speech frames only; CMN over the utterance's speech
    frames when cmn.  `rate`: x's rate, the bands then cover 0 .. rate/2 (16000: full band)."""
    frame, hop, nfft, fb, dct = feature_setup(rate)
    keep = vad(x, rate)
    y = np.append(x[0], x[1:] - 0.97 * x[:-1]).astype(np.float64)
    f = frames(y, frame, hop) * np.hamming(frame)
    p = np.abs(np.fft.rfft(f, nfft)) ** 2
    c = np.log(p @ fb.T + 1e-10) @ dct.T
    pad = np.pad(c, ((2, 2), (0, 0)), mode="edge")
    d = (pad[3:-1] - pad[1:-3] + 2 * (pad[4:] - pad[:-4])) / 10.0
    feat = np.hstack([c, d])[keep[:len(c)]]
    if cmn and len(feat):
        feat = feat - feat.mean(axis=0)
    return feat


def ltas(utts):
    """long-term average spectrum (dB) of the speech frames, 0-4 kHz."""
    acc, n = np.zeros(NFFT // 2 + 1), 0
    for x in utts:
        keep = vad(x)
        f = frames(x.astype(np.float64), FRAME, HOP)[keep] * np.hamming(FRAME)
        acc += (np.abs(np.fft.rfft(f, NFFT)) ** 2).sum(axis=0)
        n += len(f)
    s = 10 * np.log10(acc / max(n, 1) + 1e-12)
    return s - s.max()


# ---------------------------------------------------------------------------- F0

def yin_f0(x, fmin=60.0, fmax=400.0, thresh=0.15, voiced=0.25):
    """YIN on 30 ms windows every 10 ms at 8 kHz; F0 of the frames that are speech
    (the VAD) and periodic (CMNDF minimum < 0.25), parabolic interpolation."""
    W = 240
    tmin, tmax = int(SR / fmax), int(math.ceil(SR / fmin))
    L = W + tmax + 1
    f = frames(x.astype(np.float64), L, HOP)
    keep = vad(x)
    n = min(len(f), len(keep))
    f, keep = f[:n][keep[:n]], None
    if not len(f):
        return np.zeros(0)
    nfft = 1 << int(math.ceil(math.log2(2 * L)))
    A = np.fft.rfft(f[:, :W], nfft)
    B = np.fft.rfft(f, nfft)
    r = np.fft.irfft(np.conj(A) * B, nfft)[:, :tmax + 1]          # sum_j x_j x_{j+tau}
    e = np.cumsum(np.pad(f ** 2, ((0, 0), (1, 0))), axis=1)
    taus = np.arange(tmax + 1)
    energy_tau = e[:, taus + W] - e[:, taus]                        # sum_j x_{j+tau}^2
    d = energy_tau[:, :1] + energy_tau - 2 * r
    d[:, 0] = 0
    cm = np.cumsum(d[:, 1:], axis=1)
    dn = np.ones_like(d)
    dn[:, 1:] = d[:, 1:] * np.arange(1, tmax + 1) / np.maximum(cm, 1e-12)
    out = []
    for row in dn:
        seg = row[tmin:tmax]
        below = np.nonzero(seg < thresh)[0]
        if len(below):
            t = below[0]
            while t + 1 < len(seg) and seg[t + 1] < seg[t]:
                t += 1
        else:
            t = int(np.argmin(seg))
        if seg[t] >= voiced:
            continue
        tau = t + tmin
        if 0 < tau < tmax:
            a, b, c = row[tau - 1], row[tau], row[tau + 1]
            den = a - 2 * b + c
            tau = tau + (0.5 * (a - c) / den if abs(den) > 1e-12 else 0.0)
        out.append(SR / tau)
    return np.array(out)


def median_f0(utts):
    f = np.concatenate([yin_f0(x) for x in utts]) if utts else np.zeros(0)
    return float(np.median(f)) if len(f) else float("nan")


# ---------------------------------------------------------------------------- GMM

def gmm_loglik(X, w, mu, var):
    """per-frame, per-component log(w_k N(x; mu_k, diag var_k))."""
    prec = 1.0 / var
    ll = -0.5 * ((X ** 2) @ prec.T - 2 * X @ (mu * prec).T + np.sum(mu ** 2 * prec, axis=1))
    ll += np.log(w) - 0.5 * np.sum(np.log(2 * np.pi * var), axis=1)
    return ll


def logsumexp(a):
    m = a.max(axis=1, keepdims=True)
    return (m + np.log(np.exp(a - m).sum(axis=1, keepdims=True)))[:, 0]


def train_ubm(X, K, iters, rng):
    gvar = X.var(axis=0)
    floor = 0.01 * gvar
    mu = X[rng.choice(len(X), K, replace=False)].copy()
    var = np.tile(gvar, (K, 1))
    w = np.full(K, 1.0 / K)
    for _ in range(iters):
        ll = gmm_loglik(X, w, mu, var)
        g = np.exp(ll - logsumexp(ll)[:, None])
        nk = g.sum(axis=0) + 1e-10
        mu = (g.T @ X) / nk[:, None]
        var = np.maximum((g.T @ (X ** 2)) / nk[:, None] - mu ** 2, floor)
        w = nk / nk.sum()
        dead = nk < 2.0
        if dead.any():  # re-seed empty components on random frames
            mu[dead] = X[rng.choice(len(X), int(dead.sum()), replace=False)]
            var[dead] = gvar
    return w, mu, var


def map_adapt(X, ubm, r=16.0):
    w, mu, var = ubm
    ll = gmm_loglik(X, w, mu, var)
    g = np.exp(ll - logsumexp(ll)[:, None])
    nk = g.sum(axis=0)
    ex = (g.T @ X) / np.maximum(nk, 1e-10)[:, None]
    a = (nk / (nk + r))[:, None]
    return w, a * ex + (1 - a) * mu, var


def score(feat, models):
    """average per-frame log-likelihood of the utterance under each speaker's GMM."""
    return {k: float(np.mean(logsumexp(gmm_loglik(feat, *m)))) for k, m in models.items()}


class Backend:
    def __init__(self, enroll, cmn, K=32, iters=25, ubm_frames=4000, rate=SR):
        rng = np.random.default_rng(SEED)
        self.cmn = cmn
        self.rate = rate  # of every clip given (enrollment and trials)
        feats = {k: np.vstack([mfcc(x, cmn, rate) for x in v]) for k, v in enroll.items()}
        pool = np.vstack([f[rng.choice(len(f), min(len(f), ubm_frames), replace=False)]
                          for f in feats.values()])
        self.ubm = train_ubm(pool, K, iters, rng)
        self.models = {k: map_adapt(f, self.ubm) for k, f in feats.items()}
        self.frames = {k: int(len(f)) for k, f in feats.items()}

    def trials(self, utts):
        out = []
        for x in utts:
            f = mfcc(x, self.cmn, self.rate)
            if len(f) < 20:
                continue
            s = score(f, self.models)
            out.append({"scores": s, "best": max(s, key=s.get), "frames": int(len(f))})
        return out


def summarize(trials, truth):
    n = len(trials)
    ok = sum(t["best"] == truth for t in trials)
    mean = {k: float(np.mean([t["scores"][k] for t in trials])) for k in trials[0]["scores"]} if n else {}
    bi = {k: mean[k] for k in BUILTINS if k in mean}
    best_bi = max(bi, key=bi.get) if bi else None
    res = {"n": n, "correct": ok, "id_rate": ok / n if n else float("nan"), "mean_ll": mean,
           "predicted": {k: sum(t["best"] == k for t in trials) for k in mean if
                         any(t["best"] == k for t in trials)}}
    if truth in mean and best_bi:
        res["closest_builtin"] = best_bi
        res["margin_vs_builtins"] = mean[truth] - bi[best_bi] if truth != best_bi else 0.0
        res["closer_than_all_builtins"] = truth not in BUILTINS and mean[truth] > bi[best_bi]
        ranks = sorted(mean, key=mean.get, reverse=True)
        res["rank_of_truth"] = ranks.index(truth) + 1
    return res


# ---------------------------------------------------------------------------- main

def pct(r):
    return f"{100 * r['id_rate']:.0f} % ({r['correct']}/{r['n']})"


def st(a, b):
    return 12 * math.log2(a / b) if a > 0 and b > 0 else float("nan")


# -------------------------------------------------- parallel prompts: MCD-DTW

PARALLEL = 10  # prompts per target


def transcripts(data):
    """target -> {clip basename without extension: text} where the text is known:
    the asterisk prompts share their names with asterisk-core-sounds-XX, whose
    core-sounds-XX.txt.gz gives the words; LibriVox has its own transcription."""
    out = {}
    for target, lang in (("fr-armelle", "fr"), ("es-co", "es"), ("it-menardi", "it")):
        found = glob.glob(os.path.join(data, f"asterisk-core-sounds-{lang}", "**",
                                       f"core-sounds-{lang}.txt.gz"), recursive=True)
        texts = {}
        if found:
            for key, text in asterisk_transcripts(found[0]):
                texts[os.path.basename(key)] = text
        out[target] = texts
    lib = os.path.join(data, "pocketsphinx-testdata/usr/share/pocketsphinx/test/data/librivox/transcription")
    texts = {}
    if os.path.exists(lib):
        for line in open(lib, encoding="utf-8"):
            m = re.match(r"\s*<s>(.*)</s>\s*\((\S+)\)", line)
            if m:
                texts[m.group(2)] = m.group(1).strip().capitalize() + "."
    out["librivox"] = texts
    return out


def parallel_mcd(gst, name, lang, meta, texts, conds, work, force):
    """MCD-DTW (models/common/mcd.py: 16 kHz, 40 HTK mel bands to 7 kHz,
    c1..c13, symmetric DTW) of each condition's speech against the target's own
    recordings of the same prompts (its non-reference clips with a transcript),
    in the target's band: for a telephone target (native rate <= 8 kHz) the
    synthetic speech goes through 8 kHz as well.  conds: label -> voice."""
    clips = [f for f in meta["test_files"] + meta["enroll_files"]
             if os.path.splitext(os.path.basename(f))[0] in texts][:PARALLEL]
    if not clips:
        return None
    sentences = [texts[os.path.splitext(os.path.basename(f))[0]] for f in clips]
    narrow = meta["native_rate"] <= 8000

    def band(x, rate):
        return MCD.to16k_band(x, rate, narrow)

    real = []
    for f in clips:
        x, r = decode(f)
        real.append(MCD.Analysis(MCD.trim(band(x, r))))
    out = {"prompts": len(clips), "narrow_band": narrow, "mcd13": {}, "per_prompt": {}}
    for label, voice in conds.items():
        cond = f"par-{label}-{name}"
        m = synthesize(gst, cond, voice, lang, sentences, os.path.join(work, "synth"), force)
        rate, x = wavfile.read(os.path.join(work, "synth", f"{cond}.wav"))
        x = x.astype(np.float32)
        none = 2 ** 64 - 1
        vals = []
        for i, c in enumerate(m["cues"][:len(clips)]):
            a, b = c.get("speech-start", none), c.get("speech-end", none)
            if a == none or b == none:
                continue
            seg = x[int(a * rate // 1e9):int(b * rate // 1e9)]
            if len(seg) < rate // 10:
                continue
            vals.append(MCD.compare(real[i], MCD.Analysis(MCD.trim(band(seg, rate))))["mcd13"])
        out["mcd13"][label] = float(np.mean(vals)) if vals else float("nan")
        out["per_prompt"][label] = vals
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--model-dir", default=os.environ.get("GANVOICE_MODEL_DIR",
                                                          os.path.join(REPO, "models")))
    ap.add_argument("--data", default="/var/tmp/ganvoice/data")
    ap.add_argument("--work", default="/var/tmp/ganvoice/clone-eval")
    ap.add_argument("--out", default=None, help="results JSON (default <work>/results.json)")
    ap.add_argument("--resynth", action="store_true", help="make profiles and speech again")
    ap.add_argument("--components", type=int, default=32, help="GMM-UBM components")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--picture", default=None,
                    help="also write the spectrograms here (docs/img/cloning-spectrograms.png)")
    ap.add_argument("--ref-cut", type=float, default=0.0,
                    help="clone from only the first S seconds of each reference (e.g. 3; use "
                         "another --work so the 10 s results stay)")
    ap.add_argument("--adapt", type=int, default=40,
                    help="also evaluate ganvoice-adapt with this many evaluations (0: not)")
    a = ap.parse_args()
    t0 = time.time()
    build, model_dir, work = (os.path.abspath(p) for p in (a.build, a.model_dir, a.work))
    os.makedirs(work, exist_ok=True)
    gst = Gst(build, model_dir, work)

    # 1. data
    files = speaker_files(a.data)
    meta, real = {}, {}
    for name in list(TARGETS) + list(BUILTINS):
        meta[name], real[name] = split_speaker(name, files[name], work, name in TARGETS)
        m = meta[name]
        log(f"{name}: reference {m['reference_seconds']:.1f} s, test {len(m['test_files'])} clips "
            f"{m['test_seconds']:.1f} s, enrollment {len(m['enroll_files'])} clips {m['enroll_seconds']:.1f} s")
    t_data = time.time() - t0

    # 2. profiles and speech
    t1 = time.time()
    prof, synth = {}, {}
    for name, (rlang, slang) in TARGETS.items():
        ref = os.path.join(work, "refs", f"{name}.wav")
        if a.ref_cut > 0:
            rr, rx = wavfile.read(ref)
            ref = os.path.join(work, "refs", f"{name}-first{a.ref_cut:g}s.wav")
            wavfile.write(ref, rr, rx[:int(a.ref_cut * rr)])
        p, pm = make_profile(gst, name, ref, rlang,
                             os.path.join(work, "profiles"), a.resynth)
        prof[name] = {"path": p, "profile": json.load(open(p)), **pm}
        conds = [("clone", slang)] + ([("xling", "en")] if name in CROSS else [])
        for kind, lang in conds:
            synth[f"{kind}-{name}"] = (kind, name, p, lang)
        if a.adapt > 0:
            ap_path, am = adapt_profile(gst, build, name, p, a.adapt, a.resynth)
            prof[name]["adapt"] = am
            synth[f"adapt-{name}"] = ("adapt", name, ap_path, slang)
    for name in TARGETS:
        base = prof[name]["profile"]["base_voice"]
        for kind, tname, p, lang in list(synth.values()):
            if tname == name:
                synth.setdefault(f"base-{base}-{lang}", ("base", base, base, lang))
    speech, smeta = {}, {}
    for cond, (kind, who, voice, lang) in sorted(synth.items()):
        m = synthesize(gst, cond, voice, lang, SENTENCES[lang], os.path.join(work, "synth"), a.resynth)
        speech[cond], _ = cut_cues(os.path.join(work, "synth", f"{cond}.wav"), m)
        smeta[cond] = m
        log(f"{cond}: {len(speech[cond])} utterances, {sum(len(u) for u in speech[cond]) / SR:.1f} s" +
            (f"  issues: {m['issues']}" if m["issues"] else ""))
    t_synth = time.time() - t1

    # 3. speaker ID
    t2 = time.time()
    enroll = {k: real[k]["enroll"] for k in real}
    results = {}
    for cmn in (True, False):
        be = Backend(enroll, cmn, K=a.components)
        tag = "cmn" if cmn else "nocmn"
        r = {"enroll_frames": be.frames, "real": {}, "synth": {}}
        for k in real:
            r["real"][k] = summarize(be.trials(real[k]["test"]), k)
        for cond, (kind, who, voice, lang) in synth.items():
            tr = be.trials(speech[cond])
            r["synth"][cond] = summarize(tr, who)
            r["synth"][cond]["predictions"] = [t["best"] for t in tr]
        results[tag] = r
    t_id = time.time() - t2

    # 4. F0
    f0 = {}
    for name in TARGETS:
        rr, rx = wavfile.read(os.path.join(work, "refs", f"{name}.wav"))
        f0[name] = {"real": median_f0(real[name]["test"] + real[name]["enroll"]),
                    "reference": median_f0([to_sr(rx.astype(np.float32) / 32768, rr)]),
                    "profile": prof[name]["profile"].get("traits", {}).get("f0_median_hz")}
    f0_synth = {cond: median_f0(u) for cond, u in speech.items()}
    for v in BUILTINS:
        f0[v] = {"real": median_f0(real[v]["test"] + real[v]["enroll"])}

    # 4b. MCD-DTW on parallel prompts: the clone, the clone without its statistics
    # map (the profile less mel_statistics), and its base voice
    t3 = time.time()
    texts = transcripts(a.data)
    mcd = {}
    for name, (rlang, slang) in TARGETS.items():
        if not texts.get(name):
            continue
        p = prof[name]["path"]
        nomap = p[:-5] + "-nomap.json"
        pj = dict(prof[name]["profile"])
        pj.pop("mel_statistics", None)
        with open(nomap + ".tmp", "w") as f:
            json.dump(pj, f, indent=1)
        os.replace(nomap + ".tmp", nomap)
        conds = {"clone": p, "clone-no-map": nomap, "base": prof[name]["profile"]["base_voice"]}
        if "adapt" in prof[name]:
            conds["adapted"] = p[:-5] + "-adapted.json"
        mcd[name] = parallel_mcd(gst, name, rlang, meta[name], texts[name], conds, work, a.resynth)
        if mcd[name]:
            log(f"{name}: MCD-DTW on {mcd[name]['prompts']} prompts: " +
                ", ".join(f"{k} {v:.2f}" for k, v in mcd[name]["mcd13"].items()))
    t_mcd = time.time() - t3

    # envelope-matching diagnostic (see envelope_gain)
    env = {}
    for name in TARGETS:
        base = prof[name]["profile"]["base_voice"]
        cond = f"base-{base}-{synth[f'clone-{name}'][3]}"
        env[name] = envelope_gain(gst, prof[name]["profile"], os.path.join(work, "synth", f"{cond}.wav"),
                                  smeta[cond], os.path.join(work, "base-envelopes"))

    # 5. plot
    if not a.no_plot:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            fig, axs = plt.subplots(2, 3, figsize=(13, 7), sharex=True, sharey=True)
            hz = np.arange(NFFT // 2 + 1) * SR / NFFT
            for ax, name in zip(axs.flat, TARGETS):
                base = prof[name]["profile"]["base_voice"]
                lang = synth[f"clone-{name}"][3]
                ax.plot(hz, ltas(real[name]["test"] + real[name]["enroll"]), "k", label=f"{name} real")
                ax.plot(hz, ltas(speech[f"clone-{name}"]), "r", label="clone")
                if f"xling-{name}" in speech:
                    ax.plot(hz, ltas(speech[f"xling-{name}"]), "m:", label="clone, English")
                ax.plot(hz, ltas(speech[f"base-{base}-{lang}"]), "b--", label=f"{base} (synth)")
                ax.plot(hz, ltas(real[base]["enroll"]), "c:", label=f"{base} (real)")
                ax.set_title(f"{name}: F0 real {f0[name]['real']:.0f} Hz, clone "
                             f"{f0_synth[f'clone-{name}']:.0f} Hz")
                ax.legend(fontsize=7)
                ax.grid(alpha=.3)
            for ax in axs[-1]:
                ax.set_xlabel("Hz")
            for ax in axs[:, 0]:
                ax.set_ylabel("LTAS dB (max = 0)")
            axs[0, 0].set_ylim(-70, 3)
            fig.tight_layout()
            os.makedirs(os.path.join(work, "plots"), exist_ok=True)
            fig.savefig(os.path.join(work, "plots", "ltas.png"), dpi=90)
            plt.close(fig)
            # spectrograms: a real test clip, the clone and the adapted clone per target
            cols = [("real", None), ("clone", "clone"), ("adapted", "adapt")]
            fig, axs = plt.subplots(len(TARGETS), 3, figsize=(12, 2.1 * len(TARGETS)))
            for r, name in enumerate(TARGETS):
                for c, (title, kind) in enumerate(cols):
                    ax = axs[r, c]
                    if kind is None:
                        x = real[name]["test"][0]
                    elif f"{kind}-{name}" in speech:
                        x = speech[f"{kind}-{name}"][0]
                    else:
                        ax.axis("off")
                        continue
                    ax.specgram(x[:int(3.5 * SR)], NFFT=256, Fs=SR, noverlap=192, cmap="magma",
                                vmin=-120, vmax=-20)
                    ax.set_title(f"{name}: {title}", fontsize=8)
                    ax.set_ylim(0, SR / 2)
                    ax.tick_params(labelsize=6)
            fig.tight_layout()
            fig.savefig(os.path.join(work, "plots", "spectrograms.png"), dpi=80)
            if a.picture:
                fig.savefig(a.picture, dpi=80)
                from PIL import Image  # matplotlib's own dependency
                im = Image.open(a.picture).convert("RGB").quantize(colors=96)
                im.save(a.picture, optimize=True)  # about 0.5 MB instead of 1.4
            plt.close(fig)
        except Exception as e:  # the plot is an aid, not a result
            log(f"plot failed: {e}")

    # 6. report
    R = results["cmn"]
    N = results["nocmn"]
    clone_conds = [c for c in synth if synth[c][0] == "clone"]
    xl_conds = [c for c in synth if synth[c][0] == "xling"]
    ad_conds = [c for c in synth if synth[c][0] == "adapt"]
    summary = {}
    for group, conds in (("clone", clone_conds), ("xling", xl_conds), ("adapt", ad_conds)):
        if not conds:
            continue
        n = sum(R["synth"][c]["n"] for c in conds)
        ok = sum(R["synth"][c]["correct"] for c in conds)
        n2 = sum(N["synth"][c]["n"] for c in conds)
        ok2 = sum(N["synth"][c]["correct"] for c in conds)
        summary[group] = {"id_rate_cmn": ok / n if n else None, "n": n,
                          "id_rate_nocmn": ok2 / n2 if n2 else None,
                          "closer_than_all_builtins_cmn": sum(R["synth"][c].get("closer_than_all_builtins", False)
                                                              for c in conds),
                          "targets": len(conds)}
    print(f"\n## Cloning evaluation ({time.strftime('%Y-%m-%d')}, build {build}, models {model_dir})\n")
    print("Closed-set identification among 11 speakers (6 targets + 5 built-in voices), 8 kHz MFCC "
          "GMM-UBM. margin: mean per-frame log-likelihood under the target's GMM minus under the best "
          "built-in voice's (CMN); gain over base: the same target log-likelihood, clone minus the "
          "base voice speaking the same sentences.\n")
    print("| condition | text | base voice | ID (CMN) | ID (no CMN) | closer than all built-ins (margin) | "
          "most often taken for | target LL gain over base |")
    print("|---|---|---|---|---|---|---|---|")
    table = []
    for cond in clone_conds + xl_conds + ad_conds:
        kind, name, voice, lang = synth[cond]
        base = prof[name]["profile"]["base_voice"]
        r, r2 = R["synth"][cond], N["synth"][cond]
        fr, fref, fc, fb = f0[name]["real"], f0[name]["reference"], f0_synth[cond], f0_synth[f"base-{base}-{lang}"]
        top = max(r["predicted"], key=r["predicted"].get) if r["predicted"] else "-"
        gain = r["mean_ll"][name] - R["synth"][f"base-{base}-{lang}"]["mean_ll"][name]
        row = {"condition": cond, "kind": kind, "target": name, "text": lang, "base_voice": base,
               "id_cmn": r["id_rate"], "id_nocmn": r2["id_rate"], "n": r["n"],
               "closer_than_all_builtins": r["closer_than_all_builtins"],
               "closer_than_all_builtins_nocmn": r2["closer_than_all_builtins"],
               "margin": r["margin_vs_builtins"], "closest_builtin": r["closest_builtin"],
               "rank_of_target": r["rank_of_truth"], "predicted": r["predicted"],
               "predicted_nocmn": r2["predicted"],
               "f0_real_hz": fr, "f0_reference_hz": fref, "f0_profile_hz": f0[name]["profile"],
               "f0_clone_hz": fc, "f0_base_hz": fb,
               "f0_err_hz": fc - fr, "f0_err_st": st(fc, fr), "f0_err_vs_reference_st": st(fc, fref),
               "f0_base_err_st": st(fb, fr), "baseline_target_ll_gain": gain}
        table.append(row)
        label = {"clone": "clone ", "xling": "cross-lingual ", "adapt": "adapted "}[kind] + name
        print(f"| {label} | {lang} | {base} | {pct(r)} | {pct(r2)} | "
              f"{'yes' if r['closer_than_all_builtins'] else 'no, ' + r['closest_builtin']} "
              f"({r['margin_vs_builtins']:+.2f}) | {top} | {gain:+.2f} |")
    for g, s in summary.items():
        print(f"| **{ {'clone': 'all clones', 'xling': 'all cross-lingual', 'adapt': 'all adapted'}[g]}** | | | "
              f"**{100 * s['id_rate_cmn']:.0f} %** ({s['n']}) | {100 * s['id_rate_nocmn']:.0f} % | "
              f"{s['closer_than_all_builtins_cmn']}/{s['targets']} | | |")
    print("\nF0 (median, this script's YIN at 8 kHz; real = the target's non-reference clips; "
          "error in semitones, 12 log2(clone / real)):\n")
    print("| condition | real Hz | reference Hz | profile Hz (speakerembed) | clone Hz | base voice Hz | "
          "clone error Hz | clone error st | clone vs reference st | base voice error st |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in table:
        print(f"| {row['condition']} | {row['f0_real_hz']:.0f} | {row['f0_reference_hz']:.0f} | "
              f"{row['f0_profile_hz']:.0f} | {row['f0_clone_hz']:.0f} | {row['f0_base_hz']:.0f} | "
              f"{row['f0_err_hz']:+.0f} | {row['f0_err_st']:+.1f} | {row['f0_err_vs_reference_st']:+.1f} | "
              f"{row['f0_base_err_st']:+.1f} |")
    if mcd:
        print("\nMCD-DTW in dB (c1..c13, models/common/mcd.py) against the target's own "
              "recordings of the same prompts (its non-reference clips with a transcript; "
              "telephone targets compared in 0-4 kHz); lower is closer:\n")
        labels = ["clone", "clone-no-map", "adapted", "base"]
        print("| target | prompts | " + " | ".join(labels) + " |")
        print("|---|---|" + "---|" * len(labels))
        for name, r in mcd.items():
            if r:
                print(f"| {name} | {r['prompts']} | " + " | ".join(
                    f"{r['mcd13'][k]:.2f}" if k in r["mcd13"] else "-" for k in labels) + " |")
    print("\nSanity: held-out real clips, and the built-in voices' own synthetic speech:\n")
    print("| speaker | real test clips ID (CMN) | ID (no CMN) | base voice synthetic ID (CMN) | "
          "real F0 Hz |")
    print("|---|---|---|---|---|")
    for k in real:
        bs = [c for c in synth if synth[c][0] == "base" and synth[c][1] == k]
        b = ", ".join(f"{c.split('-')[-1]}: {pct(R['synth'][c])}" for c in bs) or "-"
        print(f"| {k} | {pct(R['real'][k])} | {pct(N['real'][k])} | {b} | {f0[k]['real']:.0f} |")
    print("\nProfiles (speakerembed on the reference; envelope: bands of 32 where the planned "
          "gain hits the +-12 dB clamp, of them below 4 kHz):\n")
    print("| target | reference s (speech s) | base voice | gender | F0 median Hz | formant scale | "
          "speaking rate | envelope bands clamped |")
    print("|---|---|---|---|---|---|---|---|")
    for name in TARGETS:
        p = prof[name]["profile"]
        t = p.get("traits", {})
        e = env.get(name)
        es = f"{e['clamped_bands']} ({e['clamped_bands_below_4k']} of {e['bands_below_4k']})" if e else "?"
        print(f"| {name} | {meta[name]['reference_seconds']:.1f} ({prof[name]['speech_seconds'] or 0:.1f}) | "
              f"{p['base_voice']} | {p.get('gender', '-')} | {t.get('f0_median_hz', 0):.0f} | "
              f"{t.get('formant_scale', 0):.2f} | {t.get('speaking_rate', 0):.1f} | {es} |")
    elapsed = time.time() - t0
    print(f"\nRuntime {elapsed:.0f} s (data {t_data:.0f} s, profiles+synthesis {t_synth:.0f} s, "
          f"speaker ID {t_id:.0f} s, parallel MCD {t_mcd:.0f} s).")

    out = {
        "date": time.strftime("%Y-%m-%d %H:%M"), "build": build, "model_dir": model_dir,
        "fingerprint": gst.fingerprint, "seed": SEED,
        "config": {"rate": SR, "ref_seconds": REF_SECONDS, "ref_cut": a.ref_cut,
                   "test_seconds": TEST_SECONDS,
                   "enroll_seconds": ENROLL_SECONDS, "min_clip": MIN_CLIP,
                   "features": "c1..c20 MFCC (24 HTK mel 0-4 kHz, 25 ms Hamming, 10 ms hop, "
                               "pre-emphasis .97) + deltas (+-2); energy VAD (p99 - 30 dB, > -60 dBFS)",
                   "components": a.components,
                   "backend": "diagonal GMM-UBM (25 EM iterations, <= 4000 frames/speaker) + "
                              "MAP means (r = 16); ID = max average log-likelihood",
                   "f0": "YIN 30 ms / 10 ms, 60-400 Hz, threshold .15, voiced if CMNDF < .25, "
                         "VAD frames; median"},
        "summary": summary, "table": table, "speakers": meta,
        "profiles": {k: {kk: vv for kk, vv in v.items() if kk != "path"} for k, v in prof.items()},
        "synthesis": {c: {k: v for k, v in m.items() if k != "key"} for c, m in smeta.items()},
        "id": results, "f0": f0, "f0_synth": f0_synth, "envelope": env, "mcd_parallel": mcd,
        "runtime_s": {"total": elapsed, "data": t_data, "synthesis": t_synth, "id": t_id,
                      "parallel_mcd": t_mcd},
    }
    path = a.out or os.path.join(work, "results.json")
    with open(path + ".tmp", "w") as f:
        json.dump(out, f, indent=1, default=float)
    os.replace(path + ".tmp", path)
    log(f"results: {path}")


if __name__ == "__main__":
    main()

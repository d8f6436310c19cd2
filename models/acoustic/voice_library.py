"""The voice library: more built-in voices, each a deep clone (models/acoustic/finetune.py) of one speaker
whose recordings and their text ship in a Debian package.

  /usr/bin/python3 -m models.acoustic.voice_library [--only NAME ...] [--time-limit 240] [--list]

For each voice of VOICES not built yet, in order:
  1. fetch its package (apt-get download + dpkg-deb -x, models.common.data.fetch) into
     /var/tmp/ganvoice/data;
  2. build its (path, text) list from the package's own transcripts (a stamp's description file, a
     game's script or sound list, a file name that is the phrase);
  3. decode, phonemize with the voice's espeak-ng language, and keep the takes that are one speaker
     speaking that text: a take whose median F0 is far from the voice's (another speaker, a shout, a
     sound effect) or whose phoneme rate is implausible (a recording that does not say the text) is
     left out; at most --seconds of speech, in a fixed shuffled order;
  4. fine-tune (finetune.finetune: speaker vector + low-rank delta) for --time-limit seconds, one thread;
  5. write the profile to models/acoustic/voices/NAME.json and the voice into the card's "voices" (name,
     language, gender from the median F0, the speaker, the source package, version and files, the
     licence and attribution, "profile": "voices/NAME.json" relative to the card, and the profile's
     embedding).
Finished voices are skipped (a profile there and the voice in the card), so an interrupted run resumes
with the voice it was making. The five voices the acoustic model was trained with stay as they are.

Held-out material (models/common/data.py: FORBIDDEN) is never read.
"""
import argparse
import glob
import json
import os
import random
import re
import subprocess
import sys
import time
import warnings

import numpy as np
import torch

from models.acoustic import finetune as FT
from models.acoustic.ttsdrive import Inventory
from models.common.data import FORBIDDEN, fetch

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.dirname(HERE)
ROOT = "/var/tmp/ganvoice"
DATA = os.path.join(ROOT, "data")
WORK = os.path.join(ROOT, "voices")

TUXPAINT = "tuxpaint-stamps-default"
TUXPAINT_LICENCE = ("GPL-2 (tuxpaint-stamps: Copyright 2002-2022 Bill Kendrick and the contributors named in the "
                    "package's CHANGES.txt)")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def pkg_dir(package):
    return os.path.join(DATA, package)


def pkg_version(package):
    """The version of the .deb the voice was made from."""
    debs = sorted(glob.glob(os.path.join(ROOT, "debs", package + "_*.deb")))
    if not debs:
        return ""
    out = subprocess.run(["dpkg-deb", "-f", debs[-1], "Version"], stdout=subprocess.PIPE, text=True, check=True)
    return out.stdout.strip()


# ----------------------------------------------------------------------------- transcripts

def tuxpaint_pairs(lang):
    """Tux Paint stamps: STAMP_desc_LANG.ogg (English: STAMP_desc.ogg) speaks the description in
    STAMP.txt (first line English, then "LANG.utf8=text" lines)."""
    root = os.path.join(pkg_dir(TUXPAINT), "usr/share/tuxpaint/stamps")
    suffix = "_desc.ogg" if lang == "en" else "_desc_%s.ogg" % lang
    out = []
    for ogg in sorted(glob.glob(root + "/**/*" + suffix, recursive=True)):
        txt = ogg[: -len(suffix)] + ".txt"
        if not os.path.exists(txt):
            continue
        lines = open(txt, encoding="utf-8", errors="replace").read().splitlines()
        text = ""
        if lang == "en":
            text = lines[0].strip() if lines and "=" not in lines[0] else ""
        else:
            for line in lines:
                if line.startswith(lang + ".utf8="):
                    text = line.split("=", 1)[1].strip()
        if text:
            out.append((ogg, text))
    return out


WARZONE = "warzone2100-data"


def warzone_root():
    """base.wz is a zip: unpacked once beside the package."""
    dest = os.path.join(pkg_dir(WARZONE), "wz")
    if not os.path.isdir(os.path.join(dest, "audio")):
        os.makedirs(dest, exist_ok=True)
        subprocess.run(["unzip", "-q", "-o", os.path.join(pkg_dir(WARZONE), "usr/share/games/warzone2100/base.wz"),
                        "audio/*", "script/tutorial.js", "-d", dest], check=True)
    return dest


def warzone_pairs():
    """The Warzone 2100 announcer: the tutorial's lines (their text is in script/tutorial.js beside
    each audio file) and the status messages under audio/memressp (their text is the comment beside
    each file in audio/audio.cfg)."""
    root = warzone_root()
    out = []
    js = open(os.path.join(root, "script/tutorial.js"), encoding="utf-8").read()
    for audio, text in re.findall(r'"audio": "(tut\d+\.ogg)"[^\n]*?"message": _\("([^"]+)"\)', js):
        out.append((os.path.join(root, "audio/tutorial", audio), text))
    cfg = open(os.path.join(root, "audio/audio.cfg"), encoding="latin-1").read()
    said = dict(re.findall(r'"([^"/]+\.ogg)"[^\n]*?/\*([^*\n]+)\*/', cfg))
    for ogg in sorted(glob.glob(os.path.join(root, "audio/memressp/*/*.ogg"))):
        text = said.get(os.path.basename(ogg), "").strip()
        if text:
            out.append((ogg, text))
    return [(p, t) for p, t in out if os.path.exists(p)]


OPENARENA = "openarena-data"
# The team-order phrases of the "rott" voice: the file name is the phrase without spaces.
ROTT_TEXT = {
    "affirmative": "Affirmative.", "baseunderattack": "Base under attack!", "camphere": "Camp here.",
    "coverme": "Cover me!", "defendflag": "Defend the flag!", "defendthebase": "Defend the base!",
    "dontwannabeleader": "I don't wanna be the leader.", "followingcarrier": "Following the carrier.",
    "followme": "Follow me!", "getflag": "Get the flag!", "getsomeskulls": "Get some skulls!",
    "getthatflag": "Get that flag!", "gettheflag": "Get the flag!", "gettingourflag": "Getting our flag.",
    "gofortheflag": "Go for the flag!", "goingonpatrol": "Going on patrol.", "gopatrol": "Go patrol.",
    "haveflag": "I have the flag!", "haveourflag": "I have our flag!", "illcoverbase": "I'll cover the base.",
    "imcampinghere": "I'm camping here.", "imfollowing": "I'm following.", "imgoingin": "I'm going in!",
    "imtheleader": "I'm the leader.", "incomingfire": "Incoming fire!", "inposition": "In position.",
    "iwanttopatrol": "I want to patrol.", "justroaming": "Just roaming.", "keepupcarrier": "Keep up with the carrier!",
    "negative": "Negative.", "no": "No.", "ok": "OK.", "ondefense": "On defense.", "rogerthat": "Roger that.",
    "wanttoattack": "I want to attack.", "wanttodefend": "I want to defend.", "wanttoroam": "I want to roam.",
    "whereareyou": "Where are you?", "whoisleader": "Who is the leader?", "yes": "Yes.",
    "youreonoffense": "You're on offense.",
}


def openarena_rott_pairs():
    """OpenArena's "rott" voice (RottKing): team orders in missionpack/mp-pak0.pk3 (a zip)."""
    dest = os.path.join(pkg_dir(OPENARENA), "mp")
    if not os.path.isdir(os.path.join(dest, "sound/voices/rott")):
        os.makedirs(dest, exist_ok=True)
        subprocess.run(["unzip", "-q", "-o", os.path.join(pkg_dir(OPENARENA),
                        "usr/share/games/openarena/missionpack/mp-pak0.pk3"), "sound/voices/rott/*", "-d", dest],
                       check=True)
    out = []
    for ogg in sorted(glob.glob(os.path.join(dest, "sound/voices/rott/*.ogg"))):
        text = ROTT_TEXT.get(os.path.basename(ogg)[:-4])
        if text:
            out.append((ogg, text))
    return out


KLETTRES = "klettres-data"
LETTERS_US = dict(A="ay", B="bee", C="see", D="dee", E="ee", F="eff", G="gee", H="aitch", I="eye", J="jay",
                  K="kay", L="el", M="em", N="en", O="oh", P="pee", Q="cue", R="are", S="ess", T="tee", U="you",
                  V="vee", W="double you", X="ex", Y="why", Z="zee")


def klettres_pairs(lang):
    """KLettres: the letters (alpha/X.ogg: the letter's name, spelled out here as a word) and the
    short words (syllab/WORD.ogg); the phonics-only sounds (aw, ch, th) are left out."""
    root = os.path.join(pkg_dir(KLETTRES), "usr/share/klettres", lang)
    letters = dict(LETTERS_US, Z="zed") if lang == "en_GB" else LETTERS_US
    out = []
    for ogg in sorted(glob.glob(os.path.join(root, "alpha/*.ogg"))):
        name = os.path.basename(ogg)[:-4].upper()
        if name in letters:
            out.append((ogg, letters[name].capitalize() + "."))
    for ogg in sorted(glob.glob(os.path.join(root, "syllab/*.ogg"))):
        word = os.path.basename(ogg)[:-4]
        if word not in ("aw", "ch", "th"):
            out.append((ogg, word.capitalize() + "."))
    return out


# ---------------------------------------------------------------------------------- voices

def tux(name, lang, espeak, who, note="", exclude=()):
    return dict(name=name, language=espeak, package=TUXPAINT, all_pairs=lambda: tuxpaint_pairs(lang),
                pairs=lambda: [(p, t) for p, t in tuxpaint_pairs(lang) if not any(x in p for x in exclude)],
                files="usr/share/tuxpaint/stamps/**/*%s.ogg with the descriptions in the stamps' .txt files%s" %
                      ("_desc" if lang == "en" else "_desc_" + lang,
                       "; not under " + ", ".join(exclude) + " (another voice by the speaker encoder)"
                       if exclude else ""),
                speaker=who, licence=TUXPAINT_LICENCE,
                attribution=note or ("descriptive sounds by %s (the package's CHANGES.txt)" % who))


VOICES = [
    dict(name="warzone", language="en-us", package=WARZONE, pairs=warzone_pairs,
         files="base.wz: audio/tutorial/tut*.ogg (text: script/tutorial.js) and audio/memressp/*/*.ogg "
               "(text: the comments of audio/audio.cfg)",
         speaker="the Warzone 2100 announcer (unnamed)", licence="GPL-2+ (Copyright 1999-2004 Eidos Interactive; "
         "2005-2013 Warzone 2100 Project)", attribution="Warzone 2100, Pumpkin Studios / Eidos Interactive, "
         "released under the GPL by Eidos; the Warzone 2100 Project"),
    dict(name="rott", language="en-us", package=OPENARENA, pairs=openarena_rott_pairs,
         files="usr/share/games/openarena/missionpack/mp-pak0.pk3: sound/voices/rott/*.ogg (text: the file names)",
         speaker="RottKing (OpenArena's voice \"rott\")", licence="GPL-2+ (OpenArena Team, see the package's "
         "copyright and CREDITS)", attribution="voice by RottKing for OpenArena (CREDITS)"),
    # single letters and words, said slowly: a lower phoneme rate is still the text
    dict(name="klettres", language="en-us", package=KLETTRES, pairs=lambda: klettres_pairs("en"), min_rate=1.5,
         files="usr/share/klettres/en/alpha/*.ogg and syllab/*.ogg (text: the letter's name, the word)",
         speaker="the speaker of KLettres' English sounds (unnamed)",
         licence="GPL-2+ (Copyright 2001-2011 Anne-Marie Mahfouf)", attribution="KLettres, KDE Education"),
    # espeak-ng's "en" is British English (there is no "en-gb" voice)
    dict(name="klettres-gb", language="en", package=KLETTRES, pairs=lambda: klettres_pairs("en_GB"), min_rate=1.5,
         files="usr/share/klettres/en_GB/alpha/*.ogg and syllab/*.ogg (text: the letter's name, the word)",
         speaker="the speaker of KLettres' British English sounds (unnamed)",
         licence="GPL-2+ (Copyright 2001-2011 Anne-Marie Mahfouf)", attribution="KLettres, KDE Education"),
    tux("tuxpaint-en", "en", "en-us", "the speaker of the English stamp descriptions (unnamed)",
        note="Tux Paint stamps (Bill Kendrick and contributors)"),
    tux("edwin", "ru", "ru", "Edwin Veber"),
    tux("krasimir", "bg", "bg", "Krasimir Petkov"),
    tux("estefania", "es", "es", "Estefanía Ortiz"),
    tux("kseniya", "be", "be", "Kseniya Buraya"),
    tux("kiriaki", "el", "el", "Kiriaki Serafeim"),
    # The directories left out speak with another voice than the rest (--check NAME: their speaker
    # embeddings' median cosine to the other directories is far below the others').
    tux("tabbytha", "ro", "ro", "Tabbytha", exclude=("/symbols/alphabets/",)),
    tux("tuxpaint-fr", "fr", "fr", "the main speaker of the French stamp descriptions (PaulK or Jacques Chion)",
        note="French descriptive sounds: the package's CHANGES.txt credits Jacques Chion and PaulK",
        exclude=("/animals/",)),
    tux("tuxpaint-ca", "ca", "ca", "the speaker of the Catalan stamp descriptions (unnamed)",
        note="Tux Paint stamps (Bill Kendrick and contributors); the Catalan speaker is not named",
        exclude=("/animals/",)),
]


# ---------------------------------------------------------------------------------- building

def select(items, seconds, rng, min_rate=4.0):
    """One speaker saying the text: drops takes whose median F0 is outside x0.75 .. x1.33 (about five
    semitones either way) of the median over the takes, or whose phoneme rate is outside @min_rate .. 25
    per second; then keeps at most @seconds. Returns (items, median F0 of their voiced frames, seconds)."""
    med = []
    for it in items:
        f0 = it["f0"].numpy()
        v = f0[f0 > 0]
        med.append(float(np.median(v)) if len(v) >= 5 else float("nan"))
    med = np.array(med)
    centre = float(np.nanmedian(med))
    keep = []
    for it, m in zip(items, med):
        dur = it["mel"].shape[1] * 256 / 22050
        rate = len(it["ids"]) / dur
        if np.isfinite(m) and 0.75 * centre <= m <= 1.33 * centre and min_rate <= rate <= 25.0:
            keep.append(it)
    log(f"  kept {len(keep)} of {len(items)} takes (take F0 median {centre:.0f} Hz; band x0.75..1.33, "
        f"{min_rate:g}..25 ph/s)")
    rng.shuffle(keep)
    out, total = [], 0.0
    for it in keep:
        if total >= seconds:
            break
        out.append(it)
        total += it["mel"].shape[1] * 256 / 22050
    f0 = torch.cat([it["f0"] for it in out]).numpy()
    return out, float(np.median(f0[f0 > 0])), total


def build(v, card, base, a):
    assert not any(v["package"].startswith(f) for f in FORBIDDEN), v["package"]
    fetch(ROOT, [v["package"]])
    pairs = v["pairs"]()
    assert not any(any(f in p for f in FORBIDDEN) for p, _ in pairs)
    log(f"{v['name']}: {len(pairs)} takes with text in {v['package']}")
    rng = random.Random(v["name"])
    rng.shuffle(pairs)
    # decode about twice what is needed: the selection drops some
    items, total = FT.load_utterances(pairs, v["language"], Inventory(card["phonemes"]), 2.0 * a.seconds,
                                      a.phonemizer)
    items, f0_median, total = select(items, a.seconds, rng, v.get("min_rate", 4.0))
    if total < 20.0:
        log(f"{v['name']}: only {total:.0f} s of usable speech; at least 20 s is needed; skipped")
        return None
    gender = "female" if f0_median > 165.0 else "male"
    log(f"{v['name']}: {len(items)} takes, {total:.0f} s, F0 median {f0_median:.1f} Hz ({gender})")
    delta = FT.finetune(items, card, base, a.rank, a.time_limit, a.steps)
    profile = FT.make_profile(delta, v["name"], v["language"], card, gender)
    return profile, dict(f0_median_hz=round(f0_median, 1), gender=gender, seconds=round(total, 1),
                         takes=len(items), of=len(pairs))


def card_entry(v, profile, stats, version):
    return {"name": v["name"], "language": v["language"], "gender": stats["gender"],
            "f0_median_hz": stats["f0_median_hz"], "speaker": v["speaker"],
            "source": {"package": v["package"], "version": version, "files": v["files"],
                       "takes": stats["takes"], "speech_seconds": stats["seconds"]},
            "licence": v["licence"], "attribution": v["attribution"],
            "profile": "voices/%s.json" % v["name"],
            "recipe": "models/acoustic/voice_library.py (deep clone, models/acoustic/finetune.py)",
            "embedding": list(profile["embedding"])}


# ------------------------------------------------------------------------- one speaker?

def speaker_check(v, per_group=10):
    """Whether a voice's takes are one speaker: the learned speaker encoder (models/speaker) embeds up
    to @per_group takes of each folder (two levels below the package's root of takes), and each
    folder's median cosine similarity to the others is printed, lowest first. A folder far below
    the rest is another speaker (or very different material): leave it out with "exclude"."""
    from models.common.audio import decode, trim
    enc = torch.jit.load(os.path.join(MODELS, "speaker", "speaker.ts"), map_location="cpu")
    fetch(ROOT, [v["package"]])
    pairs = v.get("all_pairs", v["pairs"])()  # the folders left out too
    root = os.path.commonpath([p for p, _ in pairs])
    groups = {}
    for p, _ in pairs:
        parts = os.path.relpath(p, root).split(os.sep)
        groups.setdefault("/".join(parts[:2]) if len(parts) > 2 else parts[0] if len(parts) > 1 else ".",
                          []).append(p)
    names, embs = [], []
    for g, files in sorted(groups.items()):
        x = np.concatenate([trim(decode(f, sr=16000), sr=16000, thresh_db=-40.0, margin=0.05)
                            for f in files[:per_group]])
        if len(x) < 3 * 16000:
            continue
        with torch.no_grad():
            embs.append(enc(torch.from_numpy(x.astype(np.float32))[None])[0].numpy())
        names.append((g, len(files)))
    if len(embs) < 3:
        print(f"{v['name']}: fewer than three folders with 3 s of speech; nothing to compare")
        return
    sim = np.stack(embs) @ np.stack(embs).T
    med = [float(np.median(np.delete(sim[i], i))) for i in range(len(sim))]
    for i in np.argsort(med):
        print(f"{v['name']}: {names[i][0]:40} {names[i][1]:4} takes  median cosine to the others {med[i]:.2f}")


# ------------------------------------------------------------------------------- measuring

SENTENCES = {
    "en": ["The quick brown fox jumps over the lazy dog.", "Please call me back when you get this message.",
           "It was a bright cold day in April."],
    "ru": ["Доброе утро! Как у вас дела?", "Сегодня хорошая погода.", "Спасибо, до свидания."],
    "bg": ["Добро утро! Как сте?", "Днес времето е хубаво.", "Благодаря, довиждане."],
    "es": ["¡Buenos días! ¿Cómo estás?", "Hoy hace buen tiempo.", "Gracias, hasta luego."],
    "be": ["Добрай раніцы! Як справы?", "Сёння добрае надвор'е.", "Дзякуй, да пабачэння."],
    "el": ["Καλημέρα! Τι κάνεις;", "Σήμερα ο καιρός είναι ωραίος.", "Ευχαριστώ, αντίο."],
    "ro": ["Bună dimineața! Ce mai faci?", "Astăzi vremea este frumoasă.", "Mulțumesc, la revedere."],
    "fr": ["Bonjour ! Comment allez-vous ?", "Il fait beau aujourd'hui.", "Merci, au revoir."],
    "ca": ["Bon dia! Com estàs?", "Avui fa bon temps.", "Gràcies, adéu."],
}


def measure(card_path, build, out_dir, names=None):
    """Speaks three sentences in each library voice's language with the ganvoice element
    (gst-launch-1.0, the plugin of @build) and measures the audio: length, level, voiced share and
    F0 median (models/acoustic/prepare_data.f0_track), against the card's F0 median of the
    voice's training speech. Prints a Markdown table."""
    from models.acoustic.prepare_data import f0_track
    from models.common.audio import decode
    card = json.load(open(card_path, encoding="utf-8"))
    repo = os.path.dirname(MODELS)
    env = dict(os.environ, GST_PLUGIN_PATH=os.path.join(build, "plugins"))
    os.makedirs(out_dir, exist_ok=True)
    print("| voice | language | gender | training F0 (Hz) | spoken F0 median (Hz) | ratio | seconds | "
          "level (dBFS RMS) | voiced | load + speak (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for v in card["voices"]:
        if "profile" not in v or (names and v["name"] not in names):
            continue
        lang = v["language"].split("-")[0]
        text = " ".join(SENTENCES.get(lang, SENTENCES["en"]))
        wav = os.path.join(out_dir, v["name"] + ".wav")
        t0 = time.time()
        subprocess.run(["gst-launch-1.0", "-q", "ganvoice", "text=" + text, "voice=" + v["name"],
                        "language=" + v["language"], "threads=1",
                        "acoustic-model=" + os.path.join(os.path.dirname(card_path), card["file"]),
                        "acoustic-card=" + card_path,
                        "vocoder-model=" + os.path.join(repo, "models/vocoder/vocoder.ts"),
                        "vocoder-card=" + os.path.join(repo, "models/vocoder/vocoder.json"),
                        "!", "audioconvert", "!", "audio/x-raw,format=S16LE", "!", "wavenc", "!", "filesink",
                        "location=" + wav], env=env, check=True)
        wall = time.time() - t0
        x = decode(wav)
        f0 = f0_track(x)
        voiced = f0[f0 > 0]
        med = float(np.median(voiced)) if len(voiced) else 0.0
        rms = 20 * np.log10(max(float(np.sqrt(np.mean(x ** 2))), 1e-9))
        share = len(voiced) / max(len(f0), 1)
        print(f"| `{v['name']}` | {v['language']} | {v['gender']} | {v['f0_median_hz']:.0f} | {med:.0f} | "
              f"{med / v['f0_median_hz']:.2f} | {len(x) / 22050:.1f} | {rms:.1f} | {share:.0%} | {wall:.1f} |",
              flush=True)


def write_json(path, doc, indent=None):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=indent)
        if indent is not None:
            fh.write("\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", help="build only these voices")
    ap.add_argument("--list", action="store_true", help="list the voices and whether they are built")
    ap.add_argument("--card", default=os.path.join(HERE, "acoustic.json"))
    ap.add_argument("--model", default=os.path.join(HERE, "acoustic.ts"))
    ap.add_argument("--out", default=os.path.join(HERE, "voices"),
                    help="where the profiles go (the card names them relative to itself: voices/NAME.json)")
    ap.add_argument("--seconds", type=float, default=150.0, help="speech per voice, at most")
    ap.add_argument("--time-limit", type=float, default=240.0, help="seconds of fine-tuning per voice")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--phonemizer", default=None, help="ganvoice-phonemize (default: build/examples/tools/)")
    ap.add_argument("--measure", metavar="BUILD", default=None,
                    help="instead of building: speak three sentences in each library voice with the ganvoice "
                         "element of this build folder and print the measures (Markdown)")
    ap.add_argument("--check", metavar="NAME", nargs="+", default=None,
                    help="instead of building: print how alike the speaker of each folder of these voices' takes is")
    a = ap.parse_args()
    if a.check:
        torch.set_num_threads(a.threads)
        for v in VOICES:
            if v["name"] in a.check:
                speaker_check(v)
        return
    if a.measure:
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        measure(a.card, a.measure, os.path.join(WORK, "measure"), a.only)
        return
    torch.set_num_threads(a.threads)
    warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)  # f0_track on silence
    if a.phonemizer is None:
        built = [os.path.join(os.path.dirname(MODELS), d, "examples/tools/ganvoice-phonemize")
                 for d in ["build"] + sorted(os.listdir(os.path.dirname(MODELS))) if d.startswith("build")]
        a.phonemizer = next((b for b in built if os.path.exists(b)), None)
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(WORK, exist_ok=True)
    for v in VOICES:
        if a.only and v["name"] not in a.only:
            continue
        out = os.path.join(a.out, v["name"] + ".json")
        card = json.load(open(a.card, encoding="utf-8"))
        listed = any(x["name"] == v["name"] for x in card["voices"])
        if a.list:
            print(f"{v['name']:14} {v['language']:6} {v['package']:26} "
                  f"{'built' if os.path.exists(out) and listed else 'not built'}")
            continue
        if os.path.exists(out) and listed:
            log(f"{v['name']}: built already")
            continue
        t0 = time.time()
        made = build(v, card, a.model, a)
        if made is None:
            continue
        profile, stats = made
        write_json(out, profile)
        card = json.load(open(a.card, encoding="utf-8"))  # re-read: keep what changed meanwhile
        card["voices"] = [x for x in card["voices"] if x["name"] != v["name"]]
        card["voices"].append(card_entry(v, profile, stats, pkg_version(v["package"])))
        write_json(a.card, card, indent=1)
        log(f"{v['name']}: wrote {out} ({os.path.getsize(out) / 1e6:.2f} MB) in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()

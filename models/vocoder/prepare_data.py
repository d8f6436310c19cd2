"""Fetch the Debian audio packages, decode them and build the training pack.

  /usr/bin/python3 -m models.vocoder.prepare_data                 # train pack
  /usr/bin/python3 -m models.vocoder.prepare_data --heldout-only  # only fetch eval sets

Packages are fetched with `apt-get download` and unpacked with `dpkg-deb -x` under
<root>/debs and <root>/data (root = /var/tmp/ganvoice by default).  Audio is decoded
and resampled to 22050 Hz mono with ffmpeg (Debian package `ffmpeg`; its g722 and
vorbis decoders and swresample resampler).

The training pack is an .npz with one int16 array `audio` (all utterances
concatenated), `offsets`, `lengths`, `source` (index into `sources`) and `names`.
It is written lzma-compressed (pack.npz.xz) so that it can travel to the GPU machine.

Held-out sets are never read here except to fetch them: asterisk-prompt-es-co,
asterisk-prompt-fr-armelle, asterisk-prompt-it-menardi(-wav), fillets-ng-data-cs,
pocketsphinx-testdata, and every English asterisk prompt whose name starts with conf-.
"""
import argparse
import glob
import io
import lzma
import os
import random
import subprocess
import sys

import numpy as np

SR = 22050
TRAIN_PACKAGES = [
    "asterisk-core-sounds-en-g722", "asterisk-core-sounds-es-g722", "asterisk-core-sounds-fr-g722",
    "asterisk-core-sounds-it-g722", "asterisk-core-sounds-ru-g722",
    "fillets-ng-data", "fillets-ng-data-nl",
]
HELDOUT_PACKAGES = ["asterisk-prompt-es-co", "asterisk-prompt-fr-armelle", "asterisk-prompt-it-menardi",
                    "asterisk-prompt-it-menardi-wav", "fillets-ng-data-cs"]
# names that must never reach the training pack
FORBIDDEN = ("asterisk-prompt-", "fillets-ng-data-cs", "pocketsphinx")


def fetch(root, packages):
    debs = os.path.join(root, "debs")
    data = os.path.join(root, "data")
    os.makedirs(debs, exist_ok=True)
    for p in packages:
        dest = os.path.join(data, p)
        if os.path.isdir(dest):
            continue
        if not glob.glob(os.path.join(debs, p + "_*.deb")):
            subprocess.run(["apt-get", "download", p], cwd=debs, check=True)
        deb = sorted(glob.glob(os.path.join(debs, p + "_*.deb")))[-1]
        os.makedirs(dest, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", deb, dest], check=True)


def decode(path, sr=SR):
    """Any file ffmpeg reads -> float32 mono at sr."""
    cmd = ["ffmpeg", "-v", "error", "-threads", "1"]
    if path.endswith(".g722"):
        cmd += ["-f", "g722"]  # raw G.722, 16 kHz
    elif path.endswith(".gsm"):
        cmd += ["-f", "gsm"]   # raw GSM 06.10, 8 kHz
    cmd += ["-i", path, "-ac", "1", "-ar", str(sr), "-f", "s16le", "-"]
    raw = subprocess.run(cmd, check=True, stdout=subprocess.PIPE).stdout
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def trim(x, sr=SR, thresh_db=-45.0, margin=0.1):
    """Cut leading/trailing parts quieter than thresh_db below the peak (keep 0.1 s)."""
    if len(x) == 0:
        return x
    frame = 256
    n = len(x) // frame
    if n < 2:
        return x
    e = np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    db = 20 * np.log10(e / (np.max(e) + 1e-12))
    idx = np.nonzero(db > thresh_db)[0]
    if len(idx) == 0:
        return x[:0]
    m = int(margin * sr)
    a = max(0, idx[0] * frame - m)
    b = min(len(x), (idx[-1] + 1) * frame + m)
    return x[a:b]


def train_sources(data):
    """source name -> list of files.  Explicitly excludes English conf-* prompts."""
    src = {}
    for lang in ["en", "es", "fr", "it", "ru"]:
        files = sorted(glob.glob(os.path.join(data, f"asterisk-core-sounds-{lang}-g722", "**", "*.g722"),
                                 recursive=True))
        if lang == "en":
            files = [f for f in files if not os.path.basename(f).startswith("conf-")]
        src[f"asterisk-{lang}"] = files
    base = os.path.join(data, "fillets-ng-data", "usr/share/games/fillets-ng/sound")
    src["fillets-en"] = sorted(glob.glob(os.path.join(base, "*", "en", "*.ogg")))
    base = os.path.join(data, "fillets-ng-data-nl", "usr/share/games/fillets-ng/sound")
    src["fillets-nl"] = sorted(glob.glob(os.path.join(base, "*", "nl", "*.ogg")))
    for k, v in src.items():
        for f in v:
            assert not any(b in f for b in FORBIDDEN), f
            assert not (k == "asterisk-en" and os.path.basename(f).startswith("conf-")), f
    return src


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="/var/tmp/ganvoice")
    ap.add_argument("--out", default=None, help="pack path (default <root>/pack.npz.xz)")
    ap.add_argument("--max-mb", type=float, default=38.0, help="budget of the compressed pack")
    ap.add_argument("--max-utt-s", type=float, default=6.0, help="cut utterances longer than this")
    ap.add_argument("--weights", default="asterisk-en=1,asterisk-es=1,asterisk-fr=1,asterisk-it=1,"
                    "asterisk-ru=1,fillets-en=1.5,fillets-nl=2")
    ap.add_argument("--heldout-only", action="store_true")
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args()
    fetch(a.root, HELDOUT_PACKAGES)
    if a.heldout_only:
        return
    fetch(a.root, TRAIN_PACKAGES)
    data = os.path.join(a.root, "data")
    out = a.out or os.path.join(a.root, "pack.npz.xz")
    src = train_sources(data)
    rng = random.Random(a.seed)
    for k in src:
        rng.shuffle(src[k])
    w = {kv.split("=")[0]: float(kv.split("=")[1]) for kv in a.weights.split(",")}
    # lzma on int16 speech gives ~0.75; budget in seconds
    budget_s = a.max_mb * 1e6 / (2 * SR * 0.75)
    per_src = {k: budget_s * w[k] / sum(w.values()) for k in src}
    print({k: len(v) for k, v in src.items()}, "budget s", round(budget_s), file=sys.stderr)
    audio, names, source, lengths = [], [], [], []
    sources = sorted(src)
    for k in sources:
        got = 0.0
        for f in src[k]:
            if got >= per_src[k]:
                break
            x = trim(decode(f))
            maxlen = int(a.max_utt_s * SR)
            if len(x) > maxlen:
                x = x[:maxlen]
            if len(x) < SR // 2:
                continue
            x16 = np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)
            audio.append(x16)
            names.append(os.path.relpath(f, data))
            source.append(sources.index(k))
            lengths.append(len(x16))
            got += len(x16) / SR
        print(f"{k}: {got / 60:.1f} min", file=sys.stderr)
    lengths = np.array(lengths, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    buf = io.BytesIO()
    np.savez(buf, audio=np.concatenate(audio), offsets=offsets, lengths=lengths,
             source=np.array(source, dtype=np.int16), sources=np.array(sources), names=np.array(names))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with lzma.open(out, "wb", preset=6) as fh:
        fh.write(buf.getvalue())
    print(f"wrote {out}: {len(names)} utterances, {lengths.sum() / SR / 60:.1f} min, "
          f"{os.path.getsize(out) / 1e6:.1f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Fetch the Debian audio packages, decode them and build the training pack.

  /usr/bin/python3 -m models.vocoder.prepare_data                 # train pack
  /usr/bin/python3 -m models.vocoder.prepare_data --heldout-only  # only fetch eval sets

Packages (the lists are in models/common/data.py) are fetched with `apt-get download`
and unpacked with `dpkg-deb -x` under <root>/debs and <root>/data (root =
/var/tmp/ganvoice by default).  Audio is decoded and resampled to 22050 Hz mono with
ffmpeg (Debian package `ffmpeg`; its g722 and vorbis decoders and swresample resampler).

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
import sys

import numpy as np

from models.common.audio import SR, decode, trim
from models.common.data import FORBIDDEN, HELDOUT_PACKAGES, TRAIN_PACKAGES, fetch


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

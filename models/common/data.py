"""The Debian packages the recipes read: which ones train and which are held out, fetching them
(apt-get download + dpkg-deb -x), and the transcripts of the asterisk sounds.

Held out, never trained on: asterisk-prompt-es-co, asterisk-prompt-fr-armelle,
asterisk-prompt-it-menardi(-wav), fillets-ng-data-cs, pocketsphinx-testdata, and every
English asterisk prompt whose name starts with conf-.
"""
import glob
import gzip
import os
import subprocess

TRAIN_PACKAGES = [
    "asterisk-core-sounds-en-g722", "asterisk-core-sounds-es-g722", "asterisk-core-sounds-fr-g722",
    "asterisk-core-sounds-it-g722", "asterisk-core-sounds-ru-g722",
    "fillets-ng-data", "fillets-ng-data-nl",
]
HELDOUT_PACKAGES = ["asterisk-prompt-es-co", "asterisk-prompt-fr-armelle", "asterisk-prompt-it-menardi",
                    "asterisk-prompt-it-menardi-wav", "fillets-ng-data-cs"]
# names that must never reach a training set
FORBIDDEN = ("asterisk-prompt-", "fillets-ng-data-cs", "pocketsphinx")


def fetch(root, packages):
    """apt-get download each package into <root>/debs and unpack it into <root>/data/<package>
    (dpkg-deb -x); packages already unpacked are left as they are."""
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


def asterisk_transcripts(path):
    """(sound name, text) of each spoken line of a core-sounds-XX.txt.gz, in file order;
    comments, tones and stage directions (text with [ or ( in it) are left out."""
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith(";") or ":" not in line:
                continue
            key, text = line.split(":", 1)
            text = text.strip()
            if not text or "[" in text or "(" in text:
                continue
            yield key.strip(), text

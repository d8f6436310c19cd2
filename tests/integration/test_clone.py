#!/usr/bin/python3
"""Integration tests of ganvoice-clone (deep clones from read speech).

    test_clone.py BUILD/examples/tools/ganvoice-clone [unittest args]

The takes are real speech: the first sentences of the shipped English prompt
list, spoken by the shipped models through the ganvoice element into one
recording (timed by an SRT), then cut into NNN.wav + NNN.txt files. The
fine-tuning runs on the tiny test model (tests/models) for a few seconds, so
the clone is not a good voice, but every path of the command is the real
one: take checks, progress, Ctrl-C with the state kept, resume, the profile.
Exits 77 (skipped) when the ganvoice element is not built.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest
import wave

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402
import numpy as np  # noqa: E402

from dubtest import MODELS, SOURCE, tool_path, write_wav  # noqa: E402

CLONE = tool_path("GANVOICE_CLONE")
TINY = ["--model", os.path.join(MODELS, "tiny-acoustic.ts")]
PROMPTS = os.path.join(SOURCE, "models", "acoustic", "prompts", "en.txt")
N_TAKES = 10
SLOT = 5.0  # seconds per sentence in the recording


def srt_time(t):
    ms = int(round(t * 1000))
    return "%02d:%02d:%02d,%03d" % (ms // 3600000, ms // 60000 % 60, ms // 1000 % 60, ms % 1000)


def read_wav(path):
    with wave.open(path) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), np.int16) / 32768.0
        return x.reshape(-1, w.getnchannels()).mean(axis=1), rate


class Clone(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ganvoice-clone-test-")
        d = cls.dir = cls.tmp.name
        with open(PROMPTS, encoding="utf-8") as f:
            cls.texts = [line.strip() for line in f if line.strip()][:N_TAKES]
        # One recording of every sentence, each in its slot.
        cls.srt = os.path.join(d, "recording.srt")
        cls.cues = [(i * SLOT + 0.5, (i + 1) * SLOT, t) for i, t in enumerate(cls.texts)]
        with open(cls.srt, "w", encoding="utf-8") as f:
            for i, (a, b, t) in enumerate(cls.cues):
                f.write("%d\n%s --> %s\n%s\n\n" % (i + 1, srt_time(a), srt_time(b), t))
        cls.recording = os.path.join(d, "recording.wav")
        subprocess.run(["gst-launch-1.0", "-q", "filesrc", "location=" + cls.srt, "!", "subcues", "!",
                        "ganvoice", "voice=allison", "!", "audioconvert", "!", "audio/x-raw,format=S16LE", "!",
                        "wavenc", "!", "filesink", "location=" + cls.recording], check=True, timeout=120)
        x, rate = read_wav(cls.recording)
        # The takes: 001.wav + 001.txt, ... (the prompt list's numbering).
        cls.takes = os.path.join(d, "takes")
        os.mkdir(cls.takes)
        for i, (a, b, t) in enumerate(cls.cues):
            name = os.path.join(cls.takes, "%03d" % (i + 1))
            write_wav(name + ".wav", x[int((a - 0.2) * rate):int(b * rate)], rate)
            with open(name + ".txt", "w", encoding="utf-8") as f:
                f.write(t + "\n")
        cls.rate = rate
        cls.take1 = x[int(0.3 * rate):int(SLOT * rate)]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def clone(self, *args, timeout=120, cwd=None):
        return subprocess.run([CLONE] + list(args), capture_output=True, text=True, timeout=timeout, cwd=cwd)

    def path(self, name):
        return os.path.join(self.dir, name)

    def assertProfile(self, path):
        """A deep clone's profile (version 2, with its delta) that the
        ganvoice element speaks with the tiny model."""
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        self.assertEqual(doc["format"], "ganvoice-voice-profile")
        self.assertEqual(doc["version"], 2)
        self.assertIn("acoustic_delta", doc)
        self.assertEqual(doc["language"], "en")
        r = subprocess.run(["gst-launch-1.0", "-q", "filesrc", "location=" + self.srt, "!", "subcues", "!",
                            "ganvoice", "voice=" + path, "acoustic-model=" + os.path.join(MODELS, "tiny-acoustic.ts"),
                            "vocoder-model=" + os.path.join(MODELS, "tiny-vocoder.ts"), "!", "fakesink"],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)

    # ---- a clone ------------------------------------------------------------

    def test_folder_clone(self):
        out = self.path("folder.json")
        r = self.clone("--folder", self.takes, "--language", "en", "-o", out, "--time-limit", "5",
                       "--steps", "20", *TINY)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("%d sentences" % N_TAKES, r.stderr)
        self.assertIn("0 rejected", r.stderr)
        self.assertIn("training", r.stderr)
        self.assertIn("wrote " + out, r.stderr)
        self.assertIn("ganvoice voice=" + out, r.stderr)
        self.assertIn("ganvoice-dub film.mkv film.srt --voice " + out, r.stderr)
        self.assertProfile(out)
        self.assertFalse(os.path.exists(out + ".state"), "the state is kept after the end")

    def test_interrupt_and_resume(self):
        out = self.path("interrupted.json")
        # Many steps: the time limit (counted across resumes) ends it.
        args = ["--prompts", "en", "--takes", self.takes, "--language", "en", "-o", out,
                "--time-limit", "3", "--steps", "100000"] + TINY
        p = subprocess.Popen([CLONE] + args, stderr=subprocess.PIPE, text=True)
        err = ""
        for line in p.stderr:
            err += line
            if "training" in line:
                p.send_signal(signal.SIGINT)
                break
        err += p.communicate(timeout=60)[1]
        self.assertEqual(p.returncode, 130, err)
        self.assertIn("stopped; the state is in %s.state: run the same command again to resume" % out, err)
        self.assertTrue(os.path.exists(out + ".state"))
        self.assertFalse(os.path.exists(out))
        r = self.clone(*args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("the state in %s.state fits: resumed at step" % out, r.stderr)
        self.assertProfile(out)
        # --no-resume starts over (no "resumed"); nothing to resume is fine.
        r = self.clone(*(args + ["--no-resume", "--time-limit", "1"]))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("resumed", r.stderr)

    # ---- the checks ---------------------------------------------------------

    def test_check_only_flags_silent_and_clipped(self):
        d = self.path("check")
        os.mkdir(d)
        for i in range(2):
            for ext in (".wav", ".txt"):
                src = os.path.join(self.takes, "%03d%s" % (i + 1, ext))
                with open(src, "rb") as f, open(os.path.join(d, "good%d%s" % (i, ext)), "wb") as g:
                    g.write(f.read())
        write_wav(os.path.join(d, "silent.wav"), np.zeros(3 * self.rate), self.rate)
        write_wav(os.path.join(d, "clipped.wav"), self.take1 * 20, self.rate)
        for name in ("silent", "clipped"):
            with open(os.path.join(d, name + ".txt"), "w") as f:
                f.write(self.texts[0])
        r = self.clone("--folder", "check", "--language", "en", "--check-only", cwd=self.dir)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        rows = {line.split()[0]: line for line in r.stdout.splitlines()[1:] if line.startswith("check/")}
        self.assertEqual(len(rows), 4, r.stdout)
        for name in ("good0", "good1"):
            self.assertTrue(rows["check/%s.wav" % name].endswith("  ok"), r.stdout)
        for name in ("silent", "clipped"):
            self.assertFalse(rows["check/%s.wav" % name].endswith("  ok"), r.stdout)
        self.assertIn("4 takes: 2 good", r.stdout)
        # All good: exit 0.
        r = self.clone("--prompts", "en", "--takes", self.takes, "--language", "en", "--check-only")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("%d takes: %d good" % (N_TAKES, N_TAKES), r.stdout)
        self.assertIn("no take of sentences %d-60" % (N_TAKES + 1), r.stderr)

    def test_recording_cut_at_subtitles(self):
        r = self.clone("--recording", self.recording, "--transcript", self.srt, "--language", "en",
                       "--check-only")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("%d takes: %d good" % (N_TAKES, N_TAKES), r.stdout)
        self.assertIn("recording.srt line", r.stdout)

    def test_list_prompts(self):
        r = self.clone("--list-prompts", "en")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [line for line in r.stdout.splitlines() if not line.startswith("#")]
        self.assertEqual(len(lines), 60)
        self.assertEqual(lines[0], "001  " + self.texts[0])

    # ---- errors -------------------------------------------------------------

    def assertFails(self, r, out, *words):
        self.assertEqual(r.returncode, 1, r.stderr)
        last = r.stderr.strip().splitlines()[-1]
        self.assertTrue(last.startswith("ganvoice-clone: "), r.stderr)
        for w in words:
            self.assertIn(w, last)
        self.assertFalse(os.path.exists(out))
        self.assertFalse(os.path.exists(out + ".state"))

    def test_missing_folder(self):
        out, missing = self.path("missing.json"), self.path("no-such-folder")
        r = self.clone("--folder", missing, "--language", "en", "-o", out, *TINY)
        self.assertFails(r, out, missing, "no such folder")

    def test_bad_tsv_line(self):
        out, tsv = self.path("bad-tsv.json"), self.path("bad.tsv")
        with open(tsv, "w", encoding="utf-8") as f:
            f.write("takes/001.wav\t%s\n# a comment\ntakes/002.wav %s\n" % (self.texts[0], self.texts[1]))
        r = self.clone("--pairs", tsv, "--language", "en", "-o", out, *TINY)
        self.assertFails(r, out, tsv + ": line 3:", "path<TAB>text")

    def test_missing_tsv_audio(self):
        out, tsv = self.path("missing-audio.json"), self.path("missing.tsv")
        with open(tsv, "w", encoding="utf-8") as f:
            f.write("takes/001.wav\t%s\nnope.wav\tHello.\n" % self.texts[0])
        r = self.clone("--pairs", tsv, "--language", "en", "-o", out, *TINY)
        self.assertFails(r, out, tsv + ": line 2:", "nope.wav: no such file")

    def test_unknown_language(self):
        out = self.path("language.json")
        r = self.clone("--folder", self.takes, "--language", "xx-nowhere", "-o", out, *TINY)
        self.assertFails(r, out, "--language xx-nowhere")

    def test_too_little_speech(self):
        d = self.path("little")
        os.mkdir(d)
        for ext in (".wav", ".txt"):
            with open(os.path.join(self.takes, "001" + ext), "rb") as f, \
                    open(os.path.join(d, "001" + ext), "wb") as g:
                g.write(f.read())
        out = self.path("little.json")
        r = self.clone("--folder", d, "--language", "en", "-o", out, *TINY)
        self.assertFails(r, out, "of usable speech")


if __name__ == "__main__":
    Gst.init(None)
    if not CLONE or not os.access(CLONE, os.X_OK):
        print("usage: test_clone.py PATH/TO/ganvoice-clone", file=sys.stderr)
        sys.exit(2)
    for name in ("ganvoice", "subcues", "wavenc", "wavparse"):
        if not Gst.ElementFactory.find(name):
            print("SKIP: no %s element" % name)
            sys.exit(77)
    unittest.main(verbosity=2)

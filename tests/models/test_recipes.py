"""The training recipes (the package models) without training: every script imports and answers
--help the way the docs run it, and models.common computes what its docstrings say.

  PYTHONPATH=. /usr/bin/python3 tests/models/test_recipes.py    (from the repository root)

`meson test --suite models` runs it so. Exit 77 (skipped) without Debian's python3-torch,
python3-numpy and python3-scipy (./setup.sh --models).
"""
import concurrent.futures
import glob
import gzip
import math
import os
import subprocess
import sys
import tempfile
import unittest

try:
    import numpy as np
    import scipy  # noqa: F401  (the evaluations need it)
    import torch
except ImportError as e:
    print(f"SKIP: {e}")
    sys.exit(77)

from models.common import audio, data, mel, pitch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def scripts():
    """models.<recipe>.<script> for every file of models/ that runs as a program."""
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "models", "*", "*.py"))):
        with open(path, encoding="utf-8") as f:
            if 'if __name__ == "__main__":' in f.read():
                out.append(os.path.relpath(path, ROOT)[:-3].replace(os.sep, "."))
    return out


def run_help(argv):
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable] + argv + ["--help"], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=120)
    return argv, r


class Scripts(unittest.TestCase):
    def test_every_script_answers_help(self):
        runs = [["-m", m] for m in scripts()] + [["tests/bench/vocoder_python.py"], ["tests/bench/tts_python.py"]]
        self.assertGreater(len(runs), 15)
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            for argv, r in pool.map(run_help, runs):
                with self.subTest(" ".join(argv)):
                    self.assertEqual(r.returncode, 0, r.stderr[-2000:])
                    self.assertIn("usage:", r.stdout)


class FrontEnd(unittest.TestCase):
    def test_slaney_filterbank_formula(self):
        """Triangle m from hz[m] to hz[m+2], peak at hz[m+1], scaled by 2 / (hz[m+2] - hz[m])."""
        for cfg in (mel.CFG, mel.AudioConfig(sample_rate=16000, n_fft=512, hop=160, win=400, n_mels=40,
                                             fmin=50.0, fmax=7600.0)):
            fb = mel.mel_filterbank(cfg).double().numpy()
            f_sp, brk, step = 200.0 / 3.0, 1000.0, math.log(6.4) / 27.0

            def to_mel(hz):
                return hz / f_sp if hz < brk else brk / f_sp + math.log(hz / brk) / step

            def to_hz(m):
                return m * f_sp if m < brk / f_sp else brk * math.exp(step * (m - brk / f_sp))
            lo, hi = to_mel(cfg.fmin), to_mel(cfg.fmax)
            pts = [to_hz(lo + (hi - lo) * i / (cfg.n_mels + 1)) for i in range(cfg.n_mels + 2)]
            ref = np.zeros_like(fb)
            for m in range(cfg.n_mels):
                for k in range(cfg.n_fft // 2 + 1):
                    f = k * cfg.sample_rate / cfg.n_fft
                    w = min((f - pts[m]) / (pts[m + 1] - pts[m]), (pts[m + 2] - f) / (pts[m + 2] - pts[m + 1]))
                    ref[m, k] = max(0.0, w) * 2.0 / (pts[m + 2] - pts[m])
            np.testing.assert_allclose(fb, ref, rtol=0, atol=1e-6 * ref.max())

    def test_log_mel_formula(self):
        """Reflect pad (n_fft - hop) / 2, periodic Hann, |DFT| with eps, filterbank, ln(max(., clamp))."""
        cfg = mel.CFG
        x = np.random.default_rng(0).standard_normal(cfg.hop * 40).astype(np.float32) * 0.3
        got = mel.MelSpectrogram(cfg)(torch.from_numpy(x)[None])[0].double().numpy()
        pad = (cfg.n_fft - cfg.hop) // 2
        xp = np.pad(x.astype(np.float64), (pad, pad), mode="reflect")
        w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(cfg.win) / cfg.win)
        frames = np.stack([xp[t * cfg.hop:t * cfg.hop + cfg.n_fft] * w for t in range(len(x) // cfg.hop)])
        spec = np.fft.rfft(frames, axis=1)
        mag = np.sqrt(spec.real ** 2 + spec.imag ** 2 + cfg.mag_eps)
        ref = np.log(np.maximum(mel.mel_filterbank(cfg).double().numpy() @ mag.T, cfg.clamp))
        self.assertEqual(got.shape, (cfg.n_mels, len(x) // cfg.hop))
        np.testing.assert_allclose(got, ref, atol=2e-4)

    def test_htk_filterbank(self):
        """Peak-1 triangles that sum to one between the first and the last centre."""
        fb = mel.htk_filterbank(16000, 512, 40, 0.0, 7000.0)
        self.assertEqual(fb.shape, (40, 257))
        self.assertLessEqual(fb.max(), 1.0)
        centres = mel.htk_mel_to_hz(np.linspace(mel.htk_mel(0.0), mel.htk_mel(7000.0), 42))
        bins = np.arange(257) * 16000 / 512
        inner = (bins >= centres[1]) & (bins <= centres[40])
        np.testing.assert_allclose(fb[:, inner].sum(0), 1.0, atol=1e-9)


class Analysis(unittest.TestCase):
    def test_trim(self):
        sr = 22050
        tone = 0.5 * np.sin(2 * np.pi * 220 * np.arange(sr) / sr)
        x = np.concatenate([np.zeros(sr // 2), tone, 1e-4 * np.ones(sr // 2)]).astype(np.float32)
        y = audio.trim(x, sr, thresh_db=-45.0, margin=0.1)
        self.assertLessEqual(abs(len(y) - (sr + 2 * int(0.1 * sr))), 2 * 256)
        self.assertEqual(len(audio.trim(np.zeros(4096, np.float32), sr)), 4096)  # nothing louder: all kept
        self.assertEqual(len(audio.trim(x[:300], sr)), 300)                      # under two frames

    def test_yin(self):
        sr = 22050
        t = np.arange(sr) / sr
        x = sum(np.sin(2 * np.pi * 150.0 * k * t) / k for k in range(1, 6))
        f0, voiced = pitch.yin(x, sr=sr)
        self.assertGreater(voiced[5:-5].mean(), 0.95)
        np.testing.assert_allclose(f0[5:-5][voiced[5:-5]], 150.0, rtol=0.01)

    def test_resample(self):
        x = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050)
        y = audio.resample(x, 22050, 16000)
        self.assertEqual(len(y), 16000)
        np.testing.assert_allclose(y[1000:-1000], np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)[1000:-1000],
                                   atol=1e-3)


class Data(unittest.TestCase):
    def test_asterisk_transcripts(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "core-sounds-xx.txt.gz")
            with gzip.open(path, "wt", encoding="utf-8") as f:
                f.write("; comment\nconf-x: Hello there.\nbeep: [beep]\nvm: (silence)\ndigits/1 : one: two \nnone\n")
            self.assertEqual(list(data.asterisk_transcripts(path)),
                             [("conf-x", "Hello there."), ("digits/1", "one: two")])

    def test_training_never_reads_held_out(self):
        for p in data.TRAIN_PACKAGES:
            self.assertFalse(any(b in p for b in data.FORBIDDEN), p)
        for p in data.HELDOUT_PACKAGES:
            self.assertTrue(any(b in p for b in data.FORBIDDEN), p)


if __name__ == "__main__":
    unittest.main()

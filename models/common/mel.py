"""Mel scales and filterbanks: the models' log-mel front-end, and the HTK filterbank of the evaluations.

The log-mel front-end (MelSpectrogram with CFG) is the vocoder's and the acoustic model's:
training, export, evaluation and the bench use it, and the speaker encoder uses its Slaney
filterbank with its own AudioConfig.  Plain torch only (no librosa / torchaudio), so that
the C++ runtime can reproduce it exactly.  The formula (also written in vocoder.json and
docs/vocoder.md):

  x        : float32 waveform in [-1, 1], 22050 Hz, mono
  x_pad    = reflect_pad(x, (n_fft - hop) / 2 on both sides)        # 384 samples
  S[f, t]  = sum_n x_pad[t*hop + n] * w[n] * exp(-2 pi i f n / n_fft), n < n_fft
             w = periodic Hann of length win (= n_fft = 1024): w[n] = 0.5 - 0.5 cos(2 pi n / win)
             (center=False, so frames = len(x) / hop exactly for len(x) % hop == 0)
  M[f, t]  = sqrt(Re(S)^2 + Im(S)^2 + 1e-9)                          # magnitude, power 1
  mel[m,t] = sum_f FB[m, f] * M[f, t]                                 # FB: [80, 513]
  logmel   = ln(max(mel, 1e-5))                                       # natural log

FB is the Slaney-style mel filterbank (librosa.filters.mel(htk=False, norm="slaney")):
  mel scale (Slaney / Auditory Toolbox): linear below 1000 Hz, log above:
      hz < 1000 : mel = 3 * hz / 200
      hz >= 1000: mel = 15 + ln(hz / 1000) / (ln(6.4) / 27)
  n_mels + 2 points equally spaced in mel between mel(fmin=0) and mel(fmax=8000),
  converted back to Hz; FFT bin f has frequency f * sr / n_fft;
  triangle m rises from hz[m] to hz[m+1] and falls to hz[m+2], weights
      max(0, min((f_hz - hz[m]) / (hz[m+1] - hz[m]), (hz[m+2] - f_hz) / (hz[m+2] - hz[m+1])))
  Slaney area normalisation: triangle m is multiplied by 2 / (hz[m+2] - hz[m]).

htk_filterbank is only for analysis (the evaluations' cepstra): triangles of peak 1, equally
spaced on the HTK mel scale 2595 log10(1 + hz / 700), in numpy float64.
"""
from dataclasses import asdict, dataclass
import math

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AudioConfig:
    sample_rate: int = 22050
    n_fft: int = 1024
    hop: int = 256
    win: int = 1024
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float = 8000.0
    clamp: float = 1e-5
    mag_eps: float = 1e-9

    def to_dict(self):
        return asdict(self)


CFG = AudioConfig()


def hz_to_mel_slaney(hz: torch.Tensor) -> torch.Tensor:
    f_sp = 200.0 / 3.0
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp  # 15
    logstep = math.log(6.4) / 27.0
    lin = hz / f_sp
    log = min_log_mel + torch.log(torch.clamp(hz, min=1e-10) / min_log_hz) / logstep
    return torch.where(hz >= min_log_hz, log, lin)


def mel_to_hz_slaney(mel: torch.Tensor) -> torch.Tensor:
    f_sp = 200.0 / 3.0
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    lin = mel * f_sp
    log = min_log_hz * torch.exp(logstep * (mel - min_log_mel))
    return torch.where(mel >= min_log_mel, log, lin)


def mel_filterbank(cfg: AudioConfig = CFG) -> torch.Tensor:
    """[n_mels, n_fft//2+1] float32 Slaney mel filterbank with Slaney area norm (cfg's rate, n_fft, band)."""
    n_freqs = cfg.n_fft // 2 + 1
    fft_hz = torch.linspace(0.0, cfg.sample_rate / 2.0, n_freqs, dtype=torch.float64)
    m_lo = hz_to_mel_slaney(torch.tensor(float(cfg.fmin), dtype=torch.float64))
    m_hi = hz_to_mel_slaney(torch.tensor(float(cfg.fmax), dtype=torch.float64))
    mel_pts = torch.linspace(float(m_lo), float(m_hi), cfg.n_mels + 2, dtype=torch.float64)
    hz_pts = mel_to_hz_slaney(mel_pts)
    fdiff = hz_pts[1:] - hz_pts[:-1]                        # [n_mels+1]
    ramps = hz_pts[:, None] - fft_hz[None, :]               # [n_mels+2, n_freqs]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    fb = torch.clamp(torch.minimum(lower, upper), min=0.0)
    enorm = 2.0 / (hz_pts[2:] - hz_pts[:-2])
    fb = fb * enorm[:, None]
    return fb.to(torch.float32)


class MelSpectrogram(torch.nn.Module):
    """waveform [B, L] float32 -> log-mel [B, n_mels, L // hop]."""

    def __init__(self, cfg: AudioConfig = CFG):
        super().__init__()
        self.n_fft = cfg.n_fft
        self.hop = cfg.hop
        self.win = cfg.win
        self.pad = (cfg.n_fft - cfg.hop) // 2
        self.clamp = cfg.clamp
        self.mag_eps = cfg.mag_eps
        self.register_buffer("window", torch.hann_window(cfg.win, periodic=True), persistent=False)
        self.register_buffer("fb", mel_filterbank(cfg), persistent=False)

    def magnitude(self, wav: torch.Tensor) -> torch.Tensor:
        x = F.pad(wav.unsqueeze(1), (self.pad, self.pad), mode="reflect").squeeze(1)
        spec = torch.stft(x, self.n_fft, hop_length=self.hop, win_length=self.win,
                          window=self.window, center=False, return_complex=True)
        return torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + self.mag_eps)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        mag = self.magnitude(wav)
        mel = torch.matmul(self.fb, mag)
        return torch.log(torch.clamp(mel, min=self.clamp))


MEL_FORMULA = {
    "waveform": "float32 mono in [-1, 1] at sample_rate",
    "padding": "reflect pad (n_fft - hop) / 2 = 384 samples on both sides, then STFT with center=False; frames = samples / hop",
    "window": "periodic Hann of length win: w[n] = 0.5 - 0.5*cos(2*pi*n/win)",
    "stft": "one-sided DFT of n_fft points per frame, frame t starts at t*hop in the padded signal",
    "magnitude": "sqrt(re^2 + im^2 + 1e-9) (power 1, not power 2)",
    "mel_scale": "slaney (librosa htk=False): mel = 3*hz/200 below 1000 Hz, 15 + ln(hz/1000)/(ln(6.4)/27) above",
    "mel_points": "n_mels+2 points equally spaced on the mel scale from fmin to fmax, triangles over FFT bin frequencies k*sr/n_fft",
    "mel_norm": "slaney: triangle m scaled by 2/(hz[m+2]-hz[m]) (librosa norm='slaney')",
    "compression": "natural log: ln(max(mel, 1e-5))",
    "reference": "same formula as librosa.filters.mel(sr=22050, n_fft=1024, n_mels=80, fmin=0, fmax=8000, htk=False, norm='slaney') (HiFi-GAN mel_basis); not numerically cross-checked here, librosa is not installed",
}


def htk_mel(hz):
    """HTK mel scale: 2595 log10(1 + hz / 700)."""
    return 2595.0 * np.log10(1.0 + hz / 700.0)


def htk_mel_to_hz(mel):
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def htk_filterbank(sr, n_fft, n_mels, fmin=0.0, fmax=None):
    """[n_mels, n_fft//2+1] float64 numpy: triangles of peak 1 equally spaced on the HTK mel scale
    from fmin to fmax (default sr / 2), over the FFT bin frequencies k * sr / n_fft; no normalisation."""
    fmax = sr / 2.0 if fmax is None else fmax
    pts = htk_mel_to_hz(np.linspace(htk_mel(fmin), htk_mel(fmax), n_mels + 2))
    bins = np.linspace(0.0, sr / 2.0, n_fft // 2 + 1)
    fb = np.zeros((n_mels, len(bins)))
    for m in range(n_mels):
        lo, c, hi = pts[m], pts[m + 1], pts[m + 2]
        fb[m] = np.maximum(0.0, np.minimum((bins - lo) / (c - lo), (hi - bins) / (hi - c)))
    return fb

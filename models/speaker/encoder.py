"""Speaker encoder: 16 kHz waveform -> L2-normalised speaker embedding.

    wav [1, N] float32 (16 kHz, mono, [-1, 1])
      -> |STFT| (n_fft 512, win 400, hop 160, periodic Hann, center=False)
      -> 40 Slaney mel bands 50..7600 Hz -> ln(max(mel, 1e-5))
      -> Conv1d(40->C, k5) -> 3 x dilated Conv1d(C, k3, d 2/3/4) with residuals
      -> Conv1d(C->3C, k1) -> mean and std over speech frames
      -> Linear(6C -> D) -> L2 normalisation                    -> [1, D]

Frames quieter than 45 dB below the loudest frame are left out of the pooling,
so that pauses do not count. Training feeds log-mels straight into `embed_mels`
(augmented in the spectral domain); `forward` is what the C++ runtime calls.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from models.common.mel import AudioConfig, mel_filterbank

SAMPLE_RATE = 16000
N_FFT = 512
WIN = 400
HOP = 160
N_MELS = 40
FMIN = 50.0
FMAX = 7600.0
# The front-end as models.common.mel describes one (its Slaney filterbank).
FRONT_END = AudioConfig(sample_rate=SAMPLE_RATE, n_fft=N_FFT, hop=HOP, win=WIN, n_mels=N_MELS, fmin=FMIN, fmax=FMAX)


class ConvBlock(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, dilation: int = 1):
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, k, padding=dilation * (k // 2), dilation=dilation)
        self.norm = nn.BatchNorm1d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.norm(self.conv(x)))


class SpeakerEncoder(nn.Module):
    def __init__(self, channels: int = 192, dim: int = 128):
        super().__init__()
        self.embedding_dim = dim
        self.sample_rate = SAMPLE_RATE
        self.n_fft = N_FFT
        self.hop = HOP
        self.win = WIN
        self.register_buffer("window", torch.hann_window(WIN, periodic=True), persistent=False)
        self.register_buffer("melfb", mel_filterbank(FRONT_END), persistent=False)
        self.inp = ConvBlock(N_MELS, channels, 5)
        self.blocks = nn.ModuleList([ConvBlock(channels, channels, 3, d) for d in (2, 3, 4)])
        self.expand = nn.Conv1d(channels, 3 * channels, 1)
        self.out = nn.Linear(6 * channels, dim)

    def mels(self, wav: torch.Tensor) -> torch.Tensor:
        """[B, N] waveform -> [B, N_MELS, frames] natural-log mel."""
        spec = torch.stft(wav, self.n_fft, hop_length=self.hop, win_length=self.win, window=self.window,
                          center=False, return_complex=True)
        mag = torch.sqrt(spec.real * spec.real + spec.imag * spec.imag + 1e-9)
        return torch.log(torch.clamp(torch.matmul(self.melfb, mag), min=1e-5))

    def embed_mels(self, mel: torch.Tensor) -> torch.Tensor:
        """[B, N_MELS, T] log-mel -> [B, D] unit vectors."""
        level = torch.logsumexp(mel, dim=1)  # [B, T] ~ frame loudness
        keep = (level > level.max(dim=1, keepdim=True).values - 45.0 / (20.0 / math.log(10.0)))
        w = keep.to(mel.dtype).unsqueeze(1)  # [B, 1, T]
        # per-utterance mean removal of the input level only (not of the spectral shape)
        x = mel - (mel * w).sum(dim=(1, 2), keepdim=True) / (w.sum(dim=(1, 2), keepdim=True) * mel.shape[1])
        x = self.inp(x)
        for blk in self.blocks:
            x = x + blk(x)
        x = F.relu(self.expand(x))
        n = w.sum(dim=2).clamp(min=1.0)
        mean = (x * w).sum(dim=2) / n
        var = ((x - mean.unsqueeze(2)) ** 2 * w).sum(dim=2) / n
        stats = torch.cat([mean, torch.sqrt(var + 1e-5)], dim=1)
        return F.normalize(self.out(stats), dim=1)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        return self.embed_mels(self.mels(wav))

"""ganvoice acoustic model: a small, convolutional FastPitch-style network.

  phoneme ids ─ embedding ─ encoder (conv) ─┬─ duration predictor ─> frames per phoneme
                                 + speaker ─┼─ pitch predictor ─> mean log-F0 per phoneme
                                            └─ + pitch embedding ─ expand by durations
      ─ + position-in-phoneme ─ decoder (dilated conv) ─> log-mel [80, frames]

Training also runs an aligner (RAD-TTS style): phoneme keys against mel
queries give a soft alignment, trained with the forward-sum (CTC) loss; the
hard alignment that drives the decoder is its monotonic alignment search
(MAS) path.  Only the encoder, predictors and decoder are exported.

The exported TorchScript follows docs/models.md:
  durations(ids [1,N] int64, speaker [1,E]) -> [1,N] frames (float)
  decode(ids, speaker, frames [1,N] int64, pitch_shift semitones) -> [1,80,sum]
"""
import math
from typing import Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBlock(nn.Module):
    def __init__(self, ch: int, k: int, dilation: int = 1, dropout: float = 0.1):
        super().__init__()
        self.conv = nn.Conv1d(ch, ch, k, padding=dilation * (k - 1) // 2, dilation=dilation)
        self.norm = nn.LayerNorm(ch)
        self.dropout = nn.Dropout(dropout)
        self.p = dropout

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # x [B, C, T], mask [B, 1, T]
        y = F.relu(self.conv(x * mask))
        y = self.norm(y.transpose(1, 2)).transpose(1, 2)
        if self.p > 0.0:
            y = self.dropout(y)
        return (x + y) * mask


class Predictor(nn.Module):
    def __init__(self, ch: int, k: int = 3, layers: int = 2):
        super().__init__()
        self.blocks = nn.ModuleList([ConvBlock(ch, k) for _ in range(layers)])
        self.out = nn.Conv1d(ch, 1, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for b in self.blocks:
            x = b(x, mask)
        return self.out(x)[:, 0] * mask[:, 0]


class AcousticModel(nn.Module):
    def __init__(self, n_phonemes: int, n_speakers: int, speaker_dim: int = 16, hidden: int = 192,
                 n_mels: int = 80, enc_layers: int = 4, dec_dilations: Tuple[int, ...] = (1, 2, 4, 1, 2, 4),
                 f0_mean: float = 5.0, f0_std: float = 0.3):
        super().__init__()
        self.n_phonemes = n_phonemes
        self.speaker_embedding_dim = speaker_dim
        self.n_mels = n_mels
        self.f0_mean = f0_mean
        self.f0_std = f0_std
        self.embed = nn.Embedding(n_phonemes, hidden)
        self.encoder = nn.ModuleList([ConvBlock(hidden, 5) for _ in range(enc_layers)])
        self.speaker_table = nn.Embedding(n_speakers, speaker_dim)  # training only
        self.spk_enc = nn.Linear(speaker_dim, hidden)
        self.spk_dec = nn.Linear(speaker_dim, hidden)
        self.dur = Predictor(hidden)
        self.pitch = Predictor(hidden)
        self.pitch_embed = nn.Conv1d(1, hidden, 3, padding=1)
        self.pos = nn.Linear(3, hidden)
        self.decoder = nn.ModuleList([ConvBlock(hidden, 5, d, dropout=0.0) for d in dec_dilations])
        self.mel_out = nn.Conv1d(hidden, n_mels, 1)
        nn.init.normal_(self.speaker_table.weight, 0.0, 0.3)

    # --- shared pieces ---------------------------------------------------------------------------
    def encode(self, ids: torch.Tensor, speaker: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids).transpose(1, 2) * mask
        for b in self.encoder:
            x = b(x, mask)
        return (x + self.spk_enc(speaker)[:, :, None]) * mask

    def expand(self, h: torch.Tensor, frames: torch.Tensor, T: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """h [B, C, N], frames [B, N] int64 -> [B, C, T], position features [B, 3, T]."""
        B = h.shape[0]
        ends = torch.cumsum(frames, dim=1)  # [B, N]
        t = torch.arange(T, device=h.device)[None, :].expand(B, T).contiguous()
        idx = torch.searchsorted(ends, t, right=True).clamp(max=h.shape[2] - 1)  # phoneme of each frame
        out = torch.gather(h, 2, idx[:, None, :].expand(B, h.shape[1], T))
        d = torch.gather(frames, 1, idx).to(h.dtype).clamp(min=1.0)
        start = torch.gather(ends, 1, idx).to(h.dtype) - d
        rel = (t.to(h.dtype) - start + 0.5) / d
        pos = torch.stack([rel, torch.log(d) / 3.0, torch.sin(math.pi * rel)], dim=1)
        return out, pos

    def run_decoder(self, x: torch.Tensor, pos: torch.Tensor, speaker: torch.Tensor,
                    mask: torch.Tensor) -> torch.Tensor:
        x = (x + self.pos(pos.transpose(1, 2)).transpose(1, 2) + self.spk_dec(speaker)[:, :, None]) * mask
        for b in self.decoder:
            x = b(x, mask)
        return self.mel_out(x) * mask - 11.5129 * (1.0 - mask)

    # --- training ---------------------------------------------------------------------------------
    @torch.jit.export
    def forward_train(self, ids: torch.Tensor, id_mask: torch.Tensor, speaker: torch.Tensor, frames: torch.Tensor,
                      phone_f0: torch.Tensor, T: int,
                      mel_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Teacher-forced (durations and per-phoneme pitch given): log-mel [B, 80, T], log(1 + frames)
        predicted [B, N], normalised log-F0 predicted [B, N]. Exported for fine-tuning (docs/models.md)."""
        h = self.encode(ids, speaker, id_mask)
        log_dur = self.dur(h.detach(), id_mask)
        f0_pred = self.pitch(h.detach(), id_mask)
        h = h + self.pitch_embed(phone_f0[:, None]) * id_mask
        x, pos = self.expand(h, frames, T)
        mel = self.run_decoder(x, pos, speaker, mel_mask)
        return mel, log_dur, f0_pred

    # --- exported contract ------------------------------------------------------------------------
    @torch.jit.export
    def durations(self, ids: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        mask = torch.ones(1, 1, ids.shape[1], dtype=speaker.dtype)
        h = self.encode(ids, speaker, mask)
        return torch.clamp(torch.exp(self.dur(h, mask)) - 1.0, min=0.0)

    @torch.jit.export
    def decode(self, ids: torch.Tensor, speaker: torch.Tensor, frames: torch.Tensor,
               pitch_shift: float) -> torch.Tensor:
        mask = torch.ones(1, 1, ids.shape[1], dtype=speaker.dtype)
        h = self.encode(ids, speaker, mask)
        f0 = self.pitch(h, mask)
        # pitch_shift semitones -> normalised log-F0 units
        f0 = f0 + (pitch_shift * math.log(2.0) / 12.0) / self.f0_std
        h = h + self.pitch_embed(f0[:, None]) * mask
        T = int(frames.sum())
        x, pos = self.expand(h, frames, T)
        mmask = torch.ones(1, 1, T, dtype=speaker.dtype)
        return self.run_decoder(x, pos, speaker, mmask)

    def forward(self, ids: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        return self.durations(ids, speaker)


class Aligner(nn.Module):
    """Soft text-to-mel alignment (training only)."""

    def __init__(self, n_phonemes: int, n_mels: int = 80, ch: int = 128, att_dim: int = 64,
                 temperature: float = 0.1):
        super().__init__()
        self.embed = nn.Embedding(n_phonemes, ch)
        self.key = nn.Sequential(nn.Conv1d(ch, ch * 2, 3, padding=1), nn.ReLU(), nn.Conv1d(ch * 2, att_dim, 1))
        self.query = nn.Sequential(nn.Conv1d(n_mels, ch * 2, 3, padding=1), nn.ReLU(),
                                   nn.Conv1d(ch * 2, ch, 1), nn.ReLU(), nn.Conv1d(ch, att_dim, 1))
        self.temperature = temperature

    def forward(self, ids, mel, id_mask_bool):
        k = self.key(self.embed(ids).transpose(1, 2))  # [B, A, N]
        q = self.query(mel)  # [B, A, T]
        dist = (q * q).sum(1)[:, :, None] + (k * k).sum(1)[:, None, :] - 2.0 * torch.bmm(q.transpose(1, 2), k)
        logits = -self.temperature * dist
        logits = logits.masked_fill(~id_mask_bool[:, None, :], -1e4)
        return logits  # [B, T, N]


def beta_binomial_prior(N: int, T: int, scaling: float = 1.0) -> torch.Tensor:
    """[T, N] log prior that favours the diagonal (RAD-TTS)."""
    n = float(N - 1)
    k = torch.arange(N, dtype=torch.float64)[None, :]
    a = scaling * torch.arange(1, T + 1, dtype=torch.float64)[:, None]
    b = scaling * (T - torch.arange(T, dtype=torch.float64))[:, None]
    lg = torch.lgamma
    out = (lg(torch.tensor(n + 1)) - lg(k + 1) - lg(n - k + 1) + lg(k + a) + lg(n - k + b) - lg(n + a + b) -
           (lg(a) + lg(b) - lg(a + b)))
    return out.float()


def forward_sum_loss(log_attn: torch.Tensor, n_ids: torch.Tensor, n_frames: torch.Tensor) -> torch.Tensor:
    """log_attn [B, T, N] (log-softmax over N after prior) -> CTC forward-sum loss."""
    B, T, N = log_attn.shape
    padded = F.pad(log_attn, (1, 0), value=-1.0)  # blank at 0
    loss = 0.0
    for b in range(B):
        tn, nn_ = int(n_frames[b]), int(n_ids[b])
        lp = padded[b, :tn, : nn_ + 1]
        lp = F.log_softmax(lp, dim=-1)[:, None, :]
        target = torch.arange(1, nn_ + 1)[None, :]
        loss = loss + F.ctc_loss(lp, target, torch.tensor([tn]), torch.tensor([nn_]), zero_infinity=True)
    return loss / B


def mas(logp: np.ndarray) -> np.ndarray:
    """Monotonic alignment search. logp [T, N] with T >= N -> durations [N] (each >= 1)."""
    T, N = logp.shape
    Q = np.full((T, N), -np.inf, dtype=np.float64)
    Q[0, 0] = logp[0, 0]
    for t in range(1, T):
        prev = Q[t - 1]
        shifted = np.concatenate([[-np.inf], prev[:-1]])
        Q[t] = np.maximum(prev, shifted) + logp[t]
    dur = np.zeros(N, dtype=np.int64)
    n = N - 1
    for t in range(T - 1, -1, -1):
        dur[n] += 1
        if t == 0:
            break
        if n > 0 and (n == t or Q[t - 1, n - 1] >= Q[t - 1, n]):
            n -= 1
    return dur

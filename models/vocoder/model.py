"""Generator (Vocos-style ConvNeXt + iSTFT head) and slim discriminators (MPD + MRD).

Also holds a HiFi-GAN V3-style upsampling generator that is only used for the CPU
speed comparison in speed_compare.py (it is never trained).
"""
import math
from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

try:  # torch >= 2.1
    from torch.nn.utils.parametrizations import weight_norm as _weight_norm
except ImportError:  # torch 1.13 (Debian 12)
    from torch.nn.utils import weight_norm as _weight_norm


# --------------------------------------------------------------------------- generator
class ConvNeXtBlock(nn.Module):
    def __init__(self, dim: int, inter: int, layer_scale: float):
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pw1 = nn.Linear(dim, inter)
        self.act = nn.GELU()
        self.pw2 = nn.Linear(inter, dim)
        self.gamma = nn.Parameter(layer_scale * torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [B, C, T]
        res = x
        x = self.dwconv(x)
        x = x.transpose(1, 2)
        x = self.norm(x)
        x = self.pw1(x)
        x = self.act(x)
        x = self.pw2(x)
        x = self.gamma * x
        x = x.transpose(1, 2)
        return res + x


class MelConsistencyFilter(nn.Module):
    """Post-filter: pulls the waveform's re-analysed log-mel onto the input log-mel.

    Each iteration analyses y in the front-end's framing (models/common/mel.py: reflect pad 384,
    frames at t*hop), measures its mel, and scales every STFT bin by `alpha` times the
    log-mel error of the bands it belongs to (spread back over the triangles), plus
    `momentum` times the previous iteration's log-gain, then resynthesises by weighted
    overlap-add. A bin's boosts add up to at most max_db; its cuts are not limited.
    The phase and the harmonic fine structure stay the generator's; only the band
    envelope moves. Bins above fmax are left alone. It has no weights; it only needs
    the front-end's FB. (It frames with unfold + rfft rather than mel.py's torch.stft
    because it also needs the inverse in the same framing.)
    """

    def __init__(self, fb: torch.Tensor, n_fft: int, hop: int, iters: int, alpha: float, max_db: float,
                 momentum: float = 0.0):
        super().__init__()
        col = fb.sum(0)
        spread = torch.where(col[None] > 0, fb / col.clamp(min=1e-12)[None], torch.zeros_like(fb))
        # bins from here up belong to no band (above fmax): their gain is always 1, so the
        # iterations measure and scale only the bins below (the same result to float rounding, less work)
        used = torch.nonzero(col > 0).flatten()
        self.bins = int(used.max()) + 1 if used.numel() > 0 else 1
        self.register_buffer("fb_t", fb.t()[:self.bins].contiguous(), persistent=False)      # [bins, n_mels]
        self.register_buffer("spread_t", spread[:, :self.bins].contiguous(), persistent=False)  # [n_mels, bins]
        self.register_buffer("win", torch.hann_window(n_fft, periodic=True), persistent=False)
        self.n_fft = n_fft
        self.hop = hop
        self.pad = (n_fft - hop) // 2
        self.iters = iters
        self.alpha = alpha
        self.momentum = momentum  # heavy-ball: each step adds this times the previous one
        self.max_log = max_db / 20.0 * math.log(10.0)
        self.log_floor = math.log(1e-5)

    def frames_of(self, y: torch.Tensor) -> torch.Tensor:
        yp = F.pad(y.unsqueeze(1), (self.pad, self.pad), mode="reflect").squeeze(1)
        return yp.unfold(-1, self.n_fft, self.hop) * self.win  # [B, T, n_fft]

    def overlap_add(self, fr: torch.Tensor, n: int) -> torch.Tensor:
        b, t = fr.shape[0], fr.shape[1]
        k = self.n_fft // self.hop
        parts = fr.reshape(b, t, k, self.hop)
        out = torch.zeros(b, t + k - 1, self.hop, dtype=fr.dtype, device=fr.device)
        for i in range(k):
            out[:, i:i + t] += parts[:, :, i]
        return out.reshape(b, -1)[:, self.pad:self.pad + n]

    def forward(self, y: torch.Tensor, logmel: torch.Tensor) -> torch.Tensor:
        n = y.shape[-1]
        t = logmel.shape[-1]
        w2 = (self.win * self.win).expand(1, t, self.n_fft)
        env = self.overlap_add(w2, n).clamp(min=1e-3)
        target = logmel.clamp(min=self.log_floor).transpose(1, 2)  # [B, T, n_mels]
        # total log-gain so far per bin: boosts are limited to max_db over all iterations,
        # so a band the generator left empty is not filled with amplified rounding noise
        # (which would differ between chunked and one-shot runs); cuts are not limited
        total = torch.zeros(1)
        last = torch.zeros(1)
        for i in range(self.iters):
            # in-place where possible: fewer large temporaries, fewer page faults
            spec = torch.fft.rfft(self.frames_of(y), dim=-1)
            low = spec.narrow(-1, 0, self.bins)  # a view: scaling it scales spec
            mel = torch.matmul(low.abs(), self.fb_t).clamp_(min=1e-5)
            step = torch.matmul(target - torch.log(mel), self.spread_t).mul_(self.alpha)
            if self.momentum > 0.0:
                step = step.add_(last, alpha=self.momentum)
            new_total = (step + total).clamp_(max=self.max_log)
            last = new_total - total
            low.mul_(torch.exp(last))
            total = new_total
            frames = torch.fft.irfft(spec, n=self.n_fft, dim=-1).mul_(self.win)
            y = self.overlap_add(frames, n).div_(env)
        return y


class VocosGenerator(nn.Module):
    """log-mel [B, n_mels, T] -> waveform [B, T * hop].

    ConvNeXt backbone at frame rate, linear head predicting log-magnitude and phase
    of n_fft//2+1 bins, then torch.istft (periodic Hann, center=True, length=T*hop).
    """

    def __init__(self, n_mels: int = 80, dim: int = 256, inter: int = 768, layers: int = 8,
                 n_fft: int = 1024, hop: int = 256, win: int = 1024, mag_clamp: float = 1000.0):
        super().__init__()
        # |STFT| of a full-scale signal with this window reaches sum(w) = 512, so the
        # magnitude clamp must sit above that (Vocos' 1e2 compressed loud speech).
        self.mag_clamp = mag_clamp
        # frames of replicate padding added around the input at inference (export sets this):
        # the receptive field is 3 + 8*3 = 27 frames each side, so edge frames then never see
        # the convolutions' zero padding (zeros = a very loud log-mel -> clicks at the edges).
        self.edge_pad = 0
        self.n_fft = n_fft
        self.hop = hop
        self.win = win
        self.embed = nn.Conv1d(n_mels, dim, kernel_size=7, padding=3)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.blocks = nn.ModuleList([ConvNeXtBlock(dim, inter, 1.0 / layers) for _ in range(layers)])
        self.final_norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, n_fft + 2)
        self.register_buffer("window", torch.hann_window(win, periodic=True), persistent=False)
        self.apply(self._init)
        # mel-consistency post-filter, enabled by export (set_post_filter); 0 iterations = off
        self.post = MelConsistencyFilter(torch.zeros(n_mels, n_fft // 2 + 1), n_fft, hop, 0, 1.0, 30.0)

    def set_post_filter(self, fb: torch.Tensor, iters: int, alpha: float, max_db: float, momentum: float = 0.0):
        self.post = MelConsistencyFilter(fb, self.n_fft, self.hop, iters, alpha, max_db, momentum)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Conv1d, nn.Linear)):
            nn.init.trunc_normal_(m.weight, std=0.02)
            nn.init.constant_(m.bias, 0.0)

    def spectrum(self, mel: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        x = self.embed(mel)
        x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        for blk in self.blocks:
            x = blk(x)
        x = self.final_norm(x.transpose(1, 2))
        x = self.head(x).transpose(1, 2)  # [B, n_fft+2, T]
        n = self.n_fft // 2 + 1
        logmag = x[:, :n]
        phase = x[:, n:]
        mag = torch.clamp(torch.exp(logmag), max=self.mag_clamp)
        # phase is used through cos/sin of the raw output (Vocos), i.e. an unbounded angle
        return mag * torch.cos(phase), mag * torch.sin(phase)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.forward_chunk(mel, True, True)

    @torch.jit.export
    def forward_chunk(self, mel: torch.Tensor, pad_start: bool, pad_end: bool) -> torch.Tensor:
        """Vocodes one chunk of a longer mel. The edge padding (edge_pad frames, replicate)
        is added only at the ends that are the utterance's own: a streaming caller gives
        real context at the other ends instead, and trims it from the output itself."""
        frames = mel.shape[-1]
        left = self.edge_pad if pad_start else 0
        right = self.edge_pad if pad_end else 0
        if left > 0 or right > 0:
            mel = F.pad(mel, (left, right), mode="replicate")
        re, im = self.spectrum(mel)
        spec = torch.complex(re, im)
        y = torch.istft(spec, self.n_fft, hop_length=self.hop, win_length=self.win,
                        window=self.window, center=True, length=(frames + left + right) * self.hop)
        if self.post.iters > 0:
            y = self.post(y, mel)
        if left > 0 or right > 0:
            y = y[:, left * self.hop:(left + frames) * self.hop]
        return y


# ------------------------------------------------------ HiFi-GAN V3 (speed comparison only)
class ResBlock2(nn.Module):
    def __init__(self, ch: int, k: int, dil: Tuple[int, int]):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv1d(ch, ch, k, dilation=d, padding=(k * d - d) // 2) for d in dil])

    def forward(self, x):
        for c in self.convs:
            x = x + c(F.leaky_relu(x, 0.1))
        return x


class HiFiGANV3Generator(nn.Module):
    def __init__(self, n_mels: int = 80, ch: int = 256, rates=(8, 8, 4), kernels=(16, 16, 8),
                 rb_k=(3, 5, 7), rb_d=((1, 2), (2, 6), (3, 12))):
        super().__init__()
        self.pre = nn.Conv1d(n_mels, ch, 7, padding=3)
        self.ups = nn.ModuleList()
        self.rbs = nn.ModuleList()
        c = ch
        for r, k in zip(rates, kernels):
            self.ups.append(nn.ConvTranspose1d(c, c // 2, k, r, padding=(k - r) // 2))
            c = c // 2
            self.rbs.append(nn.ModuleList([ResBlock2(c, kk, dd) for kk, dd in zip(rb_k, rb_d)]))
        self.post = nn.Conv1d(c, 1, 7, padding=3)

    def forward(self, mel):
        x = self.pre(mel)
        for up, rbs in zip(self.ups, self.rbs):
            x = up(F.leaky_relu(x, 0.1))
            y = None
            for rb in rbs:
                y = rb(x) if y is None else y + rb(x)
            x = y / len(rbs)
        return torch.tanh(self.post(F.leaky_relu(x))).squeeze(1)


# --------------------------------------------------------------------------- discriminators
class PeriodDisc(nn.Module):
    def __init__(self, period: int, chans=(32, 64, 128, 128)):
        super().__init__()
        self.period = period
        layers = []
        cin = 1
        for c in chans:
            layers.append(_weight_norm(nn.Conv2d(cin, c, (5, 1), (3, 1), padding=(2, 0))))
            cin = c
        layers.append(_weight_norm(nn.Conv2d(cin, cin, (5, 1), 1, padding=(2, 0))))
        self.convs = nn.ModuleList(layers)
        self.post = _weight_norm(nn.Conv2d(cin, 1, (3, 1), 1, padding=(1, 0)))

    def forward(self, x):  # x [B, L]
        b, t = x.shape
        if t % self.period:
            n = self.period - t % self.period
            x = F.pad(x, (0, n), mode="reflect")
            t = t + n
        x = x.view(b, 1, t // self.period, self.period)
        fmap = []
        for c in self.convs:
            x = F.leaky_relu(c(x), 0.1)
            fmap.append(x)
        x = self.post(x)
        fmap.append(x)
        return x.flatten(1), fmap


class ResolutionDisc(nn.Module):
    """Discriminator on a linear-magnitude STFT (UnivNet/Vocos MRD style)."""

    def __init__(self, n_fft: int, hop: int, ch: int = 32):
        super().__init__()
        self.n_fft = n_fft
        self.hop = hop
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.convs = nn.ModuleList([
            _weight_norm(nn.Conv2d(1, ch, (3, 9), padding=(1, 4))),
            _weight_norm(nn.Conv2d(ch, ch, (3, 9), stride=(1, 2), padding=(1, 4))),
            _weight_norm(nn.Conv2d(ch, ch, (3, 9), stride=(1, 2), padding=(1, 4))),
            _weight_norm(nn.Conv2d(ch, ch, (3, 9), stride=(1, 2), padding=(1, 4))),
            _weight_norm(nn.Conv2d(ch, ch, (3, 3), padding=(1, 1))),
        ])
        self.post = _weight_norm(nn.Conv2d(ch, 1, (3, 3), padding=(1, 1)))

    def forward(self, x):
        s = torch.stft(x, self.n_fft, self.hop, self.n_fft, self.window, center=True, return_complex=True)
        x = s.abs().transpose(1, 2).unsqueeze(1)  # [B, 1, T, F]
        fmap = []
        for c in self.convs:
            x = F.leaky_relu(c(x), 0.1)
            fmap.append(x)
        x = self.post(x)
        fmap.append(x)
        return x.flatten(1), fmap


class Discriminators(nn.Module):
    def __init__(self, periods=(2, 3, 5, 7, 11), resolutions=((2048, 512), (1024, 256), (512, 128))):
        super().__init__()
        self.mpd = nn.ModuleList([PeriodDisc(p) for p in periods])
        self.mrd = nn.ModuleList([ResolutionDisc(n, h) for n, h in resolutions])

    def forward(self, x) -> Tuple[List[torch.Tensor], List[List[torch.Tensor]]]:
        outs, fmaps = [], []
        for d in list(self.mpd) + list(self.mrd):
            o, f = d(x)
            outs.append(o)
            fmaps.append(f)
        return outs, fmaps


# --------------------------------------------------------------------------- losses
def disc_loss(real_outs, fake_outs):
    loss = 0.0
    for r, f in zip(real_outs, fake_outs):
        loss = loss + torch.mean((1.0 - r) ** 2) + torch.mean(f ** 2)
    return loss


def gen_adv_loss(fake_outs):
    loss = 0.0
    for f in fake_outs:
        loss = loss + torch.mean((1.0 - f) ** 2)
    return loss


def feature_loss(real_fmaps, fake_fmaps):
    loss = 0.0
    for rs, fs in zip(real_fmaps, fake_fmaps):
        for r, f in zip(rs, fs):
            loss = loss + torch.mean(torch.abs(r.detach() - f))
    return loss


def build_generator(mag_clamp: float = 1000.0):
    return VocosGenerator(mag_clamp=mag_clamp)


GENERATOR_HPARAMS = {"type": "vocos", "dim": 256, "intermediate": 768, "layers": 8,
                     "kernel": 7, "head": "linear -> log|S| (exp, clamped <= 1000) and phase -> torch.istft(center=True, length=T*hop)"}

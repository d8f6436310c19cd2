"""MCD-DTW and F0 of synthetic speech against a real recording of the same words.

The analysis of docs/tts-quality.md, shared by the TTS evaluation (models.acoustic.evaluate_tts)
and the cloning evaluation (models.speaker.evaluate_cloning):  both signals at 16 kHz mono,
trimmed at both ends by one rule (trim), cepstra c1..c24 of a 40-band HTK mel analysis
(25 ms Hamming, 5 ms hop, 0-7 kHz), symmetric DTW on c1..c13, then along the path the
mel-cepstral distortion (dB) and the F0 error (YIN) on frames voiced in both.
"""
import math

import numpy as np
from scipy.signal import resample_poly

from models.common.audio import resample, trim as trim_frames
from models.common.mel import htk_filterbank
from models.common.pitch import yin

SR = 16000          # analysis and recogniser rate
HOP = 80            # 5 ms
WIN = 400           # 25 ms
NFFT = 512
N_MELS = 40
FMAX = 7000.0       # G.722 passband
FLOOR_DB = 60.0     # mel power floored this far below the utterance's loudest band-frame
TRIM_DB = 40.0      # end trimming: 10 ms frames quieter than this below the loudest are cut


def to16k(x, sr):
    """float64 at the analysis rate."""
    return resample(x, sr, SR)


def to16k_band(x, sr, narrow):
    """to16k, and for a telephone-band target (narrow) through 8 kHz as well, so that synthetic
    speech is compared in the band the real recording has."""
    y = to16k(x, sr)
    if narrow:
        y = resample_poly(resample_poly(y, 1, 2), 2, 1)
    return y


def trim(x, db=TRIM_DB):
    """The one end-trimming rule for all: drop the leading and trailing 10 ms
    frames whose RMS is more than `db` below the loudest frame's."""
    return trim_frames(x, SR, -db, margin=0.0, frame=SR // 100, floor=1e-20)


FB = htk_filterbank(SR, NFFT, N_MELS, 0.0, FMAX)  # 40 HTK triangles, 0-7 kHz
# Cepstrum of the log *amplitude* on the mel axis, scaled as a true cepstrum,
# ln|X(w~)| = c0 + 2 sum_k c_k cos(k w~) at the band centres w~_n = pi (n + 1/2) / N:
# c_k = 1/(2N) sum_n ln(E_n) cos(pi k (n + 1/2) / N), E_n the band's power.
# (An orthonormal DCT-II of ln E_n is 2 sqrt(2N) times larger.)
_n = np.arange(N_MELS)
DCT = np.cos(np.pi / N_MELS * np.arange(25)[:, None] * (_n[None, :] + 0.5)) / (2.0 * N_MELS)  # rows c0..c24
HAMMING = np.hamming(WIN + 1)[:-1]


def cepstra(x):
    """[T, 24] c1..c24; frame t centred on sample t*HOP (T = 1 + len//HOP)."""
    pad = NFFT // 2
    xp = np.pad(np.asarray(x, np.float64), (pad, pad), mode="reflect")
    T = 1 + len(x) // HOP
    idx = np.arange(T)[:, None] * HOP + (NFFT - WIN) // 2 + np.arange(WIN)[None, :]
    frames = xp[idx] * HAMMING
    P = np.abs(np.fft.rfft(frames, NFFT, axis=1)) ** 2          # [T, 257]
    M = P @ FB.T                                                # [T, 40]
    M = np.maximum(M, M.max() * 10.0 ** (-FLOOR_DB / 10.0) + 1e-30)
    return np.log(M) @ DCT.T[:, 1:]                             # [T, 24]


def f0_track(x):
    """YIN (models.common.pitch) on 16 kHz: 40 ms frames, 5 ms hop, 60-500 Hz."""
    f0, v = yin(np.asarray(x, np.float64), sr=SR, frame=640, hop=HOP, fmin=60.0, fmax=500.0)
    return f0, v


def dtw(a, b):
    """Symmetric DTW (steps (1,0), (0,1), (1,1), each cell's cost counted once)
    of Euclidean frame distances; returns the path as two index arrays."""
    cost = np.sqrt(np.maximum(0.0, (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T))
    n, m = cost.shape
    D = np.empty((n, m))
    from_left = np.zeros((n, m), dtype=bool)
    diag = np.zeros((n, m), dtype=bool)
    S = np.cumsum(cost[0])
    D[0] = S
    from_left[0, 1:] = True
    for i in range(1, n):
        up, dg = D[i - 1], np.concatenate(([np.inf], D[i - 1][:-1]))
        take_diag = dg < up
        A = cost[i] + np.where(take_diag, dg, up)   # arriving from the row above
        S = np.cumsum(cost[i])
        R = A - S
        run = np.minimum.accumulate(R)
        D[i] = S + run
        from_left[i] = R > run            # the minimum was reached earlier in the row
        diag[i] = take_diag
    i, j = n - 1, m - 1
    pi, pj = [i], [j]
    while i > 0 or j > 0:
        if i == 0 or (j > 0 and from_left[i, j]):
            j -= 1
        elif j > 0 and diag[i, j]:
            i, j = i - 1, j - 1
        else:
            i -= 1
        pi.append(i)
        pj.append(j)
    return np.array(pi[::-1]), np.array(pj[::-1])


K_MCD = 10.0 / math.log(10.0) * math.sqrt(2.0)


class Analysis:
    def __init__(self, x):
        self.x = x
        self.c = cepstra(x)
        self.f0, self.voiced = f0_track(x)
        n = min(len(self.c), len(self.f0))
        self.c, self.f0, self.voiced = self.c[:n], self.f0[:n], self.voiced[:n]


def compare(real, syn):
    pi, pj = dtw(real.c[:, :13], syn.c[:, :13])
    d = real.c[pi] - syn.c[pj]
    mcd13 = float(np.mean(K_MCD * np.sqrt((d[:, :13] ** 2).sum(1))))
    mcd24 = float(np.mean(K_MCD * np.sqrt((d ** 2).sum(1))))
    both = real.voiced[pi] & syn.voiced[pj]
    fr, fs = real.f0[pi][both], syn.f0[pj][both]
    if both.any():
        hz = float(np.sqrt(np.mean((fs - fr) ** 2)))
        cents = 1200.0 * np.log2(fs / fr)
        ct = float(np.sqrt(np.mean(cents ** 2)))
        ct_shape = float(np.std(cents))  # after removing the mean offset
        offset = float(np.mean(cents))
    else:
        hz = ct = ct_shape = offset = float("nan")
    return {"mcd13": mcd13, "mcd24": mcd24, "f0_rmse_hz": hz, "f0_rmse_cents": ct,
            "f0_rmse_cents_meanfree": ct_shape, "f0_offset_cents": offset,
            "voiced_pairs": int(both.sum()), "path": int(len(pi)),
            "dur_ratio": len(syn.x) / max(1, len(real.x))}

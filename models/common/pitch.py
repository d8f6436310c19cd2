"""YIN fundamental frequency (de Cheveigné & Kawahara 2002), as the evaluations measure F0."""
import numpy as np


def yin(x, sr=22050, frame=1024, hop=256, fmin=60.0, fmax=500.0, thresh=0.15, rms_db=-40.0):
    """F0 (Hz, 0 where unvoiced) and voicing of frames every `hop` samples, each `frame` samples
    centred on t * hop: the first dip of the cumulative-mean-normalised difference below `thresh`
    between fmin and fmax, refined to its minimum and by a parabola; frames more than -rms_db
    below the loudest are unvoiced.  The defaults are the vocoder front-end's rate and hop."""
    x = np.asarray(x, dtype=np.float64)
    x = np.pad(x, (frame // 2, frame // 2))
    n = 1 + (len(x) - frame) // hop
    fr = np.lib.stride_tricks.as_strided(x, (n, frame), (x.strides[0] * hop, x.strides[0]))
    tmax = int(sr / fmin)
    tmin = int(sr / fmax)
    W = frame - tmax
    d = np.zeros((n, tmax + 1))
    a = fr[:, :W]
    for t in range(1, tmax + 1):
        d[:, t] = np.sum((a - fr[:, t:t + W]) ** 2, axis=1)
    cum = np.cumsum(d[:, 1:], axis=1) / np.arange(1, tmax + 1)
    dn = np.ones_like(d)
    dn[:, 1:] = d[:, 1:] / (cum + 1e-12)
    f0 = np.zeros(n)
    voiced = np.zeros(n, dtype=bool)
    rms = np.sqrt(np.mean(fr ** 2, axis=1) + 1e-12)
    loud = 20 * np.log10(rms / (rms.max() + 1e-12)) > rms_db
    for i in range(n):
        seg = dn[i, tmin:]
        below = np.nonzero(seg < thresh)[0]
        if len(below) == 0 or not loud[i]:
            continue
        t = below[0]
        while t + 1 < len(seg) and seg[t + 1] < seg[t]:
            t += 1
        tau = t + tmin
        if 1 <= tau < tmax:  # parabolic interpolation
            y0, y1, y2 = dn[i, tau - 1], dn[i, tau], dn[i, tau + 1]
            den = y0 - 2 * y1 + y2
            tau = tau + (0.5 * (y0 - y2) / den if abs(den) > 1e-12 else 0.0)
        f0[i] = sr / tau
        voiced[i] = True
    return f0, voiced

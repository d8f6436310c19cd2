"""Audio in and out for the recipes: ffmpeg decoding, resampling, end trimming and WAV files."""
import math
import subprocess

import numpy as np

SR = 22050  # the rate of the models' front-end (models.common.mel.CFG.sample_rate)


def probe_rate(path):
    """The sample rate of the file's first audio stream (ffprobe)."""
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                        "stream=sample_rate", "-of", "csv=p=0", path],
                       capture_output=True, text=True, check=True)
    return int(r.stdout.strip().split()[0])


def decode(path, sr=SR, float_samples=False):
    """Any file ffmpeg reads -> float32 mono at sr (None: the file's own rate, from ffprobe).

    Raw G.722 (.g722, 16 kHz) and GSM 06.10 (.gsm, 8 kHz) are named to ffmpeg by their
    extension.  ffmpeg hands over 16-bit samples, or with float_samples its float samples
    (no rounding to 16 bits)."""
    if sr is None:
        sr = probe_rate(path)
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-threads", "1"]
    if path.endswith(".g722"):
        cmd += ["-f", "g722"]
    elif path.endswith(".gsm"):
        cmd += ["-f", "gsm"]
    cmd += ["-i", path, "-ac", "1", "-ar", str(sr), "-f", "f32le" if float_samples else "s16le", "-"]
    raw = subprocess.run(cmd, check=True, stdout=subprocess.PIPE).stdout
    if float_samples:
        return np.frombuffer(raw, dtype="<f4").astype(np.float32)
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def resample(x, rate, to):
    """x at `rate` Hz -> float64 at `to` Hz (scipy's polyphase resample_poly)."""
    from scipy.signal import resample_poly
    x = np.asarray(x, dtype=np.float64)
    if rate == to:
        return x
    g = math.gcd(int(rate), int(to))
    return resample_poly(x, int(to) // g, int(rate) // g)


def trim(x, sr=SR, thresh_db=-45.0, margin=0.1, frame=256, floor=1e-12):
    """Cut the leading and trailing frames of `frame` samples whose RMS is more than -thresh_db
    below the loudest frame's, keeping `margin` seconds more on each side.  `floor` is added to
    each frame's mean square and to the loudest RMS, so that digital silence has a level.
    Nothing loud enough: empty; fewer than two frames: x as it is."""
    n = len(x) // frame
    if n < 2:
        return x
    e = np.sqrt(np.mean(np.asarray(x[: n * frame]).reshape(n, frame) ** 2, axis=1) + floor)
    db = 20 * np.log10(e / (np.max(e) + floor))
    idx = np.nonzero(db > thresh_db)[0]
    if len(idx) == 0:
        return x[:0]
    m = int(margin * sr)
    a = max(0, idx[0] * frame - m)
    b = min(len(x), (idx[-1] + 1) * frame + m)
    return x[a:b]


def read_wav(path):
    """A WAV file -> (float32 mono in [-1, 1], rate); channels are averaged."""
    import scipy.io.wavfile as wf
    sr, x = wf.read(path)
    if x.ndim > 1:
        x = x.mean(axis=1)
    if x.dtype == np.int16:
        x = x.astype(np.float32) / 32768.0
    elif x.dtype == np.int32:
        x = x.astype(np.float32) / 2147483648.0
    elif x.dtype == np.uint8:
        x = (x.astype(np.float32) - 128.0) / 128.0
    return x.astype(np.float32), int(sr)


def write_wav(path, x, sr):
    """Float samples -> a 16-bit mono WAV file (clipped to full scale)."""
    import scipy.io.wavfile as wf
    wf.write(path, sr, (np.clip(np.asarray(x, np.float64), -1, 1) * 32767).astype(np.int16))

"""What the integration tests share: where the sources and the tiny test
models are, the ganvoice-dub arguments that use those models, a WAV
writer, a film's cues in groups, and the dub track decoded. Imported by the
test scripts beside it (their folder is on sys.path when they run) and by
the studio's tests."""
import os
import sys
import wave

import numpy as np

SOURCE = os.environ.get("GANVOICE_SOURCE_DIR",
                        os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(SOURCE, "tests", "models")


def tool_path(env):
    """The command under test: the script's first argument (taken off
    sys.argv so that unittest does not see it), else $@env."""
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        return os.path.abspath(sys.argv.pop(1))
    return os.environ.get(env)


def dub_path():
    """The ganvoice-dub under test (tool_path), else $GANVOICE_DUB."""
    return tool_path("GANVOICE_DUB")


def tiny_model_args(voice="ben"):
    """ganvoice-dub's arguments for the tiny test models, in English."""
    return ["--acoustic-model", os.path.join(MODELS, "tiny-acoustic.ts"),
            "--vocoder-model", os.path.join(MODELS, "tiny-vocoder.ts"),
            "--voice", voice, "--lang", "en", "--quiet"]


def write_wav(path, x, rate):
    """Mono float samples to a 16-bit WAV file (clipped to full scale)."""
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def tiny_model_dir(root):
    """ROOT/models laid out as GANVOICE_MODEL_DIR wants it, the tiny test
    models standing in for the shipped ones (with the card's library
    voices); its path."""
    models = os.path.join(root, "models")
    for kind, name in (("acoustic", "tiny-acoustic"), ("vocoder", "tiny-vocoder")):
        os.makedirs(os.path.join(models, kind))
        for ext in ("ts", "json"):
            os.symlink(os.path.join(MODELS, "%s.%s" % (name, ext)),
                       os.path.join(models, kind, "%s.%s" % (kind, ext)))
    os.symlink(os.path.join(MODELS, "voices"), os.path.join(models, "acoustic", "voices"))
    return models


def grouped_cues(duration):
    """Groups of 3 to 5 cues (1.5 s long, 1 s apart) with 7 s gaps
    between the groups, over DURATION seconds: (start, end, text)."""
    cues, t, n = [], 1.0, 0
    words = ["Hello there.", "Where are you going?", "Not far from here.",
             "Come back soon.", "It is late already."]
    while t < duration - 4.0:
        for _ in range(3 + n % 3):
            if t + 1.5 > duration - 1.0:
                break
            cues.append((t, t + 1.5, words[n % len(words)]))
            n += 1
            t += 2.5
        t += 7.0
    return cues


def srt_text(cues):
    def ts(t):
        ms = int(round(t * 1000))
        return "%02d:%02d:%02d,%03d" % (ms // 3600000, ms // 60000 % 60, ms // 1000 % 60, ms % 1000)
    return "".join("%d\n%s --> %s\n%s\n\n" % (i + 1, ts(a), ts(b), text)
                   for i, (a, b, text) in enumerate(cues))


def pull_samples(description):
    """Every Gst.Sample that reaches the appsink "s" of a gst-launch
    description; AssertionError on a pipeline error."""
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)
    pipeline = Gst.parse_launch(description)
    sink = pipeline.get_by_name("s")
    pipeline.set_state(Gst.State.PLAYING)
    samples = []
    while True:
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        samples.append(sample)
    msg = pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if msg:
        raise AssertionError("pipeline error: %s" % msg.parse_error()[0].message)
    return samples


def pull(description):
    """(pts, bytes) of every buffer that pull_samples() gets."""
    from gi.repository import Gst
    out = []
    for sample in pull_samples(description):
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        out.append((buf.pts, bytes(info.data)))
        buf.unmap(info)
    return out


def decode_dub(path):
    """The first audio track of a Matroska/WebM file (the dub), decoded to
    F32 stereo 48 kHz: [frames, 2]."""
    chunks = pull("filesrc location=%s ! matroskademux name=d d.audio_0 ! queue ! "
                  "decodebin ! audioconvert ! "
                  "audio/x-raw,format=F32LE,rate=48000,channels=2,layout=interleaved ! "
                  "appsink name=s sync=false" % path)
    return np.frombuffer(b"".join(c for _, c in chunks), dtype=np.float32).reshape(-1, 2)

"""What the integration tests share: where the sources and the tiny test
models are, the ganvoice-dub arguments that use those models, and a WAV
writer. Imported by the test scripts beside it (their folder is on
sys.path when they run)."""
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

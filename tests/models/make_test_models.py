#!/usr/bin/python3
"""Generates the tiny models the tests use (no training: seeded weights).

  /usr/bin/python3 tests/models/make_test_models.py tests/models

tiny-vocoder.ts: log-mel [1, 8, T] -> audio [1, T*16], two convolutions
(receptive field +-2 frames), with the card tiny-vocoder.json. Tests derive
broken variants (wrong hop, wrong n_mels, corrupt bytes) from these.
"""
import json
import os
import sys

import torch
from torch import nn

N_MELS = 8
HOP = 16


class TinyVocoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.pre = nn.Conv1d(N_MELS, 16, 3, padding=1)
        self.post = nn.Conv1d(16, HOP, 3, padding=1)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = torch.tanh(self.pre(mel))
        x = torch.tanh(self.post(x))                  # [1, HOP, T]
        return x.transpose(1, 2).reshape(mel.shape[0], -1)


# (Nothing above this line should move: TinyVocoder's source lines are saved
# in tiny-vocoder.ts, and only its weights and code should change it.)
from typing import Tuple  # noqa: E402  (here, so that the lines above stay put)
#
# tiny-acoustic.ts: the acoustic model contract of docs/models.md (methods
# durations() and decode()), on the tiny vocoder's mel front-end, with four
# voices in tiny-acoustic.json. Phoneme vectors are an embedding plus a
# speaker projection; durations are softplus(linear) + 1 frames; decode
# repeats each phoneme's vector for its frames, a convolution makes 8 mels,
# and pitch_shift adds 0.1 per semitone. tiny-acoustic-broken.ts breaks the
# contract (durations() of the wrong shape), for the error tests.

# id = index. "_" pads; ASCII letters; the IPA espeak-ng writes for en and
# es; word break, pauses, stress and length marks.
PHONEMES = (["_", " ", ",", ".", "?", "ˈ", "ˌ", "ː"] +
            [chr(c) for c in range(ord("a"), ord("z") + 1)] +
            list("əɪʊɛæʌɔɑɒɜɐᵻɚɾʃʒθðŋɹɡɲʎβɣʝʔɫɨ"))
EMBED_DIM = 4
HIDDEN = 8
VOICES = [("ana", "es", "female"), ("ben", "en", "male"),
          ("chloe", "en", "female"), ("dmitri", "es", "male")]


class TinyAcoustic(nn.Module):
    def __init__(self):
        super().__init__()
        # The contract's attributes: the runtime checks them against the
        # card before it runs anything (out-of-range ids are not caught by
        # Torch's embedding on all paths).
        self.n_phonemes = len(PHONEMES)
        self.speaker_embedding_dim = EMBED_DIM
        self.embed = nn.Embedding(len(PHONEMES), HIDDEN)
        self.speaker = nn.Linear(EMBED_DIM, HIDDEN)
        self.dur = nn.Linear(HIDDEN, 1)
        self.post = nn.Conv1d(HIDDEN, N_MELS, 3, padding=1)
        self.pitch = nn.Linear(HIDDEN, 1)  # made last: the others keep their seeded weights

    def encode(self, ids: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.embed(ids) + self.speaker(speaker).unsqueeze(1))

    @torch.jit.export
    def durations(self, ids: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        h = self.encode(ids, speaker)                 # [1, N, HIDDEN]
        return nn.functional.softplus(self.dur(h)).squeeze(2) + 1.0

    @torch.jit.export
    def decode(self, ids: torch.Tensor, speaker: torch.Tensor,
               frames: torch.Tensor, pitch_shift: float) -> torch.Tensor:
        h = self.encode(ids, speaker)[0]              # [N, HIDDEN]
        x = torch.repeat_interleave(h, frames[0], dim=0)
        x = x.transpose(0, 1).unsqueeze(0)            # [1, HIDDEN, T]
        return torch.tanh(self.post(x)) * 2.0 - 5.0 + 0.1 * pitch_shift

    @torch.jit.export
    def forward_train(self, ids: torch.Tensor, id_mask: torch.Tensor, speaker: torch.Tensor,
                      frames: torch.Tensor, phone_f0: torch.Tensor, T: int,
                      mel_mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The fine-tuning contract: teacher-forced log-mel [B, 8, T], log(1 + frames) [B, N] and
        normalised log-F0 [B, N] predicted."""
        h = self.encode(ids, speaker) * id_mask.transpose(1, 2)   # [B, N, HIDDEN]
        log_dur = torch.log1p(nn.functional.softplus(self.dur(h)).squeeze(2) + 1.0) * id_mask[:, 0]
        f0 = self.pitch(h).squeeze(2) * id_mask[:, 0]
        B, N = ids.shape
        ends = torch.cumsum(frames, 1)
        t = torch.arange(T)[None, :].expand(B, T).contiguous()
        idx = torch.searchsorted(ends, t, right=True).clamp(max=N - 1)
        x = torch.gather(h + phone_f0[:, :, None] * 0.1, 1, idx[:, :, None].expand(B, T, h.shape[2]))
        mel = torch.tanh(self.post(x.transpose(1, 2))) * 2.0 - 5.0
        return mel * mel_mask - 11.5129 * (1.0 - mel_mask), log_dur, f0


class TinyAcousticBroken(TinyAcoustic):
    """Breaks the contract: durations() gives [1, N, 1]."""

    @torch.jit.export
    def durations(self, ids: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:
        h = self.encode(ids, speaker)
        return nn.functional.softplus(self.dur(h)) + 1.0


# The mel front-end both tiny models share (the runtime checks they match).
MEL_FRONT_END = {
    "sample_rate": 16000,
    "n_fft": 64,
    "hop": HOP,
    "win": 64,
    "n_mels": N_MELS,
    "fmin": 0.0,
    "fmax": 8000.0,
    "mel": {"scale": "slaney", "norm": "slaney", "clamp": 1e-5},
}


# tiny-speaker.ts: the speaker encoder contract (docs/cloning.md): [1, N]
# audio at 16 kHz in, one unit vector of SPEAKER_DIM numbers out. Frames
# of 400 samples, their log spectrum in 8 bands, a linear layer, the mean
# over frames, normalised. tiny-speaker.json describes the tiny acoustic
# model's voices.
SPEAKER_DIM = 6


class TinySpeaker(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, SPEAKER_DIM)

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        n = wav.shape[1] // 400
        frames = wav[:, : n * 400].reshape(wav.shape[0], n, 400)
        spec = torch.fft.rfft(frames, dim=-1).abs()[:, :, :200]   # [B, n, 200]
        bands = torch.log(spec.reshape(wav.shape[0], n, 8, 25).mean(-1) + 1e-5)
        e = self.proj(bands).mean(1)
        return e / torch.linalg.norm(e, dim=1, keepdim=True).clamp(min=1e-6)


def make_speaker(out_dir):
    torch.manual_seed(91011)
    torch.jit.script(TinySpeaker().eval()).save(os.path.join(out_dir, "tiny-speaker.ts"))
    voices = []
    for name, language, gender in VOICES:
        e = torch.randn(SPEAKER_DIM)
        e = e / e.norm()
        voices.append({"name": name, "language": language, "gender": gender,
                       "embedding": [round(float(v), 4) for v in e]})
    card = {
        "name": "tiny-speaker",
        "kind": "speaker",
        "version": "1",
        "sample_rate": 16000, "n_fft": 400, "hop": 400, "n_mels": 8,
        "fmin": 0.0, "fmax": 8000.0,
        "speaker_embedding_dim": SPEAKER_DIM,
        "acoustic_model": "tiny-acoustic",
        "blend_temperature": 0.1,
        "voices": voices,
        "inputs": [{"name": "audio", "shape": [1, "samples"], "dtype": "float32"}],
        "outputs": [{"name": "embedding", "shape": [1, SPEAKER_DIM], "dtype": "float32"}],
        "training_data": "none: seeded random weights, for tests only",
    }
    with open(os.path.join(out_dir, "tiny-speaker.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")


# tiny-vocoder-loud.ts: tiny-vocoder with its output doubled, so that it
# peaks past full scale (the speech ceiling tests); its card is
# tiny-vocoder.json.


class TinyLoudVocoder(nn.Module):
    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return 2.0 * self.inner(mel)


# A voice of the voice library (models/acoustic/voice_library.py) in the tiny
# card: "eve", whose "profile" (voices/eve.json, beside the card) carries an
# acoustic delta, so that she speaks with longer durations and a brighter mel
# than her embedding alone would. The delta's base SHA-256 is left empty
# (unchecked), so that a change to TinyAcoustic does not need the profile
# made again.
LIBRARY_VOICE = ("eve", "en", "female")


def add_library_voice(out_dir):
    import base64
    import struct
    torch.manual_seed(4242)
    name, language, gender = LIBRARY_VOICE
    embedding = [round(float(v), 4) for v in torch.randn(EMBED_DIM)]

    def add(tensor, shape, value):
        n = 1
        for d in shape:
            n *= d
        data = struct.pack("<%df" % n, *([value] * n))
        return {"name": tensor, "kind": "add", "shape": list(shape),
                "data": base64.b64encode(data).decode("ascii")}

    delta = {"format": "ganvoice-acoustic-delta", "version": 1,
             "base": {"name": "tiny-acoustic", "sha256": ""},
             "tensors": [add("dur.bias", [1], 1.0), add("post.bias", [N_MELS], 0.3)]}
    profile = {"format": "ganvoice-voice-profile", "version": 2, "name": name,
               "language": language, "gender": gender, "model": "tiny-acoustic",
               "embedding": embedding, "acoustic_delta": delta}
    os.makedirs(os.path.join(out_dir, "voices"), exist_ok=True)
    with open(os.path.join(out_dir, "voices", name + ".json"), "w") as f:
        json.dump(profile, f, indent=2)
        f.write("\n")
    path = os.path.join(out_dir, "tiny-acoustic.json")
    card = json.load(open(path, encoding="utf-8"))
    card["voices"].append({"name": name, "language": language, "gender": gender,
                           "profile": "voices/%s.json" % name, "embedding": embedding})
    with open(path, "w") as f:
        json.dump(card, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main(out_dir):
    torch.manual_seed(1234)
    model = TinyVocoder().eval()
    scripted = torch.jit.script(model)
    scripted.save(os.path.join(out_dir, "tiny-vocoder.ts"))
    card = {
        "name": "tiny-vocoder",
        "kind": "vocoder",
        "version": "1",
        **MEL_FRONT_END,
        "f0_input": False,
        "inputs": [{"name": "mel", "shape": [1, N_MELS, "frames"], "dtype": "float32"}],
        "outputs": [{"name": "audio", "shape": [1, "frames*16"], "dtype": "float32"}],
        "training_data": "none: seeded random weights, for tests only",
    }
    with open(os.path.join(out_dir, "tiny-vocoder.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    torch.jit.script(TinyLoudVocoder(model).eval()).save(
        os.path.join(out_dir, "tiny-vocoder-loud.ts"))

    torch.manual_seed(5678)
    acoustic = torch.jit.script(TinyAcoustic().eval())
    acoustic.save(os.path.join(out_dir, "tiny-acoustic.ts"))
    voices = []
    for name, language, gender in VOICES:
        embedding = [round(float(v), 4) for v in torch.randn(EMBED_DIM)]
        voices.append({"name": name, "language": language, "gender": gender,
                       "embedding": embedding})
    card = {
        "name": "tiny-acoustic",
        "kind": "acoustic",
        "version": "1",
        **MEL_FRONT_END,
        "phonemes": PHONEMES,
        "speaker_embedding_dim": EMBED_DIM,
        "voices": voices,
        "inputs": [{"name": "ids", "shape": [1, "N"], "dtype": "int64"},
                   {"name": "speaker", "shape": [1, EMBED_DIM], "dtype": "float32"},
                   {"name": "frames", "shape": [1, "N"], "dtype": "int64"},
                   {"name": "pitch_shift", "shape": [], "dtype": "float"}],
        "outputs": [{"name": "durations", "shape": [1, "N"], "dtype": "float32"},
                    {"name": "mel", "shape": [1, N_MELS, "sum(frames)"], "dtype": "float32"}],
        "training_data": "none: seeded random weights, for tests only",
        "f0_normalisation": {"log_f0_mean": 5.0, "log_f0_std": 0.3},
        "fine_tune": {"method": "forward_train", "low_rank": ["post."], "full": ["post.", "speaker.", "dur.", "pitch."],
                      "zero_frame_phonemes": ["ˈ", "ˌ", "ː"], "embedding": "embed.weight"},
    }
    with open(os.path.join(out_dir, "tiny-acoustic.json"), "w") as f:
        json.dump(card, f, indent=2, ensure_ascii=False)
        f.write("\n")

    # Uses tiny-acoustic.json as its card.
    torch.manual_seed(5678)
    broken = torch.jit.script(TinyAcousticBroken().eval())
    broken.save(os.path.join(out_dir, "tiny-acoustic-broken.ts"))

    make_speaker(out_dir)
    add_library_voice(out_dir)


if __name__ == "__main__":
    # TorchScript writes a module's constants in string-hash order: fix the
    # hash seed so that a rerun in the same checkout gives identical files.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))

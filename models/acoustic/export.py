"""Export the trained acoustic model to TorchScript plus its model card.

  /usr/bin/python3 -m models.acoustic.export [--ckpt /var/tmp/ganvoice/acoustic/ckpt/last.pt]
      [--data /var/tmp/ganvoice/acoustic/dataset.pt] [--out models/acoustic]

Writes acoustic.ts (scripted, not frozen: the runtime freezes it at load)
and acoustic.json (docs/models.md).  The aligner and the training speaker
table stay behind; each built-in voice is its speaker's row of that table,
written into the card.  Gender comes from the speaker's median F0.
"""
import argparse
import json
import os

import torch

from models.acoustic.align import ZERO_FRAME_SYMBOLS
from models.acoustic.model import AcousticModel
from models.common.files import file_digest

HERE = os.path.dirname(os.path.abspath(__file__))

# training speaker -> (voice name, language for the card, attribution)
VOICES = {
    "allison": ("allison", "en-us", "Allison Smith (asterisk-core-sounds-en-g722)"),
    "allison-es": ("allison-es", "es-419", "Allison Smith (asterisk-core-sounds-es-g722)"),
    "june": ("june", "fr", "June Wallack (asterisk-core-sounds-fr-g722)"),
    "carlo": ("carlo", "it", "Carlo Flora (asterisk-core-sounds-it-g722)"),
    "ivrvoice": ("ivrvoice", "ru", "ivrvoice.ru (asterisk-core-sounds-ru-g722)"),
    "nl-small": ("small-fish", "nl", "Fish Fillets NG Dutch dub, small fish (fillets-ng-data-nl)"),
    "nl-big": ("big-fish", "nl", "Fish Fillets NG Dutch dub, big fish (fillets-ng-data-nl)"),
}
ORDER = ["allison", "june", "carlo", "allison-es", "ivrvoice", "nl-big", "nl-small"]

TRAINING_DATA = [
    {"package": "asterisk-core-sounds-en-g722 1.6.1-1", "transcripts": "asterisk-core-sounds-en 1.6.1-1",
     "language": "en-US", "speaker": "Allison Smith (f)", "licence": "CC-BY-SA-3.0",
     "attribution": "Allison Smith; Digium, Inc.", "note": "conf-* prompts held out"},
    {"package": "asterisk-core-sounds-es-g722 1.6.1-1", "transcripts": "asterisk-core-sounds-es 1.6.1-1",
     "language": "es-MX", "speaker": "Allison Smith (f)", "licence": "CC-BY-SA-3.0",
     "attribution": "Digium, Inc."},
    {"package": "asterisk-core-sounds-fr-g722 1.6.1-1", "transcripts": "asterisk-core-sounds-fr 1.6.1-1",
     "language": "fr-CA", "speaker": "June Wallack (f)", "licence": "CC-BY-SA-3.0",
     "attribution": "June Wallack; transl. Clod Patry, Kristopher Lalletti; Digium, Unlimitel, BGM Informatique"},
    {"package": "asterisk-core-sounds-it-g722 1.6.1-1", "transcripts": "asterisk-core-sounds-it 1.6.1-1",
     "language": "it-IT", "speaker": "Carlo Flora (m)", "licence": "CC-BY-3.0",
     "attribution": "Carlo Flora; transl. Silvia Petrin"},
    {"package": "asterisk-core-sounds-ru-g722 1.6.1-1", "transcripts": "asterisk-core-sounds-ru 1.6.1-1",
     "language": "ru-RU", "speaker": "ivrvoice.ru (f)", "licence": "CC-BY-3.0",
     "attribution": "Maxim Topal (ivrvoice.ru)"},
    {"package": "fillets-ng-data-nl 1.0.1-1.1", "transcripts": "fillets-ng-data 1.0.1-1.1 script/*/dialogs_nl.lua",
     "language": "nl", "speaker": "the two fish of the Dutch dub", "licence": "GPL-2",
     "attribution": "Fish Fillets NG: Ivo & Pavel Danihelka, ALTAR interactive and contributors; Dutch dub"},
]
# What fine-tuning (models/acoustic/finetune.py, the C++ VoiceFineTuner) may change: low-rank updates of
# these convolutions (kernel > 1), full updates of the other tensors under these prefixes.
FINE_TUNE = {"method": "forward_train",
             "low_rank": ["decoder.", "dur.blocks.", "pitch.blocks."],
             "full": ["decoder.", "dur.", "pitch.", "pitch_embed.", "pos.", "spk_enc.", "spk_dec.", "mel_out."],
             "zero_frame_phonemes": list(ZERO_FRAME_SYMBOLS),
             "embedding": "embed.weight"}  # gets rows for phonemes the model never heard
HELD_OUT = ["asterisk-prompt-es-co", "asterisk-prompt-fr-armelle", "asterisk-prompt-it-menardi(-wav)",
            "fillets-ng-data-cs", "pocketsphinx-testdata", "English asterisk prompts conf-*"]


def describe_fine_tuning(card):
    """The card's description of the exported training method (docs/models.md)."""
    e = card["speaker_embedding_dim"]
    card["inputs"] = [i for i in card["inputs"] if i["method"] != FINE_TUNE["method"]] + [
        {"method": "forward_train", "ids": "int64 [B, N]", "id_mask": "float32 [B, 1, N]",
         "speaker": f"float32 [B, {e}]", "frames": "int64 [B, N]",
         "phone_f0": "float32 [B, N] mean normalised log-F0 of each phoneme's voiced frames",
         "T": "int, frames", "mel_mask": "float32 [B, 1, T]"}]
    card["outputs"] = [o for o in card["outputs"] if o["method"] != FINE_TUNE["method"]] + [
        {"method": "forward_train", "shape": "(float32 [B, 80, T] log-mel, float32 [B, N] log(1 + frames), "
                                             "float32 [B, N] normalised log-F0)"}]
    card["fine_tune"] = FINE_TUNE


def check_same(scripted, reference, n_phonemes, spk):
    """The scripted model computes what the reference computes."""
    ids = torch.randint(0, n_phonemes, (1, 12))
    with torch.inference_mode():
        d = scripted.durations(ids, spk)
        frames = torch.clamp(torch.round(d), min=1).long()
        mel = scripted.decode(ids, spk, frames, 0.0)
        ref = reference.decode(ids, spk, frames, 0.0)
    assert mel.shape == (1, 80, int(frames.sum())), mel.shape
    assert torch.equal(mel, ref), "scripted and reference outputs differ"


def rebase_library_voices(card, card_path, old_sha, new_sha):
    """The voice library's profiles (models/acoustic/voice_library.py) name the SHA-256 of the model
    file they were fine-tuned from: the same weights in a new file get the new file's digest."""
    for v in card["voices"]:
        if "profile" not in v:
            continue
        path = os.path.join(os.path.dirname(card_path), v["profile"])
        profile = json.load(open(path, encoding="utf-8"))
        base = profile["acoustic_delta"].get("base", {})
        if base.get("sha256") == old_sha:
            base["sha256"] = new_sha
            with open(path, "w", encoding="utf-8") as fh:
                json.dump(profile, fh)
            print(f"{path}: now made from {new_sha[:12]} (the same weights)")


def reexport(ts_path, card_path):
    """Scripts the model again from the weights of an exported one (no checkpoint needed), so that
    it exports the methods of today's model.py; the card gains their description."""
    old = torch.jit.load(ts_path, map_location="cpu")
    state = {k: v.detach().clone() for k, v in old.state_dict().items()}
    model = AcousticModel(n_phonemes=state["embed.weight"].shape[0], n_speakers=state["speaker_table.weight"].shape[0],
                          speaker_dim=state["spk_enc.weight"].shape[1], hidden=state["embed.weight"].shape[1],
                          f0_mean=float(old.f0_mean), f0_std=float(old.f0_std))
    model.load_state_dict(state)
    model.eval()
    scripted = torch.jit.script(model)
    card = json.load(open(card_path, encoding="utf-8"))
    check_same(scripted, old, model.n_phonemes, torch.tensor([card["voices"][0]["embedding"]]))
    describe_fine_tuning(card)
    old_sha = file_digest(ts_path)
    tmp = ts_path + ".tmp"
    scripted.save(tmp)
    os.replace(tmp, ts_path)
    rebase_library_voices(card, card_path, old_sha, file_digest(ts_path))
    with open(card_path, "w", encoding="utf-8") as fh:
        json.dump(card, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    print(f"re-exported {ts_path} ({os.path.getsize(ts_path) / 1e6:.1f} MB) with", FINE_TUNE["method"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="/var/tmp/ganvoice/acoustic/ckpt/last.pt")
    ap.add_argument("--data", default="/var/tmp/ganvoice/acoustic/dataset.pt")
    ap.add_argument("--vocoder-card", default=os.path.join(HERE, "..", "vocoder", "vocoder.json"))
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--metrics", default=None, help="JSON file of metrics to put into the card")
    ap.add_argument("--from-ts", default=None,
                    help="re-export this TorchScript's weights (and update the card next to it) instead")
    a = ap.parse_args()
    if a.from_ts:
        reexport(a.from_ts, os.path.splitext(a.from_ts)[0] + ".json")
        return
    ck = torch.load(a.ckpt, map_location="cpu")
    hp = ck["hparams"]
    model = AcousticModel(**hp)
    model.load_state_dict(ck["model"])
    model.eval()
    data = torch.load(a.data)
    speakers = ck["speakers"]
    table = model.speaker_table.weight.detach()
    voices = []
    trained = ck.get("trained_speakers", speakers)
    for spk in ORDER:
        if spk not in trained:
            continue
        f0 = torch.cat([it["f0"].float() for it in data["items"] if it["speaker"] == spk])
        median = float(f0[f0 > 0].median())
        name, lang, who = VOICES[spk]
        voices.append({"name": name, "language": lang, "gender": "female" if median > 165.0 else "male",
                       "embedding": [round(float(v), 6) for v in table[speakers.index(spk)]],
                       "f0_median_hz": round(median, 1), "speaker": who})
    scripted = torch.jit.script(model)
    check_same(scripted, model, hp["n_phonemes"], table[:1])
    os.makedirs(a.out, exist_ok=True)
    ts = os.path.join(a.out, "acoustic.ts")
    scripted.save(ts)
    voc = json.load(open(a.vocoder_card))
    card = {
        "name": "ganvoice-acoustic", "kind": "acoustic", "version": "1", "file": "acoustic.ts",
        "format": "TorchScript (torch 1.13), scripted, not frozen",
        "architecture": "convolutional FastPitch-style: phoneme embedding, 4 conv encoder blocks, duration and "
                        "pitch predictors, pitch embedding, length regulator with position-in-phoneme features, "
                        "6 dilated conv decoder blocks; alignment learned by a RAD-TTS-style aligner with "
                        "monotonic alignment search (training only)",
        "parameters": sum(p.numel() for n, p in model.named_parameters() if not n.startswith("speaker_table")),
    }
    for k in ["sample_rate", "n_fft", "hop", "win", "n_mels", "fmin", "fmax"]:
        card[k] = voc[k]
    card["mel"] = {"scale": "slaney", "norm": "slaney", "clamp": 1e-5,
                   "formula": "the vocoder's front-end: ln(max(mel, 1e-5)), see vocoder.json"}
    card["phonemes"] = ck["phonemes"]
    card["phonemizer"] = "ganvoice-phonemize (the C++ text frontend on libespeak-ng)"
    card["speaker_embedding_dim"] = hp["speaker_dim"]
    card["voices"] = voices
    card["f0_normalisation"] = {"log_f0_mean": hp["f0_mean"], "log_f0_std": hp["f0_std"]}
    card["inputs"] = [
        {"method": "durations", "ids": "int64 [1, N]", "speaker": f"float32 [1, {hp['speaker_dim']}]"},
        {"method": "decode", "ids": "int64 [1, N]", "speaker": f"float32 [1, {hp['speaker_dim']}]",
         "frames": "int64 [1, N]", "pitch_shift": "float, semitones"}]
    card["outputs"] = [{"method": "durations", "shape": "float32 [1, N] frames per phoneme"},
                       {"method": "decode", "shape": "float32 [1, 80, sum(frames)] log-mel"}]
    describe_fine_tuning(card)
    card["training_data"] = [d for d in TRAINING_DATA
                             if not d["package"].startswith("fillets") or any(s.startswith("nl-") for s in trained)]
    left_out = sorted(set(speakers) - set(trained))
    if left_out:
        card["speakers_left_out"] = {"speakers": left_out,
                                     "why": "their recordings did not align with their transcripts "
                                            "(docs/acoustic.md); not trained on"}
    card["held_out"] = HELD_OUT
    card["training"] = {"steps": ck["step"], "seconds": round(ck["elapsed"]), "epochs": ck.get("epoch", 0),
                        "recipe": "models/acoustic (prepare_data.py, train.py, export.py)",
                        "utterances": ck.get("utterances"), "minutes": round(ck.get("minutes", 0.0), 1),
                        "alignment": "flat-start Viterbi (MAS) on per-speaker Gaussians, models/acoustic/align.py"}
    card["licence_note"] = ("Weights derived from CC-BY-SA-3.0, CC-BY-3.0 and GPL-2 recordings; keep the "
                            "attributions above.")
    if a.metrics:
        card["metrics"] = json.load(open(a.metrics))
    print("new weights: the voice library's voices are not in the new card; make them again with "
          "/usr/bin/python3 -m models.acoustic.voice_library")
    with open(os.path.join(a.out, "acoustic.json"), "w", encoding="utf-8") as fh:
        json.dump(card, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    print(f"wrote {ts} ({os.path.getsize(ts) / 1e6:.1f} MB) and acoustic.json; voices:",
          [(v["name"], v["language"], v["gender"], v["f0_median_hz"]) for v in voices])


if __name__ == "__main__":
    main()

"""Export the trained generator to TorchScript (models/vocoder/vocoder.ts) + model card.

  /usr/bin/python3 -m models.vocoder.export [--ckpt-dir /var/tmp/ganvoice/vocoder]

Run with Debian's torch (1.13) so that the C++ runtime (libtorch 1.13) can load it.
Input  : log-mel float32 [1, 80, frames]  (models/common/mel.py MelSpectrogram)
Output : waveform float32 [1, frames * 256], 22050 Hz
The card's "metrics" are filled in by evaluate_vocoder.py.
"""
import argparse
import json
import os

import torch

from models.common.mel import CFG, MEL_FORMULA, mel_filterbank
from models.vocoder.model import GENERATOR_HPARAMS, build_generator

HERE = os.path.dirname(os.path.abspath(__file__))

PACKAGES = {
    "asterisk-core-sounds-en-g722": {"version": "1.6.1-1", "language": "en-US", "speaker": "Allison Smith (female)",
                                     "licence": "CC-BY-SA-3.0",
                                     "attribution": "Recorded by Allison Smith (theivrvoice.com); financial contributions by Digium, Inc.",
                                     "excluded": "conf-* prompts (held out)"},
    "asterisk-core-sounds-es-g722": {"version": "1.6.1-1", "language": "es-MX", "licence": "CC-BY-SA-3.0",
                                     "attribution": "Asterisk core sounds, Digium, Inc. (debian/copyright: Files: * CC-BY-SA-3.0, Allison Smith)"},
    "asterisk-core-sounds-fr-g722": {"version": "1.6.1-1", "language": "fr-CA", "speaker": "June Wallack (female)",
                                     "licence": "CC-BY-SA-3.0",
                                     "attribution": "Recorded by June Wallack (junewallack.com); translated by Clod Patry, Kristopher Lalletti, June Wallack; financial contributions by Digium, Inc., Unlimitel, BGM Informatique"},
    "asterisk-core-sounds-it-g722": {"version": "1.6.1-1", "language": "it-IT", "licence": "CC-BY-3.0",
                                     "attribution": "Recorded by Carlo Flora (carloflora.com, segreterietelefoniche.it); translated by Silvia Petrin"},
    "asterisk-core-sounds-ru-g722": {"version": "1.6.1-1", "language": "ru-RU", "licence": "CC-BY-3.0",
                                     "attribution": "Provided by Maxim Topal (ivrvoice.ru)"},
    "fillets-ng-data": {"version": "1.0.1-1.1", "language": "en", "speaker": "many game characters (sound/*/en/*.ogg only; music and effects not used)",
                        "licence": "GPL-2 (debian/copyright: 'GNU GPL ... version 2 dated June, 1991')",
                        "attribution": "Fish Fillets NG: Ivo Danihelka, Pavel Danihelka, ALTAR interactive and contributors (Frederic Panico, Ronny Standtke, Simone Cociancich, Przemek Bojczuk)"},
    "fillets-ng-data-nl": {"version": "1.0.1-1.1", "language": "nl", "speaker": "many game characters",
                           "licence": "GPL-2 (same debian/copyright text as fillets-ng-data)",
                           "attribution": "Fish Fillets NG Dutch dialogue, fillets.sourceforge.net"},
}
# Mel-consistency post-filter (model.MelConsistencyFilter), chosen by evaluate_vocoder.py on the held-out
# sets (docs/vocoder.md, sweep_post_filter.py): 16 iterations with step 1.8 and momentum 0.5 gave the
# lowest MCD and F0 RMSE of the settings the speed targets allow. 10, not those 16: on the TTS
# evaluation (models/acoustic/evaluate_tts.py) 10 iterations changed MCD-DTW by +0.000 dB (paired 95 %
# interval -0.003..+0.004), F0 RMSE by +0.14 Hz (-0.06..+0.38) and WER not at all, for 6 fewer
# iterations per cue; 8 added 7 recogniser errors (docs/benchmarks.md, issue 18).
POST_ITERS = 10
POST_ALPHA = 1.8
POST_MAX_DB = 40.0
POST_MOMENTUM = 0.5
# Context a chunked caller should give each side: the generator sees 27 frames, and every
# post-filter iteration reaches 4 more (one n_fft analysis plus one synthesis window).
CONTEXT_FRAMES = 32
# Replicate-pad frames around the input inside the exported forward (no clicks at edges). 16, not
# the first export's 32: on 24 TTS sentences the output differs from 32's by at most 1.5e-5 inside
# and 9.4e-4 in the outer 32 frames (SNR >= 69 dB; 8 frames: 36 dB), and every cue vocodes 32 fewer
# frames through the generator and the post-filter (docs/benchmarks.md, issue 18).
EDGE_PAD = 16
HELDOUT = ["asterisk-prompt-es-co", "asterisk-prompt-fr-armelle", "asterisk-prompt-it-menardi(-wav)",
           "fillets-ng-data-cs", "pocketsphinx-testdata", "asterisk-core-sounds-en-g722: conf-*"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt-dir", default="/var/tmp/ganvoice/vocoder")
    ap.add_argument("--out", default=os.path.join(HERE, "vocoder.ts"))
    ap.add_argument("--card", default=os.path.join(HERE, "vocoder.json"))
    ap.add_argument("--from-ts", help="take the generator weights from this exported vocoder (and the training "
                    "record from --card) instead of --ckpt-dir, e.g. to change only the post-filter")
    ap.add_argument("--post-iters", type=int, default=POST_ITERS,
                    help="mel-consistency post-filter iterations (0: off)")
    ap.add_argument("--post-alpha", type=float, default=POST_ALPHA)
    ap.add_argument("--post-max-db", type=float, default=POST_MAX_DB)
    ap.add_argument("--post-momentum", type=float, default=POST_MOMENTUM)
    ap.add_argument("--edge-pad", type=int, default=EDGE_PAD, help="replicate-pad frames each side in forward()")
    a = ap.parse_args()
    torch.set_num_threads(1)
    G = build_generator()
    old = json.load(open(a.card)) if os.path.exists(a.card) else {}
    if a.from_ts:
        state = torch.jit.load(a.from_ts, map_location="cpu").state_dict()
        G.load_state_dict({k: v for k, v in state.items() if k in G.state_dict()})
        t = old["training"]
        meta = {"step": t["steps"], "batch": t["batch"], "seg": t["segment_samples"],
                "trained_s": t["train_seconds"], "device": t["device"], "torch": t["torch"]}
    else:
        G.load_state_dict(torch.load(os.path.join(a.ckpt_dir, "gen.pt"), map_location="cpu"))
        meta = json.load(open(os.path.join(a.ckpt_dir, "meta.json")))
    G.eval()
    G.edge_pad = a.edge_pad
    G.set_post_filter(mel_filterbank(CFG), a.post_iters, a.post_alpha, a.post_max_db, a.post_momentum)
    sm = torch.jit.script(G)
    # Saved unfrozen: the weights stay parameters, so train.py --init-shipped
    # can continue from the shipped file. The runtimes freeze at load.
    frozen = False
    sm.save(a.out)
    # check: reload and compare with eager
    ld = torch.jit.load(a.out)
    mel = torch.randn(1, CFG.n_mels, 50) * 2 - 6
    with torch.no_grad():
        d = (ld(mel) - G(mel)).abs().max().item()
        y = ld(mel)
    assert y.shape == (1, 50 * CFG.hop), y.shape
    print(f"saved {a.out} ({os.path.getsize(a.out) / 1e6:.1f} MB, frozen={frozen}), max |ts-eager| = {d:.2e}")

    nparam = sum(p.numel() for p in G.parameters())
    card = {
        "name": "ganvoice-vocos-22k",
        "kind": "vocoder",
        "version": "0.1.0",
        "file": "vocoder.ts",
        "format": f"TorchScript (torch.jit.script{' + torch.jit.freeze' if frozen else ''}), exported with torch {torch.__version__}",
        "architecture": dict(GENERATOR_HPARAMS, parameters=nparam, edge_pad_frames=a.edge_pad,
                             edge_pad_note=f"forward() replicate-pads the mel by {a.edge_pad} frames each side and trims the output; the generator's receptive field is 27 frames each side"),
        "post_filter": {"type": "mel-consistency", "iterations": a.post_iters, "alpha": a.post_alpha,
                        "max_db": a.post_max_db, "momentum": a.post_momentum,
                        "description": "inside forward(): the generator's waveform is re-analysed with the front-end below, and each iteration scales every STFT bin by alpha times the log-mel error of its bands (spread over the triangles, limited to +-max_db), then resynthesises by weighted overlap-add; phase and harmonic structure stay the generator's, bins above fmax are untouched (models/vocoder/model.py MelConsistencyFilter)"},
        "context_frames": CONTEXT_FRAMES,
        "chunk_method": {"name": "forward_chunk", "signature": "forward_chunk(mel, pad_start: bool, pad_end: bool) -> audio",
                         "description": "forward() is forward_chunk(mel, True, True). A streaming caller passes each chunk with context_frames of real context on its inner sides and pad_start/pad_end true only where the chunk touches the utterance's start/end, then trims the context from the output; this skips the edge padding at inner chunk boundaries"},
        "sample_rate": CFG.sample_rate, "hop": CFG.hop, "n_fft": CFG.n_fft, "win": CFG.win,
        "window": "hann (periodic)",
        "n_mels": CFG.n_mels, "fmin": CFG.fmin, "fmax": CFG.fmax,
        "mel": dict(MEL_FORMULA, scale="slaney", norm="slaney", log="natural", clamp=CFG.clamp,
                    magnitude_eps=CFG.mag_eps),
        "f0_input": False,
        "inputs": [{"name": "mel", "dtype": "float32", "shape": [1, CFG.n_mels, "frames"],
                    "description": "log-mel spectrogram as in 'mel' (natural log, clamp 1e-5)"}],
        "outputs": [{"name": "audio", "dtype": "float32", "shape": [1, "frames*256"],
                     "description": "waveform at 22050 Hz, nominally in [-1, 1] (not clipped)"}],
        "training": {
            "recipe": "models/vocoder/train.py (see docs/vocoder.md)",
            "steps": meta["step"], "batch": meta["batch"], "segment_samples": meta["seg"],
            "train_seconds": meta.get("trained_s"), "device": meta["device"], "torch": meta["torch"],
            "losses": "LSGAN (MPD periods 2,3,5,7,11 + MRD n_fft 2048/1024/512) + 2 x feature matching + 45 x L1 log-mel",
            "optimizer": "AdamW lr 3e-4 betas (0.8, 0.99) wd 0.01, 200-step warm-up, cosine to 0.1x",
            "history": [
                "steps 0-4936: 536 s on H100, batch 32 x 16384 samples, cosine over 12000 steps, |S| clamp 100, no low-pass augmentation",
                "steps 4936-10267: 545 s on H100, restarted from gen.pt/disc.pt with fresh optimisers, cosine over 9800 steps, clamp 100",
                "steps 10267-12790: 320 s on H100, fresh optimisers, cosine over 13500 steps, |S| clamp 1000, 25% of segments low-passed at U(3.4k, 8k) Hz",
            ],
            "data_minutes": 19.3,
            "data": PACKAGES,
            "data_note": "fetched with apt-get download from Debian 12 (bookworm), decoded/resampled to 22050 Hz with ffmpeg, leading/trailing silence trimmed; a random ~2.3 min per asterisk language, 3.4 min fillets-en, 4.5 min fillets-nl",
            "held_out_never_trained_on": HELDOUT,
        },
        "licence_note": "The weights are trained on CC-BY-SA-3.0 / CC-BY-3.0 (asterisk sounds) and GPL-2 (fillets-ng; the game's debian/copyright says version 2, not 'or later') recordings; treat them as a derivative covered by those terms and keep the attributions above.",
        "metrics": old.get("metrics", {}),
    }
    json.dump(card, open(a.card, "w"), indent=2, ensure_ascii=False)
    print("wrote", a.card)


if __name__ == "__main__":
    main()

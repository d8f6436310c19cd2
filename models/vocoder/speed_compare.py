"""CPU speed of the two candidate generators (random weights; speed only, not quality).

  /usr/bin/python3 -m models.vocoder.speed_compare [--threads 2] [--seconds 10]

(a) the shipped design: Vocos-style ConvNeXt at frame rate + iSTFT head
(b) a HiFi-GAN V3-style upsampling generator (ch 256, rates 8-8-4, ResBlock2)
Both scripted with torch.jit.script + freeze, run under torch.inference_mode().
"""
import argparse
import json
import time

import torch

from models.common.mel import CFG
from models.vocoder.model import HiFiGANV3Generator, VocosGenerator


def rtf(model, mel, runs, warmup=2):
    ts = []
    with torch.inference_mode():
        for i in range(warmup + runs):
            t0 = time.perf_counter()
            model(mel)
            if i >= warmup:
                ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2] / (mel.shape[-1] * CFG.hop / CFG.sample_rate)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    frames = int(a.seconds * CFG.sample_rate / CFG.hop)
    mel = torch.randn(1, CFG.n_mels, frames) - 5.0
    out = {"threads": a.threads, "audio_s": round(frames * CFG.hop / CFG.sample_rate, 2), "torch": torch.__version__}
    for name, m in (("vocos_istft", VocosGenerator()), ("hifigan_v3", HiFiGANV3Generator())):
        m.eval()
        sm = torch.jit.freeze(torch.jit.script(m))
        out[name] = {"params_M": round(sum(p.numel() for p in m.parameters()) / 1e6, 2),
                     "rtf": round(rtf(sm, mel, a.runs), 4)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A stand-in for `ganvoice-dub --json` in the studio's API tests: speaks
the same JSON-lines protocol, copies INPUT to OUTPUT (temp file, then
rename), and fails when the subtitles contain the word FAILME. With
--programme DIR it cuts INPUT into FAKE_DUB_CHUNKS parts (default 2) and
prints a plan; with --assemble it joins the chunk files. With
FAKE_DUB_APPEND set, its value is appended to the copy (which worker made
it, in the PostgreSQL queue's test), and each --voice that is a profile
file is reported in a warning with its SHA-256. It reports
one cue that fits and one that was sped up and clipped, as ganvoice-dub's
`cue` lines do, and writes its arguments on stderr (the job's log)."""
import hashlib
import json
import os
import shutil
import sys
import time

args = sys.argv[1:]
VALUED = ("-o", "--mode", "--lang", "--voice", "--provenance", "--overflow", "--title", "--chunk",
          "--chunk-target", "--programme")
pos = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] not in VALUED)]
inp, subs = pos[0], pos[1]


def line(**kw):
    print(json.dumps(kw), flush=True)


if "--programme" in args:
    # A split render's preparation: INPUT cut into FAKE_DUB_CHUNKS parts, each
    # a "programme" file, and the plan as JSON (as ganvoice-dub --programme).
    out_dir = args[args.index("--programme") + 1]
    data = open(inp, "rb").read()
    n = int(os.environ.get("FAKE_DUB_CHUNKS", "2"))
    step = len(data) // n
    chunks = []
    for k in range(n):
        part = data[k * step:(k + 1) * step if k < n - 1 else len(data)]
        name = "programme-%d.wav" % k
        with open(os.path.join(out_dir, name + ".tmp"), "wb") as f:
            f.write(part)
        os.rename(os.path.join(out_dir, name + ".tmp"), os.path.join(out_dir, name))
        end = "end" if k == n - 1 else str((k + 1) * 4800)
        chunks.append({"index": k, "start": k * 4800, "end": (k + 1) * 4800, "last": k == n - 1,
                       "range": "%d:%s" % (k * 4800, end), "start_time": k * 0.1, "end_time": (k + 1) * 0.1,
                       "cues": 1, "programme": name})
    print(json.dumps({"rate": 48000, "frames": n * 4800, "duration": n * 0.1, "chunks": chunks}))
    sys.exit(0)

out = args[args.index("-o") + 1]
if "--assemble" in args:
    # The chunk files (after SUBTITLES) joined into OUTPUT.
    parts = pos[2:]
    line(type="start", input=inp, output=out, duration=2.0, cues=2)
    tmp = out + ".partfake"
    with open(tmp, "wb") as f:
        for p in parts:
            f.write(open(p, "rb").read())
    line(type="progress", position=2.0, duration=2.0, percent=100.0, eta=0, elapsed=0.1)
    os.rename(tmp, out)
    line(type="done", output=out, elapsed=0.1)
    sys.exit(0)


line(type="start", input=inp, output=out, duration=2.0, cues=2)
text = open(subs, encoding="utf-8", errors="replace").read()
if "FAILME" in text:
    line(type="error", message="the voice model could not be loaded (fake)")
    sys.exit(1)
steps = int(os.environ.get("FAKE_DUB_STEPS", "4"))
for i in range(1, steps + 1):
    time.sleep(float(os.environ.get("FAKE_DUB_DELAY", "0.2")))
    line(type="progress", position=2.0 * i / steps, duration=2.0,
         percent=100.0 * i / steps, eta=0.2 * (steps - i), elapsed=0.2 * i)
# A chunk reports the cues that start in it: here, the first chunk all.
reports = "--chunk" not in args or args[args.index("--chunk") + 1].startswith("0:")
if reports:
    line(type="cue", index=0, speaker="", voice="ben", start=1.0, end=2.5, **{
        "next-start": 3.0, "natural-duration": 1.2, "applied-rate": 1.0, "stretch": 1.0, "overflow": 0.0,
        "step": "natural", "speech-start": 1.0, "speech-end": 2.2})
    line(type="cue", index=1, speaker="Tom", voice="ben", start=3.0, end=5.5, **{
        "next-start": 5.9, "natural-duration": 12.0, "applied-rate": 1.4, "stretch": 1.0, "overflow": 5.671,
        "step": "clipped", "speech-start": 3.0, "speech-end": 5.9})
line(type="warning", message="cue 2: speech 0.3 s longer than its slot, compressed")
for i, a in enumerate(args[:-1]):
    if a == "--voice":
        v = args[i + 1]
        speaker, _, path = v.partition("=") if "=" in v and not v.startswith("/") else ("", "", v)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                line(type="warning", message="voice profile %s: sha256 %s"
                     % (speaker or "default", hashlib.sha256(f.read()).hexdigest()))
line(type="args", argv=args)
print(json.dumps({"argv": args}), file=sys.stderr, flush=True)
tmp = out + ".partfake"
shutil.copyfile(inp, tmp)
if os.environ.get("FAKE_DUB_APPEND"):
    with open(tmp, "ab") as f:
        f.write(os.environ["FAKE_DUB_APPEND"].encode())
os.rename(tmp, out)
line(type="done", output=out, elapsed=1.0)

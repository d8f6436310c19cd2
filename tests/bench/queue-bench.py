#!/usr/bin/python3
"""Split rendering on the PostgreSQL queue (a benchmark, not a test).

    /usr/bin/python3 tests/bench/queue-bench.py [--minutes 120] [--cues 1500]
        [--workers "1 2 4"] [--chunk-target 90] [--project 16] [--work DIR]

1. Makes (once, cached in DIR, default build/queue-bench) an M-minute film:
   320x180 5 fps VP8 (the video is only copied) with a stereo 48 kHz Vorbis
   soundtrack, and an SRT of about N cues of 2.5 s in scenes of ~20 cues
   with a pause of 9 s between scenes (where a chunk can be cut).
2. Renders it with one `ganvoice-dub` process (the shipped models), under
   /usr/bin/time: wall and CPU time, peak RSS.
3. Starts a throwaway PostgreSQL and `ganvoice-studio --queue postgresql://`
   on 127.0.0.1, uploads the film, and for each worker count W renders it
   through W `ganvoice-worker` processes on this machine. Every ganvoice-dub
   run (the studio's --programme and --assemble, each worker's --chunk) goes
   through a wrapper that logs its wall and CPU time, so the table has: the
   render's wall time, the studio's preparation and assembly, each chunk's
   CPU time, and the queue's overhead per job: the time a worker spends on a
   job outside ganvoice-dub (claiming, fetching the programme audio,
   sending the result back), from the gaps between its runs.
4. Projects the wall time for P workers (default 16), each on a machine of
   its own like this one: the preparation, then the chunks (their wall
   times with one worker, plus the measured overhead per job) scheduled
   longest first onto P workers, then the assembly.
Prints Markdown tables. Needs what `setup.sh --tests` installs (PostgreSQL).
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "studio"))
from pg_harness import Postgres, StudioProcess, pg_bin  # noqa: E402

TOKEN = "queue-bench-worker-token-0123456789"
LINES = ["The lighthouse keeper climbed the stairs again tonight.",
         "Did you see the ship out there beyond the rocks?",
         "We have to light the lamp before the storm arrives.",
         "Nobody has come this way for many years.",
         "Listen, the wind is changing direction.",
         "I think the radio is working again, try it now."]


def srt_time(ms):
    return "%02d:%02d:%02d,%03d" % (ms // 3600000, ms // 60000 % 60, ms // 1000 % 60, ms % 1000)


def make_film(work, minutes, cues):
    seconds = minutes * 60
    video = os.path.join(work, "film-%dm.mkv" % minutes)
    if not os.path.exists(video):
        print("queue-bench: making %s" % video, file=sys.stderr)
        subprocess.run(
            "gst-launch-1.0 -q -e videotestsrc pattern=ball num-buffers=%d ! "
            "video/x-raw,width=320,height=180,framerate=5/1 ! "
            "vp8enc deadline=1 cpu-used=16 target-bitrate=100000 keyframe-max-dist=50 ! queue ! mux.video_0 "
            "audiotestsrc wave=pink-noise volume=0.05 samplesperbuffer=960 num-buffers=%d ! "
            "audio/x-raw,rate=48000,channels=2 ! audioconvert ! vorbisenc quality=0.3 ! queue ! mux.audio_0 "
            "matroskamux name=mux ! filesink location=%s.part" % (seconds * 5, seconds * 50, video),
            shell=True, check=True)
        os.rename(video + ".part", video)
    # Scenes: 20 cues of 2.5 s every 3.9 s, then 9 s of pause, over the film.
    scene_ms = 20 * 3900 + 9000
    per_scene = max(1, min(20, round(cues * scene_ms / (seconds * 1000))))
    srt = os.path.join(work, "film-%dm-%d.srt" % (minutes, cues))
    n, t = 0, 500
    with open(srt, "w") as f:
        while n < cues and t + 3000 < seconds * 1000:
            for i in range(per_scene):
                if n >= cues or t + 3000 >= seconds * 1000:
                    break
                f.write("%d\n%s --> %s\n%s\n\n" % (n + 1, srt_time(t), srt_time(t + 2500), LINES[n % len(LINES)]))
                n += 1
                t += 3900
            t += 9000 - 1400
    return video, srt, n


def wrapper(path, log, dub):
    """A ganvoice-dub that logs: start time, wall, user, system, max RSS, its arguments."""
    with open(path, "w") as f:
        f.write("#!/bin/sh\nstart=$(date +%%s.%%N)\n"
                "exec /usr/bin/time -a -o %s -f \"run $start %%e %%U %%S %%M $*\" %s \"$@\"\n" % (log, dub))
    os.chmod(path, 0o755)


def runs(log):
    out = []
    if not os.path.exists(log):
        return out
    for line in open(log, errors="replace"):
        m = re.match(r"run (\S+) (\S+) (\S+) (\S+) (\d+) (.*)", line.strip())
        if m:
            start, wall, user, sys_, rss = (float(m.group(i)) for i in range(1, 6))
            out.append({"start": start, "end": start + wall, "wall": wall, "cpu": user + sys_,
                        "rss": rss / 1024, "args": m.group(6)})
    return out


def lpt(durations, machines):
    """The makespan of durations scheduled longest first onto machines."""
    ends = [0.0] * machines
    for d in sorted(durations, reverse=True):
        i = ends.index(min(ends))
        ends[i] += d
    return max(ends)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=int, default=120)
    ap.add_argument("--cues", type=int, default=1500)
    ap.add_argument("--workers", default="1 2 4")
    ap.add_argument("--chunk-target", type=float, default=90)
    ap.add_argument("--project", type=int, default=16, help="worker count to project to")
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "queue-bench"))
    ap.add_argument("--skip-single", action="store_true")
    a = ap.parse_args()
    build = os.environ.get("GANVOICE_BUILD_DIR", os.path.join(ROOT, "build"))
    os.makedirs(a.work, exist_ok=True)
    env = dict(os.environ)
    env["GST_PLUGIN_PATH"] = os.path.join(build, "plugins")
    env.setdefault("GANVOICE_MODEL_DIR", os.path.join(ROOT, "models"))
    env["GST_REGISTRY"] = os.path.join(build, "queue-bench-registry.bin")
    subprocess.run(["gst-inspect-1.0", "dubbin"], env=env, stdout=subprocess.DEVNULL, check=True)
    dub = os.path.join(build, "examples", "tools", "ganvoice-dub")
    video, srt, ncues = make_film(a.work, a.minutes, a.cues)
    print("film: %s (%d min), %d cues" % (video, a.minutes, ncues))
    tmp = tempfile.mkdtemp(prefix="queue-bench-", dir=a.work)
    results = {}
    if not a.skip_single:
        log = os.path.join(tmp, "single.log")
        wrapper(os.path.join(tmp, "dub-single"), log, dub)
        out = os.path.join(tmp, "single.mkv")
        subprocess.run([os.path.join(tmp, "dub-single"), video, srt, "-o", out, "--quiet"], env=env, check=True)
        r = runs(log)[-1]
        results["single"] = r
        print("single process: %.1f s wall, %.1f s CPU, %.0f MB" % (r["wall"], r["cpu"], r["rss"]))
    pg = Postgres(pg_bin(), tmp)
    token_file = os.path.join(tmp, "token")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    studio_log = os.path.join(tmp, "studio-dub.log")
    wrapper(os.path.join(tmp, "dub-studio"), studio_log, dub)
    senv = dict(env, GANVOICE_STUDIO_DUB=os.path.join(tmp, "dub-studio"))
    studio = StudioProcess(os.path.join(build, "examples", "studio", "ganvoice-studio"), os.path.join(tmp, "data"),
                           pg.url, token_file, env=senv,
                           extra=["--queue-poll", "1", "--chunk-target", str(a.chunk_target)])
    table = []
    try:
        st, p = studio.request("POST", "/api/projects", {"name": "queue-bench"})
        pid, tok = p["id"], p["token"]
        studio.upload(pid, tok, "video", video)
        studio.upload(pid, tok, "subtitles", srt)
        for w in [int(x) for x in a.workers.split()]:
            wlog = os.path.join(tmp, "workers-%d.log" % w)
            wrapper(os.path.join(tmp, "dub-w%d" % w), wlog, dub)
            procs = []
            for i in range(w):
                procs.append(subprocess.Popen(
                    [os.path.join(build, "examples", "studio", "ganvoice-worker"), "--queue", pg.url,
                     "--studio", "http://127.0.0.1:%d" % studio.port, "--token-file", token_file,
                     "--dub", os.path.join(tmp, "dub-w%d" % w), "--name", "w%d-%d" % (w, i),
                     "--work-dir", os.path.join(tmp, "w%d-%d" % (w, i)), "--poll", "1"],
                    stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "w%d-%d.log" % (w, i)), "w"), env=env))
            time.sleep(1)
            before = len(runs(studio_log))
            t0 = time.time()
            st, job = studio.request("POST", "/api/projects/%s/jobs" % pid, {}, token=tok)
            assert st == 201, job
            while True:
                st, j = studio.request("GET", "/api/projects/%s/jobs/%s" % (pid, job["id"]), token=tok)
                if j["state"] in ("done", "failed", "cancelled"):
                    break
                time.sleep(0.5)
            wall = time.time() - t0
            for pr in procs:
                pr.send_signal(signal.SIGTERM)
            for pr in procs:
                pr.wait(timeout=60)
            if j["state"] != "done":
                raise RuntimeError("render with %d workers: %s %s" % (w, j["state"], j.get("error")))
            studio_runs = runs(studio_log)[before:]
            prep = [r for r in studio_runs if "--programme" in r["args"]]
            asm = [r for r in studio_runs if "--assemble" in r["args"]]
            chunks = [r for r in runs(wlog) if "--chunk" in r["args"]]
            # A worker's gaps between its runs: claim, fetch, delivery.
            gaps = []
            for i in range(w):
                mine = sorted((r for r in chunks if ("/w%d-%d/" % (w, i)) in r["args"]), key=lambda r: r["start"])
                gaps += [b["start"] - a_["end"] for a_, b in zip(mine, mine[1:])]
            table.append({"workers": w, "wall": wall, "prep": prep[0] if prep else None,
                          "assemble": asm[0] if asm else None, "chunks": chunks,
                          "overhead": statistics.median(gaps) if gaps else float("nan")})
            print("%d workers: %.1f s, %d chunks" % (w, wall, len(chunks)), flush=True)
    finally:
        studio.stop()
        pg.stop()

    print("\n| run | wall (s) | CPU (s) | chunks | chunk CPU median / max (s) | studio: prepare, assemble (s wall) "
          "| queue overhead per job (s) |")
    print("|---|---:|---:|---:|---|---|---:|")
    if "single" in results:
        r = results["single"]
        print("| ganvoice-dub, one process | %.1f | %.1f | | | | |" % (r["wall"], r["cpu"]))
    for t in table:
        cpu = [c["cpu"] for c in t["chunks"]]
        total = sum(cpu) + (t["prep"]["cpu"] if t["prep"] else 0) + (t["assemble"]["cpu"] if t["assemble"] else 0)
        print("| queue, %d worker%s | %.1f | %.1f | %d | %.1f / %.1f | %.1f, %.1f | %.2f |" % (
            t["workers"], "" if t["workers"] == 1 else "s", t["wall"], total, len(cpu),
            statistics.median(cpu), max(cpu), t["prep"]["wall"] if t["prep"] else float("nan"),
            t["assemble"]["wall"] if t["assemble"] else float("nan"), t["overhead"]))
    one = next((t for t in table if t["workers"] == 1), None)
    if one:
        over = one["overhead"] if one["overhead"] == one["overhead"] else 0
        walls = [c["wall"] + over for c in one["chunks"]]
        proj = one["prep"]["wall"] + lpt(walls, a.project) + one["assemble"]["wall"]
        print("\nProjected for %d workers (one per machine like this one): %.1f s = prepare %.1f + chunks %.1f "
              "(%d chunks of %.1f-%.1f s wall with one worker, + %.2f s overhead each, longest first) + assemble %.1f"
              % (a.project, proj, one["prep"]["wall"], lpt(walls, a.project), len(walls), min(walls) - over,
                 max(walls) - over, over, one["assemble"]["wall"]))
    if not os.environ.get("KEEP_TMP"):
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""A render split across workers is the single-process render, sample for
sample: a throwaway PostgreSQL, the studio with --queue postgresql://… and
--chunk-target 15, and three ganvoice-worker processes, all running the real
ganvoice-dub with the tiny test models.

    test_studio_split.py STUDIO GANVOICE_WORKER GANVOICE_DUB SOURCE_DIR

A 75 s film (VP8 + Vorbis) with groups of cues and 7 s gaps is rendered:
- once normally, through the queue: it is split in several parts (the
  chunk rows), the workers fetch each part's audio, never the video, and
  the result's dub track, decoded, equals that of `ganvoice-dub` run once
  on the film;
- once with the worker of a part killed (kill -9) as soon as it claims it:
  its lease runs out, another worker renders the part (attempt 2), and the
  result is again the single-process render, sample for sample.
Skipped (77) without PostgreSQL's server binaries.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402
import numpy as np  # noqa: E402

from pg_harness import Postgres, StudioProcess, pg_bin  # noqa: E402

STUDIO, WORKER, DUB, SOURCE = sys.argv[1:5]
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))
from dubtest import decode_dub, grouped_cues, srt_text, tiny_model_dir  # noqa: E402

TOKEN = "worker-token-for-the-split-test-0123"
DURATION = 75.0
LEASE = 2.0


class SplitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="studio-split-")
        os.environ["GANVOICE_MODEL_DIR"] = tiny_model_dir(cls.tmp)
        cls.film = os.path.join(cls.tmp, "film.mkv")
        subprocess.run(
            ["gst-launch-1.0", "-q", "-e",
             "videotestsrc", "pattern=ball", "num-buffers=%d" % int(DURATION * 5), "!",
             "video/x-raw,width=160,height=90,framerate=5/1", "!", "vp8enc", "deadline=1", "!",
             "queue", "!", "mux.video_0",
             "audiotestsrc", "wave=pink-noise", "volume=0.1", "samplesperbuffer=960",
             "num-buffers=%d" % int(DURATION * 50), "!", "audio/x-raw,rate=48000,channels=2", "!",
             "audioconvert", "!", "vorbisenc", "!", "queue", "!", "mux.audio_0",
             "matroskamux", "name=mux", "!", "filesink", "location=" + cls.film], check=True)
        cls.subs = os.path.join(cls.tmp, "film.en.srt")
        with open(cls.subs, "w") as f:
            f.write(srt_text(grouped_cues(DURATION)))
        # The single-process render, as the studio asks for one.
        cls.single = os.path.join(cls.tmp, "single.mkv")
        subprocess.run([DUB, cls.film, cls.subs, "-o", cls.single, "--voice", "ben", "--lang", "en",
                        "--mode", "duck", "--quiet"], check=True)
        cls.pg = Postgres(BIN, cls.tmp)
        cls.token_file = os.path.join(cls.tmp, "worker-token")
        with open(cls.token_file, "w") as f:
            f.write(TOKEN + "\n")
        cls.s = StudioProcess(STUDIO, os.path.join(cls.tmp, "data"), cls.pg.url, cls.token_file,
                              env={"GANVOICE_STUDIO_DUB": DUB},
                              extra=["--chunk-target", "15", "--queue-poll", "0.3", "--retry-delay", "0.3"])
        cls.workers = {}
        for i in range(1, 4):
            cls.add_worker("w%d" % i)

    @classmethod
    def add_worker(cls, name):
        log = open(os.path.join(cls.tmp, name + ".log"), "a")
        cls.workers[name] = subprocess.Popen(
            [WORKER, "--queue", cls.pg.url, "--studio", "http://127.0.0.1:%d" % cls.s.port,
             "--token-file", cls.token_file, "--dub", DUB, "--name", name,
             "--work-dir", os.path.join(cls.tmp, name), "--lease", str(LEASE), "--poll", "0.3"],
            stdout=subprocess.DEVNULL, stderr=log)
        log.close()

    @classmethod
    def tearDownClass(cls):
        for w in cls.workers.values():
            if w.poll() is None:
                w.kill()
                w.wait()
        if cls.s.proc.poll() is None:
            cls.s.stop(signal.SIGKILL)
        cls.pg.stop()
        if os.environ.get("KEEP_TMP"):
            print("kept", cls.tmp)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def project(self):
        if getattr(SplitTest, "the_project", None):
            return SplitTest.the_project
        s = self.s
        st, p = s.request("POST", "/api/projects", {"name": "Split"})
        self.assertEqual(st, 201)
        pid, tok = p["id"], p["token"]
        s.upload(pid, tok, "video", self.film)
        s.upload(pid, tok, "subtitles", self.subs)
        SplitTest.the_project = (pid, tok)
        return pid, tok

    def render(self, on_claim=None):
        pid, tok = self.project()
        st, job = self.s.request("POST", "/api/projects/%s/jobs" % pid, {"voice": "ben", "lang": "en"}, token=tok)
        self.assertEqual(st, 201, job)
        jid = job["id"]
        end = time.time() + 120
        while time.time() < end:
            if on_claim and on_claim(jid):
                on_claim = None
            st, j = self.s.request("GET", "/api/projects/%s/jobs/%s" % (pid, jid), token=tok)
            if j["state"] in ("done", "failed", "cancelled"):
                break
            time.sleep(0.05)
        self.assertEqual(j["state"], "done", j)
        results = os.path.join(self.s_data(), "projects", pid, "results")
        out = [f for f in os.listdir(results) if f.startswith(jid) and not f.endswith(".log")]
        self.assertEqual(len(out), 1, os.listdir(results))
        self.assertFalse(os.path.exists(os.path.join(results, ".chunks-" + jid)))
        return jid, os.path.join(results, out[0])

    def s_data(self):
        return os.path.join(self.tmp, "data")

    def parts(self, jid):
        return self.pg.sql("SELECT id, state, attempt, worker, spec FROM ganvoice_jobs WHERE parent = '%s' "
                           "ORDER BY created, id" % jid)

    def assert_same_as_single(self, path):
        want, have = decode_dub(self.single), decode_dub(path)
        self.assertEqual(want.shape, have.shape)
        self.assertGreater(np.abs(want).max(), 0.01)
        self.assertTrue(np.array_equal(want, have), "max |difference| %g" % np.abs(want - have).max())

    def test_a_split_render_is_the_single_render(self):
        jid, path = self.render()
        parts = self.parts(jid)
        self.assertGreaterEqual(len(parts), 3, parts)
        self.assertTrue(all(p[1] == "done" and p[2] == "1" for p in parts), parts)
        self.assertGreater(len(set(p[3] for p in parts)), 1, "one worker did every part")
        for p in parts:
            spec = json.loads(p[4])
            self.assertEqual(sorted(f["name"] for f in spec["files"]), ["programme", "subtitles"])
        self.assertEqual(self.pg.sql("SELECT kind, state, worker FROM ganvoice_jobs WHERE id = '%s'" % jid),
                         [["assemble", "done", "studio"]])
        self.assert_same_as_single(path)

    def test_b_worker_killed_mid_part(self):
        victim = {}

        def kill_first_claim(jid):
            rows = self.pg.sql("SELECT id, worker FROM ganvoice_jobs WHERE parent = '%s' AND state = 'running' "
                               "ORDER BY id DESC LIMIT 1" % jid)
            if not rows:
                return False
            part, name = rows[0]
            self.workers[name].kill()
            self.workers[name].wait()
            victim.update(part=part, name=name)
            return True
        jid, path = self.render(kill_first_claim)
        self.assertTrue(victim)
        state, attempt, worker = self.pg.sql("SELECT state, attempt, worker FROM ganvoice_jobs WHERE id = '%s'"
                                             % victim["part"])[0]
        self.assertEqual((state, attempt), ("done", "2"))
        self.assertNotEqual(worker, victim["name"])
        self.assert_same_as_single(path)
        del self.workers[victim["name"]]


if __name__ == "__main__":
    BIN = pg_bin()
    if not BIN or not os.path.exists(os.path.join(BIN, "psql")):
        print("PostgreSQL server binaries not found (apt install postgresql-15): skipped")
        sys.exit(77)
    Gst.init(None)
    unittest.main(argv=[sys.argv[0], "-v"])

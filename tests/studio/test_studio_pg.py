#!/usr/bin/env python3
"""The studio's PostgreSQL queue: a throwaway PostgreSQL (initdb and pg_ctl
in a temporary directory, as the postgres user when run as root), the studio
with --queue postgresql://..., and three ganvoice-worker processes running
the fake dubbing command (fake-dub.py). Every render is split: the studio's
fake --programme cuts the video into two parts (the chunks' "programme"),
each worker appends its name to the part it renders, so the test can tell
whose result was kept, and the studio's fake --assemble joins them.
Everything talks over 127.0.0.1. Skipped (77) only when the PostgreSQL
server binaries are missing.

    test_studio_pg.py STUDIO STUDIO_HELPER GANVOICE_WORKER SOURCE_DIR
"""
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

from pg_harness import Postgres, StudioProcess, pg_bin

STUDIO, HELPER, WORKER, SOURCE = sys.argv[1:5]
HERE = os.path.dirname(os.path.abspath(__file__))
VIDEO = os.path.join(SOURCE, "examples", "media", "sample.mkv")
TOKEN = "worker-token-for-the-test-0123456789"
LEASE = 2.0
POLL = 0.3


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Studio(StudioProcess):
    def __init__(self, data, url, token_file, port=0):
        super().__init__(STUDIO, data, url, token_file, port=port, env={
            "GANVOICE_STUDIO_WORKER": HELPER,
            "GANVOICE_STUDIO_ACOUSTIC_CARD": os.path.join(SOURCE, "tests", "models", "tiny-acoustic.json"),
            "GANVOICE_STUDIO_WEB": os.path.join(SOURCE, "examples", "studio", "web"),
            "GANVOICE_STUDIO_DUB": os.path.join(HERE, "fake-dub.py"),
            "FAKE_DUB_CHUNKS": "2",
        }, extra=["--queue-poll", str(POLL), "--queue-listen-retry", "120", "--max-attempts", "3",
                  "--retry-delay", "0.3", "--idle-timeout", "5"])


class Worker:
    def __init__(self, name, root, url, studio_port, token_file, extra=()):
        self.name = name
        self.log_path = os.path.join(root, name + ".log")
        env = dict(os.environ)
        env.update({"FAKE_DUB_DELAY": "0.3", "FAKE_DUB_STEPS": "8", "FAKE_DUB_APPEND": "|" + name})
        with open(self.log_path, "a") as log:  # the child keeps its own copy
            self.proc = subprocess.Popen([WORKER, "--queue", url, "--studio", "http://127.0.0.1:%d" % studio_port,
                                          "--token-file", token_file, "--dub", os.path.join(HERE, "fake-dub.py"),
                                          "--name", name, "--work-dir", os.path.join(root, name),
                                          "--lease", str(LEASE), "--poll", str(POLL), "--listen-retry", "120",
                                          "--studio-patience", "60"] + list(extra),
                                         stdout=subprocess.DEVNULL, stderr=log, env=env)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()


class PgQueueTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="studio-pg-")
        cls.pg = Postgres(BIN, cls.tmp)
        cls.token_file = os.path.join(cls.tmp, "worker-token")
        with open(cls.token_file, "w") as f:
            f.write(TOKEN + "\n")
        cls.data = os.path.join(cls.tmp, "data")
        cls.s = Studio(cls.data, cls.pg.url, cls.token_file)
        cls.workers = {}
        for i in range(1, 4):
            cls.add_worker("w%d" % i)

    @classmethod
    def add_worker(cls, name, extra=()):
        cls.workers[name] = Worker(name, cls.tmp, cls.pg.url, cls.s.port, cls.token_file, extra)

    @classmethod
    def tearDownClass(cls):
        for w in cls.workers.values():
            if w.proc.poll() is None:
                w.proc.send_signal(signal.SIGCONT)
                w.proc.kill()
                w.proc.wait()
        if cls.s.proc.poll() is None:
            cls.s.stop(signal.SIGKILL)
        cls.pg.stop()
        if os.environ.get("KEEP_TMP"):
            print("kept", cls.tmp)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- helpers ----

    def project(self, text="Hello there."):
        """The test's project (its video checked once), with one cue."""
        s = self.s
        if not getattr(PgQueueTest, "the_project", None):
            st, p = s.request("POST", "/api/projects", {"name": "PG"})
            self.assertEqual(st, 201)
            pid, tok = p["id"], p["token"]
            data = read(VIDEO)
            st, u = s.request("POST", "/api/projects/%s/uploads" % pid,
                              {"kind": "video", "name": "sample.mkv", "size": len(data)}, token=tok)
            self.assertEqual(st, 201, u)
            st, r = s.request("PUT", "/api/projects/%s/uploads/%s?offset=0" % (pid, u["id"]), data, token=tok)
            self.assertEqual((st, r["state"]), (200, "ready"), r)
            PgQueueTest.the_project = (pid, tok)
        pid, tok = PgQueueTest.the_project
        st, r = s.request("PUT", "/api/projects/%s/cues" % pid,
                          {"cues": [{"start": 1, "end": 2.5, "text": text}], "lang": "en"}, token=tok)
        self.assertEqual(st, 200, r)
        return pid, tok

    def render(self, pid, tok):
        st, job = self.s.request("POST", "/api/projects/%s/jobs" % pid, {"voice": "ben"}, token=tok)
        self.assertEqual(st, 201, job)
        return job["id"]

    def job(self, pid, tok, jid):
        st, j = self.s.request("GET", "/api/projects/%s/jobs/%s" % (pid, jid), token=tok)
        self.assertEqual(st, 200, j)
        return j

    def wait(self, what, cond, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            v = cond()
            if v:
                return v
            time.sleep(0.05)
        self.fail("timed out waiting for " + what)

    def wait_state(self, pid, tok, jid, states=("done", "failed", "cancelled"), timeout=40):
        return self.wait("job %s to end" % jid,
                         lambda: (lambda j: j if j["state"] in states else None)(self.job(pid, tok, jid)),
                         timeout)

    def row(self, jid):
        rows = self.pg.sql("SELECT state, attempt, worker, error FROM ganvoice_jobs WHERE id = '%s'" % jid)
        return rows[0] if rows else None

    def running_on(self, pid, tok, jid, part=0):
        """The worker rendering a part of the job, once its progress has been heard."""
        def check():
            j = self.job(pid, tok, jid)
            r = self.row("%s-c%d" % (jid, part))
            if j["state"] == "running" and j["percent"] > 0 and r and r[0] == "running":
                return r[2]
            return None
        return self.wait("job %s to run" % jid, check)

    def expected(self, jid):
        """The joined parts, each with the name of the worker whose result was kept."""
        video = read(VIDEO)
        half = len(video) // 2
        w0, w1 = self.row(jid + "-c0")[2], self.row(jid + "-c1")[2]
        return video[:half] + ("|" + w0).encode() + video[half:] + ("|" + w1).encode()

    def result(self, pid, jid):
        j = [f for f in os.listdir(os.path.join(self.data, "projects", pid, "results"))
             if f.startswith(jid) and ".part" not in f and not f.endswith(".log")]
        self.assertEqual(len(j), 1, j)
        path = os.path.join(self.data, "projects", pid, "results", j[0])
        return path, read(path)

    # ---- cases ----

    def test_a_render_through_workers(self):
        pid, tok = self.project()
        jid = self.render(pid, tok)
        j = self.wait_state(pid, tok, jid)
        self.assertEqual(j["state"], "done", j)
        self.assertEqual(j["percent"], 100)
        # The worker's events reached the page's job: warnings and fits.
        self.assertEqual(len(j["warnings"]), 1, j["warnings"])
        self.assertEqual([f["step"] for f in j["fits"]], ["clipped"])
        path, body = self.result(pid, jid)
        self.assertEqual(body, self.expected(jid))
        # Two parts, each done at its first attempt; the studio joined them.
        self.assertEqual(self.row(jid)[:3], ["done", "1", "studio"])
        for k in (0, 1):
            state, attempt, worker, _ = self.row("%s-c%d" % (jid, k))
            self.assertEqual((state, attempt), ("done", "1"))
            self.assertIn("job %s-c%d attempt 1: delivered" % (jid, k), self.workers[worker].log())
        # The workers got the parts' audio, never the video; the chunks and their audio are gone.
        specs = self.pg.sql("SELECT spec FROM ganvoice_jobs WHERE parent = '%s' ORDER BY id" % jid)
        names = [sorted(f["name"] for f in json.loads(r[0])["files"]) for r in specs]
        self.assertEqual(names, [["programme", "subtitles"]] * 2)
        self.assertEqual([json.loads(r[0])["chunk"] for r in specs], ["0:4800", "4800:end"])
        self.assertFalse(os.path.exists(os.path.join(os.path.dirname(path), ".chunks-" + jid)))
        self.__class__.done_job = (pid, tok, jid, self.row(jid + "-c0")[2])

    def test_ab_voice_profile_travels_with_the_job(self):
        pid, tok = self.project()
        prid = "0123456789abcdef"
        profile = os.urandom(3000)
        os.makedirs(os.path.join(self.data, "projects", pid, "profiles"), exist_ok=True)
        with open(os.path.join(self.data, "projects", pid, "profiles", prid + ".voice"), "wb") as f:
            f.write(profile)
        db = sqlite3.connect(os.path.join(self.data, "studio.db"), timeout=10)
        with db:
            db.execute("INSERT INTO profiles (id, project, name, upload, state, created) "
                       "VALUES (?, ?, 'Mine', 'none', 'ready', 0)", (prid, pid))
        db.close()
        st, job = self.s.request("POST", "/api/projects/%s/jobs" % pid,
                                 {"voice": "ben", "speakers": {"Tom": "profile:" + prid}}, token=tok)
        self.assertEqual(st, 201, job)
        j = self.wait_state(pid, tok, job["id"])
        self.assertEqual(j["state"], "done", j)
        # The worker fetched the profile, checked it, and passed it on.
        self.assertIn("voice profile Tom: sha256 " + hashlib.sha256(profile).hexdigest(), j["warnings"])

    def test_b_same_upload_twice_is_a_no_op(self):
        pid, tok, jid, worker = self.done_job
        path, _ = self.result(pid, jid)
        before = os.stat(path)
        # The first part's result, as its worker sent it.
        video = read(VIDEO)
        body = video[:len(video) // 2] + ("|" + worker).encode()
        sha = hashlib.sha256(body).hexdigest()
        part = jid + "-c0"
        base = "/api/worker/jobs/%s/result" % part
        auth = {"Authorization": "Bearer " + TOKEN}
        events = self.pg.sql("SELECT count(*) FROM ganvoice_job_events")[0][0]
        # The chunk and the delivery again: both answer delivered, nothing moves.
        st, r = self.s.request("PUT", base + "?attempt=1&offset=0", body, headers=auth)
        self.assertEqual((st, r), (200, {"delivered": True}))
        st, r = self.s.request("POST", base + "?attempt=1", {"sha256": sha}, headers=auth)
        self.assertEqual((st, r), (200, {"delivered": True, "duplicate": True}))
        after = os.stat(path)
        self.assertEqual((before.st_ino, before.st_mtime_ns), (after.st_ino, after.st_mtime_ns))
        self.assertEqual(self.pg.sql("SELECT count(*) FROM ganvoice_job_events")[0][0], events)
        self.assertEqual(self.job(pid, tok, jid)["state"], "done")
        # Another checksum, another attempt, no token, a bad token: refused.
        st, r = self.s.request("POST", base + "?attempt=1", {"sha256": "0" * 64}, headers=auth)
        self.assertEqual(st, 409, r)
        st, r = self.s.request("POST", base + "?attempt=2", {"sha256": sha}, headers=auth)
        self.assertEqual(st, 409, r)
        st, r = self.s.request("PUT", base + "?attempt=2&offset=0", b"x", headers=auth)
        self.assertEqual(st, 409, r)
        st, r = self.s.request("POST", base + "?attempt=1", {"sha256": sha})
        self.assertEqual(st, 401, r)
        st, r = self.s.request("GET", "/api/worker/jobs/%s/files/programme?attempt=1" % part,
                               headers={"Authorization": "Bearer nope"})
        self.assertEqual(st, 401, r)
        st, r = self.s.request("POST", base + "?attempt=1", {"sha256": "xyz"}, headers=auth)
        self.assertEqual(st, 400, r)
        st, r = self.s.request("GET", "/api/worker/jobs/%s/files/programme?attempt=1" % part, headers=auth)
        self.assertEqual(st, 409, r)  # done: its inputs are no longer handed out
        for bad in (jid + "-c", jid + "-x1", jid + "-c1234567", jid[:15] + "-c0"):
            st, r = self.s.request("GET", "/api/worker/jobs/%s/files/programme?attempt=1" % bad, headers=auth)
            self.assertEqual(st, 404, (bad, r))
        self.assertEqual(os.stat(path).st_mtime_ns, before.st_mtime_ns)

    def test_c_worker_killed_mid_job(self):
        pid, tok = self.project()
        jid = self.render(pid, tok)
        victim = self.running_on(pid, tok, jid)
        self.workers[victim].proc.kill()
        self.workers[victim].proc.wait()
        j = self.wait_state(pid, tok, jid)
        self.assertEqual(j["state"], "done", j)
        state, attempt, worker, _ = self.row(jid + "-c0")
        self.assertEqual(state, "done")
        self.assertEqual(attempt, "2")
        self.assertNotEqual(worker, victim)
        _, body = self.result(pid, jid)
        self.assertEqual(body, self.expected(jid))
        del self.workers[victim]
        self.add_worker(victim + "b")

    def test_ca_stopped_worker_gives_its_job_back(self):
        pid, tok = self.project()
        jid = self.render(pid, tok)
        name = self.running_on(pid, tok, jid)
        w = self.workers.pop(name)
        w.proc.terminate()
        self.assertEqual(w.proc.wait(timeout=20), 0)
        self.assertIn("job %s-c0 attempt 1: given back to the queue (stopping)" % jid, w.log())
        j = self.wait_state(pid, tok, jid)
        self.assertEqual(j["state"], "done", j)
        # Another worker took it at once; the given-back attempt did not count.
        rows = self.pg.sql("SELECT attempt, max_attempts, worker FROM ganvoice_jobs WHERE id = '%s-c0'" % jid)
        self.assertEqual(rows[0][:2], ["2", "4"])
        self.assertNotEqual(rows[0][2], name)
        self.add_worker(name + "c")

    def test_d_paused_worker_late_upload_refused(self):
        pid, tok = self.project()
        jid = self.render(pid, tok)
        paused = self.running_on(pid, tok, jid)
        w = self.workers[paused]
        w.proc.send_signal(signal.SIGSTOP)
        try:
            # Its lease runs out; another worker takes attempt 2 and finishes.
            j = self.wait_state(pid, tok, jid)
            self.assertEqual(j["state"], "done", j)
            state, attempt, worker, _ = self.row(jid + "-c0")
            self.assertEqual((state, attempt), ("done", "2"))
            self.assertNotEqual(worker, paused)
            _, body = self.result(pid, jid)
            # The paused worker's render has finished meanwhile.
            time.sleep(1.0)
        finally:
            w.proc.send_signal(signal.SIGCONT)
        self.wait("the late result to be refused",
                  lambda: "job %s-c0 attempt 1: the studio refused the result" % jid in w.log())
        path, after = self.result(pid, jid)
        self.assertEqual(after, body)
        self.assertEqual(after, self.expected(jid))
        self.assertEqual(self.row(jid + "-c0")[:2], ["done", "2"])
        self.assertEqual(self.job(pid, tok, jid)["state"], "done")

    def test_e_studio_restarted_mid_job(self):
        pid, tok = self.project()
        jid = self.render(pid, tok)
        name = self.running_on(pid, tok, jid)
        self.s.stop(signal.SIGKILL)
        # The worker finishes its render meanwhile, and its delivery waits.
        self.wait("the worker to wait for the studio",
                  lambda: "job %s-c0: cannot reach the studio" % jid in self.workers[name].log())
        type(self).s = Studio(self.data, self.pg.url, self.token_file, self.s.port)
        j = self.wait_state(pid, tok, jid, timeout=60)
        self.assertEqual(j["state"], "done", j)
        self.assertEqual(self.row(jid)[:2], ["done", "1"])
        self.assertEqual(self.row(jid + "-c0")[:2], ["done", "1"])
        _, body = self.result(pid, jid)
        self.assertEqual(body, self.expected(jid))

    def test_ea_cancelled_while_running(self):
        pid, tok = self.project()
        jid = self.render(pid, tok)
        name = self.running_on(pid, tok, jid)
        # A running attempt's inputs, with ranges; another attempt gets none.
        attempt = int(self.row(jid + "-c0")[1])
        auth = {"Authorization": "Bearer " + TOKEN}
        url = "/api/worker/jobs/%s-c0/files/programme?attempt=%d" % (jid, attempt)
        st, body = self.s.request("GET", url, headers=dict(auth, Range="bytes=100-199"))
        self.assertEqual((st, body), (206, read(VIDEO)[100:200]))
        st, r = self.s.request("GET", url.replace("programme", "video"), headers=auth)
        self.assertEqual(st, 404, r)
        st, r = self.s.request("GET", url[:-1] + str(attempt + 1), headers=auth)
        self.assertEqual(st, 409, r)
        st, r = self.s.request("DELETE", "/api/projects/%s/jobs/%s" % (pid, jid), token=tok)
        self.assertEqual((st, r), (200, {"cancelled": True}))
        j = self.wait_state(pid, tok, jid)
        self.assertEqual((j["state"], j["error"]), ("cancelled", "Cancelled."))
        self.assertEqual(self.row(jid)[0], "cancelled")
        self.assertEqual(self.row(jid + "-c0")[0], "cancelled")
        # The worker's heartbeat finds the attempt over and stops the render.
        self.wait("the worker to stop", lambda: "job %s-c0 attempt 1: the attempt is no longer current" % jid
                  in self.workers[name].log())
        self.assertEqual([f for f in os.listdir(os.path.join(self.data, "projects", pid, "results"))
                          if jid in f], [])

    def test_f_failing_job_retried_then_failed(self):
        pid, tok = self.project("FAILME now")
        jid = self.render(pid, tok)
        j = self.wait_state(pid, tok, jid)
        self.assertEqual(j["state"], "failed", j)
        self.assertIn("could not be loaded (fake)", j["error"])
        # The part that failed for good was tried three times.
        m = re.match(r"Part (\d) of 2: ", j["error"])
        self.assertTrue(m, j["error"])
        retries = [w for w in j["warnings"] if w.startswith(m.group(0) + "Attempt ")]
        self.assertEqual(len(retries), 2, j["warnings"])
        self.assertIn("Attempt 1 of 3 failed: the voice model could not be loaded (fake)", retries[0])
        state, attempt, _, error = self.row("%s-c%d" % (jid, int(m.group(1)) - 1))
        self.assertEqual((state, attempt), ("failed", "3"))
        self.assertIn("could not be loaded", error)
        self.assertEqual(self.row(jid)[0], "failed")
        self.assertNotIn("result", j)

    def test_g_listen_connections_killed_polling_goes_on(self):
        killed = self.pg.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE application_name LIKE '%listen%'")
        self.assertGreaterEqual(len(killed), 4, killed)  # the studio's and three workers'
        time.sleep(0.5)
        pid, tok = self.project()
        jid = self.render(pid, tok)
        j = self.wait_state(pid, tok, jid)
        self.assertEqual(j["state"], "done", j)
        # Nobody listens again for 120 s: the job went by polling.
        self.assertEqual(self.pg.sql("SELECT count(*) FROM pg_stat_activity "
                                     "WHERE application_name LIKE '%listen%'"), [["0"]])

    def test_j_idle_workers_sleep(self):
        # With nothing to do, a worker waits on LISTEN and its poll timer
        # (0.3 s here): it neither spins nor keeps the database busy.
        def cpu(pid):
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        def commits():
            return int(self.pg.sql("SELECT xact_commit FROM pg_stat_database "
                                   "WHERE datname = current_database()")[0][0])
        procs = [w.proc.pid for w in self.workers.values() if w.proc.poll() is None]
        before, transactions = [cpu(p) for p in procs], commits()
        time.sleep(3.0)
        used = [cpu(p) - b for p, b in zip(procs, before)]
        transactions = commits() - transactions
        print("idle workers over 3 s: CPU %s s, %d transactions" % (used, transactions), file=sys.stderr)
        self.assertLess(max(used), 0.1, used)
        # Each poll is two statements per worker, plus the studio's: about
        # 3 * 2 * 10 + 40 in 3 s; a worker polling without pause makes thousands.
        self.assertLess(transactions, 400)

    def test_i_queue_option(self):
        data = os.path.join(self.tmp, "data-sqlite")
        db = os.path.join(self.tmp, "elsewhere.db")
        r = subprocess.run([STUDIO, "--port", "0", "--data-dir", data, "--queue", "sqlite:" + db],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=10,
                           preexec_fn=lambda: signal.alarm(3))
        self.assertIn("listening on", r.stdout)
        self.assertTrue(os.path.exists(db))
        self.assertFalse(os.path.exists(os.path.join(data, "studio.db")))
        for args, message in ((["--queue", "mysql://x"], "--queue must be sqlite:PATH or postgresql://"),
                              (["--queue", self.pg.url], "needs the workers' token"),
                              (["--queue", self.pg.url, "--worker-token-file", self.token_file,
                                "--max-attempts", "0"], "--max-attempts must be above 0")):
            r = subprocess.run([STUDIO, "--port", "0", "--data-dir", data] + args,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, r.stdout)
            self.assertIn(message, r.stdout)
        r = subprocess.run([WORKER, "--queue", self.pg.url, "--studio", "http://127.0.0.1:1"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=10)
        self.assertEqual(r.returncode, 2, r.stdout)
        self.assertIn("needs the workers' token", r.stdout)

    def test_h_worker_checks_model_checksums(self):
        models = os.path.join(self.tmp, "models")
        os.mkdir(models)
        for name in ("tiny-acoustic.ts", "tiny-vocoder.ts"):
            shutil.copy(os.path.join(SOURCE, "tests", "models", name), models)
        sums = os.path.join(models, "SHA256SUMS")
        with open(sums, "w") as f:
            for name in ("tiny-acoustic.ts", "tiny-vocoder.ts"):
                f.write("%s  %s\n" % (hashlib.sha256(read(os.path.join(models, name))).hexdigest(),
                                      name))
        with open(os.path.join(models, "tiny-vocoder.ts"), "ab") as f:
            f.write(b"x")
        r = subprocess.run([WORKER, "--queue", self.pg.url, "--studio", "http://127.0.0.1:%d" % self.s.port,
                            "--token-file", self.token_file, "--models", sums],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("tiny-vocoder.ts: the model weights differ", r.stderr)


if __name__ == "__main__":
    BIN = pg_bin()
    if not BIN or not os.path.exists(os.path.join(BIN, "psql")):
        print("PostgreSQL server binaries not found (apt install postgresql-15): skipped")
        sys.exit(77)
    unittest.main(argv=[sys.argv[0], "-v"])

#!/usr/bin/env python3
"""API tests of ganvoice-studio: starts the server on a free port with a
fresh data directory and a fake dubbing command, then drives the HTTP API,
bad requests included, and restarts the server to check persistence.

    test_studio_api.py STUDIO_BINARY WORKER_BINARY SOURCE_DIR
"""
import calendar
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

STUDIO, WORKER, SOURCE = sys.argv[1:4]
HERE = os.path.dirname(os.path.abspath(__file__))
MEDIA = os.path.join(SOURCE, "examples", "media")
VIDEO = os.path.join(MEDIA, "sample.mkv")
SRT = os.path.join(MEDIA, "sample.en.srt")
ASS = os.path.join(MEDIA, "sample.en.ass")


class Studio:
    def __init__(self, data, extra_env=None):
        self.data = data
        env = dict(os.environ)
        env.update({
            "GANVOICE_STUDIO_DUB": os.path.join(HERE, "fake-dub.py"),
            "GANVOICE_STUDIO_WORKER": WORKER,
            "GANVOICE_STUDIO_ACOUSTIC_CARD": os.path.join(SOURCE, "tests", "models", "tiny-acoustic.json"),
            "GANVOICE_STUDIO_WEB": os.path.join(SOURCE, "examples", "studio", "web"),
            "FAKE_DUB_DELAY": "0.15",
        })
        env.update(extra_env or {})
        self.proc = subprocess.Popen([STUDIO, "--port", "0", "--data-dir", data,
                                      "--max-upload-mb", "8", "--idle-timeout", "5"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True,
                                     errors="replace")
        line = self.proc.stdout.readline()
        m = re.search(r"listening on http://[^:]+:(\d+)/", line)
        if not m:
            raise RuntimeError("studio did not start: " + line + self.proc.stdout.read())
        self.port = int(m.group(1))
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()

    def request(self, method, path, body=None, headers=None, token=None, raw=False):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        if token:
            h["X-Studio-Token"] = token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        if raw:
            return r.status, data, r
        try:
            return r.status, json.loads(data) if data else None
        except ValueError:
            return r.status, data

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        self.proc.wait(timeout=20)

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


def consent(s):
    """The statement a clone needs (GET /api/config), as the page sends it."""
    st, c = s.request("GET", "/api/config")
    assert st == 200, c
    return c["consent_statement"]


def upload(s, pid, tok, path, kind, chunk=300000, name=None):
    data = open(path, "rb").read()
    st, u = s.request("POST", "/api/projects/%s/uploads" % pid,
                      {"kind": kind, "name": name or os.path.basename(path), "size": len(data)}, token=tok)
    assert st == 201, (st, u)
    off = 0
    while off < len(data):
        st, r = s.request("PUT", "/api/projects/%s/uploads/%s?offset=%d" % (pid, u["id"], off),
                          data[off:off + chunk], token=tok)
        if st != 200:
            return st, r
        off = r["offset"]
    return st, r


class ApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="studio-test-")
        cls.s = Studio(os.path.join(cls.tmp, "data"))

    @classmethod
    def tearDownClass(cls):
        if cls.s.proc.poll() is None:
            cls.s.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def project(self):
        st, p = self.s.request("POST", "/api/projects", {"name": "Test"})
        self.assertEqual(st, 201)
        self.assertRegex(p["id"], r"^[0-9a-f]{16}$")
        self.assertRegex(p["token"], r"^[0-9a-f]{48}$")
        return p["id"], p["token"]

    def test_page_and_static(self):
        st, body, r = self.s.request("GET", "/", raw=True)
        self.assertEqual(st, 200)
        self.assertIn(b"<html", body)
        self.assertIn("default-src 'self'", r.getheader("Content-Security-Policy"))
        for bad in ["/../studio.db", "/..%2fstudio.db", "/%2e%2e/x", "/web/../../x", "/.hidden", "/nosuch.js"]:
            st, _ = self.s.request("GET", bad)
            self.assertIn(st, (400, 404), bad)

    def test_health_config_voices(self):
        st, h = self.s.request("GET", "/api/health")
        self.assertEqual(st, 200)
        self.assertTrue(h["ok"])
        st, c = self.s.request("GET", "/api/config")
        self.assertEqual(c["max_upload_bytes"], 8 * 1024 * 1024)
        st, v = self.s.request("GET", "/api/voices")
        self.assertEqual(st, 200)
        names = [x["name"] for x in v["voices"]]
        self.assertIn("ana", names)
        self.assertTrue(all(x["language"] for x in v["voices"]))
        st, e = self.s.request("GET", "/api/voices/nobody/preview")
        self.assertEqual(st, 404)
        self.assertIn("error", e)

    def test_tokens(self):
        pid, tok = self.project()
        other, otok = self.project()
        self.assertEqual(self.s.request("GET", "/api/projects/" + pid)[0], 403)
        self.assertEqual(self.s.request("GET", "/api/projects/" + pid, token="0" * 48)[0], 403)
        self.assertEqual(self.s.request("GET", "/api/projects/" + pid, token=otok)[0], 403)
        st, p = self.s.request("GET", "/api/projects/%s?token=%s" % (pid, tok))
        self.assertEqual(st, 200)
        self.assertNotIn("token", p)
        self.assertEqual(self.s.request("GET", "/api/projects/ffffffffffffffff", token=tok)[0], 404)
        self.assertEqual(self.s.request("GET", "/api/projects/../../etc", token=tok)[0], 404)
        self.assertEqual(self.s.request("GET", "/api/projects/ABC", token=tok)[0], 404)
        # Another project's upload is not reachable with this project's token.
        st, u = self.s.request("POST", "/api/projects/%s/uploads" % other,
                               {"kind": "subtitles", "name": "a.srt", "size": 10}, token=otok)
        self.assertEqual(self.s.request("GET", "/api/projects/%s/uploads/%s" % (pid, u["id"]), token=tok)[0], 404)

    def test_bad_requests(self):
        pid, tok = self.project()
        base = "/api/projects/%s" % pid
        for body, why in [(b"{not json", "JSON"), (b"[1,2]", "object"), (b"\xff\xfe", "UTF-8")]:
            st, e = self.s.request("POST", base + "/uploads", body, token=tok)
            self.assertEqual(st, 400, why)
            self.assertIn("error", e)
        st, e = self.s.request("POST", base + "/uploads", {"kind": "exe", "size": 5}, token=tok)
        self.assertEqual(st, 400)
        st, e = self.s.request("POST", base + "/uploads", {"kind": "video", "size": 0}, token=tok)
        self.assertEqual(st, 400)
        st, e = self.s.request("POST", base + "/uploads", {"kind": "video", "size": 9 * 1024 * 1024}, token=tok)
        self.assertEqual(st, 413)
        self.assertIn("too large", e["error"])
        st, e = self.s.request("POST", base + "/uploads", {"kind": "video", "size": "big"}, token=tok)
        self.assertEqual(st, 400)
        st, e = self.s.request("POST", base + "/nothing", {}, token=tok)
        self.assertEqual(st, 404)
        st, e = self.s.request("POST", base + "/jobs", {}, token=tok)
        self.assertEqual(st, 409)
        self.assertIn("video", e["error"])
        st, e = self.s.request("PUT", base + "/cues", {"cues": [{"start": 2, "end": 1, "text": "x"}]}, token=tok)
        self.assertEqual(st, 400)
        self.assertIn("Cue 1", e["error"])
        st, e = self.s.request("PUT", base + "/cues", {"cues": "nope"}, token=tok)
        self.assertEqual(st, 400)
        st, e = self.s.request("PUT", base + "/cues",
                               {"cues": [{"start": 0, "end": 1, "text": "x", "speaker": "a=b"}]}, token=tok)
        self.assertEqual(st, 400)
        st, e = self.s.request("POST", base + "/profiles", {"recording": "0123456789abcdef",
                                                            "consent": consent(self.s)}, token=tok)
        self.assertEqual((st, e["error"]), (400, "Record or upload your voice first."))
        st, e = self.s.request("POST", base + "/preview", {"voice": "../../etc/passwd", "text": "hi"}, token=tok)
        self.assertEqual(st, 400)
        st, e = self.s.request("POST", base + "/preview", {"voice": "ana", "text": ""}, token=tok)
        self.assertEqual(st, 400)
        big = b"{" + b" " * (2 * 1024 * 1024) + b"}"
        st, e = self.s.request("POST", base + "/uploads", big, token=tok)
        self.assertEqual(st, 413)

    def test_routes_405_404_and_field_types(self):
        pid, tok = self.project()
        base = "/api/projects/%s" % pid
        # A known path with another method: 405 and the methods it takes.
        st, _, r = self.s.request("PATCH", base + "/jobs", {}, token=tok, raw=True)
        self.assertEqual((st, r.getheader("Allow")), (405, "GET, POST"))
        st, _, r = self.s.request("POST", "/api/health", raw=True)
        self.assertEqual((st, r.getheader("Allow")), (405, "GET"))
        st, _, r = self.s.request("POST", "/", raw=True)
        self.assertEqual((st, r.getheader("Allow")), (405, "GET, HEAD"))
        # An unknown path: 404.
        self.assertEqual(self.s.request("GET", "/api/nothing")[0], 404)
        self.assertEqual(self.s.request("GET", base + "/jobs/0123456789abcdef/x", token=tok)[0], 404)
        # A field of the wrong type is a 400 that names it, not its default.
        for path, body, field in [("/uploads", {"kind": "video", "size": "big"}, "size"),
                                  ("/uploads", {"kind": "video", "size": 10.5}, "size"),
                                  ("/uploads", {"kind": 3, "size": 10}, "kind"),
                                  ("/profiles", {"recording": "0123456789abcdef", "adapt": "yes"}, "adapt"),
                                  ("/preview", {"voice": "ana", "text": 5}, "text"),
                                  ("/jobs", {"mode": 1}, "mode")]:
            st, e = self.s.request("POST", base + path, body, token=tok)
            self.assertEqual(st, 400, (path, body, e))
            self.assertIn('"%s"' % field, e["error"])
        st, e = self.s.request("PUT", base + "/cues", {"cues": [{"start": "0", "end": 1, "text": "x"}]}, token=tok)
        self.assertEqual(st, 400)
        self.assertIn('Cue 1: "start" must be a number', e["error"])
        st, e = self.s.request("PUT", base + "/cues",
                               {"cues": [{"start": 0, "end": 1, "text": "x", "line": "3"}]}, token=tok)
        self.assertEqual(st, 400)
        self.assertIn('Cue 1: "line" must be a number', e["error"])
        st, e = self.s.request("PUT", base + "/cues",
                               {"cues": [{"start": 0, "end": 1, "text": "x", "line": -2}]}, token=tok)
        self.assertEqual(st, 400)
        self.assertIn("out of range", e["error"])
        # null reads as a missing field.
        st, p = self.s.request("POST", "/api/projects", {"name": None})
        self.assertEqual((st, p["name"]), (201, "Untitled"))

    def test_chunked_resumable_upload_and_range(self):
        pid, tok = self.project()
        data = open(VIDEO, "rb").read()
        base = "/api/projects/%s/uploads" % pid
        st, u = self.s.request("POST", base, {"kind": "video", "name": "my film.mkv", "size": len(data)}, token=tok)
        self.assertEqual(st, 201)
        self.assertEqual(u["offset"], 0)
        self.assertGreater(u["chunk_size"], 0)
        url = "%s/%s" % (base, u["id"])
        st, r = self.s.request("PUT", url + "?offset=0", data[:200000], token=tok)
        self.assertEqual((st, r["offset"], r["state"]), (200, 200000, "receiving"))
        # Wrong offset: told where to go on.
        st, r = self.s.request("PUT", url + "?offset=0", data[:1000], token=tok)
        self.assertEqual((st, r["offset"]), (409, 200000))
        st, r = self.s.request("PUT", url, data[:1000], token=tok)
        self.assertEqual(st, 409)
        # Past the end.
        st, r = self.s.request("PUT", url + "?offset=200000", data[200000:] + b"xx", token=tok)
        self.assertEqual(st, 400)
        # A dropped connection mid-chunk keeps what arrived; resume from there.
        import socket
        sock = socket.create_connection(("127.0.0.1", self.s.port))
        sock.sendall(("PUT %s?offset=200000 HTTP/1.1\r\nHost: x\r\nX-Studio-Token: %s\r\n"
                      "Content-Length: 300000\r\n\r\n" % (url, tok)).encode() + data[200000:250000])
        time.sleep(0.3)
        sock.close()
        time.sleep(0.3)
        st, r = self.s.request("GET", url, token=tok)
        self.assertEqual(st, 200)
        off = r["offset"]
        self.assertGreaterEqual(off, 200000)
        self.assertLessEqual(off, 250000)
        while off < len(data):
            st, r = self.s.request("PUT", url + "?offset=%d" % off, data[off:off + 400000], token=tok)
            self.assertEqual(st, 200, r)
            off = r["offset"]
        self.assertEqual(r["state"], "ready")
        self.assertEqual(r["info"]["video"][0]["codec"], "video/x-vp8")
        # Complete: no more chunks.
        st, r = self.s.request("PUT", url + "?offset=%d" % len(data), b"x", token=tok)
        self.assertEqual(st, 409)
        media = "/api/projects/%s/media/%s?token=%s" % (pid, u["id"], tok)
        st, body, resp = self.s.request("GET", media, raw=True)
        self.assertEqual((st, body), (200, data))
        self.assertEqual(resp.getheader("Accept-Ranges"), "bytes")
        st, body, resp = self.s.request("GET", media, headers={"Range": "bytes=100-199"}, raw=True)
        self.assertEqual((st, body), (206, data[100:200]))
        self.assertEqual(resp.getheader("Content-Range"), "bytes 100-199/%d" % len(data))
        st, body, resp = self.s.request("GET", media, headers={"Range": "bytes=-10"}, raw=True)
        self.assertEqual((st, body), (206, data[-10:]))
        st, body, resp = self.s.request("GET", media, headers={"Range": "bytes=%d-" % (len(data) - 5)}, raw=True)
        self.assertEqual((st, body), (206, data[-5:]))
        st, body, resp = self.s.request("GET", media, headers={"Range": "bytes=%d-" % len(data)}, raw=True)
        self.assertEqual(st, 416)
        st, body, resp = self.s.request("GET", media, headers={"Range": "bytes=abc"}, raw=True)
        self.assertEqual(st, 200)
        # Peaks of the soundtrack come (a little later).
        for _ in range(100):
            st, pk = self.s.request("GET", "/api/projects/%s/media/%s/peaks" % (pid, u["id"]), token=tok)
            if st == 200:
                break
            time.sleep(0.1)
        self.assertEqual(st, 200)
        self.assertEqual(pk["rate"], 50)
        self.assertGreater(len(pk["peaks"]), 1000)

    def test_content_is_checked_not_names(self):
        pid, tok = self.project()
        fake = os.path.join(self.tmp, "notavideo.mkv")
        with open(fake, "wb") as f:
            f.write(b"This is plain text pretending to be a video.\n" * 50)
        st, r = upload(self.s, pid, tok, fake, "video")
        self.assertEqual(st, 415)
        self.assertIn("refused", r["error"])
        self.assertEqual(r["upload"]["state"], "rejected")
        # A video sent as subtitles is refused too, and an SRT as a video.
        st, r = upload(self.s, pid, tok, VIDEO, "subtitles", name="x.srt")
        self.assertIn(st, (413, 415))
        st, r = upload(self.s, pid, tok, SRT, "video", name="film.mkv")
        self.assertEqual(st, 415)
        st, p = self.s.request("GET", "/api/projects/" + pid, token=tok)
        self.assertIsNone(p["video"])
        self.assertIsNone(p["subtitles"])
        # The rejected file is gone, and its media URL answers 404.
        st, _ = self.s.request("GET", "/api/projects/%s/media/%s" % (pid, r["upload"]["id"]), token=tok)
        self.assertEqual(st, 404)

    def test_memory_bounded_under_big_rejected_and_accepted_chunks(self):
        pid, tok = self.project()
        size = 8 * 1024 * 1024
        st, u = self.s.request("POST", "/api/projects/%s/uploads" % pid,
                               {"kind": "video", "name": "big.mkv", "size": size}, token=tok)
        before = self.s.rss_kib()
        blob = b"\0" * (4 * 1024 * 1024)
        for i in range(2):
            st, r = self.s.request("PUT", "/api/projects/%s/uploads/%s?offset=%d" % (pid, u["id"], i * len(blob)),
                                   blob, token=tok)
            self.assertEqual(st, 200 if i == 0 else 415, r)
        grown = self.s.rss_kib() - before
        self.assertLess(grown, 6 * 1024, "server RSS grew %d KiB for 8 MiB of upload" % grown)
        # A chunk larger than the limit is refused before its body is read.
        st, u = self.s.request("POST", "/api/projects/%s/uploads" % pid,
                               {"kind": "video", "name": "big.mkv", "size": size}, token=tok)
        st, r = self.s.request("PUT", "/api/projects/%s/uploads/%s?offset=0" % (pid, u["id"]),
                               b"\0" * (8 * 1024 * 1024 + 1), token=tok)
        self.assertEqual(st, 413)

    def test_subtitles_cues_edit_render_download(self):
        pid, tok = self.project()
        base = "/api/projects/%s" % pid
        st, v = upload(self.s, pid, tok, VIDEO, "video")
        self.assertEqual(st, 200)
        st, sub = upload(self.s, pid, tok, ASS, "subtitles")
        self.assertEqual(st, 200, sub)
        self.assertEqual(sub["info"]["format"], "SSA/ASS")
        st, cues = self.s.request("GET", base + "/cues", token=tok)
        self.assertEqual(cues["source"], "upload")
        self.assertEqual(cues["cues"][0]["speaker"], "Narrator")
        self.assertIn("lighthouse", cues["cues"][0]["text"])
        # Edit: change a line, add one, save.
        edited = cues["cues"]
        edited[1]["text"] = "Did you see the big ship last night?"
        edited.append({"start": 26.0, "end": 26.8, "text": "The end, {really}.\nBye", "speaker": "Tom"})
        st, r = self.s.request("PUT", base + "/cues", {"cues": edited, "lang": "en"}, token=tok)
        self.assertEqual((st, r["saved"]), (200, len(edited)))
        st, cues2 = self.s.request("GET", base + "/cues", token=tok)
        self.assertEqual(cues2["source"], "edited")
        self.assertEqual(cues2["cues"][1]["text"], "Did you see the big ship last night?")
        # Where each cue came from in the file (its line and turn) is kept,
        # so that the page's export can keep what was not edited.
        self.assertEqual([(c.get("line"), c.get("turn")) for c in cues2["cues"]],
                         [(c["line"], c["turn"]) for c in cues["cues"][:-1]] + [(None, None)])
        self.assertGreater(cues2["cues"][1]["line"], 0)
        ass = open(os.path.join(self.s.data, "projects", pid, "edited.ass"), encoding="utf-8").read()
        self.assertIn("Dialogue: 0,0:00:26.00,0:00:26.80,Default,Tom,0,0,0,,The end, (really).\\NBye", ass)
        # Bad voices are refused.
        st, e = self.s.request("POST", base + "/jobs", {"voice": "nobody"}, token=tok)
        self.assertEqual(st, 400)
        st, e = self.s.request("POST", base + "/jobs", {"mode": "loud"}, token=tok)
        self.assertEqual(st, 400)
        st, e = self.s.request("POST", base + "/jobs", {"speakers": {"Tom": "profile:0123456789abcdef"}}, token=tok)
        self.assertEqual(st, 400)
        # Live events.
        events = []

        def listen():
            c = http.client.HTTPConnection("127.0.0.1", self.s.port, timeout=30)
            c.request("GET", base + "/events?token=" + tok)
            r = c.getresponse()
            self.assertEqual(r.getheader("Content-Type").split(";")[0], "text/event-stream")
            ev = None
            while True:
                line = r.fp.readline().decode()
                if not line:
                    break
                if line.startswith("event: "):
                    ev = line[7:].strip()
                elif line.startswith("data: "):
                    events.append((ev, json.loads(line[6:])))
                    if ev == "job" and events[-1][1]["state"] in ("done", "failed"):
                        break
        t = threading.Thread(target=listen, daemon=True)
        t.start()
        time.sleep(0.3)
        st, job = self.s.request("POST", base + "/jobs",
                                 {"mode": "replace", "voice": "ben", "lang": "en",
                                     "speakers": {"Tom": "ben", "Mara": "ana"}},
                                 token=tok)
        self.assertEqual(st, 201, job)
        self.assertIn(job["state"], ("queued", "running"))
        st, e = self.s.request("POST", base + "/jobs", {}, token=tok)
        self.assertEqual(st, 409)
        st, e = self.s.request("GET", base + "/jobs/%s/result" % job["id"], token=tok)
        self.assertEqual(st, 409)
        t.join(20)
        kinds = [e[0] for e in events]
        self.assertEqual(kinds[0], "project")
        self.assertIn("progress", kinds)
        self.assertIn("warning", kinds)
        self.assertEqual(events[-1][1]["state"], "done", events[-1])
        st, j = self.s.request("GET", base + "/jobs/" + job["id"], token=tok)
        self.assertEqual((j["state"], j["percent"]), ("done", 100))
        self.assertEqual(len(j["warnings"]), 1)
        # The cue that was sped up and cut is listed with what was done; the
        # one that fitted is not.
        self.assertEqual(len(j["fits"]), 1, j["fits"])
        f = j["fits"][0]
        self.assertEqual((f["index"], f["start"], f["end"], f["step"], f["rate"], f["speed"], f["clipped"]),
                         (1, 3.0, 5.5, "clipped", 1.4, 1.4, 5.671))
        self.assertEqual(f["message"], "Line at 0:03.0–0:05.5 (12.0 s of speech for 2.5 s): "
                                       "sped up 1.40× and the last 5.7 s cut.")
        self.assertEqual([e[1]["fit"] for e in events if e[0] == "fit"], [f])
        # The render was told the provenance of its voices, by their names.
        with open(os.path.join(self.s.data, "projects", pid, "results", job["id"] + ".log")) as log:
            argv = json.loads(log.readline())["argv"]
        note = argv[argv.index("--provenance") + 1]
        self.assertTrue(note.startswith("Synthetic speech: dubbed with AI voices by ganvoice-studio "), note)
        self.assertTrue(note.endswith(" (ganvoice-dub). Voices: ben (built-in); Tom: ben (built-in); "
                                      "Mara: ana (built-in)."), note)
        st, body, resp = self.s.request("GET", j["result"] + "?download=1&token=" + tok, raw=True)
        self.assertEqual(st, 200)
        self.assertEqual(body, open(VIDEO, "rb").read())
        self.assertIn('filename="sample.dubbed.webm"', resp.getheader("Content-Disposition"))
        self.assertEqual(resp.getheader("Content-Type"), "video/webm")

    def test_failed_render_reports_plain_error(self):
        pid, tok = self.project()
        base = "/api/projects/%s" % pid
        upload(self.s, pid, tok, VIDEO, "video")
        st, r = self.s.request("PUT", base + "/cues",
                               {"cues": [{"start": 1, "end": 2, "text": "FAILME please"}]}, token=tok)
        self.assertEqual(st, 200)
        st, job = self.s.request("POST", base + "/jobs", {}, token=tok)
        for _ in range(100):
            st, j = self.s.request("GET", base + "/jobs/" + job["id"], token=tok)
            if j["state"] in ("done", "failed"):
                break
            time.sleep(0.1)
        self.assertEqual(j["state"], "failed")
        self.assertIn("could not be loaded", j["error"])
        self.assertNotIn("result", j)
        st, _ = self.s.request("GET", base + "/jobs/%s/result" % job["id"], token=tok)
        self.assertEqual(st, 409)
        self.assertEqual(os.listdir(os.path.join(self.s.data, "projects", pid, "results")), [job["id"] + ".log"])

    def test_cancel_render(self):
        pid, tok = self.project()
        base = "/api/projects/%s" % pid
        upload(self.s, pid, tok, VIDEO, "video")
        upload(self.s, pid, tok, SRT, "subtitles")
        os.environ["FAKE_DUB_DELAY"] = "0.15"
        st, job = self.s.request("POST", base + "/jobs", {"mode": "add-track"}, token=tok)
        self.assertEqual(st, 201)
        time.sleep(0.3)
        st, r = self.s.request("DELETE", base + "/jobs/" + job["id"], token=tok)
        self.assertEqual((st, r), (200, {"cancelled": True}))
        for _ in range(100):
            st, j = self.s.request("GET", base + "/jobs/" + job["id"], token=tok)
            if j["state"] not in ("queued", "running"):
                break
            time.sleep(0.1)
        self.assertEqual(j["state"], "cancelled")
        results = os.listdir(os.path.join(self.s.data, "projects", pid, "results"))
        self.assertEqual(results, [job["id"] + ".log"])
        st, r = self.s.request("DELETE", base + "/jobs/" + job["id"], token=tok)
        self.assertEqual((st, r), (200, {"deleted": True}))

    def test_worker_profile_adapt(self):
        # The opt-in adapt step through the worker, on speech made by
        # ganvoice with the shipped models.
        tmp = tempfile.mkdtemp(prefix="ganvoice-adapt-")
        self.addCleanup(shutil.rmtree, tmp, True)
        wav, out = os.path.join(tmp, "me.wav"), os.path.join(tmp, "me.voice")
        subprocess.run(["gst-launch-1.0", "-q", "ganvoice", "voice=june", "language=fr",
                        "text=Bonjour, je m'appelle Marie. J'habite à Lyon depuis dix ans, et "
                        "j'aime me promener le long du Rhône le dimanche matin.",
                        "!", "audioconvert", "!", "wavenc", "!", "filesink", "location=" + wav],
                       check=True, timeout=120)
        r = subprocess.run([WORKER, "profile", wav, "--adapt", "-o", out], capture_output=True,
                           text=True, timeout=240)
        # Progress lines (what the page shows while it adapts), then the answer.
        lines = [json.loads(x) for x in r.stdout.splitlines()]
        self.assertEqual(lines[-1], {"ok": True}, r.stderr)
        stages = [x["stage"] for x in lines[:-1] if x.get("type") == "progress"]
        self.assertEqual(stages[:2], ["listening", "loading"], lines)
        tries = [x for x in lines if x.get("stage") == "adapting"]
        self.assertEqual((tries[0]["done"], tries[-1]["done"]), (0, tries[-1]["total"]), tries)
        self.assertGreater(tries[-1]["total"], 1)
        with open(out) as f:
            prof = json.load(f)
        self.assertEqual(len(prof["speaker_embedding"]), 128)
        self.assertEqual(prof["speaker_encoder"], "ganvoice-speaker")
        self.assertFalse(os.path.exists(out + ".tmp"))
        # Not speech: refused before adapting, with the same plain reason.
        r = subprocess.run([WORKER, "profile", VIDEO, "--adapt", "-o",
                            out + "2"], capture_output=True, text=True, timeout=120)
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue(json.loads(r.stdout.splitlines()[-1])["error"].startswith(
            "The voice could not be made from this recording: "), r.stdout)
        self.assertFalse(os.path.exists(out + "2"))

    def test_profile_retry_keeps_adapt(self):
        # The adapt choice is stored with the profile, so a retry makes
        # the profile the way it was first asked for.
        pid, tok = self.project()
        base = "/api/projects/%s" % pid
        st, rec = upload(self.s, pid, tok, VIDEO, "recording", name="me.webm")
        self.assertEqual(st, 200)
        st, prof = self.s.request("POST", base + "/profiles", {"recording": rec["id"], "adapt": True,
                                                               "consent": consent(self.s)}, token=tok)
        self.assertEqual((st, prof["adapt"]), (201, True))
        st, plain = self.s.request("POST", base + "/profiles", {"recording": rec["id"], "consent": consent(self.s)},
                                   token=tok)
        self.assertEqual((st, plain["adapt"]), (201, False))
        for p in (prof, plain):
            for _ in range(600):
                st, r = self.s.request("GET", base + "/profiles", token=tok)
                cur = [x for x in r["profiles"] if x["id"] == p["id"]][0]
                if cur["state"] != "making":
                    break
                time.sleep(0.1)
            self.assertNotEqual(cur["state"], "making")
            st, again = self.s.request("POST", base + "/profiles/%s/retry" % p["id"], token=tok)
            self.assertEqual((st, again["state"], again["adapt"]), (202, "making", p["adapt"]))

    def test_old_database_gains_adapt_column(self):
        # A studio.db from before the adapt option opens, and its profiles
        # read as plain ones.
        import sqlite3
        tmp = tempfile.mkdtemp(prefix="studio-olddb-")
        try:
            data = os.path.join(tmp, "data")
            os.makedirs(data)
            db = sqlite3.connect(os.path.join(data, "studio.db"))
            db.executescript("""
                CREATE TABLE projects (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
                  video TEXT, subtitles TEXT, edited INTEGER NOT NULL DEFAULT 0,
                  settings TEXT NOT NULL DEFAULT '{}', created INTEGER NOT NULL);
                CREATE TABLE profiles (id TEXT PRIMARY KEY, project TEXT NOT NULL, name TEXT NOT NULL,
                  upload TEXT NOT NULL, state TEXT NOT NULL, error TEXT NOT NULL DEFAULT '', created INTEGER NOT NULL);
                INSERT INTO profiles VALUES ('0123456789abcdef', 'p', 'Old', 'u', 'failed', 'x', 1);
            """)
            db.close()
            s = Studio(data)
            try:
                st, p = s.request("POST", "/api/projects", {"name": "Test"})
                self.assertEqual(st, 201)
            finally:
                s.stop()
            db = sqlite3.connect(os.path.join(data, "studio.db"))
            rows = db.execute("SELECT name, adapt FROM profiles").fetchall()
            db.close()
            self.assertEqual(rows, [("Old", 0)])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_recording_profiles(self):
        pid, tok = self.project()
        base = "/api/projects/%s" % pid
        st, rec = upload(self.s, pid, tok, VIDEO, "recording", name="me.webm")
        self.assertEqual(st, 200)
        st, prof = self.s.request("POST", base + "/profiles", {"recording": rec["id"], "name": "Me",
                                                               "adapt": False, "consent": consent(self.s)},
                                  token=tok)
        self.assertEqual(st, 201)
        self.assertEqual(prof["state"], "making")
        for _ in range(100):
            st, lst = self.s.request("GET", base + "/profiles", token=tok)
            if lst["profiles"][0]["state"] != "making":
                break
            time.sleep(0.1)
        p = lst["profiles"][0]
        # A voice that cannot be made (no speakerembed, no acoustic model
        # card, a recording that is not speech) gets a clear reason.
        if p["state"] == "failed":
            self.assertTrue("not available yet" in p["error"] or
                            p["error"].startswith("The voice could not be made from this recording: "),
                            p["error"])
            st, e = self.s.request("GET", base + "/profiles/%s/preview" % p["id"], token=tok)
            self.assertEqual(st, 409)
        st, r = self.s.request("PATCH", base + "/profiles/" + p["id"], {"name": "Me, rested"}, token=tok)
        self.assertEqual((st, r["name"]), (200, "Me, rested"))
        st, r = self.s.request("PATCH", base + "/profiles/" + p["id"], {"name": ""}, token=tok)
        self.assertEqual(st, 400)
        st, r = self.s.request("DELETE", base + "/uploads/" + rec["id"], token=tok)
        self.assertEqual(st, 409)
        st, r = self.s.request("DELETE", base + "/profiles/" + p["id"], token=tok)
        self.assertEqual(st, 200)
        st, lst = self.s.request("GET", base + "/profiles", token=tok)
        self.assertEqual(lst["profiles"], [])
        st, p = self.s.request("GET", base, token=tok)
        self.assertEqual(len(p["recordings"]), 1)

    def test_clone_needs_consent_and_keeps_it(self):
        pid, tok = self.project()
        base = "/api/projects/%s" % pid
        st, rec = upload(self.s, pid, tok, VIDEO, "recording", name="me.webm")
        self.assertEqual(st, 200)
        statement = consent(self.s)
        self.assertIn("permission", statement)
        # Without the statement, or with another text, no voice is made.
        for body in ({"recording": rec["id"]}, {"recording": rec["id"], "consent": ""},
                     {"recording": rec["id"], "consent": "yes"}, {"recording": rec["id"], "consent": None}):
            st, e = self.s.request("POST", base + "/profiles", body, token=tok)
            self.assertEqual((st, e["code"], e["statement"]), (400, "consent_required", statement), body)
            self.assertTrue(e["error"].startswith("Before a voice is cloned" if not body.get("consent")
                                                  else "The consent statement is not the one"), e)
        st, e = self.s.request("POST", base + "/profiles", {"recording": rec["id"], "consent": True}, token=tok)
        self.assertEqual(st, 400)
        self.assertIn('"consent"', e["error"])
        st, lst = self.s.request("GET", base + "/profiles", token=tok)
        self.assertEqual(lst["profiles"], [])
        # With it, the voice keeps who confirmed it, when (UTC) and what.
        before = time.time()
        st, prof = self.s.request("POST", base + "/profiles", {"recording": rec["id"], "name": "Mine",
                                                               "consent": statement}, token=tok)
        self.assertEqual(st, 201, prof)
        c = prof["consent"]
        self.assertEqual((c["by"], c["statement"]), ("project:" + pid, statement))
        at = calendar.timegm(time.strptime(c["at"], "%Y-%m-%dT%H:%M:%SZ"))
        self.assertTrue(int(before) - 1 <= at <= time.time() + 1, (before, c["at"]))
        st, lst = self.s.request("GET", base + "/profiles", token=tok)
        self.assertEqual(lst["profiles"][0]["consent"], c)
        st, p = self.s.request("GET", base, token=tok)
        self.assertEqual(p["profiles"][0]["consent"], c)

    def test_old_database_gains_consent_columns_and_asks_for_consent(self):
        # A voice made before consent was asked for has none, and making it
        # again asks for it.
        import sqlite3
        tmp = tempfile.mkdtemp(prefix="studio-olddb-")
        self.addCleanup(shutil.rmtree, tmp, True)
        s = Studio(os.path.join(tmp, "data"))
        st, p = s.request("POST", "/api/projects", {"name": "Old"})
        pid, tok = p["id"], p["token"]
        base = "/api/projects/%s" % pid
        st, rec = upload(s, pid, tok, VIDEO, "recording", name="me.webm")
        s.stop()
        db = sqlite3.connect(os.path.join(s.data, "studio.db"))
        db.executescript("""
            ALTER TABLE profiles DROP COLUMN consent_by; ALTER TABLE profiles DROP COLUMN consent_at;
            ALTER TABLE profiles DROP COLUMN consent_statement; ALTER TABLE jobs DROP COLUMN fits;
        """)
        db.execute("INSERT INTO profiles (id, project, name, upload, state, created) "
                   "VALUES ('0123456789abcdef', ?, 'Old', ?, 'failed', 1)", (pid, rec["id"]))
        db.commit()
        db.close()
        s = Studio(s.data)
        self.addCleanup(s.stop)
        st, lst = s.request("GET", base + "/profiles", token=tok)
        self.assertEqual(lst["profiles"][0]["consent"], None)
        st, e = s.request("POST", base + "/profiles/0123456789abcdef/retry", token=tok)
        self.assertEqual((st, e["code"]), (400, "consent_required"))
        st, again = s.request("POST", base + "/profiles/0123456789abcdef/retry", {"consent": consent(s)},
                              token=tok)
        self.assertEqual((st, again["consent"]["by"]), (202, "project:" + pid))
        st, jobs = s.request("GET", base + "/jobs", token=tok)
        self.assertEqual((st, jobs["jobs"]), (200, []))

    def test_preview_reports_missing_engine_or_returns_wav(self):
        pid, tok = self.project()
        st, body, r = self.s.request("POST", "/api/projects/%s/preview" % pid,
                                     json.dumps({"voice": "ben", "text": "Hello there.", "lang": "en"}).encode(),
                                     token=tok, raw=True)
        if st == 200:
            self.assertEqual(r.getheader("Content-Type"), "audio/wav")
            self.assertEqual(body[:4], b"RIFF")
        else:
            self.assertIn(st, (422, 503, 504))
            self.assertTrue(json.loads(body)["error"])

    def test_zz_restart_keeps_everything(self):
        pid, tok = self.project()
        base = "/api/projects/%s" % pid
        upload(self.s, pid, tok, VIDEO, "video")
        upload(self.s, pid, tok, SRT, "subtitles")
        # A half-sent upload survives too.
        data = open(SRT, "rb").read()
        st, u = self.s.request("POST", base + "/uploads",
                               {"kind": "subtitles", "name": "b.srt", "size": len(data)}, token=tok)
        self.s.request("PUT", base + "/uploads/%s?offset=0" % u["id"], data[:100], token=tok)
        # A long render is running when the server dies.
        os.environ["FAKE_DUB_DELAY"] = "5"
        st, job = self.s.request("POST", base + "/jobs", {"mode": "duck"}, token=tok)
        time.sleep(0.5)
        self.s.stop(signal.SIGKILL)
        type(self).s = Studio(self.s.data, {"FAKE_DUB_DELAY": "0.1"})
        st, p = self.s.request("GET", base, token=tok)
        self.assertEqual(st, 200)
        self.assertEqual(p["video"]["state"], "ready")
        self.assertEqual(p["subtitles"]["name"], "sample.en.srt")
        self.assertEqual(p["jobs"][0]["state"], "failed")
        self.assertIn("server stopped", p["jobs"][0]["error"])
        st, r = self.s.request("GET", base + "/uploads/" + u["id"], token=tok)
        self.assertEqual((r["state"], r["offset"]), ("receiving", 100))
        st, r = self.s.request("PUT", base + "/uploads/%s?offset=100" % u["id"], data[100:], token=tok)
        self.assertEqual((st, r["state"]), (200, "ready"))
        # A clean stop puts a running render back in the queue.
        st, job = self.s.request("POST", base + "/jobs", {}, token=tok)
        self.assertEqual(st, 201, job)
        time.sleep(0.3)
        self.s.stop(signal.SIGTERM)
        type(self).s = Studio(self.s.data, {"FAKE_DUB_DELAY": "0.05"})
        for _ in range(100):
            st, j = self.s.request("GET", base + "/jobs/" + job["id"], token=tok)
            if j["state"] in ("done", "failed"):
                break
            time.sleep(0.1)
        self.assertEqual(j["state"], "done", j)
        st, r = self.s.request("DELETE", base, token=tok)
        self.assertEqual(st, 200)
        self.assertFalse(os.path.exists(os.path.join(self.s.data, "projects", pid)))
        self.assertEqual(self.s.request("GET", base, token=tok)[0], 404)


def owner_key():
    """A fresh owner key, as the page makes one."""
    return os.urandom(24).hex()


def make_speech(path, text="Bonjour, je m'appelle Marie. J'habite à Lyon depuis dix ans, et j'aime me "
                           "promener le long du Rhône le dimanche matin."):
    subprocess.run(["gst-launch-1.0", "-q", "ganvoice", "voice=june", "language=fr", "text=" + text,
                    "!", "audioconvert", "!", "wavenc", "!", "filesink", "location=" + path],
                   check=True, timeout=120)


def wait_profile(s, base, tok, prid, owner=None, gone=("making",)):
    for _ in range(1200):
        st, r = s.request("GET", base + "/profiles", token=tok, headers=owner and {"X-Studio-Owner": owner})
        cur = [x for x in r["profiles"] if x["id"] == prid][0]
        if cur["state"] not in gone:
            return cur
        time.sleep(0.1)
    return cur


class OwnersAndCleanUp(unittest.TestCase):
    """Owner keys: the list of an owner's projects, deletion, replaced
    uploads leaving the disk, the voice library shared by an owner's
    projects (and old projects joining it), stopping a voice being made,
    and the clean-up policy (age and disk quota)."""

    def studio(self, extra_env=None, data=None):
        if data is None:
            tmp = tempfile.mkdtemp(prefix="studio-owner-")
            self.addCleanup(shutil.rmtree, tmp, True)
            data = os.path.join(tmp, "data")
        s = Studio(data, extra_env)
        self.addCleanup(lambda: s.proc.poll() is not None or s.stop())
        return s

    def new_project(self, s, owner, name="Test"):
        st, p = s.request("POST", "/api/projects", {"name": name},
                          headers={"X-Studio-Owner": owner} if owner else None)
        self.assertEqual(st, 201, p)
        return p["id"], p["token"]

    def test_owner_lists_its_projects_and_deletes_one(self):
        s = self.studio()
        a, b = owner_key(), owner_key()
        st, e = s.request("GET", "/api/projects")
        self.assertEqual(st, 400)
        self.assertIn("owner key", e["error"])
        for bad in ("xyz", "A" * 48, "a" * 31, "a" * 65):
            st, e = s.request("GET", "/api/projects", headers={"X-Studio-Owner": bad})
            self.assertEqual(st, 400, bad)
            st, e = s.request("POST", "/api/projects", {}, headers={"X-Studio-Owner": bad})
            self.assertEqual(st, 400, bad)
        one = self.new_project(s, a, "One")
        two = self.new_project(s, a, "My video")
        self.new_project(s, b, "Theirs")
        self.new_project(s, None, "Nobody's")
        # The default name becomes the video's.
        st, u = upload(s, two[0], two[1], VIDEO, "video", name="holiday.mkv")
        self.assertEqual(st, 200, u)
        st, lst = s.request("GET", "/api/projects", headers={"X-Studio-Owner": a})
        self.assertEqual(st, 200)
        names = {p["id"]: p for p in lst["projects"]}
        self.assertEqual(set(names), {one[0], two[0]})
        self.assertEqual((names[two[0]]["name"], names[two[0]]["video"]), ("holiday", "holiday.mkv"))
        self.assertEqual((names[one[0]]["video"], names[one[0]]["renders"]), (None, 0))
        st, lst = s.request("GET", "/api/projects", headers={"X-Studio-Owner": b})
        self.assertEqual([p["name"] for p in lst["projects"]], ["Theirs"])
        # A project still needs its token, owner or not.
        st, e = s.request("GET", "/api/projects/" + one[0], headers={"X-Studio-Owner": a})
        self.assertEqual(st, 403)
        st, p = s.request("GET", "/api/projects/" + one[0], token=one[1])
        self.assertEqual((st, p["owned"]), (200, True))
        st, r = s.request("DELETE", "/api/projects/" + two[0], token=two[1])
        self.assertEqual(st, 200)
        self.assertFalse(os.path.exists(os.path.join(s.data, "projects", two[0])))
        st, lst = s.request("GET", "/api/projects", headers={"X-Studio-Owner": a})
        self.assertEqual([p["id"] for p in lst["projects"]], [one[0]])

    def test_replaced_uploads_leave_the_disk(self):
        s = self.studio()
        pid, tok = self.new_project(s, owner_key())
        uploads = os.path.join(s.data, "projects", pid, "uploads")
        st, first = upload(s, pid, tok, VIDEO, "video")
        st, subs = upload(s, pid, tok, SRT, "subtitles")
        self.assertTrue(os.path.exists(os.path.join(uploads, first["id"])))
        st, second = upload(s, pid, tok, VIDEO, "video", name="again.mkv")
        self.assertEqual((st, second["state"]), (200, "ready"))
        st, p = s.request("GET", "/api/projects/" + pid, token=tok)
        self.assertEqual((p["video"]["id"], p["subtitles"]["id"]), (second["id"], subs["id"]))
        self.assertEqual(s.request("GET", "/api/projects/%s/uploads/%s" % (pid, first["id"]), token=tok)[0], 404)
        left = sorted(f for f in os.listdir(uploads) if f.startswith(first["id"]))
        self.assertEqual(left, [])
        self.assertTrue(os.path.exists(os.path.join(uploads, second["id"])))
        st, again = upload(s, pid, tok, ASS, "subtitles")
        self.assertEqual(sorted(f for f in os.listdir(uploads) if f.startswith(subs["id"])), [])

    def test_voices_belong_to_the_owner_in_all_its_projects(self):
        s = self.studio()
        a = owner_key()
        one, two = self.new_project(s, a, "One"), self.new_project(s, a, "Two")
        other = self.new_project(s, owner_key(), "Other owner")
        wav = os.path.join(s.data, "..", "me.wav")
        make_speech(wav)
        st, rec = upload(s, one[0], one[1], wav, "recording", name="me.wav")
        self.assertEqual(st, 200, rec)
        base1, base2 = "/api/projects/%s" % one[0], "/api/projects/%s" % two[0]
        st, prof = s.request("POST", base1 + "/profiles", {"recording": rec["id"], "name": "Marie",
                                                           "consent": consent(s)}, token=one[1])
        self.assertEqual((st, prof["library"], prof["project"]), (201, True, one[0]))
        prof = wait_profile(s, base1, one[1], prof["id"])
        self.assertEqual(prof["state"], "ready", prof)
        self.assertTrue(os.path.exists(os.path.join(s.data, "library", prof["id"] + ".voice")))
        # The other project of the owner has it, and can use it.
        st, lst = s.request("GET", base2 + "/profiles", token=two[1])
        self.assertEqual([p["id"] for p in lst["profiles"]], [prof["id"]])
        st, p = s.request("GET", base2, token=two[1])
        self.assertEqual([x["name"] for x in p["profiles"]], ["Marie"])
        st, lib = s.request("GET", "/api/library", headers={"X-Studio-Owner": a})
        self.assertEqual([x["id"] for x in lib["profiles"]], [prof["id"]])
        st, body, r = s.request("POST", base2 + "/preview", json.dumps(
            {"voice": prof["voice"], "text": "Bonjour.", "lang": "fr"}).encode(), token=two[1], raw=True)
        self.assertNotEqual(st, 400, body)
        st, r = s.request("PATCH", base2 + "/profiles/" + prof["id"], {"name": "Marie B"}, token=two[1])
        self.assertEqual((st, r["name"]), (200, "Marie B"))
        # Another owner's project does not.
        base3 = "/api/projects/%s" % other[0]
        st, lst = s.request("GET", base3 + "/profiles", token=other[1])
        self.assertEqual(lst["profiles"], [])
        st, e = s.request("POST", base3 + "/preview", {"voice": prof["voice"], "text": "Bonjour."}, token=other[1])
        self.assertEqual(st, 400)
        self.assertEqual(s.request("GET", base3 + "/profiles/%s/preview" % prof["id"], token=other[1])[0], 404)
        self.assertEqual(s.request("DELETE", base3 + "/profiles/" + prof["id"], token=other[1])[0], 404)
        # Deleting the project it was made in keeps the voice.
        self.assertEqual(s.request("DELETE", base1, token=one[1])[0], 200)
        st, lst = s.request("GET", base2 + "/profiles", token=two[1])
        self.assertEqual([(p["id"], p["state"]) for p in lst["profiles"]], [(prof["id"], "ready")])
        # Its recording went with that project: making it again says so.
        st, again = s.request("POST", base2 + "/profiles/%s/retry" % prof["id"], token=two[1])
        self.assertEqual(st, 202, again)
        again = wait_profile(s, base2, two[1], prof["id"])
        self.assertEqual(again["state"], "failed")
        self.assertIn("deleted with its project", again["error"])
        st, r = s.request("DELETE", base2 + "/profiles/" + prof["id"], token=two[1])
        self.assertEqual(st, 200)
        self.assertFalse(os.path.exists(os.path.join(s.data, "library", prof["id"] + ".voice")))

    def test_old_project_and_its_voices_join_the_owner(self):
        # A project and voice from before owners (a foreign key deleted a
        # voice with its project): opened with an owner key, both are the
        # owner's, and the voice outlives the project.
        import sqlite3
        s = self.studio()
        pid, tok = self.new_project(s, None, "Old")
        st, rec = upload(s, pid, tok, VIDEO, "recording", name="me.webm")
        s.stop()
        db = sqlite3.connect(os.path.join(s.data, "studio.db"))
        db.executescript("""
            DROP TABLE profiles;
            CREATE TABLE profiles (id TEXT PRIMARY KEY,
              project TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
              name TEXT NOT NULL, upload TEXT NOT NULL, state TEXT NOT NULL,
              error TEXT NOT NULL DEFAULT '', created INTEGER NOT NULL);
        """)
        db.execute("INSERT INTO profiles VALUES ('0123456789abcdef', ?, 'Old voice', ?, 'ready', '', 1)",
                   (pid, rec["id"]))
        db.commit()
        db.close()
        os.makedirs(os.path.join(s.data, "projects", pid, "profiles"))
        with open(os.path.join(s.data, "projects", pid, "profiles", "0123456789abcdef.voice"), "w") as f:
            f.write("{}")
        s = self.studio(data=s.data)
        a = owner_key()
        base = "/api/projects/" + pid
        st, p = s.request("GET", base, token=tok)
        self.assertEqual((st, p["owned"], p["profiles"][0]["library"]), (200, False, False))
        st, p = s.request("GET", base, token=tok, headers={"X-Studio-Owner": a})
        self.assertEqual((st, p["owned"], p["profiles"][0]["library"]), (200, True, True))
        self.assertTrue(os.path.exists(os.path.join(s.data, "library", "0123456789abcdef.voice")))
        st, lst = s.request("GET", "/api/projects", headers={"X-Studio-Owner": a})
        self.assertEqual([x["id"] for x in lst["projects"]], [pid])
        self.assertEqual(s.request("DELETE", base, token=tok)[0], 200)
        st, lib = s.request("GET", "/api/library", headers={"X-Studio-Owner": a})
        self.assertEqual([(x["name"], x["state"]) for x in lib["profiles"]], [("Old voice", "ready")])

    def test_adapt_shows_progress_and_can_be_stopped(self):
        s = self.studio()
        a = owner_key()
        pid, tok = self.new_project(s, a)
        base = "/api/projects/" + pid
        wav = os.path.join(s.data, "..", "me.wav")
        make_speech(wav)
        st, rec = upload(s, pid, tok, wav, "recording", name="me.wav")
        st, prof = s.request("POST", base + "/profiles", {"recording": rec["id"], "adapt": True,
                                                          "consent": consent(s)}, token=tok)
        self.assertEqual(st, 201, prof)
        self.assertEqual(prof["progress"]["stage"], "waiting")
        seen = set()
        for _ in range(1200):
            cur = wait_profile(s, base, tok, prof["id"], gone=())
            if cur["state"] != "making":
                break
            seen.add(cur["progress"]["stage"])
            if cur["progress"]["stage"] in ("loading", "adapting"):
                break
            time.sleep(0.1)
        self.assertEqual(cur["state"], "making", cur)
        self.assertTrue(seen & {"listening", "loading", "adapting"}, seen)
        st, r = s.request("POST", base + "/profiles/%s/cancel" % prof["id"], token=tok)
        self.assertEqual(st, 200, r)
        cur = wait_profile(s, base, tok, prof["id"])
        self.assertEqual((cur["state"], cur["error"], cur["progress"]),
                         ("failed", "You stopped making this voice.", None))
        self.assertEqual(s.request("POST", base + "/profiles/%s/cancel" % prof["id"], token=tok)[0], 409)
        self.assertFalse(os.path.exists(os.path.join(s.data, "library", prof["id"] + ".voice")))

    def test_clean_up_by_age_and_disk_quota(self):
        import sqlite3
        s = self.studio({"GANVOICE_STUDIO_KEEP_DAYS": "7", "GANVOICE_STUDIO_MAX_DISK_MB": "1"})
        st, c = s.request("GET", "/api/config")
        self.assertEqual((c["keep_days"], c["max_disk_bytes"]), (7, 1024 * 1024))
        a = owner_key()
        old, lru, recent = (self.new_project(s, a, n) for n in ("Old", "Least recent", "Recent"))
        for pid, tok in (old, lru, recent):
            st, u = upload(s, pid, tok, VIDEO, "video")  # 1 MB each: 3 MB in all, over the 1 MB quota
            self.assertEqual(st, 200)
        gone_owner = "f" * 64
        s.stop()
        now = int(time.time())
        db = sqlite3.connect(os.path.join(s.data, "studio.db"))
        db.execute("UPDATE projects SET updated = ? WHERE id = ?", (now - 8 * 86400, old[0]))
        db.execute("UPDATE projects SET updated = ? WHERE id = ?", (now - 3600, lru[0]))
        db.execute("UPDATE projects SET updated = ? WHERE id = ?", (now - 60, recent[0]))
        # An owner not seen for 8 days, with no project left, and its voice.
        db.execute("INSERT INTO owners VALUES (?, ?)", (gone_owner, now - 8 * 86400))
        db.execute("INSERT INTO profiles (id, project, owner, name, upload, state, created) "
                   "VALUES ('00000000000000aa', 'ffffffffffffffff', ?, 'Gone', '', 'ready', 1)", (gone_owner,))
        db.commit()
        db.close()
        with open(os.path.join(s.data, "library", "00000000000000aa.voice"), "w") as f:
            f.write("{}")
        s = self.studio({"GANVOICE_STUDIO_KEEP_DAYS": "7", "GANVOICE_STUDIO_MAX_DISK_MB": "1"}, data=s.data)
        # Unused for 8 days: gone. Then over 1 MB: the least recently used.
        for pid, tok in (old, lru):
            self.assertEqual(s.request("GET", "/api/projects/" + pid, token=tok)[0], 404)
            self.assertFalse(os.path.exists(os.path.join(s.data, "projects", pid)))
        st, p = s.request("GET", "/api/projects/" + recent[0], token=recent[1])
        self.assertEqual((st, p["video"]["state"]), (200, "ready"))
        self.assertFalse(os.path.exists(os.path.join(s.data, "library", "00000000000000aa.voice")))
        db = sqlite3.connect(os.path.join(s.data, "studio.db"))
        self.assertEqual(db.execute("SELECT COUNT(*) FROM profiles WHERE owner = ?", (gone_owner,)).fetchone(), (0,))
        db.close()
        # Nothing is deleted without limits.
        s.stop()
        s = self.studio({"GANVOICE_STUDIO_KEEP_DAYS": "0"}, data=s.data)
        self.assertEqual(s.request("GET", "/api/projects/" + recent[0], token=recent[1])[0], 200)


class StalledRender(unittest.TestCase):
    """A render whose pipeline stalls ends with the watchdog's error on the
    render screen (the job's error), not a job that runs for ever. Runs the
    real ganvoice-dub (tests/studio/stalled-dub.sh) on a video with AC-3
    audio, which the stalling test decoder takes."""

    def test_watchdog_error_reaches_the_job(self):
        dub, plugins = os.environ.get("GANVOICE_DUB_PATH"), os.environ.get("GANVOICE_TEST_STALL_PLUGIN_DIR")
        if not dub or not plugins:
            self.skipTest("GANVOICE_DUB_PATH or GANVOICE_TEST_STALL_PLUGIN_DIR unset (run through meson test)")
        tmp = tempfile.mkdtemp(prefix="studio-stall-")
        self.addCleanup(shutil.rmtree, tmp, True)
        video = os.path.join(tmp, "ac3.mkv")
        subprocess.run(["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=100", "!",
                        "video/x-raw,width=160,height=120,framerate=25/1", "!", "vp8enc", "deadline=1",
                        "!", "queue", "!", "mux.", "audiotestsrc", "num-buffers=188", "!",
                        "audio/x-raw,rate=48000,channels=2", "!", "audioconvert", "!", "avenc_ac3",
                        "!", "queue", "!", "mux.", "matroskamux", "name=mux", "!", "filesink",
                        "location=" + video], check=True, timeout=60)
        s = Studio(os.path.join(tmp, "data"), {
            "GANVOICE_STUDIO_DUB": os.path.join(HERE, "stalled-dub.sh"),
            "STALLED_DUB_REGISTRY": os.path.join(tmp, "registry.bin")})
        self.addCleanup(s.stop)
        st, p = s.request("POST", "/api/projects", {"name": "Stall"})
        pid, tok = p["id"], p["token"]
        base = "/api/projects/%s" % pid
        upload(s, pid, tok, video, "video")
        st, _ = s.request("PUT", base + "/cues", {"cues": [{"start": 1, "end": 2, "text": "Hello there."}]},
                          token=tok)
        self.assertEqual(st, 200)
        st, job = s.request("POST", base + "/jobs", {}, token=tok)
        self.assertEqual(st, 201, job)
        for _ in range(300):
            st, j = s.request("GET", base + "/jobs/" + job["id"], token=tok)
            if j["state"] in ("done", "failed"):
                break
            time.sleep(0.1)
        self.assertEqual(j["state"], "failed", j)
        self.assertIn("made no progress for 2 s", j["error"])
        self.assertIn("The stalled branch", j["error"])
        self.assertEqual(os.listdir(os.path.join(s.data, "projects", pid, "results")), [job["id"] + ".log"])


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])

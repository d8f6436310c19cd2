#!/usr/bin/env python3
"""API tests of the studio's "Read to me" (deep clones) with the tiny test
models: prompt lists, readings, takes and their checks (voiced, silent,
clipped, WebM/Opus, not audio), training with tiny limits and its progress
on the event stream, cancel and resume (through the API and through a
restart of the studio), one training at a time, the voice it makes in the
profiles (preview, render), and the 4xx answers.

    test_studio_reading.py STUDIO_BINARY WORKER_BINARY SOURCE_DIR
"""
import concurrent.futures
import http.client
import io
import json
import math
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_studio_api import SOURCE, SRT, VIDEO, Studio, consent, upload  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))
from dubtest import tiny_model_dir  # noqa: E402
RATE = 16000
# Training limits small enough for a test: a few training seconds.
LIMITS = {"time_limit": 2, "max_steps": 100000}
# A take's speech against the length its text usually takes: within the
# check's "factor of about 2", and few takes make 20 s.
STRETCH = 1.6


def wav_bytes(samples, rate=RATE):
    out = io.BytesIO()
    w = wave.open(out, "wb")
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(rate)
    w.writeframes(b"".join(struct.pack("<h", max(-32768, min(32767, int(x * 32767)))) for x in samples))
    w.close()
    return out.getvalue()


def voiced(seconds, amp=0.25):
    """Speech-like sound: a gliding harmonic tone in syllables of 0.25 s,
    with 0.2 s of silence at each end."""
    pad = [0.0] * int(0.2 * RATE)
    out = []
    for n in range(int(seconds * RATE)):
        t = n / RATE
        f0 = 110 + 25 * math.sin(2 * math.pi * 0.7 * t)
        env = 0.55 - 0.45 * math.cos(2 * math.pi * 4 * t)
        out.append(amp * env * sum(math.sin(2 * math.pi * f0 * k * t) / k for k in (1, 2, 3, 4, 5)) / 2.3)
    return pad + out + pad


def webm_opus(path, seconds=2.0):
    """A WebM/Opus take, as MediaRecorder sends it (None without the
    encoders)."""
    r = subprocess.run(["gst-launch-1.0", "-q", "audiotestsrc", "wave=saw", "freq=140", "volume=0.3",
                        "num-buffers=%d" % int(seconds * 100), "samplesperbuffer=480", "!",
                        "audio/x-raw,rate=48000,channels=1", "!", "opusenc", "!", "webmmux", "!",
                        "filesink", "location=" + path], capture_output=True, timeout=60)
    return path if r.returncode == 0 and os.path.getsize(path) > 0 else None


class Events:
    """The project's event stream, collected on a thread."""

    def __init__(self, studio, base, token):
        self.events = []
        self.conn = http.client.HTTPConnection("127.0.0.1", studio.port, timeout=120)
        self.conn.request("GET", base + "/events?token=" + token)
        self.resp = self.conn.getresponse()
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        ev = None
        try:
            while True:
                line = self.resp.fp.readline().decode()
                if not line:
                    return
                if line.startswith("event: "):
                    ev = line[7:].strip()
                elif line.startswith("data: "):
                    self.events.append((ev, json.loads(line[6:])))
        except (OSError, ValueError, AttributeError):
            return  # closed

    def close(self):
        self.conn.close()

    def of(self, kind):
        return [e[1] for e in self.events if e[0] == kind]


class ReadingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="studio-reading-")
        # The tiny models stand in for the shipped ones: the worker's takes,
        # trainings and previews all use them.
        models = tiny_model_dir(cls.tmp)
        cls.env = {"GANVOICE_MODEL_DIR": models}
        # Renders with the real ganvoice-dub (meson test sets its path), so
        # that the file and the cues' fitting are the real ones.
        if os.environ.get("GANVOICE_DUB_PATH"):
            cls.env["GANVOICE_STUDIO_DUB"] = os.environ["GANVOICE_DUB_PATH"]
        cls.s = Studio(os.path.join(cls.tmp, "data"), cls.env)
        st, p = cls.s.request("GET", "/api/prompts/en")
        assert st == 200, p
        cls.sentences = p["sentences"]

    @classmethod
    def tearDownClass(cls):
        if cls.s.proc.poll() is None:
            cls.s.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def project(self):
        st, p = self.s.request("POST", "/api/projects", {"name": "Reading"})
        self.assertEqual(st, 201)
        return "/api/projects/%s" % p["id"], p["token"]

    def reading(self, base, tok, **kw):
        body = {"language": "en", "name": "Me, read", "gender": "female", "consent": consent(self.s)}
        body.update(kw)
        st, r = self.s.request("POST", base + "/readings", body, token=tok)
        self.assertEqual(st, 201, r)
        return base + "/readings/" + r["id"], r

    def take(self, url, tok, i, data):
        return self.s.request("PUT", "%s/takes/%d" % (url, i), data, token=tok,
                              headers={"Content-Type": "audio/wav"})

    per_char = 0.07  # seconds of speech per character of text, as the check says

    def good_take(self, url, tok, i):
        """A voiced take of sentence @i, about as long as its text wants."""
        text = self.sentences[i]
        st, r = self.take(url, tok, i, wav_bytes(voiced(STRETCH * self.per_char * len(text))))
        self.assertEqual(st, 200, r)
        if r["take"]["expected_seconds"] > 0:
            type(self).per_char = r["take"]["expected_seconds"] / len(text)
        if not r["take"]["ok"] and r["take"]["expected_seconds"] > 0:
            st, r = self.take(url, tok, i, wav_bytes(voiced(r["take"]["expected_seconds"])))
            self.assertEqual(st, 200, r)
        self.assertTrue(r["take"]["ok"], r["take"])
        return r

    def enough_takes(self, *readings):
        """Good takes of the longest sentences, two at a time (the worker
        starts slowly), until each of @readings ((url, token) pairs) has
        enough speech to train."""
        longest = sorted(range(len(self.sentences)), key=lambda i: -len(self.sentences[i]))
        want = 1.25 * 20 / (STRETCH * self.per_char)  # characters of text
        jobs, chars = [], 0
        for i in longest:
            if chars >= want:
                break
            jobs += [(url, tok, i) for url, tok in readings]
            chars += len(self.sentences[i])
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda job: self.good_take(*job), jobs))
        out = []
        for url, tok in readings:
            st, r = self.s.request("GET", url, token=tok)
            self.assertTrue(r["can_train"], r)
            out.append(r)
        return out

    def wait(self, url, tok, pred, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            st, r = self.s.request("GET", url, token=tok)
            self.assertEqual(st, 200, r)
            if pred(r):
                return r
            time.sleep(0.1)
        self.fail("timed out; last: %s" % json.dumps(r)[:2000])

    def check_render(self, base, tok, jid, prof):
        """The real render of test_train_…: the cue that did not fit is listed
        with what was done, and the file carries its provenance."""
        for _ in range(1200):
            st, j = self.s.request("GET", base + "/jobs/" + jid, token=tok)
            if j["state"] not in ("queued", "running"):
                break
            time.sleep(0.1)
        self.assertEqual(j["state"], "done", j)
        # Default overflow: sped up to 1.4×, then cut at the next line.
        self.assertEqual([f["start"] for f in j["fits"]], [1.0], j["fits"])
        f = j["fits"][0]
        self.assertEqual((f["end"], f["step"]), (1.05, "clipped"), f)
        self.assertAlmostEqual(f["rate"], 1.4, places=2)
        self.assertGreater(f["natural"], 1.4 * 0.1)
        self.assertGreater(f["clipped"], 0)
        self.assertAlmostEqual(f["clipped"], f["natural"] / f["rate"] - 0.1, delta=0.02)
        self.assertIn(" s cut.", f["message"])
        st, body, _ = self.s.request("GET", j["result"] + "?token=" + tok, raw=True)
        self.assertEqual(st, 200)
        path = os.path.join(self.tmp, "result-" + os.path.basename(j["file"]))
        with open(path, "wb") as out:
            out.write(body)
        note = next((v for k, v in format_tags(path).items() if k.startswith("comment")), "")
        self.assertTrue(note.startswith("Synthetic speech: dubbed with AI voices by ganvoice-studio "), note)
        self.assertIn("Voices: Deep me (deep clone, consent given %s)." % prof["consent"]["at"], note)

    def test_prompt_lists(self):
        st, p = self.s.request("GET", "/api/prompts")
        self.assertEqual(st, 200)
        langs = {x["code"]: x for x in p["languages"]}
        for code in ("en", "es", "fr", "it", "de", "ru", "ko", "cs"):
            self.assertEqual(langs[code]["sentences"], 60, code)
        self.assertEqual((langs["en"]["name"], langs["en"]["espeak"]), ("English", "en-us"))
        self.assertEqual(len(self.sentences), 60)
        self.assertTrue(self.sentences[0].startswith("The weather was so pleasant"))
        st, e = self.s.request("GET", "/api/prompts/xx")
        self.assertEqual(st, 404)
        self.assertIn("error", e)

    def test_bad_requests(self):
        base, tok = self.project()
        ok = consent(self.s)
        st, e = self.s.request("POST", base + "/readings", {"language": "xx", "name": "A", "consent": ok},
                               token=tok)
        self.assertEqual(st, 400)
        self.assertIn("(there are: ", e["error"])
        self.assertIn("en", e["error"])
        st, e = self.s.request("POST", base + "/readings", {"language": "en", "gender": "robot", "consent": ok},
                               token=tok)
        self.assertEqual(st, 400)
        self.assertIn("gender", e["error"])
        # A deep clone starts only with the consent statement confirmed.
        for body in ({"language": "en"}, {"language": "en", "consent": "It is fine."}):
            st, e = self.s.request("POST", base + "/readings", body, token=tok)
            self.assertEqual((st, e["code"]), (400, "consent_required"), body)
        st, lst = self.s.request("GET", base + "/readings", token=tok)
        self.assertEqual(lst["readings"], [])
        st, e = self.s.request("POST", base + "/readings", {"language": 5}, token=tok)
        self.assertEqual(st, 400)
        self.assertIn('"language"', e["error"])
        self.assertEqual(self.s.request("GET", base + "/readings/0123456789abcdef", token=tok)[0], 404)
        url, r = self.reading(base, tok)
        self.assertEqual((r["state"], r["sentences"], r["takes"], r["can_train"]), ("reading", 60, [], False))
        # The wrong token.
        self.assertEqual(self.take(url, "0" * 48, 0, wav_bytes(voiced(1)))[0], 403)
        # Sentences out of range.
        for i in ("60", "999", "-1", "x", "1.5"):
            st, e = self.s.request("PUT", "%s/takes/%s" % (url, i), wav_bytes(voiced(1)), token=tok)
            self.assertEqual(st, 404, i)
            self.assertIn("error", e)
        # Empty, not audio, audio without sound.
        st, e = self.take(url, tok, 0, b"")
        self.assertEqual(st, 400)
        self.assertIn("empty", e["error"])
        st, e = self.take(url, tok, 0, b"hello, this is not a recording\n" * 50)
        self.assertEqual(st, 415, e)
        self.assertIn("cannot be used", e["error"])
        st, e = self.take(url, tok, 0, wav_bytes([]))
        self.assertIn(st, (415, 422), e)
        st, e = self.take(url, tok, 0, open(SRT, "rb").read())
        self.assertEqual(st, 415, e)
        st, r = self.s.request("GET", url, token=tok)
        self.assertEqual(r["takes"], [])
        # Too little speech to train.
        self.good_take(url, tok, 0)
        st, e = self.s.request("POST", url + "/train", LIMITS, token=tok)
        self.assertEqual(st, 422, e)
        self.assertIn("at least 20 s", e["error"])
        st, e = self.s.request("POST", url + "/train", {"time_limit": "soon"}, token=tok)
        self.assertEqual(st, 400)
        st, e = self.s.request("POST", url + "/train", {"max_steps": 0}, token=tok)
        self.assertEqual(st, 400)
        st, e = self.s.request("POST", url + "/cancel", token=tok)
        self.assertEqual(st, 409)
        st, _, resp = self.s.request("PATCH", url + "/train", {}, token=tok, raw=True)
        self.assertEqual((st, resp.getheader("Allow")), (405, "POST, DELETE"))
        # A take that is not there.
        self.assertEqual(self.s.request("GET", url + "/takes/5", token=tok)[0], 404)
        st, r = self.s.request("DELETE", url, token=tok)
        self.assertEqual((st, r), (200, {"deleted": True}))
        self.assertEqual(self.s.request("GET", url, token=tok)[0], 404)

    def test_takes_checks_and_redo(self):
        base, tok = self.project()
        url, _ = self.reading(base, tok)
        r = self.good_take(url, tok, 3)
        t = r["take"]
        self.assertEqual(t["index"], 3)
        self.assertEqual(t["problems"], [])
        for k in ("seconds", "speech_seconds", "peak_dbfs", "speech_dbfs", "clipped_fraction",
                  "expected_seconds", "phonemes"):
            self.assertIsInstance(t[k], (int, float), k)
        self.assertGreater(t["speech_seconds"], 0.5)
        self.assertEqual(r["reading"]["good_takes"], 1)
        # The take as the server keeps it.
        st, body, resp = self.s.request("GET", t["url"], token=tok, raw=True)
        self.assertEqual((st, resp.getheader("Content-Type"), body[:4]), (200, "audio/wav", b"RIFF"))
        seconds = t["seconds"]
        # Silence, clipping: kept, with their problems.
        st, r = self.take(url, tok, 4, wav_bytes([0.0] * RATE * 3))
        self.assertEqual(st, 200, r)
        self.assertFalse(r["take"]["ok"])
        self.assertTrue(r["take"]["problems"])
        loud = [max(-1.0, min(1.0, 4 * x)) for x in voiced(0.07 * len(self.sentences[5]), amp=1.0)]
        st, r = self.take(url, tok, 5, wav_bytes(loud))
        self.assertEqual(st, 200, r)
        self.assertFalse(r["take"]["ok"])
        self.assertGreater(r["take"]["clipped_fraction"], 0)
        self.assertTrue(any("clip" in p for p in r["take"]["problems"]), r["take"]["problems"])
        self.assertEqual(r["reading"]["good_takes"], 1)
        # Redo: a new take of sentence 3 replaces the old one; one that
        # cannot be read leaves it as it was.
        st, r = self.take(url, tok, 3, wav_bytes([0.0] * RATE * 2))
        self.assertEqual(st, 200)
        self.assertFalse(r["take"]["ok"])
        self.assertNotEqual(r["take"]["seconds"], seconds)
        st, e = self.take(url, tok, 3, b"nonsense" * 100)
        self.assertEqual(st, 415)
        st, rd = self.s.request("GET", url, token=tok)
        self.assertEqual([x["index"] for x in rd["takes"]], [3, 4, 5])
        self.assertEqual(rd["takes"][0]["seconds"], r["take"]["seconds"])
        self.assertEqual((rd["good_takes"], rd["speech_seconds"]), (0, 0))
        # A take as the browser records it.
        webm = webm_opus(os.path.join(self.tmp, "take.webm"))
        if webm:
            with open(webm, "rb") as f:
                st, r = self.take(url, tok, 6, f.read())
            self.assertEqual(st, 200, r)
            self.assertAlmostEqual(r["take"]["seconds"], 2.0, delta=0.2)
        st, r = self.s.request("DELETE", url + "/takes/4", token=tok)
        self.assertEqual(st, 200)
        self.assertNotIn(4, [x["index"] for x in r["takes"]])
        # The project lists its readings.
        st, p = self.s.request("GET", base, token=tok)
        self.assertEqual(len(p["readings"]), 1)

    def test_train_cancel_resume_restart_and_use(self):
        base, tok = self.project()
        url, _ = self.reading(base, tok, name="Deep me")
        # Another project's training waits for its turn.
        base2, tok2 = self.project()
        url2, _ = self.reading(base2, tok2, language="en")
        self.good_take(url, tok, 0)  # how long the check wants a text
        r, _ = self.enough_takes((url, tok), (url2, tok2))
        self.assertGreaterEqual(r["speech_seconds"], 20)
        events = Events(self.s, base, tok)
        self.addCleanup(events.close)

        st, r = self.s.request("POST", url + "/train", LIMITS, token=tok)
        self.assertEqual(st, 202, r)
        self.assertIn(r["state"], ("queued", "training"))
        self.assertEqual(r["options"], {"time_limit": 2, "max_steps": 2000})  # at most the studio's
        st, e = self.s.request("POST", url + "/train", LIMITS, token=tok)
        self.assertEqual(st, 409)
        st, e = self.take(url, tok, 0, wav_bytes(voiced(2)))
        self.assertEqual(st, 409)
        st, r2 = self.s.request("POST", url2 + "/train", LIMITS, token=tok2)
        self.assertEqual((st, r2["state"], r2["queue_position"]), (202, "queued", 1))

        # Cancel mid-way: the state is kept.
        r = self.wait(url, tok, lambda x: x["state"] not in ("queued", "training") or (
            (x["progress"] or {}).get("stage") == "training" and x["progress"]["step"] > 0))
        self.assertEqual(r["state"], "training", r)
        st, r = self.s.request("DELETE", url + "/train", token=tok)
        self.assertEqual(st, 200, r)
        r = self.wait(url, tok, lambda x: x["state"] != "training")
        self.assertEqual(r["state"], "cancelled", r)
        stopped_at = r["progress"]["elapsed"]
        self.assertLess(stopped_at, 2)
        # The waiting one had its turn; cancel it too.
        r2 = self.wait(url2, tok2, lambda x: x["state"] == "training")
        self.assertEqual(r2["queue_position"], 0)
        st, _ = self.s.request("POST", url2 + "/cancel", token=tok2)
        self.assertEqual(st, 200)
        self.wait(url2, tok2, lambda x: x["state"] == "cancelled")

        # Train again: it resumes. Stop the studio cleanly mid-way: it
        # carries on after the restart.
        st, r = self.s.request("POST", url + "/train", LIMITS, token=tok)
        self.assertEqual(st, 202, r)
        r = self.wait(url, tok, lambda x: x["state"] not in ("queued", "training") or (
            (x["progress"] or {}).get("stage") == "training" and x["progress"]["step"] > 0))
        self.assertTrue(r["progress"]["resumed"], r)
        self.assertEqual(r["state"], "training", r)
        events.close()
        self.s.stop(signal.SIGTERM)
        type(self).s = Studio(self.s.data, self.env)
        events = Events(self.s, base, tok)
        self.addCleanup(events.close)
        r = self.wait(url, tok, lambda x: x["state"] not in ("queued", "training"), timeout=90)
        self.assertEqual(r["state"], "done", r)
        self.assertEqual(r["progress"]["fraction"], 1)
        self.assertTrue(r["progress"]["resumed"])
        self.assertGreaterEqual(r["progress"]["elapsed"], stopped_at)
        self.assertRegex(r["profile"], "^[0-9a-f]{16}$")
        self.assertEqual(r["voice"], "profile:" + r["profile"])
        self.assertFalse(os.path.exists(os.path.join(self.s.data, "projects", base.split("/")[-1], "readings",
                                                     r["id"], "checkpoint.pt")))
        # The events told it.
        time.sleep(0.3)
        self.assertTrue(events.of("training"), [e[0] for e in events.events])
        self.assertIn("done", [x["state"] for x in events.of("reading")])
        self.assertIn(r["profile"], [x["id"] for x in events.of("profile")])

        # The voice is a profile like any other: listed, previewed, rendered.
        st, lst = self.s.request("GET", base + "/profiles", token=tok)
        prof = [p for p in lst["profiles"] if p["id"] == r["profile"]][0]
        self.assertEqual((prof["name"], prof["state"], prof["deep"], prof["reading"]),
                         ("Deep me", "ready", True, r["id"]))
        with open(os.path.join(self.s.data, "projects", base.split("/")[-1], "profiles",
                               prof["id"] + ".voice")) as f:
            self.assertEqual(json.load(f)["name"], "Deep me")
        st, body, resp = self.s.request("GET", base + "/profiles/%s/preview?lang=en" % prof["id"], token=tok,
                                        raw=True)
        self.assertEqual(st, 200, body[:300])
        self.assertEqual((resp.getheader("Content-Type"), body[:4]), ("audio/wav", b"RIFF"))
        st, body, resp = self.s.request("POST", base + "/preview",
                                        json.dumps({"voice": prof["voice"], "text": "Hello there.",
                                                    "lang": "en"}).encode(), token=tok, raw=True)
        self.assertEqual(st, 200, body[:300])
        st, e = self.s.request("POST", base + "/profiles/%s/retry" % prof["id"], token=tok)
        self.assertEqual(st, 409)
        # Its consent record came from the reading.
        st, rr = self.s.request("GET", url, token=tok)
        self.assertEqual(prof["consent"], rr["consent"])
        self.assertEqual((prof["consent"]["by"], prof["consent"]["statement"]),
                         ("project:" + base.split("/")[-1], consent(self.s)))
        upload(self.s, base.split("/")[-1], tok, VIDEO, "video")
        upload(self.s, base.split("/")[-1], tok, SRT, "subtitles")
        # A line far too long for its slot (0.1 s to the next line: the tiny
        # model speaks fast), then one that fits.
        long_line = ("The lighthouse keeper climbed the stairs every morning, and from the top he could see "
                     "the harbour, the boats, the market and the long grey line of the sea beyond them all. ") * 2
        st, _ = self.s.request("PUT", base + "/cues", {"lang": "en", "cues": [
            {"start": 1.0, "end": 1.05, "text": long_line.strip()}, {"start": 1.1, "end": 4.0, "text": "Yes."}]},
            token=tok)
        self.assertEqual(st, 200)
        st, job = self.s.request("POST", base + "/jobs", {"voice": prof["voice"], "mode": "replace"}, token=tok)
        self.assertEqual(st, 201, job)
        self.assertEqual(job["options"]["voice"], prof["voice"])
        if "GANVOICE_STUDIO_DUB" in self.env:
            self.check_render(base, tok, job["id"], prof)
        # A project deleted while its reading waits or trains goes quietly.
        st, _ = self.s.request("DELETE", base2, token=tok2)
        self.assertEqual(st, 200)


def format_tags(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags", "-of", "json", path],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    return {k.lower(): v for k, v in json.loads(out)["format"].get("tags", {}).items()}


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])

#!/usr/bin/env python3
"""API tests of the studio's fit before a render (POST …/fit) with the tiny
test models: every cue's natural speech length from the duration predictor
and the engine's plan for its slot (fits, tight, too long, with the speed-up
and the seconds cut), measured once per (voice, language, text), the
overflow modes, the render's overflow option, the 4xx answers, and, with
the real ganvoice-dub, that the render does to a cue what the fit said.

    test_studio_fit.py STUDIO_BINARY WORKER_BINARY SOURCE_DIR
"""
import os
import shutil
import sys
import tempfile
import json
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_studio_api import SOURCE, VIDEO, Studio, upload  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))
from dubtest import tiny_model_dir  # noqa: E402
# The tiny model speaks fast: this takes it about half a second.
LONG = ("The lighthouse keeper climbed the stairs every morning, and from the top he could see "
        "the harbour, the boats, the market and the long grey line of the sea beyond them all. ") * 2
SHORT = "Yes."


class FitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="studio-fit-")
        models = tiny_model_dir(cls.tmp)
        cls.env = {"GANVOICE_MODEL_DIR": models}
        # Renders with the real ganvoice-dub when meson test gives its path.
        cls.real_dub = os.environ.get("GANVOICE_DUB_PATH")
        if cls.real_dub:
            cls.env["GANVOICE_STUDIO_DUB"] = cls.real_dub
        cls.s = Studio(os.path.join(cls.tmp, "data"), cls.env)

    @classmethod
    def tearDownClass(cls):
        if cls.s.proc.poll() is None:
            cls.s.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def project(self):
        st, p = self.s.request("POST", "/api/projects", {"name": "Fit"})
        self.assertEqual(st, 201)
        return "/api/projects/%s" % p["id"], p["token"]

    def fit(self, base, tok, cues, **kw):
        body = {"voice": "ben", "lang": "en", "cues": cues}
        body.update(kw)
        st, r = self.s.request("POST", base + "/fit", body, token=tok)
        self.assertEqual(st, 200, r)
        self.assertEqual(len(r["cues"]), len(cues))
        return r

    def test_verdicts_and_cache(self):
        base, tok = self.project()
        # Texts no other test measures (the lengths are kept server-wide).
        cues = [
            {"start": 0.5, "end": 3.0, "text": "Yes, I see."},  # fits inside the cue
            {"start": 3.0, "end": 3.02, "text": "So: " + LONG},  # 0.1 s until the next
            {"start": 3.05, "end": 4.0, "text": "[music]"},  # nothing to say
            {"start": 3.1, "end": 4.0, "text": "And then?"},
        ]
        r = self.fit(base, tok, cues)
        self.assertEqual((r["overflow"], r["max_rate"]), ("default", 1.4))
        a, b, c, d = r["cues"]
        self.assertEqual((a["spoken"], a["verdict"], a["step"]), (True, "fits", "natural"), a)
        self.assertGreater(a["natural"], 0)
        self.assertLess(a["natural"], 2.5)
        self.assertEqual(a["next_start"], 3.0)
        # The long line: sped up to the limit, and the rest cut at the next cue.
        self.assertEqual((b["verdict"], b["step"], b["rate"], b["allowed_end"]), ("too-long", "clipped", 1.4, 3.1), b)
        self.assertGreater(b["natural"], 5 * a["natural"])
        self.assertAlmostEqual(b["clipped"], b["natural"] / 1.4 - 0.1, delta=0.002)
        self.assertEqual(b["overrun"], 0)
        # An annotation is not spoken and ends no slot: the long line's
        # slot ends at the next spoken cue (3.1), not at the [music] one.
        self.assertEqual(c, {"index": 2, "spoken": False})
        self.assertEqual(d["next_start"], None)
        self.assertEqual(d["verdict"], "fits")
        self.assertEqual((r["measured"], r["known"]), (3, 0))

        # Asked again: nothing is measured again, the same answer.
        r2 = self.fit(base, tok, cues)
        self.assertEqual((r2["measured"], r2["known"]), (0, 3))
        self.assertEqual(r2["cues"], r["cues"])

        # The long line shortened: measured again alone, and it is tight,
        # then fits.
        cues[1]["text"] = "The lighthouse keeper climbed the stairs every morning."
        r3 = self.fit(base, tok, cues)
        self.assertEqual(r3["measured"], 1)
        b3 = r3["cues"][1]
        self.assertLess(b3["natural"], b["natural"])
        cues[1]["end"] = 3.1
        cues[1]["text"] = "Go."
        r4 = self.fit(base, tok, cues)
        self.assertIn(r4["cues"][1]["verdict"], ("fits", "tight"))
        self.assertNotEqual(r4["cues"][1]["verdict"], "too-long")

        # Another voice for a speaker is measured for that voice.
        cues[3]["speaker"] = "Mara"
        r5 = self.fit(base, tok, cues, speakers={"Mara": "ana"})
        self.assertEqual(r5["measured"], 1)

    def test_overflow_modes(self):
        base, tok = self.project()
        cues = [{"start": 1.0, "end": 1.02, "text": LONG}, {"start": 1.05, "end": 3.0, "text": SHORT}]
        steps = {}
        for mode in ("default", "clip", "overlap", "shift", "compress"):
            r = self.fit(base, tok, cues, overflow=mode)
            self.assertEqual(r["overflow"], mode)
            steps[mode] = r["cues"][0]
            self.assertEqual(r["cues"][0]["verdict"], "too-long", r["cues"][0])
        self.assertEqual(steps["default"]["step"], "clipped")
        # clip: never faster, cut at the cue's own end.
        self.assertEqual((steps["clip"]["step"], steps["clip"]["rate"], steps["clip"]["allowed_end"]),
                         ("clipped", 1.0, 1.02))
        self.assertAlmostEqual(steps["clip"]["clipped"], steps["clip"]["natural"] - 0.02, delta=0.002)
        self.assertEqual(steps["overlap"]["step"], "overflowed")
        self.assertGreater(steps["overlap"]["overrun"], 0)
        self.assertEqual(steps["shift"]["step"], "overflowed")
        self.assertEqual(steps["compress"]["step"], "stretched")
        self.assertAlmostEqual(steps["compress"]["speed"], steps["compress"]["natural"] / 0.05, delta=0.1)

    def test_bad_requests(self):
        base, tok = self.project()
        ok = [{"start": 0, "end": 1, "text": "Hi."}]
        for body, words in (
                ({}, "cues"),
                ({"cues": "Hi."}, "cues"),
                ({"cues": ok, "overflow": "squash"}, "overflow"),
                ({"cues": ok, "voice": "nobody"}, "nobody"),
                ({"cues": ok, "voice": 5}, "voice"),
                ({"cues": ok, "lang": "en; rm"}, "language"),
                ({"cues": ok, "speakers": {"Tom": "nobody"}}, "nobody"),
                ({"cues": ok, "speakers": ["ben"]}, "speakers"),
                ({"cues": [{"start": "a", "end": 1, "text": "Hi."}]}, "start"),
                ({"cues": [{"start": -1, "end": 1, "text": "Hi."}]}, "times"),
                ({"cues": [{"start": 0, "end": 1, "text": 7}]}, "text"),
                ({"cues": [{"start": 0, "end": 1, "text": "x" * 2001}]}, "too long"),
                ({"cues": [5]}, "object"),
                ({"cues": [{"start": 0, "end": 1, "text": "a"}] * 5001}, "Too many")):
            st, e = self.s.request("POST", base + "/fit", body, token=tok)
            self.assertEqual(st, 400, (body if len(json.dumps(body)) < 200 else words, e))
            self.assertIn(words, e["error"])
        st, e = self.s.request("POST", base + "/fit", b"{not json", token=tok,
                               headers={"Content-Type": "application/json"})
        self.assertEqual(st, 400)
        st, e = self.s.request("POST", base + "/fit", {"cues": ok})
        self.assertIn(st, (401, 403))
        st, e = self.s.request("GET", base + "/fit", token=tok)
        self.assertEqual(st, 405)
        # No cues: nothing to say.
        st, r = self.s.request("POST", base + "/fit", {"cues": []}, token=tok)
        self.assertEqual((st, r["cues"]), (200, []))
        # The render's overflow mode is checked too.
        st, e = self.s.request("POST", base + "/jobs", {"overflow": "squash"}, token=tok)
        self.assertIn(st, (400, 409))

    def test_render_does_what_the_fit_said(self):
        """The fit before the render and the render's own report agree (the
        real ganvoice-dub; with the fake one, the option reaches it)."""
        base, tok = self.project()
        pid = base.split("/")[-1]
        upload(self.s, pid, tok, VIDEO, "video")
        cues = [{"start": 1.0, "end": 1.05, "text": LONG.strip(), "speaker": ""},
                {"start": 1.1, "end": 4.0, "text": SHORT, "speaker": ""}]
        st, _ = self.s.request("PUT", base + "/cues", {"lang": "en", "cues": cues}, token=tok)
        self.assertEqual(st, 200)
        before = self.fit(base, tok, cues, overflow="compress")["cues"]
        self.assertEqual(before[0]["step"], "stretched")
        st, e = self.s.request("POST", base + "/jobs", {"overflow": "squash", "voice": "ben"}, token=tok)
        self.assertEqual(st, 400)
        self.assertIn("overflow", e["error"])
        st, job = self.s.request("POST", base + "/jobs", {"voice": "ben", "lang": "en", "mode": "replace",
                                                          "overflow": "compress"}, token=tok)
        self.assertEqual(st, 201, job)
        self.assertEqual(job["options"]["overflow"], "compress")
        for _ in range(1200):
            st, j = self.s.request("GET", base + "/jobs/" + job["id"], token=tok)
            if j["state"] not in ("queued", "running"):
                break
            time.sleep(0.1)
        self.assertEqual(j["state"], "done", j)
        with open(os.path.join(self.s.data, "projects", pid, "results", job["id"] + ".log")) as log:
            text = log.read()
        if not self.real_dub:
            argv = json.loads(text.splitlines()[0])["argv"]
            self.assertEqual(argv[argv.index("--overflow") + 1], "compress")
            return
        self.assertEqual([f["start"] for f in j["fits"]], [1.0], j["fits"])
        f, b = j["fits"][0], before[0]
        self.assertEqual(f["step"], b["step"])
        self.assertAlmostEqual(f["natural"], b["natural"], delta=0.002)
        self.assertAlmostEqual(f["speed"], b["speed"], delta=0.01)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])

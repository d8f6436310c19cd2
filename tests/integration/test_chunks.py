#!/usr/bin/python3
"""Rendering one film in chunks (ganvoice-dub --plan, --chunk, --assemble;
docs/dubbing.md, "Rendering in chunks").

    test_chunks.py BUILD/examples/tools/ganvoice-dub [unittest args]

A 3-minute programme (VP8 + Vorbis, made with gst-launch-1.0) with groups
of cues and longer gaps between them is planned with a 30 s target, each
chunk rendered by its own process, and the chunks assembled. Checked:
- the plan: contiguous, cuts 0.5 s before a cue and 5 s after every
  earlier cue's end;
- the chunk files, concatenated, are sample for sample the plain mix that
  one process renders (--chunk 0:end);
- the assembled film's dub track, decoded, is sample for sample that of a
  normal single-process dub (mastering once over the whole film), and its
  video packets are the input's;
- a chunk rendered again is bit-identical (deterministic synthesis);
- --programme: one pass writes each chunk's programme (the decoded audio,
  as it enters the mix) with the plan of --plan; a chunk rendered from its
  programme file is bit for bit the chunk rendered from the film, so their
  assembly is the single dub too;
- bad ranges, cuts through speech, programme files given another range,
  --programme on bad input and bad chunk sets fail clearly and leave no
  file.
Uses the tiny test models. Exits 77 (skipped) when ganvoice is not built.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402
import numpy as np  # noqa: E402

from dubtest import decode_dub, dub_path, grouped_cues, pull, tiny_model_args  # noqa: E402
from dubtest import srt_text as srt  # noqa: E402

DUB = dub_path()
VOICE_ARGS = tiny_model_args()
DURATION = 180.0
RATE = 48000
TARGET = 30.0


def make_cues():
    return grouped_cues(DURATION)


def read_chunk(path):
    """(samples [frames, channels] float32, start, end, last) of a chunk file."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE", path
    at, info, samples, channels = 12, None, None, None
    while at < len(data):
        tag, size = data[at:at + 4], int.from_bytes(data[at + 4:at + 8], "little")
        body = data[at + 8:at + 8 + size]
        if tag == b"fmt ":
            assert int.from_bytes(body[0:2], "little") == 3  # IEEE float
            channels = int.from_bytes(body[2:4], "little")
            assert int.from_bytes(body[4:8], "little") == RATE
        elif tag == b"gvck":
            info = dict(kv.split("=") for kv in body.decode().split())
        elif tag == b"data":
            samples = np.frombuffer(body, dtype="<f4").reshape(-1, channels)
        at += 8 + size + (size & 1)
    return samples, int(info["start"]), int(info["end"]), info["last"] == "1"


def video_packets(path):
    return [(pts, hashlib.sha256(data).hexdigest()) for pts, data in
            pull("filesrc location=%s ! matroskademux ! video/x-vp8 ! "
                 "appsink name=s sync=false" % path)]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Chunks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ganvoice-chunks-test-")
        d = cls.dir = cls.tmp.name
        cls.film = os.path.join(d, "film.mkv")
        subprocess.run(
            ["gst-launch-1.0", "-q", "-e",
             "videotestsrc", "pattern=ball", "num-buffers=%d" % int(DURATION * 5), "!",
             "video/x-raw,width=64,height=48,framerate=5/1", "!",
             "vp8enc", "deadline=1", "keyframe-max-dist=10", "!", "queue", "!", "mux.video_0",
             "audiotestsrc", "wave=sine", "freq=330", "volume=0.05", "samplesperbuffer=960",
             "num-buffers=%d" % int(DURATION * 50), "!",
             "audio/x-raw,format=F32LE,rate=48000,channels=2", "!",
             "vorbisenc", "quality=0.3", "!", "queue", "!", "mux.audio_0",
             "matroskamux", "name=mux", "!", "filesink", "location=" + cls.film],
            check=True, timeout=300)
        cls.cues = make_cues()
        cls.subs = os.path.join(d, "film.en.srt")
        with open(cls.subs, "w") as f:
            f.write(srt(cls.cues))
        r = cls.run_dub("--plan", "--chunk-target", str(TARGET))
        assert r.returncode == 0, r.stderr
        cls.plan = json.loads(r.stdout)
        # Every chunk in a process of its own, timed.
        cls.chunk_files, cls.chunk_seconds = [], []
        for c in cls.plan["chunks"]:
            path = os.path.join(d, "chunk%02d.wav" % c["index"])
            t0 = time.monotonic()
            r = cls.run_dub("--chunk", c["range"], "-o", path)
            cls.chunk_seconds.append(time.monotonic() - t0)
            assert r.returncode == 0, r.stderr
            cls.chunk_files.append(path)
        # The programme of every chunk in one pass, then every chunk from
        # its programme file (the film is not read).
        cls.programme_dir = os.path.join(d, "programme")
        t0 = time.monotonic()
        r = cls.run_dub("--programme", cls.programme_dir, "--chunk-target", str(TARGET))
        cls.programme_seconds = time.monotonic() - t0
        assert r.returncode == 0, r.stderr
        cls.programme_plan = json.loads(r.stdout)
        cls.programme_chunks, cls.programme_chunk_seconds = [], []
        for c in cls.programme_plan["chunks"]:
            path = os.path.join(d, "pchunk%02d.wav" % c["index"])
            t0 = time.monotonic()
            r = cls.run_dub("--chunk", c["range"], "-o", path,
                            inputs=[os.path.join(cls.programme_dir, c["programme"]), cls.subs])
            cls.programme_chunk_seconds.append(time.monotonic() - t0)
            assert r.returncode == 0, r.stderr
            cls.programme_chunks.append(path)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def run_dub(cls, *args, inputs=None):
        inputs = inputs if inputs is not None else [cls.film, cls.subs]
        return subprocess.run([DUB] + inputs + VOICE_ARGS + list(args),
                              capture_output=True, text=True, timeout=600)

    def assertNoLeftovers(self):
        left = [f for f in os.listdir(self.dir) if ".part" in f]
        self.assertEqual(left, [], "temporary files left")

    def test_plan(self):
        plan = self.plan
        chunks = plan["chunks"]
        self.assertEqual(plan["rate"], RATE)
        self.assertAlmostEqual(plan["frames"], DURATION * RATE, delta=0.05 * RATE)
        self.assertGreaterEqual(len(chunks), 4)
        self.assertEqual(chunks[0]["start"], 0)
        self.assertEqual(chunks[-1]["end"], plan["frames"])
        self.assertTrue(chunks[-1]["last"])
        self.assertTrue(chunks[-1]["range"].endswith(":end"))
        self.assertEqual(sum(c["cues"] for c in chunks), len(self.cues))
        for a, b in zip(chunks, chunks[1:]):
            self.assertEqual(a["end"], b["start"])
            self.assertEqual(a["range"], "%d:%d" % (a["start"], a["end"]))
            self.assertLessEqual(a["end"] - a["start"], TARGET * 4 / 3 * RATE)
            cut = b["start"] / RATE
            for start, end, _ in self.cues:
                if start >= cut:
                    self.assertGreaterEqual(start - cut, 0.5 - 1e-6)
                else:
                    self.assertGreaterEqual(cut - end, 5.0 - 1e-6)

    def test_chunks_concatenate_to_the_single_mix(self):
        """The chunks, end to end, are the plain mix of one process."""
        whole = os.path.join(self.dir, "whole.wav")
        r = self.run_dub("--chunk", "0:end", "-o", whole)
        self.assertEqual(r.returncode, 0, r.stderr)
        single, start, end, last = read_chunk(whole)
        self.assertEqual((start, last), (0, True))
        parts, at = [], 0
        for path, c in zip(self.chunk_files, self.plan["chunks"]):
            x, s, e, is_last = read_chunk(path)
            self.assertEqual((s, is_last), (at, c["last"]))
            self.assertEqual(len(x), e - s)
            parts.append(x)
            at = e
        joined = np.concatenate(parts)
        self.assertEqual(joined.shape, single.shape)
        self.assertGreater(np.abs(single).max(), 0.06, "no speech in the mix")
        diff = np.nonzero(np.any(joined != single, axis=1))[0]
        self.assertEqual(len(diff), 0, "chunks differ from the single mix from frame %s"
                         % (diff[:1],))
        print("\nchunk render times (s): %s; the whole mix in one: see test output"
              % ", ".join("%.1f" % t for t in self.chunk_seconds), file=sys.stderr)

    def test_assembled_equals_single_dub(self):
        """The assembled film's dub is, decoded, the normal dub's: from
        chunks rendered from the film and from the programme files."""
        single = os.path.join(self.dir, "single.mkv")
        r = self.run_dub("-o", single)
        self.assertEqual(r.returncode, 0, r.stderr)
        a = decode_dub(single)
        self.assertGreater(np.abs(a).max(), 0.05)
        for name, chunks in (("assembled.mkv", self.chunk_files),
                             ("assembled-programme.mkv", self.programme_chunks)):
            assembled = os.path.join(self.dir, name)
            # Chunks in any order: they are sorted by their start.
            r = self.run_dub("-o", assembled, "--assemble", "--json",
                             inputs=[self.film, self.subs] + chunks[::-1])
            self.assertEqual(r.returncode, 0, r.stderr)
            done = [json.loads(x) for x in r.stdout.splitlines() if '"done"' in x]
            self.assertEqual(len(done), 1)
            b = decode_dub(assembled)
            self.assertEqual(a.shape, b.shape, name)
            self.assertTrue(np.array_equal(a, b), "%s: differs from the single dub" % name)
            self.assertEqual(video_packets(assembled), video_packets(self.film))
        self.assertNoLeftovers()

    def test_programme_files(self):
        """--programme: the plan of --plan, one file per chunk in the
        chunk format, holding the film's decoded audio end to end."""
        plan = self.programme_plan
        names = [c.pop("programme") for c in plan["chunks"]]
        self.assertEqual(plan, self.plan)
        self.assertEqual(names, ["programme-%d.wav" % c["index"] for c in self.plan["chunks"]])
        self.assertEqual(sorted(os.listdir(self.programme_dir)), sorted(names))
        parts = []
        for name, c in zip(names, self.plan["chunks"]):
            self.assertEqual(c["start"] % 960, 0, "cut off the 20 ms grid")
            x, s, e, last = read_chunk(os.path.join(self.programme_dir, name))
            self.assertEqual((s, last), (c["start"], c["last"]))
            if not last:
                self.assertEqual(e, c["end"])
            self.assertEqual(len(x), e - s)
            parts.append(x)
        joined = np.concatenate(parts)
        # The programme as it enters the mix is here the decoded Vorbis
        # track (already F32 at 48 kHz), sample for sample, as long as the
        # whole mix (--chunk 0:end).
        decoded = pull("filesrc location=%s ! matroskademux name=d d.audio_0 ! queue ! "
                       "decodebin ! audio/x-raw,format=F32LE,rate=48000,channels=2 ! "
                       "appsink name=s sync=false" % self.film)
        decoded = np.frombuffer(b"".join(c for _, c in decoded), dtype=np.float32).reshape(-1, 2)
        self.assertEqual(joined.shape, decoded.shape)
        self.assertTrue(np.array_equal(joined, decoded), "the programme files differ "
                        "from the decoded audio")
        print("\n--programme %.1f s; chunks from it (s): %s; from the film: %s"
              % (self.programme_seconds,
                 ", ".join("%.1f" % t for t in self.programme_chunk_seconds),
                 ", ".join("%.1f" % t for t in self.chunk_seconds)), file=sys.stderr)

    def test_chunks_from_programme_are_the_film_chunks(self):
        """A chunk from its programme file is bit for bit the chunk from
        the film."""
        for a, b in zip(self.programme_chunks, self.chunk_files):
            self.assertEqual(sha256(a), sha256(b), "%s differs from %s" % (a, b))
        self.assertGreater(np.abs(read_chunk(self.programme_chunks[1])[0]).max(), 0.06,
                           "no speech in the chunk")

    def test_programme_range_mismatch(self):
        """A programme file rendered as another chunk is an error: no file."""
        out = os.path.join(self.dir, "mismatch.wav")
        chunks = self.programme_plan["chunks"]
        p = [os.path.join(self.programme_dir, "programme-%d.wav" % c["index"]) for c in chunks]
        last = chunks[-1]
        cases = [
            (p[1], chunks[2]["range"]),
            (p[1], "%d:%d" % (chunks[1]["start"], chunks[1]["end"] + 960)),
            (p[1], "%d:end" % chunks[1]["start"]),
            (p[-1], "%d:%d" % (last["start"], last["start"] + RATE)),
            (p[0], last["range"]),
        ]
        for path, rng in cases:
            r = self.run_dub("--chunk", rng, "-o", out, inputs=[path, self.subs])
            self.assertEqual(r.returncode, 1, (path, rng, r.stderr))
            self.assertIn("holds the programme of frames", r.stderr)
            self.assertIn("not --chunk %s" % rng, r.stderr)
            self.assertFalse(os.path.exists(out))
        # A programme file whose header was damaged.
        broken = os.path.join(self.dir, "broken.wav")
        with open(p[1], "rb") as f:
            data = bytearray(f.read())
        at = data.index(b"gvck") + 8
        data[at:at + 64] = b"start=x".ljust(64)
        with open(broken, "wb") as f:
            f.write(data)
        r = self.run_dub("--chunk", chunks[1]["range"], "-o", out, inputs=[broken, self.subs])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("gvck chunk is unreadable", r.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertNoLeftovers()

    def test_programme_bad_input(self):
        """--programme on input it cannot use fails cleanly, no file."""
        corrupt = os.path.join(self.dir, "corrupt.mkv")
        with open(corrupt, "wb") as f:
            f.write(os.urandom(20000))
        d = os.path.join(self.dir, "bad-programme")
        for inputs in ([corrupt, self.subs], [os.path.join(self.dir, "nope.mkv"), self.subs],
                       [self.film, os.path.join(self.dir, "nope.srt")]):
            r = self.run_dub("--programme", d, inputs=inputs)
            self.assertEqual(r.returncode, 1, (inputs, r.stderr))
            self.assertIn(os.path.basename(inputs[0] if "nope.srt" not in inputs[1]
                                           else inputs[1]), r.stderr)
            self.assertEqual(r.stdout, "")
            self.assertFalse(os.path.exists(d) and os.listdir(d))
        # The directory is a file.
        r = self.run_dub("--programme", self.subs)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("--programme", r.stderr)
        for args in (["--programme", d, "-o", os.path.join(self.dir, "x.wav")],
                     ["--programme", d, "--json"], ["--programme", d, "--plan"]):
            r = self.run_dub(*args)
            self.assertEqual(r.returncode, 2, args)
        self.assertFalse(os.path.exists(d) and os.listdir(d))
        self.assertNoLeftovers()

    def test_retried_chunk_is_identical(self):
        c = self.plan["chunks"][len(self.plan["chunks"]) // 2]
        again = os.path.join(self.dir, "again.wav")
        r = self.run_dub("--chunk", c["range"], "-o", again)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sha256(again), sha256(self.chunk_files[c["index"]]))

    def test_bad_ranges(self):
        out = os.path.join(self.dir, "bad.wav")
        frames = self.plan["frames"]
        for rng in ["10:5", "7", "a:b", "5:5", "-1:10"]:
            r = self.run_dub("--chunk", rng, "-o", out)
            self.assertEqual(r.returncode, 2, rng)
            self.assertIn("--chunk", r.stderr)
        r = self.run_dub("--chunk", "0:100", "-o", os.path.join(self.dir, "bad.mkv"))
        self.assertEqual(r.returncode, 2)
        self.assertIn(".wav", r.stderr)
        r = self.run_dub("--chunk", "%d:end" % (frames + 10), "-o", out)
        self.assertEqual(r.returncode, 1)
        self.assertIn("starts at or after the end", r.stderr)
        # Past the dub's end: the last chunk is START:end.
        r = self.run_dub("--chunk", "%d:%d" % (frames - RATE, frames + RATE), "-o", out)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("before the chunk's end", r.stderr)
        # A cut in the middle of the first cue's speech.
        start, end, _ = self.cues[0]
        r = self.run_dub("--chunk", "0:%d" % int((start + 0.5) * RATE), "-o", out)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("at rest at the cut", r.stderr)
        # A cut 1 s after the end of a group of cues: the speech is over (or
        # nearly), but the ducker is not at rest yet.
        group_end = next(a[1] for a, b in zip(self.cues, self.cues[1:]) if b[0] - a[1] > 5)
        r = self.run_dub("--chunk", "0:%d" % int((group_end + 1.0) * RATE), "-o", out)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("at rest at the cut", r.stderr)
        # A chunk that starts just before a cue: its speech reaches back.
        r = self.run_dub("--chunk", "%d:end" % int((self.cues[1][0] - 0.05) * RATE),
                         "-o", out)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("look-ahead", r.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertNoLeftovers()

    def test_bad_chunk_sets(self):
        out = os.path.join(self.dir, "bad.mkv")
        files = self.chunk_files
        cases = [
            (files[:1] + files[2:], "are missing"),
            (files[:-1], "not the last chunk"),
            (files + files[1:2], "inside the chunk before"),
            (files[:1] + [self.subs], "not a WAV file"),
            (files[:1] + [os.path.join(self.dir, "nope.wav")], "cannot be read"),
        ]
        for chunks, message in cases:
            r = self.run_dub("-o", out, "--assemble", inputs=[self.film, self.subs] + chunks)
            self.assertEqual(r.returncode, 1, message)
            self.assertIn(message, r.stderr)
            self.assertFalse(os.path.exists(out))
        r = self.run_dub("--plan", "--chunk", "0:10")
        self.assertEqual(r.returncode, 2)
        self.assertNoLeftovers()


if __name__ == "__main__":
    Gst.init(None)
    if not DUB or not os.access(DUB, os.X_OK):
        print("usage: test_chunks.py PATH/TO/ganvoice-dub", file=sys.stderr)
        sys.exit(2)
    for name in ("ganvoice", "dubbin", "vp8enc", "vorbisenc", "opusenc", "matroskamux"):
        if not Gst.ElementFactory.find(name):
            print("SKIP: no %s element" % name)
            sys.exit(77)
    unittest.main(verbosity=2)

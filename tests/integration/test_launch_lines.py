#!/usr/bin/python3
"""Every gst-launch-1.0 line in the docs runs as written.

    test_launch_lines.py [unittest args]

Extracts each `gst-launch-1.0 ...` command (a trailing backslash continues
it) from:

- the fenced code blocks of README.md, docs/*.md, examples/pipelines/README.md
  and examples/media/README.md (prose and inline code are not commands);
- the gtk-doc "## Example launch line" blocks (`|[ ... ]|`) of plugins/*.cpp;
- the "example-launch-line" element metadata of plugins/*.cpp (what
  gst-inspect-1.0 shows).

Each one is a test, named by file and line (test_docs_cloning_md_10, its
description "docs/cloning.md:10"), and runs as the shell would run it: split
like the shell does (quotes, `#` comments), `$PWD` expanded, leading
`VAR=value` words put in the environment, then `gst-launch-1.0` with the
line's own arguments (no -e, no -q, as users paste them), in a fresh
directory that is its working directory, with the shipped models
(GANVOICE_MODEL_DIR=$GANVOICE_SOURCE_DIR/models, as examples/run-sample.sh).

Only what a test machine cannot have is substituted; everything else stays as
written. The table:

  placeholder input files, put (as symlinks) in the working directory under
  the name the line uses, unless the line writes that file itself:
    film.srt     a short SubRip file: the first 3 cues of
                 examples/media/sample.en.srt (0.5 s to 9.8 s), so that the
                 lines that play in real time (autoaudiosink) take 10 s
    film.en.srt  examples/media/sample.en.srt
    film.ass     examples/media/sample.en.ass
    film.mkv     examples/media/sample.mkv (27 s, VP8 + Vorbis)
    me.wav       8 s of speech-like audio made here: a harmonic voice at
                 120 Hz with 4 syllables a second (as tests/check/
                 speakerembed.c), 22050 Hz mono S16
    me.json      the voice profile that docs/cloning.md's first line makes
                 from me.wav (speakerembed, shipped speaker encoder)
    examples/    the source tree's examples/ (the README's lines run from the
                 source tree's root)
    build/plugins  the plugin directory under test (GST_PLUGIN_PATH_1_0 or
                 GST_PLUGIN_PATH, else $GANVOICE_SOURCE_DIR/build/plugins)
  elements (with the properties given to them kept):
    autoaudiosink, autovideosink  ->  fakesink sync=true (played against the
                 clock, in real time, as a sound card or display would)
    autoaudiosrc num-buffers=N  ->  filesrc location=mic-N.wav ! wavparse,
                 where mic-N.wav is N x 10 ms (the latency-time of pulsesrc
                 and alsasrc) of the same speech-like voice at 48 kHz: a
                 microphone that someone speaks into. (audiotestsrc cannot
                 stand in: speakerembed rightly rejects a steady tone as
                 "music or steady tones, not speech".)
  output files: a relative location= of a writing element (filesink,
    speakerembed, ...) lands in the working directory anyway; an absolute one
    is rewritten into it.

Lines that make a deep clone (`speakerembed mode=deep`) are skipped, with
that reason: they fine-tune the acoustic model for minutes (time-limit,
480 s by default) on a reading nobody here has; tests/check/speakerembed.c
runs the deep mode with the tiny models instead.

A line passes when gst-launch-1.0 exits 0 within GANVOICE_LAUNCH_TIMEOUT
seconds (default 60; on time-out its process group is killed and the test
says the line hung), prints no ERROR (nor CRITICAL) on stdout or stderr, and
writes each output file it names, non-empty (a WAV with at least one frame,
a JSON file that parses). A WAV of subtitles spoken by ganvoice (subcues and
ganvoice, no dubbin or duckmix) must have each cue at its time, not back to
back from 0: silence before the first cue's start, and audio at least until
the last cue's start. Lines with the same arguments are run once and share
the result (marked "=" in the summary printed at the end). Set GANVOICE_LAUNCH_KEEP=1 to keep the working directories.
Exits 77 (skipped) when the plugin or the shipped models are missing.
"""
import glob
import json
import os
import re
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402
import numpy as np  # noqa: E402

from dubtest import write_wav  # noqa: E402

SOURCE = os.path.abspath(os.environ.get("GANVOICE_SOURCE_DIR",
                                        os.path.join(os.path.dirname(__file__), "..", "..")))
MODELS = os.path.join(SOURCE, "models")
TIMEOUT = float(os.environ.get("GANVOICE_LAUNCH_TIMEOUT", "60"))
MEDIA = os.path.join(SOURCE, "examples", "media")
LAUNCH = "gst-launch-1.0"


def plugin_dir():
    for var in ("GST_PLUGIN_PATH_1_0", "GST_PLUGIN_PATH"):
        for d in os.environ.get(var, "").split(os.pathsep):
            if d and os.path.exists(os.path.join(d, "libgstganvoice.so")):
                return os.path.abspath(d)
    return os.path.join(SOURCE, "build", "plugins")


# ---- extraction ------------------------------------------------------------

DOC_FILES = (["README.md"] + sorted(os.path.relpath(p, SOURCE)
                                    for p in glob.glob(os.path.join(SOURCE, "docs", "*.md"))) +
             ["examples/pipelines/README.md", "examples/media/README.md"])
CPP_FILES = sorted(os.path.relpath(p, SOURCE)
                   for p in glob.glob(os.path.join(SOURCE, "plugins", "*.cpp")))
COMMAND = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*" + re.escape(LAUNCH) + r"(?:\s|$)")
FENCE = re.compile(r"^\s*(```|~~~)")


def commands(lines):
    """(index of first line, command) for each gst-launch-1.0 command in
    lines (code only), backslash-continued lines joined."""
    out, i = [], 0
    while i < len(lines):
        start, text = i, lines[i].rstrip()
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1] + " " + lines[i].strip()
        i += 1
        text = text.strip()
        if text.startswith("$ "):
            text = text[2:]
        if COMMAND.match(text):
            out.append((start, text))
    return out


def markdown_lines(rel):
    """(path:line, command) from the fenced code blocks of a Markdown file."""
    with open(os.path.join(SOURCE, rel), encoding="utf-8") as f:
        lines = f.read().split("\n")
    found, block, first, fence = [], None, 0, None
    for n, line in enumerate(lines):
        m = FENCE.match(line)
        if block is None:
            if m:
                block, first, fence = [], n + 1, m.group(1)
        elif m and m.group(1) == fence:
            found += [("%s:%d" % (rel, first + 1 + k), c) for k, c in commands(block)]
            block = None
        else:
            block.append(line)
    return found


def cpp_lines(rel):
    """(path:line, command) from the gtk-doc example blocks and the
    example-launch-line metadata of a plugin source file."""
    with open(os.path.join(SOURCE, rel), encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    found = []
    for n, line in enumerate(lines):
        if "## Example launch line" not in line:
            continue
        start = next((k for k in range(n + 1, len(lines)) if "|[" in lines[k]), None)
        end = next((k for k in range(start or n, len(lines)) if "]|" in lines[k]), None)
        if start is None or end is None:
            continue
        body = [re.sub(r"^\s*\*\s?", "", lines[k]) for k in range(start + 1, end)]
        found += [("%s:%d" % (rel, start + 2 + k), c) for k, c in commands(body)]
    for m in re.finditer(r'"example-launch-line"\s*,\s*((?:"(?:[^"\\]|\\.)*"\s*)+)', text):
        literal = "".join(json.loads('"%s"' % s) for s in
                          re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))
        line = text.count("\n", 0, m.start(1)) + 1
        found += [("%s:%d (example-launch-line)" % (rel, line), c)
                  for _, c in commands([literal])]
    return found


def extract():
    cases = []
    for rel in DOC_FILES:
        if os.path.exists(os.path.join(SOURCE, rel)):
            cases += markdown_lines(rel)
    for rel in CPP_FILES:
        cases += cpp_lines(rel)
    return cases


# ---- placeholders ----------------------------------------------------------

RATE = 48000


def speech_like(seconds, rate):
    """A harmonic voice: F0 120 Hz drifting a little, 4 syllables a second
    (tests/check/speakerembed.c's make_voice)."""
    t = np.arange(int(round(seconds * rate))) / rate
    f = 120.0 * (1 + 0.03 * np.sin(2 * np.pi * 0.5 * t) + 0.02 * np.sin(2 * np.pi * 1.7 * t + 1.0))
    phase = np.cumsum(2 * np.pi * f / rate)
    s = np.zeros_like(t)
    for k in range(1, int(4000 / (120.0 * 1.05)) + 1):
        s += np.sin(k * phase) / k
    return 0.15 * s * np.abs(np.sin(np.pi * 4.0 * t)) ** 1.5


def wav_read(path):
    """(first channel as float, rate) of a RIFF WAVE file, integer or float
    PCM (the wave module reads integer PCM only); ValueError when it is not
    one."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("no RIFF WAVE header")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        tag, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if tag == b"fmt ":
            fmt = struct.unpack("<HHIIHH", data[pos + 8:pos + 24])
        elif tag == b"data":
            if not fmt:
                raise ValueError("no fmt chunk before the data")
            code, channels, rate, _, align, bits = fmt
            types = {(3, 32): "<f4", (3, 64): "<f8", (1, 16): "<i2", (1, 32): "<i4"}
            if (code, bits) not in types:
                raise ValueError("sample format %d, %d bits" % (code, bits))
            body = data[pos + 8:pos + 8 + size]
            x = np.frombuffer(body[:len(body) // align * align], types[(code, bits)])
            x = x.reshape(-1, channels)[:, 0].astype(np.float64)
            if code == 1:
                x /= 2.0 ** (bits - 1)
            return x, rate
        pos += 8 + size + (size & 1)
    raise ValueError("no data chunk")


def cue_starts(path):
    """Start times in seconds of the cues of a SubRip, WebVTT or ASS file."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        text = f.read()
    starts = [int(h or 0) * 3600 + int(m) * 60 + int(sec) + int(ms) / 1000
              for h, m, sec, ms in
              re.findall(r"(?m)^(?:(\d+):)?(\d\d):(\d\d)[,.](\d{3})\s+-->", text)]
    starts += [int(h) * 3600 + int(m) * 60 + int(sec) + int(cs) / 100 for h, m, sec, cs in
               re.findall(r"(?m)^Dialogue:\s*\d+,(\d+):(\d\d):(\d\d)\.(\d\d),", text)]
    return sorted(starts)


def first_cues(path, n):
    with open(path, encoding="utf-8") as f:
        blocks = f.read().strip().split("\n\n")
    return "\n\n".join(blocks[:n]) + "\n"


def run_launch(args, cwd, env, timeout):
    """Runs gst-launch-1.0 args in its own process group; (returncode or
    None when it hung, output, seconds)."""
    t0 = time.monotonic()
    p = subprocess.Popen([LAUNCH] + args, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, _ = p.communicate()
        rc = None
    return rc, out.decode("utf-8", "replace"), time.monotonic() - t0


# ---- the pipeline description, element by element ---------------------------

SOURCES = {"filesrc", "multifilesrc", "giosrc"}
INPUT_PROPS = {"subtitle-location"}
SUBTITLE_EXTENSIONS = {".srt", ".vtt", ".ass", ".ssa"}
SINK_SUBSTITUTES = {"autoaudiosink": "fakesink", "autovideosink": "fakesink"}
CAPS = re.compile(r"^[a-z]+/[A-Za-z0-9.+-]+(,|$)")
PROP = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*=")
SHELL_OPERATORS = {"|", "||", "&&", ";", "&", ">", ">>", "<", "2>", "2>&1"}


def trains(command):
    """Whether a line makes a deep clone (speakerembed mode=deep)."""
    args = shlex.split(command, comments=True)
    return any(factory == "speakerembed" and "mode=deep" in props
               for _, factory, props in elements(args))


def elements(args):
    """[factory, [props]] of each element of a gst-launch description, in
    order, with the index of its factory word in args."""
    out, cur = [], None
    for i, tok in enumerate(args):
        if tok == "!" or tok.startswith("-"):
            cur = None
        elif CAPS.match(tok) or ("." in tok and not PROP.match(tok)):
            cur = None  # caps, or a pad of a named element
        elif PROP.match(tok) and cur is not None:
            cur[2].append(tok)
        else:
            cur = [i, tok, []]
            out.append(cur)
    return out


class LaunchLines(unittest.TestCase):
    results = {}   # (env, argv) -> (status, message, seconds, case)
    summary = []   # (case, status, seconds)

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ganvoice-launch-lines-")
        d = cls.media = os.path.join(cls.tmp, "placeholders")
        os.mkdir(d)
        cls.env = dict(os.environ)
        cls.env["GANVOICE_MODEL_DIR"] = MODELS
        cls.plugins = plugin_dir()
        with open(os.path.join(d, "film.srt"), "w", encoding="utf-8") as f:
            f.write(first_cues(os.path.join(MEDIA, "sample.en.srt"), 3))
        write_wav(os.path.join(d, "me.wav"), speech_like(8.0, 22050), 22050)
        cls.placeholders = {
            "film.srt": os.path.join(d, "film.srt"),
            "film.en.srt": os.path.join(MEDIA, "sample.en.srt"),
            "film.ass": os.path.join(MEDIA, "sample.en.ass"),
            "film.mkv": os.path.join(MEDIA, "sample.mkv"),
            "me.wav": os.path.join(d, "me.wav"),
            "me.json": os.path.join(d, "me.json"),
        }
        rc, out, _ = run_launch(["-q", "filesrc", "location=me.wav", "!", "wavparse", "!",
                                 "audioconvert", "!", "speakerembed", "location=me.json",
                                 "!", "fakesink"], d, cls.env, TIMEOUT)
        profile = os.path.join(d, "me.json")
        cls.profile_error = None
        if rc != 0 or not os.path.exists(profile) or os.path.getsize(profile) == 0:
            cls.profile_error = "could not make the me.json placeholder (rc %s):\n%s" % (rc, out)
        cls.count = 0

    @classmethod
    def tearDownClass(cls):
        width = max([len(c) for c, _, _ in cls.summary] + [4])
        total = sum(s for _, status, s in cls.summary if not status.endswith("="))
        print("\nlaunch lines (%d; %.1f s of gst-launch-1.0; \"=\": the same arguments as an "
              "earlier line, whose result it shares):" % (len(cls.summary), total),
              file=sys.stderr)
        for case, status, seconds in cls.summary:
            print("  %-*s  %-6s %5.1f s" % (width, case, status, seconds), file=sys.stderr)
        if os.environ.get("GANVOICE_LAUNCH_KEEP"):
            print("kept %s" % cls.tmp, file=sys.stderr)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def mic(self, n):
        path = os.path.join(self.media, "mic-%d.wav" % n)
        if not os.path.exists(path):
            write_wav(path, speech_like(n * 0.010, RATE), RATE)
        return path

    def prepare(self, case, command):
        """The environment it sets, argv, working directory, output files
        and cue start times (or None) for command; fails the test when the
        line cannot be run here."""
        type(self).count += 1
        cwd = os.path.join(self.tmp, "%02d-%s" % (self.count, re.sub(r"\W+", "_", case)))
        os.makedirs(os.path.join(cwd, "build"))
        os.symlink(os.path.join(SOURCE, "examples"), os.path.join(cwd, "examples"))
        os.symlink(self.plugins, os.path.join(cwd, "build", "plugins"))
        env = dict(self.env, PWD=cwd)

        def expand(word):
            return re.sub(r"\$(?:\{(\w+)\}|(\w+))",
                          lambda m: env.get(m.group(1) or m.group(2), ""), word)

        words = shlex.split(command, comments=True)
        bad = [w for w in words if w in SHELL_OPERATORS]
        if bad:
            self.fail("%s: not one command (shell operators %s)" % (case, bad))
        setenv = {}
        while words and re.match(r"^[A-Za-z_]\w*=", words[0]):
            name, value = words.pop(0).split("=", 1)
            setenv[name] = expand(value)
        env.update(setenv)
        self.assertEqual(words[0], LAUNCH)
        args = [expand(w) for w in words[1:]]

        # Element substitutions, from the end so indexes stay valid.
        for index, factory, props in reversed(elements(args)):
            if factory in SINK_SUBSTITUTES:
                args[index] = SINK_SUBSTITUTES[factory]
                if not any(p.startswith("sync=") for p in props):
                    args.insert(index + 1, "sync=true")
            elif factory == "autoaudiosrc":
                nb = [p for p in props if p.startswith("num-buffers=")]
                if not nb:
                    self.fail("%s: autoaudiosrc without num-buffers never ends, "
                              "so it cannot be checked" % case)
                rest = [p for p in props if not p.startswith("num-buffers=")]
                n = int(nb[0].split("=", 1)[1])
                del args[index:index + 1 + len(props)]
                args[index:index] = ["filesrc", "location=" + self.mic(n), "!",
                                     "wavparse"] + rest

        # Output files, and input files the line reads.
        outputs, inputs = [], []
        for index, factory, props in elements(args):
            for k, p in enumerate(props):
                name, value = p.split("=", 1)
                if name == "location" and factory not in SOURCES:
                    if os.path.isabs(value):
                        value = os.path.join(cwd, os.path.basename(value))
                        args[args.index(p, index)] = "location=" + value
                    outputs.append(value)
                elif (name == "location" or name in INPUT_PROPS or
                      (name == "voice" and value.endswith(".json"))):
                    inputs.append(value)
        for name, target in self.placeholders.items():
            if name not in outputs:
                os.symlink(target, os.path.join(cwd, name))
        if "me.json" in inputs and "me.json" not in outputs and self.profile_error:
            self.fail("%s: %s" % (case, self.profile_error))
        for path in inputs:
            if not os.path.exists(os.path.join(cwd, path)):
                self.fail("%s: reads %s, which is neither in the source tree nor in "
                          "the placeholder table" % (case, path))
        # Subtitles spoken by ganvoice straight into a file: the cue times to
        # check the file against (not through dubbin or duckmix, whose
        # output has the programme from 0).
        factories = {factory for _, factory, _ in elements(args)}
        subtitles = [p for p in inputs if os.path.splitext(p)[1] in SUBTITLE_EXTENSIONS]
        cues = None
        if {"subcues", "ganvoice"} <= factories and not factories & {"dubbin", "duckmix"} \
                and subtitles:
            cues = cue_starts(os.path.join(cwd, subtitles[0])) or None
        return setenv, args, cwd, outputs, cues

    @staticmethod
    def check_timing(out, x, rate, cues):
        """Speech from subtitles, written as a WAV, has each cue at its time
        (not back to back from 0): silence before the first cue, and at
        least until the last cue's start."""
        problems = []
        before = x[:int(max(0.0, cues[0] - 0.1) * rate)]
        if len(before):
            level = 10 * np.log10(np.mean(np.square(before)) + 1e-20)
            if level > -60:
                problems.append("%s: cues not at their time: the %.2f s before the first "
                                "cue (at %.2f s) are not silent (%.0f dBFS)"
                                % (out, len(before) / rate, cues[0], level))
        if len(x) / rate < cues[-1]:
            problems.append("%s: cues not at their time: it lasts %.2f s, less than the "
                            "last cue's start (%.2f s)" % (out, len(x) / rate, cues[-1]))
        return problems

    def check_outputs(self, cwd, outputs, cues=None):
        problems = []
        for out in outputs:
            path = os.path.join(cwd, out)
            if not os.path.exists(path):
                problems.append("%s was not written" % out)
            elif os.path.getsize(path) == 0:
                problems.append("%s is empty" % out)
            elif out.endswith(".wav"):
                try:
                    x, rate = wav_read(path)
                except ValueError as e:
                    problems.append("%s is not a WAV file: %s" % (out, e))
                    continue
                if len(x) == 0:
                    problems.append("%s has no audio frames" % out)
                elif cues:
                    problems += self.check_timing(out, x, rate, cues)
            elif out.endswith(".json"):
                try:
                    with open(path, encoding="utf-8") as f:
                        json.load(f)
                except ValueError as e:
                    problems.append("%s is not JSON: %s" % (out, e))
        return problems

    def run_case(self, case, command):
        status = "FAIL"
        seconds = 0.0
        if trains(command):
            type(self).summary.append((case, "skip", seconds))
            self.skipTest("%s: makes a deep clone (minutes of training); "
                          "tests/check/speakerembed.c covers deep mode" % case)
        try:
            setenv, args, cwd, outputs, cues = self.prepare(case, command)
            key = (tuple(sorted(setenv.items())), tuple(a.replace(cwd, "$CWD") for a in args))
            if key in self.results:
                first_status, message, seconds, first = self.results[key]
                status = first_status + "="
                if first_status != "ok":
                    self.fail("%s: the same line as %s, which failed: %s"
                              % (case, first, message))
                return
            rc, out, seconds = run_launch(args, cwd, dict(self.env, PWD=cwd, **setenv), TIMEOUT)
            problems = []
            if rc is None:
                status = "HANG"
                problems.append("HUNG: no end after %.0f s (killed)" % TIMEOUT)
            elif rc != 0:
                problems.append("exit status %d" % rc)
            errors = [line for line in out.splitlines()
                      if re.search(r"\bERROR\b|CRITICAL", line)]
            if errors:
                problems.append("printed ERROR: " + " | ".join(errors[:3]))
            problems += self.check_outputs(cwd, outputs, cues)
            tail = "\n".join(out.splitlines()[-15:])
            as_run = " ".join(a if a == "!" else shlex.quote(a) for a in args)
            message = ("%s\n  line:   %s\n  as run: gst-launch-1.0 %s\n"
                       "--- output (last lines):\n%s"
                       % ("; ".join(problems), command, as_run, tail))
            if not problems:
                status = "ok"
            type(self).results[key] = (status, message, seconds, case)
            if problems:
                self.fail("%s: %s" % (case, message))
        finally:
            type(self).summary.append((case, status, seconds))


def make_test(case, command):
    def test(self):
        self.run_case(case, command)
    test.__doc__ = "%s: %s" % (case, command)
    return test


CASES = extract()
for _case, _command in CASES:
    _name = "test_" + re.sub(r"\W+", "_", _case.split(" ")[0]).strip("_")
    if _case.endswith("(example-launch-line)"):
        _name += "_metadata"
    setattr(LaunchLines, _name, make_test(_case, _command))


class Extraction(unittest.TestCase):
    def test_found(self):
        """The extractor finds lines in each kind of place."""
        places = {c.split(":")[0] for c, _ in CASES}
        for rel in ("README.md", "docs/ganvoice.md", "docs/cloning.md",
                    "plugins/gstganvoice.cpp", "plugins/gstduckmix.cpp"):
            self.assertIn(rel, places)
        self.assertTrue(any(c.endswith("(example-launch-line)") for c, _ in CASES))
        self.assertTrue(all("\\" not in cmd for _, cmd in CASES))


if __name__ == "__main__":
    if "--list" in sys.argv:
        for c, cmd in CASES:
            print("%s\n    %s" % (c, cmd))
        sys.exit(0)
    Gst.init(None)
    for name in ("subcues", "ganvoice", "speakerembed", "duckmix", "dubbin"):
        if not Gst.ElementFactory.find(name):
            print("SKIP: no %s element" % name)
            sys.exit(77)
    for f in ("acoustic/acoustic.ts", "vocoder/vocoder.ts", "speaker/speaker.ts"):
        path = os.path.join(MODELS, f)
        if not os.path.exists(path) or os.path.getsize(path) < 100000:
            print("SKIP: the shipped model %s is missing" % path)
            sys.exit(77)
    unittest.main(verbosity=2)

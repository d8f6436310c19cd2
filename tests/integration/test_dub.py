#!/usr/bin/python3
"""Integration tests of ganvoice-dub and dubbin on generated media.

    test_dub.py BUILD/examples/tools/ganvoice-dub [unittest args]

Runs with the tiny test models (tests/models), so that it takes seconds: the
speech is not speech, but it is timed and mixed like real speech. Test media
(VP8 video + Vorbis audio in Matroska) is made with gst-launch-1.0 in a
temporary directory. The programme is a 440 Hz sine in anti-phase on the two
channels: its mid (L+R)/2 is zero and its side (L-R)/2 is the sine, while the
dub voice goes into both channels alike, so in the output the mid is the
voice alone and the side the programme alone (times its duck gain).
Exits 77 (skipped) when the ganvoice element is not built.
"""
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest
import wave

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstPbutils", "1.0")
from gi.repository import Gst, GstPbutils  # noqa: E402
import numpy as np  # noqa: E402

from dubtest import MODELS, dub_path, pull_samples, tiny_model_args, write_wav  # noqa: E402

DUB = dub_path()
VOICE_ARGS = tiny_model_args()
DURATION = 8.0
RATE = 48000
CUES = [(1.0, 2.5, "Hello there, this is the first line."),
        (3.5, 5.0, "And here is the second one."),
        (6.0, 7.5, "Finally, the third.")]


def srt(cues):
    def ts(t):
        ms = int(round(t * 1000))
        return "%02d:%02d:%02d,%03d" % (ms // 3600000, ms // 60000 % 60, ms // 1000 % 60, ms % 1000)
    return "".join("%d\n%s --> %s\n%s\n\n" % (i + 1, ts(a), ts(b), text)
                   for i, (a, b, text) in enumerate(cues))


def launch(*args):
    subprocess.run(["gst-launch-1.0", "-q", "-e"] + list(args), check=True, timeout=120)


def make_media(path, seconds, video=True, audio="antiphase"):
    """VP8 160x120 video and/or Vorbis stereo 48 kHz audio in Matroska."""
    args = []
    if video:
        args += ["videotestsrc", "pattern=ball", "num-buffers=%d" % int(seconds * 25), "!",
                 "video/x-raw,width=160,height=120,framerate=25/1", "!",
                 "vp8enc", "deadline=1", "keyframe-max-dist=25", "!", "queue", "!", "mux.video_0"]
    if audio:
        volume = {"antiphase": "0.1", "quiet": "0.00001"}[audio]
        args += ["audiotestsrc", "freq=440", "volume=" + volume, "samplesperbuffer=960",
                 "num-buffers=%d" % int(seconds * 50), "!",
                 "audio/x-raw,format=F32LE,rate=48000,channels=1", "!",
                 "audioconvert", "mix-matrix=<<(float)1.0>,<(float)-1.0>>", "!",
                 "audio/x-raw,format=F32LE,rate=48000,channels=2", "!",
                 "vorbisenc", "quality=0.6", "!", "queue", "!", "mux.audio_0"]
    args += ["matroskamux", "name=mux", "!", "filesink", "location=" + path]
    launch(*args)


def discover(path):
    disc = GstPbutils.Discoverer.new(30 * Gst.SECOND)
    info = disc.discover_uri(Gst.filename_to_uri(path))
    assert info.get_result() == GstPbutils.DiscovererResult.OK, info.get_result()
    return info


def stream_tags(stream):
    tags = stream.get_tags()
    out = {}
    if tags:
        for name in (Gst.TAG_LANGUAGE_CODE, Gst.TAG_TITLE):
            ok, value = tags.get_string(name)
            if ok:
                out[name] = value
    return out


def video_packets(path):
    """(PTS, sha256) of every demuxed video packet: nothing decoded."""
    out = []
    for sample in pull_samples("filesrc location=%s ! matroskademux ! video/x-vp8 ! "
                               "appsink name=s sync=false" % path):
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        out.append((buf.pts, hashlib.sha256(bytes(info.data)).hexdigest()))
        buf.unmap(info)
    return out


def decode_audio(path, index=0):
    """The index-th audio track as float32 [frames, 2] at 48 kHz, and its first PTS."""
    demux = "qtdemux" if path.endswith(".mp4") else "matroskademux"
    chunks, first = [], None
    for sample in pull_samples("filesrc location=%s ! %s name=d d.audio_%d ! queue ! decodebin ! "
                               "audioconvert ! audioresample ! "
                               "audio/x-raw,format=F32LE,rate=48000,channels=2,layout=interleaved ! "
                               "appsink name=s sync=false" % (path, demux, index)):
        buf = sample.get_buffer()
        if first is None:
            first = buf.pts
        ok, info = buf.map(Gst.MapFlags.READ)
        chunks.append(np.frombuffer(bytes(info.data), dtype=np.float32))
        buf.unmap(info)
    data = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return data.reshape(-1, 2), (first or 0) / Gst.SECOND


def rms_db(x):
    return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20)


def window(x, a, b):
    return x[int(a * RATE):int(b * RATE)]


class Dub(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ganvoice-dub-test-")
        d = cls.dir = cls.tmp.name
        cls.prog = os.path.join(d, "prog.mkv")
        cls.quiet = os.path.join(d, "quiet.mkv")
        cls.noaudio = os.path.join(d, "noaudio.mkv")
        cls.audioonly = os.path.join(d, "audioonly.mkv")
        make_media(cls.prog, DURATION)
        make_media(cls.quiet, DURATION, audio="quiet")
        make_media(cls.noaudio, 4.0, audio=None)
        make_media(cls.audioonly, 4.0, video=False)
        cls.subs = os.path.join(d, "subs.en.srt")
        with open(cls.subs, "w") as f:
            f.write(srt(CUES))
        # The duck run is shared by several tests.
        cls.ducked = os.path.join(d, "ducked.mkv")
        cls.duck_run = cls.run_dub(cls.prog, cls.subs, cls.ducked, "--mode", "duck",
                                   "--duck-level", "-12", "--loudness", "0", "--json")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @staticmethod
    def run_dub(inp, subs, out, *extra, voice="ben"):
        args = [a if a != "ben" else voice for a in VOICE_ARGS]
        return subprocess.run([DUB, inp, subs, "-o", out] + args + list(extra),
                              capture_output=True, text=True, timeout=300)

    def dub_ok(self, *args):
        r = self.run_dub(*args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def assertNoLeftovers(self, out):
        d = os.path.dirname(out)
        left = [f for f in os.listdir(d) if ".part" in f]
        self.assertEqual(left, [], "temporary files left")

    @staticmethod
    def cue_reports(run):
        lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
        return [x for x in lines if x["type"] == "cue"], lines

    # ---- the normal dub ----------------------------------------------------

    def test_tracks_and_durations(self):
        self.assertEqual(self.duck_run.returncode, 0, self.duck_run.stderr)
        info = discover(self.ducked)
        self.assertAlmostEqual(info.get_duration() / Gst.SECOND, DURATION, delta=0.1)
        videos, audios = info.get_video_streams(), info.get_audio_streams()
        self.assertEqual(len(videos), 1)
        self.assertEqual(len(audios), 1)
        self.assertEqual(audios[0].get_caps().get_structure(0).get_name(), "audio/x-opus")
        tags = stream_tags(audios[0])
        self.assertEqual(tags.get(Gst.TAG_LANGUAGE_CODE), "en")
        audio, first = decode_audio(self.ducked)
        self.assertAlmostEqual(first, 0.0, delta=0.01)
        self.assertAlmostEqual(len(audio) / RATE, DURATION, delta=0.05)

    def test_video_is_bit_exact(self):
        self.assertEqual(self.duck_run.returncode, 0, self.duck_run.stderr)
        before, after = video_packets(self.prog), video_packets(self.ducked)
        self.assertEqual(len(before), int(DURATION * 25))
        self.assertEqual(before, after)

    def test_json_progress_and_cues(self):
        cues, lines = self.cue_reports(self.duck_run)
        self.assertEqual(lines[0]["type"], "start")
        self.assertEqual(lines[-1]["type"], "done")
        self.assertTrue(any(x["type"] == "progress" for x in lines))
        self.assertEqual(len(cues), len(CUES))
        for report, (start, end, _) in zip(sorted(cues, key=lambda c: c["index"]), CUES):
            self.assertAlmostEqual(report["start"], start, delta=0.001)
            self.assertAlmostEqual(report["end"], end, delta=0.001)

    def test_programme_ducked_during_speech(self):
        self.assertEqual(self.duck_run.returncode, 0, self.duck_run.stderr)
        audio, _ = decode_audio(self.ducked)
        side = (audio[:, 0] - audio[:, 1]) / 2      # the programme alone
        mid = (audio[:, 0] + audio[:, 1]) / 2       # the voice alone
        cues, _ = self.cue_reports(self.duck_run)
        speech = [(c["speech-start"], c["speech-end"]) for c in cues]
        self.assertTrue(all(b - a > 0.02 for a, b in speech), speech)
        for a, b in speech:
            self.assertGreater(rms_db(window(mid, a, b)), -45, "no voice in %.2f-%.2f" % (a, b))
        # The duck is complete from 50 ms (attack) before the speech to 80 ms
        # (the gate's hold) after it; the tiny model's speech is short.
        inside = [rms_db(window(side, a - 0.04, b + 0.06)) for a, b in speech]
        # Away from speech by more than look-ahead + release.
        bounds = [0.2] + [x for a, b in speech for x in (a - 0.3, b + 0.6)] + [DURATION - 0.2]
        outside = [rms_db(window(side, a, b)) for a, b in zip(bounds[::2], bounds[1::2]) if b - a > 0.2]
        self.assertTrue(outside)
        duck = np.median(inside) - np.median(outside)
        self.assertAlmostEqual(duck, -12.0, delta=1.5,
                               msg="inside %s outside %s" % (inside, outside))

    def test_speech_inside_cue_slots(self):
        out = os.path.join(self.dir, "replaced.mkv")
        run = self.dub_ok(self.quiet, self.subs, out, "--mode", "replace", "--loudness", "0",
                          "--json")
        audio, _ = decode_audio(out)
        voice = audio.mean(axis=1)
        cues, _ = self.cue_reports(run)
        slots = []
        for i, (start, end, _) in enumerate(CUES):
            slot_end = CUES[i + 1][0] if i + 1 < len(CUES) else DURATION
            slots.append((start, slot_end))
        # Simple energy VAD: 10 ms frames above -50 dBFS.
        frame = RATE // 100
        n = len(voice) // frame
        energy = 10 * np.log10(np.mean(np.square(voice[:n * frame].reshape(n, frame),
                                                 dtype=np.float64), axis=1) + 1e-20)
        active = np.nonzero(energy > -50)[0] * 0.01
        self.assertGreater(len(active), 0, "no speech at all")
        for t in active:
            self.assertTrue(any(a - 0.02 <= t <= b + 0.02 for a, b in slots),
                            "speech at %.2f s, outside every cue slot %s" % (t, slots))
        for a, b in slots:
            self.assertTrue(any(a - 0.02 <= t <= b for t in active),
                            "no speech in the slot %.2f-%.2f" % (a, b))
        for c, (a, b) in zip(sorted(cues, key=lambda c: c["index"]), slots):
            self.assertGreaterEqual(c["speech-start"], a - 0.001)
            self.assertLessEqual(c["speech-end"], b + 0.001)

    def test_add_track(self):
        out = os.path.join(self.dir, "added.mkv")
        # Not ASCII: read as UTF-8 whatever the locale (a service's is C).
        self.dub_ok(self.prog, self.subs, out, "--mode", "add-track", "--title", "Dub — test")
        info = discover(out)
        audios = info.get_audio_streams()
        self.assertEqual(len(audios), 2)
        self.assertEqual(audios[0].get_caps().get_structure(0).get_name(), "audio/x-vorbis")
        self.assertEqual(audios[1].get_caps().get_structure(0).get_name(), "audio/x-opus")
        tags = stream_tags(audios[1])
        self.assertEqual(tags.get(Gst.TAG_LANGUAGE_CODE), "en")
        self.assertEqual(tags.get(Gst.TAG_TITLE), "Dub — test")
        # Other readers see the title and the provenance note as plain text
        # (matroskamux alone would store them quoted and escaped).
        probe = json.loads(subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format_tags:stream_tags:stream=codec_type:"
             "stream_disposition=default", "-of", "json", out],
            check=True, capture_output=True, text=True, timeout=60).stdout)
        titles = [v for st in probe["streams"] for k, v in st.get("tags", {}).items() if k.lower() == "title"]
        self.assertIn("Dub — test", titles)
        # The dub is the default audio track, the original not.
        defaults = [st["disposition"]["default"] for st in probe["streams"] if st["codec_type"] == "audio"]
        self.assertEqual(defaults, [0, 1])
        note = {k.lower(): v for k, v in probe["format"].get("tags", {}).items()}.get("comments", "")
        self.assertTrue(note.startswith("Synthetic speech: dubbed with AI voices by ganvoice-dub "), note)
        self.assertTrue(note.endswith(" (built-in)."), note)
        original, _ = decode_audio(out, 0)
        self.assertAlmostEqual(len(original) / RATE, DURATION, delta=0.05)
        self.assertEqual(video_packets(self.prog), video_packets(out))

    def test_embed_subtitles(self):
        out = os.path.join(self.dir, "subtitled.mkv")
        self.dub_ok(self.prog, self.subs, out, "--embed-subtitles")
        info = discover(out)
        self.assertEqual(len(info.get_subtitle_streams()), 1)
        self.assertEqual(len(info.get_audio_streams()), 1)

    def test_mp4_output(self):
        out = os.path.join(self.dir, "audio.mp4")
        self.dub_ok(self.audioonly, self.subs, out, "--title", "Dub test")
        # mp4mux has no track titles: the dub's is not made the file's.
        probe = json.loads(subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format_tags", "-of", "json", out],
            check=True, capture_output=True, text=True, timeout=60).stdout)
        self.assertNotIn("Dub test", probe["format"].get("tags", {}).values())
        info = discover(out)
        audios = info.get_audio_streams()
        self.assertEqual(len(audios), 1)
        s = audios[0].get_caps().get_structure(0)
        self.assertEqual((s.get_name(), s.get_int("mpegversion")[1]), ("audio/mpeg", 4))
        self.assertAlmostEqual(info.get_duration() / Gst.SECOND, 4.0, delta=0.1)

    # ---- what goes wrong ---------------------------------------------------

    def test_missing_input(self):
        missing = os.path.join(self.dir, "missing.mkv")
        out = os.path.join(self.dir, "never.mkv")
        r = self.run_dub(missing, self.subs, out)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(missing, r.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertNoLeftovers(out)

    def test_corrupt_input(self):
        bad = os.path.join(self.dir, "corrupt.mkv")
        with open(bad, "wb") as f:
            f.write(os.urandom(1 << 16))
        out = os.path.join(self.dir, "never.mkv")
        r = self.run_dub(bad, self.subs, out)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(bad, r.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertNoLeftovers(out)

    def test_missing_subtitles(self):
        out = os.path.join(self.dir, "never.mkv")
        missing = os.path.join(self.dir, "missing.srt")
        r = self.run_dub(self.prog, missing, out)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(missing, r.stderr)

    def test_unsupported_output(self):
        r = self.run_dub(self.prog, self.subs, os.path.join(self.dir, "out.avi"))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("out.avi", r.stderr)

    def speech_wav(self, path, seconds):
        """Voice-like audio: a 140 Hz buzz with a syllable rhythm."""
        sr = 16000
        t = np.arange(int(seconds * sr)) / sr
        buzz = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 12))
        env = 0.5 + 0.5 * np.sin(2 * np.pi * 4.0 * t)
        write_wav(path, (0.2 * buzz / 3.0 * env * env).astype(np.float32), sr)

    def test_reference_audio_voice(self):
        if not Gst.ElementFactory.find("speakerembed"):
            self.skipTest("no speakerembed")
        wav = os.path.join(self.dir, "reference.wav")
        self.speech_wav(wav, 8.0)
        out = os.path.join(self.dir, "cloned.mkv")
        r = self.run_dub(self.prog, self.subs, out, "--speaker-encoder",
                         os.path.join(MODELS, "tiny-speaker.ts"), voice=wav)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(out))
        # the temporary profile is gone
        self.assertEqual([f for f in os.listdir(tempfile.gettempdir())
                          if f.startswith("ganvoice-dub-voice-")], [])

    def test_reference_audio_unusable(self):
        if not Gst.ElementFactory.find("speakerembed"):
            self.skipTest("no speakerembed")
        wav = os.path.join(self.dir, "silent.wav")
        launch("audiotestsrc", "wave=silence", "num-buffers=50", "!", "wavenc", "!",
               "filesink", "location=" + wav)
        out = os.path.join(self.dir, "never.mkv")
        r = self.run_dub(self.prog, self.subs, out, "--speaker-encoder",
                         os.path.join(MODELS, "tiny-speaker.ts"), voice=wav)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(wav, r.stderr)
        self.assertIn("silent", r.stderr)
        self.assertFalse(os.path.exists(out))

    def test_subtitles_past_the_end(self):
        subs = os.path.join(self.dir, "past.srt")
        with open(subs, "w") as f:
            f.write(srt(CUES + [(7.6, 9.5, "This runs past the end."),
                                (8.5, 9.0, "This starts after it.")]))
        out = os.path.join(self.dir, "past.mkv")
        r = self.dub_ok(self.prog, subs, out)
        self.assertIn("past the end", r.stderr)
        self.assertIn("This runs past the end.", r.stderr)
        self.assertIn("This starts after it.", r.stderr)
        info = discover(out)
        self.assertAlmostEqual(info.get_duration() / Gst.SECOND, DURATION, delta=0.1)
        audio, _ = decode_audio(out)
        self.assertAlmostEqual(len(audio) / RATE, DURATION, delta=0.05)

    def test_video_without_audio(self):
        out = os.path.join(self.dir, "dubonly.mkv")
        r = self.dub_ok(self.noaudio, self.subs, out)
        self.assertIn("no audio track", r.stderr)
        info = discover(out)
        self.assertEqual(len(info.get_video_streams()), 1)
        self.assertEqual(len(info.get_audio_streams()), 1)
        audio, _ = decode_audio(out)
        self.assertAlmostEqual(len(audio) / RATE, 4.0, delta=0.05)
        self.assertGreater(rms_db(window(audio[:, 0], 1.0, 2.5)), -60)

    def test_interrupt_leaves_nothing(self):
        out = os.path.join(self.dir, "interrupted.mkv")
        p = subprocess.Popen([DUB, self.prog, self.subs, "-o", out, "--json"] + VOICE_ARGS,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = json.loads(p.stdout.readline())
        self.assertEqual(first["type"], "start")
        part = [f for f in os.listdir(self.dir) if f.startswith("interrupted.mkv.part")]
        self.assertEqual(len(part), 1, "the temporary file is not there while running")
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 130, err)
        self.assertIn("interrupted", err)
        self.assertFalse(os.path.exists(out))
        self.assertNoLeftovers(out)

    # ---- inputs that once hung (issue 15) ------------------------------------

    SHORT_SRT = ("1\n00:00:02,000 --> 00:00:04,000\nHello there, this is a test.\n\n"
                 "2\n00:00:10,000 --> 00:00:12,000\nAnd a second line.\n\n")

    def dub_within(self, inp, subs, out, bound, *extra):
        """ganvoice-dub must end within @bound seconds."""
        try:
            r = subprocess.run([DUB, inp, subs, "-o", out] + VOICE_ARGS + list(extra),
                               capture_output=True, text=True, timeout=bound)
        except subprocess.TimeoutExpired:
            self.fail("ganvoice-dub %s hung (no end within %d s)" % (os.path.basename(inp), bound))
        return r

    def check_audio_longer_than_video(self, name, encoder, audio_buffers, video_frames):
        """The issue's reproductions: VP8 and mono audio made by GStreamer
        (Vorbis at 44.1 kHz, Opus at 48 kHz), the audio ending after the
        video."""
        inp, out = os.path.join(self.dir, name + ".mkv"), os.path.join(self.dir, name + "-dub.mkv")
        subs = os.path.join(self.dir, "short.srt")
        with open(subs, "w") as f:
            f.write(self.SHORT_SRT)
        launch("videotestsrc", "num-buffers=%d" % video_frames, "!",
               "video/x-raw,width=640,height=360,framerate=25/1", "!", "vp8enc", "deadline=1", "!",
               "queue", "!", "mux.", "audiotestsrc", "num-buffers=%d" % audio_buffers,
               "wave=pink-noise", "volume=0.1", "!", "audioconvert", "!", encoder, "!", "queue",
               "!", "mux.", "matroskamux", "name=mux", "!", "filesink", "location=" + inp)
        r = self.dub_within(inp, subs, out, 120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(video_packets(inp), video_packets(out))
        audio_seconds = len(decode_audio(inp)[0]) / RATE
        self.assertGreater(audio_seconds, video_frames / 25.0 + 1)
        info = discover(out)
        self.assertAlmostEqual(info.get_duration() / Gst.SECOND, audio_seconds, delta=0.1)
        audio, _ = decode_audio(out)
        self.assertAlmostEqual(len(audio) / RATE, audio_seconds, delta=0.1)
        self.assertNoLeftovers(out)

    def test_vorbis_longer_than_video(self):
        self.check_audio_longer_than_video("vorbis-long", "vorbisenc", 977, 500)

    def test_opus_longer_than_video(self):
        self.check_audio_longer_than_video("opus-long", "opusenc", 2930, 1500)

    def test_watchdog_stops_a_stall(self):
        """A decoder that stops pushing (tests/integration/stall-plugin):
        the watchdog ends the dub with an error naming the stalled branch,
        and nothing is written."""
        plugin_dir = os.environ.get("GANVOICE_TEST_STALL_PLUGIN_DIR")
        if not plugin_dir:
            self.skipTest("GANVOICE_TEST_STALL_PLUGIN_DIR is not set (run through meson test)")
        inp, out = os.path.join(self.dir, "ac3.mkv"), os.path.join(self.dir, "stalled.mkv")
        launch("videotestsrc", "num-buffers=100", "!",
               "video/x-raw,width=160,height=120,framerate=25/1", "!", "vp8enc", "deadline=1", "!",
               "queue", "!", "mux.", "audiotestsrc", "num-buffers=188", "!",
               "audio/x-raw,rate=48000,channels=2", "!", "audioconvert", "!", "avenc_ac3", "!",
               "queue", "!", "mux.", "matroskamux", "name=mux", "!", "filesink", "location=" + inp)
        env = dict(os.environ)
        for var in ("GST_PLUGIN_PATH_1_0", "GST_PLUGIN_PATH"):
            env[var] = plugin_dir + os.pathsep + env.get(var, "")
        # A registry of its own: the stalling decoder must not reach the others.
        env["GST_REGISTRY_1_0"] = os.path.join(self.dir, "stall-registry.bin")
        env["GANVOICE_TEST_STALL_AFTER"] = "1.0"
        try:
            r = subprocess.run([DUB, inp, self.subs, "-o", out, "--stall-timeout", "2", "--json"] +
                               VOICE_ARGS, capture_output=True, text=True, timeout=60, env=env)
        except subprocess.TimeoutExpired:
            self.fail("the stalled dub hung: the watchdog did not stop it")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("made no progress for 2 s", r.stderr)
        self.assertIn("The stalled branch: mux.", r.stderr)
        self.assertIn("was not written", r.stderr)
        errors = [json.loads(x) for x in r.stdout.splitlines()
                  if x.startswith("{") and json.loads(x)["type"] == "error"]
        self.assertEqual(len(errors), 1, r.stdout)
        self.assertIn("no progress", errors[0]["message"])
        self.assertFalse(os.path.exists(out))
        self.assertNoLeftovers(out)

    def test_speech_wav_pipeline(self):
        """subcues ! ganvoice ! audioconvert ! wavenc (no audiorate): a WAV as
        long as the subtitles, each cue's speech at its time."""
        wav = os.path.join(self.dir, "speech.wav")
        launch("filesrc", "location=" + self.subs, "!", "subcues", "!", "ganvoice",
               "acoustic-model=" + os.path.join(MODELS, "tiny-acoustic.ts"),
               "vocoder-model=" + os.path.join(MODELS, "tiny-vocoder.ts"), "voice=ben", "!",
               "audioconvert", "!", "audio/x-raw,format=S16LE", "!", "wavenc", "!",
               "filesink", "location=" + wav)
        with wave.open(wav) as w:
            rate = w.getframerate()
            x = np.frombuffer(w.readframes(w.getnframes()), np.int16) / 32768.0
        # To the last cue's end (its speech is shorter).
        self.assertAlmostEqual(len(x) / rate, CUES[-1][1], delta=0.01)

        def level(a, b):
            return rms_db(x[int(a * rate):int(b * rate)])
        self.assertLess(level(0.0, CUES[0][0] - 0.01), -90, "sound before the first cue")
        for i, (start, _, _) in enumerate(CUES):
            self.assertGreater(level(start, start + 0.1), -60, "no speech at cue %d" % i)
            gap_start = start + 0.9 if i + 1 < len(CUES) else None
            if gap_start and gap_start < CUES[i + 1][0] - 0.05:
                self.assertLess(level(gap_start, CUES[i + 1][0] - 0.01), -90,
                                "sound between cues %d and %d" % (i, i + 1))


if __name__ == "__main__":
    Gst.init(None)
    if not DUB or not os.access(DUB, os.X_OK):
        print("usage: test_dub.py PATH/TO/ganvoice-dub", file=sys.stderr)
        sys.exit(2)
    for name in ("ganvoice", "dubbin", "vp8enc", "vorbisenc", "opusenc", "matroskamux"):
        if not Gst.ElementFactory.find(name):
            print("SKIP: no %s element" % name)
            sys.exit(77)
    unittest.main(verbosity=2)

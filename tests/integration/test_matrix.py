#!/usr/bin/python3
"""Input matrix for ganvoice-dub: every dub ends, right (issue 15).

    test_matrix.py BUILD/examples/tools/ganvoice-dub [unittest args]
    test_matrix.py BUILD/examples/tools/ganvoice-dub -k ts_h264    # some cases

Dubs a table of short generated inputs (4 s of 160x120 video), made with
gst-launch-1.0 and with ffmpeg, that together cover every value of every
axis (pairwise, not the full product): containers MKV, MP4, WebM, MOV and
MPEG-TS; video VP8, VP9, H.264, AV1 and none; audio Vorbis, Opus, AAC, MP3,
AC-3, FLAC and PCM at 8, 16, 22.05, 44.1 and 48 kHz, mono, stereo and 5.1,
as long as, longer or shorter than the video; subtitles (SubRip, WebVTT,
ASS) with a cue at 0, cues past the end, and overlapping cues; output .mkv,
.webm and .mp4. One test per case, named after it. Each checks:

1. ganvoice-dub ends within TIMEOUT seconds (else it is stopped, and the
   case fails) with status 0, the output is there and no OUT.part* is left;
2. the video packets are bit-identical (ffmpeg framemd5 of the copied
   stream, H.264 as Annex B on both sides) at the same times (1 ms);
3. the dub track is Opus (AAC in .mp4) with the programme's channels, and
   its speech (--mode replace over a -70 dBFS programme) is in the slot of
   every cue that starts before the case's `spoken_until` (default: the
   whole film), and nowhere before the first cue or past the end;
4. the output, and its dub track, last as long as the input (0.2 s).

Runs with the tiny test models (tests/models); needs ffmpeg and ffprobe to
make and read the media. A case whose encoder, muxer or demuxer is missing
is skipped with the reason (GStreamer-made H.264 needs x264enc; MPEG-TS
needs tsdemux from gstreamer1.0-plugins-bad). Exits 77 (skipped) when the
ganvoice element or ffmpeg is not there. GANVOICE_MATRIX_TIMEOUT sets the
per-dub bound (default 40 s).
"""
import collections
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import unittest

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402
import numpy as np  # noqa: E402

from dubtest import dub_path, tiny_model_args  # noqa: E402

DUB = dub_path()
DUB_ARGS = tiny_model_args() + ["--mode", "replace", "--loudness", "0"]
DUB_NAME = "ganvoice-dub"
TIMEOUT = float(os.environ.get("GANVOICE_MATRIX_TIMEOUT", "40"))
FPS = 25
RATE = 48000          # the rate the output's audio is analysed at
FRAME = 0.01          # energy window, s
PROGRAMME = 0.0003    # the programme's sine: -70 dBFS peak
SPEECH_DB = -50       # a window louder than this is speech
LOOKAHEAD = 0.12      # duckmix's and the encoder's look-ahead, and a window
DURATION_TOL = 0.2

FILM = "film"         # spoken_until: the whole film (the intended behaviour)

VIDEO_S = 4.0
Case = collections.namedtuple(
    "Case", "maker container video audio rate channels audio_s subs fmt out spoken_until")

# The video lasts VIDEO_S; audio_s 4.0 is as long, 5.5 longer, 2.5 shorter, 0 none.
# The last column is spoken_until: speech is expected in the slot of every cue
# that starts before it; FILM is the whole film, max(VIDEO_S, audio_s).
CASES = [
    #    maker     cont.   video   audio     rate   ch audio_s subs       fmt    out     until
    Case("gst", "mkv", "vp8", "vorbis", 48000, 2, 4.0, "plain", "srt", "mkv", FILM),
    Case("gst", "webm", "vp9", "opus", 16000, 1, 2.5, "early", "vtt", "webm", FILM),
    Case("gst", "mkv", "vp9", "flac", 22050, 6, 5.5, "overlap", "ass", "mkv", FILM),
    Case("gst", "mkv", "vp8", "ac3", 48000, 6, 2.5, "past", "srt", "webm", FILM),
    Case("gst", "mkv", "vp8", "mp3", 8000, 1, 4.0, "overlap", "srt", "mkv", FILM),
    Case("gst", "mkv", "vp9", "pcm", 44100, 6, 4.0, "early", "srt", "webm", FILM),
    Case("gst", "webm", "vp8", "vorbis", 22050, 1, 5.5, "past", "vtt", "mkv", FILM),
    Case("gst", "mkv", "vp8", "aac", 16000, 2, 5.5, "plain", "ass", "mkv", FILM),
    Case("gst", "mkv", "vp9", None, 0, 0, 0.0, "past", "srt", "mkv", FILM),
    Case("gst", "mp4", "h264", "aac", 44100, 2, 5.5, "early", "srt", "mp4", FILM),
    Case("gst", "ts", "h264", "mp3", 48000, 2, 2.5, "overlap", "srt", "mkv", FILM),
    Case("ffmpeg", "mp4", "h264", "aac", 48000, 2, 4.0, "plain", "srt", "mp4", FILM),
    Case("ffmpeg", "mp4", "h264", "mp3", 44100, 2, 5.5, "early", "srt", "mkv", FILM),
    Case("ffmpeg", "mov", "h264", "pcm", 48000, 6, 2.5, "overlap", "ass", "mp4", FILM),
    Case("ffmpeg", "mov", "h264", "aac", 8000, 1, 5.5, "past", "srt", "mp4", FILM),
    Case("ffmpeg", "ts", "h264", "aac", 22050, 1, 4.0, "past", "srt", "mkv", FILM),
    Case("ffmpeg", "ts", "h264", "ac3", 48000, 6, 5.5, "overlap", "srt", "mp4", FILM),
    Case("ffmpeg", "ts", "h264", "mp3", 16000, 1, 2.5, "plain", "vtt", "mkv", FILM),
    Case("ffmpeg", "mkv", "av1", "opus", 48000, 6, 4.0, "overlap", "srt", "webm", FILM),
    Case("ffmpeg", "mp4", "av1", "flac", 16000, 2, 2.5, "past", "ass", "mkv", FILM),
    Case("ffmpeg", "webm", "vp9", "vorbis", 8000, 2, 5.5, "plain", "srt", "webm", FILM),
    Case("ffmpeg", "webm", "vp8", "opus", 8000, 1, 2.5, "early", "srt", "mkv", FILM),
    Case("ffmpeg", "mkv", "h264", "flac", 8000, 6, 5.5, "early", "vtt", "mkv", FILM),
    Case("ffmpeg", "mkv", "vp8", "pcm", 16000, 2, 5.5, "past", "srt", "webm", FILM),
    Case("ffmpeg", "mkv", "h264", "vorbis", 44100, 6, 2.5, "plain", "srt", "mkv", FILM),
    Case("ffmpeg", "mp4", "vp9", "opus", 48000, 2, 4.0, "early", "srt", "mkv", FILM),
    Case("ffmpeg", "mp4", "h264", "ac3", 44100, 2, 4.0, "past", "vtt", "mp4", FILM),
    Case("ffmpeg", "mp4", "h264", None, 0, 0, 0.0, "overlap", "srt", "mp4", FILM),
    Case("ffmpeg", "mov", "h264", "mp3", 22050, 2, 4.0, "early", "srt", "mkv", FILM),
]


def duration(case):
    return max(VIDEO_S, case.audio_s)


def spoken_until(case):
    return duration(case) if case.spoken_until == FILM else case.spoken_until


def case_name(case):
    if not case.audio:
        sound = "noaudio"
    else:
        length = ("same_length" if case.audio_s == VIDEO_S else
                  "audio_longer" if case.audio_s > VIDEO_S else "audio_shorter")
        sound = "%s_%sk_%s_%s" % (case.audio, ("%g" % (case.rate / 1000)).replace(".", "_"),
                                  {1: "mono", 2: "stereo", 6: "5_1"}[case.channels], length)
    return "%s_%s_%s_%s_%s_%s_to_%s" % (case.maker, case.container, case.video, sound,
                                        case.subs, case.fmt, case.out)


def cues(kind, d):
    """(start, end, text) of the cues of a subtitle kind, for a film of d s."""
    if kind == "plain":
        return [(0.6, 1.4, "Hello there, the first line."),
                (1.8, 2.4, "A second one."),
                (d - 1.4, d - 0.6, "And this is the last.")]
    if kind == "early":      # at 00:00:00.000, the earliest a cue can be
        return [(0.0, 0.9, "Right at the start."),
                (1.6, 2.4, "Then this one."),
                (d - 1.2, d - 0.4, "And the end.")]
    if kind == "past":       # one runs past the end, one starts after it
        return [(0.8, 1.6, "The first line."),
                (d - 0.8, d + 1.0, "This runs past the end."),
                (d + 0.5, d + 1.5, "This starts after it.")]
    if kind == "overlap":    # the first two overlap, and the last two
        return [(0.5, 2.0, "A long first line that overlaps."),
                (1.2, 2.2, "Overlapping second."),
                (d - 1.3, d - 0.3, "The third line."),
                (d - 0.9, d - 0.1, "And a fourth over it.")]
    raise ValueError(kind)


def write_subs(path, fmt, items):
    def ts(t, sep):
        ms = int(round(t * 1000))
        return "%02d:%02d:%02d%s%03d" % (ms // 3600000, ms // 60000 % 60, ms // 1000 % 60,
                                         sep, ms % 1000)
    if fmt == "srt":
        text = "".join("%d\n%s --> %s\n%s\n\n" % (i + 1, ts(a, ","), ts(b, ","), line)
                       for i, (a, b, line) in enumerate(items))
    elif fmt == "vtt":
        text = "WEBVTT\n\n" + "".join("%s --> %s\n%s\n\n" % (ts(a, "."), ts(b, "."), line)
                                      for a, b, line in items)
    else:
        def ass(t):
            cs = int(round(t * 100))
            return "%d:%02d:%02d.%02d" % (cs // 360000, cs // 6000 % 60, cs // 100 % 60, cs % 100)
        text = ("[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\n"
                "Format: Name, Fontname, Fontsize, PrimaryColour, Bold, Italic, Alignment\n"
                "Style: Default,Arial,20,&H00FFFFFF,0,0,2\n\n[Events]\n"
                "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, "
                "Text\n" +
                "".join("Dialogue: 0,%s,%s,Default,,0,0,0,,%s\n" % (ass(a), ass(b), line)
                        for a, b, line in items))
    with open(path, "w") as f:
        f.write(text)


# ---- making the inputs -----------------------------------------------------

GST_VIDEO = {"vp8": ["vp8enc", "deadline=1", "keyframe-max-dist=%d" % FPS],
             "vp9": ["vp9enc", "deadline=1", "cpu-used=8", "keyframe-max-dist=%d" % FPS],
             "h264": ["x264enc", "speed-preset=superfast", "key-int-max=%d" % FPS]}
GST_AUDIO = {"vorbis": ["vorbisenc"], "opus": ["opusenc"], "aac": ["avenc_aac", "!", "aacparse"],
             "mp3": ["lamemp3enc", "!", "mpegaudioparse"], "ac3": ["avenc_ac3", "!", "ac3parse"],
             "flac": ["flacenc"], "pcm": ["identity"]}
GST_MUX = {"mkv": "matroskamux", "webm": "webmmux", "mp4": "mp4mux", "mov": "qtmux",
           "ts": "mpegtsmux"}
FF_VIDEO = {"vp8": ["libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"],
            "vp9": ["libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"],
            # superfast keeps B-frames: PTS differs from DTS
            "h264": ["libx264", "-preset", "superfast", "-pix_fmt", "yuv420p"]}
FF_AV1 = [["libaom-av1", "-cpu-used", "8", "-usage", "realtime"],
          ["libsvtav1", "-preset", "12"], ["librav1e", "-speed", "10"]]
FF_AUDIO = {"vorbis": ["libvorbis"], "opus": ["libopus"], "aac": ["aac"], "mp3": ["libmp3lame"],
            "ac3": ["ac3"], "flac": ["flac", "-strict", "-2"], "pcm": ["pcm_s16le"]}
FF_FORMAT = {"mkv": "matroska", "webm": "webm", "mp4": "mp4", "mov": "mov", "ts": "mpegts"}
# What ganvoice-dub needs to read each container.
DEMUXERS = {"mkv": "matroskademux", "webm": "matroskademux", "mp4": "qtdemux",
            "mov": "qtdemux", "ts": "tsdemux"}
# Where Debian has the elements that setup.sh does not install.
PACKAGES = {"tsdemux": "gstreamer1.0-plugins-bad", "mpegtsmux": "gstreamer1.0-plugins-bad",
            "x264enc": "gstreamer1.0-plugins-ugly"}


def ffmpeg_encoders():
    r = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True)
    lines = r.stdout.splitlines()
    table = lines[lines.index(" ------") + 1:] if " ------" in lines else []
    return {line.split()[1] for line in table if len(line.split()) > 1}


def elements(args):
    """The element names in a gst-launch-1.0 argument list."""
    return [args[0]] + [args[i + 1] for i, a in enumerate(args[:-1]) if a == "!"]


def missing_gst(names):
    """The elements of names that are not there, with their Debian package."""
    return ["%s (%s)" % (n, PACKAGES[n]) if n in PACKAGES else n
            for n in names if not Gst.ElementFactory.find(n)]


def why_skip(case, encoders):
    """The reason this case cannot be made or read here, or None."""
    gone = missing_gst([DEMUXERS[case.container]])
    if gone:
        return "no %s: ganvoice-dub cannot read .%s here" % (gone[0], case.container)
    if case.maker == "gst":
        need = [GST_MUX[case.container], "videotestsrc", "audiotestsrc"]
        need += elements(GST_VIDEO[case.video])
        if case.audio:
            need += elements(GST_AUDIO[case.audio])
        gone = missing_gst(need)
        return "no GStreamer %s" % ", ".join(gone) if gone else None
    need = ([FF_AUDIO[case.audio][0]] if case.audio else [])
    if case.video == "av1":
        if not any(e[0] in encoders for e in FF_AV1):
            return "no AV1 encoder in ffmpeg (%s)" % ", ".join(e[0] for e in FF_AV1)
    else:
        need.append(FF_VIDEO[case.video][0])
    gone = [e for e in need if e not in encoders]
    return "no ffmpeg encoder %s" % ", ".join(gone) if gone else None


def make_gst(case, path):
    args = ["videotestsrc", "pattern=ball", "num-buffers=%d" % round(VIDEO_S * FPS), "!",
            "video/x-raw,width=160,height=120,framerate=%d/1" % FPS, "!"]
    args += GST_VIDEO[case.video] + ["!", "queue", "!", "mux."]
    if case.audio:
        per_buffer = case.rate // 50   # 20 ms
        args += ["audiotestsrc", "freq=440", "volume=%g" % PROGRAMME,
                 "samplesperbuffer=%d" % per_buffer,
                 "num-buffers=%d" % round(case.audio_s * 50), "!",
                 "audio/x-raw,format=S16LE,rate=%d,channels=%d" % (case.rate, case.channels),
                 "!", "audioconvert", "!"] + GST_AUDIO[case.audio] + ["!", "queue", "!", "mux."]
    args += [GST_MUX[case.container], "name=mux", "!", "filesink", "location=" + path]
    subprocess.run(["gst-launch-1.0", "-q", "-e"] + args, check=True, timeout=120,
                   capture_output=True)


def make_ffmpeg(case, path, encoders):
    args = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi",
            "-i", "testsrc2=size=160x120:rate=%d:duration=%g" % (FPS, VIDEO_S)]
    if case.audio:
        args += ["-f", "lavfi",
                 "-i", "sine=frequency=440:sample_rate=%d:duration=%g" % (case.rate, case.audio_s)]
    if case.video == "av1":
        video = next(e for e in FF_AV1 if e[0] in encoders)
    else:
        video = FF_VIDEO[case.video]
    args += ["-map", "0:v", "-c:v"] + video + ["-g", str(FPS)]
    if case.audio:
        layout = {1: "mono", 2: "stereo", 6: "5.1"}[case.channels]
        volume = PROGRAMME * 8   # ffmpeg's sine is at 1/8
        args += ["-map", "1:a", "-af", "volume=%g,aformat=channel_layouts=%s" % (volume, layout),
                 "-c:a"] + FF_AUDIO[case.audio]
    args += ["-f", FF_FORMAT[case.container], path]
    subprocess.run(args, check=True, timeout=120, capture_output=True)


# ---- reading the media -----------------------------------------------------

def probe(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams",
                        path], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(r.stdout)


def video_packets(path):
    """(PTS in s, MD5) of every packet of the first video stream, copied, not decoded."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-copyts", "-i", path,
                        "-map", "0:v:0", "-c", "copy", "-f", "framemd5", "-"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("ffmpeg cannot read the video of %s: %s" % (path, r.stderr[-500:]))
    tb = 1.0
    out = []
    for line in r.stdout.splitlines():
        m = re.match(r"#tb 0: (\d+)/(\d+)", line)
        if m:
            tb = int(m.group(1)) / int(m.group(2))
        elif line and not line.startswith("#"):
            fields = [f.strip() for f in line.split(",")]
            out.append((int(fields[2]) * tb, fields[5]))
    return out


def h264_units(path):
    """The H.264 stream of path as (MD5s of its picture and SEI NAL units in order,
    the set of its SPS and PPS). Containers legitimately move parameter sets
    between the header and the packets and drop or add access unit
    delimiters (MPEG-TS has them, Matroska and MP4 need none); the rest must
    be the same bytes in the same order."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-map", "0:v:0",
                        "-c", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "h264", "-"],
                       capture_output=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("ffmpeg cannot read the video of %s: %s" % (path, r.stderr[-500:]))
    units, params = [], set()
    for nal in re.split(b"\x00\x00\x00\x01|\x00\x00\x01", r.stdout)[1:]:
        kind = nal[0] & 0x1f if nal else 0
        if kind in (7, 8):          # SPS, PPS
            params.add(nal.rstrip(b"\x00"))
        elif kind not in (9, 12):   # not an AUD or filler
            units.append(hashlib.md5(nal.rstrip(b"\x00")).hexdigest())
    return units, params


def first_difference(a, b):
    """The index of the first item where lists a and b differ, or None."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def decode_audio(path):
    """The first audio stream as float32 [frames, channels] at RATE."""
    channels = next(s["channels"] for s in probe(path)["streams"] if s["codec_type"] == "audio")
    r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-map", "0:a:0",
                        "-ar", str(RATE), "-f", "f32le", "-"], capture_output=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("ffmpeg cannot decode the dub of %s: %s" % (path, r.stderr[-500:]))
    data = np.frombuffer(r.stdout, dtype=np.float32)
    return data[:len(data) // channels * channels].reshape(-1, channels)


def levels_db(audio):
    """Per FRAME window, the loudest channel's RMS in dBFS."""
    n = int(RATE * FRAME)
    frames = len(audio) // n
    x = audio[:frames * n].reshape(frames, n, -1).astype(np.float64)
    return 10 * np.log10(np.max(np.mean(x * x, axis=1), axis=1) + 1e-20)


def run_dub(args):
    """(exit status, stdout, stderr, how it was stopped: None when it ended by
    itself within TIMEOUT, else "SIGTERM" or "SIGKILL")."""
    # Its own process group, so that a stop reaches anything it started.
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=TIMEOUT)
        return p.returncode, out, err, None
    except subprocess.TimeoutExpired:
        pass
    # SIGTERM lets it remove its temporary file; SIGKILL when that hangs too.
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, None)):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            out, err = p.communicate(timeout=wait)
            return p.returncode, out, err, sig.name
        except subprocess.TimeoutExpired:
            pass


# ---- the tests -------------------------------------------------------------

class Matrix(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ganvoice-matrix-")
        cls.inputs, cls.skips, cls.errors = {}, {}, {}
        encoders = ffmpeg_encoders()
        for case in CASES:
            name = case_name(case)
            reason = why_skip(case, encoders)
            if reason:
                cls.skips[name] = reason
                continue
            d = os.path.join(cls.tmp.name, name)
            os.mkdir(d)
            media = os.path.join(d, "input." + case.container)
            subs = os.path.join(d, "subs." + case.fmt)
            write_subs(subs, case.fmt, cues(case.subs, duration(case)))
            try:
                if case.maker == "gst":
                    make_gst(case, media)
                else:
                    make_ffmpeg(case, media, encoders)
            except subprocess.SubprocessError as e:
                said = (getattr(e, "stderr", None) or b"").decode(errors="replace")
                cls.errors[name] = "%s %s" % (e, said[-500:])
                continue
            cls.inputs[name] = (media, subs, os.path.join(d, "output." + case.out))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def dub_case(self, case):
        name = case_name(case)
        if name in self.skips:
            self.skipTest(self.skips[name])
        if name in self.errors:
            self.fail("%s: could not make the input: %s" % (name, self.errors[name]))
        media, subs, out = self.inputs[name]

        # 1. It ends, with status 0, and leaves only the output.
        status, _, err, stopped = run_dub([DUB, media, subs, "-o", out] + DUB_ARGS)
        # Its own lines, without GStreamer's debug output (GST_DEBUG in meson).
        said = "\n".join(line for line in err.splitlines()
                         if line.startswith((DUB_NAME, "  ")))
        tail = (said or err)[-1500:]
        if stopped:
            self.fail("%s: ganvoice-dub did not end within %g s; stopped with %s (exit "
                      "status %d); stderr: %s" % (name, TIMEOUT, stopped, status, tail))
        self.assertEqual(status, 0, "%s: exit status %d; stderr: %s" % (name, status, tail))
        self.assertTrue(os.path.exists(out), "%s: no output file" % name)
        left = [f for f in os.listdir(os.path.dirname(out)) if ".part" in f]
        self.assertEqual(left, [], "%s: temporary files left" % name)

        info = probe(out)
        kinds = [s["codec_type"] for s in info["streams"]]
        self.assertEqual(kinds.count("video"), 1, "%s: streams %s" % (name, kinds))
        self.assertEqual(kinds.count("audio"), 1, "%s: streams %s" % (name, kinds))

        # 2. The video is copied bit for bit, at the same times.
        with self.subTest(check="video bit-exact"):
            before, after = video_packets(media), video_packets(out)
            self.assertTrue(before, "%s: no video packets in the input" % name)
            self.assertEqual(len(after), len(before), "%s: video packet count" % name)
            if case.video == "h264":
                (units, params), (units_out, params_out) = h264_units(media), h264_units(out)
                self.assertEqual(params_out, params, "%s: H.264 SPS/PPS differ" % name)
                bad = first_difference(units, units_out)
                if bad is not None:
                    self.fail("%s: H.264 NAL unit %d of %d differs (%d in the output)" % (
                        name, bad + 1, len(units), len(units_out)))
            else:
                bad = first_difference([h for _, h in before], [h for _, h in after])
                if bad is not None:
                    self.fail("%s: video packet %d of %d differs (input PTS %.3f s)" % (
                        name, bad + 1, len(before), before[bad][0]))
            # Up to a shift of the whole stream (MPEG-TS starts at 1.4 s).
            shift = float(np.median([a - b for (b, _), (a, _) in zip(before, after)]))
            # GStreamer's matroskamux writes the first frames of ffmpeg's
            # H.264 (PTS 3 ms, B-frames) at 0 and 40 ms; a plain
            # matroskademux ! matroskamux remux does the same. Up to 3
            # leading frames may move by 5 ms; every other by under 1 ms.
            moved = [(round(b, 4), round(a, 4))
                     for i, ((b, _), (a, _)) in enumerate(zip(before, after))
                     if abs(a - b - shift) >= (0.005 if i < 3 else 0.001)]
            if moved:
                self.fail("%s: %d of %d video PTS moved; the first, as (input, output) s: %s" % (
                    name, len(moved), len(before), moved[:4]))

        # The dub track: the container's codec, the programme's channels.
        stream = next(s for s in info["streams"] if s["codec_type"] == "audio")
        with self.subTest(check="dub track"):
            codec = "aac" if case.out == "mp4" else "opus"
            self.assertEqual(stream["codec_name"], codec, "%s: dub codec" % name)
            if case.audio:
                self.assertEqual(stream["channels"], case.channels,
                                 "%s: the dub has %d channels, the programme %d" % (
                                     name, stream["channels"], case.channels))

        audio = decode_audio(out)
        film = duration(case)
        dub_s = len(audio) / RATE

        # 3. Speech in every slot up to spoken_until, none outside the slots.
        with self.subTest(check="speech in its slots"):
            level = levels_db(audio)
            times = np.arange(len(level)) * FRAME
            speech = times[level > SPEECH_DB]
            items = [c for c in cues(case.subs, film) if c[0] < film]
            until = spoken_until(case)
            for i, (start, _, text) in enumerate(items):
                end = min(items[i + 1][0], film) if i + 1 < len(items) else film
                if start >= until:
                    continue
                inside = (times >= start - FRAME) & (times < end)
                loudest = level[inside].max() if inside.any() else -200
                self.assertGreaterEqual(
                    np.count_nonzero(inside & (level > SPEECH_DB)), 3,
                    "%s: cue %d (%.2f s, slot to %.2f s, %r) not spoken: loudest %.0f dBFS "
                    "there; the dub track ends at %.2f s" % (
                        name, i + 1, start, end, text, loudest, dub_s))
            first = items[0][0]
            early = speech[speech < first - LOOKAHEAD]
            self.assertEqual(len(early), 0, "%s: speech at %s s, before the first cue (%.2f s)"
                             % (name, np.round(early[:5], 2).tolist(), first))
            late = speech[speech > film + LOOKAHEAD]
            self.assertEqual(len(late), 0, "%s: speech at %s s, past the end (%.2f s)"
                             % (name, np.round(late[:5], 2).tolist(), film))

        # 4. As long as the input: the file and its dub.
        with self.subTest(check="duration"):
            out_s = float(info["format"]["duration"])
            self.assertLess(abs(out_s - film), DURATION_TOL, "%s: the output lasts %.2f s, "
                            "the input %.2f s" % (name, out_s, film))
            self.assertLess(abs(dub_s - film), DURATION_TOL, "%s: the dub track lasts %.2f s, "
                            "the input %.2f s" % (name, dub_s, film))


def add_tests():
    for i, case in enumerate(CASES):
        def test(self, case=case):
            self.dub_case(case)
        test.__doc__ = None
        setattr(Matrix, "test_%02d_%s" % (i + 1, case_name(case)), test)


add_tests()

if __name__ == "__main__":
    Gst.init(None)
    if not DUB or not os.access(DUB, os.X_OK):
        print("usage: test_matrix.py PATH/TO/ganvoice-dub", file=sys.stderr)
        sys.exit(2)
    for name in ("ganvoice", "dubbin", "opusenc", "matroskamux"):
        if not Gst.ElementFactory.find(name):
            print("SKIP: no %s element" % name)
            sys.exit(77)
    for tool in ("ffmpeg", "ffprobe"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            print("SKIP: no %s (apt-get install ffmpeg)" % tool)
            sys.exit(77)
    unittest.main(verbosity=2)

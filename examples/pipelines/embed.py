#!/usr/bin/python3
"""dubbin from Python (PyGObject): dubs the soundtrack of a media file from a
subtitle file into a WAV file, printing each cue as ganvoice speaks it.

    examples/pipelines/embed.py INPUT SUBTITLES OUT.wav [VOICE]

Needs Debian's python3-gi and gir1.2-gstreamer-1.0, and the plugin on
GST_PLUGIN_PATH (build/plugins). The pipeline:

    uridecodebin (audio) ! dubbin ! audioconvert ! wavenc ! filesink
"""
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def main(argv):
    Gst.init(None)
    if len(argv) < 4:
        print("usage: embed.py INPUT SUBTITLES OUT.wav [VOICE]", file=sys.stderr)
        return 2
    pipeline = Gst.Pipeline.new("embed")
    decode = Gst.ElementFactory.make("uridecodebin")
    dub = Gst.ElementFactory.make("dubbin")
    if dub is None:
        print("embed.py: no dubbin element: put build/plugins on GST_PLUGIN_PATH",
              file=sys.stderr)
        return 1
    convert = Gst.ElementFactory.make("audioconvert")
    encode = Gst.ElementFactory.make("wavenc")
    sink = Gst.ElementFactory.make("filesink")

    decode.set_property("uri", Gst.filename_to_uri(argv[1]))
    dub.set_property("subtitle-location", argv[2])
    dub.set_property("duck-level", -15.0)
    Gst.util_set_object_arg(dub, "mode", "duck")
    if len(argv) > 4:
        dub.set_property("voice", argv[4])
    sink.set_property("location", argv[3])

    for e in (decode, dub, convert, encode, sink):
        pipeline.add(e)
    dub.link(convert)
    convert.link(encode)
    encode.link(sink)

    def on_pad_added(_decode, pad):
        caps = pad.query_caps(None)
        target = dub.get_static_pad("sink")
        if caps.get_structure(0).get_name().startswith("audio/") and not target.is_linked():
            pad.link(target)

    decode.connect("pad-added", on_pad_added)

    loop = GLib.MainLoop()
    status = [0]

    def on_message(_bus, msg):
        if msg.type == Gst.MessageType.ELEMENT and msg.get_structure().has_name("ganvoice-cue"):
            s = msg.get_structure()
            print("cue %d: %.3f - %.3f s, rate %.2f, %s" % (
                s.get_value("index"), s.get_value("start") / Gst.SECOND,
                s.get_value("end") / Gst.SECOND, s.get_value("applied-rate"),
                s.get_value("step")))
        elif msg.type == Gst.MessageType.ERROR:
            err, _ = msg.parse_error()
            print("embed.py: error from %s: %s" % (msg.src.get_name(), err.message),
                  file=sys.stderr)
            status[0] = 1
            loop.quit()
        elif msg.type == Gst.MessageType.EOS:
            loop.quit()

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    pipeline.set_state(Gst.State.PLAYING)
    loop.run()
    pipeline.set_state(Gst.State.NULL)
    bus.remove_signal_watch()
    if status[0] == 0:
        print("wrote %s" % argv[3])
    return status[0]


if __name__ == "__main__":
    sys.exit(main(sys.argv))

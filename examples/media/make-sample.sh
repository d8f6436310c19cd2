#!/usr/bin/env bash
# Builds examples/media/sample.mkv, the project's 27-second sample programme,
# with a single gst-launch-1.0 pipeline (no ffmpeg):
#
#   video  640x360, 25 fps, VP8: a night-time lighthouse scene drawn with
#          videotestsrc (gradient sky and sea, solid-colour lighthouse, a
#          bobbing "ship's light" from pattern=ball, SMPTE 75% bars as a colour
#          reference), a title and a running timecode (timeoverlay) so that
#          dubbing sync can be checked by eye;
#   audio  stereo 48 kHz Vorbis: the music track "Trip on the Funny Boat" by
#          Joona "JDruid" Karjalainen (MIT/Expat licence), taken from the
#          Debian package funnyboat (pinned version, track checked by sha256),
#          at about -20 LUFS, over faint pink noise as a sea-like ambience.
#          There is no speech: the sample is a music-and-effects programme for
#          the dubbing pipeline to speak the subtitles over.
#
# Usage: examples/media/make-sample.sh [--force] [OUTPUT]
#   Without --force an existing OUTPUT is left as it is (the recipe is
#   idempotent; the committed file is not rewritten on every run).
#   GANVOICE_MEDIA_CACHE  where the downloaded .deb and the extracted track are
#                         kept (default: ${XDG_CACHE_HOME:-~/.cache}/ganvoice-media)
#
# Needs: gstreamer1.0-tools, gstreamer1.0-plugins-base, gstreamer1.0-plugins-good,
# gstreamer1.0-x (textoverlay/timeoverlay, the pango plugin), fonts-dejavu-core,
# apt-get (Debian 12 "bookworm" sources), dpkg-deb, sha256sum.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

force=0
if [[ "${1:-}" == "--force" ]]; then
    force=1
    shift
fi
out="${1:-$here/sample.mkv}"

# --- the music: pinned Debian package and track --------------------------------
music_pkg="funnyboat"
music_ver="1.5-11"
music_track="usr/share/games/funnyboat/data/JDruid-Trip_on_the_Funny_Boat.ogg"
music_sha256="1db157e12fa37b54a5add98a9f2ad6c906806e898fac53c29a96cd48a09c9278"
music_gain="0.65"     # -3.7 dB: the track is about -16 LUFS; the mix measures about -20 LUFS
ambience_gain="0.02"  # pink noise, about -40 dBFS RMS

# --- the programme ---------------------------------------------------------------
fps=25
frames=675                    # 27 s at 25 fps
audio_buffers=2700            # 27 s of 10 ms audio buffers from the mixer
title="ganvoice sample — The lighthouse"
credit="music: “Trip on the Funny Boat” by JDruid (MIT licence)"

if [[ -e "$out" && $force -eq 0 ]]; then
    echo "make-sample: $out exists; use --force to rebuild it" >&2
    exit 0
fi

for el in videotestsrc compositor textoverlay timeoverlay vp8enc \
          oggdemux vorbisdec audiotestsrc audiomixer volume identity \
          vorbisenc taginject matroskamux; do
    if ! gst-inspect-1.0 "$el" >/dev/null 2>&1; then
        echo "make-sample: GStreamer element '$el' is missing" \
             "(apt-get install gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-x)" >&2
        exit 1
    fi
done

cache="${GANVOICE_MEDIA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ganvoice-media}"
mkdir -p "$cache"
track="$cache/$(basename "$music_track")"

track_ok() {
    [[ -f "$track" ]] && echo "$music_sha256  $track" | sha256sum --check --status -
}

if ! track_ok; then
    deb="$cache/${music_pkg}_${music_ver}_all.deb"
    if [[ ! -f "$deb" ]]; then
        echo "make-sample: fetching ${music_pkg}=${music_ver} with apt-get download" >&2
        if ! (cd "$cache" && apt-get download "${music_pkg}=${music_ver}"); then
            echo "make-sample: could not download ${music_pkg}=${music_ver} (Debian 12 bookworm, main);" \
                 "run apt-get update, or put ${music_pkg}_${music_ver}_all.deb from the Debian snapshot" \
                 "archive into $cache" >&2
            exit 1
        fi
    fi
    dpkg-deb --fsys-tarfile "$deb" | tar -xO "./$music_track" > "$track.part"
    mv "$track.part" "$track"
    if ! track_ok; then
        echo "make-sample: $track does not have sha256 $music_sha256" >&2
        exit 1
    fi
fi

tmp="$(mktemp "${out%.mkv}.XXXXXX.mkv")"
trap 'rm -f "$tmp"' EXIT

# Video sources: name size x y pattern/colours. All are drawn by videotestsrc
# and placed on one compositor (zorder follows the order below).
vcaps="framerate=${fps}/1,pixel-aspect-ratio=1/1"
src() {  # src W H X Y ZORDER videotestsrc-properties...
    local w=$1 h=$2 x=$3 y=$4 z=$5
    shift 5
    pipeline+=( videotestsrc num-buffers=$frames "$@"
                ! "video/x-raw,format=AYUV,width=$w,height=$h,$vcaps"
                ! "vmix.sink_$z" )
    pads+=( "sink_$z::xpos=$x" "sink_$z::ypos=$y" "sink_$z::zorder=$z" )
}

pipeline=()
pads=()
# sky (gradient: background-color at the top, foreground-color at the bottom)
src 640 360   0   0 0 pattern=gradient background-color=0xff0b1633 foreground-color=0xff3f6d9e
# sea
src 640 110   0 250 1 pattern=gradient background-color=0xff1d4e6b foreground-color=0xff06161f
# a ship's light bobbing on the sea
src 640 110   0 250 2 pattern=ball foreground-color=0xffffd27f background-color=0x00000000 motion=wavy
# rock, tower, two red bands, lamp room, roof
src 150  34 360 236 3 pattern=solid-color foreground-color=0xff1b1b1f
src  30 124 420 122 4 pattern=solid-color foreground-color=0xffe6e6e6
src  30  14 420 146 5 pattern=solid-color foreground-color=0xffb8322a
src  30  14 420 190 6 pattern=solid-color foreground-color=0xffb8322a
src  38  22 416 100 7 pattern=solid-color foreground-color=0xfffff09a
src  48  12 411  88 8 pattern=solid-color foreground-color=0xff6e1c1c
# colour reference
src 112  63 512  44 9 pattern=smpte75

gst_args=(
    -e
    compositor name=vmix background=black "${pads[@]}"
    ! "video/x-raw,width=640,height=360,$vcaps"
    ! videoconvert ! "video/x-raw,format=I420"
    ! textoverlay "text=$title" "font-desc=DejaVu Sans Bold 16"
        halignment=left valignment=top xpad=16 ypad=10 shaded-background=true
    ! textoverlay "text=$credit" "font-desc=DejaVu Sans 9"
        halignment=left valignment=top xpad=16 ypad=44
    ! timeoverlay "font-desc=DejaVu Sans Mono 13"
        halignment=right valignment=top xpad=16 ypad=10 shaded-background=true
    ! vp8enc threads=1 deadline=0 cpu-used=0 end-usage=vbr target-bitrate=450000
        keyframe-max-dist=50 lag-in-frames=16 auto-alt-ref=true
    ! queue ! mux.video_0

    "${pipeline[@]}"

    filesrc "location=$track" ! oggdemux ! vorbisdec
    ! audioconvert ! audioresample
    ! "audio/x-raw,format=F32LE,rate=48000,channels=2,layout=interleaved"
    ! volume "volume=$music_gain" ! queue ! amix.

    audiotestsrc wave=pink-noise "volume=$ambience_gain" samplesperbuffer=480
    ! "audio/x-raw,format=F32LE,rate=48000,channels=1"
    ! audioconvert ! "audio/x-raw,format=F32LE,rate=48000,channels=2,layout=interleaved"
    ! queue ! amix.

    audiomixer name=amix output-buffer-duration=10000000
    ! "audio/x-raw,format=F32LE,rate=48000,channels=2,layout=interleaved"
    ! identity eos-after=$audio_buffers
    ! audioconvert ! vorbisenc quality=0.3
    ! taginject 'tags="title=\"Trip on the Funny Boat\",artist=\"Joona JDruid Karjalainen\",copyright=\"2006 Joona Karjalainen, MIT licence\""'
    ! queue ! mux.audio_0

    matroskamux name=mux writing-app=ganvoice-make-sample
    ! filesink "location=$tmp"
)

echo "make-sample: building $out" >&2
nice gst-launch-1.0 -q "${gst_args[@]}"
chmod 644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "make-sample: wrote $out ($(stat -c %s "$out") bytes)" >&2

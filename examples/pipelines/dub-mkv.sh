#!/usr/bin/env bash
# Dubs a Matroska file with one gst-launch line: the video is copied as it is,
# the first audio track goes through dubbin, and the dub is encoded to Opus.
# (ganvoice-dub does the same for any input, with checks and progress.)
#   examples/pipelines/dub-mkv.sh [INPUT.mkv] [SUBTITLES] [OUT.mkv]
#   VOICE=NAME   a built-in voice;  MODE=duck|replace|add
set -euo pipefail
source "$(dirname "$0")/common.sh"
in=${1:-$root/examples/media/sample.mkv}
subs=${2:-$root/examples/media/sample.en.srt}
out=${3:-dubbed.mkv}
voice_args=()
[ -n "${VOICE:-}" ] && voice_args=("voice=$VOICE")

gst-launch-1.0 -q -e \
  filesrc location="$in" ! matroskademux name=demux \
  demux.video_0 ! queue max-size-time=10000000000 max-size-buffers=0 max-size-bytes=0 ! mux.video_0 \
  demux.audio_0 ! queue ! decodebin ! \
    dubbin subtitle-location="$subs" mode="${MODE:-duck}" "${voice_args[@]}" ! \
    audioconvert ! opusenc bitrate=128000 ! queue ! mux.audio_0 \
  matroskamux name=mux ! filesink location="$out"
echo "wrote $out"

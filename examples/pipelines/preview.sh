#!/usr/bin/env bash
# A live preview: plays a video with its dub, through autovideosink and
# autoaudiosink, in real time (the voice is computed while it plays; a
# slow CPU may stutter at first, while the models load).
#   examples/pipelines/preview.sh [INPUT] [SUBTITLES]
#   VOICE=NAME   a built-in voice;  AUDIOSINK=..., VIDEOSINK=... other sinks
set -euo pipefail
source "$(dirname "$0")/common.sh"
in=${1:-$root/examples/media/sample.mkv}
subs=${2:-$root/examples/media/sample.en.srt}
voice_args=()
[ -n "${VOICE:-}" ] && voice_args=("voice=$VOICE")

gst-launch-1.0 \
  uridecodebin uri="$(realpath "$in" | sed 's|^|file://|')" name=dec \
  dec. ! queue ! videoconvert ! ${VIDEOSINK:-autovideosink} \
  dec. ! queue ! audioconvert ! \
    dubbin subtitle-location="$subs" "${voice_args[@]}" ! \
    audioconvert ! audioresample ! ${AUDIOSINK:-autoaudiosink}

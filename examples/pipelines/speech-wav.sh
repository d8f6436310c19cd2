#!/usr/bin/env bash
# Subtitles to speech in a WAV file: each cue spoken at its time, silence
# between (ganvoice's GAP buffers of zeros).
#   examples/pipelines/speech-wav.sh [SUBTITLES] [OUT.wav]
#   VOICE=NAME   a built-in voice
set -euo pipefail
source "$(dirname "$0")/common.sh"
subs=${1:-$root/examples/media/sample.en.srt}
out=${2:-speech.wav}
voice_args=()
[ -n "${VOICE:-}" ] && voice_args=("voice=$VOICE")

gst-launch-1.0 -q \
  filesrc location="$subs" ! subcues ! ganvoice "${voice_args[@]}" ! \
  audioconvert ! wavenc ! filesink location="$out"
echo "wrote $out"

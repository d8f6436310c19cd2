#!/usr/bin/env bash
# Dubbing benchmark (not a test): the cost of ganvoice-dub on a long video,
# its linearity in the number of cues, and the naive way for comparison.
#
#   tests/bench/dub-bench.sh [--minutes M] [--cues "50 100 150"] [--work DIR]
#
# 1. Makes (once, cached in DIR, default build/dub-bench) an M-minute
#    (default 10) 1280x720 25 fps VP8 video with a stereo Vorbis soundtrack
#    (videotestsrc + audiotestsrc, vp8enc at its fastest realtime setting),
#    and SRT files of 50, 100 and 150 cues spread over it.
# 2. Dubs it with build/examples/tools/ganvoice-dub (the shipped models, or
#    $GANVOICE_MODEL_DIR) for each cue count, under /usr/bin/time -v: wall
#    time, real-time factor (wall / video length) and peak RSS.
# 3. Does the same job the naive way: one `espeak-ng -w` call per cue, then
#    one ffmpeg run that delays each clip to its cue (adelay), mixes them over
#    the programme (amix) and copies the video.
# Prints a Markdown table; pin it for numbers worth keeping (taskset -c 0).
# Needs: gstreamer1.0-plugins-good (vp8enc), time, espeak-ng, ffmpeg.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${GANVOICE_BUILD_DIR:-$root/build}
minutes=10
cue_counts="50 100 150"
work="$build/dub-bench"
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --cues) cue_counts=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "dub-bench: unknown option $1" >&2; exit 2 ;;
  esac
done
export GST_PLUGIN_PATH="$build/plugins${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export GANVOICE_MODEL_DIR=${GANVOICE_MODEL_DIR:-$root/models}
dub="$build/examples/tools/ganvoice-dub"
for tool in "$dub" /usr/bin/time espeak-ng ffmpeg gst-launch-1.0; do
  command -v "$tool" >/dev/null || { echo "dub-bench: $tool is missing" >&2; exit 1; }
done
mkdir -p "$work"
seconds=$((minutes * 60))
video="$work/video-${minutes}m.mkv"

if [ ! -f "$video" ]; then
  echo "dub-bench: making $video (${minutes} min, 720p VP8)" >&2
  gst-launch-1.0 -q -e \
    videotestsrc pattern=ball num-buffers=$((seconds * 25)) ! \
      video/x-raw,width=1280,height=720,framerate=25/1 ! \
      vp8enc deadline=1 cpu-used=16 threads=2 target-bitrate=1500000 keyframe-max-dist=125 ! \
      queue ! mux.video_0 \
    audiotestsrc wave=pink-noise volume=0.05 samplesperbuffer=960 num-buffers=$((seconds * 50)) ! \
      audio/x-raw,rate=48000,channels=2 ! audioconvert ! vorbisenc quality=0.3 ! queue ! mux.audio_0 \
    matroskamux name=mux ! filesink location="$video.part"
  mv "$video.part" "$video"
fi

lines=("The lighthouse keeper climbed the stairs again tonight."
  "Did you see the ship out there beyond the rocks?"
  "We have to light the lamp before the storm arrives."
  "Nobody has come this way for many years."
  "Listen, the wind is changing direction."
  "I think the radio is working again, try it now.")

make_srt() {  # make_srt N FILE: N cues of 2.5 s, evenly spread
  local n=$1 file=$2 step_ms=$((seconds * 1000 / $1))
  : > "$file"
  for ((i = 0; i < n; i++)); do
    local a=$((i * step_ms + 500)) b=$((i * step_ms + 3000))
    printf '%d\n%02d:%02d:%02d,%03d --> %02d:%02d:%02d,%03d\n%s\n\n' $((i + 1)) \
      $((a / 3600000)) $((a / 60000 % 60)) $((a / 1000 % 60)) $((a % 1000)) \
      $((b / 3600000)) $((b / 60000 % 60)) $((b / 1000 % 60)) $((b % 1000)) \
      "${lines[i % ${#lines[@]}]}" >> "$file"
  done
}

measure() {  # measure LOG CMD...: runs CMD under time -v; prints "wall rss_mb"
  local log=$1; shift
  /usr/bin/time -v "$@" > /dev/null 2> "$log" || { tail -20 "$log" >&2; return 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" |
    awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$log")
  echo "$wall $rss"
}

naive() {  # naive SRT OUT: espeak-ng per cue + ffmpeg mixing
  local srt=$1 out=$2 dir="$work/naive"
  rm -rf "$dir"; mkdir -p "$dir"
  local inputs=() filters="" i=0 start text
  while IFS= read -r line; do
    if [[ "$line" =~ ^([0-9]+):([0-9]+):([0-9]+),([0-9]+)\ --\> ]]; then
      start=$(( (10#${BASH_REMATCH[1]} * 3600 + 10#${BASH_REMATCH[2]} * 60 +
                 10#${BASH_REMATCH[3]}) * 1000 + 10#${BASH_REMATCH[4]} ))
      IFS= read -r text
      espeak-ng -v en -w "$dir/$i.wav" "$text"
      inputs+=(-i "$dir/$i.wav")
      filters+="[$((i + 1)):a]adelay=${start}|${start}[c$i];"
      i=$((i + 1))
    fi
  done < "$srt"
  local mix="[0:a]volume=0.25[bed];[bed]"
  for ((k = 0; k < i; k++)); do mix+="[c$k]"; done
  mix+="amix=inputs=$((i + 1)):duration=first:normalize=0[a]"
  ffmpeg -v error -y -i "$video" "${inputs[@]}" -filter_complex "$filters$mix" \
    -map 0:v -map "[a]" -c:v copy -c:a libopus -b:a 128k "$out"
}
export -f naive
export video work

echo "| run | cues | wall (s) | RTF | peak RSS (MB) | s per cue |"
echo "|---|---:|---:|---:|---:|---:|"
for n in $cue_counts; do
  srt="$work/cues-$n.srt"
  make_srt "$n" "$srt"
  read -r wall rss < <(measure "$work/ganvoice-$n.log" "$dub" "$video" "$srt" \
    -o "$work/dubbed-$n.mkv" --lang en --quiet)
  awk -v n="$n" -v w="$wall" -v r="$rss" -v s="$seconds" \
    'BEGIN { printf "| ganvoice-dub | %d | %.1f | %.3f | %d | %.3f |\n", n, w, w / s, r, w / n }'
  read -r wall rss < <(measure "$work/naive-$n.log" bash -c 'naive "$0" "$1"' "$srt" \
    "$work/naive-$n.mkv")
  awk -v n="$n" -v w="$wall" -v r="$rss" -v s="$seconds" \
    'BEGIN { printf "| espeak-ng + ffmpeg | %d | %.1f | %.3f | %d | %.3f |\n", n, w, w / s, r, w / n }'
done

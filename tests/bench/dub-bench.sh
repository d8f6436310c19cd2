#!/usr/bin/env bash
# Dubbing benchmark (not a test): ganvoice-dub on a long video against the
# naive way, run alternately in one run, several rounds.
#
#   tests/bench/dub-bench.sh [--minutes M] [--cues "1 150"] [--rounds N]
#                            [--work DIR]
#
# 1. Makes (once, cached in DIR, default build/dub-bench) an M-minute
#    (default 10) 1280x720 25 fps VP8 video with a stereo Vorbis soundtrack
#    (videotestsrc + audiotestsrc, vp8enc at its fastest realtime setting),
#    and SRT files of the given cue counts (2.5 s cues spread over it).
# 2. For each cue count, N rounds (default 3), each round running first the
#    naive way, then build/examples/tools/ganvoice-dub (the shipped models,
#    or $GANVOICE_MODEL_DIR), each under /usr/bin/time -v: wall time, CPU
#    time (user + system) and peak RSS. The naive way: one `espeak-ng -w`
#    call per cue, then one ffmpeg run that delays each clip to its cue
#    (adelay), mixes them over the programme (amix), encodes Opus and copies
#    the video.
# 3. Prints every round, then a Markdown table of the medians and the ratio
#    ganvoice-dub / naive of the median wall times (and, per round, of the
#    two runs side by side).
# Needs: gstreamer1.0-plugins-good (vp8enc), time, espeak-ng, ffmpeg
# (./setup.sh --models installs them).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${GANVOICE_BUILD_DIR:-$root/build}
minutes=10
cue_counts="1 150"
rounds=3
work="$build/dub-bench"
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --cues) cue_counts=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "dub-bench: unknown option $1" >&2; exit 2 ;;
  esac
done
export GST_PLUGIN_PATH="$build/plugins${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export GANVOICE_MODEL_DIR=${GANVOICE_MODEL_DIR:-$root/models}
# A registry of the bench's own, made before anything is timed: the shared
# one (~/.cache/gstreamer-1.0) is rescanned whenever another checkout's
# GST_PLUGIN_PATH ran last, which loads LibTorch in the scanner (about 1 s
# of CPU) and is no part of a dub.
export GST_REGISTRY=${GST_REGISTRY:-$build/dub-bench-registry.bin}
gst-inspect-1.0 dubbin > /dev/null
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

measure() {  # measure LOG CMD...: runs CMD under time -v; prints "wall cpu rss_mb"
  local log=$1; shift
  /usr/bin/time -v "$@" > /dev/null 2> "$log" || { tail -20 "$log" >&2; return 1; }
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, p, ":"); wall = n == 3 ? p[1] * 3600 + p[2] * 60 + p[3] : p[1] * 60 + p[2] }
    /User time/ { cpu += $2 } /System time/ { cpu += $2 }
    /Maximum resident set size/ { rss = $2 / 1024 }
    END { printf "%.2f %.2f %.0f\n", wall, cpu, rss }' "$log"
}

median() {  # median of the arguments
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
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

summary=()
for n in $cue_counts; do
  srt="$work/cues-$n.srt"
  make_srt "$n" "$srt"
  gw=(); gc=(); gr=(); nw=(); nc=(); nr=()
  for ((r = 1; r <= rounds; r++)); do
    read -r w c m < <(measure "$work/naive-$n.log" bash -c 'naive "$0" "$1"' "$srt" \
      "$work/naive-$n.mkv")
    nw+=("$w"); nc+=("$c"); nr+=("$m")
    read -r w c m < <(measure "$work/ganvoice-$n.log" "$dub" "$video" "$srt" \
      -o "$work/dubbed-$n.mkv" --lang en --quiet)
    gw+=("$w"); gc+=("$c"); gr+=("$m")
    awk -v n="$n" -v r="$r" -v a="${nw[-1]}" -v ac="${nc[-1]}" -v b="$w" -v bc="$c" \
      'BEGIN { printf "dub-bench: %d cues, round %d: naive %.1f s (CPU %.1f s), ganvoice-dub %.1f s (CPU %.1f s), ratio %.2f\n", n, r, a, ac, b, bc, b / a }' >&2
  done
  summary+=("$(awk -v n="$n" -v s="$seconds" -v k="$rounds" \
    -v gw="$(median "${gw[@]}")" -v gc="$(median "${gc[@]}")" -v gr="$(median "${gr[@]}")" \
    -v nw="$(median "${nw[@]}")" -v nc="$(median "${nc[@]}")" -v nr="$(median "${nr[@]}")" \
    -v gall="${gw[*]}" -v nall="${nw[*]}" 'BEGIN {
      printf "| ganvoice-dub | %d | %d | %.1f | %.1f | %.3f | %d | %s |\n", n, k, gw, gc, gw / s, gr, gall
      printf "| espeak-ng + ffmpeg | %d | %d | %.1f | %.1f | %.3f | %d | %s |\n", n, k, nw, nc, nw / s, nr, nall
      printf "| **ratio** ganvoice-dub / naive | %d | | **%.2f** | %.2f | | | |\n", n, gw / nw, gc / nc }')")
done
echo "| run | cues | rounds | median wall (s) | median CPU (s) | RTF (wall / video) | peak RSS (MB) | wall per round (s) |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
printf '%s\n' "${summary[@]}"

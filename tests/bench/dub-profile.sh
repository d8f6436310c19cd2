#!/usr/bin/env bash
# Where a dub's CPU time goes (not a test): runs ganvoice-dub once on
# dub-bench.sh's video under `perf record` (sampling every thread) with
# GST_DEBUG=ganvoice:4, and prints
#  - CPU seconds per thread and library (perf's samples times the period):
#    GStreamer names each streaming thread after the pad that starts it, so
#    the threads are the pipeline's stages (see docs/benchmarks.md);
#  - the synthesizer's own CPU time per stage (frontend, durations, decoder,
#    vocoder with its post-filter, shaping) and the model load, from the
#    ganvoice element's log.
#
#   tests/bench/dub-profile.sh [--cues N] [--work DIR] [--freq HZ]
#
# Run tests/bench/dub-bench.sh once first (it makes the video and the SRT).
# Needs: perf (linux-perf), and kernel.perf_event_paranoid <= 2.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${GANVOICE_BUILD_DIR:-$root/build}
cues=150
work="$build/dub-bench"
freq=499
while [ $# -gt 0 ]; do
  case "$1" in
    --cues) cues=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --freq) freq=$2; shift 2 ;;
    *) echo "dub-profile: unknown option $1" >&2; exit 2 ;;
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
video=$(ls "$work"/video-*m.mkv 2>/dev/null | head -1)
srt="$work/cues-$cues.srt"
[ -n "$video" ] && [ -f "$srt" ] ||
  { echo "dub-profile: run tests/bench/dub-bench.sh --cues $cues first" >&2; exit 1; }
command -v perf >/dev/null || { echo "dub-profile: perf is missing" >&2; exit 1; }

data="$work/profile-$cues.data"
log="$work/profile-$cues.log"
GST_DEBUG=ganvoice:4 GST_DEBUG_NO_COLOR=1 GST_DEBUG_FILE="$log" \
  /usr/bin/time -f "wall %e s, user %U s, system %S s, peak RSS %M KB" \
  perf record -q -F "$freq" -o "$data" -- \
  "$build/examples/tools/ganvoice-dub" "$video" "$srt" -o "$work/profile-$cues.mkv" --lang en --quiet

echo "## CPU seconds per thread and library ($cues cues; $freq samples/s per thread)"
echo
echo "| thread | library | CPU s |"
echo "|---|---|---:|"
perf report -i "$data" --stdio --sort comm,dso -F sample,comm,dso 2>/dev/null |
  awk -v f="$freq" '!/^#/ && NF >= 3 { s = $1 / f; if (s >= 0.05) printf "| %s | %s | %.2f |\n", $2, $3, s }'
echo
perf report -i "$data" --stdio --sort comm -F sample,comm 2>/dev/null |
  awk -v f="$freq" '!/^#/ && NF >= 2 { t[$2] = $1 / f; all += $1 / f }
    END { printf "Per thread:"; for (k in t) if (t[k] >= 0.05) printf " %s %.2f s;", k, t[k]; printf " all %.2f s\n", all }'
echo
grep -o "models ready after.*\|synthesis CPU time.*" "$log" || true

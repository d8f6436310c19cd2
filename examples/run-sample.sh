#!/usr/bin/env bash
# The main job on the bundled sample: dubs examples/media/sample.mkv from its
# English subtitles with a built-in voice of the shipped models, into
# build/sample-dubbed.mkv (or the path given), and says where it is.
#   examples/run-sample.sh [OUTPUT.mkv]
#   GANVOICE_BUILD_DIR=DIR      the build directory (default: build)
#   GANVOICE_SAMPLE_VOICE=NAME   another built-in voice (default: the first
#                                English voice of the acoustic model's card)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${GANVOICE_BUILD_DIR:-$root/build}
export GST_PLUGIN_PATH="$build/plugins${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
models=${GANVOICE_MODEL_DIR:-$root/models}
export GANVOICE_MODEL_DIR="$models"
out=${1:-$build/sample-dubbed.mkv}

dub="$build/examples/tools/ganvoice-dub"
if [ ! -x "$dub" ]; then
  echo "run-sample: $dub is not built; run ./setup.sh first" >&2
  exit 1
fi
missing=()
for f in acoustic/acoustic.ts acoustic/acoustic.json vocoder/vocoder.ts vocoder/vocoder.json; do
  [ -f "$models/$f" ] || missing+=("$models/$f")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "run-sample: the shipped models are missing: ${missing[*]}" >&2
  echo "run-sample: the acoustic model is trained by /usr/bin/python3 -m models.acoustic.train" \
       "(see docs/models.md); or set GANVOICE_MODEL_DIR to a directory with" \
       "acoustic/ and vocoder/" >&2
  exit 1
fi

voice=${GANVOICE_SAMPLE_VOICE:-}
if [ -z "$voice" ]; then
  # The first English voice named in the model card (no voice: ganvoice's default).
  voice=$(/usr/bin/python3 -c '
import json, sys
voices = json.load(open(sys.argv[1])).get("voices", [])
en = [v["name"] for v in voices if str(v.get("language", "")).startswith("en")]
print((en or [v["name"] for v in voices] or [""])[0])
' "$models/acoustic/acoustic.json" 2>/dev/null || true)
fi

args=("$root/examples/media/sample.mkv" "$root/examples/media/sample.en.srt" -o "$out" --lang en)
[ -n "$voice" ] && args+=(--voice "$voice")
echo "run-sample: dubbing examples/media/sample.mkv with examples/media/sample.en.srt" \
     "(voice: ${voice:-default})" >&2
mkdir -p "$(dirname "$out")"
"$dub" "${args[@]}"
echo "Dubbed sample: $out"
echo "Play it with: gst-play-1.0 $out"

#!/usr/bin/env bash
# The main job on the bundled sample. Until dubbing lands, it prints the spoken
# cues that subcues makes of the sample subtitles, in English and Spanish.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export GST_PLUGIN_PATH="$root/build/plugins${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
for subs in sample.en.srt sample.es.srt sample.en.ass; do
  echo "== examples/media/$subs"
  "$root/build/examples/ganvoice-cues" "$root/examples/media/$subs"
done

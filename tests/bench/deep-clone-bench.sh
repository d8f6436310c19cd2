#!/usr/bin/env bash
# Deep clones: speaking with one against the built-in voice it started
# from, side by side (the same 12 sentences through `ganvoice ! fakesink`,
# alternating rounds; wall time, CPU time and peak memory per run), and
# what fine-tuning it cost (from the profile's own record).
#   tests/bench/deep-clone-bench.sh PROFILE [ROUNDS]
# PROFILE: a deep clone (ganvoice-clone, or models/acoustic/finetune.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
profile=${1:?usage: deep-clone-bench.sh PROFILE [ROUNDS]}
rounds=${2:-3}
export GST_PLUGIN_PATH=$PWD/build/plugins
export GST_REGISTRY_1_0=${TMPDIR:-/tmp}/ganvoice-bench-registry.bin
export GANVOICE_MODEL_DIR=$PWD/models
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

read -r start lang < <(/usr/bin/python3 - "$profile" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
print(p.get("base_voice") or p["acoustic_delta"].get("start_voice", "june"), p.get("language") or "en")
PY
)
sentences=(
  "Good morning, and welcome to the meeting."
  "The weather will be cold and windy tomorrow."
  "Could you please send me the documents by Friday?"
  "We walked along the river until the sun went down."
  "Nobody expected the old bridge to last so long."
  "Thank you for waiting, your call is important to us."
  "The children were playing in the garden all afternoon."
  "I think we should leave before the traffic gets worse."
  "Please remember to turn off the lights when you leave."
  "She opened the window and listened to the rain."
  "The train to the city leaves every twenty minutes."
  "What a wonderful surprise to see you here again!"
)
srt=$work/cues.srt
for i in "${!sentences[@]}"; do
  printf '%d\n00:00:%02d,000 --> 00:00:%02d,500\n%s\n\n' $((i + 1)) $((i * 5)) $((i * 5 + 4)) \
    "${sentences[$i]}" >>"$srt"
done

run () { # VOICE -> "wall cpu maxrss_kb"
  /usr/bin/time -f "%e %U %S %M" -o "$work/t" gst-launch-1.0 -q filesrc location="$srt" ! subcues ! \
    ganvoice voice="$1" language="$lang" ! fakesink >/dev/null
  awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$work/t"
}

base=() deep=()
for ((r = 0; r < rounds; r++)); do
  base+=("$(run "$start")")
  deep+=("$(run "$profile")")
  echo "round $((r + 1)): built-in $start ${base[-1]} | deep ${deep[-1]}"
done
/usr/bin/python3 - "$profile" "${base[@]}" -- "${deep[@]}" <<'PY'
import json, statistics, sys
args = sys.argv[2:]
cut = args.index("--")
base = [list(map(float, a.split())) for a in args[:cut]]
deep = [list(map(float, a.split())) for a in args[cut + 1:]]
med = lambda rows, k: statistics.median(r[k] for r in rows)
p = json.load(open(sys.argv[1]))
d = p["acoustic_delta"]
print("\n| voice | wall s (median) | CPU s | peak MB |")
print("|---|---|---|---|")
start = p.get("base_voice") or d.get("start_voice", "?")
for name, rows in (("built-in " + start, base), ("deep clone", deep)):
    print(f"| {name} | {med(rows, 0):.2f} | {med(rows, 1):.2f} | {med(rows, 2) / 1024:.0f} |")
print(f"\ndeep / built-in: wall {med(deep, 0) / med(base, 0):.2f}, CPU {med(deep, 1) / med(base, 1):.2f}")
n = sum(len(t.get("a", "")) + len(t.get("b", "")) + len(t.get("data", "")) for t in d["tensors"]) * 3 // 4 // 4
print(f"fine-tuning: {d.get('speech_seconds')} s of speech, {d.get('steps')} steps in {d.get('seconds')} s "
      f"(one thread), {n} numbers ({n * 4 / 1e6:.2f} MB) in the delta")
PY

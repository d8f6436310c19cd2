#!/usr/bin/env bash
# Whole TTS (frontend + acoustic model + vocoder), side by side in one run:
# the C++ runtime (ganvoice-bench), the same models driven from Python, and
# espeak-ng. Alternating rounds; medians and ratios at the end.
#   tests/bench/tts-compare.sh [ROUNDS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
threads=${2:-2}
export GANVOICE_SOURCE_DIR=$PWD
cpp=() py=()
for ((i = 0; i < rounds; i++)); do
  c=$(build/tests/bench/ganvoice-bench --threads "$threads" --repeats 3 | tail -1)
  p=$(/usr/bin/python3 tests/bench/tts_python.py --threads "$threads" --repeats 3)
  echo "$c"; echo "$p"
  cpp+=("$c") py+=("$p")
done
/usr/bin/python3 - "$threads" "${cpp[@]}" -- "${py[@]}" <<'PY'
import json, statistics, sys
threads = sys.argv[1]
args = sys.argv[2:]
split = args.index("--")
cpp = [json.loads(a) for a in args[:split]]
py = [json.loads(a) for a in args[split + 1:]]
med = statistics.median
print(f"\n| cue | audio s | C++ RTF | C++ first audio ms | Python RTF | Python RTF, models only | espeak-ng RTF | C++ / Python |")
print("|---|---|---|---|---|---|---|---|")
for name in ["short", "medium", "long"]:
    c = med(r[name]["rtf"] for r in cpp)
    first = med(r[name]["first_audio_ms"] for r in cpp)
    p = med(r[name]["rtf"] for r in py)
    pm = med(r[name]["rtf_models_only"] for r in py)
    e = med(r[name]["espeak_rtf"] for r in py)
    print(f"| {name} | {cpp[0][name]['audio_s']:.2f} | {c:.4f} | {first:.0f} | {p:.4f} | {pm:.4f} | {e:.4f} | {c / p:.2f} |")
print(f"\n{threads} threads, {len(cpp)} rounds (medians). Python peak RSS "
      f"{max(r['peak_rss_mib'] for r in py):.0f} MiB; C++ load {med(r['load_s'] for r in cpp):.2f} s, "
      f"Python load {med(r['load_s'] for r in py):.2f} s.")
PY

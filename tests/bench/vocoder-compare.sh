#!/usr/bin/env bash
# C++ runtime vs the same TorchScript vocoder driven from Python, side by
# side: alternating runs on the same machine, then the median of each and
# their ratio. Needs a build (./setup.sh) and Debian's python3-torch.
#   tests/bench/vocoder-compare.sh [ROUNDS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}
threads=${2:-2}
export GANVOICE_SOURCE_DIR=$PWD
# vocoder_python.py imports the recipes' front-end (the package models).
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
cpp=() py=()
for ((i = 0; i < rounds; i++)); do
  c=$(build/tests/bench/vocoder-bench --threads "$threads" --repeats 3)
  p=$(/usr/bin/python3 tests/bench/vocoder_python.py --threads "$threads" --runs 3)
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
# Best-of is the figure least disturbed by other load on a shared machine;
# medians are shown beside it.
c = min(r["rtf_best"] for r in cpp)
p = min(r["rtf_min"] for r in py)
cm = statistics.median(r["rtf"] for r in cpp)
pm = statistics.median(r["rtf_median"] for r in py)
print(f"\n| runtime | threads | best RTF | median RTF ({len(cpp)} rounds) | peak RSS MiB |")
print("|---|---|---|---|---|")
print(f"| C++ (libganvoice) | {threads} | {c:.4f} | {cm:.4f} | {max(r['peak_rss_mib'] for r in cpp):.0f} |")
print(f"| Python (torch.jit.load) | {threads} | {p:.4f} | {pm:.4f} | {max(r['peak_rss_mb'] for r in py):.0f} |")
print(f"\nC++ time / Python time: best {c / p:.2f}, median {cm / pm:.2f} (below 1: C++ faster)")
print(f"C++ chunked (streaming) RTF: {statistics.median(r['rtf_chunked'] for r in cpp):.4f}, "
      f"first chunk {statistics.median(r['first_chunk_ms'] for r in cpp):.0f} ms")
PY

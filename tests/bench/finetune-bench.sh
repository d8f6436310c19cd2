#!/usr/bin/env bash
# Deep-clone fine-tuning: the product (ganvoice-clone, C++/LibTorch) and the
# Python recipe (models/acoustic/finetune.py) side by side on the same
# speech, the same number of steps, one thread each, alternating rounds:
# wall time, training seconds and steps per second, peak memory.
#   tests/bench/finetune-bench.sh PAIRS.tsv LANGUAGE [SECONDS] [STEPS] [ROUNDS]
# PAIRS.tsv: "path<TAB>text" lines (e.g. the held-out Czech speaker's
# training half, written by models/acoustic/evaluate_deep_clone.py into its
# work folder). SECONDS of speech (default 180), STEPS (default 300),
# ROUNDS (default 2).
set -euo pipefail
cd "$(dirname "$0")/../.."
pairs=${1:?usage: finetune-bench.sh PAIRS.tsv LANGUAGE [SECONDS] [STEPS] [ROUNDS]}
lang=${2:?usage: finetune-bench.sh PAIRS.tsv LANGUAGE [SECONDS] [STEPS] [ROUNDS]}
seconds=${3:-180}
steps=${4:-300}
rounds=${5:-2}
export GST_REGISTRY_1_0=${TMPDIR:-/tmp}/ganvoice-bench-registry.bin
export GANVOICE_MODEL_DIR=$PWD/models
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Each prints "wall_s train_s steps maxrss_kb".
run_cpp () {
  /usr/bin/time -f "%e %M" -o "$work/t" build/examples/tools/ganvoice-clone \
    --pairs "$pairs" --language "$lang" -o "$work/cpp.json" --seconds "$seconds" \
    --steps "$steps" --time-limit 100000 --threads 1 --no-resume 2>"$work/log"
  read -r wall rss <"$work/t"
  read -r n train < <(sed -n 's/.* \([0-9]*\) steps in \([0-9.]*\) s.*/\1 \2/p' "$work/log" | tail -1)
  echo "$wall $train $n $rss"
}
run_python () {
  /usr/bin/time -f "%e %M" -o "$work/t" /usr/bin/python3 -m models.acoustic.finetune \
    --pairs "$pairs" --language "$lang" --out "$work/py.json" --seconds "$seconds" \
    --steps "$steps" --time-limit 100000 --threads 1 \
    --phonemizer build/examples/tools/ganvoice-phonemize 2>"$work/log"
  read -r wall rss <"$work/t"
  read -r n train < <(/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1]))['acoustic_delta']; \
print(d['steps'], d['seconds'])" "$work/py.json")
  echo "$wall $train $n $rss"
}

cpp=() py=()
for ((r = 0; r < rounds; r++)); do
  cpp+=("$(run_cpp)")
  py+=("$(run_python)")
  echo "round $((r + 1)): C++ ${cpp[-1]} | Python ${py[-1]}  (wall_s train_s steps maxrss_kb)"
done
/usr/bin/python3 - "${cpp[@]}" -- "${py[@]}" <<'PY'
import statistics, sys
args = sys.argv[1:]
cut = args.index("--")
rows = {"C++ (ganvoice-clone)": [list(map(float, a.split())) for a in args[:cut]],
        "Python recipe": [list(map(float, a.split())) for a in args[cut + 1:]]}
med = {}
for name, runs in rows.items():
    wall = statistics.median(r[0] for r in runs)
    rate = statistics.median(r[2] / r[1] for r in runs)
    rss = max(r[3] for r in runs) / 1024
    med[name] = (wall, rate, rss)
    print(f"{name:22s} wall {wall:6.1f} s  {rate:5.2f} steps/s  peak {rss:6.0f} MB")
(cw, cr, cm), (pw, pr, pm) = med.values()
print(f"C++ / Python: wall {cw / pw:.2f}, steps/s {cr / pr:.2f}, peak memory {cm / pm:.2f}")
PY

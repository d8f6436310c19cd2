#!/bin/sh
# Runs one libFuzzer target for a bounded time on a scratch copy of its seed
# corpus, so that the repository is never written into.
#   run-fuzzer.sh TARGET SECONDS SEED_DIR DICT [EXTRA_LIBFUZZER_ARGS...]
# GANVOICE_FUZZ_SECONDS, when set, overrides SECONDS (default 60).
# GANVOICE_FUZZ_SEED (default 1) fixes libFuzzer's seed, so that CI explores
# the same way each run; 0 asks for a random seed, for exploratory runs.
# Crash, leak and timeout reproducers go to GANVOICE_FUZZ_ARTIFACTS (default:
# the current directory) as <target>-crash-<sha1> and so on. Exits with the
# fuzzer's status: 0 when nothing was found, 1 for a crash, a sanitizer
# report, a broken invariant or a leak, 2 for an input that ran too long
# (never 77, which meson would read as "skipped").
set -eu

if [ $# -lt 4 ]; then
  echo "usage: $0 TARGET SECONDS SEED_DIR DICT [LIBFUZZER_ARGS...]" >&2
  exit 2
fi
target=$1
seconds=${GANVOICE_FUZZ_SECONDS:-${2:-60}}
seeds=$3
dict=$4
shift 4

name=$(basename "$target")
artifacts=${GANVOICE_FUZZ_ARTIFACTS:-.}
mkdir -p "$artifacts"

work=$(mktemp -d "${TMPDIR:-/tmp}/ganvoice-fuzz-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT HUP INT TERM
cp -R "$seeds"/. "$work"/

echo "$name: fuzzing for ${seconds}s on a copy of $seeds in $work"
status=0
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -dict="$dict" -seed="${GANVOICE_FUZZ_SEED:-1}" -print_final_stats=1 -error_exitcode=1 -timeout_exitcode=2 \
  -artifact_prefix="$artifacts/$name-" "$@" "$work" || status=$?
echo "$name: corpus grew from $(ls "$seeds" | wc -l) to $(ls "$work" | wc -l) inputs; exit status $status"
[ "$status" -ne 77 ] || status=1
exit $status

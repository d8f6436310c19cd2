#!/usr/bin/env bash
# The format check: every C and C++ file of the repository as clang-format
# (the repository's .clang-format) would write it. Exit 77 (skipped) without
# clang-format.
#   tests/format/check-format.sh [SOURCE_DIR]
set -uo pipefail
cd "${1:-$(dirname "$0")/../..}"
command -v clang-format >/dev/null || { echo "SKIP: no clang-format"; exit 77; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.c' '*.cpp' '*.h')
else
  mapfile -t files < <(find gst plugins examples tests -name '*.c' -o -name '*.cpp' -o -name '*.h')
fi
bad=0
for f in "${files[@]}"; do
  if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "not clang-formatted: $f (run: clang-format -i $f)"
    bad=$((bad + 1))
  fi
done
echo "${#files[@]} files checked, $bad not formatted"
[ "$bad" -eq 0 ]

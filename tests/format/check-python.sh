#!/usr/bin/env bash
# The Python check: Debian's flake8 (settings in .flake8) on every Python
# file of the repository. Exit 77 (skipped) without flake8.
#   tests/format/check-python.sh [SOURCE_DIR]
set -uo pipefail
cd "${1:-$(dirname "$0")/../..}"
command -v flake8 >/dev/null || { echo "SKIP: no flake8"; exit 77; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.py')
else
  mapfile -t files < <(find models tests examples -name '*.py' -not -path '*/node_modules/*')
fi
flake8 "${files[@]}" && echo "${#files[@]} Python files checked"

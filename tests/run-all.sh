#!/usr/bin/env bash
# Runs every test: unit and GstHarness tests, the real-world subtitle corpus,
# and the libFuzzer targets under ASan and UBSan for a bounded time.
# Expects ./setup.sh --tests to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
meson test -C build --print-errorlogs --num-processes 2
GANVOICE_FUZZ_SECONDS=${GANVOICE_FUZZ_SECONDS:-60} \
  meson test -C build-fuzz --suite fuzz --print-errorlogs --num-processes 2

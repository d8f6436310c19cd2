#!/usr/bin/env bash
# Runs every test: unit and GstHarness tests, the real-world subtitle corpus,
# and the libFuzzer targets under ASan and UBSan for a bounded time.
# Expects ./setup.sh --tests to have run. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

status=0
meson test -C build --print-errorlogs --num-processes 2 || status=1
GANVOICE_FUZZ_SECONDS=${GANVOICE_FUZZ_SECONDS:-60} \
  meson test -C build-fuzz --suite fuzz --print-errorlogs --num-processes 2 ||
  status=1

passed=0 failed=0
for log in build/meson-logs/testlog.json build-fuzz/meson-logs/testlog.json; do
  [ -f "$log" ] || { failed=$((failed + 1)); continue; }
  ok=$(grep -c '"result": "OK"' "$log" || true)
  all=$(grep -c '"result": ' "$log" || true)
  passed=$((passed + ok))
  failed=$((failed + all - ok))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit $status

#!/usr/bin/env bash
# Sets up ganvoice on Debian 12: installs every package the build, the tests
# and the demo need (only when one is missing), then configures and builds.
#   ./setup.sh            build into ./build
#   ./setup.sh --tests    also build the libFuzzer targets into ./build-fuzz
#                         and fetch the real-world subtitle corpus
#   ./setup.sh --models   also what the training recipes (models/), the
#                         quality evaluation and the benchmarks use
# Runs as root, or through sudo when it is there. Idempotent.
set -euo pipefail
cd "$(dirname "$0")"

packages=(
  # build
  meson ninja-build pkg-config g++ clang libclang-rt-14-dev
  libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libass-dev
  libuchardet-dev  # legacy subtitle encodings: the charset detector
  libjson-glib-dev libtorch-dev libespeak-ng-dev espeak-ng-data
  libsoup-3.0-dev libsqlite3-dev  # the studio server
  libpq-dev  # the studio's PostgreSQL job queue and ganvoice-worker
  # LibTorch's BLAS: the reference BLAS is ~40x slower on Linear layers
  libopenblas0-pthread
  # run and test
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-x  # textoverlay, to check that cues feed standard text elements
  gstreamer1.0-libav  # avenc_aac: ganvoice-dub's AAC for .mp4 outputs
  # tsdemux (MPEG-TS inputs), the H.264/H.265/VP9/AV1 parsers, av1dec
  gstreamer1.0-plugins-bad
  # the integration tests and examples/pipelines/embed.py (PyGObject)
  python3-gi python3-numpy gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0
  # real-world subtitle corpus for the tests
  ca-certificates
)

# only for ./setup.sh --tests: the studio's end-to-end test drives Debian's
# Chromium with playwright-core from npm; the input matrix
# (tests/integration/test_matrix.py) makes media with ffmpeg and x264enc;
# the format checks run clang-format and flake8; the recipes' check
# (tests/models/test_recipes.py) imports them with Debian's torch and scipy;
# the studio's PostgreSQL queue test (tests/studio/test_studio_pg.py) starts
# a throwaway server of its own
test_packages=(chromium nodejs ffmpeg gstreamer1.0-plugins-ugly clang-format
  flake8 python3-torch python3-scipy postgresql-15)
# only for ./setup.sh --models: Debian's torch for the recipes, the systems
# and the recogniser the evaluation compares with, and the benchmarks' tools
# (perf for tests/bench/dub-profile.sh)
model_packages=(python3-torch python3-numpy python3-scipy python3-matplotlib
  ffmpeg espeak-ng flite pocketsphinx-en-us python3-pocketsphinx time
  linux-perf)

tests=0
for arg in "$@"; do
  case "$arg" in
    --tests|--fuzz) tests=1 ;;
    --models) packages+=("${model_packages[@]}") ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
[ "$tests" = 0 ] || packages+=("${test_packages[@]}")

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
# npm fetches part of the test corpus; some machines have it from nodejs.
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f build/build.ninja ]; then
  meson setup build
fi
meson compile -C build

if [ "$tests" = 1 ]; then
  if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang CXX=clang++ meson setup build-fuzz -Dfuzzing=true -Dtests=disabled \
      -Db_sanitize=address,undefined -Db_lundef=false
  fi
  meson compile -C build-fuzz
  tests/realworld/fetch.sh build/realworld
  # playwright-core only (no browser download), pinned by package-lock.json
  if [ ! -d tests/studio/e2e/node_modules/playwright-core ]; then
    (cd tests/studio/e2e && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

#!/usr/bin/env bash
# Builds everest-bootstrapd and runs the whole test suite (Catch2 via CTest,
# plus the fake CLIs' self-test). Installs missing Debian packages first.
#   ./scripts/test.sh              RelWithDebInfo build in build/
#   ./scripts/test.sh --sanitize   ASan+UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

"./scripts/deps.sh"

dir=build
opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  opts=(-DCMAKE_BUILD_TYPE=Debug -DBOOTSTRAPD_SANITIZE=ON)
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
cmake -S . -B "$dir" -G Ninja "${opts[@]}" >/dev/null
ninja -C "$dir" -j2
ctest --test-dir "$dir" --output-on-failure -j2

#!/usr/bin/env bash
# Builds the libFuzzer harnesses of fuzz/ with clang (ASan + UBSan) in
# build-fuzz/ and runs each one for a fixed time on a copy of its seed corpus.
#   scripts/fuzz.sh [seconds-per-harness] [harness...]
#     seconds-per-harness  default 20 (the short run the test suite uses);
#                          3600 is the documented long run (fuzz/README.md)
#     harness              default: all of fuzz_requests fuzz_everestctl_table
#                          fuzz_cloudevent fuzz_webhook_signature
# Environment: FUZZ_JOBS (ninja -j, default 2), FUZZ_MAX_LEN (default 65536),
# FUZZ_ARGS (extra libFuzzer flags, e.g. "-jobs=2 -workers=2").
# Prints per harness the executions count (libFuzzer's "Done N runs"), then
#   fuzz: <harness>=<runs> ... total=<runs> crashes=<n>
# and exits non-zero when any harness crashed, leaked, timed out or ran out of
# memory; the input that did it is kept under build-fuzz/artifacts/<harness>/.
# Needs clang and its libFuzzer runtime (Debian 12: clang-14, libclang-rt-14-dev).
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${1:-20}"
if ! [[ "$secs" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh [seconds-per-harness] [harness...]" >&2
  exit 2
fi
shift || true
all=(fuzz_requests fuzz_everestctl_table fuzz_cloudevent fuzz_webhook_signature)
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=("${all[@]}")
for h in "${harnesses[@]}"; do
  [ -d "fuzz/corpus/$h" ] || { echo "fuzz: unknown harness '$h' (have: ${all[*]})" >&2; exit 2; }
done

root="$(pwd)"
out=build-fuzz
jobs="${FUZZ_JOBS:-2}"
max_len="${FUZZ_MAX_LEN:-65536}"

for tool in clang clang++ cmake ninja; do
  command -v "$tool" >/dev/null || {
    echo "fuzz: '$tool' not found (Debian 12: apt-get install clang-14 libclang-rt-14-dev cmake ninja-build)" >&2
    exit 2
  }
done
rtdir="$(clang++ -print-runtime-dir 2>/dev/null || true)"
if [ -n "$rtdir" ] && ! ls "$rtdir"/libclang_rt.fuzzer*.a >/dev/null 2>&1; then
  echo "fuzz: libFuzzer runtime missing in $rtdir (Debian 12: apt-get install libclang-rt-14-dev)" >&2
  exit 2
fi

start=$(date +%s)
echo "fuzz: building harnesses in $out/ (ninja -j$jobs)"
mkdir -p "$out"
CC=clang CXX=clang++ cmake -S fuzz -B "$out" -G Ninja >"$out/configure.log" 2>&1 || {
  cat "$out/configure.log" >&2
  exit 2
}
if ! ninja -C "$out" -j"$jobs" "${harnesses[@]}" >"$out/build.log" 2>&1; then
  tail -n 60 "$out/build.log" >&2
  echo "fuzz: build failed (full log: $out/build.log)" >&2
  exit 2
fi
echo "fuzz: built in $(( $(date +%s) - start )) s"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

summary=()
total=0
crashes=0
failed=()
for h in "${harnesses[@]}"; do
  corpus="$root/$out/corpus/$h"      # a working copy: the repo's seeds stay as they are
  artifacts="$root/$out/artifacts/$h/"
  log="$root/$out/logs/$h.log"
  work="$root/$out/work/$h"          # libFuzzer's cwd: -jobs writes fuzz-N.log there
  mkdir -p "$corpus" "$artifacts" "$out/logs" "$work"
  rm -f "$work"/fuzz-*.log
  cp -f fuzz/corpus/"$h"/* "$corpus"/
  dict=()
  [ -f "fuzz/dict/$h.dict" ] && dict=(-dict="$root/fuzz/dict/$h.dict")
  set +e
  # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
  (cd "$work" && timeout -k 10 $((secs + 300)) "$root/$out/$h" \
    -max_total_time="$secs" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts" -print_final_stats=1 "${dict[@]}" ${FUZZ_ARGS:-} \
    "$corpus") >"$log" 2>&1
  rc=$?
  set -e
  # With -jobs/-workers each worker logs to its own fuzz-N.log: add them up.
  if ls "$work"/fuzz-*.log >/dev/null 2>&1; then
    cat "$work"/fuzz-*.log >>"$log"
    runs="$(cat "$work"/fuzz-*.log | sed -n 's/^Done \([0-9][0-9]*\) runs.*/\1/p' | awk '{s+=$1} END {print s+0}')"
  else
    runs="$(sed -n 's/^Done \([0-9][0-9]*\) runs.*/\1/p' "$log" | tail -n 1)"
  fi
  # A run that stopped early has no "Done" line: count to its last status line.
  [ -n "$runs" ] || runs="$(sed -n 's/^#\([0-9][0-9]*\)[[:space:]].*/\1/p' "$log" | tail -n 1)"
  runs="${runs:-0}"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)"
  units="$(find "$corpus" -type f | wc -l)"
  if [ "$rc" -eq 0 ] && [ "$runs" -gt 0 ] && ! grep -q 'Test unit written to' "$log"; then
    echo "fuzz: $h: $runs runs in ${secs} s, coverage ${cov:-?} edges, corpus $units inputs: ok"
  else
    crashes=$((crashes + 1))
    failed+=("$h")
    echo "fuzz: $h: FAILED (exit $rc) after $runs runs; log: $log"
    grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|FUZZ_CHECK failed|SUMMARY:|Test unit written to|^==[0-9]+== *(ERROR|WARNING)' "$log" | head -n 20 | sed 's/^/  /'
    grep -E '^ *#[0-9]+ 0x' "$log" | head -n 15 | sed 's/^/  /'
    artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
    if [ -n "$artifact" ]; then
      echo "  crash artifact: $artifact"
      echo "  reproduce: $out/$h ${artifact#"$root/"}"
    fi
  fi
  summary+=("$h=$runs")
  total=$((total + runs))
done

echo "fuzz: wall time $(( $(date +%s) - start )) s (build included)"
echo "fuzz: $(( ${#harnesses[@]} - crashes )) passed, $crashes failed"
echo "fuzz: ${summary[*]} total=$total crashes=$crashes"
[ "$crashes" -eq 0 ]

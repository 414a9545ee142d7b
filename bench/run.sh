#!/usr/bin/env bash
# Runs every benchmark of SPEC §9 against its baseline, measured in the same run,
# and prints the Markdown table. ~6-8 minutes; --quick is a ~2-minute smoke run
# (smaller counts, shorter runs: its figures are noisier and its store smaller).
#
#   bench/run.sh [--quick] [--out DIR]
#
# Builds what it needs in build-bench/ (Release) first. Needs wrk (Debian
# package `wrk`). Results: DIR/results.jsonl (raw), DIR/table.md, DIR/run.log.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench}
QUICK=0
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --out) OUT=$2; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

if ! command -v wrk >/dev/null; then
  echo "bench/run.sh: wrk is missing: apt-get install -y wrk" >&2
  exit 1
fi

# --- build --------------------------------------------------------------------
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
load=$(cut -d' ' -f1 /proc/loadavg)
jobs=1
if awk -v l="$load" 'BEGIN { exit !(l < 1.0) }'; then jobs=2; fi
echo "== building benchmark targets in $BUILD (-j$jobs, load $load)" >&2
ninja -C "$BUILD" -j"$jobs" bench >&2

B=$BUILD/bench
DRIVER=$B/bench_driver
INSTANT=$BUILD/instant_cli
[ -x "$INSTANT" ] || INSTANT=$B/instant_cli

OUT=${OUT:-$BUILD/bench-results/$(date -u +%Y%m%dT%H%M%SZ)$([ $QUICK = 1 ] && echo -quick)}
mkdir -p "$OUT"
RES=$OUT/results.jsonl
LOG=$OUT/run.log
: >"$RES"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-run-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

if [ $QUICK = 1 ]; then
  SPAWN_S=1; SPAWN_CONC="1 2"; FULL_ROWS=200; NORMAL_ROWS=5000; BATCH_ROWS=50000
  PIPE_JOBS=200; SEED_JOBS=20000; SEED_TENANTS=2000; READY_RUNS=3
  HTTP_S=3; HTTP_ROUNDS=1; KAFKA_EVENTS=2000
else
  SPAWN_S=3; SPAWN_CONC="1 2 4"; FULL_ROWS=500; NORMAL_ROWS=20000; BATCH_ROWS=200000
  PIPE_JOBS=1500; SEED_JOBS=100000; SEED_TENANTS=10000; READY_RUNS=5
  HTTP_S=10; HTTP_ROUNDS=3; KAFKA_EVENTS=10000
fi

step() { echo "== $*" >&2; }
run() { "$@" 2>>"$LOG" | tee -a "$RES" >&2; }

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "kernel: $(uname -r)"
  echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "mode: $([ $QUICK = 1 ] && echo quick || echo full)"
} | tee "$OUT/machine.txt" >&2

# --- baselines: spawn, SQLite ------------------------------------------------
step "spawn ceiling (posix_spawn + pipes + waitpid)"
for prog in /bin/true "$B/bench_static_true" "$INSTANT"; do
  for c in $SPAWN_CONC; do run "$B/bench_spawn" "$prog" "$c" "$SPAWN_S"; done
done
step "SQLite WAL inserts"
run "$B/bench_sqlite" "$WORK" "$FULL_ROWS" 1 FULL
run "$B/bench_sqlite" "$WORK" "$NORMAL_ROWS" 1 NORMAL
run "$B/bench_sqlite" "$WORK" "$BATCH_ROWS" 100 NORMAL

# --- job pipeline, idle RSS, RSS after finished jobs --------------------------
step "job pipeline: 3 batches of $PIPE_JOBS bootstrap jobs, instant CLIs (spawn ceiling re-measured before each)"
mkdir -p "$WORK/pipeline"
run "$DRIVER" pipeline --jobs "$PIPE_JOBS" --batches 3 --keep-dir "$WORK/pipeline" \
  --ceiling-cmd "$B/bench_spawn $INSTANT"

# --- a store with many finished jobs ----------------------------------------
step "seeding $SEED_JOBS finished jobs ($SEED_TENANTS tenants) through the store API"
mkdir -p "$WORK/seed" "$WORK/empty"
"$B/bench_seed_store" --db "$WORK/seed/jobs.db" --jobs "$SEED_JOBS" --tenants "$SEED_TENANTS" \
  --template-db "$WORK/pipeline/jobs.db" --ids-out "$WORK/seed/ids.txt" 2>>"$LOG" | tee -a "$RES" >&2
"$B/bench_seed_store" --db "$WORK/empty/jobs.db" --jobs 0 >/dev/null 2>>"$LOG"
rm -rf "$WORK/pipeline"

# --- start to ready -------------------------------------------------------------
step "start to ready ($READY_RUNS runs each, the process-start floor before every run)"
run "$DRIVER" ready --db "$WORK/seed/jobs.db" --runs "$READY_RUNS" --label seeded
run "$DRIVER" ready --db "$WORK/empty/jobs.db" --runs "$READY_RUNS" --label empty

# --- HTTP -------------------------------------------------------------------------
step "HTTP: bare Beast vs GET /jobs/{id} and GET /healthz ($HTTP_ROUNDS x ${HTTP_S}s each)"
run "$DRIVER" http --db "$WORK/seed/jobs.db" --ids "$WORK/seed/ids.txt" \
  --seconds "$HTTP_S" --rounds "$HTTP_ROUNDS"

# --- Kafka ------------------------------------------------------------------------
step "Kafka intake: $KAFKA_EVENTS events on the mock cluster"
run "$DRIVER" kafka --events "$KAFKA_EVENTS" || true

echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt" >&2
python3 "$ROOT/bench/report.py" "$RES" >"$OUT/table.md"
echo >&2
cat "$OUT/machine.txt"
echo
cat "$OUT/table.md"
echo
echo "(raw figures: $RES)"

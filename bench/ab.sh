#!/usr/bin/env bash
# A/B of two daemon binaries on the same benchmarks, alternating A and B each
# round so that the machine's drift hits both alike (how the before/after
# figures of bench/RESULTS.md were taken).
#
#   bench/ab.sh <daemon A> <daemon B> [rounds=3]
# Needs a build-bench/ built by bench/run.sh (drivers, seeder, instant CLI).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench}
A=$1
B=$2
ROUNDS=${3:-3}
D=$BUILD/bench/bench_driver
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-ab-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
OUT=$WORK/ab.jsonl

mkdir -p "$WORK/seed"
"$BUILD/bench/bench_seed_store" --db "$WORK/seed/jobs.db" --jobs "${AB_SEED_JOBS:-100000}" \
  --tenants "${AB_SEED_TENANTS:-10000}" --ids-out "$WORK/seed/ids.txt" >&2

for r in $(seq 1 "$ROUNDS"); do
  for side in A B; do
    bin=$A; [ $side = B ] && bin=$B
    tag() { sed "s/^{/{\"side\":\"$side\",\"round\":$r,/" >>"$OUT"; }
    echo "== round $r, $side: $bin" >&2
    BENCH_DAEMON_BINARY=$bin "$D" pipeline --jobs "${AB_PIPE_JOBS:-1000}" --batches 1 2>/dev/null | tag
    BENCH_DAEMON_BINARY=$bin "$D" kafka --events "${AB_KAFKA_EVENTS:-10000}" 2>/dev/null | tag || true
    BENCH_DAEMON_BINARY=$bin "$D" ready --db "$WORK/seed/jobs.db" --runs 3 --label seeded 2>/dev/null | tag
    BENCH_DAEMON_BINARY=$bin "$D" http --db "$WORK/seed/jobs.db" --ids "$WORK/seed/ids.txt" \
      --seconds "${AB_HTTP_S:-5}" --rounds 1 2>/dev/null | tag
  done
done

python3 - "$OUT" <<'EOF'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def med(side, bench, f, pred=lambda r: True):
    v = [f(r) for r in rows if r["side"] == side and r["bench"] == bench and pred(r)]
    return statistics.median(v) if v else float("nan")
metrics = [
    ("pipeline jobs/s (RBAC configmap)", "pipeline", lambda r: r["jobs_per_s"]),
    ("pipeline store commits per job", "pipeline", lambda r: r["batches"][0]["store_commits_per_job"]),
    ("pipeline RSS after the batch (MB)", "pipeline", lambda r: r["batches"][0]["after"]["rss_kb"] / 1024),
    ("idle RSS, empty store (MB)", "idle_rss", lambda r: r["stats"]["rss_kb"] / 1024, lambda r: r["store_jobs"] == 0),
    ("idle RSS, seeded store (MB)", "idle_rss", lambda r: r["stats"]["rss_kb"] / 1024, lambda r: r["store_jobs"] > 0),
    ("Kafka intake events/s", "kafka", lambda r: r["events_per_s"]),
    ("RSS after the Kafka intake (MB)", "kafka", lambda r: r["stats_at_end"]["rss_kb"] / 1024),
    ("start to READY=1 (ms)", "ready", lambda r: r["notify_ready_ms"]),
    ("start to first /readyz 200 (ms)", "ready", lambda r: r["readyz_200_ms"]),
    ("GET /jobs/{id} req/s", "http", lambda r: r["jobs"]["rps"]),
    ("GET /jobs/{id} p99 (ms)", "http", lambda r: r["jobs"]["p99_ms"]),
    ("GET /healthz req/s", "http", lambda r: r["healthz"]["rps"]),
    ("bare Beast req/s (baseline)", "http", lambda r: r["bare"]["rps"]),
    ("RSS after random reads (MB)", "rss_after_reads", lambda r: r["after"]["rss_kb"] / 1024),
]
print("| figure (median of rounds) | A | B |")
print("|---|---|---|")
for m in metrics:
    name, bench, f = m[0], m[1], m[2]
    pred = m[3] if len(m) > 3 else (lambda r: True)
    a, b = med("A", bench, f, pred), med("B", bench, f, pred)
    print(f"| {name} | {a:,.1f} | {b:,.1f} |")
EOF

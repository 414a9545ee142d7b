#!/usr/bin/env bash
# Soak: N minutes (default 10) of mixed load on one daemon with instant CLIs
# and the librdkafka mock cluster: bootstraps of new tenants, edits (resources,
# password, suspend, resume), cancels, reads (job views, lists, /healthz,
# /metrics) and a Kafka intake trickle. RSS, open fds and threads are sampled
# every 10 s; at the end the queue drains and every accepted job (and every
# Kafka event) must be a terminal job: none lost.
#
#   bench/soak.sh [--minutes N] [--out DIR] [-- extra bench_driver soak options]
#   (options: --bootstrap-per-s 8 --edits-per-s 4 --cancels-per-s 1
#             --reads-per-s 200 --kafka-per-s 5 --sample-s 10; the default mix
#             is ~18 jobs/s, well under the pipeline's capacity, so the queue
#             stays short and what grows is not the backlog)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$ROOT/build-bench}
MINUTES=10
OUT=""
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES=$2; shift ;;
    --out) OUT=$2; shift ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
load=$(cut -d' ' -f1 /proc/loadavg)
jobs=1
if awk -v l="$load" 'BEGIN { exit !(l < 1.0) }'; then jobs=2; fi
ninja -C "$BUILD" -j"$jobs" bench_driver >&2

OUT=${OUT:-$BUILD/bench-results/soak-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
echo "== soak: $MINUTES minutes of mixed load (samples every 10 s)" >&2
set +e
"$BUILD/bench/bench_driver" soak --minutes "$MINUTES" "${EXTRA[@]}" \
  2> >(tee "$OUT/soak.log" >&2) >"$OUT/soak.json"
rc=$?
set -e
python3 - "$OUT/soak.json" <<'EOF'
import json, sys
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
print(f"soak: {s['minutes']} min, {s['requests']:,} requests, {s['accepted_jobs']:,} jobs accepted over HTTP, "
      f"{s['kafka_events']:,} Kafka events -> {s['kafka_jobs']:,} jobs; drain {s['drain_s']:.1f} s")
print()
print("| t (s) | RSS (MB) | fds | threads | jobs finished | queued | running |")
print("|---|---|---|---|---|---|---|")
for r in s["series"]:
    print(f"| {r['t_s']} | {r['rss_kb'] / 1024:.1f} | {r['fds']} | {r['threads']} | "
          f"{r['finished']:.0f} | {r['queued']:.0f} | {r['running']:.0f} |")
print()
print("| metric | first | last | min | max |")
print("|---|---|---|---|---|")
for k, unit in (("rss_kb", "MB"), ("fds", ""), ("threads", "")):
    v = s[k]
    f = (lambda x: f"{x / 1024:.1f}") if unit == "MB" else (lambda x: str(x))
    print(f"| {k.replace('_kb', ' (MB)')} | {f(v['first'])} | {f(v['last'])} | {f(v['min'])} | {f(v['max'])} |")
print()
print("final status of accepted jobs:", json.dumps(s["accepted_by_final_status"]))
print("not terminal (lost):", s["not_terminal"], "| kafka events without a terminal job:",
      s["kafka_events"] - s["kafka_jobs"] + s["kafka_not_terminal"])
print("HTTP answers:", json.dumps(s["http_codes"]))
EOF
exit $rc

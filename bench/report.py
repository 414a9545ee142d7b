#!/usr/bin/env python3
"""Turns the JSON lines of one bench/run.sh run into the Markdown table.

   report.py results.jsonl [--quick]

Every figure sits next to the baseline measured in the same run (SPEC §9).
"""
import json
import sys


def load(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
    return out


def mb(kb):
    return f"{kb / 1024:.1f} MB"


def yes(ok):
    return "**yes**" if ok else "**NO**"


def main():
    rows = load(sys.argv[1])
    by = {}
    for r in rows:
        by.setdefault(r.get("bench"), []).append(r)
    table = []

    def add(name, figure, baseline, ratio, target, met):
        table.append((name, figure, baseline, ratio, target, met))

    # --- baselines -------------------------------------------------------
    spawns = by.get("spawn", [])
    def best_spawn(pred):
        cands = [s for s in spawns if pred(s["program"])]
        return max(cands, key=lambda s: s["per_s"]) if cands else None
    instant = best_spawn(lambda p: p.endswith("instant_cli"))
    true_dyn = best_spawn(lambda p: p == "/bin/true")
    sqlite = by.get("sqlite", [])

    # --- HTTP ------------------------------------------------------------
    for h in by.get("http", []):
        bare = h["bare"]
        wrk = h["wrk"]
        for key, label in (("jobs", "GET /jobs/{id}"), ("healthz", "GET /healthz")):
            d = h[key]
            ratio = d["rps"] / bare["rps"] if bare["rps"] else 0
            add(f"HTTP {label}, 64 keep-alive conns (wrk {wrk}, median of {h['rounds']}×{h['seconds']:.0f} s)",
                f"{d['rps']:,.0f} req/s",
                f"bare Beast {bare['rps']:,.0f} req/s",
                f"{ratio * 100:.0f} %", "≥ 60 %", yes(ratio >= 0.60))
            add(f"HTTP {label} latency p50 / p99",
                f"{d['p50_ms']:.2f} / {d['p99_ms']:.2f} ms",
                f"bare {bare['p50_ms']:.2f} / {bare['p99_ms']:.2f} ms",
                f"p99 ×{d['p99_ms'] / bare['p99_ms']:.1f}" if bare["p99_ms"] else "–",
                "p99 ≤ 2 ms", yes(d["p99_ms"] <= 2.0))
        r = h["jobs_random"]
        ratio = r["rps"] / bare["rps"] if bare["rps"] else 0
        add(f"HTTP GET /jobs/{{random id of {h['store_jobs']:,}}} (info)",
            f"{r['rps']:,.0f} req/s, p99 {r['p99_ms']:.2f} ms",
            f"bare Beast {bare['rps']:,.0f} req/s", f"{ratio * 100:.0f} %", "–", "–")

    # --- pipeline --------------------------------------------------------
    for p in by.get("pipeline", []):
        c = p.get("ceiling") or instant
        where = "measured just before the batch" if p.get("ceiling") else "measured at the start"
        if c:
            ceiling = c["per_s"] / p["spawns_per_job"] if p["spawns_per_job"] else 0
            ratio = p["jobs_per_s"] / ceiling if ceiling else 0
            add(f"Job pipeline: bootstrap jobs/s, instant CLIs (RBAC {p['rbac']}, best of "
                f"{len(p['batches'])}×{p['jobs_per_batch']:,} jobs)",
                f"{p['jobs_per_s']:.1f} jobs/s ({p['spawns_per_job']:.2f} spawns/job)",
                f"spawn ceiling {c['per_s']:.0f}/s (instant_cli, conc {c['concurrency']}, {where}) "
                f"÷ {p['spawns_per_job']:.2f} = {ceiling:.1f} jobs/s",
                f"{ratio * 100:.0f} %", "≥ 80 %", yes(ratio >= 0.80))

    # --- Kafka -----------------------------------------------------------
    for k in by.get("kafka", []):
        bare = k.get("bare_consume_per_s", 0)
        ratio = k["events_per_s"] / bare if bare else 0
        add(f"Kafka intake: {k['events']:,} events → committed jobs (mock cluster)",
            f"{k['events_per_s']:,.0f} events/s ({k['jobs_committed']:,} jobs in {k['span_s']:.2f} s; "
            f"CPU per event: loop {k.get('loop_cpu_us_per_event', 0):.0f} µs, "
            f"process {k.get('cpu_us_per_event', 0):.0f} µs)",
            f"bare consumer {bare:,.0f} records/s", f"{ratio * 100:.1f} %", "≥ 20,000 events/s",
            yes(k["events_per_s"] >= 20000))

    # --- memory ----------------------------------------------------------
    idle = {r["store_jobs"]: r for r in by.get("idle_rss", [])}
    bare_rss = None
    for r in by.get("idle_rss", []):
        if "bare_server" in r:
            bare_rss = r["bare_server"]["rss_kb"]
    empty = idle.get(0)
    if empty:
        add("Idle RSS, empty store", mb(empty["stats"]["rss_kb"]),
            f"bare Beast server {mb(bare_rss)}" if bare_rss else "–", "–", "≤ 20 MB",
            yes(empty["stats"]["rss_kb"] <= 20 * 1024))
    for n, r in sorted(idle.items()):
        if n == 0:
            continue
        base = empty["stats"]["rss_kb"] if empty else 0
        add(f"Idle RSS, {n:,} finished jobs in the store", mb(r["stats"]["rss_kb"]),
            f"empty store {mb(base)}" if base else "–",
            f"Δ {(r['stats']['rss_kb'] - base) / 1024:+.1f} MB" if base else "–", "≤ 20 MB",
            yes(r["stats"]["rss_kb"] <= 20 * 1024))
    for r in by.get("rss_after_reads", []):
        p1 = r.get("after_pass1", r["before"])
        d = r["after"]["rss_kb"] - p1["rss_kb"]
        add(f"RSS after 2 passes of random GET /jobs/{{id}} over {r['store_jobs']:,} jobs "
            f"(~{r['requests']:,} requests)",
            f"{mb(r['after']['rss_kb'])} (pass 1: {mb(p1['rss_kb'])})",
            f"before the reads {mb(r['before']['rss_kb'])}",
            f"pass 2 − pass 1: {d / 1024:+.1f} MB",
            "no growth (pass 2 − pass 1 ≤ 0.5 MB)", yes(d <= 512))
    for p in by.get("pipeline", []):
        b = p["batches"]
        if len(b) >= 3:
            first, prev, last = b[0], b[-2], b[-1]
            d = last["after"]["rss_kb"] - prev["after"]["rss_kb"]
            jobs_between = last["finished_total"] - prev["finished_total"]
            series = " → ".join(f"{mb(x['after']['rss_kb'])}" for x in b)
            add(f"RSS after {last['finished_total']:,.0f} finished jobs (pipeline batches: {series})",
                mb(last["after"]["rss_kb"]), f"after {prev['finished_total']:,.0f}: {mb(prev['after']['rss_kb'])}",
                f"Δ {d / 1024:+.1f} MB ({d / max(1, jobs_between / 1000):+.0f} kB per 1k jobs)",
                "no growth (last batch Δ ≤ 0.5 MB)", yes(d <= 512))

    # --- start to ready --------------------------------------------------
    ready = {r["label"]: r for r in by.get("ready", [])}
    full, empty_r = ready.get("seeded"), ready.get("empty")
    if full:
        fl = full.get("process_start_floor_ms", 0)
        base = empty_r["notify_ready_ms"] if empty_r else 0
        add(f"Start to READY=1 (sd_notify), {full['store_jobs']:,} jobs in the store (median of "
            f"{len(full['notify_runs'])})",
            f"{full['notify_ready_ms']:.0f} ms",
            f"process-start floor (`--version`) {fl:.0f} ms; empty store {base:.0f} ms",
            f"own work {full['notify_ready_ms'] - fl:.0f} ms", "≤ 100 ms",
            yes(full["notify_ready_ms"] <= 100))
        base = empty_r["readyz_200_ms"] if empty_r else 0
        add(f"Start to first 200 of /readyz, {full['store_jobs']:,} jobs in the store",
            f"{full['readyz_200_ms']:.0f} ms",
            f"process-start floor {fl:.0f} ms; empty store {base:.0f} ms",
            f"own work {full['readyz_200_ms'] - fl:.0f} ms", "≤ 100 ms",
            yes(full["readyz_200_ms"] <= 100))

    print("| benchmark | figure | baseline (same run) | ratio | target | met? |")
    print("|---|---|---|---|---|---|")
    for row in table:
        print("| " + " | ".join(str(c) for c in row) + " |")

    print()
    print("Baselines measured in this run:")
    print()
    print("| baseline | figure |")
    print("|---|---|")
    for s in spawns:
        print(f"| posix_spawn+pipes+waitpid `{s['program'].split('/')[-1]}`, concurrency "
              f"{s['concurrency']} | {s['per_s']:.0f} spawns/s |")
    for s in sqlite:
        label = ("one row per commit" if s["batch"] == 1 else f"{s['batch']} rows per commit")
        print(f"| SQLite WAL synchronous={s['sync']}, {label} | {s['rows_per_s']:,.0f} rows/s "
              f"({s['commits_per_s']:,.0f} commits/s) |")
    for h in by.get("http", []):
        b = h["bare"]
        print(f"| bare Beast keep-alive server, wrk {h['wrk']} | {b['rps']:,.0f} req/s, p50 "
              f"{b['p50_ms']:.2f} ms, p99 {b['p99_ms']:.2f} ms |")
    for k in by.get("kafka", []):
        print(f"| bare librdkafka consumer on the mock cluster | {k.get('bare_consume_per_s', 0):,.0f} records/s |")
    if bare_rss:
        print(f"| bare Beast server idle RSS | {mb(bare_rss)} |")
    for r in by.get("ready", []):
        if "process_start_floor_ms" in r:
            print(f"| process start (`everest-bootstrapd --version`, exec to exit), before the "
                  f"{r['label']} runs | {r['process_start_floor_ms']:.0f} ms |")

    loads = [(r["bench"], r["load1"]) for r in rows if "load1" in r]
    for p in by.get("pipeline", []):
        loads += [(f"pipeline batch {b['batch']}", b.get("load1")) for b in p["batches"] if "load1" in b]
    if loads:
        print()
        print("1-minute load average when each figure was taken (2 vCPUs; other work on the machine "
              "shows here): " + ", ".join(f"{k} {v:.2f}" for k, v in loads))


if __name__ == "__main__":
    main()

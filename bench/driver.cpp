// Drives the real daemon for the benchmarks of SPEC §9 and prints one JSON
// object per figure on stdout (progress on stderr). bench/run.sh turns them
// into the table.
//
//   bench_driver pipeline [--jobs N] [--batches B] [--rbac configmap|off] [--keep-dir D]
//   bench_driver http --db <store> --ids <file> [--seconds S] [--rounds R]
//   bench_driver ready --db <store> [--runs R] [--label L]
//   bench_driver kafka [--events N]
//   bench_driver soak [--minutes M] [--sample-s S]
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "bench/bench_util.h"

using namespace bench;
using json = nlohmann::json;

namespace {

using Args = std::map<std::string, std::string>;

Args ParseArgs(int argc, char** argv, int from) {
  Args a;
  for (int i = from; i < argc; ++i) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) continue;
    k = k.substr(2);
    if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) a[k] = argv[++i];
    else a[k] = "1";
  }
  return a;
}

std::string Get(const Args& a, const std::string& k, const std::string& def) {
  auto it = a.find(k);
  return it == a.end() ? def : it->second;
}

void Emit(const json& j) {
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

void Progress(const std::string& s) {
  std::fprintf(stderr, "  [driver] %s\n", s.c_str());
  std::fflush(stderr);
}

void Sleep(double ms) { std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms)); }

double LoadAvg() {
  std::ifstream in("/proc/loadavg");
  double l = 0;
  in >> l;
  return l;
}

json StatsJson(const ProcStats& s) {
  return {{"rss_kb", s.rss_kb}, {"hwm_kb", s.hwm_kb}, {"fds", s.fds}, {"threads", s.threads},
          {"cpu_ms", s.cpu_ms}, {"loop_cpu_ms", s.loop_cpu_ms}};
}

// Lets a freshly started process settle (allocator, first timers) before sampling.
ProcStats SettledSample(pid_t pid, int ms = 1500) {
  Sleep(ms);
  return Sample(pid);
}

// --- a read-only view of the job store, after the fact ------------------------

struct JobRow {
  std::string id, status, source, created_at, started_at, finished_at;
};

std::vector<JobRow> ReadJobs(const std::string& db_path, const std::string& where = "") {
  std::vector<JobRow> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return rows;
  }
  sqlite3_busy_timeout(db, 2000);
  const std::string sql =
      "SELECT id, status, source, created_at, started_at, finished_at FROM jobs" +
      (where.empty() ? "" : " WHERE " + where);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      JobRow r;
      auto col = [&](int i) {
        const unsigned char* t = sqlite3_column_text(st, i);
        return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
      };
      r.id = col(0);
      r.status = col(1);
      r.source = col(2);
      r.created_at = col(3);
      r.started_at = col(4);
      r.finished_at = col(5);
      rows.push_back(std::move(r));
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rows;
}

long CountJobs(const std::string& db_path, const std::string& where) {
  sqlite3* db = nullptr;
  long n = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt* st = nullptr;
    const std::string sql = "SELECT count(*) FROM jobs WHERE " + where;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

// --- job pipeline -------------------------------------------------------------

struct Counts {
  double finished = 0, succeeded = 0, queued = 0, running = 0, cli_calls = 0;
  double commits = 0, writes = 0;
};

Counts ReadCounts(std::uint16_t port) {
  Counts c;
  Response m = Http(port, "GET", "/metrics");
  c.finished = MetricSum(m.body, "everest_bootstrapd_jobs_total");
  c.succeeded = MetricSumWhere(m.body, "everest_bootstrapd_jobs_total", "status=\"succeeded\"");
  c.queued = MetricSum(m.body, "everest_bootstrapd_jobs_queued");
  c.running = MetricSum(m.body, "everest_bootstrapd_jobs_running");
  c.cli_calls = MetricSum(m.body, "everest_bootstrapd_cli_calls_total");
  c.commits = MetricSum(m.body, "everest_bootstrapd_store_commits_total");
  c.writes = MetricSum(m.body, "everest_bootstrapd_store_writes_total");
  return c;
}

int Pipeline(const Args& a) {
  const long n = std::atol(Get(a, "jobs", "2000").c_str());
  const int batches = std::atoi(Get(a, "batches", "2").c_str());
  const std::string rbac = Get(a, "rbac", "configmap");
  const std::string keep = Get(a, "keep-dir", "");
  const int submitters = std::atoi(Get(a, "submitters", "16").c_str());
  const std::string dir = keep.empty() ? MakeTempDir("bench-pipeline") : keep;
  std::filesystem::create_directories(dir);
  Env env = DaemonEnv(dir);
  env["MAX_QUEUED_JOBS"] = std::to_string(n + 100);
  env["EVEREST_RBAC_MODE"] = rbac;
  const std::string max_subproc = Get(a, "max-subproc", "");
  if (!max_subproc.empty()) env["MAX_SUBPROC_CONCURRENCY"] = max_subproc;
  Daemon d(dir, env);
  std::string err;
  if (!d.Start(&err)) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  const ProcStats idle = SettledSample(d.pid());
  Progress("pipeline: daemon idle RSS " + std::to_string(idle.rss_kb) + " kB");
  Emit({{"bench", "idle_rss"}, {"store_jobs", 0}, {"stats", StatsJson(idle)}});

  // The spawn ceiling is measured right before each batch (same moment, same
  // machine load): `--ceiling-cmd` is run with " <concurrency>" appended and
  // must print bench_spawn's JSON line.
  const std::string ceiling_cmd = Get(a, "ceiling-cmd", "");
  auto measure_ceiling = [&]() -> json {
    json best = nullptr;
    if (ceiling_cmd.empty()) return best;
    for (int conc : {1, 2}) {
      std::string out;
      FILE* f = ::popen((ceiling_cmd + " " + std::to_string(conc) + " 2").c_str(), "r");
      if (f == nullptr) continue;
      char buf[512];
      while (std::fgets(buf, sizeof buf, f) != nullptr) out += buf;
      ::pclose(f);
      json j = json::parse(out, nullptr, false);
      if (j.is_object() && (best.is_null() || j["per_s"].get<double>() > best["per_s"].get<double>())) {
        best = j;
      }
    }
    return best;
  };
  json batch_results = json::array();
  double calls_before = 0, commits_before = 0, writes_before = 0;
  long done_before = 0;
  for (int b = 0; b < batches; ++b) {
    const json ceiling = measure_ceiling();
    // Submitted over `submitters` connections at once: each POST waits for its
    // durable commit, so one connection would measure fsync latency instead.
    const double t_submit = MonoMs();
    std::atomic<long> accepted{0}, refused{0}, next{0};
    std::vector<std::thread> subs;
    for (int t = 0; t < submitters; ++t) {
      subs.emplace_back([&, b] {
        Conn conn(d.port());
        for (long i = next++; i < n; i = next++) {
          const std::string u = "pl_u" + std::to_string(b) + "_" + std::to_string(i);
          const std::string ns = "pl-ns-" + std::to_string(b) + "-" + std::to_string(i);
          Response r = conn.Request("POST", "/bootstrap/users",
                                    json{{"username", u}, {"namespace", ns}}.dump(), d.Auth());
          if (r.status == 202) ++accepted;
          else ++refused;
        }
      });
    }
    for (auto& t : subs) t.join();
    const double submit_ms = MonoMs() - t_submit;
    Progress("pipeline batch " + std::to_string(b + 1) + ": " + std::to_string(accepted.load()) +
             " jobs submitted in " + std::to_string(static_cast<int>(submit_ms)) + " ms");
    Counts c;
    const double deadline = MonoMs() + 600000;
    while (MonoMs() < deadline) {
      c = ReadCounts(d.port());
      if (c.finished >= done_before + accepted.load() && c.queued == 0 && c.running == 0) break;
      Sleep(250);
    }
    const double wall_s = (MonoMs() - t_submit) / 1000.0;
    const ProcStats after = SettledSample(d.pid(), 1000);
    // Exact span from the store: first start to last finish of this batch.
    const auto rows = ReadJobs(dir + "/jobs.db", "username LIKE 'pl\\_u" + std::to_string(b) +
                                                     "\\_%' ESCAPE '\\'");
    std::int64_t first = INT64_MAX, last = 0;
    long ok = 0;
    for (const auto& r : rows) {
      first = std::min(first, Rfc3339Ms(r.started_at));
      last = std::max(last, Rfc3339Ms(r.finished_at));
      ok += r.status == "succeeded";
    }
    const double span_s = std::max(1.0, static_cast<double>(last - first)) / 1000.0;
    const double calls = c.cli_calls - calls_before;
    json br = {{"batch", b + 1},
               {"jobs", accepted.load()},
               {"refused", refused.load()},
               {"succeeded", ok},
               {"span_s", span_s},
               {"wall_s", wall_s},
               {"jobs_per_s", static_cast<double>(rows.size()) / span_s},
               {"spawns_per_job", accepted > 0 ? calls / static_cast<double>(accepted.load()) : 0},
               {"finished_total", c.finished},
               {"store_commits_per_job", (c.commits - commits_before) / std::max(1L, accepted.load())},
               {"store_writes_per_commit", (c.writes - writes_before) / std::max(1.0, c.commits - commits_before)},
               {"after", StatsJson(after)},
               {"ceiling", ceiling},
               {"load1", LoadAvg()}};
    Progress("pipeline batch " + std::to_string(b + 1) + ": " + br.dump());
    batch_results.push_back(br);
    calls_before = c.cli_calls;
    commits_before = c.commits;
    writes_before = c.writes;
    done_before = static_cast<long>(c.finished);
  }
  const int rc = d.Stop();
  // Best batch by its ratio to the ceiling measured just before it (the
  // machine is noisy; every batch is reported).
  double best = 0, spj = 0, best_ratio = -1;
  json best_ceiling = nullptr;
  for (const auto& br : batch_results) {
    const double jps = br["jobs_per_s"];
    const double per_job = br["spawns_per_job"];
    const double ratio = br["ceiling"].is_object() && per_job > 0
                             ? jps / (br["ceiling"]["per_s"].get<double>() / per_job)
                             : jps;
    if (ratio > best_ratio) {
      best_ratio = ratio;
      best = jps;
      spj = per_job;
      best_ceiling = br["ceiling"];
    }
  }
  Emit({{"bench", "pipeline"},
        {"rbac", rbac},
        {"max_subproc", max_subproc.empty() ? "16 (default)" : max_subproc},
        {"jobs_per_batch", n},
        {"jobs_per_s", best},
        {"spawns_per_job", spj},
        {"ceiling", best_ceiling},
        {"idle", StatsJson(idle)},
        {"batches", batch_results},
        {"exit", rc},
        {"dir", dir}});
  if (keep.empty()) RemoveTree(dir);
  return 0;
}

// --- HTTP ---------------------------------------------------------------------

struct WrkResult {
  double rps = 0, p50_ms = 0, p99_ms = 0;
  long non2xx = 0, errors = 0;
  std::string raw;
};

double ParseLatencyMs(const std::string& v) {
  const double x = std::atof(v.c_str());
  if (v.find("us") != std::string::npos) return x / 1000.0;
  if (v.find("ms") != std::string::npos) return x;
  if (v.find('s') != std::string::npos) return x * 1000.0;
  return x;
}

WrkResult RunWrk(const std::string& url, double seconds, int threads, int conns,
                 const std::vector<std::string>& extra) {
  std::string cmd = "wrk -t" + std::to_string(threads) + " -c" + std::to_string(conns) + " -d" +
                    std::to_string(static_cast<int>(seconds)) + "s --latency";
  for (const auto& e : extra) cmd += " " + e;
  cmd += " '" + url + "' 2>&1";
  WrkResult r;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) r.raw.append(buf, n);
  ::pclose(f);
  std::istringstream in(r.raw);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string first;
    ls >> first;
    if (first == "Requests/sec:") ls >> r.rps;
    else if (first == "50%") {
      std::string v;
      ls >> v;
      r.p50_ms = ParseLatencyMs(v);
    } else if (first == "99%") {
      std::string v;
      ls >> v;
      r.p99_ms = ParseLatencyMs(v);
    } else if (line.find("Non-2xx or 3xx responses:") != std::string::npos) {
      r.non2xx = std::atol(line.substr(line.find(':') + 1).c_str());
    } else if (line.find("Socket errors:") != std::string::npos) {
      long c = 0, rd = 0, w = 0, t = 0;
      std::sscanf(line.c_str(), "  Socket errors: connect %ld, read %ld, write %ld, timeout %ld", &c,
                  &rd, &w, &t);
      r.errors = c + rd + w + t;
    }
  }
  return r;
}

json WrkJson(const WrkResult& w) {
  return {{"rps", w.rps}, {"p50_ms", w.p50_ms}, {"p99_ms", w.p99_ms}, {"non2xx", w.non2xx},
          {"socket_errors", w.errors}};
}

pid_t StartBare(const std::string& dir, std::uint16_t* port) {
  const std::string out = dir + "/bare.out";
  pid_t pid = Spawn(BENCH_BARE_HTTP_BINARY, {"0"}, {}, out);
  for (int i = 0; i < 500; ++i) {
    const std::string text = ReadFile(out);
    if (text.rfind("port ", 0) == 0 && text.find('\n') != std::string::npos) {
      *port = static_cast<std::uint16_t>(std::atoi(text.c_str() + 5));
      return pid;
    }
    Sleep(10);
  }
  return -1;
}

int HttpBench(const Args& a) {
  const std::string db = Get(a, "db", "");
  const std::string ids_file = Get(a, "ids", "");
  const double secs = std::atof(Get(a, "seconds", "10").c_str());
  const int rounds = std::atoi(Get(a, "rounds", "3").c_str());
  const int threads = std::atoi(Get(a, "threads", "2").c_str());
  const int conns = std::atoi(Get(a, "conns", "64").c_str());
  if (db.empty() || ids_file.empty()) {
    std::fprintf(stderr, "http: --db and --ids are required\n");
    return 2;
  }
  const std::string dir = MakeTempDir("bench-http");
  std::uint16_t bare_port = 0;
  const pid_t bare = StartBare(dir, &bare_port);
  if (bare < 0) return 1;
  const ProcStats bare_idle = SettledSample(bare, 500);

  // The daemon on the seeded store, where the database lives (a copy would
  // double the disk use; GETs do not write).
  const std::string db_dir = db.substr(0, db.rfind('/'));
  Env env = DaemonEnv(db_dir);
  env["JOB_DB_PATH"] = db;
  Daemon d(dir, env);
  std::string err;
  if (!d.Start(&err)) {
    std::fprintf(stderr, "%s\n", err.c_str());
    Terminate(bare, 5000);
    return 1;
  }
  const ProcStats idle = SettledSample(d.pid());
  const long store_jobs = CountJobs(db, "1=1");
  Emit({{"bench", "idle_rss"}, {"store_jobs", store_jobs}, {"stats", StatsJson(idle)},
        {"bare_server", StatsJson(bare_idle)}});

  std::string job_id;
  {
    std::ifstream in(ids_file);
    std::getline(in, job_id);
  }
  Response probe = Http(d.port(), "GET", "/jobs/" + job_id, "", d.Auth());
  if (probe.status != 200) {
    std::fprintf(stderr, "http: GET /jobs/%s answered %d\n", job_id.c_str(), probe.status);
  }
  const std::string key_hdr = std::string("-H 'X-Admin-Key: ") + kAdminKey + "'";
  const std::string base = "http://127.0.0.1:";
  std::map<std::string, std::vector<WrkResult>> runs;
  for (int r = 0; r < rounds; ++r) {
    runs["bare"].push_back(RunWrk(base + std::to_string(bare_port) + "/", secs, threads, conns, {}));
    runs["jobs"].push_back(RunWrk(base + std::to_string(d.port()) + "/jobs/" + job_id, secs,
                                  threads, conns, {key_hdr}));
    runs["healthz"].push_back(
        RunWrk(base + std::to_string(d.port()) + "/healthz", secs, threads, conns, {}));
    Progress("http round " + std::to_string(r + 1) + ": bare " +
             std::to_string(static_cast<long>(runs["bare"].back().rps)) + " req/s, jobs " +
             std::to_string(static_cast<long>(runs["jobs"].back().rps)) + ", healthz " +
             std::to_string(static_cast<long>(runs["healthz"].back().rps)));
  }
  // Random ids over the whole store: reads every part of it; RSS must not follow.
  const std::string lua = dir + "/random_ids.lua";
  std::ofstream(lua) << "local ids = {}\n"
                        "for line in io.lines(\"" << ids_file << "\") do ids[#ids + 1] = line end\n"
                        "wrk.headers[\"X-Admin-Key\"] = \"" << kAdminKey << "\"\n"
                        "request = function()\n"
                        "  return wrk.format(\"GET\", \"/jobs/\" .. ids[math.random(#ids)])\n"
                        "end\n";
  // Two passes: RSS after the second must equal RSS after the first (caches
  // full, nothing kept per job read).
  const ProcStats before_random = Sample(d.pid());
  WrkResult random = RunWrk(base + std::to_string(d.port()) + "/", secs, threads, conns,
                            {"-s '" + lua + "'"});
  const ProcStats after_pass1 = SettledSample(d.pid(), 1000);
  WrkResult random2 = RunWrk(base + std::to_string(d.port()) + "/", secs, threads, conns,
                             {"-s '" + lua + "'"});
  const ProcStats after_random = SettledSample(d.pid(), 1000);
  Progress("http random ids: " + std::to_string(static_cast<long>(random.rps)) + " and " +
           std::to_string(static_cast<long>(random2.rps)) + " req/s");

  auto summary = [&](const std::string& k) {
    std::vector<double> rps, p50, p99;
    json all = json::array();
    for (const auto& w : runs[k]) {
      rps.push_back(w.rps);
      p50.push_back(w.p50_ms);
      p99.push_back(w.p99_ms);
      all.push_back(WrkJson(w));
    }
    return json{{"rps", Median(rps)}, {"p50_ms", Median(p50)}, {"p99_ms", Median(p99)},
                {"runs", all}};
  };
  Emit({{"bench", "http"},
        {"seconds", secs},
        {"rounds", rounds},
        {"wrk", "-t" + std::to_string(threads) + " -c" + std::to_string(conns)},
        {"store_jobs", store_jobs},
        {"bare", summary("bare")},
        {"jobs", summary("jobs")},
        {"healthz", summary("healthz")},
        {"jobs_random", WrkJson(random)},
        {"jobs_body_bytes", probe.body.size()},
        {"load1", LoadAvg()}});
  Emit({{"bench", "rss_after_reads"},
        {"store_jobs", store_jobs},
        {"requests_per_pass", static_cast<long>(random.rps * secs)},
        {"requests", static_cast<long>((random.rps + random2.rps) * secs)},
        {"before", StatsJson(before_random)},
        {"after_pass1", StatsJson(after_pass1)},
        {"after", StatsJson(after_random)}});
  d.Stop();
  Terminate(bare, 5000);
  RemoveTree(dir);
  return 0;
}

// --- start to ready -----------------------------------------------------------

int Ready(const Args& a) {
  const std::string db = Get(a, "db", "");
  const int runs = std::atoi(Get(a, "runs", "5").c_str());
  const std::string label = Get(a, "label", "");
  if (db.empty()) return 2;
  const std::string dir = MakeTempDir("bench-ready");
  const std::string db_dir = db.substr(0, db.rfind('/'));
  std::vector<double> notify_ms, readyz_ms, floor_ms;
  for (int r = 0; r < runs; ++r) {
    {
      // The floor: the same binary exec'd to print its version and exit (dynamic
      // loading and static initialisation, no daemon work), just before.
      const double t0 = MonoMs();
      const pid_t v = Spawn(DaemonBinary(), {"--version"}, DaemonEnv(db_dir), "");
      WaitExit(v, 10000);
      floor_ms.push_back(MonoMs() - t0);
    }
    NotifySocket ns(dir + "/notify.sock");
    Env env = DaemonEnv(db_dir);
    env["JOB_DB_PATH"] = db;
    env["NOTIFY_SOCKET"] = ns.path();
    const double t0 = MonoMs();
    const pid_t pid = Spawn(DaemonBinary(), {}, env, dir + "/daemon.log");
    const double at = ns.WaitFor("READY=1", 30000);
    if (at > 0) notify_ms.push_back(at - t0);
    // Stop it the way systemd does, once it runs (a SIGTERM before its signal
    // handler is installed kills it uncleanly, and the next start pays for it).
    Sleep(300);
    Terminate(pid, 15000);
  }
  for (int r = 0; r < runs; ++r) {
    const std::uint16_t port = FreePort();
    Env env = DaemonEnv(db_dir, port);
    env["JOB_DB_PATH"] = db;
    const double t0 = MonoMs();
    const pid_t pid = Spawn(DaemonBinary(), {}, env, dir + "/daemon.log");
    double at = -1;
    while (MonoMs() - t0 < 30000) {
      Response resp = Http(port, "GET", "/readyz");
      if (resp.status == 200) {
        at = MonoMs();
        break;
      }
      Sleep(1);
    }
    if (at > 0) readyz_ms.push_back(at - t0);
    Terminate(pid, 15000);
  }
  const long store_jobs = CountJobs(db, "1=1");
  Emit({{"bench", "ready"},
        {"label", label},
        {"store_jobs", store_jobs},
        {"notify_ready_ms", Median(notify_ms)},
        {"process_start_floor_ms", Median(floor_ms)},
        {"floor_runs", floor_ms},
        {"load1", LoadAvg()},
        {"readyz_200_ms", Median(readyz_ms)},
        {"notify_runs", notify_ms},
        {"readyz_runs", readyz_ms}});
  RemoveTree(dir);
  return 0;
}

// --- Kafka --------------------------------------------------------------------

const char* kRequestTopic = "everest.tenant.requests.v1";

class MockKafka {
 public:
  MockKafka() {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "2", err, sizeof err);
    owner_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    cluster_ = rd_kafka_mock_cluster_new(owner_, 1);
    rd_kafka_mock_topic_create(cluster_, kRequestTopic, 4, 1);
    rd_kafka_mock_topic_create(cluster_, "everest.tenant.requests.v1.dlq", 1, 1);
    rd_kafka_mock_topic_create(cluster_, "everest.tenant.events.v1", 4, 1);
    bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);
    rd_kafka_conf_t* pc = rd_kafka_conf_new();
    rd_kafka_conf_set(pc, "bootstrap.servers", bootstraps_.c_str(), err, sizeof err);
    rd_kafka_conf_set(pc, "linger.ms", "5", err, sizeof err);
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err);
  }
  ~MockKafka() {
    rd_kafka_flush(producer_, 5000);
    rd_kafka_destroy(producer_);
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(owner_);
  }
  const std::string& bootstraps() const { return bootstraps_; }

  void Produce(int32_t partition, const std::string& key, const std::string& value) {
    for (;;) {
      const rd_kafka_resp_err_t e = rd_kafka_producev(
          producer_, RD_KAFKA_V_TOPIC(kRequestTopic), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
          RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_END);
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
      rd_kafka_poll(producer_, 10);
    }
    rd_kafka_poll(producer_, 0);
  }
  void Flush() { rd_kafka_flush(producer_, 30000); }

  // The Kafka baseline: a bare consumer (no group, no work per record) reads
  // `n` records of the request topic from the beginning. Returns records/s
  // from the first record to the n-th, or 0.
  double BareConsumeRate(long n, int timeout_ms) {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps_.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", "bench-bare-reader", err, sizeof err);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(4);
    for (int p = 0; p < 4; ++p) {
      rd_kafka_topic_partition_list_add(parts, kRequestTopic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(c, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    long got = 0;
    double first = -1, last = -1;
    const double deadline = MonoMs() + timeout_ms;
    while (got < n && MonoMs() < deadline) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 100);
      if (m == nullptr) continue;
      if (!m->err) {
        if (first < 0) first = MonoMs();
        ++got;
        last = MonoMs();
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    if (got < n || last <= first) return 0;
    return static_cast<double>(n - 1) / ((last - first) / 1000.0);
  }

 private:
  rd_kafka_t* owner_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  rd_kafka_t* producer_ = nullptr;
  std::string bootstraps_;
};

std::string Event(const std::string& id, const std::string& username) {
  return json{{"specversion", "1.0"},
              {"id", id},
              {"source", "/bench"},
              {"type", "everest.tenant.bootstrap.requested"},
              {"datacontenttype", "application/json"},
              {"data", {{"username", username}}}}
      .dump();
}

void KafkaDaemonEnv(Env* env, const std::string& dir, const MockKafka& k, long max_queued) {
  const std::string file = dir + "/kafka.properties";
  std::ofstream(file) << "session.timeout.ms=6000\nheartbeat.interval.ms=500\n";
  (*env)["KAFKA_BROKERS"] = k.bootstraps();
  (*env)["KAFKA_CONFIG_FILE"] = file;
  (*env)["MAX_QUEUED_JOBS"] = std::to_string(max_queued);
}

int Kafka(const Args& a) {
  const long n = std::atol(Get(a, "events", "10000").c_str());
  const std::string rbac = Get(a, "rbac", "off");
  const std::string dir = MakeTempDir("bench-kafka");
  MockKafka kafka;
  const double p0 = MonoMs();
  for (long i = 0; i < n; ++i) {
    const std::string u = "k_user_" + std::to_string(i);
    kafka.Produce(static_cast<int32_t>(i % 4), u, Event("req-" + std::to_string(i), u));
  }
  kafka.Flush();
  const double produce_ms = MonoMs() - p0;
  Progress("kafka: " + std::to_string(n) + " events produced in " +
           std::to_string(static_cast<int>(produce_ms)) + " ms");
  const double bare_rate = kafka.BareConsumeRate(n, 60000);
  Progress("kafka: bare consumer reads " + std::to_string(static_cast<long>(bare_rate)) +
           " records/s");
  Env env = DaemonEnv(dir);
  env["EVEREST_RBAC_MODE"] = rbac;
  KafkaDaemonEnv(&env, dir, kafka, std::max(20000L, n * 2));
  Daemon d(dir, env);
  std::string err;
  if (!d.Start(&err)) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  // Wait (from outside, lightly) until every event is a committed job.
  const std::string db = dir + "/jobs.db";
  const double deadline = MonoMs() + 300000;
  long committed = 0;
  double seen_all = -1;
  while (MonoMs() < deadline) {
    committed = CountJobs(db, "source='kafka'");
    if (committed >= n) {
      seen_all = MonoMs();
      break;
    }
    Sleep(50);
  }
  // CPU spent by then (start-up included; jobs run meanwhile too): a figure
  // that the machine's noise moves much less than the rate.
  const ProcStats st = Sample(d.pid());
  const std::string metrics = Http(d.port(), "GET", "/metrics").body;
  const double dropped = MetricSum(metrics, "everest_bootstrapd_log_dropped_total");
  const double commits = MetricSum(metrics, "everest_bootstrapd_store_commits_total");
  d.Stop(20000);
  // First consumed record: the earliest created_at (set in Submit, right after
  // the record is decoded). Last commit: the last "job accepted" log line
  // (written after the commit); created_at of the last job as a lower bound.
  const auto rows = ReadJobs(db, "source='kafka'");
  std::int64_t first = INT64_MAX, last_created = 0;
  for (const auto& r : rows) {
    first = std::min(first, Rfc3339Ms(r.created_at));
    last_created = std::max(last_created, Rfc3339Ms(r.created_at));
  }
  std::int64_t last_accepted = 0;
  long accepted_lines = 0;
  {
    std::ifstream in(d.log_path());
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("\"msg\":\"job accepted\"") == std::string::npos ||
          line.find("\"source\":\"kafka\"") == std::string::npos) {
        continue;
      }
      ++accepted_lines;
      const auto p = line.find("\"ts\":\"");
      if (p != std::string::npos) last_accepted = std::max(last_accepted, Rfc3339Ms(line.substr(p + 6, 24)));
    }
  }
  const std::int64_t last = std::max(last_accepted, last_created);
  const double span_s = std::max<std::int64_t>(1, last - first) / 1000.0;
  Emit({{"bench", "kafka"},
        {"events", n},
        {"jobs_committed", rows.size()},
        {"span_s", span_s},
        {"events_per_s", static_cast<double>(rows.size()) / span_s},
        {"bare_consume_per_s", bare_rate},
        {"last_commit_from", last_accepted >= last_created ? "log" : "created_at"},
        {"accepted_log_lines", accepted_lines},
        {"log_dropped", dropped},
        {"store_commits", commits},
        {"produce_ms", produce_ms},
        {"rbac", rbac},
        {"all_seen_after_start_ms", seen_all > 0 ? seen_all - p0 - produce_ms : -1},
        {"load1", LoadAvg()},
        {"loop_cpu_us_per_event", st.loop_cpu_ms * 1000.0 / static_cast<double>(n)},
        {"cpu_us_per_event", st.cpu_ms * 1000.0 / static_cast<double>(n)},
        {"stats_at_end", StatsJson(st)}});
  RemoveTree(dir);
  return rows.size() == static_cast<std::size_t>(n) ? 0 : 1;
}

// --- soak ---------------------------------------------------------------------

struct SoakState {
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> accepted;                  // every 202 job id
  std::vector<std::pair<std::string, std::string>> tenants;  // (username, namespace)
  std::map<std::string, long> codes;                  // "route code" -> count
  std::atomic<long> requests{0};
  std::atomic<long> kafka_events{0};
  std::atomic<long> cancels_ok{0};
};

void Count(SoakState* s, const std::string& route, int code) {
  std::lock_guard<std::mutex> l(s->mu);
  ++s->codes[route + " " + std::to_string(code)];
}

// Runs `fn` about `per_s` times a second until stop.
void Paced(SoakState* s, double per_s, const std::function<void(long)>& fn) {
  const double period = 1000.0 / per_s;
  double next = MonoMs();
  for (long i = 0; !s->stop.load(); ++i) {
    fn(i);
    next += period;
    const double wait = next - MonoMs();
    if (wait > 0) Sleep(wait);
    else if (wait < -1000) next = MonoMs();  // fell behind: do not burst
  }
}

int Soak(const Args& a) {
  const double minutes = std::atof(Get(a, "minutes", "10").c_str());
  const double sample_s = std::atof(Get(a, "sample-s", "10").c_str());
  const double boot_rate = std::atof(Get(a, "bootstrap-per-s", "8").c_str());
  const double edit_rate = std::atof(Get(a, "edits-per-s", "4").c_str());
  const double cancel_rate = std::atof(Get(a, "cancels-per-s", "1").c_str());
  const double read_rate = std::atof(Get(a, "reads-per-s", "200").c_str());
  const double kafka_rate = std::atof(Get(a, "kafka-per-s", "5").c_str());
  const std::string dir = MakeTempDir("bench-soak");
  MockKafka kafka;
  Env env = DaemonEnv(dir);
  KafkaDaemonEnv(&env, dir, kafka, 10000);
  Daemon d(dir, env);
  std::string err;
  if (!d.Start(&err)) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  const std::uint16_t port = d.port();
  const Headers auth = d.Auth();
  SoakState s;
  std::vector<std::thread> load;
  const ProcStats start = SettledSample(d.pid(), 1000);

  // Every job the daemon accepted is tracked, whatever the answer (202, or
  // the edit routes' synchronous 200/4xx/5xx that name the job).
  Headers async_auth = auth;
  async_auth.emplace_back("Prefer", "respond-async");
  auto submit = [&](Conn& c, const std::string& route, const json& body) -> std::string {
    Response r = c.Request("POST", route, body.dump(), async_auth);
    ++s.requests;
    Count(&s, route, r.status);
    const json answer = json::parse(r.body, nullptr, false);
    if (!answer.is_object() || !answer.contains("job_id") || !answer["job_id"].is_string()) return "";
    const std::string id = answer["job_id"];
    if (!id.empty()) {
      std::lock_guard<std::mutex> l(s.mu);
      s.accepted.push_back(id);
    }
    return id;
  };
  // Bootstraps of new tenants.
  load.emplace_back([&] {
    Conn c(port);
    Paced(&s, boot_rate, [&](long i) {
      const std::string u = "soak_u" + std::to_string(i), ns = "soak-ns-" + std::to_string(i);
      if (!submit(c, "/bootstrap/users", {{"username", u}, {"namespace", ns}}).empty()) {
        std::lock_guard<std::mutex> l(s.mu);
        s.tenants.emplace_back(u, ns);
      }
    });
  });
  // Edits of existing tenants: resources, password, suspend, resume.
  load.emplace_back([&] {
    Conn c(port);
    std::mt19937 rng(7);
    Paced(&s, edit_rate, [&](long i) {
      std::pair<std::string, std::string> t;
      {
        std::lock_guard<std::mutex> l(s.mu);
        if (s.tenants.empty()) return;
        t = s.tenants[rng() % s.tenants.size()];
      }
      switch (i % 4) {
        case 0:
          submit(c, "/namespaces/resources",
                 {{"namespace", t.second}, {"resources", {{"cpu_cores", 1 + i % 4}, {"ram_mb", 1024}}}});
          break;
        case 1:
          submit(c, "/accounts/password", {{"username", t.first}, {"new_password", "Soak-pw-" + std::to_string(i)}});
          break;
        case 2: submit(c, "/accounts/suspend", {{"username", t.first}}); break;
        default: submit(c, "/accounts/resume", {{"username", t.first}}); break;
      }
    });
  });
  // Cancels: a bootstrap canceled at once (queued or running).
  load.emplace_back([&] {
    Conn c(port);
    Paced(&s, cancel_rate, [&](long i) {
      const std::string u = "soak_c" + std::to_string(i), ns = "soak-c-" + std::to_string(i);
      const std::string id = submit(c, "/bootstrap/users", {{"username", u}, {"namespace", ns}});
      if (id.empty()) return;
      Response r = c.Request("POST", "/jobs/" + id + "/cancel", "", auth);
      ++s.requests;
      Count(&s, "/jobs/{id}/cancel", r.status);
      if (r.status == 200) ++s.cancels_ok;
    });
  });
  // Reads: job views, lists, health, metrics.
  load.emplace_back([&] {
    Conn c(port);
    std::mt19937 rng(11);
    Paced(&s, read_rate, [&](long i) {
      std::string target, route;
      if (i % 50 == 0) {
        target = route = "/metrics";
      } else if (i % 10 == 0) {
        target = "/jobs?limit=20";
        route = "/jobs";
      } else if (i % 10 == 1) {
        target = route = "/healthz";
      } else {
        std::lock_guard<std::mutex> l(s.mu);
        if (s.accepted.empty()) return;
        target = "/jobs/" + s.accepted[rng() % s.accepted.size()];
        route = "/jobs/{id}";
      }
      Response r = c.Request("GET", target, "", auth);
      ++s.requests;
      Count(&s, "GET " + route, r.status);
    });
  });
  // Kafka intake trickle.
  load.emplace_back([&] {
    Paced(&s, kafka_rate, [&](long i) {
      const std::string u = "soak_k" + std::to_string(i);
      kafka.Produce(static_cast<int32_t>(i % 4), u, Event("soak-" + std::to_string(i), u));
      ++s.kafka_events;
    });
  });

  json series = json::array();
  const double t0 = MonoMs();
  const double end = t0 + minutes * 60000.0;
  auto sample = [&] {
    const ProcStats p = Sample(d.pid());
    const Counts c = ReadCounts(port);
    json row = {{"t_s", std::lround((MonoMs() - t0) / 1000.0)},
                {"rss_kb", p.rss_kb},
                {"fds", p.fds},
                {"threads", p.threads},
                {"finished", c.finished},
                {"queued", c.queued},
                {"running", c.running}};
    Progress("soak " + row.dump());
    series.push_back(row);
  };
  sample();
  while (MonoMs() < end) {
    Sleep(std::min(sample_s * 1000.0, end - MonoMs()));
    sample();
  }
  s.stop = true;
  for (auto& t : load) t.join();
  kafka.Flush();
  // Let the queue drain, then check every accepted job is terminal.
  Counts c;
  const double drain_deadline = MonoMs() + 300000;
  const double drain_start = MonoMs();
  while (MonoMs() < drain_deadline) {
    c = ReadCounts(port);
    const long kafka_jobs = CountJobs(dir + "/jobs.db", "source='kafka'");
    if (c.queued == 0 && c.running == 0 && kafka_jobs >= s.kafka_events.load()) break;
    Sleep(500);
  }
  const double drain_s = (MonoMs() - drain_start) / 1000.0;
  sample();
  const ProcStats final_stats = Sample(d.pid());
  std::map<std::string, long> by_status;
  long lost = 0;
  {
    Conn conn(port);
    for (const auto& id : s.accepted) {
      Response r = conn.Request("GET", "/jobs/" + id, "", auth);
      const std::string st = r.status == 200 ? json::parse(r.body, nullptr, false).value("status", "?")
                                             : "http_" + std::to_string(r.status);
      ++by_status[st];
      if (st != "succeeded" && st != "failed" && st != "canceled") ++lost;
    }
  }
  const int rc = d.Stop(30000);
  const auto kafka_rows = ReadJobs(dir + "/jobs.db", "source='kafka'");
  long kafka_not_terminal = 0;
  for (const auto& r : kafka_rows) {
    kafka_not_terminal += r.status != "succeeded" && r.status != "failed" && r.status != "canceled";
  }
  auto stat = [&](const char* k) {
    long first = series.front()[k], last = series.back()[k], mx = 0, mn = LONG_MAX;
    for (const auto& r : series) {
      mx = std::max<long>(mx, r[k].get<long>());
      mn = std::min<long>(mn, r[k].get<long>());
    }
    return json{{"first", first}, {"last", last}, {"min", mn}, {"max", mx}};
  };
  json codes = json::object();
  for (const auto& [k, v] : s.codes) codes[k] = v;
  Emit({{"bench", "soak"},
        {"minutes", minutes},
        {"rates_per_s", {{"bootstrap", boot_rate}, {"edits", edit_rate}, {"cancels", cancel_rate},
                         {"reads", read_rate}, {"kafka", kafka_rate}}},
        {"requests", s.requests.load()},
        {"accepted_jobs", s.accepted.size()},
        {"accepted_by_final_status", by_status},
        {"not_terminal", lost},
        {"cancels_answered_200", s.cancels_ok.load()},
        {"kafka_events", s.kafka_events.load()},
        {"kafka_jobs", kafka_rows.size()},
        {"kafka_not_terminal", kafka_not_terminal},
        {"drain_s", drain_s},
        {"http_codes", codes},
        {"start", StatsJson(start)},
        {"final", StatsJson(final_stats)},
        {"rss_kb", stat("rss_kb")},
        {"fds", stat("fds")},
        {"threads", stat("threads")},
        {"series", series},
        {"exit", rc}});
  RemoveTree(dir);
  return lost == 0 && kafka_not_terminal == 0 &&
                 kafka_rows.size() == static_cast<std::size_t>(s.kafka_events.load())
             ? 0
             : 1;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_driver pipeline|http|ready|kafka|soak [--options]\n");
    return 2;
  }
  const std::string cmd = argv[1];
  const Args a = ParseArgs(argc, argv, 2);
  if (cmd == "pipeline") return Pipeline(a);
  if (cmd == "http") return HttpBench(a);
  if (cmd == "ready") return Ready(a);
  if (cmd == "kafka") return Kafka(a);
  if (cmd == "soak") return Soak(a);
  std::fprintf(stderr, "unknown command %s\n", cmd.c_str());
  return 2;
}

// Jobs that survive anything (issue 4): kill -9 under load, idempotency keys,
// listing with a stable cursor, cancel, retention, lost secrets, leftover
// children, and the SQLite edges (busy, full disk, corrupt file, migration).
#include <signal.h>
#include <sqlite3.h>
#include <sys/mount.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "tests/support/harness.h"

using testing::Daemon;
using testing::Response;
using testing::TempDir;
using json = nlohmann::json;

namespace {

void Fake(const std::string& dir, const std::string& args) { testing::FakeCtl(dir, args); }

bool Alive(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return false;
  const auto close = stat.rfind(')');
  return close != std::string::npos && stat.size() > close + 2 && stat[close + 2] != 'Z';
}

// A free TCP port on loopback (the daemon restarts on the same one).
std::uint16_t FreePort() {
  TempDir probe_dir;
  Daemon probe(probe_dir.path());
  std::string err;
  if (!probe.Start(&err)) return 0;
  const std::uint16_t port = probe.port();
  probe.Terminate();
  return port;
}

}  // namespace

TEST_CASE("kill -9 under load: every acknowledged job ends, none runs twice", "[durability][crash]") {
  TempDir dir;
  const std::uint16_t port = FreePort();
  REQUIRE(port != 0);
  Daemon d(dir.path(), {{"PORT", std::to_string(port)}, {"MAX_SUBPROC_CONCURRENCY", "16"}});
  START(d);
  const int kJobs = 200, kClients = 16, kKills = 3;
  std::mutex mu;
  std::map<int, std::string> acked;  // job index -> job id
  std::atomic<int> next{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      for (int i = next++; i < kJobs; i = next++) {
        const std::string body = json{{"username", "crash_" + std::to_string(i)}}.dump();
        // Retry until acknowledged: the Idempotency-Key makes a retry after a
        // kill safe (the job committed before the kill is the one answered).
        for (int attempt = 0; attempt < 2000; ++attempt) {
          Response r = testing::Http(port, "POST", "/bootstrap/users", body,
                                     {{"X-Admin-Key", Daemon::kKey},
                                      {"Idempotency-Key", "crash-" + std::to_string(i)}});
          if (r.status == 202 || r.status == 200) {
            std::lock_guard<std::mutex> lock(mu);
            acked[i] = r.Json()["job_id"];
            break;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(20));  // daemon restarting
        }
      }
    });
  }
  std::mt19937 rng(std::random_device{}());
  std::vector<double> recover_ms;
  for (int k = 0; k < kKills; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(300, 2500)(rng)));
    d.Kill9();
    const auto t0 = std::chrono::steady_clock::now();
    START(d);
    // Ready = recovery done (leftover children killed, unfinished jobs loaded).
    Response ready;
    for (int i = 0; i < 500 && ready.status != 200; ++i) ready = testing::Http(port, "GET", "/readyz");
    recover_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    REQUIRE(ready.status == 200);
  }
  for (auto& t : clients) t.join();
  REQUIRE(acked.size() == static_cast<std::size_t>(kJobs));
  int succeeded = 0;
  for (const auto& [i, id] : acked) {
    json v = d.WaitJob(id, 300000);
    INFO(i << " " << v.dump());
    CHECK(v["status"] == "succeeded");
    succeeded += v["status"] == "succeeded";
  }
  // create_account ran with an effect exactly once per user.
  std::map<std::string, int> creates;
  for (const auto& call : testing::FakeCalls(dir.path())) {
    if (call["tool"] == "everestctl" && call["argv"].size() > 4 && call["argv"][0] == "accounts" &&
        call["argv"][1] == "create" && call["effect"] == true) {
      ++creates[call["argv"][3].get<std::string>()];
    }
  }
  int twice = 0;
  for (const auto& [u, n] : creates) twice += n > 1;
  // (A fake killed between its write and its log line leaves no line: the
  // account count below is the authority for "created".)
  CHECK(creates.size() <= static_cast<std::size_t>(kJobs));
  CHECK(twice == 0);
  CHECK(testing::FakeAccounts(dir.path()).size() == static_cast<std::size_t>(kJobs + 1));
  // No job lost, none duplicated: exactly one job per user.
  Response list = d.Get("/jobs?limit=500&kind=bootstrap");
  CHECK(list.Json()["items"].size() == static_cast<std::size_t>(kJobs));
  std::string recov;
  for (double ms : recover_ms) recov += std::to_string(static_cast<int>(ms)) + " ms ";
  WARN(kJobs << " jobs, " << kClients << " clients, " << kKills << " kill -9: " << succeeded
             << " succeeded; restart-to-ready: " << recov);
}

TEST_CASE("Idempotency-Key: 50 parallel identical POSTs make one job", "[durability][idempotency]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<std::string> ids;
  std::vector<int> statuses;
  int replayed = 0;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&] {
      Response r = d.Post("/bootstrap/users", R"({"username":"idem_user"})",
                          {{"Idempotency-Key", "same-key-1"}});
      std::lock_guard<std::mutex> lock(mu);
      statuses.push_back(r.status);
      if (r.Json().contains("job_id")) ids.insert(r.Json()["job_id"].get<std::string>());
      replayed += r.Header("idempotent-replayed") == "true";
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ids.size() == 1);
  CHECK(replayed == 49);
  for (int s : statuses) CHECK(s == 202);
  CHECK(d.Get("/jobs?username=idem_user").Json()["items"].size() == 1);
  // Same key, same body (keys in another order): the same job again.
  Response again = d.Post("/bootstrap/users", R"({ "username" : "idem_user" })",
                          {{"Idempotency-Key", "same-key-1"}, {"Prefer", "wait=30"}});
  CHECK(again.Json()["job_id"] == *ids.begin());
  CHECK(again.status == 200);  // finished and waited for: answered like an edit route
  CHECK(again.Header("idempotent-replayed") == "true");
  // Not waited for: bootstrap answers 202 as it did the first time, even
  // though the job has finished since (SPEC §2), with its current status.
  Response async = d.Post("/bootstrap/users", R"({"username":"idem_user"})",
                          {{"Idempotency-Key", "same-key-1"}});
  CHECK(async.status == 202);
  CHECK(async.Json()["job_id"] == *ids.begin());
  CHECK(async.Json()["status"] == "succeeded");
  CHECK(async.Header("location") == "/jobs/" + *ids.begin());
  CHECK(async.Header("idempotent-replayed") == "true");
  // Same key, another body: 422.
  Response other = d.Post("/bootstrap/users", R"({"username":"idem_other"})",
                          {{"Idempotency-Key", "same-key-1"}});
  CHECK(other.status == 422);
  CHECK(other.Json()["job_id"] == *ids.begin());
  // A key belongs to one route.
  Response route = d.Post("/accounts/suspend", R"({"username":"idem_user"})",
                          {{"Idempotency-Key", "same-key-1"}, {"Prefer", "respond-async"}});
  CHECK(route.status == 202);
  CHECK(route.Json()["job_id"] != *ids.begin());
  CHECK(d.Post("/bootstrap/users", R"({"username":"x_y_z"})", {{"Idempotency-Key", ""}}).status == 400);
}

TEST_CASE("GET /jobs: filters, limit, and a cursor stable under inserts", "[durability][list]") {
  TempDir dir;
  Daemon d(dir.path(), {{"MAX_SUBPROC_CONCURRENCY", "1"}});
  START(d);
  Fake(dir.path(), "fault-add '{\"tool\":\"everestctl\",\"match\":[\"accounts\"],\"mode\":\"hang\",\"times\":-1}'");
  std::vector<std::string> first;
  for (int i = 0; i < 30; ++i) {
    Response r = d.Post("/bootstrap/users", json{{"username", "page_" + std::to_string(i)}}.dump());
    REQUIRE(r.status == 202);
    first.push_back(r.Json()["job_id"]);
  }
  std::thread inserter([&] {
    for (int i = 0; i < 20; ++i) {
      d.Post("/bootstrap/users", json{{"username", "late_" + std::to_string(i)}}.dump());
    }
  });
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 20; ++page) {
    Response r = d.Get("/jobs?limit=7&kind=bootstrap" + (cursor.empty() ? "" : "&cursor=" + cursor));
    REQUIRE(r.status == 200);
    json body = r.Json();
    for (const auto& item : body["items"]) seen.push_back(item["job_id"]);
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"];
  }
  inserter.join();
  std::set<std::string> unique(seen.begin(), seen.end());
  CHECK(unique.size() == seen.size());  // no item twice
  for (const auto& id : first) CHECK(unique.count(id) == 1);  // none skipped
  // Newest first.
  json all = d.Get("/jobs?limit=500").Json()["items"];
  CHECK(all.size() == 50);
  CHECK(all.back()["job_id"] == first.front());
  json filtered = d.Get("/jobs?status=running").Json()["items"];
  CHECK(filtered.size() == 1);
  CHECK(d.Get("/jobs?username=page_3").Json()["items"].size() == 1);
  CHECK(d.Get("/jobs?namespace=page-4").Json()["items"].size() == 1);
  CHECK(d.Get("/jobs?source=kafka").Json()["items"].empty());
  CHECK(d.Get("/jobs?limit=501").status == 422);
  CHECK(d.Get("/jobs?limit=0").status == 422);
  CHECK(d.Get("/jobs?status=done").status == 422);
  CHECK(d.Get("/jobs?cursor=bogus").status == 422);
  CHECK(d.Get("/jobs?stauts=running").status == 422);
  // Let the hung job go so the daemon can stop.
  for (const auto& call : testing::FakeCalls(dir.path())) {
    if (call.contains("pid") && call["exit"].is_null()) ::kill(call["pid"].get<int>(), SIGKILL);
  }
}

TEST_CASE("cancel: a queued job, a running job with a hung child, a finished job", "[durability][cancel]") {
  TempDir dir;
  Daemon d(dir.path(), {{"MAX_SUBPROC_CONCURRENCY", "1"}});
  START(d);
  Fake(dir.path(), "fault-add '{\"tool\":\"everestctl\",\"match\":[\"accounts\",\"create\"],\"mode\":\"hang\",\"times\":1}'");
  const std::string running = d.Post("/bootstrap/users", R"({"username":"hung_user"})").Json()["job_id"];
  const std::string queued = d.Post("/bootstrap/users", R"({"username":"waiting_user"})").Json()["job_id"];
  int hung_pid = 0;
  for (int i = 0; i < 500 && hung_pid == 0; ++i) {
    for (const auto& call : testing::FakeCalls(dir.path())) {
      if (call.value("fault", "") == "hang") hung_pid = call["pid"];
    }
    if (hung_pid == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(hung_pid > 0);
  CHECK(d.Get("/jobs/" + queued).Json()["status"] == "queued");
  Response cq = d.Post("/jobs/" + queued + "/cancel", "");
  CHECK(cq.status == 200);
  CHECK(cq.Json()["status"] == "canceled");
  Response cr = d.Post("/jobs/" + running + "/cancel", "");
  INFO(cr.body);
  CHECK(cr.status == 200);
  CHECK(cr.Json()["status"] == "canceled");
  CHECK_FALSE(Alive(hung_pid));
  Response again = d.Post("/jobs/" + running + "/cancel", "");
  CHECK(again.status == 409);
  CHECK(d.Post("/jobs/00000000-0000-4000-8000-000000000000/cancel", "").status == 404);
  json result = d.Get("/jobs/" + running + "/result").Json();
  CHECK(result["overall_status"] == "canceled");
  CHECK(result["steps"][0]["outcome"] == "failed");
  CHECK(testing::FakeAccounts(dir.path()) == std::vector<std::string>{"admin"});
  CHECK(d.Get("/metrics").body.find("everest_bootstrapd_jobs_total{kind=\"bootstrap\",source=\"rest\",status=\"canceled\"} 2") !=
        std::string::npos);
}

TEST_CASE("restart: a lost secret fails the job; leftover children are killed first", "[durability][crash]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  REQUIRE(d.Post("/bootstrap/users", R"({"username":"sec_user"})", {{"Prefer", "wait=30"}}).status == 200);
  Fake(dir.path(), "fault-add '{\"tool\":\"everestctl\",\"match\":[\"accounts\",\"set-password\"],\"mode\":\"hang\",\"times\":1}'");
  Response r = d.Post("/accounts/password", R"({"username":"sec_user","new_password":"An0ther!pw"})",
                      {{"Prefer", "respond-async"}});
  const std::string id = r.Json()["job_id"];
  int hung_pid = 0;
  for (int i = 0; i < 500 && hung_pid == 0; ++i) {
    for (const auto& call : testing::FakeCalls(dir.path())) {
      if (call.value("fault", "") == "hang") hung_pid = call["pid"];
    }
    if (hung_pid == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(hung_pid > 0);
  d.Kill9();
  CHECK(Alive(hung_pid));  // its own session: it outlives the daemon
  START(d);
  CHECK_FALSE(Alive(hung_pid));  // killed before any job resumed
  CHECK(d.Log().find("killed process groups left by a previous run") != std::string::npos);
  json v = d.WaitJob(id);
  CHECK(v["status"] == "failed");
  CHECK(v["summary"] == "set_password failed: interrupted: secrets are never persisted; resubmit");
}

TEST_CASE("retention purges finished jobs and their keys", "[durability][retention]") {
  TempDir dir;
  Daemon d(dir.path(), {{"JOB_RETENTION_HOURS", "0.0003"}});  // about 1 s
  START(d);
  Response r = d.Post("/bootstrap/users", R"({"username":"old_user"})",
                      {{"Prefer", "wait=30"}, {"Idempotency-Key", "old-1"}});
  REQUIRE(r.status == 200);
  const std::string id = r.Json()["job_id"];
  int status = 200;
  for (int i = 0; i < 500 && status == 200; ++i) {
    status = d.Get("/jobs/" + id).status;
    if (status == 200) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(status == 404);
  CHECK(d.Get("/metrics").body.find("everest_bootstrapd_jobs_purged_total 1") != std::string::npos);
  // The key went with it: the same key now makes a new job.
  Response again = d.Post("/bootstrap/users", R"({"username":"old_user"})",
                          {{"Prefer", "respond-async"}, {"Idempotency-Key", "old-1"}});
  CHECK(again.status == 202);
  CHECK(again.Json()["job_id"] != id);
  CHECK(again.Header("idempotent-replayed").empty());
  // The tenants table is never purged: the binding still holds.
  CHECK(d.Post("/bootstrap/users", R"({"username":"other_user","namespace":"old-user"})").status == 409);
}

TEST_CASE("SQLite edges: busy, corrupt, unwritable, older schema", "[durability][store]") {
  TempDir dir;
  {
    Daemon d(dir.path());
    START(d);
    REQUIRE(d.Post("/bootstrap/users", R"({"username":"busy_user"})", {{"Prefer", "wait=30"}}).status == 200);
    // Another process holds the write lock: a clear 503, and nothing half-written.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path() + "/jobs.db").c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
    Response busy = d.Post("/bootstrap/users", R"({"username":"during_lock"})");
    CHECK(busy.status == 503);
    CHECK(busy.Header("content-type") == "application/problem+json");
    CHECK(busy.Header("retry-after") == "5");
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    CHECK(d.Get("/jobs?username=during_lock").Json()["items"].empty());
    CHECK(d.Post("/bootstrap/users", R"({"username":"during_lock"})").status == 202);
    // A second daemon on the same database refuses to start.
    Daemon twin(dir.path());
    std::string err;
    CHECK_FALSE(twin.Start(&err));
    CHECK(err.find("in use by another everest-bootstrapd") != std::string::npos);
  }
  TempDir bad;
  {
    std::ofstream(bad.path() + "/jobs.db") << std::string(8192, 'x');
    Daemon d(bad.path());
    std::string err;
    CHECK_FALSE(d.Start(&err));
    CHECK(err.find(bad.path() + "/jobs.db") != std::string::npos);
  }
  {
    Daemon d(bad.path(), {{"JOB_DB_PATH", "/dev/null/jobs.db"}});
    std::string err;
    CHECK_FALSE(d.Start(&err));
    CHECK(err.find("JOB_DB_PATH") != std::string::npos);
    CHECK(err.find("/dev/null") != std::string::npos);
  }
  TempDir old;
  {
    // A version-1 database (the first schema) with one finished job.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((old.path() + "/jobs.db").c_str(), &db) == SQLITE_OK);
    const char* v1 =
        "CREATE TABLE jobs(id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, kind TEXT NOT NULL,"
        " source TEXT NOT NULL, status TEXT NOT NULL, username TEXT NOT NULL, namespace TEXT NOT NULL,"
        " inputs TEXT NOT NULL, steps TEXT NOT NULL, created_at TEXT NOT NULL, started_at TEXT NOT NULL,"
        " finished_at TEXT NOT NULL, summary TEXT NOT NULL, request_id TEXT NOT NULL, secret TEXT,"
        " secret_origin TEXT NOT NULL, extra TEXT NOT NULL);"
        "CREATE INDEX jobs_unfinished ON jobs(status, seq);"
        "CREATE INDEX jobs_username ON jobs(username, seq);"
        "CREATE INDEX jobs_namespace ON jobs(namespace, seq);"
        "CREATE TABLE tenants(username TEXT PRIMARY KEY, namespace TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);"
        "PRAGMA user_version=1;";
    REQUIRE(sqlite3_exec(db, v1, nullptr, nullptr, nullptr) == SQLITE_OK);
    // A job that finished an hour ago (well inside the retention period).
    const std::time_t t = std::time(nullptr) - 3600;
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S.000Z", std::gmtime(&t));
    const std::string row =
        std::string("INSERT INTO jobs VALUES('11111111-1111-4111-8111-111111111111', 1, 'bootstrap',"
                    " 'rest', 'succeeded', 'legacy', 'legacy', '{}', '[]', '") + when + "', '" + when +
        "', '" + when + "', 'old job', '', NULL, 'none', '{}');";
    REQUIRE(sqlite3_exec(db, row.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    Daemon d(old.path());
    START(d);
    json v = d.Get("/jobs/11111111-1111-4111-8111-111111111111").Json();
    CHECK(v["summary"] == "old job");
    CHECK(d.Post("/bootstrap/users", R"({"username":"new_user"})", {{"Idempotency-Key", "k"}}).status == 202);
  }
}

TEST_CASE("a full disk is a clear 503 and loses nothing acknowledged", "[durability][store][diskfull]") {
  TempDir dir;
  const std::string mnt = dir.path() + "/small";
  std::filesystem::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m") != 0) {
    WARN("cannot mount a tmpfs here (not root?): the full-disk test did not run");
    return;
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt};
  Daemon d(dir.path(), {{"JOB_DB_PATH", mnt + "/jobs.db"}});
  START(d);
  Response ok = d.Post("/bootstrap/users", R"({"username":"before_full"})", {{"Prefer", "wait=30"}});
  REQUIRE(ok.status == 200);
  // Fill the disk.
  testing::Shell("dd if=/dev/zero of='" + mnt + "/filler' bs=4k 2>/dev/null");
  int refused = 0;
  for (int i = 0; i < 40; ++i) {
    Response r = d.Post("/bootstrap/users", json{{"username", "full_" + std::to_string(i)},
                                                 {"resources", {{"cpu_cores", 1}}}}.dump(),
                        {{"Prefer", "respond-async"}});
    if (r.status == 503) {
      ++refused;
      CHECK(r.Json()["detail"].get<std::string>().find("the job was not accepted") != std::string::npos);
    }
  }
  CHECK(refused > 0);
  CHECK(testing::Http(d.port(), "GET", "/healthz").status == 200);
  std::filesystem::remove(mnt + "/filler");
  Response after = d.Post("/bootstrap/users", R"({"username":"after_full"})", {{"Prefer", "wait=30"}});
  CHECK(after.status == 200);
  CHECK(d.Get("/jobs/" + ok.Json()["job_id"].get<std::string>()).Json()["status"] == "succeeded");
  // Every job the store holds is whole: it can be read and reaches an end.
  const json listed = d.Get("/jobs?limit=500").Json();  // (a range-for over a temporary dangles)
  for (const auto& item : listed["items"]) {
    json v = d.WaitJob(item["job_id"]);
    CHECK((v["status"] == "succeeded" || v["status"] == "failed"));
  }
}

// End to end over loopback: the real daemon binary, real HTTP, real SQLite,
// real child processes; only everestctl and kubectl are the stateful fakes.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "tests/support/harness.h"

using testing::Daemon;
using testing::Headers;
using testing::Http;
using testing::Response;
using testing::TempDir;
using json = nlohmann::json;

namespace {


bool IsProblem(const Response& r, int status) {
  const json j = r.Json();
  return r.status == status && r.Header("content-type") == "application/problem+json" &&
         j.is_object() && j.value("status", 0) == status && j.contains("type") &&
         j.contains("title") && j.contains("detail");
}

std::string Submit(Daemon& d, const json& body) {
  Response r = d.Post("/bootstrap/users", body.dump());
  INFO(r.status << " " << r.body);
  REQUIRE(r.status == 202);
  const std::string id = r.Json().value("job_id", "");
  REQUIRE(r.Header("location") == "/jobs/" + id);
  REQUIRE(r.Json().value("status_url", "") == "/jobs/" + id);
  return id;
}

}  // namespace

TEST_CASE("health, readiness, metrics and request ids", "[http]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  Response h = Http(d.port(), "GET", "/healthz");
  CHECK(h.status == 200);
  CHECK(h.Json() == json{{"status", "ok"}});
  CHECK_FALSE(h.Header("x-request-id").empty());

  Response ready = Http(d.port(), "GET", "/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.Json()["checks"]["store"] == "ok");
  CHECK(ready.Json()["checks"]["everestctl"] == "ok");

  Response echo = Http(d.port(), "GET", "/healthz", "", {{"X-Request-ID", "req-abc.123"}});
  CHECK(echo.Header("x-request-id") == "req-abc.123");
  Response bad_id = Http(d.port(), "GET", "/healthz", "", {{"X-Request-ID", "bad id\twith tab"}});
  CHECK(bad_id.Header("x-request-id") != "bad id\twith tab");

  Response m = Http(d.port(), "GET", "/metrics");
  CHECK(m.status == 200);
  for (const char* name :
       {"everest_bootstrapd_http_requests_total", "everest_bootstrapd_http_request_duration_seconds",
        "everest_bootstrapd_jobs_queued", "everest_bootstrapd_jobs_running",
        "everest_bootstrapd_jobs_rejected_total", "everest_bootstrapd_jobs_purged_total"}) {
    INFO(name);
    CHECK(m.body.find(name) != std::string::npos);
  }
  CHECK(m.body.find("route=\"/healthz\"") != std::string::npos);
  CHECK(d.Log().find("\"request_id\":\"req-abc.123\"") == std::string::npos);  // healthz is debug
}

TEST_CASE("auth: missing or wrong key is 401, several keys are accepted", "[http][auth]") {
  TempDir dir;
  Daemon d(dir.path(), {{"ADMIN_API_KEYS", "rotated-key-2,rotated-key-3"}});
  START(d);
  const std::string body = R"({"username":"alice"})";
  Response none = Http(d.port(), "POST", "/bootstrap/users", body);
  CHECK(IsProblem(none, 401));
  Response wrong = Http(d.port(), "POST", "/bootstrap/users", body, {{"X-Admin-Key", "nope-nope"}});
  CHECK(IsProblem(wrong, 401));
  Response wrong_get = Http(d.port(), "GET", "/accounts/list", "", {{"X-Admin-Key", "test-admin-key-"}});
  CHECK(IsProblem(wrong_get, 401));
  for (const char* key : {Daemon::kKey, "rotated-key-2", "rotated-key-3"}) {
    Response ok = Http(d.port(), "GET", "/accounts/list", "", {{"X-Admin-Key", key}});
    INFO(key);
    CHECK(ok.status == 200);
  }
  CHECK(d.Log().find("rotated-key-2") == std::string::npos);  // keys never logged
  CHECK(d.Log().find(Daemon::kKey) == std::string::npos);
}

TEST_CASE("routing problems: 404, 405, unknown job ids", "[http]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  CHECK(IsProblem(d.Get("/nope"), 404));
  Response m = Http(d.port(), "DELETE", "/bootstrap/users", "", {{"X-Admin-Key", Daemon::kKey}});
  CHECK(IsProblem(m, 405));
  CHECK(m.Header("allow") == "POST");
  CHECK(IsProblem(d.Get("/jobs/00000000-0000-4000-8000-000000000000"), 404));
  CHECK(IsProblem(d.Get("/jobs/..%2F..%2Fetc%2Fpasswd"), 404));
  CHECK(IsProblem(d.Get("/jobs/../../etc/passwd/result"), 404));
}

TEST_CASE("validation happens before anything is queued", "[http][validation]") {
  TempDir dir;
  Daemon d(dir.path(), {{"ALLOWED_NAMESPACE_PREFIXES", "t-,alice"}});
  START(d);
  struct Case {
    std::string body;
    int status;
    std::string pointer;
  };
  const std::vector<Case> cases = {
      {R"({"username":"al"})", 422, "/username"},
      {R"({"username":"al-ice"})", 422, "/username"},
      {R"({"username":"admin","namespace":"t-admin"})", 422, "/username"},
      {R"({"username":"alice","opertors":{}})", 422, "/opertors"},
      {R"({"username":"alice","namespace":"kube-system"})", 422, "/namespace"},
      {R"({"username":"bob"})", 422, "/namespace"},  // outside the prefixes
      {R"({"username":"alice","operators":{"mongodb":false,"postgresql":false,"mysql":false}})", 422,
       "/operators"},
      {R"({"username":"alice","password":"no spaces allowed"})", 422, "/password"},
      {R"({"username":"alice","resources":{"cpu_cores":"lots"}})", 422, "/resources/cpu_cores"},
      {R"({"username":["alice"]})", 422, "/username"},
      {R"({"username":"alice")", 400, ""},
      {"", 400, ""},
      {std::string(100, '[') + std::string(100, ']'), 400, ""},
  };
  for (const auto& c : cases) {
    Response r = d.Post("/bootstrap/users", c.body);
    INFO(c.body << " -> " << r.status << " " << r.body);
    CHECK(IsProblem(r, c.status));
    if (!c.pointer.empty()) {
      bool found = false;
      const json problem = r.Json();
      for (const auto& e : problem["errors"]) found = found || e.value("pointer", "") == c.pointer;
      CHECK(found);
    }
  }
  // Nothing reached the cluster.
  for (const auto& call : testing::FakeCalls(dir.path())) {
    CHECK(call["argv"][0] != "accounts");
  }
  Response list = d.Get("/metrics");
  CHECK(list.body.find("everest_bootstrapd_jobs_total{") == std::string::npos);
}

TEST_CASE("bootstrap: quick start to succeeded, steps, state in the cluster", "[http][bootstrap]") {
  TempDir dir;
  Daemon d(dir.path(), {{"EVEREST_DB_COUNT_RESOURCES", "perconapgclusters.pgv2.percona.com"}});
  START(d);
  const std::string id = Submit(d, {{"username", "alice"},
                                    {"resources", {{"cpu_cores", 0.5}, {"ram_mb", 4096},
                                                   {"disk_gb", 100}, {"max_databases", 3}}}});
  json view = d.WaitJob(id);
  INFO(view.dump());
  REQUIRE(view["status"] == "succeeded");
  CHECK(view["kind"] == "bootstrap");
  CHECK(view["source"] == "rest");
  CHECK(view["summary"] == "User alice and namespace alice created; quota applied; role bound.");
  CHECK(view["result_url"] == "/jobs/" + id + "/result");
  CHECK(view["created_at"].get<std::string>().size() == 24);  // 2026-12-01T22:49:14.123Z

  Response res = d.Get("/jobs/" + id + "/result");
  REQUIRE(res.status == 200);
  json result = res.Json();
  CHECK(result["overall_status"] == "succeeded");
  REQUIRE(result["steps"].size() == 4);
  const char* names[] = {"create_account", "add_namespace", "apply_resource_quota",
                         "apply_rbac_policy"};
  for (int i = 0; i < 4; ++i) {
    CHECK(result["steps"][i]["name"] == names[i]);
    CHECK(result["steps"][i]["outcome"] == "done");
    CHECK(result["steps"][i]["exit_code"] == 0);
    CHECK(result["steps"][i]["attempts"] == 1);
  }
  CHECK(result["steps"][0]["command"] == "everestctl accounts create -u alice -p ********");
  CHECK(result["steps"][1]["command"] ==
        "everestctl namespaces add alice --skip-wizard --operator.mongodb=true "
        "--operator.postgresql=true --operator.mysql=true");
  CHECK(result["steps"][2]["command"] == "kubectl apply -n alice -f -");
  CHECK(result["steps"][2].contains("manifest_preview"));
  CHECK(result["steps"][3]["rbac_applied"] == true);
  CHECK(result["inputs"]["password"] == "********");
  // The generated password comes back exactly once.
  const std::string pw = result["credentials"].value("password", "");
  CHECK(pw.size() == 24);
  Response again = d.Get("/jobs/" + id + "/result");
  CHECK(again.Json()["credentials"].contains("password") == false);
  CHECK(again.body.find(pw) == std::string::npos);
  CHECK(d.Log().find(pw) == std::string::npos);
  CHECK(testing::Capture("cat '" + dir.path() + "/jobs.db'* | grep -c '" + pw + "'") == "0\n");

  // The fake cluster's state.
  CHECK(testing::FakeAccounts(dir.path()) == std::vector<std::string>{"admin", "alice"});
  json st = testing::FakeState(dir.path());
  json ns = st["objects"]["Namespace"]["alice"];
  CHECK(ns["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "everest");
  CHECK(st["operators"]["alice"] == json{"mongodb", "mysql", "postgresql"});
  json hard = st["objects"]["ResourceQuota"]["alice/user-quota"]["spec"]["hard"];
  CHECK(hard["requests.cpu"] == "500m");
  CHECK(hard["limits.memory"] == "4096Mi");
  CHECK(hard["requests.storage"] == "100Gi");
  CHECK(hard["count/databaseclusters.everest.percona.com"] == "3");
  CHECK(hard["count/perconapgclusters.pgv2.percona.com"] == "3");
  CHECK(st["objects"]["LimitRange"].contains("alice/user-limits"));
  const std::string policy = testing::FakePolicy(dir.path());
  CHECK(policy.rfind("g, admin, role:admin\n", 0) == 0);
  CHECK(policy.find("p, role:alice, namespaces, read, alice\n") != std::string::npos);
  CHECK(policy.find("p, role:alice, database-clusters, create, alice/*\n") != std::string::npos);
  CHECK(policy.find("g, alice, role:alice\n") != std::string::npos);

  // A second bootstrap of the same tenant is an ensure: already_done, no new account.
  const std::string id2 = Submit(d, {{"username", "alice"}});
  json view2 = d.WaitJob(id2);
  REQUIRE(view2["status"] == "succeeded");
  json r2 = d.Get("/jobs/" + id2 + "/result").Json();
  CHECK(r2["steps"][0]["outcome"] == "already_done");
  CHECK(r2["steps"][1]["outcome"] == "already_done");
  CHECK(r2["steps"][3]["outcome"] == "already_done");
  CHECK(r2["credentials"]["password_set"] == false);
  CHECK_FALSE(r2["credentials"].contains("password"));
  CHECK(testing::FakePolicy(dir.path()) == policy);

  Response m = d.Get("/metrics");
  CHECK(m.body.find("everest_bootstrapd_jobs_total{kind=\"bootstrap\",source=\"rest\",status=\"succeeded\"} 2") !=
        std::string::npos);
  CHECK(m.body.find("everest_bootstrapd_cli_calls_total{outcome=\"ok\",subcommand=\"accounts create\",tool=\"everestctl\"}") !=
        std::string::npos);
  CHECK(m.body.find("alice") == std::string::npos);  // no usernames in labels
}

TEST_CASE("result before completion is 409; Prefer wait answers like an edit route", "[http][bootstrap]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  testing::Shell(testing::FakesDir() + "/fakectl --kubeconfig '" + dir.path() +
                 "/kubeconfig' set namespace_add_delay_ms 1500");
  const std::string id = Submit(d, {{"username", "carol"}});
  Response early = d.Get("/jobs/" + id + "/result");
  CHECK(IsProblem(early, 409));
  CHECK(early.Json()["job_status"] != "succeeded");

  Response waited = d.Post("/bootstrap/users", R"({"username":"dave"})", {{"Prefer", "wait=20"}});
  INFO(waited.body);
  CHECK(waited.status == 200);
  CHECK(waited.Header("preference-applied") == "wait=20");
  CHECK(waited.Json()["overall_status"] == "succeeded");
  CHECK(waited.Json()["steps"].size() == 4);

  Response async = d.Post("/bootstrap/users", R"({"username":"erin"})",
                          {{"Prefer", "respond-async, wait=20"}});
  CHECK(async.status == 202);
  CHECK(async.Header("preference-applied") == "respond-async");
}

TEST_CASE("a failed step fails the job with everestctl's message", "[http][bootstrap]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  testing::Shell(testing::FakesDir() + "/fakectl --kubeconfig '" + dir.path() +
                 "/kubeconfig' fault-add '{\"tool\":\"kubectl\",\"match\":[\"apply\"],\"mode\":\"exit\","
                 "\"exit_code\":1,\"stderr\":\"error: quota denied by admission webhook\",\"times\":1}'");
  Response r = d.Post("/bootstrap/users", R"({"username":"frank"})", {{"Prefer", "wait=30"}});
  INFO(r.body);
  CHECK(IsProblem(r, 502));
  json p = r.Json();
  CHECK(p["job_id"].is_string());
  CHECK(p["error"] == "everestctl failed");
  CHECK(p["detail"].get<std::string>().find("apply_resource_quota failed") != std::string::npos);
  CHECK(p["detail"].get<std::string>().find("quota denied by admission webhook") != std::string::npos);
  CHECK(p["steps"][2]["outcome"] == "failed");
  CHECK(p["steps"].size() == 3);  // RBAC never ran
}

TEST_CASE("tenant ownership: one namespace, one user", "[http][bootstrap]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  const std::string id = Submit(d, {{"username", "Team_A"}});
  Response clash = d.Post("/bootstrap/users", R"({"username":"team_a"})");
  INFO(clash.body);
  CHECK(IsProblem(clash, 409));
  CHECK(clash.Json()["detail"].get<std::string>().find("Team_A") != std::string::npos);
  Response moved = d.Post("/bootstrap/users", R"({"username":"Team_A","namespace":"elsewhere"})");
  CHECK(IsProblem(moved, 409));
  CHECK(d.WaitJob(id)["status"] == "succeeded");
}

TEST_CASE("20 concurrent bootstraps keep every account and every RBAC line", "[http][bootstrap][load]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  const int n = 20;
  std::vector<std::string> ids(n);
  std::vector<std::thread> threads;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      Response r = d.Post("/bootstrap/users", json{{"username", "user_" + std::to_string(i)}}.dump());
      if (r.status == 202) ids[i] = r.Json().value("job_id", "");
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < n; ++i) {
    REQUIRE_FALSE(ids[i].empty());
    json v = d.WaitJob(ids[i], 120000);
    INFO(v.dump());
    CHECK(v["status"] == "succeeded");
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string metrics = d.Get("/metrics").body;
  auto value = [&](const std::string& name) {
    const auto at = metrics.find("\n" + name + " ");
    return at == std::string::npos ? -1.0 : std::atof(metrics.c_str() + at + name.size() + 2);
  };
  WARN("20 concurrent bootstraps finished in " << secs << " s; store: "
                                                << value("everest_bootstrapd_store_writes_total")
                                                << " row writes in "
                                                << value("everest_bootstrapd_store_commits_total")
                                                << " commits");
  CHECK(value("everest_bootstrapd_store_commits_total") <= value("everest_bootstrapd_store_writes_total"));
  CHECK(value("everest_bootstrapd_store_commits_total") > 0);
  auto accounts = testing::FakeAccounts(dir.path());
  CHECK(accounts.size() == n + 1);
  const std::string policy = testing::FakePolicy(dir.path());
  CHECK(policy.find("g, admin, role:admin\n") != std::string::npos);
  for (int i = 0; i < n; ++i) {
    const std::string u = "user_" + std::to_string(i);
    INFO(u);
    CHECK(std::find(accounts.begin(), accounts.end(), u) != accounts.end());
    CHECK(policy.find("g, " + u + ", role:" + u + "\n") != std::string::npos);
    CHECK(policy.find("p, role:" + u + ", database-cluster-credentials, read, user-" +
                      std::to_string(i) + "/*\n") != std::string::npos);
  }
  // The account lane serialised the Secret writers: no conflict ever reached the fake.
  for (const auto& call : testing::FakeCalls(dir.path())) {
    if (call["argv"].size() > 1 && call["argv"][0] == "accounts") CHECK(call["exit"] == 0);
  }
}

TEST_CASE("accounts list: real table layout, 502 and 503", "[http][accounts]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  REQUIRE(d.Post("/bootstrap/users", R"({"username":"zed"})", {{"Prefer", "wait=30"}}).status == 200);
  Response r = d.Get("/accounts/list");
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r.Json() == json{{"data",
                          {{{"user", "admin"}, {"capabilities", {"login"}}, {"enabled", true}},
                           {{"user", "zed"}, {"capabilities", {"login"}}, {"enabled", true}}}}});
  testing::Shell(testing::FakesDir() + "/fakectl --kubeconfig '" + dir.path() +
                 "/kubeconfig' fault-add '{\"tool\":\"everestctl\",\"match\":[\"accounts\",\"list\"],"
                 "\"mode\":\"exit\",\"exit_code\":1,\"stderr\":\"❌ secrets \\\"everest-accounts\\\" not found\",\"times\":1}'");
  Response bad = d.Get("/accounts/list");
  CHECK(IsProblem(bad, 502));
  CHECK(bad.Json()["error"] == "everestctl failed");
  CHECK(bad.Json()["detail"].get<std::string>().find("everest-accounts") != std::string::npos);

  TempDir dir2;
  Daemon missing(dir2.path(), {{"EVERESTCTL_BIN", "everestctl-not-installed"}});
  START(missing);
  Response m = missing.Get("/accounts/list");
  CHECK(IsProblem(m, 503));
  CHECK(Http(missing.port(), "GET", "/readyz").status == 503);
}

TEST_CASE("HTTP limits: body 413, headers 431, keep-alive, HTTP/1.0", "[http][limits]") {
  TempDir dir;
  Daemon d(dir.path(), {{"HTTP_BODY_LIMIT_BYTES", "4096"}});
  START(d);
  Response big = d.Post("/bootstrap/users", std::string(8000, ' '));
  CHECK(IsProblem(big, 413));
  Response huge_header = Http(d.port(), "GET", "/healthz", "", {{"X-Fill", std::string(20000, 'a')}});
  CHECK(IsProblem(huge_header, 431));
  // Two requests on one keep-alive connection, the second with Connection: close.
  std::string two =
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  std::string raw = testing::RawExchange(d.port(), two);
  std::size_t count = 0;
  for (auto p = raw.find("HTTP/1.1 200"); p != std::string::npos; p = raw.find("HTTP/1.1 200", p + 1)) ++count;
  CHECK(count == 2);
  std::string old = testing::RawExchange(d.port(), "GET /healthz HTTP/1.0\r\n\r\n");
  CHECK(old.rfind("HTTP/1.0 200", 0) == 0);
  std::string garbage = testing::RawExchange(d.port(), "NOT HTTP AT ALL\r\n\r\n");
  CHECK(garbage.find(" 400 ") != std::string::npos);
  CHECK(Http(d.port(), "GET", "/healthz").status == 200);
}

TEST_CASE("queue full answers 429 with Retry-After", "[http][executor]") {
  TempDir dir;
  Daemon d(dir.path(), {{"MAX_QUEUED_JOBS", "1"}, {"MAX_SUBPROC_CONCURRENCY", "1"}});
  START(d);
  testing::Shell(testing::FakesDir() + "/fakectl --kubeconfig '" + dir.path() +
                 "/kubeconfig' fault-add '{\"tool\":\"everestctl\",\"match\":[\"accounts\",\"create\"],"
                 "\"mode\":\"delay\",\"seconds\":3,\"times\":1}'");
  Submit(d, {{"username", "q_one"}});  // runs (slowly)
  // Wait until the first job has left the queue, then fill the queue.
  for (int i = 0; i < 200 && d.Get("/readyz").Json()["jobs"]["running"] != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Submit(d, {{"username", "q_two"}});  // queued
  Response full = d.Post("/bootstrap/users", R"({"username":"q_three"})");
  CHECK(IsProblem(full, 429));
  CHECK(full.Header("retry-after") == "5");
  CHECK(d.Get("/metrics").body.find("everest_bootstrapd_jobs_rejected_total 1") != std::string::npos);
}

TEST_CASE("kill -9 and restart: finished jobs stay readable, queued ones run", "[http][restart]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  Response done = d.Post("/bootstrap/users", R"({"username":"ivan"})", {{"Prefer", "wait=30"}});
  REQUIRE(done.status == 200);
  const std::string done_id = done.Json().value("job_id", "");
  testing::Shell(testing::FakesDir() + "/fakectl --kubeconfig '" + dir.path() +
                 "/kubeconfig' set namespace_add_delay_ms 2000");
  const std::string running_id = Submit(d, {{"username", "judy"}});
  // Kill while judy's namespace step runs.
  for (int i = 0; i < 300; ++i) {
    json v = d.Get("/jobs/" + running_id).Json();
    if (v["steps"].size() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  d.Kill9();
  testing::Shell(testing::FakesDir() + "/fakectl --kubeconfig '" + dir.path() +
                 "/kubeconfig' set namespace_add_delay_ms 0");
  START(d);
  json v = d.Get("/jobs/" + done_id).Json();
  CHECK(v["status"] == "succeeded");
  CHECK(d.Get("/jobs/" + done_id + "/result").Json()["steps"].size() == 4);
  json resumed = d.WaitJob(running_id);
  INFO(resumed.dump());
  CHECK(resumed["status"] == "succeeded");
  json steps = d.Get("/jobs/" + running_id + "/result").Json()["steps"];
  CHECK(steps[0]["attempts"] == 1);  // create_account was finished: not redone
  int creates = 0;
  for (const auto& call : testing::FakeCalls(dir.path())) {
    if (call["argv"].size() > 3 && call["argv"][0] == "accounts" && call["argv"][1] == "create" &&
        call["argv"][3] == "judy" && call["effect"] == true) {
      ++creates;
    }
  }
  CHECK(creates == 1);
}

TEST_CASE("SIGTERM drains and exits 0", "[http][lifecycle]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  CHECK(d.Terminate() == 0);
  CHECK(d.Log().find("\"msg\":\"stopped\"") != std::string::npos);
}

TEST_CASE("bad configuration fails at start and names the variable", "[http][config]") {
  TempDir dir;
  Daemon d(dir.path(), {{"MAX_SUBPROC_CONCURRENCY", "many"}});
  std::string err;
  CHECK_FALSE(d.Start(&err));
  CHECK(err.find("MAX_SUBPROC_CONCURRENCY") != std::string::npos);
  const std::string out = testing::Capture(std::string("MAX_QUEUED_JOBS=0 ") + BOOTSTRAPD_BINARY +
                                           " --check-config 2>&1; echo rc=$?");
  CHECK(out.find("MAX_QUEUED_JOBS") != std::string::npos);
  CHECK(out.find("rc=1") != std::string::npos);
  const std::string ok = testing::Capture(std::string("ADMIN_API_KEY=a-long-secret-key ") +
                                          BOOTSTRAPD_BINARY + " --check-config; echo rc=$?");
  CHECK(ok.find("rc=0") != std::string::npos);
  CHECK(ok.find("a-long-secret-key") == std::string::npos);
}

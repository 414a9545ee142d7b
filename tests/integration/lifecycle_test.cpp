// The tenant lifecycle over real HTTP against the stateful fakes: seed 000's
// Alice walkthrough step by step with the cluster's state checked after each
// step, the refusal paths, the detail routes, and concurrent mixed jobs.
#include <catch2/catch.hpp>

#include <thread>

#include "tests/support/harness.h"

using testing::Daemon;
using testing::Response;
using testing::TempDir;
using json = nlohmann::json;

namespace {

void Fake(const std::string& dir, const std::string& args) { testing::FakeCtl(dir, args); }

json State(const std::string& dir) { return testing::FakeState(dir); }

bool IsProblem(const Response& r, int status) {
  const json j = r.Json();
  return r.status == status && r.Header("content-type") == "application/problem+json" &&
         j.is_object() && j.value("status", 0) == status;
}

json Ok(const Response& r) {
  INFO(r.status << " " << r.body);
  REQUIRE(r.status == 200);
  json j = r.Json();
  REQUIRE(j.value("overall_status", "") == "succeeded");
  return j;
}

}  // namespace

TEST_CASE("Alice: create, password, resources, operators, suspend, resume, delete", "[lifecycle]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  const std::string& k = dir.path();

  // Create (seed 000 §3.1, explicit form).
  json created = Ok(d.Post("/bootstrap/users", R"({
        "username": "alice", "namespace": "alice",
        "operators": {"postgresql": true, "mongodb": false, "mysql": false},
        "resources": {"cpu_cores": 2, "ram_mb": 2048, "disk_gb": 20, "max_databases": 3}})",
                           {{"Prefer", "wait=30"}}));
  CHECK(State(k)["operators"]["alice"] == json{"postgresql"});
  Fake(k, "add-dbc alice pg-main postgresql");
  Fake(k, "add-sts alice pg-main-instance 3");
  Fake(k, "add-sts alice pg-main-backup 1");

  // Password.
  json pw = Ok(d.Post("/accounts/password", R"({"username":"alice","new_password":"S3cure!P@ssw0rd"})"));
  CHECK(pw["steps"][0]["command"] == "everestctl accounts set-password -u alice --new-password ********");
  CHECK(pw["summary"] == "Password of alice updated.");
  CHECK(d.Log().find("S3cure!P@ssw0rd") == std::string::npos);
  CHECK(testing::Capture("cat '" + k + "'/jobs.db* | grep -c 'S3cure!P@ssw0rd'") == "0\n");

  // Resources: omitted fields would keep the current values; here all are given.
  json res = Ok(d.Post("/namespaces/resources", R"({"namespace":"alice",
        "resources":{"cpu_cores":4,"ram_mb":4096,"disk_gb":100,"max_databases":5}})"));
  json hard = State(k)["objects"]["ResourceQuota"]["alice/user-quota"]["spec"]["hard"];
  CHECK(hard["limits.cpu"] == "4");
  CHECK(hard["limits.memory"] == "4096Mi");
  CHECK(hard["requests.storage"] == "100Gi");
  CHECK(hard["count/databaseclusters.everest.percona.com"] == "5");
  CHECK(res["summary"].get<std::string>().find("updated") != std::string::npos);
  // Only one field: the others keep the quota's values.
  Ok(d.Post("/namespaces/resources", R"({"namespace":"alice","resources":{"ram_mb":"8192"}})"));
  hard = State(k)["objects"]["ResourceQuota"]["alice/user-quota"]["spec"]["hard"];
  CHECK(hard["limits.memory"] == "8192Mi");
  CHECK(hard["limits.cpu"] == "4");
  CHECK(hard["requests.storage"] == "100Gi");
  CHECK(hard["count/databaseclusters.everest.percona.com"] == "5");

  // Operators: enabling works; removing an installed one is refused with 409.
  json ops = Ok(d.Post("/namespaces/operators", R"({"namespace":"alice","operators":{"mongodb":true}})"));
  CHECK(State(k)["operators"]["alice"] == json{"mongodb", "postgresql"});
  CHECK(ops["steps"][0]["command"] ==
        "everestctl namespaces update alice --skip-wizard --operator.mongodb=true "
        "--operator.postgresql=true --operator.mysql=false");
  Response removal = d.Post("/namespaces/operators",
                            R"({"namespace":"alice","operators":{"postgresql":false,"mongodb":true}})");
  INFO(removal.body);
  CHECK(IsProblem(removal, 409));
  CHECK(removal.Json()["detail"].get<std::string>().find("postgresql") != std::string::npos);
  CHECK(State(k)["operators"]["alice"] == json{"mongodb", "postgresql"});
  // The seed's example (disable mongodb/mysql) names the installed mongodb.
  Response seed_ops = d.Post("/namespaces/operators",
                             R"({"namespace":"alice","operators":{"postgresql":true,"mongodb":false,"mysql":false}})");
  CHECK(IsProblem(seed_ops, 409));

  // Suspend (seed 000's body).
  const std::string policy_before = testing::FakePolicy(k);
  json sus = Ok(d.Post("/accounts/suspend", R"({"username":"alice","namespace":"alice",
        "scale_statefulsets":true,"revoke_rbac":true})"));
  json st = State(k);
  CHECK(st["objects"]["DatabaseCluster"]["alice/pg-main"]["spec"]["paused"] == true);
  CHECK(st["objects"]["StatefulSet"]["alice/pg-main-instance"]["spec"]["replicas"] == 0);
  CHECK(st["objects"]["StatefulSet"]["alice/pg-main-instance"]["metadata"]["annotations"]
          ["everest-bootstrapd/suspended-replicas"] == "3");
  CHECK(st["objects"]["StatefulSet"]["alice/pg-main-backup"]["spec"]["replicas"] == 0);
  CHECK(testing::FakePolicy(k).find("role:alice") == std::string::npos);
  CHECK(testing::FakePolicy(k).find("g, admin, role:admin") != std::string::npos);
  CHECK(sus["summary"] == "Tenant alice suspended: 1 DatabaseCluster(s) paused, 2 StatefulSet(s) "
                          "scaled to 0, RBAC revoked.");
  // A second suspend changes nothing and never records 0 replicas.
  json sus2 = Ok(d.Post("/accounts/suspend", R"({"username":"alice"})"));
  for (const auto& s : sus2["steps"]) CHECK(s["outcome"] == "already_done");
  CHECK(State(k)["objects"]["StatefulSet"]["alice/pg-main-instance"]["metadata"]["annotations"]
          ["everest-bootstrapd/suspended-replicas"] == "3");
  json details = d.Get("/accounts/alice").Json();
  CHECK(details["suspended"] == true);
  CHECK(details["role"].empty());
  CHECK(details["namespace"] == "alice");

  // Resume restores exactly what suspend recorded.
  json resumed = Ok(d.Post("/accounts/resume", R"({"username":"alice","namespace":"alice"})"));
  st = State(k);
  CHECK(st["objects"]["DatabaseCluster"]["alice/pg-main"]["spec"]["paused"] == false);
  CHECK(st["objects"]["StatefulSet"]["alice/pg-main-instance"]["spec"]["replicas"] == 3);
  CHECK(st["objects"]["StatefulSet"]["alice/pg-main-backup"]["spec"]["replicas"] == 1);
  CHECK_FALSE(st["objects"]["StatefulSet"]["alice/pg-main-instance"]["metadata"].contains("annotations"));
  CHECK_FALSE(st["objects"]["Namespace"]["alice"]["metadata"].value("annotations", json::object())
                  .contains("everest-bootstrapd/suspended"));
  CHECK(testing::FakePolicy(k) == policy_before);
  CHECK(d.Get("/accounts/alice").Json()["suspended"] == false);

  // Delete refuses while a DatabaseCluster exists, unless forced.
  Response refused = d.Post("/accounts/delete", R"({"username":"alice","namespace":"alice"})");
  INFO(refused.body);
  CHECK(IsProblem(refused, 502));
  CHECK(refused.Json()["detail"].get<std::string>().find("HINT: use --force") != std::string::npos);
  CHECK(State(k)["objects"]["Namespace"].contains("alice"));
  CHECK(testing::FakeAccounts(k) == std::vector<std::string>{"admin", "alice"});
  json del = Ok(d.Post("/accounts/delete", R"({"username":"alice","namespace":"alice","force":true})"));
  CHECK(del["steps"][0]["command"] == "everestctl namespaces remove alice --force");
  st = State(k);
  CHECK_FALSE(st["objects"]["Namespace"].contains("alice"));
  CHECK(testing::FakeAccounts(k) == std::vector<std::string>{"admin"});
  CHECK(testing::FakePolicy(k) == "g, admin, role:admin\n");
  CHECK(IsProblem(d.Get("/accounts/alice"), 404));
  // Deleting again is an ensure.
  json again = Ok(d.Post("/accounts/delete", R"({"username":"alice","namespace":"alice"})"));
  CHECK(again["steps"][0]["outcome"] == "already_done");
  CHECK(again["steps"][1]["outcome"] == "already_done");
  // The tenants row is gone: alice's namespace may now go to someone else.
  CHECK(d.Post("/bootstrap/users", R"({"username":"alice2","namespace":"alice"})").status == 202);
}

TEST_CASE("refusals happen before anything runs", "[lifecycle][validation]") {
  TempDir dir;
  Daemon d(dir.path(), {{"ALLOWED_NAMESPACE_PREFIXES", "t-"}});
  START(d);
  struct Case {
    const char* route;
    const char* body;
    int status;
  };
  const Case cases[] = {
      {"/accounts/delete", R"({"username":"bob","namespace":"kube-system"})", 422},
      {"/accounts/delete", R"({"username":"bob","namespace":"everest-system"})", 422},
      {"/accounts/suspend", R"({"username":"bob","namespace":"default"})", 422},
      {"/accounts/suspend", R"({"username":"bob","namespace":"other"})", 422},  // outside t-
      {"/accounts/delete", R"({"username":"admin","namespace":"t-admin"})", 422},
      {"/accounts/resume", R"({"username":"bob","namespace":"t-bob","force":true})", 422},
      {"/accounts/password", R"({"username":"bob","new_password":"short"})", 422},
      {"/accounts/password", R"({"username":"bob"})", 422},
      {"/namespaces/resources", R"({"namespace":"t-bob","resources":{"cpu_cores":-1}})", 422},
      {"/namespaces/resources", R"({"namespace":"t-bob","resources":{}})", 422},
      {"/namespaces/operators", R"({"namespace":"t-bob","operators":{"redis":true}})", 422},
      {"/namespaces/operators", R"({"namespace":"kube-public","operators":{"mongodb":true}})", 422},
      {"/accounts/suspend", R"({"username":"bob","namespace":"t-bob","revoke_rbac":"maybe"})", 422},
      {"/accounts/delete", "not json", 400},
  };
  for (const auto& c : cases) {
    Response r = d.Post(c.route, c.body);
    INFO(c.route << " " << c.body << " -> " << r.status << " " << r.body);
    CHECK(IsProblem(r, c.status));
  }
  CHECK(testing::FakeCalls(dir.path()).empty());
  // Pairs of the tenants table: a suspend of someone else's namespace is 409.
  REQUIRE(d.Post("/bootstrap/users", R"({"username":"t_carol","namespace":"t-carol"})",
                 {{"Prefer", "wait=30"}}).status == 200);
  Response cross = d.Post("/accounts/suspend", R"({"username":"t_dave","namespace":"t-carol"})");
  CHECK(IsProblem(cross, 409));
  CHECK(cross.Json()["detail"].get<std::string>().find("t_carol") != std::string::npos);
  Response cross2 = d.Post("/accounts/delete", R"({"username":"t_carol","namespace":"t-other"})");
  CHECK(IsProblem(cross2, 409));
}

TEST_CASE("edit routes: 202 past the wait, respond-async, failures as 502 with steps", "[lifecycle]") {
  TempDir dir;
  Daemon d(dir.path(), {{"SYNC_WAIT_SECONDS", "1"}});
  START(d);
  REQUIRE(d.Post("/bootstrap/users", R"({"username":"erin"})", {{"Prefer", "wait=30"}}).status == 200);
  Fake(dir.path(), "fault-add '{\"tool\":\"everestctl\",\"match\":[\"accounts\",\"set-password\"],"
                   "\"mode\":\"delay\",\"seconds\":3,\"times\":1}'");
  Response slow = d.Post("/accounts/password", R"({"username":"erin","new_password":"N3w-pass"})");
  CHECK(slow.status == 202);
  CHECK(slow.Header("location") == "/jobs/" + slow.Json()["job_id"].get<std::string>());
  CHECK(d.WaitJob(slow.Json()["job_id"])["status"] == "succeeded");
  Response async = d.Post("/accounts/password", R"({"username":"erin","new_password":"N3w-pass2"})",
                          {{"Prefer", "respond-async"}});
  CHECK(async.status == 202);
  CHECK(async.Header("preference-applied") == "respond-async");
  d.WaitJob(async.Json()["job_id"]);
  Response missing = d.Post("/accounts/password", R"({"username":"nobody","new_password":"N3w-pass"})",
                            {{"Prefer", "wait=30"}});
  CHECK(IsProblem(missing, 502));
  CHECK(missing.Header("preference-applied") == "wait=30");
  CHECK(missing.Json()["detail"].get<std::string>().find("account not found") != std::string::npos);
  CHECK(missing.Json()["steps"][0]["outcome"] == "failed");
  CHECK(missing.Json()["error"] == "everestctl failed");
}

TEST_CASE("delete falls back to kubectl only for this service's unmanaged namespace", "[lifecycle]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  // frank's namespace lost Everest's label (someone ran `namespaces remove --keep-namespace`).
  REQUIRE(d.Post("/bootstrap/users", R"({"username":"frank"})", {{"Prefer", "wait=30"}}).status == 200);
  REQUIRE(testing::Shell(testing::FakesDir() + "/kubectl --kubeconfig '" + dir.path() +
                         "/kubeconfig' label namespace frank app.kubernetes.io/managed-by- >/dev/null") == 0);
  json del = Ok(d.Post("/accounts/delete", R"({"username":"frank"})"));
  CHECK(del["steps"][0]["fallback"].is_string());
  CHECK(del["steps"][0]["command"] == "kubectl delete namespace frank --ignore-not-found=true --wait=false");
  CHECK_FALSE(State(dir.path())["objects"]["Namespace"].contains("frank"));
  // Not ours (no tenants row, no prefixes): never deleted by kubectl.
  REQUIRE(testing::Shell(testing::FakesDir() + "/kubectl --kubeconfig '" + dir.path() +
                         "/kubeconfig' create namespace stranger >/dev/null 2>&1 || " +
                         "printf '{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"stranger\"}}' | " +
                         testing::FakesDir() + "/kubectl --kubeconfig '" + dir.path() + "/kubeconfig' apply -f - >/dev/null") == 0);
  Response no = d.Post("/accounts/delete", R"({"username":"stranger_x","namespace":"stranger"})");
  CHECK(IsProblem(no, 502));
  CHECK(no.Json()["detail"].get<std::string>().find("no kubectl fallback") != std::string::npos);
  CHECK(State(dir.path())["objects"]["Namespace"].contains("stranger"));
  // keep_namespace keeps it even when everestctl manages it.
  REQUIRE(d.Post("/bootstrap/users", R"({"username":"gina"})", {{"Prefer", "wait=30"}}).status == 200);
  json kept = Ok(d.Post("/accounts/delete", R"({"username":"gina","keep_namespace":true})"));
  CHECK(kept["steps"][0]["command"] == "everestctl namespaces remove gina --keep-namespace");
  CHECK(State(dir.path())["objects"]["Namespace"].contains("gina"));
}

TEST_CASE("details: accounts, namespaces, one namespace", "[lifecycle][details]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  REQUIRE(d.Post("/bootstrap/users",
                 R"({"username":"hank","resources":{"cpu_cores":1,"ram_mb":1024,"disk_gb":10,"max_databases":2}})",
                 {{"Prefer", "wait=30"}}).status == 200);
  Fake(dir.path(), "add-dbc hank db1 postgresql");
  json acc = d.Get("/accounts/hank").Json();
  CHECK(acc["user"] == "hank");
  CHECK(acc["enabled"] == true);
  CHECK(acc["namespace"] == "hank");
  CHECK(acc["role"].size() == 8);
  CHECK(acc["role"].back() == "g, hank, role:hank");
  CHECK(acc["suspended"] == false);
  CHECK(acc["last_jobs"].size() == 1);
  CHECK(acc["last_jobs"][0]["kind"] == "bootstrap");
  CHECK(d.Get("/accounts/nobody_here").status == 404);
  CHECK(d.Get("/accounts/bad-name").status == 404);

  json list = d.Get("/namespaces").Json();
  bool found = false;
  for (const auto& item : list["items"]) {
    if (item["name"] != "hank") continue;
    found = true;
    CHECK(item["tenant"] == "hank");
    CHECK(item["operators"].size() == 3);
  }
  CHECK(found);

  json ns = d.Get("/namespaces/hank").Json();
  INFO(ns.dump());
  CHECK(ns["managed"] == true);
  CHECK(ns["tenant"] == "hank");
  CHECK(ns["quota"]["hard"]["limits.cpu"] == "1");
  CHECK(ns["quota"]["used"]["count/databaseclusters.everest.percona.com"] == "1");
  CHECK(ns["limit_range"].size() == 1);
  CHECK(ns["database_clusters"].size() == 1);
  CHECK(ns["database_clusters"][0]["name"] == "db1");
  CHECK(ns["database_clusters"][0]["paused"] == false);
  CHECK(ns["suspended"] == false);
  CHECK(d.Get("/namespaces/nope").status == 404);
  CHECK(d.Get("/namespaces/UPPER").status == 404);
}

TEST_CASE("30 mixed concurrent lifecycle jobs on 10 tenants", "[lifecycle][load]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  // Lines this service does not own must survive byte for byte.
  const std::string foreign =
      "# ops team, do not touch\np,  role:ops, namespaces, read, *\ng, ops_team, role:ops\n";
  const std::string kubectl = testing::FakesDir() + "/kubectl --kubeconfig '" + dir.path() + "/kubeconfig'";
  REQUIRE(testing::Shell(kubectl + " get configmap everest-rbac -n everest-system -o json | python3 -c '"
                         "import json,sys; cm=json.load(sys.stdin); "
                         "cm[\"data\"][\"policy.csv\"] += sys.argv[1]; print(json.dumps(cm))' '" +
                         foreign + "' | " + kubectl + " replace -f - >/dev/null") == 0);
  REQUIRE(testing::FakePolicy(dir.path()) == "g, admin, role:admin\n" + foreign);
  const int n = 10;
  for (int i = 0; i < n; ++i) {
    REQUIRE(d.Post("/bootstrap/users", json{{"username", "t" + std::to_string(i) + "_user"}}.dump())
                .status == 202);
  }
  // For each tenant, in submission order: suspend, resume, then delete for the
  // even ones and suspend again for the odd ones: 30 jobs racing each other.
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> ids(n);
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      const std::string u = "t" + std::to_string(i) + "_user";
      const json b = {{"username", u}};
      for (const char* route : {"/accounts/suspend", "/accounts/resume",
                                i % 2 == 0 ? "/accounts/delete" : "/accounts/suspend"}) {
        Response r = d.Post(route, b.dump(), {{"Prefer", "respond-async"}});
        if (r.status == 202) ids[i].push_back(r.Json()["job_id"]);
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < n; ++i) {
    REQUIRE(ids[i].size() == 3);
    for (const auto& id : ids[i]) {
      json v = d.WaitJob(id, 120000);
      INFO(v.dump());
      CHECK(v["status"] == "succeeded");
    }
  }
  const std::string policy = testing::FakePolicy(dir.path());
  const auto accounts = testing::FakeAccounts(dir.path());
  CHECK(policy.rfind("g, admin, role:admin\n" + foreign, 0) == 0);
  for (int i = 0; i < n; ++i) {
    const std::string u = "t" + std::to_string(i) + "_user";
    const std::string ns = "t" + std::to_string(i) + "-user";
    INFO(u);
    const bool has_account = std::find(accounts.begin(), accounts.end(), u) != accounts.end();
    json st = testing::FakeState(dir.path());
    if (i % 2 == 0) {  // deleted
      CHECK_FALSE(has_account);
      CHECK(policy.find("role:" + u + ",") == std::string::npos);
      CHECK_FALSE(st["objects"]["Namespace"].contains(ns));
    } else {  // suspended: account kept, role revoked and recorded in the namespace
      CHECK(has_account);
      CHECK(policy.find("g, " + u + ", role:" + u) == std::string::npos);
      CHECK(st["objects"]["Namespace"][ns]["metadata"]["annotations"]
                ["everest-bootstrapd/suspended-rbac"].get<std::string>()
                .find("g, " + u + ", role:" + u) != std::string::npos);
    }
  }
  CHECK(accounts.size() == 1 + n / 2);
}

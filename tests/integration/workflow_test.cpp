// The bootstrap workflow's branches against the stateful fakes: RBAC modes,
// validation refusal, conflicts, the everestctl version flag, resuming an
// interrupted namespace step, and draining with a step in flight.
#include <signal.h>

#include <catch2/catch.hpp>

#include <thread>

#include "tests/support/harness.h"

using testing::Daemon;
using testing::Response;
using testing::TempDir;
using json = nlohmann::json;

namespace {


void Fake(const std::string& dir, const std::string& args) { testing::FakeCtl(dir, args); }

json Result(Daemon& d, const std::string& body) {
  Response r = d.Post("/bootstrap/users", body, {{"Prefer", "wait=60"}});
  INFO(r.body);
  REQUIRE(r.Json().contains("job_id"));
  return d.Get("/jobs/" + r.Json()["job_id"].get<std::string>() + "/result").Json();
}

void KillLeftoverFakes(const std::string& dir) {
  for (const auto& c : testing::FakeCalls(dir)) {
    if (c.contains("pid") && c["exit"].is_null()) ::kill(c["pid"].get<int>(), SIGKILL);
  }
}

}  // namespace

TEST_CASE("RBAC command mode runs the command with the block file; off skips", "[workflow][rbac]") {
  TempDir dir;
  const std::string out = dir.path() + "/applied.csv";
  const std::string script = dir.path() + "/apply.sh";
  testing::Shell("printf '#!/bin/sh\\ncat \"$2\" > " + out + "\\n' > " + script + " && chmod +x " + script);
  {
    Daemon d(dir.path(), {{"EVEREST_RBAC_APPLY_CMD", script + " --import"}});
    START(d);
    json r = Result(d, R"({"username":"cmd_user","namespace":"cmd-ns"})");
    CHECK(r["overall_status"] == "succeeded");
    CHECK(r["steps"][3]["rbac_applied"] == true);
    CHECK(r["steps"][3]["command"].get<std::string>().rfind(script + " --import /", 0) == 0);
    const std::string applied = testing::Capture("cat " + out);
    CHECK(applied.find("p, role:cmd_user, namespaces, read, cmd-ns\n") != std::string::npos);
    CHECK(applied.find("g, cmd_user, role:cmd_user\n") != std::string::npos);
    CHECK(testing::FakePolicy(dir.path()) == "g, admin, role:admin\n");  // ConfigMap untouched
  }
  TempDir dir2;
  Daemon off(dir2.path(), {{"EVEREST_RBAC_MODE", "off"}});
  START(off);
  json r = Result(off, R"({"username":"no_role"})");
  CHECK(r["overall_status"] == "succeeded");
  CHECK(r["steps"][3]["outcome"] == "skipped");
  CHECK(r["steps"][3]["rbac_applied"] == false);
  CHECK(r["summary"].get<std::string>().find("RBAC skipped") != std::string::npos);
  CHECK(off.Log().find("RBAC skipped") != std::string::npos);
  CHECK(off.Get("/metrics").body.find("everest_bootstrapd_degraded_total{reason=\"rbac_off\"} 1") !=
        std::string::npos);
}

TEST_CASE("a policy refused by rbac validate fails the job and leaves the ConfigMap", "[workflow][rbac]") {
  TempDir dir;
  Daemon d(dir.path(), {{"EVEREST_RBAC_ENABLE_ON_BOOTSTRAP", "true"}});
  START(d);
  Fake(dir.path(), "fault-add '{\"tool\":\"everestctl\",\"match\":[\"settings\",\"rbac\",\"validate\"],"
                   "\"mode\":\"exit\",\"exit_code\":1,\"stdout\":\"❌ Invalid\\npolicy syntax error - unknown resource name\",\"times\":1}'");
  const json before = testing::FakeState(dir.path())["objects"]["ConfigMap"]["everest-system/everest-rbac"];
  json r = Result(d, R"({"username":"val_user"})");
  CHECK(r["overall_status"] == "failed");
  CHECK(r["steps"][3]["outcome"] == "failed");
  CHECK(r["steps"][3]["error"].get<std::string>().find("refused the new policy") != std::string::npos);
  CHECK(r["steps"][3]["error"].get<std::string>().find("unknown resource name") != std::string::npos);
  const json after = testing::FakeState(dir.path())["objects"]["ConfigMap"]["everest-system/everest-rbac"];
  CHECK(after == before);
  // The same tenant again: validate passes now, the policy is written and enabled.
  json again = Result(d, R"({"username":"val_user"})");
  CHECK(again["overall_status"] == "succeeded");
  const json cm = testing::FakeState(dir.path())["objects"]["ConfigMap"]["everest-system/everest-rbac"];
  CHECK(cm["data"]["enabled"] == "true");
  CHECK(cm["data"]["policy.csv"].get<std::string>().find("g, val_user, role:val_user") != std::string::npos);
}

TEST_CASE("ConfigMap conflicts are retried from a fresh read", "[workflow][rbac]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  Fake(dir.path(), "set rbac_conflicts 2");
  json r = Result(d, R"({"username":"conf_user"})");
  CHECK(r["overall_status"] == "succeeded");
  int replaces = 0;
  for (const auto& c : r["steps"][3]["calls"]) replaces += c["command"] == "kubectl replace -f -";
  CHECK(replaces == 3);
  CHECK(testing::FakePolicy(dir.path()).find("g, conf_user, role:conf_user") != std::string::npos);
}

TEST_CASE("the MySQL flag follows the everestctl version", "[workflow][version]") {
  TempDir dir;
  Daemon d(dir.path());
  Fake(dir.path(), "set cli_version '\"v1.5.0\"'");
  START(d);
  json r = Result(d, R"({"username":"old_cli","operators":{"mysql":true}})");
  CHECK(r["overall_status"] == "succeeded");
  CHECK(r["steps"][1]["command"].get<std::string>().find("--operator.xtradb-cluster=true") !=
        std::string::npos);
  CHECK(testing::FakeState(dir.path())["operators"]["old-cli"] == json{"mysql"});
}

TEST_CASE("an unknown MySQL flag falls back to the other name", "[workflow][version]") {
  TempDir dir;
  Daemon d(dir.path());
  Fake(dir.path(), "set cli_version '\"v1.5.0\"'");
  // The version probe fails, so the daemon guesses --operator.mysql, which
  // this everestctl does not know.
  Fake(dir.path(), "fault-add '{\"tool\":\"everestctl\",\"match\":[\"version\"],\"mode\":\"exit\",\"exit_code\":1,\"stderr\":\"boom\",\"times\":-1}'");
  START(d);
  json r = Result(d, R"({"username":"guess_cli"})");
  CHECK(r["overall_status"] == "succeeded");
  json calls = r["steps"][1]["calls"];
  REQUIRE(calls.size() == 2);
  CHECK(calls[0]["command"].get<std::string>().find("--operator.mysql=true") != std::string::npos);
  CHECK(calls[1]["command"].get<std::string>().find("--operator.xtradb-cluster=true") != std::string::npos);
}

TEST_CASE("a namespace step interrupted by kill -9 resumes with --take-ownership", "[workflow][restart]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  Fake(dir.path(), "fault-add '{\"tool\":\"everestctl\",\"match\":[\"namespaces\",\"add\"],\"mode\":\"partial_namespace\",\"times\":1}'");
  Response sub = d.Post("/bootstrap/users", R"({"username":"half_done"})");
  REQUIRE(sub.status == 202);
  const std::string id = sub.Json()["job_id"];
  // Wait until the namespace exists without Everest's label (the hook "hung").
  bool partial = false;
  for (int i = 0; i < 500 && !partial; ++i) {
    partial = testing::FakeState(dir.path())["objects"]["Namespace"].contains("half-done");
    if (!partial) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(partial);
  d.Kill9();
  KillLeftoverFakes(dir.path());
  START(d);
  json v = d.WaitJob(id);
  INFO(v.dump());
  REQUIRE(v["status"] == "succeeded");
  json step = d.Get("/jobs/" + id + "/result").Json()["steps"][1];
  CHECK(step["attempts"] == 2);
  CHECK(step["resumed_after_interruption"] == true);
  CHECK(step["take_ownership_retry"] == true);
  CHECK(step["command"].get<std::string>().find("--take-ownership") != std::string::npos);
  json ns = testing::FakeState(dir.path())["objects"]["Namespace"]["half-done"];
  CHECK(ns["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "everest");
}

TEST_CASE("SIGTERM mid-step: 503 for new work, exit 0, the job resumes next start", "[workflow][lifecycle]") {
  TempDir dir;
  Daemon d(dir.path(), {{"SHUTDOWN_GRACE_SECONDS", "1"}});
  START(d);
  Fake(dir.path(), "set namespace_add_delay_ms 30000");
  Response sub = d.Post("/bootstrap/users", R"({"username":"drained"})");
  REQUIRE(sub.status == 202);
  const std::string id = sub.Json()["job_id"];
  for (int i = 0; i < 500; ++i) {
    if (d.Get("/jobs/" + id).Json()["steps"].size() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  d.Signal(SIGTERM);
  Response ready;
  for (int i = 0; i < 200; ++i) {
    ready = testing::Http(d.port(), "GET", "/readyz");
    if (ready.status == 503) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(ready.status == 503);
  CHECK(ready.Json()["checks"]["draining"] == "draining");
  Response refused = d.Post("/bootstrap/users", R"({"username":"too_late"})");
  CHECK(refused.status == 503);
  CHECK(refused.Header("retry-after") == "5");
  CHECK(d.Get("/jobs/" + id).status == 200);  // reads are still served
  CHECK(d.Wait(20000) == 0);
  CHECK(d.Log().find("job left to resume on next start") != std::string::npos);

  Fake(dir.path(), "set namespace_add_delay_ms 0");
  START(d);
  json v = d.WaitJob(id);
  CHECK(v["status"] == "succeeded");
  json steps = d.Get("/jobs/" + id + "/result").Json()["steps"];
  CHECK(steps[0]["attempts"] == 1);
  CHECK(steps[1]["attempts"] == 2);
}

TEST_CASE("slow clients are cut by the read timeout; the connection cap answers 503", "[http][limits]") {
  TempDir dir;
  Daemon d(dir.path(), {{"HTTP_READ_TIMEOUT_SECONDS", "1"}, {"HTTP_MAX_CONNECTIONS", "4"}});
  START(d);
  const auto t0 = std::chrono::steady_clock::now();
  // A request that never finishes is cut at HTTP_READ_TIMEOUT_SECONDS.
  std::string partial = testing::RawExchange(d.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n", 10000);
  CHECK(partial.empty());
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  // Four kept-alive connections fill the cap; the fifth is refused politely.
  std::vector<std::unique_ptr<testing::Conn>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<testing::Conn>(d.port()));
    REQUIRE(held.back()->Get("/healthz").status == 200);
  }
  Response over = testing::Http(d.port(), "GET", "/healthz");
  CHECK(over.status == 503);
  CHECK(over.Header("retry-after") == "1");
  held.clear();
  // The closes reach the daemon asynchronously: poll until a slot is free.
  int status = 0;
  for (int i = 0; i < 200 && status != 200; ++i) {
    status = testing::Http(d.port(), "GET", "/healthz").status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(status == 200);
}

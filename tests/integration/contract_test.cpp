// The schemas and the daemon agree (issue #6): every example in schemas/ is
// accepted by the real daemon, every documented invalid example is refused
// with its documented status, the real responses and completion events
// validate against their schemas (checked with Ajv, draft 2020-12, by
// tests/contract/check_schemas.mjs), and GET /openapi.json serves the bundled
// document that describes exactly the routes the daemon serves.
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "daemon/domain/webhook_signature.h"
#include "tests/support/harness.h"

using testing::Daemon;
using testing::Response;
using testing::TempDir;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kSchemas = std::string(BOOTSTRAPD_SOURCE_DIR) + "/schemas";
const std::string kWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json ReadJson(const std::string& path) { return json::parse(ReadFile(path)); }

// Real daemon bodies, filed by the schema they must satisfy.
class Instances {
 public:
  explicit Instances(std::string dir) : dir_(std::move(dir)) {}
  void Add(const std::string& schema, const std::string& body) {
    INFO("instance of " << schema << ": " << body.substr(0, 500));
    REQUIRE(json::accept(body));
    fs::create_directories(dir_ + "/" + schema);
    std::ofstream(dir_ + "/" + schema + "/" + std::to_string(++n_) + ".json") << body;
  }
  int count() const { return n_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  int n_ = 0;
};

const std::map<std::string, std::string> kRouteOf = {
    {"bootstrap_request", "/bootstrap/users"},     {"password_request", "/accounts/password"},
    {"resources_request", "/namespaces/resources"}, {"operators_request", "/namespaces/operators"},
    {"suspend_request", "/accounts/suspend"},      {"resume_request", "/accounts/resume"},
    {"delete_request", "/accounts/delete"}};

std::int64_t NowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Response SendWebhook(Daemon& d, const std::string& id, const std::string& body) {
  std::vector<std::string> keys;
  std::string err;
  REQUIRE(bootstrapd::ParseWebhookSecrets(kWebhookSecret, &keys, &err));
  const std::int64_t ts = NowS();
  return testing::Http(d.port(), "POST", "/webhooks/tenant-requests", body,
                       {{"webhook-id", id}, {"webhook-timestamp", std::to_string(ts)},
                        {"webhook-signature", bootstrapd::SignWebhook(keys[0], id, ts, body)}});
}

// Every daemon here also writes completion events to its outbox: Kafka is
// "configured" at a port nobody listens on, so the rows stay unsent.
std::map<std::string, std::string> ContractEnv() {
  return {{"WEBHOOK_SECRETS", kWebhookSecret}, {"KAFKA_BROKERS", "127.0.0.1:9"}};
}

void CollectOutbox(const std::string& db_path, Instances* out) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT payload FROM outbox", -1, &st, nullptr) == SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW) {
    out->Add("completion_event", reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
}

// Collects the read-side bodies of a daemon holding the tenant alice/alice-ns.
void CollectReads(Daemon& d, const std::string& job_id, Instances* out) {
  Response job = d.Get("/jobs/" + job_id);
  REQUIRE(job.status == 200);
  out->Add("job", job.body);
  Response result = d.Get("/jobs/" + job_id + "/result");
  REQUIRE(result.status == 200);
  out->Add("job_result", result.body);
  out->Add("job_list", d.Get("/jobs?limit=2").body);
  Response accounts = d.Get("/accounts/list");
  REQUIRE(accounts.status == 200);
  out->Add("accounts_list", accounts.body);
  Response account = d.Get("/accounts/alice");
  REQUIRE(account.status == 200);
  out->Add("account_details", account.body);
  Response nss = d.Get("/namespaces");
  REQUIRE(nss.status == 200);
  out->Add("namespaces_list", nss.body);
  Response ns = d.Get("/namespaces/alice-ns");
  REQUIRE(ns.status == 200);
  out->Add("namespace_details", ns.body);
  out->Add("health", testing::Http(d.port(), "GET", "/healthz").body);
  out->Add("ready", testing::Http(d.port(), "GET", "/readyz").body);  // 503: Kafka is down
  out->Add("problem", d.Get("/jobs/00000000-0000-4000-8000-000000000000").body);
  out->Add("problem", testing::Http(d.port(), "GET", "/jobs").body);  // 401
}

Response Bootstrap(Daemon& d, const json& body) {
  return d.Post("/bootstrap/users", body.dump(), {{"Prefer", "wait=60"}});
}

}  // namespace

TEST_CASE("every schema example is accepted by the daemon; responses match their schemas",
          "[contract]") {
  TempDir out_dir;
  Instances instances(out_dir.path() + "/instances");
  int examples = 0;
  bool reads_collected = false;
  for (const auto& [schema, route] : kRouteOf) {
    const json doc = ReadJson(kSchemas + "/" + schema + ".schema.json");
    REQUIRE(doc.contains("examples"));
    for (const json& example : doc["examples"]) {
      INFO(schema << " example " << example.dump());
      TempDir dir;
      Daemon d(dir.path(), ContractEnv());
      START(d);
      if (schema != "bootstrap_request") {
        // The edit examples act on the tenant alice/alice-ns.
        Response pre = Bootstrap(d, {{"username", "alice"}, {"namespace", "alice-ns"}});
        REQUIRE(pre.status == 200);
        instances.Add("edit_response", pre.body);
        if (schema == "resume_request") {
          Response s = d.Post("/accounts/suspend", R"({"username":"alice","namespace":"alice-ns"})",
                              {{"Prefer", "wait=60"}});
          REQUIRE(s.status == 200);
        }
      }
      Response r = d.Post(route, example.dump(), {{"Prefer", "wait=60"}});
      INFO(r.status << " " << r.body);
      REQUIRE(r.status == 200);
      instances.Add("edit_response", r.body);
      ++examples;
      const std::string id = r.Json()["job_id"];
      // The asynchronous form of the same route (a second, replayed submission
      // answers like the first: the 202 body of a bootstrap).
      if (schema == "bootstrap_request") {
        Response again = d.Post(route, example.dump(), {{"Prefer", "respond-async"}});
        REQUIRE((again.status == 202 || again.status == 200));
        if (again.status == 202) instances.Add("job_accepted", again.body);
      }
      if (!reads_collected && schema == "bootstrap_request" && example.value("namespace", "") == "alice-ns") {
        CollectReads(d, id, &instances);
        reads_collected = true;
      }
      REQUIRE(d.Terminate() == 0);
      CollectOutbox(dir.path() + "/jobs.db", &instances);
    }
  }
  CHECK(reads_collected);
  // Events: request-event and webhook-payload examples arrive over the signed webhook.
  {
    TempDir dir;
    Daemon d(dir.path(), ContractEnv());
    START(d);
    int n = 0;
    for (const char* schema : {"tenant_request_event", "webhook_payload"}) {
      const json doc = ReadJson(kSchemas + "/" + std::string(schema) + ".schema.json");
      for (const json& example : doc["examples"]) {
        INFO(schema << " example " << example.dump());
        Response r = SendWebhook(d, "msg_contract_" + std::to_string(++n), example.dump());
        INFO(r.status << " " << r.body);
        CHECK(r.status == 202);
        if (r.status == 202) instances.Add("job_accepted", r.body);
        ++examples;
      }
    }
    REQUIRE(d.Terminate() == 0);
  }
  WARN("contract: " << examples << " schema examples accepted by the daemon; " << instances.count()
                    << " real bodies handed to the schema check");
  // Ajv: every schema valid draft 2020-12, examples valid, the real bodies valid.
  const std::string node_dir = std::string(BOOTSTRAPD_SOURCE_DIR) + "/tests/contract";
  REQUIRE(fs::exists(node_dir + "/node_modules/ajv"));  // installed by scripts/deps.sh
  const std::string cmd = "node '" + node_dir + "/check_schemas.mjs' --instances '" +
                          instances.dir() + "' 2>&1";
  const std::string report = testing::Capture(cmd + "; echo \"exit=$?\"");
  INFO(report);
  CHECK(report.find("exit=0") != std::string::npos);
  CHECK(report.find("instances: " + std::to_string(instances.count())) != std::string::npos);
}

TEST_CASE("every documented invalid example is refused with its documented status", "[contract]") {
  const json invalid = ReadJson(kSchemas + "/invalid_examples.json");
  REQUIRE(invalid.size() >= 25);
  TempDir dir;
  Daemon d(dir.path(), ContractEnv());
  START(d);
  int n = 0;
  for (const json& e : invalid) {
    const std::string route = e["route"];
    INFO("invalid example " << e.dump());
    REQUIRE(route.rfind("POST ", 0) == 0);
    const std::string path = route.substr(5);
    Response r = path == "/webhooks/tenant-requests"
                     ? SendWebhook(d, "msg_invalid_" + std::to_string(++n), e["body"].dump())
                     : d.Post(path, e["body"].dump());
    INFO(r.status << " " << r.body);
    CHECK(r.status == e["status"].get<int>());
    CHECK(r.Header("content-type") == "application/problem+json");
    if (e.contains("pointer") && e["pointer"].is_string() && r.status == 422) {
      bool named = false;
      const json problem = r.Json();
      for (const json& err : problem["errors"]) {
        named = named || err.value("pointer", "") == e["pointer"].get<std::string>();
      }
      CHECK(named);
    }
  }
  // Nothing was queued by any of them.
  CHECK(d.Get("/jobs").Json()["items"].empty());
}

TEST_CASE("GET /openapi.json serves the bundled document of exactly the routes served", "[contract]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  CHECK(testing::Http(d.port(), "GET", "/openapi.json").status == 401);  // SPEC §2: keyed
  Response r = d.Get("/openapi.json");
  REQUIRE(r.status == 200);
  CHECK(r.Header("content-type") == "application/json");
  CHECK(r.body == ReadFile(BOOTSTRAPD_OPENAPI_BUNDLE));
  const json doc = json::parse(r.body);
  CHECK(doc["openapi"] == "3.1.0");
  CHECK(doc["info"]["license"].contains("name"));
  CHECK(!doc["servers"].empty());
  // Self-contained: no reference leaves the document.
  CHECK(r.body.find(".schema.json") == std::string::npos);
  // Every documented operation is routed (never 404 "no such route" or 405),
  // and each has an operationId and a summary.
  std::set<std::string> ids;
  int operations = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      if (method == "parameters") continue;
      ++operations;
      INFO(method << " " << path);
      CHECK(op.contains("summary"));
      REQUIRE(op.contains("operationId"));
      CHECK(ids.insert(op["operationId"].get<std::string>()).second);
      std::string target = path;
      for (const char* p : {"{id}", "{username}", "{ns}", "{namespace}"}) {
        const auto at = target.find(p);
        if (at != std::string::npos) {
          target.replace(at, std::string(p).size(),
                         std::string(p) == "{id}" ? "00000000-0000-4000-8000-000000000000" : "zz-none");
        }
      }
      std::string m = method;
      for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      Response rr = testing::Http(d.port(), m, target, m == "POST" ? "{}" : "",
                                  {{"X-Admin-Key", Daemon::kKey}, {"Prefer", "respond-async"}});
      CHECK(rr.status != 405);
      if (rr.status == 404) CHECK(rr.Json().value("detail", "").rfind("no route for", 0) != 0);
    }
  }
  CHECK(operations >= 20);
  // And the other way round: a path the document does not know is not routed.
  CHECK(testing::Http(d.port(), "GET", "/undocumented").status == 404);
}

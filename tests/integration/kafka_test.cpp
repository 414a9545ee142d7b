// Kafka intake and completion events against librdkafka's mock cluster
// (created here, spoken to over TCP by the real daemon process), and the
// signed webhook over real HTTP.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "daemon/domain/webhook_signature.h"
#include "tests/support/harness.h"

using testing::Daemon;
using testing::Response;
using testing::TempDir;
using json = nlohmann::json;

namespace {

struct Msg {
  int32_t partition = 0;
  std::string key, value;
  std::map<std::string, std::string> headers;
};

class MockKafka {
 public:
  MockKafka() {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "2", err, sizeof err);
    owner_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    cluster_ = rd_kafka_mock_cluster_new(owner_, 1);
    rd_kafka_mock_topic_create(cluster_, "everest.tenant.requests.v1", 4, 1);
    rd_kafka_mock_topic_create(cluster_, "everest.tenant.requests.v1.dlq", 1, 1);
    rd_kafka_mock_topic_create(cluster_, "everest.tenant.events.v1", 4, 1);
    bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);
    rd_kafka_conf_t* pc = rd_kafka_conf_new();
    rd_kafka_conf_set(pc, "bootstrap.servers", bootstraps_.c_str(), err, sizeof err);
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err);
  }
  ~MockKafka() {
    rd_kafka_destroy(producer_);
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(owner_);
  }
  const std::string& bootstraps() const { return bootstraps_; }
  rd_kafka_mock_cluster_t* cluster() { return cluster_; }

  void Produce(const std::string& topic, int32_t partition, const std::string& key,
               const std::string& value, const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    rd_kafka_headers_t* h = rd_kafka_headers_new(headers.size() + 1);
    for (const auto& [k, v] : headers) rd_kafka_header_add(h, k.c_str(), -1, v.data(), v.size());
    rd_kafka_producev(producer_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                      RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
    rd_kafka_poll(producer_, 0);
  }
  void Flush() { rd_kafka_flush(producer_, 10000); }

  // Everything on `topic` (all partitions, from the beginning), waiting up to
  // `timeout_ms` until `enough` says so.
  std::vector<Msg> ReadUntil(const std::string& topic, int partitions, int timeout_ms,
                             const std::function<bool(const std::vector<Msg>&)>& enough) {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps_.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", "test-reader", err, sizeof err);
    rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p) {
      rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(c, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    std::vector<Msg> out;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!enough(out) && std::chrono::steady_clock::now() < deadline) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 100);
      if (m == nullptr) continue;
      if (!m->err) {
        Msg msg;
        msg.partition = m->partition;
        if (m->key) msg.key.assign(static_cast<const char*>(m->key), m->key_len);
        if (m->payload) msg.value.assign(static_cast<const char*>(m->payload), m->len);
        rd_kafka_headers_t* h = nullptr;
        if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
          const char* name;
          const void* val;
          size_t size;
          for (size_t i = 0; rd_kafka_header_get_all(h, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
            msg.headers[name] = std::string(static_cast<const char*>(val), size);
          }
        }
        out.push_back(std::move(msg));
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return out;
  }
  std::vector<Msg> ReadAll(const std::string& topic, int partitions, std::size_t want, int timeout_ms) {
    return ReadUntil(topic, partitions, timeout_ms,
                     [want](const std::vector<Msg>& m) { return m.size() >= want; });
  }

 private:
  rd_kafka_t* owner_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  rd_kafka_t* producer_ = nullptr;
  std::string bootstraps_;
};

// A ReadUntil predicate: at least `want` distinct values of `field` seen
// (incremental: each message is parsed once).
std::function<bool(const std::vector<Msg>&)> UniqueAtLeast(std::string field, std::size_t want) {
  auto ids = std::make_shared<std::set<std::string>>();
  auto seen = std::make_shared<std::size_t>(0);
  return [=](const std::vector<Msg>& m) {
    for (; *seen < m.size(); ++*seen) {
      ids->insert(json::parse(m[*seen].value, nullptr, false).value(field, ""));
    }
    return ids->size() >= want;
  };
}

std::string Event(const std::string& id, const std::string& type, const json& data,
                  const std::string& source = "/portal") {
  return json{{"specversion", "1.0"}, {"id", id}, {"source", source}, {"type", type},
              {"datacontenttype", "application/json"}, {"data", data}}
      .dump();
}

std::map<std::string, std::string> KafkaEnv(const TempDir& dir, const MockKafka& k) {
  const std::string file = dir.path() + "/kafka.properties";
  std::ofstream(file) << "# test consumer timings (BUILD.md)\nsession.timeout.ms=6000\n"
                         "heartbeat.interval.ms=500\n";
  return {{"KAFKA_BROKERS", k.bootstraps()}, {"KAFKA_CONFIG_FILE", file},
          {"EVEREST_RBAC_MODE", "off"}};
}

std::vector<json> AllJobs(Daemon& d, const std::string& filter) {
  std::vector<json> items;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    json body = d.Get("/jobs?limit=500" + filter + (cursor.empty() ? "" : "&cursor=" + cursor)).Json();
    for (auto& it : body["items"]) items.push_back(it);
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"];
  }
  return items;
}

}  // namespace

TEST_CASE("kafka: events become jobs exactly once, each announces its end", "[kafka]") {
  TempDir dir;
  MockKafka kafka;
  // Volume, not CLI fidelity: the instant CLI keeps 1,000 jobs quick.
  auto env = KafkaEnv(dir, kafka);
  env["EVERESTCTL_BIN"] = INSTANT_CLI_BINARY;
  env["KUBECTL_BIN"] = INSTANT_CLI_BINARY;
  Daemon d(dir.path(), env);
  START(d);
  // 1,000 events in the normal build; the sanitizer pass (same code, 10x
  // slower) runs 300 so that it stays well inside its time limit.
  const int n = BOOTSTRAPD_SANITIZED ? 300 : 1000;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    const std::string ev = Event("req-" + std::to_string(i), "everest.tenant.bootstrap.requested",
                                 {{"username", "k_user_" + std::to_string(i)}});
    kafka.Produce("everest.tenant.requests.v1", i % 4, "k_user_" + std::to_string(i), ev);
    if (i % 2 == 0) kafka.Produce("everest.tenant.requests.v1", i % 4, "k_user_" + std::to_string(i), ev);
  }
  kafka.Flush();
  // Every job reaches an end; exactly one job per event id.
  std::vector<json> jobs;
  for (int i = 0; i < 6000; ++i) {
    jobs = AllJobs(d, "&source=kafka");
    std::size_t done = 0;
    for (const auto& j : jobs) done += j["status"] == "succeeded" || j["status"] == "failed";
    if (jobs.size() >= static_cast<std::size_t>(n) && done == jobs.size()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(jobs.size() == static_cast<std::size_t>(n));
  std::set<std::string> users;
  for (const auto& j : jobs) {
    INFO(j.dump());
    CHECK(j["status"] == "succeeded");
    users.insert(j["username"].get<std::string>());
  }
  CHECK(users.size() == static_cast<std::size_t>(n));
  // One completion event per job id (after de-duplicating by event id).
  // Re-sends are allowed (same event id): read until every job has one.
  auto events = kafka.ReadUntil("everest.tenant.events.v1", 4, 120000,
                                UniqueAtLeast("id", static_cast<std::size_t>(n)));
  std::map<std::string, json> by_id;
  for (const auto& m : events) {
    json e = json::parse(m.value, nullptr, false);
    REQUIRE(e.is_object());
    by_id[e["id"]] = e;
  }
  std::map<std::string, int> per_job;
  for (const auto& [id, e] : by_id) {
    CHECK(e["type"] == "everest.tenant.bootstrap.succeeded");
    CHECK(e["source"] == "/everest-bootstrapd");
    CHECK(e["specversion"] == "1.0");
    CHECK(e["causationid"].get<std::string>().rfind("req-", 0) == 0);
    CHECK(e["subject"] == e["data"]["namespace"]);
    ++per_job[e["correlationid"]];
  }
  CHECK(per_job.size() == static_cast<std::size_t>(n));
  for (const auto& [job, count] : per_job) CHECK(count == 1);
  const std::string metrics = d.Get("/metrics").body;
  CHECK(metrics.find("everest_bootstrapd_kafka_messages_consumed_total " + std::to_string(n + n / 2)) !=
        std::string::npos);
  CHECK(testing::Http(d.port(), "GET", "/readyz").Json()["checks"]["kafka"] == "ok");
  // Every librdkafka callback (rebalance, delivery, error) ran on the loop thread.
  CHECK(d.Get("/metrics").body.find("kafka_callback_off_loop") == std::string::npos);
  // Intake rate: events consumed into committed jobs, from the first job's
  // created_at to the last one's.
  std::string first = jobs.front()["created_at"], last = first;
  for (const auto& j : jobs) {
    first = std::min(first, j["created_at"].get<std::string>());
    last = std::max(last, j["created_at"].get<std::string>());
  }
  auto ms_of = [](const std::string& t) {  // "...HH:MM:SS.mmmZ" within one day
    return ((std::stoi(t.substr(11, 2)) * 60 + std::stoi(t.substr(14, 2))) * 60 +
            std::stoi(t.substr(17, 2))) * 1000 + std::stoi(t.substr(20, 3));
  };
  const int span_ms = std::max(1, ms_of(last) - ms_of(first));
  WARN(n << " bootstrap events (+" << n / 2 << " duplicates) -> " << jobs.size()
         << " jobs committed in " << span_ms << " ms (" << (n + n / 2) * 1000 / span_ms
         << " records/s into jobs), all finished in " << secs << " s; " << by_id.size()
         << " completion events");
  CHECK(d.Terminate() == 0);
}

TEST_CASE("kafka: poison records go to the DLQ and do not block their partition", "[kafka]") {
  TempDir dir;
  MockKafka kafka;
  Daemon d(dir.path(), KafkaEnv(dir, kafka));
  START(d);
  const std::string topic = "everest.tenant.requests.v1";
  kafka.Produce(topic, 0, "x", "this is not json");
  kafka.Produce(topic, 0, "x", Event("e-1", "everest.tenant.explode.requested", {{"username", "abc"}}));
  kafka.Produce(topic, 0, "x", Event("e-2", "everest.tenant.bootstrap.requested",
                                     {{"username", "abc"}, {"password", "Secret123!"}, {"opertors", {}}}));
  // Binary mode, valid, after the poison on the same partition.
  kafka.Produce(topic, 0, "bin_user", R"({"username":"bin_user"})",
                {{"ce_specversion", "1.0"}, {"ce_id", "b-1"}, {"ce_source", "/portal"},
                 {"ce_type", "everest.tenant.bootstrap.requested"}, {"content-type", "application/json"}});
  kafka.Flush();
  json job;
  for (int i = 0; i < 600; ++i) {
    auto jobs = AllJobs(d, "&source=kafka");
    if (!jobs.empty() && jobs[0]["status"] == "succeeded") {
      job = jobs[0];
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(job["username"] == "bin_user");
  auto dlq = kafka.ReadAll("everest.tenant.requests.v1.dlq", 1, 3, 30000);
  REQUIRE(dlq.size() == 3);
  for (const auto& m : dlq) {
    CHECK(m.headers.at("dlq-original-topic") == topic);
    CHECK(m.headers.at("dlq-original-partition") == "0");
    CHECK_FALSE(m.headers.at("dlq-error").empty());
    CHECK(m.value.find("Secret123!") == std::string::npos);
  }
  CHECK(dlq[0].headers.at("dlq-original-offset") == "0");
  CHECK(dlq[1].headers.at("dlq-error").find("unknown type") != std::string::npos);
  CHECK(dlq[2].headers.at("dlq-error").find("/data/opertors") != std::string::npos);
  CHECK(dlq[2].value.find("********") != std::string::npos);
  CHECK(d.Get("/metrics").body.find("everest_bootstrapd_kafka_dlq_total 3") != std::string::npos);
  // Every librdkafka callback (rebalance, delivery, error) ran on the loop thread.
  CHECK(d.Get("/metrics").body.find("kafka_callback_off_loop") == std::string::npos);
}

TEST_CASE("webhook: Standard Webhooks verification, rotation, replay", "[webhook]") {
  TempDir dir;
  const std::string old_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const std::string new_secret = "whsec_" + std::string("c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24=");
  Daemon d(dir.path(), {{"WEBHOOK_SECRETS", old_secret + "," + new_secret},
                        {"HTTP_BODY_LIMIT_BYTES", "4096"}});
  START(d);
  std::vector<std::string> keys;
  std::string err;
  REQUIRE(bootstrapd::ParseWebhookSecrets(old_secret + "," + new_secret, &keys, &err));
  // The timestamp is taken at each send: slow runs (sanitizers) must not
  // drift a "future" timestamp back into the window.
  auto now_s = [] {
    return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count());
  };
  auto send = [&](const std::string& id, std::int64_t offset_s, const std::string& body,
                  const std::string& key) {
    const std::int64_t ts = now_s() + offset_s;
    const std::string sig = bootstrapd::SignWebhook(key, id, ts, body);
    return testing::Http(d.port(), "POST", "/webhooks/tenant-requests", body,
                         {{"webhook-id", id}, {"webhook-timestamp", std::to_string(ts)},
                          {"webhook-signature", "v1,bm90LWl0 " + sig}});
  };
  const std::string body = json{{"type", "everest.tenant.bootstrap.requested"},
                                {"timestamp", "2026-12-01T00:00:00Z"},
                                {"data", {{"username", "hook_user"}}}}.dump();
  Response ok = send("msg_1", 0, body, keys[1]);  // signed with the rotated-in secret
  INFO(ok.body);
  REQUIRE(ok.status == 202);
  const std::string id = ok.Json()["job_id"];
  Response replay = send("msg_1", 0, body, keys[0]);
  CHECK(replay.status == 200);
  CHECK(replay.Json()["job_id"] == id);
  CHECK(replay.Header("idempotent-replayed") == "true");
  Response changed = send("msg_1", 0, json{{"type", "everest.tenant.bootstrap.requested"},
                                             {"timestamp", "2026-12-01T00:00:00Z"},
                                             {"data", {{"username", "other_user"}}}}.dump(), keys[0]);
  CHECK(changed.status == 422);
  CHECK(send("msg_2", -330, body, keys[0]).status == 401);  // stale
  CHECK(send("msg_3", 330, body, keys[0]).status == 401);   // future
  std::string wrong_key = "another-key";
  CHECK(send("msg_4", 0, body, wrong_key).status == 401);
  const std::int64_t now = now_s();
  Response tampered = testing::Http(d.port(), "POST", "/webhooks/tenant-requests", body + " ",
                                    {{"webhook-id", "msg_5"}, {"webhook-timestamp", std::to_string(now)},
                                     {"webhook-signature", bootstrapd::SignWebhook(keys[0], "msg_5", now, body)}});
  CHECK(tampered.status == 401);
  CHECK(testing::Http(d.port(), "POST", "/webhooks/tenant-requests", body).status == 400);
  Response big = send("msg_6", 0, std::string(8000, ' '), keys[0]);
  CHECK(big.status == 413);
  Response cloud = send("msg_7", 0, Event("ce-7", "everest.tenant.bootstrap.requested",
                                            {{"username", "cloud_user"}}), keys[0]);
  CHECK(cloud.status == 202);
  Response invalid = send("msg_8", 0, Event("ce-8", "everest.tenant.bootstrap.requested",
                                              {{"username", "x"}}), keys[0]);
  CHECK(invalid.status == 422);
  CHECK(d.WaitJob(id)["status"] == "succeeded");
  CHECK(d.Get("/jobs/" + id).Json()["source"] == "webhook");
  const std::string m = d.Get("/metrics").body;
  CHECK(m.find("everest_bootstrapd_webhook_verifications_total{result=\"ok\"}") != std::string::npos);
  CHECK(m.find("everest_bootstrapd_webhook_verifications_total{result=\"stale\"} 1") != std::string::npos);
  CHECK(m.find("everest_bootstrapd_webhook_verifications_total{result=\"bad_signature\"} 2") != std::string::npos);
  CHECK(d.Log().find("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == std::string::npos);
}

TEST_CASE("kafka: kill -9 mid-consumption loses nothing, duplicates nothing", "[kafka][crash]") {
  TempDir dir;
  MockKafka kafka;
  auto env = KafkaEnv(dir, kafka);
  env["EVERESTCTL_BIN"] = INSTANT_CLI_BINARY;
  env["KUBECTL_BIN"] = INSTANT_CLI_BINARY;
  Daemon d(dir.path(), env);
  START(d);
  const int n = BOOTSTRAPD_SANITIZED ? 200 : 600;
  for (int i = 0; i < n; ++i) {
    kafka.Produce("everest.tenant.requests.v1", i % 4, "u",
                  Event("crash-" + std::to_string(i), "everest.tenant.bootstrap.requested",
                        {{"username", "kc_" + std::to_string(i)}}));
  }
  kafka.Flush();
  // Kill as soon as some (not all) jobs exist.
  for (int i = 0; i < 2000; ++i) {
    const std::size_t have = d.Get("/jobs?source=kafka&limit=500").Json()["items"].size();
    if (have >= 50) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  d.Kill9();
  START(d);
  std::vector<json> jobs;
  for (int i = 0; i < 600; ++i) {
    jobs = AllJobs(d, "&source=kafka");
    std::size_t done = 0;
    for (const auto& j : jobs) done += j["status"] == "succeeded";
    if (jobs.size() >= static_cast<std::size_t>(n) && done == jobs.size()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK(jobs.size() == static_cast<std::size_t>(n));  // redelivered records mapped to their jobs
  std::set<std::string> users;
  for (const auto& j : jobs) users.insert(j["username"].get<std::string>());
  CHECK(users.size() == static_cast<std::size_t>(n));
  // The outbox drained: one completion event per job.
  auto events = kafka.ReadUntil("everest.tenant.events.v1", 4, 120000,
                                UniqueAtLeast("id", static_cast<std::size_t>(n)));
  std::set<std::string> correlated;
  for (const auto& m : events) correlated.insert(json::parse(m.value)["correlationid"].get<std::string>());
  CHECK(correlated.size() == static_cast<std::size_t>(n));
}

TEST_CASE("kafka: completion events survive a broker outage", "[kafka]") {
  TempDir dir;
  MockKafka kafka;
  auto env = KafkaEnv(dir, kafka);
  env["EVERESTCTL_BIN"] = INSTANT_CLI_BINARY;
  env["KUBECTL_BIN"] = INSTANT_CLI_BINARY;
  Daemon d(dir.path(), env);
  START(d);
  // Jobs from REST while the broker is down: their events wait in the outbox.
  rd_kafka_mock_broker_set_down(kafka.cluster(), 1);
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    Response r = d.Post("/bootstrap/users", json{{"username", "out_" + std::to_string(i)}}.dump(),
                        {{"Prefer", "wait=30"}});
    REQUIRE(r.status == 200);
    ids.push_back(r.Json()["job_id"]);
  }
  // Nothing could be delivered while the broker was down.
  CHECK(d.Get("/metrics").body.find("everest_bootstrapd_kafka_events_produced_total 0") != std::string::npos);
  rd_kafka_mock_broker_set_up(kafka.cluster(), 1);
  auto events = kafka.ReadUntil("everest.tenant.events.v1", 4, 120000, UniqueAtLeast("correlationid", 20));
  std::set<std::string> correlated;
  for (const auto& m : events) correlated.insert(json::parse(m.value)["correlationid"].get<std::string>());
  for (const auto& id : ids) CHECK(correlated.count(id) == 1);
  // The outage raised error callbacks: on the loop thread too.
  CHECK(d.Get("/metrics").body.find("reason=\"kafka_error\"") != std::string::npos);
  // Every librdkafka callback (rebalance, delivery, error) ran on the loop thread.
  CHECK(d.Get("/metrics").body.find("kafka_callback_off_loop") == std::string::npos);
}

TEST_CASE("kafka: backpressure pauses and resumes, nothing lost", "[kafka]") {
  TempDir dir;
  MockKafka kafka;
  auto env = KafkaEnv(dir, kafka);
  env["MAX_QUEUED_JOBS"] = "20";
  env["MAX_SUBPROC_CONCURRENCY"] = "2";
  Daemon d(dir.path(), env);  // the Python fakes: slow enough to fill the queue
  START(d);
  const int n = 80;
  for (int i = 0; i < n; ++i) {
    kafka.Produce("everest.tenant.requests.v1", i % 4, "u",
                  Event("bp-" + std::to_string(i), "everest.tenant.resources.requested",
                        {{"namespace", "bp-ns-" + std::to_string(i % 8)}, {"resources", {{"cpu_cores", 1}}}}));
  }
  kafka.Flush();
  bool saw_pause = false;
  std::vector<json> jobs;
  for (int i = 0; i < 1200; ++i) {
    saw_pause = saw_pause || d.Get("/metrics").body.find("everest_bootstrapd_kafka_paused 1") != std::string::npos;
    jobs = AllJobs(d, "&source=kafka");
    std::size_t done = 0;
    for (const auto& j : jobs) done += j["status"] == "succeeded" || j["status"] == "failed";
    if (jobs.size() >= static_cast<std::size_t>(n) && done == jobs.size()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(saw_pause);
  CHECK(jobs.size() == static_cast<std::size_t>(n));
  CHECK(d.Get("/metrics").body.find("everest_bootstrapd_kafka_paused 0") != std::string::npos);
  CHECK(d.Log().find("kafka consumer resumed") != std::string::npos);
}

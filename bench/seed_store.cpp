// Fills a job store with finished jobs through the daemon's own store API
// (OpenSqliteJobStore + Apply), so the rows are exactly what the daemon writes
// and cannot drift from the schema. Used for start-to-ready and memory with
// 100k jobs retained.
//
//   bench_seed_store --db <path> [--jobs N] [--tenants T] [--template-db <path>]
//                    [--ids-out <file>]
// With --template-db, the finished jobs of that store (e.g. the pipeline
// bench's) are cloned round-robin with new ids, users and times; otherwise a
// built-in four-step bootstrap job is used. Each tenant gets one
// username <-> namespace row. Finish times are spread over the last 24 hours
// (inside the default retention, so the daemon keeps them).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "daemon/jobs/job_store.h"
#include "daemon/util/ids.h"
#include "daemon/util/time.h"

using namespace bootstrapd;
using json = nlohmann::json;

namespace {

// A finished bootstrap job as the workflow leaves it (four steps, one CLI call
// each but the RBAC step's three).
Job BuiltInTemplate() {
  Job j;
  j.kind = JobKind::kBootstrap;
  j.source = "rest";
  j.status = JobStatus::kSucceeded;
  j.inputs = {{"username", "u"},
              {"namespace", "ns"},
              {"operators", {{"mongodb", true}, {"postgresql", true}, {"xtradb_cluster", true}}},
              {"take_ownership", false},
              {"password", "********"},
              {"password_source", "generated"},
              {"resources", {{"cpu_cores", 2.0}, {"ram_mb", 2048}, {"disk_gb", 20}}}};
  auto call = [](const std::string& cmd) {
    return json{{"command", cmd}, {"status", "exited"}, {"exit_code", 0}, {"duration_ms", 2}};
  };
  auto step = [&](const std::string& name, const std::string& cmd, const std::string& out,
                  std::vector<std::string> calls) {
    json c = json::array();
    for (const auto& x : calls) c.push_back(call(x));
    return json{{"name", name},          {"command", cmd},
                {"exit_code", 0},        {"stdout", out},
                {"stderr", ""},          {"started_at", "2026-01-01T00:00:00.000Z"},
                {"finished_at", "2026-01-01T00:00:00.010Z"},
                {"outcome", "done"},     {"attempts", 1},
                {"calls", c}};
  };
  const std::string acc = "everestctl accounts create -u u -p ********";
  const std::string nsa = "everestctl namespaces add ns --operator.mongodb=true "
                          "--operator.postgresql=true --operator.mysql=true";
  const std::string app = "kubectl apply -n ns -f -";
  j.steps = json::array({step("create_account", acc, "\xE2\x9C\x85 done", {acc}),
                         step("add_namespace", nsa, "\xE2\x9C\x85 done", {nsa}),
                         step("apply_resource_quota", app,
                              "resourcequota/user-quota created\nlimitrange/user-limits created",
                              {app}),
                         step("apply_rbac_policy", "kubectl replace -f -", "\xE2\x9C\x85 done",
                              {"kubectl get configmap everest-rbac -n everest-system -o json",
                               "everestctl settings rbac validate --policy-file /tmp/x.csv",
                               "kubectl replace -f -"})});
  j.steps[0]["manifest_preview"] = nullptr;
  j.summary = "User u and namespace ns created; quota applied; role bound.";
  j.secret_origin = "generated";
  j.extra = {{"credentials",
              {{"username", "u"}, {"password_source", "generated"}, {"password_set", true},
               {"password_returned_at", "2026-01-01T00:00:01.000Z"}}}};
  return j;
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

// The template's text with its own user and namespace swapped for new ones.
json Rename(const json& j, const std::string& u0, const std::string& ns0, const std::string& u,
            const std::string& ns) {
  std::string text = j.dump();
  text = Replace(text, "\"" + u0 + "\"", "\"" + u + "\"");
  text = Replace(text, " " + u0 + " ", " " + u + " ");
  text = Replace(text, ns0, ns);
  return json::parse(text, nullptr, false);
}

}  // namespace

int main(int argc, char** argv) {
  std::string db, template_db, ids_out;
  long jobs = 100000, tenants = 10000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--db") db = next();
    else if (a == "--jobs") jobs = std::atol(next().c_str());
    else if (a == "--tenants") tenants = std::atol(next().c_str());
    else if (a == "--template-db") template_db = next();
    else if (a == "--ids-out") ids_out = next();
    else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (db.empty() || jobs < 0 || tenants <= 0) {
    std::fprintf(stderr,
                 "usage: bench_seed_store --db <path> [--jobs N] [--tenants T] "
                 "[--template-db <path>] [--ids-out <file>]\n");
    return 2;
  }
  std::string err;
  std::vector<Job> templates;
  if (!template_db.empty()) {
    JobStorePtr t = OpenSqliteJobStore(template_db, &err);
    if (!t) {
      std::fprintf(stderr, "template: %s\n", err.c_str());
      return 1;
    }
    JobFilter f;
    f.status = JobStatus::kSucceeded;
    f.limit = 20;
    if (Status s = t->ListJobs(f, &templates); !s.ok()) {
      std::fprintf(stderr, "template: %s\n", s.message().c_str());
      return 1;
    }
  }
  const bool built_in = templates.empty();
  if (built_in) {
    Job j = BuiltInTemplate();
    j.username = "u";
    j.ns = "ns";
    templates.push_back(j);
  }

  const auto t0 = std::chrono::steady_clock::now();
  JobStorePtr store = OpenSqliteJobStore(db, &err);
  if (!store) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  std::int64_t seq = 0;
  store->MaxSeq(&seq);
  std::ofstream ids;
  if (!ids_out.empty()) ids.open(ids_out);
  const auto now = std::chrono::system_clock::now();
  const auto span = std::chrono::hours(24);
  std::vector<StoreWrite> batch;
  batch.reserve(1100);
  for (long i = 0; i < jobs; ++i) {
    const Job& t = templates[static_cast<std::size_t>(i) % templates.size()];
    const long tenant = i % tenants;
    const std::string u = "seed_u" + std::to_string(tenant);
    const std::string ns = "seed-ns-" + std::to_string(tenant);
    StoreWrite w;
    w.op = StoreWrite::Op::kUpsertJob;
    w.job = std::make_unique<Job>(t);
    Job& j = *w.job;
    j.id = NewUuidV4();
    j.seq = ++seq;
    j.username = u;
    j.ns = ns;
    j.inputs = Rename(t.inputs, t.username, t.ns, u, ns);
    j.steps = Rename(t.steps, t.username, t.ns, u, ns);
    j.extra = Rename(t.extra, t.username, t.ns, u, ns);
    j.summary = Replace(Replace(t.summary, t.username, u), t.ns, ns);
    const auto created = now - span + span * i / jobs;
    j.created_at = FormatRfc3339Ms(created);
    j.started_at = FormatRfc3339Ms(created + std::chrono::milliseconds(5));
    j.finished_at = FormatRfc3339Ms(created + std::chrono::milliseconds(60));
    j.stored_secret.reset();
    j.request_id = NewUuidV4();
    if (ids.is_open()) ids << j.id << "\n";
    batch.push_back(std::move(w));
    if (i < tenants) {
      StoreWrite tw;
      tw.op = StoreWrite::Op::kPutTenant;
      tw.tenant = {u, ns, FormatRfc3339Ms(created)};
      batch.push_back(std::move(tw));
    }
    if (batch.size() >= 1000 || i + 1 == jobs) {
      if (Status s = store->Apply(batch); !s.ok()) {
        std::fprintf(stderr, "apply: %s\n", s.message().c_str());
        return 1;
      }
      batch.clear();
    }
  }
  store->Checkpoint();
  store.reset();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"seeded_jobs\":%ld,\"tenants\":%ld,\"template\":\"%s\",\"templates\":%zu,"
              "\"seconds\":%.2f}\n",
              jobs, std::min(jobs, tenants), built_in ? "built-in" : "store", templates.size(),
              secs);
  return 0;
}

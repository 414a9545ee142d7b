// The tenant lifecycle after bootstrap (SPEC §3): set_password,
// update_resources, set_operators, suspend, resume and delete. Every step is
// an ensure-step; suspend keeps what it changed in annotations in the cluster
// (never in the job store), and resume restores exactly that.
#include <boost/asio/awaitable.hpp>

#include <sstream>

#include "daemon/domain/manifests.h"
#include "daemon/domain/rbac.h"
#include "daemon/domain/requests.h"
#include "daemon/jobs/workflow_util.h"
#include "daemon/jobs/workflows.h"
#include "daemon/metrics/metrics.h"
#include "daemon/util/log.h"

namespace bootstrapd {

using namespace wf;
namespace asio = boost::asio;
using asio::awaitable;
using json = nlohmann::json;

namespace {

std::string Annotation(const json& obj, const char* key) {
  const json* a = nullptr;
  if (obj.contains("metadata") && obj["metadata"].contains("annotations")) {
    a = &obj["metadata"]["annotations"];
  }
  if (a == nullptr || !a->is_object() || !a->contains(key) || !(*a)[key].is_string()) return "";
  return (*a)[key].get<std::string>();
}

bool HasAnnotation(const json& obj, const char* key) {
  return obj.contains("metadata") && obj["metadata"].contains("annotations") &&
         obj["metadata"]["annotations"].is_object() &&
         obj["metadata"]["annotations"].contains(key);
}

std::string NameOf(const json& obj) { return obj["metadata"].value("name", ""); }

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += (s.empty() ? "" : "\n") + l;
  return s;
}

// everestctl's operator names in `namespaces list` -> the request's keys.
std::string OperatorKey(const std::string& listed) {
  if (listed == "psmdb" || listed == "mongodb") return "mongodb";
  if (listed == "pxc" || listed == "mysql" || listed == "xtradb-cluster") return "xtradb_cluster";
  if (listed == "postgresql" || listed == "pg") return "postgresql";
  return listed;
}

}  // namespace

// --- set_password -----------------------------------------------------------

awaitable<RunEnd> Workflows::RunPassword(JobRun* run) {
  Outcomes outcomes;
  std::vector<StepDef> steps = {Def("set_password", &Workflows::StepSetPassword)};
  RunEnd end = co_await RunSteps(run, std::move(steps), &outcomes);
  if (end == RunEnd::kSucceeded) run->job.summary = "Password of " + run->job.username + " updated.";
  co_return end;
}

awaitable<bool> Workflows::StepSetPassword(JobRun* run, StepState* st) {
  Job& job = run->job;
  if (!run->secret) {
    st->record["command"] =
        DisplayCommand(AccountsSetPasswordArgv(config_.everestctl, job.username, "********"));
    co_return Fail(st, "interrupted: secrets are never persisted; resubmit");
  }
  const std::string pw = *run->secret;
  const std::vector<std::string> secrets(1, pw);
  Argv argv = AccountsSetPasswordArgv(config_.everestctl, job.username, pw);
  CommandResult r = co_await Call(run, st, argv, "", config_.cli_timeout_s,
                                  Executor::Lane::kAccounts, "accounts set-password", secrets);
  SetMain(st, DisplayCommand(argv, secrets), r);
  if (st->Stopped()) co_return false;
  if (!r.Succeeded()) co_return Fail(st, ErrorOf(r));
  st->outcome = "done";
  co_return true;
}

// --- update_resources -------------------------------------------------------

awaitable<RunEnd> Workflows::RunResources(JobRun* run) {
  Outcomes outcomes;
  std::vector<StepDef> steps = {Def("apply_resource_quota", &Workflows::StepUpdateQuota)};
  RunEnd end = co_await RunSteps(run, std::move(steps), &outcomes);
  if (end == RunEnd::kSucceeded) {
    const json& r = run->job.steps.back()["resolved"];
    std::ostringstream s;
    s << "Quota of namespace " << run->job.ns << " "
      << (outcomes["apply_resource_quota"] == "done" ? "updated" : "already up to date")
      << ": cpu " << r.value("cpu_cores", 0.0) << ", ram " << r.value("ram_mb", 0) << " MiB, disk "
      << r.value("disk_gb", 0) << " GiB";
    if (r.contains("max_databases")) s << ", max databases " << r["max_databases"].get<long>();
    s << ".";
    run->job.summary = s.str();
  }
  co_return end;
}

awaitable<bool> Workflows::StepUpdateQuota(JobRun* run, StepState* st) {
  Job& job = run->job;
  bool not_found = false;
  auto current = co_await GetJson(
      run, st, KubectlGetArgv(config_.kubectl, "resourcequota", "user-quota", job.ns),
      "get resourcequota", &not_found);
  if (!current && !not_found) co_return false;
  Resources r;  // SPEC §2.1 defaults when there is no quota yet
  if (current) {
    const json hard = (*current)["spec"].value("hard", json::object());
    st->record["previous"] = hard;
    r = ResourcesFromQuota(hard, r);
  } else {
    st->record["previous"] = nullptr;
  }
  const json& patch = job.inputs["resources"];
  if (patch.contains("cpu_cores")) r.cpu_cores = patch["cpu_cores"].get<double>();
  if (patch.contains("ram_mb")) r.ram_mb = patch["ram_mb"].get<std::int64_t>();
  if (patch.contains("disk_gb")) r.disk_gb = patch["disk_gb"].get<std::int64_t>();
  if (patch.contains("max_databases")) r.max_databases = patch["max_databases"].get<std::int64_t>();
  json resolved = {{"cpu_cores", r.cpu_cores}, {"ram_mb", r.ram_mb}, {"disk_gb", r.disk_gb}};
  if (r.max_databases) resolved["max_databases"] = *r.max_databases;
  st->record["resolved"] = resolved;
  const json manifests = BuildQuotaManifests(job.ns, r, config_.db_count_resources);
  st->record["manifest_preview"] = manifests.dump(2);
  Argv argv = KubectlApplyArgv(config_.kubectl, job.ns);
  CommandResult c = co_await Call(run, st, argv, manifests.dump(), config_.cli_timeout_s,
                                  Executor::Lane::kNone, "apply");
  SetMain(st, DisplayCommand(argv), c);
  if (st->Stopped()) co_return false;
  if (!c.Succeeded()) co_return Fail(st, ErrorOf(c));
  const bool unchanged = c.out.find("created") == std::string::npos &&
                         c.out.find("configured") == std::string::npos;
  st->outcome = unchanged ? "already_done" : "done";
  co_return true;
}

// --- set_operators ----------------------------------------------------------

awaitable<RunEnd> Workflows::RunOperators(JobRun* run) {
  Outcomes outcomes;
  std::vector<StepDef> steps = {Def("update_operators", &Workflows::StepUpdateOperators)};
  RunEnd end = co_await RunSteps(run, std::move(steps), &outcomes);
  if (end == RunEnd::kSucceeded) {
    const json& step = run->job.steps.back();
    std::string installed;
    for (const auto& op : step.value("installed_after", json::array())) {
      installed += (installed.empty() ? "" : ", ") + op.get<std::string>();
    }
    run->job.summary = "Operators of namespace " + run->job.ns + " " +
                       (outcomes["update_operators"] == "done" ? "updated" : "already as asked") +
                       "; installed: " + (installed.empty() ? "none" : installed) + ".";
  }
  co_return end;
}

awaitable<bool> Workflows::StepUpdateOperators(JobRun* run, StepState* st) {
  Job& job = run->job;
  // What is installed now (everestctl cannot remove an operator: check first).
  Argv list = NamespacesListArgv(config_.everestctl);
  CommandResult l = co_await Call(run, st, list, "", config_.cli_timeout_s, Executor::Lane::kNone,
                                  "namespaces list", {}, kParsedOutputCap);
  if (st->Stopped()) co_return false;
  if (!l.Succeeded()) {
    SetMain(st, DisplayCommand(list), l);
    co_return Fail(st, ErrorOf(l));
  }
  std::string err;
  auto rows = ParseNamespacesTable(l.out, &err);
  if (!rows) {
    SetMain(st, DisplayCommand(list), l);
    co_return Fail(st, "cannot parse `everestctl namespaces list`: " + err);
  }
  std::map<std::string, bool> installed = {
      {"mongodb", false}, {"postgresql", false}, {"xtradb_cluster", false}};
  bool listed = false;
  for (const auto& row : *rows) {
    if (row.name != job.ns) continue;
    listed = true;
    for (const auto& [name, version] : row.operators) installed[OperatorKey(name)] = true;
  }
  json before = json::array();
  for (const auto& [k, v] : installed) {
    if (v) before.push_back(k);
  }
  st->record["installed_before"] = before;
  const json& asked = job.inputs["operators"];
  std::map<std::string, bool> desired = installed;
  std::vector<std::string> refused;
  for (const auto& [k, v] : installed) {
    if (!asked.contains(k)) continue;
    const bool want = asked[k].get<bool>();
    if (!want && v) refused.push_back(k);
    desired[k] = want || v;
  }
  if (!refused.empty()) {
    std::string names;
    for (const auto& r : refused) names += (names.empty() ? "" : ", ") + r;
    job.extra["conflict"] = "everestctl cannot remove an installed operator (" + names +
                            " is installed in " + job.ns + "); nothing was changed";
    job.extra["operators_refused"] = refused;
    st->record["command"] = DisplayCommand(list);
    co_return Fail(st, job.extra["conflict"].get<std::string>());
  }
  json after = json::array();
  for (const auto& [k, v] : desired) {
    if (v) after.push_back(k);
  }
  st->record["installed_after"] = after;
  if (listed && desired == installed) {
    SetMain(st, DisplayCommand(list), l);
    st->record["stdout"] = "";
    st->outcome = "already_done";
    co_return true;
  }
  OperatorFlags flags{desired["mongodb"], desired["postgresql"], desired["xtradb_cluster"]};
  std::optional<CliVersion> v = co_await EverestctlVersion();
  std::string flag = (v && !v->AtLeast(1, 6)) ? "xtradb-cluster" : "mysql";
  for (int attempt = 0; attempt < 2; ++attempt) {
    Argv argv = NamespacesUpdateArgv(config_.everestctl, job.ns, flags, flag);
    CommandResult r = co_await Call(run, st, argv, "", config_.namespace_timeout_s,
                                    Executor::Lane::kNone, "namespaces update");
    SetMain(st, DisplayCommand(argv), r);
    if (st->Stopped()) co_return false;
    if (r.Succeeded()) {
      st->outcome = "done";
      co_return true;
    }
    if (attempt == 0 && Contains(r, "unknown flag: --operator." + flag)) {
      flag = flag == "mysql" ? "xtradb-cluster" : "mysql";
      continue;
    }
    co_return Fail(st, ErrorOf(r));
  }
  co_return Fail(st, "namespaces update failed");
}

// --- suspend ----------------------------------------------------------------

awaitable<RunEnd> Workflows::RunSuspend(JobRun* run) {
  Outcomes outcomes;
  std::vector<StepDef> steps = {Def("pause_database_clusters", &Workflows::StepPauseClusters),
                                Def("scale_statefulsets", &Workflows::StepScaleDown),
                                Def("revoke_rbac", &Workflows::StepRevokeRbac)};
  RunEnd end = co_await RunSteps(run, std::move(steps), &outcomes);
  if (end == RunEnd::kSucceeded) {
    const json& s = run->job.steps;
    std::ostringstream o;
    o << "Tenant " << run->job.username << " suspended: "
      << s[0].value("paused", json::array()).size() << " DatabaseCluster(s) paused";
    if (outcomes["scale_statefulsets"] == "skipped") o << ", StatefulSets left running";
    else o << ", " << s[1].value("scaled", json::array()).size() << " StatefulSet(s) scaled to 0";
    o << (outcomes["revoke_rbac"] == "skipped" ? ", RBAC kept" : ", RBAC revoked") << ".";
    run->job.summary = o.str();
  }
  co_return end;
}

awaitable<bool> Workflows::StepPauseClusters(JobRun* run, StepState* st) {
  Job& job = run->job;
  const std::string& kc = config_.kubectl;
  bool not_found = false;
  auto ns = co_await GetJson(run, st, KubectlGetArgv(kc, "namespace", job.ns, ""), "get namespace",
                             &not_found);
  if (!ns) co_return not_found ? Fail(st, "namespace " + job.ns + " does not exist") : false;
  bool changed = false;
  if (!HasAnnotation(*ns, kSuspendedAnnotation)) {
    Argv a = KubectlAnnotateArgv(kc, "namespace", job.ns, "",
                                 std::string(kSuspendedAnnotation) + "=" + jobs_->Now());
    CommandResult r = co_await Call(run, st, a, "", config_.cli_timeout_s, Executor::Lane::kNone,
                                    "annotate");
    SetMain(st, DisplayCommand(a), r);
    if (st->Stopped()) co_return false;
    if (!r.Succeeded()) co_return Fail(st, ErrorOf(r));
    changed = true;
  }
  auto list = co_await GetJson(run, st, KubectlGetArgv(kc, "databaseclusters", "", job.ns),
                               "get databaseclusters", &not_found);
  if (!list) co_return not_found ? Fail(st, "cannot list DatabaseClusters") : false;
  json paused = json::array();
  for (const auto& dbc : (*list)["items"]) {
    const std::string name = NameOf(dbc);
    const bool is_paused = dbc.contains("spec") && dbc["spec"].value("paused", false);
    if (is_paused && !HasAnnotation(dbc, kSuspendedAnnotation)) continue;  // paused by someone else
    if (!HasAnnotation(dbc, kSuspendedAnnotation)) {
      // Mark first: resume unpauses only the clusters this service paused.
      Argv a = KubectlAnnotateArgv(kc, "databasecluster", name, job.ns,
                                   std::string(kSuspendedAnnotation) + "=true");
      CommandResult r = co_await Call(run, st, a, "", config_.cli_timeout_s,
                                      Executor::Lane::kNone, "annotate");
      if (st->Stopped()) co_return false;
      if (!r.Succeeded()) {
        SetMain(st, DisplayCommand(a), r);
        co_return Fail(st, ErrorOf(r));
      }
      changed = true;
    }
    if (!is_paused) {
      Argv p = KubectlPatchArgv(kc, "databasecluster", name, job.ns, R"({"spec":{"paused":true}})");
      CommandResult r = co_await Call(run, st, p, "", config_.cli_timeout_s,
                                      Executor::Lane::kNone, "patch");
      SetMain(st, DisplayCommand(p), r);
      if (st->Stopped()) co_return false;
      if (!r.Succeeded()) co_return Fail(st, ErrorOf(r));
      changed = true;
    }
    paused.push_back(name);
  }
  st->record["paused"] = paused;
  st->outcome = changed ? "done" : "already_done";
  co_return true;
}

awaitable<bool> Workflows::StepScaleDown(JobRun* run, StepState* st) {
  Job& job = run->job;
  if (!job.inputs.value("scale_statefulsets", true)) {
    st->outcome = "skipped";
    co_return true;
  }
  const std::string& kc = config_.kubectl;
  bool not_found = false;
  auto list = co_await GetJson(run, st, KubectlGetArgv(kc, "statefulsets", "", job.ns),
                               "get statefulsets", &not_found);
  if (!list) co_return not_found ? Fail(st, "cannot list StatefulSets") : false;
  bool changed = false;
  json scaled = json::array();
  for (const auto& sts : (*list)["items"]) {
    const std::string name = NameOf(sts);
    const long replicas = sts.contains("spec") ? sts["spec"].value("replicas", 1L) : 1L;
    if (!HasAnnotation(sts, kSuspendedReplicasAnnotation)) {
      // Only when absent: a second suspend must never record 0.
      Argv a = KubectlAnnotateArgv(kc, "statefulset", name, job.ns,
                                   std::string(kSuspendedReplicasAnnotation) + "=" +
                                       std::to_string(replicas));
      CommandResult r = co_await Call(run, st, a, "", config_.cli_timeout_s,
                                      Executor::Lane::kNone, "annotate");
      if (st->Stopped()) co_return false;
      if (!r.Succeeded()) {
        SetMain(st, DisplayCommand(a), r);
        co_return Fail(st, ErrorOf(r));
      }
      changed = true;
    }
    if (replicas != 0) {
      Argv sc = KubectlScaleArgv(kc, name, job.ns, 0);
      CommandResult r = co_await Call(run, st, sc, "", config_.cli_timeout_s,
                                      Executor::Lane::kNone, "scale");
      SetMain(st, DisplayCommand(sc), r);
      if (st->Stopped()) co_return false;
      if (!r.Succeeded()) co_return Fail(st, ErrorOf(r));
      changed = true;
    }
    scaled.push_back(name);
  }
  st->record["scaled"] = scaled;
  if (scaled.empty()) st->record["note"] = "no StatefulSets to scale";
  st->outcome = changed ? "done" : "already_done";
  co_return true;
}

awaitable<bool> Workflows::StepRevokeRbac(JobRun* run, StepState* st) {
  Job& job = run->job;
  if (!job.inputs.value("revoke_rbac", true)) {
    st->outcome = "skipped";
    co_return true;
  }
  if (config_.rbac_mode != RbacMode::kConfigMap) {
    st->record["note"] = std::string("EVEREST_RBAC_MODE=") + RbacModeName(config_.rbac_mode) +
                         ": this service does not own the policy, nothing to revoke";
    st->outcome = "skipped";
    co_return true;
  }
  const bool acquired = co_await AcquireRbacLane(run, st);
  if (!acquired) co_return false;
  SemaphoreGuard lane(&executor_->rbac_lane());
  for (int attempt = 0; attempt < kConflictAttempts; ++attempt) {
    json cm;
    std::string policy;
    const bool read = co_await ReadRbac(run, st, &cm, &policy);
    if (!read) co_return false;
    std::vector<std::string> removed;
    const std::string updated = RemoveUserBlock(policy, job.username, &removed);
    if (removed.empty()) {
      st->outcome = "already_done";
      co_return true;
    }
    // Keep the removed lines in the namespace first (only when absent: a second
    // suspend keeps the first one's record), then write the policy.
    bool not_found = false;
    auto ns = co_await GetJson(run, st, KubectlGetArgv(config_.kubectl, "namespace", job.ns, ""),
                               "get namespace", &not_found);
    if (!ns) co_return not_found ? Fail(st, "namespace " + job.ns + " does not exist") : false;
    if (!HasAnnotation(*ns, kSuspendedRbacAnnotation)) {
      Argv a = KubectlAnnotateArgv(config_.kubectl, "namespace", job.ns, "",
                                   std::string(kSuspendedRbacAnnotation) + "=" + JoinLines(removed));
      CommandResult r = co_await Call(run, st, a, "", config_.cli_timeout_s,
                                      Executor::Lane::kNone, "annotate");
      if (st->Stopped()) co_return false;
      if (!r.Succeeded()) {
        SetMain(st, DisplayCommand(a), r);
        co_return Fail(st, ErrorOf(r));
      }
    }
    st->record["revoked"] = removed;
    const int w = co_await WriteRbac(run, st, cm, updated, false);
    if (w < 0) co_return false;
    if (w > 0) {
      st->outcome = "done";
      co_return true;
    }
    metrics_->degraded.Add({{"reason", "rbac_conflict_retry"}}).Increment();
    co_await Backoff(attempt);
  }
  co_return Fail(st, "everest-rbac kept changing under us");
}

// --- resume -----------------------------------------------------------------

awaitable<RunEnd> Workflows::RunResume(JobRun* run) {
  Outcomes outcomes;
  std::vector<StepDef> steps = {Def("restore_rbac", &Workflows::StepRestoreRbac),
                                Def("restore_statefulsets", &Workflows::StepScaleUp),
                                Def("unpause_database_clusters", &Workflows::StepUnpauseClusters)};
  RunEnd end = co_await RunSteps(run, std::move(steps), &outcomes);
  if (end == RunEnd::kSucceeded) {
    const json& s = run->job.steps;
    std::ostringstream o;
    o << "Tenant " << run->job.username << " resumed: "
      << (outcomes["restore_rbac"] == "done" ? "RBAC restored" : "RBAC unchanged") << ", "
      << s[1].value("restored", json::array()).size() << " StatefulSet(s) restored, "
      << s[2].value("unpaused", json::array()).size() << " DatabaseCluster(s) unpaused.";
    run->job.summary = o.str();
  }
  co_return end;
}

awaitable<bool> Workflows::StepRestoreRbac(JobRun* run, StepState* st) {
  Job& job = run->job;
  bool not_found = false;
  auto ns = co_await GetJson(run, st, KubectlGetArgv(config_.kubectl, "namespace", job.ns, ""),
                             "get namespace", &not_found);
  if (!ns) co_return not_found ? Fail(st, "namespace " + job.ns + " does not exist") : false;
  if (!HasAnnotation(*ns, kSuspendedRbacAnnotation)) {
    st->outcome = "already_done";
    st->record["note"] = "no revoked RBAC block recorded";
    co_return true;
  }
  const std::vector<std::string> lines = SplitLines(Annotation(*ns, kSuspendedRbacAnnotation));
  st->record["restored"] = lines;
  if (config_.rbac_mode == RbacMode::kConfigMap && !lines.empty()) {
    const std::string user = job.username;
    std::function<std::string(const std::string&)> edit = [user, lines](const std::string& p) {
      return ReplaceUserBlock(p, user, lines);
    };
    bool changed = false;
    const bool ok = co_await EditRbac(run, st, std::move(edit), false, &changed);
    if (!ok) co_return false;
  }
  Argv a = KubectlAnnotateArgv(config_.kubectl, "namespace", job.ns, "",
                               std::string(kSuspendedRbacAnnotation) + "-");
  CommandResult r = co_await Call(run, st, a, "", config_.cli_timeout_s, Executor::Lane::kNone,
                                  "annotate");
  if (st->Stopped()) co_return false;
  if (!r.Succeeded()) {
    SetMain(st, DisplayCommand(a), r);
    co_return Fail(st, ErrorOf(r));
  }
  st->outcome = "done";
  co_return true;
}

awaitable<bool> Workflows::StepScaleUp(JobRun* run, StepState* st) {
  Job& job = run->job;
  const std::string& kc = config_.kubectl;
  bool not_found = false;
  auto list = co_await GetJson(run, st, KubectlGetArgv(kc, "statefulsets", "", job.ns),
                               "get statefulsets", &not_found);
  if (!list) co_return not_found ? Fail(st, "cannot list StatefulSets") : false;
  json restored = json::array();
  for (const auto& sts : (*list)["items"]) {
    if (!HasAnnotation(sts, kSuspendedReplicasAnnotation)) continue;
    const std::string name = NameOf(sts);
    const std::string recorded = Annotation(sts, kSuspendedReplicasAnnotation);
    char* end = nullptr;
    const long replicas = std::strtol(recorded.c_str(), &end, 10);
    if (recorded.empty() || *end != '\0' || replicas < 0) {
      co_return Fail(st, "StatefulSet " + name + " has an unreadable " +
                             kSuspendedReplicasAnnotation + " annotation '" + recorded + "'");
    }
    Argv sc = KubectlScaleArgv(kc, name, job.ns, replicas);
    CommandResult r = co_await Call(run, st, sc, "", config_.cli_timeout_s, Executor::Lane::kNone,
                                    "scale");
    SetMain(st, DisplayCommand(sc), r);
    if (st->Stopped()) co_return false;
    if (!r.Succeeded()) co_return Fail(st, ErrorOf(r));
    Argv a = KubectlAnnotateArgv(kc, "statefulset", name, job.ns,
                                 std::string(kSuspendedReplicasAnnotation) + "-");
    CommandResult r2 = co_await Call(run, st, a, "", config_.cli_timeout_s, Executor::Lane::kNone,
                                     "annotate");
    if (st->Stopped()) co_return false;
    if (!r2.Succeeded()) co_return Fail(st, ErrorOf(r2));
    restored.push_back({{"name", name}, {"replicas", replicas}});
  }
  st->record["restored"] = restored;
  st->outcome = restored.empty() ? "already_done" : "done";
  co_return true;
}

awaitable<bool> Workflows::StepUnpauseClusters(JobRun* run, StepState* st) {
  Job& job = run->job;
  const std::string& kc = config_.kubectl;
  bool not_found = false;
  auto list = co_await GetJson(run, st, KubectlGetArgv(kc, "databaseclusters", "", job.ns),
                               "get databaseclusters", &not_found);
  if (!list) co_return not_found ? Fail(st, "cannot list DatabaseClusters") : false;
  json unpaused = json::array();
  for (const auto& dbc : (*list)["items"]) {
    if (!HasAnnotation(dbc, kSuspendedAnnotation)) continue;  // not paused by this service
    const std::string name = NameOf(dbc);
    Argv p = KubectlPatchArgv(kc, "databasecluster", name, job.ns, R"({"spec":{"paused":false}})");
    CommandResult r = co_await Call(run, st, p, "", config_.cli_timeout_s, Executor::Lane::kNone,
                                    "patch");
    SetMain(st, DisplayCommand(p), r);
    if (st->Stopped()) co_return false;
    if (!r.Succeeded()) co_return Fail(st, ErrorOf(r));
    Argv a = KubectlAnnotateArgv(kc, "databasecluster", name, job.ns,
                                 std::string(kSuspendedAnnotation) + "-");
    CommandResult r2 = co_await Call(run, st, a, "", config_.cli_timeout_s, Executor::Lane::kNone,
                                     "annotate");
    if (st->Stopped()) co_return false;
    if (!r2.Succeeded()) co_return Fail(st, ErrorOf(r2));
    unpaused.push_back(name);
  }
  st->record["unpaused"] = unpaused;
  bool ns_missing = false;
  auto ns = co_await GetJson(run, st, KubectlGetArgv(kc, "namespace", job.ns, ""), "get namespace",
                             &ns_missing);
  if (!ns) co_return ns_missing ? Fail(st, "namespace " + job.ns + " does not exist") : false;
  bool marked = HasAnnotation(*ns, kSuspendedAnnotation);
  if (marked) {
    Argv a = KubectlAnnotateArgv(kc, "namespace", job.ns, "",
                                 std::string(kSuspendedAnnotation) + "-");
    CommandResult r = co_await Call(run, st, a, "", config_.cli_timeout_s, Executor::Lane::kNone,
                                    "annotate");
    if (st->Stopped()) co_return false;
    if (!r.Succeeded()) co_return Fail(st, ErrorOf(r));
  }
  st->outcome = unpaused.empty() && !marked ? "already_done" : "done";
  co_return true;
}

// --- delete -----------------------------------------------------------------

awaitable<RunEnd> Workflows::RunDelete(JobRun* run) {
  Outcomes outcomes;
  std::vector<StepDef> steps = {Def("remove_namespace", &Workflows::StepRemoveNamespace),
                                Def("delete_account", &Workflows::StepDeleteAccount),
                                Def("remove_rbac_policy", &Workflows::StepRemoveRbac),
                                Def("forget_tenant", &Workflows::StepForgetTenant)};
  RunEnd end = co_await RunSteps(run, std::move(steps), &outcomes);
  if (end == RunEnd::kSucceeded) {
    const Job& j = run->job;
    const bool kept = j.inputs.value("keep_namespace", false);
    std::string s = "Tenant " + j.username + " deleted: namespace " + j.ns;
    s += outcomes["remove_namespace"] == "already_done" ? " was already gone"
         : kept                                         ? " released by Everest (kept)"
                                                        : " removed";
    s += outcomes["delete_account"] == "already_done" ? ", account was already gone"
                                                      : ", account deleted";
    s += outcomes["remove_rbac_policy"] == "skipped" ? ", RBAC not managed here."
                                                     : ", RBAC block removed.";
    run->job.summary = s;
  }
  co_return end;
}

awaitable<bool> Workflows::StepRemoveNamespace(JobRun* run, StepState* st) {
  Job& job = run->job;
  const bool force = job.inputs.value("force", false);
  const bool keep = job.inputs.value("keep_namespace", false);
  Argv argv = NamespacesRemoveArgv(config_.everestctl, job.ns, force, keep);
  CommandResult r = co_await Call(run, st, argv, "", config_.namespace_timeout_s,
                                  Executor::Lane::kNone, "namespaces remove");
  SetMain(st, DisplayCommand(argv), r);
  if (st->Stopped()) co_return false;
  if (r.Succeeded()) {
    st->outcome = "done";
    co_return true;
  }
  if (r.status != CommandResult::Status::kExited) co_return Fail(st, ErrorOf(r));
  if (Contains(r, "namespace does not exist")) {
    st->outcome = "already_done";
    co_return true;
  }
  if (Contains(r, "cannot remove namespace with running database clusters")) {
    co_return Fail(st, ErrorOf(r));  // never fall back past this refusal
  }
  if (!Contains(r, "is not managed by Everest")) co_return Fail(st, ErrorOf(r));
  // Not Everest's: fall back to kubectl only for a namespace that is ours.
  auto owner = jobs_->TenantOfNamespace(job.ns);
  bool ours = owner && owner->username == job.username;
  for (const auto& p : config_.allowed_namespace_prefixes) {
    ours = ours || job.ns.rfind(p, 0) == 0;
  }
  if (keep || IsReservedNamespace(job.ns) || !ours) {
    co_return Fail(st, ErrorOf(r) + (keep ? " (keep_namespace is set: no kubectl fallback)"
                                          : " (not this service's namespace: no kubectl fallback)"));
  }
  Argv del = KubectlDeleteNamespaceArgv(config_.kubectl, job.ns);
  CommandResult d = co_await Call(run, st, del, "", config_.cli_timeout_s, Executor::Lane::kNone,
                                  "delete namespace");
  SetMain(st, DisplayCommand(del), d);
  if (st->Stopped()) co_return false;
  if (!d.Succeeded()) co_return Fail(st, ErrorOf(d));
  st->record["fallback"] = "kubectl delete namespace (everestctl: not managed by Everest)";
  st->outcome = "done";
  co_return true;
}

awaitable<bool> Workflows::StepDeleteAccount(JobRun* run, StepState* st) {
  Job& job = run->job;
  Argv argv = AccountsDeleteArgv(config_.everestctl, job.username);
  CommandResult r = co_await Call(run, st, argv, "", config_.cli_timeout_s,
                                  Executor::Lane::kAccounts, "accounts delete");
  SetMain(st, DisplayCommand(argv), r);
  if (st->Stopped()) co_return false;
  if (r.Succeeded()) {
    st->outcome = "done";
    co_return true;
  }
  if (r.status == CommandResult::Status::kExited && Contains(r, "account not found")) {
    st->outcome = "already_done";
    co_return true;
  }
  co_return Fail(st, ErrorOf(r));
}

awaitable<bool> Workflows::StepRemoveRbac(JobRun* run, StepState* st) {
  Job& job = run->job;
  if (config_.rbac_mode != RbacMode::kConfigMap) {
    st->record["note"] = std::string("EVEREST_RBAC_MODE=") + RbacModeName(config_.rbac_mode) +
                         ": remove the role with your own tooling";
    st->outcome = "skipped";
    co_return true;
  }
  const std::string user = job.username;
  std::function<std::string(const std::string&)> edit = [user](const std::string& p) {
    return RemoveUserBlock(p, user, nullptr);
  };
  bool changed = false;
  const bool ok = co_await EditRbac(run, st, std::move(edit), false, &changed);
  if (!ok) co_return false;
  st->outcome = changed ? "done" : "already_done";
  co_return true;
}

awaitable<bool> Workflows::StepForgetTenant(JobRun* run, StepState* st) {
  const bool bound = jobs_->TenantOfUser(run->job.username).has_value();
  Status s = co_await jobs_->ForgetTenant(run->job.username);
  if (!s.ok()) co_return Fail(st, "cannot update the tenants table: " + s.message());
  st->record["command"] = "(job store) forget " + run->job.username + " <-> " + run->job.ns;
  st->outcome = bound ? "done" : "already_done";
  co_return true;
}

}  // namespace bootstrapd

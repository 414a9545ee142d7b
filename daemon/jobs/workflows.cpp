#include "daemon/jobs/workflows.h"
#include "daemon/jobs/workflow_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "daemon/domain/manifests.h"
#include "daemon/domain/rbac.h"
#include "daemon/domain/text.h"
#include "daemon/metrics/metrics.h"
#include "daemon/util/log.h"

namespace bootstrapd {

using namespace wf;
namespace asio = boost::asio;
using asio::awaitable;
using json = nlohmann::json;



Workflows::Workflows(const Config& config, Executor* executor, JobManager* jobs, Metrics* metrics)
    : config_(config), executor_(executor), jobs_(jobs), metrics_(metrics) {}

awaitable<CommandResult> Workflows::Call(JobRun* run, StepState* st, Argv argv,
                                         std::string stdin_data, int timeout_s,
                                         Executor::Lane lane, std::string metric_sub,
                                         std::vector<std::string> secrets, std::size_t output_cap) {
  const std::string display = DisplayCommand(argv, secrets);
  CommandResult r;
  for (int attempt = 0;; ++attempt) {
    CommandSpec spec;
    spec.argv = argv;
    spec.stdin_data = stdin_data;
    spec.timeout = std::chrono::seconds(timeout_s);
    spec.cancel = run->cancel;
    spec.metric_subcommand = metric_sub;
    spec.owner = run->job.id;
    spec.output_cap = output_cap;
    r = co_await executor_->Run(std::move(spec), lane);
    MarkEverestctlError(config_.everestctl, argv, &r);
    json call = {{"command", display},
                 {"status", StatusName(r.status)},
                 {"exit_code", r.status == CommandResult::Status::kExited ? json(r.exit_code)
                                                                            : json(nullptr)},
                 {"duration_ms", r.duration.count()}};
    if (r.reported_error) call["reported_error"] = true;
    st->record["calls"].push_back(call);
    log::Info("cli call", {{"job_id", run->job.id},
                           {"step", st->name},
                           {"command", display},
                           {"status", StatusName(r.status)},
                           {"exit_code", r.exit_code},
                           {"duration_ms", r.duration.count()}});
    if (r.status == CommandResult::Status::kCanceled) {
      if (run->abandon) st->abandoned = true;
      else st->canceled = true;
      co_return r;
    }
    // Everest rewrites its Secret and ConfigMap without retry; a concurrent
    // writer outside this daemon shows up as a conflict: back off and retry.
    const bool conflict = r.status == CommandResult::Status::kExited && r.exit_code != 0 &&
                          Contains(r, kConflictText);
    if (!conflict || lane != Executor::Lane::kAccounts || attempt + 1 >= kConflictAttempts) {
      co_return r;
    }
    metrics_->degraded.Add({{"reason", "cli_conflict_retry"}}).Increment();
    log::Warn("conflict, retrying", {{"job_id", run->job.id}, {"step", st->name},
                                     {"attempt", attempt + 1}});
    co_await Backoff(attempt);
  }
}

awaitable<std::optional<CliVersion>> Workflows::EverestctlVersion() {
  if (version_) co_return version_;
  CommandSpec spec;
  spec.argv = VersionArgv(config_.everestctl);
  spec.timeout = std::chrono::seconds(config_.cli_timeout_s);
  spec.metric_subcommand = "version";
  CommandResult r = co_await executor_->Run(std::move(spec));
  if (r.Succeeded()) version_ = ParseEverestctlVersion(r.out);
  if (!version_) {
    log::Warn("cannot read everestctl version; assuming >= 1.6 (--operator.mysql)",
              {{"error", ErrorOf(r)}});
    metrics_->degraded.Add({{"reason", "everestctl_version_unknown"}}).Increment();
  }
  co_return version_;
}

awaitable<RunEnd> Workflows::Run(JobRun* run) {
  RunEnd e = RunEnd::kFailed;
  switch (run->job.kind) {
    case JobKind::kBootstrap: e = co_await RunBootstrap(run); break;
    case JobKind::kPassword: e = co_await RunPassword(run); break;
    case JobKind::kResources: e = co_await RunResources(run); break;
    case JobKind::kOperators: e = co_await RunOperators(run); break;
    case JobKind::kSuspend: e = co_await RunSuspend(run); break;
    case JobKind::kResume: e = co_await RunResume(run); break;
    case JobKind::kDelete: e = co_await RunDelete(run); break;
  }
  co_return e;
}

Workflows::StepDef Workflows::Def(const char* name,
                                  awaitable<bool> (Workflows::*fn)(JobRun*, StepState*)) {
  return {name, [this, fn](JobRun* r, StepState* s) { return (this->*fn)(r, s); }};
}

awaitable<RunEnd> Workflows::RunSteps(JobRun* run, std::vector<StepDef> steps, Outcomes* outcomes) {
  Job& job = run->job;
  for (const auto& def : steps) {
    const std::string name = def.name;
    // This step's record from an earlier attempt (restart), if any.
    int idx = -1;
    for (std::size_t i = 0; i < job.steps.size(); ++i) {
      if (job.steps[i].value("name", "") == name) idx = static_cast<int>(i);
    }
    int attempts = 0;
    StepState st;
    st.name = name;
    if (idx >= 0) {
      const std::string prev = job.steps[idx].value("outcome", "");
      if (prev == "done" || prev == "already_done" || prev == "skipped") {
        (*outcomes)[name] = prev;
        continue;
      }
      attempts = job.steps[idx].value("attempts", 0);
      st.interrupted_before = prev == "interrupted" || prev == "running";
    } else {
      idx = static_cast<int>(job.steps.size());
      job.steps.push_back(json::object());
    }
    st.record = {{"name", name},
                 {"command", ""},
                 {"exit_code", nullptr},
                 {"stdout", ""},
                 {"stderr", ""},
                 {"started_at", jobs_->Now()},
                 {"finished_at", nullptr},
                 {"outcome", "running"},
                 {"attempts", attempts + 1},
                 {"calls", json::array()}};
    if (st.interrupted_before) st.record["resumed_after_interruption"] = true;
    job.steps[idx] = st.record;
    co_await jobs_->Persist(job);  // "running" is durable: a kill now is seen as an interruption

    const bool ok = co_await def.fn(run, &st);
    if (st.abandoned) co_return RunEnd::kAbandoned;
    if (st.canceled) {
      st.outcome = "failed";
      st.error = "canceled";
    }
    st.record["outcome"] = st.outcome;
    st.record["finished_at"] = jobs_->Now();
    if (!st.error.empty()) st.record["error"] = st.error;
    job.steps[idx] = st.record;
    log::Info("step finished", {{"job_id", job.id}, {"step", name}, {"outcome", st.outcome}});
    if (!ok) {
      job.summary = name + " failed: " + st.error;
      co_return st.canceled ? RunEnd::kCanceled : RunEnd::kFailed;
    }
    (*outcomes)[name] = st.outcome;
    // No commit of its own: this step's end becomes durable with the next
    // step's "running" record, or with the job's final state (RunJob; on an
    // abandon, RunJob persists it too). Nothing happens in between, so the
    // stored states are the same, with one commit (and fsync) less per step.
  }
  co_return RunEnd::kSucceeded;
}

awaitable<RunEnd> Workflows::RunBootstrap(JobRun* run) {
  Outcomes outcomes;
  std::vector<StepDef> steps = {Def("create_account", &Workflows::StepCreateAccount),
                                Def("add_namespace", &Workflows::StepAddNamespace),
                                Def("apply_resource_quota", &Workflows::StepApplyQuota),
                                Def("apply_rbac_policy", &Workflows::StepApplyRbac)};
  RunEnd end = co_await RunSteps(run, std::move(steps), &outcomes);
  if (end != RunEnd::kSucceeded) co_return end;
  Job& job = run->job;
  const std::string& u = job.username;
  const std::string& ns = job.ns;
  const bool acc_new = outcomes["create_account"] == "done";
  const bool ns_new = outcomes["add_namespace"] == "done";
  std::string s;
  if (acc_new && ns_new) {
    s = "User " + u + " and namespace " + ns + " created";
  } else {
    s = acc_new ? "User " + u + " created" : "User " + u + " already existed (password unchanged)";
    s += ns_new ? "; namespace " + ns + " created"
                : "; namespace " + ns + " already managed by Everest";
  }
  s += "; quota applied";
  s += outcomes["apply_rbac_policy"] == "skipped" ? "; RBAC skipped (EVEREST_RBAC_MODE=off)."
                                                  : "; role bound.";
  job.summary = s;
  co_return RunEnd::kSucceeded;
}

awaitable<bool> Workflows::StepCreateAccount(JobRun* run, StepState* st) {
  Job& job = run->job;
  if (!run->secret) {
    st->record["command"] = DisplayCommand(
        AccountsCreateArgv(config_.everestctl, job.username, "********"));
    co_return Fail(st, "interrupted: secrets are never persisted; resubmit");
  }
  const std::string pw = *run->secret;
  Argv argv = AccountsCreateArgv(config_.everestctl, job.username, pw);
  const std::vector<std::string> secrets(1, pw);  // no braced lists in co_await (GCC 12)
  CommandResult r = co_await Call(run, st, argv, "", config_.cli_timeout_s,
                                  Executor::Lane::kAccounts, "accounts create", secrets);
  SetMain(st, DisplayCommand(argv, {pw}), r);
  if (st->canceled || st->abandoned) co_return false;
  json creds = {{"username", job.username}, {"password_source", job.secret_origin}};
  if (r.Succeeded()) {
    st->outcome = "done";
    creds["password_set"] = true;
    job.extra["credentials"] = creds;
    co_return true;
  }
  if (r.status == CommandResult::Status::kExited && Contains(r, "user already exists")) {
    if (st->interrupted_before && job.secret_origin != "request") {
      // Our own earlier attempt may have created it just before the stop: make
      // the password we hold (and will return) the one that works.
      Argv sp = {config_.everestctl, "accounts", "set-password", "-u", job.username,
                 "--new-password", pw};
      CommandResult r2 = co_await Call(run, st, sp, "", config_.cli_timeout_s,
                                       Executor::Lane::kAccounts, "accounts set-password", secrets);
      if (st->canceled || st->abandoned) co_return false;
      if (!r2.Succeeded()) {
        SetMain(st, DisplayCommand(sp, {pw}), r2);
        co_return Fail(st, ErrorOf(r2));
      }
      st->outcome = "done";
      st->record["note"] =
          "the account existed after an interrupted attempt; its password was set to this job's";
      creds["password_set"] = true;
      job.extra["credentials"] = creds;
      co_return true;
    }
    st->outcome = "already_done";
    creds["password_set"] = false;
    creds["note"] = "the account already existed; its password was left unchanged";
    job.extra["credentials"] = creds;
    co_return true;
  }
  co_return Fail(st, ErrorOf(r));
}

awaitable<bool> Workflows::StepAddNamespace(JobRun* run, StepState* st) {
  Job& job = run->job;
  const json& in = job.inputs;
  OperatorFlags ops{in["operators"].value("mongodb", true), in["operators"].value("postgresql", true),
                    in["operators"].value("xtradb_cluster", true)};
  bool take = in.value("take_ownership", false);
  std::optional<CliVersion> v = co_await EverestctlVersion();
  std::string flag = (v && !v->AtLeast(1, 6)) ? "xtradb-cluster" : "mysql";
  bool flag_retried = false, ownership_retried = false;
  for (;;) {
    Argv argv = NamespacesAddArgv(config_.everestctl, job.ns, ops, flag, take);
    CommandResult r = co_await Call(run, st, argv, "", config_.namespace_timeout_s,
                                    Executor::Lane::kNone, "namespaces add");
    SetMain(st, DisplayCommand(argv), r);
    if (st->canceled || st->abandoned) co_return false;
    if (r.Succeeded()) {
      st->outcome = "done";
      co_return true;
    }
    if (r.status != CommandResult::Status::kExited) co_return Fail(st, ErrorOf(r));
    if (Contains(r, "namespace already exists and is managed by Everest")) {
      st->outcome = "already_done";
      co_return true;
    }
    if (!flag_retried && Contains(r, "unknown flag: --operator." + flag)) {
      flag = flag == "mysql" ? "xtradb-cluster" : "mysql";
      flag_retried = true;
      continue;
    }
    if (!ownership_retried && !take && st->interrupted_before &&
        Contains(r, "HINT: set '--take-ownership'")) {
      // Our own interrupted attempt left the namespace without Everest's label.
      take = true;
      ownership_retried = true;
      st->record["take_ownership_retry"] = true;
      continue;
    }
    co_return Fail(st, ErrorOf(r));
  }
}

awaitable<bool> Workflows::StepApplyQuota(JobRun* run, StepState* st) {
  Job& job = run->job;
  const json& res = job.inputs["resources"];
  Resources r;
  r.cpu_cores = res.value("cpu_cores", 2.0);
  r.ram_mb = res.value("ram_mb", std::int64_t{2048});
  r.disk_gb = res.value("disk_gb", std::int64_t{20});
  if (res.contains("max_databases")) r.max_databases = res["max_databases"].get<std::int64_t>();
  const json manifests = BuildQuotaManifests(job.ns, r, config_.db_count_resources);
  st->record["manifest_preview"] = manifests.dump(2);
  Argv argv = KubectlApplyArgv(config_.kubectl, job.ns);
  CommandResult c = co_await Call(run, st, argv, manifests.dump(), config_.cli_timeout_s,
                                  Executor::Lane::kNone, "apply");
  SetMain(st, DisplayCommand(argv), c);
  if (st->canceled || st->abandoned) co_return false;
  if (!c.Succeeded()) co_return Fail(st, ErrorOf(c));
  const bool unchanged = c.out.find("created") == std::string::npos &&
                         c.out.find("configured") == std::string::npos &&
                         c.out.find("unchanged") != std::string::npos;
  st->outcome = unchanged ? "already_done" : "done";
  co_return true;
}

awaitable<bool> Workflows::StepApplyRbac(JobRun* run, StepState* st) {
  Job& job = run->job;
  const std::vector<std::string> block = DefaultRoleLines(job.username, job.ns);
  if (config_.rbac_mode == RbacMode::kOff) {
    st->record["rbac_applied"] = false;
    st->record["command"] = "";
    st->outcome = "skipped";
    metrics_->degraded.Add({{"reason", "rbac_off"}}).Increment();
    log::Warn("RBAC skipped: EVEREST_RBAC_MODE=off; the tenant has no role",
              {{"job_id", job.id}});
    co_return true;
  }
  st->record["rbac_applied"] = false;
  if (config_.rbac_mode == RbacMode::kCommand) {
    const bool acquired = co_await AcquireRbacLane(run, st);
    if (!acquired) co_return false;
    SemaphoreGuard lane(&executor_->rbac_lane());
    std::string text;
    for (const auto& l : block) text += l + "\n";
    std::string err;
    const std::string file = WriteTempFile(text, &err);
    if (file.empty()) co_return Fail(st, err);
    Argv argv = config_.rbac_apply_cmd;
    argv.push_back(file);
    CommandResult r = co_await Call(run, st, argv, "", config_.cli_timeout_s,
                                    Executor::Lane::kNone, "rbac apply command");
    ::unlink(file.c_str());
    SetMain(st, DisplayCommand(argv), r);
    if (st->canceled || st->abandoned) co_return false;
    if (!r.Succeeded()) co_return Fail(st, ErrorOf(r));
    st->record["rbac_applied"] = true;
    st->outcome = "done";
    co_return true;
  }

  // configmap mode: read, merge, validate, replace with resourceVersion.
  const std::string user = job.username;
  std::function<std::string(const std::string&)> edit = [user, block](const std::string& policy) {
    return ReplaceUserBlock(policy, user, block);
  };
  bool changed = false;
  const bool ok = co_await EditRbac(run, st, std::move(edit), config_.rbac_enable_on_bootstrap,
                                    &changed);
  if (!ok) co_return false;
  st->record["rbac_applied"] = true;
  st->outcome = changed ? "done" : "already_done";
  co_return true;
}

awaitable<std::optional<json>> Workflows::GetJson(JobRun* run, StepState* st, Argv argv,
                                                  std::string metric_sub, bool* not_found) {
  *not_found = false;
  const std::string display = DisplayCommand(argv);
  CommandResult r = co_await Call(run, st, argv, "", config_.cli_timeout_s, Executor::Lane::kNone,
                                  metric_sub, {}, kParsedOutputCap);
  if (st->Stopped()) co_return std::nullopt;
  if (!r.Succeeded()) {
    if (r.status == CommandResult::Status::kExited && Contains(r, "(NotFound)")) {
      *not_found = true;
      co_return std::nullopt;
    }
    SetMain(st, display, r);
    Fail(st, ErrorOf(r));
    co_return std::nullopt;
  }
  json j = json::parse(r.out, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    SetMain(st, display, r);
    Fail(st, "`" + display + "` did not print a JSON object");
    co_return std::nullopt;
  }
  co_return j;
}

awaitable<bool> Workflows::AcquireRbacLane(JobRun* run, StepState* st) {
  const bool acquired = co_await executor_->rbac_lane().Acquire();
  if (!acquired) {
    st->abandoned = run->abandon;
    st->canceled = !run->abandon;
  }
  co_return acquired;
}

awaitable<bool> Workflows::ReadRbac(JobRun* run, StepState* st, json* cm, std::string* policy) {
  bool not_found = false;
  auto got = co_await GetJson(run, st, KubectlGetRbacArgv(config_.kubectl), "get configmap",
                              &not_found);
  if (!got) {
    if (not_found) Fail(st, "everest-system/everest-rbac does not exist (is Everest installed?)");
    co_return false;
  }
  *cm = std::move(*got);
  if (!cm->contains("data") || !(*cm)["data"].is_object()) (*cm)["data"] = json::object();
  const json& data = (*cm)["data"];
  *policy = data.contains("policy.csv") && data["policy.csv"].is_string()
                ? data["policy.csv"].get<std::string>()
                : std::string();
  co_return true;
}

awaitable<int> Workflows::WriteRbac(JobRun* run, StepState* st, json cm, std::string policy,
                                    bool enable) {
  const std::string before = cm["data"].value("policy.csv", std::string());
  if (HasAdminBinding(before) && !HasAdminBinding(policy)) {
    Fail(st, "refusing a policy that would drop g, admin, role:admin");
    co_return -1;
  }
  std::string err;
  const std::string file = WriteTempFile(policy, &err);
  if (file.empty()) {
    Fail(st, err);
    co_return -1;
  }
  Argv val = RbacValidateArgv(config_.everestctl, file);
  CommandResult v = co_await Call(run, st, val, "", config_.cli_timeout_s, Executor::Lane::kNone,
                                  "settings rbac validate");
  ::unlink(file.c_str());
  if (st->Stopped()) co_return -1;
  if (!v.Succeeded()) {
    SetMain(st, DisplayCommand(val), v);
    Fail(st, "everestctl settings rbac validate refused the new policy (ConfigMap left "
             "unchanged): " + ErrorOf(v));
    co_return -1;
  }
  cm["data"]["policy.csv"] = policy;
  if (enable) cm["data"]["enabled"] = "true";
  if (cm.contains("metadata") && cm["metadata"].is_object()) cm["metadata"].erase("managedFields");
  Argv rep = KubectlReplaceArgv(config_.kubectl);
  CommandResult w = co_await Call(run, st, rep, cm.dump(), config_.cli_timeout_s,
                                  Executor::Lane::kNone, "replace");
  SetMain(st, DisplayCommand(rep), w);
  if (st->Stopped()) co_return -1;
  if (w.Succeeded()) co_return 1;
  if (w.status == CommandResult::Status::kExited && Contains(w, kConflictText)) co_return 0;
  Fail(st, ErrorOf(w));
  co_return -1;
}

awaitable<bool> Workflows::EditRbac(JobRun* run, StepState* st,
                                    std::function<std::string(const std::string&)> edit,
                                    bool enable, bool* changed) {
  *changed = false;
  const bool acquired = co_await AcquireRbacLane(run, st);
  if (!acquired) co_return false;
  SemaphoreGuard lane(&executor_->rbac_lane());
  for (int attempt = 0; attempt < kConflictAttempts; ++attempt) {
    json cm;
    std::string policy;
    const bool read = co_await ReadRbac(run, st, &cm, &policy);
    if (!read) co_return false;
    const std::string updated = edit(policy);
    const bool needs_enable = enable && cm["data"].value("enabled", std::string()) != "true";
    if (updated == policy && !needs_enable) {
      st->record["command"] = DisplayCommand(KubectlGetRbacArgv(config_.kubectl));
      st->record["exit_code"] = 0;
      co_return true;
    }
    const int w = co_await WriteRbac(run, st, cm, updated, needs_enable);
    if (w < 0) co_return false;
    if (w > 0) {
      *changed = true;
      co_return true;
    }
    metrics_->degraded.Add({{"reason", "rbac_conflict_retry"}}).Increment();
    log::Warn("RBAC ConfigMap conflict, retrying",
              {{"job_id", run->job.id}, {"attempt", attempt + 1}});
    co_await Backoff(attempt);
  }
  co_return Fail(st, "everest-rbac kept changing under us (conflict after " +
                         std::to_string(kConflictAttempts) + " attempts)");
}

}  // namespace bootstrapd

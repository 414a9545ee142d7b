#include "daemon/jobs/job.h"

namespace bootstrapd {

const char* KindName(JobKind k) {
  switch (k) {
    case JobKind::kBootstrap: return "bootstrap";
    case JobKind::kPassword: return "password";
    case JobKind::kResources: return "resources";
    case JobKind::kOperators: return "operators";
    case JobKind::kSuspend: return "suspend";
    case JobKind::kResume: return "resume";
    case JobKind::kDelete: return "delete";
  }
  return "bootstrap";
}

std::optional<JobKind> ParseKind(std::string_view s) {
  for (JobKind k : {JobKind::kBootstrap, JobKind::kPassword, JobKind::kResources,
                    JobKind::kOperators, JobKind::kSuspend, JobKind::kResume, JobKind::kDelete}) {
    if (s == KindName(k)) return k;
  }
  return std::nullopt;
}

const char* StatusName(JobStatus s) {
  switch (s) {
    case JobStatus::kQueued: return "queued";
    case JobStatus::kRunning: return "running";
    case JobStatus::kSucceeded: return "succeeded";
    case JobStatus::kFailed: return "failed";
    case JobStatus::kCanceled: return "canceled";
  }
  return "queued";
}

std::optional<JobStatus> ParseStatus(std::string_view s) {
  for (JobStatus st : {JobStatus::kQueued, JobStatus::kRunning, JobStatus::kSucceeded,
                       JobStatus::kFailed, JobStatus::kCanceled}) {
    if (s == StatusName(st)) return st;
  }
  return std::nullopt;
}

namespace {
nlohmann::json OrNull(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}
}  // namespace

nlohmann::json JobView(const Job& j) {
  nlohmann::json v = {
      {"job_id", j.id},
      {"kind", KindName(j.kind)},
      {"source", j.source},
      {"status", StatusName(j.status)},
      {"created_at", OrNull(j.created_at)},
      {"started_at", OrNull(j.started_at)},
      {"finished_at", OrNull(j.finished_at)},
      {"summary", j.summary},
      {"result_url", "/jobs/" + j.id + "/result"},
      {"username", OrNull(j.username)},
      {"namespace", OrNull(j.ns)},
  };
  nlohmann::json progress = nlohmann::json::array();
  for (const auto& s : j.steps) {
    progress.push_back({{"name", s.value("name", "")}, {"outcome", s.value("outcome", "")}});
  }
  v["steps"] = progress;
  return v;
}

nlohmann::json ResultView(const Job& j) {
  nlohmann::json v = {
      {"job_id", j.id},
      {"inputs", j.inputs},
      {"steps", j.steps},
      {"overall_status", StatusName(j.status)},
      {"summary", j.summary},
  };
  for (auto it = j.extra.begin(); it != j.extra.end(); ++it) v[it.key()] = it.value();
  return v;
}

}  // namespace bootstrapd

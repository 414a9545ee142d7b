// Jobs as the store keeps them and the API shows them. Plain data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace bootstrapd {

enum class JobKind { kBootstrap, kPassword, kResources, kOperators, kSuspend, kResume, kDelete };
enum class JobStatus { kQueued, kRunning, kSucceeded, kFailed, kCanceled };

const char* KindName(JobKind k);
std::optional<JobKind> ParseKind(std::string_view s);
const char* StatusName(JobStatus s);
std::optional<JobStatus> ParseStatus(std::string_view s);
inline bool IsTerminal(JobStatus s) {
  return s == JobStatus::kSucceeded || s == JobStatus::kFailed || s == JobStatus::kCanceled;
}

struct Job {
  std::string id;                 // UUID v4
  std::int64_t seq = 0;           // submission order (store-assigned)
  JobKind kind = JobKind::kBootstrap;
  std::string source = "rest";    // rest | kafka | webhook
  JobStatus status = JobStatus::kQueued;
  std::string username;           // may be empty for namespace-only jobs
  std::string ns;
  nlohmann::json inputs = nlohmann::json::object();  // resolved, secrets redacted
  nlohmann::json steps = nlohmann::json::array();    // one object per step (SPEC §2.2)
  std::string created_at, started_at, finished_at;   // RFC 3339 ms, "" = not yet
  std::string summary;
  std::string request_id;
  // Secrets: `stored_secret` is the generated password (SPEC §2.1: the one
  // secret the store holds, until the result is first read); `secret_origin`
  // says where the password came from: "none", "generated", "default" (config),
  // or "request" (memory only: lost on restart).
  std::optional<std::string> stored_secret;
  std::string secret_origin = "none";
  nlohmann::json extra = nlohmann::json::object();   // result members (credentials note, ...)
};

// GET /jobs/{id}
nlohmann::json JobView(const Job& j);
// GET /jobs/{id}/result (credentials added by the caller).
nlohmann::json ResultView(const Job& j);

}  // namespace bootstrapd

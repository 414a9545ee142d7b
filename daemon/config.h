// The daemon's configuration: every knob and every limit, parsed once at start
// from the environment (SPEC §6) and $CREDENTIALS_DIRECTORY. Plain data.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/util/log.h"

namespace bootstrapd {

enum class RbacMode { kConfigMap, kCommand, kOff };
const char* RbacModeName(RbacMode m);

struct Config {
  // HTTP
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t http_body_limit = 1 << 20;        // 413 above
  std::size_t http_header_limit = 16 << 10;     // 431 above
  int http_read_timeout_s = 30;
  int http_idle_timeout_s = 60;
  int http_max_connections = 1024;              // 503 above
  // Auth
  std::vector<std::string> admin_keys;
  bool admin_key_is_default = false;            // "changeme": loud warning
  // Cluster access
  std::string kubeconfig;                       // empty: the CLIs' own default
  std::string everestctl = "everestctl";        // name on PATH or absolute path
  std::string kubectl = "kubectl";
  bool safe_subprocess_env = true;
  // Bootstrap defaults and policy
  std::optional<std::string> default_password;  // BOOTSTRAP_DEFAULT_PASSWORD (secret)
  std::set<std::string> default_operators = {"mongodb", "postgresql", "xtradb_cluster"};
  std::set<std::string> reserved_usernames = {"admin"};
  std::vector<std::string> allowed_namespace_prefixes;
  RbacMode rbac_mode = RbacMode::kConfigMap;
  std::vector<std::string> rbac_apply_cmd;
  bool rbac_enable_on_bootstrap = false;
  std::vector<std::string> db_count_resources;
  // Executor and jobs
  int max_subproc_concurrency = 16;
  int max_queued_jobs = 10000;
  int cli_timeout_s = 60;
  int namespace_timeout_s = 1800;
  int sync_wait_s = 30;
  std::size_t cli_output_cap = 64 << 10;
  int kill_grace_ms = 3000;                     // SIGTERM -> SIGKILL
  std::string job_db_path;
  double job_retention_hours = 168;
  int shutdown_grace_s = 25;
  // Events (Kafka intake and completion events; signed webhooks)
  std::string events_source = "/everest-bootstrapd";
  std::string kafka_brokers;                     // empty: Kafka disabled
  std::vector<std::pair<std::string, std::string>> kafka_properties;  // KAFKA_CONFIG_FILE
  std::string kafka_group_id = "everest-bootstrapd";
  std::string kafka_request_topic = "everest.tenant.requests.v1";
  std::string kafka_dlq_topic;                   // default: <request topic>.dlq
  std::string kafka_events_topic = "everest.tenant.events.v1";
  std::vector<std::string> webhook_keys;         // decoded whsec_ secrets (secret)
  int webhook_tolerance_s = 300;
  // Logging
  log::Level log_level = log::Level::kInfo;
  // Where each value came from, for --check-config ("env", "default", "credential").
  std::map<std::string, std::string> origins;
  // Set when the daemon runs against the bundled simulated Everest.
  bool simulated = false;
};

// Reads the configuration from `env` (name -> value) and, when
// CREDENTIALS_DIRECTORY is set in it, the credential files admin-api-key,
// webhook-secrets and kubeconfig. Returns false and sets *error to a message that
// names the variable on any invalid value.
bool LoadConfig(const std::map<std::string, std::string>& env, Config* out, std::string* error);

// The process environment as a map.
std::map<std::string, std::string> ProcessEnvironment();

// The effective configuration as "NAME=value" lines, secrets masked.
std::string DescribeConfig(const Config& c);

// Text for --help.
std::string ConfigHelp();

}  // namespace bootstrapd

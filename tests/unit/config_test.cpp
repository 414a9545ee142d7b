#include <catch2/catch.hpp>

#include "daemon/config.h"

using bootstrapd::Config;
using bootstrapd::LoadConfig;
using bootstrapd::RbacMode;

namespace {
std::string Fails(std::map<std::string, std::string> env) {
  Config c;
  std::string err;
  REQUIRE_FALSE(LoadConfig(env, &c, &err));
  return err;
}
}  // namespace

TEST_CASE("config defaults follow SPEC section 6", "[unit][config]") {
  Config c;
  std::string err;
  REQUIRE(LoadConfig({}, &c, &err));
  CHECK(c.port == 8080);
  CHECK(c.bind_address == "127.0.0.1");
  CHECK(c.admin_key_is_default);
  CHECK(c.admin_keys == std::vector<std::string>{"changeme"});
  CHECK(c.max_subproc_concurrency == 16);
  CHECK(c.max_queued_jobs == 10000);
  CHECK(c.cli_timeout_s == 60);
  CHECK(c.namespace_timeout_s == 1800);
  CHECK(c.sync_wait_s == 30);
  CHECK(c.shutdown_grace_s == 25);
  CHECK(c.job_retention_hours == 168);
  CHECK(c.safe_subprocess_env);
  CHECK(c.rbac_mode == RbacMode::kConfigMap);
  CHECK(c.job_db_path == "./var/jobs.db");
  CHECK(c.http_body_limit == 1u << 20);
  CHECK(c.http_header_limit == 16u << 10);
  CHECK(c.default_operators.size() == 3);
  CHECK(c.reserved_usernames.count("admin") == 1);
}

TEST_CASE("bad values fail at start and name the variable", "[unit][config]") {
  CHECK(Fails({{"PORT", "http"}}).rfind("PORT:", 0) == 0);
  CHECK(Fails({{"PORT", "70000"}}).rfind("PORT:", 0) == 0);
  CHECK(Fails({{"MAX_SUBPROC_CONCURRENCY", "0"}}).rfind("MAX_SUBPROC_CONCURRENCY:", 0) == 0);
  CHECK(Fails({{"SAFE_SUBPROCESS_ENV", "maybe"}}).rfind("SAFE_SUBPROCESS_ENV:", 0) == 0);
  CHECK(Fails({{"EVEREST_RBAC_MODE", "yaml"}}).rfind("EVEREST_RBAC_MODE:", 0) == 0);
  CHECK(Fails({{"EVEREST_RBAC_MODE", "command"}}).rfind("EVEREST_RBAC_APPLY_CMD:", 0) == 0);
  CHECK(Fails({{"BOOTSTRAP_DEFAULT_OPERATORS", "redis"}}).rfind("BOOTSTRAP_DEFAULT_OPERATORS:", 0) == 0);
  CHECK(Fails({{"BOOTSTRAP_DEFAULT_PASSWORD", "a b"}}).rfind("BOOTSTRAP_DEFAULT_PASSWORD:", 0) == 0);
  CHECK(Fails({{"JOB_RETENTION_HOURS", "-1"}}).rfind("JOB_RETENTION_HOURS:", 0) == 0);
  CHECK(Fails({{"ALLOWED_NAMESPACE_PREFIXES", "Team-"}}).rfind("ALLOWED_NAMESPACE_PREFIXES:", 0) == 0);
  CHECK(Fails({{"LOG_LEVEL", "loud"}}).rfind("LOG_LEVEL:", 0) == 0);
  CHECK(Fails({{"ADMIN_API_KEY", "short"}}).rfind("ADMIN_API_KEY:", 0) == 0);
  CHECK(Fails({{"EVEREST_DB_COUNT_RESOURCES", "not a crd"}}).rfind("EVEREST_DB_COUNT_RESOURCES:", 0) == 0);
}

TEST_CASE("admin keys are the union of both variables", "[unit][config]") {
  Config c;
  std::string err;
  REQUIRE(LoadConfig({{"ADMIN_API_KEY", "first-key-123"}, {"ADMIN_API_KEYS", "second-key-1, third-key-12"}},
                     &c, &err));
  CHECK_FALSE(c.admin_key_is_default);
  CHECK(c.admin_keys.size() == 3);
}

TEST_CASE("RBAC mode: command when only the command is set, explicit mode wins", "[unit][config]") {
  Config c;
  std::string err;
  REQUIRE(LoadConfig({{"EVEREST_RBAC_APPLY_CMD", "/usr/bin/apply-policy --now"}}, &c, &err));
  CHECK(c.rbac_mode == RbacMode::kCommand);
  CHECK(c.rbac_apply_cmd == std::vector<std::string>{"/usr/bin/apply-policy", "--now"});
  REQUIRE(LoadConfig({{"EVEREST_RBAC_APPLY_CMD", "/x"}, {"EVEREST_RBAC_MODE", "off"}}, &c, &err));
  CHECK(c.rbac_mode == RbacMode::kOff);
}

TEST_CASE("JOB_DB_PATH falls back to STATE_DIRECTORY", "[unit][config]") {
  Config c;
  std::string err;
  REQUIRE(LoadConfig({{"STATE_DIRECTORY", "/var/lib/everest-bootstrapd:/other"}}, &c, &err));
  CHECK(c.job_db_path == "/var/lib/everest-bootstrapd/jobs.db");
  REQUIRE(LoadConfig({{"BOOTSTRAP_DEFAULT_OPERATORS", "mysql, postgresql"}}, &c, &err));
  CHECK(c.default_operators == std::set<std::string>{"postgresql", "xtradb_cluster"});
}

TEST_CASE("describe masks secrets", "[unit][config]") {
  Config c;
  std::string err;
  REQUIRE(LoadConfig({{"ADMIN_API_KEY", "super-secret-key"}, {"BOOTSTRAP_DEFAULT_PASSWORD", "Passw0rd!"}},
                     &c, &err));
  const std::string d = bootstrapd::DescribeConfig(c);
  CHECK(d.find("super-secret-key") == std::string::npos);
  CHECK(d.find("Passw0rd!") == std::string::npos);
  CHECK(d.find("BOOTSTRAP_DEFAULT_PASSWORD=********") != std::string::npos);
}

#include "daemon/config.h"
#include "daemon/domain/webhook_signature.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

extern char** environ;

namespace bootstrapd {
namespace {

using Env = std::map<std::string, std::string>;

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> SplitList(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) {
    cur = Trim(cur);
    if (!cur.empty()) out.push_back(cur);
  }
  return out;
}

std::vector<std::string> SplitWhitespace(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// Each Get* returns false with *error set when the variable holds a bad value.
class Reader {
 public:
  Reader(const Env& env, Config* c, std::string* error) : env_(env), c_(c), error_(error) {}

  const std::string* Raw(const char* name) {
    auto it = env_.find(name);
    if (it == env_.end()) {
      c_->origins[name] = "default";
      return nullptr;
    }
    c_->origins[name] = "env";
    return &it->second;
  }

  bool Int(const char* name, long min, long max, int* out) {
    long v = *out;
    if (!Long(name, min, max, &v)) return false;
    *out = static_cast<int>(v);
    return true;
  }

  bool Size(const char* name, long min, long max, std::size_t* out) {
    long v = static_cast<long>(*out);
    if (!Long(name, min, max, &v)) return false;
    *out = static_cast<std::size_t>(v);
    return true;
  }

  bool Long(const char* name, long min, long max, long* out) {
    const std::string* raw = Raw(name);
    if (raw == nullptr) {
      return true;
    }
    const std::string v = Trim(*raw);
    char* end = nullptr;
    errno = 0;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno == ERANGE) {
      return Fail(name, "expected an integer, got '" + *raw + "'");
    }
    if (n < min || n > max) {
      return Fail(name, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                            ", got " + std::to_string(n));
    }
    *out = n;
    return true;
  }

  bool Double(const char* name, double min, double* out) {
    const std::string* raw = Raw(name);
    if (raw == nullptr) return true;
    const std::string v = Trim(*raw);
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !std::isfinite(d)) {
      return Fail(name, "expected a number, got '" + *raw + "'");
    }
    if (d <= min) return Fail(name, "must be greater than " + std::to_string(min));
    *out = d;
    return true;
  }

  bool Bool(const char* name, bool* out) {
    const std::string* raw = Raw(name);
    if (raw == nullptr) return true;
    std::string v = Trim(*raw);
    for (auto& ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (v == "1" || v == "true" || v == "yes" || v == "on") {
      *out = true;
    } else if (v == "0" || v == "false" || v == "no" || v == "off") {
      *out = false;
    } else {
      return Fail(name, "expected true or false, got '" + *raw + "'");
    }
    return true;
  }

  bool Fail(const char* name, const std::string& why) {
    *error_ = std::string(name) + ": " + why;
    return false;
  }

 private:
  const Env& env_;
  Config* c_;
  std::string* error_;
};

bool ReadCredential(const std::string& dir, const char* name, std::optional<std::string>* out,
                    std::string* error) {
  const std::string path = dir + "/" + name;
  if (access(path.c_str(), F_OK) != 0) return true;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "CREDENTIALS_DIRECTORY: cannot read credential file " + path;
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

const std::regex& PasswordRe() {
  static const std::regex re("^[a-zA-Z0-9@*#$%^&+=!_-]{6,}$");
  return re;
}

}  // namespace

const char* RbacModeName(RbacMode m) {
  switch (m) {
    case RbacMode::kConfigMap: return "configmap";
    case RbacMode::kCommand: return "command";
    case RbacMode::kOff: return "off";
  }
  return "configmap";
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

bool LoadConfig(const Env& env, Config* out, std::string* error) {
  Config c;
  Reader r(env, &c, error);

  if (const std::string* v = r.Raw("BIND_ADDRESS")) {
    c.bind_address = Trim(*v);
    if (c.bind_address.empty()) return r.Fail("BIND_ADDRESS", "must not be empty");
  }
  int port = c.port;
  if (!r.Int("PORT", 0, 65535, &port)) return false;
  c.port = static_cast<std::uint16_t>(port);
  if (!r.Size("HTTP_BODY_LIMIT_BYTES", 1024, 64L << 20, &c.http_body_limit)) return false;
  if (!r.Size("HTTP_HEADER_LIMIT_BYTES", 1024, 1L << 20, &c.http_header_limit)) return false;
  if (!r.Int("HTTP_READ_TIMEOUT_SECONDS", 1, 3600, &c.http_read_timeout_s)) return false;
  if (!r.Int("HTTP_IDLE_TIMEOUT_SECONDS", 1, 3600, &c.http_idle_timeout_s)) return false;
  if (!r.Int("HTTP_MAX_CONNECTIONS", 1, 100000, &c.http_max_connections)) return false;

  // Admin keys: the union of ADMIN_API_KEY, ADMIN_API_KEYS and the credential file.
  std::set<std::string> keys;
  if (const std::string* v = r.Raw("ADMIN_API_KEY")) {
    if (Trim(*v).empty()) return r.Fail("ADMIN_API_KEY", "must not be empty when set");
    keys.insert(Trim(*v));
  }
  if (const std::string* v = r.Raw("ADMIN_API_KEYS")) {
    auto list = SplitList(*v, ',');
    if (list.empty()) return r.Fail("ADMIN_API_KEYS", "must list at least one key when set");
    keys.insert(list.begin(), list.end());
  }
  std::optional<std::string> cred_key, cred_kubeconfig;
  if (auto it = env.find("CREDENTIALS_DIRECTORY"); it != env.end() && !it->second.empty()) {
    if (!ReadCredential(it->second, "admin-api-key", &cred_key, error)) return false;
    if (!ReadCredential(it->second, "kubeconfig", &cred_kubeconfig, error)) return false;
    if (cred_key) {
      for (const auto& k : SplitList(*cred_key, '\n')) keys.insert(k);
      c.origins["admin-api-key"] = "credential";
    }
    if (cred_kubeconfig) {
      c.kubeconfig = it->second + "/kubeconfig";
      c.origins["KUBECONFIG"] = "credential";
    }
  }
  for (const auto& k : keys) {
    if (k.size() < 8 && k != "changeme") {
      return r.Fail("ADMIN_API_KEY", "every admin key must be at least 8 characters long");
    }
  }
  if (keys.empty()) {
    keys.insert("changeme");
    c.admin_key_is_default = true;
  }
  c.admin_keys.assign(keys.begin(), keys.end());

  if (c.kubeconfig.empty()) {
    if (const std::string* v = r.Raw("KUBECONFIG")) c.kubeconfig = Trim(*v);
  }
  if (const std::string* v = r.Raw("EVERESTCTL_BIN")) c.everestctl = Trim(*v);
  if (const std::string* v = r.Raw("KUBECTL_BIN")) c.kubectl = Trim(*v);
  if (c.everestctl.empty()) return r.Fail("EVERESTCTL_BIN", "must not be empty");
  if (c.kubectl.empty()) return r.Fail("KUBECTL_BIN", "must not be empty");
  if (!r.Bool("SAFE_SUBPROCESS_ENV", &c.safe_subprocess_env)) return false;

  if (const std::string* v = r.Raw("BOOTSTRAP_DEFAULT_PASSWORD")) {
    if (!std::regex_match(*v, PasswordRe())) {
      return r.Fail("BOOTSTRAP_DEFAULT_PASSWORD",
                    "must match Everest's password rule ^[a-zA-Z0-9@*#$%^&+=!_-]{6,}$");
    }
    c.default_password = *v;
  }
  if (const std::string* v = r.Raw("BOOTSTRAP_DEFAULT_OPERATORS")) {
    std::set<std::string> ops;
    for (auto op : SplitList(*v, ',')) {
      for (auto& ch : op) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (op == "mysql" || op == "xtradb-cluster" || op == "pxc") op = "xtradb_cluster";
      if (op != "mongodb" && op != "postgresql" && op != "xtradb_cluster") {
        return r.Fail("BOOTSTRAP_DEFAULT_OPERATORS",
                      "unknown operator '" + op + "' (use mongodb, postgresql, xtradb_cluster)");
      }
      ops.insert(op);
    }
    if (ops.empty()) return r.Fail("BOOTSTRAP_DEFAULT_OPERATORS", "must name at least one operator");
    c.default_operators = ops;
  }
  if (const std::string* v = r.Raw("RESERVED_USERNAMES")) {
    for (auto u : SplitList(*v, ',')) {
      for (auto& ch : u) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      c.reserved_usernames.insert(u);
    }
  }
  if (const std::string* v = r.Raw("ALLOWED_NAMESPACE_PREFIXES")) {
    static const std::regex prefix_re("^[a-z][-a-z0-9]{0,61}$");
    for (const auto& p : SplitList(*v, ',')) {
      if (!std::regex_match(p, prefix_re)) {
        return r.Fail("ALLOWED_NAMESPACE_PREFIXES",
                      "'" + p + "' is not a valid namespace prefix (lowercase letter, then a-z0-9-)");
      }
      c.allowed_namespace_prefixes.push_back(p);
    }
  }
  if (const std::string* v = r.Raw("EVEREST_RBAC_APPLY_CMD")) {
    c.rbac_apply_cmd = SplitWhitespace(*v);
    if (!c.rbac_apply_cmd.empty()) c.rbac_mode = RbacMode::kCommand;
  }
  if (const std::string* v = r.Raw("EVEREST_RBAC_MODE")) {
    const std::string m = Trim(*v);
    if (m == "configmap") c.rbac_mode = RbacMode::kConfigMap;
    else if (m == "command") c.rbac_mode = RbacMode::kCommand;
    else if (m == "off") c.rbac_mode = RbacMode::kOff;
    else return r.Fail("EVEREST_RBAC_MODE", "expected configmap, command or off, got '" + m + "'");
  }
  if (c.rbac_mode == RbacMode::kCommand && c.rbac_apply_cmd.empty()) {
    return r.Fail("EVEREST_RBAC_APPLY_CMD", "must be set when EVEREST_RBAC_MODE=command");
  }
  if (!r.Bool("EVEREST_RBAC_ENABLE_ON_BOOTSTRAP", &c.rbac_enable_on_bootstrap)) return false;
  if (const std::string* v = r.Raw("EVEREST_DB_COUNT_RESOURCES")) {
    static const std::regex crd_re("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$");
    for (const auto& crd : SplitList(*v, ',')) {
      if (!std::regex_match(crd, crd_re)) {
        return r.Fail("EVEREST_DB_COUNT_RESOURCES",
                      "'" + crd + "' is not a <plural>.<group> resource name");
      }
      c.db_count_resources.push_back(crd);
    }
  }

  if (!r.Int("MAX_SUBPROC_CONCURRENCY", 1, 1024, &c.max_subproc_concurrency)) return false;
  if (!r.Int("MAX_QUEUED_JOBS", 1, 10000000, &c.max_queued_jobs)) return false;
  if (!r.Int("CLI_TIMEOUT_SECONDS", 1, 86400, &c.cli_timeout_s)) return false;
  if (!r.Int("NAMESPACE_TIMEOUT_SECONDS", 1, 86400, &c.namespace_timeout_s)) return false;
  if (!r.Int("SYNC_WAIT_SECONDS", 0, 3600, &c.sync_wait_s)) return false;
  if (!r.Size("CLI_OUTPUT_CAP_BYTES", 1024, 64L << 20, &c.cli_output_cap)) return false;
  if (!r.Int("CLI_KILL_GRACE_MS", 0, 600000, &c.kill_grace_ms)) return false;
  if (!r.Double("JOB_RETENTION_HOURS", 0.0, &c.job_retention_hours)) return false;
  if (!r.Int("SHUTDOWN_GRACE_SECONDS", 0, 3600, &c.shutdown_grace_s)) return false;

  if (const std::string* v = r.Raw("JOB_DB_PATH")) {
    c.job_db_path = Trim(*v);
    if (c.job_db_path.empty()) return r.Fail("JOB_DB_PATH", "must not be empty when set");
  } else if (auto it = env.find("STATE_DIRECTORY"); it != env.end() && !it->second.empty()) {
    // systemd may pass several colon-separated directories; the first is ours.
    c.job_db_path = it->second.substr(0, it->second.find(':')) + "/jobs.db";
  } else {
    c.job_db_path = "./var/jobs.db";
  }
  if (const std::string* v = r.Raw("EVENTS_SOURCE")) {
    c.events_source = Trim(*v);
    if (c.events_source.empty()) return r.Fail("EVENTS_SOURCE", "must not be empty when set");
  }
  // Kafka (enabled by KAFKA_BROKERS).
  if (const std::string* v = r.Raw("KAFKA_BROKERS")) c.kafka_brokers = Trim(*v);
  if (const std::string* v = r.Raw("KAFKA_CONFIG_FILE")) {
    std::ifstream in(Trim(*v));
    if (!in) return r.Fail("KAFKA_CONFIG_FILE", "cannot read " + Trim(*v));
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      const std::string t = Trim(line);
      if (t.empty() || t[0] == '#') continue;
      const auto eq = t.find('=');
      if (eq == std::string::npos || eq == 0) {
        return r.Fail("KAFKA_CONFIG_FILE", Trim(*v) + ":" + std::to_string(n) +
                                               ": expected key=value, got '" + t + "'");
      }
      c.kafka_properties.emplace_back(Trim(t.substr(0, eq)), Trim(t.substr(eq + 1)));
    }
  }
  for (auto [name, field] : {std::pair{"KAFKA_GROUP_ID", &c.kafka_group_id},
                             std::pair{"KAFKA_REQUEST_TOPIC", &c.kafka_request_topic},
                             std::pair{"KAFKA_DLQ_TOPIC", &c.kafka_dlq_topic},
                             std::pair{"KAFKA_EVENTS_TOPIC", &c.kafka_events_topic}}) {
    if (const std::string* v = r.Raw(name)) {
      static const std::regex topic_re("^[a-zA-Z0-9._-]{1,249}$");
      if (!std::regex_match(Trim(*v), topic_re)) {
        return r.Fail(name, "'" + *v + "' is not a valid Kafka name ([a-zA-Z0-9._-], 1 to 249)");
      }
      *field = Trim(*v);
    }
  }
  if (c.kafka_dlq_topic.empty()) c.kafka_dlq_topic = c.kafka_request_topic + ".dlq";
  // Webhook secrets: WEBHOOK_SECRETS and/or the webhook-secrets credential.
  {
    std::string list;
    if (const std::string* v = r.Raw("WEBHOOK_SECRETS")) list = *v;
    if (auto it = env.find("CREDENTIALS_DIRECTORY"); it != env.end() && !it->second.empty()) {
      std::optional<std::string> cred;
      if (!ReadCredential(it->second, "webhook-secrets", &cred, error)) return false;
      if (cred) list += "\n" + *cred;
    }
    std::string werr;
    if (!ParseWebhookSecrets(list, &c.webhook_keys, &werr)) {
      return r.Fail("WEBHOOK_SECRETS", werr);
    }
  }
  if (!r.Int("WEBHOOK_TOLERANCE_SECONDS", 1, 86400, &c.webhook_tolerance_s)) return false;

  if (const std::string* v = r.Raw("LOG_LEVEL")) {
    if (!log::ParseLevel(Trim(*v), &c.log_level)) {
      return r.Fail("LOG_LEVEL", "expected debug, info, warn or error, got '" + *v + "'");
    }
  }
  if (!r.Bool("EVEREST_SIMULATED", &c.simulated)) return false;

  *out = std::move(c);
  return true;
}

std::string DescribeConfig(const Config& c) {
  std::ostringstream o;
  auto line = [&](const std::string& k, const std::string& v) { o << k << "=" << v << "\n"; };
  auto join = [](const auto& items, const char* sep) {
    std::string s;
    for (const auto& i : items) {
      if (!s.empty()) s += sep;
      s += i;
    }
    return s;
  };
  line("BIND_ADDRESS", c.bind_address);
  line("PORT", std::to_string(c.port));
  line("HTTP_BODY_LIMIT_BYTES", std::to_string(c.http_body_limit));
  line("HTTP_HEADER_LIMIT_BYTES", std::to_string(c.http_header_limit));
  line("HTTP_READ_TIMEOUT_SECONDS", std::to_string(c.http_read_timeout_s));
  line("HTTP_IDLE_TIMEOUT_SECONDS", std::to_string(c.http_idle_timeout_s));
  line("HTTP_MAX_CONNECTIONS", std::to_string(c.http_max_connections));
  line("ADMIN_API_KEYS", std::to_string(c.admin_keys.size()) + " key(s), masked" +
                             (c.admin_key_is_default ? " (DEFAULT 'changeme': set ADMIN_API_KEY!)"
                                                     : ""));
  line("KUBECONFIG", c.kubeconfig.empty() ? "(CLI default)" : c.kubeconfig);
  line("EVERESTCTL_BIN", c.everestctl);
  line("KUBECTL_BIN", c.kubectl);
  line("SAFE_SUBPROCESS_ENV", c.safe_subprocess_env ? "true" : "false");
  line("BOOTSTRAP_DEFAULT_PASSWORD", c.default_password ? "********" : "(generate)");
  line("BOOTSTRAP_DEFAULT_OPERATORS", join(c.default_operators, ","));
  line("RESERVED_USERNAMES", join(c.reserved_usernames, ","));
  line("ALLOWED_NAMESPACE_PREFIXES", join(c.allowed_namespace_prefixes, ","));
  line("EVEREST_RBAC_MODE", RbacModeName(c.rbac_mode));
  line("EVEREST_RBAC_APPLY_CMD", join(c.rbac_apply_cmd, " "));
  line("EVEREST_RBAC_ENABLE_ON_BOOTSTRAP", c.rbac_enable_on_bootstrap ? "true" : "false");
  line("EVEREST_DB_COUNT_RESOURCES", join(c.db_count_resources, ","));
  line("MAX_SUBPROC_CONCURRENCY", std::to_string(c.max_subproc_concurrency));
  line("MAX_QUEUED_JOBS", std::to_string(c.max_queued_jobs));
  line("CLI_TIMEOUT_SECONDS", std::to_string(c.cli_timeout_s));
  line("NAMESPACE_TIMEOUT_SECONDS", std::to_string(c.namespace_timeout_s));
  line("SYNC_WAIT_SECONDS", std::to_string(c.sync_wait_s));
  line("CLI_OUTPUT_CAP_BYTES", std::to_string(c.cli_output_cap));
  line("CLI_KILL_GRACE_MS", std::to_string(c.kill_grace_ms));
  line("JOB_DB_PATH", c.job_db_path);
  std::ostringstream hours;
  hours << c.job_retention_hours;
  line("JOB_RETENTION_HOURS", hours.str());
  line("SHUTDOWN_GRACE_SECONDS", std::to_string(c.shutdown_grace_s));
  line("EVENTS_SOURCE", c.events_source);
  line("KAFKA_BROKERS", c.kafka_brokers.empty() ? "(Kafka disabled)" : c.kafka_brokers);
  line("KAFKA_CONFIG_FILE", std::to_string(c.kafka_properties.size()) + " propert(ies), values masked");
  line("KAFKA_GROUP_ID", c.kafka_group_id);
  line("KAFKA_REQUEST_TOPIC", c.kafka_request_topic);
  line("KAFKA_DLQ_TOPIC", c.kafka_dlq_topic);
  line("KAFKA_EVENTS_TOPIC", c.kafka_events_topic);
  line("WEBHOOK_SECRETS", std::to_string(c.webhook_keys.size()) + " secret(s), masked");
  line("WEBHOOK_TOLERANCE_SECONDS", std::to_string(c.webhook_tolerance_s));
  return o.str();
}

std::string ConfigHelp() {
  return R"(Usage: everest-bootstrapd [--help | --version | --check-config]

Provisions Percona Everest tenants (account, namespace + operators, quota,
RBAC role) from REST requests, as durable jobs run by everestctl and kubectl.

Options:
  --help          this text
  --version       print the version and exit
  --check-config  validate the environment, print the effective configuration
                  with secrets masked, exit 0 (valid) or 1 (invalid)

Configuration is read from the environment (see README.md for the full table):
  ADMIN_API_KEY, ADMIN_API_KEYS   accepted X-Admin-Key values (default: changeme)
  BIND_ADDRESS (127.0.0.1), PORT (8080)
  KUBECONFIG, EVERESTCTL_BIN (everestctl), KUBECTL_BIN (kubectl)
  BOOTSTRAP_DEFAULT_PASSWORD, BOOTSTRAP_DEFAULT_OPERATORS, RESERVED_USERNAMES
  ALLOWED_NAMESPACE_PREFIXES, EVEREST_RBAC_MODE (configmap|command|off),
  EVEREST_RBAC_APPLY_CMD, EVEREST_RBAC_ENABLE_ON_BOOTSTRAP, EVEREST_DB_COUNT_RESOURCES
  MAX_SUBPROC_CONCURRENCY (16), MAX_QUEUED_JOBS (10000), SAFE_SUBPROCESS_ENV (true)
  CLI_TIMEOUT_SECONDS (60), NAMESPACE_TIMEOUT_SECONDS (1800), SYNC_WAIT_SECONDS (30)
  JOB_DB_PATH ($STATE_DIRECTORY/jobs.db or ./var/jobs.db), JOB_RETENTION_HOURS (168)
  SHUTDOWN_GRACE_SECONDS (25), EVENTS_SOURCE, LOG_LEVEL (info)
  KAFKA_BROKERS (enables Kafka), KAFKA_CONFIG_FILE, KAFKA_GROUP_ID, KAFKA_REQUEST_TOPIC,
  KAFKA_DLQ_TOPIC, KAFKA_EVENTS_TOPIC, WEBHOOK_SECRETS, WEBHOOK_TOLERANCE_SECONDS (300)
  HTTP_BODY_LIMIT_BYTES, HTTP_HEADER_LIMIT_BYTES, HTTP_READ_TIMEOUT_SECONDS,
  HTTP_IDLE_TIMEOUT_SECONDS, HTTP_MAX_CONNECTIONS, CLI_OUTPUT_CAP_BYTES, CLI_KILL_GRACE_MS
Secrets may be files in $CREDENTIALS_DIRECTORY: admin-api-key, webhook-secrets, kubeconfig.
)";
}

}  // namespace bootstrapd

#include "tests/support/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "bootstrapd-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string FakesDir() { return std::string(BOOTSTRAPD_SOURCE_DIR) + "/tests/fakes"; }

int Shell(const std::string& cmd) {
  const int st = std::system(cmd.c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void FakeCtl(const std::string& dir, const std::string& args) {
  const int rc = Shell(FakesDir() + "/fakectl --kubeconfig '" + dir + "/kubeconfig' " + args +
                       " >/dev/null");
  if (rc != 0) throw std::runtime_error("fakectl " + args + " failed with " + std::to_string(rc));
}

std::string Capture(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}

std::vector<std::string> FakeAccounts(const std::string& dir) {
  std::istringstream in(Capture(FakesDir() + "/everestctl --kubeconfig '" + dir +
                                "/kubeconfig' accounts list --no-headers --columns user"));
  std::vector<std::string> users;
  std::string u;
  while (in >> u) users.push_back(u);
  std::sort(users.begin(), users.end());
  return users;
}

std::string FakePolicy(const std::string& dir) {
  auto st = FakeState(dir);
  return st["objects"]["ConfigMap"]["everest-system/everest-rbac"]["data"].value("policy.csv", "");
}

nlohmann::json FakeState(const std::string& dir) {
  std::ifstream in(dir + "/fake-cluster.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str(), nullptr, false);
}

std::vector<nlohmann::json> FakeCalls(const std::string& dir) {
  std::vector<nlohmann::json> calls;
  std::ifstream in(dir + "/fake-calls.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) calls.push_back(j);
  }
  return calls;
}

Daemon::Daemon(std::string dir, std::map<std::string, std::string> env)
    : dir_(std::move(dir)), env_(std::move(env)) {
  if (Shell(FakesDir() + "/fakectl --kubeconfig '" + dir_ + "/kubeconfig' init >/dev/null") != 0) {
    std::abort();
  }
}

Daemon::~Daemon() {
  if (pid_ > 0) Kill9();
}

bool Daemon::Start(std::string* error) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const char* k : {"ADMIN_API_KEY", "ADMIN_API_KEYS", "CREDENTIALS_DIRECTORY", "STATE_DIRECTORY",
                        "NOTIFY_SOCKET", "KAFKA_BROKERS", "BOOTSTRAP_DEFAULT_PASSWORD"}) {
    env.erase(k);
  }
  env["PATH"] = FakesDir() + ":" + env["PATH"];
  env["KUBECONFIG"] = dir_ + "/kubeconfig";
  env["JOB_DB_PATH"] = dir_ + "/jobs.db";
  env["PORT"] = "0";
  env["BIND_ADDRESS"] = "127.0.0.1";
  env["ADMIN_API_KEY"] = kKey;
  env["CLI_KILL_GRACE_MS"] = "500";
  env["SHUTDOWN_GRACE_SECONDS"] = "5";
  for (const auto& [k, v] : env_) env[k] = v;
  std::vector<std::string> kv;
  for (const auto& [k, v] : env) kv.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : kv) envp.push_back(s.data());
  envp.push_back(nullptr);

  ++starts_;
  const std::string log = dir_ + "/daemon.log";
  const std::string marker = "=== start " + std::to_string(starts_) + " ===\n";
  {
    std::ofstream out(log, std::ios::app);
    out << marker;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::string bin = BOOTSTRAPD_BINARY;
  char* argv[] = {bin.data(), nullptr};
  const int rc = ::posix_spawn(&pid_, bin.c_str(), &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    *error = std::string("spawn: ") + std::strerror(rc);
    pid_ = -1;
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = Log();
    const auto start = text.rfind(marker);
    const auto at = text.find("\"msg\":\"listening\"", start == std::string::npos ? 0 : start);
    if (at != std::string::npos) {
      const auto p = text.find("\"port\":", at);
      port_ = static_cast<std::uint16_t>(std::atoi(text.c_str() + p + 7));
      return true;
    }
    int st;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      *error = "daemon exited during start:\n" + text.substr(start == std::string::npos ? 0 : start);
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  *error = "daemon did not report listening within 15 s";
  return false;
}

void Daemon::Kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int Daemon::Terminate(int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  return Wait(timeout_ms);
}

void Daemon::Signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int Daemon::Wait(int timeout_ms) {
  if (pid_ <= 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int st;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Kill9();
  return -1;
}

bool Daemon::Running() {
  if (pid_ <= 0) return false;
  int st;
  return ::waitpid(pid_, &st, WNOHANG) == 0;
}

std::string Daemon::Log() const {
  std::ifstream in(dir_ + "/daemon.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Response Daemon::Get(const std::string& target, const Headers& h) {
  Headers all = h;
  all.emplace_back("X-Admin-Key", kKey);
  return Http(port_, "GET", target, "", all);
}

Response Daemon::Post(const std::string& target, const std::string& body, const Headers& h) {
  Headers all = h;
  all.emplace_back("X-Admin-Key", kKey);
  return Http(port_, "POST", target, body, all);
}

nlohmann::json Daemon::WaitJob(const std::string& id, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  nlohmann::json last;
  while (std::chrono::steady_clock::now() < deadline) {
    Response r = Get("/jobs/" + id);
    last = r.Json();
    if (r.status == 200) {
      const std::string s = last.value("status", "");
      if (s == "succeeded" || s == "failed" || s == "canceled") return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return last;
}

}  // namespace testing

#include "bench/bench_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace bench {

double MonoMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t Rfc3339Ms(const std::string& s) {
  std::tm tm{};
  int ms = 0;
  if (s.size() < 20) return -1;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return -1;
  }
  if (s.size() > 20 && s[19] == '.') ms = std::atoi(s.substr(20, 3).c_str());
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

std::string MakeTempDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" + prefix +
                     "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    std::exit(1);
  }
  return tmpl;
}

void RemoveTree(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

pid_t Spawn(const std::string& bin, const std::vector<std::string>& args, const Env& env,
            const std::string& log) {
  std::vector<std::string> kv;
  for (const auto& [k, v] : env) kv.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : kv) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_s{bin};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  const std::string out = log.empty() ? "/dev/null" : log;
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    std::fprintf(stderr, "spawn %s: %s\n", bin.c_str(), std::strerror(rc));
    return -1;
  }
  return pid;
}

int WaitExit(pid_t pid, int timeout_ms) {
  if (pid <= 0) return -1;
  const double deadline = MonoMs() + timeout_ms;
  int st = 0;
  while (MonoMs() < deadline) {
    const pid_t r = ::waitpid(pid, &st, WNOHANG);
    if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (r < 0) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &st, 0);
  return -1;
}

int Terminate(pid_t pid, int timeout_ms) {
  if (pid <= 0) return -1;
  ::kill(pid, SIGTERM);
  return WaitExit(pid, timeout_ms);
}

ProcStats Sample(pid_t pid) {
  ProcStats s;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::atol(line.c_str() + 6);
    else if (line.rfind("VmHWM:", 0) == 0) s.hwm_kb = std::atol(line.c_str() + 6);
    else if (line.rfind("Threads:", 0) == 0) s.threads = std::atoi(line.c_str() + 8);
  }
  // utime + stime: fields 14 and 15 of stat, after the ")" that ends the name.
  auto cpu_ms = [](const std::string& path) {
    std::ifstream st(path);
    std::string text((std::istreambuf_iterator<char>(st)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) return 0.0;
    std::istringstream fields(text.substr(close + 2));
    std::string f;
    double ticks = 0;
    for (int i = 3; fields >> f && i <= 15; ++i) {
      if (i >= 14) ticks += std::atof(f.c_str());
    }
    return ticks * 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  };
  s.cpu_ms = cpu_ms("/proc/" + std::to_string(pid) + "/stat");
  s.loop_cpu_ms = cpu_ms("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/stat");
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++s.fds;
  }
  return s;
}

std::uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

NotifySocket::NotifySocket(std::string path) : path_(std::move(path)) {
  ::unlink(path_.c_str());
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path_.c_str());
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("bind notify socket");
    std::exit(1);
  }
}

NotifySocket::~NotifySocket() {
  if (fd_ >= 0) ::close(fd_);
  ::unlink(path_.c_str());
}

double NotifySocket::WaitFor(const std::string& needle, int timeout_ms) {
  const double deadline = MonoMs() + timeout_ms;
  char buf[4096];
  for (;;) {
    const int left = static_cast<int>(deadline - MonoMs());
    if (left <= 0) return -1;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, left) <= 0) return -1;
    const double at = MonoMs();
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) continue;
    if (std::string(buf, static_cast<std::size_t>(n)).find(needle) != std::string::npos) return at;
  }
}

std::string DaemonBinary() {
  const char* v = std::getenv("BENCH_DAEMON_BINARY");
  return v != nullptr && *v != '\0' ? v : BOOTSTRAPD_BINARY;
}

Env DaemonEnv(const std::string& dir, std::uint16_t port) {
  Env env;
  for (const char* k : {"PATH", "HOME", "LANG", "TZ", "GLIBC_TUNABLES"}) {
    if (const char* v = std::getenv(k)) env[k] = v;
  }
  env["JOB_DB_PATH"] = dir + "/jobs.db";
  env["PORT"] = std::to_string(port);
  env["BIND_ADDRESS"] = "127.0.0.1";
  env["ADMIN_API_KEY"] = kAdminKey;
  env["EVERESTCTL_BIN"] = INSTANT_CLI_BINARY;
  env["KUBECTL_BIN"] = INSTANT_CLI_BINARY;
  env["KUBECONFIG"] = dir + "/kubeconfig";  // never read: the instant CLI ignores it
  env["CLI_KILL_GRACE_MS"] = "500";
  env["SHUTDOWN_GRACE_SECONDS"] = "5";
  return env;
}

Daemon::~Daemon() {
  if (pid_ > 0) Terminate(pid_, 10000);
}

bool Daemon::Start(std::string* error, int timeout_ms) {
  const std::string log = log_path();
  const std::size_t before = ReadFile(log).size();
  pid_ = Spawn(DaemonBinary(), {}, env_, log);
  if (pid_ < 0) {
    *error = "spawn failed";
    return false;
  }
  const double deadline = MonoMs() + timeout_ms;
  while (MonoMs() < deadline) {
    const std::string text = ReadFile(log);
    const auto at = text.find("\"msg\":\"listening\"", before);
    if (at != std::string::npos) {
      const auto p = text.find("\"port\":", at);
      port_ = static_cast<std::uint16_t>(std::atoi(text.c_str() + p + 7));
      return true;
    }
    int st;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      *error = "daemon exited during start:\n" + text.substr(before);
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  *error = "daemon did not report listening in time";
  return false;
}

int Daemon::Stop(int timeout_ms) {
  const int rc = Terminate(pid_, timeout_ms);
  pid_ = -1;
  return rc;
}

namespace {

double SumLines(const std::string& text, const std::string& name, const std::string* label) {
  double sum = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    if (line.size() <= name.size() || (line[name.size()] != '{' && line[name.size()] != ' ')) continue;
    if (label != nullptr) {
      const auto close = line.find('}');
      if (close == std::string::npos || line.substr(0, close).find(*label) == std::string::npos) {
        continue;
      }
    }
    const auto sp = line.rfind(' ');
    sum += std::atof(line.c_str() + sp + 1);
  }
  return sum;
}

}  // namespace

double MetricSum(const std::string& text, const std::string& name) {
  return SumLines(text, name, nullptr);
}

double MetricSumWhere(const std::string& text, const std::string& name, const std::string& label) {
  return SumLines(text, name, &label);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace bench

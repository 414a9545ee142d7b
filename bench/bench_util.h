// Helpers shared by the benchmark drivers: start and stop the daemon, a tiny
// blocking HTTP/1.1 client, /proc sampling, an sd_notify listener, and time
// parsing. Plain POSIX; one thread per connection. Benchmarks only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tests/support/http_client.h"

namespace bench {

using Env = std::map<std::string, std::string>;
using Headers = testing::Headers;

inline constexpr const char* kAdminKey = "bench-admin-key-1";

// Milliseconds on the monotonic clock / the wall clock (Unix epoch).
double MonoMs();
std::int64_t WallMs();
// "2026-01-02T03:04:05.678Z" -> Unix ms; -1 if it does not parse.
std::int64_t Rfc3339Ms(const std::string& s);

// A fresh directory under $TMPDIR (or /tmp); removed by RemoveTree.
std::string MakeTempDir(const std::string& prefix);
void RemoveTree(const std::string& dir);
std::string ReadFile(const std::string& path);

// Starts `bin args...` with exactly `env`, stdout+stderr appended to `log`
// (or /dev/null when empty). Returns the pid, or -1.
pid_t Spawn(const std::string& bin, const std::vector<std::string>& args, const Env& env,
            const std::string& log);
// Waits for `pid` up to `timeout_ms`; SIGKILLs it after that. Returns the exit
// status (128+signal when signaled).
int WaitExit(pid_t pid, int timeout_ms);
int Terminate(pid_t pid, int timeout_ms);

struct ProcStats {
  long rss_kb = 0;
  long hwm_kb = 0;  // peak RSS
  int fds = 0;
  int threads = 0;
  double cpu_ms = 0;       // user + system CPU of the whole process so far
  double loop_cpu_ms = 0;  // ... of its main thread (the daemon's io_context loop)
};
ProcStats Sample(pid_t pid);

// The HTTP client is the tests' (tests/support/http_client.h). Load drivers
// resend once on a new connection when the server closed a kept-alive one.
using testing::Http;
using testing::Response;
class Conn : public testing::Conn {
 public:
  explicit Conn(std::uint16_t port) : testing::Conn(port, /*reconnect=*/true) {}
};

// A free TCP port on 127.0.0.1 (bound and released; a small race is accepted).
std::uint16_t FreePort();

// An AF_UNIX datagram socket standing in for systemd's NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path);
  ~NotifySocket();
  const std::string& path() const { return path_; }
  // Waits for a datagram containing `needle` (e.g. "READY=1"); returns the
  // monotonic ms it arrived at, or -1 on timeout.
  double WaitFor(const std::string& needle, int timeout_ms);

 private:
  std::string path_;
  int fd_ = -1;
};

// The daemon binary: $BENCH_DAEMON_BINARY if set (A/B runs of a change), else
// the one built beside the benchmarks.
std::string DaemonBinary();

// The environment the benchmarks give the daemon: the caller's PATH/HOME/LANG,
// instant CLIs, a database in `dir`, a fixed admin key, port `port` (0 = any).
Env DaemonEnv(const std::string& dir, std::uint16_t port = 0);

// A running daemon (log in <dir>/daemon.log).
class Daemon {
 public:
  Daemon(std::string dir, Env env) : dir_(std::move(dir)), env_(std::move(env)) {}
  ~Daemon();
  // Starts and waits for the "listening" log line (port parsed from it).
  bool Start(std::string* error, int timeout_ms = 30000);
  int Stop(int timeout_ms = 30000);  // SIGTERM, wait; SIGKILL after the timeout
  pid_t pid() const { return pid_; }
  std::uint16_t port() const { return port_; }
  std::string log_path() const { return dir_ + "/daemon.log"; }
  Headers Auth() const { return {{"X-Admin-Key", kAdminKey}}; }

 private:
  std::string dir_;
  Env env_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

// Sum of every series of a Prometheus metric (name followed by '{' or ' ').
double MetricSum(const std::string& text, const std::string& name);
// Sum of the series of `name` whose label set contains `label` (e.g. status="succeeded").
double MetricSumWhere(const std::string& text, const std::string& name, const std::string& label);

// Median / percentile of a sample (copied and sorted).
double Median(std::vector<double> v);

}  // namespace bench

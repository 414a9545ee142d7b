#include "daemon/exec/process_command_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <cerrno>
#include <cstring>

#include "daemon/domain/text.h"
#include "daemon/metrics/metrics.h"
#include "daemon/util/log.h"

namespace bootstrapd {

namespace asio = boost::asio;
using asio::awaitable;
using namespace asio::experimental::awaitable_operators;

const char* StatusName(CommandResult::Status s) {
  switch (s) {
    case CommandResult::Status::kExited: return "exited";
    case CommandResult::Status::kSignaled: return "signaled";
    case CommandResult::Status::kTimedOut: return "timeout";
    case CommandResult::Status::kCanceled: return "canceled";
    case CommandResult::Status::kSpawnFailed: return "spawn_failed";
  }
  return "unknown";
}

std::string FindExecutable(const std::string& name, const std::string& path_var) {
  auto usable = [](const std::string& p) {
    struct stat st {};
    return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0;
  };
  if (name.empty()) return "";
  if (name.find('/') != std::string::npos) return usable(name) ? name : "";
  std::size_t start = 0;
  while (start <= path_var.size()) {
    std::size_t end = path_var.find(':', start);
    if (end == std::string::npos) end = path_var.size();
    std::string dir = path_var.substr(start, end - start);
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + name;
    if (usable(candidate)) return candidate;
    start = end + 1;
  }
  return "";
}

std::vector<std::string> ChildEnvironment(const std::map<std::string, std::string>& env,
                                          bool safe, const std::string& kubeconfig) {
  static const char* kAllowed[] = {"PATH",        "HOME",        "KUBECONFIG", "LANG",
                                   "LC_ALL",      "TZ",          "XDG_CACHE_HOME",
                                   "HTTP_PROXY",  "HTTPS_PROXY", "NO_PROXY",   "http_proxy",
                                   "https_proxy", "no_proxy"};
  std::map<std::string, std::string> out;
  if (safe) {
    for (const char* k : kAllowed) {
      if (auto it = env.find(k); it != env.end()) out[k] = it->second;
    }
    out["NO_COLOR"] = "1";
    out["TERM"] = "dumb";
  } else {
    out = env;
  }
  if (!kubeconfig.empty()) out["KUBECONFIG"] = kubeconfig;
  if (out.find("PATH") == out.end()) out["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  std::vector<std::string> v;
  v.reserve(out.size());
  for (const auto& [k, val] : out) v.push_back(k + "=" + val);
  return v;
}

long long ProcessStartTicks(int pid) {
  // Called for every child: plain syscalls and a stack buffer (an ifstream
  // here cost more than the spawn's own bookkeeping).
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[1024];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf - 1)) < 0 && errno == EINTR) {
  }
  ::close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');  // the command name may hold spaces and ')'
  if (p == nullptr) return -1;
  // Fields after the command name start at field 3 (state); starttime is 22.
  ++p;
  for (int field = 3; field <= 22; ++field) {
    while (*p == ' ') ++p;
    if (*p == '\0') return -1;
    if (field == 22) return std::atoll(p);
    while (*p != ' ' && *p != '\0') ++p;
  }
  return -1;
}

namespace {

bool EnvironHas(int pid, const std::string& marker) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  std::string entry;
  while (std::getline(in, entry, '\0')) {
    if (entry == marker) return true;
  }
  return false;
}

}  // namespace

bool ProcessGroupAlive(int pgid) {
  // A zombie counts as gone (its parent, now init, reaps it when it can).
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream in(e.path() / "stat");
    std::string stat;
    if (!std::getline(in, stat)) continue;
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    int ppid = 0, pg = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %c %d %d", &state, &ppid, &pg) != 3) continue;
    if (pg == pgid && state != 'Z' && state != 'X') return true;
  }
  return false;
}

int KillLeftoverChildren(const std::vector<std::pair<int, long long>>& recorded,
                         const std::string& marker) {
  std::set<int> groups;
  for (const auto& [pid, ticks] : recorded) {
    if (pid > 1 && ProcessStartTicks(pid) == ticks) groups.insert(pid);
  }
  if (!marker.empty()) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
      const std::string name = e.path().filename().string();
      if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
      const int pid = std::atoi(name.c_str());
      if (pid <= 1 || pid == ::getpid() || !EnvironHas(pid, marker)) continue;
      const pid_t pgid = ::getpgid(pid);
      if (pgid > 1 && pgid != ::getpgrp()) groups.insert(pgid);
    }
  }
  for (int g : groups) ::kill(-g, SIGKILL);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (int g : groups) {
    while (ProcessGroupAlive(g) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return static_cast<int>(groups.size());
}

struct ProcessCommandRunner::Child {
  explicit Child(asio::any_io_executor ex) : timer(ex) {}
  pid_t pid = -1;
  bool exited = false;
  bool timed_out = false;
  bool canceled = false;
  bool term_sent = false;
  std::chrono::milliseconds grace{3000};
  asio::steady_timer timer;
};

namespace {

using Descriptor = asio::posix::stream_descriptor;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// Sends SIGTERM to the child's process group now and SIGKILL after the grace.
void Terminate(const std::shared_ptr<ProcessCommandRunner::Child>& child) {
  if (child->exited || child->term_sent) return;
  child->term_sent = true;
  ::kill(-child->pid, SIGTERM);
  child->timer.expires_after(child->grace);
  child->timer.async_wait([child](const boost::system::error_code& ec) {
    if (ec || child->exited) return;
    ::kill(-child->pid, SIGKILL);
  });
}

awaitable<void> WriteAll(Descriptor* sd, std::string data) {
  if (!data.empty()) {
    auto [ec, n] = co_await asio::async_write(*sd, asio::buffer(data), kNoThrow);
    (void)ec;  // EPIPE: the child did not read its stdin; not an error of ours
    (void)n;
  }
  boost::system::error_code ignored;
  sd->close(ignored);
}

// Reads to EOF, keeping at most `keep` bytes and counting the rest in *dropped.
awaitable<void> ReadAll(Descriptor* sd, std::string* out, std::size_t keep, std::size_t* dropped) {
  std::array<char, 16384> buf;
  for (;;) {
    auto [ec, n] = co_await sd->async_read_some(asio::buffer(buf), kNoThrow);
    if (n > 0) {
      const std::size_t room = out->size() < keep ? keep - out->size() : 0;
      const std::size_t take = std::min(room, n);
      out->append(buf.data(), take);
      *dropped += n - take;
    }
    if (ec) break;  // eof, or the pipe is gone
  }
}

awaitable<void> WaitExit(Descriptor* pidfd, std::shared_ptr<ProcessCommandRunner::Child> child,
                         int* wstatus) {
  for (;;) {
    auto [ec] = co_await pidfd->async_wait(Descriptor::wait_read, kNoThrow);
    // Confirm the exit without reaping (a readiness report alone is not
    // trusted: killing the group of a live child would fail its job).
    siginfo_t info{};
    const int rc = ::waitid(P_PID, static_cast<id_t>(child->pid), &info,
                            WEXITED | WNOHANG | WNOWAIT);
    if (rc == 0 && info.si_pid == child->pid) break;
    if (rc != 0 && errno != EINTR) break;  // not our child any more: nothing to wait for
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) break;
  }
  // The child is a zombie now: its pid (and so its process-group id) cannot be
  // reused yet, so sweeping the group cannot hit a stranger. Anything it left
  // behind in its group dies with it: no orphans holding our pipes.
  ::kill(-child->pid, SIGKILL);
  int st = 0;
  while (::waitpid(child->pid, &st, 0) < 0 && errno == EINTR) {
  }
  *wstatus = st;
  child->exited = true;
  child->timer.cancel();
}

std::string Finish(std::string raw, std::size_t dropped, std::size_t cap, bool* truncated) {
  std::string s = CleanOutput(raw, cap, truncated);
  if (dropped > 0 && !*truncated) {
    s += "\n[... truncated " + std::to_string(dropped) + " bytes]";
    *truncated = true;
  }
  return s;
}

std::string Basename(const std::string& p) {
  const auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

const char* Outcome(const CommandResult& r) {
  switch (r.status) {
    case CommandResult::Status::kExited: return r.exit_code == 0 ? "ok" : "error";
    case CommandResult::Status::kSignaled: return "signal";
    case CommandResult::Status::kTimedOut: return "timeout";
    case CommandResult::Status::kCanceled: return "canceled";
    case CommandResult::Status::kSpawnFailed: return "spawn_failed";
  }
  return "error";
}

}  // namespace

ProcessCommandRunner::ProcessCommandRunner(asio::any_io_executor ex, ProcessRunnerOptions options,
                                           Metrics* metrics)
    : ex_(std::move(ex)), options_(std::move(options)), metrics_(metrics) {}

ProcessCommandRunner::~ProcessCommandRunner() {
  for (auto& [pid, child] : running_) ::kill(-pid, SIGKILL);
}

std::size_t ProcessCommandRunner::running() const { return running_.size(); }

void ProcessCommandRunner::TerminateAll() {
  auto copy = running_;
  for (auto& [pid, child] : copy) {
    child->canceled = true;
    Terminate(child);
  }
}

awaitable<CommandResult> ProcessCommandRunner::Run(CommandSpec spec) {
  CommandResult res;
  const auto started = std::chrono::steady_clock::now();
  const std::string tool =
      spec.metric_tool.empty() ? Basename(spec.argv.empty() ? "" : spec.argv[0]) : spec.metric_tool;
  const std::string sub = spec.metric_subcommand.empty() ? "other" : spec.metric_subcommand;
  auto record = [&](CommandResult& r) {
    r.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    if (metrics_ != nullptr) {
      metrics_->cli_calls.Add({{"tool", tool}, {"subcommand", sub}, {"outcome", Outcome(r)}})
          .Increment();
      metrics_->cli_duration
          .Add({{"tool", tool}, {"subcommand", sub}}, Metrics::CliBuckets())
          .Observe(static_cast<double>(r.duration.count()) / 1000.0);
    }
  };

  if (spec.argv.empty()) {
    res.error = "empty command";
    record(res);
    co_return res;
  }
  if (spec.cancel && spec.cancel->canceled()) {
    res.status = CommandResult::Status::kCanceled;
    res.error = "canceled before start";
    record(res);
    co_return res;
  }
  const std::string exe = FindExecutable(spec.argv[0], options_.path);
  if (exe.empty()) {
    res.error = spec.argv[0] + ": executable not found on PATH";
    record(res);
    co_return res;
  }

  int in_p[2], out_p[2], err_p[2];
  if (::pipe2(in_p, O_CLOEXEC) != 0) {
    res.error = std::string("pipe: ") + std::strerror(errno);
    record(res);
    co_return res;
  }
  if (::pipe2(out_p, O_CLOEXEC) != 0) {
    res.error = std::string("pipe: ") + std::strerror(errno);
    ::close(in_p[0]);
    ::close(in_p[1]);
    record(res);
    co_return res;
  }
  if (::pipe2(err_p, O_CLOEXEC) != 0) {
    res.error = std::string("pipe: ") + std::strerror(errno);
    for (int fd : {in_p[0], in_p[1], out_p[0], out_p[1]}) ::close(fd);
    record(res);
    co_return res;
  }

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_p[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out_p[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_p[1], 2);
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv;
  for (auto& a : spec.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : options_.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(in_p[0]);
  ::close(out_p[1]);
  ::close(err_p[1]);
  if (rc != 0) {
    for (int fd : {in_p[1], out_p[0], err_p[0]}) ::close(fd);
    res.error = spec.argv[0] + ": cannot start: " + std::strerror(rc);
    record(res);
    co_return res;
  }
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    // Cannot observe the child asynchronously: kill and reap it rather than leak it.
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    for (int fd : {in_p[1], out_p[0], err_p[0]}) ::close(fd);
    res.error = std::string("pidfd_open: ") + std::strerror(errno);
    record(res);
    co_return res;
  }
  ::fcntl(pidfd, F_SETFD, FD_CLOEXEC);

  if (options_.on_spawn) options_.on_spawn(pid, ProcessStartTicks(pid), spec.owner);
  auto child = std::make_shared<Child>(ex_);
  child->pid = pid;
  child->grace = options_.kill_grace;
  running_[pid] = child;

  Descriptor in_sd(ex_, in_p[1]), out_sd(ex_, out_p[0]), err_sd(ex_, err_p[0]),
      pid_sd(ex_, pidfd);
  boost::system::error_code ignored;
  in_sd.non_blocking(true, ignored);
  out_sd.non_blocking(true, ignored);
  err_sd.non_blocking(true, ignored);

  // The deadline: SIGTERM to the group, SIGKILL after the grace.
  child->timer.expires_after(spec.timeout);
  child->timer.async_wait([child](const boost::system::error_code& ec) {
    if (ec || child->exited) return;
    child->timed_out = true;
    Terminate(child);
  });
  std::size_t cancel_id = 0;
  if (spec.cancel) {
    cancel_id = spec.cancel->OnCancel([child] {
      child->canceled = true;
      Terminate(child);
    });
  }

  std::string out_raw, err_raw;
  std::size_t out_dropped = 0, err_dropped = 0;
  const std::size_t cap = spec.output_cap > 0 ? spec.output_cap : options_.output_cap;
  const std::size_t keep = cap + 65536;  // room for ANSI that is stripped
  int wstatus = 0;
  co_await (WriteAll(&in_sd, std::move(spec.stdin_data)) &&
            ReadAll(&out_sd, &out_raw, keep, &out_dropped) &&
            ReadAll(&err_sd, &err_raw, keep, &err_dropped) && WaitExit(&pid_sd, child, &wstatus));
  if (spec.cancel) spec.cancel->Remove(cancel_id);
  running_.erase(pid);
  if (options_.on_exit) options_.on_exit(pid);

  res.out = Finish(std::move(out_raw), out_dropped, cap, &res.out_truncated);
  res.err = Finish(std::move(err_raw), err_dropped, cap, &res.err_truncated);
  if (child->canceled) {
    res.status = CommandResult::Status::kCanceled;
    res.error = "canceled: the child was terminated";
  } else if (child->timed_out) {
    res.status = CommandResult::Status::kTimedOut;
    res.error = "timed out after " + std::to_string(spec.timeout.count() / 1000.0).substr(0, 6) +
                " s: the child was terminated";
  } else if (WIFEXITED(wstatus)) {
    res.status = CommandResult::Status::kExited;
    res.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    res.status = CommandResult::Status::kSignaled;
    res.signal = WTERMSIG(wstatus);
    res.error = std::string("killed by signal ") + std::to_string(res.signal) + " (" +
                ::strsignal(res.signal) + ")";
  }
  if (res.status != CommandResult::Status::kExited) {
    if (WIFEXITED(wstatus)) res.exit_code = WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus)) res.signal = WTERMSIG(wstatus);
  }
  record(res);
  co_return res;
}

}  // namespace bootstrapd

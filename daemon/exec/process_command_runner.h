// CommandRunner over real child processes: posix_spawn from an argv vector
// (never a shell), each child the leader of its own session (no controlling
// terminal, so an everestctl prompt fails at once), no inherited descriptors
// (closefrom 3), stdin/stdout/stderr on non-blocking pipes driven by the loop,
// exit observed through a pidfd. Timeout or cancel: SIGTERM to the process
// group, then SIGKILL after the grace. Loop thread only.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/exec/command_runner.h"

namespace bootstrapd {

class Metrics;

struct ProcessRunnerOptions {
  std::vector<std::string> env;     // "KEY=VALUE" entries the children get
  // Told of every child right after its start and after its end, so that its
  // pid and start time can be kept until it is reaped (leftover killing).
  std::function<void(int pid, long long start_ticks, const std::string& owner)> on_spawn;
  std::function<void(int pid)> on_exit;
  std::string path;                 // PATH used to find argv[0] (the daemon's own PATH)
  std::size_t output_cap = 64 << 10;
  std::chrono::milliseconds kill_grace{3000};
};

// Looks `name` up like execvp: a name with '/' is taken as is; otherwise each
// PATH entry is tried. Returns the path of an executable regular file, or "".
std::string FindExecutable(const std::string& name, const std::string& path_var);

// The environment children get. With `safe`, only PATH, HOME, KUBECONFIG, LANG,
// LC_ALL, TZ, XDG_CACHE_HOME and the proxy variables pass, plus NO_COLOR=1 and
// TERM=dumb; otherwise everything. A non-empty `kubeconfig` overrides KUBECONFIG.
std::vector<std::string> ChildEnvironment(const std::map<std::string, std::string>& env,
                                          bool safe, const std::string& kubeconfig);

// The start time of `pid` in clock ticks since boot (/proc/<pid>/stat field
// 22), or -1 when the process does not exist.
long long ProcessStartTicks(int pid);

// True while a live (non-zombie) process is in process group `pgid`.
bool ProcessGroupAlive(int pgid);

// Kills (SIGKILL to the process group) what a killed predecessor left running:
// every recorded child whose start time still matches (so a reused pid is
// never hit), and every process whose environment carries `marker`
// ("NAME=value", set on every child by this daemon). Waits up to 2 s for them
// to die. Returns how many process groups were killed.
int KillLeftoverChildren(const std::vector<std::pair<int, long long>>& recorded,
                         const std::string& marker);

class ProcessCommandRunner final : public CommandRunner {
 public:
  ProcessCommandRunner(boost::asio::any_io_executor ex, ProcessRunnerOptions options,
                       Metrics* metrics);
  ~ProcessCommandRunner() override;

  // CommandRunner
  boost::asio::awaitable<CommandResult> Run(CommandSpec spec) override;

  // Children running now.
  std::size_t running() const;
  // SIGTERM (then SIGKILL after the grace) to every running child's group.
  void TerminateAll();

  struct Child;

 private:
  boost::asio::any_io_executor ex_;
  ProcessRunnerOptions options_;
  Metrics* metrics_;
  std::map<int, std::shared_ptr<Child>> running_;  // by pid
};

}  // namespace bootstrapd

// The spawn baseline: how many short children per second this machine can
// start and reap, with the same per-child work the daemon's runner asks of the
// kernel (three O_CLOEXEC pipes, posix_spawn with SETSID + signal reset +
// closefrom(3), stdout/stderr read to EOF, waitpid) and nothing of its own.
//
//   bench_spawn <program> <concurrency> <seconds> [args...]
// Prints one JSON line: {"program":..,"concurrency":..,"spawns":..,"seconds":..,"per_s":..}
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> g_stop{false};
std::atomic<long> g_done{0};
std::atomic<long> g_failed{0};

bool SpawnOnce(const char* path, char* const* argv, char* const* envp) {
  int in_p[2], out_p[2], err_p[2];
  if (::pipe2(in_p, O_CLOEXEC) != 0) return false;
  if (::pipe2(out_p, O_CLOEXEC) != 0) return false;
  if (::pipe2(err_p, O_CLOEXEC) != 0) return false;
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
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, path, &fa, &attr, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(in_p[0]);
  ::close(out_p[1]);
  ::close(err_p[1]);
  ::close(in_p[1]);  // nothing for stdin: EOF at once
  if (rc != 0) {
    ::close(out_p[0]);
    ::close(err_p[0]);
    return false;
  }
  pollfd fds[2] = {{out_p[0], POLLIN, 0}, {err_p[0], POLLIN, 0}};
  int open = 2;
  char buf[16384];
  while (open > 0) {
    if (::poll(fds, 2, -1) < 0) break;
    for (auto& p : fds) {
      if (p.fd < 0 || p.revents == 0) continue;
      const ssize_t n = ::read(p.fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(p.fd);
        p.fd = -1;
        --open;
      }
    }
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_spawn <program> <concurrency> <seconds> [args...]\n");
    return 2;
  }
  const std::string prog = argv[1];
  const int conc = std::atoi(argv[2]);
  const double secs = std::atof(argv[3]);
  std::vector<char*> child_argv;
  child_argv.push_back(argv[1]);
  for (int i = 4; i < argc; ++i) child_argv.push_back(argv[i]);
  child_argv.push_back(nullptr);
  // The daemon's child environment (SAFE_SUBPROCESS_ENV): a handful of variables.
  static char e1[] = "PATH=/usr/local/bin:/usr/bin:/bin", e2[] = "HOME=/root", e3[] = "NO_COLOR=1",
              e4[] = "TERM=dumb", e5[] = "KUBECONFIG=/nonexistent/kubeconfig";
  char* envp[] = {e1, e2, e3, e4, e5, nullptr};

  std::vector<std::thread> threads;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < conc; ++i) {
    threads.emplace_back([&] {
      while (!g_stop.load(std::memory_order_relaxed)) {
        if (SpawnOnce(prog.c_str(), child_argv.data(), envp)) ++g_done;
        else ++g_failed;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(secs));
  g_stop = true;
  for (auto& t : threads) t.join();
  const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("{\"bench\":\"spawn\",\"program\":\"%s\",\"concurrency\":%d,\"spawns\":%ld,\"failed\":%ld,\"seconds\":%.3f,"
              "\"per_s\":%.1f}\n",
              prog.c_str(), conc, g_done.load(), g_failed.load(), el, g_done.load() / el);
  return g_failed.load() == 0 ? 0 : 1;
}

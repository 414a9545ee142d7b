// The real runner against real commands (ninja's subprocess tests): exit
// codes, timeouts with process-group kill, a missing binary, output caps,
// stdin, ANSI stripping, the safe environment and descriptor hygiene.
#include <signal.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "daemon/exec/executor.h"
#include "daemon/exec/process_command_runner.h"
#include "daemon/metrics/metrics.h"

using namespace bootstrapd;
namespace asio = boost::asio;

namespace {

struct Rig {
  asio::io_context ioc;
  Metrics metrics;
  ProcessRunnerOptions opts;
  std::unique_ptr<ProcessCommandRunner> runner;
  explicit Rig(std::size_t cap = 64 << 10, std::map<std::string, std::string> env = {}) {
    opts.path = "/usr/bin:/bin";
    if (env.empty()) env = {{"PATH", "/usr/bin:/bin"}, {"HOME", "/tmp"}};
    opts.env = ChildEnvironment(env, true, "");
    opts.output_cap = cap;
    opts.kill_grace = std::chrono::milliseconds(300);
    runner = std::make_unique<ProcessCommandRunner>(ioc.get_executor(), opts, &metrics);
  }
  CommandResult Run(std::vector<std::string> argv, std::string in = "",
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    CommandSpec spec;
    spec.argv = std::move(argv);
    spec.stdin_data = std::move(in);
    spec.timeout = timeout;
    auto fut = asio::co_spawn(ioc, runner->Run(std::move(spec)), asio::use_future);
    ioc.run();
    ioc.restart();
    return fut.get();
  }
};

// True once no live process is left in the group (the kill is asynchronous:
// polls up to 2 s).
bool GroupGone(int pgid) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (ProcessGroupAlive(pgid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace

TEST_CASE("exit codes are recorded", "[runner]") {
  Rig rig;
  auto ok = rig.Run({"true"});
  CHECK(ok.status == CommandResult::Status::kExited);
  CHECK(ok.exit_code == 0);
  CHECK(ok.Succeeded());
  auto three = rig.Run({"sh", "-c", "echo out; echo err >&2; exit 3"});
  CHECK(three.status == CommandResult::Status::kExited);
  CHECK(three.exit_code == 3);
  CHECK(three.out == "out\n");
  CHECK(three.err == "err\n");
}

TEST_CASE("a missing binary is a clear spawn error", "[runner]") {
  Rig rig;
  auto r = rig.Run({"no-such-binary-xyz", "--help"});
  CHECK(r.status == CommandResult::Status::kSpawnFailed);
  CHECK(r.error == "no-such-binary-xyz: executable not found on PATH");
}

TEST_CASE("argv is never interpreted by a shell", "[runner]") {
  Rig rig;
  auto r = rig.Run({"echo", "$(id)", ";", "rm", "-rf", "/", "`x`"});
  CHECK(r.out == "$(id) ; rm -rf / `x`\n");
}

TEST_CASE("stdin is written and closed", "[runner]") {
  Rig rig;
  std::string big(300000, 'x');
  auto r = rig.Run({"wc", "-c"}, big);
  CHECK(r.Succeeded());
  CHECK(std::atoi(r.out.c_str()) == 300000);
}

TEST_CASE("timeout kills the whole process group, no orphans", "[runner]") {
  Rig rig;
  const auto t0 = std::chrono::steady_clock::now();
  // The child starts a grandchild that would outlive it, then hangs; it also
  // ignores SIGTERM so only SIGKILL after the grace ends it.
  auto r = rig.Run({"sh", "-c", "trap '' TERM; sleep 60 & echo $$ $!; wait"}, "",
                   std::chrono::milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(r.status == CommandResult::Status::kTimedOut);
  CHECK(took < std::chrono::seconds(5));
  const int pgid = std::atoi(r.out.c_str());
  REQUIRE(pgid > 0);
  CHECK(GroupGone(pgid));
}

TEST_CASE("a child that exits leaves no grandchildren holding the pipes", "[runner]") {
  Rig rig;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = rig.Run({"sh", "-c", "sleep 60 & echo $$"});
  CHECK(r.Succeeded());
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  CHECK(GroupGone(std::atoi(r.out.c_str())));
}

TEST_CASE("the child runs in its own session without a controlling terminal", "[runner]") {
  Rig rig;
  auto r = rig.Run({"sh", "-c", "test \"$(ps -o sid= -p $$ | tr -d ' ')\" = \"$$\" && echo leader; "
                                "(exec 3</dev/tty) 2>/dev/null && echo tty || echo notty"});
  CHECK(r.out == "leader\nnotty\n");
}

TEST_CASE("output is capped on a code-point boundary with a marker", "[runner]") {
  Rig rig(1024);
  auto r = rig.Run({"sh", "-c", "yes é | head -c 200000"});
  CHECK(r.Succeeded());
  CHECK(r.out_truncated);
  CHECK(r.out.find("[... truncated") != std::string::npos);
  CHECK(r.out.size() < 1100);
  auto big = rig.Run({"head", "-c", "10000000", "/dev/zero"});  // 10 MB: drained, not buffered
  CHECK(big.Succeeded());
  CHECK(big.out_truncated);
}

TEST_CASE("ANSI escapes are stripped and invalid UTF-8 replaced", "[runner]") {
  Rig rig;
  auto r = rig.Run({"printf", "\\033[31mred\\033[0m \\377ok\\n"});
  CHECK(r.out == "red \xEF\xBF\xBDok\n");
}

TEST_CASE("SAFE_SUBPROCESS_ENV passes only the allowed variables", "[runner]") {
  Rig rig(64 << 10, {{"PATH", "/usr/bin:/bin"}, {"HOME", "/tmp"}, {"ADMIN_API_KEY", "sekret"},
                     {"HTTPS_PROXY", "http://proxy:3128"}});
  auto r = rig.Run({"env"});
  CHECK(r.out.find("sekret") == std::string::npos);
  CHECK(r.out.find("HTTPS_PROXY=http://proxy:3128") != std::string::npos);
  CHECK(r.out.find("NO_COLOR=1") != std::string::npos);
  auto all = ChildEnvironment({{"ADMIN_API_KEY", "sekret"}}, false, "/k");
  CHECK(std::find(all.begin(), all.end(), "ADMIN_API_KEY=sekret") != all.end());
  CHECK(std::find(all.begin(), all.end(), "KUBECONFIG=/k") != all.end());
}

TEST_CASE("children inherit no descriptor beyond stdio", "[runner]") {
  Rig rig;
  // An inheritable descriptor of ours must not reach the child.
  const int leaked = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC on purpose
  auto r = rig.Run({"sh", "-c", "ls /proc/$$/fd"});
  ::close(leaked);
  CHECK(r.out == "0\n1\n2\n");
}

TEST_CASE("a signal death is recorded", "[runner]") {
  Rig rig;
  auto r = rig.Run({"sh", "-c", "kill -SEGV $$"});
  CHECK(r.status == CommandResult::Status::kSignaled);
  CHECK(r.signal == SIGSEGV);
}

TEST_CASE("cancel terminates a running child", "[runner]") {
  Rig rig;
  CommandSpec spec;
  spec.argv = {"sleep", "60"};
  spec.timeout = std::chrono::seconds(60);
  spec.cancel = std::make_shared<CancelToken>();
  auto token = spec.cancel;
  asio::steady_timer t(rig.ioc);
  t.expires_after(std::chrono::milliseconds(100));
  t.async_wait([token](const boost::system::error_code&) { token->Cancel(); });
  auto fut = asio::co_spawn(rig.ioc, rig.runner->Run(std::move(spec)), asio::use_future);
  rig.ioc.run();
  auto r = fut.get();
  CHECK(r.status == CommandResult::Status::kCanceled);
}

TEST_CASE("the executor never runs more children than its limit", "[runner][executor]") {
  Rig rig;
  Executor ex(rig.ioc.get_executor(), rig.runner.get(), 2);
  std::vector<std::future<CommandResult>> futs;
  const std::string dir = "/tmp/bootstrapd-exec-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  // Each child records the number of siblings running at its start.
  const std::string script = "mkdir " + dir + "/$$; ls " + dir + " | wc -l; sleep 0.2; rmdir " + dir + "/$$";
  for (int i = 0; i < 6; ++i) {
    CommandSpec s;
    s.argv = {"sh", "-c", script};
    futs.push_back(asio::co_spawn(rig.ioc, ex.Run(std::move(s)), asio::use_future));
  }
  rig.ioc.run();
  int max_seen = 0;
  for (auto& f : futs) max_seen = std::max(max_seen, std::atoi(f.get().out.c_str()));
  std::filesystem::remove_all(dir);
  CHECK(max_seen >= 1);
  CHECK(max_seen <= 2);
}

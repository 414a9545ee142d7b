// CLI faults (issue #7): the fakes hang, crash, print garbage or 10 MB, exit 0
// with an error text, or are missing. Every job must end with a clear step
// error, and no child of the daemon may be left running.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "tests/support/harness.h"

using testing::Daemon;
using testing::Response;
using testing::TempDir;
using json = nlohmann::json;

namespace {

// Processes whose environment points at this test's simulated cluster: the
// daemon's children (and theirs) get KUBECONFIG=<dir>/kubeconfig.
std::vector<int> ChildrenOf(const std::string& dir, int daemon_pid) {
  const std::string marker = "KUBECONFIG=" + dir + "/kubeconfig";
  std::vector<int> pids;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return pids;
  while (dirent* e = ::readdir(proc)) {
    const int pid = std::atoi(e->d_name);
    if (pid <= 0 || pid == daemon_pid || pid == ::getpid()) continue;
    std::ifstream in("/proc/" + std::string(e->d_name) + "/environ", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string env = ss.str();
    std::size_t pos = 0;
    while (pos < env.size()) {
      const std::size_t end = env.find('\0', pos);
      const std::string var = env.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      if (var == marker) {
        // A zombie is no longer running anything.
        std::ifstream st("/proc/" + std::string(e->d_name) + "/stat");
        std::string line;
        std::getline(st, line);
        const auto rp = line.rfind(')');
        if (rp != std::string::npos && rp + 2 < line.size() && line[rp + 2] != 'Z') pids.push_back(pid);
        break;
      }
      if (end == std::string::npos) break;
      pos = end + 1;
    }
  }
  ::closedir(proc);
  return pids;
}

struct Fault {
  const char* name;
  const char* rule;       // fakectl fault-add JSON
  const char* step;       // the step that must fail
  const char* expected;   // text the step error must contain
};

}  // namespace

TEST_CASE("CLI faults end every job with a clear step error and leave no child",
          "[attack][faults]") {
  TempDir dir;
  Daemon d(dir.path(), {{"CLI_TIMEOUT_SECONDS", "2"}});
  START(d);
  const Fault faults[] = {
      {"hang", R"({"tool":"everestctl","match":["accounts","create"],"mode":"hang"})",
       "create_account", "timed out after 2"},
      {"crash", R"({"tool":"everestctl","match":["namespaces","add"],"mode":"crash"})",
       "add_namespace", "killed by signal 11"},
      {"garbage", R"({"tool":"kubectl","match":["get","configmap"],"mode":"garbage","bytes":65536})",
       "apply_rbac_policy", "JSON"},
      {"10 MB of output", R"({"tool":"kubectl","match":["get","configmap"],"mode":"bigoutput","bytes":10485760})",
       "apply_rbac_policy", "JSON"},
      {"10 MB on stderr, exit 0",
       R"({"tool":"everestctl","match":["accounts","create"],"mode":"bigoutput","stream":"stderr","bytes":10485760})",
       "create_account", "exit code 0 but the CLI reported an error"},
      {"exit 0 with an error text",
       R"({"tool":"everestctl","match":["accounts","create"],"mode":"exit0error","stderr":"❌ secrets \"everest-accounts\" not found\n"})",
       "create_account", "exit code 0 but the CLI reported an error: ❌ secrets"},
      {"exit 0 with a bare error word", R"({"tool":"everestctl","match":["namespaces","add"],"mode":"exit0error"})",
       "add_namespace", "exit code 0 but the CLI reported an error: error"},
      {"kubectl hang on apply", R"({"tool":"kubectl","match":["apply"],"mode":"hang"})",
       "apply_resource_quota", "timed out after 2"},
  };
  int injected = 0;
  int n = 0;
  for (const Fault& f : faults) {
    INFO("fault: " << f.name);
    testing::FakeCtl(dir.path(), std::string("fault-add '") + f.rule + "'");
    ++injected;
    const std::string user = "fault_user_" + std::to_string(n++);
    Response r = d.Post("/bootstrap/users", json{{"username", user}}.dump(), {{"Prefer", "wait=60"}});
    INFO(r.status << " " << r.body.substr(0, 2000));
    REQUIRE(r.status == 502);
    const json p = r.Json();
    const std::string detail = p.value("detail", "");
    CHECK(detail.find(std::string(f.step) + " failed") != std::string::npos);
    CHECK(detail.find(f.expected) != std::string::npos);
    // The failed step's outputs are capped, whatever the child printed.
    for (const auto& s : p["steps"]) {
      CHECK(s.value("stdout", "").size() <= 70 * 1024);
      CHECK(s.value("stderr", "").size() <= 70 * 1024);
    }
    const std::string id = p.value("job_id", "");
    CHECK(d.Get("/jobs/" + id).Json()["status"] == "failed");
    // No child is left: the runner killed the whole group of a hung one.
    CHECK(ChildrenOf(dir.path(), d.pid()).empty());
    testing::FakeCtl(dir.path(), "faults-clear");
  }
  // After every fault the daemon still works end to end.
  Response ok = d.Post("/bootstrap/users", R"({"username":"after_faults"})", {{"Prefer", "wait=60"}});
  CHECK(ok.status == 200);
  CHECK(ChildrenOf(dir.path(), d.pid()).empty());
  WARN("CLI faults: " << injected << " injected, every job failed with its step error, 0 children left");
}

TEST_CASE("a missing CLI binary fails the job clearly and readiness says so", "[attack][faults]") {
  TempDir dir;
  Daemon d(dir.path(), {{"EVERESTCTL_BIN", dir.path() + "/no-such-everestctl"}});
  START(d);
  const Response ready = testing::Http(d.port(), "GET", "/readyz");
  CHECK(ready.status == 503);
  CHECK(ready.body.find("everestctl") != std::string::npos);
  Response r = d.Post("/bootstrap/users", R"({"username":"nobin"})", {{"Prefer", "wait=30"}});
  INFO(r.body);
  REQUIRE(r.status == 502);
  const std::string detail = r.Json().value("detail", "");
  CHECK(detail.find("create_account failed") != std::string::npos);
  CHECK(detail.find("no-such-everestctl: executable not found") != std::string::npos);
  CHECK(ChildrenOf(dir.path(), d.pid()).empty());
}

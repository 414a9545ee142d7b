// Packaging: the systemd unit (systemd-analyze verify and security, sd_notify
// datagrams from the real daemon), the container files (static checks plus the
// HEALTHCHECK command run against the daemon), the CI workflow, the Kubernetes
// manifests and the Debian package (cpack, dpkg-deb, lintian).
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/harness.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kSrc = BOOTSTRAPD_SOURCE_DIR;
const std::string kUnit = kSrc + "/systemd/everest-bootstrapd.service";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

struct Result {
  int status = -1;
  std::string output;  // stdout and stderr together
};

// Runs a command line through /bin/sh with stderr folded into stdout.
Result Run(const std::string& cmd) {
  Result r;
  FILE* p = ::popen(("(" + cmd + ") 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// The packaging tools come from scripts/deps.sh (.ci/run installs the same list).
void RequireTool(const std::string& tool) {
  INFO(tool << " is missing: run ./scripts/deps.sh (it installs systemd, dpkg-dev, "
               "lintian and python3-yaml)");
  REQUIRE(testing::Shell("command -v " + tool + " >/dev/null 2>&1") == 0);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Key=value assignments of a unit file, in order (keys repeat).
std::vector<std::pair<std::string, std::string>> UnitAssignments(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& raw : Lines(text)) {
    const std::string line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';' || line[0] == '[') continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    out.emplace_back(Trim(line.substr(0, eq)), Trim(line.substr(eq + 1)));
  }
  return out;
}

std::vector<std::string> UnitValues(const std::string& text, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& [k, v] : UnitAssignments(text)) {
    if (k == key) out.push_back(v);
  }
  return out;
}

std::string UnitValue(const std::string& text, const std::string& key) {
  const auto all = UnitValues(text, key);
  return all.empty() ? std::string() : all.back();
}

// "45s", "45", "1min 30s" -> seconds (only what the unit uses).
double Seconds(const std::string& v) {
  std::regex part(R"((\d+(?:\.\d+)?)\s*(ms|s|sec|min|m|h)?)");
  double total = 0;
  for (auto it = std::sregex_iterator(v.begin(), v.end(), part); it != std::sregex_iterator();
       ++it) {
    const double n = std::stod((*it)[1]);
    const std::string unit = (*it)[2];
    if (unit == "ms") total += n / 1000;
    else if (unit == "min" || unit == "m") total += n * 60;
    else if (unit == "h") total += n * 3600;
    else total += n;
  }
  return total;
}

// A copy of the unit whose ExecStart= is the binary built here, so that
// systemd-analyze verify can check that it is executable.
std::string UnitCopy(const testing::TempDir& dir) {
  std::string text = ReadFile(kUnit);
  const std::string from = "ExecStart=/usr/sbin/everest-bootstrapd";
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), std::string("ExecStart=") + BOOTSTRAPD_BINARY);
  const std::string path = dir.path() + "/everest-bootstrapd.service";
  WriteFile(path, text);
  return path;
}

// YAML files through Debian's python3-yaml, as JSON (one array entry per document).
json Yaml(const std::string& path) {
  RequireTool("/usr/bin/python3");
  const Result r = Run(
      "/usr/bin/python3 -c 'import json, sys, yaml; "
      "print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1]))), default=str))' " +
      Quote(path));
  INFO(r.output);
  REQUIRE(r.status == 0);
  return json::parse(r.output);
}

// Dockerfile instructions with their continuation lines joined.
std::vector<std::string> DockerInstructions(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (const auto& raw : Lines(text)) {
    std::string line = raw;
    if (cur.empty()) {
      const std::string t = Trim(line);
      if (t.empty() || t[0] == '#') continue;
    } else if (Trim(line).rfind('#', 0) == 0) {
      continue;
    }
    const std::string t = Trim(line);
    if (!t.empty() && t.back() == '\\') {
      cur += t.substr(0, t.size() - 1) + " ";
      continue;
    }
    cur += t;
    out.push_back(cur);
    cur.clear();
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

struct Stage {
  std::string from;
  std::vector<std::string> instructions;
};

std::vector<Stage> DockerStages(const std::string& text) {
  std::vector<Stage> stages;
  for (const auto& ins : DockerInstructions(text)) {
    if (StartsWith(ins, "FROM ")) {
      stages.push_back({ins, {}});
    } else if (!stages.empty()) {
      stages.back().instructions.push_back(ins);
    }
  }
  return stages;
}

// ARG NAME=default of a stage.
std::map<std::string, std::string> StageArgs(const Stage& s) {
  std::map<std::string, std::string> out;
  for (const auto& ins : s.instructions) {
    if (!StartsWith(ins, "ARG ")) continue;
    const std::string kv = Trim(ins.substr(4));
    const auto eq = kv.find('=');
    if (eq == std::string::npos) out[kv] = "";
    else out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

// The ENV assignments of a stage (NAME=value pairs, values without spaces).
std::map<std::string, std::string> StageEnv(const Stage& s) {
  std::map<std::string, std::string> out;
  for (const auto& ins : s.instructions) {
    if (!StartsWith(ins, "ENV ")) continue;
    std::istringstream in(ins.substr(4));
    std::string kv;
    while (in >> kv) {
      const auto eq = kv.find('=');
      if (eq != std::string::npos) out[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  return out;
}

std::string StageInstruction(const Stage& s, const std::string& keyword) {
  std::string found;
  for (const auto& ins : s.instructions) {
    if (StartsWith(ins, keyword + " ")) found = ins;
  }
  return found;
}

// Debian package names from an `apt-get install ... <pkgs>` list in a script:
// every word after "install" up to the end of that (continued) command.
std::set<std::string> AptPackages(const std::string& script) {
  std::set<std::string> out;
  std::string joined;
  for (const auto& line : Lines(script)) {
    std::string t = Trim(line);
    joined += (!t.empty() && t.back() == '\\') ? t.substr(0, t.size() - 1) + " " : t + "\n";
  }
  for (const auto& line : Lines(joined)) {
    const auto at = line.find("apt-get install");
    if (at == std::string::npos) continue;
    std::istringstream in(line.substr(at + 15));
    std::string w;
    while (in >> w) {
      if (w[0] == '-' || w[0] == '"' || w[0] == '$') continue;
      out.insert(w);
    }
  }
  return out;
}

// The PKGS=( ... ) array of scripts/deps.sh.
std::set<std::string> DepsShPackages() {
  const std::string text = ReadFile(kSrc + "/scripts/deps.sh");
  const auto b = text.find("PKGS=(");
  const auto e = text.find(')', b);
  REQUIRE(b != std::string::npos);
  std::set<std::string> out;
  std::istringstream in(text.substr(b + 6, e - b - 6));
  std::string w;
  while (in >> w) out.insert(w);
  return out;
}

class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  // One datagram, or "" after `timeout_ms`.
  std::string Receive(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return "";
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

 private:
  std::string path_;
  int fd_ = -1;
};

struct Datagram {
  std::string text;
  bool Has(const std::string& line) const {
    for (const auto& l : Lines(text)) {
      if (l == line) return true;
    }
    return false;
  }
};

}  // namespace

// ---------------------------------------------------------------------------
// systemd

TEST_CASE("systemd unit passes systemd-analyze verify", "[packaging][systemd]") {
  RequireTool("systemd-analyze");
  testing::TempDir dir;
  const std::string unit = UnitCopy(dir);
  const Result r = Run("systemd-analyze verify " + Quote(unit));
  INFO(r.output);
  CHECK(r.status == 0);
  // verify exits 0 on lines it ignores (unknown keys, "Invalid syntax,
  // ignoring"): it must not say anything about this unit.
  CHECK(r.output.find("everest-bootstrapd") == std::string::npos);

  SECTION("and that check notices an ignored line") {
    WriteFile(unit, ReadFile(unit) + "\n[Service]\nNoSuchSetting=1\n");
    const Result bad = Run("systemd-analyze verify " + Quote(unit));
    INFO(bad.output);
    CHECK(bad.output.find("everest-bootstrapd.service:") != std::string::npos);
    CHECK(bad.output.find("NoSuchSetting") != std::string::npos);
  }
}

TEST_CASE("systemd unit exposure is at most 1.5", "[packaging][systemd]") {
  RequireTool("systemd-analyze");
  const Result r = Run("systemd-analyze security --offline=yes --no-pager " + Quote(kUnit));
  INFO(r.output);
  std::smatch m;
  REQUIRE(std::regex_search(r.output, m,
                            std::regex(R"(Overall exposure level for [^:]+: ([0-9]+\.[0-9]+))")));
  const double exposure = std::stod(m[1]);
  CAPTURE(exposure);
  CHECK(exposure <= 1.5);
}

TEST_CASE("systemd unit declares the service contract", "[packaging][systemd]") {
  const std::string u = ReadFile(kUnit);
  CHECK(UnitValue(u, "Type") == "notify");
  CHECK(UnitValue(u, "NotifyAccess") == "main");
  CHECK(Seconds(UnitValue(u, "WatchdogSec")) > 0);
  CHECK(UnitValue(u, "Restart") == "on-failure");
  CHECK(UnitValue(u, "KillMode") == "mixed");
  // Above the 25 s drain plus the 3 s SIGTERM->SIGKILL grace of the children.
  CHECK(Seconds(UnitValue(u, "TimeoutStopSec")) > 25 + 3);
  CHECK(UnitValue(u, "ExecStart") == "/usr/sbin/everest-bootstrapd");
  CHECK(UnitValue(u, "EnvironmentFile") == "-/etc/everest-bootstrapd/env");
  CHECK(UnitValue(u, "StateDirectory") == "everest-bootstrapd");
  CHECK(UnitValue(u, "CacheDirectory") == "everest-bootstrapd");
  const std::string env = UnitValue(u, "Environment");
  CHECK(env.find("HOME=/var/cache/everest-bootstrapd") != std::string::npos);
  CHECK(env.find("XDG_CACHE_HOME=/var/cache/everest-bootstrapd") != std::string::npos);
  const std::string user = UnitValue(u, "User");
  CHECK(!user.empty());
  CHECK(user != "root");
  CHECK(UnitValue(u, "RestrictAddressFamilies") == "AF_INET AF_INET6 AF_UNIX");
  CHECK(UnitValue(u, "PrivateTmp") == "yes");

  std::set<std::string> creds;
  for (const auto& v : UnitValues(u, "LoadCredential")) {
    const auto colon = v.find(':');
    REQUIRE(colon != std::string::npos);
    CHECK(v.substr(colon + 1) == "/etc/everest-bootstrapd/credentials/" + v.substr(0, colon));
    creds.insert(v.substr(0, colon));
  }
  CHECK(creds == std::set<std::string>{"admin-api-key", "webhook-secrets", "kubeconfig"});
  // systemd 252 fails the unit (243/CREDENTIALS) when a LoadCredential= source is
  // missing, unless a SetCredential= of the same name gives a default. An empty
  // kubeconfig would break every CLI call, so it must not get one.
  std::set<std::string> defaults;
  for (const auto& v : UnitValues(u, "SetCredential")) defaults.insert(v.substr(0, v.find(':')));
  CHECK(defaults == std::set<std::string>{"admin-api-key", "webhook-secrets"});
}

TEST_CASE("the unit's SetCredential defaults leave the daemon's keys alone",
          "[packaging][systemd]") {
  testing::TempDir dir;
  const std::string creds = dir.path() + "/credentials";
  fs::create_directories(creds);
  for (const auto& v : UnitValues(ReadFile(kUnit), "SetCredential")) {
    const auto colon = v.find(':');
    // systemd C-unescapes the value; the unit only uses "\n".
    std::string value = std::regex_replace(v.substr(colon + 1), std::regex(R"(\\n)"), "\n");
    WriteFile(creds + "/" + v.substr(0, colon), value);
  }
  testing::Daemon d(dir.path(), {{"CREDENTIALS_DIRECTORY", creds}});
  START(d);
  CHECK(d.Get("/readyz").status == 200);
  CHECK(d.Get("/jobs/00000000-0000-0000-0000-000000000000").status == 404);
  CHECK(testing::Http(d.port(), "GET", "/jobs/00000000-0000-0000-0000-000000000000", "",
                      {{"X-Admin-Key", "wrong-key-123"}})
            .status == 401);
  CHECK(d.Terminate() == 0);
}

TEST_CASE("sd_notify: READY=1, then WATCHDOG=1, then STOPPING=1, with STATUS",
          "[packaging][systemd]") {
  testing::TempDir dir;
  const std::string sock = dir.path() + "/notify.sock";
  NotifySocket ns(sock);
  REQUIRE(ns.ok());
  // sd_watchdog_enabled() accepts an unset WATCHDOG_PID; make sure the test's
  // own environment does not pass one that names another process.
  ::unsetenv("WATCHDOG_PID");
  testing::Daemon d(dir.path(), {{"NOTIFY_SOCKET", sock}, {"WATCHDOG_USEC", "200000"}});
  const auto spawn = std::chrono::steady_clock::now();
  START(d);

  std::vector<Datagram> got;
  auto count = [&got](const std::string& line) {
    return std::count_if(got.begin(), got.end(), [&](const Datagram& g) { return g.Has(line); });
  };
  const auto until = [&](const std::string& line, long n, int ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (count(line) < n && std::chrono::steady_clock::now() < deadline) {
      std::string msg = ns.Receive(100);
      if (!msg.empty()) got.push_back({msg});
    }
  };
  until("WATCHDOG=1", 3, 10000);
  const auto term = std::chrono::steady_clock::now();
  d.Signal(SIGTERM);
  until("STOPPING=1", 1, 15000);
  CHECK(d.Wait() == 0);
  for (std::string msg; !(msg = ns.Receive(0)).empty();) {
    got.push_back({msg});
  }

  std::string all;
  for (const auto& g : got) all += "[" + g.text + "]\n";
  INFO(all);
  REQUIRE(!got.empty());
  CHECK(got.front().Has("READY=1"));
  auto index = [&got](const std::string& line, int nth) {
    for (size_t i = 0; i < got.size(); ++i) {
      if (got[i].Has(line) && --nth == 0) return static_cast<long>(i);
    }
    return -1L;
  };
  const long ready = index("READY=1", 1);
  const long wd1 = index("WATCHDOG=1", 1);
  const long wd2 = index("WATCHDOG=1", 2);
  const long stopping = index("STOPPING=1", 1);
  REQUIRE(ready >= 0);
  REQUIRE(wd2 >= 0);
  REQUIRE(stopping >= 0);
  CHECK(ready < wd1);
  CHECK(wd2 < stopping);
  CHECK(count("READY=1") == 1);
  // Every 100 ms (WATCHDOG_USEC/2), not in a burst: no more than the time the
  // daemon ran before SIGTERM allows.
  const auto ran = std::chrono::duration_cast<std::chrono::milliseconds>(term - spawn).count();
  CAPTURE(ran);
  CHECK(count("WATCHDOG=1") <= ran / 100 + 3);
  // The queue figures travel with each state change.
  const std::regex status(R"(^STATUS=queued=\d+ running=\d+( draining)?$)");
  for (const auto& g : got) {
    bool has_status = false;
    for (const auto& l : Lines(g.text)) {
      if (StartsWith(l, "STATUS=")) {
        has_status = true;
        CHECK(std::regex_match(l, status));
      }
    }
    CHECK(has_status);
  }
}

TEST_CASE("example env file names only variables the daemon reads", "[packaging][systemd]") {
  const std::string config = ReadFile(kSrc + "/daemon/config.cpp");
  const std::string example = ReadFile(kSrc + "/systemd/everest-bootstrapd.env.example");
  int names = 0;
  for (const auto& line : Lines(example)) {
    std::smatch m;
    if (!std::regex_match(line, m, std::regex(R"(^#?([A-Z][A-Z0-9_]*)=.*$)"))) continue;
    ++names;
    INFO(m[1]);
    CHECK(config.find("\"" + std::string(m[1]) + "\"") != std::string::npos);
  }
  CHECK(names >= 10);
  // Secrets go to the credentials folder, not to a world-readable example.
  CHECK(example.find("\nADMIN_API_KEY=") == std::string::npos);
}

// ---------------------------------------------------------------------------
// Container

TEST_CASE("Dockerfile: stages, pinned verified CLIs, non-root, entrypoint",
          "[packaging][docker]") {
  const auto stages = DockerStages(ReadFile(kSrc + "/Dockerfile"));
  REQUIRE(stages.size() >= 2);
  CHECK(std::regex_match(stages.front().from, std::regex(R"(FROM debian:bookworm AS \w+)")));
  const Stage& runtime = stages.back();
  CHECK(runtime.from == "FROM debian:bookworm-slim");
  // The configure step needs python3 (it bundles schemas/openapi.json).
  bool build_has_python = false;
  for (const auto& ins : stages.front().instructions) {
    build_has_python = build_has_python || ins.find(" python3") != std::string::npos;
  }
  CHECK(build_has_python);

  // kubectl and everestctl: pinned versions and per-architecture sha256 digests.
  const Stage* clis = nullptr;
  for (const auto& s : stages) {
    for (const auto& ins : s.instructions) {
      if (ins.find("everestctl-linux-") != std::string::npos) clis = &s;
    }
  }
  REQUIRE(clis != nullptr);
  const auto args = StageArgs(*clis);
  const std::regex version(R"(v\d+\.\d+\.\d+)");
  const std::regex digest(R"([0-9a-f]{64})");
  REQUIRE(args.count("KUBECTL_VERSION"));
  REQUIRE(args.count("EVERESTCTL_VERSION"));
  CHECK(std::regex_match(args.at("KUBECTL_VERSION"), version));
  CHECK(std::regex_match(args.at("EVERESTCTL_VERSION"), version));
  for (const char* name : {"KUBECTL_SHA256_AMD64", "KUBECTL_SHA256_ARM64",
                           "EVERESTCTL_SHA256_AMD64", "EVERESTCTL_SHA256_ARM64"}) {
    INFO(name);
    REQUIRE(args.count(name));
    CHECK(std::regex_match(args.at(name), digest));
  }
  std::string run;
  for (const auto& ins : clis->instructions) {
    if (StartsWith(ins, "RUN ") && ins.find("sha256sum") != std::string::npos) run = ins;
  }
  INFO(run);
  // EVERESTCTL.md section 5: <releases>/download/v<X.Y.Z>/everestctl-linux-<arch>.
  CHECK(run.find("${EVERESTCTL_RELEASES}/download/${EVERESTCTL_VERSION}/everestctl-linux-${"
                 "TARGETARCH}") != std::string::npos);
  CHECK(std::regex_match(args.at("EVERESTCTL_RELEASES"),
                         std::regex(R"(https://github\.com/(openeverest/openeverest|percona/everest)/releases)")));
  CHECK(run.find("https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${TARGETARCH}/kubectl") !=
        std::string::npos);
  // Each download is checked before it is installed.
  const auto kubectl_check = run.find("/tmp/kubectl\" | sha256sum -c -");
  const auto everestctl_check = run.find("/tmp/everestctl\" | sha256sum -c -");
  CHECK(kubectl_check != std::string::npos);
  CHECK(everestctl_check != std::string::npos);
  CHECK(kubectl_check < run.find("install -m 0555 /tmp/kubectl"));
  CHECK(everestctl_check < run.find("install -m 0555 /tmp/everestctl"));
  CHECK(run.find("set -eu") != std::string::npos);

  // Runtime: non-root user, health check, and the entrypoint runs the copied binary.
  const std::string user = Trim(StageInstruction(runtime, "USER").substr(4));
  CHECK(!user.empty());
  CHECK(user != "root");
  CHECK(user != "0");
  CHECK(user.rfind("0:", 0) != 0);
  CHECK(!StageInstruction(runtime, "HEALTHCHECK").empty());
  std::string binary_dest;
  for (const auto& ins : runtime.instructions) {
    std::smatch m;
    if (std::regex_match(ins, m, std::regex(R"(COPY --from=\w+ \S+/everest-bootstrapd (\S+))"))) {
      binary_dest = m[1];
    }
  }
  REQUIRE(!binary_dest.empty());
  const json entry = json::parse(StageInstruction(runtime, "ENTRYPOINT").substr(11));
  REQUIRE(entry.is_array());
  CHECK(entry.back() == binary_dest);
  bool copies_clis = false;
  for (const auto& ins : runtime.instructions) {
    if (ins.find("/usr/local/bin/kubectl /usr/local/bin/everestctl") != std::string::npos) {
      copies_clis = true;
    }
  }
  CHECK(copies_clis);
  auto env = StageEnv(runtime);
  CHECK(env["BIND_ADDRESS"] == "0.0.0.0");
  CHECK(!env["KUBECONFIG"].empty());
  CHECK(env["KUBECONFIG"].rfind("/root/", 0) != 0);
}

TEST_CASE("Dockerfile runtime stage installs every library the binary needs",
          "[packaging][docker]") {
  RequireTool("objdump");
  RequireTool("dpkg-architecture");
  const auto stages = DockerStages(ReadFile(kSrc + "/Dockerfile"));
  const std::string install = StageInstruction(stages.back(), "RUN");
  const auto listed = AptPackages(install);
  // In debian:bookworm-slim already (apt needs them); sanitizer runtimes only
  // exist in the ASan build used by ./scripts/test.sh --sanitize.
  const std::set<std::string> base = {"libc6", "libgcc-s1", "libstdc++6", "libasan8",
                                      "libubsan1"};
  const std::string ma = Trim(testing::Capture("dpkg-architecture -qDEB_HOST_MULTIARCH"));
  const Result needed = Run(std::string("objdump -p ") + BOOTSTRAPD_BINARY +
                            " | awk '/NEEDED/ {print $2}'");
  REQUIRE(needed.status == 0);
  int libs = 0;
  for (const auto& so : Lines(needed.output)) {
    if (so.empty()) continue;
    ++libs;
    const std::string owner = testing::Capture("dpkg -S " + Quote("*/" + ma + "/" + so) +
                                               " 2>/dev/null | head -n 1 | cut -d: -f1");
    INFO(so << " comes from " << owner);
    REQUIRE(!Trim(owner).empty());
    CHECK((base.count(Trim(owner)) + listed.count(Trim(owner))) > 0);
  }
  CHECK(libs >= 5);
  CHECK(listed.count("ca-certificates") == 1);
}

TEST_CASE("Dockerfile HEALTHCHECK command tells a live daemon from a dead one",
          "[packaging][docker]") {
  const auto stages = DockerStages(ReadFile(kSrc + "/Dockerfile"));
  const std::string hc = StageInstruction(stages.back(), "HEALTHCHECK");
  const auto at = hc.find(" CMD [");
  REQUIRE(at != std::string::npos);
  const json cmd = json::parse(hc.substr(at + 5));
  REQUIRE(cmd.is_array());
  std::string line;
  for (const auto& a : cmd) line += Quote(a.get<std::string>()) + " ";

  testing::TempDir dir;
  testing::Daemon d(dir.path());
  START(d);
  const std::string port = std::to_string(d.port());
  CHECK(testing::Shell("PORT=" + port + " " + line + " 2>/dev/null") == 0);
  CHECK(d.Terminate() == 0);
  CHECK(testing::Shell("PORT=" + port + " " + line + " 2>/dev/null") != 0);
}

TEST_CASE("docker-compose.yml and .dockerignore", "[packaging][docker]") {
  json docs = Yaml(kSrc + "/docker-compose.yml");
  REQUIRE(docs.size() == 1);
  json& api = docs[0]["services"]["api"];
  CHECK(api["build"] == ".");
  json& env = api["environment"];
  CHECK(env["ADMIN_API_KEY"] == "${ADMIN_API_KEY:-changeme}");
  CHECK(env["PORT"] == "8080");
  const auto stages = DockerStages(ReadFile(kSrc + "/Dockerfile"));
  const std::string kubeconfig = StageEnv(stages.back())["KUBECONFIG"];
  CHECK(env["KUBECONFIG"] == kubeconfig);
  CHECK(std::find(api["ports"].begin(), api["ports"].end(), "8080:8080") != api["ports"].end());
  const std::string mount = "${HOME}/.kube/config:" + kubeconfig + ":ro";
  CHECK(std::find(api["volumes"].begin(), api["volumes"].end(), mount) != api["volumes"].end());
  const std::string user = api.value("user", "");
  CHECK(user.rfind("0:", 0) != 0);
  CHECK(user.rfind("root", 0) != 0);

  const std::string ignore = ReadFile(kSrc + "/.dockerignore");
  for (const char* entry : {"build*/", ".git/", "var/", "sim/", "**/node_modules/"}) {
    INFO(entry);
    CHECK(ignore.find(std::string("\n") + entry) != std::string::npos);
  }
}

// ---------------------------------------------------------------------------
// CI/CD and Kubernetes

TEST_CASE("CI installs the same packages as .ci/run and scripts/deps.sh", "[packaging][ci]") {
  const auto ci_run = AptPackages(ReadFile(kSrc + "/.ci/run"));
  const auto deps = DepsShPackages();
  CHECK(ci_run == deps);
  for (const char* p : {"systemd", "dpkg-dev", "lintian", "python3-yaml"}) {
    INFO(p);
    CHECK(ci_run.count(p) == 1);
  }
  json wf = Yaml(kSrc + "/.github/workflows/ci.yml")[0];
  std::string install;
  for (const auto& step : wf["jobs"]["test"]["steps"]) {
    if (step.value("name", "") == "Install packages") install = step.value("run", "");
  }
  const auto workflow = AptPackages(install);
  for (const auto& p : ci_run) {
    INFO(p);
    CHECK(workflow.count(p) == 1);
  }
}

TEST_CASE("GitHub workflow: test in debian:bookworm, then build, push, deploy",
          "[packaging][ci]") {
  json wf = Yaml(kSrc + "/.github/workflows/ci.yml")[0];
  // PyYAML reads the bare key `on` as the boolean true.
  const json on = wf.contains("on") ? wf["on"] : wf["true"];
  CHECK(on == "push");
  json& test = wf["jobs"]["test"];
  json& deploy = wf["jobs"]["deploy"];
  CHECK(test["container"] == "debian:bookworm");
  bool runs_tests = false;
  for (const auto& step : test["steps"]) {
    if (step.value("run", "").find("./scripts/test.sh") != std::string::npos) runs_tests = true;
  }
  CHECK(runs_tests);
  CHECK(deploy["needs"] == "test");
  CHECK(deploy["env"]["IMAGE"] ==
        "${{ secrets.REGISTRY }}/${{ github.repository }}:${{ github.sha }}");
  CHECK(deploy["env"]["KUBECONFIG_B64"] == "${{ secrets.KUBECONFIG_B64 }}");
  std::string runs;
  bool guarded_apply = false, skipped = false;
  for (const auto& step : deploy["steps"]) {
    const std::string run = step.value("run", "");
    const std::string cond = step.value("if", "");
    runs += run + "\n";
    if (run.find("kubectl apply -f") != std::string::npos &&
        cond.find("env.KUBECONFIG_B64 != ''") != std::string::npos) {
      guarded_apply = true;
    }
    if (run.find("deploy skipped") != std::string::npos &&
        cond.find("env.KUBECONFIG_B64 == ''") != std::string::npos) {
      skipped = true;
    }
  }
  CHECK(guarded_apply);
  CHECK(skipped);
  CHECK(runs.find("docker login") != std::string::npos);
  CHECK(runs.find("secrets.REGISTRY_USERNAME") != std::string::npos);
  CHECK(runs.find("secrets.REGISTRY_PASSWORD") != std::string::npos);
  CHECK(runs.find("docker build -t \"$IMAGE\" .") != std::string::npos);
  CHECK(runs.find("docker push \"$IMAGE\"") != std::string::npos);
  // The deploy step swaps the manifest's image for the one just pushed.
  json dep = Yaml(kSrc + "/deploy/40-deployment.yaml")[0];
  const std::string image = dep["spec"]["template"]["spec"]["containers"][0].value("image", "");
  CHECK(runs.find("s#image: " + image + "#image: ${IMAGE}#") != std::string::npos);
}

TEST_CASE("Kubernetes manifests in deploy/ fit together", "[packaging][k8s]") {
  std::map<std::string, json> by_kind;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(kSrc + "/deploy")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    for (const auto& doc : Yaml(f)) {
      if (doc.is_null()) continue;
      INFO(f);
      REQUIRE(doc.contains("kind"));
      by_kind[doc["kind"].get<std::string>()] = doc;
    }
  }
  for (const char* kind : {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                           "PersistentVolumeClaim", "Deployment", "Service", "Secret"}) {
    INFO(kind);
    CHECK(by_kind.count(kind) == 1);
  }
  const std::string ns = by_kind["Namespace"]["metadata"]["name"];
  for (const auto& [kind, doc] : by_kind) {
    if (kind == "Namespace" || kind == "ClusterRole" || kind == "ClusterRoleBinding") continue;
    INFO(kind);
    CHECK(doc.value("metadata", json::object()).value("namespace", "") == ns);
  }
  // The Secret template is not *.yaml, so `kubectl apply -f deploy/` never
  // overwrites the real one.
  CHECK(fs::exists(kSrc + "/deploy/secret.yaml.example"));
  for (const auto& f : files) {
    if (fs::path(f).extension() == ".yaml") {
      INFO(f);
      CHECK(ReadFile(f).find("kind: Secret") == std::string::npos);
    }
  }

  json& dep = by_kind["Deployment"];
  json& pod = dep["spec"]["template"]["spec"];
  json& c = pod["containers"][0];
  CHECK(dep["spec"]["replicas"] == 1);
  CHECK(dep["spec"]["strategy"]["type"] == "Recreate");
  CHECK(pod["serviceAccountName"] == by_kind["ServiceAccount"]["metadata"]["name"]);
  CHECK(pod["terminationGracePeriodSeconds"].get<int>() > 25);
  CHECK(pod["securityContext"]["runAsNonRoot"] == true);
  CHECK(c["ports"][0]["containerPort"] == 8080);
  CHECK(c["livenessProbe"]["httpGet"]["path"] == "/healthz");
  CHECK(c["readinessProbe"]["httpGet"]["path"] == "/readyz");
  CHECK(c["securityContext"]["allowPrivilegeEscalation"] == false);

  std::map<std::string, json> env;
  for (const auto& e : c["env"]) env[e.value("name", "")] = e;
  json& secret = by_kind["Secret"];
  const std::string secret_name = secret["metadata"]["name"];
  CHECK(env["ADMIN_API_KEY"]["valueFrom"]["secretKeyRef"]["name"] == secret_name);
  CHECK(secret["stringData"].contains(
      env["ADMIN_API_KEY"]["valueFrom"]["secretKeyRef"]["key"].get<std::string>()));
  CHECK(env["BIND_ADDRESS"]["value"] == "0.0.0.0");
  CHECK(env["PORT"]["value"] == "8080");

  // everestctl has no in-cluster fallback: KUBECONFIG is a file from the Secret.
  const std::string kubeconfig = env["KUBECONFIG"]["value"];
  bool mounted = false;
  for (auto& m : c["volumeMounts"]) {
    const std::string dir = m.value("mountPath", "");
    if (kubeconfig.rfind(dir + "/", 0) != 0) continue;
    for (auto& v : pod["volumes"]) {
      if (v.value("name", "") != m.value("name", "") || !v.contains("secret")) continue;
      CHECK(v["secret"]["secretName"] == secret_name);
      for (auto& item : v["secret"]["items"]) {
        if (dir + "/" + item.value("path", "") == kubeconfig) {
          mounted = secret["stringData"].contains(item.value("key", ""));
        }
      }
    }
  }
  CHECK(mounted);
  // The template's kubeconfig is valid YAML that names a current context.
  testing::TempDir dir;
  WriteFile(dir.path() + "/kubeconfig", secret["stringData"]["kubeconfig"]);
  json kc = Yaml(dir.path() + "/kubeconfig")[0];
  CHECK(kc["kind"] == "Config");
  CHECK(kc["current-context"] == kc["contexts"][0]["name"]);
  CHECK(kc["users"][0]["user"]["tokenFile"] ==
        "/var/run/secrets/kubernetes.io/serviceaccount/token");

  json& svc = by_kind["Service"];
  CHECK(svc["spec"]["ports"][0]["port"] == 8080);
  for (const auto& [k, v] : svc["spec"]["selector"].items()) {
    CHECK(dep["spec"]["template"]["metadata"]["labels"][k] == v);
  }
  json& binding = by_kind["ClusterRoleBinding"];
  CHECK(binding["roleRef"]["name"] == by_kind["ClusterRole"]["metadata"]["name"]);
  CHECK(binding["subjects"][0]["kind"] == "ServiceAccount");
  CHECK(binding["subjects"][0]["name"] == by_kind["ServiceAccount"]["metadata"]["name"]);
  CHECK(binding["subjects"][0]["namespace"] == ns);
  std::set<std::string> core;
  for (auto& rule : by_kind["ClusterRole"]["rules"]) {
    if (rule["apiGroups"][0] == "") {
      for (const auto& r : rule["resources"]) core.insert(r.get<std::string>());
    }
  }
  for (const char* r : {"namespaces", "secrets", "configmaps", "resourcequotas", "limitranges"}) {
    INFO(r);
    CHECK(core.count(r) == 1);
  }
}

// ---------------------------------------------------------------------------
// Debian package

TEST_CASE("Debian package: contents, Depends and lintian", "[packaging][deb]") {
  RequireTool("cpack");
  RequireTool("dpkg-deb");
  RequireTool("dpkg-shlibdeps");
  RequireTool("lintian");
  const std::string build_dir = fs::path(BOOTSTRAPD_BINARY).parent_path();
  testing::TempDir out;
  const Result pack = Run("cpack --config " + Quote(build_dir + "/CPackConfig.cmake") +
                          " -G DEB -B " + Quote(out.path()));
  INFO(pack.output);
  REQUIRE(pack.status == 0);
  std::string deb;
  for (const auto& e : fs::directory_iterator(out.path())) {
    if (e.path().extension() == ".deb") deb = e.path();
  }
  REQUIRE(!deb.empty());
  const auto size = fs::file_size(deb);
  WARN("package " << fs::path(deb).filename().string() << ": " << size << " bytes");
  CHECK(size < 20u * 1024 * 1024);

  const Result contents = Run("dpkg-deb -c " + Quote(deb));
  REQUIRE(contents.status == 0);
  for (const char* path : {"./usr/sbin/everest-bootstrapd",
                           "./lib/systemd/system/everest-bootstrapd.service",
                           "./usr/lib/sysusers.d/everest-bootstrapd.conf",
                           "./usr/share/doc/everest-bootstrapd/copyright",
                           "./usr/share/doc/everest-bootstrapd/changelog.gz",
                           "./usr/share/doc/everest-bootstrapd/everest-bootstrapd.env.example",
                           "./usr/share/man/man8/everest-bootstrapd.8.gz"}) {
    INFO(path << "\n" << contents.output);
    CHECK(std::regex_search(contents.output,
                            std::regex("root/root\\s+\\d+ \\S+ \\S+ " +
                                       std::regex_replace(path, std::regex(R"([.])"), R"(\.)") +
                                       "\n")));
  }
  CHECK(std::regex_search(contents.output,
                          std::regex(R"(-rwxr-xr-x root/root\s+\d+ \S+ \S+ \./usr/sbin/everest-bootstrapd)")));

  const Result info = Run("dpkg-deb -I " + Quote(deb));
  INFO(info.output);
  REQUIRE(info.status == 0);
  CHECK(info.output.find(" Package: everest-bootstrapd\n") != std::string::npos);
  CHECK(info.output.find(std::string(" Version: ") + BOOTSTRAPD_VERSION + "\n") !=
        std::string::npos);
  CHECK(info.output.find(" postinst ") != std::string::npos);
  const std::string depends = Trim(testing::Capture("dpkg-deb -f " + Quote(deb) + " Depends"));
  INFO(depends);
  for (const char* dep : {"systemd", "libsqlite3-0", "libspdlog1.10", "libprometheus-cpp-core1.0",
                          "libssl3", "libsystemd0", "libstdc++6", "libc6"}) {
    INFO(dep);
    CHECK(std::regex_search(depends, std::regex(std::string("(^|, )") +
                                                std::regex_replace(dep, std::regex(R"([.+])"), R"(\$&)"))));
  }

  // What was packaged is what is in the tree, and the unit's user is the one
  // the sysusers entry creates (postinst runs systemd-sysusers on it).
  testing::TempDir x;
  REQUIRE(testing::Shell("dpkg-deb -x " + Quote(deb) + " " + Quote(x.path())) == 0);
  REQUIRE(testing::Shell("dpkg-deb -e " + Quote(deb) + " " + Quote(x.path() + "/DEBIAN")) == 0);
  const std::string unit = ReadFile(x.path() + "/lib/systemd/system/everest-bootstrapd.service");
  CHECK(unit == ReadFile(kUnit));
  const std::string sysusers = ReadFile(x.path() + "/usr/lib/sysusers.d/everest-bootstrapd.conf");
  CHECK(std::regex_search(sysusers,
                          std::regex("\nu\\s+" + UnitValue(unit, "User") + "\\s")));
  CHECK(ReadFile(x.path() + "/DEBIAN/postinst").find("systemd-sysusers everest-bootstrapd.conf") !=
        std::string::npos);
  CHECK(testing::Shell(Quote(x.path() + "/usr/sbin/everest-bootstrapd") +
                       " --version >/dev/null") == 0);

  const Result lint = Run("lintian --tag-display-limit 0 " + Quote(deb));
  std::string errors, others;
  for (const auto& line : Lines(lint.output)) {
    if (StartsWith(line, "E: ")) errors += line + "\n";
    else if (StartsWith(line, "W: ")) others += line + "\n";
  }
  if (!others.empty()) WARN("lintian warnings:\n" << others);
  INFO(lint.output);
  CHECK(errors.empty());
  CHECK(lint.status == 0);
}

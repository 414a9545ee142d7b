// Test harness: the real daemon binary as a child process against the fake
// CLIs (the HTTP client is tests/support/http_client.h).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/http_client.h"

namespace testing {

// A fresh temporary directory, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Path of the fake CLIs folder in the source tree.
std::string FakesDir();

// Runs a command line through /bin/sh (test setup only); returns its exit status.
int Shell(const std::string& cmd);

// Runs `fakectl --kubeconfig <dir>/kubeconfig <args>` (settings, faults,
// objects of the simulated cluster); fails the test if it fails.
void FakeCtl(const std::string& dir, const std::string& args);

// Runs a command line through /bin/sh and returns its stdout.
std::string Capture(const std::string& cmd);

// Users in the simulated cluster's accounts Secret (via the fake everestctl).
std::vector<std::string> FakeAccounts(const std::string& dir);
// The simulated everest-rbac policy.csv.
std::string FakePolicy(const std::string& dir);

// The simulated cluster (fake-cluster.json) and the fakes' call log.
nlohmann::json FakeState(const std::string& dir);
std::vector<nlohmann::json> FakeCalls(const std::string& dir);

class Daemon {
 public:
  // `dir` holds the kubeconfig, the fake cluster and the job database.
  Daemon(std::string dir, std::map<std::string, std::string> env = {});
  ~Daemon();

  // Starts the binary and waits (up to 15 s) for its "listening" log line.
  bool Start(std::string* error);
  void Kill9();
  // SIGTERM and wait; returns the exit status (or -1).
  int Terminate(int timeout_ms = 30000);
  void Signal(int sig);
  // Waits for the process to exit; returns the exit status (or -1 on timeout).
  int Wait(int timeout_ms = 30000);
  bool Running();

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string Log() const;
  const std::string& dir() const { return dir_; }
  static constexpr const char* kKey = "test-admin-key-1";

  Response Get(const std::string& target, const Headers& h = {});
  Response Post(const std::string& target, const std::string& body, const Headers& h = {});
  // Polls GET /jobs/{id} until a terminal status (or timeout); returns the view.
  nlohmann::json WaitJob(const std::string& id, int timeout_ms = 60000);

 private:
  std::string dir_;
  std::map<std::string, std::string> env_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  int starts_ = 0;
};

}  // namespace testing

// Starts a testing::Daemon inside a Catch2 test, failing it with the reason.
#define START(d)                                \
  do {                                          \
    std::string start_error_;                   \
    const bool started_ = (d).Start(&start_error_); \
    INFO(start_error_);                         \
    REQUIRE(started_);                          \
  } while (0)

// What a child process is asked to do and what it did. Plain data.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bootstrapd {

// Cancels the work it is attached to (a running child gets SIGTERM, then
// SIGKILL). Loop thread only.
class CancelToken {
 public:
  bool canceled() const { return canceled_; }
  void Cancel() {
    if (canceled_) return;
    canceled_ = true;
    auto handlers = std::move(handlers_);
    for (auto& h : handlers) h();
  }
  // Registers `h` to run on Cancel(); returns an id for Remove().
  std::size_t OnCancel(std::function<void()> h) {
    handlers_.push_back(std::move(h));
    return handlers_.size() - 1;
  }
  void Remove(std::size_t id) {
    if (id < handlers_.size()) handlers_[id] = [] {};
  }

 private:
  bool canceled_ = false;
  std::vector<std::function<void()>> handlers_;
};
using CancelTokenPtr = std::shared_ptr<CancelToken>;

struct CommandSpec {
  std::vector<std::string> argv;        // argv[0]: a name looked up on PATH, or a path
  std::string stdin_data;               // written, then stdin is closed
  std::chrono::milliseconds timeout{60000};
  CancelTokenPtr cancel;                // optional
  // Metric labels (never a username or namespace): tool defaults to the
  // basename of argv[0], subcommand to "other".
  std::string metric_tool;
  std::string metric_subcommand;
  // Who the child works for (a job id), recorded with its pid while it runs.
  std::string owner;
  // Per-stream cap for this call (0 = the runner's default). Outputs the
  // daemon parses (kubectl -o json, everestctl tables) get a large one.
  std::size_t output_cap = 0;
};

// The cap for outputs the daemon parses rather than shows.
inline constexpr std::size_t kParsedOutputCap = 64u << 20;

struct CommandResult {
  enum class Status {
    kExited,       // exit_code is valid
    kSignaled,     // killed by `signal` (not by us)
    kTimedOut,     // we sent SIGTERM/SIGKILL at the timeout
    kCanceled,     // we sent SIGTERM/SIGKILL because the job was canceled or drained
    kSpawnFailed,  // never started: `error` says why (missing binary, ...)
  };
  Status status = Status::kSpawnFailed;
  int exit_code = -1;
  int signal = 0;
  std::string out;  // cleaned: ANSI stripped, valid UTF-8, capped with a marker
  std::string err;
  bool out_truncated = false;
  bool err_truncated = false;
  std::string error;                     // human text for non-kExited outcomes
  std::chrono::milliseconds duration{0};
  // Exited 0 yet printed an error (set by the caller that knows the tool:
  // everestctl prints its errors itself and a few paths still exit 0).
  bool reported_error = false;

  bool Succeeded() const { return status == Status::kExited && exit_code == 0 && !reported_error; }
};

const char* StatusName(CommandResult::Status s);

}  // namespace bootstrapd

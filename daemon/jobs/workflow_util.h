// Helpers shared by the workflow translation units (workflows.cpp,
// lifecycle_workflows.cpp). Internal to daemon/jobs. Loop thread only.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "daemon/exec/command.h"
#include "daemon/jobs/workflows.h"

namespace bootstrapd {

struct Workflows::StepState {
  std::string name;
  nlohmann::json record = nlohmann::json::object();
  bool interrupted_before = false;  // an earlier attempt of this step was cut
  std::string outcome;              // done | already_done | skipped | failed
  std::string error;
  bool canceled = false;
  bool abandoned = false;
  // True when the step must stop now (the job was canceled or is draining).
  bool Stopped() const { return canceled || abandoned; }
};

namespace wf {

inline constexpr const char* kConflictText = "the object has been modified";
inline constexpr int kConflictAttempts = 6;

// True when stdout or stderr of `r` contains `needle`.
bool Contains(const CommandResult& r, std::string_view needle);
// The most useful one-line error of a failed call (stderr tail, or why it did not exit).
std::string ErrorOf(const CommandResult& r);

// everestctl prints its own errors (`❌ ...`) and a few paths exit 0 anyway
// (EVERESTCTL.md §1, §6: a misspelt subcommand prints nothing and exits 0). A
// call that exits 0 failed all the same when stderr holds a `❌`, or, for a
// command that confirms its work (`confirms`: everything but the reads), when
// stdout has no `✅` line. Warnings on stderr alone fail nothing.
bool EverestctlReportedError(const CommandResult& r, bool confirms);
// Sets r->reported_error for an everestctl command line (argv[0] is
// `everestctl`, argv[1] one of its command groups); reads (`... list`,
// `version`) print data and need no `✅`. Other command lines are left alone.
void MarkEverestctlError(const std::string& everestctl, const Argv& argv, CommandResult* r);
// Sleeps 100 ms * 2^attempt (capped) plus jitter.
boost::asio::awaitable<void> Backoff(int attempt);
// Writes `text` to a new private temporary file; returns its path or "" with *error.
std::string WriteTempFile(const std::string& text, std::string* error);
// Records `r` as the step's main command, exit code and outputs.
void SetMain(Workflows::StepState* st, const std::string& command, const CommandResult& r);
// Marks the step failed with `error`; returns false.
bool Fail(Workflows::StepState* st, std::string error);

}  // namespace wf
}  // namespace bootstrapd

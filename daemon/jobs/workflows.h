// The workflows of SPEC §3, as ensure-steps run through the Executor: each
// step is recorded ("running" first, then its outcome) and persisted before the
// next one starts, so a restart resumes at the first unfinished step.
// Loop thread only.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/config.h"
#include "daemon/domain/argv.h"
#include "daemon/domain/everestctl_parse.h"
#include "daemon/exec/executor.h"
#include "daemon/jobs/job_manager.h"

namespace bootstrapd {

class Metrics;

class Workflows final : public WorkflowRunner {
 public:
  Workflows(const Config& config, Executor* executor, JobManager* jobs, Metrics* metrics);

  // WorkflowRunner
  boost::asio::awaitable<RunEnd> Run(JobRun* run) override;

  // everestctl's client version (cached after the first success).
  boost::asio::awaitable<std::optional<CliVersion>> EverestctlVersion();

  struct StepState;

 private:
  boost::asio::awaitable<RunEnd> RunBootstrap(JobRun* run);

  // Runs one CLI call through the executor; retries Everest's "object has been
  // modified" conflicts with backoff. `secrets` are masked in the record.
  boost::asio::awaitable<CommandResult> Call(JobRun* run, StepState* st, Argv argv,
                                             std::string stdin_data, int timeout_s,
                                             Executor::Lane lane, std::string metric_sub,
                                             std::vector<std::string> secrets = {});

  boost::asio::awaitable<bool> StepCreateAccount(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepAddNamespace(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepApplyQuota(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepApplyRbac(JobRun* run, StepState* st);

  const Config& config_;
  Executor* executor_;
  JobManager* jobs_;
  Metrics* metrics_;
  std::optional<CliVersion> version_;
};

}  // namespace bootstrapd

// The workflows of SPEC §3, as ensure-steps run through the Executor: each
// step is recorded ("running" first, then its outcome) and persisted before the
// next one starts, so a restart resumes at the first unfinished step.
// bootstrap lives in workflows.cpp; password, resources, operators, suspend,
// resume and delete in lifecycle_workflows.cpp. Loop thread only.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/config.h"
#include "daemon/domain/argv.h"
#include "daemon/domain/everestctl_parse.h"
#include "daemon/exec/executor.h"
#include "daemon/jobs/job_manager.h"

namespace bootstrapd {

class Metrics;

// Annotations this service writes (SPEC §3); state lives in the cluster.
inline constexpr const char* kSuspendedAnnotation = "everest-bootstrapd/suspended";
inline constexpr const char* kSuspendedReplicasAnnotation = "everest-bootstrapd/suspended-replicas";
inline constexpr const char* kSuspendedRbacAnnotation = "everest-bootstrapd/suspended-rbac";

class Workflows final : public WorkflowRunner {
 public:
  Workflows(const Config& config, Executor* executor, JobManager* jobs, Metrics* metrics);

  // WorkflowRunner
  boost::asio::awaitable<RunEnd> Run(JobRun* run) override;

  // everestctl's client version (cached after the first success).
  boost::asio::awaitable<std::optional<CliVersion>> EverestctlVersion();

  struct StepState;
  using StepFn = std::function<boost::asio::awaitable<bool>(JobRun*, StepState*)>;
  struct StepDef {
    const char* name;
    StepFn fn;
  };
  using Outcomes = std::map<std::string, std::string>;  // step name -> outcome

 private:
  // Runs `steps` in order, skipping those an earlier attempt finished.
  boost::asio::awaitable<RunEnd> RunSteps(JobRun* run, std::vector<StepDef> steps,
                                          Outcomes* outcomes);

  boost::asio::awaitable<RunEnd> RunBootstrap(JobRun* run);
  boost::asio::awaitable<RunEnd> RunPassword(JobRun* run);
  boost::asio::awaitable<RunEnd> RunResources(JobRun* run);
  boost::asio::awaitable<RunEnd> RunOperators(JobRun* run);
  boost::asio::awaitable<RunEnd> RunSuspend(JobRun* run);
  boost::asio::awaitable<RunEnd> RunResume(JobRun* run);
  boost::asio::awaitable<RunEnd> RunDelete(JobRun* run);

  // Runs one CLI call through the executor; in the accounts lane, Everest's
  // "object has been modified" conflicts are retried with backoff. `secrets`
  // are masked in the record. Every call is appended to the step's "calls".
  boost::asio::awaitable<CommandResult> Call(JobRun* run, StepState* st, Argv argv,
                                             std::string stdin_data, int timeout_s,
                                             Executor::Lane lane, std::string metric_sub,
                                             std::vector<std::string> secrets = {},
                                             std::size_t output_cap = 0);
  // `kubectl get ... -o json`: the object, or nullopt with *not_found set when
  // the API said NotFound (other failures fail the step).
  boost::asio::awaitable<std::optional<nlohmann::json>> GetJson(JobRun* run, StepState* st,
                                                                Argv argv, std::string metric_sub,
                                                                bool* not_found);

  // Waits for the RBAC lane; false (the step marked canceled or abandoned)
  // when the wait was given up.
  boost::asio::awaitable<bool> AcquireRbacLane(JobRun* run, StepState* st);

  // everest-rbac read-modify-write. REQUIRES: the RBAC lane is held.
  // ReadRbac fills the ConfigMap and its policy.csv. WriteRbac validates
  // `policy` with everestctl, then replaces with the read resourceVersion:
  // returns 1 written, 0 conflict (read again), -1 failed (step filled).
  boost::asio::awaitable<bool> ReadRbac(JobRun* run, StepState* st, nlohmann::json* cm,
                                        std::string* policy);
  boost::asio::awaitable<int> WriteRbac(JobRun* run, StepState* st, nlohmann::json cm,
                                        std::string policy, bool enable);
  // Read, `edit`, write, with conflict retries and the lane held throughout.
  // Sets *changed when a write happened.
  boost::asio::awaitable<bool> EditRbac(JobRun* run, StepState* st,
                                        std::function<std::string(const std::string&)> edit,
                                        bool enable, bool* changed);

  boost::asio::awaitable<bool> StepCreateAccount(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepAddNamespace(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepApplyQuota(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepApplyRbac(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepSetPassword(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepUpdateQuota(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepUpdateOperators(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepPauseClusters(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepScaleDown(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepRevokeRbac(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepRestoreRbac(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepScaleUp(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepUnpauseClusters(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepRemoveNamespace(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepDeleteAccount(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepRemoveRbac(JobRun* run, StepState* st);
  boost::asio::awaitable<bool> StepForgetTenant(JobRun* run, StepState* st);

  StepDef Def(const char* name, boost::asio::awaitable<bool> (Workflows::*fn)(JobRun*, StepState*));

  const Config& config_;
  Executor* executor_;
  JobManager* jobs_;
  Metrics* metrics_;
  std::optional<CliVersion> version_;
};

}  // namespace bootstrapd

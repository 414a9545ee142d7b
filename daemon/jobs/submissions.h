// One request body -> one SubmitRequest, the same for every channel (REST,
// Kafka, webhook): decoding and validation (SPEC §2.1), password handling
// (request: memory only; else BOOTSTRAP_DEFAULT_PASSWORD; else generated),
// the namespace default of the tenant routes, and the redacted inputs.
// Loop thread (reads the tenants table through JobManager).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/config.h"
#include "daemon/domain/requests.h"
#include "daemon/jobs/job.h"
#include "daemon/jobs/job_manager.h"

namespace bootstrapd {

// The REST route of each job kind (also the idempotency scope of REST keys).
const char* RouteOfKind(JobKind kind);

// Fills *out (kind, username, namespace, inputs, secret, tenant rules) from
// `body`. False with field errors when the body is not valid for `kind`.
bool BuildSubmission(JobKind kind, const nlohmann::json& body, const Config& cfg,
                     const JobManager& jobs, SubmitRequest* out, std::vector<FieldError>* errors);

}  // namespace bootstrapd

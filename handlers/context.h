// What the handlers reach: the configuration and the daemon's parts, by
// interface. Owned by App; handlers hold a pointer. Loop thread only.
#pragma once

#include <functional>
#include <string>

#include "daemon/config.h"
#include "daemon/domain/argv.h"
#include "daemon/domain/everestctl_parse.h"
#include "daemon/domain/requests.h"
#include "daemon/exec/command.h"
#include "daemon/exec/executor.h"
#include "daemon/http/message.h"
#include "daemon/http/router.h"
#include "daemon/jobs/job_manager.h"
#include "daemon/jobs/job_store.h"

namespace bootstrapd {

class Metrics;

struct AppContext {
  const Config* config = nullptr;
  Metrics* metrics = nullptr;
  JobStore* store = nullptr;
  JobManager* jobs = nullptr;
  Executor* executor = nullptr;
  std::string path_env;          // the daemon's PATH, for finding the CLIs
  bool listening = false;        // set once the listener is bound
  std::function<bool()> kafka_connected;  // empty when Kafka is disabled
};

// Registers every route of SPEC §2 that this build serves.
void RegisterRoutes(Router* router, AppContext* ctx);

// --- shared by the handlers (handlers/common.cpp) ---

// Parses a JSON request body with the depth limit; on failure returns the
// problem response to send (400 for malformed JSON or too deep).
std::optional<HttpResponse> ParseJsonBody(const HttpRequest& req, nlohmann::json* out);

// The 422 problem for field errors.
HttpResponse ValidationProblem(const std::vector<FieldError>& errors);

// RFC 7240 Prefer: respond-async and wait=N.
struct Preference {
  bool respond_async = false;
  std::optional<int> wait_s;
};
Preference ParsePrefer(const HttpRequest& req);

// Reads the Idempotency-Key header (if any) into sr.idem_scope
// ("rest:<route>:<key>") and the canonical body; a malformed key is a 400.
std::optional<HttpResponse> ApplyIdempotency(const HttpRequest& req, const std::string& route,
                                             const nlohmann::json& body, SubmitRequest* sr);

// Maps a refused submission to its problem (429, 503, 409).
HttpResponse SubmitProblem(const SubmitOutcome& o);

// Submits `sr`, then waits as RFC 7240 Prefer asks (default: `default_wait_s`)
// and answers with JobAnswer; echoes Preference-Applied.
// With an Idempotency-Key the same key and body give the original job
// (Idempotent-Replayed: true); another body is a 422.
boost::asio::awaitable<HttpResponse> SubmitAndAnswer(AppContext* ctx, HttpRequest req,
                                                     SubmitRequest sr, int default_wait_s,
                                                     std::string route, nlohmann::json body);

// Runs a read-only CLI call through the executor's concurrency limit.
// Its outputs are parsed, so they get the large cap.
boost::asio::awaitable<CommandResult> RunRead(AppContext* ctx, Argv argv, std::string metric_sub);

// The problem for a failed read-only CLI call: 503 missing binary, 504 timeout,
// 502 otherwise (with the seed's "error": "everestctl failed" and the stderr tail).
HttpResponse CliProblem(const CommandResult& r, const std::string& what);

// The 502 problem for CLI output that does not parse.
HttpResponse CliOutputProblem(const std::string& command, const std::string& error);

// Runs `everestctl accounts list` and parses its table into *rows; sets *json_out
// instead when everestctl printed JSON (and json_out is not null). Returns
// the problem to answer when the call or the parse failed.
boost::asio::awaitable<std::optional<HttpResponse>> ReadAccounts(AppContext* ctx,
                                                                 std::vector<AccountRow>* rows,
                                                                 nlohmann::json* json_out);

void RegisterLifecycleRoutes(Router* router, AppContext* ctx);
void RegisterWebhookRoute(Router* router, AppContext* ctx);

// Answers for a job per SPEC §2: 202 {"job_id","status_url","status"} +
// Location when it was not waited for or is still running; for a finished job
// that was waited for 200 {"job_id","overall_status","steps","summary"}, 502
// problem (failed), 409 problem (canceled, or a conflict the job found before
// changing anything, e.g. removing an operator).
HttpResponse JobAnswer(AppContext* ctx, const std::string& job_id, bool waited);

}  // namespace bootstrapd

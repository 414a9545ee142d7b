#include <cstdlib>

#include "daemon/domain/requests.h"
#include "daemon/jobs/job.h"
#include "daemon/domain/text.h"
#include "daemon/exec/executor.h"
#include "daemon/jobs/workflow_util.h"
#include "handlers/context.h"

namespace bootstrapd {

using json = nlohmann::json;


std::optional<HttpResponse> ParseJsonBody(const HttpRequest& req, json* out) {
  if (req.body.empty()) {
    return Problem(400, "malformed-json", "Malformed JSON body", "the request body is empty");
  }
  if (req.body.find('\0') != std::string::npos) {
    // Never valid JSON (controls in strings are escaped), and nlohmann would
    // stop reading at it, ignoring the rest.
    return Problem(400, "malformed-json", "Malformed JSON body", "the body contains a NUL byte");
  }
  if (JsonDepth(req.body) > kMaxJsonDepth) {
    return Problem(400, "malformed-json", "Malformed JSON body",
                   "the JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  *out = json::parse(req.body, nullptr, false);
  if (out->is_discarded()) {
    // Find the reason with a throwing parse (only on the error path).
    std::string why = "not valid JSON";
    try {
      const json reparsed = json::parse(req.body);  // throws: the reason
      (void)reparsed;
    } catch (const json::exception& e) {  // parse_error, or out_of_range (1e400)
      why = e.what();
    }
    return Problem(400, "malformed-json", "Malformed JSON body", why);
  }
  return std::nullopt;
}

HttpResponse ValidationProblem(const std::vector<FieldError>& errors) {
  json list = json::array();
  std::string detail;
  for (const auto& e : errors) {
    const std::string& ptr = e.pointer;
    const std::string& msg = e.detail;
    list.push_back({{"pointer", ptr.empty() ? "/" : ptr}, {"detail", msg}});
    if (!detail.empty()) detail += "; ";
    detail += (ptr.empty() ? std::string("body") : ptr.substr(1)) + ": " + msg;
  }
  return Problem(422, "validation", "Request validation failed", detail, {{"errors", list}});
}

Preference ParsePrefer(const HttpRequest& req) {
  Preference p;
  for (const auto& [k, v] : req.headers) {
    if (!EqualsIgnoreCase(k, "Prefer")) continue;
    std::size_t i = 0;
    while (i <= v.size()) {
      std::size_t j = v.find_first_of(",;", i);
      if (j == std::string::npos) j = v.size();
      std::string tok = v.substr(i, j - i);
      const auto b = tok.find_first_not_of(" \t");
      const auto e = tok.find_last_not_of(" \t");
      tok = b == std::string::npos ? "" : tok.substr(b, e - b + 1);
      if (EqualsIgnoreCase(tok, "respond-async")) p.respond_async = true;
      if (tok.size() > 5 && EqualsIgnoreCase(tok.substr(0, 5), "wait=")) {
        char* end = nullptr;
        const long n = std::strtol(tok.c_str() + 5, &end, 10);
        if (end != nullptr && *end == '\0' && n >= 0) p.wait_s = static_cast<int>(std::min(n, 3600L));
      }
      i = j + 1;
    }
  }
  return p;
}

namespace {
HttpResponse Accepted(const Job& j) {
  HttpResponse r = HttpResponse::Json(
      202, {{"job_id", j.id}, {"status_url", "/jobs/" + j.id}, {"status", StatusName(j.status)}});
  r.Set("Location", "/jobs/" + j.id);
  return r;
}
}  // namespace

HttpResponse JobAnswer(AppContext* ctx, const std::string& job_id, bool waited) {
  Job j;
  Status s = waited ? ctx->jobs->GetJob(job_id, &j) : ctx->jobs->GetJobView(job_id, &j);
  if (!s.ok()) {
    return Problem(500, "store", "Job store error", s.message(), {{"job_id", job_id}});
  }
  if (!waited || !IsTerminal(j.status)) return Accepted(j);
  json steps = j.steps;
  if (j.status == JobStatus::kSucceeded) {
    return HttpResponse::Json(200, {{"job_id", j.id},
                                    {"overall_status", StatusName(j.status)},
                                    {"steps", steps},
                                    {"summary", j.summary}});
  }
  if (j.status == JobStatus::kFailed && j.extra.contains("conflict")) {
    return Problem(409, "conflict", "Conflict", j.extra["conflict"].get<std::string>(),
                   {{"job_id", j.id}, {"steps", steps}, {"overall_status", "failed"}});
  }
  if (j.status == JobStatus::kCanceled) {
    return Problem(409, "job-canceled", "Job canceled", j.summary,
                   {{"job_id", j.id}, {"steps", steps}, {"overall_status", "canceled"}});
  }
  // Failed: the seed's members for CLI failures.
  std::string stderr_tail;
  for (const auto& st : steps) {
    if (st.value("outcome", "") == "failed") stderr_tail = st.value("stderr", "");
  }
  return Problem(502, "job-failed", "Job failed", j.summary,
                 {{"job_id", j.id},
                  {"steps", steps},
                  {"overall_status", "failed"},
                  {"error", "everestctl failed"},
                  {"stderr", stderr_tail}});
}

std::optional<HttpResponse> ApplyIdempotency(const HttpRequest& req, const std::string& route,
                                             const json& body, SubmitRequest* sr) {
  const std::string* key = req.Header("Idempotency-Key");
  if (key == nullptr) return std::nullopt;
  bool ok = !key->empty() && key->size() <= 255;
  for (char c : *key) ok = ok && c > 0x20 && c < 0x7F;
  if (!ok) {
    return Problem(400, "bad-idempotency-key", "Invalid Idempotency-Key",
                   "the key must be 1 to 255 visible ASCII characters");
  }
  sr->idem_scope = "rest:" + route + ":" + *key;
  sr->idem_canonical = body.dump();  // nlohmann objects keep keys sorted: canonical
  return std::nullopt;
}

HttpResponse SubmitProblem(const SubmitOutcome& o) {
  switch (o.code) {
    case SubmitOutcome::Code::kKeyMismatch:
      return Problem(422, "idempotency-key-reused", "Idempotency-Key reused with another body",
                     o.message, {{"job_id", o.job_id}});
    case SubmitOutcome::Code::kQueueFull: {
      HttpResponse r = Problem(429, "queue-full", "Too many queued jobs", o.message);
      r.Set("Retry-After", "5");
      return r;
    }
    case SubmitOutcome::Code::kDraining: {
      HttpResponse r = Problem(503, "draining", "Shutting down", o.message);
      r.Set("Retry-After", "5");
      return r;
    }
    case SubmitOutcome::Code::kOwnership:
      return Problem(409, "tenant-conflict", "Username or namespace owned by another tenant",
                     o.message);
    case SubmitOutcome::Code::kStoreError:
    default: {
      HttpResponse r = Problem(503, "store-unavailable", "Job store unavailable",
                               "the job was not accepted: " + o.message);
      r.Set("Retry-After", "5");
      return r;
    }
  }
}

boost::asio::awaitable<HttpResponse> SubmitAndAnswer(AppContext* ctx, HttpRequest req,
                                                     SubmitRequest sr, int default_wait_s,
                                                     std::string route, json body) {
  if (auto p = ApplyIdempotency(req, route, body, &sr)) co_return *p;
  SubmitOutcome o = co_await ctx->jobs->Submit(std::move(sr));
  const bool replay = o.code == SubmitOutcome::Code::kReplay;
  if (o.code != SubmitOutcome::Code::kAccepted && !replay) co_return SubmitProblem(o);
  const Preference pref = ParsePrefer(req);
  int wait_s = default_wait_s;
  std::string applied;
  if (pref.respond_async) {
    wait_s = 0;
    applied = "respond-async";
  } else if (pref.wait_s) {
    wait_s = *pref.wait_s;
    applied = "wait=" + std::to_string(wait_s);
  }
  if (wait_s > 0) co_await ctx->jobs->WaitFinished(o.job_id, std::chrono::seconds(wait_s));
  // Not waited for (bootstrap's default, respond-async): 202 whatever the
  // state, also for a replay of a job that has finished since (SPEC §2).
  HttpResponse r = JobAnswer(ctx, o.job_id, wait_s > 0);
  if (!applied.empty()) r.Set("Preference-Applied", applied);
  if (replay) r.Set("Idempotent-Replayed", "true");
  co_return r;
}

boost::asio::awaitable<CommandResult> RunRead(AppContext* ctx, Argv argv, std::string metric_sub) {
  CommandSpec spec;
  const Argv line = argv;
  spec.argv = std::move(argv);
  spec.timeout = std::chrono::seconds(ctx->config->cli_timeout_s);
  spec.metric_subcommand = std::move(metric_sub);
  spec.output_cap = kParsedOutputCap;
  CommandResult r = co_await ctx->executor->Run(std::move(spec));
  wf::MarkEverestctlError(ctx->config->everestctl, line, &r);
  co_return r;
}

HttpResponse CliProblem(const CommandResult& r, const std::string& what) {
  if (r.status == CommandResult::Status::kSpawnFailed) {
    return Problem(503, "cli-unavailable", what + " unavailable", r.error,
                   {{"error", "everestctl failed"}});
  }
  if (r.status == CommandResult::Status::kTimedOut) {
    return Problem(504, "cli-timeout", what + " timed out", r.error,
                   {{"error", "everestctl failed"}});
  }
  const std::string tail = Tail(r.err.empty() ? r.out : r.err);
  return Problem(502, "cli-failed", what + " failed", tail.empty() ? r.error : tail,
                 {{"error", "everestctl failed"}});
}

HttpResponse CliOutputProblem(const std::string& command, const std::string& error) {
  return Problem(502, "cli-output", "Unexpected everestctl output",
                 "cannot parse `" + command + "`: " + error, {{"error", "everestctl failed"}});
}

boost::asio::awaitable<std::optional<HttpResponse>> ReadAccounts(AppContext* ctx,
                                                                 std::vector<AccountRow>* rows,
                                                                 json* json_out) {
  CommandResult r = co_await RunRead(ctx, AccountsListArgv(ctx->config->everestctl), "accounts list");
  if (!r.Succeeded()) co_return CliProblem(r, "everestctl");
  if (json_out != nullptr) {
    json parsed = json::parse(r.out, nullptr, false);
    if (!parsed.is_discarded() && (parsed.is_object() || parsed.is_array())) {
      *json_out = std::move(parsed);
      co_return std::nullopt;
    }
  }
  std::string err;
  auto parsed_rows = ParseAccountsTable(r.out, &err);
  if (!parsed_rows) co_return CliOutputProblem("everestctl accounts list", err);
  *rows = std::move(*parsed_rows);
  co_return std::nullopt;
}

}  // namespace bootstrapd

// The routes of SPEC §2 served by this build: bootstrap submission, job
// status and result, the accounts list pass-through, health, readiness and
// metrics. Each handler is a free coroutine taking its arguments by value.
#include <boost/asio/this_coro.hpp>

#include <set>

#include "daemon/domain/everestctl_parse.h"
#include "daemon/domain/requests.h"
#include "daemon/domain/text.h"
#include "daemon/exec/process_command_runner.h"
#include "daemon/metrics/metrics.h"
#include "daemon/util/ids.h"
#include "daemon/util/log.h"
#include "handlers/context.h"

namespace bootstrapd {

namespace asio = boost::asio;
using asio::awaitable;
using json = nlohmann::json;

extern const std::string_view kOpenApiDocument;  // generated/openapi_document.cpp

namespace {

HttpResponse UnknownJob(const std::string& id) {
  return Problem(404, "job-not-found", "Job not found", "no job with id '" + id + "'");
}

awaitable<HttpResponse> GetJob(AppContext* ctx, HttpRequest, PathParams p) {
  const std::string id = p["id"];
  if (!IsUuid(id)) co_return UnknownJob(id);
  std::string body;
  Status s = ctx->jobs->JobViewBody(id, &body);
  if (s.code() == Status::Code::kNotFound) co_return UnknownJob(id);
  if (!s.ok()) co_return Problem(503, "store-unavailable", "Job store unavailable", s.message());
  co_return HttpResponse::Text(200, std::move(body), "application/json");
}

awaitable<HttpResponse> GetJobResult(AppContext* ctx, HttpRequest, PathParams p) {
  const std::string id = p["id"];
  if (!IsUuid(id)) co_return UnknownJob(id);
  Job j;
  std::optional<std::string> password;
  Status s = co_await ctx->jobs->ReadResult(id, &j, &password);
  if (s.code() == Status::Code::kNotFound) co_return UnknownJob(id);
  if (!s.ok()) co_return Problem(503, "store-unavailable", "Job store unavailable", s.message());
  if (!IsTerminal(j.status)) {
    co_return Problem(409, "job-not-finished", "Job not finished",
                      std::string("the job is ") + StatusName(j.status) + "; poll /jobs/" + id,
                      {{"job_id", id}, {"job_status", StatusName(j.status)}});
  }
  json v = ResultView(j);
  if (password) {
    v["credentials"]["password"] = *password;
    v["credentials"]["note"] = "generated password, shown once: it is not stored any more";
  }
  co_return HttpResponse::Json(200, v);
}

// The opaque page cursor: "c1." + hex of the last item's sequence number.
std::string EncodeCursor(std::int64_t seq) {
  return "c1." + HexLower(std::to_string(seq));
}

bool DecodeCursor(const std::string& c, std::int64_t* seq) {
  if (c.rfind("c1.", 0) != 0 || c.size() < 5 || c.size() > 64 || (c.size() - 3) % 2 != 0) return false;
  std::string digits;
  for (std::size_t i = 3; i < c.size(); i += 2) {
    const std::string byte = c.substr(i, 2);
    char* end = nullptr;
    const long v = std::strtol(byte.c_str(), &end, 16);
    if (*end != '\0' || v < '0' || v > '9') return false;
    digits.push_back(static_cast<char>(v));
  }
  *seq = std::atoll(digits.c_str());
  return *seq > 0;
}

awaitable<HttpResponse> ListJobs(AppContext* ctx, HttpRequest req, PathParams) {
  std::vector<std::pair<std::string, std::string>> query;
  if (!ParseQuery(req.query, &query)) {
    co_return Problem(400, "bad-query", "Malformed query string", "a percent escape is invalid");
  }
  JobFilter f;
  std::vector<FieldError> errors;
  std::set<std::string> seen;
  for (const auto& [k, v] : query) {
    if (!seen.insert(k).second) {
      errors.push_back({"/" + k, "given more than once"});
      continue;
    }
    if (k == "status") {
      if (auto st = ParseStatus(v)) f.status = st;
      else errors.push_back({"/status", "must be one of queued, running, succeeded, failed, canceled"});
    } else if (k == "kind") {
      if (auto kd = ParseKind(v)) f.kind = kd;
      else errors.push_back({"/kind", "must be one of bootstrap, password, resources, operators, suspend, resume, delete"});
    } else if (k == "username") {
      if (IsValidUsername(v)) f.username = v;
      else errors.push_back({"/username", "is not a valid Everest username"});
    } else if (k == "namespace") {
      if (IsRfc1035Label(v)) f.ns = v;
      else errors.push_back({"/namespace", "is not a valid namespace name (RFC 1035 label)"});
    } else if (k == "source") {
      if (v != "rest" && v != "kafka" && v != "webhook") errors.push_back({"/source", "must be rest, kafka or webhook"});
      else f.source = v;
    } else if (k == "limit") {
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1 || n > 500) {
        errors.push_back({"/limit", "must be an integer from 1 to 500"});
      } else {
        f.limit = static_cast<int>(n);
      }
    } else if (k == "cursor") {
      if (!DecodeCursor(v, &f.before_seq)) errors.push_back({"/cursor", "is not a cursor this API returned"});
    } else {
      errors.push_back({"/" + k, "unknown query parameter '" + k + "'"});
    }
  }
  if (!errors.empty()) co_return ValidationProblem(errors);
  std::vector<Job> jobs;
  Status s = ctx->jobs->ListJobs(f, &jobs);
  if (!s.ok()) co_return Problem(503, "store-unavailable", "Job store unavailable", s.message());
  json items = json::array();
  for (const auto& j : jobs) items.push_back(JobView(j));
  json next = nullptr;
  if (static_cast<int>(jobs.size()) == f.limit) next = EncodeCursor(jobs.back().seq);
  co_return HttpResponse::Json(200, {{"items", items}, {"next_cursor", next}});
}

awaitable<HttpResponse> CancelJob(AppContext* ctx, HttpRequest, PathParams p) {
  const std::string id = p["id"];
  if (!IsUuid(id)) co_return UnknownJob(id);
  Job j;
  Status s = co_await ctx->jobs->Cancel(id, &j);
  if (s.code() == Status::Code::kNotFound) co_return UnknownJob(id);
  if (s.code() == Status::Code::kConflict) {
    co_return Problem(409, "job-finished", "Job already finished", s.message(),
                      {{"job_id", id}, {"job_status", StatusName(j.status)}});
  }
  if (!s.ok()) co_return Problem(503, "store-unavailable", "Job store unavailable", s.message());
  co_return HttpResponse::Json(200, JobView(j));
}

awaitable<HttpResponse> GetAccountsList(AppContext* ctx, HttpRequest, PathParams) {
  std::vector<AccountRow> rows;
  json raw;
  if (auto problem = co_await ReadAccounts(ctx, &rows, &raw)) co_return *problem;
  if (!raw.is_null()) co_return HttpResponse::Json(200, {{"data", raw}});  // everestctl spoke JSON
  json data = json::array();
  for (const auto& row : rows) {
    data.push_back({{"user", row.user}, {"capabilities", row.capabilities}, {"enabled", row.enabled}});
  }
  co_return HttpResponse::Json(200, {{"data", data}});
}

awaitable<HttpResponse> Healthz(AppContext*, HttpRequest, PathParams) {
  co_return HttpResponse::Json(200, {{"status", "ok"}});
}

awaitable<HttpResponse> Readyz(AppContext* ctx, HttpRequest, PathParams) {
  json checks = json::object();
  bool ready = true;
  auto check = [&](const char* name, bool ok, const std::string& bad) {
    checks[name] = ok ? "ok" : bad;
    ready = ready && ok;
  };
  Status s = ctx->store->Ping();
  check("store", s.ok(), s.ok() ? "" : s.message());
  check("everestctl", !FindExecutable(ctx->config->everestctl, ctx->path_env).empty(),
        ctx->config->everestctl + " not found on PATH");
  check("kubectl", !FindExecutable(ctx->config->kubectl, ctx->path_env).empty(),
        ctx->config->kubectl + " not found on PATH");
  check("recovery", ctx->jobs->recovered(), "restart recovery not finished");
  check("listener", ctx->listening, "not listening yet");
  check("draining", !ctx->jobs->draining(), "draining");
  if (ctx->kafka_connected) check("kafka", ctx->kafka_connected(), "not connected to the brokers");
  json body = {{"checks", checks},
               {"jobs", {{"queued", ctx->jobs->queued()}, {"running", ctx->jobs->running()}}}};
  if (ctx->config->admin_key_is_default) {
    body["warnings"] = {"ADMIN_API_KEY is the default 'changeme': set a real key"};
  }
  if (ctx->config->simulated) body["simulated"] = true;
  if (ready) {
    body["status"] = "ready";
    co_return HttpResponse::Json(200, body);
  }
  // A problem+json whose `status` stays the HTTP status (RFC 9457).
  std::string failing;
  for (const auto& [name, c] : checks.items()) {
    if (c == "ok") continue;
    if (!failing.empty()) failing += ", ";
    failing += name;
  }
  co_return Problem(503, "not-ready", "Not ready", "failing checks: " + failing, body);
}

// The bundled OpenAPI 3.1 document of schemas/ (embedded at build time).
awaitable<HttpResponse> OpenApi(AppContext*, HttpRequest, PathParams) {
  co_return HttpResponse::Text(200, std::string(kOpenApiDocument), "application/json");
}

awaitable<HttpResponse> MetricsText(AppContext* ctx, HttpRequest, PathParams) {
  co_return HttpResponse::Text(200, ctx->metrics->Serialize(), "text/plain; version=0.0.4");
}

template <awaitable<HttpResponse> (*F)(AppContext*, HttpRequest, PathParams)>
RouteFn Bind(AppContext* ctx) {
  return [ctx](HttpRequest r, PathParams p) { return F(ctx, std::move(r), std::move(p)); };
}

}  // namespace

void RegisterRoutes(Router* router, AppContext* ctx) {
  router->Add("GET", "/healthz", false, Bind<Healthz>(ctx));
  router->Add("GET", "/readyz", false, Bind<Readyz>(ctx));
  router->Add("GET", "/metrics", false, Bind<MetricsText>(ctx));
  router->Add("GET", "/openapi.json", true, Bind<OpenApi>(ctx));
  router->Add("GET", "/jobs/{id}", true, Bind<GetJob>(ctx));
  router->Add("GET", "/jobs/{id}/result", true, Bind<GetJobResult>(ctx));
  router->Add("GET", "/jobs", true, Bind<ListJobs>(ctx));
  router->Add("POST", "/jobs/{id}/cancel", true, Bind<CancelJob>(ctx));
  router->Add("GET", "/accounts/list", true, Bind<GetAccountsList>(ctx));
  RegisterLifecycleRoutes(router, ctx);
  RegisterWebhookRoute(router, ctx);
}

}  // namespace bootstrapd

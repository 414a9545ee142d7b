// The routes of SPEC §2 served by this build: bootstrap submission, job
// status and result, the accounts list pass-through, health, readiness and
// metrics. Each handler is a free coroutine taking its arguments by value.
#include <boost/asio/this_coro.hpp>

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

namespace {

awaitable<HttpResponse> PostBootstrap(AppContext* ctx, HttpRequest req, PathParams) {
  json body;
  if (auto p = ParseJsonBody(req, &body)) co_return *p;
  BootstrapRequest br;
  std::vector<FieldError> errors;
  if (!ParseBootstrapRequest(body, *ctx->config, &br, &errors)) co_return ValidationProblem(errors);

  SubmitRequest sr;
  sr.kind = JobKind::kBootstrap;
  sr.source = "rest";
  sr.username = br.username;
  sr.ns = br.ns;
  sr.request_id = req.request_id;
  sr.bind_tenant = true;
  if (br.password) {
    sr.secret = br.password;
    sr.secret_origin = "request";
  } else if (ctx->config->default_password) {
    sr.secret = ctx->config->default_password;
    sr.secret_origin = "default";
  } else {
    sr.secret = RandomString(24, kPasswordAlphabet);
    sr.secret_origin = "generated";
  }
  sr.inputs = BootstrapInputs(br, sr.secret_origin);
  // 202 at once unless the client asks to wait (Prefer: wait=N).
  HttpResponse r = co_await SubmitAndAnswer(ctx, std::move(req), std::move(sr), 0);
  co_return r;
}

HttpResponse UnknownJob(const std::string& id) {
  return Problem(404, "job-not-found", "Job not found", "no job with id '" + id + "'");
}

awaitable<HttpResponse> GetJob(AppContext* ctx, HttpRequest, PathParams p) {
  const std::string id = p["id"];
  if (!IsUuid(id)) co_return UnknownJob(id);
  Job j;
  Status s = ctx->jobs->GetJob(id, &j);
  if (s.code() == Status::Code::kNotFound) co_return UnknownJob(id);
  if (!s.ok()) co_return Problem(503, "store-unavailable", "Job store unavailable", s.message());
  co_return HttpResponse::Json(200, JobView(j));
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

awaitable<HttpResponse> GetAccountsList(AppContext* ctx, HttpRequest, PathParams) {
  CommandResult r = co_await RunRead(ctx, AccountsListArgv(ctx->config->everestctl), "accounts list");
  if (!r.Succeeded()) co_return CliProblem(r, "everestctl");
  json parsed = json::parse(r.out, nullptr, false);
  if (!parsed.is_discarded() && (parsed.is_object() || parsed.is_array())) {
    co_return HttpResponse::Json(200, {{"data", parsed}});
  }
  std::string err;
  auto rows = ParseAccountsTable(r.out, &err);
  if (!rows) {
    co_return Problem(502, "cli-output", "Unexpected everestctl output",
                      "cannot parse `everestctl accounts list`: " + err,
                      {{"error", "everestctl failed"}});
  }
  json data = json::array();
  for (const auto& row : *rows) {
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
  json body = {{"status", ready ? "ready" : "unready"},
               {"checks", checks},
               {"jobs", {{"queued", ctx->jobs->queued()}, {"running", ctx->jobs->running()}}}};
  if (ctx->config->admin_key_is_default) {
    body["warnings"] = {"ADMIN_API_KEY is the default 'changeme': set a real key"};
  }
  if (ctx->config->simulated) body["simulated"] = true;
  if (ready) co_return HttpResponse::Json(200, body);
  HttpResponse r = Problem(503, "not-ready", "Not ready", "failing checks", body);
  co_return r;
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
  router->Add("POST", "/bootstrap/users", true, Bind<PostBootstrap>(ctx));
  router->Add("GET", "/jobs/{id}", true, Bind<GetJob>(ctx));
  router->Add("GET", "/jobs/{id}/result", true, Bind<GetJobResult>(ctx));
  router->Add("GET", "/accounts/list", true, Bind<GetAccountsList>(ctx));
  RegisterLifecycleRoutes(router, ctx);
}

}  // namespace bootstrapd

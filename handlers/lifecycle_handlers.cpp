// The tenant lifecycle routes (SPEC §2): the edit routes (password,
// resources, operators, suspend, resume, delete), which run as jobs and keep
// the seed's synchronous feel, and the read-only detail routes, which run
// their CLI calls through the executor's concurrency limit but are not jobs.
#include "daemon/domain/everestctl_parse.h"
#include "daemon/domain/rbac.h"
#include "daemon/domain/requests.h"
#include "daemon/jobs/submissions.h"
#include "daemon/jobs/workflows.h"
#include "daemon/util/ids.h"
#include "handlers/context.h"

namespace bootstrapd {

namespace asio = boost::asio;
using asio::awaitable;
using json = nlohmann::json;

namespace {

// Every mutating route: decode and validate the body for its job kind, then
// submit and answer (bootstrap: 202 at once; the edit routes wait
// SYNC_WAIT_SECONDS). RFC 7240 Prefer and Idempotency-Key apply to all.
awaitable<HttpResponse> PostJob(AppContext* ctx, HttpRequest req, JobKind kind) {
  json body;
  if (auto p = ParseJsonBody(req, &body)) co_return *p;
  SubmitRequest sr;
  std::vector<FieldError> errors;
  if (!BuildSubmission(kind, body, *ctx->config, *ctx->jobs, &sr, &errors)) {
    co_return ValidationProblem(errors);
  }
  sr.source = "rest";
  sr.request_id = req.request_id;
  const int wait_s = kind == JobKind::kBootstrap ? 0 : ctx->config->sync_wait_s;
  HttpResponse r = co_await SubmitAndAnswer(ctx, std::move(req), std::move(sr), wait_s,
                                            RouteOfKind(kind), std::move(body));
  co_return r;
}

template <JobKind K>
awaitable<HttpResponse> PostKind(AppContext* ctx, HttpRequest req, PathParams) {
  HttpResponse r = co_await PostJob(ctx, std::move(req), K);
  co_return r;
}

// `kubectl get ... -o json` for a detail route: the object, null when NotFound.
awaitable<std::optional<json>> ReadObject(AppContext* ctx, Argv argv, std::string sub,
                                          std::optional<HttpResponse>* problem) {
  CommandResult r = co_await RunRead(ctx, std::move(argv), std::move(sub));
  if (r.Succeeded()) {
    json j = json::parse(r.out, nullptr, false);
    if (!j.is_discarded()) co_return j;
    *problem = Problem(502, "cli-output", "Unexpected kubectl output", "kubectl did not print JSON");
    co_return std::nullopt;
  }
  if (r.status == CommandResult::Status::kExited &&
      (r.err.find("(NotFound)") != std::string::npos)) {
    co_return json(nullptr);
  }
  *problem = CliProblem(r, "kubectl");
  co_return std::nullopt;
}

std::string AnnotationOf(const json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains("metadata")) return "";
  const json& m = obj["metadata"];
  if (!m.contains("annotations") || !m["annotations"].is_object()) return "";
  const json& a = m["annotations"];
  return a.contains(key) && a[key].is_string() ? a[key].get<std::string>() : "";
}

awaitable<HttpResponse> GetAccount(AppContext* ctx, HttpRequest, PathParams p) {
  const std::string user = p["username"];
  if (!IsValidUsername(user)) {
    co_return Problem(404, "account-not-found", "Account not found", "no account '" + user + "'");
  }
  std::vector<AccountRow> rows;
  if (auto problem = co_await ReadAccounts(ctx, &rows, nullptr)) co_return *problem;
  const AccountRow* row = nullptr;
  for (const auto& a : rows) {
    if (a.user == user) row = &a;
  }
  if (row == nullptr) {
    co_return Problem(404, "account-not-found", "Account not found", "no account '" + user + "'");
  }
  json out = {{"user", row->user}, {"capabilities", row->capabilities}, {"enabled", row->enabled}};
  auto tenant = ctx->jobs->TenantOfUser(user);
  out["namespace"] = tenant ? json(tenant->ns) : json(nullptr);
  out["tenant_since"] = tenant ? json(tenant->created_at) : json(nullptr);
  std::optional<HttpResponse> problem;
  auto cm = co_await ReadObject(ctx, KubectlGetArgv(ctx->config->kubectl, "configmap", "everest-rbac",
                                                    "everest-system"),
                                "get configmap", &problem);
  if (!cm) co_return *problem;
  std::string policy;
  if (cm->is_object() && (*cm)["data"].is_object()) policy = (*cm)["data"].value("policy.csv", "");
  out["role"] = UserBlockLines(policy, user);
  out["rbac_enabled"] = cm->is_object() && (*cm)["data"].is_object() &&
                        (*cm)["data"].value("enabled", "") == "true";
  out["suspended"] = false;
  if (tenant) {
    auto ns = co_await ReadObject(ctx, KubectlGetArgv(ctx->config->kubectl, "namespace", tenant->ns, ""),
                                  "get namespace", &problem);
    if (!ns) co_return *problem;
    const std::string since = AnnotationOf(*ns, kSuspendedAnnotation);
    out["suspended"] = !since.empty();
    if (!since.empty()) out["suspended_at"] = since;
    const std::string revoked = AnnotationOf(*ns, kSuspendedRbacAnnotation);
    if (!revoked.empty()) out["revoked_role"] = revoked;
  }
  JobFilter f;
  f.username = user;
  f.limit = 10;
  std::vector<Job> jobs;
  json last = json::array();
  if (ctx->jobs->ListJobs(f, &jobs).ok()) {
    for (const auto& j : jobs) last.push_back(JobView(j));
  }
  out["last_jobs"] = last;
  co_return HttpResponse::Json(200, out);
}

awaitable<HttpResponse> ListNamespaces(AppContext* ctx, HttpRequest, PathParams) {
  CommandResult r = co_await RunRead(ctx, NamespacesListArgv(ctx->config->everestctl),
                                     "namespaces list");
  if (!r.Succeeded()) co_return CliProblem(r, "everestctl");
  std::string err;
  auto rows = ParseNamespacesTable(r.out, &err);
  if (!rows) co_return CliOutputProblem("everestctl namespaces list", err);
  json items = json::array();
  for (const auto& row : *rows) {
    json ops = json::array();
    for (const auto& [name, version] : row.operators) ops.push_back({{"name", name}, {"version", version}});
    auto t = ctx->jobs->TenantOfNamespace(row.name);
    items.push_back({{"name", row.name},
                     {"managed", row.managed},
                     {"operators", ops},
                     {"tenant", t ? json(t->username) : json(nullptr)}});
  }
  co_return HttpResponse::Json(200, {{"items", items}});
}

awaitable<HttpResponse> GetNamespace(AppContext* ctx, HttpRequest, PathParams p) {
  const std::string ns = p["ns"];
  if (!IsRfc1035Label(ns)) {
    co_return Problem(404, "namespace-not-found", "Namespace not found", "no namespace '" + ns + "'");
  }
  const std::string& kc = ctx->config->kubectl;
  std::optional<HttpResponse> problem;
  auto obj = co_await ReadObject(ctx, KubectlGetArgv(kc, "namespace", ns, ""), "get namespace", &problem);
  if (!obj) co_return *problem;
  if (obj->is_null()) {
    co_return Problem(404, "namespace-not-found", "Namespace not found", "no namespace '" + ns + "'");
  }
  json labels = (*obj)["metadata"].value("labels", json::object());
  json out = {{"name", ns},
              {"managed", labels.value("app.kubernetes.io/managed-by", "") == "everest"},
              {"reserved", IsReservedNamespace(ns)}};
  auto t = ctx->jobs->TenantOfNamespace(ns);
  out["tenant"] = t ? json(t->username) : json(nullptr);
  const std::string since = AnnotationOf(*obj, kSuspendedAnnotation);
  out["suspended"] = !since.empty();
  if (!since.empty()) out["suspended_at"] = since;

  auto quota = co_await ReadObject(ctx, KubectlGetArgv(kc, "resourcequota", "user-quota", ns),
                                   "get resourcequota", &problem);
  if (!quota) co_return *problem;
  if (quota->is_null() || !quota->is_object()) {
    out["quota"] = nullptr;
  } else {
    // A quota the controller has not reconciled yet has no status.
    const json qs = quota->value("status", json::object());
    const json spec = quota->value("spec", json::object());
    const json spec_hard = spec.is_object() ? spec.value("hard", json::object()) : json::object();
    out["quota"] = qs.is_object()
                       ? json{{"hard", qs.value("hard", spec_hard)}, {"used", qs.value("used", json::object())}}
                       : json{{"hard", spec_hard}, {"used", json::object()}};
  }
  auto limits = co_await ReadObject(ctx, KubectlGetArgv(kc, "limitrange", "user-limits", ns),
                                    "get limitrange", &problem);
  if (!limits) co_return *problem;
  out["limit_range"] = limits->is_null() ? json(nullptr) : (*limits)["spec"].value("limits", json::array());
  auto dbcs = co_await ReadObject(ctx, KubectlGetArgv(kc, "databaseclusters", "", ns),
                                  "get databaseclusters", &problem);
  if (!dbcs) co_return *problem;
  json clusters = json::array();
  if (dbcs->is_object()) {
    for (const auto& d : (*dbcs)["items"]) {
      json spec = d.value("spec", json::object());
      json c = {{"name", d["metadata"].value("name", "")},
                {"paused", spec.value("paused", false)},
                {"paused_by_suspend", !AnnotationOf(d, kSuspendedAnnotation).empty()}};
      if (spec.contains("engine") && spec["engine"].is_object()) c["engine"] = spec["engine"].value("type", "");
      if (d.contains("status") && d["status"].is_object()) c["status"] = d["status"].value("status", "");
      clusters.push_back(c);
    }
  }
  out["database_clusters"] = clusters;
  co_return HttpResponse::Json(200, out);
}

template <awaitable<HttpResponse> (*F)(AppContext*, HttpRequest, PathParams)>
RouteFn Bind(AppContext* ctx) {
  return [ctx](HttpRequest r, PathParams p) { return F(ctx, std::move(r), std::move(p)); };
}

}  // namespace

void RegisterLifecycleRoutes(Router* router, AppContext* ctx) {
  for (JobKind k : {JobKind::kBootstrap, JobKind::kPassword, JobKind::kResources,
                    JobKind::kOperators, JobKind::kSuspend, JobKind::kResume, JobKind::kDelete}) {
    RouteFn fn;
    switch (k) {
      case JobKind::kBootstrap: fn = Bind<PostKind<JobKind::kBootstrap>>(ctx); break;
      case JobKind::kPassword: fn = Bind<PostKind<JobKind::kPassword>>(ctx); break;
      case JobKind::kResources: fn = Bind<PostKind<JobKind::kResources>>(ctx); break;
      case JobKind::kOperators: fn = Bind<PostKind<JobKind::kOperators>>(ctx); break;
      case JobKind::kSuspend: fn = Bind<PostKind<JobKind::kSuspend>>(ctx); break;
      case JobKind::kResume: fn = Bind<PostKind<JobKind::kResume>>(ctx); break;
      case JobKind::kDelete: fn = Bind<PostKind<JobKind::kDelete>>(ctx); break;
    }
    router->Add("POST", RouteOfKind(k), true, std::move(fn));
  }
  router->Add("GET", "/accounts/{username}", true, Bind<GetAccount>(ctx));
  router->Add("GET", "/namespaces", true, Bind<ListNamespaces>(ctx));
  router->Add("GET", "/namespaces/{ns}", true, Bind<GetNamespace>(ctx));
}

}  // namespace bootstrapd

// The tenant lifecycle routes (SPEC §2): the edit routes (password,
// resources, operators, suspend, resume, delete), which run as jobs and keep
// the seed's synchronous feel, and the read-only detail routes, which run
// their CLI calls through the executor's concurrency limit but are not jobs.
#include "daemon/domain/everestctl_parse.h"
#include "daemon/domain/rbac.h"
#include "daemon/domain/requests.h"
#include "daemon/jobs/workflows.h"
#include "daemon/util/ids.h"
#include "handlers/context.h"

namespace bootstrapd {

namespace asio = boost::asio;
using asio::awaitable;
using json = nlohmann::json;

namespace {

SubmitRequest EditJob(const HttpRequest& req, JobKind kind, std::string username, std::string ns,
                      json inputs) {
  SubmitRequest sr;
  sr.kind = kind;
  sr.source = "rest";
  sr.username = std::move(username);
  sr.ns = std::move(ns);
  sr.inputs = std::move(inputs);
  sr.request_id = req.request_id;
  sr.check_pair = !sr.username.empty() && !sr.ns.empty();
  return sr;
}

awaitable<HttpResponse> PostPassword(AppContext* ctx, HttpRequest req, PathParams) {
  json body;
  if (auto p = ParseJsonBody(req, &body)) co_return *p;
  PasswordRequest pr;
  std::vector<FieldError> errors;
  if (!ParsePasswordRequest(body, *ctx->config, &pr, &errors)) co_return ValidationProblem(errors);
  SubmitRequest sr = EditJob(req, JobKind::kPassword, pr.username, "",
                             {{"username", pr.username}, {"new_password", "********"}});
  sr.secret = pr.new_password;  // memory only: never persisted
  sr.secret_origin = "request";
  HttpResponse r = co_await SubmitAndAnswer(ctx, std::move(req), std::move(sr),
                                            ctx->config->sync_wait_s, "/accounts/password",
                                            std::move(body));
  co_return r;
}

awaitable<HttpResponse> PostResources(AppContext* ctx, HttpRequest req, PathParams) {
  json body;
  if (auto p = ParseJsonBody(req, &body)) co_return *p;
  ResourcesRequest rr;
  std::vector<FieldError> errors;
  if (!ParseResourcesRequest(body, *ctx->config, &rr, &errors)) co_return ValidationProblem(errors);
  json res = json::object();
  if (rr.resources.cpu_cores) res["cpu_cores"] = *rr.resources.cpu_cores;
  if (rr.resources.ram_mb) res["ram_mb"] = *rr.resources.ram_mb;
  if (rr.resources.disk_gb) res["disk_gb"] = *rr.resources.disk_gb;
  if (rr.resources.max_databases) res["max_databases"] = *rr.resources.max_databases;
  SubmitRequest sr = EditJob(req, JobKind::kResources, "", rr.ns,
                             {{"namespace", rr.ns}, {"resources", res}});
  if (auto t = ctx->jobs->TenantOfNamespace(rr.ns)) sr.username = t->username;
  HttpResponse r = co_await SubmitAndAnswer(ctx, std::move(req), std::move(sr),
                                            ctx->config->sync_wait_s, "/namespaces/resources",
                                            std::move(body));
  co_return r;
}

awaitable<HttpResponse> PostOperators(AppContext* ctx, HttpRequest req, PathParams) {
  json body;
  if (auto p = ParseJsonBody(req, &body)) co_return *p;
  OperatorsRequest orq;
  std::vector<FieldError> errors;
  if (!ParseOperatorsRequest(body, *ctx->config, &orq, &errors)) co_return ValidationProblem(errors);
  json ops = json::object();
  if (orq.mongodb) ops["mongodb"] = *orq.mongodb;
  if (orq.postgresql) ops["postgresql"] = *orq.postgresql;
  if (orq.xtradb_cluster) ops["xtradb_cluster"] = *orq.xtradb_cluster;
  SubmitRequest sr = EditJob(req, JobKind::kOperators, "", orq.ns,
                             {{"namespace", orq.ns}, {"operators", ops}});
  if (auto t = ctx->jobs->TenantOfNamespace(orq.ns)) sr.username = t->username;
  HttpResponse r = co_await SubmitAndAnswer(ctx, std::move(req), std::move(sr),
                                            ctx->config->sync_wait_s, "/namespaces/operators",
                                            std::move(body));
  co_return r;
}

awaitable<HttpResponse> PostTenant(AppContext* ctx, HttpRequest req, TenantAction action) {
  json body;
  if (auto p = ParseJsonBody(req, &body)) co_return *p;
  TenantRequest tr;
  std::vector<FieldError> errors;
  if (!ParseTenantRequest(body, *ctx->config, action, &tr, &errors)) {
    co_return ValidationProblem(errors);
  }
  if (tr.ns.empty()) {
    // No namespace given: the tenant's own, else the bootstrap default.
    auto t = ctx->jobs->TenantOfUser(tr.username);
    tr.ns = t ? t->ns : DefaultNamespace(tr.username);
    if (auto problem = NamespaceProblem(tr.ns, *ctx->config)) {
      co_return ValidationProblem({{"/namespace", *problem + "; give an explicit namespace"}});
    }
  }
  json inputs = {{"username", tr.username}, {"namespace", tr.ns}};
  JobKind kind = JobKind::kSuspend;
  switch (action) {
    case TenantAction::kSuspend:
      inputs["scale_statefulsets"] = tr.scale_statefulsets;
      inputs["revoke_rbac"] = tr.revoke_rbac;
      break;
    case TenantAction::kResume:
      kind = JobKind::kResume;
      break;
    case TenantAction::kDelete:
      kind = JobKind::kDelete;
      inputs["force"] = tr.force;
      inputs["keep_namespace"] = tr.keep_namespace;
      break;
  }
  SubmitRequest sr = EditJob(req, kind, tr.username, tr.ns, inputs);
  const std::string route = action == TenantAction::kSuspend  ? "/accounts/suspend"
                            : action == TenantAction::kResume ? "/accounts/resume"
                                                              : "/accounts/delete";
  HttpResponse r = co_await SubmitAndAnswer(ctx, std::move(req), std::move(sr),
                                            ctx->config->sync_wait_s, route, std::move(body));
  co_return r;
}

awaitable<HttpResponse> PostSuspend(AppContext* ctx, HttpRequest req, PathParams) {
  HttpResponse r = co_await PostTenant(ctx, std::move(req), TenantAction::kSuspend);
  co_return r;
}
awaitable<HttpResponse> PostResume(AppContext* ctx, HttpRequest req, PathParams) {
  HttpResponse r = co_await PostTenant(ctx, std::move(req), TenantAction::kResume);
  co_return r;
}
awaitable<HttpResponse> PostDelete(AppContext* ctx, HttpRequest req, PathParams) {
  HttpResponse r = co_await PostTenant(ctx, std::move(req), TenantAction::kDelete);
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
  CommandResult r = co_await RunRead(ctx, AccountsListArgv(ctx->config->everestctl), "accounts list");
  if (!r.Succeeded()) co_return CliProblem(r, "everestctl");
  std::string err;
  auto rows = ParseAccountsTable(r.out, &err);
  if (!rows) {
    co_return Problem(502, "cli-output", "Unexpected everestctl output",
                      "cannot parse `everestctl accounts list`: " + err,
                      {{"error", "everestctl failed"}});
  }
  const AccountRow* row = nullptr;
  for (const auto& a : *rows) {
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
  if (!rows) {
    co_return Problem(502, "cli-output", "Unexpected everestctl output",
                      "cannot parse `everestctl namespaces list`: " + err,
                      {{"error", "everestctl failed"}});
  }
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
  out["quota"] = quota->is_null() ? json(nullptr)
                                  : json{{"hard", (*quota)["status"].value("hard", (*quota)["spec"].value("hard", json::object()))},
                                         {"used", (*quota)["status"].value("used", json::object())}};
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
  router->Add("POST", "/accounts/password", true, Bind<PostPassword>(ctx));
  router->Add("POST", "/namespaces/resources", true, Bind<PostResources>(ctx));
  router->Add("POST", "/namespaces/operators", true, Bind<PostOperators>(ctx));
  router->Add("POST", "/accounts/suspend", true, Bind<PostSuspend>(ctx));
  router->Add("POST", "/accounts/resume", true, Bind<PostResume>(ctx));
  router->Add("POST", "/accounts/delete", true, Bind<PostDelete>(ctx));
  router->Add("GET", "/accounts/{username}", true, Bind<GetAccount>(ctx));
  router->Add("GET", "/namespaces", true, Bind<ListNamespaces>(ctx));
  router->Add("GET", "/namespaces/{ns}", true, Bind<GetNamespace>(ctx));
}

}  // namespace bootstrapd

#include "daemon/jobs/submissions.h"

#include "daemon/util/ids.h"

namespace bootstrapd {

using json = nlohmann::json;

const char* RouteOfKind(JobKind kind) {
  switch (kind) {
    case JobKind::kBootstrap: return "/bootstrap/users";
    case JobKind::kPassword: return "/accounts/password";
    case JobKind::kResources: return "/namespaces/resources";
    case JobKind::kOperators: return "/namespaces/operators";
    case JobKind::kSuspend: return "/accounts/suspend";
    case JobKind::kResume: return "/accounts/resume";
    case JobKind::kDelete: return "/accounts/delete";
  }
  return "/bootstrap/users";
}

bool BuildSubmission(JobKind kind, const json& body, const Config& cfg, const JobManager& jobs,
                     SubmitRequest* out, std::vector<FieldError>* errors) {
  SubmitRequest sr;
  sr.kind = kind;
  switch (kind) {
    case JobKind::kBootstrap: {
      BootstrapRequest br;
      if (!ParseBootstrapRequest(body, cfg, &br, errors)) return false;
      sr.username = br.username;
      sr.ns = br.ns;
      sr.bind_tenant = true;
      if (br.password) {
        sr.secret = br.password;
        sr.secret_origin = "request";
      } else if (cfg.default_password) {
        sr.secret = cfg.default_password;
        sr.secret_origin = "default";
      } else {
        sr.secret = RandomString(24, kPasswordAlphabet);
        sr.secret_origin = "generated";
      }
      sr.inputs = BootstrapInputs(br, sr.secret_origin);
      break;
    }
    case JobKind::kPassword: {
      PasswordRequest pr;
      if (!ParsePasswordRequest(body, cfg, &pr, errors)) return false;
      sr.username = pr.username;
      sr.inputs = {{"username", pr.username}, {"new_password", "********"}};
      sr.secret = pr.new_password;  // memory only: never persisted
      sr.secret_origin = "request";
      break;
    }
    case JobKind::kResources: {
      ResourcesRequest rr;
      if (!ParseResourcesRequest(body, cfg, &rr, errors)) return false;
      json res = json::object();
      if (rr.resources.cpu_cores) res["cpu_cores"] = *rr.resources.cpu_cores;
      if (rr.resources.ram_mb) res["ram_mb"] = *rr.resources.ram_mb;
      if (rr.resources.disk_gb) res["disk_gb"] = *rr.resources.disk_gb;
      if (rr.resources.max_databases) res["max_databases"] = *rr.resources.max_databases;
      sr.ns = rr.ns;
      sr.inputs = {{"namespace", rr.ns}, {"resources", res}};
      if (auto t = jobs.TenantOfNamespace(rr.ns)) sr.username = t->username;
      break;
    }
    case JobKind::kOperators: {
      OperatorsRequest orq;
      if (!ParseOperatorsRequest(body, cfg, &orq, errors)) return false;
      json ops = json::object();
      if (orq.mongodb) ops["mongodb"] = *orq.mongodb;
      if (orq.postgresql) ops["postgresql"] = *orq.postgresql;
      if (orq.xtradb_cluster) ops["xtradb_cluster"] = *orq.xtradb_cluster;
      sr.ns = orq.ns;
      sr.inputs = {{"namespace", orq.ns}, {"operators", ops}};
      if (auto t = jobs.TenantOfNamespace(orq.ns)) sr.username = t->username;
      break;
    }
    case JobKind::kSuspend:
    case JobKind::kResume:
    case JobKind::kDelete: {
      const TenantAction action = kind == JobKind::kSuspend  ? TenantAction::kSuspend
                                  : kind == JobKind::kResume ? TenantAction::kResume
                                                             : TenantAction::kDelete;
      TenantRequest tr;
      if (!ParseTenantRequest(body, cfg, action, &tr, errors)) return false;
      if (tr.ns.empty()) {
        // No namespace given: the tenant's own, else the bootstrap default.
        auto t = jobs.TenantOfUser(tr.username);
        tr.ns = t ? t->ns : DefaultNamespace(tr.username);
        if (auto problem = NamespaceProblem(tr.ns, cfg)) {
          errors->push_back({"/namespace", *problem + "; give an explicit namespace"});
          return false;
        }
      }
      sr.username = tr.username;
      sr.ns = tr.ns;
      sr.check_pair = true;
      sr.inputs = {{"username", tr.username}, {"namespace", tr.ns}};
      if (kind == JobKind::kSuspend) {
        sr.inputs["scale_statefulsets"] = tr.scale_statefulsets;
        sr.inputs["revoke_rbac"] = tr.revoke_rbac;
      }
      if (kind == JobKind::kDelete) {
        sr.inputs["force"] = tr.force;
        sr.inputs["keep_namespace"] = tr.keep_namespace;
      }
      break;
    }
  }
  *out = std::move(sr);
  return true;
}

}  // namespace bootstrapd

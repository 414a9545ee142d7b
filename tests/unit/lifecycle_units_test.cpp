#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "daemon/domain/argv.h"
#include "daemon/domain/manifests.h"
#include "daemon/domain/requests.h"

using namespace bootstrapd;
using json = nlohmann::json;

TEST_CASE("quantities read back into the request's units", "[unit][manifests]") {
  CHECK(ParseCpuCores("8").value() == 8);
  CHECK(ParseCpuCores("500m").value() == 0.5);
  CHECK(ParseCpuCores("2250m").value() == 2.25);
  CHECK_FALSE(ParseCpuCores("lots"));
  CHECK_FALSE(ParseCpuCores("0"));
  CHECK(ParseMebibytes("4096Mi").value() == 4096);
  CHECK(ParseMebibytes("4Gi").value() == 4096);
  CHECK(ParseMebibytes("1073741824").value() == 1024);
  CHECK(ParseMebibytes("1G").value() == 953);
  CHECK_FALSE(ParseMebibytes("12Qi"));
  CHECK(ParseGibibytes("100Gi").value() == 100);
  CHECK(ParseGibibytes("1Ti").value() == 1024);
  CHECK(ParseGibibytes("1500Mi").value() == 2);  // rounded up: never shrink storage
}

TEST_CASE("a quota round-trips through its manifest", "[unit][manifests]") {
  Resources r;
  r.cpu_cores = 0.5;
  r.ram_mb = 4096;
  r.disk_gb = 100;
  r.max_databases = 3;
  const json m = BuildQuotaManifests("ns", r, {});
  const Resources back = ResourcesFromQuota(m["items"][0]["spec"]["hard"], Resources{});
  CHECK(back.cpu_cores == 0.5);
  CHECK(back.ram_mb == 4096);
  CHECK(back.disk_gb == 100);
  CHECK(back.max_databases == 3);
  const Resources defaults = ResourcesFromQuota(json{{"limits.cpu", "garbage"}}, Resources{});
  CHECK(defaults.cpu_cores == 2);
  CHECK_FALSE(defaults.max_databases.has_value());
}

TEST_CASE("edit request parsers", "[unit][requests]") {
  Config cfg;
  std::vector<FieldError> e;
  PasswordRequest pr;
  CHECK(ParsePasswordRequest(json{{"username", "alice"}, {"new_password", "S3cure!P@ssw0rd"}}, cfg, &pr, &e));
  CHECK(pr.new_password == "S3cure!P@ssw0rd");
  CHECK_FALSE(ParsePasswordRequest(json{{"username", "alice"}, {"password", "x"}}, cfg, &pr, &e));

  ResourcesRequest rr;
  e.clear();
  CHECK(ParseResourcesRequest(json{{"namespace", "alice"}, {"resources", {{"ram_mb", "8192"}}}}, cfg, &rr, &e));
  CHECK(rr.resources.ram_mb == 8192);
  CHECK_FALSE(rr.resources.cpu_cores.has_value());

  OperatorsRequest orq;
  e.clear();
  CHECK(ParseOperatorsRequest(json{{"namespace", "alice"}, {"operators", {{"mysql", false}}}}, cfg, &orq, &e));
  CHECK(orq.xtradb_cluster == false);
  CHECK_FALSE(orq.mongodb.has_value());

  TenantRequest tr;
  e.clear();
  CHECK(ParseTenantRequest(json{{"username", "alice"}}, cfg, TenantAction::kSuspend, &tr, &e));
  CHECK(tr.scale_statefulsets);
  CHECK(tr.revoke_rbac);
  CHECK(tr.ns.empty());
  e.clear();
  CHECK_FALSE(ParseTenantRequest(json{{"username", "alice"}, {"force", true}}, cfg,
                                 TenantAction::kSuspend, &tr, &e));
  REQUIRE(e.size() == 1);
  CHECK(e[0].pointer == "/force");
  e.clear();
  CHECK(ParseTenantRequest(json{{"username", "alice"}, {"force", "true"}, {"keep_namespace", false}},
                           cfg, TenantAction::kDelete, &tr, &e));
  CHECK(tr.force);
}

TEST_CASE("lifecycle argv builders", "[unit][argv]") {
  CHECK(NamespacesRemoveArgv("everestctl", "a", true, true) ==
        Argv{"everestctl", "namespaces", "remove", "a", "--force", "--keep-namespace"});
  CHECK(NamespacesUpdateArgv("everestctl", "a", {true, false, false}, "mysql") ==
        Argv{"everestctl", "namespaces", "update", "a", "--skip-wizard", "--operator.mongodb=true",
             "--operator.postgresql=false", "--operator.mysql=false"});
  CHECK(KubectlPatchArgv("kubectl", "databasecluster", "db", "ns", R"({"spec":{"paused":true}})") ==
        Argv{"kubectl", "patch", "databasecluster", "db", "-n", "ns", "--type", "merge", "-p",
             R"({"spec":{"paused":true}})"});
  CHECK(KubectlScaleArgv("kubectl", "sts", "ns", 0) ==
        Argv{"kubectl", "scale", "statefulset", "sts", "-n", "ns", "--replicas=0"});
  CHECK(KubectlAnnotateArgv("kubectl", "namespace", "ns", "", "k-") ==
        Argv{"kubectl", "annotate", "namespace", "ns", "--overwrite", "k-"});
}

// Known-answer tests for daemon/domain/manifests.h.
#include "daemon/domain/manifests.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace bootstrapd {
namespace {

using nlohmann::json;

const std::vector<std::string> kCountResources = {
    "perconaxtradbclusters.pxc.percona.com",
    "perconaservermongodbs.psmdb.percona.com",
    "perconapgclusters.pgv2.percona.com",
};

TEST_CASE("CpuQuantity prints whole cores or millicores", "[unit][manifests]") {
  CHECK(CpuQuantity(8) == "8");
  CHECK(CpuQuantity(1) == "1");
  CHECK(CpuQuantity(0.5) == "500m");
  CHECK(CpuQuantity(2.25) == "2250m");
  CHECK(CpuQuantity(1.5) == "1500m");
  CHECK(CpuQuantity(0.1) == "100m");  // 0.1 * 1000 is 100.00000000000001
  CHECK(CpuQuantity(2.0004) == "2");  // rounds to the nearest millicore
  CHECK(CpuQuantity(0.0016) == "2m");
  CHECK(CpuQuantity(0.0001) == "1m");  // never below 1m
  CHECK(CpuQuantity(0) == "1m");       // out of contract, still a valid quantity
}

TEST_CASE("CpuFraction gives rounded millicores, at least 1m", "[unit][manifests]") {
  CHECK(CpuFraction(8, 0.5) == "4000m");
  CHECK(CpuFraction(2, 0.25) == "500m");
  CHECK(CpuFraction(0.5, 0.25) == "125m");
  CHECK(CpuFraction(0.25, 0.25) == "63m");  // 62.5 rounds half away from zero
  CHECK(CpuFraction(0.001, 0.25) == "1m");
}

TEST_CASE("BuildQuotaManifests builds the full List for a known input", "[unit][manifests]") {
  Resources r;
  r.cpu_cores = 8;
  r.ram_mb = 4096;
  r.disk_gb = 100;
  r.max_databases = 3;
  const json expected = json::parse(R"({
    "apiVersion": "v1",
    "kind": "List",
    "items": [
      {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {
          "name": "user-quota",
          "namespace": "alice-ns",
          "labels": {"app.kubernetes.io/managed-by": "everest-bootstrapd"}
        },
        "spec": {
          "hard": {
            "requests.cpu": "8",
            "limits.cpu": "8",
            "requests.memory": "4096Mi",
            "limits.memory": "4096Mi",
            "requests.storage": "100Gi",
            "count/databaseclusters.everest.percona.com": "3",
            "count/perconaxtradbclusters.pxc.percona.com": "3",
            "count/perconaservermongodbs.psmdb.percona.com": "3",
            "count/perconapgclusters.pgv2.percona.com": "3"
          }
        }
      },
      {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {
          "name": "user-limits",
          "namespace": "alice-ns",
          "labels": {"app.kubernetes.io/managed-by": "everest-bootstrapd"}
        },
        "spec": {
          "limits": [
            {
              "type": "Container",
              "default": {"cpu": "4000m", "memory": "2048Mi"},
              "defaultRequest": {"cpu": "2000m", "memory": "1024Mi"}
            }
          ]
        }
      }
    ]
  })");
  const json actual = BuildQuotaManifests("alice-ns", r, kCountResources);
  INFO(actual.dump(2));
  CHECK(actual == expected);
}

TEST_CASE("BuildQuotaManifests with defaults and no database limit", "[unit][manifests]") {
  const json actual = BuildQuotaManifests("t1", Resources{}, kCountResources);
  const json expected_hard = {
      {"requests.cpu", "2"},       {"limits.cpu", "2"},          {"requests.memory", "2048Mi"},
      {"limits.memory", "2048Mi"}, {"requests.storage", "20Gi"},
  };
  REQUIRE(actual["items"].size() == 2);
  // No count/ keys at all without max_databases, even with CRDs configured.
  CHECK(actual["items"][0]["spec"]["hard"] == expected_hard);
  const json expected_limits = json::parse(R"([{
    "type": "Container",
    "default": {"cpu": "1000m", "memory": "1024Mi"},
    "defaultRequest": {"cpu": "500m", "memory": "512Mi"}
  }])");
  CHECK(actual["items"][1]["spec"]["limits"] == expected_limits);
  CHECK(actual["items"][1]["metadata"]["namespace"] == "t1");
}

TEST_CASE("BuildQuotaManifests rounds fractional CPU and small memory", "[unit][manifests]") {
  Resources r;
  r.cpu_cores = 0.5;
  r.ram_mb = 1023;
  r.disk_gb = 1;
  const json m = BuildQuotaManifests("t2", r, {});
  CHECK(m["items"][0]["spec"]["hard"]["requests.cpu"] == "500m");
  CHECK(m["items"][0]["spec"]["hard"]["limits.memory"] == "1023Mi");
  CHECK(m["items"][0]["spec"]["hard"]["requests.storage"] == "1Gi");
  const json& limits = m["items"][1]["spec"]["limits"][0];
  CHECK(limits["default"]["cpu"] == "250m");
  CHECK(limits["default"]["memory"] == "511Mi");  // 511.5 rounded down
  CHECK(limits["defaultRequest"]["cpu"] == "125m");
  CHECK(limits["defaultRequest"]["memory"] == "255Mi");  // 255.75 rounded down

  r.ram_mb = 3;
  const json tiny = BuildQuotaManifests("t2", r, {});
  CHECK(tiny["items"][1]["spec"]["limits"][0]["default"]["memory"] == "1Mi");
  CHECK(tiny["items"][1]["spec"]["limits"][0]["defaultRequest"]["memory"] == "1Mi");  // 0.75 -> 1
}

TEST_CASE("BuildQuotaManifests normalises configured count resources", "[unit][manifests]") {
  Resources r;
  r.max_databases = 1;
  const json m =
      BuildQuotaManifests("t3", r, {" perconapgclusters.pgv2.percona.com ", "", "count/x.y.z"});
  const json expected_counts = {
      {"count/databaseclusters.everest.percona.com", "1"},
      {"count/perconapgclusters.pgv2.percona.com", "1"},
      {"count/x.y.z", "1"},
  };
  json counts = json::object();
  for (const auto& [key, value] : m["items"][0]["spec"]["hard"].items()) {
    if (key.rfind("count/", 0) == 0) counts[key] = value;
  }
  CHECK(counts == expected_counts);
}

TEST_CASE("BuildQuotaManifests output serialises", "[unit][manifests]") {
  const std::string text = BuildQuotaManifests("t4", Resources{}, {}).dump();
  CHECK(json::parse(text)["kind"] == "List");
}

}  // namespace
}  // namespace bootstrapd

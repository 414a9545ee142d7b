// Kubernetes manifests for a tenant namespace, built as JSON objects (never by
// text templating). Pure; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace bootstrapd {

struct Resources {
  double cpu_cores = 2;      // > 0; fractions allowed (0.5 -> "500m")
  std::int64_t ram_mb = 2048;  // > 0
  std::int64_t disk_gb = 20;   // > 0
  std::optional<std::int64_t> max_databases;  // > 0 when set
};

// Kubernetes CPU quantity: whole cores as "8", otherwise millicores "500m",
// "2250m" (rounded to the nearest millicore, at least "1m").
std::string CpuQuantity(double cores);

// Millicores for a per-container default: round(cores * 1000 * fraction), at least 1.
std::string CpuFraction(double cores, double fraction);

// {"apiVersion":"v1","kind":"List","items":[ResourceQuota user-quota, LimitRange user-limits]}
// ResourceQuota spec.hard: requests.cpu, limits.cpu = CpuQuantity(cpu);
//   requests.memory, limits.memory = "<ram_mb>Mi"; requests.storage = "<disk_gb>Gi";
//   with max_databases: "count/databaseclusters.everest.percona.com" and
//   "count/<crd>" for each of count_resources, all = "<max_databases>".
// LimitRange spec.limits[0]: type Container; default (limit) = 50 % of cpu and memory,
//   defaultRequest = 25 % (memory in whole Mi, rounded down, at least 1Mi).
// Both objects carry metadata.namespace = ns and the label
//   "app.kubernetes.io/managed-by": "everest-bootstrapd".
nlohmann::json BuildQuotaManifests(const std::string& ns, const Resources& r,
                                   const std::vector<std::string>& count_resources);

// Kubernetes quantities read back into the request's units (for "omitted
// fields keep the current quota's values"). Suffixes: m, k/M/G/T/P/E and
// Ki/Mi/Gi/Ti/Pi/Ei, or none. nullopt for anything else.
std::optional<double> ParseQuantity(std::string_view q);  // in base units (cores, bytes)
std::optional<double> ParseCpuCores(std::string_view q);  // "500m" -> 0.5
std::optional<std::int64_t> ParseMebibytes(std::string_view q);  // "4Gi" -> 4096 (rounded down)
std::optional<std::int64_t> ParseGibibytes(std::string_view q);  // "100Gi" -> 100 (rounded up)

// The Resources a ResourceQuota's spec.hard describes; keys that are absent or
// unreadable keep the value of `base`.
Resources ResourcesFromQuota(const nlohmann::json& hard, const Resources& base);

}  // namespace bootstrapd

// Tenant namespace manifests (ResourceQuota + LimitRange) built as JSON objects.
#include "daemon/domain/manifests.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace bootstrapd {
namespace {

constexpr std::string_view kManagedByLabel = "app.kubernetes.io/managed-by";
constexpr std::string_view kManagedByValue = "everest-bootstrapd";
constexpr std::string_view kDatabaseClusterCrd = "databaseclusters.everest.percona.com";

// Upper bound for millicore arithmetic (10^15 m = 10^12 cores), so absurd
// inputs cannot overflow llround.
constexpr double kMaxMillicores = 1e15;

// round(value), at least 1; non-finite or non-positive values give 1.
std::int64_t RoundAtLeastOne(double value) {
  if (!std::isfinite(value) || value < 1) return 1;
  return std::llround(std::min(value, kMaxMillicores));
}

nlohmann::json Metadata(const std::string& name, const std::string& ns) {
  return {{"name", name},
          {"namespace", ns},
          {"labels", {{std::string(kManagedByLabel), std::string(kManagedByValue)}}}};
}

std::string Mebibytes(std::int64_t mb) {
  return std::to_string(std::max<std::int64_t>(mb, 1)) + "Mi";
}

}  // namespace

std::string CpuQuantity(double cores) {
  const std::int64_t millis = RoundAtLeastOne(cores * 1000);
  if (millis % 1000 == 0) return std::to_string(millis / 1000);
  return std::to_string(millis) + "m";
}

std::string CpuFraction(double cores, double fraction) {
  return std::to_string(RoundAtLeastOne(cores * 1000 * fraction)) + "m";
}

nlohmann::json BuildQuotaManifests(const std::string& ns, const Resources& r,
                                   const std::vector<std::string>& count_resources) {
  const std::string cpu = CpuQuantity(r.cpu_cores);
  const std::string memory = std::to_string(r.ram_mb) + "Mi";

  nlohmann::json hard = {
      {"requests.cpu", cpu},
      {"limits.cpu", cpu},
      {"requests.memory", memory},
      {"limits.memory", memory},
      {"requests.storage", std::to_string(r.disk_gb) + "Gi"},
  };
  if (r.max_databases) {
    const std::string max = std::to_string(*r.max_databases);
    hard["count/" + std::string(kDatabaseClusterCrd)] = max;
    for (const std::string& entry : count_resources) {
      // Accept "<plural>.<group>" and an already prefixed "count/<plural>.<group>".
      std::string_view crd = entry;
      const std::size_t b = crd.find_first_not_of(" \t");
      if (b == std::string_view::npos) continue;
      crd = crd.substr(b, crd.find_last_not_of(" \t") - b + 1);
      if (crd.substr(0, 6) == "count/") crd.remove_prefix(6);
      if (crd.empty()) continue;
      hard["count/" + std::string(crd)] = max;
    }
  }

  nlohmann::json quota = {
      {"apiVersion", "v1"},
      {"kind", "ResourceQuota"},
      {"metadata", Metadata("user-quota", ns)},
      {"spec", {{"hard", std::move(hard)}}},
  };

  // Memory defaults are whole MiB, rounded down, never below 1Mi.
  nlohmann::json container_limits = {
      {"type", "Container"},
      {"default", {{"cpu", CpuFraction(r.cpu_cores, 0.5)}, {"memory", Mebibytes(r.ram_mb / 2)}}},
      {"defaultRequest",
       {{"cpu", CpuFraction(r.cpu_cores, 0.25)}, {"memory", Mebibytes(r.ram_mb / 4)}}},
  };
  nlohmann::json limit_range = {
      {"apiVersion", "v1"},
      {"kind", "LimitRange"},
      {"metadata", Metadata("user-limits", ns)},
      {"spec", {{"limits", nlohmann::json::array({std::move(container_limits)})}}},
  };

  return {
      {"apiVersion", "v1"},
      {"kind", "List"},
      {"items", nlohmann::json::array({std::move(quota), std::move(limit_range)})},
  };
}

std::optional<double> ParseQuantity(std::string_view q) {
  if (q.empty() || q.size() > 64) return std::nullopt;
  std::size_t end = 0;
  while (end < q.size() && (std::isdigit(static_cast<unsigned char>(q[end])) || q[end] == '.' ||
                            (end == 0 && q[end] == '+'))) {
    ++end;
  }
  if (end == 0) return std::nullopt;
  const std::string number(q.substr(0, end));
  char* stop = nullptr;
  const double v = std::strtod(number.c_str(), &stop);
  if (stop == nullptr || *stop != '\0' || !std::isfinite(v) || v < 0) return std::nullopt;
  const std::string_view suffix = q.substr(end);
  static const std::pair<std::string_view, double> kSuffixes[] = {
      {"", 1},        {"m", 1e-3},          {"k", 1e3},           {"M", 1e6},
      {"G", 1e9},     {"T", 1e12},          {"P", 1e15},          {"E", 1e18},
      {"Ki", 1024.0}, {"Mi", 1048576.0},    {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
      {"Pi", 1125899906842624.0},           {"Ei", 1152921504606846976.0}};
  for (const auto& [name, factor] : kSuffixes) {
    if (suffix == name) return v * factor;
  }
  return std::nullopt;
}

std::optional<double> ParseCpuCores(std::string_view q) {
  auto v = ParseQuantity(q);
  if (!v || *v <= 0) return std::nullopt;
  return std::round(*v * 1000.0) / 1000.0;
}

std::optional<std::int64_t> ParseMebibytes(std::string_view q) {
  auto v = ParseQuantity(q);
  if (!v || *v <= 0) return std::nullopt;
  const double mi = std::floor(*v / 1048576.0 + 1e-9);
  if (mi < 1 || mi > 9e15) return std::nullopt;
  return static_cast<std::int64_t>(mi);
}

std::optional<std::int64_t> ParseGibibytes(std::string_view q) {
  auto v = ParseQuantity(q);
  if (!v || *v <= 0) return std::nullopt;
  const double gi = std::ceil(*v / 1073741824.0 - 1e-9);
  if (gi < 1 || gi > 9e15) return std::nullopt;
  return static_cast<std::int64_t>(gi);
}

Resources ResourcesFromQuota(const nlohmann::json& hard, const Resources& base) {
  Resources r = base;
  if (!hard.is_object()) return r;
  auto text = [&](const char* key) -> std::string {
    auto it = hard.find(key);
    return it != hard.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (auto c = ParseCpuCores(text("limits.cpu"))) r.cpu_cores = *c;
  else if (auto c2 = ParseCpuCores(text("requests.cpu"))) r.cpu_cores = *c2;
  if (auto m = ParseMebibytes(text("limits.memory"))) r.ram_mb = *m;
  else if (auto m2 = ParseMebibytes(text("requests.memory"))) r.ram_mb = *m2;
  if (auto d = ParseGibibytes(text("requests.storage"))) r.disk_gb = *d;
  const std::string count = text("count/databaseclusters.everest.percona.com");
  if (!count.empty()) {
    if (auto n = ParseQuantity(count); n && *n >= 1) r.max_databases = static_cast<std::int64_t>(*n);
  }
  return r;
}

}  // namespace bootstrapd

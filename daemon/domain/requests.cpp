#include "daemon/domain/requests.h"

#include <cmath>
#include <cstdlib>

#include <nlohmann/json.hpp>

namespace bootstrapd {

const char kPasswordAlphabet[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@*#$%^&+=!_-";

bool IsValidUsername(std::string_view u) {
  if (u.size() < 3 || u.size() > 63) return false;
  for (char c : u) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

bool IsValidPassword(std::string_view p) {
  static const std::string_view kSpecial = "@*#$%^&+=!_-";
  if (p.size() < 6) return false;
  for (char c : p) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && kSpecial.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool IsRfc1035Label(std::string_view ns) {
  if (ns.empty() || ns.size() > 63) return false;
  if (ns.front() < 'a' || ns.front() > 'z') return false;
  const char last = ns.back();
  if (!((last >= 'a' && last <= 'z') || (last >= '0' && last <= '9'))) return false;
  for (char c : ns) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool IsReservedNamespace(std::string_view ns) {
  static const char* kReserved[] = {"kube-system",    "kube-public",        "kube-node-lease",
                                    "default",        "everest-system",     "everest-monitoring",
                                    "everest-olm"};
  for (const char* r : kReserved) {
    if (ns == r) return true;
  }
  return false;
}

std::string DefaultNamespace(std::string_view username) {
  std::string ns(username);
  for (auto& c : ns) {
    c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return ns;
}

std::optional<std::string> NamespaceProblem(std::string_view ns, const Config& cfg) {
  if (IsReservedNamespace(ns)) {
    return "namespace '" + std::string(ns) + "' is reserved and can never be a tenant namespace";
  }
  if (!IsRfc1035Label(ns)) {
    return "namespace '" + std::string(ns) +
           "' is not an RFC 1035 label (^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$)";
  }
  if (!cfg.allowed_namespace_prefixes.empty()) {
    bool ok = false;
    for (const auto& p : cfg.allowed_namespace_prefixes) ok = ok || ns.substr(0, p.size()) == p;
    if (!ok) {
      std::string list;
      for (const auto& p : cfg.allowed_namespace_prefixes) list += (list.empty() ? "" : ", ") + p;
      return "namespace '" + std::string(ns) +
             "' is outside ALLOWED_NAMESPACE_PREFIXES (" + list + ")";
    }
  }
  return std::nullopt;
}

int JsonDepth(std::string_view text) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escape = false;
  for (char c : text) {
    if (in_string) {
      if (escape) escape = false;
      else if (c == '\\') escape = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') max_depth = std::max(max_depth, ++depth);
    else if (c == ']' || c == '}') --depth;
  }
  return max_depth;
}

namespace {

using json = nlohmann::json;

const char* TypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    default: return "an unsupported value";
  }
}

struct Decoder {
  std::vector<FieldError>* errors;

  void Add(const std::string& ptr, const std::string& detail) { errors->push_back({ptr, detail}); }

  // Object with only `allowed` keys; returns false (and records) otherwise.
  bool Object(const json& v, const std::string& ptr, std::initializer_list<const char*> allowed) {
    if (!v.is_object()) {
      Add(ptr, std::string("must be an object, got ") + TypeName(v));
      return false;
    }
    bool ok = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      bool known = false;
      for (const char* a : allowed) known = known || it.key() == a;
      if (!known) {
        Add(ptr + "/" + it.key(), "unknown field '" + it.key() + "'");
        ok = false;
      }
    }
    return ok;
  }

  std::optional<std::string> String(const json& v, const std::string& ptr) {
    if (!v.is_string()) {
      Add(ptr, std::string("must be a string, got ") + TypeName(v));
      return std::nullopt;
    }
    return v.get<std::string>();
  }

  std::optional<bool> Bool(const json& v, const std::string& ptr) {
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_string()) {
      const auto s = v.get<std::string>();
      if (s == "true") return true;
      if (s == "false") return false;
    }
    Add(ptr, std::string("must be a boolean (true/false), got ") + TypeName(v));
    return std::nullopt;
  }

  std::optional<double> Number(const json& v, const std::string& ptr) {
    if (v.is_number()) {
      const double d = v.get<double>();
      if (!std::isfinite(d)) {
        Add(ptr, "must be a finite number");
        return std::nullopt;
      }
      return d;
    }
    if (v.is_string()) {
      const auto s = v.get<std::string>();
      if (IsNumericString(s)) {
        const double d = std::strtod(s.c_str(), nullptr);
        if (std::isfinite(d)) return d;
      }
    }
    Add(ptr, std::string("must be a number, got ") + TypeName(v));
    return std::nullopt;
  }

  std::optional<std::int64_t> PositiveInt(const json& v, const std::string& ptr) {
    auto d = Number(v, ptr);
    if (!d) return std::nullopt;
    if (*d != std::floor(*d)) {
      Add(ptr, "must be a whole number");
      return std::nullopt;
    }
    if (*d <= 0 || *d > 1e15) {
      Add(ptr, "must be a positive integer (at most 10^15)");
      return std::nullopt;
    }
    return static_cast<std::int64_t>(*d);
  }
};

}  // namespace

bool IsNumericString(std::string_view s) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  const std::size_t int_digits = digits();
  std::size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    frac_digits = digits();
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

bool ParseBootstrapRequest(const json& body, const Config& cfg, BootstrapRequest* out,
                           std::vector<FieldError>* errors) {
  Decoder d{errors};
  const std::size_t before = errors->size();
  if (!d.Object(body, "", {"username", "namespace", "operators", "take_ownership", "password",
                           "resources"})) {
    if (!body.is_object()) return false;
  }
  BootstrapRequest r;
  // username
  if (!body.contains("username") || body["username"].is_null()) {
    d.Add("/username", "is required");
  } else if (auto u = d.String(body["username"], "/username")) {
    if (!IsValidUsername(*u)) {
      d.Add("/username",
            "must match ^[a-zA-Z0-9_]{3,}$ (letters, digits, underscores; 3 to 63 characters)");
    } else {
      std::string lower = *u;
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (cfg.reserved_usernames.count(lower) != 0) {
        d.Add("/username", "'" + *u + "' is reserved (RESERVED_USERNAMES) and cannot be a tenant");
      }
      r.username = *u;
    }
  }
  // namespace
  if (body.contains("namespace") && !body["namespace"].is_null()) {
    if (auto ns = d.String(body["namespace"], "/namespace")) {
      if (auto p = NamespaceProblem(*ns, cfg)) d.Add("/namespace", *p);
      r.ns = *ns;
    }
  } else if (!r.username.empty()) {
    r.ns = DefaultNamespace(r.username);
    r.ns_defaulted = true;
    if (auto p = NamespaceProblem(r.ns, cfg)) {
      d.Add("/namespace", "the default namespace derived from the username is not usable (" + *p +
                              "); give an explicit namespace");
    }
  }
  // operators
  if (body.contains("operators") && !body["operators"].is_null()) {
    const json& ops = body["operators"];
    if (d.Object(ops, "/operators", {"mongodb", "postgresql", "xtradb_cluster", "mysql"})) {
      OperatorFlags f{false, false, false};
      if (ops.contains("mongodb")) f.mongodb = d.Bool(ops["mongodb"], "/operators/mongodb").value_or(false);
      if (ops.contains("postgresql")) {
        f.postgresql = d.Bool(ops["postgresql"], "/operators/postgresql").value_or(false);
      }
      std::optional<bool> pxc, mysql;
      if (ops.contains("xtradb_cluster")) pxc = d.Bool(ops["xtradb_cluster"], "/operators/xtradb_cluster");
      if (ops.contains("mysql")) mysql = d.Bool(ops["mysql"], "/operators/mysql");
      if (pxc && mysql && *pxc != *mysql) {
        d.Add("/operators/mysql", "'mysql' is an alias of 'xtradb_cluster' and contradicts it");
      }
      f.xtradb_cluster = pxc.value_or(mysql.value_or(false));
      if (errors->size() == before && !f.mongodb && !f.postgresql && !f.xtradb_cluster) {
        d.Add("/operators", "select at least one operator (everestctl installs at least one)");
      }
      r.operators = f;
    }
  } else {
    r.operators = {cfg.default_operators.count("mongodb") != 0,
                   cfg.default_operators.count("postgresql") != 0,
                   cfg.default_operators.count("xtradb_cluster") != 0};
  }
  if (body.contains("take_ownership") && !body["take_ownership"].is_null()) {
    r.take_ownership = d.Bool(body["take_ownership"], "/take_ownership").value_or(false);
  }
  if (body.contains("password") && !body["password"].is_null()) {
    if (auto p = d.String(body["password"], "/password")) {
      if (!IsValidPassword(*p)) {
        d.Add("/password",
              "must match Everest's rule ^[a-zA-Z0-9@*#$%^&+=!_-]{6,}$ (at least 6 characters)");
      } else {
        r.password = *p;
      }
    }
  }
  if (body.contains("resources") && !body["resources"].is_null()) {
    const json& res = body["resources"];
    if (d.Object(res, "/resources", {"cpu_cores", "ram_mb", "disk_gb", "max_databases"})) {
      if (res.contains("cpu_cores") && !res["cpu_cores"].is_null()) {
        if (auto c = d.Number(res["cpu_cores"], "/resources/cpu_cores")) {
          if (*c <= 0 || *c > 1e6) d.Add("/resources/cpu_cores", "must be a positive number");
          else if (*c < 0.001) d.Add("/resources/cpu_cores", "must be at least 0.001 (1m)");
          else r.resources.cpu_cores = *c;
        }
      }
      if (res.contains("ram_mb") && !res["ram_mb"].is_null()) {
        if (auto v = d.PositiveInt(res["ram_mb"], "/resources/ram_mb")) r.resources.ram_mb = *v;
      }
      if (res.contains("disk_gb") && !res["disk_gb"].is_null()) {
        if (auto v = d.PositiveInt(res["disk_gb"], "/resources/disk_gb")) r.resources.disk_gb = *v;
      }
      if (res.contains("max_databases") && !res["max_databases"].is_null()) {
        if (auto v = d.PositiveInt(res["max_databases"], "/resources/max_databases")) {
          r.resources.max_databases = *v;
        }
      }
    }
  }
  if (errors->size() != before) return false;
  *out = std::move(r);
  return true;
}

nlohmann::json BootstrapInputs(const BootstrapRequest& r, const std::string& password_origin) {
  // Built member by member: an initializer list copies every nested value
  // (this runs once per Kafka record).
  json res = json::object();
  res["cpu_cores"] = r.resources.cpu_cores;
  res["ram_mb"] = r.resources.ram_mb;
  res["disk_gb"] = r.resources.disk_gb;
  if (r.resources.max_databases) res["max_databases"] = *r.resources.max_databases;
  json ops = json::object();
  ops["mongodb"] = r.operators.mongodb;
  ops["postgresql"] = r.operators.postgresql;
  ops["xtradb_cluster"] = r.operators.xtradb_cluster;
  json in = json::object();
  in["username"] = r.username;
  in["namespace"] = r.ns;
  in["operators"] = std::move(ops);
  in["take_ownership"] = r.take_ownership;
  in["password"] = "********";
  in["password_source"] = password_origin;
  in["resources"] = std::move(res);
  return in;
}

namespace {

// Shared by the edit parsers: a username that Everest accepts and that is no
// reserved account.
void CheckUsername(Decoder& d, const json& body, const Config& cfg, std::string* out) {
  if (!body.contains("username") || body["username"].is_null()) {
    d.Add("/username", "is required");
    return;
  }
  auto u = d.String(body["username"], "/username");
  if (!u) return;
  if (!IsValidUsername(*u)) {
    d.Add("/username", "must match ^[a-zA-Z0-9_]{3,}$ (letters, digits, underscores; 3 to 63 characters)");
    return;
  }
  std::string lower = *u;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (cfg.reserved_usernames.count(lower) != 0) {
    d.Add("/username", "'" + *u + "' is reserved (RESERVED_USERNAMES) and cannot be changed here");
    return;
  }
  *out = *u;
}

void CheckNamespace(Decoder& d, const json& body, const Config& cfg, bool required, std::string* out) {
  if (!body.contains("namespace") || body["namespace"].is_null()) {
    if (required) d.Add("/namespace", "is required");
    return;
  }
  auto ns = d.String(body["namespace"], "/namespace");
  if (!ns) return;
  if (auto p = NamespaceProblem(*ns, cfg)) {
    d.Add("/namespace", *p);
    return;
  }
  *out = *ns;
}

std::optional<bool> OptBool(Decoder& d, const json& obj, const char* key, const std::string& ptr) {
  if (!obj.contains(key) || obj[key].is_null()) return std::nullopt;
  return d.Bool(obj[key], ptr);
}

}  // namespace

bool ParsePasswordRequest(const json& body, const Config& cfg, PasswordRequest* out,
                          std::vector<FieldError>* errors) {
  Decoder d{errors};
  const std::size_t before = errors->size();
  if (!d.Object(body, "", {"username", "new_password"}) && !body.is_object()) return false;
  PasswordRequest r;
  CheckUsername(d, body, cfg, &r.username);
  if (!body.contains("new_password") || body["new_password"].is_null()) {
    d.Add("/new_password", "is required");
  } else if (auto p = d.String(body["new_password"], "/new_password")) {
    if (!IsValidPassword(*p)) {
      d.Add("/new_password",
            "must match Everest's rule ^[a-zA-Z0-9@*#$%^&+=!_-]{6,}$ (at least 6 characters)");
    } else {
      r.new_password = *p;
    }
  }
  if (errors->size() != before) return false;
  *out = std::move(r);
  return true;
}

bool ParseResourcesRequest(const json& body, const Config& cfg, ResourcesRequest* out,
                           std::vector<FieldError>* errors) {
  Decoder d{errors};
  const std::size_t before = errors->size();
  if (!d.Object(body, "", {"namespace", "resources"}) && !body.is_object()) return false;
  ResourcesRequest r;
  CheckNamespace(d, body, cfg, true, &r.ns);
  if (!body.contains("resources") || body["resources"].is_null()) {
    d.Add("/resources", "is required");
  } else {
    const json& res = body["resources"];
    if (d.Object(res, "/resources", {"cpu_cores", "ram_mb", "disk_gb", "max_databases"})) {
      if (res.contains("cpu_cores") && !res["cpu_cores"].is_null()) {
        if (auto c = d.Number(res["cpu_cores"], "/resources/cpu_cores")) {
          if (*c < 0.001 || *c > 1e6) d.Add("/resources/cpu_cores", "must be a positive number (at least 0.001)");
          else r.resources.cpu_cores = *c;
        }
      }
      if (res.contains("ram_mb") && !res["ram_mb"].is_null()) {
        r.resources.ram_mb = d.PositiveInt(res["ram_mb"], "/resources/ram_mb");
      }
      if (res.contains("disk_gb") && !res["disk_gb"].is_null()) {
        r.resources.disk_gb = d.PositiveInt(res["disk_gb"], "/resources/disk_gb");
      }
      if (res.contains("max_databases") && !res["max_databases"].is_null()) {
        r.resources.max_databases = d.PositiveInt(res["max_databases"], "/resources/max_databases");
      }
      if (errors->size() == before && !r.resources.cpu_cores && !r.resources.ram_mb &&
          !r.resources.disk_gb && !r.resources.max_databases) {
        d.Add("/resources", "give at least one of cpu_cores, ram_mb, disk_gb, max_databases");
      }
    }
  }
  if (errors->size() != before) return false;
  *out = std::move(r);
  return true;
}

bool ParseOperatorsRequest(const json& body, const Config& cfg, OperatorsRequest* out,
                           std::vector<FieldError>* errors) {
  Decoder d{errors};
  const std::size_t before = errors->size();
  if (!d.Object(body, "", {"namespace", "operators"}) && !body.is_object()) return false;
  OperatorsRequest r;
  CheckNamespace(d, body, cfg, true, &r.ns);
  if (!body.contains("operators") || body["operators"].is_null()) {
    d.Add("/operators", "is required");
  } else {
    const json& ops = body["operators"];
    if (d.Object(ops, "/operators", {"mongodb", "postgresql", "xtradb_cluster", "mysql"})) {
      r.mongodb = OptBool(d, ops, "mongodb", "/operators/mongodb");
      r.postgresql = OptBool(d, ops, "postgresql", "/operators/postgresql");
      auto pxc = OptBool(d, ops, "xtradb_cluster", "/operators/xtradb_cluster");
      auto mysql = OptBool(d, ops, "mysql", "/operators/mysql");
      if (pxc && mysql && *pxc != *mysql) {
        d.Add("/operators/mysql", "'mysql' is an alias of 'xtradb_cluster' and contradicts it");
      }
      r.xtradb_cluster = pxc ? pxc : mysql;
      if (errors->size() == before && !r.mongodb && !r.postgresql && !r.xtradb_cluster) {
        d.Add("/operators", "give at least one of mongodb, postgresql, xtradb_cluster (mysql)");
      }
    }
  }
  if (errors->size() != before) return false;
  *out = std::move(r);
  return true;
}

bool ParseTenantRequest(const json& body, const Config& cfg, TenantAction action,
                        TenantRequest* out, std::vector<FieldError>* errors) {
  Decoder d{errors};
  const std::size_t before = errors->size();
  bool shape_ok = true;
  switch (action) {
    case TenantAction::kSuspend:
      shape_ok = d.Object(body, "", {"username", "namespace", "scale_statefulsets", "revoke_rbac"});
      break;
    case TenantAction::kResume:
      shape_ok = d.Object(body, "", {"username", "namespace"});
      break;
    case TenantAction::kDelete:
      shape_ok = d.Object(body, "", {"username", "namespace", "force", "keep_namespace"});
      break;
  }
  if (!shape_ok && !body.is_object()) return false;
  TenantRequest r;
  CheckUsername(d, body, cfg, &r.username);
  CheckNamespace(d, body, cfg, false, &r.ns);
  if (action == TenantAction::kSuspend) {
    r.scale_statefulsets = OptBool(d, body, "scale_statefulsets", "/scale_statefulsets").value_or(true);
    r.revoke_rbac = OptBool(d, body, "revoke_rbac", "/revoke_rbac").value_or(true);
  }
  if (action == TenantAction::kDelete) {
    r.force = OptBool(d, body, "force", "/force").value_or(false);
    r.keep_namespace = OptBool(d, body, "keep_namespace", "/keep_namespace").value_or(false);
  }
  if (errors->size() != before) return false;
  *out = std::move(r);
  return true;
}

}  // namespace bootstrapd

// Request bodies of SPEC §2/§2.1: decoding with the seed's pydantic rules (a
// number may come as a numeric string, a boolean as "true"/"false", unknown
// fields are refused) and every validation that must pass before a job is
// accepted. Pure; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "daemon/config.h"
#include "daemon/domain/argv.h"
#include "daemon/domain/manifests.h"

namespace bootstrapd {

struct FieldError {
  std::string pointer;  // JSON pointer, "" for the whole body
  std::string detail;
};

struct BootstrapRequest {
  std::string username;
  std::string ns;
  bool ns_defaulted = false;
  OperatorFlags operators;
  bool take_ownership = false;
  std::optional<std::string> password;  // from the request (secret)
  Resources resources;
};

// Everest's rules (EVERESTCTL.md §2.1, §2.2).
bool IsValidUsername(std::string_view u);   // ^[a-zA-Z0-9_]{3,}$, at most 63
bool IsValidPassword(std::string_view p);   // ^[a-zA-Z0-9@*#$%^&+=!_-]{6,}$
bool IsRfc1035Label(std::string_view ns);   // ^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$
bool IsReservedNamespace(std::string_view ns);
// The default namespace of a username: lowercased, '_' -> '-'.
std::string DefaultNamespace(std::string_view username);
// Checks a namespace against the reserved list, RFC 1035 and the prefixes.
std::optional<std::string> NamespaceProblem(std::string_view ns, const Config& cfg);

// The password alphabet of Everest, for generated passwords.
extern const char kPasswordAlphabet[];

// Nesting depth of a JSON text (brackets outside strings); for the parse limit.
int JsonDepth(std::string_view text);
// The deepest JSON any request body, event or webhook payload may nest.
inline constexpr int kMaxJsonDepth = 32;

// A JSON number spelt as a string ("8", "-0.5", "1e3"): an optional sign,
// digits with an optional fraction (or a bare fraction), an optional exponent.
// A linear scan (std::regex recurses per character and overflows the stack on
// long inputs).
bool IsNumericString(std::string_view s);

// Decodes and validates a POST /bootstrap/users body. Returns false with every
// problem found in *errors (pointers such as "/resources/cpu_cores").
bool ParseBootstrapRequest(const nlohmann::json& body, const Config& cfg, BootstrapRequest* out,
                           std::vector<FieldError>* errors);

// --- the edit routes (SPEC §2) ---

struct PasswordRequest {
  std::string username;
  std::string new_password;
};

struct ResourcesPatch {  // omitted fields keep the current quota's values
  std::optional<double> cpu_cores;
  std::optional<std::int64_t> ram_mb;
  std::optional<std::int64_t> disk_gb;
  std::optional<std::int64_t> max_databases;
};

struct ResourcesRequest {
  std::string ns;
  ResourcesPatch resources;
};

struct OperatorsRequest {  // omitted keys are left as they are
  std::string ns;
  std::optional<bool> mongodb;
  std::optional<bool> postgresql;
  std::optional<bool> xtradb_cluster;
};

// suspend, resume and delete. `ns` is empty when the body gave none (the
// handler resolves it from the tenants table or the username).
struct TenantRequest {
  std::string username;
  std::string ns;
  bool scale_statefulsets = true;  // suspend
  bool revoke_rbac = true;         // suspend
  bool force = false;              // delete
  bool keep_namespace = false;     // delete
};

enum class TenantAction { kSuspend, kResume, kDelete };

bool ParsePasswordRequest(const nlohmann::json& body, const Config& cfg, PasswordRequest* out,
                          std::vector<FieldError>* errors);
bool ParseResourcesRequest(const nlohmann::json& body, const Config& cfg, ResourcesRequest* out,
                           std::vector<FieldError>* errors);
bool ParseOperatorsRequest(const nlohmann::json& body, const Config& cfg, OperatorsRequest* out,
                           std::vector<FieldError>* errors);
bool ParseTenantRequest(const nlohmann::json& body, const Config& cfg, TenantAction action,
                        TenantRequest* out, std::vector<FieldError>* errors);

// The resolved inputs as the job shows them (password redacted).
nlohmann::json BootstrapInputs(const BootstrapRequest& r, const std::string& password_origin);

}  // namespace bootstrapd

// libFuzzer harness: the JSON request decoders of daemon/domain/requests.h.
//
// Input: byte 0 selects the parser and the configuration, the rest is the
// request body. The body goes through the same steps as an HTTP body
// (handlers/common.cpp ParseJsonBody): an empty body or one holding a NUL byte
// is refused, then the JsonDepth guard (kMaxJsonDepth, 32 levels), then
// nlohmann::json::parse without exceptions, then the selected parser. Numbers
// spelt as strings of any length reach Decoder::Number (IsNumericString).
//   byte0 & 7: 0 bootstrap, 1 password, 2 resources, 3 operators,
//              4 suspend, 5 resume, 6 delete, 7 the string validators on the
//              raw body (IsValidUsername, IsValidPassword, IsRfc1035Label,
//              IsNumericString, DefaultNamespace, NamespaceProblem)
//   byte0 & 8: a non-default Config (namespace prefixes, more reserved
//              usernames, fewer default operators)
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/config.h"
#include "daemon/domain/requests.h"
#include "fuzz/fuzz_common.h"

namespace {

using bootstrapd::Config;
using bootstrapd::FieldError;
using json = nlohmann::json;

const Config& DefaultConfig() {
  static const Config cfg;
  return cfg;
}

const Config& CustomConfig() {
  static const Config cfg = [] {
    Config c;
    c.allowed_namespace_prefixes = {"tenant-", "t"};
    c.reserved_usernames = {"admin", "root", "team_a"};
    c.default_operators = {"postgresql"};
    return c;
  }();
  return cfg;
}

bool ValidPointer(const std::string& p) { return p.empty() || p.front() == '/'; }

// What every parser promises: true <=> no error was added; each error has a
// JSON pointer and a message; the 422 problem built from them serializes
// (handlers/common.cpp ValidationProblem dumps them with the strict UTF-8
// handler, which throws on invalid UTF-8).
void CheckOutcome(bool ok, const std::vector<FieldError>& errors) {
  FUZZ_CHECK(ok == errors.empty());
  json list = json::array();
  for (const auto& e : errors) {
    FUZZ_CHECK(ValidPointer(e.pointer));
    FUZZ_CHECK(!e.detail.empty());
    FUZZ_CHECK(fuzz::IsValidUtf8(e.pointer) && fuzz::IsValidUtf8(e.detail));
    list.push_back({{"pointer", e.pointer.empty() ? "/" : e.pointer}, {"detail", e.detail}});
  }
  (void)list.dump();
}

bool IsReserved(const Config& cfg, const std::string& username) {
  std::string lower = username;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return cfg.reserved_usernames.count(lower) != 0;
}

void CheckNamespace(const std::string& ns, const Config& cfg) {
  FUZZ_CHECK(bootstrapd::IsRfc1035Label(ns));
  FUZZ_CHECK(!bootstrapd::IsReservedNamespace(ns));
  FUZZ_CHECK(!bootstrapd::NamespaceProblem(ns, cfg).has_value());
}

void CheckPositive(const std::optional<std::int64_t>& v) {
  if (v) FUZZ_CHECK(*v > 0 && *v <= 1000000000000000LL);
}

void FuzzBootstrap(const json& body, const Config& cfg) {
  bootstrapd::BootstrapRequest r;
  std::vector<FieldError> errors;
  const bool ok = bootstrapd::ParseBootstrapRequest(body, cfg, &r, &errors);
  CheckOutcome(ok, errors);
  if (!ok) return;
  FUZZ_CHECK(bootstrapd::IsValidUsername(r.username));
  FUZZ_CHECK(!IsReserved(cfg, r.username));
  CheckNamespace(r.ns, cfg);
  if (r.ns_defaulted) FUZZ_CHECK(r.ns == bootstrapd::DefaultNamespace(r.username));
  if (r.password) FUZZ_CHECK(bootstrapd::IsValidPassword(*r.password));
  if (body.contains("operators") && !body["operators"].is_null()) {
    FUZZ_CHECK(r.operators.mongodb || r.operators.postgresql || r.operators.xtradb_cluster);
  }
  FUZZ_CHECK(std::isfinite(r.resources.cpu_cores) && r.resources.cpu_cores >= 0.001 &&
             r.resources.cpu_cores <= 1e6);
  FUZZ_CHECK(r.resources.ram_mb > 0 && r.resources.disk_gb > 0);
  CheckPositive(r.resources.max_databases);
  // The job's recorded inputs never carry the password, and serialize.
  const json inputs = bootstrapd::BootstrapInputs(r, "request");
  FUZZ_CHECK(inputs.at("password") == "********");
  FUZZ_CHECK(inputs.at("username") == r.username && inputs.at("namespace") == r.ns);
  (void)inputs.dump();
}

void FuzzPassword(const json& body, const Config& cfg) {
  bootstrapd::PasswordRequest r;
  std::vector<FieldError> errors;
  const bool ok = bootstrapd::ParsePasswordRequest(body, cfg, &r, &errors);
  CheckOutcome(ok, errors);
  if (!ok) return;
  FUZZ_CHECK(bootstrapd::IsValidUsername(r.username));
  FUZZ_CHECK(!IsReserved(cfg, r.username));
  FUZZ_CHECK(bootstrapd::IsValidPassword(r.new_password));
}

void FuzzResources(const json& body, const Config& cfg) {
  bootstrapd::ResourcesRequest r;
  std::vector<FieldError> errors;
  const bool ok = bootstrapd::ParseResourcesRequest(body, cfg, &r, &errors);
  CheckOutcome(ok, errors);
  if (!ok) return;
  CheckNamespace(r.ns, cfg);
  const auto& p = r.resources;
  FUZZ_CHECK(p.cpu_cores || p.ram_mb || p.disk_gb || p.max_databases);
  if (p.cpu_cores) FUZZ_CHECK(std::isfinite(*p.cpu_cores) && *p.cpu_cores >= 0.001 && *p.cpu_cores <= 1e6);
  CheckPositive(p.ram_mb);
  CheckPositive(p.disk_gb);
  CheckPositive(p.max_databases);
}

void FuzzOperators(const json& body, const Config& cfg) {
  bootstrapd::OperatorsRequest r;
  std::vector<FieldError> errors;
  const bool ok = bootstrapd::ParseOperatorsRequest(body, cfg, &r, &errors);
  CheckOutcome(ok, errors);
  if (!ok) return;
  CheckNamespace(r.ns, cfg);
  FUZZ_CHECK(r.mongodb || r.postgresql || r.xtradb_cluster);
}

void FuzzTenant(const json& body, const Config& cfg, bootstrapd::TenantAction action) {
  bootstrapd::TenantRequest r;
  std::vector<FieldError> errors;
  const bool ok = bootstrapd::ParseTenantRequest(body, cfg, action, &r, &errors);
  CheckOutcome(ok, errors);
  if (!ok) return;
  FUZZ_CHECK(bootstrapd::IsValidUsername(r.username));
  FUZZ_CHECK(!IsReserved(cfg, r.username));
  if (!r.ns.empty()) CheckNamespace(r.ns, cfg);
  if (action != bootstrapd::TenantAction::kSuspend) FUZZ_CHECK(r.scale_statefulsets && r.revoke_rbac);
  if (action != bootstrapd::TenantAction::kDelete) FUZZ_CHECK(!r.force && !r.keep_namespace);
}

// IsNumericString's grammar (optional sign, digits with an optional fraction
// or a bare fraction, optional exponent: 'e'/'E', optional sign, >= 1 digit),
// read the way std::strtod reads a number. Restricted to the characters
// [0-9+-.eE], which leaves out strtod's extras (leading blanks, inf/nan, hex
// floats), strtod's decimal form is exactly that grammar: the text is numeric
// when strtod consumes all of it. (strtod stops before an 'e' that has no
// exponent digits, and consumes nothing of "", "+", "." or ".e1".)
bool ReferenceNumeric(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E')) {
      return false;
    }
  }
  const std::string text(s);  // NUL-terminated for strtod
  char* end = nullptr;
  (void)std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

// The validators on raw (possibly non-UTF-8) text, against their documented
// regular expressions, written out independently here.
void FuzzValidators(std::string_view s, const Config& cfg) {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  bool user = s.size() >= 3 && s.size() <= 63;
  for (char c : s) user = user && (alnum(c) || c == '_');
  FUZZ_CHECK(bootstrapd::IsValidUsername(s) == user);

  bool pass = s.size() >= 6;
  for (char c : s) pass = pass && (alnum(c) || std::string_view("@*#$%^&+=!_-").find(c) != std::string_view::npos);
  FUZZ_CHECK(bootstrapd::IsValidPassword(s) == pass);

  bool label = !s.empty() && s.size() <= 63 && s.front() >= 'a' && s.front() <= 'z' &&
               ((s.back() >= 'a' && s.back() <= 'z') || (s.back() >= '0' && s.back() <= '9'));
  for (char c : s) label = label && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  FUZZ_CHECK(bootstrapd::IsRfc1035Label(s) == label);

  // The linear scanner that replaced std::regex in Decoder::Number (F1).
  FUZZ_CHECK(bootstrapd::IsNumericString(s) == ReferenceNumeric(s));

  // Every generated password is drawn from kPasswordAlphabet: it must pass.
  const std::string_view alphabet(bootstrapd::kPasswordAlphabet);
  FUZZ_CHECK(bootstrapd::IsValidPassword(alphabet));

  const std::string ns = bootstrapd::DefaultNamespace(s);
  FUZZ_CHECK(ns.size() == s.size());
  if (user) FUZZ_CHECK(ns.find('_') == std::string::npos);
  const auto problem = bootstrapd::NamespaceProblem(s, cfg);
  if (!problem) FUZZ_CHECK(label && !bootstrapd::IsReservedNamespace(s));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t selector = data[0];
  const Config& cfg = (selector & 8) ? CustomConfig() : DefaultConfig();
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);

  if ((selector & 7) == 7) {
    FuzzValidators(body, cfg);
    return 0;
  }

  // handlers/common.cpp ParseJsonBody: empty and NUL-holding bodies are
  // refused with 400 (nlohmann::json would stop reading at the NUL, README
  // F3), then the depth guard, then the parse.
  if (body.empty()) return 0;
  if (body.find('\0') != std::string::npos) return 0;
  const int depth = bootstrapd::JsonDepth(body);
  FUZZ_CHECK(depth >= 0);
  if (depth > bootstrapd::kMaxJsonDepth) return 0;
  const json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return 0;
  // The guard never lets a deeper tree through. (It can overestimate: the
  // value of a duplicated key is dropped by the parser, last one wins, while
  // JsonDepth counts every bracket of the text.)
  const int tree_depth = fuzz::TreeDepth(parsed);
  FUZZ_CHECK(tree_depth <= depth && tree_depth <= bootstrapd::kMaxJsonDepth);

  switch (selector & 7) {
    case 0: FuzzBootstrap(parsed, cfg); break;
    case 1: FuzzPassword(parsed, cfg); break;
    case 2: FuzzResources(parsed, cfg); break;
    case 3: FuzzOperators(parsed, cfg); break;
    case 4: FuzzTenant(parsed, cfg, bootstrapd::TenantAction::kSuspend); break;
    case 5: FuzzTenant(parsed, cfg, bootstrapd::TenantAction::kResume); break;
    case 6: FuzzTenant(parsed, cfg, bootstrapd::TenantAction::kDelete); break;
    default: break;
  }
  return 0;
}

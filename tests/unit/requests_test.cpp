#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "daemon/domain/argv.h"
#include "daemon/domain/requests.h"

using namespace bootstrapd;
using json = nlohmann::json;

namespace {
std::vector<FieldError> Errors(const json& body, const Config& cfg = Config{}) {
  BootstrapRequest r;
  std::vector<FieldError> errors;
  CHECK_FALSE(ParseBootstrapRequest(body, cfg, &r, &errors));
  return errors;
}
bool HasPointer(const std::vector<FieldError>& e, const std::string& p) {
  for (const auto& x : e) {
    if (x.pointer == p) return true;
  }
  return false;
}
}  // namespace

TEST_CASE("the seed's quick start body resolves every default", "[unit][requests]") {
  BootstrapRequest r;
  std::vector<FieldError> errors;
  REQUIRE(ParseBootstrapRequest(json{{"username", "alice"}}, Config{}, &r, &errors));
  CHECK(r.username == "alice");
  CHECK(r.ns == "alice");
  CHECK(r.ns_defaulted);
  CHECK(r.operators.mongodb);
  CHECK(r.operators.postgresql);
  CHECK(r.operators.xtradb_cluster);
  CHECK(r.resources.cpu_cores == 2);
  CHECK(r.resources.ram_mb == 2048);
  CHECK(r.resources.disk_gb == 20);
  CHECK_FALSE(r.resources.max_databases.has_value());
  CHECK_FALSE(r.password.has_value());
}

TEST_CASE("default namespace lowercases and maps underscores", "[unit][requests]") {
  CHECK(DefaultNamespace("Team_A") == "team-a");
  BootstrapRequest r;
  std::vector<FieldError> errors;
  REQUIRE(ParseBootstrapRequest(json{{"username", "Team_A"}}, Config{}, &r, &errors));
  CHECK(r.ns == "team-a");
  // A default that is not an RFC 1035 label asks for an explicit namespace.
  CHECK(HasPointer(Errors(json{{"username", "1abc"}}), "/namespace"));
  CHECK(HasPointer(Errors(json{{"username", "abc_"}}), "/namespace"));
}

TEST_CASE("pydantic coercions: numeric strings and boolean strings", "[unit][requests]") {
  BootstrapRequest r;
  std::vector<FieldError> errors;
  json body = {{"username", "bob"},
               {"take_ownership", "true"},
               {"operators", {{"mysql", "true"}, {"mongodb", false}}},
               {"resources", {{"cpu_cores", "0.5"}, {"ram_mb", "4096"}, {"disk_gb", 10.0}}}};
  REQUIRE(ParseBootstrapRequest(body, Config{}, &r, &errors));
  CHECK(r.take_ownership);
  CHECK(r.operators.xtradb_cluster);
  CHECK_FALSE(r.operators.mongodb);
  CHECK_FALSE(r.operators.postgresql);
  CHECK(r.resources.cpu_cores == 0.5);
  CHECK(r.resources.ram_mb == 4096);
  CHECK(r.resources.disk_gb == 10);
}

TEST_CASE("every refusal names its field", "[unit][requests]") {
  CHECK(HasPointer(Errors(json{{"username", "al"}}), "/username"));
  CHECK(HasPointer(Errors(json{{"username", "al-ice"}}), "/username"));
  CHECK(HasPointer(Errors(json{{"username", std::string(64, 'a')}}), "/username"));
  CHECK(HasPointer(Errors(json{{"username", "admin"}}), "/username"));
  CHECK(HasPointer(Errors(json::object()), "/username"));
  CHECK(HasPointer(Errors(json{{"username", 5}}), "/username"));
  CHECK(HasPointer(Errors(json{{"username", "bob"}, {"opertors", json::object()}}), "/opertors"));
  CHECK(HasPointer(Errors(json{{"username", "bob"}, {"namespace", "kube-system"}}), "/namespace"));
  CHECK(HasPointer(Errors(json{{"username", "bob"}, {"namespace", "everest-system"}}), "/namespace"));
  CHECK(HasPointer(Errors(json{{"username", "bob"}, {"namespace", "Bob"}}), "/namespace"));
  CHECK(HasPointer(Errors(json{{"username", "bob"},
                               {"operators", {{"mongodb", false}, {"postgresql", false}}}}),
                   "/operators"));
  CHECK(HasPointer(Errors(json{{"username", "bob"}, {"operators", {{"redis", true}}}}),
                   "/operators/redis"));
  CHECK(HasPointer(Errors(json{{"username", "bob"},
                               {"operators", {{"mysql", true}, {"xtradb_cluster", false}}}}),
                   "/operators/mysql"));
  CHECK(HasPointer(Errors(json{{"username", "bob"}, {"password", "short"}}), "/password"));
  CHECK(HasPointer(Errors(json{{"username", "bob"}, {"password", "has space1"}}), "/password"));
  CHECK(HasPointer(Errors(json{{"username", "bob"}, {"take_ownership", "yes"}}), "/take_ownership"));
  CHECK(HasPointer(Errors(json{{"username", "bob"}, {"resources", {{"cpu_cores", 0}}}}),
                   "/resources/cpu_cores"));
  CHECK(HasPointer(Errors(json{{"username", "bob"}, {"resources", {{"ram_mb", 1.5}}}}),
                   "/resources/ram_mb"));
  CHECK(HasPointer(Errors(json{{"username", "bob"}, {"resources", {{"disk_gb", -3}}}}),
                   "/resources/disk_gb"));
  CHECK(HasPointer(Errors(json{{"username", "bob"}, {"resources", {{"max_databases", "x"}}}}),
                   "/resources/max_databases"));
  CHECK(HasPointer(Errors(json{{"username", "bob"}, {"resources", {{"gpu", 1}}}}),
                   "/resources/gpu"));
  CHECK(HasPointer(Errors(json{{"username", "bob"}, {"resources", {{"cpu_cores", 1e300}}}}),
                   "/resources/cpu_cores"));
  CHECK(HasPointer(Errors(json::array()), ""));
}

TEST_CASE("RESERVED_USERNAMES and ALLOWED_NAMESPACE_PREFIXES", "[unit][requests]") {
  Config cfg;
  std::string err;
  REQUIRE(LoadConfig({{"RESERVED_USERNAMES", "root,ops_team"}, {"ALLOWED_NAMESPACE_PREFIXES", "t-,tenant-"}},
                     &cfg, &err));
  CHECK(HasPointer(Errors(json{{"username", "Ops_Team"}, {"namespace", "t-ops"}}, cfg), "/username"));
  CHECK(HasPointer(Errors(json{{"username", "bob"}, {"namespace", "bob"}}, cfg), "/namespace"));
  BootstrapRequest r;
  std::vector<FieldError> errors;
  CHECK(ParseBootstrapRequest(json{{"username", "bob"}, {"namespace", "tenant-bob"}}, cfg, &r, &errors));
}

TEST_CASE("inputs never carry the password", "[unit][requests]") {
  BootstrapRequest r;
  std::vector<FieldError> errors;
  REQUIRE(ParseBootstrapRequest(json{{"username", "bob"}, {"password", "Secr3t!pw"}}, Config{}, &r,
                                &errors));
  CHECK(BootstrapInputs(r, "request").dump().find("Secr3t!pw") == std::string::npos);
}

TEST_CASE("JSON depth counts brackets outside strings", "[unit][requests]") {
  CHECK(JsonDepth(R"({"a":[1,{"b":"[[[["}]})") == 3);
  CHECK(JsonDepth(std::string(100, '[')) == 100);
}

TEST_CASE("argv builders pass every value by flag and never a shell string", "[unit][argv]") {
  CHECK(AccountsCreateArgv("everestctl", "alice", "pw123456") ==
        Argv{"everestctl", "accounts", "create", "-u", "alice", "-p", "pw123456"});
  CHECK(NamespacesAddArgv("everestctl", "alice", {true, false, true}, "mysql", false) ==
        Argv{"everestctl", "namespaces", "add", "alice", "--skip-wizard", "--operator.mongodb=true",
             "--operator.postgresql=false", "--operator.mysql=true"});
  CHECK(NamespacesAddArgv("e", "n", {false, true, false}, "xtradb-cluster", true).back() ==
        "--take-ownership");
  CHECK(DisplayCommand(AccountsCreateArgv("everestctl", "alice", "pw123456"), {"pw123456"}) ==
        "everestctl accounts create -u alice -p ********");
  CHECK(DisplayCommand({"kubectl", "apply", "-f", "a b", "it's"}) ==
        "kubectl apply -f 'a b' 'it'\\''s'");
}

TEST_CASE("numeric strings: a linear scan, safe on huge inputs", "[unit][requests]") {
  using bootstrapd::IsNumericString;
  for (const char* ok : {"8", "-0.5", "+3", "1e3", "1E-3", "0.", ".5", "10.25e+2"}) {
    INFO(ok);
    CHECK(IsNumericString(ok));
  }
  for (const char* bad : {"", "+", "-", ".", "e3", "1e", "1e+", "0x10", "8 ", " 8", "1.2.3", "NaN", "inf",
                          "1_000", "--1"}) {
    INFO(bad);
    CHECK_FALSE(IsNumericString(bad));
  }
  // std::regex overflowed the stack on ~26k digits (fuzz finding F1).
  CHECK(IsNumericString(std::string(1 << 20, '7')));
  CHECK_FALSE(IsNumericString(std::string(1 << 20, '7') + "x"));
}

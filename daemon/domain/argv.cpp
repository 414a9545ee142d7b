#include "daemon/domain/argv.h"

namespace bootstrapd {
namespace {
const char* Bool(bool b) { return b ? "true" : "false"; }
}  // namespace

Argv AccountsCreateArgv(const std::string& bin, const std::string& user, const std::string& pw) {
  return {bin, "accounts", "create", "-u", user, "-p", pw};
}

Argv AccountsListArgv(const std::string& bin) { return {bin, "accounts", "list"}; }

Argv VersionArgv(const std::string& bin) { return {bin, "version", "--client-only", "--json"}; }

Argv NamespacesAddArgv(const std::string& bin, const std::string& ns, const OperatorFlags& ops,
                       const std::string& mysql_flag, bool take_ownership) {
  Argv a = {bin,
            "namespaces",
            "add",
            ns,
            "--skip-wizard",
            std::string("--operator.mongodb=") + Bool(ops.mongodb),
            std::string("--operator.postgresql=") + Bool(ops.postgresql),
            "--operator." + mysql_flag + "=" + Bool(ops.xtradb_cluster)};
  if (take_ownership) a.push_back("--take-ownership");
  return a;
}

Argv RbacValidateArgv(const std::string& bin, const std::string& policy_file) {
  return {bin, "settings", "rbac", "validate", "--policy-file", policy_file};
}

Argv KubectlApplyArgv(const std::string& bin, const std::string& ns) {
  return {bin, "apply", "-n", ns, "-f", "-"};
}

Argv KubectlGetRbacArgv(const std::string& bin) {
  return {bin, "get", "configmap", "everest-rbac", "-n", "everest-system", "-o", "json"};
}

Argv KubectlReplaceArgv(const std::string& bin) { return {bin, "replace", "-f", "-"}; }

std::string DisplayCommand(const Argv& argv, const std::vector<std::string>& secrets) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool secret = false;
    for (const auto& s : secrets) secret = secret || (!s.empty() && a == s);
    if (secret) {
      out += "********";
    } else if (a.empty() || a.find_first_of(" \t\n'\"\\$`") != std::string::npos) {
      out += '\'';
      for (char c : a) {
        if (c == '\'') out += "'\\''";
        else out += c;
      }
      out += '\'';
    } else {
      out += a;
    }
  }
  return out;
}

}  // namespace bootstrapd

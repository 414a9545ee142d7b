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

Argv AccountsSetPasswordArgv(const std::string& bin, const std::string& user, const std::string& pw) {
  return {bin, "accounts", "set-password", "-u", user, "--new-password", pw};
}

Argv AccountsDeleteArgv(const std::string& bin, const std::string& user) {
  return {bin, "accounts", "delete", "-u", user};
}

Argv NamespacesUpdateArgv(const std::string& bin, const std::string& ns, const OperatorFlags& ops,
                          const std::string& mysql_flag) {
  return {bin,
          "namespaces",
          "update",
          ns,
          "--skip-wizard",
          std::string("--operator.mongodb=") + Bool(ops.mongodb),
          std::string("--operator.postgresql=") + Bool(ops.postgresql),
          "--operator." + mysql_flag + "=" + Bool(ops.xtradb_cluster)};
}

Argv NamespacesRemoveArgv(const std::string& bin, const std::string& ns, bool force,
                          bool keep_namespace) {
  Argv a = {bin, "namespaces", "remove", ns};
  if (force) a.push_back("--force");
  if (keep_namespace) a.push_back("--keep-namespace");
  return a;
}

Argv NamespacesListArgv(const std::string& bin) { return {bin, "namespaces", "list"}; }

Argv KubectlGetArgv(const std::string& bin, const std::string& kind, const std::string& name,
                    const std::string& ns) {
  Argv a = {bin, "get", kind};
  if (!name.empty()) a.push_back(name);
  if (!ns.empty()) {
    a.push_back("-n");
    a.push_back(ns);
  }
  a.push_back("-o");
  a.push_back("json");
  return a;
}

Argv KubectlPatchArgv(const std::string& bin, const std::string& kind, const std::string& name,
                      const std::string& ns, const std::string& merge_patch) {
  return {bin, "patch", kind, name, "-n", ns, "--type", "merge", "-p", merge_patch};
}

Argv KubectlScaleArgv(const std::string& bin, const std::string& name, const std::string& ns,
                      long replicas) {
  return {bin, "scale", "statefulset", name, "-n", ns, "--replicas=" + std::to_string(replicas)};
}

Argv KubectlAnnotateArgv(const std::string& bin, const std::string& kind, const std::string& name,
                         const std::string& ns, const std::string& assignment) {
  Argv a = {bin, "annotate", kind, name};
  if (!ns.empty()) {
    a.push_back("-n");
    a.push_back(ns);
  }
  a.push_back("--overwrite");
  a.push_back(assignment);
  return a;
}

Argv KubectlDeleteNamespaceArgv(const std::string& bin, const std::string& ns) {
  return {bin, "delete", "namespace", ns, "--ignore-not-found=true", "--wait=false"};
}

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

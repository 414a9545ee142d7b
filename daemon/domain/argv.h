// argv vectors for everestctl and kubectl (never a shell string), and their
// display form with secrets masked. Pure; any thread.
#pragma once

#include <string>
#include <vector>

namespace bootstrapd {

struct OperatorFlags {
  bool mongodb = true;
  bool postgresql = true;
  bool xtradb_cluster = true;
};

using Argv = std::vector<std::string>;

Argv AccountsCreateArgv(const std::string& bin, const std::string& user, const std::string& pw);
Argv AccountsListArgv(const std::string& bin);
Argv VersionArgv(const std::string& bin);  // version --client-only --json
// `mysql_flag` is "mysql" (everestctl >= 1.6) or "xtradb-cluster".
Argv NamespacesAddArgv(const std::string& bin, const std::string& ns, const OperatorFlags& ops,
                       const std::string& mysql_flag, bool take_ownership);
Argv RbacValidateArgv(const std::string& bin, const std::string& policy_file);
Argv KubectlApplyArgv(const std::string& bin, const std::string& ns);  // apply -n ns -f -
Argv KubectlGetRbacArgv(const std::string& bin);  // get configmap everest-rbac -n everest-system -o json
Argv KubectlReplaceArgv(const std::string& bin);  // replace -f -

Argv AccountsSetPasswordArgv(const std::string& bin, const std::string& user, const std::string& pw);
Argv AccountsDeleteArgv(const std::string& bin, const std::string& user);
Argv NamespacesUpdateArgv(const std::string& bin, const std::string& ns, const OperatorFlags& ops,
                          const std::string& mysql_flag);
Argv NamespacesRemoveArgv(const std::string& bin, const std::string& ns, bool force,
                          bool keep_namespace);
Argv NamespacesListArgv(const std::string& bin);
// kubectl get <kind> [name] [-n ns] -o json
Argv KubectlGetArgv(const std::string& bin, const std::string& kind, const std::string& name,
                    const std::string& ns);
// kubectl patch <kind> <name> -n ns --type merge -p <json>
Argv KubectlPatchArgv(const std::string& bin, const std::string& kind, const std::string& name,
                      const std::string& ns, const std::string& merge_patch);
// kubectl scale statefulset <name> -n ns --replicas=N
Argv KubectlScaleArgv(const std::string& bin, const std::string& name, const std::string& ns,
                      long replicas);
// kubectl annotate <kind> <name> [-n ns] --overwrite k=v | k-
Argv KubectlAnnotateArgv(const std::string& bin, const std::string& kind, const std::string& name,
                         const std::string& ns, const std::string& assignment);
// kubectl delete namespace <ns> --ignore-not-found=true --wait=false
Argv KubectlDeleteNamespaceArgv(const std::string& bin, const std::string& ns);

// argv joined by spaces for the step record; every element equal to one of
// `secrets` becomes "********"; elements with blanks or quotes are single-quoted.
std::string DisplayCommand(const Argv& argv, const std::vector<std::string>& secrets = {});

}  // namespace bootstrapd

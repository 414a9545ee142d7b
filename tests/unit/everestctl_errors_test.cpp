// Known answers for EverestctlReportedError / EverestctlConfirms
// (daemon/jobs/workflow_util.h): everestctl exits 0 on a few failures.
#include "daemon/jobs/workflow_util.h"

#include <catch2/catch.hpp>

namespace bootstrapd::wf {
namespace {

CommandResult Exited(int code, std::string out, std::string err) {
  CommandResult r;
  r.status = CommandResult::Status::kExited;
  r.exit_code = code;
  r.out = std::move(out);
  r.err = std::move(err);
  return r;
}

TEST_CASE("everestctl errors behind exit code 0", "[unit][everestctl]") {

  // Success: a ✅ line, even with a deprecation warning on stderr.
  CHECK_FALSE(EverestctlReportedError(
      Exited(0, "\u2705 User 'bob' has been created successfully\n\n",
             "Flag --operator.xtradb-cluster has been deprecated\n"),
      true));
  // A ❌ on stderr, exit 0: failed, for any command.
  CHECK(EverestctlReportedError(Exited(0, "", "\u274c secrets \"everest-accounts\" not found\n"), true));
  CHECK(EverestctlReportedError(Exited(0, "NAMESPACE  OPERATORS\n", "\u274c boom\n"), false));
  // A misspelt subcommand prints nothing and exits 0 (EVERESTCTL.md §1).
  CHECK(EverestctlReportedError(Exited(0, "", ""), true));
  // Text on stderr without ✅: failed.
  CHECK(EverestctlReportedError(Exited(0, "", "error\n"), true));
  // A read prints data, no ✅: a warning on stderr is not a failure.
  CHECK_FALSE(EverestctlReportedError(
      Exited(0, "NAMESPACE  OPERATORS\nteam-a     postgresql-operator v2.5.0\n",
             "W1202 12:00:00 warnings.go:70] some API warning\n"),
      false));
  // Non-zero exits and timeouts are failures already, not "reported" ones.
  CHECK_FALSE(EverestctlReportedError(Exited(1, "", "\u274c user already exists\n"), true));
  CommandResult timed_out;
  timed_out.status = CommandResult::Status::kTimedOut;
  CHECK_FALSE(EverestctlReportedError(timed_out, true));
}

TEST_CASE("MarkEverestctlError judges everestctl command lines only", "[unit][everestctl]") {
  const auto marked = [](Argv argv, std::string out, std::string err) {
    CommandResult r = Exited(0, std::move(out), std::move(err));
    MarkEverestctlError("/usr/bin/everestctl", argv, &r);
    return r.reported_error;
  };
  const std::string e = "/usr/bin/everestctl";
  // A confirming command without its ✅ (a misspelt subcommand): failed.
  CHECK(marked({e, "accounts", "create", "-u", "bob", "-p", "x"}, "", ""));
  CHECK_FALSE(marked({e, "accounts", "create", "-u", "bob", "-p", "x"},
                     "\u2705 User 'bob' has been created successfully\n", ""));
  // Reads print data: no ✅ needed, a stderr warning is fine, a ❌ is not.
  CHECK_FALSE(marked({e, "namespaces", "list"}, "NAMESPACE  OPERATORS\n", "W warning\n"));
  CHECK_FALSE(marked({e, "version", "--client-only", "--json"}, "{\"version\":\"v1.11.0\"}", ""));
  CHECK(marked({e, "accounts", "list"}, "", "\u274c boom\n"));
  // kubectl lines are not judged, even when both tools are one binary.
  CHECK_FALSE(marked({e, "apply", "-n", "team-a", "-f", "-"}, "resourcequota/user-quota created", ""));
  CHECK_FALSE(marked({e, "delete", "namespace", "team-a"}, "", "warning\n"));
  CHECK_FALSE(marked({"/usr/bin/kubectl", "get", "configmap"}, "{}", ""));
}

}  // namespace
}  // namespace bootstrapd::wf

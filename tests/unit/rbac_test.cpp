// Known-answer tests for daemon/domain/rbac.h.
#include "daemon/domain/rbac.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace bootstrapd {
namespace {

using Lines = std::vector<std::string>;

std::string Join(const Lines& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

// A policy with neighbours whose names share a prefix with "alice", a comment
// with trailing blanks, odd spacing and a whitespace-only line.
const std::string kPolicy =
    "# tenants are managed by everest-bootstrapd   \n"
    "g, admin, role:admin\n"
    "p, role:alice2, namespaces, read, alice2-ns\n"
    "p,role:alice , namespaces, *, old-ns\n"
    "   \n"
    "p, role:alice_x, database-clusters, read, x/*\n"
    "g, alice, role:alice\n"
    "g, alice2, role:alice2\n"
    "g, alice_x, role:alice_x\n";

TEST_CASE("DefaultRoleLines gives seed 001's role", "[unit][rbac]") {
  const Lines expected = {
      "p, role:alice, namespaces, read, alice-ns",
      "p, role:alice, database-engines, read, alice-ns/*",
      "p, role:alice, database-clusters, read, alice-ns/*",
      "p, role:alice, database-clusters, update, alice-ns/*",
      "p, role:alice, database-clusters, create, alice-ns/*",
      "p, role:alice, database-clusters, delete, alice-ns/*",
      "p, role:alice, database-cluster-credentials, read, alice-ns/*",
      "g, alice, role:alice",
  };
  CHECK(DefaultRoleLines("alice", "alice-ns") == expected);
  for (const std::string& line : expected) CHECK(IsUserBlockLine(line, "alice"));
}

TEST_CASE("IsUserBlockLine matches whole fields only", "[unit][rbac]") {
  CHECK(IsUserBlockLine("p, role:alice, namespaces, read, alice-ns", "alice"));
  CHECK(IsUserBlockLine("  p ,role:alice\t, namespaces, *, t1", "alice"));
  CHECK(IsUserBlockLine("g, alice, role:alice", "alice"));
  CHECK(IsUserBlockLine("g,alice,role:alice", "alice"));
  CHECK(IsUserBlockLine("g, alice, role:alice\r", "alice"));
  // Prefix neighbours.
  CHECK_FALSE(IsUserBlockLine("p, role:alice2, namespaces, read, alice2-ns", "alice"));
  CHECK_FALSE(IsUserBlockLine("p, role:alice_x, namespaces, read, x", "alice"));
  CHECK_FALSE(IsUserBlockLine("g, alice2, role:alice2", "alice"));
  CHECK_FALSE(IsUserBlockLine("p, role:ali, namespaces, read, x", "alice"));
  // Other bindings that mention alice are not her block.
  CHECK_FALSE(IsUserBlockLine("g, alice, role:admin", "alice"));
  CHECK_FALSE(IsUserBlockLine("g, bob, role:alice", "alice"));
  CHECK_FALSE(IsUserBlockLine("p, alice, namespaces, read, x", "alice"));
  CHECK_FALSE(IsUserBlockLine("g, alice, role:alice, extra", "alice"));
  // Comments, case, empties.
  CHECK_FALSE(IsUserBlockLine("# p, role:alice, namespaces, read, x", "alice"));
  CHECK_FALSE(IsUserBlockLine("P, role:alice, namespaces, read, x", "alice"));
  CHECK_FALSE(IsUserBlockLine("p, role:Alice, namespaces, read, x", "alice"));
  CHECK_FALSE(IsUserBlockLine("", "alice"));
  CHECK_FALSE(IsUserBlockLine("p, role:, namespaces, read, x", ""));
}

TEST_CASE("ReplaceUserBlock swaps only the user's lines, in place", "[unit][rbac]") {
  const std::string out = ReplaceUserBlock(kPolicy, "alice", DefaultRoleLines("alice", "t1"));
  const std::string expected =
      "# tenants are managed by everest-bootstrapd   \n"
      "g, admin, role:admin\n"
      "p, role:alice2, namespaces, read, alice2-ns\n" +
      Join(DefaultRoleLines("alice", "t1")) +
      "p, role:alice_x, database-clusters, read, x/*\n"
      "g, alice2, role:alice2\n"
      "g, alice_x, role:alice_x\n";
  CHECK(out == expected);
  CHECK(HasAdminBinding(out));
}

TEST_CASE("ReplaceUserBlock is idempotent", "[unit][rbac]") {
  const Lines block = DefaultRoleLines("alice", "t1");
  const std::string once = ReplaceUserBlock(kPolicy, "alice", block);
  const std::string twice = ReplaceUserBlock(once, "alice", block);
  CHECK(twice == once);
  // Also when the block is appended (no earlier block).
  const std::string bob_once = ReplaceUserBlock(once, "bob", DefaultRoleLines("bob", "bob"));
  CHECK(ReplaceUserBlock(bob_once, "bob", DefaultRoleLines("bob", "bob")) == bob_once);
  CHECK(UserBlockLines(bob_once, "alice") == block);
}

TEST_CASE("ReplaceUserBlock appends a new block and normalises the ending", "[unit][rbac]") {
  const Lines block = {"p, role:bob, namespaces, read, bob", "g, bob, role:bob"};
  // No final newline on the input.
  CHECK(ReplaceUserBlock("g, admin, role:admin", "bob", block) ==
        "g, admin, role:admin\n" + Join(block));
  // Several trailing newlines collapse to one.
  CHECK(ReplaceUserBlock("g, admin, role:admin\n\n\n", "bob", block) ==
        "g, admin, role:admin\n" + Join(block));
  // Empty policy.
  CHECK(ReplaceUserBlock("", "bob", block) == Join(block));
  // Blank and multi-line block entries never produce blank policy lines.
  CHECK(ReplaceUserBlock("g, admin, role:admin\n", "bob",
                         {"p, role:bob, namespaces, read, bob\n", "  ", "g, bob, role:bob"}) ==
        "g, admin, role:admin\n" + Join(block));
}

TEST_CASE("ReplaceUserBlock gathers a scattered block at its first line", "[unit][rbac]") {
  const std::string policy =
      "g, bob, role:bob\n"
      "g, admin, role:admin\n"
      "p, role:bob, namespaces, read, old\n";
  const Lines block = {"p, role:bob, namespaces, read, new", "g, bob, role:bob"};
  CHECK(ReplaceUserBlock(policy, "bob", block) == Join(block) + "g, admin, role:admin\n");
}

TEST_CASE("ReplaceUserBlock keeps other lines byte for byte, CR included", "[unit][rbac]") {
  const std::string policy =
      "g,   admin ,role:admin\r\n"
      "p, role:bob, namespaces, read, old\r\n"
      "#\tcomment\r\n";
  CHECK(ReplaceUserBlock(policy, "bob", {"g, bob, role:bob"}) ==
        "g,   admin ,role:admin\r\ng, bob, role:bob\n#\tcomment\r\n");
}

TEST_CASE("RemoveUserBlock returns the removed lines verbatim and in order", "[unit][rbac]") {
  Lines removed = {"kept from before"};
  const std::string out = RemoveUserBlock(kPolicy, "alice", &removed);
  CHECK(removed ==
        Lines{"kept from before", "p,role:alice , namespaces, *, old-ns", "g, alice, role:alice"});
  CHECK(out ==
        "# tenants are managed by everest-bootstrapd   \n"
        "g, admin, role:admin\n"
        "p, role:alice2, namespaces, read, alice2-ns\n"
        "p, role:alice_x, database-clusters, read, x/*\n"
        "g, alice2, role:alice2\n"
        "g, alice_x, role:alice_x\n");
  CHECK(UserBlockLines(out, "alice").empty());
  CHECK(UserBlockLines(out, "alice2").size() == 2);

  // Restoring the removed lines (as resume does) brings the block back.
  const Lines restored(removed.begin() + 1, removed.end());
  CHECK(UserBlockLines(ReplaceUserBlock(out, "alice", restored), "alice") == restored);
}

TEST_CASE("RemoveUserBlock without a block changes nothing else", "[unit][rbac]") {
  Lines removed;
  CHECK(RemoveUserBlock("g, admin, role:admin\n# x\n", "carol", &removed) ==
        "g, admin, role:admin\n# x\n");
  CHECK(removed.empty());
  CHECK(RemoveUserBlock("g, carol, role:carol\n", "carol", nullptr) == "");
}

TEST_CASE("UserBlockLines lists the user's lines in order", "[unit][rbac]") {
  CHECK(UserBlockLines(kPolicy, "alice") ==
        Lines{"p,role:alice , namespaces, *, old-ns", "g, alice, role:alice"});
  CHECK(UserBlockLines(kPolicy, "alice_x") ==
        Lines{"p, role:alice_x, database-clusters, read, x/*", "g, alice_x, role:alice_x"});
  CHECK(UserBlockLines(kPolicy, "nobody").empty());
}

TEST_CASE("HasAdminBinding needs the exact binding", "[unit][rbac]") {
  CHECK(HasAdminBinding("g, admin, role:admin\n"));
  CHECK(HasAdminBinding("# header\ng,admin,role:admin"));
  CHECK(HasAdminBinding("  g ,  admin , role:admin  \n"));
  CHECK_FALSE(HasAdminBinding("# g, admin, role:admin\n"));
  CHECK_FALSE(HasAdminBinding("g, admin2, role:admin\n"));
  CHECK_FALSE(HasAdminBinding("g, admin, role:admin2\n"));
  CHECK_FALSE(HasAdminBinding("g, admin, role:admin, x\n"));
  CHECK_FALSE(HasAdminBinding("p, admin, role:admin\n"));
  CHECK_FALSE(HasAdminBinding(""));
}

}  // namespace
}  // namespace bootstrapd

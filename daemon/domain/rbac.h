// Everest's Casbin policy (the `policy.csv` key of everest-system/everest-rbac):
// the per-user block this service owns, and merges that keep every other line
// byte for byte. Pure; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bootstrapd {

// The default role of seed 001, for user `u` and namespace `ns`:
//   p, role:u, namespaces, read, ns
//   p, role:u, database-engines, read, ns/*
//   p, role:u, database-clusters, read, ns/*     (then update, create, delete)
//   p, role:u, database-cluster-credentials, read, ns/*
//   g, u, role:u
std::vector<std::string> DefaultRoleLines(const std::string& user, const std::string& ns);

// True when `line` belongs to user `u`'s block: a `p` line whose subject is
// `role:u`, or the `g` line `g, u, role:u`. Fields are comma-separated and
// compared after trimming blanks; the comparison is case-sensitive.
bool IsUserBlockLine(std::string_view line, const std::string& user);

// Returns the policy with `user`'s block replaced by `block`: every other line
// (comments and `g, admin, role:admin` included) is kept byte for byte and in
// order; the new block goes where the old block's first line was, or at the
// end when there was none. Whitespace-only lines are dropped (everest refuses
// them); the result ends with exactly one "\n".
std::string ReplaceUserBlock(std::string_view policy, const std::string& user,
                             const std::vector<std::string>& block);

// Removes `user`'s block; the removed lines are appended to *removed (if non-null)
// in their original order. Same preservation rules as ReplaceUserBlock.
std::string RemoveUserBlock(std::string_view policy, const std::string& user,
                            std::vector<std::string>* removed);

// The block lines of `user` currently in `policy`, in order.
std::vector<std::string> UserBlockLines(std::string_view policy, const std::string& user);

// True when the exact admin binding `g, admin, role:admin` (blank-insensitive) is present.
bool HasAdminBinding(std::string_view policy);

}  // namespace bootstrapd

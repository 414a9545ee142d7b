// Everest Casbin policy: a tenant's role block and line-preserving merges.
#include "daemon/domain/rbac.h"
#include "daemon/domain/text.h"

#include <string>
#include <string_view>
#include <vector>

namespace bootstrapd {
namespace {

std::string_view Trim(std::string_view s) { return TrimBlanks(s); }

// Comma-separated fields, each trimmed of blanks.
std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  while (true) {
    const std::size_t comma = line.find(',', pos);
    fields.push_back(
        Trim(line.substr(pos, comma == std::string_view::npos ? line.npos : comma - pos)));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return fields;
}

// The lines of `text` split on "\n", verbatim (a "\r" before the "\n" stays
// with its line). A final "\n" does not open an extra line.
std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      lines.push_back(text.substr(pos));
      break;
    }
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

// Appends the non-blank lines of each block entry (an entry holding "\n" is
// split, so a caller's stray newline cannot make a blank policy line).
void AppendBlock(const std::vector<std::string>& block, std::vector<std::string_view>* out) {
  for (const std::string& entry : block) {
    for (std::string_view line : Lines(entry)) {
      if (!IsBlank(line)) out->push_back(line);
    }
  }
}

// The policy rebuilt with `user`'s block lines replaced by `block` (inserted at
// the first old block line, or appended). Blank lines are dropped; every other
// line is copied verbatim; the result ends with one "\n" unless it is empty.
std::string Rewrite(std::string_view policy, const std::string& user,
                    const std::vector<std::string>& block, std::vector<std::string>* removed) {
  std::vector<std::string_view> out;
  bool placed = false;
  for (std::string_view line : Lines(policy)) {
    if (IsBlank(line)) continue;
    if (IsUserBlockLine(line, user)) {
      if (removed != nullptr) removed->emplace_back(line);
      if (!placed) {
        AppendBlock(block, &out);
        placed = true;
      }
      continue;
    }
    out.push_back(line);
  }
  if (!placed) AppendBlock(block, &out);

  std::string result;
  for (std::string_view line : out) {
    result.append(line);
    result.push_back('\n');
  }
  return result;
}

}  // namespace

std::vector<std::string> DefaultRoleLines(const std::string& user, const std::string& ns) {
  const std::string p = "p, role:" + user + ", ";
  const std::string all = ns + "/*";
  return {
      p + "namespaces, read, " + ns,
      p + "database-engines, read, " + all,
      p + "database-clusters, read, " + all,
      p + "database-clusters, update, " + all,
      p + "database-clusters, create, " + all,
      p + "database-clusters, delete, " + all,
      p + "database-cluster-credentials, read, " + all,
      "g, " + user + ", role:" + user,
  };
}

bool IsUserBlockLine(std::string_view line, const std::string& user) {
  if (user.empty()) return false;  // "role:" alone names nobody's block
  const std::vector<std::string_view> f = Fields(line);
  const std::string role = "role:" + user;
  if (f[0] == "p") return f.size() >= 2 && f[1] == role;
  if (f[0] == "g") return f.size() == 3 && f[1] == user && f[2] == role;
  return false;
}

std::string ReplaceUserBlock(std::string_view policy, const std::string& user,
                             const std::vector<std::string>& block) {
  return Rewrite(policy, user, block, nullptr);
}

std::string RemoveUserBlock(std::string_view policy, const std::string& user,
                            std::vector<std::string>* removed) {
  return Rewrite(policy, user, {}, removed);
}

std::vector<std::string> UserBlockLines(std::string_view policy, const std::string& user) {
  std::vector<std::string> lines;
  for (std::string_view line : Lines(policy)) {
    if (IsUserBlockLine(line, user)) lines.emplace_back(line);
  }
  return lines;
}

bool HasAdminBinding(std::string_view policy) {
  for (std::string_view line : Lines(policy)) {
    const std::vector<std::string_view> f = Fields(line);
    if (f.size() == 3 && f[0] == "g" && f[1] == "admin" && f[2] == "role:admin") return true;
  }
  return false;
}

}  // namespace bootstrapd

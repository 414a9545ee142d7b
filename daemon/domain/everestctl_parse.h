// Parsers for what everestctl prints (EVERESTCTL.md §2). Pure; any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bootstrapd {

struct AccountRow {
  std::string user;
  std::vector<std::string> capabilities;  // "[login apiKey]" -> {"login","apiKey"}
  bool enabled = false;
};

// Parses the rodaine/table layout of `everestctl accounts list`: a header line
// "USER  CAPABILITIES  ENABLED  " whose column start offsets cut every row (values
// such as "[login apiKey]" hold spaces; every cell is right-padded, lines carry
// trailing blanks). Works for any column order given in the header; unknown
// columns are ignored. Rows are returned sorted by user. An empty output, or a
// header alone, gives an empty vector. Returns nullopt and sets *error when the
// text is not such a table (no USER column, a row that does not fit the columns,
// an ENABLED value other than true/false, capabilities not in [..]).
std::optional<std::vector<AccountRow>> ParseAccountsTable(std::string_view text,
                                                          std::string* error);

struct NamespaceRow {
  std::string name;
  bool managed = false;
  // "postgresql(v2.8.2), psmdb(v1.21.1)" -> {"postgresql","psmdb"} plus versions.
  std::vector<std::pair<std::string, std::string>> operators;  // (name, version)
};

// Parses `everestctl namespaces list` (columns NAMESPACE MANAGED OPERATORS, same
// rodaine layout). Same error rules as above.
std::optional<std::vector<NamespaceRow>> ParseNamespacesTable(std::string_view text,
                                                              std::string* error);

struct CliVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  bool AtLeast(int ma, int mi) const { return major > ma || (major == ma && minor >= mi); }
};

// Accepts the JSON form {"projectName":"everestctl","version":"v1.11.0",...} and
// the text form ("Version: v1.11.0" on its own line). A leading "v" is optional,
// pre-release suffixes ("v1.12.0-rc1") are ignored. nullopt when no version found.
std::optional<CliVersion> ParseEverestctlVersion(std::string_view text);

}  // namespace bootstrapd

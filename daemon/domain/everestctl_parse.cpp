// Parsers for everestctl's table and version output (EVERESTCTL.md §2).
#include "daemon/domain/everestctl_parse.h"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/domain/text.h"

namespace bootstrapd {
namespace {

constexpr std::string_view kBlanks = " \t\r\v\f";
std::string_view Trim(std::string_view s) { return TrimBlanks(s); }

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// Sets *error (when non-null) and returns nullopt, so failures read as one line.
// Messages quote input, so they are made valid UTF-8 (safe to put in JSON).
template <typename T>
std::optional<T> Fail(std::string* error, const std::string& message) {
  if (error != nullptr) *error = SanitizeUtf8(message);
  return std::nullopt;
}

// Byte offset of every code point of `line`, plus line.size() as a sentinel.
// rodaine/table measures widths in runes (utf8.RuneCountInString), so column
// positions are rune indices; a byte that is not a UTF-8 continuation byte
// starts a rune.
std::vector<std::size_t> RuneStarts(std::string_view line) {
  std::vector<std::size_t> starts;
  starts.reserve(line.size() + 1);
  for (std::size_t i = 0; i < line.size(); ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  starts.push_back(line.size());
  return starts;
}

struct RawTable {
  std::vector<std::string> columns;             // header names, uppercased
  std::vector<std::vector<std::string>> cells;  // trimmed, one per column
  std::vector<std::size_t> line_numbers;        // 1-based line of each row
};

// Cuts a rodaine/table layout by the header's column start offsets. Blank
// lines are skipped; the first other line is the header, which must name
// `key_column` (case-insensitively). Each cell must be left-aligned in its
// column, and a non-last cell must leave at least one blank before the next
// column starts.
std::optional<RawTable> ParseRodaineTable(std::string_view text, std::string_view key_column,
                                          std::string* error) {
  std::vector<std::pair<std::size_t, std::string_view>> lines;  // (line number, text)
  std::size_t number = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, end - pos);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!IsBlank(line)) lines.emplace_back(number, line);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }

  RawTable table;
  if (lines.empty()) return table;

  // Header: names separated by runs of at least two blanks (the table padding).
  const auto [header_number, header] = lines.front();
  bool has_key = false;
  for (std::size_t b = header.find_first_not_of(' '); b != std::string_view::npos;) {
    const std::size_t e = std::min(header.find(' ', b), header.size());
    has_key = has_key || Upper(header.substr(b, e - b)) == key_column;
    b = header.find_first_not_of(' ', e);
  }
  if (!has_key) {
    return Fail<RawTable>(error, "not a table: no " + std::string(key_column) + " column in \"" +
                                     std::string(header.substr(0, 80)) + "\"");
  }
  const std::vector<std::size_t> header_runes = RuneStarts(header);
  std::vector<std::size_t> starts;  // rune index where each column begins
  std::size_t gap = 0;
  for (std::size_t r = 0; r + 1 < header_runes.size(); ++r) {
    const char c = header[header_runes[r]];
    if (c == ' ') {
      ++gap;
      continue;
    }
    const bool token_start = r == 0 || header[header_runes[r - 1]] == ' ';
    if (token_start) {
      if (!starts.empty() && gap < 2) {
        return Fail<RawTable>(error, "line " + std::to_string(header_number) +
                                         ": header columns are not separated by table padding");
      }
      starts.push_back(r);
    }
    gap = 0;
  }
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const std::size_t b = header_runes[starts[k]];
    const std::size_t e = k + 1 < starts.size() ? header_runes[starts[k + 1]] : header.size();
    table.columns.push_back(Upper(Trim(header.substr(b, e - b))));
  }

  for (std::size_t li = 1; li < lines.size(); ++li) {
    // Plain variables, not structured bindings: the lambda below captures them.
    const std::size_t line_number = lines[li].first;
    const std::string_view line = lines[li].second;
    const std::string where = "line " + std::to_string(line_number) + ": ";
    const std::vector<std::size_t> runes = RuneStarts(line);
    const std::size_t rune_count = runes.size() - 1;
    auto bytes = [&](std::size_t from_rune, std::size_t to_rune) {
      from_rune = std::min(from_rune, rune_count);
      to_rune = std::min(to_rune, rune_count);
      return line.substr(runes[from_rune], runes[to_rune] - runes[from_rune]);
    };
    if (!IsBlank(bytes(0, starts.front()))) {
      return Fail<RawTable>(error, where + "text before the first column");
    }
    std::vector<std::string> row;
    for (std::size_t k = 0; k < starts.size(); ++k) {
      const bool last = k + 1 == starts.size();
      const std::size_t end = last ? rune_count : starts[k + 1];
      const std::string_view cell = bytes(starts[k], end);
      if (!IsBlank(cell) && cell.front() == ' ') {
        return Fail<RawTable>(error, where + "value not aligned with column " + table.columns[k]);
      }
      if (!last && rune_count >= end && line[runes[end - 1]] != ' ') {
        return Fail<RawTable>(error, where + "value runs past column " + table.columns[k]);
      }
      row.emplace_back(Trim(cell));
    }
    table.cells.push_back(std::move(row));
    table.line_numbers.push_back(line_number);
  }
  return table;
}

// Index of column `name` in `table`, -1 when absent, -2 when it appears twice.
int ColumnIndex(const RawTable& table, std::string_view name) {
  int found = -1;
  for (std::size_t k = 0; k < table.columns.size(); ++k) {
    if (table.columns[k] == name) {
      if (found != -1) return -2;
      found = static_cast<int>(k);
    }
  }
  return found;
}

// Resolves the optional columns `names` (all but the first may be absent).
// Returns false and sets *error on a missing first column or any duplicate.
bool ResolveColumns(const RawTable& table, const std::vector<std::string_view>& names,
                    std::vector<int>* indexes, std::string* error) {
  for (std::size_t k = 0; k < names.size(); ++k) {
    const int index = ColumnIndex(table, names[k]);
    if (index == -2) {
      if (error != nullptr) *error = "column " + std::string(names[k]) + " appears twice";
      return false;
    }
    if (index == -1 && k == 0) {
      if (error != nullptr) *error = "not a table: no " + std::string(names[k]) + " column";
      return false;
    }
    indexes->push_back(index);
  }
  return true;
}

std::optional<bool> ParseBool(std::string_view s) {
  if (s == "true") return true;
  if (s == "false") return false;
  return std::nullopt;
}

bool HasBlank(std::string_view s) { return s.find_first_of(kBlanks) != std::string_view::npos; }

// "[login apiKey]" (Go's fmt.Sprint of a []string) -> {"login", "apiKey"}.
std::optional<std::vector<std::string>> ParseGoStringSlice(std::string_view s) {
  if (s.size() < 2 || s.front() != '[' || s.back() != ']') return std::nullopt;
  std::string_view inner = s.substr(1, s.size() - 2);
  std::vector<std::string> items;
  std::size_t pos = 0;
  while (pos < inner.size()) {
    const std::size_t b = inner.find_first_not_of(kBlanks, pos);
    if (b == std::string_view::npos) break;
    std::size_t e = inner.find_first_of(kBlanks, b);
    if (e == std::string_view::npos) e = inner.size();
    const std::string_view item = inner.substr(b, e - b);
    if (item.find_first_of("[]") != std::string_view::npos) return std::nullopt;
    items.emplace_back(item);
    pos = e;
  }
  return items;
}

// "postgresql(v2.8.2), psmdb(v1.21.1)" -> {("postgresql","v2.8.2"), ("psmdb","v1.21.1")};
// an empty cell gives no operators.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseOperators(std::string_view s) {
  std::vector<std::pair<std::string, std::string>> ops;
  if (s.empty()) return ops;
  std::size_t pos = 0;
  while (true) {
    const std::size_t comma = s.find(',', pos);
    const std::string_view item =
        Trim(s.substr(pos, comma == std::string_view::npos ? s.npos : comma - pos));
    const std::size_t open = item.find('(');
    if (open == std::string_view::npos || open == 0 || item.back() != ')' ||
        open + 2 >= item.size()) {
      return std::nullopt;
    }
    const std::string_view name = item.substr(0, open);
    const std::string_view version = item.substr(open + 1, item.size() - open - 2);
    if (HasBlank(name) || HasBlank(version) || version.find_first_of("()") != s.npos) {
      return std::nullopt;
    }
    ops.emplace_back(std::string(name), std::string(version));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return ops;
}

// "v1.12.0-rc1" / "1.11.0" / "1.11" -> CliVersion; nullopt otherwise.
std::optional<CliVersion> ParseSemver(std::string_view s) {
  s = Trim(s);
  if (!s.empty() && (s.front() == 'v' || s.front() == 'V')) s.remove_prefix(1);
  const std::size_t suffix = s.find_first_of("-+");
  if (suffix != std::string_view::npos) s = s.substr(0, suffix);
  int parts[3] = {0, 0, 0};
  int count = 0;
  const char* p = s.data();
  const char* end = s.data() + s.size();
  while (count < 3) {
    if (p == end || *p < '0' || *p > '9') return std::nullopt;
    const auto [next, ec] = std::from_chars(p, end, parts[count]);
    if (ec != std::errc()) return std::nullopt;
    ++count;
    p = next;
    if (p == end) break;
    if (*p != '.') return std::nullopt;
    ++p;
  }
  if (p != end || count < 2) return std::nullopt;
  CliVersion v;
  v.major = parts[0];
  v.minor = parts[1];
  v.patch = parts[2];
  return v;
}

std::optional<CliVersion> VersionFromJson(std::string_view text) {
  const nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (!doc.is_object()) return std::nullopt;
  const auto it = doc.find("version");
  if (it == doc.end() || !it->is_string()) return std::nullopt;
  return ParseSemver(it->get_ref<const std::string&>());
}

}  // namespace

std::optional<std::vector<AccountRow>> ParseAccountsTable(std::string_view text,
                                                          std::string* error) {
  std::optional<RawTable> table = ParseRodaineTable(text, "USER", error);
  if (!table) return std::nullopt;
  std::vector<AccountRow> rows;
  if (table->columns.empty()) return rows;  // empty output
  std::vector<int> col;
  if (!ResolveColumns(*table, {"USER", "CAPABILITIES", "ENABLED"}, &col, error)) {
    return std::nullopt;
  }
  for (std::size_t r = 0; r < table->cells.size(); ++r) {
    const std::vector<std::string>& cells = table->cells[r];
    const std::string where = "line " + std::to_string(table->line_numbers[r]) + ": ";
    AccountRow row;
    row.user = cells[col[0]];
    if (row.user.empty() || HasBlank(row.user)) {
      return Fail<std::vector<AccountRow>>(error, where + "bad USER value '" + row.user + "'");
    }
    if (col[1] >= 0) {
      auto caps = ParseGoStringSlice(cells[col[1]]);
      if (!caps) {
        return Fail<std::vector<AccountRow>>(
            error, where + "CAPABILITIES value '" + cells[col[1]] + "' is not in [..]");
      }
      row.capabilities = std::move(*caps);
    }
    if (col[2] >= 0) {
      const std::optional<bool> enabled = ParseBool(cells[col[2]]);
      if (!enabled) {
        return Fail<std::vector<AccountRow>>(
            error, where + "ENABLED value '" + cells[col[2]] + "' is not true/false");
      }
      row.enabled = *enabled;
    }
    rows.push_back(std::move(row));
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const AccountRow& a, const AccountRow& b) { return a.user < b.user; });
  return rows;
}

std::optional<std::vector<NamespaceRow>> ParseNamespacesTable(std::string_view text,
                                                              std::string* error) {
  std::optional<RawTable> table = ParseRodaineTable(text, "NAMESPACE", error);
  if (!table) return std::nullopt;
  std::vector<NamespaceRow> rows;
  if (table->columns.empty()) return rows;
  std::vector<int> col;
  if (!ResolveColumns(*table, {"NAMESPACE", "MANAGED", "OPERATORS"}, &col, error)) {
    return std::nullopt;
  }
  for (std::size_t r = 0; r < table->cells.size(); ++r) {
    const std::vector<std::string>& cells = table->cells[r];
    const std::string where = "line " + std::to_string(table->line_numbers[r]) + ": ";
    NamespaceRow row;
    row.name = cells[col[0]];
    if (row.name.empty() || HasBlank(row.name)) {
      return Fail<std::vector<NamespaceRow>>(error,
                                             where + "bad NAMESPACE value '" + row.name + "'");
    }
    if (col[1] >= 0) {
      const std::optional<bool> managed = ParseBool(cells[col[1]]);
      if (!managed) {
        return Fail<std::vector<NamespaceRow>>(
            error, where + "MANAGED value '" + cells[col[1]] + "' is not true/false");
      }
      row.managed = *managed;
    }
    if (col[2] >= 0) {
      auto ops = ParseOperators(cells[col[2]]);
      if (!ops) {
        return Fail<std::vector<NamespaceRow>>(
            error, where + "OPERATORS value '" + cells[col[2]] + "' is not name(version), ...");
      }
      row.operators = std::move(*ops);
    }
    rows.push_back(std::move(row));
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const NamespaceRow& a, const NamespaceRow& b) { return a.name < b.name; });
  return rows;
}

std::optional<CliVersion> ParseEverestctlVersion(std::string_view text) {
  // JSON form: the whole output, or one line of it (logs may share the stream).
  if (const std::string_view trimmed = Trim(text); !trimmed.empty() && trimmed.front() == '{') {
    if (auto v = VersionFromJson(trimmed)) return v;
  }
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    const std::string_view line =
        Trim(text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos));
    if (!line.empty() && line.front() == '{') {
      if (auto v = VersionFromJson(line)) return v;
    } else if (line.substr(0, 8) == "Version:") {
      if (auto v = ParseSemver(line.substr(8))) return v;
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return std::nullopt;
}

}  // namespace bootstrapd

// libFuzzer harness: the everestctl output parsers (daemon/domain/
// everestctl_parse.h) and the text hygiene applied to every child's output
// (daemon/domain/text.h). All of it reads untrusted CLI output.
//
// Input: byte 0 selects the target, the rest is the CLI's stdout.
//   byte0 % 4: 0 ParseAccountsTable, 1 ParseNamespacesTable,
//              2 ParseEverestctlVersion, 3 the text helpers
//   (byte0 / 4 is the cap/line budget for the text helpers)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/domain/everestctl_parse.h"
#include "daemon/domain/text.h"
#include "fuzz/fuzz_common.h"

namespace {

using Cells = std::vector<std::string>;

constexpr std::string_view kBlanks = " \t\r\v\f";

bool HasBlank(std::string_view s) { return s.find_first_of(kBlanks) != std::string_view::npos; }

std::size_t Runes(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// rodaine/table v1.3.0 as everestctl prints it (tests/fakes/fake_everestctl.py
// rodaine_table): each column max(runes of cells, header) + 2 wide, every
// cell right-padded with spaces.
std::string Rodaine(const Cells& header, const std::vector<Cells>& rows) {
  std::vector<std::size_t> width;
  for (std::size_t c = 0; c < header.size(); ++c) {
    std::size_t w = Runes(header[c]);
    for (const Cells& row : rows) w = std::max(w, Runes(row[c]));
    width.push_back(w + 2);
  }
  auto line = [&](const Cells& cells) {
    std::string out;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      out += cells[c] + std::string(width[c] - Runes(cells[c]), ' ');
    }
    return out + "\n";
  };
  std::string out = line(header);
  for (const Cells& row : rows) out += line(row);
  return out;
}

// Messages go into JSON problem bodies and logs: always valid UTF-8.
void CheckError(bool failed, const std::string& error) {
  if (failed) FUZZ_CHECK(!error.empty());
  FUZZ_CHECK(fuzz::IsValidUtf8(error));
}

// A cell value that survives a rodaine layout unchanged: valid UTF-8 (rune
// offsets are the layout's unit) and no newline.
bool Printable(std::string_view s) {
  return fuzz::IsValidUtf8(s) && s.find('\n') == std::string_view::npos;
}

void FuzzAccounts(std::string_view text) {
  std::string error;
  const auto rows = bootstrapd::ParseAccountsTable(text, &error);
  CheckError(!rows, error);
  if (!rows) return;
  bool printable = true;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const auto& r = (*rows)[i];
    FUZZ_CHECK(!r.user.empty() && !HasBlank(r.user));
    if (i > 0) FUZZ_CHECK((*rows)[i - 1].user <= r.user);
    printable = printable && Printable(r.user);
    for (const auto& cap : r.capabilities) {
      FUZZ_CHECK(!cap.empty() && !HasBlank(cap));
      FUZZ_CHECK(cap.find_first_of("[]") == std::string::npos);
      printable = printable && Printable(cap);
    }
  }
  if (!printable) return;
  // Round trip: lay the rows out as everestctl would and parse them again.
  std::vector<Cells> cells;
  for (const auto& r : *rows) {
    std::string caps = "[";
    for (std::size_t k = 0; k < r.capabilities.size(); ++k) {
      caps += (k ? " " : "") + r.capabilities[k];
    }
    cells.push_back({r.user, caps + "]", r.enabled ? "true" : "false"});
  }
  const std::string again_text = Rodaine({"USER", "CAPABILITIES", "ENABLED"}, cells);
  std::string again_error;
  const auto again = bootstrapd::ParseAccountsTable(again_text, &again_error);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->size() == rows->size());
  for (std::size_t i = 0; i < rows->size(); ++i) {
    FUZZ_CHECK((*again)[i].user == (*rows)[i].user);
    FUZZ_CHECK((*again)[i].capabilities == (*rows)[i].capabilities);
    FUZZ_CHECK((*again)[i].enabled == (*rows)[i].enabled);
  }
}

void FuzzNamespaces(std::string_view text) {
  std::string error;
  const auto rows = bootstrapd::ParseNamespacesTable(text, &error);
  CheckError(!rows, error);
  if (!rows) return;
  bool printable = true;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const auto& r = (*rows)[i];
    FUZZ_CHECK(!r.name.empty() && !HasBlank(r.name));
    if (i > 0) FUZZ_CHECK((*rows)[i - 1].name <= r.name);
    printable = printable && Printable(r.name);
    for (const auto& [name, version] : r.operators) {
      FUZZ_CHECK(!name.empty() && !version.empty());
      FUZZ_CHECK(!HasBlank(name) && !HasBlank(version));
      FUZZ_CHECK(name.find_first_of("(,") == std::string::npos);
      FUZZ_CHECK(version.find_first_of("(),") == std::string::npos);
      printable = printable && Printable(name) && Printable(version);
    }
  }
  if (!printable) return;
  std::vector<Cells> cells;
  for (const auto& r : *rows) {
    std::string ops;
    for (const auto& [name, version] : r.operators) {
      ops += (ops.empty() ? "" : ", ") + name + "(" + version + ")";
    }
    cells.push_back({r.name, r.managed ? "true" : "false", ops});
  }
  const std::string again_text = Rodaine({"NAMESPACE", "MANAGED", "OPERATORS"}, cells);
  const auto again = bootstrapd::ParseNamespacesTable(again_text, nullptr);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->size() == rows->size());
  for (std::size_t i = 0; i < rows->size(); ++i) {
    FUZZ_CHECK((*again)[i].name == (*rows)[i].name);
    FUZZ_CHECK((*again)[i].managed == (*rows)[i].managed);
    FUZZ_CHECK((*again)[i].operators == (*rows)[i].operators);
  }
}

void FuzzVersion(std::string_view text) {
  const auto v = bootstrapd::ParseEverestctlVersion(text);
  if (!v) return;
  FUZZ_CHECK(v->major >= 0 && v->minor >= 0 && v->patch >= 0);
  FUZZ_CHECK(v->AtLeast(v->major, v->minor));
  // Both documented forms of the same version read back the same.
  const std::string ver = std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                          std::to_string(v->patch);
  for (const std::string& form :
       {"Version: v" + ver + "\n", R"({"projectName":"everestctl","version":"v)" + ver + R"("})"}) {
    const auto again = bootstrapd::ParseEverestctlVersion(form);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->major == v->major && again->minor == v->minor && again->patch == v->patch);
  }
}

void FuzzText(std::string_view raw, std::size_t budget) {
  // StripAnsi: no ESC and no CR survive; stripping is idempotent.
  const std::string stripped = bootstrapd::StripAnsi(raw);
  FUZZ_CHECK(stripped.size() <= raw.size());
  FUZZ_CHECK(stripped.find('\x1b') == std::string::npos);
  FUZZ_CHECK(stripped.find('\r') == std::string::npos);
  FUZZ_CHECK(bootstrapd::StripAnsi(stripped) == stripped);

  // SanitizeUtf8: valid output, unchanged on valid input, idempotent.
  const std::string sane = bootstrapd::SanitizeUtf8(raw);
  FUZZ_CHECK(fuzz::IsValidUtf8(sane));
  if (fuzz::IsValidUtf8(raw)) FUZZ_CHECK(sane == raw);
  FUZZ_CHECK(bootstrapd::SanitizeUtf8(sane) == sane);

  // CapUtf8 on valid input: a valid prefix of at most `cap` bytes + marker.
  const std::size_t cap = budget * 16;
  bool truncated = true;
  const std::string capped = bootstrapd::CapUtf8(sane, cap, &truncated);
  FUZZ_CHECK(fuzz::IsValidUtf8(capped));
  if (!truncated) {
    FUZZ_CHECK(capped == sane && sane.size() <= cap);
  } else {
    FUZZ_CHECK(sane.size() > cap);
    const std::size_t cut = capped.rfind("\n[... truncated ");  // the text may hold one too
    FUZZ_CHECK(cut != std::string::npos && cut <= cap && cap - cut <= 3);
    FUZZ_CHECK(sane.compare(0, cut, capped, 0, cut) == 0);
    FUZZ_CHECK(capped.substr(cut) ==
               "\n[... truncated " + std::to_string(sane.size() - cut) + " bytes]");
  }

  // CleanOutput: the runner's one call; what reaches a job or a log line.
  bool clean_truncated = false;
  const std::string clean = bootstrapd::CleanOutput(raw, cap, &clean_truncated);
  FUZZ_CHECK(fuzz::IsValidUtf8(clean));
  FUZZ_CHECK(clean.find('\x1b') == std::string::npos);
  FUZZ_CHECK(clean == bootstrapd::CapUtf8(bootstrapd::SanitizeUtf8(stripped), cap));

  // Tail: at most max_bytes, valid when the input is, made of input lines.
  const std::size_t max_lines = budget % 8;
  const std::size_t max_bytes = budget * 8;
  const std::string tail = bootstrapd::Tail(sane, max_lines, max_bytes);
  FUZZ_CHECK(tail.size() <= max_bytes);
  FUZZ_CHECK(fuzz::IsValidUtf8(tail));
  if (max_lines > 0 && max_bytes > 0) {
    std::size_t lines = tail.empty() ? 0 : 1;
    for (char c : tail) lines += c == '\n';
    FUZZ_CHECK(lines <= max_lines);
  }

  // TrimBlanks / IsBlank.
  const std::string_view trimmed = bootstrapd::TrimBlanks(raw);
  FUZZ_CHECK(raw.find(trimmed) != std::string_view::npos);
  FUZZ_CHECK(bootstrapd::IsBlank(raw) == trimmed.empty());
  if (!trimmed.empty()) {
    FUZZ_CHECK(kBlanks.find(trimmed.front()) == std::string_view::npos);
    FUZZ_CHECK(kBlanks.find(trimmed.back()) == std::string_view::npos);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t selector = data[0];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (selector % 4) {
    case 0: FuzzAccounts(text); break;
    case 1: FuzzNamespaces(text); break;
    case 2: FuzzVersion(text); break;
    default: FuzzText(text, selector / 4); break;
  }
  return 0;
}

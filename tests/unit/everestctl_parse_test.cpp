// Known-answer tests for daemon/domain/everestctl_parse.h.
#include "daemon/domain/everestctl_parse.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

namespace bootstrapd {
namespace {

using Cells = std::vector<std::string>;

// Lays out a table the way rodaine/table v1.3.0 does for ASCII cells: each
// column is max(cell, header) + 2 wide and every cell, the last one included,
// is right-padded with spaces.
std::string Rodaine(const Cells& header, const std::vector<Cells>& rows) {
  std::vector<std::size_t> width;
  for (std::size_t c = 0; c < header.size(); ++c) {
    std::size_t w = header[c].size();
    for (const Cells& row : rows) w = std::max(w, row[c].size());
    width.push_back(w + 2);
  }
  auto line = [&](const Cells& cells) {
    std::string out;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      out += cells[c] + std::string(width[c] - cells[c].size(), ' ');
    }
    return out + "\n";
  };
  std::string out = line(header);
  for (const Cells& row : rows) out += line(row);
  return out;
}

// The exact sample of EVERESTCTL.md §2.1, trailing blanks kept.
const std::string kSample =
    "USER      CAPABILITIES  ENABLED  \n"
    "admin     [login]       true     \n"
    "tenant_a  [login]       true     \n";

TEST_CASE("Rodaine test helper reproduces the documented sample", "[unit][parse]") {
  CHECK(Rodaine({"USER", "CAPABILITIES", "ENABLED"},
                {{"admin", "[login]", "true"}, {"tenant_a", "[login]", "true"}}) == kSample);
}

TEST_CASE("ParseAccountsTable reads the documented sample", "[unit][parse]") {
  std::string error;
  const auto rows = ParseAccountsTable(kSample, &error);
  REQUIRE(rows.has_value());
  CHECK(error.empty());
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0].user == "admin");
  CHECK((*rows)[0].capabilities == Cells{"login"});
  CHECK((*rows)[0].enabled);
  CHECK((*rows)[1].user == "tenant_a");
  CHECK((*rows)[1].capabilities == Cells{"login"});
  CHECK((*rows)[1].enabled);
}

TEST_CASE("ParseAccountsTable cuts by column offsets and sorts by user", "[unit][parse]") {
  // Random (map) order, a capability list holding a space, an empty list, a
  // disabled account.
  const std::string text =
      "USER   CAPABILITIES    ENABLED  \n"
      "zed    [login apiKey]  false    \n"
      "admin  [login]         true     \n"
      "bob    []              true     \n";
  std::string error;
  const auto rows = ParseAccountsTable(text, &error);
  REQUIRE(rows.has_value());
  REQUIRE(rows->size() == 3);
  CHECK((*rows)[0].user == "admin");
  CHECK((*rows)[1].user == "bob");
  CHECK((*rows)[1].capabilities.empty());
  CHECK((*rows)[1].enabled);
  CHECK((*rows)[2].user == "zed");
  CHECK((*rows)[2].capabilities == Cells{"login", "apiKey"});
  CHECK_FALSE((*rows)[2].enabled);
}

TEST_CASE("ParseAccountsTable follows the header's column order", "[unit][parse]") {
  const std::string text =
      Rodaine({"ENABLED", "CAPABILITIES", "USER"},
              {{"false", "[apiKey login]", "tenant_b"}, {"true", "[login]", "alice"}});
  const auto rows = ParseAccountsTable(text, nullptr);
  REQUIRE(rows.has_value());
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0].user == "alice");
  CHECK((*rows)[0].enabled);
  CHECK((*rows)[1].user == "tenant_b");
  CHECK((*rows)[1].capabilities == Cells{"apiKey", "login"});
  CHECK_FALSE((*rows)[1].enabled);
}

TEST_CASE("ParseAccountsTable ignores unknown columns and accepts a USER-only table",
          "[unit][parse]") {
  const auto with_extra = ParseAccountsTable(
      Rodaine({"USER", "PASSWORDMTIME", "ENABLED"}, {{"carol", "2026-01-12T08:00:00Z", "true"}}),
      nullptr);
  REQUIRE(with_extra.has_value());
  REQUIRE(with_extra->size() == 1);
  CHECK((*with_extra)[0].user == "carol");
  CHECK((*with_extra)[0].enabled);
  CHECK((*with_extra)[0].capabilities.empty());

  // `accounts list --columns user`.
  const auto user_only = ParseAccountsTable("USER    \nadmin   \ncarol   \n", nullptr);
  REQUIRE(user_only.has_value());
  REQUIRE(user_only->size() == 2);
  CHECK((*user_only)[1].user == "carol");
}

TEST_CASE("ParseAccountsTable gives no rows for empty or header-only output", "[unit][parse]") {
  std::string error = "untouched";
  const auto empty = ParseAccountsTable("", &error);
  REQUIRE(empty.has_value());
  CHECK(empty->empty());
  const auto blank = ParseAccountsTable("\n  \n", &error);
  REQUIRE(blank.has_value());
  CHECK(blank->empty());
  const auto header_only = ParseAccountsTable("USER  CAPABILITIES  ENABLED  \n", &error);
  REQUIRE(header_only.has_value());
  CHECK(header_only->empty());
  const auto header_no_newline = ParseAccountsTable("USER  CAPABILITIES  ENABLED", &error);
  REQUIRE(header_no_newline.has_value());
  CHECK(header_no_newline->empty());
  CHECK(error == "untouched");
}

TEST_CASE("ParseAccountsTable accepts CRLF line ends", "[unit][parse]") {
  const auto rows =
      ParseAccountsTable("USER   ENABLED  \r\nadmin  true     \r\nbob    false    \r\n", nullptr);
  REQUIRE(rows.has_value());
  REQUIRE(rows->size() == 2);
  CHECK_FALSE((*rows)[1].enabled);
}

TEST_CASE("ParseAccountsTable rejects what is not an accounts table", "[unit][parse]") {
  auto rejects = [](const std::string& text, const std::string& needle) {
    std::string error;
    const auto rows = ParseAccountsTable(text, &error);
    INFO("input: " << text << "\nerror: " << error);
    CHECK_FALSE(rows.has_value());
    CHECK(error.find(needle) != std::string::npos);
  };
  // `--no-headers` output: the first row is no header.
  rejects("admin     [login]       true     \n", "USER");
  // everestctl's error text (stderr mixed into stdout by mistake).
  rejects("\xE2\x9D\x8C secrets \"everest-accounts\" not found\n", "USER");
  rejects("Error: unknown flag: --x\nUsage:\n  everestctl accounts list [flags]\n", "USER");
  // Header words separated by single blanks are not a rodaine header.
  rejects("USER CAPABILITIES ENABLED\nadmin [login] true\n", "padding");
  // ENABLED must be true/false.
  rejects("USER   ENABLED  \nadmin  yes      \n", "ENABLED");
  // Capabilities must be a Go slice print.
  rejects("USER   CAPABILITIES  ENABLED  \nadmin  login         true     \n", "CAPABILITIES");
  rejects("USER   CAPABILITIES  ENABLED  \nadmin  [login        true     \n", "CAPABILITIES");
  // A value running into the next column.
  rejects("USER   ENABLED  \ntenant_abc true\n", "USER");
  // A row shifted right by one blank.
  rejects(std::string("USER   ENABLED  \n") + " admin true     \n", "aligned");
  // A missing ENABLED cell.
  rejects("USER   ENABLED  \nadmin           \n", "ENABLED");
  // A duplicated column.
  rejects("USER  USER  \nabc   def   \n", "twice");
}

TEST_CASE("ParseAccountsTable tolerates a null error pointer on failure", "[unit][parse]") {
  CHECK_FALSE(ParseAccountsTable("garbage line here\n", nullptr).has_value());
}

TEST_CASE("ParseNamespacesTable reads names, managed flags and operators", "[unit][parse]") {
  const std::string text =
      Rodaine({"NAMESPACE", "MANAGED", "OPERATORS"},
              {{"tenant-b", "true", "postgresql(v2.8.2), psmdb(v1.21.1), pxc(v1.18.0)"},
               {"legacy", "false", ""},
               {"alpha", "true", "psmdb(v1.21.1)"}});
  std::string error;
  const auto rows = ParseNamespacesTable(text, &error);
  INFO(error);
  REQUIRE(rows.has_value());
  REQUIRE(rows->size() == 3);
  const std::vector<std::pair<std::string, std::string>> all = {
      {"postgresql", "v2.8.2"}, {"psmdb", "v1.21.1"}, {"pxc", "v1.18.0"}};
  CHECK((*rows)[0].name == "alpha");
  CHECK((*rows)[0].managed);
  CHECK((*rows)[0].operators ==
        std::vector<std::pair<std::string, std::string>>{{"psmdb", "v1.21.1"}});
  CHECK((*rows)[1].name == "legacy");
  CHECK_FALSE((*rows)[1].managed);
  CHECK((*rows)[1].operators.empty());
  CHECK((*rows)[2].name == "tenant-b");
  CHECK((*rows)[2].operators == all);
}

TEST_CASE("ParseNamespacesTable handles empty output and rejects garbage", "[unit][parse]") {
  const auto header_only = ParseNamespacesTable("NAMESPACE  MANAGED  OPERATORS  \n", nullptr);
  REQUIRE(header_only.has_value());
  CHECK(header_only->empty());

  std::string error;
  CHECK_FALSE(ParseNamespacesTable(kSample, &error).has_value());
  CHECK(error.find("NAMESPACE") != std::string::npos);
  CHECK_FALSE(ParseNamespacesTable(
                  "NAMESPACE  MANAGED  OPERATORS    \nt1         maybe    psmdb(v1)    \n", &error)
                  .has_value());
  CHECK(error.find("MANAGED") != std::string::npos);
  CHECK_FALSE(ParseNamespacesTable(
                  "NAMESPACE  MANAGED  OPERATORS    \nt1         true     psmdb v1     \n", &error)
                  .has_value());
  CHECK(error.find("OPERATORS") != std::string::npos);
  CHECK_FALSE(ParseNamespacesTable("\xE2\x9D\x8C cannot get namespace subscriptions: cannot list "
                                   "installed operators in namespace='everest'\n",
                                   &error)
                  .has_value());
}

TEST_CASE("ParseEverestctlVersion reads the text form", "[unit][parse]") {
  const auto v = ParseEverestctlVersion(
      "ProjectName: everestctl\n"
      "Version: v1.11.0\n"
      "FullCommit: bdea3d04bdea3d04bdea3d04bdea3d04bdea3d04\n"
      "ServerVersion: v1.10.0\n");
  REQUIRE(v.has_value());
  CHECK(v->major == 1);
  CHECK(v->minor == 11);
  CHECK(v->patch == 0);

  const auto rc = ParseEverestctlVersion("ProjectName: everestctl\nVersion: v1.12.0-rc1\n");
  REQUIRE(rc.has_value());
  CHECK((rc->major == 1 && rc->minor == 12 && rc->patch == 0));

  const auto bare = ParseEverestctlVersion("Version: 1.6.3\r\n");
  REQUIRE(bare.has_value());
  CHECK((bare->major == 1 && bare->minor == 6 && bare->patch == 3));
}

TEST_CASE("ParseEverestctlVersion reads the JSON form", "[unit][parse]") {
  const auto v = ParseEverestctlVersion(
      R"({"projectName":"everestctl","version":"v1.11.0","fullCommit":"bdea3d04",)"
      R"("serverVersion":"v1.9.0"})"
      "\n");
  REQUIRE(v.has_value());
  CHECK((v->major == 1 && v->minor == 11 && v->patch == 0));

  // --client-only (no serverVersion), after a zap log line on the same stream.
  const auto after_log = ParseEverestctlVersion(
      R"({"level":"info","T":"2026-01-12T08:00:00Z","logger":"everestctl","msg":"x"})"
      "\n"
      R"({"projectName":"everestctl","version":"v1.5.2","fullCommit":"abc"})");
  REQUIRE(after_log.has_value());
  CHECK((after_log->major == 1 && after_log->minor == 5 && after_log->patch == 2));
}

TEST_CASE("ParseEverestctlVersion finds no version in other output", "[unit][parse]") {
  CHECK_FALSE(ParseEverestctlVersion("").has_value());
  CHECK_FALSE(ParseEverestctlVersion("Error: unknown flag: --json\n").has_value());
  // The server's version is not the CLI's.
  CHECK_FALSE(ParseEverestctlVersion("ServerVersion: v1.11.0\n").has_value());
  CHECK_FALSE(ParseEverestctlVersion("Version: dev\n").has_value());
  CHECK_FALSE(ParseEverestctlVersion("Version: v1.2.3.4\n").has_value());
  CHECK_FALSE(ParseEverestctlVersion("Version: v99999999999.1.0\n").has_value());
  CHECK_FALSE(ParseEverestctlVersion(R"({"version":11})").has_value());
  CHECK_FALSE(ParseEverestctlVersion("{not json").has_value());
}

TEST_CASE("CliVersion::AtLeast compares major then minor", "[unit][parse]") {
  CHECK(CliVersion{1, 6, 0}.AtLeast(1, 6));
  CHECK(CliVersion{1, 11, 0}.AtLeast(1, 6));
  CHECK(CliVersion{2, 0, 0}.AtLeast(1, 6));
  CHECK_FALSE(CliVersion{1, 5, 9}.AtLeast(1, 6));
  CHECK_FALSE(CliVersion{0, 9, 0}.AtLeast(1, 6));
}

}  // namespace
}  // namespace bootstrapd

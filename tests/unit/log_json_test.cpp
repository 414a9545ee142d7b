// log::AppendJsonString must write what the JSON library writes (the access
// log line is built with it; every other line goes through nlohmann).
#include "daemon/util/log.h"

#include <catch2/catch.hpp>

#include <string>

namespace bootstrapd {
namespace {

// A literal with its embedded NULs, whatever its length.
template <std::size_t N>
std::string Bytes(const char (&lit)[N]) {
  return std::string(lit, N - 1);
}

TEST_CASE("AppendJsonString matches nlohmann's serialization", "[unit][log]") {
  const std::string cases[] = {
      "",
      "plain",
      "GET",
      "/jobs/{id}",
      "quote \" backslash \\ slash /",
      Bytes("controls \x01\x02\x1f \b\f\n\r\t and DEL \x7f"),
      Bytes("nul \0 inside"),
      "caf\xc3\xa9 \xe2\x9c\x85",      // valid UTF-8
      "bad \xff\xfe utf-8 \xc3",       // invalid: replaced
  };
  for (const auto& s : cases) {
    INFO(s);
    std::string got = "x";
    log::AppendJsonString(&got, s);
    const std::string want =
        "x" + nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    CHECK(got == want);
  }
}

}  // namespace
}  // namespace bootstrapd

// Known-answer tests for daemon/domain/text.h.
#include "daemon/domain/text.h"

#include <cstddef>
#include <string>

#include <catch2/catch.hpp>

namespace bootstrapd {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";      // U+FFFD REPLACEMENT CHARACTER
const std::string kEuro = "\xE2\x82\xAC";      // U+20AC, 3 bytes
const std::string kClef = "\xF0\x9D\x84\x9E";  // U+1D11E, 4 bytes
const std::string kEsc = "\x1b";

std::string Marker(std::size_t dropped) {
  return "\n[... truncated " + std::to_string(dropped) + " bytes]";
}

TEST_CASE("StripAnsi removes CSI sequences", "[unit][text]") {
  CHECK(StripAnsi("\x1b[1;32m\xE2\x9C\x85 ok\x1b[0m\n") == "\xE2\x9C\x85 ok\n");
  CHECK(StripAnsi("a\x1b[2Kb\x1b[?25lc\x1b[?25h") == "abc");
  CHECK(StripAnsi("\x1b[38;5;196mred\x1b[m") == "red");
  CHECK(StripAnsi("up\x1b[1A\x1b[2K") == "up");
  // A CSI cut off at the end of the output is dropped, not half-printed.
  CHECK(StripAnsi("tail\x1b[12;") == "tail");
}

TEST_CASE("StripAnsi removes OSC and other string sequences", "[unit][text]") {
  CHECK(StripAnsi("\x1b]0;window title\x07rest") == "rest");
  CHECK(StripAnsi("\x1b]8;;https://x.test/\x1b\\link\x1b]8;;\x1b\\ end") == "link end");
  CHECK(StripAnsi("a\x1bPq#0;2;0;0;0\x1b\\b") == "ab");  // DCS
  // An unterminated OSC stops at the newline instead of eating the output.
  CHECK(StripAnsi("\x1b]0;broken\nnext line\n") == "\nnext line\n");
}

TEST_CASE("StripAnsi removes two-byte and charset escapes", "[unit][text]") {
  CHECK(StripAnsi(kEsc + "(Bplain" + kEsc + "7" + kEsc + "8" + kEsc + "=") == "plain");
  CHECK(StripAnsi("end\x1b") == "end");
  // ESC followed by a control byte: only the ESC goes.
  CHECK(StripAnsi("a\x1b\nb") == "a\nb");
}

TEST_CASE("StripAnsi treats 0x9B as CSI only outside UTF-8 sequences", "[unit][text]") {
  CHECK(StripAnsi(std::string("x\x9b") + "31my") == "xy");
  // U+26D4 (E2 9B 94) and U+019B (C6 9B) carry 0x9B as a continuation byte.
  CHECK(StripAnsi("\xE2\x9B\x94 stop") == "\xE2\x9B\x94 stop");
  CHECK(StripAnsi("\xC6\x9B[31m") == "\xC6\x9B[31m");
}

TEST_CASE("StripAnsi turns CRLF into LF and drops spinner carriage returns", "[unit][text]") {
  CHECK(StripAnsi("a\r\nb\r\n") == "a\nb\n");
  CHECK(StripAnsi("one\r\r\ntwo") == "one\ntwo");
  // A bubbletea-style spinner: frames separated by lone CRs and erase-line.
  const std::string raw =
      "\x1b[?25l\xE2\xA0\x8B Provisioning\r\x1b[2K\xE2\xA0\x99 Provisioning\r\x1b[2K"
      "\xE2\x9C\x85  Provisioning database namespace 't1'\r\n\x1b[?25h";
  const std::string clean = StripAnsi(raw);
  CHECK(clean ==
        "\xE2\xA0\x8B Provisioning\xE2\xA0\x99 Provisioning"
        "\xE2\x9C\x85  Provisioning database namespace 't1'\n");
  CHECK(clean.find('\r') == std::string::npos);
  CHECK(clean.find('\x1b') == std::string::npos);
}

TEST_CASE("StripAnsi keeps plain text and UTF-8 untouched", "[unit][text]") {
  const std::string text = "h\xC3\xA9llo \xF0\x9D\x84\x9E tab\tend\n";
  CHECK(StripAnsi(text) == text);
}

TEST_CASE("SanitizeUtf8 keeps well-formed text", "[unit][text]") {
  // Includes a NUL byte and the highest code point, U+10FFFF (F4 8F BF BF).
  static constexpr char kText[] = "a\0b h\xC3\xA9 \xE2\x82\xAC \xF0\x9D\x84\x9E \xF4\x8F\xBF\xBF";
  const std::string text(kText, sizeof(kText) - 1);
  REQUIRE(text.size() == 21);
  CHECK(SanitizeUtf8(text) == text);
  CHECK(SanitizeUtf8("") == "");
}

TEST_CASE("SanitizeUtf8 replaces every ill-formed byte with U+FFFD", "[unit][text]") {
  // Lone continuation byte.
  CHECK(SanitizeUtf8(std::string("a\x80") + "b") == "a" + kFffd + "b");
  // Overlong "/" (C0 AF): C0 is never a valid lead, AF is then a lone continuation.
  CHECK(SanitizeUtf8("\xC0\xAF") == kFffd + kFffd);
  // Overlong 3-byte form of "/" (E0 80 AF).
  CHECK(SanitizeUtf8("\xE0\x80\xAF") == kFffd + kFffd + kFffd);
  // UTF-16 surrogate U+D800 (ED A0 80).
  CHECK(SanitizeUtf8("x\xED\xA0\x80y") == "x" + kFffd + kFffd + kFffd + "y");
  // Above U+10FFFF (F4 90 80 80) and bytes that never occur (F5, FF).
  CHECK(SanitizeUtf8("\xF4\x90\x80\x80") == kFffd + kFffd + kFffd + kFffd);
  CHECK(SanitizeUtf8("\xF5\xFF") == kFffd + kFffd);
  // Truncated 3-byte sequence at the end (E2 82 of U+20AC).
  CHECK(SanitizeUtf8("ok\xE2\x82") == "ok" + kFffd + kFffd);
  // Truncated sequence followed by ASCII: the ASCII byte survives.
  CHECK(SanitizeUtf8("\xE2\x82z") == kFffd + kFffd + "z");
}

TEST_CASE("SanitizeUtf8 output is valid and stable", "[unit][text]") {
  const std::string once = SanitizeUtf8("\xFF\xC3\xA9\xED\xBF\xBF\xF0\x9F\x98");
  CHECK(once == kFffd + "\xC3\xA9" + kFffd + kFffd + kFffd + kFffd + kFffd + kFffd);
  CHECK(SanitizeUtf8(once) == once);
}

TEST_CASE("CapUtf8 leaves short input alone", "[unit][text]") {
  bool truncated = true;
  CHECK(CapUtf8("abcdef", 6, &truncated) == "abcdef");
  CHECK_FALSE(truncated);
  CHECK(CapUtf8("", 0, &truncated) == "");
  CHECK_FALSE(truncated);
  CHECK(CapUtf8("abc", 100) == "abc");  // null `truncated` is allowed
}

TEST_CASE("CapUtf8 cuts ASCII at the cap and appends the marker", "[unit][text]") {
  bool truncated = false;
  CHECK(CapUtf8("abcdef", 4, &truncated) == "abcd" + Marker(2));
  CHECK(truncated);
  CHECK(CapUtf8("abc", 0) == Marker(3));
}

TEST_CASE("CapUtf8 never splits a multi-byte code point", "[unit][text]") {
  // 2-byte: "a" + U+00E9 (C3 A9).
  CHECK(CapUtf8("a\xC3\xA9", 2) == "a" + Marker(2));
  // 3-byte: "a" + U+20AC (E2 82 AC) + "b".
  CHECK(CapUtf8("a" + kEuro + "b", 2) == "a" + Marker(4));
  CHECK(CapUtf8("a" + kEuro + "b", 3) == "a" + Marker(4));
  CHECK(CapUtf8("a" + kEuro + "b", 4) == "a" + kEuro + Marker(1));
  // 4-byte: "a" + U+1D11E (F0 9D 84 9E).
  CHECK(CapUtf8("a" + kClef, 2) == "a" + Marker(4));
  CHECK(CapUtf8("a" + kClef, 3) == "a" + Marker(4));
  CHECK(CapUtf8("a" + kClef, 4) == "a" + Marker(4));
  CHECK(CapUtf8("a" + kClef, 5) == "a" + kClef);
  // A cap inside the very first code point keeps nothing.
  CHECK(CapUtf8(kClef, 3) == Marker(4));
}

TEST_CASE("CapUtf8 at every cap gives a valid prefix and an exact count", "[unit][text]") {
  const std::string text = "x\xC3\xA9y\xE2\x82\xAC\xF0\x9D\x84\x9Ez\xD0\x96";
  for (std::size_t cap = 0; cap < text.size(); ++cap) {
    INFO("cap = " << cap);
    bool truncated = false;
    const std::string out = CapUtf8(text, cap, &truncated);
    REQUIRE(truncated);
    const std::size_t marker_at = out.rfind("\n[... truncated ");
    REQUIRE(marker_at != std::string::npos);
    const std::string kept = out.substr(0, marker_at);
    CHECK(kept.size() <= cap);
    CHECK(cap - kept.size() <= 3);  // backed off by less than one code point
    CHECK(text.compare(0, kept.size(), kept) == 0);
    CHECK(SanitizeUtf8(kept) == kept);
    CHECK(out.substr(marker_at) == Marker(text.size() - kept.size()));
  }
}

TEST_CASE("CleanOutput strips, repairs, then caps", "[unit][text]") {
  bool truncated = true;
  CHECK(CleanOutput("\x1b[31m\xE2\x9D\x8C bad\xFF\x1b[0m\r\n", 1024, &truncated) ==
        "\xE2\x9D\x8C bad" + kFffd + "\n");
  CHECK_FALSE(truncated);
  // The cap counts the 3-byte U+FFFD that replaced one byte, and escapes are
  // removed before counting.
  CHECK(CleanOutput("\x1b[1mab\xFF", 4, &truncated) == "ab" + Marker(3));
  CHECK(truncated);
}

TEST_CASE("Tail keeps the last non-empty lines", "[unit][text]") {
  CHECK(Tail("\xE2\x9D\x8C user already exists\n\n") == "\xE2\x9D\x8C user already exists");
  CHECK(Tail("one\n\ntwo\n   \nthree\n", 2) == "two\nthree");
  CHECK(Tail("a\r\nb\r\n") == "a\nb");
  CHECK(Tail("") == "");
  CHECK(Tail("\n\n \n") == "");
  CHECK(Tail("x\ny", 0) == "");

  std::string many;
  for (int i = 1; i <= 25; ++i) many += "line " + std::to_string(i) + "\n";
  const std::string tail = Tail(many);
  CHECK(tail.rfind("line 6\n", 0) == 0);
  CHECK(tail.size() >= 7);
  CHECK(tail.substr(tail.size() - 7) == "line 25");
  CHECK(tail.find("line 5\n") == std::string::npos);
}

TEST_CASE("Tail caps bytes from the front on a code-point boundary", "[unit][text]") {
  // "x" + U+20AC + "y" is 5 bytes.
  CHECK(Tail("x" + kEuro + "y", 20, 4) == kEuro + "y");
  CHECK(Tail("x" + kEuro + "y", 20, 3) == "y");
  CHECK(Tail("first\nsecond\n", 20, 8) == "t\nsecond");
}

}  // namespace
}  // namespace bootstrapd

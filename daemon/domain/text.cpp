// Text hygiene for child-process output: ANSI stripping, UTF-8 repair, capping.
#include "daemon/domain/text.h"

#include <string>
#include <string_view>
#include <vector>

namespace bootstrapd {
namespace {

constexpr unsigned char kEsc = 0x1B;
constexpr unsigned char kBel = 0x07;
constexpr unsigned char kCsi8Bit = 0x9B;
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

unsigned char ByteAt(std::string_view s, std::size_t i) { return static_cast<unsigned char>(s[i]); }

bool IsContinuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// Length of the well-formed UTF-8 sequence starting at `i` (Unicode 15, table
// 3-7), or 0 when the bytes there do not form one.
std::size_t WellFormedLength(std::string_view s, std::size_t i) {
  const unsigned char b0 = ByteAt(s, i);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80;  // allowed range of the second byte
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlongs
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // no overlongs
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;  // 0x80-0xC1 (continuation or overlong lead), 0xF5-0xFF
  }
  if (i + len > s.size()) return 0;
  const unsigned char b1 = ByteAt(s, i + 1);
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if (!IsContinuation(ByteAt(s, i + k))) return 0;
  }
  return len;
}

// Skips the parameter/intermediate bytes and the final byte of a CSI sequence
// whose body starts at `i`; returns the index after it. A sequence broken by a
// byte outside 0x20-0x7E ends before that byte (the byte itself is kept).
std::size_t SkipCsiBody(std::string_view s, std::size_t i) {
  while (i < s.size()) {
    const unsigned char b = ByteAt(s, i);
    if (b >= 0x20 && b <= 0x3F) {
      ++i;  // parameter (0x30-0x3F) or intermediate (0x20-0x2F) byte
    } else if (b >= 0x40 && b <= 0x7E) {
      return i + 1;  // final byte
    } else {
      return i;  // malformed: abandon the sequence here
    }
  }
  return i;
}

// Skips a control string (OSC, DCS, SOS, PM, APC) whose body starts at `i`: it
// ends with BEL or ST (ESC \). An unterminated string ends before the next
// newline, so one broken title sequence cannot swallow the rest of the output.
std::size_t SkipControlString(std::string_view s, std::size_t i) {
  while (i < s.size()) {
    const unsigned char b = ByteAt(s, i);
    if (b == kBel) return i + 1;
    if (b == kEsc) {
      if (i + 1 < s.size() && s[i + 1] == '\\') return i + 2;
      return i;  // a new escape sequence starts: let the caller handle it
    }
    if (b == '\n') return i;
    ++i;
  }
  return i;
}

// Skips the escape sequence whose ESC is at `i`; returns the index after it.
std::size_t SkipEscape(std::string_view s, std::size_t i) {
  ++i;  // the ESC itself
  if (i >= s.size()) return i;
  const unsigned char b = ByteAt(s, i);
  if (b == '[') return SkipCsiBody(s, i + 1);
  if (b == ']' || b == 'P' || b == 'X' || b == '^' || b == '_') {
    return SkipControlString(s, i + 1);
  }
  // nF sequences (ESC, intermediates 0x20-0x2F, final 0x30-0x7E) such as
  // "ESC ( B", and the plain two-byte forms (ESC 7, ESC =, ESC c, ...).
  std::size_t j = i;
  while (j < s.size() && ByteAt(s, j) >= 0x20 && ByteAt(s, j) <= 0x2F) ++j;
  if (j < s.size() && ByteAt(s, j) >= 0x30 && ByteAt(s, j) <= 0x7E) return j + 1;
  if (j >= s.size()) return j;  // truncated at the end: drop it
  return i;                     // ESC followed by a non-sequence byte: drop the ESC alone
}

}  // namespace

std::string StripAnsi(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    const unsigned char b = ByteAt(in, i);
    if (b == kEsc) {
      i = SkipEscape(in, i);
    } else if (b == '\r') {
      // "\r\n" -> "\n"; a lone "\r" (spinner redraw) is dropped.
      if (i + 1 < in.size() && in[i + 1] == '\n') {
        out.push_back('\n');
        i += 2;
      } else {
        ++i;
      }
    } else if (b >= 0x80) {
      const std::size_t len = WellFormedLength(in, i);
      if (len > 0) {
        out.append(in.substr(i, len));  // a real character, never a C1 control
        i += len;
      } else if (b == kCsi8Bit) {
        i = SkipCsiBody(in, i + 1);
      } else {
        out.push_back(static_cast<char>(b));  // left for SanitizeUtf8
        ++i;
      }
    } else {
      out.push_back(static_cast<char>(b));
      ++i;
    }
  }
  return out;
}

std::string SanitizeUtf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    const std::size_t len = WellFormedLength(in, i);
    if (len == 0) {
      out.append(kReplacement);
      ++i;
    } else {
      out.append(in.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string CapUtf8(std::string_view in, std::size_t cap, bool* truncated) {
  if (in.size() <= cap) {
    if (truncated != nullptr) *truncated = false;
    return std::string(in);
  }
  // Back off to the start of the code point that straddles the cap. A UTF-8
  // sequence has at most 3 continuation bytes; on invalid input (a precondition
  // violation) the cut stays at `cap`.
  std::size_t cut = cap;
  for (int k = 0; k < 3 && cut > 0 && IsContinuation(ByteAt(in, cut)); ++k) --cut;
  if (IsContinuation(ByteAt(in, cut)) && cut != cap) cut = cap;
  const std::size_t dropped = in.size() - cut;
  std::string out(in.substr(0, cut));
  out.append("\n[... truncated ");
  out.append(std::to_string(dropped));
  out.append(" bytes]");
  if (truncated != nullptr) *truncated = true;
  return out;
}

std::string CleanOutput(std::string_view raw, std::size_t cap, bool* truncated) {
  return CapUtf8(SanitizeUtf8(StripAnsi(raw)), cap, truncated);
}

std::string Tail(std::string_view text, std::size_t max_lines, std::size_t max_bytes) {
  if (max_lines == 0 || max_bytes == 0) return "";
  // Walk backwards collecting the last `max_lines` non-blank lines.
  std::vector<std::string_view> lines;
  std::size_t end = text.size();
  while (lines.size() < max_lines) {
    const std::size_t nl = end == 0 ? std::string_view::npos : text.rfind('\n', end - 1);
    const std::size_t begin = nl == std::string_view::npos ? 0 : nl + 1;
    std::string_view line = text.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t\r\v\f") != std::string_view::npos) lines.push_back(line);
    if (nl == std::string_view::npos) break;
    end = nl;
  }
  std::string joined;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (!joined.empty()) joined.push_back('\n');
    joined.append(*it);
  }
  if (joined.size() <= max_bytes) return joined;
  // Cut from the front, moving forward past continuation bytes so the result
  // starts on a code-point boundary.
  std::size_t start = joined.size() - max_bytes;
  for (int k = 0; k < 3 && start < joined.size() && IsContinuation(ByteAt(joined, start)); ++k) {
    ++start;
  }
  return joined.substr(start);
}

std::string_view TrimBlanks(std::string_view s) {
  constexpr std::string_view kBlanks = " \t\r\v\f";
  const std::size_t b = s.find_first_not_of(kBlanks);
  if (b == std::string_view::npos) return {};
  const std::size_t e = s.find_last_not_of(kBlanks);
  return s.substr(b, e - b + 1);
}

bool IsBlank(std::string_view s) { return TrimBlanks(s).empty(); }

}  // namespace bootstrapd

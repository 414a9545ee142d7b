// Shared helpers of the libFuzzer harnesses (fuzz/README.md). Header-only.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

// An invariant of the code under test. On violation: a message on stderr and
// __builtin_trap(), which libFuzzer reports as a crash (with the input saved).
#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      __builtin_trap();                                                                   \
    }                                                                                     \
  } while (0)

namespace fuzz {

// True when `s` is well-formed UTF-8 (Unicode table 3-7): an independent
// checker, not the daemon's own.
inline bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) n = 2;
    else if (b0 == 0xE0) n = 3, lo = 0xA0;
    else if (b0 >= 0xE1 && b0 <= 0xEC) n = 3;
    else if (b0 == 0xED) n = 3, hi = 0x9F;
    else if (b0 >= 0xEE && b0 <= 0xEF) n = 3;
    else if (b0 == 0xF0) n = 4, lo = 0x90;
    else if (b0 >= 0xF1 && b0 <= 0xF3) n = 4;
    else if (b0 == 0xF4) n = 4, hi = 0x8F;
    else return false;
    if (i + n > s.size()) return false;
    const unsigned char b1 = static_cast<unsigned char>(s[i + 1]);
    if (b1 < lo || b1 > hi) return false;
    for (std::size_t k = 2; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

// Nesting depth of a JSON tree (0 for a scalar), computed without recursion.
inline int TreeDepth(const nlohmann::json& root) {
  struct Item {
    const nlohmann::json* v;
    int depth;
  };
  std::vector<Item> stack{{&root, 0}};
  int max_depth = 0;
  while (!stack.empty()) {
    const Item it = stack.back();
    stack.pop_back();
    if (it.v->is_object() || it.v->is_array()) {
      max_depth = std::max(max_depth, it.depth + 1);
      for (const auto& child : *it.v) stack.push_back({&child, it.depth + 1});
    }
  }
  return max_depth;
}

// Splits `data` at the first `n` occurrences of `sep`; the last piece holds the
// rest (so there are at most n + 1 pieces).
inline std::vector<std::string_view> SplitN(std::string_view data, char sep, std::size_t n) {
  std::vector<std::string_view> parts;
  while (parts.size() < n) {
    const std::size_t p = data.find(sep);
    if (p == std::string_view::npos) break;
    parts.push_back(data.substr(0, p));
    data.remove_prefix(p + 1);
  }
  parts.push_back(data);
  return parts;
}

}  // namespace fuzz

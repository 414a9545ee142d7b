// Clock seam and RFC 3339 formatting. SystemClock is the real one; tests may
// pass their own. Any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bootstrapd {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
};

// "2026-12-01T22:49:14.123Z" (UTC, milliseconds).
std::string FormatRfc3339Ms(std::chrono::system_clock::time_point t);

// Parses the format above (and without fraction, or with "+00:00"); nullopt otherwise.
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view s);

// Milliseconds since the Unix epoch.
std::int64_t ToUnixMs(std::chrono::system_clock::time_point t);

}  // namespace bootstrapd

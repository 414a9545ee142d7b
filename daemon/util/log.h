// Structured logging: one JSON object per line on stdout ({"ts","level","msg",
// ...fields}), queued for a writer thread so a slow stdout never blocks the
// loop (the oldest lines are dropped instead, and counted). The writer writes
// in batches and is woken only from idle, so a busy loop pays no wake-up per
// line. Any thread. Never pass secrets in fields.
#pragma once

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

namespace bootstrapd::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// Parses "debug|info|warn|warning|error" (case-insensitive); false otherwise.
bool ParseLevel(std::string_view s, Level* out);

// Starts the logger. Safe to call more than once (later calls set the level).
void Init(Level level);

// Flushes and stops the writer thread (call at exit).
void Shutdown();

// Lines dropped so far because the queue was full (oldest first).
std::uint64_t DroppedLines();

bool Enabled(Level level);
void Write(Level level, std::string_view msg, const nlohmann::json& fields);

// The same line from fields already serialized: `fields` is the inside of a
// JSON object ("\"a\":1,\"b\":\"x\"", possibly empty), for hot paths that
// build it with AppendJsonString instead of a JSON tree (the access log).
void WriteFields(Level level, std::string_view msg, std::string_view fields);

// Appends `s` as a JSON string literal (quoted, escaped; invalid UTF-8
// replaced by U+FFFD, as Write does).
void AppendJsonString(std::string* out, std::string_view s);

inline void Debug(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, m, f);
}
inline void Info(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  Write(Level::kInfo, m, f);
}
inline void Warn(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  Write(Level::kWarn, m, f);
}
inline void Error(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  Write(Level::kError, m, f);
}

}  // namespace bootstrapd::log

#include "daemon/util/log.h"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <chrono>
#include <mutex>

#include "daemon/util/time.h"

namespace bootstrapd::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::shared_ptr<spdlog::logger> g_logger;
std::mutex g_mu;

const char* LevelName(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

}  // namespace

bool ParseLevel(std::string_view s, Level* out) {
  std::string v(s);
  for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "debug" || v == "trace") *out = Level::kDebug;
  else if (v == "info") *out = Level::kInfo;
  else if (v == "warn" || v == "warning") *out = Level::kWarn;
  else if (v == "error") *out = Level::kError;
  else return false;
  return true;
}

void Init(Level level) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_level.store(static_cast<int>(level));
  if (g_logger) return;
  spdlog::init_thread_pool(8192, 1);
  auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  g_logger = std::make_shared<spdlog::async_logger>(
      "bootstrapd", sink, spdlog::thread_pool(), spdlog::async_overflow_policy::overrun_oldest);
  g_logger->set_pattern("%v");
  g_logger->set_level(spdlog::level::trace);
  g_logger->flush_on(spdlog::level::trace);
}

void Shutdown() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_logger) {
    g_logger->flush();
    g_logger.reset();
    spdlog::shutdown();
  }
}

bool Enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

void Write(Level level, std::string_view msg, const nlohmann::json& fields) {
  if (!Enabled(level)) return;
  // ts, level and msg first (readable in a terminal), then the fields.
  const auto dump = [](const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  std::string text = "{\"ts\":\"" + FormatRfc3339Ms(std::chrono::system_clock::now()) +
                     "\",\"level\":\"" + LevelName(level) + "\",\"msg\":" +
                     dump(nlohmann::json(std::string(msg)));
  if (fields.is_object() && !fields.empty()) {
    std::string rest = dump(fields);
    text += ",";
    text.append(rest, 1, std::string::npos);  // drop the '{'
  } else {
    text += "}";
  }
  std::shared_ptr<spdlog::logger> logger;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    logger = g_logger;
  }
  if (logger) {
    logger->info(text);
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
}

}  // namespace bootstrapd::log

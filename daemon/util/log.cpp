#include "daemon/util/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "daemon/util/time.h"

namespace bootstrapd::log {
namespace {

// Lines waiting for the writer thread; above this the oldest are dropped.
constexpr std::size_t kMaxQueued = 8192;
// After writing, the writer thread lingers this long before it sleeps for
// good: lines logged meanwhile need no wake-up (a futex call each, which on a
// busy loop cost more than the line itself), and still reach stdout promptly.
constexpr auto kLinger = std::chrono::milliseconds(2);

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

// The asynchronous writer: lines are queued under g_mu and written to stdout
// (through a synchronous spdlog logger) by one thread, a batch per flush.
struct Writer {
  std::condition_variable cv;
  std::deque<std::string> lines;  // guarded by g_mu
  bool idle = false;              // guarded by g_mu: waiting with no deadline
  bool stop = false;              // guarded by g_mu
  std::shared_ptr<spdlog::logger> out;  // used by the writer thread only
  std::thread thread;
};

std::mutex g_mu;
std::unique_ptr<Writer> g_writer;  // guarded by g_mu
std::atomic<std::uint64_t> g_dropped{0};

void RunWriter(Writer* w) {
  std::unique_lock<std::mutex> lock(g_mu);
  for (;;) {
    if (w->lines.empty()) {
      if (w->stop) return;
      w->cv.wait_for(lock, kLinger, [w] { return w->stop; });
      if (w->lines.empty()) {
        if (w->stop) return;
        w->idle = true;  // the next line wakes us
        w->cv.wait(lock, [w] { return w->stop || !w->lines.empty(); });
        w->idle = false;
        continue;
      }
    }
    std::deque<std::string> batch;
    batch.swap(w->lines);
    lock.unlock();
    for (const auto& line : batch) w->out->info(line);
    w->out->flush();
    lock.lock();
  }
}

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
  if (g_writer) return;
  auto w = std::make_unique<Writer>();
  w->out = std::make_shared<spdlog::logger>(
      "bootstrapd", std::make_shared<spdlog::sinks::stdout_sink_st>());
  w->out->set_pattern("%v");
  w->out->set_level(spdlog::level::trace);
  w->idle = true;
  Writer* raw = w.get();
  w->thread = std::thread([raw] { RunWriter(raw); });
  g_writer = std::move(w);
}

void Shutdown() {
  std::unique_ptr<Writer> w;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (!g_writer) return;
    g_writer->stop = true;
    g_writer->cv.notify_all();
  }
  g_writer->thread.join();  // writes what is queued, then returns
  std::lock_guard<std::mutex> lock(g_mu);
  w = std::move(g_writer);
}

std::uint64_t DroppedLines() { return g_dropped.load(); }

bool Enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

void AppendJsonString(std::string* out, std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  for (unsigned char c : s) {
    if (c >= 0x80) {  // rare here: let the JSON library check and replace
      *out += nlohmann::json(std::string(s)).dump(-1, ' ', false,
                                                  nlohmann::json::error_handler_t::replace);
      return;
    }
  }
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      default:
        if (c < 0x20) {
          *out += "\\u00";
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xF]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

namespace {
void Enqueue(std::string text);
}  // namespace

void Write(Level level, std::string_view msg, const nlohmann::json& fields) {
  if (!Enabled(level)) return;
  std::string rest;
  if (fields.is_object() && !fields.empty()) {
    rest = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    rest = rest.substr(1, rest.size() - 2);  // the inside of the object
  }
  WriteFields(level, msg, rest);
}

void WriteFields(Level level, std::string_view msg, std::string_view fields) {
  if (!Enabled(level)) return;
  // ts, level and msg first (readable in a terminal), then the fields.
  std::string text;
  text.reserve(96 + msg.size() + fields.size());
  text += "{\"ts\":\"";
  text += FormatRfc3339Ms(std::chrono::system_clock::now());
  text += "\",\"level\":\"";
  text += LevelName(level);
  text += "\",\"msg\":";
  AppendJsonString(&text, msg);
  if (!fields.empty()) {
    text += ",";
    text += fields;
  }
  text += "}";
  Enqueue(std::move(text));
}

namespace {
void Enqueue(std::string text) {
  {
    std::unique_lock<std::mutex> lock(g_mu);
    if (g_writer) {
      Writer* w = g_writer.get();
      if (w->lines.size() >= kMaxQueued) {
        w->lines.pop_front();
        g_dropped.fetch_add(1);
      }
      w->lines.push_back(std::move(text));
      const bool wake = w->idle;
      w->idle = false;
      lock.unlock();
      if (wake) w->cv.notify_one();
      return;
    }
  }
  std::fprintf(stderr, "%s\n", text.c_str());
}
}  // namespace

}  // namespace bootstrapd::log

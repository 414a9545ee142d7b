#include "daemon/jobs/workflow_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "daemon/domain/text.h"

namespace bootstrapd::wf {

namespace asio = boost::asio;
using asio::awaitable;
using json = nlohmann::json;


bool Contains(const CommandResult& r, std::string_view needle) {
  return r.err.find(needle) != std::string::npos || r.out.find(needle) != std::string::npos;
}

bool EverestctlReportedError(const CommandResult& r, bool confirms) {
  if (r.status != CommandResult::Status::kExited || r.exit_code != 0) return false;
  if (r.err.find("\u274c") != std::string::npos) return true;  // ❌
  return confirms && r.out.find("\u2705") == std::string::npos;  // no ✅
}

void MarkEverestctlError(const std::string& everestctl, const Argv& argv, CommandResult* r) {
  // The command groups the daemon runs (argv.h); a kubectl line never starts so,
  // even where both tools are one binary (the benchmarks' instant CLI).
  if (argv.size() < 2 || argv[0] != everestctl) return;
  const std::string& group = argv[1];
  if (group != "accounts" && group != "namespaces" && group != "settings" && group != "version") {
    return;
  }
  // Reads print data (a table, the version), never a ✅ line.
  bool confirms = group != "version";
  for (std::size_t i = 2; i < argv.size(); ++i) confirms = confirms && argv[i] != "list";
  r->reported_error = EverestctlReportedError(*r, confirms);
}

// The most useful one-line error of a failed call.
std::string ErrorOf(const CommandResult& r) {
  if (r.status != CommandResult::Status::kExited) return r.error;
  std::string tail = Tail(r.err.empty() ? r.out : r.err, 3, 600);
  if (r.reported_error) tail = "exit code 0 but the CLI reported an error: " + tail;
  for (auto& c : tail) {
    if (c == '\n') c = ' ';
  }
  while (!tail.empty() && tail.back() == ' ') tail.pop_back();
  if (tail.empty()) tail = "exit code " + std::to_string(r.exit_code);
  return tail;
}

awaitable<void> Backoff(int attempt) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  const int base = 100 << std::min(attempt, 5);
  std::uniform_int_distribution<int> jitter(0, base / 2);
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(std::chrono::milliseconds(base + jitter(rng)));
  auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  (void)ec;
}

// Writes `text` to a new private temporary file; returns its path or "".
std::string WriteTempFile(const std::string& text, std::string* error) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "everest-bootstrapd-XXXXXX").string();
  const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) {
    *error = std::string("cannot create a temporary policy file: ") + std::strerror(errno);
    return "";
  }
  ::fchmod(fd, 0600);
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = std::string("cannot write the temporary policy file: ") + std::strerror(errno);
      ::close(fd);
      ::unlink(tmpl.c_str());
      return "";
    }
    off += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return tmpl;
}

void SetMain(Workflows::StepState* st, const std::string& command, const CommandResult& r) {
  st->record["command"] = command;
  st->record["exit_code"] = r.status == CommandResult::Status::kExited ? json(r.exit_code)
                                                                        : json(nullptr);
  // Parsed outputs may be large: the record keeps the usual cap.
  constexpr std::size_t kRecordCap = 64u << 10;
  st->record["stdout"] = CapUtf8(r.out, kRecordCap);
  st->record["stderr"] = CapUtf8(r.err, kRecordCap);
  if (r.status != CommandResult::Status::kExited) st->record["error_kind"] = StatusName(r.status);
}

bool Fail(Workflows::StepState* st, std::string error) {
  st->outcome = "failed";
  st->error = std::move(error);
  return false;
}


}  // namespace bootstrapd::wf

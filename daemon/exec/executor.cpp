#include "daemon/exec/executor.h"

namespace bootstrapd {

namespace asio = boost::asio;

Executor::Executor(asio::any_io_executor ex, CommandRunner* runner, int max_children)
    : runner_(runner),
      max_children_(max_children),
      slots_(ex, max_children),
      accounts_(ex, 1),
      rbac_(ex, 1) {}

asio::awaitable<CommandResult> Executor::Run(CommandSpec spec, Lane lane) {
  SemaphoreGuard lane_guard;
  if (lane == Lane::kAccounts) {
    const bool ok = co_await accounts_.Acquire();
    if (!ok) {
      CommandResult r;
      r.status = CommandResult::Status::kCanceled;
      r.error = "shutting down";
      co_return r;
    }
    lane_guard = SemaphoreGuard(&accounts_);
  }
  const bool ok = co_await slots_.Acquire();
  if (!ok) {
    CommandResult r;
    r.status = CommandResult::Status::kCanceled;
    r.error = "shutting down";
    co_return r;
  }
  SemaphoreGuard slot_guard(&slots_);
  CommandResult r = co_await runner_->Run(std::move(spec));
  co_return r;
}

void Executor::Shutdown() {
  slots_.Shutdown();
  accounts_.Shutdown();
  rbac_.Shutdown();
}

}  // namespace bootstrapd

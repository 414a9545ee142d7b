// The bounded executor (ninja's CanRunMore in one place): at most
// MAX_SUBPROC_CONCURRENCY children at once, and the lanes of SPEC §3 — every
// account-mutating everestctl call runs alone (Everest rewrites its accounts
// Secret without retry), and every RBAC read-modify-write runs alone.
// Loop thread only.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "daemon/exec/command_runner.h"
#include "daemon/util/async_semaphore.h"

namespace bootstrapd {

class Executor {
 public:
  enum class Lane { kNone, kAccounts };

  Executor(boost::asio::any_io_executor ex, CommandRunner* runner, int max_children);

  // Waits for the lane (if any) and a child slot, then runs `spec`.
  boost::asio::awaitable<CommandResult> Run(CommandSpec spec, Lane lane = Lane::kNone);

  // Held by a job across its whole RBAC read -> validate -> replace sequence.
  AsyncSemaphore& rbac_lane() { return rbac_; }

  int max_children() const { return max_children_; }
  int busy_slots() const { return max_children_ - slots_.available(); }
  std::size_t waiting() const { return slots_.waiting(); }

  // Abandons every wait (at exit).
  void Shutdown();

 private:
  CommandRunner* runner_;
  int max_children_;
  AsyncSemaphore slots_;
  AsyncSemaphore accounts_;
  AsyncSemaphore rbac_;
};

}  // namespace bootstrapd

// The seam between jobs and child processes (ninja's CommandRunner). The real
// implementation is ProcessCommandRunner; tests may provide their own.
// Loop thread only.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "daemon/exec/command.h"

namespace bootstrapd {

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs one child to its end (or timeout/cancel) and never throws.
  virtual boost::asio::awaitable<CommandResult> Run(CommandSpec spec) = 0;
};

}  // namespace bootstrapd

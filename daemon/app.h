// Wires the daemon together and runs it: one io_context on the calling thread
// owns the HTTP server, the job manager, the executor and the store.
// Start order: store -> recovery -> listener -> READY=1; SIGTERM/SIGINT drain
// (SPEC §5) and return 0.
#pragma once

#include <map>
#include <string>

#include "daemon/config.h"

namespace bootstrapd {

// Runs until a stop signal; returns the process exit code.
int RunDaemon(const Config& config, const std::map<std::string, std::string>& env);

}  // namespace bootstrapd

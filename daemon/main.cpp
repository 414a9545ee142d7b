// everest-bootstrapd: flags and configuration, then RunDaemon. Nothing else.
#include <cstdio>
#include <cstring>
#include <string>

#include "daemon/app.h"
#include "daemon/config.h"
#include "daemon/util/log.h"

int main(int argc, char** argv) {
  using namespace bootstrapd;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(ConfigHelp().c_str(), stdout);
      return 0;
    }
    if (a == "--version") {
      std::printf("everest-bootstrapd %s\n", BOOTSTRAPD_VERSION);
      return 0;
    }
    if (a == "--check-config") {
      check_only = true;
      continue;
    }
    std::fprintf(stderr, "everest-bootstrapd: unknown argument '%s' (see --help)\n", a.c_str());
    return 2;
  }
  const auto env = ProcessEnvironment();
  Config config;
  std::string error;
  if (!LoadConfig(env, &config, &error)) {
    std::fprintf(stderr, "everest-bootstrapd: invalid configuration: %s\n", error.c_str());
    return 1;
  }
  if (check_only) {
    std::fputs(DescribeConfig(config).c_str(), stdout);
    std::puts("configuration OK");
    return 0;
  }
  log::Init(config.log_level);
  const int rc = RunDaemon(config, env);
  log::Shutdown();
  return rc;
}

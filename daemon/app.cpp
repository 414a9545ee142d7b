#include "daemon/app.h"

#include <signal.h>
#include <systemd/sd-daemon.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <filesystem>

#include <openssl/evp.h>

#include "daemon/exec/executor.h"
#include "daemon/exec/process_command_runner.h"
#include "daemon/http/router.h"
#include "daemon/http/server.h"
#include "daemon/jobs/job_manager.h"
#include "daemon/jobs/workflows.h"
#include "daemon/kafka/kafka_bridge.h"
#include "daemon/metrics/metrics.h"
#include "daemon/util/ids.h"
#include "daemon/util/log.h"
#include "handlers/context.h"

namespace bootstrapd {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

struct Parts {
  const Config& config;
  asio::io_context& ioc;
  JobManager& jobs;
  HttpServer& server;
  Executor& executor;
  KafkaBridge* kafka;  // null when Kafka is disabled
  bool stopping = false;
};

void Notify(const std::string& text) { sd_notify(0, text.c_str()); }

// Identifies this daemon's children across restarts: a hash of the absolute
// job database path (one daemon per database).
std::string InstanceId(const std::string& db_path) {
  std::error_code ec;
  const std::string abs = std::filesystem::absolute(db_path, ec).string();
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(abs.data(), abs.size(), md, &len, EVP_sha256(), nullptr);
  return HexLower(std::string_view(reinterpret_cast<const char*>(md), 8));
}

std::string StatusLine(const JobManager& jobs) {
  return "STATUS=queued=" + std::to_string(jobs.queued()) +
         " running=" + std::to_string(jobs.running()) + (jobs.draining() ? " draining" : "");
}

awaitable<void> Shutdown(Parts* p, int signo) {
  log::Info("stop signal received; draining",
            {{"signal", signo == SIGTERM ? "SIGTERM" : "SIGINT"},
             {"grace_s", p->config.shutdown_grace_s}});
  Notify("STOPPING=1\n" + StatusLine(p->jobs));
  if (p->kafka != nullptr) p->kafka->StopConsuming();  // stored offsets are committed
  co_await p->jobs.Drain(std::chrono::seconds(p->config.shutdown_grace_s));
  p->server.StopAccepting();
  p->server.CloseSessions();
  p->executor.Shutdown();
  if (p->kafka != nullptr) p->kafka->Flush(5000);  // outbox deliveries
  log::Info("stopped", {{"queued_left", p->jobs.queued()}});
  p->ioc.stop();
}

awaitable<void> Watchdog(Parts* p, std::uint64_t usec) {
  asio::steady_timer t(p->ioc);
  for (;;) {
    Notify("WATCHDOG=1\n" + StatusLine(p->jobs));
    t.expires_after(std::chrono::microseconds(usec / 2));
    auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || p->stopping) co_return;
  }
}

}  // namespace

int RunDaemon(const Config& config, const std::map<std::string, std::string>& env) {
  ::signal(SIGPIPE, SIG_IGN);
  if (config.admin_key_is_default) {
    log::Warn("ADMIN_API_KEY is not set: the default key 'changeme' is in use. Set ADMIN_API_KEY "
              "(or ADMIN_API_KEYS, or the admin-api-key credential) before exposing this daemon.");
  }
  if (config.simulated) {
    log::Warn("SIMULATED EVEREST: no kubeconfig was found, so everestctl and kubectl are the "
              "project's stateful fakes (tests/fakes). Nothing touches a real cluster.",
              {{"kubeconfig", config.kubeconfig}});
  }
  if (!config.safe_subprocess_env) {
    log::Warn("SAFE_SUBPROCESS_ENV=false: children inherit the whole environment, secrets included");
  }

  std::string error;
  JobStorePtr store = OpenSqliteJobStore(config.job_db_path, &error);
  if (!store) {
    log::Error("cannot open the job store", {{"error", error}});
    std::fprintf(stderr, "everest-bootstrapd: %s\n", error.c_str());
    return 1;
  }

  // Kill what a killed predecessor left running before any job resumes, so two
  // everestctl never race on one step.
  const std::string marker = "EVEREST_BOOTSTRAPD_INSTANCE=" + InstanceId(config.job_db_path);
  {
    std::vector<ChildRecord> children;
    Status cs = store->LoadChildren(&children);
    if (!cs.ok()) {
      log::Error("cannot read the children table", {{"error", cs.message()}});
      return 1;
    }
    std::vector<std::pair<int, long long>> recorded;
    std::vector<StoreWrite> forget;
    for (const auto& c : children) {
      recorded.emplace_back(c.pid, c.start_ticks);
      StoreWrite w;
      w.op = StoreWrite::Op::kDeleteChild;
      w.child = c;
      forget.push_back(std::move(w));
    }
    const int killed = KillLeftoverChildren(recorded, marker);
    if (killed > 0) {
      log::Warn("killed process groups left by a previous run", {{"groups", killed}});
    }
    if (Status fs = store->Apply(forget); !fs.ok()) {
      log::Error("cannot clear the children table", {{"error", fs.message()}});
      return 1;
    }
  }

  asio::io_context ioc(1);
  Metrics metrics;
  ProcessRunnerOptions popts;
  const auto path_it = env.find("PATH");
  popts.path = path_it != env.end() ? path_it->second : "/usr/local/bin:/usr/bin:/bin";
  popts.env = ChildEnvironment(env, config.safe_subprocess_env, config.kubeconfig);
  popts.env.push_back(marker);
  popts.output_cap = config.cli_output_cap;
  popts.kill_grace = std::chrono::milliseconds(config.kill_grace_ms);
  JobManager* runner_hooks = nullptr;  // set once the job manager exists
  popts.on_spawn = [&runner_hooks](int pid, long long ticks, const std::string& owner) {
    if (runner_hooks != nullptr) runner_hooks->ChildStarted(pid, ticks, owner);
  };
  popts.on_exit = [&runner_hooks](int pid) {
    if (runner_hooks != nullptr) runner_hooks->ChildExited(pid);
  };
  ProcessCommandRunner runner(ioc.get_executor(), popts, &metrics);
  Executor executor(ioc.get_executor(), &runner, config.max_subproc_concurrency);
  SystemClock clock;
  JobManager jobs(ioc.get_executor(), config, store.get(), &metrics, &clock);
  runner_hooks = &jobs;
  Workflows workflows(config, &executor, &jobs, &metrics);
  jobs.SetWorkflowRunner(&workflows);

  AppContext ctx;
  ctx.config = &config;
  ctx.metrics = &metrics;
  ctx.store = store.get();
  ctx.jobs = &jobs;
  ctx.executor = &executor;
  ctx.path_env = popts.path;
  Router router(config, &metrics, [&jobs] { return jobs.draining(); });
  RegisterRoutes(&router, &ctx);
  HttpLimits limits{config.http_header_limit, config.http_body_limit, config.http_read_timeout_s,
                    config.http_idle_timeout_s, config.http_max_connections};
  HttpServer server(ioc, limits, [&router](HttpRequest r) { return router.Handle(std::move(r)); },
                    &metrics);

  Status s = jobs.Recover();
  if (!s.ok()) {
    log::Error("restart recovery failed", {{"error", s.message()}});
    std::fprintf(stderr, "everest-bootstrapd: recovery failed: %s\n", s.message().c_str());
    return 1;
  }
  std::unique_ptr<KafkaBridge> kafka;
  if (!config.kafka_brokers.empty()) {
    kafka = std::make_unique<KafkaBridge>(ioc, config, &jobs, store.get(), &metrics);
    s = kafka->Start();
    if (!s.ok()) {
      log::Error("cannot start Kafka", {{"error", s.message()}});
      std::fprintf(stderr, "everest-bootstrapd: %s\n", s.message().c_str());
      return 1;
    }
    KafkaBridge* k = kafka.get();
    jobs.SetOutboxListener([k] { k->OutboxWritten(); });
    ctx.kafka_connected = [k] { return k->connected(); };
  }
  s = server.Listen(config.bind_address, config.port);
  if (!s.ok()) {
    log::Error("cannot listen", {{"error", s.message()}});
    std::fprintf(stderr, "everest-bootstrapd: %s\n", s.message().c_str());
    return 1;
  }
  ctx.listening = true;
  server.Start();
  jobs.StartRetention();
  log::Info("listening", {{"address", config.bind_address},
                          {"port", server.port()},
                          {"version", BOOTSTRAPD_VERSION},
                          {"job_db", config.job_db_path},
                          {"rbac_mode", RbacModeName(config.rbac_mode)}});
  Notify("READY=1\n" + StatusLine(jobs));

  Parts parts{config, ioc, jobs, server, executor, kafka.get()};
  asio::signal_set signals(ioc, SIGTERM, SIGINT);
  signals.async_wait([&parts](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    parts.stopping = true;
    asio::co_spawn(parts.ioc, Shutdown(&parts, signo), asio::detached);
  });
  std::uint64_t wd_usec = 0;
  if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0) {
    asio::co_spawn(ioc, Watchdog(&parts, wd_usec), asio::detached);
  }
  ioc.run();
  return 0;
}

}  // namespace bootstrapd

// Prometheus metric families of SPEC §7 (names are contract), in one registry,
// served as text by our own HTTP server. Loop thread (prometheus-cpp metrics
// are themselves thread-safe). No usernames or namespaces as label values.
#pragma once

#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace bootstrapd {

class Metrics {
 private:
  std::shared_ptr<prometheus::Registry> registry_;  // first: the families below bind to it

 public:
  Metrics();

  // Prometheus text exposition format (version 0.0.4).
  std::string Serialize() const;

  prometheus::Family<prometheus::Counter>& http_requests;        // {route,method,code}
  prometheus::Family<prometheus::Histogram>& http_duration;      // {route,method}
  prometheus::Family<prometheus::Counter>& cli_calls;            // {tool,subcommand,outcome}
  prometheus::Family<prometheus::Histogram>& cli_duration;       // {tool,subcommand}
  prometheus::Family<prometheus::Counter>& jobs;                 // {kind,source,status}
  prometheus::Gauge& jobs_queued;
  prometheus::Gauge& jobs_running;
  prometheus::Counter& jobs_rejected;
  prometheus::Counter& jobs_purged;
  prometheus::Family<prometheus::Counter>& store_errors;         // {op}
  prometheus::Family<prometheus::Counter>& degraded;             // {reason}
  prometheus::Counter& log_dropped;
  prometheus::Family<prometheus::Counter>& webhook_verifications;  // {result}
  prometheus::Counter& kafka_consumed;
  prometheus::Counter& kafka_dlq;
  prometheus::Gauge& kafka_paused;
  prometheus::Counter& kafka_produced;
  prometheus::Counter& kafka_delivery_failures;
  prometheus::Family<prometheus::Gauge>& kafka_lag;  // {partition}
  prometheus::Counter& store_commits;  // transactions (one fsync each)
  prometheus::Counter& store_writes;   // rows written by them (group commit: writes >= commits)

  static const prometheus::Histogram::BucketBoundaries& HttpBuckets();
  static const prometheus::Histogram::BucketBoundaries& CliBuckets();
};

}  // namespace bootstrapd

#include "daemon/metrics/metrics.h"

#include <prometheus/text_serializer.h>

#include "daemon/util/log.h"

namespace bootstrapd {
namespace {

constexpr const char* kPrefix = "everest_bootstrapd_";

std::string Name(const char* n) { return std::string(kPrefix) + n; }

}  // namespace

const prometheus::Histogram::BucketBoundaries& Metrics::HttpBuckets() {
  static const prometheus::Histogram::BucketBoundaries b = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  return b;
}

const prometheus::Histogram::BucketBoundaries& Metrics::CliBuckets() {
  static const prometheus::Histogram::BucketBoundaries b = {
      0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800};
  return b;
}

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      http_requests(prometheus::BuildCounter()
                        .Name(Name("http_requests_total"))
                        .Help("HTTP requests by route template, method and status code")
                        .Register(*registry_)),
      http_duration(prometheus::BuildHistogram()
                        .Name(Name("http_request_duration_seconds"))
                        .Help("HTTP request latency by route template and method")
                        .Register(*registry_)),
      cli_calls(prometheus::BuildCounter()
                    .Name(Name("cli_calls_total"))
                    .Help("everestctl/kubectl calls by tool, subcommand and outcome")
                    .Register(*registry_)),
      cli_duration(prometheus::BuildHistogram()
                       .Name(Name("cli_call_duration_seconds"))
                       .Help("everestctl/kubectl call latency by tool and subcommand")
                       .Register(*registry_)),
      jobs(prometheus::BuildCounter()
               .Name(Name("jobs_total"))
               .Help("Finished jobs by kind, source and final status")
               .Register(*registry_)),
      jobs_queued(prometheus::BuildGauge()
                      .Name(Name("jobs_queued"))
                      .Help("Accepted jobs not yet started (waiting for a lane included)")
                      .Register(*registry_)
                      .Add({})),
      jobs_running(prometheus::BuildGauge()
                       .Name(Name("jobs_running"))
                       .Help("Jobs running now")
                       .Register(*registry_)
                       .Add({})),
      jobs_rejected(prometheus::BuildCounter()
                        .Name(Name("jobs_rejected_total"))
                        .Help("Job submissions refused because the queue was full or draining")
                        .Register(*registry_)
                        .Add({})),
      jobs_purged(prometheus::BuildCounter()
                      .Name(Name("jobs_purged_total"))
                      .Help("Finished jobs purged by retention")
                      .Register(*registry_)
                      .Add({})),
      store_errors(prometheus::BuildCounter()
                       .Name(Name("store_errors_total"))
                       .Help("Job store failures by operation")
                       .Register(*registry_)),
      degraded(prometheus::BuildCounter()
                   .Name(Name("degraded_total"))
                   .Help("Degraded paths taken (each also logs a warning), by reason")
                   .Register(*registry_)),
      log_dropped(prometheus::BuildCounter()
                      .Name(Name("log_lines_dropped_total"))
                      .Help("Log lines dropped because stdout was too slow")
                      .Register(*registry_)
                      .Add({})),
      webhook_verifications(prometheus::BuildCounter()
                                .Name(Name("webhook_verifications_total"))
                                .Help("Webhook signature verifications by result")
                                .Register(*registry_)),
      kafka_consumed(prometheus::BuildCounter()
                         .Name(Name("kafka_messages_consumed_total"))
                         .Help("Kafka request records consumed")
                         .Register(*registry_)
                         .Add({})),
      kafka_dlq(prometheus::BuildCounter()
                    .Name(Name("kafka_dlq_total"))
                    .Help("Kafka request records sent to the dead-letter topic")
                    .Register(*registry_)
                    .Add({})),
      kafka_paused(prometheus::BuildGauge()
                       .Name(Name("kafka_paused"))
                       .Help("1 while the consumer's partitions are paused (queue above its high mark)")
                       .Register(*registry_)
                       .Add({})),
      kafka_produced(prometheus::BuildCounter()
                         .Name(Name("kafka_events_produced_total"))
                         .Help("Completion events delivered to Kafka")
                         .Register(*registry_)
                         .Add({})),
      kafka_delivery_failures(prometheus::BuildCounter()
                                  .Name(Name("kafka_delivery_failures_total"))
                                  .Help("Kafka deliveries that failed (retried from the outbox)")
                                  .Register(*registry_)
                                  .Add({})),
      kafka_lag(prometheus::BuildGauge()
                    .Name(Name("kafka_consumer_lag"))
                    .Help("Consumer lag per assigned partition (high watermark - position)")
                    .Register(*registry_)),
      store_commits(prometheus::BuildCounter()
                        .Name(Name("store_commits_total"))
                        .Help("Job store transactions committed (one fsync each)")
                        .Register(*registry_)
                        .Add({})),
      store_writes(prometheus::BuildCounter()
                       .Name(Name("store_writes_total"))
                       .Help("Rows written by those transactions (group commit)")
                       .Register(*registry_)
                       .Add({})) {}

std::string Metrics::Serialize() const {
  // Log lines dropped by the logger's full queue, brought up to date.
  const double dropped = static_cast<double>(log::DroppedLines());
  if (dropped > log_dropped.Value()) log_dropped.Increment(dropped - log_dropped.Value());
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace bootstrapd

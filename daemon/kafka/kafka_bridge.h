// Kafka on the daemon's side (SPEC §4), librdkafka's C API driven from the
// one io_context: the consumer queue wakes the loop through its io-event fd
// (plus a safety timer), and every poll — so every rebalance, delivery and
// error callback — runs on the loop thread. No job state is touched elsewhere.
//
// Intake: CloudEvents (structured or binary) on KAFKA_REQUEST_TOPIC become
// jobs through the same submission builder as REST; (source, id) is the
// idempotency key; an offset is stored only after its job row is committed
// (or its DLQ copy delivered), contiguously per partition; poison records go to
// KAFKA_DLQ_TOPIC; partitions pause above MAX_QUEUED_JOBS and resume below 80 %.
// Completion events: rows of the outbox table are produced (idempotent
// producer) and marked sent on their delivery report; unsent rows are retried.
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>

#include "daemon/config.h"
#include "daemon/util/status.h"

namespace bootstrapd {

class JobManager;
class JobStore;
class Metrics;

class KafkaBridge {
 public:
  KafkaBridge(boost::asio::io_context& ioc, const Config& config, JobManager* jobs, JobStore* store,
              Metrics* metrics);
  ~KafkaBridge();

  // Creates the consumer and producer, subscribes, starts the loops.
  Status Start();
  // Drain, first half: stop consuming (stored offsets are committed).
  void StopConsuming();
  // Drain, second half: flush the producer (outbox deliveries) for up to `ms`.
  void Flush(int ms);
  // True while the consumer reaches its brokers (for /readyz).
  bool connected() const;
  // New outbox rows were committed: send them.
  void OutboxWritten();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace bootstrapd

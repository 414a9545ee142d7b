#include "daemon/kafka/kafka_bridge.h"

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <cstring>
#include <map>
#include <set>
#include <thread>

#include "daemon/domain/cloudevent.h"
#include "daemon/jobs/job_manager.h"
#include "daemon/jobs/job_store.h"
#include "daemon/jobs/submissions.h"
#include "daemon/metrics/metrics.h"
#include "daemon/util/log.h"
#include "daemon/util/time.h"

namespace bootstrapd {

namespace asio = boost::asio;
using asio::awaitable;
using json = nlohmann::json;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// Records being turned into jobs at once (decoded, submitted, waiting for
// their commit). Above it the rest waits in librdkafka's queue: the frames
// and buffers of a bounded window are reused, where a backlog taken whole
// (tens of thousands of coroutines) grows the heap page by page.
constexpr int kMaxInFlight = 512;
// Records taken per drain: one submission group, one commit, one coroutine.
constexpr int kBatch = 256;

// A consumed record, copied out of librdkafka's message.
struct Record {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A record and the submission decoded from it.
struct Intake {
  Record record;
  SubmitRequest request;
  std::string scope;  // its idempotency scope, kept for the DLQ reason
};

// What a delivery report is about.
struct Delivery {
  enum class Kind { kDlq, kOutbox } kind = Kind::kOutbox;
  std::string outbox_id;
  int32_t partition = 0;
  int64_t offset = 0;
  Record record;  // kDlq: to produce again after a failure
  std::string error;
};

bool SetConf(rd_kafka_conf_t* conf, const std::string& k, const std::string& v, std::string* err) {
  char buf[512];
  if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), buf, sizeof buf) != RD_KAFKA_CONF_OK) {
    *err = "KAFKA_CONFIG_FILE: " + k + ": " + buf;
    return false;
  }
  return true;
}

}  // namespace

struct KafkaBridge::Impl : std::enable_shared_from_this<KafkaBridge::Impl> {
  Impl(asio::io_context& c, const Config& cfg, JobManager* j, JobStore* s, Metrics* m)
      : ioc(c), config(cfg), jobs(j), store(s), metrics(m), wake(c), poll_timer(c),
        producer_timer(c), outbox_timer(c), lag_timer(c) {}

  asio::io_context& ioc;
  const Config& config;
  JobManager* jobs;
  JobStore* store;
  Metrics* metrics;
  rd_kafka_t* consumer = nullptr;
  rd_kafka_t* producer = nullptr;
  rd_kafka_queue_t* queue = nullptr;
  asio::posix::stream_descriptor wake;
  int wake_write_fd = -1;
  asio::steady_timer poll_timer, producer_timer, outbox_timer, lag_timer;
  bool stopping = false;
  bool consumer_closed = false;
  bool connected = false;
  bool paused = false;
  int in_flight = 0;          // records in a HandleBatch (see kMaxInFlight)
  bool drain_posted = false;  // a Drain() is queued on the loop
  std::thread::id loop_thread;  // see CheckLoopThread
  // Per partition: offsets received and not yet stored; true when done.
  std::map<int32_t, std::map<int64_t, bool>> pending;
  std::set<std::string> outbox_in_flight;   // produced, delivery report pending
  std::set<std::string> outbox_delivered;   // delivered, "sent" mark not yet committed

  // --- consumer -------------------------------------------------------------

  // librdkafka serves our callbacks from the poll calls, which run on the loop
  // thread only, so they may touch loop state without locks. Checked, not
  // assumed: a callback from another thread is logged and counted.
  void CheckLoopThread(const char* callback) {
    if (std::this_thread::get_id() == loop_thread) return;
    metrics->degraded.Add({{"reason", "kafka_callback_off_loop"}}).Increment();
    log::Error("kafka callback on a librdkafka thread", {{"callback", callback}});
  }

  static void RebalanceCb(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    self->CheckLoopThread("rebalance");
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      if (cooperative) rd_kafka_incremental_assign(rk, parts);
      else rd_kafka_assign(rk, parts);
      self->connected = true;
      if (self->paused) rd_kafka_pause_partitions(rk, parts);  // pause again after a rebalance
      log::Info("kafka partitions assigned", {{"count", parts->cnt}, {"paused", self->paused}});
    } else {
      // Revoked: commit what is stored, synchronously, before letting go.
      rd_kafka_commit(rk, nullptr, 0);
      for (int i = 0; i < parts->cnt; ++i) self->pending.erase(parts->elems[i].partition);
      if (cooperative) rd_kafka_incremental_unassign(rk, parts);
      else rd_kafka_assign(rk, nullptr);
      log::Info("kafka partitions revoked", {{"count", parts->cnt}});
    }
  }

  static void ErrorCb(rd_kafka_t*, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    self->CheckLoopThread("error");
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) self->connected = false;
    self->metrics->degraded.Add({{"reason", "kafka_error"}}).Increment();
    log::Warn("kafka error", {{"error", rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err))},
                              {"reason", reason}});
  }

  // Drains the consumer queue (callbacks run here, on the loop thread): up to
  // kBatch records per call, while fewer than kMaxInFlight are in flight.
  // Each record is decoded here; the valid ones of one call become one
  // HandleBatch (one submission group, one commit), poison ones go to the DLQ.
  // RecordsDone() drains again below half the window.
  void Drain() {
    if (consumer == nullptr || consumer_closed) return;
    drain_posted = false;
    std::vector<Intake> batch;
    int polled = 0;
    while (in_flight + static_cast<int>(batch.size()) < kMaxInFlight && polled < kBatch) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 0);
      if (m == nullptr) break;
      ++polled;
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          log::Warn("kafka consume error", {{"error", rd_kafka_message_errstr(m)}});
        }
        rd_kafka_message_destroy(m);
        continue;
      }
      connected = true;
      Intake in;
      Record& r = in.record;
      r.topic = rd_kafka_topic_name(m->rkt);
      r.partition = m->partition;
      r.offset = m->offset;
      if (m->key != nullptr) r.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload != nullptr) r.value.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* hdrs = nullptr;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* val;
        size_t size;
        for (size_t i2 = 0; rd_kafka_header_get_all(hdrs, i2, &name, &val, &size) ==
                            RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i2) {
          r.headers.emplace_back(name, val != nullptr ? std::string(static_cast<const char*>(val), size)
                                                      : std::string());
        }
      }
      rd_kafka_message_destroy(m);
      metrics->kafka_consumed.Increment();
      pending[r.partition][r.offset] = false;
      std::string why;
      if (!ToSubmission(r, &in.request, &why)) {
        ToDlq(std::move(r), std::move(why));  // done once the DLQ copy is delivered
        continue;
      }
      batch.push_back(std::move(in));
    }
    if (!batch.empty()) {
      in_flight += static_cast<int>(batch.size());
      asio::co_spawn(ioc, HandleBatch(shared_from_this(), std::move(batch)), asio::detached);
    }
    // Stopped by the batch size, not by an empty queue or a full window: the
    // io-event fd will not fire again for what is left, so resume ourselves.
    if (polled == kBatch && in_flight < kMaxInFlight) PostDrain();
  }

  void PostDrain() {
    if (drain_posted || stopping || consumer_closed || ioc.stopped()) return;
    drain_posted = true;
    asio::post(ioc, [self = shared_from_this()] { self->Drain(); });
  }

  // `n` records left the window (committed, DLQ'd, or given up): below half
  // the window, drain again (the io-event fd only fires when librdkafka's
  // queue goes from empty to non-empty, so a partial drain is ours to resume).
  void RecordsDone(int n) {
    in_flight -= n;
    if (in_flight <= kMaxInFlight / 2) PostDrain();
  }

  // A record as a submission (SPEC §4): a CloudEvent (binary when it has a
  // ce_specversion header, structured otherwise) of a known type whose data is
  // a valid request. False with the reason for the DLQ otherwise.
  bool ToSubmission(const Record& r, SubmitRequest* sr, std::string* why) {
    CloudEvent ev;
    std::string err;
    bool binary = false;
    for (const auto& [k, v] : r.headers) binary = binary || k == "ce_specversion";
    const bool decoded = binary ? DecodeBinaryEvent(r.headers, r.value, &ev, &err)
                                : DecodeStructuredEvent(r.value, &ev, &err);
    if (!decoded) {
      *why = "not a CloudEvent: " + err;
      return false;
    }
    const auto action = ActionOfType(ev.type);
    const std::optional<JobKind> kind = action ? ParseKind(*action) : std::nullopt;
    if (!kind) {
      *why = "unknown type '" + ev.type + "'";
      return false;
    }
    std::vector<FieldError> errors;
    if (!BuildSubmission(*kind, ev.data, config, *jobs, sr, &errors)) {
      *why = "invalid data: ";
      for (std::size_t i = 0; i < errors.size(); ++i) {
        *why += (i == 0 ? "" : "; ") + ("/data" + errors[i].pointer) + ": " + errors[i].detail;
      }
      return false;
    }
    sr->source = "kafka";
    sr->idem_scope = "kafka:" + ev.source + ":" + ev.id;
    sr->idem_canonical = ev.data.dump();
    sr->request_event = {{"id", ev.id}, {"source", ev.source}, {"type", ev.type}};
    return true;
  }

  static awaitable<void> WakeLoop(std::shared_ptr<Impl> self) {
    std::array<char, 64> buf;
    for (;;) {
      auto [ec, n] = co_await self->wake.async_read_some(asio::buffer(buf), kNoThrow);
      (void)n;
      if (ec || self->stopping) co_return;
      self->Drain();
    }
  }

  static awaitable<void> PollLoop(std::shared_ptr<Impl> self) {
    for (;;) {
      self->Drain();  // safety net for a missed wake-up; also drives rebalances
      self->Backpressure();  // resume once the queue is below its low mark
      self->poll_timer.expires_after(std::chrono::milliseconds(100));
      auto [ec] = co_await self->poll_timer.async_wait(kNoThrow);
      if (ec || self->stopping) co_return;
    }
  }

  // Marks a record finished and stores the highest contiguous offset.
  void Done(int32_t partition, int64_t offset) {
    const int64_t upto = Advance(partition, offset);
    if (upto >= 0) StoreOffset(partition, upto);
  }

  // Marks a record finished; returns the highest offset that is now finished
  // with every offset before it (to store), or -1 when that did not move.
  int64_t Advance(int32_t partition, int64_t offset) {
    auto it = pending.find(partition);
    if (it == pending.end()) return -1;  // revoked meanwhile
    auto& offsets = it->second;
    auto o = offsets.find(offset);
    if (o == offsets.end()) return -1;
    o->second = true;
    int64_t store_upto = -1;
    while (!offsets.empty() && offsets.begin()->second) {
      store_upto = offsets.begin()->first;
      offsets.erase(offsets.begin());
    }
    return store_upto;
  }

  void StoreOffset(int32_t partition, int64_t upto) {
    if (consumer == nullptr || consumer_closed) return;
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, config.kafka_request_topic.c_str(), partition)->offset =
        upto + 1;
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(consumer, list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__STATE) {
      log::Warn("kafka offsets store failed", {{"error", rd_kafka_err2str(err)}});
    }
    rd_kafka_topic_partition_list_destroy(list);
  }

  void Backpressure() {
    if (consumer == nullptr || consumer_closed) return;
    const std::size_t high = static_cast<std::size_t>(config.max_queued_jobs);
    const std::size_t low = high * 8 / 10;
    const std::size_t queued = jobs->queued();
    if (!paused && queued >= high) {
      SetPaused(true);
    } else if (paused && queued < low) {
      SetPaused(false);
    }
  }

  void SetPaused(bool p) {
    rd_kafka_topic_partition_list_t* parts = nullptr;
    if (rd_kafka_assignment(consumer, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (p) rd_kafka_pause_partitions(consumer, parts);
    else rd_kafka_resume_partitions(consumer, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    paused = p;
    metrics->kafka_paused.Set(p ? 1 : 0);
    log::Info(p ? "kafka consumer paused (queue above its high mark)"
                : "kafka consumer resumed (queue below its low mark)",
              {{"queued", jobs->queued()}});
  }

  static awaitable<void> Sleep(std::shared_ptr<Impl> self, int ms) {
    asio::steady_timer t(self->ioc);
    t.expires_after(std::chrono::milliseconds(ms));
    auto [ec] = co_await t.async_wait(kNoThrow);
    (void)ec;
  }

  // Counts a HandleBatch's records out of the window however it ends.
  struct InFlight {
    InFlight(Impl* i, int count) : impl(i), n(count) {}
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;
    ~InFlight() {
      if (!impl->ioc.stopped()) impl->RecordsDone(n);  // frames destroyed at exit: nothing to resume
    }
    Impl* impl;
    int n;
  };

  // Submits the decoded records of one drain as one group (one commit), then
  // settles each record: stored offset when its job (or an earlier one for
  // the same event) is committed, DLQ when the event is refused for good.
  // Records refused for a while (queue full, store error) are decoded again
  // and resubmitted every 200 ms; while draining they are left unstored, so
  // they are consumed again after the restart.
  static awaitable<void> HandleBatch(std::shared_ptr<Impl> self, std::vector<Intake> batch) {
    InFlight window(self.get(), static_cast<int>(batch.size()));
    for (int attempt = 0;; ++attempt) {
      std::vector<SubmitRequest> requests;
      requests.reserve(batch.size());
      for (auto& in : batch) {
        in.scope = in.request.idem_scope;
        requests.push_back(std::move(in.request));
      }
      std::vector<SubmitOutcome> outs = co_await self->jobs->SubmitMany(std::move(requests));
      std::map<int32_t, int64_t> store;  // partition -> offset to store
      std::vector<Intake> waiting;
      for (std::size_t i = 0; i < batch.size(); ++i) {
        Record& r = batch[i].record;
        switch (outs[i].code) {
          case SubmitOutcome::Code::kAccepted:
          case SubmitOutcome::Code::kReplay: {
            const int64_t upto = self->Advance(r.partition, r.offset);
            if (upto >= 0) store[r.partition] = upto;
            break;
          }
          case SubmitOutcome::Code::kKeyMismatch:
            self->ToDlq(std::move(r),
                        "event id reused with different data (" + batch[i].scope + ")");
            break;
          case SubmitOutcome::Code::kOwnership:
            self->ToDlq(std::move(r), outs[i].message);
            break;
          case SubmitOutcome::Code::kDraining:
            break;  // not stored: redelivered after the restart
          case SubmitOutcome::Code::kQueueFull:
          case SubmitOutcome::Code::kStoreError:
            if (attempt == 0 && waiting.empty()) {
              log::Warn("kafka records wait", {{"reason", outs[i].message},
                                               {"partition", r.partition},
                                               {"offset", r.offset}});
            }
            waiting.push_back({std::move(r), {}, {}});
            break;
        }
      }
      for (const auto& [partition, upto] : store) self->StoreOffset(partition, upto);
      self->Backpressure();
      if (waiting.empty()) co_return;
      co_await Sleep(self, 200);
      if (self->stopping) co_return;
      // Decoded again: the tenants table may have changed meanwhile.
      batch.clear();
      for (auto& in : waiting) {
        std::string why;
        if (!self->ToSubmission(in.record, &in.request, &why)) {
          self->ToDlq(std::move(in.record), std::move(why));
          continue;
        }
        batch.push_back(std::move(in));
      }
      if (batch.empty()) co_return;
    }
  }

  void ToDlq(Record r, std::string error) {
    log::Warn("kafka record to the dead-letter topic",
              {{"partition", r.partition}, {"offset", r.offset}, {"error", error}});
    auto* d = new Delivery;
    d->kind = Delivery::Kind::kDlq;
    d->partition = r.partition;
    d->offset = r.offset;
    d->error = std::move(error);
    d->record = std::move(r);
    ProduceDlq(d);
  }

  void ProduceDlq(Delivery* d) {
    const Record& r = d->record;
    const std::string body = RedactSecrets(r.value);
    const std::string part = std::to_string(r.partition);
    const std::string off = std::to_string(r.offset);
    rd_kafka_headers_t* h = rd_kafka_headers_new(4);
    rd_kafka_header_add(h, "dlq-original-topic", -1, r.topic.data(), r.topic.size());
    rd_kafka_header_add(h, "dlq-original-partition", -1, part.data(), part.size());
    rd_kafka_header_add(h, "dlq-original-offset", -1, off.data(), off.size());
    rd_kafka_header_add(h, "dlq-error", -1, d->error.data(), d->error.size());
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(config.kafka_dlq_topic.c_str()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(const_cast<char*>(body.data()), body.size()),
        RD_KAFKA_V_KEY(r.key.data(), r.key.size()), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(d),
        RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_headers_destroy(h);
      log::Warn("cannot queue a DLQ record; retrying", {{"error", rd_kafka_err2str(err)}});
      auto self = shared_from_this();
      auto t = std::make_shared<asio::steady_timer>(ioc);
      t->expires_after(std::chrono::milliseconds(500));
      t->async_wait([self, t, d](const boost::system::error_code& ec) {
        if (ec || self->stopping) {
          delete d;
          return;
        }
        self->ProduceDlq(d);
      });
    }
  }

  // --- producer -------------------------------------------------------------

  static void DeliveryCb(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    self->CheckLoopThread("delivery");
    auto* d = static_cast<Delivery*>(m->_private);
    if (d == nullptr) return;
    if (d->kind == Delivery::Kind::kDlq) {
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        self->metrics->kafka_dlq.Increment();
        self->Done(d->partition, d->offset);
        delete d;
      } else {
        self->metrics->kafka_delivery_failures.Increment();
        log::Warn("DLQ delivery failed; retrying", {{"error", rd_kafka_err2str(m->err)}});
        if (self->stopping) {
          delete d;
        } else {
          self->ProduceDlq(d);
        }
      }
      return;
    }
    self->outbox_in_flight.erase(d->outbox_id);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      self->metrics->kafka_produced.Increment();
      self->outbox_delivered.insert(d->outbox_id);
      StoreWrite w;
      w.op = StoreWrite::Op::kMarkSent;
      w.outbox.id = d->outbox_id;
      w.outbox.created_ms = ToUnixMs(std::chrono::system_clock::now());
      self->jobs->EnqueueWrite(std::move(w));
    } else {
      self->metrics->kafka_delivery_failures.Increment();
      log::Warn("completion event delivery failed; it stays in the outbox",
                {{"error", rd_kafka_err2str(m->err)}, {"event_id", d->outbox_id}});
    }
    delete d;
  }

  void PumpOutbox() {
    if (producer == nullptr) return;
    std::vector<OutboxRow> rows;
    Status s = store->LoadUnsent(
        1000 + static_cast<int>(outbox_in_flight.size() + outbox_delivered.size()), &rows);
    if (!s.ok()) {
      log::Warn("cannot read the outbox", {{"error", s.message()}});
      return;
    }
    // A delivered row whose "sent" mark is committed no longer comes back.
    std::set<std::string> unsent;
    for (const auto& row : rows) unsent.insert(row.id);
    std::erase_if(outbox_delivered, [&](const std::string& id) { return unsent.count(id) == 0; });
    for (const auto& row : rows) {
      if (outbox_in_flight.count(row.id) != 0 || outbox_delivered.count(row.id) != 0) continue;
      auto* d = new Delivery;
      d->outbox_id = row.id;
      rd_kafka_headers_t* h = rd_kafka_headers_new(1);
      static const std::string kType = "application/cloudevents+json";
      rd_kafka_header_add(h, "content-type", -1, kType.data(), kType.size());
      rd_kafka_resp_err_t err = rd_kafka_producev(
          producer, RD_KAFKA_V_TOPIC(row.topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_VALUE(const_cast<char*>(row.payload.data()), row.payload.size()),
          RD_KAFKA_V_KEY(row.key.data(), row.key.size()), RD_KAFKA_V_HEADERS(h),
          RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_headers_destroy(h);
        delete d;
        break;  // queue full: the next pump continues
      }
      outbox_in_flight.insert(row.id);
    }
  }

  static awaitable<void> ProducerLoop(std::shared_ptr<Impl> self) {
    for (;;) {
      rd_kafka_poll(self->producer, 0);  // delivery reports, on this thread
      self->producer_timer.expires_after(std::chrono::milliseconds(20));
      auto [ec] = co_await self->producer_timer.async_wait(kNoThrow);
      if (ec || self->stopping) co_return;
    }
  }

  static awaitable<void> OutboxLoop(std::shared_ptr<Impl> self) {
    for (;;) {
      self->PumpOutbox();
      self->outbox_timer.expires_after(std::chrono::seconds(1));
      auto [ec] = co_await self->outbox_timer.async_wait(kNoThrow);
      if (self->stopping) co_return;
      (void)ec;  // canceled = woken by OutboxWritten()
    }
  }

  static awaitable<void> LagLoop(std::shared_ptr<Impl> self) {
    for (;;) {
      self->lag_timer.expires_after(std::chrono::seconds(1));
      auto [ec] = co_await self->lag_timer.async_wait(kNoThrow);
      if (ec || self->stopping || self->consumer_closed) co_return;
      rd_kafka_topic_partition_list_t* parts = nullptr;
      if (rd_kafka_assignment(self->consumer, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      rd_kafka_position(self->consumer, parts);
      for (int i = 0; i < parts->cnt; ++i) {
        int64_t lo = 0, hi = 0;
        const auto& p = parts->elems[i];
        if (rd_kafka_get_watermark_offsets(self->consumer, p.topic, p.partition, &lo, &hi) !=
                RD_KAFKA_RESP_ERR_NO_ERROR ||
            hi < 0) {
          continue;
        }
        const int64_t pos = p.offset >= 0 ? p.offset : lo;
        self->metrics->kafka_lag.Add({{"partition", std::to_string(p.partition)}})
            .Set(static_cast<double>(std::max<int64_t>(0, hi - pos)));
      }
      rd_kafka_topic_partition_list_destroy(parts);
    }
  }

  Status Start() {
    loop_thread = std::this_thread::get_id();  // Start runs on the loop thread
    std::string err;
    char errstr[512];
    // Consumer.
    rd_kafka_conf_t* cc = rd_kafka_conf_new();
    bool ok = SetConf(cc, "bootstrap.servers", config.kafka_brokers, &err) &&
              SetConf(cc, "group.id", config.kafka_group_id, &err) &&
              SetConf(cc, "partition.assignment.strategy", "cooperative-sticky", &err) &&
              SetConf(cc, "auto.offset.reset", "earliest", &err) &&
              SetConf(cc, "enable.auto.commit", "true", &err) &&
              SetConf(cc, "enable.partition.eof", "false", &err);
    for (const auto& [k, v] : config.kafka_properties) ok = ok && SetConf(cc, k, v, &err);
    // Offsets are stored by hand once the job is committed, whatever the file says.
    ok = ok && SetConf(cc, "enable.auto.offset.store", "false", &err);
    if (!ok) {
      rd_kafka_conf_destroy(cc);
      return Status::Invalid(err);
    }
    rd_kafka_conf_set_opaque(cc, this);
    rd_kafka_conf_set_rebalance_cb(cc, &Impl::RebalanceCb);
    rd_kafka_conf_set_error_cb(cc, &Impl::ErrorCb);
    consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cc, errstr, sizeof errstr);
    if (consumer == nullptr) {
      rd_kafka_conf_destroy(cc);
      return Status::Invalid(std::string("KAFKA_BROKERS: cannot create the consumer: ") + errstr);
    }
    rd_kafka_poll_set_consumer(consumer);
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, config.kafka_request_topic.c_str(),
                                      RD_KAFKA_PARTITION_UA);
    const rd_kafka_resp_err_t serr = rd_kafka_subscribe(consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (serr != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Invalid(std::string("KAFKA_REQUEST_TOPIC: subscribe failed: ") +
                             rd_kafka_err2str(serr));
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return Status::Io("pipe for the kafka wake-up");
    wake.assign(fds[0]);
    wake_write_fd = fds[1];
    queue = rd_kafka_queue_get_consumer(consumer);
    rd_kafka_queue_io_event_enable(queue, wake_write_fd, "1", 1);

    // Producer: idempotent; delivery reports are served by rd_kafka_poll on the loop.
    rd_kafka_conf_t* pc = rd_kafka_conf_new();
    ok = SetConf(pc, "bootstrap.servers", config.kafka_brokers, &err);
    for (const auto& [k, v] : config.kafka_properties) {
      // Consumer-only properties would only warn here; skip the obvious ones.
      if (k == "group.id" || k.rfind("session.", 0) == 0 || k.rfind("heartbeat.", 0) == 0 ||
          k.rfind("auto.", 0) == 0 || k.rfind("enable.auto.", 0) == 0 ||
          k == "partition.assignment.strategy" || k == "isolation.level") {
        continue;
      }
      ok = ok && SetConf(pc, k, v, &err);
    }
    ok = ok && SetConf(pc, "enable.idempotence", "true", &err);
    if (!ok) {
      rd_kafka_conf_destroy(pc);
      return Status::Invalid(err);
    }
    rd_kafka_conf_set_opaque(pc, this);
    rd_kafka_conf_set_dr_msg_cb(pc, &Impl::DeliveryCb);
    producer = rd_kafka_new(RD_KAFKA_PRODUCER, pc, errstr, sizeof errstr);
    if (producer == nullptr) {
      rd_kafka_conf_destroy(pc);
      return Status::Invalid(std::string("KAFKA_BROKERS: cannot create the producer: ") + errstr);
    }
    auto self = shared_from_this();
    asio::co_spawn(ioc, WakeLoop(self), asio::detached);
    asio::co_spawn(ioc, PollLoop(self), asio::detached);
    asio::co_spawn(ioc, ProducerLoop(self), asio::detached);
    asio::co_spawn(ioc, OutboxLoop(self), asio::detached);
    asio::co_spawn(ioc, LagLoop(self), asio::detached);
    log::Info("kafka started", {{"brokers", config.kafka_brokers},
                                {"group", config.kafka_group_id},
                                {"request_topic", config.kafka_request_topic},
                                {"events_topic", config.kafka_events_topic}});
    return Status::Ok();
  }

  void StopConsuming() {
    if (consumer == nullptr || consumer_closed) return;
    // Commits the stored offsets and leaves the group (rebalance callbacks run here).
    rd_kafka_consumer_close(consumer);
    consumer_closed = true;
    log::Info("kafka consumer closed");
  }

  void Flush(int ms) {
    if (producer == nullptr) return;
    PumpOutbox();
    rd_kafka_flush(producer, ms);  // delivery callbacks run on this (the loop) thread
    stopping = true;
    boost::system::error_code ec;
    poll_timer.cancel();
    producer_timer.cancel();
    outbox_timer.cancel();
    lag_timer.cancel();
    wake.cancel(ec);
  }

  ~Impl() {
    if (queue != nullptr) rd_kafka_queue_destroy(queue);
    if (consumer != nullptr) {
      if (!consumer_closed) rd_kafka_consumer_close(consumer);
      rd_kafka_destroy(consumer);
    }
    if (producer != nullptr) rd_kafka_destroy(producer);
    if (wake_write_fd >= 0) ::close(wake_write_fd);
  }
};

KafkaBridge::KafkaBridge(asio::io_context& ioc, const Config& config, JobManager* jobs,
                         JobStore* store, Metrics* metrics)
    : impl_(std::make_shared<Impl>(ioc, config, jobs, store, metrics)) {}

KafkaBridge::~KafkaBridge() = default;

Status KafkaBridge::Start() { return impl_->Start(); }
void KafkaBridge::StopConsuming() { impl_->StopConsuming(); }
void KafkaBridge::Flush(int ms) { impl_->Flush(ms); }
bool KafkaBridge::connected() const { return impl_->connected && !impl_->consumer_closed; }
void KafkaBridge::OutboxWritten() { impl_->outbox_timer.cancel(); }

}  // namespace bootstrapd

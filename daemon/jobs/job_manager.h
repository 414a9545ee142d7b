// Owns the life of every job: admission (queue limit, draining, tenant
// ownership), durable submission with group commit (every write of one loop
// turn shares one transaction and one fsync; while a commit is on the store's
// writer thread, the next group gathers), scheduling in submission order
// per username/namespace, running through a WorkflowRunner, persisting each
// step, restart recovery, waiting for completion and draining.
// Loop thread only.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/config.h"
#include "daemon/exec/command.h"
#include "daemon/jobs/job.h"
#include "daemon/jobs/job_store.h"
#include "daemon/util/ids.h"
#include "daemon/util/lru_cache.h"
#include "daemon/util/status.h"
#include "daemon/util/time.h"

namespace bootstrapd {

class Metrics;

// One job while it is in memory (queued or running).
struct JobRun {
  Job job;
  std::optional<std::string> secret;  // the password, when the job has one
  CancelTokenPtr cancel = std::make_shared<CancelToken>();
  bool abandon = false;               // draining: stop, leave the job to the next start
  bool committed = false;             // its row is durable: it may run, it is shown
                                      // (until then `job` holds only id, seq, kind,
                                      // source, username and namespace)
};

enum class RunEnd { kSucceeded, kFailed, kCanceled, kAbandoned };

// Runs the steps of a job (SPEC §3). Sets job.steps, job.summary, job.extra.
class WorkflowRunner {
 public:
  virtual ~WorkflowRunner() = default;
  virtual boost::asio::awaitable<RunEnd> Run(JobRun* run) = 0;
};

struct SubmitRequest {
  JobKind kind = JobKind::kBootstrap;
  std::string source = "rest";
  std::string username;
  std::string ns;
  nlohmann::json inputs = nlohmann::json::object();  // redacted
  std::optional<std::string> secret;
  std::string secret_origin = "none";  // generated | default | request | none
  std::string request_id;
  bool bind_tenant = false;  // bootstrap: record username <-> namespace
  bool check_pair = false;   // edits: username and namespace must be a pair of the table
  // Idempotency (SPEC §2): the key's scope and the canonical body it stands for.
  std::string idem_scope;      // "" = no key
  std::string idem_canonical;  // canonical JSON of the request (sorted keys)
  // The event that asked for this job ({"id","source","type"}), if any: its id
  // becomes the completion event's causationid.
  nlohmann::json request_event;
};

struct SubmitOutcome {
  // kReplay: the key was seen with the same body: job_id is the original job.
  // kKeyMismatch: the key was seen with another body (422).
  enum class Code { kAccepted, kQueueFull, kDraining, kStoreError, kOwnership, kReplay,
                    kKeyMismatch };
  Code code = Code::kAccepted;
  std::string job_id;
  std::string message;
};

class JobManager {
 public:
  JobManager(boost::asio::any_io_executor ex, const Config& config, JobStore* store,
             Metrics* metrics, const Clock* clock);
  ~JobManager();

  void SetWorkflowRunner(WorkflowRunner* w) { workflows_ = w; }

  // Loads tenants and unfinished jobs, and schedules them: queued jobs run,
  // running ones resume at their first unfinished step.
  Status Recover();

  // One request (REST, webhook): SubmitMany of one.
  boost::asio::awaitable<SubmitOutcome> Submit(SubmitRequest r);
  // Several submissions sharing one commit (the Kafka intake drains records
  // in batches): each is admitted in order exactly as by Submit (a later one
  // sees the keys and tenant bindings of an earlier one), their writes form
  // one group, and the outcomes come back in the same order.
  boost::asio::awaitable<std::vector<SubmitOutcome>> SubmitMany(std::vector<SubmitRequest> rs);

  // Memory first (active jobs), then the store.
  Status GetJob(const std::string& id, Job* out);
  // The same, shaped for JobView only (see JobStore::GetJobView).
  Status GetJobView(const std::string& id, Job* out);
  // GET /jobs/{id}: the serialized JobView. A finished job's view never
  // changes, so the views of recently read finished jobs are kept (bounded,
  // kViewCacheSize; dropped whole when the retention purge deletes jobs):
  // polling a finished job costs no store read.
  Status JobViewBody(const std::string& id, std::string* body);

  // For GET /jobs/{id}/result of a finished job: returns the job and, the first
  // time only, the generated password, which is then wiped from the store.
  boost::asio::awaitable<Status> ReadResult(std::string id, Job* out,
                                            std::optional<std::string>* password);

  // Waits until the job is terminal or `max` passed. True if terminal.
  boost::asio::awaitable<bool> WaitFinished(std::string id, std::chrono::milliseconds max);

  // Persists the current state of a running job and waits for the commit.
  boost::asio::awaitable<Status> Persist(const Job& job);

  // Tenant ownership (SPEC §2.1): the owner of a username or a namespace.
  std::optional<Tenant> TenantOfUser(const std::string& username) const;
  std::optional<Tenant> TenantOfNamespace(const std::string& ns) const;

  // POST /jobs/{id}/cancel: a queued job becomes canceled at once; a running
  // one has its children terminated and ends canceled. kNotFound, or kConflict
  // for a finished job. *out is the job afterwards.
  boost::asio::awaitable<Status> Cancel(std::string id, Job* out);

  // Starts the retention task: finished jobs and idempotency keys older than
  // JOB_RETENTION_HOURS are purged in small batches, never blocking the loop long.
  void StartRetention();
  // One purge pass (all due batches); returns the number of jobs purged.
  boost::asio::awaitable<int> PurgeOnce();

  // Called after a commit that wrote completion events (the Kafka outbox).
  void SetOutboxListener(std::function<void()> f) { outbox_listener_ = std::move(f); }
  // Joins the next group commit; nobody waits for it (e.g. outbox "sent" marks).
  void EnqueueWrite(StoreWrite w) { Enqueue(std::move(w)); }

  // Child bookkeeping for leftover killing (not awaited: a crash before the
  // row is committed is covered by the environment marker).
  void ChildStarted(int pid, long long start_ticks, const std::string& job_id);
  void ChildExited(int pid);

  // Removes a deleted tenant's username <-> namespace row (durably).
  boost::asio::awaitable<Status> ForgetTenant(std::string username);

  // Jobs from the store (finished ones) merged with the active ones in memory.
  Status ListJobs(const JobFilter& f, std::vector<Job>* out);

  // SIGTERM: refuse new jobs, start no queued job.
  void BeginDrain();
  // Waits for running jobs up to `grace`; then abandons the rest (their
  // children are terminated through their cancel tokens) and waits for them to
  // unwind. Queued and abandoned jobs resume on the next start.
  boost::asio::awaitable<void> Drain(std::chrono::milliseconds grace);

  bool draining() const { return draining_; }
  bool recovered() const { return recovered_; }
  std::size_t queued() const { return pending_.size(); }
  std::size_t running() const { return running_; }
  std::string Now() const { return FormatRfc3339Ms(clock_->Now()); }

  struct Waiter;
  struct Admission;

 private:
  // Submit's checks and reservations (no await): false with *out set when the
  // request is answered without a new job (replay, refusal); true when the
  // job is admitted to memory and its writes are appended to *writes.
  // `stored`: the key's row as read with the rest of the batch (SubmitMany).
  struct KeyLookup {
    Status status;
    std::optional<IdempotencyKey> key;
  };
  bool Admit(SubmitRequest& r, SubmitOutcome* out, Admission* a, std::vector<StoreWrite>* writes,
             const KeyLookup& stored);
  // A replay (or key mismatch) names a job that is admitted but not yet
  // durable: waits for its commit; kStoreError if that commit failed.
  boost::asio::awaitable<void> AwaitOriginal(SubmitOutcome* out);
  // After the commit of an admitted job: it may run, or it is undone.
  void Settle(const Admission& a, const Status& s, std::vector<StoreWrite>* written,
              SubmitOutcome* out);
  // Joins the next group commit and waits for it. With `back`, the writes are
  // handed back afterwards (applied or not), e.g. to keep a job without a copy.
  boost::asio::awaitable<Status> Commit(std::vector<StoreWrite> writes,
                                        std::vector<StoreWrite>* back = nullptr);
  void Enqueue(StoreWrite w);  // joins the next group commit; nobody waits for it
  void Flush();
  void Committed(const Status& s, const std::vector<std::shared_ptr<Waiter>>& waiters,
                 JobStore::WriteGroups* groups);
  std::string Fingerprint(const std::string& canonical) const;
  static boost::asio::awaitable<void> RetentionLoop(JobManager* self);
  void Enqueue(std::unique_ptr<JobRun> run);
  void Schedule();
  bool Runnable(const JobRun& run) const;
  static boost::asio::awaitable<void> RunJob(JobManager* self, std::string id);
  void Finished(const std::string& id);
  void LeaveKeyQueues(const std::string& id, const std::vector<std::string>& keys);
  void UpdateGauges();
  std::vector<std::string> Keys(const Job& j) const;

  boost::asio::any_io_executor ex_;
  const Config& config_;
  JobStore* store_;
  Metrics* metrics_;
  const Clock* clock_;
  WorkflowRunner* workflows_ = nullptr;

  std::int64_t next_seq_ = 1;
  bool draining_ = false;
  bool recovered_ = false;
  std::size_t running_ = 0;

  std::unordered_map<std::string, std::unique_ptr<JobRun>> active_;  // queued + running
  static constexpr std::size_t kViewCacheSize = 1024;  // ~0.6 KB each
  LruCache<std::string> finished_views_{kViewCacheSize};  // see JobViewBody
  std::deque<std::string> pending_;                                  // queued, by seq
  // "u:x"/"n:y" -> ids in order; nearly always one or two (a vector, not a
  // deque: a deque allocates ~600 bytes up front, twice per job).
  std::map<std::string, std::vector<std::string>> key_queues_;
  std::map<std::string, Tenant> tenants_by_user_;
  std::map<std::string, std::string> user_by_namespace_;
  std::multimap<std::string, std::shared_ptr<Waiter>> waiters_;      // job id -> waiter
  std::map<std::string, IdempotencyKey> pending_keys_;               // not yet committed
  std::unique_ptr<HmacSha256> fingerprint_key_;  // keyed with the store's secret (Recover)
  std::function<void()> outbox_listener_;

  // SubmitMany's writes vector, kept between batches (see there); at most
  // kSpareWrites entries of capacity are kept.
  static constexpr std::size_t kSpareWrites = 4096;
  std::vector<StoreWrite> spare_writes_;

  // Group commit.
  JobStore::WriteGroups batch_;  // one group per Commit/Enqueue call
  std::vector<std::shared_ptr<Waiter>> batch_waiters_;  // one per group (null: Enqueue)
  bool flush_posted_ = false;
  bool commit_in_flight_ = false;  // a group is on the store's writer thread
  std::shared_ptr<Waiter> idle_;  // woken whenever a job ends (for Drain)
};

}  // namespace bootstrapd

// The durable job store seam (leveldb's Env idea): jobs, their steps and the
// tenants table. SqliteJobStore is the real one; ":memory:" serves as the fake.
// Loop thread only (ApplyAsync's callback excepted: it runs on the store's
// writer thread); every call is a short statement.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/jobs/job.h"
#include "daemon/util/status.h"

namespace bootstrapd {

// username <-> namespace ownership (SPEC §2.1); never purged by retention.
struct Tenant {
  std::string username;
  std::string ns;
  std::string created_at;
};

// An idempotency key (SPEC §2): REST keys, Kafka (source, id) and webhook ids
// share one table, each in its own scope ("rest:<route>:<key>",
// "kafka:<source>:<id>", "webhook:<id>").
struct IdempotencyKey {
  std::string scope;
  std::string job_id;
  std::string fingerprint;  // keyed hash of the canonical body
  std::int64_t created_ms = 0;
};

// A running child, so that a successor can kill what a killed daemon left.
struct ChildRecord {
  int pid = 0;  // also its process group (each child leads its own session)
  long long start_ticks = 0;  // /proc/<pid>/stat field 22: guards against pid reuse
  std::string job_id;
};

// A completion event waiting for its Kafka delivery report (transactional outbox).
struct OutboxRow {
  std::string id;       // the CloudEvent id (UUID v5 of "<job_id>/<status>")
  std::string job_id;
  std::string topic;
  std::string key;      // username (namespace when there is none)
  std::string payload;  // structured CloudEvent JSON
  std::int64_t created_ms = 0;
};

struct StoreWrite {
  enum class Op { kUpsertJob, kPutTenant, kDeleteTenant, kPutKey, kPutChild, kDeleteChild,
                  kPutOutbox, kMarkSent };
  Op op = Op::kUpsertJob;
  // kUpsertJob. Behind a pointer so that the other kinds construct no Job (its
  // JSON members allocate) and a write stays small (a Kafka batch holds ~800),
  // and so that a job built in its write can be moved back out cheaply.
  std::unique_ptr<Job> job;
  Tenant tenant;        // kPutTenant / kDeleteTenant (by username)
  IdempotencyKey key;   // kPutKey
  ChildRecord child;    // kPutChild / kDeleteChild (by pid)
  OutboxRow outbox;     // kPutOutbox / kMarkSent (by id)
};

// GET /jobs filters; newest first. `before_seq` > 0 continues a page.
struct JobFilter {
  std::optional<JobStatus> status;
  std::optional<JobKind> kind;
  std::string username, ns, source;  // "" = any
  std::int64_t before_seq = 0;
  int limit = 50;
};

class JobStore {
 public:
  virtual ~JobStore() = default;
  // Applies every write in one transaction (group commit: one fsync for all).
  // On failure nothing of the batch is kept.
  virtual Status Apply(const std::vector<StoreWrite>& batch) = 0;
  // The same for the writes of several callers (groups, applied in order, in
  // one transaction), without making the caller wait for the commit: a store
  // with a writer thread applies them there (its own connection; calls in
  // order) and calls `done` on that thread. `done` gets the groups back, so
  // that the caller frees them on its own thread: freed on the writer thread,
  // each block would take the lock of the loop thread's malloc arena, against
  // the loop's own allocations. Default: Apply here, then `done`.
  using WriteGroups = std::vector<std::vector<StoreWrite>>;
  virtual void ApplyAsync(WriteGroups groups, std::function<void(Status, WriteGroups)> done) {
    std::vector<StoreWrite> all;
    for (auto& g : groups) {
      for (auto& w : g) all.push_back(std::move(w));
    }
    Status s = Apply(all);
    std::size_t i = 0;  // hand each write back to its group
    for (auto& g : groups) {
      for (auto& w : g) w = std::move(all[i++]);
    }
    done(s, std::move(groups));
  }
  // Returns once every batch handed to ApplyAsync is applied and its `done`
  // has returned (before destroying what the callbacks use).
  virtual void WaitIdle() {}
  virtual Status GetJob(const std::string& id, Job* out) = 0;  // kNotFound if absent
  // The job as JobView shows it, read cheaply: steps reduced to their name and
  // outcome, inputs and extra left empty, no secret. kNotFound if absent.
  virtual Status GetJobView(const std::string& id, Job* out) = 0;
  // Jobs in state queued or running, in submission order.
  virtual Status LoadUnfinished(std::vector<Job>* out) = 0;
  virtual Status LoadTenants(std::vector<Tenant>* out) = 0;
  // Newest first; each job read as by GetJobView.
  virtual Status ListJobs(const JobFilter& f, std::vector<Job>* out) = 0;
  virtual Status MaxSeq(std::int64_t* out) = 0;
  // kNotFound when the scope has no key.
  virtual Status GetKey(const std::string& scope, IdempotencyKey* out) = 0;
  // Several at once (one read transaction): (*out)[i] is the key of
  // scopes[i], or nullopt when it has none (or scopes[i] is "").
  virtual Status GetKeys(const std::vector<std::string>& scopes,
                         std::vector<std::optional<IdempotencyKey>>* out) {
    out->assign(scopes.size(), std::nullopt);
    for (std::size_t i = 0; i < scopes.size(); ++i) {
      if (scopes[i].empty()) continue;  // a request without a key
      IdempotencyKey k;
      Status s = GetKey(scopes[i], &k);
      if (s.ok()) (*out)[i] = std::move(k);
      else if (s.code() != Status::Code::kNotFound) return s;
    }
    return Status::Ok();
  }
  virtual Status LoadChildren(std::vector<ChildRecord>* out) = 0;
  // Outbox rows not yet marked sent, oldest first.
  virtual Status LoadUnsent(int limit, std::vector<OutboxRow>* out) = 0;
  // Deletes at most `batch` finished jobs (finished before `cutoff_ms`) and at
  // most `batch` idempotency keys created before it; reports the counts.
  virtual Status Purge(std::int64_t cutoff_ms, int batch, int* jobs, int* keys) = 0;
  // A random secret kept in the database, for keyed fingerprints.
  virtual Status Secret(std::string* out) = 0;
  // Copies the WAL into the database and truncates it, so that overwritten
  // rows (a wiped password) leave no copy on disk. Pages are secure-deleted.
  virtual Status Checkpoint() = 0;
  // A cheap read that proves the database answers (for /readyz).
  virtual Status Ping() = 0;
};
using JobStorePtr = std::unique_ptr<JobStore>;

// Opens (creating if needed) the SQLite database at `path` in WAL mode with
// synchronous=FULL, takes an exclusive lock file beside it (one daemon per
// database), and migrates the schema. A file database gets a second
// connection owned by a writer thread: every write (Apply, ApplyAsync, Purge,
// Checkpoint) runs there, so the fsync of a commit never blocks the reading
// thread and writes arriving meanwhile form the next group. On error returns nullptr and sets *error
// to a message naming the file.
JobStorePtr OpenSqliteJobStore(const std::string& path, std::string* error);

}  // namespace bootstrapd

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "daemon/jobs/job_store.h"
#include "daemon/util/time.h"

namespace bootstrapd {
namespace {

// Schema migrations: entry i moves user_version i to i+1. Append only.
const char* const kMigrations[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE jobs(
  id            TEXT PRIMARY KEY,
  seq           INTEGER NOT NULL UNIQUE,
  kind          TEXT NOT NULL,
  source        TEXT NOT NULL,
  status        TEXT NOT NULL,
  username      TEXT NOT NULL,
  namespace     TEXT NOT NULL,
  inputs        TEXT NOT NULL,
  steps         TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  started_at    TEXT NOT NULL,
  finished_at   TEXT NOT NULL,
  summary       TEXT NOT NULL,
  request_id    TEXT NOT NULL,
  secret        TEXT,
  secret_origin TEXT NOT NULL,
  extra         TEXT NOT NULL
);
CREATE INDEX jobs_unfinished ON jobs(status, seq);
CREATE INDEX jobs_username ON jobs(username, seq);
CREATE INDEX jobs_namespace ON jobs(namespace, seq);
CREATE TABLE tenants(
  username   TEXT PRIMARY KEY,
  namespace  TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
)sql",
    // 1 -> 2: retention by finish time, idempotency keys, running children.
    R"sql(
ALTER TABLE jobs ADD COLUMN finished_ms INTEGER;
UPDATE jobs SET finished_ms = CAST((julianday(finished_at) - 2440587.5) * 86400000 AS INTEGER)
  WHERE finished_at != '';
CREATE INDEX jobs_finished ON jobs(finished_ms) WHERE finished_ms IS NOT NULL;
CREATE TABLE idempotency(
  scope       TEXT PRIMARY KEY,
  job_id      TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  created_ms  INTEGER NOT NULL
);
CREATE INDEX idempotency_created ON idempotency(created_ms);
CREATE TABLE children(
  pid         INTEGER PRIMARY KEY,
  start_ticks INTEGER NOT NULL,
  job_id      TEXT NOT NULL
);
CREATE TABLE meta(
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT INTO meta(key, value) VALUES('secret', lower(hex(randomblob(32))));
)sql",
    // 2 -> 3: the transactional outbox of completion events.
    R"sql(
CREATE TABLE outbox(
  id         TEXT PRIMARY KEY,
  job_id     TEXT NOT NULL,
  topic      TEXT NOT NULL,
  key        TEXT NOT NULL,
  payload    TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  sent_ms    INTEGER
);
CREATE INDEX outbox_unsent ON outbox(created_ms) WHERE sent_ms IS NULL;
)sql",
};

class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(s_); }
  bool Prepare(sqlite3* db, const char* sql) { return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) == SQLITE_OK; }
  sqlite3_stmt* get() { return s_; }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

std::string ColText(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t),
                                                    sqlite3_column_bytes(s, i));
}

nlohmann::json ParseOr(const std::string& text, nlohmann::json fallback) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The writer thread of a file database: runs tasks one at a time, in order.
// Every write goes through it (on the writer connection), so a commit and its
// fsync never block the loop, and writes arriving meanwhile form the next group.
class WriterThread {
 public:
  WriterThread() { thread_ = std::thread([this] { Run(); }); }
  ~WriterThread() {  // runs what is queued, then stops
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Post(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> l(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_all();
  }
  void WaitIdle() {
    std::unique_lock<std::mutex> l(mu_);
    idle_cv_.wait(l, [this] { return tasks_.empty() && !busy_; });
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [this] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, and nothing left
      std::function<void()> task = std::move(tasks_.front());
      tasks_.pop_front();
      busy_ = true;
      l.unlock();
      task();
      l.lock();
      busy_ = false;
      if (tasks_.empty()) idle_cv_.notify_all();
    }
  }

  std::mutex mu_;  // guards tasks_, stop_, busy_
  std::condition_variable cv_, idle_cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  bool busy_ = false;
  std::thread thread_;
};

constexpr const char* kJobColumns =
    "id, seq, kind, source, status, username, namespace, inputs, steps, created_at, started_at, "
    "finished_at, summary, request_id, secret, secret_origin, extra";
// The same columns as JobView needs them, in the same order (ReadJob reads
// both): steps reduced to name and outcome by SQLite's JSON functions, so a
// read never parses the steps' outputs; no inputs, extra or secret.
constexpr const char* kViewColumns =
    "id, seq, kind, source, status, username, namespace, '{}', "
    "(SELECT json_group_array(json_object('name', coalesce(e.value ->> '$.name', ''), "
    "'outcome', coalesce(e.value ->> '$.outcome', ''))) FROM json_each(jobs.steps) AS e), "
    "created_at, started_at, finished_at, summary, request_id, NULL, secret_origin, '{}'";

class SqliteJobStore final : public JobStore {
 public:
  SqliteJobStore(sqlite3* db, int lock_fd, std::string path)
      : db_(db), lock_fd_(lock_fd), path_(std::move(path)) {}
  ~SqliteJobStore() override {
    writer_thread_.reset();  // applies what is queued, then joins
    writer_.reset();
    // close_v2 defers the close until the member statements are finalized.
    sqlite3_close_v2(db_);
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }

  bool PrepareAll(std::string* error) {
    const std::string upsert = std::string("INSERT INTO jobs(") + kJobColumns +
        ", finished_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18) "
        "ON CONFLICT(id) DO UPDATE SET status=excluded.status, inputs=excluded.inputs, "
        "steps=excluded.steps, started_at=excluded.started_at, finished_at=excluded.finished_at, "
        "summary=excluded.summary, secret=excluded.secret, secret_origin=excluded.secret_origin, "
        "extra=excluded.extra, finished_ms=excluded.finished_ms";
    const std::string get = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id=?1";
    const std::string view = std::string("SELECT ") + kViewColumns + " FROM jobs WHERE id=?1";
    if (!upsert_.Prepare(db_, upsert.c_str()) || !get_.Prepare(db_, get.c_str()) ||
        !view_.Prepare(db_, view.c_str()) ||
        !put_tenant_.Prepare(db_,
                             "INSERT INTO tenants(username, namespace, created_at) VALUES(?1,?2,?3) "
                             "ON CONFLICT(username) DO UPDATE SET namespace=excluded.namespace") ||
        !del_tenant_.Prepare(db_, "DELETE FROM tenants WHERE username=?1") ||
        !put_key_.Prepare(db_,
                          "INSERT INTO idempotency(scope, job_id, fingerprint, created_ms) "
                          "VALUES(?1,?2,?3,?4) ON CONFLICT(scope) DO NOTHING") ||
        !get_key_.Prepare(db_,
                          "SELECT job_id, fingerprint, created_ms FROM idempotency WHERE scope=?1") ||
        !put_child_.Prepare(db_,
                            "INSERT OR REPLACE INTO children(pid, start_ticks, job_id) VALUES(?1,?2,?3)") ||
        !del_child_.Prepare(db_, "DELETE FROM children WHERE pid=?1") ||
        !put_outbox_.Prepare(db_,
                             "INSERT INTO outbox(id, job_id, topic, key, payload, created_ms) "
                             "VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT(id) DO NOTHING") ||
        !mark_sent_.Prepare(db_, "UPDATE outbox SET sent_ms=?2 WHERE id=?1") ||
        !begin_.Prepare(db_, "BEGIN IMMEDIATE") || !commit_.Prepare(db_, "COMMIT") ||
        !begin_read_.Prepare(db_, "BEGIN DEFERRED") ||
        !rollback_.Prepare(db_, "ROLLBACK")) {
      *error = path_ + ": cannot prepare statements: " + sqlite3_errmsg(db_);
      return false;
    }
    return true;
  }

  // File databases: `w` (a second connection, no lock file of its own) takes
  // every write from now on, on its own thread.
  void AttachWriter(std::unique_ptr<SqliteJobStore> w) {
    writer_ = std::move(w);
    writer_thread_ = std::make_unique<WriterThread>();
  }

  Status Apply(const std::vector<StoreWrite>& batch) override {
    if (writer_) return OnWriter([&batch](JobStore& w) { return w.Apply(batch); });
    return ApplyGroups(&batch, 1);
  }

  // One transaction for every write of groups[0..n).
  Status ApplyGroups(const std::vector<StoreWrite>* groups, std::size_t n) {
    std::size_t writes = 0;
    for (std::size_t i = 0; i < n; ++i) writes += groups[i].size();
    if (writes == 0) return Status::Ok();
    if (Status s = Step(begin_, "begin"); !s.ok()) return s;
    for (std::size_t i = 0; i < n; ++i) {
      for (const auto& w : groups[i]) {
        Status s = ApplyOne(w);
        if (!s.ok()) {
          Step(rollback_, "rollback");
          return s;
        }
      }
    }
    Status s = Step(commit_, "commit");
    if (!s.ok()) {
      if (!sqlite3_get_autocommit(db_)) Step(rollback_, "rollback");
      return s;
    }
    return Status::Ok();
  }

  void ApplyAsync(WriteGroups groups, std::function<void(Status, WriteGroups)> done) override {
    if (!writer_) {
      Status s = ApplyGroups(groups.data(), groups.size());
      done(s, std::move(groups));
      return;
    }
    SqliteJobStore* w = writer_.get();
    // std::function needs a copyable callable: the groups travel in a shared_ptr.
    auto shared = std::make_shared<WriteGroups>(std::move(groups));
    writer_thread_->Post([w, shared, done = std::move(done)] {
      Status s = w->ApplyGroups(shared->data(), shared->size());
      done(s, std::move(*shared));
    });
  }

  void WaitIdle() override {
    if (writer_thread_) writer_thread_->WaitIdle();
  }

  Status GetJob(const std::string& id, Job* out) override { return ReadOne(&get_, id, out); }
  Status GetJobView(const std::string& id, Job* out) override { return ReadOne(&view_, id, out); }

  Status LoadUnfinished(std::vector<Job>* out) override {
    const std::string sql = std::string("SELECT ") + kJobColumns +
                            " FROM jobs WHERE status IN ('queued','running') ORDER BY seq";
    Stmt st;
    if (!st.Prepare(db_, sql.c_str())) return Status::Io(path_ + ": " + sqlite3_errmsg(db_));
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) out->push_back(ReadJob(st.get()));
    if (rc != SQLITE_DONE) return Error("load unfinished", rc, nullptr);
    return Status::Ok();
  }

  Status LoadTenants(std::vector<Tenant>* out) override {
    Stmt st;
    if (!st.Prepare(db_, "SELECT username, namespace, created_at FROM tenants")) {
      return Status::Io(path_ + ": " + sqlite3_errmsg(db_));
    }
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      out->push_back({ColText(st.get(), 0), ColText(st.get(), 1), ColText(st.get(), 2)});
    }
    if (rc != SQLITE_DONE) return Error("load tenants", rc, nullptr);
    return Status::Ok();
  }

  Status ListJobs(const JobFilter& f, std::vector<Job>* out) override {
    std::string sql = std::string("SELECT ") + kViewColumns + " FROM jobs WHERE 1=1";
    std::vector<std::string> args;
    auto add = [&](const char* clause, const std::string& v) {
      sql += clause;
      args.push_back(v);
    };
    if (f.status) add(" AND status=?", StatusName(*f.status));
    if (f.kind) add(" AND kind=?", KindName(*f.kind));
    if (!f.username.empty()) add(" AND username=?", f.username);
    if (!f.ns.empty()) add(" AND namespace=?", f.ns);
    if (!f.source.empty()) add(" AND source=?", f.source);
    if (f.before_seq > 0) add(" AND seq<?", std::to_string(f.before_seq));
    sql += " ORDER BY seq DESC LIMIT " + std::to_string(std::max(1, f.limit));
    Stmt st;
    if (!st.Prepare(db_, sql.c_str())) return Status::Io(path_ + ": " + sqlite3_errmsg(db_));
    for (std::size_t i = 0; i < args.size(); ++i) {
      const bool numeric = f.before_seq > 0 && i + 1 == args.size();
      if (numeric) sqlite3_bind_int64(st.get(), static_cast<int>(i + 1), f.before_seq);
      else BindText(st.get(), static_cast<int>(i + 1), args[i]);
    }
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) out->push_back(ReadJob(st.get()));
    if (rc != SQLITE_DONE) return Error("list jobs", rc, nullptr);
    return Status::Ok();
  }

  Status MaxSeq(std::int64_t* out) override {
    Stmt st;
    if (!st.Prepare(db_, "SELECT COALESCE(MAX(seq), 0) FROM jobs")) {
      return Status::Io(path_ + ": " + sqlite3_errmsg(db_));
    }
    if (sqlite3_step(st.get()) != SQLITE_ROW) return Status::Io(path_ + ": " + sqlite3_errmsg(db_));
    *out = sqlite3_column_int64(st.get(), 0);
    return Status::Ok();
  }

  Status GetKey(const std::string& scope, IdempotencyKey* out) override {
    get_key_.Reset();
    BindText(get_key_.get(), 1, scope);
    const int rc = sqlite3_step(get_key_.get());
    if (rc == SQLITE_DONE) {
      get_key_.Reset();
      return Status::NotFound(scope);
    }
    if (rc != SQLITE_ROW) return Error("get key", rc, &get_key_);
    out->scope = scope;
    out->job_id = ColText(get_key_.get(), 0);
    out->fingerprint = ColText(get_key_.get(), 1);
    out->created_ms = sqlite3_column_int64(get_key_.get(), 2);
    get_key_.Reset();
    return Status::Ok();
  }

  Status GetKeys(const std::vector<std::string>& scopes,
                 std::vector<std::optional<IdempotencyKey>>* out) override {
    out->assign(scopes.size(), std::nullopt);
    if (std::all_of(scopes.begin(), scopes.end(), [](const auto& s) { return s.empty(); })) {
      return Status::Ok();  // no keys (REST requests without one): no transaction
    }
    // One read transaction (one snapshot, one WAL read lock) for all of them.
    if (Status s = Step(begin_read_, "begin read"); !s.ok()) return s;
    Status result = JobStore::GetKeys(scopes, out);
    if (Status c = Step(commit_, "end read"); !c.ok() && result.ok()) result = c;
    return result;
  }

  Status LoadChildren(std::vector<ChildRecord>* out) override {
    Stmt st;
    if (!st.Prepare(db_, "SELECT pid, start_ticks, job_id FROM children")) {
      return Status::Io(path_ + ": " + sqlite3_errmsg(db_));
    }
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      out->push_back({sqlite3_column_int(st.get(), 0), sqlite3_column_int64(st.get(), 1),
                      ColText(st.get(), 2)});
    }
    if (rc != SQLITE_DONE) return Error("load children", rc, nullptr);
    return Status::Ok();
  }

  Status LoadUnsent(int limit, std::vector<OutboxRow>* out) override {
    const std::string sql =
        "SELECT id, job_id, topic, key, payload, created_ms FROM outbox WHERE sent_ms IS NULL "
        "ORDER BY created_ms LIMIT " + std::to_string(std::max(1, limit));
    Stmt st;
    if (!st.Prepare(db_, sql.c_str())) return Status::Io(path_ + ": " + sqlite3_errmsg(db_));
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      out->push_back({ColText(st.get(), 0), ColText(st.get(), 1), ColText(st.get(), 2),
                      ColText(st.get(), 3), ColText(st.get(), 4), sqlite3_column_int64(st.get(), 5)});
    }
    if (rc != SQLITE_DONE) return Error("load outbox", rc, nullptr);
    return Status::Ok();
  }

  Status Purge(std::int64_t cutoff_ms, int batch, int* jobs, int* keys) override {
    if (writer_) {
      return OnWriter([=](JobStore& w) { return w.Purge(cutoff_ms, batch, jobs, keys); });
    }
    *jobs = *keys = 0;
    const std::string limit = std::to_string(std::max(1, batch));
    // INDEXED BY: left to itself the planner walks jobs_unfinished over every
    // finished job (status IN ...) and reads each row for finished_ms: the
    // whole table at every pass, even when nothing is due.
    const std::string del_jobs =
        "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs INDEXED BY jobs_finished WHERE "
        "finished_ms IS NOT NULL AND finished_ms < ?1 AND status IN ('succeeded','failed','canceled') "
        "LIMIT " + limit + ")";
    const std::string del_keys =
        "DELETE FROM idempotency WHERE scope IN (SELECT scope FROM idempotency WHERE "
        "created_ms < ?1 LIMIT " + limit + ")";
    const std::string del_sent =
        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE sent_ms IS NOT NULL AND "
        "sent_ms < ?1 LIMIT " + limit + ")";
    if (Status s = Step(begin_, "begin"); !s.ok()) return s;
    for (int i = 0; i < 3; ++i) {
      Stmt st;
      if (!st.Prepare(db_, (i == 0 ? del_jobs : i == 1 ? del_keys : del_sent).c_str())) {
        Step(rollback_, "rollback");
        return Status::Io(path_ + ": " + sqlite3_errmsg(db_));
      }
      sqlite3_bind_int64(st.get(), 1, cutoff_ms);
      const int rc = sqlite3_step(st.get());
      if (rc != SQLITE_DONE) {
        Status e = Error("purge", rc, nullptr);
        Step(rollback_, "rollback");
        return e;
      }
      if (i < 2) (i == 0 ? *jobs : *keys) = sqlite3_changes(db_);
    }
    return Step(commit_, "commit");
  }

  Status Secret(std::string* out) override {
    Stmt st;
    if (!st.Prepare(db_, "SELECT value FROM meta WHERE key='secret'")) {
      return Status::Io(path_ + ": " + sqlite3_errmsg(db_));
    }
    if (sqlite3_step(st.get()) != SQLITE_ROW) return Status::Corrupt(path_ + ": no secret in meta");
    *out = ColText(st.get(), 0);
    return Status::Ok();
  }

  Status Checkpoint() override {
    if (writer_) return OnWriter([](JobStore& w) { return w.Checkpoint(); });
    int log = 0, done = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
    if (rc != SQLITE_OK) return Error("checkpoint", rc, nullptr);
    return Status::Ok();
  }

  Status Ping() override {
    Stmt st;
    if (!st.Prepare(db_, "SELECT 1")) return Status::Io(path_ + ": " + sqlite3_errmsg(db_));
    const int rc = sqlite3_step(st.get());
    if (rc != SQLITE_ROW) return Error("ping", rc, nullptr);
    return Status::Ok();
  }

 private:
  // Runs `fn` on the writer connection, on its thread, and waits for it.
  Status OnWriter(const std::function<Status(JobStore&)>& fn) {
    std::promise<Status> result;
    std::future<Status> f = result.get_future();
    writer_thread_->Post([&] { result.set_value(fn(*writer_)); });
    return f.get();
  }

  Status ApplyOne(const StoreWrite& w) {
    switch (w.op) {
      case StoreWrite::Op::kUpsertJob: {
        if (!w.job) return Status::Invalid("store write without its job");
        const Job& j = *w.job;
        upsert_.Reset();
        sqlite3_stmt* s = upsert_.get();
        BindText(s, 1, j.id);
        sqlite3_bind_int64(s, 2, j.seq);
        BindText(s, 3, KindName(j.kind));
        BindText(s, 4, j.source);
        BindText(s, 5, StatusName(j.status));
        BindText(s, 6, j.username);
        BindText(s, 7, j.ns);
        BindText(s, 8, Dump(j.inputs));
        BindText(s, 9, Dump(j.steps));
        BindText(s, 10, j.created_at);
        BindText(s, 11, j.started_at);
        BindText(s, 12, j.finished_at);
        BindText(s, 13, j.summary);
        BindText(s, 14, j.request_id);
        if (j.stored_secret) BindText(s, 15, *j.stored_secret);
        else sqlite3_bind_null(s, 15);
        BindText(s, 16, j.secret_origin);
        BindText(s, 17, Dump(j.extra));
        if (auto t = ParseRfc3339(j.finished_at)) sqlite3_bind_int64(s, 18, ToUnixMs(*t));
        else sqlite3_bind_null(s, 18);
        return Step(upsert_, "upsert job");
      }
      case StoreWrite::Op::kPutTenant:
        put_tenant_.Reset();
        BindText(put_tenant_.get(), 1, w.tenant.username);
        BindText(put_tenant_.get(), 2, w.tenant.ns);
        BindText(put_tenant_.get(), 3, w.tenant.created_at);
        return Step(put_tenant_, "put tenant");
      case StoreWrite::Op::kDeleteTenant:
        del_tenant_.Reset();
        BindText(del_tenant_.get(), 1, w.tenant.username);
        return Step(del_tenant_, "delete tenant");
      case StoreWrite::Op::kPutKey:
        put_key_.Reset();
        BindText(put_key_.get(), 1, w.key.scope);
        BindText(put_key_.get(), 2, w.key.job_id);
        BindText(put_key_.get(), 3, w.key.fingerprint);
        sqlite3_bind_int64(put_key_.get(), 4, w.key.created_ms);
        return Step(put_key_, "put idempotency key");
      case StoreWrite::Op::kPutChild:
        put_child_.Reset();
        sqlite3_bind_int64(put_child_.get(), 1, w.child.pid);
        sqlite3_bind_int64(put_child_.get(), 2, w.child.start_ticks);
        BindText(put_child_.get(), 3, w.child.job_id);
        return Step(put_child_, "put child");
      case StoreWrite::Op::kPutOutbox:
        put_outbox_.Reset();
        BindText(put_outbox_.get(), 1, w.outbox.id);
        BindText(put_outbox_.get(), 2, w.outbox.job_id);
        BindText(put_outbox_.get(), 3, w.outbox.topic);
        BindText(put_outbox_.get(), 4, w.outbox.key);
        BindText(put_outbox_.get(), 5, w.outbox.payload);
        sqlite3_bind_int64(put_outbox_.get(), 6, w.outbox.created_ms);
        return Step(put_outbox_, "put outbox");
      case StoreWrite::Op::kMarkSent:
        mark_sent_.Reset();
        BindText(mark_sent_.get(), 1, w.outbox.id);
        sqlite3_bind_int64(mark_sent_.get(), 2, w.outbox.created_ms);
        return Step(mark_sent_, "mark sent");
      case StoreWrite::Op::kDeleteChild:
        del_child_.Reset();
        sqlite3_bind_int64(del_child_.get(), 1, w.child.pid);
        return Step(del_child_, "delete child");
    }
    return Status::Invalid("unknown store write");
  }

  Status Step(Stmt& st, const char* what) {
    const int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
      sqlite3_reset(st.get());
      return Status::Ok();
    }
    return Error(what, rc, &st);
  }

  Status Error(const char* what, int rc, Stmt* st) {
    std::string msg = path_ + ": " + what + ": " + sqlite3_errmsg(db_);
    if (st != nullptr) sqlite3_reset(st->get());
    const int primary = rc & 0xFF;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Status::Busy(msg);
    if (primary == SQLITE_FULL) return Status::Io(msg + " (disk full)");
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return Status::Corrupt(msg);
    return Status::Io(msg);
  }

  Status ReadOne(Stmt* st, const std::string& id, Job* out) {
    st->Reset();
    BindText(st->get(), 1, id);
    const int rc = sqlite3_step(st->get());
    if (rc == SQLITE_DONE) {
      st->Reset();
      return Status::NotFound("no job " + id);
    }
    if (rc != SQLITE_ROW) return Error("get job", rc, st);
    *out = ReadJob(st->get());
    st->Reset();
    return Status::Ok();
  }

  static Job ReadJob(sqlite3_stmt* s) {
    Job j;
    j.id = ColText(s, 0);
    j.seq = sqlite3_column_int64(s, 1);
    j.kind = ParseKind(ColText(s, 2)).value_or(JobKind::kBootstrap);
    j.source = ColText(s, 3);
    j.status = ParseStatus(ColText(s, 4)).value_or(JobStatus::kFailed);
    j.username = ColText(s, 5);
    j.ns = ColText(s, 6);
    j.inputs = ParseOr(ColText(s, 7), nlohmann::json::object());
    j.steps = ParseOr(ColText(s, 8), nlohmann::json::array());
    j.created_at = ColText(s, 9);
    j.started_at = ColText(s, 10);
    j.finished_at = ColText(s, 11);
    j.summary = ColText(s, 12);
    j.request_id = ColText(s, 13);
    if (sqlite3_column_type(s, 14) != SQLITE_NULL) j.stored_secret = ColText(s, 14);
    j.secret_origin = ColText(s, 15);
    j.extra = ParseOr(ColText(s, 16), nlohmann::json::object());
    return j;
  }

  sqlite3* db_;
  int lock_fd_;
  std::string path_;
  Stmt upsert_, get_, view_, put_tenant_, del_tenant_, put_key_, get_key_, put_child_, del_child_,
      put_outbox_, mark_sent_, begin_, commit_, rollback_, begin_read_;
  std::unique_ptr<SqliteJobStore> writer_;        // file databases: every write goes here
  std::unique_ptr<WriterThread> writer_thread_;   // ... on this thread
};

bool Exec(sqlite3* db, const char* sql, const std::string& path, std::string* error) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    *error = path + ": " + (msg != nullptr ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return false;
  }
  return true;
}

}  // namespace

JobStorePtr OpenSqliteJobStore(const std::string& path, std::string* error) {
  const bool memory = path == ":memory:";
  int lock_fd = -1;
  if (!memory) {
    std::error_code ec;
    const auto dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec) {
      *error = "JOB_DB_PATH: cannot create directory " + dir.string() + ": " + ec.message();
      return nullptr;
    }
    const std::string lock_path = path + ".lock";
    lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0) {
      *error = "JOB_DB_PATH: cannot open lock file " + lock_path + ": " + std::strerror(errno);
      return nullptr;
    }
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      *error = "JOB_DB_PATH: " + path + " is in use by another everest-bootstrapd (lock " +
               lock_path + " is held)";
      ::close(lock_fd);
      return nullptr;
    }
  }
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    *error = "JOB_DB_PATH: cannot open " + path + ": " +
             (db != nullptr ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close_v2(db);
    if (lock_fd >= 0) ::close(lock_fd);
    return nullptr;
  }
  auto fail = [&](const std::string& why) -> JobStorePtr {
    *error = "JOB_DB_PATH: " + why;
    sqlite3_close_v2(db);
    if (lock_fd >= 0) ::close(lock_fd);
    return nullptr;
  };
  // Only an outside process (a backup, the sqlite3 shell) can hold the lock: wait a
  // little, never long, since the loop thread waits with us.
  sqlite3_busy_timeout(db, 250);
  std::string err;
  // journal_mode answers with the mode in force; anything but wal is an error
  // (for example a read-only directory that cannot hold the -wal file).
  {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, nullptr) != SQLITE_OK) {
      return fail(path + ": " + sqlite3_errmsg(db));
    }
    const int rc = sqlite3_step(st);
    std::string mode = rc == SQLITE_ROW ? ColText(st, 0) : "";
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) return fail(path + ": " + sqlite3_errmsg(db));
    if (!memory && mode != "wal") return fail(path + ": cannot enable WAL (mode " + mode + ")");
  }
  if (!Exec(db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;", path, &err)) return fail(err);
  int version = 0;
  {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
    if (sqlite3_step(st) != SQLITE_ROW) {
      std::string m = sqlite3_errmsg(db);
      sqlite3_finalize(st);
      return fail(path + ": " + m);
    }
    version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  const int latest = static_cast<int>(sizeof kMigrations / sizeof kMigrations[0]);
  if (version > latest) {
    return fail(path + ": schema version " + std::to_string(version) +
                " is newer than this daemon understands (" + std::to_string(latest) + ")");
  }
  for (int v = version; v < latest; ++v) {
    const std::string sql = std::string("BEGIN IMMEDIATE;") + kMigrations[v] +
                            "PRAGMA user_version=" + std::to_string(v + 1) + ";COMMIT;";
    if (!Exec(db, sql.c_str(), path, &err)) {
      Exec(db, "ROLLBACK", path, &err);
      return fail("migration to schema version " + std::to_string(v + 1) + " failed: " + err);
    }
  }
  auto store = std::make_unique<SqliteJobStore>(db, lock_fd, path);
  if (!store->PrepareAll(&err)) {
    *error = "JOB_DB_PATH: " + err;
    return nullptr;  // the store's destructor closes db and the lock
  }
  if (!memory) {
    // The writer connection (same pragmas; the lock above covers it).
    sqlite3* wdb = nullptr;
    if (sqlite3_open_v2(path.c_str(), &wdb, flags, nullptr) != SQLITE_OK) {
      *error = "JOB_DB_PATH: cannot open " + path + " for writing: " +
               (wdb != nullptr ? sqlite3_errmsg(wdb) : "out of memory");
      sqlite3_close_v2(wdb);
      return nullptr;
    }
    sqlite3_busy_timeout(wdb, 250);
    auto writer = std::make_unique<SqliteJobStore>(wdb, -1, path);
    if (!Exec(wdb, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;",
              path, &err) ||
        !writer->PrepareAll(&err)) {
      *error = "JOB_DB_PATH: " + err;
      return nullptr;
    }
    store->AttachWriter(std::move(writer));
  }
  return store;
}

}  // namespace bootstrapd

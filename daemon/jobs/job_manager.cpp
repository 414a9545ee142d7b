#include "daemon/jobs/job_manager.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "daemon/kafka/completion_event.h"
#include "daemon/metrics/metrics.h"
#include "daemon/util/ids.h"
#include "daemon/util/log.h"

namespace bootstrapd {

namespace asio = boost::asio;
using asio::awaitable;

struct JobManager::Waiter {
  explicit Waiter(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;
  Status status;
  std::vector<StoreWrite> written;  // the group, back from the store (see Commit)
  bool woken = false;
  void Wake() {
    woken = true;
    timer.cancel();
  }
};

namespace {

awaitable<void> Sleep(asio::steady_timer* t) {
  auto [ec] = co_await t->async_wait(asio::as_tuple(asio::use_awaitable));
  (void)ec;
}

}  // namespace

JobManager::JobManager(asio::any_io_executor ex, const Config& config, JobStore* store,
                       Metrics* metrics, const Clock* clock)
    : ex_(std::move(ex)), config_(config), store_(store), metrics_(metrics), clock_(clock) {}

JobManager::~JobManager() {
  // A commit still on the store's writer thread must not call back into us.
  store_->WaitIdle();
}

std::vector<std::string> JobManager::Keys(const Job& j) const {
  std::vector<std::string> keys;
  if (!j.username.empty()) keys.push_back("u:" + j.username);
  if (!j.ns.empty()) keys.push_back("n:" + j.ns);
  return keys;
}

Status JobManager::Recover() {
  std::string secret;
  if (Status s = store_->Secret(&secret); !s.ok()) return s;
  fingerprint_key_ = std::make_unique<HmacSha256>(secret);
  std::vector<Tenant> tenants;
  if (Status s = store_->LoadTenants(&tenants); !s.ok()) return s;
  for (auto& t : tenants) {
    user_by_namespace_[t.ns] = t.username;
    tenants_by_user_[t.username] = std::move(t);
  }
  std::int64_t max_seq = 0;
  if (Status s = store_->MaxSeq(&max_seq); !s.ok()) return s;
  next_seq_ = max_seq + 1;
  std::vector<Job> unfinished;
  if (Status s = store_->LoadUnfinished(&unfinished); !s.ok()) return s;
  int resumed = 0, requeued = 0;
  for (auto& j : unfinished) {
    auto run = std::make_unique<JobRun>();
    if (j.status == JobStatus::kRunning) {
      // Steps left "running" were interrupted by the stop; the workflow redoes
      // them (they are ensure-steps) and knows their earlier attempt was cut.
      for (auto& step : j.steps) {
        if (step.value("outcome", "") == "running") step["outcome"] = "interrupted";
      }
      ++resumed;
    } else {
      ++requeued;
    }
    if (j.secret_origin == "generated" && j.stored_secret) run->secret = j.stored_secret;
    if (j.secret_origin == "default") run->secret = config_.default_password;
    j.status = JobStatus::kQueued;
    run->job = std::move(j);
    Enqueue(std::move(run));
  }
  recovered_ = true;
  if (resumed + requeued > 0) {
    log::Info("recovered unfinished jobs", {{"queued", requeued}, {"resumed", resumed}});
  }
  Schedule();
  return Status::Ok();
}

std::optional<Tenant> JobManager::TenantOfUser(const std::string& username) const {
  auto it = tenants_by_user_.find(username);
  if (it == tenants_by_user_.end()) return std::nullopt;
  return it->second;
}

std::optional<Tenant> JobManager::TenantOfNamespace(const std::string& ns) const {
  auto it = user_by_namespace_.find(ns);
  if (it == user_by_namespace_.end()) return std::nullopt;
  return TenantOfUser(it->second);
}

std::string JobManager::Fingerprint(const std::string& canonical) const {
  return fingerprint_key_->Hex(canonical);
}

// What Admit reserved for one submission, to settle once its commit is known.
struct JobManager::Admission {
  std::string id;
  std::string idem_scope;
  std::size_t job_write = 0;      // index of the job's row in the writes
  std::vector<std::string> keys;  // its key_queues_ entries
  std::optional<Tenant> new_tenant;  // reserved binding, undone if the commit fails
};

bool JobManager::Admit(SubmitRequest& r, SubmitOutcome* out, Admission* a,
                       std::vector<StoreWrite>* writes, const KeyLookup& stored) {
  std::string fingerprint;
  if (!r.idem_scope.empty()) {
    // The same key again (in flight or committed) is the same job, whatever
    // the queue or drain state: no new work is created.
    fingerprint = Fingerprint(r.idem_canonical);
    IdempotencyKey seen;
    bool found = false;
    if (auto it = pending_keys_.find(r.idem_scope); it != pending_keys_.end()) {
      seen = it->second;
      found = true;
    } else if (!stored.status.ok()) {
      metrics_->store_errors.Add({{"op", "get_key"}}).Increment();
      out->code = SubmitOutcome::Code::kStoreError;
      out->message = stored.status.message();
      return false;
    } else if (stored.key) {
      seen = *stored.key;
      found = true;
    }
    if (found) {
      out->job_id = seen.job_id;
      out->code = seen.fingerprint == fingerprint ? SubmitOutcome::Code::kReplay
                                                  : SubmitOutcome::Code::kKeyMismatch;
      if (out->code == SubmitOutcome::Code::kKeyMismatch) {
        out->message = "this Idempotency-Key was used with a different request body";
      }
      return false;
    }
  }
  if (draining_) {
    metrics_->jobs_rejected.Increment();
    out->code = SubmitOutcome::Code::kDraining;
    out->message = "the daemon is shutting down; retry on another instance or after restart";
    return false;
  }
  if (pending_.size() >= static_cast<std::size_t>(config_.max_queued_jobs)) {
    metrics_->jobs_rejected.Increment();
    out->code = SubmitOutcome::Code::kQueueFull;
    out->message = std::to_string(pending_.size()) + " jobs are queued (MAX_QUEUED_JOBS=" +
                   std::to_string(config_.max_queued_jobs) + ")";
    return false;
  }
  bool new_binding = false;
  if (r.bind_tenant) {
    if (auto t = TenantOfUser(r.username); t && t->ns != r.ns) {
      out->code = SubmitOutcome::Code::kOwnership;
      out->message = "username '" + r.username + "' is bound to namespace '" + t->ns + "'";
      return false;
    }
    if (auto t = TenantOfNamespace(r.ns); t && t->username != r.username) {
      out->code = SubmitOutcome::Code::kOwnership;
      out->message = "namespace '" + r.ns + "' belongs to user '" + t->username + "'";
      return false;
    }
    new_binding = !TenantOfUser(r.username).has_value();
  }
  if (r.check_pair) {
    auto by_user = TenantOfUser(r.username);
    auto by_ns = TenantOfNamespace(r.ns);
    if (by_user && by_user->ns != r.ns) {
      out->code = SubmitOutcome::Code::kOwnership;
      out->message = "username '" + r.username + "' is bound to namespace '" + by_user->ns +
                     "', not '" + r.ns + "'";
      return false;
    }
    if (by_ns && by_ns->username != r.username) {
      out->code = SubmitOutcome::Code::kOwnership;
      out->message = "namespace '" + r.ns + "' belongs to user '" + by_ns->username + "'";
      return false;
    }
  }

  // The job is built in its write: memory keeps only what scheduling needs
  // until the commit hands the write back (Settle), so no copy is made.
  writes->emplace_back();
  a->job_write = writes->size() - 1;
  writes->back().job = std::make_unique<Job>();
  Job& j = *writes->back().job;
  j.id = NewUuidV4();
  j.seq = next_seq_++;
  j.kind = r.kind;
  j.source = r.source;
  j.status = JobStatus::kQueued;
  j.username = r.username;
  j.ns = r.ns;
  j.inputs = std::move(r.inputs);
  j.created_at = Now();
  j.request_id = r.request_id;
  j.secret_origin = r.secret_origin;
  if (r.secret_origin == "generated") j.stored_secret = r.secret;
  if (r.request_event.is_object()) j.extra["request_event"] = std::move(r.request_event);
  auto run = std::make_unique<JobRun>();
  run->secret = std::move(r.secret);
  run->job.id = j.id;
  run->job.seq = j.seq;
  run->job.kind = j.kind;
  run->job.source = j.source;
  run->job.username = j.username;
  run->job.ns = j.ns;
  a->id = j.id;
  a->keys = Keys(j);
  if (new_binding) {
    // Reserve at once so that a later request (this turn, this batch) sees it.
    Tenant tenant{r.username, r.ns, j.created_at};
    tenants_by_user_[tenant.username] = tenant;
    user_by_namespace_[tenant.ns] = tenant.username;
    writes->emplace_back();
    writes->back().op = StoreWrite::Op::kPutTenant;
    writes->back().tenant = tenant;
    a->new_tenant = std::move(tenant);
  }
  // Admit to memory now (so the queue bound and the ordering hold), show and
  // schedule only after the commit: nothing runs that is not durable.
  if (!r.idem_scope.empty()) {
    writes->emplace_back();
    writes->back().op = StoreWrite::Op::kPutKey;
    writes->back().key = {r.idem_scope, a->id, std::move(fingerprint), ToUnixMs(clock_->Now())};
    pending_keys_[r.idem_scope] = writes->back().key;
    a->idem_scope = std::move(r.idem_scope);
  }
  for (const auto& k : a->keys) key_queues_[k].push_back(a->id);
  pending_.push_back(a->id);
  active_[a->id] = std::move(run);
  return true;
}

void JobManager::Settle(const Admission& a, const Status& s, std::vector<StoreWrite>* written,
                        SubmitOutcome* out) {
  if (!a.idem_scope.empty()) pending_keys_.erase(a.idem_scope);  // the store has it now (or not)
  if (!s.ok() || a.job_write >= written->size()) {
    if (a.new_tenant) {
      tenants_by_user_.erase(a.new_tenant->username);
      user_by_namespace_.erase(a.new_tenant->ns);
    }
    std::erase(pending_, a.id);
    LeaveKeyQueues(a.id, a.keys);
    active_.erase(a.id);
    metrics_->store_errors.Add({{"op", "submit"}}).Increment();
    log::Error("job not accepted: store commit failed", {{"error", s.message()}});
    out->code = SubmitOutcome::Code::kStoreError;
    out->message = s.message();
    return;
  }
  JobRun* run = active_.at(a.id).get();
  run->job = std::move(*(*written)[a.job_write].job);
  run->committed = true;
  if (log::Enabled(log::Level::kInfo)) {
    // Built by hand, as the access line: one per job, at the Kafka intake's rates.
    std::string f = "\"job_id\":";
    log::AppendJsonString(&f, a.id);
    f += ",\"kind\":";
    log::AppendJsonString(&f, KindName(run->job.kind));
    f += ",\"request_id\":";
    log::AppendJsonString(&f, run->job.request_id);
    f += ",\"source\":";
    log::AppendJsonString(&f, run->job.source);
    log::WriteFields(log::Level::kInfo, "job accepted", f);
  }
  out->code = SubmitOutcome::Code::kAccepted;
  out->job_id = a.id;
}

awaitable<void> JobManager::AwaitOriginal(SubmitOutcome* out) {
  if (out->code != SubmitOutcome::Code::kReplay && out->code != SubmitOutcome::Code::kKeyMismatch) {
    co_return;
  }
  auto it = active_.find(out->job_id);
  if (it == active_.end() || it->second->committed) co_return;
  // The key's job is admitted but not yet durable: answer once it is. An empty
  // group joins the commit after the one holding that job (or the same one).
  Status s = co_await Commit({});
  (void)s;
  it = active_.find(out->job_id);
  if (it != active_.end() && it->second->committed) co_return;
  Job j;
  if (it == active_.end() && GetJobView(out->job_id, &j).ok()) co_return;
  out->code = SubmitOutcome::Code::kStoreError;
  out->message = "the first request with this key could not be stored; retry";
}

awaitable<SubmitOutcome> JobManager::Submit(SubmitRequest r) {
  std::vector<SubmitRequest> one;
  one.push_back(std::move(r));
  std::vector<SubmitOutcome> outs = co_await SubmitMany(std::move(one));
  co_return std::move(outs[0]);
}

awaitable<std::vector<SubmitOutcome>> JobManager::SubmitMany(std::vector<SubmitRequest> rs) {
  std::vector<SubmitOutcome> outs(rs.size());
  std::vector<Admission> admitted(rs.size());
  std::vector<bool> pending(rs.size(), false);
  // The last batch's vector, emptied: its pages stay mapped (a fresh ~300 KB
  // vector per batch page-faulted on every write, then was unmapped again).
  std::vector<StoreWrite> writes = std::move(spare_writes_);
  writes.clear();
  writes.reserve(rs.size() * 3);
  // The stored idempotency keys of the whole batch, in one read.
  std::vector<std::string> scopes;
  scopes.reserve(rs.size());
  for (const auto& r : rs) scopes.push_back(r.idem_scope);
  std::vector<std::optional<IdempotencyKey>> keys;
  KeyLookup lookup;
  lookup.status = store_->GetKeys(scopes, &keys);
  keys.resize(rs.size());
  bool any = false;
  for (std::size_t i = 0; i < rs.size(); ++i) {
    lookup.key = std::move(keys[i]);
    pending[i] = Admit(rs[i], &outs[i], &admitted[i], &writes, lookup);
    any = any || pending[i];
  }
  if (!any) {
    for (auto& o : outs) co_await AwaitOriginal(&o);
    co_return outs;
  }
  UpdateGauges();
  std::vector<StoreWrite> written;
  Status s = co_await Commit(std::move(writes), &written);
  for (std::size_t i = 0; i < rs.size(); ++i) {
    if (pending[i]) Settle(admitted[i], s, &written, &outs[i]);
  }
  written.clear();
  if (written.capacity() <= kSpareWrites) spare_writes_ = std::move(written);
  for (std::size_t i = 0; i < rs.size(); ++i) {
    if (!pending[i]) co_await AwaitOriginal(&outs[i]);  // a replay of an earlier batch's job
  }
  if (s.ok()) Schedule();  // updates the gauges
  else UpdateGauges();
  co_return outs;
}

void JobManager::Enqueue(std::unique_ptr<JobRun> run) {
  const std::string id = run->job.id;
  for (const auto& k : Keys(run->job)) key_queues_[k].push_back(id);
  run->committed = true;  // loaded from the store
  pending_.push_back(id);
  active_[id] = std::move(run);
  UpdateGauges();
}

bool JobManager::Runnable(const JobRun& run) const {
  if (!run.committed) return false;
  for (const auto& k : Keys(run.job)) {
    auto it = key_queues_.find(k);
    if (it == key_queues_.end() || it->second.empty() || it->second.front() != run.job.id) {
      return false;  // an earlier job of this username or namespace is not done
    }
  }
  return true;
}

void JobManager::Schedule() {
  if (draining_ || workflows_ == nullptr) return;
  const std::size_t limit = static_cast<std::size_t>(config_.max_subproc_concurrency);
  for (auto it = pending_.begin(); it != pending_.end() && running_ < limit;) {
    auto a = active_.find(*it);
    if (a == active_.end()) {
      it = pending_.erase(it);
      continue;
    }
    if (!Runnable(*a->second)) {
      ++it;
      continue;
    }
    const std::string id = *it;
    it = pending_.erase(it);
    ++running_;
    asio::co_spawn(ex_, RunJob(this, id), [id](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::Error("job coroutine failed", {{"job_id", id}, {"error", ex.what()}});
      }
    });
  }
  UpdateGauges();
}

awaitable<void> JobManager::RunJob(JobManager* self, std::string id) {
  JobRun* run = self->active_.at(id).get();
  Job& j = run->job;
  j.status = JobStatus::kRunning;
  if (j.started_at.empty()) j.started_at = self->Now();
  Status ps = co_await self->Persist(j);
  (void)ps;  // a failed write is logged by Persist; the job still runs (steps are ensure-steps)
  log::Info("job started", {{"job_id", id}, {"kind", KindName(j.kind)}});

  RunEnd end = RunEnd::kFailed;
  try {
    end = co_await self->workflows_->Run(run);
  } catch (const std::exception& e) {
    // A bug, not a CLI failure: fail the job loudly rather than lose it.
    j.summary = std::string("internal error: ") + e.what();
    self->metrics_->degraded.Add({{"reason", "workflow_exception"}}).Increment();
    log::Error("workflow threw", {{"job_id", id}, {"error", e.what()}});
    end = RunEnd::kFailed;
  }
  if (end == RunEnd::kAbandoned || run->abandon) {
    // Draining: the persisted state stays "running"; the next start resumes it
    // at its first unfinished step (the last finished step's record is only in
    // memory until now: see Workflows::RunSteps).
    Status ps2 = co_await self->Persist(j);
    (void)ps2;  // a failed write is logged by Persist; the step is an ensure-step
    log::Warn("job left to resume on next start", {{"job_id", id}});
    self->metrics_->degraded.Add({{"reason", "job_abandoned_on_drain"}}).Increment();
    self->Finished(id);
    co_return;
  }
  // The final state is built on a copy and shown (GET /jobs/{id}, metrics)
  // only once it is durable: a client never sees "succeeded" for a job that a
  // crash right now would resume.
  Job final_state = j;
  final_state.status = end == RunEnd::kSucceeded  ? JobStatus::kSucceeded
                       : end == RunEnd::kCanceled ? JobStatus::kCanceled
                                                  : JobStatus::kFailed;
  final_state.finished_at = self->Now();
  // The generated password is kept only while it is still to be returned.
  if (final_state.secret_origin == "generated") {
    const bool created = final_state.extra.contains("credentials") &&
                         final_state.extra["credentials"].value("password_set", false);
    if (!created) final_state.stored_secret.reset();
  }
  // The final state and its completion event commit together (the outbox).
  std::vector<StoreWrite> final_writes(1);
  final_writes[0].job = std::make_unique<Job>(std::move(final_state));
  const bool announce = !self->config_.kafka_brokers.empty();
  if (announce) {
    StoreWrite ow;
    ow.op = StoreWrite::Op::kPutOutbox;
    ow.outbox =
        BuildCompletionEvent(*final_writes[0].job, self->config_, ToUnixMs(self->clock_->Now()));
    final_writes.push_back(std::move(ow));
  }
  std::vector<StoreWrite> written;  // the final state comes back with its writes
  Status s = co_await self->Commit(std::move(final_writes), &written);
  j = std::move(*written.at(0).job);
  if (!s.ok()) {
    self->metrics_->store_errors.Add({{"op", "persist"}}).Increment();
    log::Error("final job state not persisted", {{"job_id", id}, {"error", s.message()}});
  } else if (announce && self->outbox_listener_) {
    self->outbox_listener_();
  }
  self->metrics_->jobs
      .Add({{"kind", KindName(j.kind)}, {"source", j.source}, {"status", StatusName(j.status)}})
      .Increment();
  log::Info("job finished", {{"job_id", id},
                             {"kind", KindName(j.kind)},
                             {"status", StatusName(j.status)},
                             {"summary", j.summary}});
  self->Finished(id);
}

void JobManager::LeaveKeyQueues(const std::string& id, const std::vector<std::string>& keys) {
  for (const auto& k : keys) {
    auto q = key_queues_.find(k);
    if (q == key_queues_.end()) continue;
    std::erase(q->second, id);
    if (q->second.empty()) key_queues_.erase(q);
  }
}

void JobManager::Finished(const std::string& id) {
  auto a = active_.find(id);
  if (a != active_.end()) {
    LeaveKeyQueues(id, Keys(a->second->job));
    active_.erase(a);
  }
  --running_;
  auto range = waiters_.equal_range(id);
  for (auto it = range.first; it != range.second; ++it) it->second->Wake();
  waiters_.erase(range.first, range.second);
  if (idle_) idle_->Wake();
  Schedule();
}

void JobManager::UpdateGauges() {
  metrics_->jobs_queued.Set(static_cast<double>(pending_.size()));
  metrics_->jobs_running.Set(static_cast<double>(running_));
}

Status JobManager::GetJob(const std::string& id, Job* out) {
  if (auto it = active_.find(id); it != active_.end() && it->second->committed) {
    *out = it->second->job;
    return Status::Ok();
  }
  Status s = store_->GetJob(id, out);
  if (!s.ok() && s.code() != Status::Code::kNotFound) {
    metrics_->store_errors.Add({{"op", "get"}}).Increment();
  }
  return s;
}

Status JobManager::GetJobView(const std::string& id, Job* out) {
  if (auto it = active_.find(id); it != active_.end() && it->second->committed) {
    *out = it->second->job;
    return Status::Ok();
  }
  Status s = store_->GetJobView(id, out);
  if (!s.ok() && s.code() != Status::Code::kNotFound) {
    metrics_->store_errors.Add({{"op", "get"}}).Increment();
  }
  return s;
}

Status JobManager::JobViewBody(const std::string& id, std::string* body) {
  if (const std::string* cached = finished_views_.Get(id)) {
    *body = *cached;
    return Status::Ok();
  }
  Job j;
  Status s = GetJobView(id, &j);
  if (!s.ok()) return s;
  *body = JobView(j).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (IsTerminal(j.status) && active_.count(id) == 0) finished_views_.Put(id, *body);
  return Status::Ok();
}

awaitable<Status> JobManager::ReadResult(std::string id, Job* out,
                                         std::optional<std::string>* password) {
  Status s = GetJob(id, out);
  if (!s.ok()) co_return s;
  if (!IsTerminal(out->status) || !out->stored_secret) co_return Status::Ok();
  // First successful read of a generated password: wipe it, durably, first.
  Job wiped = *out;
  wiped.stored_secret.reset();
  wiped.extra["credentials"]["password_returned_at"] = Now();
  std::vector<StoreWrite> writes(1);
  writes[0].job = std::make_unique<Job>(wiped);
  Status c = co_await Commit(std::move(writes));
  if (!c.ok()) co_return c;
  // Earlier versions of the row (with the password) live on in the WAL.
  if (Status k = store_->Checkpoint(); !k.ok()) {
    metrics_->degraded.Add({{"reason", "wipe_checkpoint_failed"}}).Increment();
    log::Warn("checkpoint after password wipe failed; retried at the next wipe",
              {{"job_id", id}, {"error", k.message()}});
  }
  *password = out->stored_secret;
  *out = std::move(wiped);
  co_return Status::Ok();
}

awaitable<bool> JobManager::WaitFinished(std::string id, std::chrono::milliseconds max) {
  Job j;
  if (!GetJob(id, &j).ok()) co_return false;
  if (IsTerminal(j.status)) co_return true;
  if (max.count() <= 0) co_return false;
  auto w = std::make_shared<Waiter>(ex_);
  w->timer.expires_after(max);
  auto pos = waiters_.emplace(id, w);
  co_await Sleep(&w->timer);
  if (!w->woken) {
    // Timed out: drop our registration (Finished() may have erased it already).
    auto range = waiters_.equal_range(id);
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second == w) {
        waiters_.erase(it);
        break;
      }
    }
  }
  (void)pos;
  Job after;
  co_return GetJob(id, &after).ok() && IsTerminal(after.status);
}

awaitable<Status> JobManager::Persist(const Job& job) {
  std::vector<StoreWrite> writes(1);  // (a braced list here trips GCC 12's coroutines)
  writes[0].job = std::make_unique<Job>(job);
  Status s = co_await Commit(std::move(writes));
  if (!s.ok()) {
    metrics_->store_errors.Add({{"op", "persist"}}).Increment();
    log::Warn("job state not persisted", {{"job_id", job.id}, {"error", s.message()}});
  }
  co_return s;
}

awaitable<Status> JobManager::Commit(std::vector<StoreWrite> writes,
                                     std::vector<StoreWrite>* back) {
  auto w = std::make_shared<Waiter>(ex_);
  w->timer.expires_at(asio::steady_timer::time_point::max());
  batch_.push_back(std::move(writes));  // a group: no copy of the writes
  batch_waiters_.push_back(w);
  if (!flush_posted_) {
    flush_posted_ = true;
    // Runs after every handler already queued in this turn: they share the commit.
    asio::post(ex_, [this] { Flush(); });
  }
  co_await Sleep(&w->timer);
  if (back != nullptr) *back = std::move(w->written);
  co_return w->status;
}

void JobManager::Flush() {
  flush_posted_ = false;
  // One commit in flight at a time: what arrives meanwhile waits for it and
  // then goes as the next group (the fsync runs on the store's writer thread,
  // so the loop keeps serving while it lasts).
  if (commit_in_flight_ || batch_.empty()) return;
  commit_in_flight_ = true;
  JobStore::WriteGroups groups = std::move(batch_);
  std::vector<std::shared_ptr<Waiter>> waiters = std::move(batch_waiters_);
  batch_.clear();
  batch_waiters_.clear();
  asio::any_io_executor ex = ex_;
  store_->ApplyAsync(std::move(groups), [this, ex, waiters](Status s, JobStore::WriteGroups done) {
    // The writes come back to the loop thread, where they were allocated.
    asio::post(ex, [this, waiters, s, done = std::move(done)]() mutable {
      Committed(s, waiters, &done);
    });
  });
}

void JobManager::Committed(const Status& s, const std::vector<std::shared_ptr<Waiter>>& waiters,
                           JobStore::WriteGroups* groups) {
  commit_in_flight_ = false;
  std::size_t count = 0;
  for (const auto& g : *groups) count += g.size();
  if (s.ok()) {
    metrics_->store_commits.Increment();
    metrics_->store_writes.Increment(static_cast<double>(count));
  } else {
    log::Error("store commit failed", {{"error", s.message()}, {"writes", count}});
  }
  for (std::size_t i = 0; i < waiters.size(); ++i) {
    if (!waiters[i]) continue;  // an Enqueue'd group: nobody waits
    waiters[i]->status = s;
    if (i < groups->size()) waiters[i]->written = std::move((*groups)[i]);
    waiters[i]->Wake();
  }
  if (!batch_.empty()) Flush();
}

awaitable<Status> JobManager::ForgetTenant(std::string username) {
  auto it = tenants_by_user_.find(username);
  if (it == tenants_by_user_.end()) co_return Status::Ok();
  std::vector<StoreWrite> writes(1);
  writes[0].op = StoreWrite::Op::kDeleteTenant;
  writes[0].tenant = it->second;
  Status s = co_await Commit(std::move(writes));
  if (!s.ok()) co_return s;
  auto again = tenants_by_user_.find(username);  // the map may have changed meanwhile
  if (again != tenants_by_user_.end()) {
    user_by_namespace_.erase(again->second.ns);
    tenants_by_user_.erase(again);
  }
  co_return Status::Ok();
}

Status JobManager::ListJobs(const JobFilter& f, std::vector<Job>* out) {
  Status s = store_->ListJobs(f, out);
  if (!s.ok()) {
    metrics_->store_errors.Add({{"op", "list"}}).Increment();
    return s;
  }
  // Active jobs are fresher in memory than in their last persisted row (once
  // settled: between its commit and Settle, memory holds only a hollow job).
  for (auto& j : *out) {
    if (auto it = active_.find(j.id); it != active_.end() && it->second->committed) {
      j = it->second->job;
    }
  }
  return Status::Ok();
}

awaitable<Status> JobManager::Cancel(std::string id, Job* out) {
  auto a = active_.find(id);
  if (a == active_.end() || !a->second->committed) {  // unknown, or not yet durable
    Status s = GetJob(id, out);
    if (!s.ok()) co_return s;
    co_return Status::Conflict(std::string("the job is already ") + StatusName(out->status));
  }
  JobRun* run = a->second.get();
  if (run->job.status == JobStatus::kQueued && run->committed &&
      std::find(pending_.begin(), pending_.end(), id) != pending_.end()) {
    // Not started: it never will.
    std::erase(pending_, id);
    Job& j = run->job;
    j.status = JobStatus::kCanceled;
    j.finished_at = Now();
    j.summary = "canceled before it started";
    j.stored_secret.reset();
    std::vector<StoreWrite> writes(1);
    writes[0].job = std::make_unique<Job>(j);
    if (!config_.kafka_brokers.empty()) {
      StoreWrite ow;
      ow.op = StoreWrite::Op::kPutOutbox;
      ow.outbox = BuildCompletionEvent(j, config_, ToUnixMs(clock_->Now()));
      writes.push_back(std::move(ow));
    }
    Status s = co_await Commit(std::move(writes));
    if (s.ok() && !config_.kafka_brokers.empty() && outbox_listener_) outbox_listener_();
    metrics_->jobs
        .Add({{"kind", KindName(j.kind)}, {"source", j.source}, {"status", "canceled"}})
        .Increment();
    log::Info("job canceled while queued", {{"job_id", id}});
    *out = j;
    ++running_;  // Finished() is shared with running jobs and decrements it
    Finished(id);
    co_return s;
  }
  // Running (or committing): terminate its children; the workflow ends canceled.
  run->cancel->Cancel();
  log::Info("cancel requested for a running job", {{"job_id", id}});
  co_await WaitFinished(id, std::chrono::milliseconds(config_.kill_grace_ms) +
                                std::chrono::seconds(30));
  co_return GetJob(id, out);
}

void JobManager::StartRetention() {
  asio::co_spawn(ex_, RetentionLoop(this), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::Error("retention task failed", {{"error", ex.what()}});
    }
  });
}

awaitable<int> JobManager::PurgeOnce() {
  const auto retention = std::chrono::milliseconds(
      static_cast<std::int64_t>(config_.job_retention_hours * 3600.0 * 1000.0));
  const std::int64_t cutoff = ToUnixMs(clock_->Now()) - retention.count();
  int total = 0;
  for (;;) {
    int jobs = 0, keys = 0;
    Status s = store_->Purge(cutoff, 500, &jobs, &keys);
    if (!s.ok()) {
      metrics_->store_errors.Add({{"op", "purge"}}).Increment();
      log::Warn("retention purge failed; retried later", {{"error", s.message()}});
      break;
    }
    total += jobs;
    metrics_->jobs_purged.Increment(jobs);
    if (jobs > 0) finished_views_.Clear();  // a purged job must read as unknown
    if (jobs < 500 && keys < 500) break;
    // Let requests in between batches.
    asio::steady_timer yield(ex_);
    yield.expires_after(std::chrono::milliseconds(0));
    co_await Sleep(&yield);
  }
  if (total > 0) log::Info("retention purged finished jobs", {{"jobs", total}});
  co_return total;
}

awaitable<void> JobManager::RetentionLoop(JobManager* self) {
  const double retention_ms = self->config_.job_retention_hours * 3600.0 * 1000.0;
  const auto interval = std::chrono::milliseconds(
      static_cast<std::int64_t>(std::clamp(retention_ms / 4.0, 200.0, 60000.0)));
  asio::steady_timer t(self->ex_);
  while (!self->draining_) {
    co_await self->PurgeOnce();
    t.expires_after(interval);
    co_await Sleep(&t);
  }
}

void JobManager::Enqueue(StoreWrite w) {
  batch_.emplace_back();
  batch_.back().push_back(std::move(w));
  batch_waiters_.push_back(nullptr);
  if (!flush_posted_) {
    flush_posted_ = true;
    asio::post(ex_, [this] { Flush(); });
  }
}

void JobManager::ChildStarted(int pid, long long start_ticks, const std::string& job_id) {
  StoreWrite w;
  w.op = StoreWrite::Op::kPutChild;
  w.child = {pid, start_ticks, job_id};
  Enqueue(std::move(w));
}

void JobManager::ChildExited(int pid) {
  StoreWrite w;
  w.op = StoreWrite::Op::kDeleteChild;
  w.child.pid = pid;
  Enqueue(std::move(w));
}

void JobManager::BeginDrain() {
  draining_ = true;
  log::Info("draining", {{"running", running_}, {"queued", pending_.size()}});
}

awaitable<void> JobManager::Drain(std::chrono::milliseconds grace) {
  BeginDrain();
  const auto deadline = std::chrono::steady_clock::now() + grace;
  bool abandoned = false;
  while (running_ > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (!abandoned && now >= deadline) {
      abandoned = true;
      log::Warn("shutdown grace over; terminating running children",
                {{"running", running_}, {"grace_ms", grace.count()}});
      for (auto& [id, run] : active_) {
        run->abandon = true;
        run->cancel->Cancel();
      }
    }
    idle_ = std::make_shared<Waiter>(ex_);
    if (abandoned) {
      idle_->timer.expires_after(std::chrono::milliseconds(200));
    } else {
      idle_->timer.expires_at(deadline);
    }
    auto w = idle_;
    co_await Sleep(&w->timer);
  }
  idle_.reset();
}

}  // namespace bootstrapd

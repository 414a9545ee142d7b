// The cheap job reads (JobStore::GetJobView, ListJobs) give exactly what
// JobView shows, read from a real SQLite file: steps reduced to name and
// outcome in their order, nothing else of the steps, inputs, extra or secret.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <unistd.h>

#include "daemon/jobs/job_store.h"

namespace bootstrapd {
namespace {

using json = nlohmann::json;

Job SampleJob(const std::string& id, const std::string& user) {
  Job j;
  j.id = id;
  j.kind = JobKind::kBootstrap;
  j.status = JobStatus::kSucceeded;
  j.username = user;
  j.ns = user + "-ns";
  j.inputs = {{"username", user}, {"password", "********"}};
  j.steps = json::array(
      {{{"name", "create_account"}, {"outcome", "succeeded"}, {"stdout", std::string(3000, 'x')},
        {"calls", json::array({{{"argv", {"everestctl"}}}})}},
       {{"name", "add_namespace"}, {"outcome", "skipped"}, {"stderr", "a \"quoted\" text"}},
       {{"name", "apply_rbac"}, {"outcome", "failed"}, {"error", "boom"}}});
  j.created_at = "2026-12-02T10:00:00.000Z";
  j.started_at = "2026-12-02T10:00:00.100Z";
  j.finished_at = "2026-12-02T10:00:01.000Z";
  j.summary = "done";
  j.stored_secret = "s3cret-value";
  j.secret_origin = "generated";
  j.extra = {{"credentials", {{"note", "x"}}}};
  return j;
}

TEST_CASE("GetJobView and ListJobs read what JobView shows, cheaply", "[unit][store]") {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("bootstrapd-view-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string error;
  {
    JobStorePtr store = OpenSqliteJobStore((dir / "jobs.db").string(), &error);
    REQUIRE(store != nullptr);
    std::vector<StoreWrite> writes(2);
    writes[0].job = std::make_unique<Job>(SampleJob("00000000-0000-4000-8000-000000000001", "alice"));
    writes[1].job = std::make_unique<Job>(SampleJob("00000000-0000-4000-8000-000000000002", "bob"));
    writes[0].job->seq = 1;
    writes[1].job->seq = 2;
    writes[1].job->steps = json::array();
    const Status applied = store->Apply(writes);
    INFO(applied.message());
    REQUIRE(applied.ok());

    Job full, view;
    REQUIRE(store->GetJob(writes[0].job->id, &full).ok());
    REQUIRE(store->GetJobView(writes[0].job->id, &view).ok());
    // What JobView shows is identical.
    CHECK(JobView(view) == JobView(full));
    CHECK(view.steps == json::array({{{"name", "create_account"}, {"outcome", "succeeded"}},
                                     {{"name", "add_namespace"}, {"outcome", "skipped"}},
                                     {{"name", "apply_rbac"}, {"outcome", "failed"}}}));
    // Nothing else is read.
    CHECK(view.inputs == json::object());
    CHECK(view.extra == json::object());
    CHECK_FALSE(view.stored_secret.has_value());
    CHECK(full.stored_secret == std::optional<std::string>("s3cret-value"));

    Job empty;
    REQUIRE(store->GetJobView(writes[1].job->id, &empty).ok());
    CHECK(empty.steps == json::array());

    CHECK(store->GetJobView("00000000-0000-4000-8000-00000000000f", &view).code() ==
          Status::Code::kNotFound);

    std::vector<Job> listed;
    REQUIRE(store->ListJobs(JobFilter{}, &listed).ok());
    REQUIRE(listed.size() == 2);
    CHECK(listed[0].id == writes[1].job->id);  // newest first
    CHECK(JobView(listed[1]) == JobView(full));
    CHECK_FALSE(listed[1].stored_secret.has_value());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bootstrapd

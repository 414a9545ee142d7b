#include "daemon/kafka/completion_event.h"

#include <nlohmann/json.hpp>

#include "daemon/util/ids.h"

namespace bootstrapd {

OutboxRow BuildCompletionEvent(const Job& job, const Config& config, std::int64_t now_ms) {
  using json = nlohmann::json;
  const std::string status = StatusName(job.status);
  json steps = json::array();
  for (const auto& s : job.steps) {
    steps.push_back({{"name", s.value("name", "")}, {"outcome", s.value("outcome", "")}});
  }
  json ev = {{"specversion", "1.0"},
             {"id", UuidV5(kUrlNamespaceUuid, job.id + "/" + status)},
             {"source", config.events_source},
             {"type", std::string("everest.tenant.") + KindName(job.kind) + "." + status},
             {"time", job.finished_at},
             {"datacontenttype", "application/json"},
             {"correlationid", job.id},
             {"data",
              {{"job_id", job.id},
               {"kind", KindName(job.kind)},
               {"source", job.source},
               {"status", status},
               {"summary", job.summary},
               {"username", job.username.empty() ? json(nullptr) : json(job.username)},
               {"namespace", job.ns.empty() ? json(nullptr) : json(job.ns)},
               {"steps", steps}}}};
  // CloudEvents: `subject`, when present, is non-empty (a password job has no namespace).
  if (!job.ns.empty()) ev["subject"] = job.ns;
  if (job.extra.contains("request_event") && job.extra["request_event"].contains("id")) {
    ev["causationid"] = job.extra["request_event"]["id"];
  }
  OutboxRow row;
  row.id = ev["id"];
  row.job_id = job.id;
  row.topic = config.kafka_events_topic;
  row.key = job.username.empty() ? job.ns : job.username;
  row.payload = ev.dump(-1, ' ', false, json::error_handler_t::replace);
  row.created_ms = now_ms;
  return row;
}

}  // namespace bootstrapd

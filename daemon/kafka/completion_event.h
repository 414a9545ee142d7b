// The completion CloudEvent of a finished job (SPEC §4). Pure; any thread.
#pragma once

#include "daemon/config.h"
#include "daemon/jobs/job.h"
#include "daemon/jobs/job_store.h"

namespace bootstrapd {

// The URL namespace of RFC 4122 (UUID v5 ids of completion events).
inline constexpr const char* kUrlNamespaceUuid = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";

// A structured-mode CloudEvent `everest.tenant.<kind>.<status>` for a
// terminal job: id = UUID v5 of "<job_id>/<status>" (the same on a re-send),
// time = finished_at, source = EVENTS_SOURCE, subject = namespace,
// correlationid = job id, causationid = the request event's id when there was
// one; data = status, summary, step names and outcomes. No secrets, no CLI
// output. Key = username (namespace when there is none).
OutboxRow BuildCompletionEvent(const Job& job, const Config& config, std::int64_t now_ms);

}  // namespace bootstrapd

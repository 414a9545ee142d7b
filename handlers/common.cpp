#include <cstdlib>

#include "daemon/domain/requests.h"
#include "daemon/jobs/job.h"
#include "handlers/context.h"

namespace bootstrapd {

using json = nlohmann::json;

constexpr int kMaxJsonDepth = 32;

std::optional<HttpResponse> ParseJsonBody(const HttpRequest& req, json* out) {
  if (req.body.empty()) {
    return Problem(400, "malformed-json", "Malformed JSON body", "the request body is empty");
  }
  if (JsonDepth(req.body) > kMaxJsonDepth) {
    return Problem(400, "malformed-json", "Malformed JSON body",
                   "the JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  *out = json::parse(req.body, nullptr, false);
  if (out->is_discarded()) {
    // Find the reason with a throwing parse (only on the error path).
    std::string why = "not valid JSON";
    try {
      (void)json::parse(req.body);
    } catch (const json::parse_error& e) {
      why = e.what();
    }
    return Problem(400, "malformed-json", "Malformed JSON body", why);
  }
  return std::nullopt;
}

HttpResponse ValidationProblem(const std::vector<FieldError>& errors) {
  json list = json::array();
  std::string detail;
  for (const auto& e : errors) {
    const std::string& ptr = e.pointer;
    const std::string& msg = e.detail;
    list.push_back({{"pointer", ptr.empty() ? "/" : ptr}, {"detail", msg}});
    if (!detail.empty()) detail += "; ";
    detail += (ptr.empty() ? std::string("body") : ptr.substr(1)) + ": " + msg;
  }
  return Problem(422, "validation", "Request validation failed", detail, {{"errors", list}});
}

Preference ParsePrefer(const HttpRequest& req) {
  Preference p;
  for (const auto& [k, v] : req.headers) {
    if (!EqualsIgnoreCase(k, "Prefer")) continue;
    std::size_t i = 0;
    while (i <= v.size()) {
      std::size_t j = v.find_first_of(",;", i);
      if (j == std::string::npos) j = v.size();
      std::string tok = v.substr(i, j - i);
      const auto b = tok.find_first_not_of(" \t");
      const auto e = tok.find_last_not_of(" \t");
      tok = b == std::string::npos ? "" : tok.substr(b, e - b + 1);
      if (EqualsIgnoreCase(tok, "respond-async")) p.respond_async = true;
      if (tok.size() > 5 && EqualsIgnoreCase(tok.substr(0, 5), "wait=")) {
        char* end = nullptr;
        const long n = std::strtol(tok.c_str() + 5, &end, 10);
        if (end != nullptr && *end == '\0' && n >= 0) p.wait_s = static_cast<int>(std::min(n, 3600L));
      }
      i = j + 1;
    }
  }
  return p;
}

HttpResponse JobAnswer(AppContext* ctx, const std::string& job_id) {
  Job j;
  Status s = ctx->jobs->GetJob(job_id, &j);
  if (!s.ok()) {
    return Problem(500, "store", "Job store error", s.message(), {{"job_id", job_id}});
  }
  if (!IsTerminal(j.status)) {
    HttpResponse r = HttpResponse::Json(
        202, {{"job_id", j.id}, {"status_url", "/jobs/" + j.id}, {"status", StatusName(j.status)}});
    r.Set("Location", "/jobs/" + j.id);
    return r;
  }
  json steps = j.steps;
  if (j.status == JobStatus::kSucceeded) {
    return HttpResponse::Json(200, {{"job_id", j.id},
                                    {"overall_status", StatusName(j.status)},
                                    {"steps", steps},
                                    {"summary", j.summary}});
  }
  if (j.status == JobStatus::kCanceled) {
    return Problem(409, "job-canceled", "Job canceled", j.summary,
                   {{"job_id", j.id}, {"steps", steps}, {"overall_status", "canceled"}});
  }
  // Failed: the seed's members for CLI failures.
  std::string stderr_tail;
  for (const auto& st : steps) {
    if (st.value("outcome", "") == "failed") stderr_tail = st.value("stderr", "");
  }
  return Problem(502, "job-failed", "Job failed", j.summary,
                 {{"job_id", j.id},
                  {"steps", steps},
                  {"overall_status", "failed"},
                  {"error", "everestctl failed"},
                  {"stderr", stderr_tail}});
}

}  // namespace bootstrapd

// POST /webhooks/tenant-requests: Standard Webhooks 1.0 intake (SPEC §4). The
// body limit is enforced by the server before the body is read (413), the
// timestamp window before the HMAC, the signatures compared in constant time
// under every configured secret (rotation). The webhook-id is the idempotency
// key: a replay answers the original job and never makes a second one.
#include <chrono>

#include "daemon/domain/cloudevent.h"
#include "daemon/domain/webhook_signature.h"
#include "daemon/jobs/submissions.h"
#include "daemon/metrics/metrics.h"
#include "daemon/util/log.h"
#include "handlers/context.h"

namespace bootstrapd {

namespace asio = boost::asio;
using asio::awaitable;
using json = nlohmann::json;

namespace {

awaitable<HttpResponse> PostWebhook(AppContext* ctx, HttpRequest req, PathParams) {
  const Config& cfg = *ctx->config;
  auto header = [&](const char* name) -> std::string {
    const std::string* v = req.Header(name);
    return v == nullptr ? "" : *v;
  };
  const std::string id = header("webhook-id");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const WebhookVerdict verdict =
      VerifyWebhook(cfg.webhook_keys, id, header("webhook-timestamp"), header("webhook-signature"),
                    req.body, now, cfg.webhook_tolerance_s);
  ctx->metrics->webhook_verifications.Add({{"result", VerdictName(verdict)}}).Increment();
  switch (verdict) {
    case WebhookVerdict::kOk:
      break;
    case WebhookVerdict::kNoSecrets:
      co_return Problem(503, "webhook-disabled", "Webhook intake not configured",
                        "no WEBHOOK_SECRETS (or webhook-secrets credential) is configured");
    case WebhookVerdict::kMissingHeaders:
      co_return Problem(400, "webhook-headers", "Missing webhook headers",
                        "webhook-id, webhook-timestamp and webhook-signature are required");
    case WebhookVerdict::kBadTimestamp:
      co_return Problem(400, "webhook-headers", "Bad webhook-timestamp",
                        "webhook-timestamp must be Unix seconds");
    case WebhookVerdict::kStale:
    case WebhookVerdict::kFuture:
      log::Warn("webhook refused: timestamp outside the window", {{"request_id", req.request_id},
                                                                   {"result", VerdictName(verdict)}});
      co_return Problem(401, "webhook-timestamp", "Webhook timestamp outside the window",
                        "webhook-timestamp must be within " + std::to_string(cfg.webhook_tolerance_s) +
                            " s of the server's clock");
    case WebhookVerdict::kBadSignature:
      log::Warn("webhook refused: bad signature", {{"request_id", req.request_id}});
      co_return Problem(401, "webhook-signature", "Bad webhook signature",
                        "no webhook-signature matches a configured secret");
  }
  if (id.size() > 255) {
    co_return Problem(400, "webhook-headers", "Bad webhook-id", "webhook-id is longer than 255 bytes");
  }
  CloudEvent ev;
  std::string err;
  json parsed;
  if (auto p = ParseJsonBody(req, &parsed)) co_return *p;
  if (!DecodeWebhookPayload(req.body, &ev, &err)) {
    co_return ValidationProblem({{"", err}});
  }
  const auto action = ActionOfType(ev.type);
  std::optional<JobKind> kind = action ? ParseKind(*action) : std::nullopt;
  if (!kind) {
    co_return ValidationProblem(
        {{"/type", "'" + ev.type + "' is not everest.tenant.<action>.requested"}});
  }
  SubmitRequest sr;
  std::vector<FieldError> errors;
  if (!BuildSubmission(*kind, ev.data, cfg, *ctx->jobs, &sr, &errors)) {
    for (auto& e : errors) e.pointer = "/data" + e.pointer;
    co_return ValidationProblem(errors);
  }
  sr.source = "webhook";
  sr.request_id = req.request_id;
  sr.idem_scope = "webhook:" + id;
  sr.idem_canonical = parsed.dump();
  sr.request_event = {{"id", ev.id.empty() ? id : ev.id},
                      {"source", ev.source.empty() ? "webhook" : ev.source},
                      {"type", ev.type},
                      {"webhook_id", id}};
  SubmitOutcome o = co_await ctx->jobs->Submit(std::move(sr));
  if (o.code == SubmitOutcome::Code::kReplay) {
    HttpResponse r = HttpResponse::Json(
        200, {{"job_id", o.job_id}, {"status_url", "/jobs/" + o.job_id}});
    r.Set("Location", "/jobs/" + o.job_id);
    r.Set("Idempotent-Replayed", "true");
    co_return r;
  }
  if (o.code != SubmitOutcome::Code::kAccepted) co_return SubmitProblem(o);
  HttpResponse r =
      HttpResponse::Json(202, {{"job_id", o.job_id}, {"status_url", "/jobs/" + o.job_id}});
  r.Set("Location", "/jobs/" + o.job_id);
  co_return r;
}

}  // namespace

void RegisterWebhookRoute(Router* router, AppContext* ctx) {
  router->Add("POST", "/webhooks/tenant-requests", false,
              [ctx](HttpRequest r, PathParams p) { return PostWebhook(ctx, std::move(r), std::move(p)); });
}

}  // namespace bootstrapd

#include "daemon/http/router.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <chrono>

#include "daemon/metrics/metrics.h"
#include "daemon/util/ids.h"
#include "daemon/util/log.h"

namespace bootstrapd {

namespace asio = boost::asio;

namespace {
// The method label of the http_* metrics: index 0 for any other method.
constexpr const char* kMethods[] = {"OTHER", "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};
}  // namespace

Router::Router(const Config& config, Metrics* metrics, std::function<bool()> draining)
    : config_(config), metrics_(metrics), draining_(std::move(draining)) {}

std::vector<std::string> Router::Split(const std::string& path) {
  // Exact: "/jobs/" and "//jobs" keep their empty segments, so they match no
  // route (a path is never normalised into another one).
  std::vector<std::string> out;
  if (path.empty() || path[0] != '/') return {path};
  std::size_t i = 1;
  for (;;) {
    const std::size_t j = path.find('/', i);
    out.push_back(path.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

void Router::Add(std::string method, std::string tmpl, bool needs_auth, RouteFn fn) {
  Route r{std::move(method), tmpl, Split(tmpl), needs_auth, true, std::move(fn)};
  for (const auto& s : r.segments) r.literal = r.literal && !(s.size() > 1 && s.front() == '{');
  routes_.push_back(std::move(r));
}

bool Router::Authorized(const std::string* key) const {
  if (key == nullptr) return false;
  bool ok = false;
  for (const auto& k : config_.admin_keys) ok = ConstantTimeEquals(*key, k) || ok;
  return ok;
}

asio::awaitable<HttpResponse> Router::Handle(HttpRequest req) {
  const auto started = std::chrono::steady_clock::now();
  const std::string* rid = req.Header("X-Request-ID");
  req.request_id = rid != nullptr && ValidRequestId(*rid) ? *rid : NewRequestId();

  const auto segs = Split(req.path);
  const Route* match = nullptr;
  PathParams params;
  std::string allow;
  for (int pass = 0; pass < 2 && match == nullptr; ++pass) {
    for (const auto& r : routes_) {
      if (r.literal != (pass == 0) || r.segments.size() != segs.size()) continue;
      PathParams p;
      bool ok = true;
      for (std::size_t i = 0; i < segs.size() && ok; ++i) {
        const auto& s = r.segments[i];
        if (s.size() > 1 && s.front() == '{') {
          ok = !segs[i].empty();  // a parameter is never empty
          p[s.substr(1, s.size() - 2)] = segs[i];
        }
        else ok = s == segs[i];
      }
      if (!ok) continue;
      if (r.method != req.method) {
        if (allow.find(r.method) == std::string::npos) allow += (allow.empty() ? "" : ", ") + r.method;
        continue;
      }
      match = &r;
      params = std::move(p);
      break;
    }
    // A literal path that exists for another method may still match a
    // template for this one (GET /accounts/{username} vs POST /accounts/delete).
  }

  HttpResponse resp;
  std::string route = match != nullptr ? match->tmpl : "(unmatched)";
  if (match == nullptr && !allow.empty()) {
    resp = Problem(405, "method-not-allowed", "Method not allowed",
                   req.method + " is not allowed on " + req.path);
    resp.Set("Allow", allow);
  } else if (match == nullptr) {
    resp = Problem(404, "not-found", "Not found", "no route for " + req.method + " " + req.path);
  } else if (match->needs_auth && !Authorized(req.Header("X-Admin-Key"))) {
    resp = Problem(401, "unauthorized", "Unauthorized",
                   "send a valid admin key in the X-Admin-Key header");
    resp.Set("WWW-Authenticate", "X-Admin-Key");
  } else if (req.method == "POST" && draining_ && draining_()) {
    if (metrics_ != nullptr) metrics_->jobs_rejected.Increment();
    resp = Problem(503, "draining", "Shutting down",
                   "the daemon is draining and accepts no new work; retry shortly");
    resp.Set("Retry-After", "5");
  } else {
    try {
      resp = co_await match->fn(req, params);
    } catch (const std::exception& e) {
      log::Error("handler failed", {{"request_id", req.request_id}, {"route", route},
                                    {"error", e.what()}});
      if (metrics_ != nullptr) metrics_->degraded.Add({{"reason", "handler_exception"}}).Increment();
      resp = Problem(500, "internal", "Internal error", "the request failed inside the daemon");
    }
  }
  resp.Set("X-Request-ID", req.request_id);

  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  int method = 0;  // kMethods index; 0 = OTHER
  for (int i = 1; i < static_cast<int>(std::size(kMethods)); ++i) {
    if (req.method == kMethods[i]) method = i;
  }
  Record(match != nullptr ? static_cast<int>(match - routes_.data()) : -1, method, resp.status, secs);
  if (route != "/metrics" && route != "/healthz" && route != "/readyz") {
    if (log::Enabled(log::Level::kInfo)) {
      // The access line, built by hand (one per request; keys sorted as
      // log::Write sorts them).
      std::string f = "\"duration_ms\":" + std::to_string(static_cast<long>(secs * 1000)) +
                      ",\"method\":";
      log::AppendJsonString(&f, req.method);
      f += ",\"request_id\":";
      log::AppendJsonString(&f, req.request_id);
      f += ",\"route\":";
      log::AppendJsonString(&f, route);
      f += ",\"status\":" + std::to_string(resp.status);
      log::WriteFields(log::Level::kInfo, "request", f);
    }
  } else if (log::Enabled(log::Level::kDebug)) {
    log::Debug("request", {{"request_id", req.request_id}, {"route", route}, {"status", resp.status}});
  }
  co_return resp;
}

void Router::Record(int route, int method, int code, double secs) {
  if (metrics_ == nullptr) return;
  const char* label = route >= 0 ? routes_[route].tmpl.c_str() : "(unmatched)";
  const std::uint64_t series = static_cast<std::uint64_t>(route + 1) << 8 | static_cast<unsigned>(method);
  const std::uint64_t with_code = series << 16 | static_cast<std::uint16_t>(code);
  auto c = request_series_.find(with_code);
  if (c == request_series_.end()) {
    prometheus::Counter* counter = &metrics_->http_requests.Add(
        {{"route", label}, {"method", kMethods[method]}, {"code", std::to_string(code)}});
    c = request_series_.emplace(with_code, counter).first;
  }
  c->second->Increment();
  auto h = duration_series_.find(series);
  if (h == duration_series_.end()) {
    prometheus::Histogram* histogram = &metrics_->http_duration.Add(
        {{"route", label}, {"method", kMethods[method]}}, Metrics::HttpBuckets());
    h = duration_series_.emplace(series, histogram).first;
  }
  h->second->Observe(secs);
}

}  // namespace bootstrapd

// Maps (method, path template) to a handler, and does what every route
// shares: X-Request-ID (taken or generated, echoed), X-Admin-Key auth
// (constant time, several keys), 404/405 problems, the drain refusal of new
// work, one JSON access-log line and the http_* metrics with the route
// template as label. No Beast. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/config.h"
#include "daemon/http/message.h"

namespace prometheus {
class Counter;
class Histogram;
}  // namespace prometheus

namespace bootstrapd {

class Metrics;

using PathParams = std::map<std::string, std::string>;
using RouteFn = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest, PathParams)>;

class Router {
 public:
  Router(const Config& config, Metrics* metrics, std::function<bool()> draining);

  // `tmpl` segments like "{id}" match one non-empty path segment.
  void Add(std::string method, std::string tmpl, bool needs_auth, RouteFn fn);

  boost::asio::awaitable<HttpResponse> Handle(HttpRequest req);

  // True when `key` is one of the configured admin keys (constant time per key,
  // every key compared).
  bool Authorized(const std::string* key) const;

 private:
  struct Route {
    std::string method;
    std::string tmpl;
    std::vector<std::string> segments;
    bool needs_auth;
    bool literal;
    RouteFn fn;
  };
  static std::vector<std::string> Split(const std::string& path);
  // The http_* series of (route, method[, code]), looked up once and kept:
  // Family::Add builds a label map and takes a lock on every call.
  void Record(int route, int method, int code, double secs);

  const Config& config_;
  Metrics* metrics_;
  std::function<bool()> draining_;
  std::vector<Route> routes_;
  std::unordered_map<std::uint64_t, prometheus::Counter*> request_series_;
  std::unordered_map<std::uint64_t, prometheus::Histogram*> duration_series_;
};

}  // namespace bootstrapd

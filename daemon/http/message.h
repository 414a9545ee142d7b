// HTTP request and response as the router and handlers see them: plain
// structs, no Beast (handlers stay cheap to compile and to test).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

namespace bootstrapd {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;   // "GET", "POST", ...
  std::string target;   // raw request-target
  std::string path;     // target without the query
  std::string query;    // after '?', raw
  HeaderList headers;
  std::string body;
  unsigned version = 11;
  std::string remote;
  std::string request_id;  // set by the router

  // Case-insensitive lookup of the first header with this name.
  const std::string* Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  HeaderList headers;
  std::string body;
  std::string content_type = "application/json";

  void Set(std::string name, std::string value);
  static HttpResponse Json(int status, const nlohmann::json& body);
  static HttpResponse Text(int status, std::string body, std::string content_type);
};

using HttpHandler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest)>;

// RFC 9457 problem+json: {"type","title","status","detail", ...extra members}.
HttpResponse Problem(int status, std::string_view slug, std::string_view title,
                     std::string_view detail, const nlohmann::json& extra = nlohmann::json::object());

// An X-Request-ID worth echoing: 1-128 of [A-Za-z0-9-_.:/]; others are replaced.
bool ValidRequestId(std::string_view s);

// Parses an application/x-www-form-urlencoded query ("a=1&b=x%20y"); false on
// a bad percent escape. Repeated names keep every value, in order.
bool ParseQuery(std::string_view query, std::vector<std::pair<std::string, std::string>>* out);

// Case-insensitive ASCII comparison.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace bootstrapd

#include "daemon/http/message.h"

namespace bootstrapd {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

const std::string* HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return &v;
  }
  return nullptr;
}

void HttpResponse::Set(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

HttpResponse HttpResponse::Json(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse HttpResponse::Text(int status, std::string body, std::string content_type) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

HttpResponse Problem(int status, std::string_view slug, std::string_view title,
                     std::string_view detail, const nlohmann::json& extra) {
  nlohmann::json p = {{"type", "urn:everest-bootstrapd:problem:" + std::string(slug)},
                      {"title", title},
                      {"status", status},
                      {"detail", detail}};
  if (extra.is_object()) {
    for (auto it = extra.begin(); it != extra.end(); ++it) p[it.key()] = it.value();
  }
  HttpResponse r = HttpResponse::Json(status, p);
  r.content_type = "application/problem+json";
  return r;
}

}  // namespace bootstrapd

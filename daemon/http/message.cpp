#include "daemon/http/message.h"

#include <cctype>

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

namespace {
int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
bool Decode(std::string_view in, std::string* out) {
  out->clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out->push_back(' ');
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      const int h = Hex(in[i + 1]), l = Hex(in[i + 2]);
      if (h < 0 || l < 0) return false;
      out->push_back(static_cast<char>(h * 16 + l));
      i += 2;
    } else {
      out->push_back(in[i]);
    }
  }
  return true;
}
}  // namespace

bool ParseQuery(std::string_view query, std::vector<std::pair<std::string, std::string>>* out) {
  std::size_t i = 0;
  while (i < query.size()) {
    std::size_t amp = query.find('&', i);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view part = query.substr(i, amp - i);
    if (!part.empty()) {
      const std::size_t eq = part.find('=');
      std::string k, v;
      if (!Decode(part.substr(0, eq), &k)) return false;
      if (eq != std::string_view::npos && !Decode(part.substr(eq + 1), &v)) return false;
      out->emplace_back(std::move(k), std::move(v));
    }
    i = amp + 1;
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

bool ValidRequestId(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
          c == ':' || c == '/')) {
      return false;
    }
  }
  return true;
}

}  // namespace bootstrapd

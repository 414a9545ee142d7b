#include "tests/support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>

namespace testing {

nlohmann::json Response::Json() const { return nlohmann::json::parse(body, nullptr, false); }

std::string Response::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

int ConnectLoopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

std::size_t ParseHead(std::string_view raw, std::size_t pos, Response* r) {
  const std::size_t end = raw.find("\r\n\r\n", pos);
  if (end == std::string_view::npos) return std::string_view::npos;
  std::string_view head = raw.substr(pos, end - pos);
  std::size_t eol = head.find("\r\n");
  const std::string_view status_line = head.substr(0, eol);
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1.") return std::string_view::npos;
  r->status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
  while (eol != std::string_view::npos) {
    head.remove_prefix(eol + 2);
    eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r->headers[name] = std::string(value);
  }
  return end + 4;
}

namespace {

std::string BuildRequest(const std::string& method, const std::string& target,
                         const std::string& body, const Headers& headers, bool close) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (close) req += "Connection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST") {
    bool has_type = false;
    for (const auto& [k, v] : headers) has_type = has_type || k == "Content-Type";
    if (!has_type) req += "Content-Type: application/json\r\n";
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  return req;
}

// Reads one Content-Length framed response from `fd`; status 0 on failure.
Response ReadResponse(int fd, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string raw;
  char buf[16384];
  for (;;) {
    Response r;
    const std::size_t body_at = ParseHead(raw, 0, &r);
    if (body_at != std::string::npos) {
      const std::size_t want = body_at + std::strtoul(r.Header("content-length").c_str(), nullptr, 10);
      if (raw.size() >= want) {
        r.body = raw.substr(body_at, want - body_at);
        return r;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return {};
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return {};
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return {};
    raw.append(buf, static_cast<std::size_t>(n));
  }
}

std::string ReadUntilClose(int fd, int timeout_ms) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

Response Http(std::uint16_t port, const std::string& method, const std::string& target,
              const std::string& body, const Headers& headers) {
  const int fd = ConnectLoopback(port);
  if (fd < 0) return {};
  Response r;
  if (SendAll(fd, BuildRequest(method, target, body, headers, true))) {
    const std::string raw = ReadUntilClose(fd, 120000);
    const std::size_t body_at = ParseHead(raw, 0, &r);
    if (body_at == std::string::npos) {
      r = {};
    } else {
      r.body = raw.substr(body_at);
      const std::string cl = r.Header("content-length");
      if (!cl.empty()) r.body = r.body.substr(0, std::strtoul(cl.c_str(), nullptr, 10));
    }
  }
  ::close(fd);
  return r;
}

std::string RawExchange(std::uint16_t port, const std::string& bytes, int timeout_ms) {
  const int fd = ConnectLoopback(port);
  if (fd < 0) return "";
  std::string out;
  if (SendAll(fd, bytes)) out = ReadUntilClose(fd, timeout_ms);
  ::close(fd);
  return out;
}

Conn::Conn(std::uint16_t port, bool reconnect)
    : port_(port), reconnect_(reconnect), fd_(ConnectLoopback(port)) {}

Conn::~Conn() {
  if (fd_ >= 0) ::close(fd_);
}

Response Conn::Request(const std::string& method, const std::string& target,
                       const std::string& body, const Headers& headers) {
  const std::string req = BuildRequest(method, target, body, headers, false);
  for (int attempt = 0; attempt < (reconnect_ ? 2 : 1); ++attempt) {
    if (fd_ < 0 && reconnect_) fd_ = ConnectLoopback(port_);
    if (fd_ < 0) return {};
    if (SendAll(fd_, req)) {
      Response r = ReadResponse(fd_, 120000);
      if (r.status != 0) {
        if (r.Header("connection") == "close") {
          ::close(fd_);
          fd_ = -1;
        }
        return r;
      }
    }
    ::close(fd_);
    fd_ = -1;
  }
  return {};
}

}  // namespace testing

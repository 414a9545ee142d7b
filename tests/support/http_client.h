// A small blocking HTTP/1.1 client over loopback, shared by the tests and the
// benchmark driver: one-shot requests, kept-alive connections, raw exchanges,
// and the parsing of response heads. Plain POSIX, no Catch2.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace testing {

struct Response {
  int status = 0;  // 0 = transport error
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  nlohmann::json Json() const;
  std::string Header(const std::string& lower_name) const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// A blocking TCP connection to 127.0.0.1:port (close-on-exec, TCP_NODELAY), or -1.
int ConnectLoopback(std::uint16_t port);
// Sends all of `data`; false if the peer went away.
bool SendAll(int fd, const std::string& data);

// Parses the response head (status line and headers) that starts at `pos` in
// `raw` into `r` (status, headers; not the body). Returns the offset just
// after the head's blank line, or npos when the head is incomplete or is not
// an HTTP/1.x status line.
std::size_t ParseHead(std::string_view raw, std::size_t pos, Response* r);

// One request on a new connection ("Connection: close").
Response Http(std::uint16_t port, const std::string& method, const std::string& target,
              const std::string& body = "", const Headers& headers = {});

// Sends raw bytes and returns everything the server sends until it closes or
// `timeout_ms` passes.
std::string RawExchange(std::uint16_t port, const std::string& bytes, int timeout_ms = 5000);

// A kept-alive connection: one request, one response at a time. With
// `reconnect` (load drivers), a request the server closed the connection on is
// sent once more on a new connection; without it (tests) it fails (status 0).
class Conn {
 public:
  explicit Conn(std::uint16_t port, bool reconnect = false);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  bool ok() const { return fd_ >= 0; }
  Response Request(const std::string& method, const std::string& target,
                   const std::string& body = "", const Headers& headers = {});
  Response Get(const std::string& target) { return Request("GET", target); }

 private:
  std::uint16_t port_;
  bool reconnect_;
  int fd_ = -1;
};

}  // namespace testing

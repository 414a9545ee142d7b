// The HTTP/1.1 listener and its sessions (the only Beast translation unit):
// one coroutine per connection; keep-alive; a header limit (431), a body
// limit (413, checked before the body is read), a read timeout (408), a
// keep-alive idle timeout, a connection cap (503). Requests go to one
// HttpHandler; the server knows no routes. Loop thread only.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "daemon/http/message.h"
#include "daemon/util/status.h"

namespace bootstrapd {

class Metrics;

struct HttpLimits {
  std::size_t header_limit = 16 << 10;
  std::size_t body_limit = 1 << 20;
  int read_timeout_s = 30;
  int idle_timeout_s = 60;
  int max_connections = 1024;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& ioc, HttpLimits limits, HttpHandler handler,
             Metrics* metrics);
  ~HttpServer();

  // Binds and listens (port 0 picks a free port). Errors name the address.
  Status Listen(const std::string& address, std::uint16_t port);
  std::uint16_t port() const;
  void Start();            // starts accepting
  void StopAccepting();    // closes the listener
  void CloseSessions();    // cancels every connection
  std::size_t connections() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace bootstrapd

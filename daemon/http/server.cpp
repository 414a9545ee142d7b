#include "daemon/http/server.h"

#include <fcntl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <set>

#include "daemon/metrics/metrics.h"
#include "daemon/util/ids.h"
#include "daemon/util/log.h"

namespace bootstrapd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using tcp = asio::ip::tcp;

struct HttpServer::State {
  State(asio::io_context& c, HttpLimits l, HttpHandler h, Metrics* m)
      : ioc(c), limits(l), handler(std::move(h)), metrics(m), acceptor(c) {}
  asio::io_context& ioc;
  HttpLimits limits;
  HttpHandler handler;
  Metrics* metrics;
  tcp::acceptor acceptor;
  std::set<beast::tcp_stream*> sessions;
  bool closing = false;
};

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

void SetCloexec(int fd) {
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

void CountTransportError(HttpServer::State* st, int code) {
  if (st->metrics == nullptr) return;
  st->metrics->http_requests
      .Add({{"route", "(transport)"}, {"method", "(unknown)"}, {"code", std::to_string(code)}})
      .Increment();
}

http::response<http::string_body> ToBeast(HttpResponse&& r, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "everest-bootstrapd");
  res.set(http::field::content_type, r.content_type);
  for (const auto& [k, v] : r.headers) res.insert(k, v);
  res.keep_alive(keep_alive);
  res.body() = std::move(r.body);
  res.prepare_payload();
  return res;
}

awaitable<void> WriteAndClose(beast::tcp_stream* stream, HttpResponse r, unsigned version) {
  auto res = ToBeast(std::move(r), version, false);
  stream->expires_after(std::chrono::seconds(10));
  auto [ec, n] = co_await http::async_write(*stream, res, kNoThrow);
  (void)ec;
  (void)n;
  beast::error_code ignored;
  stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
  // Lingering close: a client still sending its (refused) body would get a
  // reset, and lose this answer, if we closed with unread data. Drain a
  // bounded amount for a bounded time first.
  stream->expires_after(std::chrono::seconds(2));
  static char sink[16384];
  std::size_t drained = 0;
  while (drained < (8u << 20)) {
    auto [rec, rn] = co_await stream->async_read_some(asio::buffer(sink), kNoThrow);
    if (rec) break;
    drained += rn;
  }
}

HttpResponse TransportProblem(int status, const char* slug, const char* title, std::string detail,
                              const std::string& request_id) {
  HttpResponse r = Problem(status, slug, title, detail);
  r.Set("X-Request-ID", request_id);
  return r;
}

std::string RequestIdOf(const http::request_parser<http::string_body>& p) {
  const auto& h = p.get();
  auto it = h.find("X-Request-ID");
  if (it != h.end() && ValidRequestId(std::string_view(it->value().data(), it->value().size()))) {
    return std::string(it->value());
  }
  return NewRequestId();
}

awaitable<void> Session(std::shared_ptr<HttpServer::State> st, tcp::socket socket) {
  SetCloexec(socket.native_handle());
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::string remote;
  {
    auto ep = socket.remote_endpoint(ignored);
    if (!ignored) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  beast::tcp_stream stream(std::move(socket));
  st->sessions.insert(&stream);
  beast::flat_buffer buffer(st->limits.header_limit + st->limits.body_limit + 4096);

  for (;;) {
    if (st->closing) break;
    if (buffer.size() == 0) {
      // Keep-alive idle: wait for the first byte of the next request.
      stream.expires_after(std::chrono::seconds(st->limits.idle_timeout_s));
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kNoThrow);
      if (ec) break;  // idle timeout, peer closed, or canceled: nothing to answer
      buffer.commit(n);
    }
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(st->limits.header_limit));
    parser.body_limit(st->limits.body_limit);
    stream.expires_after(std::chrono::seconds(st->limits.read_timeout_s));
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, kNoThrow);
    (void)hn;
    if (!hec && !parser.is_done()) {
      auto& h = parser.get();
      auto expect = h.find(http::field::expect);
      if (expect != h.end() && beast::iequals(expect->value(), "100-continue")) {
        static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(kContinue), kNoThrow);
        (void)wn;
        if (wec) break;
      }
    }
    beast::error_code ec = hec;
    if (!ec && !parser.is_done()) {
      auto [bec, bn] = co_await http::async_read(stream, buffer, parser, kNoThrow);
      (void)bn;
      ec = bec;
    }
    if (ec) {
      const unsigned ver = parser.is_header_done() ? parser.get().version() : 11;
      if (ec == http::error::body_limit) {
        CountTransportError(st.get(), 413);
        co_await WriteAndClose(&stream,
                               TransportProblem(413, "body-too-large", "Request body too large",
                                                "the body exceeds HTTP_BODY_LIMIT_BYTES (" +
                                                    std::to_string(st->limits.body_limit) + ")",
                                                RequestIdOf(parser)),
                               ver);
      } else if (ec == http::error::header_limit) {
        CountTransportError(st.get(), 431);
        co_await WriteAndClose(
            &stream,
            TransportProblem(431, "headers-too-large", "Request header fields too large",
                             "the header block exceeds HTTP_HEADER_LIMIT_BYTES (" +
                                 std::to_string(st->limits.header_limit) + ")",
                             NewRequestId()),
            11);
      } else if (ec == beast::error::timeout) {
        // beast::tcp_stream closes the socket at its deadline: nothing can be
        // answered; the slow client is simply cut off.
        CountTransportError(st.get(), 408);
      } else if (ec == http::error::end_of_stream || ec == asio::error::eof ||
                 ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
                 ec == asio::error::bad_descriptor) {
        // The peer went away (or we are closing): nothing to answer.
      } else {
        CountTransportError(st.get(), 400);
        co_await WriteAndClose(&stream,
                               TransportProblem(400, "malformed-request", "Malformed HTTP request",
                                                ec.message(), NewRequestId()),
                               ver);
      }
      break;
    }

    auto msg = parser.release();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    const auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) req.query = req.target.substr(q + 1);
    for (const auto& f : msg) req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    req.body = std::move(msg.body());
    req.version = msg.version();
    req.remote = remote;
    const bool keep_alive = msg.keep_alive();

    HttpResponse resp = co_await st->handler(std::move(req));
    auto res = ToBeast(std::move(resp), msg.version(), keep_alive && !st->closing);
    stream.expires_after(std::chrono::seconds(st->limits.read_timeout_s));
    auto [wec, wn] = co_await http::async_write(stream, res, kNoThrow);
    (void)wn;
    if (wec || !res.keep_alive()) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
  st->sessions.erase(&stream);
}

awaitable<void> Refuse(std::shared_ptr<HttpServer::State> st, tcp::socket socket) {
  SetCloexec(socket.native_handle());
  beast::tcp_stream stream(std::move(socket));
  CountTransportError(st.get(), 503);
  HttpResponse r = TransportProblem(503, "too-many-connections", "Too many connections",
                                    "HTTP_MAX_CONNECTIONS reached; retry shortly", NewRequestId());
  r.Set("Retry-After", "1");
  co_await WriteAndClose(&stream, std::move(r), 11);
}

void LogEscape(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::Error("http coroutine failed", {{"error", ex.what()}});
  }
}

awaitable<void> Accept(std::shared_ptr<HttpServer::State> st) {
  for (;;) {
    auto [ec, socket] = co_await st->acceptor.async_accept(kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !st->acceptor.is_open()) co_return;
      log::Warn("accept failed", {{"error", ec.message()}});
      if (st->metrics) st->metrics->degraded.Add({{"reason", "accept_failed"}}).Increment();
      asio::steady_timer t(st->ioc);
      t.expires_after(std::chrono::milliseconds(50));  // EMFILE and friends: don't spin
      auto [tec] = co_await t.async_wait(kNoThrow);
      (void)tec;
      continue;
    }
    if (st->sessions.size() >= static_cast<std::size_t>(st->limits.max_connections)) {
      asio::co_spawn(st->ioc, Refuse(st, std::move(socket)), LogEscape);
      continue;
    }
    asio::co_spawn(st->ioc, Session(st, std::move(socket)), LogEscape);
  }
}

}  // namespace

HttpServer::HttpServer(asio::io_context& ioc, HttpLimits limits, HttpHandler handler,
                       Metrics* metrics)
    : state_(std::make_shared<State>(ioc, limits, std::move(handler), metrics)) {}

HttpServer::~HttpServer() = default;

Status HttpServer::Listen(const std::string& address, std::uint16_t port) {
  beast::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) return Status::Invalid("BIND_ADDRESS: '" + address + "' is not an IP address");
  tcp::endpoint ep(addr, port);
  auto& a = state_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) SetCloexec(a.native_handle());
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Unavailable("cannot listen on " + address + ":" + std::to_string(port) + ": " +
                               ec.message());
  }
  return Status::Ok();
}

std::uint16_t HttpServer::port() const {
  beast::error_code ec;
  auto ep = state_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void HttpServer::Start() { asio::co_spawn(state_->ioc, Accept(state_), LogEscape); }

void HttpServer::StopAccepting() {
  beast::error_code ec;
  state_->acceptor.close(ec);
}

void HttpServer::CloseSessions() {
  state_->closing = true;
  for (auto* s : state_->sessions) {
    beast::error_code ec;
    s->socket().cancel(ec);
    s->socket().shutdown(tcp::socket::shutdown_both, ec);
  }
}

std::size_t HttpServer::connections() const { return state_->sessions.size(); }

}  // namespace bootstrapd

// The HTTP baseline: the least a Beast keep-alive server can do, shaped like
// the daemon's (one io_context on one thread, one co_spawned coroutine per
// connection, TCP_NODELAY, request_parser + string_body, prepare_payload), and
// nothing else: no routing, no auth, no metrics, no logging.
//
//   bench_bare_http [port]     (port 0 or absent: ephemeral)
// Prints "port <n>" on stdout once listening; runs until SIGTERM/SIGINT.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <cstdlib>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// About the size of the daemon's /healthz answer plus a job view's head.
const std::string kBody =
    R"({"status":"ok","id":"00000000-0000-4000-8000-000000000000","kind":"bootstrap","n":1})";

awaitable<void> Session(tcp::socket socket) {
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    (void)n;
    if (ec) break;
    auto req = parser.release();
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::server, "bench");
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = kBody;
    res.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, res, kNoThrow);
    (void)wn;
    if (wec || !res.keep_alive()) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

awaitable<void> Accept(tcp::acceptor* acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(kNoThrow);
    if (ec) co_return;
    asio::co_spawn(acceptor->get_executor(), Session(std::move(socket)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const unsigned short port = argc > 1 ? static_cast<unsigned short>(std::atoi(argv[1])) : 0;
  asio::io_context ioc(1);
  tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), port});
  std::printf("port %u\n", acceptor.local_endpoint().port());
  std::fflush(stdout);
  asio::signal_set signals(ioc, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int) { ioc.stop(); });
  asio::co_spawn(ioc, Accept(&acceptor), asio::detached);
  ioc.run();
  return 0;
}

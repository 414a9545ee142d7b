// Attacks over real HTTP (issue #7): a corpus of bad inputs, each of which must
// be answered with the documented 4xx problem+json while the daemon stays
// healthy and creates no job; and 500 idle or slow-loris connections that must
// neither stop normal requests nor outlive the timeouts.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/harness.h"

using testing::Daemon;
using testing::Response;
using testing::TempDir;
using json = nlohmann::json;

namespace {

// Parses every HTTP/1.x response in `raw` (Content-Length framed, as the
// daemon always answers).
std::vector<Response> ParseResponses(const std::string& raw) {
  std::vector<Response> out;
  std::size_t pos = 0;
  while (pos < raw.size()) {
    Response r;
    const std::size_t body_at = testing::ParseHead(raw, pos, &r);
    if (body_at == std::string::npos) break;
    const std::size_t length = std::strtoul(r.Header("content-length").c_str(), nullptr, 10);
    r.body = raw.substr(body_at, length);
    pos = body_at + length;
    out.push_back(std::move(r));
  }
  return out;
}

// What every refusal must look like: RFC 9457 problem+json with its members.
bool IsProblem(const Response& r, int status) {
  const json j = json::parse(r.body, nullptr, false);
  return r.status == status && r.Header("content-type") == "application/problem+json" &&
         j.is_object() && j.value("status", 0) == status && j.value("type", "") != "" &&
         j.value("title", "") != "" && j.contains("detail");
}

struct Attack {
  std::string name;
  std::string raw;  // the exact bytes sent
  int status;       // the documented answer
};

std::string Request(const std::string& method, const std::string& target, const std::string& body,
                    const std::string& extra_headers = "", bool key = true,
                    const std::string& version = "HTTP/1.1") {
  std::string r = method + " " + target + " " + version + "\r\nHost: localhost\r\n";
  if (key) r += std::string("X-Admin-Key: ") + Daemon::kKey + "\r\n";
  if (!body.empty() || method == "POST") {
    r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  r += extra_headers + "Connection: close\r\n\r\n" + body;
  return r;
}

std::string Post(const std::string& target, const std::string& body, const std::string& extra = "") {
  return Request("POST", target, body, extra);
}

const char* kPostRoutes[] = {"/bootstrap/users",  "/accounts/password", "/namespaces/resources",
                             "/namespaces/operators", "/accounts/suspend", "/accounts/resume",
                             "/accounts/delete"};

// The corpus. Hand-written cases first, then generated families.
std::vector<Attack> Corpus() {
  std::vector<Attack> c;
  auto add = [&c](std::string name, std::string raw, int status) {
    c.push_back({std::move(name), std::move(raw), status});
  };
  // Malformed JSON on every POST route.
  const std::vector<std::string> malformed = {
      "{",           "}",          "{\"username\":}",  "{\"username\":\"alice\",}",
      "{'username':'alice'}",      "[1,2",             "{\"username\" \"alice\"}",
      "NaN",         "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":-}",
      "{\"username\":\"alice\"}{}", "{\"username\":\"al\nice\"}", "/* c */{}",
      "{\"username\":\"alice\"",   "nul",              "tru",  "{\"a\":01}", "{\"a\":1.}",
      "{\"a\":.5}",  "{\"a\":\"\\x41\"}", "{\"a\":\"\\u12\"}", "\x00{}"};
  for (const char* route : kPostRoutes) {
    for (std::size_t i = 0; i < malformed.size(); ++i) {
      std::string body = malformed[i];
      if (i == malformed.size() - 1) body = std::string("\0{}", 3);
      add(std::string("malformed JSON #") + std::to_string(i) + " on " + route, Post(route, body), 400);
    }
    add(std::string("empty body on ") + route, Post(route, ""), 400);
    // Valid JSON that is not an object.
    for (const char* v : {"null", "[]", "123", "\"alice\"", "true", "[{\"username\":\"alice\"}]"}) {
      add(std::string("non-object ") + v + " on " + route, Post(route, v), 422);
    }
    // Unknown fields (typos) are refused, at the top level and nested.
    add(std::string("unknown field on ") + route,
        Post(route, R"({"username":"alice","namespace":"alice-ns","opertors":{}})"), 422);
  }
  // Deep nesting: arrays and objects, inside a field and at the top level.
  add("deep array nesting", Post("/bootstrap/users", std::string(5000, '[') + std::string(5000, ']')), 400);
  {
    std::string deep;
    for (int i = 0; i < 3000; ++i) deep += "{\"a\":";
    deep += "1";
    deep += std::string(3000, '}');
    add("deep object nesting", Post("/bootstrap/users", deep), 400);
    add("deep nesting inside a field",
        Post("/bootstrap/users", "{\"username\":\"alice\",\"resources\":" + deep + "}"), 400);
  }
  add("unclosed deep nesting", Post("/bootstrap/users", std::string(100000, '[')), 400);
  // Huge, tiny and odd numbers.
  for (const char* n : {"1e400", "-1e400", "1e-400", "99999999999999999999999999999", "-0", "0",
                        "-5", "1.5e308", "18446744073709551616", "9223372036854775808", "0.0000001",
                        "\"1e999\"", "\"0x10\"", "\"8 \"", "\" 8\"", "\"\"", "\"NaN\"", "\"inf\"",
                        "\"-1\""}) {
    // Numbers beyond a double are malformed JSON to the parser (400); the
    // rest are refused by validation (422).
    const int want = std::string(n).find("e400") != std::string::npos ? 400 : 422;
    add(std::string("ram_mb ") + n,
        Post("/bootstrap/users", std::string(R"({"username":"alice","resources":{"ram_mb":)") + n + "}}"),
        want);
    add(std::string("cpu_cores ") + n,
        Post("/bootstrap/users",
             std::string(R"({"username":"alice","resources":{"cpu_cores":)") + n + "}}"),
        want);
  }
  // Wrong types for every field of the bootstrap body.
  const std::vector<std::string> wrong = {"123", "true", "null", "[]", "{}", "[\"alice\"]", "1.5"};
  for (const char* field : {"username", "namespace", "password", "take_ownership", "operators",
                            "resources"}) {
    for (const auto& w : wrong) {
      if ((std::string(field) == "take_ownership") && (w == "true")) continue;  // valid
      if ((std::string(field) == "operators" || std::string(field) == "resources") && w == "{}")
        continue;  // an empty map is a valid request for resources; checked separately
      if (std::string(field) != "username" && w == "null") continue;  // null = absent (documented)
      json body = {{"username", "alice"}};
      body[field] = json::parse(w);
      if (std::string(field) == "username") body["namespace"] = "alice-ns";
      add(std::string("wrong type ") + field + "=" + w, Post("/bootstrap/users", body.dump()), 422);
    }
  }
  for (const char* op : {"mongodb", "postgresql", "xtradb_cluster", "mysql"}) {
    for (const char* w : {"\"yes\"", "1", "[]", "{}", "\"TRUE \""}) {
      add(std::string("operator ") + op + "=" + w,
          Post("/bootstrap/users",
               std::string(R"({"username":"alice","operators":{")") + op + "\":" + w + "}}"),
          422);
    }
  }
  add("all operators false",
      Post("/bootstrap/users",
           R"({"username":"alice","operators":{"mongodb":false,"postgresql":false,"xtradb_cluster":false}})"),
      422);
  // Names: patterns, reserved names, injection attempts.
  for (const char* u : {"ad", "admin", "a-b", "alice;rm -rf /", "alice\\u0000", "$(id)", "`id`",
                        "../etc", "alice bob", "ALICE\\n", "\\u00e9l\\u00e8ve", "--help", "-u"}) {
    add(std::string("username ") + u,
        Post("/bootstrap/users", std::string(R"({"username":")") + u + R"(","namespace":"ok-ns"})"),
        422);
  }
  for (const char* ns : {"kube-system", "default", "everest-system", "Alice", "a_b", "-a", "a-",
                         "../x", "x/y", "ns\\u0000", "1abc",
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    add(std::string("namespace ") + ns,
        Post("/bootstrap/users", std::string(R"({"username":"alice","namespace":")") + ns + "\"}"), 422);
  }
  for (const char* pw : {"short", "pass word", "pässwörd1", "pass\\u0000word", "pw'; DROP--"}) {
    add(std::string("password ") + pw,
        Post("/bootstrap/users", std::string(R"({"username":"alice","password":")") + pw + "\"}"), 422);
  }
  // Invalid UTF-8 and NUL bytes inside strings.
  for (const std::string& bad : {std::string("al\xff\xfeice"), std::string("al\xc0\xafice"),
                                 std::string("al\xed\xa0\x80ice"), std::string("al\xf8\x88\x80\x80\x80"),
                                 std::string("al\x80ice"), std::string("ali\0ce", 6)}) {
    add("invalid UTF-8 or NUL in a string",
        Post("/bootstrap/users", "{\"username\":\"" + bad + "\"}"), 400);
    add("invalid UTF-8 or NUL in a key",
        Post("/bootstrap/users", "{\"" + bad + "\":\"alice\"}"), 400);
  }
  add("NUL byte after a valid document",
      Post("/bootstrap/users", std::string("{\"username\":\"alice\"}\0{\"x\":1}", 28)), 400);
  // A numeric string of 30,000 digits (std::regex once overflowed the stack on it).
  add("30,000-digit numeric string",
      Post("/bootstrap/users", R"({"username":"alice","resources":{"ram_mb":")" + std::string(30000, '1') + "\"}}"),
      422);
  add("lone surrogate escape", Post("/bootstrap/users", R"({"username":"\ud800"})"), 400);
  add("escaped NUL in username", Post("/bootstrap/users", R"({"username":"alice\u0000"})"), 422);
  // Edit-route specifics.
  add("password: missing new_password", Post("/accounts/password", R"({"username":"alice"})"), 422);
  add("password: admin", Post("/accounts/password", R"({"username":"admin","new_password":"secret123"})"), 422);
  add("resources: negative", Post("/namespaces/resources", R"({"namespace":"alice-ns","resources":{"cpu_cores":-1}})"), 422);
  add("resources: system namespace", Post("/namespaces/resources", R"({"namespace":"kube-system","resources":{"cpu_cores":1}})"), 422);
  add("operators: unknown operator", Post("/namespaces/operators", R"({"namespace":"alice-ns","operators":{"redis":true}})"), 422);
  add("suspend: bad flag", Post("/accounts/suspend", R"({"username":"alice","namespace":"alice-ns","revoke_rbac":"maybe"})"), 422);
  add("delete: admin", Post("/accounts/delete", R"({"username":"admin","namespace":"everest-system"})"), 422);
  add("delete: force as array", Post("/accounts/delete", R"({"username":"alice","namespace":"alice-ns","force":[]})"), 422);

  // Transport level: sizes, framing, smuggling, versions, methods.
  add("body over the limit", Post("/bootstrap/users", "{\"username\":\"" + std::string(2 << 20, 'a') + "\"}"), 413);
  add("announced body over the limit",
      "POST /bootstrap/users HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n{", 413);
  add("Content-Length overflow",
      "POST /bootstrap/users HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n{}", 400);
  add("negative Content-Length", "POST /bootstrap/users HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400);
  add("two different Content-Lengths",
      "POST /bootstrap/users HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 30\r\n\r\n{}", 400);
  add("Content-Length and chunked (smuggling)",
      "POST /bootstrap/users HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      400);
  add("chunk size overflow",
      "POST /bootstrap/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n", 400);
  add("chunked body over the limit",
      "POST /bootstrap/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n200000\r\n" +
          std::string(0x200000, 'a') + "\r\n0\r\n\r\n",
      413);
  add("header block over the limit",
      Request("GET", "/healthz", "", "X-Fill: " + std::string(20000, 'a') + "\r\n"), 431);
  {
    std::string many;
    for (int i = 0; i < 2000; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
    add("2000 headers", Request("GET", "/healthz", "", many), 431);
  }
  add("target over the header limit", Request("GET", "/jobs/" + std::string(20000, 'a'), ""), 431);
  add("NUL in a header value", Request("GET", "/jobs", "", std::string("X-Request-ID: a\0b\r\n", 19)), 400);
  add("bare LF injection in header",
      "GET /jobs HTTP/1.1\r\nHost: x\r\nX-Request-ID: a\nSet-Cookie: x=1\r\n\r\n", 400);
  add("header name with space", "GET /jobs HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400);
  add("HTTP/2 preface", std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 400);
  add("HTTP/0.9 request line", "GET /healthz\r\n\r\n", 400);
  add("HTTP/3.0 version", "GET /healthz HTTP/3.0\r\nHost: x\r\n\r\n", 400);
  add("garbage request line", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400);
  add("empty method", " /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400);
  add("lowercase method is another method", Request("get", "/healthz", ""), 405);
  for (const char* m : {"PUT", "DELETE", "PATCH", "TRACE", "OPTIONS", "CONNECT", "FOO"}) {
    add(std::string(m) + " /bootstrap/users", Request(m, "/bootstrap/users", ""), 405);
  }
  add("GET on a POST route", Request("GET", "/bootstrap/users", ""), 405);
  add("POST on a GET route", Post("/jobs", "{}"), 405);
  // Paths: traversal, encodings, odd targets.
  for (const char* t : {"/jobs/../../etc/passwd", "/jobs/..%2F..%2Fetc%2Fpasswd",
                        "/jobs/%2e%2e/%2e%2e/etc/passwd", "/jobs/00000000-0000-0000-0000-000000000000%00",
                        "/jobs/not-a-uuid/result", "/jobs/%00", "/jobs/'%20OR%201=1--",
                        "/jobs/00000000-0000-0000-0000-000000000000/../result", "/etc/passwd",
                        "/jobs//", "/%2e%2e/%2e%2e/", "/accounts/..%2F..%2Fetc", "/accounts/a%00b",
                        "/namespaces/..", "/namespaces/%2e%2e%2fkube-system", "/namespaces/Kube_System"}) {
    add(std::string("path ") + t, Request("GET", t, ""), 404);
  }
  add("absolute-form target", Request("GET", "http://evil.example/jobs/x", ""), 404);
  add("asterisk target", Request("OPTIONS", "*", ""), 404);
  // Query strings.
  for (const char* q : {"limit=-1", "limit=abc", "limit=100000", "limit=", "limit=1e3", "cursor=garbage",
                        "cursor=c1.zz", "status=bogus", "kind=rm", "source=ftp", "limit=1&limit=2",
                        "username=%00", "username=a%20b", "namespace=..%2Fx", "unknown=1"}) {
    add(std::string("GET /jobs?") + q, Request("GET", std::string("/jobs?") + q, ""), 422);
  }
  for (const char* q : {"status=%zz", "username=%", "a=%G0"}) {
    add(std::string("GET /jobs?") + q, Request("GET", std::string("/jobs?") + q, ""), 400);
  }
  // Authentication.
  add("no key", Request("GET", "/jobs", "", "", false), 401);
  add("wrong key", Request("GET", "/jobs", "", "X-Admin-Key: nope\r\n", false), 401);
  add("key with a trailing space",
      Request("GET", "/jobs", "", std::string("X-Admin-Key: ") + Daemon::kKey + "x\r\n", false), 401);
  add("key prefix", Request("GET", "/jobs", "", "X-Admin-Key: test-admin\r\n", false), 401);
  add("huge key", Request("GET", "/jobs", "", "X-Admin-Key: " + std::string(8000, 'k') + "\r\n", false), 401);
  add("key in the query", Request("GET", std::string("/jobs?key=") + Daemon::kKey, "", "", false), 401);
  add("Bearer instead of the key", Request("GET", "/jobs", "", "Authorization: Bearer x\r\n", false), 401);
  add("POST without a key", Request("POST", "/bootstrap/users", R"({"username":"alice"})", "", false), 401);
  // Request headers the daemon interprets.
  add("Idempotency-Key too long",
      Post("/bootstrap/users", R"({"username":"alice"})", "Idempotency-Key: " + std::string(300, 'k') + "\r\n"),
      400);
  add("Idempotency-Key with control characters",
      Post("/bootstrap/users", R"({"username":"alice"})", "Idempotency-Key: a\x01b\r\n"), 400);
  // The webhook route: missing headers, bad signature.
  add("webhook without headers", Request("POST", "/webhooks/tenant-requests", "{}", "", false), 400);
  add("webhook with a bad signature",
      Request("POST", "/webhooks/tenant-requests", "{}",
              "webhook-id: msg_1\r\nwebhook-timestamp: " +
                  std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count()) +
                  "\r\nwebhook-signature: v1,AAAA\r\n",
              false),
      401);
  return c;
}

}  // namespace

TEST_CASE("bad-input corpus over HTTP: documented 4xx problems, no job, still healthy",
          "[attack][http]") {
  TempDir dir;
  Daemon d(dir.path(), {{"WEBHOOK_SECRETS", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}});
  START(d);
  const std::vector<Attack> corpus = Corpus();
  int tried = 0, failures = 0;
  std::string report;
  for (const Attack& a : corpus) {
    const std::string raw = testing::RawExchange(d.port(), a.raw, 10000);
    const std::vector<Response> rs = ParseResponses(raw);
    ++tried;
    const bool ok = rs.size() == 1 && IsProblem(rs[0], a.status) &&
                    rs[0].headers.count("set-cookie") == 0;
    if (!ok) {
      ++failures;
      report += "attack '" + a.name + "': expected " + std::to_string(a.status) + ", got " +
                (rs.empty() ? std::string("no response") : std::to_string(rs[0].status)) + " " +
                (rs.empty() ? raw.substr(0, 200) : rs[0].body.substr(0, 300)) + "\n";
    }
    // The daemon is still alive and serving after every single input.
    if (tried % 25 == 0) REQUIRE(testing::Http(d.port(), "GET", "/healthz").status == 200);
  }
  INFO(report);
  CHECK(failures == 0);
  REQUIRE(d.Running());
  CHECK(testing::Http(d.port(), "GET", "/healthz").status == 200);
  // Nothing was queued by any of them.
  const json list = d.Get("/jobs?limit=500").Json();
  CHECK(list["items"].empty());
  WARN("attack corpus: " << tried << " inputs tried, " << failures << " unexpected answers");
}

TEST_CASE("pipelining, HTTP/1.0 and request ids survive hostile framing", "[attack][http]") {
  TempDir dir;
  Daemon d(dir.path());
  START(d);
  // Three requests in one write, one of them bad: three answers, in order.
  std::string three = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  three += std::string("POST /bootstrap/users HTTP/1.1\r\nHost: x\r\nX-Admin-Key: ") + Daemon::kKey +
           "\r\nContent-Length: 1\r\n\r\n{";
  three += std::string("GET /jobs/nope HTTP/1.1\r\nHost: x\r\nX-Admin-Key: ") + Daemon::kKey +
           "\r\nConnection: close\r\n\r\n";
  std::vector<Response> rs = ParseResponses(testing::RawExchange(d.port(), three));
  REQUIRE(rs.size() == 3);
  CHECK(rs[0].status == 200);
  CHECK(IsProblem(rs[1], 400));
  CHECK(IsProblem(rs[2], 404));
  // 100 pipelined GETs in one write.
  std::string many;
  for (int i = 0; i < 99; ++i) many += "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  many += "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  rs = ParseResponses(testing::RawExchange(d.port(), many));
  CHECK(rs.size() == 100);
  for (const auto& r : rs) CHECK(r.status == 200);
  // HTTP/1.0: answered in 1.0 and closed; a bad body is still a problem.
  rs = ParseResponses(testing::RawExchange(
      d.port(), std::string("POST /bootstrap/users HTTP/1.0\r\nX-Admin-Key: ") + Daemon::kKey +
                    "\r\nContent-Length: 2\r\n\r\n[]"));
  REQUIRE(rs.size() == 1);
  CHECK(IsProblem(rs[0], 422));
  // A hostile X-Request-ID is not echoed; a fresh id is issued instead.
  rs = ParseResponses(testing::RawExchange(
      d.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-ID: <script>alert(1)</script>\r\n"
                "Connection: close\r\n\r\n"));
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].status == 200);
  CHECK(rs[0].Header("x-request-id").find('<') == std::string::npos);
  CHECK(rs[0].Header("x-request-id").size() == 36);
  // An obs-fold continuation is folded into the value, never a new header.
  rs = ParseResponses(testing::RawExchange(
      d.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-ID: a\r\n Set-Cookie: x=1\r\n"
                "Connection: close\r\n\r\n"));
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].headers.count("set-cookie") == 0);
  CHECK(rs[0].Header("x-request-id").find("Set-Cookie") == std::string::npos);
  CHECK(testing::Http(d.port(), "GET", "/healthz").status == 200);
}

namespace {

int ConnectNonBlocking(std::uint16_t port) {
  const int fd = testing::ConnectLoopback(port);
  if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// True once the peer has closed the connection (read returns 0 or an error).
bool PeerClosed(int fd) {
  char buf[256];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
  }
}

}  // namespace

TEST_CASE("500 idle and slow-loris connections: normal requests still served, timeouts close them",
          "[attack][http][slow]") {
  TempDir dir;
  const int timeout_s = 3;
  Daemon d(dir.path(), {{"HTTP_READ_TIMEOUT_SECONDS", std::to_string(timeout_s)},
                        {"HTTP_IDLE_TIMEOUT_SECONDS", std::to_string(timeout_s)}});
  START(d);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<int> idle, loris;
  for (int i = 0; i < 250; ++i) {
    const int a = ConnectNonBlocking(d.port());
    const int b = ConnectNonBlocking(d.port());
    REQUIRE(a >= 0);
    REQUIRE(b >= 0);
    idle.push_back(a);
    loris.push_back(b);
    // A slow-loris client: a request line, then a header byte now and then.
    const std::string start = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    REQUIRE(::send(b, start.data(), start.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(start.size()));
  }
  // Keep dripping bytes into the slow-loris connections until each is cut.
  std::atomic<bool> stop{false};
  std::thread drip([&] {
    while (!stop) {
      for (int fd : loris) (void)::send(fd, "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  // Meanwhile normal clients are served, on new connections and kept-alive ones.
  int served = 0;
  double worst_ms = 0;
  testing::Conn keep(d.port());
  for (int i = 0; i < 200; ++i) {
    const auto s = std::chrono::steady_clock::now();
    const int st = (i % 2 == 0) ? testing::Http(d.port(), "GET", "/healthz").status
                                : keep.Get("/healthz").status;
    worst_ms = std::max(worst_ms, std::chrono::duration<double, std::milli>(
                                      std::chrono::steady_clock::now() - s).count());
    if (st == 200) ++served;
  }
  CHECK(served == 200);
  const json job = d.Post("/bootstrap/users", R"({"username":"loris_victim"})").Json();
  CHECK(job.contains("job_id"));
  // Every one of the 500 is closed by the server within the timeouts (plus slack).
  std::vector<int> all = idle;
  all.insert(all.end(), loris.begin(), loris.end());
  std::vector<bool> closed(all.size(), false);
  std::size_t n_closed = 0;
  const auto deadline = t0 + std::chrono::seconds(timeout_s + 12);
  while (n_closed < all.size() && std::chrono::steady_clock::now() < deadline) {
    std::vector<pollfd> pfds;
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (!closed[i]) {
        pfds.push_back({all[i], POLLIN | POLLRDHUP, 0});
        idx.push_back(i);
      }
    }
    if (::poll(pfds.data(), pfds.size(), 500) <= 0) continue;
    for (std::size_t k = 0; k < pfds.size(); ++k) {
      if (pfds[k].revents != 0 && PeerClosed(pfds[k].fd)) {
        closed[idx[k]] = true;
        ++n_closed;
      }
    }
  }
  stop = true;
  drip.join();
  const double elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(n_closed == all.size());
  // None was cut before its timeout could have run.
  CHECK(elapsed_s >= timeout_s);
  for (int fd : all) ::close(fd);
  CHECK(testing::Http(d.port(), "GET", "/healthz").status == 200);
  WARN("slow clients: 250 idle + 250 slow-loris held; 200 normal requests served, worst "
       << worst_ms << " ms; all 500 closed by the server after " << elapsed_s << " s");
}

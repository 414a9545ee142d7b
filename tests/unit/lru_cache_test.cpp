// Known-answer tests for daemon/util/lru_cache.h.
#include "daemon/util/lru_cache.h"

#include <catch2/catch.hpp>

#include <string>

namespace bootstrapd {
namespace {

TEST_CASE("LruCache keeps the most recent entries within its capacity", "[unit][lru]") {
  LruCache<std::string> c(2);
  CHECK(c.Get("a") == nullptr);
  c.Put("a", "1");
  c.Put("b", "2");
  REQUIRE(c.Get("a") != nullptr);  // a is now the most recent
  c.Put("c", "3");                 // evicts b
  CHECK(c.Get("b") == nullptr);
  CHECK(*c.Get("a") == "1");
  CHECK(*c.Get("c") == "3");
  CHECK(c.size() == 2);
  c.Put("a", "1b");  // replace, no growth
  CHECK(*c.Get("a") == "1b");
  CHECK(c.size() == 2);
  c.Clear();
  CHECK(c.size() == 0);
  CHECK(c.Get("a") == nullptr);
  LruCache<std::string> none(0);
  none.Put("x", "y");
  CHECK(none.Get("x") == nullptr);
}

}  // namespace
}  // namespace bootstrapd

// Identifiers and keyed hashes: known answers (RFC 4231 for HMAC-SHA256) and
// the properties the job store relies on (unique ids across pool refills).
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "daemon/util/ids.h"

using namespace bootstrapd;

TEST_CASE("HmacSha256 matches RFC 4231", "[unit][ids]") {
  // Test case 2: a short key.
  HmacSha256 jefe("Jefe");
  CHECK(jefe.Hex("what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // The precomputed pad states are reused: the same answer again, and another
  // message does not disturb it.
  CHECK(jefe.Hex("") != jefe.Hex("what do ya want for nothing?"));
  CHECK(jefe.Hex("what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 1: 20 bytes of 0x0b.
  HmacSha256 k1(std::string(20, '\x0b'));
  CHECK(k1.Hex("Hi There") == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 6: a key longer than the block (131 bytes of 0xaa) is hashed first.
  HmacSha256 k6(std::string(131, '\xaa'));
  CHECK(k6.Hex("Test Using Larger Than Block-Size Key - Hash Key First") ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("HexLower encodes every byte as two lowercase digits", "[unit][ids]") {
  CHECK(HexLower("") == "");
  CHECK(HexLower(std::string("\x00\x0f\xa5\xff", 4)) == "000fa5ff");
  CHECK(HexLower("42") == "3432");
}

TEST_CASE("random ids stay unique across refills of the random pool", "[unit][ids]") {
  // 4 KB pool: 16-byte UUIDs and 64-byte password draws cross many refills.
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) {
    CHECK(seen.insert(NewUuidV4()).second);
    const std::string pw = RandomString(24, "abcdefghijklmnopqrstuvwxyz0123456789");
    CHECK(pw.size() == 24);
    CHECK(seen.insert(pw).second);
  }
  const std::string id = NewUuidV4();
  CHECK(IsUuid(id));
  CHECK(id[14] == '4');
}

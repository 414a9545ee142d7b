#include "daemon/util/ids.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace bootstrapd {
namespace {

// Random bytes are drawn from the CSPRNG 4 KB at a time into a per-thread pool
// (each RAND_bytes call takes a lock and a getpid() for its fork check, which
// cost more than the bytes at the rates of the Kafka intake). Served bytes are
// wiped from the pool. The process never forks without exec (children are
// posix_spawn'ed), so no two processes can share a pool.
void RandomBytes(unsigned char* out, std::size_t n) {
  struct Pool {
    unsigned char bytes[4096];
    std::size_t used = sizeof bytes;
    ~Pool() { OPENSSL_cleanse(bytes, sizeof bytes); }
  };
  thread_local Pool pool;
  while (n > 0) {
    if (pool.used == sizeof pool.bytes) {
      if (RAND_bytes(pool.bytes, static_cast<int>(sizeof pool.bytes)) != 1) {
        throw std::runtime_error("RAND_bytes failed");  // no entropy: cannot continue
      }
      pool.used = 0;
    }
    const std::size_t take = std::min(n, sizeof pool.bytes - pool.used);
    std::memcpy(out, pool.bytes + pool.used, take);
    OPENSSL_cleanse(pool.bytes + pool.used, take);
    pool.used += take;
    out += take;
    n -= take;
  }
}

std::string FormatUuid(const unsigned char* b) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 0xF]);
  }
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string NewUuidV4() {
  std::array<unsigned char, 16> b{};
  RandomBytes(b.data(), b.size());
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  return FormatUuid(b.data());
}

std::string NewRequestId() {
  struct Xoshiro {
    std::uint64_t s[4];
    Xoshiro() {
      do RandomBytes(reinterpret_cast<unsigned char*>(s), sizeof s);
      while ((s[0] | s[1] | s[2] | s[3]) == 0);  // the one state it cannot leave
    }
    static std::uint64_t Rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t Next() {
      const std::uint64_t result = Rotl(s[1] * 5, 7) * 9;
      const std::uint64_t t = s[1] << 17;
      s[2] ^= s[0];
      s[3] ^= s[1];
      s[1] ^= s[2];
      s[0] ^= s[3];
      s[2] ^= t;
      s[3] = Rotl(s[3], 45);
      return result;
    }
  };
  thread_local Xoshiro rng;
  std::array<unsigned char, 16> b{};
  for (int half = 0; half < 2; ++half) {
    std::uint64_t v = rng.Next();
    for (int i = 0; i < 8; ++i, v >>= 8) b[half * 8 + i] = static_cast<unsigned char>(v);
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  return FormatUuid(b.data());
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (HexValue(s[i]) < 0) {
      return false;
    }
  }
  return true;
}

std::string UuidV5(std::string_view ns_uuid, std::string_view name) {
  std::array<unsigned char, 16> ns{};
  std::size_t j = 0;
  for (std::size_t i = 0; i < ns_uuid.size() && j < 16; ++i) {
    if (ns_uuid[i] == '-') continue;
    if (i + 1 >= ns_uuid.size()) break;
    ns[j++] = static_cast<unsigned char>(HexValue(ns_uuid[i]) * 16 + HexValue(ns_uuid[i + 1]));
    ++i;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr);
  EVP_DigestUpdate(ctx, ns.data(), ns.size());
  EVP_DigestUpdate(ctx, name.data(), name.size());
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0F) | 0x50);
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3F) | 0x80);
  return FormatUuid(digest);
}

std::string RandomString(std::size_t length, std::string_view alphabet) {
  std::string out;
  out.reserve(length);
  const unsigned limit = 256 - (256 % alphabet.size());
  unsigned char buf[64];
  while (out.size() < length) {
    RandomBytes(buf, sizeof buf);
    for (unsigned char c : buf) {
      if (c >= limit) continue;
      out.push_back(alphabet[c % alphabet.size()]);
      if (out.size() == length) break;
    }
  }
  return out;
}

HmacSha256::HmacSha256(std::string_view key) {
  constexpr std::size_t kBlock = 64;  // SHA-256 block size
  unsigned char k[kBlock] = {};
  if (key.size() > kBlock) {
    unsigned int len = 0;
    EVP_Digest(key.data(), key.size(), k, &len, EVP_sha256(), nullptr);
  } else {
    std::memcpy(k, key.data(), key.size());
  }
  unsigned char ipad[kBlock], opad[kBlock];
  for (std::size_t i = 0; i < kBlock; ++i) {
    ipad[i] = static_cast<unsigned char>(k[i] ^ 0x36);
    opad[i] = static_cast<unsigned char>(k[i] ^ 0x5c);
  }
  EVP_MD_CTX* in = EVP_MD_CTX_new();
  EVP_MD_CTX* out = EVP_MD_CTX_new();
  if (in == nullptr || out == nullptr || EVP_DigestInit_ex(in, EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(in, ipad, kBlock) != 1 ||
      EVP_DigestInit_ex(out, EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(out, opad, kBlock) != 1) {
    EVP_MD_CTX_free(in);
    EVP_MD_CTX_free(out);
    throw std::runtime_error("SHA-256 unavailable");
  }
  OPENSSL_cleanse(k, kBlock);
  OPENSSL_cleanse(ipad, kBlock);
  OPENSSL_cleanse(opad, kBlock);
  inner_ = in;
  outer_ = out;
}

HmacSha256::~HmacSha256() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(inner_));
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(outer_));
}

std::string HmacSha256::Hex(std::string_view message) const {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr && EVP_MD_CTX_copy_ex(ctx, static_cast<EVP_MD_CTX*>(inner_)) == 1 &&
            EVP_DigestUpdate(ctx, message.data(), message.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, digest, &len) == 1 &&
            EVP_MD_CTX_copy_ex(ctx, static_cast<EVP_MD_CTX*>(outer_)) == 1 &&
            EVP_DigestUpdate(ctx, digest, len) == 1 && EVP_DigestFinal_ex(ctx, digest, &len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("HMAC-SHA256 failed");
  return HexLower(std::string_view(reinterpret_cast<const char*>(digest), len));
}

std::string HexLower(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * bytes.size());
  for (unsigned char c : bytes) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 0xF]);
  }
  return hex;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace bootstrapd

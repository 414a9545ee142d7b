// Identifiers and random secrets from OpenSSL's CSPRNG. Any thread.
#pragma once

#include <string>
#include <string_view>

namespace bootstrapd {

// Random (version 4) UUID, lowercase canonical form.
std::string NewUuidV4();

// A version 4 UUID from a per-thread PRNG (xoshiro256**, seeded from the
// CSPRNG): for request ids, which are correlation tags, not secrets, and are
// made for every request. Never use it for anything that must be unguessable.
std::string NewRequestId();

// Name-based (version 5, SHA-1) UUID of `name` in namespace `ns_uuid`.
std::string UuidV5(std::string_view ns_uuid, std::string_view name);

// True for the canonical 8-4-4-4-12 lowercase/uppercase hex form.
bool IsUuid(std::string_view s);

// `length` characters drawn uniformly from `alphabet` (rejection sampling).
std::string RandomString(std::size_t length, std::string_view alphabet);

// Lowercase hex of `bytes` (two digits per byte).
std::string HexLower(std::string_view bytes);

// HMAC-SHA256 under one key, for many messages: the key's inner and outer
// pad states are hashed once, so a message costs two short digests (OpenSSL's
// one-shot HMAC() fetches the algorithm and re-hashes the key every call).
class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;
  // The MAC of `message` as 64 lowercase hex digits.
  std::string Hex(std::string_view message) const;

 private:
  void* inner_;  // EVP_MD_CTX after (key ^ ipad)
  void* outer_;  // EVP_MD_CTX after (key ^ opad)
};

// Constant-time equality of two byte strings (length leaks only).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace bootstrapd

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

// Constant-time equality of two byte strings (length leaks only).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace bootstrapd

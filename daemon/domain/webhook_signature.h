// Standard Webhooks 1.0 (https://www.standardwebhooks.com/), symmetric scheme:
// secrets `whsec_<base64>`, signature `v1,<base64 HMAC-SHA256 over
// "{webhook-id}.{webhook-timestamp}.{raw body}">`, several space-separated
// signatures per header (key rotation). Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bootstrapd {

// The decoded signing keys, in configuration order.
struct WebhookSecrets {
  std::vector<std::string> keys;  // raw key bytes (secret), each at least 1 byte
};

// Parses a comma- and/or newline-separated list of `whsec_<base64>` entries
// (WEBHOOK_SECRETS or a credentials file). The `whsec_` prefix is optional, as
// in the reference libraries; the rest must be standard padded base64
// (RFC 4648 §4) decoding to at least 1 byte. Blanks around entries (and a
// "\r" before a newline) are ignored; empty entries are skipped, so a blank
// list, or one holding only separators and blanks (a file containing "\n"),
// yields zero keys and no error. On failure returns false, leaves *keys empty
// and sets *error to a message naming the entry by its 1-based position
// (never quoting the secret).
bool ParseWebhookSecrets(std::string_view list, std::vector<std::string>* keys, std::string* error);
bool ParseWebhookSecrets(std::string_view list, WebhookSecrets* out, std::string* error);

// "v1,<base64 HMAC-SHA256(key_bytes, "{id}.{timestamp}.{body}")>", the
// timestamp in plain decimal. Byte-identical to the reference libraries.
std::string SignWebhook(const std::string& key_bytes, std::string_view id, std::int64_t timestamp,
                        std::string_view body);

enum class WebhookVerdict {
  kOk,
  kMissingHeaders,  // webhook-id, webhook-timestamp or webhook-signature absent or blank
  kBadTimestamp,    // webhook-timestamp is not a plain decimal integer (digits only)
  kStale,           // older than now - tolerance
  kFuture,          // newer than now + tolerance
  kBadSignature,    // no v1 signature matches any key
  kNoSecrets,       // no key configured: nothing can verify
};

inline constexpr std::int64_t kWebhookToleranceSeconds = 300;

// Checks a request, in this order, returning the first failure:
//   1. `keys` empty -> kNoSecrets (a configuration state, independent of the request);
//   2. an empty/blank id, timestamp or signature header -> kMissingHeaders;
//   3. timestamp not 1-19 ASCII digits fitting an int64 -> kBadTimestamp;
//   4. now - ts > tolerance -> kStale; ts - now > tolerance -> kFuture (a
//      difference of exactly `tolerance_s` passes); no HMAC is computed
//      before this point;
//   5. every space-separated `v1,<base64>` entry of the signature header is
//      compared in constant time (encoded form) against the HMAC under every
//      key, over "{id}.{timestamp header as received}.{body}"; entries of
//      other versions (`v1a,...`, `v2,...`) and malformed entries are ignored.
//      kOk if any matches, else kBadSignature.
// A negative tolerance_s counts as 0.
WebhookVerdict VerifyWebhook(const std::vector<std::string>& keys, std::string_view id,
                             std::string_view timestamp_header, std::string_view signature_header,
                             std::string_view body, std::int64_t now_unix,
                             std::int64_t tolerance_s = kWebhookToleranceSeconds);

// Metric-label-safe name: ok, missing_headers, bad_timestamp, stale, future,
// bad_signature, no_secrets.
const char* VerdictName(WebhookVerdict v);

}  // namespace bootstrapd

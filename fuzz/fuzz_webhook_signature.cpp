// libFuzzer harness: Standard Webhooks verification and secret parsing
// (daemon/domain/webhook_signature.h).
//
// Input: byte 0 selects the mode; bytes 1-2 pick a clock offset; the rest is
// split at the first three newlines into webhook-id, webhook-timestamp,
// webhook-signature and the raw body (missing pieces are empty).
//   byte0 % 3: 0 VerifyWebhook on the fuzzed headers, checked against an
//                independent model of the documented rules (HMAC computed
//                here with OpenSSL's one-shot API),
//              1 a correctly signed request (SignWebhook) inside the
//                tolerance window, with fuzzed extra entries in the signature
//                header: must verify; the same with the body altered: must not,
//              2 ParseWebhookSecrets on the whole text (+ a re-encoding round
//                trip of the keys it returns)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "daemon/domain/webhook_signature.h"
#include "fuzz/fuzz_common.h"

namespace {

using bootstrapd::WebhookVerdict;

constexpr std::int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

const std::vector<std::string>& Keys() {
  // Two keys (rotation): raw bytes, one of them with a NUL and high bytes.
  static const std::vector<std::string> keys = {
      std::string("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
      std::string("\x00\xff\x10secret-two\x80", 15)};
  return keys;
}

std::string Base64(const unsigned char* p, std::size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), p, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

std::string ReferenceSignature(const std::string& key, std::string_view id, std::string_view ts,
                               std::string_view body) {
  const std::string content = std::string(id) + "." + std::string(ts) + "." + std::string(body);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  FUZZ_CHECK(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                  reinterpret_cast<const unsigned char*>(content.data()), content.size(), md,
                  &md_len) != nullptr);
  return Base64(md, md_len);
}

bool Blank(std::string_view s) { return s.find_first_not_of(" \t\r\v\f") == std::string_view::npos; }

// The documented order of checks, written out independently.
WebhookVerdict Model(const std::vector<std::string>& keys, std::string_view id, std::string_view ts,
                     std::string_view sig, std::string_view body, std::int64_t now,
                     std::int64_t tolerance) {
  if (keys.empty()) return WebhookVerdict::kNoSecrets;
  if (Blank(id) || Blank(ts) || Blank(sig)) return WebhookVerdict::kMissingHeaders;
  if (ts.empty() || ts.size() > 19) return WebhookVerdict::kBadTimestamp;
  __int128 t = 0;
  for (char c : ts) {
    if (c < '0' || c > '9') return WebhookVerdict::kBadTimestamp;
    t = t * 10 + (c - '0');
  }
  if (t > INT64_MAX) return WebhookVerdict::kBadTimestamp;
  const __int128 tol = tolerance > 0 ? tolerance : 0;
  if (static_cast<__int128>(now) - t > tol) return WebhookVerdict::kStale;
  if (t - static_cast<__int128>(now) > tol) return WebhookVerdict::kFuture;
  std::vector<std::string> want;
  for (const auto& k : keys) want.push_back("v1," + ReferenceSignature(k, id, ts, body));
  for (std::string_view entry : fuzz::SplitN(sig, ' ', sig.size())) {
    for (const auto& w : want) {
      if (entry == w) return WebhookVerdict::kOk;
    }
  }
  return WebhookVerdict::kBadSignature;
}

void FuzzVerify(std::string_view id, std::string_view ts, std::string_view sig,
                std::string_view body, std::int64_t now, std::int64_t tolerance, bool no_keys) {
  static const std::vector<std::string> kNoKeys;
  const auto& keys = no_keys ? kNoKeys : Keys();
  const WebhookVerdict got = bootstrapd::VerifyWebhook(keys, id, ts, sig, body, now, tolerance);
  const WebhookVerdict want = Model(keys, id, ts, sig, body, now, tolerance);
  if (got != want) {
    std::fprintf(stderr, "VerifyWebhook gave %s, the model %s\n", bootstrapd::VerdictName(got),
                 bootstrapd::VerdictName(want));
  }
  FUZZ_CHECK(got == want);
  FUZZ_CHECK(std::string_view(bootstrapd::VerdictName(got)) != "unknown");
}

void FuzzSigned(std::string_view id, std::string_view extra, std::string_view body,
                std::int64_t offset, std::size_t key_index) {
  if (Blank(id)) return;
  const auto& keys = Keys();
  const std::string& key = keys[key_index % keys.size()];
  const std::int64_t ts = kNow + offset;
  const std::string ts_header = std::to_string(ts);
  const std::string sig = bootstrapd::SignWebhook(key, id, ts, body);
  FUZZ_CHECK(sig.size() == 3 + 44 && sig.rfind("v1,", 0) == 0);
  // Rotation and unknown schemes: other entries around ours change nothing.
  const std::string header = std::string(extra) + " " + sig + " " + std::string(extra);
  FUZZ_CHECK(bootstrapd::VerifyWebhook(keys, id, ts_header, header, body, kNow) ==
             WebhookVerdict::kOk);
  FUZZ_CHECK(bootstrapd::VerifyWebhook(keys, id, ts_header, sig, body, kNow) == WebhookVerdict::kOk);
  // One changed byte of the body, or another id, breaks it.
  std::string tampered(body);
  tampered.push_back('x');
  FUZZ_CHECK(bootstrapd::VerifyWebhook(keys, id, ts_header, sig, tampered, kNow) ==
             WebhookVerdict::kBadSignature);
  FUZZ_CHECK(bootstrapd::VerifyWebhook(keys, std::string(id) + "x", ts_header, sig, body, kNow) ==
             WebhookVerdict::kBadSignature);
  // Only with the signing key itself.
  const std::vector<std::string> other = {key + "x"};
  FUZZ_CHECK(bootstrapd::VerifyWebhook(other, id, ts_header, sig, body, kNow) ==
             WebhookVerdict::kBadSignature);
}

void FuzzSecrets(std::string_view list) {
  std::vector<std::string> keys = {"stale"};
  std::string error;
  const bool ok = bootstrapd::ParseWebhookSecrets(list, &keys, &error);
  if (!ok) {
    FUZZ_CHECK(keys.empty());
    FUZZ_CHECK(error.rfind("webhook secret #", 0) == 0);
    return;
  }
  for (const auto& k : keys) FUZZ_CHECK(!k.empty());
  // The keys re-encoded (canonical base64, mixed separators and prefixes)
  // parse back to the same keys.
  std::string again;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i) again += i % 2 ? ",\r\n " : "\n";
    again += (i % 3 ? "" : "whsec_") +
             Base64(reinterpret_cast<const unsigned char*>(keys[i].data()), keys[i].size());
  }
  bootstrapd::WebhookSecrets parsed;
  std::string again_error;
  FUZZ_CHECK(bootstrapd::ParseWebhookSecrets(again, &parsed, &again_error));
  FUZZ_CHECK(parsed.keys == keys);
  // Every key verifies what it signs.
  for (const auto& k : keys) {
    const std::string sig = bootstrapd::SignWebhook(k, "msg_1", kNow, list);
    FUZZ_CHECK(bootstrapd::VerifyWebhook(keys, "msg_1", std::to_string(kNow), sig, list, kNow) ==
               WebhookVerdict::kOk);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const std::uint8_t selector = data[0];
  const std::uint16_t knob = static_cast<std::uint16_t>(data[1] | (data[2] << 8));
  const std::string_view rest(reinterpret_cast<const char*>(data + 3), size - 3);
  const auto parts = fuzz::SplitN(rest, '\n', 3);
  auto part = [&](std::size_t i) { return i < parts.size() ? parts[i] : std::string_view(); };

  switch (selector % 3) {
    case 0: {
      // Clock: near the timestamp's range, or an extreme value; tolerance
      // from the knob, sometimes negative.
      std::int64_t now = kNow + static_cast<std::int16_t>(knob);
      if ((selector >> 2) % 8 == 1) now = INT64_MAX - (knob & 0xff);
      if ((selector >> 2) % 8 == 2) now = INT64_MIN + (knob & 0xff);
      if ((selector >> 2) % 8 == 3) now = 0;
      std::int64_t tolerance = bootstrapd::kWebhookToleranceSeconds;
      if ((selector >> 5) % 4 == 1) tolerance = static_cast<std::int16_t>(knob) % 1000;
      if ((selector >> 5) % 4 == 2) tolerance = INT64_MAX;
      FuzzVerify(part(0), part(1), part(2), part(3), now, tolerance, (selector >> 7) & 1);
      break;
    }
    case 1: {
      // An offset inside the default window [-300, 300].
      const std::int64_t offset = static_cast<std::int64_t>(knob % 601) - 300;
      FuzzSigned(part(0), part(1), part(3), offset, selector >> 2);
      break;
    }
    default:
      FuzzSecrets(rest);
      break;
  }
  return 0;
}

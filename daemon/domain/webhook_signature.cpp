// Standard Webhooks 1.0 signing and verification (HMAC-SHA256, OpenSSL 3).
#include "daemon/domain/webhook_signature.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "daemon/domain/text.h"
#include "daemon/util/ids.h"

namespace bootstrapd {
namespace {

constexpr std::string_view kSecretPrefix = "whsec_";
constexpr std::string_view kSignatureVersion = "v1";

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// Strict standard base64 with padding: length a multiple of 4, alphabet
// A-Z a-z 0-9 + /, at most two '=' and only at the end.
bool DecodeBase64(std::string_view in, std::string* out) {
  if (in.empty() || in.size() % 4 != 0) return false;
  std::size_t padding = 0;
  if (in.back() == '=') ++padding;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++padding;
  if (padding == 1 && in.back() != '=') return false;  // "x=y" style
  for (std::size_t i = 0; i < in.size() - padding; ++i) {
    if (!IsBase64Char(in[i])) return false;
  }
  std::string buf(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(buf.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0 || static_cast<std::size_t>(n) != buf.size()) return false;
  buf.resize(buf.size() - padding);  // EVP_DecodeBlock counts padding as zero bytes
  *out = std::move(buf);
  return true;
}

std::string EncodeBase64(const unsigned char* data, std::size_t len) {
  std::string out(4 * ((len + 2) / 3) + 1, '\0');  // + NUL written by OpenSSL
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(len));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// Base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}"), without the "v1,".
std::string Mac(const std::string& key, std::string_view id, std::string_view timestamp,
                std::string_view body) {
  std::string content;
  content.reserve(id.size() + timestamp.size() + body.size() + 2);
  content.append(id).append(".").append(timestamp).append(".").append(body);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(content.data()), content.size(), md,
           &md_len) == nullptr) {
    return {};  // never matches: ConstantTimeEquals against a 44-byte signature fails
  }
  return EncodeBase64(md, md_len);
}

// Digits only (no sign, no blanks), fitting an int64.
bool ParseUnixSeconds(std::string_view s, std::int64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

bool ParseWebhookSecrets(std::string_view list, std::vector<std::string>* keys,
                         std::string* error) {
  keys->clear();
  std::vector<std::string> parsed;
  std::size_t position = 0;  // 1-based index among non-empty entries
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find_first_of(",\n", start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view entry = TrimBlanks(list.substr(start, end - start));
    start = end + 1;
    if (entry.empty()) continue;
    ++position;
    const std::string where = "webhook secret #" + std::to_string(position);
    if (entry.starts_with("whsk_") || entry.starts_with("whpk_")) {
      *error = where + ": asymmetric (whsk_/whpk_) keys are not supported, expected whsec_<base64>";
      return false;
    }
    if (entry.starts_with(kSecretPrefix)) entry.remove_prefix(kSecretPrefix.size());
    if (entry.empty()) {
      *error = where + ": empty key after whsec_";
      return false;
    }
    std::string key;  // at least 1 byte: DecodeBase64 needs 4+ characters
    if (!DecodeBase64(entry, &key)) {
      *error = where + ": not valid base64, expected whsec_<base64>";
      return false;
    }
    parsed.push_back(std::move(key));
  }
  *keys = std::move(parsed);
  return true;
}

bool ParseWebhookSecrets(std::string_view list, WebhookSecrets* out, std::string* error) {
  return ParseWebhookSecrets(list, &out->keys, error);
}

std::string SignWebhook(const std::string& key_bytes, std::string_view id, std::int64_t timestamp,
                        std::string_view body) {
  return std::string(kSignatureVersion) + "," + Mac(key_bytes, id, std::to_string(timestamp), body);
}

WebhookVerdict VerifyWebhook(const std::vector<std::string>& keys, std::string_view id,
                             std::string_view timestamp_header, std::string_view signature_header,
                             std::string_view body, std::int64_t now_unix,
                             std::int64_t tolerance_s) {
  if (keys.empty()) return WebhookVerdict::kNoSecrets;
  if (IsBlank(id) || IsBlank(timestamp_header) || IsBlank(signature_header)) {
    return WebhookVerdict::kMissingHeaders;
  }
  std::int64_t ts = 0;
  if (!ParseUnixSeconds(timestamp_header, &ts)) return WebhookVerdict::kBadTimestamp;

  // Unsigned arithmetic: the true difference of two int64 always fits a uint64.
  const std::uint64_t tolerance = tolerance_s > 0 ? static_cast<std::uint64_t>(tolerance_s) : 0;
  if (now_unix > ts &&
      static_cast<std::uint64_t>(now_unix) - static_cast<std::uint64_t>(ts) > tolerance) {
    return WebhookVerdict::kStale;
  }
  if (ts > now_unix &&
      static_cast<std::uint64_t>(ts) - static_cast<std::uint64_t>(now_unix) > tolerance) {
    return WebhookVerdict::kFuture;
  }

  std::vector<std::string> expected;
  expected.reserve(keys.size());
  for (const std::string& key : keys) expected.push_back(Mac(key, id, timestamp_header, body));

  bool matched = false;
  std::size_t start = 0;
  while (start < signature_header.size()) {
    std::size_t end = signature_header.find(' ', start);
    if (end == std::string_view::npos) end = signature_header.size();
    const std::string_view entry = signature_header.substr(start, end - start);
    start = end + 1;
    const std::size_t comma = entry.find(',');
    if (comma == std::string_view::npos || entry.substr(0, comma) != kSignatureVersion) continue;
    const std::string_view signature = entry.substr(comma + 1);
    if (signature.empty()) continue;
    for (const std::string& want : expected) {
      // No early exit: every candidate is compared, in constant time each.
      if (ConstantTimeEquals(want, signature)) matched = true;
    }
  }
  return matched ? WebhookVerdict::kOk : WebhookVerdict::kBadSignature;
}

const char* VerdictName(WebhookVerdict v) {
  switch (v) {
    case WebhookVerdict::kOk:
      return "ok";
    case WebhookVerdict::kMissingHeaders:
      return "missing_headers";
    case WebhookVerdict::kBadTimestamp:
      return "bad_timestamp";
    case WebhookVerdict::kStale:
      return "stale";
    case WebhookVerdict::kFuture:
      return "future";
    case WebhookVerdict::kBadSignature:
      return "bad_signature";
    case WebhookVerdict::kNoSecrets:
      return "no_secrets";
  }
  return "unknown";
}

}  // namespace bootstrapd

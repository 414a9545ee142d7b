// Known-answer tests for daemon/domain/webhook_signature.h.
#include "daemon/domain/webhook_signature.h"

#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace bootstrapd {
namespace {

// The published Standard Webhooks test vector, as in the reference libraries'
// tests (standard-webhooks/standard-webhooks: libraries/python/tests/
// test_webhooks.py test_sign_function, libraries/javascript/src/webhook.test.ts
// "sign function works").
const std::string kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const std::string kMsgId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::int64_t kTimestamp = 1614265330;
const std::string kTimestampHeader = "1614265330";
const std::string kPayload = R"({"test": 2432232314})";
const std::string kSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

// A different, valid 24-byte key (not the vector's).
const std::string kOtherSecret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX";

std::vector<std::string> Keys(const std::string& list) {
  std::vector<std::string> keys;
  std::string error;
  REQUIRE(ParseWebhookSecrets(list, &keys, &error));
  REQUIRE(error.empty());
  return keys;
}

WebhookVerdict VerifyVector(const std::vector<std::string>& keys, const std::string& signature,
                            std::int64_t now = kTimestamp) {
  return VerifyWebhook(keys, kMsgId, kTimestampHeader, signature, kPayload, now, 300);
}

TEST_CASE("The published vector signs byte-identically", "[unit][webhook]") {
  const auto keys = Keys(kSecret);
  REQUIRE(keys.size() == 1);
  CHECK(keys[0].size() == 24);  // 32 base64 characters, no padding
  CHECK(SignWebhook(keys[0], kMsgId, kTimestamp, kPayload) == kSignature);
}

TEST_CASE("The published vector verifies, with or without the whsec_ prefix", "[unit][webhook]") {
  CHECK(VerifyVector(Keys(kSecret), kSignature) == WebhookVerdict::kOk);
  const auto unprefixed = Keys("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  CHECK(unprefixed == Keys(kSecret));
  CHECK(VerifyVector(unprefixed, kSignature) == WebhookVerdict::kOk);
}

TEST_CASE("Padded secrets decode to the right bytes and sign correctly", "[unit][webhook]") {
  // Expected signatures computed independently (Python hmac + base64).
  const auto one = Keys("whsec_AQ==");
  REQUIRE(one.size() == 1);
  CHECK(one[0] == std::string("\x01", 1));
  CHECK(SignWebhook(one[0], "msg_1", 1700000000, R"({"a":1})") ==
        "v1,MjbgqZS+EiPOFhowYzrFau9dYh8np7uNWIGz0EWXL5A=");
  const auto two = Keys("whsec_AQI=");
  REQUIRE(two.size() == 1);
  CHECK(two[0] == std::string("\x01\x02", 2));
  CHECK(SignWebhook(two[0], "msg_1", 1700000000, R"({"a":1})") ==
        "v1,MKzelhlcof50LshNq0QY7pobqf/qdUhhx4aVa+G4xsw=");
}

TEST_CASE("A rotated secret list verifies under its second key", "[unit][webhook]") {
  SECTION("comma-separated") {
    const auto keys = Keys(kOtherSecret + "," + kSecret);
    REQUIRE(keys.size() == 2);
    CHECK(VerifyVector(keys, kSignature) == WebhookVerdict::kOk);
  }
  SECTION("newline-separated with CRLF and blanks, as in a credentials file") {
    const auto keys = Keys(" " + kOtherSecret + "\r\n\n  " + kSecret + " \r\n");
    REQUIRE(keys.size() == 2);
    CHECK(VerifyVector(keys, kSignature) == WebhookVerdict::kOk);
  }
  SECTION("the wrong key alone does not verify") {
    CHECK(VerifyVector(Keys(kOtherSecret), kSignature) == WebhookVerdict::kBadSignature);
  }
}

TEST_CASE("Tampering with body, id or timestamp breaks the signature", "[unit][webhook]") {
  const auto keys = Keys(kSecret);
  CHECK(VerifyWebhook(keys, kMsgId, kTimestampHeader, kSignature, R"({"test": 2432232315})",
                      kTimestamp, 300) == WebhookVerdict::kBadSignature);
  // Re-serialized JSON (space dropped) is a different body.
  CHECK(VerifyWebhook(keys, kMsgId, kTimestampHeader, kSignature, R"({"test":2432232314})",
                      kTimestamp, 300) == WebhookVerdict::kBadSignature);
  CHECK(VerifyWebhook(keys, kMsgId, kTimestampHeader, kSignature, kPayload + "\n", kTimestamp,
                      300) == WebhookVerdict::kBadSignature);
  CHECK(VerifyWebhook(keys, "msg_p5jXN8AQM9LWM0D4loKWxJel", kTimestampHeader, kSignature, kPayload,
                      kTimestamp, 300) == WebhookVerdict::kBadSignature);
  CHECK(VerifyWebhook(keys, kMsgId, "1614265331", kSignature, kPayload, kTimestamp, 300) ==
        WebhookVerdict::kBadSignature);
  // Same instant, different spelling: the header is signed as received.
  CHECK(VerifyWebhook(keys, kMsgId, "01614265330", kSignature, kPayload, kTimestamp, 300) ==
        WebhookVerdict::kBadSignature);
  // One flipped bit in the signature itself (last char E -> A, as in the Python tests).
  CHECK(VerifyVector(keys, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=") ==
        WebhookVerdict::kBadSignature);
}

TEST_CASE("Several signatures in the header: one valid v1 is enough", "[unit][webhook]") {
  const auto keys = Keys(kSecret);
  const std::string valid_b64 = kSignature.substr(3);
  const std::string decoy = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
  CHECK(VerifyVector(keys, decoy + " v2," + valid_b64 + " " + kSignature + " " + decoy) ==
        WebhookVerdict::kOk);
  CHECK(VerifyVector(keys, kSignature + " " + decoy) == WebhookVerdict::kOk);
  CHECK(VerifyVector(keys, "  " + kSignature + "   ") == WebhookVerdict::kOk);
  // A v1a (asymmetric) entry alongside is ignored, not an error.
  CHECK(VerifyVector(keys, "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGz== " + kSignature) ==
        WebhookVerdict::kOk);
  SECTION("only decoys and other versions") {
    CHECK(VerifyVector(keys, decoy + " " + decoy) == WebhookVerdict::kBadSignature);
    // The right MAC under another version label does not count.
    CHECK(VerifyVector(keys, "v2," + valid_b64) == WebhookVerdict::kBadSignature);
    CHECK(VerifyVector(keys, "v1a," + valid_b64) == WebhookVerdict::kBadSignature);
    CHECK(VerifyVector(keys, valid_b64) == WebhookVerdict::kBadSignature);  // no version
  }
  SECTION("partial and empty signatures") {
    CHECK(VerifyVector(keys, kSignature.substr(0, 8)) == WebhookVerdict::kBadSignature);
    CHECK(VerifyVector(keys, "v1,") == WebhookVerdict::kBadSignature);
    CHECK(VerifyVector(keys, kSignature + "x") == WebhookVerdict::kBadSignature);
    CHECK(VerifyVector(keys, "V1," + valid_b64) == WebhookVerdict::kBadSignature);
  }
}

TEST_CASE("The timestamp window is checked before the signature", "[unit][webhook]") {
  const auto keys = Keys(kSecret);
  CHECK(VerifyVector(keys, kSignature, kTimestamp + 301) == WebhookVerdict::kStale);
  CHECK(VerifyVector(keys, kSignature, kTimestamp - 301) == WebhookVerdict::kFuture);
  CHECK(VerifyVector(keys, kSignature, kTimestamp + 300) == WebhookVerdict::kOk);
  CHECK(VerifyVector(keys, kSignature, kTimestamp - 300) == WebhookVerdict::kOk);
  // Out of window wins over a bad signature too.
  CHECK(VerifyVector(keys, "v1,AAAA", kTimestamp + 301) == WebhookVerdict::kStale);
  CHECK(VerifyVector(keys, "v1,AAAA", kTimestamp - 301) == WebhookVerdict::kFuture);
  SECTION("custom and degenerate tolerances") {
    CHECK(VerifyWebhook(keys, kMsgId, kTimestampHeader, kSignature, kPayload, kTimestamp + 1, 0) ==
          WebhookVerdict::kStale);
    CHECK(VerifyWebhook(keys, kMsgId, kTimestampHeader, kSignature, kPayload, kTimestamp, 0) ==
          WebhookVerdict::kOk);
    CHECK(VerifyWebhook(keys, kMsgId, kTimestampHeader, kSignature, kPayload, kTimestamp - 1, -5) ==
          WebhookVerdict::kFuture);
    // The default tolerance is 300 s.
    CHECK(VerifyWebhook(keys, kMsgId, kTimestampHeader, kSignature, kPayload, kTimestamp + 300) ==
          WebhookVerdict::kOk);
    CHECK(VerifyWebhook(keys, kMsgId, kTimestampHeader, kSignature, kPayload, kTimestamp + 301) ==
          WebhookVerdict::kStale);
  }
  SECTION("extreme clocks do not overflow") {
    CHECK(VerifyWebhook(keys, kMsgId, "9223372036854775807", kSignature, kPayload, INT64_MIN,
                        300) == WebhookVerdict::kFuture);
    CHECK(VerifyWebhook(keys, kMsgId, "0", kSignature, kPayload, INT64_MAX, 300) ==
          WebhookVerdict::kStale);
  }
}

TEST_CASE("Missing or blank headers", "[unit][webhook]") {
  const auto keys = Keys(kSecret);
  CHECK(VerifyWebhook(keys, "", kTimestampHeader, kSignature, kPayload, kTimestamp, 300) ==
        WebhookVerdict::kMissingHeaders);
  CHECK(VerifyWebhook(keys, kMsgId, "", kSignature, kPayload, kTimestamp, 300) ==
        WebhookVerdict::kMissingHeaders);
  CHECK(VerifyWebhook(keys, kMsgId, kTimestampHeader, "", kPayload, kTimestamp, 300) ==
        WebhookVerdict::kMissingHeaders);
  CHECK(VerifyWebhook(keys, kMsgId, kTimestampHeader, "   ", kPayload, kTimestamp, 300) ==
        WebhookVerdict::kMissingHeaders);
  CHECK(VerifyWebhook(keys, " ", kTimestampHeader, kSignature, kPayload, kTimestamp, 300) ==
        WebhookVerdict::kMissingHeaders);
  // Missing beats a malformed timestamp.
  CHECK(VerifyWebhook(keys, "", "hello", kSignature, kPayload, kTimestamp, 300) ==
        WebhookVerdict::kMissingHeaders);
  // An empty body is legal (and signed like any other).
  CHECK(VerifyWebhook(keys, kMsgId, kTimestampHeader, SignWebhook(keys[0], kMsgId, kTimestamp, ""),
                      "", kTimestamp, 300) == WebhookVerdict::kOk);
}

TEST_CASE("Malformed timestamps", "[unit][webhook]") {
  const auto keys = Keys(kSecret);
  for (const char* ts :
       {"hello", "1614265330.5", "-1614265330", "+1614265330", " 1614265330", "1614265330 ",
        "0x6037", "1e9", "99999999999999999999", "9223372036854775808"}) {
    INFO(ts);
    CHECK(VerifyWebhook(keys, kMsgId, ts, kSignature, kPayload, kTimestamp, 300) ==
          WebhookVerdict::kBadTimestamp);
  }
}

TEST_CASE("No configured secrets", "[unit][webhook]") {
  CHECK(VerifyVector({}, kSignature) == WebhookVerdict::kNoSecrets);
  CHECK(VerifyWebhook({}, "", "", "", "", 0, 300) == WebhookVerdict::kNoSecrets);
}

TEST_CASE("Blank secret lists mean no secrets, not an error", "[unit][webhook]") {
  for (const char* list : {"", "\n", "\r\n", " , ,\n\t\n", ",,,"}) {
    INFO('"' << list << '"');
    std::vector<std::string> keys = {"stale"};
    std::string error;
    CHECK(ParseWebhookSecrets(list, &keys, &error));
    CHECK(keys.empty());
    CHECK(error.empty());
  }
  WebhookSecrets secrets;
  std::string error;
  CHECK(ParseWebhookSecrets("\n", &secrets, &error));
  CHECK(secrets.keys.empty());
}

TEST_CASE("Garbage secrets are rejected with an error naming the entry", "[unit][webhook]") {
  struct Case {
    std::string list;
    std::string expected;  // substring of the error
  };
  const std::vector<Case> cases = {
      {"whsec_not base64!", "#1: not valid base64"},
      {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", "#1: not valid base64"},  // 31 chars
      {"whsec_", "#1: empty key"},
      {" whsec_ ", "#1: empty key"},
      {"whsec_====", "#1: not valid base64"},
      {"whsec_A===", "#1: not valid base64"},
      {"whsec_AQ=A", "#1: not valid base64"},
      {"whsec_MfKQ9r8GKYqrTwjU-D8ILPZIo2LaLaSw", "#1: not valid base64"},  // URL alphabet
      {kSecret + ",whsec_%%%%", "#2: not valid base64"},
      {kSecret + "\n\n" + kOtherSecret + "\nhunter2", "#3: not valid base64"},
      {"whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "#1: asymmetric"},
      {"whpk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "#1: asymmetric"},
  };
  for (const Case& c : cases) {
    INFO(c.list);
    std::vector<std::string> keys;
    std::string error;
    CHECK_FALSE(ParseWebhookSecrets(c.list, &keys, &error));
    CHECK(keys.empty());  // all or nothing
    CHECK_THAT(error, Catch::Matchers::Contains(c.expected));
    // The secret material never appears in the message.
    CHECK_THAT(error, !Catch::Matchers::Contains("MfKQ9r8G"));
    CHECK_THAT(error, !Catch::Matchers::Contains("hunter2"));
  }
}

TEST_CASE("Sign and verify round-trip on arbitrary content", "[unit][webhook]") {
  const auto keys = Keys(kOtherSecret);
  const std::string id = "evt.with.dots";
  const std::string body = "{\"name\":\"caf\xC3\xA9\",\"n\":1.5}";
  const std::string sig = SignWebhook(keys[0], id, 1700000000, body);
  CHECK(sig.rfind("v1,", 0) == 0);
  CHECK(sig.size() == 3 + 44);  // base64 of 32 bytes
  CHECK(VerifyWebhook(keys, id, "1700000000", sig, body, 1700000100, 300) == WebhookVerdict::kOk);
  // The vector's key does not verify what the other key signed.
  CHECK(VerifyWebhook(Keys(kSecret), id, "1700000000", sig, body, 1700000100, 300) ==
        WebhookVerdict::kBadSignature);
}

TEST_CASE("Verdict names are metric-label safe", "[unit][webhook]") {
  CHECK(std::string(VerdictName(WebhookVerdict::kOk)) == "ok");
  CHECK(std::string(VerdictName(WebhookVerdict::kMissingHeaders)) == "missing_headers");
  CHECK(std::string(VerdictName(WebhookVerdict::kBadTimestamp)) == "bad_timestamp");
  CHECK(std::string(VerdictName(WebhookVerdict::kStale)) == "stale");
  CHECK(std::string(VerdictName(WebhookVerdict::kFuture)) == "future");
  CHECK(std::string(VerdictName(WebhookVerdict::kBadSignature)) == "bad_signature");
  CHECK(std::string(VerdictName(WebhookVerdict::kNoSecrets)) == "no_secrets");
}

}  // namespace
}  // namespace bootstrapd

// libFuzzer harness: the event decoders of daemon/domain/cloudevent.h.
//
// Input: byte 0 selects the target, the rest is its input.
//   byte0 % 5: 0 DecodeStructuredEvent(body) (+ the same body through
//              DecodeWebhookPayload, and a binary-mode re-encoding),
//              1 DecodeBinaryEvent: "name:value" header lines up to the first
//              empty line, then the record value,
//              2 DecodeWebhookPayload(body),
//              3 ActionOfType and IsRfc3339Timestamp on the raw text,
//              4 RedactSecrets(body) (any depth: it streams)
// No guard is applied before the decoders: bodies of any depth and with NUL
// bytes reach them, as they reach the Kafka intake (kafka_bridge.cpp
// HandleRecord). Every decoder guards itself (cloudevent.cpp GuardJson): the
// harness checks that they refuse every body or record value holding a NUL
// byte or nesting deeper than kMaxJsonDepth, and never give back a deeper tree.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/domain/cloudevent.h"
#include "daemon/domain/requests.h"
#include "fuzz/fuzz_common.h"

namespace {

using bootstrapd::CloudEvent;
using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kKnown[] = {"specversion", "id",   "source",     "type", "subject",
                                       "time",        "data", "data_base64", "datacontenttype"};

bool IsExtensionName(std::string_view n) {
  if (n.empty() || n.size() > 20) return false;
  for (char c : n) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

bool IsKnown(std::string_view n) {
  for (auto k : kKnown) {
    if (k == n) return true;
  }
  return false;
}

// The guard of the JSON-body decoders (cloudevent.cpp ParseObject, F2/F3):
// a body holding a NUL byte or nesting deeper than kMaxJsonDepth is refused
// before a tree is built, and a decoded event's data (a member of the body's
// top-level object) is at most kMaxJsonDepth - 1 deep.
void CheckGuard(std::string_view body, bool ok, const CloudEvent& ev) {
  if (body.find('\0') != std::string_view::npos) FUZZ_CHECK(!ok);
  if (bootstrapd::JsonDepth(body) > bootstrapd::kMaxJsonDepth) FUZZ_CHECK(!ok);
  if (ok) FUZZ_CHECK(fuzz::TreeDepth(ev.data) + 1 <= bootstrapd::kMaxJsonDepth);
}

// What any successful decode promises (SPEC §4 / cloudevent.h).
void CheckCommon(const CloudEvent& ev) {
  FUZZ_CHECK(!ev.type.empty());
  FUZZ_CHECK(ev.time.empty() || bootstrapd::IsRfc3339Timestamp(ev.time));
  FUZZ_CHECK(ev.data.is_null() || ev.data.is_object());
}

void CheckEvent(const CloudEvent& ev) {
  CheckCommon(ev);
  FUZZ_CHECK(ev.specversion == "1.0");
  FUZZ_CHECK(!ev.id.empty() && !ev.source.empty());
  for (const auto& [name, value] : ev.extensions) {
    FUZZ_CHECK(IsExtensionName(name));
    FUZZ_CHECK(!IsKnown(name));
  }
}

// Errors end up in HTTP details, logs and Kafka headers.
void CheckError(bool ok, const std::string& error) {
  if (!ok) FUZZ_CHECK(!error.empty());
  FUZZ_CHECK(fuzz::IsValidUtf8(error));
}

bool SameEvent(const CloudEvent& a, const CloudEvent& b) {
  return a.id == b.id && a.source == b.source && a.type == b.type &&
         a.specversion == b.specversion && a.subject == b.subject && a.time == b.time &&
         a.datacontenttype == b.datacontenttype && a.data == b.data &&
         a.extensions == b.extensions;
}

void FuzzStructured(std::string_view body) {
  CloudEvent ev;
  std::string error;
  const bool ok = bootstrapd::DecodeStructuredEvent(body, &ev, &error);
  CheckError(ok, error);
  CheckGuard(body, ok, ev);

  // A body with `specversion` is decoded by the webhook path exactly the same.
  // (This parse is iterative at any depth; the recursive comparisons below
  // run only on decoded events, which the guard keeps shallow.)
  const json parsed = json::parse(body, nullptr, false);
  if (!parsed.is_discarded() && parsed.is_object() && parsed.contains("specversion")) {
    CloudEvent wev;
    std::string werror;
    const bool wok = bootstrapd::DecodeWebhookPayload(body, &wev, &werror);
    FUZZ_CHECK(wok == ok);
    FUZZ_CHECK(werror == error);
    if (ok) FUZZ_CHECK(SameEvent(ev, wev));
  }
  if (!ok) return;
  CheckEvent(ev);
  if (!ev.data.is_null()) FUZZ_CHECK(parsed.contains("data"));

  // The same event in Kafka binary mode decodes to the same attributes.
  if (!ev.datacontenttype.empty()) return;  // binary mode takes only application/json
  Headers headers = {{"ce_specversion", ev.specversion},
                     {"ce_id", ev.id},
                     {"ce_source", ev.source},
                     {"ce_type", ev.type}};
  if (!ev.subject.empty()) headers.emplace_back("ce_subject", ev.subject);
  if (!ev.time.empty()) headers.emplace_back("ce_time", ev.time);
  for (const auto& [name, value] : ev.extensions) headers.emplace_back("ce_" + name, value);
  const std::string value = ev.data.is_null() ? "" : ev.data.dump();
  CloudEvent bev;
  std::string berror;
  FUZZ_CHECK(bootstrapd::DecodeBinaryEvent(headers, value, &bev, &berror));
  FUZZ_CHECK(SameEvent(ev, bev));
}

void FuzzBinary(std::string_view input) {
  Headers headers;
  while (true) {
    const std::size_t nl = input.find('\n');
    if (nl == std::string_view::npos) break;
    const std::string_view line = input.substr(0, nl);
    input.remove_prefix(nl + 1);
    if (line.empty()) break;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      headers.emplace_back(std::string(line), "");
    } else {
      headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
    }
  }
  const std::string_view body = input;
  // The record value goes through the same guard (cloudevent.cpp GuardJson):
  // refused with a NUL byte or deeper than kMaxJsonDepth, and the decoded
  // data (the whole value) is at most kMaxJsonDepth deep.
  CloudEvent ev;
  std::string error;
  const bool ok = bootstrapd::DecodeBinaryEvent(headers, body, &ev, &error);
  CheckError(ok, error);
  if (body.find('\0') != std::string_view::npos) FUZZ_CHECK(!ok);
  if (bootstrapd::JsonDepth(body) > bootstrapd::kMaxJsonDepth) FUZZ_CHECK(!ok);
  if (ok) FUZZ_CHECK(fuzz::TreeDepth(ev.data) <= bootstrapd::kMaxJsonDepth);
  if (!ok) return;
  CheckEvent(ev);
  // Every attribute came from exactly one header.
  std::size_t ce = 0, content_type = 0;
  for (const auto& [name, value] : headers) {
    ce += name.rfind("ce_", 0) == 0;
    content_type += name == "content-type";
  }
  FUZZ_CHECK(content_type <= 1);
  FUZZ_CHECK(ce == 4 + !ev.subject.empty() + !ev.time.empty() + ev.extensions.size());
  FUZZ_CHECK(content_type == 1 || ev.datacontenttype.empty());
  FUZZ_CHECK(ev.data.is_null() == (body.find_first_not_of(" \t\r\n") == std::string_view::npos));
}

void FuzzWebhook(std::string_view body) {
  CloudEvent ev;
  std::string error;
  const bool ok = bootstrapd::DecodeWebhookPayload(body, &ev, &error);
  CheckError(ok, error);
  CheckGuard(body, ok, ev);
  if (!ok) return;
  CheckCommon(ev);
  if (!ev.specversion.empty()) {
    CheckEvent(ev);
    return;
  }
  // The Standard Webhooks form: type, timestamp, data, nothing else.
  FUZZ_CHECK(ev.id.empty() && ev.source.empty() && ev.subject.empty());
  FUZZ_CHECK(ev.extensions.empty() && ev.datacontenttype.empty());
  FUZZ_CHECK(bootstrapd::IsRfc3339Timestamp(ev.time));
  FUZZ_CHECK(ev.data.is_object());
}

// A straightforward reading of RFC 3339 §5.6, for a differential check.
bool ReferenceRfc3339(std::string_view s) {
  auto digits = [&](std::size_t pos, std::size_t n, int* v) {
    if (pos + n > s.size()) return false;
    *v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      *v = *v * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, se;
  if (!digits(0, 4, &y) || s.size() < 20 || s[4] != '-' || !digits(5, 2, &mo) || s[7] != '-' ||
      !digits(8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(11, 2, &h) || s[13] != ':' ||
      !digits(14, 2, &mi) || s[16] != ':' || !digits(17, 2, &se)) {
    return false;
  }
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const int dim = kDays[mo - 1] + (mo == 2 && leap);
  if (d < 1 || d > dim || h > 23 || mi > 59 || se > 60) return false;
  std::size_t p = 19;
  if (s[p] == '.') {
    ++p;
    const std::size_t start = p;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') ++p;
    if (p == start) return false;
  }
  const std::string_view z = s.substr(p);
  if (z == "Z" || z == "z") return true;
  int oh, om;
  if (z.size() != 6 || (z[0] != '+' && z[0] != '-') || z[3] != ':') return false;
  s = z;
  return digits(1, 2, &oh) && digits(4, 2, &om) && oh <= 23 && om <= 59;
}

void FuzzAttributes(std::string_view text) {
  const auto action = bootstrapd::ActionOfType(text);
  if (action) {
    FUZZ_CHECK(text == "everest.tenant." + *action + ".requested");
    static const std::string_view kActions[] = {"bootstrap", "password", "resources", "operators",
                                                "suspend",   "resume",   "delete"};
    bool known = false;
    for (auto a : kActions) known = known || *action == a;
    FUZZ_CHECK(known);
  }
  FUZZ_CHECK(bootstrapd::IsRfc3339Timestamp(text) == ReferenceRfc3339(text));
}

// The tree a redaction must give: every password/new_password member's value,
// at any depth, replaced by "********". Iterative.
void RedactTree(json* root) {
  std::vector<json*> stack{root};
  while (!stack.empty()) {
    json* v = stack.back();
    stack.pop_back();
    if (v->is_object()) {
      for (auto it = v->begin(); it != v->end(); ++it) {
        if (it.key() == "password" || it.key() == "new_password") {
          *it = "********";
        } else {
          stack.push_back(&*it);
        }
      }
    } else if (v->is_array()) {
      for (auto& child : *v) stack.push_back(&child);
    }
  }
}

void FuzzRedact(std::string_view body) {
  const std::string out = bootstrapd::RedactSecrets(body);
  const bool is_json = json::accept(body);
  if (!is_json) {
    FUZZ_CHECK(out == body);
    return;
  }
  // JSON in, JSON out, compact.
  FUZZ_CHECK(json::accept(out));
  FUZZ_CHECK(bootstrapd::RedactSecrets(out) == out);
  // Compare trees only where a tree is cheap and recursion-safe (== recurses).
  if (bootstrapd::JsonDepth(body) > 64) return;
  json want = json::parse(body);
  RedactTree(&want);
  const json got = json::parse(out);
  FUZZ_CHECK(got == want);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t selector = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (selector % 5) {
    case 0: FuzzStructured(input); break;
    case 1: FuzzBinary(input); break;
    case 2: FuzzWebhook(input); break;
    case 3: FuzzAttributes(input); break;
    default: FuzzRedact(input); break;
  }
  return 0;
}

// CloudEvents 1.0 decoding (structured JSON, Kafka binary), the webhook simple
// form, type -> action, and DLQ redaction.
#include "daemon/domain/cloudevent.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/domain/requests.h"
#include "daemon/domain/text.h"

namespace bootstrapd {
namespace {

using json = nlohmann::json;

constexpr std::string_view kSpecVersion = "1.0";
constexpr std::string_view kBinaryPrefix = "ce_";
constexpr std::string_view kRedacted = "********";

// An attacker-chosen name or value, made safe for an error message (HTTP
// detail, log line, Kafka header): quoted, printable ASCII, at most 40 bytes.
std::string Quoted(std::string_view s) {
  constexpr std::size_t kMax = 40;
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') ? static_cast<char>(c) : '?';
  }
  out += s.size() > kMax ? "...\"" : "\"";
  return out;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// The media type without parameters, blanks trimmed, lower-cased.
std::string BareMediaType(std::string_view content_type) {
  std::string out(TrimBlanks(content_type.substr(0, content_type.find(';'))));
  for (char& c : out) c = Lower(c);
  return out;
}

// `*/json` or `*/*+json` (CloudEvents JSON format §3.1.1).
bool IsJsonMediaType(std::string_view content_type) {
  const std::string bare = BareMediaType(content_type);
  const std::size_t slash = bare.find('/');
  if (slash == std::string::npos || slash == 0) return false;
  const std::string_view subtype = std::string_view(bare).substr(slash + 1);
  if (subtype.find_first_of("/ \t") != std::string_view::npos) return false;
  return subtype == "json" || (subtype.size() > 5 && subtype.ends_with("+json"));
}

// ^[a-z0-9]{1,20}$
bool IsExtensionName(std::string_view name) {
  if (name.empty() || name.size() > 20) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// `n` digits at `pos` into *value.
bool ReadDigits(std::string_view s, std::size_t pos, std::size_t n, int* value) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!IsDigit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  *value = v;
  return true;
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && IsLeapYear(y)) ? 29 : kDays[static_cast<std::size_t>(m - 1)];
}

// One attribute read from a JSON object. Null counts as absent (JSON format §2.2).
enum class Presence { kAbsent, kPresent, kInvalid };

Presence ReadString(const json& obj, const char* name, std::string* value, std::string* error) {
  const auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return Presence::kAbsent;
  if (!it->is_string()) {
    *error = std::string(name) + " must be a string";
    return Presence::kInvalid;
  }
  *value = it->get<std::string>();
  return Presence::kPresent;
}

bool RequiredString(const json& obj, const char* name, std::string* value, std::string* error) {
  switch (ReadString(obj, name, value, error)) {
    case Presence::kInvalid:
      return false;
    case Presence::kAbsent:
      *error = std::string(name) + " is required";
      return false;
    case Presence::kPresent:
      break;
  }
  if (value->empty()) {
    *error = std::string(name) + " must not be empty";
    return false;
  }
  return true;
}

bool CheckSpecVersion(std::string_view name, std::string_view value, std::string* error) {
  if (value == kSpecVersion) return true;
  *error = std::string(name) + " " + Quoted(value) + " is not supported, expected \"1.0\"";
  return false;
}

bool CheckSubject(std::string_view name, std::string_view value, std::string* error) {
  if (!value.empty()) return true;
  *error = std::string(name) + " must not be empty when present";
  return false;
}

bool CheckTime(std::string_view name, std::string_view value, std::string* error) {
  if (IsRfc3339Timestamp(value)) return true;
  *error = std::string(name) + " " + Quoted(value) + " is not an RFC 3339 timestamp";
  return false;
}

// Anything but blanks and newlines.
bool HasContent(std::string_view body) {
  return body.find_first_not_of(" \t\r\n") != std::string_view::npos;
}

bool DecodeStructuredObject(const json& obj, CloudEvent* out, std::string* error) {
  CloudEvent ev;
  // Required attributes first, then optional ones, then data, then extensions
  // (in name order): the first problem found is the one reported.
  if (!RequiredString(obj, "specversion", &ev.specversion, error)) return false;
  if (!CheckSpecVersion("specversion", ev.specversion, error)) return false;
  if (!RequiredString(obj, "id", &ev.id, error)) return false;
  if (!RequiredString(obj, "source", &ev.source, error)) return false;
  if (!RequiredString(obj, "type", &ev.type, error)) return false;

  Presence p = ReadString(obj, "subject", &ev.subject, error);
  if (p == Presence::kInvalid) return false;
  if (p == Presence::kPresent && !CheckSubject("subject", ev.subject, error)) return false;

  p = ReadString(obj, "time", &ev.time, error);
  if (p == Presence::kInvalid) return false;
  if (p == Presence::kPresent && !CheckTime("time", ev.time, error)) return false;

  p = ReadString(obj, "datacontenttype", &ev.datacontenttype, error);
  if (p == Presence::kInvalid) return false;
  if (p == Presence::kPresent && !IsJsonMediaType(ev.datacontenttype)) {
    *error = "datacontenttype " + Quoted(ev.datacontenttype) +
             " is not a JSON media type (application/json or */*+json)";
    return false;
  }

  if (const auto it = obj.find("data_base64"); it != obj.end() && !it->is_null()) {
    *error = "data_base64 is not supported";
    return false;
  }
  if (const auto it = obj.find("data"); it != obj.end()) {
    if (!it->is_object()) {
      *error = "data must be a JSON object";
      return false;
    }
    ev.data = *it;
  }

  static constexpr std::array<std::string_view, 9> kKnown = {
      "specversion",     "id",   "source",     "type", "subject", "time",
      "datacontenttype", "data", "data_base64"};
  for (const auto& [name, value] : obj.items()) {
    if (std::find(kKnown.begin(), kKnown.end(), name) != kKnown.end()) continue;
    if (!IsExtensionName(name)) {
      *error = "attribute " + Quoted(name) +
               " is not a valid extension name (1-20 lower-case letters or digits)";
      return false;
    }
    if (value.is_null()) continue;  // unset
    if (value.is_string()) {
      ev.extensions[name] = value.get<std::string>();
    } else if (value.is_boolean() || value.is_number_integer()) {
      ev.extensions[name] = value.dump();
    } else {
      *error = "extension " + Quoted(name) + " must be a string, an integer or a boolean";
      return false;
    }
  }
  *out = std::move(ev);
  return true;
}

// Refuses what must never reach the JSON parser: a NUL byte (text would be
// cut there downstream) and nesting deeper than kMaxJsonDepth (the parser
// recurses).
bool GuardJson(std::string_view body, const char* what, std::string* error) {
  if (body.find('\0') != std::string_view::npos) {
    *error = std::string(what) + " contains a NUL byte";
    return false;
  }
  if (JsonDepth(body) > kMaxJsonDepth) {
    *error = std::string(what) + " nests deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    return false;
  }
  return true;
}

bool ParseObject(std::string_view body, json* out, std::string* error) {
  if (!GuardJson(body, "body", error)) return false;
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    *error = "body is not valid JSON";
    return false;
  }
  if (!parsed.is_object()) {
    *error = "body must be a JSON object";
    return false;
  }
  *out = std::move(parsed);
  return true;
}

// SAX consumer that writes the document back compactly, replacing the value
// of every "password"/"new_password" member. Iterative: no depth limit.
class Redactor {
 public:
  std::string out;

  bool null() { return Scalar("null"); }
  bool boolean(bool v) { return Scalar(v ? "true" : "false"); }
  bool number_integer(json::number_integer_t v) { return Scalar(std::to_string(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return Scalar(std::to_string(v)); }
  bool number_float(json::number_float_t /*v*/, const json::string_t& text) { return Scalar(text); }
  bool string(json::string_t& v) { return Scalar(Encode(v)); }
  bool binary(json::binary_t& /*v*/) { return false; }  // not produced by the JSON parser

  bool start_object(std::size_t /*elements*/) { return Open('{'); }
  bool end_object() { return Close('}'); }
  bool start_array(std::size_t /*elements*/) { return Open('['); }
  bool end_array() { return Close(']'); }

  bool key(json::string_t& k) {
    if (skip_depth_ > 0) return true;
    Separator();
    out += Encode(k);
    out += ':';
    after_key_ = true;
    redact_next_ = (k == "password" || k == "new_password");
    return true;
  }

  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const json::exception& /*ex*/) {
    return false;
  }

 private:
  static std::string Encode(const std::string& s) {
    return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
  }

  // The ',' before a key or array element; nothing right after a key.
  void Separator() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;
    if (!first_.back()) out += ',';
    first_.back() = false;
  }

  // Writes the redaction marker in place of the value when one is due.
  bool Redacting() {
    if (!redact_next_) return false;
    redact_next_ = false;
    out += '"';
    out += kRedacted;
    out += '"';
    return true;
  }

  bool Scalar(const std::string& text) {
    if (skip_depth_ > 0) return true;
    Separator();
    if (!Redacting()) out += text;
    return true;
  }

  bool Open(char bracket) {
    if (skip_depth_ > 0) {
      ++skip_depth_;
      return true;
    }
    Separator();
    if (Redacting()) {
      skip_depth_ = 1;  // drop the whole object/array
      return true;
    }
    out += bracket;
    first_.push_back(true);
    return true;
  }

  bool Close(char bracket) {
    if (skip_depth_ > 0) {
      --skip_depth_;
      return true;
    }
    out += bracket;
    first_.pop_back();
    return true;
  }

  std::vector<bool> first_;  // per open container: no element written yet
  std::size_t skip_depth_ = 0;
  bool after_key_ = false;
  bool redact_next_ = false;
};

}  // namespace

bool IsRfc3339Timestamp(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!ReadDigits(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' || !ReadDigits(s, 5, 2, &month) ||
      s[7] != '-' || !ReadDigits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
      !ReadDigits(s, 11, 2, &hour) || s[13] != ':' || !ReadDigits(s, 14, 2, &minute) ||
      s[16] != ':' || !ReadDigits(s, 17, 2, &second)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
      minute > 59 || second > 60) {
    return false;
  }
  std::size_t pos = 19;
  if (s[pos] == '.') {
    const std::size_t digits_start = ++pos;
    while (pos < s.size() && IsDigit(s[pos])) ++pos;
    if (pos == digits_start) return false;
  }
  const std::string_view zone = s.substr(pos);
  if (zone == "Z" || zone == "z") return true;
  int offset_hour, offset_minute;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') &&
         ReadDigits(zone, 1, 2, &offset_hour) && zone[3] == ':' &&
         ReadDigits(zone, 4, 2, &offset_minute) && offset_hour <= 23 && offset_minute <= 59;
}

bool DecodeStructuredEvent(std::string_view body, CloudEvent* out, std::string* error) {
  json obj;
  if (!ParseObject(body, &obj, error)) return false;
  return DecodeStructuredObject(obj, out, error);
}

bool DecodeBinaryEvent(const std::vector<std::pair<std::string, std::string>>& headers,
                       std::string_view body, CloudEvent* out, std::string* error) {
  CloudEvent ev;
  std::set<std::string, std::less<>> seen;
  bool have_content_type = false;
  for (const auto& [name, value] : headers) {
    if (name == "content-type") {
      if (have_content_type) {
        *error = "duplicate content-type header";
        return false;
      }
      have_content_type = true;
      if (BareMediaType(value) != "application/json") {
        *error = "content-type " + Quoted(value) + " is not application/json";
        return false;
      }
      ev.datacontenttype = value;
      continue;
    }
    if (!std::string_view(name).starts_with(kBinaryPrefix)) continue;
    const std::string attr = name.substr(kBinaryPrefix.size());
    if (!seen.insert(attr).second) {
      *error = "duplicate header " + Quoted(name);
      return false;
    }
    if (attr == "specversion") {
      ev.specversion = value;
    } else if (attr == "id") {
      ev.id = value;
    } else if (attr == "source") {
      ev.source = value;
    } else if (attr == "type") {
      ev.type = value;
    } else if (attr == "subject") {
      if (!CheckSubject(name, value, error)) return false;
      ev.subject = value;
    } else if (attr == "time") {
      if (!CheckTime(name, value, error)) return false;
      ev.time = value;
    } else if (attr == "datacontenttype") {
      *error = "ce_datacontenttype is not used in Kafka binary mode, use the content-type header";
      return false;
    } else if (attr == "data") {
      *error = "ce_data is not an attribute, the record value carries the data";
      return false;
    } else if (!IsExtensionName(attr)) {
      *error = "header " + Quoted(name) +
               " does not name a valid extension (1-20 lower-case letters or digits)";
      return false;
    } else {
      ev.extensions[attr] = value;
    }
  }
  const std::array<std::pair<const char*, const std::string*>, 4> required = {{
      {"ce_specversion", &ev.specversion},
      {"ce_id", &ev.id},
      {"ce_source", &ev.source},
      {"ce_type", &ev.type},
  }};
  for (const auto& [name, value] : required) {
    if (!seen.contains(std::string_view(name).substr(kBinaryPrefix.size()))) {
      *error = std::string(name) + " is required";
      return false;
    }
    if (value->empty()) {
      *error = std::string(name) + " must not be empty";
      return false;
    }
  }
  if (!CheckSpecVersion("ce_specversion", ev.specversion, error)) return false;

  if (HasContent(body)) {
    if (!GuardJson(body, "record value", error)) return false;
    json data = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (data.is_discarded()) {
      *error = "record value is not valid JSON";
      return false;
    }
    if (!data.is_object()) {
      *error = "data (the record value) must be a JSON object";
      return false;
    }
    ev.data = std::move(data);
  }
  *out = std::move(ev);
  return true;
}

bool DecodeWebhookPayload(std::string_view body, CloudEvent* out, std::string* error) {
  json obj;
  if (!ParseObject(body, &obj, error)) return false;
  if (obj.contains("specversion")) return DecodeStructuredObject(obj, out, error);

  for (const auto& [name, value] : obj.items()) {
    if (name != "type" && name != "timestamp" && name != "data") {
      *error = "unknown member " + Quoted(name) +
               ": expected {\"type\",\"timestamp\",\"data\"} or a CloudEvent";
      return false;
    }
  }
  CloudEvent ev;
  const auto type = obj.find("type");
  if (type == obj.end()) {
    *error = "type is required";
    return false;
  }
  if (!type->is_string() || type->get_ref<const std::string&>().empty()) {
    *error = "type must be a non-empty string";
    return false;
  }
  ev.type = type->get<std::string>();

  const auto timestamp = obj.find("timestamp");
  if (timestamp == obj.end()) {
    *error = "timestamp is required";
    return false;
  }
  if (!timestamp->is_string()) {
    *error = "timestamp must be an RFC 3339 string";
    return false;
  }
  ev.time = timestamp->get<std::string>();
  if (!CheckTime("timestamp", ev.time, error)) return false;

  const auto data = obj.find("data");
  if (data == obj.end()) {
    *error = "data is required";
    return false;
  }
  if (!data->is_object()) {
    *error = "data must be a JSON object";
    return false;
  }
  ev.data = *data;
  *out = std::move(ev);
  return true;
}

std::optional<std::string> ActionOfType(std::string_view type) {
  constexpr std::string_view kPrefix = "everest.tenant.";
  constexpr std::string_view kSuffix = ".requested";
  static constexpr std::array<std::string_view, 7> kActions = {
      "bootstrap", "password", "resources", "operators", "suspend", "resume", "delete"};
  if (type.size() <= kPrefix.size() + kSuffix.size() || !type.starts_with(kPrefix) ||
      !type.ends_with(kSuffix)) {
    return std::nullopt;
  }
  const std::string_view action =
      type.substr(kPrefix.size(), type.size() - kPrefix.size() - kSuffix.size());
  for (std::string_view a : kActions) {
    if (action == a) return std::string(a);
  }
  return std::nullopt;
}

std::string RedactSecrets(std::string_view body) {
  Redactor redactor;
  const bool ok = json::sax_parse(body.begin(), body.end(), &redactor);
  return ok ? std::move(redactor.out) : std::string(body);
}

}  // namespace bootstrapd

// Decoding of tenant requests that arrive as events (SPEC §4): CloudEvents 1.0
// in structured mode (JSON format 1.0.2) and Kafka binary mode, the Standard
// Webhooks simple payload, the type -> action mapping, and the redaction of
// DLQ copies. Pure; any thread. The Decode* functions refuse a body that holds
// a NUL byte or nests deeper than kMaxJsonDepth before building a JSON tree.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace bootstrapd {

struct CloudEvent {
  std::string id, source, type, specversion, subject, time, datacontenttype;
  // The request body: a JSON object, or null when the event carried no data.
  nlohmann::json data;
  // Extension attributes by name; numbers and booleans as their JSON text
  // ("42", "true").
  std::map<std::string, std::string> extensions;
};

// Structured mode (application/cloudevents+json). The body must be a JSON
// object with:
//   specversion  "1.0" (required);
//   id, source, type  non-empty strings (required);
//   subject      non-empty string (optional);
//   time         RFC 3339 timestamp string (optional);
//   datacontenttype  a JSON media type (optional): `*/json` or `*/*+json`
//                once parameters are stripped, case-insensitive;
//   data         a JSON object (optional; absent -> out->data is null);
//   data_base64  refused ("data_base64 is not supported");
//   anything else  an extension: name ^[a-z0-9]{1,20}$, value a string,
//                integer or boolean.
// Per the JSON format, an attribute whose value is null counts as absent
// (`data: null` is refused: it is present and not an object). Returns false
// with one message naming the offending attribute in *error; *out is written
// only on success.
bool DecodeStructuredEvent(std::string_view body, CloudEvent* out, std::string* error);

// Kafka binary mode: attributes in `ce_<name>` headers (names matched exactly,
// lower-case, as the Kafka binding has them): ce_specversion ("1.0"), ce_id,
// ce_source, ce_type (required, non-empty), ce_subject (non-empty), ce_time
// (RFC 3339), any other `ce_<name>` an extension (same naming rule, string
// value). ce_datacontenttype is refused: the Kafka binding carries it in the
// `content-type` header, which when present must be application/json
// (parameters allowed) and is stored in out->datacontenttype. A repeated ce_*
// or content-type header is refused. Other headers are ignored. The body is
// the data: a JSON object, or empty (out->data null). Same error and output
// rules as DecodeStructuredEvent; header names appear in the messages.
bool DecodeBinaryEvent(const std::vector<std::pair<std::string, std::string>>& headers,
                       std::string_view body, CloudEvent* out, std::string* error);

// POST /webhooks/tenant-requests body: a structured CloudEvent when the object
// has a `specversion` member (then exactly DecodeStructuredEvent), otherwise
// the Standard Webhooks form with exactly the members `type` (non-empty
// string), `timestamp` (RFC 3339 string, stored in out->time) and `data` (JSON
// object), all required; id, source and specversion are left empty (the caller
// uses webhook-id).
bool DecodeWebhookPayload(std::string_view body, CloudEvent* out, std::string* error);

// "everest.tenant.<action>.requested" with <action> one of bootstrap,
// password, resources, operators, suspend, resume, delete -> <action>;
// anything else (other case, other suffix, unknown action) -> nullopt.
std::optional<std::string> ActionOfType(std::string_view type);

// RFC 3339 date-time: YYYY-MM-DD"T"hh:mm:ss[.frac](Z|+hh:mm|-hh:mm), "t"/"z"
// accepted, field ranges checked (leap years; second 60 allowed).
bool IsRfc3339Timestamp(std::string_view s);

// For DLQ copies: when `body` is JSON (any depth; streamed, no tree), returns
// it re-serialized compactly with every value of a `password` or
// `new_password` member, at any depth and of any type, replaced by
// "********"; numbers keep their original spelling. Otherwise returns `body`
// unchanged.
std::string RedactSecrets(std::string_view body);

}  // namespace bootstrapd

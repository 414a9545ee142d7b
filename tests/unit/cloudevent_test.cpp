// Known-answer tests for daemon/domain/cloudevent.h.
#include "daemon/domain/cloudevent.h"

#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace bootstrapd {
namespace {

using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

// A valid structured event; tests patch one member at a time.
json BaseEvent() {
  return {{"specversion", "1.0"},
          {"id", "evt-1"},
          {"source", "/crm"},
          {"type", "everest.tenant.bootstrap.requested"},
          {"data", {{"username", "alice"}}}};
}

// Decodes `event` and returns the error ("" on success).
std::string StructuredError(const json& event) {
  CloudEvent out;
  std::string error;
  const bool ok = DecodeStructuredEvent(event.dump(), &out, &error);
  CHECK(ok == error.empty());
  return error;
}

json With(const char* name, json value) {
  json e = BaseEvent();
  e[name] = std::move(value);
  return e;
}

json Without(const char* name) {
  json e = BaseEvent();
  e.erase(name);
  return e;
}

Headers BaseHeaders() {
  return {{"ce_specversion", "1.0"},
          {"ce_id", "evt-9"},
          {"ce_source", "/billing"},
          {"ce_type", "everest.tenant.suspend.requested"}};
}

std::string BinaryError(const Headers& headers, const std::string& body = R"({"username":"bob"})") {
  CloudEvent out;
  std::string error;
  const bool ok = DecodeBinaryEvent(headers, body, &out, &error);
  CHECK(ok == error.empty());
  return error;
}

Headers HeadersWith(std::string name, std::string value) {
  Headers h = BaseHeaders();
  h.emplace_back(std::move(name), std::move(value));
  return h;
}

Headers HeadersWithout(const std::string& name) {
  Headers h;
  for (const auto& kv : BaseHeaders()) {
    if (kv.first != name) h.push_back(kv);
  }
  return h;
}

std::string WebhookError(const std::string& body) {
  CloudEvent out;
  std::string error;
  const bool ok = DecodeWebhookPayload(body, &out, &error);
  CHECK(ok == error.empty());
  return error;
}

TEST_CASE("A full structured event decodes every attribute", "[unit][cloudevent]") {
  const std::string body = R"({
    "specversion": "1.0",
    "id": "A234-1234-1234",
    "source": "/crm/tenants",
    "type": "everest.tenant.password.requested",
    "subject": "alice",
    "time": "2018-04-05T17:31:00Z",
    "datacontenttype": "application/json; charset=utf-8",
    "comexampleextension1": "value",
    "comexampleothervalue": 5,
    "traced": true,
    "unsetextension": null,
    "data": {"username": "alice", "new_password": "s3cret!x"}
  })";
  CloudEvent ev;
  std::string error;
  REQUIRE(DecodeStructuredEvent(body, &ev, &error));
  CHECK(error.empty());
  CHECK(ev.specversion == "1.0");
  CHECK(ev.id == "A234-1234-1234");
  CHECK(ev.source == "/crm/tenants");
  CHECK(ev.type == "everest.tenant.password.requested");
  CHECK(ev.subject == "alice");
  CHECK(ev.time == "2018-04-05T17:31:00Z");
  CHECK(ev.datacontenttype == "application/json; charset=utf-8");
  CHECK(ev.data == json{{"username", "alice"}, {"new_password", "s3cret!x"}});
  // null = unset: "unsetextension" is not recorded.
  CHECK(ev.extensions == std::map<std::string, std::string>{{"comexampleextension1", "value"},
                                                            {"comexampleothervalue", "5"},
                                                            {"traced", "true"}});
}

TEST_CASE("A minimal structured event leaves the optional attributes empty", "[unit][cloudevent]") {
  json e = BaseEvent();
  e.erase("data");
  e["subject"] = nullptr;  // null counts as absent
  e["time"] = nullptr;
  e["datacontenttype"] = nullptr;
  e["data_base64"] = nullptr;
  CloudEvent ev;
  std::string error;
  REQUIRE(DecodeStructuredEvent(e.dump(), &ev, &error));
  CHECK(ev.id == "evt-1");
  CHECK(ev.subject.empty());
  CHECK(ev.time.empty());
  CHECK(ev.datacontenttype.empty());
  CHECK(ev.data.is_null());
  CHECK(ev.extensions.empty());
}

TEST_CASE("Structured mode: body shape errors", "[unit][cloudevent]") {
  CloudEvent ev;
  std::string error;
  CHECK_FALSE(DecodeStructuredEvent("{not json", &ev, &error));
  CHECK(error == "body is not valid JSON");
  for (const char* body : {"[]", "\"event\"", "null", "42", R"([{"specversion":"1.0"}])"}) {
    INFO(body);
    CHECK_FALSE(DecodeStructuredEvent(body, &ev, &error));
    CHECK(error == "body must be a JSON object");
  }
  CHECK_FALSE(DecodeStructuredEvent(BaseEvent().dump() + " {}", &ev, &error));
  CHECK(error == "body is not valid JSON");
}

TEST_CASE("Structured mode: required attributes", "[unit][cloudevent]") {
  CHECK(StructuredError(Without("specversion")) == "specversion is required");
  CHECK(StructuredError(With("specversion", nullptr)) == "specversion is required");
  CHECK(StructuredError(With("specversion", 1.0)) == "specversion must be a string");
  CHECK(StructuredError(With("specversion", "0.3")) ==
        R"(specversion "0.3" is not supported, expected "1.0")");
  CHECK(StructuredError(With("specversion", "1.0.2")) ==
        R"(specversion "1.0.2" is not supported, expected "1.0")");
  for (const char* name : {"id", "source", "type"}) {
    INFO(name);
    CHECK(StructuredError(Without(name)) == std::string(name) + " is required");
    CHECK(StructuredError(With(name, nullptr)) == std::string(name) + " is required");
    CHECK(StructuredError(With(name, "")) == std::string(name) + " must not be empty");
    CHECK(StructuredError(With(name, 7)) == std::string(name) + " must be a string");
    CHECK(StructuredError(With(name, json::array({"x"}))) ==
          std::string(name) + " must be a string");
  }
  // The first problem in attribute order is reported.
  json e = BaseEvent();
  e.erase("id");
  e.erase("type");
  CHECK(StructuredError(e) == "id is required");
}

TEST_CASE("Structured mode: optional attributes", "[unit][cloudevent]") {
  CHECK(StructuredError(With("subject", "")) == "subject must not be empty when present");
  CHECK(StructuredError(With("subject", 3)) == "subject must be a string");
  CHECK(StructuredError(With("time", "yesterday")) ==
        R"(time "yesterday" is not an RFC 3339 timestamp)");
  CHECK(StructuredError(With("time", "2018-04-05 17:31:00Z")) ==
        R"(time "2018-04-05 17:31:00Z" is not an RFC 3339 timestamp)");
  CHECK(StructuredError(With("time", 1614265330)) == "time must be a string");
  CHECK(StructuredError(With("time", "2018-04-05T17:31:00.5+02:00")).empty());
  CHECK(StructuredError(With("datacontenttype", 1)) == "datacontenttype must be a string");
  for (const char* ok :
       {"application/json", "APPLICATION/JSON", "application/json;charset=utf-8",
        "application/cloudevents+json", "application/vnd.everest.v1+json", "text/json"}) {
    INFO(ok);
    CHECK(StructuredError(With("datacontenttype", ok)).empty());
  }
  for (const char* bad : {"text/plain", "application/xml", "application/jsonx", "json",
                          "application/+json", "/json", "", "application/json/x"}) {
    INFO(bad);
    CHECK(StructuredError(With("datacontenttype", bad)) ==
          "datacontenttype \"" + std::string(bad) +
              "\" is not a JSON media type (application/json or */*+json)");
  }
}

TEST_CASE("Structured mode: data", "[unit][cloudevent]") {
  json binary = Without("data");
  binary["data_base64"] = "eyJhIjoxfQ==";
  CHECK(StructuredError(binary) == "data_base64 is not supported");
  // Alongside data too (the two are mutually exclusive anyway).
  CHECK(StructuredError(With("data_base64", "eyJhIjoxfQ==")) == "data_base64 is not supported");
  CHECK(StructuredError(With("data", json::array())) == "data must be a JSON object");
  CHECK(StructuredError(With("data", "{\"username\":\"a\"}")) == "data must be a JSON object");
  CHECK(StructuredError(With("data", 1)) == "data must be a JSON object");
  // An explicit null payload is present, and not an object.
  CHECK(StructuredError(With("data", nullptr)) == "data must be a JSON object");
  CloudEvent ev;
  std::string error;
  REQUIRE(DecodeStructuredEvent(With("data", json::object()).dump(), &ev, &error));
  CHECK(ev.data == json::object());
}

TEST_CASE("Structured mode: extension attributes", "[unit][cloudevent]") {
  CHECK(
      StructuredError(With("Partitionkey", "x")) ==
      R"(attribute "Partitionkey" is not a valid extension name (1-20 lower-case letters or digits))");
  CHECK(
      StructuredError(With("trace_id", "x")) ==
      R"(attribute "trace_id" is not a valid extension name (1-20 lower-case letters or digits))");
  CHECK(
      StructuredError(With("abcdefghijklmnopqrstu", "x")) ==  // 21 characters
      R"(attribute "abcdefghijklmnopqrstu" is not a valid extension name (1-20 lower-case letters or digits))");
  CHECK(StructuredError(With("abcdefghijklmnopqrst", "x")).empty());  // 20 characters
  CHECK(StructuredError(With("", "x")) ==
        R"(attribute "" is not a valid extension name (1-20 lower-case letters or digits))");
  // Names are quoted safely: non-printables and quotes become '?', long ones are cut.
  CHECK(StructuredError(With("a\"b\n\xC3\xA9", "x")) ==
        R"(attribute "a?b???" is not a valid extension name (1-20 lower-case letters or digits))");
  CHECK(StructuredError(With(std::string(50, 'X').c_str(), "x")) ==
        "attribute \"" + std::string(40, 'X') +
            "...\" is not a valid extension name (1-20 lower-case letters or digits)");
  CHECK(StructuredError(With("ext", json::object())) ==
        R"(extension "ext" must be a string, an integer or a boolean)");
  CHECK(StructuredError(With("ext", json::array({1}))) ==
        R"(extension "ext" must be a string, an integer or a boolean)");
  CHECK(StructuredError(With("ext", 1.5)) ==
        R"(extension "ext" must be a string, an integer or a boolean)");

  json e = BaseEvent();
  e["n"] = -12;
  e["big"] = 18446744073709551615u;
  e["off"] = false;
  e["dataschema"] = "https://example.test/s.json";  // not decoded specially: an extension
  CloudEvent ev;
  std::string error;
  REQUIRE(DecodeStructuredEvent(e.dump(), &ev, &error));
  CHECK(ev.extensions ==
        std::map<std::string, std::string>{{"n", "-12"},
                                           {"big", "18446744073709551615"},
                                           {"off", "false"},
                                           {"dataschema", "https://example.test/s.json"}});
}

TEST_CASE("A failed decode leaves the output untouched", "[unit][cloudevent]") {
  CloudEvent ev;
  ev.id = "keep";
  std::string error;
  CHECK_FALSE(DecodeStructuredEvent(With("ext", json::object()).dump(), &ev, &error));
  CHECK(ev.id == "keep");
  CHECK_FALSE(DecodeBinaryEvent(HeadersWithout("ce_type"), "{}", &ev, &error));
  CHECK(ev.id == "keep");
  CHECK_FALSE(DecodeWebhookPayload(R"({"type":"t"})", &ev, &error));
  CHECK(ev.id == "keep");
}

TEST_CASE("Binary mode decodes ce_ headers and the record value", "[unit][cloudevent]") {
  Headers h = BaseHeaders();
  h.emplace_back("ce_subject", "bob");
  h.emplace_back("ce_time", "2026-01-31T23:59:59.5+01:00");
  h.emplace_back("ce_partitionkey", "bob");
  h.emplace_back("ce_traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  h.emplace_back("content-type", "application/json; charset=utf-8");
  h.emplace_back("traceparent", "ignored: no ce_ prefix");
  h.emplace_back("CE_ID", "ignored: the prefix is case-sensitive");
  h.emplace_back("ce-source", "ignored: HTTP spelling");
  CloudEvent ev;
  std::string error;
  REQUIRE(DecodeBinaryEvent(h, R"({"username":"bob"})", &ev, &error));
  CHECK(error.empty());
  CHECK(ev.specversion == "1.0");
  CHECK(ev.id == "evt-9");
  CHECK(ev.source == "/billing");
  CHECK(ev.type == "everest.tenant.suspend.requested");
  CHECK(ev.subject == "bob");
  CHECK(ev.time == "2026-01-31T23:59:59.5+01:00");
  CHECK(ev.datacontenttype == "application/json; charset=utf-8");
  CHECK(ev.data == json{{"username", "bob"}});
  CHECK(ev.extensions ==
        std::map<std::string, std::string>{
            {"partitionkey", "bob"},
            {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}});
}

TEST_CASE("Binary mode: an empty record value means no data", "[unit][cloudevent]") {
  for (const char* body : {"", " \r\n"}) {
    CloudEvent ev;
    std::string error;
    REQUIRE(DecodeBinaryEvent(BaseHeaders(), body, &ev, &error));
    CHECK(ev.data.is_null());
    CHECK(ev.datacontenttype.empty());
  }
}

TEST_CASE("Binary mode: every error path", "[unit][cloudevent]") {
  for (const char* name : {"ce_specversion", "ce_id", "ce_source", "ce_type"}) {
    INFO(name);
    CHECK(BinaryError(HeadersWithout(name)) == std::string(name) + " is required");
    Headers empty = HeadersWithout(name);
    empty.emplace_back(name, "");
    CHECK(BinaryError(empty) == std::string(name) + " must not be empty");
  }
  Headers old = HeadersWithout("ce_specversion");
  old.emplace_back("ce_specversion", "0.3");
  CHECK(BinaryError(old) == R"(ce_specversion "0.3" is not supported, expected "1.0")");
  CHECK(BinaryError(HeadersWith("ce_id", "evt-10")) == R"(duplicate header "ce_id")");
  CHECK(BinaryError(HeadersWith("ce_ext", "a"), "{}").empty());
  Headers dup_ext = HeadersWith("ce_ext", "a");
  dup_ext.emplace_back("ce_ext", "b");
  CHECK(BinaryError(dup_ext) == R"(duplicate header "ce_ext")");
  Headers dup_ct = HeadersWith("content-type", "application/json");
  dup_ct.emplace_back("content-type", "application/json");
  CHECK(BinaryError(dup_ct) == "duplicate content-type header");
  CHECK(BinaryError(HeadersWith("content-type", "application/cloudevents+json")) ==
        R"(content-type "application/cloudevents+json" is not application/json)");
  CHECK(BinaryError(HeadersWith("content-type", "text/plain")) ==
        R"(content-type "text/plain" is not application/json)");
  CHECK(BinaryError(HeadersWith("content-type", "Application/JSON")).empty());
  CHECK(BinaryError(HeadersWith("ce_datacontenttype", "application/json")) ==
        "ce_datacontenttype is not used in Kafka binary mode, use the content-type header");
  CHECK(BinaryError(HeadersWith("ce_data", "{}")) ==
        "ce_data is not an attribute, the record value carries the data");
  CHECK(
      BinaryError(HeadersWith("ce_trace_id", "x")) ==
      R"(header "ce_trace_id" does not name a valid extension (1-20 lower-case letters or digits))");
  CHECK(BinaryError(HeadersWith("ce_Ext", "x")) ==
        R"(header "ce_Ext" does not name a valid extension (1-20 lower-case letters or digits))");
  CHECK(BinaryError(HeadersWith("ce_", "x")) ==
        R"(header "ce_" does not name a valid extension (1-20 lower-case letters or digits))");
  CHECK(BinaryError(HeadersWith("ce_subject", "")) == "ce_subject must not be empty when present");
  CHECK(BinaryError(HeadersWith("ce_time", "2026-02-30T00:00:00Z")) ==
        R"(ce_time "2026-02-30T00:00:00Z" is not an RFC 3339 timestamp)");
  CHECK(BinaryError(BaseHeaders(), "{\"username\":") == "record value is not valid JSON");
  CHECK(BinaryError(BaseHeaders(), "[1,2]") == "data (the record value) must be a JSON object");
  CHECK(BinaryError(BaseHeaders(), "\"bob\"") == "data (the record value) must be a JSON object");
  CHECK(BinaryError(BaseHeaders(), "null") == "data (the record value) must be a JSON object");
}

TEST_CASE("Webhook payloads: the simple form", "[unit][cloudevent]") {
  CloudEvent ev;
  ev.id = "stale";
  std::string error;
  REQUIRE(DecodeWebhookPayload(
      R"({"type":"everest.tenant.delete.requested","timestamp":"2022-11-03T20:26:10.344522Z",)"
      R"("data":{"username":"alice"}})",
      &ev, &error));
  CHECK(ev.type == "everest.tenant.delete.requested");
  CHECK(ev.time == "2022-11-03T20:26:10.344522Z");
  CHECK(ev.data == json{{"username", "alice"}});
  CHECK(ev.id.empty());  // the caller uses webhook-id
  CHECK(ev.source.empty());
  CHECK(ev.specversion.empty());
  CHECK(ev.extensions.empty());
}

TEST_CASE("Webhook payloads: a CloudEvent is decoded as structured mode", "[unit][cloudevent]") {
  CloudEvent ev;
  std::string error;
  json e = BaseEvent();
  e["subject"] = "alice";
  REQUIRE(DecodeWebhookPayload(e.dump(), &ev, &error));
  CHECK(ev.specversion == "1.0");
  CHECK(ev.id == "evt-1");
  CHECK(ev.source == "/crm");
  CHECK(ev.subject == "alice");
  CHECK(ev.data == json{{"username", "alice"}});
  // Its errors are the structured-mode ones.
  CHECK(WebhookError(Without("id").dump()) == "id is required");
  CHECK(WebhookError(With("specversion", "0.3").dump()) ==
        R"(specversion "0.3" is not supported, expected "1.0")");
  CHECK(WebhookError(With("specversion", nullptr).dump()) == "specversion is required");
}

TEST_CASE("Webhook payloads: every error path of the simple form", "[unit][cloudevent]") {
  const json simple = {{"type", "everest.tenant.resume.requested"},
                       {"timestamp", "2022-11-03T20:26:10Z"},
                       {"data", {{"username", "alice"}}}};
  CHECK(WebhookError(simple.dump()).empty());
  CHECK(WebhookError("nope") == "body is not valid JSON");
  CHECK(WebhookError("[]") == "body must be a JSON object");
  auto with = [&](const char* name, json value) {
    json j = simple;
    j[name] = std::move(value);
    return WebhookError(j.dump());
  };
  auto without = [&](const char* name) {
    json j = simple;
    j.erase(name);
    return WebhookError(j.dump());
  };
  CHECK(with("id", "x") ==
        R"(unknown member "id": expected {"type","timestamp","data"} or a CloudEvent)");
  CHECK(with("source", "/crm") ==
        R"(unknown member "source": expected {"type","timestamp","data"} or a CloudEvent)");
  CHECK(without("type") == "type is required");
  CHECK(with("type", "") == "type must be a non-empty string");
  CHECK(with("type", 1) == "type must be a non-empty string");
  CHECK(without("timestamp") == "timestamp is required");
  CHECK(with("timestamp", 1667507170) == "timestamp must be an RFC 3339 string");
  CHECK(with("timestamp", "2022-11-03") ==
        R"(timestamp "2022-11-03" is not an RFC 3339 timestamp)");
  CHECK(without("data") == "data is required");
  CHECK(with("data", json::array()) == "data must be a JSON object");
  CHECK(with("data", nullptr) == "data must be a JSON object");
}

TEST_CASE("ActionOfType maps the seven request types", "[unit][cloudevent]") {
  for (const char* action :
       {"bootstrap", "password", "resources", "operators", "suspend", "resume", "delete"}) {
    INFO(action);
    const auto got = ActionOfType("everest.tenant." + std::string(action) + ".requested");
    REQUIRE(got.has_value());
    CHECK(*got == action);
  }
  for (const char* type :
       {"", "everest.tenant.bootstrap.succeeded", "everest.tenant.bootstrap",
        "everest.tenant..requested", "everest.tenant.requested", "everest.tenant.create.requested",
        "Everest.tenant.bootstrap.requested", "everest.tenant.BOOTSTRAP.requested",
        "everest.tenant.bootstrap.requested.v2", "xeverest.tenant.bootstrap.requested",
        "everest.tenant.bootstrap.extra.requested", "everest.tenant.bootstrap.requested ",
        "everest.tenants.bootstrap.requested"}) {
    INFO('"' << type << '"');
    CHECK_FALSE(ActionOfType(type).has_value());
  }
}

TEST_CASE("IsRfc3339Timestamp", "[unit][cloudevent]") {
  for (const char* ok :
       {"2018-04-05T17:31:00Z", "2026-12-01T22:49:14.123Z", "2018-04-05t17:31:00z",
        "2024-02-29T00:00:00+05:30", "2000-02-29T12:00:00-00:00", "1990-12-31T23:59:60Z",
        "2018-04-05T17:31:00.123456789-07:00", "0001-01-01T00:00:00Z"}) {
    INFO(ok);
    CHECK(IsRfc3339Timestamp(ok));
  }
  for (const char* bad : {"",
                          "2018-04-05",
                          "2018-04-05T17:31:00",
                          "2018-04-05 17:31:00Z",
                          "2018-4-05T17:31:00Z",
                          "2018-04-05T17:31Z",
                          "2023-02-29T00:00:00Z",
                          "1900-02-29T00:00:00Z",
                          "2018-04-31T00:00:00Z",
                          "2018-13-05T00:00:00Z",
                          "2018-00-05T00:00:00Z",
                          "2018-04-00T00:00:00Z",
                          "2018-04-05T24:00:00Z",
                          "2018-04-05T23:60:00Z",
                          "2018-04-05T23:59:61Z",
                          "2018-04-05T17:31:00.Z",
                          "2018-04-05T17:31:00,5Z",
                          "2018-04-05T17:31:00+0530",
                          "2018-04-05T17:31:00+24:00",
                          "2018-04-05T17:31:00+05:60",
                          "2018-04-05T17:31:00ZZ",
                          "2018-04-05T17:31:00Z ",
                          "+2018-04-05T17:31:00Z",
                          "2018-04-05T17:31:00UTC"}) {
    INFO(bad);
    CHECK_FALSE(IsRfc3339Timestamp(bad));
  }
}

TEST_CASE("RedactSecrets replaces password values at any depth", "[unit][cloudevent]") {
  const std::string body = R"({
    "specversion": "1.0", "id": "e1",
    "data": {
      "username": "alice",
      "password": "s3cret!x",
      "nested": {"new_password": "n3w!pass", "list": [{"password": 123}, {"password": {"a": [1, 2]}}]},
      "passwords": "not-a-secret-field",
      "note": "the word password in a value stays",
      "Password": "case-sensitive: stays",
      "ratio": 1.50,
      "empty": {"password": [], "x": null}
    }
  })";
  CHECK(RedactSecrets(body) ==
        R"({"specversion":"1.0","id":"e1","data":{"username":"alice","password":"********",)"
        R"("nested":{"new_password":"********","list":[{"password":"********"},)"
        R"({"password":"********"}]},"passwords":"not-a-secret-field",)"
        R"("note":"the word password in a value stays","Password":"case-sensitive: stays",)"
        R"("ratio":1.50,"empty":{"password":"********","x":null}}})");
}

TEST_CASE("RedactSecrets output is valid JSON with the same shape", "[unit][cloudevent]") {
  const std::string body =
      R"({"a":[true,false,null,-1,18446744073709551615,2.5e3,"x\"y\u00e9\n"],"password":"p",)"
      R"("password":"dup","b":{}, "c":[]})";
  const std::string redacted = RedactSecrets(body);
  // Duplicate members are both redacted (a tree would keep only the last).
  CHECK(redacted ==
        "{\"a\":[true,false,null,-1,18446744073709551615,2.5e3,\"x\\\"y\xC3\xA9\\n\"],"
        "\"password\":\"********\",\"password\":\"********\",\"b\":{},\"c\":[]}");
  const json reparsed = json::parse(redacted);
  CHECK(reparsed["a"][6] == "x\"y\xC3\xA9\n");
  CHECK(reparsed["password"] == "********");
}

TEST_CASE("RedactSecrets leaves non-JSON bodies unchanged", "[unit][cloudevent]") {
  for (const std::string& body :
       {std::string(""), std::string("not json"), std::string(R"({"password":"truncated)"),
        std::string(R"({"password":"x"} trailing)"), std::string("\xFF\xFE{}"),
        std::string("{\"password\":\"\xC3\x28\"}")}) {
    INFO(body);
    CHECK(RedactSecrets(body) == body);
  }
  // Scalars are JSON too; a bare string is a value, never a member.
  CHECK(RedactSecrets(R"( "password" )") == R"("password")");
  CHECK(RedactSecrets("[1, 2]") == "[1,2]");
}

TEST_CASE("RedactSecrets handles nesting far beyond any parse limit", "[unit][cloudevent]") {
  constexpr int kDepth = 20000;
  std::string body;
  for (int i = 0; i < kDepth; ++i) body += "{\"k\":[";
  body += R"({"password":"deep-secret"})";
  for (int i = 0; i < kDepth; ++i) body += "]}";
  const std::string redacted = RedactSecrets(body);
  CHECK(redacted.find("deep-secret") == std::string::npos);
  std::string expected;
  for (int i = 0; i < kDepth; ++i) expected += "{\"k\":[";
  expected += R"({"password":"********"})";
  for (int i = 0; i < kDepth; ++i) expected += "]}";
  CHECK(redacted == expected);
}

}  // namespace
}  // namespace bootstrapd

TEST_CASE("decoders refuse deep nesting and NUL bytes before building a tree", "[unit][cloudevent]") {
  // A deep `data` crashed the Kafka intake by stack overflow (fuzz finding F2).
  std::string deep = R"({"specversion":"1.0","id":"1","source":"s","type":"t","data":{"x":)";
  deep += std::string(60000, '[') + std::string(60000, ']') + "}}";
  bootstrapd::CloudEvent ev;
  std::string err;
  CHECK_FALSE(bootstrapd::DecodeStructuredEvent(deep, &ev, &err));
  CHECK(err.find("deeper than") != std::string::npos);
  CHECK_FALSE(bootstrapd::DecodeWebhookPayload(deep, &ev, &err));
  // nlohmann stops at a NUL: the rest must not be silently ignored (F3).
  const std::string nul = std::string(R"({"specversion":"1.0","id":"1","source":"s","type":"t"})") +
                          std::string(1, '\0') + "garbage";
  CHECK_FALSE(bootstrapd::DecodeStructuredEvent(nul, &ev, &err));
  CHECK(err.find("NUL") != std::string::npos);
}

TEST_CASE("binary mode refuses a deep or NUL-holding record value", "[unit][cloudevent]") {
  bootstrapd::CloudEvent ev;
  std::string err;
  const std::vector<std::pair<std::string, std::string>> h = {
      {"ce_specversion", "1.0"}, {"ce_id", "1"}, {"ce_source", "s"}, {"ce_type", "everest.tenant.suspend.requested"}};
  const std::string deep = std::string(60000, '[') + std::string(60000, ']');
  CHECK_FALSE(bootstrapd::DecodeBinaryEvent(h, deep, &ev, &err));
  CHECK(err == "record value nests deeper than 32 levels");
  const std::string nul = std::string(R"({"username":"bob"})") + std::string(1, '\0') + "x";
  CHECK_FALSE(bootstrapd::DecodeBinaryEvent(h, nul, &ev, &err));
  CHECK(err == "record value contains a NUL byte");
}

// json_io: request bodies read into typed fields (with errors that name the field), base64
// float32 columns, and the JSON the server writes (errors, hits, points).
#include "server/json_io.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace nearstore::server {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// Standard base64 (RFC 4648, with padding), written here so that the decoder under test is not
// checked against itself.
std::string Base64(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  auto byte = [&](size_t at) {
    return static_cast<uint32_t>(static_cast<unsigned char>(bytes[at]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  if (bytes.size() - i == 1) {
    const uint32_t v = byte(i) << 16;
    out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (bytes.size() - i == 2) {
    const uint32_t v = byte(i) << 16 | byte(i + 1) << 8;
    out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

// The little-endian bytes of float32 values with these bit patterns.
std::string LittleEndian(const std::vector<uint32_t>& bits) {
  std::string out;
  for (uint32_t b : bits) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((b >> (8 * i)) & 0xff));
  }
  return out;
}

std::vector<uint32_t> BitsOf(const std::vector<float>& values) {
  std::vector<uint32_t> out;
  for (float v : values) out.push_back(std::bit_cast<uint32_t>(v));
  return out;
}

// The message of a failed Result/Status ("" when it succeeded).
template <class T>
std::string ErrorOf(const Result<T>& r) {
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  return r.status().message();
}
std::string ErrorOf(const Status& s) {
  if (s.ok()) return "";
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  return s.message();
}

// ---------------------------------------------------------------------------------------------
// ParseObject

TEST(ParseObjectTest, AcceptsAnObject) {
  auto r = ParseObject(R"({"a": 1, "b": [true, null], "c": {"d": "e"}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["a"], 1);
  EXPECT_EQ((*r)["c"]["d"], "e");
  EXPECT_TRUE(ParseObject("{}").ok());
  EXPECT_TRUE(ParseObject(" \n{}\t").ok());
}

TEST(ParseObjectTest, RefusesEmptyInvalidAndNonObjectBodies) {
  EXPECT_THAT(ErrorOf(ParseObject("")), HasSubstr("it had none"));
  for (const char* body : {"{", "{\"a\": }", "{'a': 1}", "{\"a\": 1} x", "nul", "{\"a\": 1e400}",
                           "{\"a\": \"\xff\"}", " "}) {
    SCOPED_TRACE(body);
    EXPECT_THAT(ErrorOf(ParseObject(body)), HasSubstr("not valid JSON"));
  }
  EXPECT_THAT(ErrorOf(ParseObject("[1, 2]")), HasSubstr("must be a JSON object, got array [1,2]"));
  EXPECT_THAT(ErrorOf(ParseObject("\"text\"")), HasSubstr("must be a JSON object, got string"));
  EXPECT_THAT(ErrorOf(ParseObject("null")), HasSubstr("must be a JSON object, got null"));
  EXPECT_THAT(ErrorOf(ParseObject("42")), HasSubstr("must be a JSON object, got number 42"));
}

// `levels` nested containers: an object holding arrays.
std::string Nested(size_t levels) {
  return "{\"a\":" + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}";
}

TEST(ParseObjectTest, RefusesNestingBombs) {
  const std::string expected = "nests deeper than " + std::to_string(kMaxBodyDepth) + " levels";
  EXPECT_THAT(ErrorOf(ParseObject(std::string(100000, '['))), HasSubstr(expected));
  EXPECT_THAT(ErrorOf(ParseObject(std::string(100000, '[') + std::string(100000, ']'))),
              HasSubstr(expected));
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  EXPECT_THAT(ErrorOf(ParseObject(objects)), HasSubstr(expected));
  EXPECT_THAT(ErrorOf(ParseObject(Nested(kMaxBodyDepth + 1))), HasSubstr(expected));
  EXPECT_TRUE(ParseObject(Nested(kMaxBodyDepth)).ok());
  EXPECT_TRUE(ParseObject(Nested(10)).ok());
}

// ---------------------------------------------------------------------------------------------
// Fields

TEST(FieldsTest, OnlyKnownNamesTheFirstUnknownField) {
  const json point = {{"id", "a"}, {"vector", {1}}, {"colour", "red"}};
  const Fields f(point, "points[0]");
  EXPECT_TRUE(f.OnlyKnown({"id", "vector", "colour"}).ok());
  const std::string message = ErrorOf(f.OnlyKnown({"id", "vector", "metadata"}));
  EXPECT_THAT(message, HasSubstr("unknown field 'points[0].colour'"));
  EXPECT_THAT(message, HasSubstr("expected one of: id, vector, metadata"));

  const json top = {{"nme", "docs"}};
  EXPECT_THAT(ErrorOf(Fields(top, "").OnlyKnown({"name"})), HasSubstr("unknown field 'nme'"));
  EXPECT_TRUE(Fields(json::object(), "").OnlyKnown({}).ok());
}

TEST(FieldsTest, Where) {
  const json o = json::object();
  EXPECT_EQ(Fields(o, "").Where("k"), "k");
  EXPECT_EQ(Fields(o, "points[3]").Where("vector"), "points[3].vector");
}

TEST(FieldsTest, String) {
  const json o = {{"name", "docs"}, {"n", 5}, {"empty", ""}};
  const Fields f(o, "body");
  EXPECT_EQ(*f.String("name"), "docs");
  EXPECT_EQ(*f.String("empty"), "");
  EXPECT_EQ(*f.String("name", "fallback"), "docs");
  EXPECT_EQ(*f.String("absent", "fallback"), "fallback");
  EXPECT_THAT(ErrorOf(f.String("absent")), HasSubstr("'body.absent' is required (a string)"));
  EXPECT_THAT(ErrorOf(f.String("n")), HasSubstr("'body.n' must be a string, got number 5"));
  EXPECT_THAT(ErrorOf(f.String("n", "x")), HasSubstr("'body.n' must be a string"));
}

TEST(FieldsTest, Unsigned) {
  const json o = json::parse(
      R"({"five": 5, "zero": 0, "ten": 10, "eleven": 11, "minus": -1, "half": 1.5,
          "text": "5", "big": 18446744073709551615, "null": null})");
  const Fields f(o, "");
  EXPECT_EQ(*f.Unsigned("absent", 7, 1, 10), 7u);
  EXPECT_EQ(*f.Unsigned("five", 7, 1, 10), 5u);
  EXPECT_EQ(*f.Unsigned("ten", 7, 1, 10), 10u);  // the bounds are inclusive
  EXPECT_EQ(*f.Unsigned("zero", 7, 0, 10), 0u);
  EXPECT_EQ(*f.Unsigned("big", 0, 0, UINT64_MAX), UINT64_MAX);
  EXPECT_THAT(ErrorOf(f.Unsigned("zero", 7, 1, 10)),
              HasSubstr("'zero' must be an integer in 1..10, got number 0"));
  EXPECT_THAT(ErrorOf(f.Unsigned("eleven", 7, 1, 10)), HasSubstr("'eleven' must be an integer"));
  for (const char* key : {"minus", "half", "text", "big", "null"}) {
    EXPECT_THAT(ErrorOf(f.Unsigned(key, 7, 0, 100)), HasSubstr(std::string("'") + key + "'"))
        << key;
  }
}

TEST(FieldsTest, Integer) {
  const json o = json::parse(
      R"({"minus": -5, "five": 5, "half": 1.5, "text": "1", "huge": 18446744073709551615,
          "min": -9223372036854775808, "bool": true})");
  const Fields f(o, "q");
  EXPECT_EQ(*f.Integer("absent", 10), 10);
  EXPECT_EQ(*f.Integer("minus", 10), -5);
  EXPECT_EQ(*f.Integer("five", 10), 5);
  EXPECT_EQ(*f.Integer("huge", 10), INT64_MAX);  // clamped, for the engine to refuse
  EXPECT_EQ(*f.Integer("min", 10), INT64_MIN);
  EXPECT_THAT(ErrorOf(f.Integer("half", 10)), HasSubstr("'q.half' must be an integer, got number"));
  EXPECT_THAT(ErrorOf(f.Integer("text", 10)), HasSubstr("'q.text' must be an integer"));
  EXPECT_THAT(ErrorOf(f.Integer("bool", 10)), HasSubstr("'q.bool' must be an integer"));
}

TEST(FieldsTest, Bool) {
  const json o = {{"yes", true}, {"no", false}, {"one", 1}, {"text", "true"}};
  const Fields f(o, "");
  EXPECT_TRUE(*f.Bool("yes", false));
  EXPECT_FALSE(*f.Bool("no", true));
  EXPECT_TRUE(*f.Bool("absent", true));
  EXPECT_FALSE(*f.Bool("absent", false));
  EXPECT_THAT(ErrorOf(f.Bool("one", false)),
              HasSubstr("'one' must be true or false, got number 1"));
  EXPECT_THAT(ErrorOf(f.Bool("text", false)), HasSubstr("'text' must be true or false"));
}

TEST(FieldsTest, Number) {
  const json o = json::parse(
      R"({"half": 0.5, "two": 2, "text": "nan", "big": 1e300, "minus": -1, "null": null})");
  const Fields f(o, "q");
  EXPECT_EQ(*f.Number("absent", 0.25, 0, 1), 0.25);
  EXPECT_EQ(*f.Number("half", 0, 0, 1), 0.5);
  EXPECT_EQ(*f.Number("two", 0, 0, 2), 2.0);  // integers too; the bounds are inclusive
  EXPECT_THAT(ErrorOf(f.Number("text", 0, 0, 1)),
              HasSubstr("'q.text' must be a number in 0..1, got string \"nan\""));
  for (const char* key : {"two", "big", "minus", "null"}) {
    EXPECT_THAT(ErrorOf(f.Number(key, 0, 0, 1)), HasSubstr(std::string("'q.") + key + "'")) << key;
  }
}

TEST(FieldsTest, ObjectAndArray) {
  const json o = json::parse(R"({"o": {"a": 1}, "l": [1, 2, 3], "n": 5, "null": null})");
  const Fields f(o, "q");
  EXPECT_EQ(*f.Object("absent"), nullptr);
  EXPECT_EQ((**f.Object("o"))["a"], 1);
  EXPECT_THAT(ErrorOf(f.Object("l")), HasSubstr("'q.l' must be an object, got array [1,2,3]"));
  EXPECT_THAT(ErrorOf(f.Object("null")), HasSubstr("'q.null' must be an object"));
  EXPECT_EQ(*f.Array("absent", 3), nullptr);
  EXPECT_EQ((*f.Array("l", 3))->size(), 3u);
  EXPECT_THAT(ErrorOf(f.Array("l", 2)),
              HasSubstr("'q.l' holds 3 entries; at most 2 are accepted per request"));
  EXPECT_THAT(ErrorOf(f.Array("n", 2)), HasSubstr("'q.n' must be a list, got number 5"));
}

TEST(FieldsTest, NullsAsValuesOrAsAbsent) {
  const json o = json::parse(R"({"limit": null, "name": null})");
  const Fields values(o, "");
  EXPECT_TRUE(values.Has("limit"));
  EXPECT_THAT(ErrorOf(values.Unsigned("limit", 10, 1, 100)), HasSubstr("'limit'"));
  const Fields absent(o, "", Fields::Nulls::kAbsent);
  EXPECT_FALSE(absent.Has("limit"));
  EXPECT_EQ(*absent.Unsigned("limit", 10, 1, 100), 10u);
  EXPECT_EQ(*absent.String("name", "x"), "x");
  EXPECT_THAT(ErrorOf(absent.String("name")), HasSubstr("'name' is required"));
  EXPECT_THAT(ErrorOf(absent.OnlyKnown({"limit"})), HasSubstr("unknown field 'name'"));
}

TEST(FieldsTest, Vector) {
  const json o = json::parse(
      R"({"good": [1, -2.5, 0, 3e38], "empty": [], "text": ["x"], "scalar": 3,
          "null_in": [1, null], "big": [1, 1e300], "minus_big": [-3.5e38]})");
  const Fields f(o, "points[0]");
  EXPECT_EQ(*f.Vector("good"), (std::vector<float>{1, -2.5f, 0, 3e38f}));
  EXPECT_TRUE(f.Vector("empty")->empty());
  EXPECT_THAT(ErrorOf(f.Vector("absent")),
              HasSubstr("'points[0].absent' is required (a list of numbers)"));
  EXPECT_THAT(ErrorOf(f.Vector("scalar")),
              HasSubstr("'points[0].scalar' must be a list of numbers, got number 3"));
  EXPECT_THAT(ErrorOf(f.Vector("text")),
              HasSubstr("'points[0].text[0]' must be a number, got string \"x\""));
  EXPECT_THAT(ErrorOf(f.Vector("null_in")), HasSubstr("'points[0].null_in[1]' must be a number"));
  EXPECT_THAT(ErrorOf(f.Vector("big")),
              HasSubstr("'points[0].big[1]' is 1e+300, outside the range of a float32"));
  EXPECT_THAT(ErrorOf(f.Vector("minus_big")), HasSubstr("outside the range of a float32"));
}

TEST(FieldsTest, VectorNamesThePointInUpserts) {
  const json point = json::parse(R"({"id": "a", "vector": "oops"})");
  EXPECT_THAT(ErrorOf(Fields(point, "points[0]").Vector("vector")),
              HasSubstr("'points[0].vector' must be a list of numbers, got string \"oops\""));
}

TEST(ReadVectorTest, KeepsFloat32RangeExactly) {
  const float max = std::numeric_limits<float>::max();
  auto r = ReadVector(json::array({static_cast<double>(max), -static_cast<double>(max)}), "v");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(BitsOf(*r), BitsOf({max, -max}));
  // Just past FLT_MAX (it would round to infinity, or to FLT_MAX).
  EXPECT_THAT(ErrorOf(ReadVector(json::array({static_cast<double>(max) * (1 + 1e-7)}), "v")),
              HasSubstr("'v[0]' is"));
  EXPECT_THAT(ErrorOf(ReadVector(json::array({1, std::numeric_limits<double>::infinity()}), "v")),
              HasSubstr("'v[1]'"));
  EXPECT_THAT(ErrorOf(ReadVector(json::array({std::nan("")}), "v")), HasSubstr("'v[0]'"));
  EXPECT_THAT(ErrorOf(ReadVector(json::object(), "w")), HasSubstr("'w' must be a list"));
  // Integers, large and negative, are numbers too.
  r = ReadVector(json::parse("[18446744073709551615, -7, 0.5]"), "v");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<float>{std::ldexp(1.0f, 64), -7, 0.5f}));
}

TEST(FieldsTest, Filter) {
  const json o = json::parse(
      R"({"object": {"lang": "en"}, "text": "{\"lang\": \"fr\"}", "null": null, "number": 3,
          "list": [1]})");
  const Fields f(o, "");
  EXPECT_EQ(*f.Filter("absent"), "");
  EXPECT_EQ(*f.Filter("null"), "");
  EXPECT_EQ(json::parse(*f.Filter("object")), json({{"lang", "en"}}));
  EXPECT_EQ(*f.Filter("text"), "{\"lang\": \"fr\"}");  // passed on as it is
  EXPECT_THAT(ErrorOf(f.Filter("number")),
              HasSubstr("'number' must be a filter object, got number"));
  EXPECT_THAT(ErrorOf(f.Filter("list")), HasSubstr("'list' must be a filter object"));
}

TEST(FieldsTest, Metadata) {
  const json o =
      json::parse(R"({"object": {"n": 1, "s": "é"}, "null": null, "list": [1], "text": "{}"})");
  const Fields f(o, "points[2]");
  EXPECT_EQ(*f.Metadata("absent"), "{}");
  EXPECT_EQ(*f.Metadata("null"), "{}");
  EXPECT_EQ(json::parse(*f.Metadata("object")), json::parse(R"({"n": 1, "s": "é"})"));
  EXPECT_THAT(ErrorOf(f.Metadata("list")),
              HasSubstr("'points[2].list' must be a JSON object, got array"));
  EXPECT_THAT(ErrorOf(f.Metadata("text")), HasSubstr("'points[2].text' must be a JSON object"));
}

TEST(FieldsTest, Strings) {
  const json o = json::parse(R"({"ids": ["a", "b", ""], "mixed": ["a", 2], "text": "a",
                                "empty": []})");
  const Fields f(o, "");
  EXPECT_THAT(*f.Strings("ids", 3), ::testing::ElementsAre("a", "b", ""));
  EXPECT_TRUE(f.Strings("empty", 0)->empty());
  EXPECT_THAT(ErrorOf(f.Strings("ids", 2)),
              HasSubstr("'ids' holds 3 entries; at most 2 are accepted per request"));
  EXPECT_THAT(ErrorOf(f.Strings("mixed", 10)),
              HasSubstr("'mixed[1]' must be a string, got number 2"));
  EXPECT_THAT(ErrorOf(f.Strings("text", 10)), HasSubstr("'text' must be a list of strings"));
  EXPECT_THAT(ErrorOf(f.Strings("absent", 10)), HasSubstr("'absent' is required (a list of ids)"));
}

// ---------------------------------------------------------------------------------------------
// Floats32

TEST(Floats32Test, KnownAnswer) {
  // 1.0f = 0x3f800000: bytes 00 00 80 3f.
  const json o = {{"v", "AACAPw=="}, {"two", "AACAPwAAAMA="}};
  auto r = Fields(o, "").Floats32("v");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, std::vector<float>{1.0f});
  r = Fields(o, "").Floats32("two");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (std::vector<float>{1.0f, -2.0f}));
}

TEST(Floats32Test, RoundTripsEveryBitPattern) {
  const std::vector<uint32_t> special = {
      std::bit_cast<uint32_t>(1.5f),
      std::bit_cast<uint32_t>(-0.0f),
      0x7fc00000,  // quiet NaN
      0x7fc00001,  // NaN with a payload
      0xffc12345,  // negative NaN with a payload
      0x7f800001,  // signalling NaN
      0x7f800000,  // +inf
      0xff800000,  // -inf
      0x00000001,  // the smallest subnormal
      std::bit_cast<uint32_t>(std::numeric_limits<float>::max()),
      std::bit_cast<uint32_t>(0.1f),
  };
  // Every count of values 0..11: each padding (none, "=", "==") several times over.
  for (size_t n = 0; n <= special.size(); ++n) {
    const std::vector<uint32_t> bits(special.begin(), special.begin() + n);
    const std::string text = Base64(LittleEndian(bits));
    const json o = {{"vectors_f32", text}};
    auto r = Fields(o, "").Floats32("vectors_f32");
    ASSERT_TRUE(r.ok()) << n << " values, '" << text << "': " << r.status().ToString();
    EXPECT_EQ(BitsOf(*r), bits) << n << " values, '" << text << "'";
  }
}

TEST(Floats32Test, RefusesBadText) {
  const std::string one = Base64(LittleEndian({0x3f800000}));  // "AACAPw=="
  const json o = {
      {"short", one.substr(0, 7)},      // length not a multiple of 4
      {"long", one + "A"},              //
      {"bang", "AA!A"},                 // not base64
      {"space", "AA A"},                //
      {"utf8", "AACA\xc3\xa9=="},       //
      {"five_bytes", Base64("abcde")},  // bytes not a multiple of 4
      {"six_bytes", Base64("abcdef")},  //
      {"three_bytes", Base64("abc")},   //
      {"number", 5},                    // not a string
  };
  const Fields f(o, "q");
  EXPECT_THAT(ErrorOf(f.Floats32("short")),
              HasSubstr("'q.short' must be base64 of float32 values: its length is not a "
                        "multiple of 4"));
  EXPECT_THAT(ErrorOf(f.Floats32("long")), HasSubstr("its length is not a multiple of 4"));
  EXPECT_THAT(ErrorOf(f.Floats32("bang")),
              HasSubstr("'q.bang' must be base64 of float32 values: it holds '!'"));
  EXPECT_THAT(ErrorOf(f.Floats32("space")), HasSubstr("it holds ' '"));
  EXPECT_THAT(ErrorOf(f.Floats32("utf8")), HasSubstr("it holds '"));
  // What OpenSSL's decoder alone would let through: blanks, and '=' inside.
  const json lenient = {
      {"lead", "    AAAAAA=="}, {"inner", "AAAAAAAAAAAA===="}, {"mid", "AA=AAAAA"}};
  const Fields g(lenient, "q");
  for (const char* key : {"lead", "inner", "mid"}) {
    EXPECT_THAT(ErrorOf(g.Floats32(key)), HasSubstr("it holds")) << key;
  }
  for (const char* key : {"five_bytes", "six_bytes", "three_bytes"}) {
    EXPECT_THAT(ErrorOf(f.Floats32(key)),
                HasSubstr("its bytes are not a whole number of float32 values"))
        << key;
  }
  EXPECT_THAT(ErrorOf(f.Floats32("number")), HasSubstr("'q.number' must be a string"));
  EXPECT_THAT(ErrorOf(f.Floats32("absent")), HasSubstr("'q.absent' is required"));
}

// ---------------------------------------------------------------------------------------------
// Responses

TEST(HttpStatusOfTest, MapsEveryCode) {
  EXPECT_EQ(HttpStatusOf(StatusCode::kOk), 200u);
  EXPECT_EQ(HttpStatusOf(StatusCode::kInvalidArgument), 400u);
  EXPECT_EQ(HttpStatusOf(StatusCode::kNotFound), 404u);
  EXPECT_EQ(HttpStatusOf(StatusCode::kAlreadyExists), 409u);
  EXPECT_EQ(HttpStatusOf(StatusCode::kFailedPrecondition), 409u);
  EXPECT_EQ(HttpStatusOf(StatusCode::kBusy), 503u);
  EXPECT_EQ(HttpStatusOf(StatusCode::kCorruption), 500u);
  EXPECT_EQ(HttpStatusOf(StatusCode::kIOError), 500u);
  EXPECT_EQ(HttpStatusOf(StatusCode::kInternal), 500u);
}

TEST(ErrorResponseTest, HasCodeAndMessage) {
  const Response r = ErrorResponse(Status::NotFound("collection 'x' does not exist"));
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.content_type, "application/json");
  const json body = json::parse(r.body);
  EXPECT_EQ(body, json::parse(R"({"error": {"code": "NotFound",
                                            "message": "collection 'x' does not exist"}})"));

  const Response conflict = ErrorResponse(Status::AlreadyExists("taken"));
  EXPECT_EQ(conflict.status, 409u);
  EXPECT_EQ(json::parse(conflict.body)["error"]["code"], "AlreadyExists");

  const Response http = ErrorResponse(413, "PayloadTooLarge", "too \"big\"\n");
  EXPECT_EQ(http.status, 413u);
  EXPECT_EQ(json::parse(http.body),
            json::parse(R"({"error": {"code": "PayloadTooLarge", "message": "too \"big\"\n"}})"));
}

TEST(ErrorResponseTest, InvalidUtf8InAMessageStillGivesJson) {
  const Response r = ErrorResponse(Status::InvalidArgument("bad id '\xff\xfe'"));
  EXPECT_EQ(r.status, 400u);
  const json body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(body.is_discarded()) << r.body;
  EXPECT_THAT(body["error"]["message"].get<std::string>(), HasSubstr("bad id '"));
}

TEST(JsonResponseTest, DumpsTheBody) {
  const Response r = JsonResponse({{"count", 3}}, 201);
  EXPECT_EQ(r.status, 201u);
  EXPECT_EQ(r.body, R"({"count":3})");
  EXPECT_EQ(JsonResponse(json::object()).status, 200u);
}

// Floats whose shortest decimal forms are worth checking for exact round trips.
const std::vector<float> kTrickyFloats = {0.1f,
                                          1.0f / 3,
                                          -2.5f,
                                          16777215.0f,
                                          std::numeric_limits<float>::max(),
                                          std::numeric_limits<float>::min(),
                                          std::numeric_limits<float>::denorm_min(),
                                          1e-7f};

TEST(AppendHitTest, WritesExactFloats) {
  for (float distance : kTrickyFloats) {
    Hit hit{"id-1", distance, R"({"lang":"en","n":[1,2]})", kTrickyFloats};
    std::string out = "[";  // appended, not assigned
    AppendHit(hit, /*with_metadata=*/true, /*with_vector=*/true, &out);
    out += "]";
    const json doc = json::parse(out, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << out;
    ASSERT_EQ(doc.size(), 1u);
    const json& h = doc[0];
    EXPECT_EQ(h.size(), 4u) << out;
    EXPECT_EQ(h["id"], "id-1");
    EXPECT_EQ(std::bit_cast<uint32_t>(h["distance"].get<float>()),
              std::bit_cast<uint32_t>(distance))
        << out;
    EXPECT_EQ(h["metadata"], json::parse(R"({"lang":"en","n":[1,2]})"));
    ASSERT_TRUE(h["vector"].is_array());
    std::vector<float> vector;
    for (const auto& x : h["vector"]) vector.push_back(x.get<float>());
    EXPECT_EQ(BitsOf(vector), BitsOf(kTrickyFloats)) << out;
  }
}

TEST(AppendHitTest, WritesOnlyWhatIsAsked) {
  const Hit hit{"a\"b\\c", 0.5f, R"({"x":1})", {1, 2}};
  std::string out;
  AppendHit(hit, false, false, &out);
  json h = json::parse(out);
  EXPECT_EQ(h, json::parse(R"({"id": "a\"b\\c", "distance": 0.5})"));

  out.clear();
  AppendHit(hit, true, false, &out);
  h = json::parse(out);
  EXPECT_TRUE(h.contains("metadata"));
  EXPECT_FALSE(h.contains("vector"));

  out.clear();
  AppendHit(hit, false, true, &out);
  h = json::parse(out);
  EXPECT_FALSE(h.contains("metadata"));
  EXPECT_EQ(h["vector"], json::parse("[1, 2]"));

  // Metadata not asked of the engine comes back empty: written as {}.
  out.clear();
  AppendHit(Hit{"b", 1, "", {}}, true, true, &out);
  h = json::parse(out);
  EXPECT_EQ(h["metadata"], json::object());
  EXPECT_EQ(h["vector"], json::array());
}

TEST(AppendPointTest, WritesIdMetadataAndVector) {
  const Point point{"p/1 é", {0.1f, -1.25f, 3e38f}, R"({"tags":["a"]})"};
  std::string out;
  AppendPoint(point, true, true, &out);
  json p = json::parse(out);
  EXPECT_EQ(p.size(), 3u);
  EXPECT_FALSE(p.contains("distance"));
  EXPECT_EQ(p["id"], "p/1 é");
  EXPECT_EQ(p["metadata"], json::parse(R"({"tags":["a"]})"));
  std::vector<float> vector;
  for (const auto& x : p["vector"]) vector.push_back(x.get<float>());
  EXPECT_EQ(BitsOf(vector), BitsOf(point.vector));

  out.clear();
  AppendPoint(point, false, false, &out);
  EXPECT_EQ(json::parse(out), json({{"id", "p/1 é"}}));
}

// JSON has no infinity or NaN, but a distance can overflow float32 (a dot-product collection
// holding [1e30] searched with [1e30]: -1e60): infinities are written as the largest double,
// infinity again as a float32, and NaN as null (HttpServerTest.InfiniteDistanceStillGivesJson
// reaches it over HTTP).
TEST(AppendHitTest, NonFiniteDistanceStillGivesJson) {
  for (float distance :
       {-std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity(),
        std::numeric_limits<float>::quiet_NaN()}) {
    std::string out;
    AppendHit(Hit{"a", distance, "{}", {}}, true, false, &out);
    const json parsed = json::parse(out, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << out;
    if (std::isnan(distance)) {
      EXPECT_TRUE(parsed["distance"].is_null()) << out;
    } else {
      EXPECT_EQ(static_cast<float>(parsed["distance"].get<double>()), distance) << out;
    }
  }
}

TEST(DescribeTest, ShortensLongValues) {
  EXPECT_EQ(Describe(json(5)), "number 5");
  EXPECT_EQ(Describe(json("x")), "string \"x\"");
  const std::string d = Describe(json(std::string(200, 'a')));
  EXPECT_LE(d.size(), std::string("string ").size() + 60);
  EXPECT_TRUE(d.ends_with("...")) << d;
}

}  // namespace
}  // namespace nearstore::server

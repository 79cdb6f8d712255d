#include "server/json_io.h"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "storage/json_text.h"

namespace nearstore::server {
namespace {

using nlohmann::json;

// JSON has no NaN or infinity: an infinity is written as the largest double (which every
// parser reads, and which is infinity again as a float32), a NaN as null.
void AppendFloat(float v, std::string* out) {
  if (std::isnan(v)) {
    out->append("null");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "1.7976931348623157e308" : "-1.7976931348623157e308");
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip form
  out->append(buf, ec == std::errc() ? end : buf);
}

void AppendVector(const std::vector<float>& v, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendFloat(v[i], out);
  }
  out->push_back(']');
}

void AppendMetadata(const std::string& text, std::string* out) {
  out->append(text.empty() ? "{}" : text);
}

}  // namespace

unsigned HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kBusy:
      return 503;
    case StatusCode::kCorruption:
    case StatusCode::kIOError:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

Response ErrorResponse(unsigned http_status, std::string_view code, std::string_view message) {
  const json body = {{"error", {{"code", code}, {"message", message}}}};
  return Response{http_status, body.dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json"};
}

Response ErrorResponse(const Status& status) {
  return ErrorResponse(HttpStatusOf(status.code()), StatusCodeName(status.code()),
                       status.message());
}

Response JsonResponse(const json& body, unsigned http_status) {
  return Response{http_status, body.dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json"};
}

Result<json> ParseObject(std::string_view body) {
  if (body.empty()) {
    return Status::InvalidArgument("the request needs a JSON object as its body; it had none");
  }
  NEARSTORE_ASSIGN_OR_RETURN(json doc, storage::ParseJson(body, kMaxBodyDepth, "the request body"));
  if (!doc.is_object()) {
    return Status::InvalidArgument("the request body must be a JSON object, got " + Describe(doc));
  }
  return doc;
}

std::string Describe(const json& value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return std::string(value.type_name()) + " " + text;
}

std::string Fields::Where(std::string_view key) const {
  return where_.empty() ? std::string(key) : where_ + "." + std::string(key);
}

Status Fields::OnlyKnown(std::initializer_list<std::string_view> known) const {
  for (const auto& [key, value] : object_.items()) {
    bool found = false;
    for (auto k : known) found |= k == key;
    if (!found) {
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return Status::InvalidArgument("unknown field '" + Where(key) +
                                     "'; expected one of: " + list);
    }
  }
  return Status::Ok();
}

Result<std::string> Fields::String(std::string_view key) const {
  if (!Has(key)) return Status::InvalidArgument("'" + Where(key) + "' is required (a string)");
  return String(key, "");
}

Result<std::string> Fields::String(std::string_view key, std::string fallback) const {
  if (!Has(key)) return fallback;
  const json& v = At(key);
  if (!v.is_string()) {
    return Status::InvalidArgument("'" + Where(key) + "' must be a string, got " + Describe(v));
  }
  return v.get<std::string>();
}

Result<uint64_t> Fields::Unsigned(std::string_view key, uint64_t fallback, uint64_t lo,
                                  uint64_t hi) const {
  if (!Has(key)) return fallback;
  const json& v = At(key);
  if (!v.is_number_unsigned() || v.get<uint64_t>() < lo || v.get<uint64_t>() > hi) {
    return Status::InvalidArgument("'" + Where(key) + "' must be an integer in " +
                                   std::to_string(lo) + ".." + std::to_string(hi) + ", got " +
                                   Describe(v));
  }
  return v.get<uint64_t>();
}

Result<int64_t> Fields::Integer(std::string_view key, int64_t fallback) const {
  if (!Has(key)) return fallback;
  const json& v = At(key);
  if (!v.is_number_integer()) {
    return Status::InvalidArgument("'" + Where(key) + "' must be an integer, got " + Describe(v));
  }
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return INT64_MAX;
  }
  return v.get<int64_t>();
}

Result<std::vector<float>> Fields::Floats32(std::string_view key) const {
  NEARSTORE_ASSIGN_OR_RETURN(const std::string text, String(key));
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("'" + Where(key) + "' must be base64 of float32 values: " + why);
  };
  if (text.size() % 4 != 0) return bad("its length is not a multiple of 4");
  // OpenSSL's decoder skips blanks and takes '=' anywhere; only the canonical form is accepted.
  const size_t padding = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  // ASCII by hand: std::isalnum asks the locale, a call per byte (3% of a search's server time).
  auto is_base64 = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  };
  for (size_t i = 0; i + padding < text.size(); ++i) {
    const char c = text[i];
    if (!is_base64(c)) {
      return bad("it holds '" + std::string(1, c) + "' at " + std::to_string(i));
    }
  }
  // EVP_DecodeBlock takes an int length: the text goes to it in blocks (of whole 4-character
  // groups), or a text past 2 GiB (max_body_bytes allows 16) would be cut to a wrapped length
  // and the rest of the vectors left zero.
  constexpr size_t kBlock = size_t{1} << 20;
  std::string bytes(text.size() / 4 * 3, '\0');
  for (size_t at = 0; at < text.size(); at += kBlock) {
    const size_t n = std::min(kBlock, text.size() - at);
    if (EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data() + at / 4 * 3),
                        reinterpret_cast<const unsigned char*>(text.data() + at),
                        static_cast<int>(n)) < 0) {
      return bad("it is not base64");
    }
  }
  size_t size = bytes.size();
  for (size_t i = text.size(); i > 0 && text[i - 1] == '=' && size > 0; --i) --size;
  if (size % sizeof(float) != 0) return bad("its bytes are not a whole number of float32 values");
  std::vector<float> out(size / sizeof(float));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), size);
  return out;
}

Result<bool> Fields::Bool(std::string_view key, bool fallback) const {
  if (!Has(key)) return fallback;
  const json& v = At(key);
  if (!v.is_boolean()) {
    return Status::InvalidArgument("'" + Where(key) + "' must be true or false, got " +
                                   Describe(v));
  }
  return v.get<bool>();
}

Result<double> Fields::Number(std::string_view key, double fallback, double lo, double hi) const {
  if (!Has(key)) return fallback;
  const json& v = At(key);
  // A JSON number is finite; the text of one ("nan", "1e999" as a string) is not a number.
  if (!v.is_number() || !(v.get<double>() >= lo && v.get<double>() <= hi)) {
    auto bound = [](double x) {  // 1, not 1.0
      return std::fabs(x) < 1e15 && x == std::trunc(x) ? std::to_string(static_cast<int64_t>(x))
                                                       : json(x).dump();
    };
    return Status::InvalidArgument("'" + Where(key) + "' must be a number in " + bound(lo) + ".." +
                                   bound(hi) + ", got " + Describe(v));
  }
  return v.get<double>();
}

Result<const json*> Fields::Object(std::string_view key) const {
  if (!Has(key)) return static_cast<const json*>(nullptr);
  const json& v = At(key);
  if (!v.is_object()) {
    return Status::InvalidArgument("'" + Where(key) + "' must be an object, got " + Describe(v));
  }
  return &v;
}

Result<const json*> Fields::Array(std::string_view key, size_t max) const {
  if (!Has(key)) return static_cast<const json*>(nullptr);
  const json& v = At(key);
  if (!v.is_array()) {
    return Status::InvalidArgument("'" + Where(key) + "' must be a list, got " + Describe(v));
  }
  if (v.size() > max) {
    return Status::InvalidArgument("'" + Where(key) + "' holds " + std::to_string(v.size()) +
                                   " entries; at most " + std::to_string(max) +
                                   " are accepted per request");
  }
  return &v;
}

Result<std::vector<float>> Fields::Vector(std::string_view key) const {
  if (!Has(key)) {
    return Status::InvalidArgument("'" + Where(key) + "' is required (a list of numbers)");
  }
  return ReadVector(At(key), Where(key));
}

Result<std::string> Fields::Filter(std::string_view key) const {
  if (!Has(key) || At(key).is_null()) return std::string();
  const json& v = At(key);
  if (v.is_string()) return v.get<std::string>();  // JSON text: the engine parses and checks it
  if (!v.is_object()) {
    return Status::InvalidArgument("'" + Where(key) + "' must be a filter object, got " +
                                   Describe(v));
  }
  return v.dump();
}

Result<std::string> Fields::Metadata(std::string_view key) const {
  if (!Has(key) || At(key).is_null()) return std::string("{}");
  const json& v = At(key);
  if (!v.is_object()) {
    return Status::InvalidArgument("'" + Where(key) + "' must be a JSON object, got " +
                                   Describe(v));
  }
  return v.dump(-1, ' ', false, json::error_handler_t::strict);
}

Result<std::vector<std::string>> Fields::Strings(std::string_view key, size_t max) const {
  if (!Has(key)) return Status::InvalidArgument("'" + Where(key) + "' is required (a list of ids)");
  const json& v = At(key);
  if (!v.is_array()) {
    return Status::InvalidArgument("'" + Where(key) + "' must be a list of strings, got " +
                                   Describe(v));
  }
  if (v.size() > max) {
    return Status::InvalidArgument("'" + Where(key) + "' holds " + std::to_string(v.size()) +
                                   " entries; at most " + std::to_string(max) +
                                   " are accepted per request");
  }
  std::vector<std::string> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) {
      return Status::InvalidArgument("'" + Where(key) + "[" + std::to_string(i) +
                                     "]' must be a string, got " + Describe(v[i]));
    }
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

Result<std::vector<float>> ReadVector(const json& value, const std::string& where) {
  if (!value.is_array()) {
    return Status::InvalidArgument("'" + where + "' must be a list of numbers, got " +
                                   Describe(value));
  }
  std::vector<float> out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    const json& x = value[i];
    if (!x.is_number()) {
      return Status::InvalidArgument("'" + where + "[" + std::to_string(i) +
                                     "]' must be a number, got " + Describe(x));
    }
    const double d = x.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max()) {
      return Status::InvalidArgument("'" + where + "[" + std::to_string(i) + "]' is " + x.dump() +
                                     ", outside the range of a float32");
    }
    out.push_back(static_cast<float>(d));
  }
  return out;
}

namespace {

// `{"id": ..., "distance": ..., "metadata": {...}, "vector": [...]}`, each part after the id
// only when given.
void AppendEntry(const std::string& id, const float* distance, const std::string* metadata,
                 const std::vector<float>* vector, std::string* out) {
  out->append("{\"id\":");
  out->append(json(id).dump(-1, ' ', false, json::error_handler_t::replace));
  if (distance != nullptr) {
    out->append(",\"distance\":");
    AppendFloat(*distance, out);
  }
  if (metadata != nullptr) {
    out->append(",\"metadata\":");
    AppendMetadata(*metadata, out);
  }
  if (vector != nullptr) {
    out->append(",\"vector\":");
    AppendVector(*vector, out);
  }
  out->push_back('}');
}

}  // namespace

void AppendHit(const Hit& hit, bool with_metadata, bool with_vector, std::string* out) {
  AppendEntry(hit.id, &hit.distance, with_metadata ? &hit.metadata : nullptr,
              with_vector ? &hit.vector : nullptr, out);
}

void AppendPoint(const Point& point, bool with_metadata, bool with_vector, std::string* out) {
  AppendEntry(point.id, nullptr, with_metadata ? &point.metadata : nullptr,
              with_vector ? &point.vector : nullptr, out);
}

}  // namespace nearstore::server

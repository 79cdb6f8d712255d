// Reading request bodies and writing response bodies as JSON, with errors that say what was
// wrong where ("points[3].vector[5]: expected a number, got \"x\"") and what was expected.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "nearstore/status.h"
#include "nearstore/types.h"
#include "server/router.h"

namespace nearstore::server {

// Deeper bodies are refused before they are built (a nesting bomb costs nothing). The levels a
// request adds around metadata or a filter ({"points": [{"metadata": ...}]}) come on top of the
// engine's kMaxJsonDepth, so what the engine accepts in-process it accepts over HTTP too.
inline constexpr size_t kMaxBodyDepth = kMaxJsonDepth + 3;

// The HTTP status a Status maps to (400 bad input, 404, 409, 500 ...).
unsigned HttpStatusOf(StatusCode code);
// {"error": {"code": "InvalidArgument", "message": "..."}} with the status it maps to.
Response ErrorResponse(const Status& status);
// The same for errors of the HTTP layer ("PayloadTooLarge", "Unauthorized" ...).
Response ErrorResponse(unsigned http_status, std::string_view code, std::string_view message);
Response JsonResponse(const nlohmann::json& body, unsigned http_status = 200);

// The body as a JSON object; InvalidArgument saying why not ("" is refused too).
[[nodiscard]] Result<nlohmann::json> ParseObject(std::string_view body);

// Typed fields of one JSON object, each error naming `where` + the key. No reader throws:
// every value is checked for its type (and range) before it is read.
class Fields {
 public:
  // What a member holding null means: a value like any other (the native face: null where a
  // number belongs is a wrong type), or an absent member (Qdrant's face: its clients and its
  // server read null as "not given").
  enum class Nulls { kValue, kAbsent };

  Fields(const nlohmann::json& object, std::string where, Nulls nulls = Nulls::kValue)
      : object_(object), where_(std::move(where)), nulls_(nulls) {}

  // InvalidArgument naming the first key not in `known`.
  [[nodiscard]] Status OnlyKnown(std::initializer_list<std::string_view> known) const;
  bool Has(std::string_view key) const {
    const auto it = object_.find(key);
    return it != object_.end() && (nulls_ == Nulls::kValue || !it->is_null());
  }
  const nlohmann::json& At(std::string_view key) const { return object_.at(key); }
  std::string Where(std::string_view key) const;

  [[nodiscard]] Result<std::string> String(std::string_view key) const;  // required
  [[nodiscard]] Result<std::string> String(std::string_view key, std::string fallback) const;
  [[nodiscard]] Result<uint64_t> Unsigned(std::string_view key, uint64_t fallback, uint64_t lo,
                                          uint64_t hi) const;
  // Any integer (the engine checks its range and says what it accepts).
  [[nodiscard]] Result<int64_t> Integer(std::string_view key, int64_t fallback) const;
  [[nodiscard]] Result<bool> Bool(std::string_view key, bool fallback) const;
  // A finite number in lo..hi (integers too).
  [[nodiscard]] Result<double> Number(std::string_view key, double fallback, double lo,
                                      double hi) const;
  // The object under `key`, or nullptr when it is absent.
  [[nodiscard]] Result<const nlohmann::json*> Object(std::string_view key) const;
  // The list under `key` (at most `max` entries), or nullptr when it is absent.
  [[nodiscard]] Result<const nlohmann::json*> Array(std::string_view key, size_t max) const;
  // Float32 values sent as base64 of their little-endian bytes (the Python client's form:
  // exact, compact, and NaN or infinity reach the engine, which names them as it does
  // in-process).
  [[nodiscard]] Result<std::vector<float>> Floats32(std::string_view key) const;
  [[nodiscard]] Result<std::vector<float>> Vector(std::string_view key) const;  // required
  // The filter under `key` as JSON text ("" when absent): an object, or a string holding its
  // JSON text (parsed, and refused with the engine's message, by the engine).
  [[nodiscard]] Result<std::string> Filter(std::string_view key) const;
  // Metadata under `key` as JSON text ("{}" when absent or null); it must be an object.
  [[nodiscard]] Result<std::string> Metadata(std::string_view key) const;
  // A list of strings (ids), at most `max` of them.
  [[nodiscard]] Result<std::vector<std::string>> Strings(std::string_view key, size_t max) const;

 private:
  const nlohmann::json& object_;
  std::string where_;
  Nulls nulls_;
};

// A JSON array of numbers as float32 values; InvalidArgument naming `where` otherwise.
[[nodiscard]] Result<std::vector<float>> ReadVector(const nlohmann::json& value,
                                                    const std::string& where);
// A short rendering of a JSON value for an error message.
std::string Describe(const nlohmann::json& value);

// Appends `{"id": ..., "distance": ..., "metadata": {...}, "vector": [...]}` (the optional
// parts as asked); metadata is the engine's canonical JSON text, copied as it is.
void AppendHit(const Hit& hit, bool with_metadata, bool with_vector, std::string* out);
// Appends `{"id": ..., "metadata": {...}, "vector": [...]}`.
void AppendPoint(const Point& point, bool with_metadata, bool with_vector, std::string* out);

}  // namespace nearstore::server

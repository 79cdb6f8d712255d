#include "server/qdrant_compat.h"

#include <cctype>
#include <cmath>
#include <functional>
#include <limits>
#include <utility>

#include "server/json_io.h"

namespace nearstore::server::qdrant {
namespace {

using nlohmann::json;

bool IsDecimal(const std::string& s) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  // Within uint64 (20 digits can exceed it).
  return s.size() < 20 || s <= "18446744073709551615";
}

// A UUID in any of the forms Qdrant accepts, as lowercase hyphenated text; "" if not one.
std::string CanonicalUuid(const std::string& s) {
  std::string hex;
  for (char c : s) {
    if (c == '-' || c == '{' || c == '}') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return "";
    hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (hex.size() != 32) return "";
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

// InvalidArgument: "'where' must be <what>, got <value>".
Status Bad(const std::string& where, const std::string& what, const json& got) {
  return Status::InvalidArgument("'" + where + "' must be " + what + ", got " + Describe(got));
}

Status Unsupported(const std::string& where, const std::string& what) {
  return Status::InvalidArgument("filter at " + where + ": " + what +
                                 " is not supported by nearstore's Qdrant-compatible API yet");
}

// A condition on one dotted path (no "[]"), as the engine's filter.
using OnPath = std::function<json(const std::string&)>;

// A condition on the field at `key` (Qdrant's key: dotted, with "[]" after an array whose
// elements the rest of the key reads), given `on_path(path)`, the same condition on a dotted
// path without "[]". "diet[].food" becomes {"diet": {"$elemMatch": <the condition on
// "food">}}; a key ending in "[]" is the array itself, whose elements a condition reads anyway.
Result<json> OnKey(const std::string& key, const OnPath& on_path, const std::string& where) {
  const size_t brackets = key.find("[]");
  if (brackets == std::string::npos) return on_path(key);
  const std::string head = key.substr(0, brackets);
  std::string tail = key.substr(brackets + 2);
  if (head.empty() || (!tail.empty() && (tail[0] != '.' || tail.size() == 1))) {
    return Status::InvalidArgument(where + ".key '" + key +
                                   "' is not a field path; expected a.b, or a[].b for the "
                                   "field b of the elements of the array a");
  }
  if (tail.empty()) return on_path(head);
  NEARSTORE_ASSIGN_OR_RETURN(json inner, OnKey(tail.substr(1), on_path, where));
  return json{{head, {{"$elemMatch", std::move(inner)}}}};
}

// An equality with `value` on `path`, holding also when the field is an array holding `value`.
json Equals(const std::string& path, const json& value) {
  return {{"$or", json::array({json{{path, json{{"$eq", value}}}},
                               json{{path, json{{"$contains", value}}}}})}};
}

// A value a match compares with: Qdrant's are strings, integers and booleans.
bool IsMatchValue(const json& v) {
  return v.is_string() || v.is_number_integer() || v.is_boolean();
}

// A match condition (value, any, except) on `path`: one of them.
Result<OnPath> Match(const json& match, const std::string& at) {
  if (!match.is_object() || match.size() != 1) {
    return Bad(at, "an object with one of 'value', 'any', 'except'", match);
  }
  if (match.contains("value")) {
    const json& value = match["value"];
    if (!IsMatchValue(value)) {
      return Bad(at + ".value", "a string, integer or boolean", value);
    }
    return OnPath([value](const std::string& path) { return Equals(path, value); });
  }
  if (match.contains("any") || match.contains("except")) {
    const bool any = match.contains("any");
    const json& list = match[any ? "any" : "except"];
    if (!list.is_array()) {
      return Bad(at + (any ? ".any" : ".except"), "a list", list);
    }
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_string() && !list[i].is_number_integer()) {
        return Bad(at + (any ? ".any[" : ".except[") + std::to_string(i) + "]",
                   "a string or an integer", list[i]);
      }
    }
    return OnPath([list, any](const std::string& path) {
      json equals = json::array();
      for (const auto& v : list) equals.push_back(Equals(path, v));
      if (any)
        return equals.empty() ? json{{path, {{"$in", json::array()}}}} : json{{"$or", equals}};
      json all = json::array({json{{path, {{"$exists", true}}}}});
      if (!equals.empty()) all.push_back({{"$not", {{"$or", equals}}}});
      return json{{"$and", all}};
    });
  }
  return Unsupported(at, "this match (text, phrase)");
}

// A range condition on `path`: the field, or one of its elements, within the bounds.
Result<OnPath> Range(const json& range, const std::string& at) {
  if (!range.is_object()) return Bad(at, "an object", range);
  json ops = json::object();
  for (const auto& [op, bound] : range.items()) {
    if (bound.is_null()) continue;
    if (op != "gt" && op != "gte" && op != "lt" && op != "lte") {
      return Status::InvalidArgument(at + ": unknown bound '" + op +
                                     "'; expected gt, gte, lt, lte");
    }
    if (!bound.is_number()) return Unsupported(at + "." + op, "a range on dates");
    ops["$" + op] = bound;
  }
  return OnPath([ops](const std::string& path) {
    if (ops.empty()) return json{{path, {{"$exists", true}}}};
    return json{{"$or", json::array({json{{path, ops}}, json{{path, {{"$elemMatch", ops}}}}})}};
  });
}

Result<json> Translate(const json& filter, const std::string& where);

Result<json> FieldCondition(const json& c, const std::string& where) {
  if (!c["key"].is_string()) return Bad(where + ".key", "a string", c["key"]);
  const std::string key = c["key"].get<std::string>();
  json all = json::array();
  for (const auto& [name, value] : c.items()) {
    const std::string at = where + "." + name;
    if (name == "key") continue;
    OnPath on_path;
    if (name == "match") {
      NEARSTORE_ASSIGN_OR_RETURN(on_path, Match(value, at));
    } else if (name == "range") {
      NEARSTORE_ASSIGN_OR_RETURN(on_path, Range(value, at));
    } else {
      return Unsupported(at, "the condition '" + name + "'");
    }
    NEARSTORE_ASSIGN_OR_RETURN(json condition, OnKey(key, on_path, where));
    all.push_back(std::move(condition));
  }
  if (all.empty()) return Status::InvalidArgument(where + " has no condition on '" + key + "'");
  return all.size() == 1 ? all[0] : json{{"$and", all}};
}

// {"is_empty": {"key": k}} (missing, null or []) and {"is_null": {"key": k}} (null).
Result<json> EmptyOrNull(const json& c, bool empty, const std::string& where) {
  if (!c.is_object() || !c.contains("key") || !c["key"].is_string()) {
    return Bad(where, "an object with a string 'key'", c);
  }
  auto on_path = [empty](const std::string& path) {
    if (!empty) return json{{path, nullptr}};
    return json{{"$or", json::array({json{{path, {{"$exists", false}}}}, json{{path, nullptr}},
                                     json{{path, {{"$size", 0}}}}})}};
  };
  return OnKey(c["key"].get<std::string>(), on_path, where);
}

// {"has_id": [ids]}: the points with one of these ids.
Result<json> HasId(const json& ids, const std::string& where) {
  if (!ids.is_array()) return Bad(where, "a list of point ids", ids);
  json engine_ids = json::array();
  for (size_t i = 0; i < ids.size(); ++i) {
    NEARSTORE_ASSIGN_OR_RETURN(std::string id,
                               EngineId(ids[i], where + "[" + std::to_string(i) + "]"));
    engine_ids.push_back(std::move(id));
  }
  return json{{"$id", {{"$in", std::move(engine_ids)}}}};
}

// {"nested": {"key": k, "filter": f}}: an element of the array k passes all of f.
Result<json> Nested(const json& c, const std::string& where) {
  if (!c.is_object() || !c.contains("key") || !c["key"].is_string() || !c.contains("filter")) {
    return Bad(where, "an object with a string 'key' and a 'filter'", c);
  }
  NEARSTORE_ASSIGN_OR_RETURN(json inner, Translate(c["filter"], where + ".filter"));
  if (inner.empty()) inner = {{"$or", json::array({json::object()})}};  // every element
  std::string key = c["key"].get<std::string>();
  if (key.size() > 2 && key.ends_with("[]")) key.resize(key.size() - 2);
  auto on_path = [inner](const std::string& path) { return json{{path, {{"$elemMatch", inner}}}}; };
  return OnKey(key, on_path, where);
}

Result<json> Condition(const json& c, const std::string& where) {
  if (!c.is_object()) return Bad(where, "a condition object", c);
  if (c.contains("key")) return FieldCondition(c, where);
  if (c.contains("must") || c.contains("should") || c.contains("must_not") ||
      c.contains("min_should")) {
    return Translate(c, where);
  }
  if (c.size() == 1) {
    const std::string& name = c.begin().key();
    const json& value = c.begin().value();
    if (name == "has_id") return HasId(value, where + ".has_id");
    if (name == "is_empty") return EmptyOrNull(value, true, where + ".is_empty");
    if (name == "is_null") return EmptyOrNull(value, false, where + ".is_null");
    if (name == "nested") return Nested(value, where + ".nested");
  }
  for (const auto& [name, value] : c.items()) return Unsupported(where, "'" + name + "'");
  return Status::InvalidArgument(where + " is an empty condition");
}

// The conditions of `filter[clause]`: one object or a list of them.
Result<json> Clause(const json& filter, const char* clause, const std::string& where) {
  json out = json::array();
  if (!filter.contains(clause) || filter[clause].is_null()) return out;
  const json& list = filter[clause];
  const std::string at = where + "." + clause;
  if (list.is_object()) {
    NEARSTORE_ASSIGN_OR_RETURN(json c, Condition(list, at));
    out.push_back(std::move(c));
    return out;
  }
  if (!list.is_array()) return Bad(at, "a list of conditions", list);
  for (size_t i = 0; i < list.size(); ++i) {
    NEARSTORE_ASSIGN_OR_RETURN(json c, Condition(list[i], at + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(c));
  }
  return out;
}

Result<json> Translate(const json& filter, const std::string& where) {
  if (!filter.is_object()) return Bad(where, "a filter object", filter);
  for (const auto& [name, value] : filter.items()) {
    if (name != "must" && name != "should" && name != "must_not") {
      return Unsupported(where + "." + name, "'" + name + "'");
    }
  }
  NEARSTORE_ASSIGN_OR_RETURN(json must, Clause(filter, "must", where));
  NEARSTORE_ASSIGN_OR_RETURN(json should, Clause(filter, "should", where));
  NEARSTORE_ASSIGN_OR_RETURN(json must_not, Clause(filter, "must_not", where));
  json all = std::move(must);
  if (!should.empty()) all.push_back({{"$or", should}});
  if (!must_not.empty()) all.push_back({{"$not", {{"$or", must_not}}}});
  if (all.empty()) return json::object();
  return all.size() == 1 ? all[0] : json{{"$and", all}};
}

}  // namespace

Result<std::string> EngineId(const json& id, const std::string& where) {
  if (id.is_number_unsigned()) return std::to_string(id.get<uint64_t>());
  if (id.is_string()) {
    std::string uuid = CanonicalUuid(id.get<std::string>());
    if (!uuid.empty()) return uuid;
  }
  return Status::InvalidArgument("'" + where + "' must be an unsigned integer or a UUID, got " +
                                 Describe(id));
}

json QdrantId(const std::string& id) {
  if (IsDecimal(id)) return std::stoull(id);
  return id;
}

Result<std::string> EngineFilter(const json& filter) {
  if (filter.is_null()) return std::string();
  NEARSTORE_ASSIGN_OR_RETURN(const json translated, Translate(filter, "filter"));
  return translated.dump();
}

Result<Metric> MetricOf(const json& distance) {
  if (distance == "Cosine") return Metric::kCosine;
  if (distance == "Euclid") return Metric::kL2;
  if (distance == "Dot") return Metric::kDot;
  return Status::InvalidArgument("distance " + distance.dump() +
                                 " is not supported; expected \"Cosine\", \"Euclid\" or \"Dot\"");
}

const char* DistanceName(Metric metric) {
  switch (metric) {
    case Metric::kCosine:
      return "Cosine";
    case Metric::kL2:
      return "Euclid";
    case Metric::kDot:
      return "Dot";
  }
  return "Cosine";
}

float ScoreOf(Metric metric, float distance) {
  switch (metric) {
    case Metric::kCosine:
      return 1.0f - distance;
    case Metric::kDot:
      return -distance;
    case Metric::kL2:
      return distance;
  }
  return distance;
}

bool PassesThreshold(Metric metric, float score, float threshold) {
  return metric == Metric::kL2 ? score <= threshold : score >= threshold;
}

namespace {

// The segments of a dotted path ("a.b" -> a, b).
std::vector<std::string> PathParts(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot; (dot = path.find('.', start)) != std::string_view::npos; start = dot + 1) {
    parts.emplace_back(path.substr(start, dot - start));
  }
  parts.emplace_back(path.substr(start));
  return parts;
}

// The value at `parts` under `object` (json or const json), or nullptr.
template <typename Json>
Json* Find(Json& object, const std::vector<std::string>& parts) {
  Json* at = &object;
  for (const auto& part : parts) {
    if (!at->is_object()) return nullptr;
    const auto it = at->find(part);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

double Similarity(Metric metric, std::span<const float> a, std::span<const float> b) {
  double dot = 0, aa = 0, bb = 0, squared = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    dot += double{a[i]} * b[i];
    aa += double{a[i]} * a[i];
    bb += double{b[i]} * b[i];
    squared += (double{a[i]} - b[i]) * (double{a[i]} - b[i]);
  }
  switch (metric) {
    case Metric::kCosine:
      return aa > 0 && bb > 0 ? dot / std::sqrt(aa * bb) : 0;
    case Metric::kDot:
      return dot;
    case Metric::kL2:
      return -squared;
  }
  return dot;
}

}  // namespace

json SelectPayload(json payload, const PayloadSelector& selector) {
  switch (selector.kind) {
    case PayloadSelector::Kind::kNone:
      return nullptr;
    case PayloadSelector::Kind::kAll:
      return payload;
    case PayloadSelector::Kind::kExclude:
      for (const auto& key : selector.keys) ErasePath(payload, key);
      return payload;
    case PayloadSelector::Kind::kInclude:
      break;
  }
  json out = json::object();
  for (const auto& key : selector.keys) {
    const auto parts = PathParts(key);
    const json* value = Find(std::as_const(payload), parts);
    if (value == nullptr) continue;
    json* at = &out;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      json& next = (*at)[parts[i]];
      if (!next.is_object()) next = json::object();
      at = &next;
    }
    (*at)[parts.back()] = *value;
  }
  return out;
}

void ErasePath(json& payload, std::string_view path) {
  auto parts = PathParts(path);
  const std::string last = std::move(parts.back());
  parts.pop_back();
  json* parent = Find(payload, parts);
  if (parent != nullptr && parent->is_object()) parent->erase(last);
}

std::vector<size_t> MaximalMarginalRelevance(Metric metric, std::span<const float> query,
                                             const std::vector<std::span<const float>>& candidates,
                                             double lambda, size_t n) {
  const size_t count = candidates.size();
  std::vector<double> relevance(count);
  for (size_t i = 0; i < count; ++i) relevance[i] = Similarity(metric, query, candidates[i]);
  // The largest similarity of each candidate to one already picked, kept up to date as each
  // is picked (Qdrant's lazy similarity matrix, one row at a time).
  std::vector<double> closest(count, -std::numeric_limits<double>::infinity());
  std::vector<bool> picked(count, false);
  std::vector<size_t> order;
  while (order.size() < n && order.size() < count) {
    size_t best = count;
    double best_score = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < count; ++i) {
      if (picked[i]) continue;
      const double score =
          order.empty() ? relevance[i] : lambda * relevance[i] - (1 - lambda) * closest[i];
      if (best == count || score > best_score) {
        best = i;
        best_score = score;
      }
    }
    picked[best] = true;
    order.push_back(best);
    for (size_t i = 0; i < count; ++i) {
      if (!picked[i]) {
        closest[i] = std::max(closest[i], Similarity(metric, candidates[i], candidates[best]));
      }
    }
  }
  return order;
}

}  // namespace nearstore::server::qdrant

#include "server/qdrant_compat.h"

#include <cctype>

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

Status Unsupported(const std::string& where, const std::string& what) {
  return Status::InvalidArgument("filter at " + where + ": " + what +
                                 " is not supported by nearstore's Qdrant-compatible API yet");
}

// An equality with `value` on `key`, holding also when `key` is an array holding `value`.
json Equals(const std::string& key, const json& value) {
  return {{"$or", json::array({json{{key, json{{"$eq", value}}}},
                               json{{key, json{{"$contains", value}}}}})}};
}

Result<json> Translate(const json& filter, const std::string& where);

Result<json> FieldCondition(const json& c, const std::string& where) {
  if (!c["key"].is_string()) return Status::InvalidArgument(where + ".key must be a string");
  const std::string key = c["key"].get<std::string>();
  json all = json::array();
  for (const auto& [name, value] : c.items()) {
    const std::string at = where + "." + name;
    if (name == "key") continue;
    if (name == "match") {
      if (!value.is_object()) return Status::InvalidArgument(at + " must be an object");
      if (value.contains("value")) {
        all.push_back(Equals(key, value["value"]));
      } else if (value.contains("any")) {
        if (!value["any"].is_array()) return Status::InvalidArgument(at + ".any must be a list");
        json any = json::array();
        for (const auto& v : value["any"]) any.push_back(Equals(key, v));
        all.push_back(any.empty() ? json{{key, json{{"$in", json::array()}}}} : json{{"$or", any}});
      } else if (value.contains("except")) {
        if (!value["except"].is_array()) {
          return Status::InvalidArgument(at + ".except must be a list");
        }
        json none = json::array();
        for (const auto& v : value["except"]) none.push_back(Equals(key, v));
        all.push_back({{key, {{"$exists", true}}}});
        if (!none.empty()) all.push_back({{"$not", {{"$or", none}}}});
      } else {
        return Unsupported(at, "this match (text, phrase)");
      }
    } else if (name == "range") {
      if (!value.is_object()) return Status::InvalidArgument(at + " must be an object");
      json ops = json::object();
      for (const auto& [op, bound] : value.items()) {
        if (bound.is_null()) continue;
        if (op != "gt" && op != "gte" && op != "lt" && op != "lte") {
          return Status::InvalidArgument(at + ": unknown bound '" + op +
                                         "'; expected gt, gte, lt, lte");
        }
        if (!bound.is_number()) return Unsupported(at + "." + op, "a range on dates");
        ops["$" + op] = bound;
      }
      all.push_back(ops.empty() ? json{{key, {{"$exists", true}}}} : json{{key, ops}});
    } else {
      return Unsupported(at, "the condition '" + name + "'");
    }
  }
  if (all.empty()) return Status::InvalidArgument(where + " has no condition on '" + key + "'");
  return all.size() == 1 ? all[0] : json{{"$and", all}};
}

Result<json> Condition(const json& c, const std::string& where) {
  if (!c.is_object()) return Status::InvalidArgument(where + " must be an object");
  if (c.contains("key")) return FieldCondition(c, where);
  if (c.contains("must") || c.contains("should") || c.contains("must_not") ||
      c.contains("min_should")) {
    return Translate(c, where);
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
  if (!list.is_array()) return Status::InvalidArgument(at + " must be a list of conditions");
  for (size_t i = 0; i < list.size(); ++i) {
    NEARSTORE_ASSIGN_OR_RETURN(json c, Condition(list[i], at + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(c));
  }
  return out;
}

Result<json> Translate(const json& filter, const std::string& where) {
  if (!filter.is_object()) return Status::InvalidArgument(where + " must be an object");
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

}  // namespace nearstore::server::qdrant

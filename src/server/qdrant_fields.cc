#include "server/qdrant_fields.h"

#include <charconv>

#include "server/json_io.h"
#include "server/router.h"

namespace nearstore::server::qdrant {

using nlohmann::json;

const Unhonoured kShardKey{"shard_key", {}, kOneShard};
const Unhonoured kUpdateFilter{"update_filter", {}, "conditional updates are not supported"};

namespace {

Result<std::vector<std::string>> ReadIdList(const json& list, const std::string& where) {
  std::vector<std::string> ids;
  ids.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    NEARSTORE_ASSIGN_OR_RETURN(std::string id,
                               EngineId(list[i], where + "[" + std::to_string(i) + "]"));
    ids.push_back(std::move(id));
  }
  return ids;
}

}  // namespace

// A Qdrant object of a request: null members read as absent.
Fields QdrantFields(const json& object, const std::string& where) {
  return Fields(object, where, Fields::Nulls::kAbsent);
}

Status CheckUnhonoured(const Fields& f, const std::vector<Unhonoured>& fields) {
  for (const auto& u : fields) {
    if (!f.Has(u.key)) continue;
    const json& v = f.At(u.key);
    bool ok = false;
    std::string list;
    for (const auto& a : u.accepted) {
      ok |= v == a;
      list += (list.empty() ? "" : " or ") + a.dump();
    }
    if (!ok) {
      return Status::InvalidArgument(
          "'" + f.Where(u.key) + "' = " + Describe(v) + " is not supported (" + std::string(u.why) +
          "); " + (list.empty() ? std::string("leave it out") : "only " + list + " is accepted"));
    }
  }
  return Status::Ok();
}

// A present member that must be an object: its fields.
Result<std::optional<Fields>> SubObject(const Fields& f, std::string_view key) {
  NEARSTORE_ASSIGN_OR_RETURN(const json* v, f.Object(key));
  if (v == nullptr) return std::optional<Fields>();
  return std::optional<Fields>(QdrantFields(*v, f.Where(key)));
}

// ---------------------------------------------------------------------------------------------
// Vectors

// A vector as Qdrant takes one for a point or a query: a list of numbers, or the named form
// holding the unnamed vector only ({"": [...]}).
Result<std::vector<float>> ReadQdrantVector(const json& v, const std::string& where) {
  if (v.is_object()) {
    if (v.contains("indices") || v.contains("values")) {
      return Status::InvalidArgument("'" + where + "' is a sparse vector; " +
                                     std::string(kOneVector));
    }
    if (v.contains("model")) {  // Document, Image, InferenceObject: {..., "model": ...}
      return Status::InvalidArgument("'" + where +
                                     "' asks for inference (text, image or object); nearstore "
                                     "takes vectors only");
    }
    for (const auto& [name, value] : v.items()) {
      if (!name.empty()) {
        return Status::InvalidArgument("'" + where + "' names the vector \"" + name +
                                       "\": named vectors are not supported; " +
                                       std::string(kOneVector));
      }
    }
    if (v.size() != 1) return Status::InvalidArgument("'" + where + "' holds no vector");
    return ReadQdrantVector(v.begin().value(), where + "[\"\"]");
  }
  if (v.is_array() && !v.empty() && v[0].is_array()) {
    return Status::InvalidArgument("'" + where + "' is a multi-vector; " + std::string(kOneVector));
  }
  return ReadVector(v, where);
}

// A vector name (`using`, lookup_from.vector): only "" (the unnamed vector) is served.
Status CheckVectorName(const Fields& f, std::string_view key) {
  NEARSTORE_ASSIGN_OR_RETURN(const std::string name, f.String(key, ""));
  if (!name.empty()) {
    return Status::InvalidArgument("'" + f.Where(key) + "' names the vector \"" + name +
                                   "\": named vectors are not supported; " +
                                   std::string(kOneVector));
  }
  return Status::Ok();
}

// with_vector: true, false, or a list of vector names (only "" exists: the list asks for the
// vector when it holds "").
Result<bool> ReadWithVector(const Fields& f, bool fallback) {
  if (!f.Has("with_vector")) return fallback;
  const json& v = f.At("with_vector");
  if (v.is_boolean()) return v.get<bool>();
  if (!v.is_array()) {
    return Status::InvalidArgument("'" + f.Where("with_vector") +
                                   "' must be true, false or a list of vector names, got " +
                                   Describe(v));
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string() || !v[i].get_ref<const std::string&>().empty()) {
      return Status::InvalidArgument("'" + f.Where("with_vector") + "[" + std::to_string(i) +
                                     "]' must be \"\" (the unnamed vector), got " + Describe(v[i]) +
                                     "; " + std::string(kOneVector));
    }
  }
  return !v.empty();
}

// ---------------------------------------------------------------------------------------------
// Ids, filters, selectors

// A required list of point ids under `key`, at most max_batch_points of them.
Result<std::vector<std::string>> ReadIds(const Fields& f, std::string_view key,
                                         const ServerOptions& limits) {
  NEARSTORE_ASSIGN_OR_RETURN(const json* list, f.Array(key, limits.max_batch_points));
  if (list == nullptr) {
    return Status::InvalidArgument("'" + f.Where(key) + "' is required (a list of point ids)");
  }
  return ReadIdList(*list, f.Where(key));
}

// The engine filter of the Qdrant filter under `key` ("" when absent).
Result<std::string> ReadFilter(const Fields& f, std::string_view key) {
  if (!f.Has(key)) return std::string();
  return EngineFilter(f.At(key));
}

// "points" (ids) or "filter", exactly one of them.
Result<Targets> ReadTargets(const Fields& f, const ServerOptions& limits) {
  const bool ids = f.Has("points"), filter = f.Has("filter");
  if (ids == filter) {
    return Status::InvalidArgument(std::string(ids ? "both " : "neither ") +
                                   "'points' and 'filter' given; expected {\"points\": [ids]} "
                                   "or {\"filter\": {...}}");
  }
  Targets t;
  t.by_filter = filter;
  if (ids) {
    NEARSTORE_ASSIGN_OR_RETURN(t.ids, ReadIds(f, "points", limits));
  } else {
    NEARSTORE_ASSIGN_OR_RETURN(t.filter, ReadFilter(f, "filter"));
    if (t.filter.empty()) t.filter = "{}";
  }
  return t;
}

// One payload key: a name or a dotted path into objects. Qdrant's paths into arrays (a[].b,
// a[0]) are not followed by nearstore: refused by name, not silently matched by nothing.
Result<std::string> ReadKey(const json& v, const std::string& where) {
  if (!v.is_string()) {
    return Status::InvalidArgument("'" + where + "' must be a payload key (a string), got " +
                                   Describe(v));
  }
  std::string key = v.get<std::string>();
  if (key.empty() || key.find_first_of("[]") != std::string::npos) {
    std::string shown = v.dump(-1, ' ', false, json::error_handler_t::replace);
    if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
    return Status::InvalidArgument("'" + where + "' = " + shown +
                                   " is not supported: a payload key is a name or a dotted path "
                                   "into objects (a.b); paths into arrays (a[].b, a[0]) are not");
  }
  return key;
}

// A list of payload keys, or one key.
Result<std::vector<std::string>> ReadKeys(const json& v, const std::string& where) {
  if (v.is_string()) {
    NEARSTORE_ASSIGN_OR_RETURN(std::string key, ReadKey(v, where));
    return std::vector<std::string>{std::move(key)};
  }
  if (!v.is_array()) {
    return Status::InvalidArgument("'" + where + "' must be a list of payload keys, got " +
                                   Describe(v));
  }
  std::vector<std::string> keys;
  for (size_t i = 0; i < v.size(); ++i) {
    NEARSTORE_ASSIGN_OR_RETURN(std::string key,
                               ReadKey(v[i], where + "[" + std::to_string(i) + "]"));
    keys.push_back(std::move(key));
  }
  return keys;
}

// with_payload: true, false, a list of keys, {"include": keys} or {"exclude": keys}.
Result<PayloadSelector> ReadWithPayload(const Fields& f, bool fallback) {
  using Kind = PayloadSelector::Kind;
  if (!f.Has("with_payload")) return PayloadSelector{fallback ? Kind::kAll : Kind::kNone, {}};
  const json& v = f.At("with_payload");
  const std::string where = f.Where("with_payload");
  if (v.is_boolean()) return PayloadSelector{v.get<bool>() ? Kind::kAll : Kind::kNone, {}};
  if (v.is_array()) {
    NEARSTORE_ASSIGN_OR_RETURN(auto keys, ReadKeys(v, where));
    return PayloadSelector{Kind::kInclude, std::move(keys)};
  }
  if (v.is_object() && v.size() == 1 && (v.contains("include") || v.contains("exclude"))) {
    const bool include = v.contains("include");
    const char* key = include ? "include" : "exclude";
    NEARSTORE_ASSIGN_OR_RETURN(auto keys, ReadKeys(v[key], where + "." + key));
    return PayloadSelector{include ? Kind::kInclude : Kind::kExclude, std::move(keys)};
  }
  return Status::InvalidArgument("'" + where +
                                 "' must be true, false, a list of payload keys, "
                                 "{\"include\": [keys]} or {\"exclude\": [keys]}, got " +
                                 Describe(v));
}

// An object that must be empty when given (a config nearstore has none of).
Status CheckEmpty(const Fields& f, std::string_view key, std::string_view why) {
  NEARSTORE_ASSIGN_OR_RETURN(const json* v, f.Object(key));
  if (v == nullptr || v->empty()) return Status::Ok();
  return Status::InvalidArgument("'" + f.Where(key) + "' = " + Describe(*v) +
                                 " is not supported (" + std::string(why) +
                                 "); leave it out or give {}");
}

Status CheckQueryParams(std::string_view query, Params route) {
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string name, value;
    if (!PercentDecode(pair.substr(0, eq), &name) ||
        (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), &value))) {
      return Status::InvalidArgument("the query string holds a malformed %-escape");
    }
    auto bad = [&](std::string_view expected) {
      return Status::InvalidArgument("query parameter '" + name + "' must be " +
                                     std::string(expected) + ", got \"" + value + "\"");
    };
    auto positive = [&] {
      uint64_t n = 0;
      const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      return ec == std::errc() && p == value.data() + value.size() && n >= 1;
    };
    const bool write = route == Params::kWrite, read = route == Params::kRead;
    if (name == "timeout" && route != Params::kNone) {
      if (!positive()) return bad("a whole number of seconds, at least 1");
    } else if (name == "wait" && write) {
      if (value != "true" && value != "false") return bad("true or false");
    } else if (name == "ordering" && write) {
      if (value != "weak" && value != "medium" && value != "strong") {
        return bad("weak, medium or strong");
      }
    } else if (name == "consistency" && read) {
      if (value != "majority" && value != "quorum" && value != "all" && !positive()) {
        return bad("a positive integer, majority, quorum or all");
      }
    } else {
      const char* known = write                          ? "wait, ordering, timeout"
                          : read                         ? "consistency, timeout"
                          : route == Params::kCollection ? "timeout"
                                                         : "none";
      return Status::InvalidArgument("unknown query parameter '" + name +
                                     "'; this route takes: " + known);
    }
  }
  return Status::Ok();
}

}  // namespace nearstore::server::qdrant

// What the Qdrant-compatible face translates: Qdrant's point ids, filters and distances to the
// engine's, and back.
//
// Ids: Qdrant's are unsigned integers or UUIDs; the engine's are strings. An integer n is
// stored as its decimal text ("42"), a UUID as its lowercase hyphenated text, and both come
// back with their JSON type: an id that is decimal digits (no leading zero) is an integer, any
// other id a string. So ids written through this face round-trip, and ids written through the
// native face read back as strings (or integers, when they are decimal).
//
// Filters: must -> $and, should -> $or, must_not -> $not of $or; a field condition's match
// (value, any, except) and range (gt, gte, lt, lte), is_null (-> null), is_empty (missing, null
// or [] -> $exists, null, $size), has_id (-> $id) and nested (-> $elemMatch) map onto the
// engine's operators; keys are dotted, with "a[].b" for the field b of the elements of array a
// (-> $elemMatch). As in Qdrant, a match or range on an array field holds when one of its
// elements satisfies it. Not translated (400 naming them): geo, values_count, text match,
// datetime ranges, min_should.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nearstore/status.h"
#include "nearstore/types.h"

namespace nearstore::server::qdrant {

// The version of Qdrant's REST API whose subset this face serves, tested with the qdrant-client
// of the same minor version (tests/python/test_qdrant_client.py). GET / reports it.
inline constexpr const char* kApiVersion = "1.20.0";

// The engine's id of a Qdrant point id (an unsigned integer or a UUID string).
[[nodiscard]] Result<std::string> EngineId(const nlohmann::json& id, const std::string& where);
// The Qdrant id (JSON integer or string) of an engine id.
nlohmann::json QdrantId(const std::string& id);

// The engine's filter (JSON text, "" for none) of a Qdrant filter object (null: none).
[[nodiscard]] Result<std::string> EngineFilter(const nlohmann::json& filter);

// "Cosine", "Euclid", "Dot" <-> the engine's metrics.
[[nodiscard]] Result<Metric> MetricOf(const nlohmann::json& distance);
const char* DistanceName(Metric metric);
// Qdrant's score of an engine distance: cosine similarity, dot product, or (Euclid) the
// distance itself, as Qdrant reports them.
float ScoreOf(Metric metric, float distance);
// Whether a score passes a score_threshold (at least it; Euclid: at most).
bool PassesThreshold(Metric metric, float score, float threshold);

// with_payload: all of a payload, none of it, only the keys listed, or all but them. Keys are
// Qdrant's paths: "a.b" is the key b of the object under a.
struct PayloadSelector {
  enum class Kind { kNone, kAll, kInclude, kExclude };
  Kind kind = Kind::kAll;
  std::vector<std::string> keys;
};
// What `selector` lets through of `payload` (an object; null for kNone).
nlohmann::json SelectPayload(nlohmann::json payload, const PayloadSelector& selector);
// Removes the value at `path` ("a.b": the key b of the object under a) if there is one.
void ErasePath(nlohmann::json& payload, std::string_view path);

// Qdrant's maximal marginal relevance: of `candidates` (vectors as stored), picks the most
// relevant, then again and again the one with the largest
//   lambda * relevance - (1 - lambda) * (its largest similarity to one already picked)
// until `n` are picked or none is left. Relevance and similarity are the metric's similarity,
// as Qdrant's scorer has it: cosine similarity, dot product, or for Euclid minus the squared
// distance. Returns the candidates' positions in the order picked (ties: the earlier).
// Costs n * candidates similarities.
std::vector<size_t> MaximalMarginalRelevance(Metric metric, std::span<const float> query,
                                             const std::vector<std::span<const float>>& candidates,
                                             double lambda, size_t n);

}  // namespace nearstore::server::qdrant

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
#include <string>

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

}  // namespace nearstore::server::qdrant

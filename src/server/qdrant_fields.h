// The parts that Qdrant request bodies share, read with the checked readers of json_io.h:
// vectors (with Qdrant's name "" for the unnamed vector), vector names, ids, filters, the
// points an operation names, with_payload and with_vector, fields nearstore accepts only at
// their default, and query strings. qdrant_request.h states the contract they serve.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nearstore/status.h"
#include "server/json_io.h"
#include "server/qdrant_compat.h"
#include "server/server_options.h"

namespace nearstore::server::qdrant {

// Why a field is accepted only with its default value.
inline constexpr std::string_view kOneShard = "nearstore serves one shard on one node";
inline constexpr std::string_view kInMemory =
    "nearstore keeps vectors, graphs and payload in memory";
inline constexpr std::string_view kOneVector =
    "nearstore's points have one unnamed vector (name \"\"), dense float32";

// A Qdrant object of a request: null members read as absent (as Qdrant reads them).
Fields QdrantFields(const nlohmann::json& object, const std::string& where);

// A field Qdrant defines whose meaning nearstore does not honour: accepted when absent or
// equal to one of `accepted` (Qdrant's default, a no-op here), refused by name otherwise.
struct Unhonoured {
  std::string_view key;
  std::vector<nlohmann::json> accepted;  // none: only absent (or null) is accepted
  std::string_view why;
};
[[nodiscard]] Status CheckUnhonoured(const Fields& f, const std::vector<Unhonoured>& fields);
extern const Unhonoured kShardKey;      // no custom sharding to pick a shard of
extern const Unhonoured kUpdateFilter;  // no conditional updates
// An object that must be empty ({}) when given: a config nearstore has none of (`why`).
[[nodiscard]] Status CheckEmpty(const Fields& f, std::string_view key, std::string_view why);

// The fields of the object under `key` (nullopt when absent; InvalidArgument if not an object).
[[nodiscard]] Result<std::optional<Fields>> SubObject(const Fields& f, std::string_view key);

// A vector as Qdrant takes one for a point or a query: a list of numbers, or the named form
// holding the unnamed vector only ({"": [...]}); named, sparse and multi-vectors are refused.
[[nodiscard]] Result<std::vector<float>> ReadQdrantVector(const nlohmann::json& v,
                                                          const std::string& where);
// A vector name (`using`, lookup_from.vector): only "" (the unnamed vector) exists.
[[nodiscard]] Status CheckVectorName(const Fields& f, std::string_view key);

// with_vector: true, false, or a list of vector names ([""] asks for the vector).
[[nodiscard]] Result<bool> ReadWithVector(const Fields& f, bool fallback);
// with_payload: true, false, a list of keys, {"include": keys} or {"exclude": keys}.
[[nodiscard]] Result<PayloadSelector> ReadWithPayload(const Fields& f, bool fallback);

// A required list of point ids under `key` (engine ids), at most max_batch_points of them.
[[nodiscard]] Result<std::vector<std::string>> ReadIds(const Fields& f, std::string_view key,
                                                       const ServerOptions& limits);
// The engine filter of the Qdrant filter under `key` ("" when absent).
[[nodiscard]] Result<std::string> ReadFilter(const Fields& f, std::string_view key);
// A list of payload keys, or one key.
[[nodiscard]] Result<std::vector<std::string>> ReadKeys(const nlohmann::json& v,
                                                        const std::string& where);

// The points an operation names: the ids under "points", or those passing "filter".
struct Targets {
  bool by_filter = false;
  std::vector<std::string> ids;  // engine ids
  std::string filter;            // engine filter text ("{}" for every point)
};
// "points" or "filter", exactly one of them.
[[nodiscard]] Result<Targets> ReadTargets(const Fields& f, const ServerOptions& limits);

// The query-string parameters Qdrant's routes take, each honoured or a no-op: `wait` (true or
// false: every write is durable and applied when answered), `ordering` (weak, medium, strong:
// one node applies writes in order), `consistency` (a positive integer, majority, quorum or
// all: there is one replica) and `timeout` (seconds, at least 1: checked, but nearstore does
// not cut a request off at it; docs/SERVER.md). A route takes: kNone nothing; kCollection
// timeout; kRead consistency and timeout; kWrite wait, ordering and timeout. Refuses a
// parameter the route does not take, or a bad value, by name.
enum class Params { kNone, kCollection, kRead, kWrite };
[[nodiscard]] Status CheckQueryParams(std::string_view query, Params route);

}  // namespace nearstore::server::qdrant

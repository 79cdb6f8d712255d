// Qdrant request bodies and query strings read into typed requests, for qdrant_api.cc.
//
// The contract, for every body of the Qdrant face: each field is read through the checked
// readers of json_io.h (a wrong type or range is InvalidArgument naming the field, never an
// exception); null means "not given", as in Qdrant; a field Qdrant does not define is refused
// by name; a field Qdrant defines whose meaning nearstore does not honour is accepted only
// when it holds Qdrant's default (a no-op) and refused by name otherwise, so that a request is
// either served as Qdrant would serve it or refused with 400 saying why. The unnamed vector
// may be given as Qdrant's clients send it, under the name "" ({"": [...]}), wherever Qdrant
// takes a vector or a vector name.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nearstore/status.h"
#include "nearstore/types.h"
#include "server/qdrant_compat.h"
#include "server/qdrant_fields.h"
#include "server/server_options.h"

namespace nearstore::server::qdrant {

// PUT /collections/{c}.
struct CreateCollectionRequest {
  uint32_t dim = 0;
  Metric metric = Metric::kCosine;
  IndexOptions index;
};
[[nodiscard]] Result<CreateCollectionRequest> ReadCreateCollection(const nlohmann::json& body);

// PUT /collections/{c}/points ({"points": [...]} or {"batch": {...}}), and PUT .../points/vectors
// ({"points": [{"id", "vector"}]}: points with an empty metadata, whose vector replaces the
// stored one).
[[nodiscard]] Result<std::vector<Point>> ReadUpsert(const nlohmann::json& body,
                                                    const ServerOptions& limits);
[[nodiscard]] Result<std::vector<Point>> ReadUpdateVectors(const nlohmann::json& body,
                                                           const ServerOptions& limits);

// POST .../points/delete.
[[nodiscard]] Result<Targets> ReadDelete(const nlohmann::json& body, const ServerOptions& limits);

// POST/PUT .../points/payload (`payload` set) and POST .../points/payload/delete (`keys` set).
struct PayloadEditRequest {
  Targets targets;
  nlohmann::json payload;         // the object to merge or to overwrite with
  std::vector<std::string> keys;  // the (dotted) keys to delete
};
[[nodiscard]] Result<PayloadEditRequest> ReadSetPayload(const nlohmann::json& body,
                                                        const ServerOptions& limits);
[[nodiscard]] Result<PayloadEditRequest> ReadDeletePayload(const nlohmann::json& body,
                                                           const ServerOptions& limits);

// POST .../points (retrieve).
struct RetrieveRequest {
  std::vector<std::string> ids;  // engine ids
  PayloadSelector with_payload;
  bool with_vector = false;
};
[[nodiscard]] Result<RetrieveRequest> ReadRetrieve(const nlohmann::json& body,
                                                   const ServerOptions& limits);

// POST .../points/scroll.
struct ScrollRequest {
  std::string offset;  // the engine id the page starts at (inclusive); "" = from the first
  uint64_t limit = 10;
  std::string filter;  // engine filter text; "" = every point
  PayloadSelector with_payload;
  bool with_vector = false;
};
[[nodiscard]] Result<ScrollRequest> ReadScroll(const nlohmann::json& body,
                                               const ServerOptions& limits);

// POST .../points/count: the engine filter ("" = every point).
[[nodiscard]] Result<std::string> ReadCount(const nlohmann::json& body);

// One query of POST .../points/query or .../query/batch.
struct QueryRequest {
  std::vector<float> vector;  // the query vector, or
  std::string by_id;          // the engine id of the point whose vector is the query (that
                              // point is left out of the answer, as in Qdrant)
  std::string by_id_text;     // that id as the request gave it, for messages
  // {"nearest": ..., "mmr": {...}}: maximal marginal relevance over the `mmr_candidates`
  // nearest points (qdrant_compat.h, MaximalMarginalRelevance).
  bool mmr = false;
  double mmr_lambda = 0.5;  // 1 - diversity
  uint64_t mmr_candidates = 0;
  uint64_t limit = 10;
  uint64_t offset = 0;  // limit + offset <= max_limit
  uint32_t ef = 0;      // params.hnsw_ef (0: the collection's)
  uint32_t rerank = 0;  // params.quantization.oversampling, rounded up (0: the collection's)
  std::optional<float> score_threshold;
  std::string filter;  // engine filter text; "" = every point
  PayloadSelector with_payload{PayloadSelector::Kind::kNone, {}};
  bool with_vector = false;
};
// `collection`: the collection queried (lookup_from may name it, and only it).
[[nodiscard]] Result<QueryRequest> ReadQuery(const nlohmann::json& body,
                                             const std::string& collection,
                                             const ServerOptions& limits);
[[nodiscard]] Result<std::vector<QueryRequest>> ReadQueryBatch(const nlohmann::json& body,
                                                               const std::string& collection,
                                                               const ServerOptions& limits);

// PUT .../index.
struct CreateIndexRequest {
  std::string field;
  PayloadIndexKind kind = PayloadIndexKind::kKeyword;
};
[[nodiscard]] Result<CreateIndexRequest> ReadCreateIndex(const nlohmann::json& body);

}  // namespace nearstore::server::qdrant

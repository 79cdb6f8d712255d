#include "server/qdrant_request.h"

#include <cmath>
#include <limits>

#include "server/json_io.h"

namespace nearstore::server::qdrant {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Collections

// hnsw_config, of the collection or of its vector: m and ef_construct are honoured.
Status ReadHnswConfig(const Fields& f, IndexOptions* index) {
  NEARSTORE_RETURN_IF_ERROR(
      f.OnlyKnown({"m", "ef_construct", "full_scan_threshold", "max_indexing_threads", "on_disk",
                   "memory", "payload_m", "inline_storage"}));
  NEARSTORE_RETURN_IF_ERROR(CheckUnhonoured(
      f, {{"full_scan_threshold", {10000}, "nearstore plans filtered searches itself"},
          {"max_indexing_threads", {0}, "nearstore builds graphs on its own threads"},
          {"on_disk", {false}, kInMemory},
          {"memory", {"cached"}, kInMemory},
          {"payload_m", {}, "nearstore builds no payload-aware links"},
          {"inline_storage", {false}, kInMemory}}));
  NEARSTORE_ASSIGN_OR_RETURN(const uint64_t m, f.Unsigned("m", index->m, 0, UINT32_MAX));
  NEARSTORE_ASSIGN_OR_RETURN(const uint64_t ef,
                             f.Unsigned("ef_construct", index->ef_construction, 0, UINT32_MAX));
  if (m == 0) {
    return Status::InvalidArgument("'" + f.Where("m") +
                                   "' = 0 (no graph) is not supported: nearstore's collections "
                                   "always have one; leave it out for the default");
  }
  index->m = static_cast<uint32_t>(m);  // the engine checks the range and says it
  index->ef_construction = static_cast<uint32_t>(ef);
  return Status::Ok();
}

// quantization_config: {"scalar": {"type": "int8"}} (sq8) or {"binary": {}}.
Status ReadQuantization(const Fields& f, IndexOptions* index) {
  NEARSTORE_RETURN_IF_ERROR(f.OnlyKnown({"scalar", "binary", "product"}));
  if (f.Has("product")) {
    return Status::InvalidArgument("'" + f.Where("product") +
                                   "': product quantization is not supported; expected "
                                   "{\"scalar\": {\"type\": \"int8\"}} or {\"binary\": {}}");
  }
  if (f.Has("scalar") == f.Has("binary")) {
    return Status::InvalidArgument("'" + f.Where("") + "' must hold one of 'scalar' and 'binary'");
  }
  const bool scalar = f.Has("scalar");
  NEARSTORE_ASSIGN_OR_RETURN(const auto q, SubObject(f, scalar ? "scalar" : "binary"));
  if (scalar) {
    NEARSTORE_RETURN_IF_ERROR(q->OnlyKnown({"type", "quantile", "always_ram", "memory"}));
    NEARSTORE_ASSIGN_OR_RETURN(const std::string type, q->String("type"));
    if (type != "int8") {
      return Status::InvalidArgument("'" + q->Where("type") + "' must be \"int8\", got \"" + type +
                                     "\"");
    }
    NEARSTORE_RETURN_IF_ERROR(CheckUnhonoured(
        *q, {{"quantile", {1, 1.0}, "nearstore's int8 codes span each value's whole range"}}));
    index->quantization = Quantization::kSq8;
  } else {
    NEARSTORE_RETURN_IF_ERROR(q->OnlyKnown({"always_ram", "memory", "encoding", "query_encoding"}));
    NEARSTORE_RETURN_IF_ERROR(CheckUnhonoured(
        *q, {{"encoding", {"one_bit"}, "nearstore's binary codes have one bit per value"},
             {"query_encoding", {"default"}, "nearstore compares queries as floats"}}));
    index->quantization = Quantization::kBinary;
  }
  // Codes are always in memory: always_ram either way is honoured.
  NEARSTORE_RETURN_IF_ERROR(q->Bool("always_ram", false).status());
  return CheckUnhonoured(*q, {{"memory", {"cached"}, kInMemory}});
}

// A collection's or a vector's own hnsw_config and quantization_config.
Status ReadIndexSettings(const Fields& f, IndexOptions* index) {
  NEARSTORE_ASSIGN_OR_RETURN(const auto hnsw, SubObject(f, "hnsw_config"));
  if (hnsw.has_value()) NEARSTORE_RETURN_IF_ERROR(ReadHnswConfig(*hnsw, index));
  NEARSTORE_ASSIGN_OR_RETURN(const auto quantization, SubObject(f, "quantization_config"));
  if (quantization.has_value()) NEARSTORE_RETURN_IF_ERROR(ReadQuantization(*quantization, index));
  return Status::Ok();
}

}  // namespace

Result<CreateCollectionRequest> ReadCreateCollection(const json& body) {
  const Fields f = QdrantFields(body, "");
  NEARSTORE_RETURN_IF_ERROR(
      f.OnlyKnown({"vectors", "shard_number", "sharding_method", "replication_factor",
                   "write_consistency_factor", "on_disk_payload", "payload", "id_tracker",
                   "hnsw_config", "wal_config", "optimizers_config", "quantization_config",
                   "sparse_vectors", "strict_mode_config", "metadata"}));
  NEARSTORE_RETURN_IF_ERROR(
      CheckUnhonoured(f, {{"shard_number", {1}, kOneShard},
                          {"sharding_method", {"auto"}, kOneShard},
                          {"replication_factor", {1}, kOneShard},
                          {"write_consistency_factor", {1}, kOneShard},
                          {"strict_mode_config",
                           {json::object(), json{{"enabled", false}}},
                           "nearstore's limits are the server's (docs/SERVER.md)"}}));
  // Payload in memory: on_disk_payload false is honoured, true (Qdrant's default) a no-op.
  NEARSTORE_RETURN_IF_ERROR(f.Bool("on_disk_payload", true).status());
  NEARSTORE_RETURN_IF_ERROR(CheckEmpty(f, "sparse_vectors", "sparse vectors are not supported"));
  NEARSTORE_RETURN_IF_ERROR(CheckEmpty(f, "payload", kInMemory));
  NEARSTORE_RETURN_IF_ERROR(CheckEmpty(f, "id_tracker", "nearstore tracks ids itself"));
  NEARSTORE_RETURN_IF_ERROR(CheckEmpty(f, "wal_config", "nearstore's log is its own"));
  NEARSTORE_RETURN_IF_ERROR(CheckEmpty(f, "optimizers_config",
                                       "nearstore seals and compacts "
                                       "segments itself"));
  NEARSTORE_RETURN_IF_ERROR(CheckEmpty(f, "metadata", "collections carry no metadata"));

  CreateCollectionRequest out;
  out.index.kind = IndexKind::kHnsw;
  out.index.ef_construction = 100;  // Qdrant's default ef_construct
  NEARSTORE_RETURN_IF_ERROR(ReadIndexSettings(f, &out.index));

  // vectors: {"size", "distance", ...}, or the named form holding "" only.
  NEARSTORE_ASSIGN_OR_RETURN(const json* vectors, f.Object("vectors"));
  if (vectors == nullptr) {
    return Status::InvalidArgument(
        "'vectors' is required: {\"size\": N, \"distance\": \"Cosine\"|\"Euclid\"|\"Dot\"}");
  }
  std::string where = "vectors";
  if (!vectors->contains("size") && !vectors->contains("distance")) {
    for (const auto& [name, value] : vectors->items()) {
      if (!name.empty()) {
        return Status::InvalidArgument("'vectors' names the vector \"" + name +
                                       "\": named vectors are not supported; " +
                                       std::string(kOneVector));
      }
    }
    if (vectors->size() != 1 || !vectors->begin()->is_object()) {
      return Status::InvalidArgument(
          "'vectors' must be {\"size\": N, \"distance\": ...} or {\"\": {\"size\": N, "
          "\"distance\": ...}}, got " +
          Describe(*vectors));
    }
    vectors = &*vectors->begin();
    where = "vectors[\"\"]";
  }
  const Fields v = QdrantFields(*vectors, where);
  NEARSTORE_RETURN_IF_ERROR(v.OnlyKnown({"size", "distance", "hnsw_config", "quantization_config",
                                         "on_disk", "memory", "datatype", "multivector_config"}));
  NEARSTORE_RETURN_IF_ERROR(CheckUnhonoured(v, {{"on_disk", {false}, kInMemory},
                                                {"memory", {"cached"}, kInMemory},
                                                {"datatype", {"float32"}, kOneVector},
                                                {"multivector_config", {}, kOneVector}}));
  if (!v.Has("size")) return Status::InvalidArgument("'" + v.Where("size") + "' is required");
  NEARSTORE_ASSIGN_OR_RETURN(const uint64_t size, v.Unsigned("size", 0, 1, kMaxDimension));
  out.dim = static_cast<uint32_t>(size);
  if (!v.Has("distance")) {
    return Status::InvalidArgument("'" + v.Where("distance") + "' is required");
  }
  NEARSTORE_ASSIGN_OR_RETURN(out.metric, MetricOf(v.At("distance")));
  NEARSTORE_RETURN_IF_ERROR(ReadIndexSettings(v, &out.index));  // the vector's own win
  return out;
}

// ---------------------------------------------------------------------------------------------
// Points

namespace {

// One point of a list: {"id", "vector", "payload"}; `vector_only` for update_vectors.
Result<Point> ReadPoint(const json& item, const std::string& where, bool vector_only) {
  if (!item.is_object()) {
    return Status::InvalidArgument("'" + where + "' must be a point object, got " + Describe(item));
  }
  const Fields p = QdrantFields(item, where);
  if (vector_only) {
    NEARSTORE_RETURN_IF_ERROR(p.OnlyKnown({"id", "vector"}));
  } else {
    NEARSTORE_RETURN_IF_ERROR(p.OnlyKnown({"id", "vector", "payload"}));
  }
  Point point;
  if (!p.Has("id")) return Status::InvalidArgument("'" + p.Where("id") + "' is required");
  NEARSTORE_ASSIGN_OR_RETURN(point.id, EngineId(p.At("id"), p.Where("id")));
  if (!p.Has("vector")) return Status::InvalidArgument("'" + p.Where("vector") + "' is required");
  NEARSTORE_ASSIGN_OR_RETURN(point.vector, ReadQdrantVector(p.At("vector"), p.Where("vector")));
  if (!vector_only) {
    NEARSTORE_ASSIGN_OR_RETURN(point.metadata, p.Metadata("payload"));
  }
  return point;
}

Result<std::vector<Point>> ReadPointList(const Fields& f, const ServerOptions& limits,
                                         bool vector_only) {
  NEARSTORE_ASSIGN_OR_RETURN(const json* list, f.Array("points", limits.max_batch_points));
  std::vector<Point> points;
  points.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    NEARSTORE_ASSIGN_OR_RETURN(
        Point p, ReadPoint((*list)[i], "points[" + std::to_string(i) + "]", vector_only));
    points.push_back(std::move(p));
  }
  return points;
}

// {"ids": [...], "vectors": [[...]] or {"": [[...]]}, "payloads": [...]}.
Result<std::vector<Point>> ReadBatch(const Fields& f, const ServerOptions& limits) {
  NEARSTORE_ASSIGN_OR_RETURN(const auto b, SubObject(f, "batch"));
  NEARSTORE_RETURN_IF_ERROR(b->OnlyKnown({"ids", "vectors", "payloads"}));
  NEARSTORE_ASSIGN_OR_RETURN(const auto ids, ReadIds(*b, "ids", limits));
  if (!b->Has("vectors")) return Status::InvalidArgument("'batch.vectors' is required");
  const json* vectors = &b->At("vectors");
  std::string where = "batch.vectors";
  if (vectors->is_object()) {
    for (const auto& [name, value] : vectors->items()) {
      if (!name.empty()) {
        return Status::InvalidArgument("'batch.vectors' names the vector \"" + name +
                                       "\": named vectors are not supported; " +
                                       std::string(kOneVector));
      }
    }
    if (vectors->size() != 1) return Status::InvalidArgument("'batch.vectors' holds no vectors");
    vectors = &*vectors->begin();
    where += "[\"\"]";
  }
  NEARSTORE_ASSIGN_OR_RETURN(const json* payloads, b->Array("payloads", ids.size()));
  if (!vectors->is_array() || vectors->size() != ids.size() ||
      (payloads != nullptr && payloads->size() != ids.size())) {
    return Status::InvalidArgument(
        "'batch': 'ids' and 'vectors' (and 'payloads' when given) must be lists of the same "
        "length");
  }
  std::vector<Point> points(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string at = "[" + std::to_string(i) + "]";
    points[i].id = ids[i];
    NEARSTORE_ASSIGN_OR_RETURN(points[i].vector, ReadQdrantVector((*vectors)[i], where + at));
    if (payloads != nullptr && !(*payloads)[i].is_null()) {
      const json wrapped = {{"payload", (*payloads)[i]}};  // one reader for every payload
      NEARSTORE_ASSIGN_OR_RETURN(points[i].metadata,
                                 QdrantFields(wrapped, "batch.payloads" + at).Metadata("payload"));
    }
  }
  return points;
}

}  // namespace

Result<std::vector<Point>> ReadUpsert(const json& body, const ServerOptions& limits) {
  const Fields f = QdrantFields(body, "");
  NEARSTORE_RETURN_IF_ERROR(
      f.OnlyKnown({"points", "batch", "shard_key", "update_filter", "update_mode"}));
  NEARSTORE_RETURN_IF_ERROR(CheckUnhonoured(
      f,
      {kShardKey, kUpdateFilter, {"update_mode", {"upsert"}, "every upsert inserts or replaces"}}));
  if (f.Has("points") == f.Has("batch")) {
    return Status::InvalidArgument(
        "expected {\"points\": [...]} or {\"batch\": {...}}, one of "
        "them");
  }
  return f.Has("points") ? ReadPointList(f, limits, false) : ReadBatch(f, limits);
}

Result<std::vector<Point>> ReadUpdateVectors(const json& body, const ServerOptions& limits) {
  const Fields f = QdrantFields(body, "");
  NEARSTORE_RETURN_IF_ERROR(f.OnlyKnown({"points", "shard_key", "update_filter"}));
  NEARSTORE_RETURN_IF_ERROR(CheckUnhonoured(f, {kShardKey, kUpdateFilter}));
  if (!f.Has("points")) return Status::InvalidArgument("'points' is required");
  return ReadPointList(f, limits, true);
}

Result<Targets> ReadDelete(const json& body, const ServerOptions& limits) {
  const Fields f = QdrantFields(body, "");
  NEARSTORE_RETURN_IF_ERROR(f.OnlyKnown({"points", "filter", "shard_key"}));
  NEARSTORE_RETURN_IF_ERROR(CheckUnhonoured(f, {kShardKey}));
  return ReadTargets(f, limits);
}

Result<PayloadEditRequest> ReadSetPayload(const json& body, const ServerOptions& limits) {
  const Fields f = QdrantFields(body, "");
  NEARSTORE_RETURN_IF_ERROR(f.OnlyKnown({"payload", "points", "filter", "shard_key", "key"}));
  NEARSTORE_RETURN_IF_ERROR(
      CheckUnhonoured(f, {kShardKey, {"key", {}, "payload is set at its top level only"}}));
  PayloadEditRequest out;
  NEARSTORE_ASSIGN_OR_RETURN(out.targets, ReadTargets(f, limits));
  NEARSTORE_ASSIGN_OR_RETURN(const json* payload, f.Object("payload"));
  if (payload == nullptr) return Status::InvalidArgument("'payload' is required (an object)");
  out.payload = *payload;
  return out;
}

Result<PayloadEditRequest> ReadDeletePayload(const json& body, const ServerOptions& limits) {
  const Fields f = QdrantFields(body, "");
  NEARSTORE_RETURN_IF_ERROR(f.OnlyKnown({"keys", "points", "filter", "shard_key"}));
  NEARSTORE_RETURN_IF_ERROR(CheckUnhonoured(f, {kShardKey}));
  PayloadEditRequest out;
  NEARSTORE_ASSIGN_OR_RETURN(out.targets, ReadTargets(f, limits));
  NEARSTORE_ASSIGN_OR_RETURN(const json* keys, f.Array("keys", limits.max_batch_points));
  if (keys == nullptr) return Status::InvalidArgument("'keys' is required (a list of keys)");
  NEARSTORE_ASSIGN_OR_RETURN(out.keys, ReadKeys(*keys, "keys"));
  return out;
}

Result<RetrieveRequest> ReadRetrieve(const json& body, const ServerOptions& limits) {
  const Fields f = QdrantFields(body, "");
  NEARSTORE_RETURN_IF_ERROR(f.OnlyKnown({"ids", "with_payload", "with_vector", "shard_key"}));
  NEARSTORE_RETURN_IF_ERROR(CheckUnhonoured(f, {kShardKey}));
  RetrieveRequest out;
  NEARSTORE_ASSIGN_OR_RETURN(out.ids, ReadIds(f, "ids", limits));
  NEARSTORE_ASSIGN_OR_RETURN(out.with_payload, ReadWithPayload(f, true));
  NEARSTORE_ASSIGN_OR_RETURN(out.with_vector, ReadWithVector(f, false));
  return out;
}

Result<ScrollRequest> ReadScroll(const json& body, const ServerOptions& limits) {
  const Fields f = QdrantFields(body, "");
  NEARSTORE_RETURN_IF_ERROR(f.OnlyKnown(
      {"offset", "limit", "filter", "with_payload", "with_vector", "order_by", "shard_key"}));
  NEARSTORE_RETURN_IF_ERROR(CheckUnhonoured(
      f, {kShardKey, {"order_by", {}, "pages follow the order of the stored ids"}}));
  ScrollRequest out;
  if (f.Has("offset")) {
    NEARSTORE_ASSIGN_OR_RETURN(out.offset, EngineId(f.At("offset"), "offset"));
  }
  NEARSTORE_ASSIGN_OR_RETURN(out.limit, f.Unsigned("limit", 10, 1, limits.max_limit));
  NEARSTORE_ASSIGN_OR_RETURN(out.filter, ReadFilter(f, "filter"));
  NEARSTORE_ASSIGN_OR_RETURN(out.with_payload, ReadWithPayload(f, true));
  NEARSTORE_ASSIGN_OR_RETURN(out.with_vector, ReadWithVector(f, false));
  return out;
}

Result<std::string> ReadCount(const json& body) {
  const Fields f = QdrantFields(body, "");
  NEARSTORE_RETURN_IF_ERROR(f.OnlyKnown({"filter", "exact", "shard_key"}));
  NEARSTORE_RETURN_IF_ERROR(CheckUnhonoured(f, {kShardKey}));
  // Counts are always exact: exact either way is honoured.
  NEARSTORE_RETURN_IF_ERROR(f.Bool("exact", true).status());
  return ReadFilter(f, "filter");
}

// ---------------------------------------------------------------------------------------------
// Queries

namespace {

// The nearest-to part of a query: a vector, or a point id.
Status ReadQueryInput(const json& v, const std::string& where, QueryRequest* out) {
  if (v.is_number_unsigned() || v.is_string()) {
    NEARSTORE_ASSIGN_OR_RETURN(out->by_id, EngineId(v, where));
    out->by_id_text = v.dump();
    return Status::Ok();
  }
  for (const char* kind :
       {"recommend", "discover", "context", "order_by", "fusion", "rrf", "formula", "sample"}) {
    if (v.is_object() && v.contains(kind)) {
      return Status::InvalidArgument("'" + where + "." + kind +
                                     "' is not supported: nearstore answers nearest queries "
                                     "(a vector or a point id), with or without mmr");
    }
  }
  if (v.is_array() || v.is_object()) {
    NEARSTORE_ASSIGN_OR_RETURN(out->vector, ReadQdrantVector(v, where));
    return Status::Ok();
  }
  return Status::InvalidArgument(
      "'" + where + "' must be a vector (a list of numbers) or a point id, got " + Describe(v));
}

// params: hnsw_ef and quantization.oversampling honoured; the rest at their defaults.
Status ReadSearchParams(const Fields& f, QueryRequest* out) {
  NEARSTORE_RETURN_IF_ERROR(
      f.OnlyKnown({"hnsw_ef", "exact", "quantization", "indexed_only", "acorn", "idf"}));
  NEARSTORE_RETURN_IF_ERROR(CheckUnhonoured(
      f, {{"exact", {false}, "searches walk the HNSW graph; raise hnsw_ef for more recall"},
          {"indexed_only", {false}, "every point is searched, sealed or not"},
          {"acorn", {json::object(), json{{"enable", false}}}, "ACORN is not offered"},
          {"idf", {}, "sparse vectors are not supported"}}));
  NEARSTORE_ASSIGN_OR_RETURN(const uint64_t ef, f.Unsigned("hnsw_ef", 0, 0, kMaxEf));
  out->ef = static_cast<uint32_t>(ef);
  NEARSTORE_ASSIGN_OR_RETURN(const auto q, SubObject(f, "quantization"));
  if (!q.has_value()) return Status::Ok();
  NEARSTORE_RETURN_IF_ERROR(q->OnlyKnown({"ignore", "rescore", "oversampling"}));
  NEARSTORE_RETURN_IF_ERROR(CheckUnhonoured(
      *q, {{"ignore", {false}, "a quantized collection is searched through its codes"},
           {"rescore",
            {true},
            "a quantized collection's candidates are always re-ranked on "
            "the float vectors"}}));
  // k * oversampling candidates re-ranked: the engine's rerank factor, rounded up.
  NEARSTORE_ASSIGN_OR_RETURN(const double oversampling,
                             q->Number("oversampling", 0, 1, double{kMaxRerank}));
  out->rerank = static_cast<uint32_t>(std::ceil(oversampling));
  return Status::Ok();
}

// query: a vector, a point id, {"nearest": vector or id, "mmr": {...}}.
Status ReadQueryField(const Fields& f, const ServerOptions& limits, QueryRequest* out) {
  if (!f.Has("query")) {
    return Status::InvalidArgument(
        "'" + f.Where("query") +
        "' is required: a vector (list of numbers), a point id, or {\"nearest\": ...}");
  }
  const json& q = f.At("query");
  const std::string where = f.Where("query");
  if (!q.is_object() || !q.contains("nearest")) return ReadQueryInput(q, where, out);
  const Fields n = QdrantFields(q, where);
  NEARSTORE_RETURN_IF_ERROR(n.OnlyKnown({"nearest", "mmr"}));
  NEARSTORE_RETURN_IF_ERROR(ReadQueryInput(n.At("nearest"), n.Where("nearest"), out));
  NEARSTORE_ASSIGN_OR_RETURN(const auto mmr, SubObject(n, "mmr"));
  if (!mmr.has_value()) return Status::Ok();
  NEARSTORE_RETURN_IF_ERROR(mmr->OnlyKnown({"diversity", "candidates_limit"}));
  out->mmr = true;
  NEARSTORE_ASSIGN_OR_RETURN(const double diversity, mmr->Number("diversity", 0.5, 0, 1));
  out->mmr_lambda = 1 - diversity;
  NEARSTORE_ASSIGN_OR_RETURN(out->mmr_candidates,
                             mmr->Unsigned("candidates_limit", 0, 1, limits.max_limit));
  return Status::Ok();
}

// One query; `where` names it ("" or "searches[2]").
Result<QueryRequest> ReadQueryAt(const json& body, const std::string& where,
                                 const std::string& collection, const ServerOptions& limits) {
  if (!body.is_object()) {
    return Status::InvalidArgument("'" + where + "' must be a query object, got " + Describe(body));
  }
  const Fields f = QdrantFields(body, where);
  NEARSTORE_RETURN_IF_ERROR(
      f.OnlyKnown({"query", "using", "filter", "params", "score_threshold", "limit", "offset",
                   "with_vector", "with_payload", "lookup_from", "prefetch", "shard_key"}));
  NEARSTORE_RETURN_IF_ERROR(CheckUnhonoured(
      f, {kShardKey, {"prefetch", {json::array()}, "multi-stage queries are not supported"}}));
  QueryRequest out;
  NEARSTORE_RETURN_IF_ERROR(ReadQueryField(f, limits, &out));
  NEARSTORE_RETURN_IF_ERROR(CheckVectorName(f, "using"));
  // lookup_from: where a query by id reads the point's vector; only this collection's
  // unnamed vector (reading another collection would reach past the key's collections).
  NEARSTORE_ASSIGN_OR_RETURN(const auto lookup, SubObject(f, "lookup_from"));
  if (lookup.has_value()) {
    NEARSTORE_RETURN_IF_ERROR(lookup->OnlyKnown({"collection", "vector", "shard_key"}));
    NEARSTORE_RETURN_IF_ERROR(CheckUnhonoured(*lookup, {kShardKey}));
    NEARSTORE_ASSIGN_OR_RETURN(const std::string from, lookup->String("collection"));
    if (from != collection) {
      return Status::InvalidArgument("'" + lookup->Where("collection") + "' = \"" + from +
                                     "\" is not supported: a query reads the vectors of the "
                                     "collection it queries (\"" +
                                     collection + "\") only");
    }
    NEARSTORE_RETURN_IF_ERROR(CheckVectorName(*lookup, "vector"));
  }
  NEARSTORE_ASSIGN_OR_RETURN(out.filter, ReadFilter(f, "filter"));
  NEARSTORE_ASSIGN_OR_RETURN(const auto params, SubObject(f, "params"));
  if (params.has_value()) NEARSTORE_RETURN_IF_ERROR(ReadSearchParams(*params, &out));
  if (f.Has("score_threshold")) {
    constexpr double kMax = std::numeric_limits<float>::max();
    NEARSTORE_ASSIGN_OR_RETURN(const double t, f.Number("score_threshold", 0, -kMax, kMax));
    out.score_threshold = static_cast<float>(t);
  }
  // Each at its full width before they are added (both are at most max_limit, a uint32).
  NEARSTORE_ASSIGN_OR_RETURN(out.limit, f.Unsigned("limit", 10, 1, limits.max_limit));
  NEARSTORE_ASSIGN_OR_RETURN(out.offset, f.Unsigned("offset", 0, 0, limits.max_limit));
  if (out.limit + out.offset > limits.max_limit) {
    return Status::InvalidArgument(
        "'" + f.Where("limit") + "' + 'offset' = " + std::to_string(out.limit + out.offset) +
        "; at most " + std::to_string(limits.max_limit) + " (max_limit)");
  }
  // MMR picks limit + offset points out of candidates_limit (Qdrant: the limit by default).
  if (out.mmr && out.mmr_candidates == 0) out.mmr_candidates = out.limit + out.offset;
  NEARSTORE_ASSIGN_OR_RETURN(out.with_payload, ReadWithPayload(f, false));
  NEARSTORE_ASSIGN_OR_RETURN(out.with_vector, ReadWithVector(f, false));
  return out;
}

}  // namespace

Result<QueryRequest> ReadQuery(const json& body, const std::string& collection,
                               const ServerOptions& limits) {
  return ReadQueryAt(body, "", collection, limits);
}

Result<std::vector<QueryRequest>> ReadQueryBatch(const json& body, const std::string& collection,
                                                 const ServerOptions& limits) {
  const Fields f = QdrantFields(body, "");
  NEARSTORE_RETURN_IF_ERROR(f.OnlyKnown({"searches"}));
  NEARSTORE_ASSIGN_OR_RETURN(const json* searches, f.Array("searches", limits.max_batch_points));
  if (searches == nullptr) return Status::InvalidArgument("'searches' is required (a list)");
  std::vector<QueryRequest> out;
  out.reserve(searches->size());
  for (size_t i = 0; i < searches->size(); ++i) {
    NEARSTORE_ASSIGN_OR_RETURN(
        QueryRequest q,
        ReadQueryAt((*searches)[i], "searches[" + std::to_string(i) + "]", collection, limits));
    out.push_back(std::move(q));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Payload indexes

Result<CreateIndexRequest> ReadCreateIndex(const json& body) {
  const Fields f = QdrantFields(body, "");
  NEARSTORE_RETURN_IF_ERROR(f.OnlyKnown({"field_name", "field_schema"}));
  CreateIndexRequest out;
  NEARSTORE_ASSIGN_OR_RETURN(out.field, f.String("field_name"));
  std::string type = "keyword";
  if (f.Has("field_schema") && f.At("field_schema").is_object()) {
    // {"type": ..., params}: the params at their defaults (the index is the same either way).
    const Fields s = QdrantFields(f.At("field_schema"), "field_schema");
    NEARSTORE_RETURN_IF_ERROR(s.OnlyKnown({"type", "is_tenant", "is_principal", "on_disk", "memory",
                                           "enable_hnsw", "prefix", "nested", "lookup", "range"}));
    NEARSTORE_RETURN_IF_ERROR(CheckUnhonoured(
        s, {{"is_tenant", {false}, "nearstore has no tenant-aware storage"},
            {"is_principal", {false}, "nearstore has no principal-ordered storage"},
            {"on_disk", {false}, kInMemory},
            {"memory", {"cached"}, kInMemory},
            {"enable_hnsw", {true}, "nearstore builds no payload-aware links either way"},
            {"prefix", {}, "keyword indexes match whole values"},
            {"nested", {}, "an index covers one field"},
            {"lookup", {true}, "an integer index answers equality and ranges"},
            {"range", {true}, "an integer index answers equality and ranges"}}));
    NEARSTORE_ASSIGN_OR_RETURN(type, s.String("type"));
  } else {
    NEARSTORE_ASSIGN_OR_RETURN(type, f.String("field_schema", "keyword"));
  }
  if (type == "keyword" || type == "uuid") {
    out.kind = PayloadIndexKind::kKeyword;
  } else if (type == "integer") {
    out.kind = PayloadIndexKind::kInt;
  } else if (type == "float") {
    out.kind = PayloadIndexKind::kFloat;
  } else if (type == "bool") {
    out.kind = PayloadIndexKind::kBool;
  } else {
    return Status::InvalidArgument("field_schema \"" + type +
                                   "\" is not supported; expected keyword, uuid, integer, float "
                                   "or bool");
  }
  return out;
}

}  // namespace nearstore::server::qdrant

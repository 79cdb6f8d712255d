#include "server/qdrant_api.h"

#include <charconv>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>

#include "filter/filter.h"
#include "server/json_io.h"
#include "server/qdrant_compat.h"
#include "storage/json_text.h"

namespace nearstore::server {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using qdrant::EngineId;
using qdrant::QdrantId;

// Qdrant's answers: {"result": ..., "status": "ok", "time": seconds}, and for errors
// {"status": {"error": "..."}, "time": seconds} with the HTTP status the engine's code maps to.
Response Envelope(const Result<json>& result, Clock::time_point start) {
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!result.ok()) {
    return JsonResponse({{"status", {{"error", result.status().message()}}}, {"time", seconds}},
                        HttpStatusOf(result.status().code()));
  }
  return JsonResponse({{"result", *result}, {"status", "ok"}, {"time", seconds}});
}

// The engine's stored metadata (checked on write) as a Qdrant payload.
json Payload(const std::string& metadata) {
  auto parsed = storage::ParseJson(metadata, kMaxJsonDepth, "metadata");
  return parsed.ok() && parsed->is_object() ? std::move(*parsed) : json::object();
}

json Completed() { return {{"operation_id", 0}, {"status", "completed"}}; }

// with_payload / with_vector: true, false, or (payload) a list of keys to include.
bool Wants(const json& body, const char* key, bool fallback) {
  if (!body.contains(key)) return fallback;
  const json& v = body[key];
  return v.is_boolean() ? v.get<bool>() : !v.is_null();
}

json PayloadFor(const json& body, const std::string& metadata) {
  json payload = Payload(metadata);
  if (body.contains("with_payload") && body["with_payload"].is_array()) {
    json only = json::object();
    for (const auto& k : body["with_payload"]) {
      if (k.is_string() && payload.contains(k.get<std::string>())) {
        only[k.get<std::string>()] = payload[k.get<std::string>()];
      }
    }
    return only;
  }
  return payload;
}

class QdrantApi {
 public:
  QdrantApi(Database* db, const ServerOptions& options) : db_(db), limits_(options) {}

  Result<json> ListCollections(const Request&) {
    json out = json::array();
    for (const auto& c : db_->ListCollections()) out.push_back({{"name", c.name}});
    return json{{"collections", out}};
  }

  Result<json> CreateCollection(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body.empty() ? "{}" : r.body));
    const json& vectors = body.contains("vectors") ? body["vectors"] : json();
    if (!vectors.is_object() || !vectors.contains("size") || !vectors.contains("distance")) {
      return Status::InvalidArgument(
          "'vectors' must be {\"size\": N, \"distance\": \"Cosine\"|\"Euclid\"|\"Dot\"} (one "
          "unnamed vector per point; named vectors are not supported)");
    }
    if (!vectors["size"].is_number_unsigned()) {
      return Status::InvalidArgument("'vectors.size' must be a positive integer");
    }
    NEARSTORE_ASSIGN_OR_RETURN(const Metric metric, qdrant::MetricOf(vectors["distance"]));
    IndexOptions index;
    index.kind = IndexKind::kHnsw;
    index.ef_construction = 100;  // Qdrant's default ef_construct
    if (body.contains("hnsw_config") && body["hnsw_config"].is_object()) {
      const json& h = body["hnsw_config"];
      if (h.contains("m") && h["m"].is_number_unsigned()) index.m = h["m"].get<uint32_t>();
      if (h.contains("ef_construct") && h["ef_construct"].is_number_unsigned()) {
        index.ef_construction = h["ef_construct"].get<uint32_t>();
      }
    }
    if (body.contains("quantization_config") && body["quantization_config"].is_object()) {
      const json& q = body["quantization_config"];
      if (q.contains("scalar")) {
        index.quantization = Quantization::kSq8;
      } else if (q.contains("binary")) {
        index.quantization = Quantization::kBinary;
      } else {
        return Status::InvalidArgument("quantization_config: only scalar and binary are supported");
      }
    }
    NEARSTORE_RETURN_IF_ERROR(db_->CreateCollection(r.params.at("collection"),
                                                    vectors["size"].get<uint32_t>(), metric, index)
                                  .status());
    return json(true);
  }

  Result<json> GetCollection(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    const CollectionInfo i = col->Info();
    json schema = json::object();
    for (const auto& p : col->ListPayloadIndexes()) {
      static const char* kTypes[] = {"keyword", "integer", "float", "bool"};
      schema[p.field] = {{"data_type", kTypes[static_cast<int>(p.kind)]}, {"points", i.count}};
    }
    json quantization = nullptr;
    if (i.index.quantization == Quantization::kSq8) {
      quantization = {{"scalar", {{"type", "int8"}}}};
    } else if (i.index.quantization == Quantization::kBinary) {
      quantization = {{"binary", json::object()}};
    }
    return json{{"status", "green"},
                {"optimizer_status", "ok"},
                {"indexed_vectors_count", i.indexed_rows},
                {"points_count", i.count},
                {"segments_count", i.segments},
                {"config",
                 {{"params",
                   {{"vectors", {{"size", i.dim}, {"distance", qdrant::DistanceName(i.metric)}}},
                    {"shard_number", 1},
                    {"replication_factor", 1},
                    {"write_consistency_factor", 1},
                    {"on_disk_payload", true}}},
                  {"hnsw_config",
                   {{"m", i.index.m},
                    {"ef_construct", i.index.ef_construction},
                    {"full_scan_threshold", 10000}}},
                  {"optimizer_config",
                   {{"deleted_threshold", 0.2},
                    {"vacuum_min_vector_number", 1000},
                    {"default_segment_number", 0},
                    {"flush_interval_sec", 5}}},
                  {"wal_config", {{"wal_capacity_mb", 32}, {"wal_segments_ahead", 0}}},
                  {"quantization_config", quantization}}},
                {"payload_schema", schema}};
  }

  Result<json> DropCollection(const Request& r) {
    const Status s = db_->DropCollection(r.params.at("collection"));
    if (s.code() == StatusCode::kNotFound) return json(false);
    NEARSTORE_RETURN_IF_ERROR(s);
    return json(true);
  }

  Result<json> Exists(const Request& r) {
    const auto col = db_->GetCollection(r.params.at("collection"));
    if (!col.ok() && col.status().code() != StatusCode::kNotFound) return col.status();
    return json{{"exists", col.ok()}};
  }

  // {"points": [{"id", "vector", "payload"}]} or {"batch": {"ids", "vectors", "payloads"}}.
  Result<json> Upsert(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
    std::vector<Point> points;
    if (body.contains("points") && body["points"].is_array()) {
      const json& list = body["points"];
      NEARSTORE_RETURN_IF_ERROR(CheckBatch(list.size()));
      for (size_t i = 0; i < list.size(); ++i) {
        const std::string at = "points[" + std::to_string(i) + "]";
        if (!list[i].is_object()) return Status::InvalidArgument(at + " must be an object");
        NEARSTORE_ASSIGN_OR_RETURN(
            Point p, MakePoint(list[i].value("id", json()), list[i].value("vector", json()),
                               list[i].value("payload", json()), at));
        points.push_back(std::move(p));
      }
    } else if (body.contains("batch") && body["batch"].is_object()) {
      const json& b = body["batch"];
      const json ids = b.value("ids", json::array()), vectors = b.value("vectors", json::array());
      const json payloads = b.value("payloads", json());
      if (!ids.is_array() || !vectors.is_array() || ids.size() != vectors.size() ||
          (payloads.is_array() && payloads.size() != ids.size())) {
        return Status::InvalidArgument(
            "batch: 'ids' and 'vectors' (and 'payloads') must be "
            "lists of the same length");
      }
      NEARSTORE_RETURN_IF_ERROR(CheckBatch(ids.size()));
      for (size_t i = 0; i < ids.size(); ++i) {
        NEARSTORE_ASSIGN_OR_RETURN(
            Point p, MakePoint(ids[i], vectors[i], payloads.is_array() ? payloads[i] : json(),
                               "batch[" + std::to_string(i) + "]"));
        points.push_back(std::move(p));
      }
    } else {
      return Status::InvalidArgument("expected {\"points\": [...]} or {\"batch\": {...}}");
    }
    NEARSTORE_RETURN_IF_ERROR(col->Upsert(points));
    return Completed();
  }

  Result<json> Retrieve(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
    if (!body.contains("ids") || !body["ids"].is_array()) {
      return Status::InvalidArgument("'ids' must be a list of point ids");
    }
    NEARSTORE_ASSIGN_OR_RETURN(const auto ids, Ids(body["ids"], "ids"));
    NEARSTORE_ASSIGN_OR_RETURN(const auto points, col->GetMany(ids));
    json out = json::array();
    for (const auto& p : points) {
      if (p.has_value()) out.push_back(Record(*p, body, true, false));
    }
    return out;
  }

  Result<json> GetPoint(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    // The path holds an id as text: decimal digits are an integer id, anything else a UUID.
    const std::string& raw = r.params.at("id");
    uint64_t number = 0;
    const auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), number);
    const bool integer = ec == std::errc() && end == raw.data() + raw.size();
    NEARSTORE_ASSIGN_OR_RETURN(const std::string id,
                               EngineId(integer ? json(number) : json(raw), "id"));
    NEARSTORE_ASSIGN_OR_RETURN(const auto point, col->Get(id));
    if (!point.has_value()) return Status::NotFound("no point with id " + raw);
    return Record(*point, json::object(), true, true);
  }

  Result<json> Delete(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
    if (body.contains("points")) {
      NEARSTORE_ASSIGN_OR_RETURN(const auto ids, Ids(body["points"], "points"));
      NEARSTORE_RETURN_IF_ERROR(col->DeleteMany(ids).status());
    } else if (body.contains("filter")) {
      NEARSTORE_ASSIGN_OR_RETURN(const std::string filter, qdrant::EngineFilter(body["filter"]));
      NEARSTORE_RETURN_IF_ERROR(col->DeleteWhere(filter.empty() ? "{}" : filter).status());
    } else {
      return Status::InvalidArgument("expected {\"points\": [ids]} or {\"filter\": {...}}");
    }
    return Completed();
  }

  // Set (merge into) or overwrite the payload of the points named or passing a filter.
  Result<json> SetPayload(const Request& r, bool overwrite) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
    if (!body.contains("payload") || !body["payload"].is_object()) {
      return Status::InvalidArgument("'payload' must be an object");
    }
    return EditPayloads(*col, body, [&](json& payload) {
      if (overwrite) payload = json::object();
      for (const auto& [k, v] : body["payload"].items()) payload[k] = v;
    });
  }

  Result<json> DeletePayload(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
    if (!body.contains("keys") || !body["keys"].is_array()) {
      return Status::InvalidArgument("'keys' must be a list of payload keys");
    }
    return EditPayloads(*col, body, [&](json& payload) {
      for (const auto& k : body["keys"]) {
        if (k.is_string()) payload.erase(k.get<std::string>());
      }
    });
  }

  Result<json> Scroll(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body.empty() ? "{}" : r.body));
    ScrollOptions o;
    const json limit = body.value("limit", json(10));
    o.limit = limit.is_number_unsigned() ? limit.get<uint64_t>() : 0;
    if (o.limit == 0 || o.limit > limits_.max_limit) {
      return Status::InvalidArgument("'limit' must be 1.." + std::to_string(limits_.max_limit));
    }
    NEARSTORE_ASSIGN_OR_RETURN(o.filter, qdrant::EngineFilter(body.value("filter", json())));
    o.with_vectors = Wants(body, "with_vector", false);
    json points = json::array();
    // Qdrant's offset is the first id of the page (inclusive); the engine's `after` excludes.
    if (body.contains("offset") && !body["offset"].is_null()) {
      NEARSTORE_ASSIGN_OR_RETURN(o.after, EngineId(body["offset"], "offset"));
      NEARSTORE_ASSIGN_OR_RETURN(const auto got, col->Get(o.after));
      bool passes = got.has_value();
      if (passes && !o.filter.empty()) {
        NEARSTORE_ASSIGN_OR_RETURN(const auto f, filter::Filter::Parse(o.filter));
        passes = f.MatchesText(got->metadata, o.after);
      }
      if (passes) points.push_back(Record(*got, body, true, o.with_vectors));
    }
    ScrollOptions rest = o;
    rest.limit = o.limit - points.size() + 1;  // one more: the next page's offset
    NEARSTORE_ASSIGN_OR_RETURN(const ScrollPage page, col->Scroll(rest));
    json next = nullptr;
    for (const auto& p : page.points) {
      if (points.size() == o.limit) {
        next = QdrantId(p.id);
        break;
      }
      points.push_back(Record(p, body, true, o.with_vectors));
    }
    return json{{"points", points}, {"next_page_offset", next}};
  }

  Result<json> Count(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body.empty() ? "{}" : r.body));
    NEARSTORE_ASSIGN_OR_RETURN(const std::string filter,
                               qdrant::EngineFilter(body.value("filter", json())));
    NEARSTORE_ASSIGN_OR_RETURN(const uint64_t n, col->CountWhere(filter));
    return json{{"count", n}};
  }

  Result<json> Query(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
    return QueryOne(*col, body);
  }

  Result<json> QueryBatch(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
    if (!body.contains("searches") || !body["searches"].is_array()) {
      return Status::InvalidArgument("'searches' must be a list of queries");
    }
    NEARSTORE_RETURN_IF_ERROR(CheckBatch(body["searches"].size()));
    json out = json::array();
    for (const auto& q : body["searches"]) {
      if (!q.is_object()) return Status::InvalidArgument("each of 'searches' must be an object");
      NEARSTORE_ASSIGN_OR_RETURN(json one, QueryOne(*col, q));
      out.push_back(std::move(one));
    }
    return out;
  }

  Result<json> CreateIndex(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
    if (!body.contains("field_name") || !body["field_name"].is_string()) {
      return Status::InvalidArgument("'field_name' must be a string");
    }
    json schema = body.value("field_schema", json("keyword"));
    if (schema.is_object()) schema = schema.value("type", json());
    PayloadIndexKind kind;
    if (schema == "keyword" || schema == "uuid") {
      kind = PayloadIndexKind::kKeyword;
    } else if (schema == "integer") {
      kind = PayloadIndexKind::kInt;
    } else if (schema == "float") {
      kind = PayloadIndexKind::kFloat;
    } else if (schema == "bool") {
      kind = PayloadIndexKind::kBool;
    } else {
      return Status::InvalidArgument("field_schema " + schema.dump() +
                                     " is not supported; expected keyword, integer, float, bool");
    }
    NEARSTORE_RETURN_IF_ERROR(col->CreatePayloadIndex(body["field_name"].get<std::string>(), kind));
    return Completed();
  }

  Result<json> DropIndex(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    NEARSTORE_RETURN_IF_ERROR(col->DropPayloadIndex(r.params.at("field")).status());
    return Completed();
  }

 private:
  Result<std::shared_ptr<nearstore::Collection>> Collection(const Request& r) {
    return db_->GetCollection(r.params.at("collection"));
  }

  Status CheckBatch(size_t n) const {
    if (n <= limits_.max_batch_points) return Status::Ok();
    return Status::InvalidArgument(std::to_string(n) + " entries; at most " +
                                   std::to_string(limits_.max_batch_points) +
                                   " are accepted per request (max_batch_points)");
  }

  static Result<Point> MakePoint(const json& id, const json& vector, const json& payload,
                                 const std::string& at) {
    Point p;
    NEARSTORE_ASSIGN_OR_RETURN(p.id, EngineId(id, at + ".id"));
    if (vector.is_object()) {
      return Status::InvalidArgument(at + ".vector: named vectors are not supported");
    }
    NEARSTORE_ASSIGN_OR_RETURN(p.vector, ReadVector(vector, at + ".vector"));
    if (!payload.is_null()) {
      if (!payload.is_object()) return Status::InvalidArgument(at + ".payload must be an object");
      p.metadata = payload.dump();
    }
    return p;
  }

  static Result<std::vector<std::string>> Ids(const json& list, const std::string& where) {
    if (!list.is_array()) return Status::InvalidArgument("'" + where + "' must be a list of ids");
    std::vector<std::string> ids;
    for (size_t i = 0; i < list.size(); ++i) {
      NEARSTORE_ASSIGN_OR_RETURN(std::string id,
                                 EngineId(list[i], where + "[" + std::to_string(i) + "]"));
      ids.push_back(std::move(id));
    }
    return ids;
  }

  // The ids a payload operation names: "points" (ids) or "filter".
  Result<std::vector<std::string>> Targets(const nearstore::Collection& col, const json& body) {
    if (body.contains("points")) return Ids(body["points"], "points");
    if (!body.contains("filter")) {
      return Status::InvalidArgument("expected 'points' (ids) or 'filter'");
    }
    ScrollOptions o;
    NEARSTORE_ASSIGN_OR_RETURN(o.filter, qdrant::EngineFilter(body["filter"]));
    o.with_metadata = false;
    std::vector<std::string> ids;
    for (;;) {
      NEARSTORE_ASSIGN_OR_RETURN(const ScrollPage page, col.Scroll(o));
      for (const auto& p : page.points) ids.push_back(p.id);
      if (page.next_after.empty()) return ids;
      o.after = page.next_after;
    }
  }

  // Applies `edit` to the payload of each point `body` names (ids or a filter), one update per
  // point: a point written by someone else between its read and its update keeps that write's
  // vector but gets the edited payload of the version read (Qdrant's payload operations are
  // per point too).
  Result<json> EditPayloads(nearstore::Collection& col, const json& body,
                            const std::function<void(json&)>& edit) {
    NEARSTORE_ASSIGN_OR_RETURN(const auto ids, Targets(col, body));
    for (const auto& id : ids) {
      NEARSTORE_ASSIGN_OR_RETURN(const auto point, col.Get(id));
      if (!point.has_value()) continue;
      json payload = Payload(point->metadata);
      edit(payload);
      PointUpdate u;
      u.metadata = payload.dump();
      NEARSTORE_RETURN_IF_ERROR(col.Update(id, u).status());
    }
    return Completed();
  }

  static json Record(const Point& p, const json& body, bool payload_default, bool vector_default) {
    json r = {{"id", QdrantId(p.id)}};
    r["payload"] =
        Wants(body, "with_payload", payload_default) ? PayloadFor(body, p.metadata) : json(nullptr);
    r["vector"] = Wants(body, "with_vector", vector_default) ? json(p.vector) : json(nullptr);
    return r;
  }

  Result<json> QueryOne(const nearstore::Collection& col, const json& body) {
    std::vector<float> vector;
    std::string exclude;
    json query = body.value("query", json());
    if (query.is_object() && query.contains("nearest")) query = query["nearest"];
    if (query.is_array()) {
      NEARSTORE_ASSIGN_OR_RETURN(vector, ReadVector(query, "query"));
    } else if (query.is_number_unsigned() || query.is_string()) {
      NEARSTORE_ASSIGN_OR_RETURN(exclude, EngineId(query, "query"));
      NEARSTORE_ASSIGN_OR_RETURN(const auto point, col.Get(exclude));
      if (!point.has_value()) return Status::NotFound("no point with id " + query.dump());
      vector = point->vector;
    } else {
      return Status::InvalidArgument(
          "'query' must be a vector (list of numbers), a point id, or {\"nearest\": vector}");
    }
    const uint64_t limit = body.value("limit", uint64_t{10});
    const uint64_t offset = body.value("offset", uint64_t{0});
    if (limit == 0 || limit + offset > limits_.max_limit) {
      return Status::InvalidArgument("'limit' + 'offset' must be 1.." +
                                     std::to_string(limits_.max_limit));
    }
    SearchOptions o;
    o.k = static_cast<int>(limit + offset + (exclude.empty() ? 0 : 1));
    o.with_vectors = Wants(body, "with_vector", false);
    if (body.contains("params") && body["params"].is_object()) {
      o.ef = body["params"].value("hnsw_ef", 0u);
    }
    NEARSTORE_ASSIGN_OR_RETURN(o.filter, qdrant::EngineFilter(body.value("filter", json())));
    NEARSTORE_ASSIGN_OR_RETURN(const auto hits, col.Search(vector, o));
    const bool with_payload = Wants(body, "with_payload", false);
    const json threshold = body.value("score_threshold", json());
    json points = json::array();
    uint64_t skipped = 0;
    for (const auto& h : hits) {
      if (h.id == exclude) continue;
      const float score = qdrant::ScoreOf(col.metric(), h.distance);
      if (threshold.is_number() &&
          !qdrant::PassesThreshold(col.metric(), score, threshold.get<float>())) {
        continue;
      }
      if (skipped++ < offset) continue;
      if (points.size() == limit) break;
      json p = {{"id", QdrantId(h.id)}, {"version", 0}, {"score", score}};
      p["payload"] = with_payload ? PayloadFor(body, h.metadata) : json(nullptr);
      p["vector"] = o.with_vectors ? json(h.vector) : json(nullptr);
      points.push_back(std::move(p));
    }
    return json{{"points", points}};
  }

  Database* db_;
  ServerOptions limits_;
};

}  // namespace

void AddQdrantRoutes(Database* db, const ServerOptions& options, Router* router) {
  auto api = std::make_shared<QdrantApi>(db, options);
  auto add = [&](Method method, const std::string& pattern, Access access, auto fn,
                 Work work = Work::kQueued) {
    router
        ->Add(method, pattern, access,
              [api, fn](const Request& r) -> Response {
                const auto start = Clock::now();
                return Envelope(fn(*api, r), start);
              })
        .work = work;
  };
  constexpr Work kInline = Work::kInline;
  constexpr Access kRead = Access::kReadOnly, kWrite = Access::kReadWrite;
  const std::string c = "/collections/{collection}";
  add(
      Method::kGet, "/collections", kRead,
      [](QdrantApi& a, const Request& r) { return a.ListCollections(r); }, kInline);
  add(
      Method::kGet, c, kRead, [](QdrantApi& a, const Request& r) { return a.GetCollection(r); },
      kInline);
  add(Method::kPut, c, kWrite,
      [](QdrantApi& a, const Request& r) { return a.CreateCollection(r); });
  add(Method::kDelete, c, kWrite,
      [](QdrantApi& a, const Request& r) { return a.DropCollection(r); });
  add(
      Method::kGet, c + "/exists", kRead,
      [](QdrantApi& a, const Request& r) { return a.Exists(r); }, kInline);
  add(Method::kPut, c + "/points", kWrite,
      [](QdrantApi& a, const Request& r) { return a.Upsert(r); });
  add(
      Method::kPost, c + "/points", kRead,
      [](QdrantApi& a, const Request& r) { return a.Retrieve(r); }, kInline);
  add(
      Method::kGet, c + "/points/{id}", kRead,
      [](QdrantApi& a, const Request& r) { return a.GetPoint(r); }, kInline);
  add(Method::kPost, c + "/points/delete", kWrite,
      [](QdrantApi& a, const Request& r) { return a.Delete(r); });
  add(Method::kPost, c + "/points/payload", kWrite,
      [](QdrantApi& a, const Request& r) { return a.SetPayload(r, false); });
  add(Method::kPut, c + "/points/payload", kWrite,
      [](QdrantApi& a, const Request& r) { return a.SetPayload(r, true); });
  add(Method::kPost, c + "/points/payload/delete", kWrite,
      [](QdrantApi& a, const Request& r) { return a.DeletePayload(r); });
  add(Method::kPost, c + "/points/scroll", kRead,
      [](QdrantApi& a, const Request& r) { return a.Scroll(r); });
  add(Method::kPost, c + "/points/count", kRead,
      [](QdrantApi& a, const Request& r) { return a.Count(r); });
  add(
      Method::kPost, c + "/points/query", kRead,
      [](QdrantApi& a, const Request& r) { return a.Query(r); }, kInline);
  add(Method::kPost, c + "/points/query/batch", kRead,
      [](QdrantApi& a, const Request& r) { return a.QueryBatch(r); });
  add(Method::kPut, c + "/index", kWrite,
      [](QdrantApi& a, const Request& r) { return a.CreateIndex(r); });
  add(Method::kDelete, c + "/index/{field}", kWrite,
      [](QdrantApi& a, const Request& r) { return a.DropIndex(r); });
}

}  // namespace nearstore::server

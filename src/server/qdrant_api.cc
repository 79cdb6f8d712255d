#include "server/qdrant_api.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string_view>
#include <unordered_set>

#include "filter/filter.h"
#include "server/json_io.h"
#include "server/qdrant_compat.h"
#include "server/qdrant_request.h"
#include "server/response_limit.h"
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

using qdrant::Params;

// The least the text of a point or hit takes in an answer (max_response_bytes): its id, its
// payload when it is sent whole (a selection of keys may be smaller) and two bytes a vector
// number, on top of ResponseLimit::MinEntryBytes.
uint64_t LeastEntryBytes(const std::string& id, const std::string& metadata,
                         const qdrant::PayloadSelector& with_payload, size_t vector_size) {
  const bool whole = with_payload.kind == qdrant::PayloadSelector::Kind::kAll;
  return ResponseLimit::MinEntryBytes(false, false, false, 0) + id.size() +
         (whole ? metadata.size() : 0) + 2 * uint64_t{vector_size};
}

inline constexpr char kAskFewerPoints[] =
    "ask for fewer points (a smaller limit, fewer ids or searches), or without vectors or "
    "payload";

// A point as Qdrant returns it: {"id", "payload", "vector"} (null where not asked for).
json Record(const Point& p, const qdrant::PayloadSelector& with_payload, bool with_vector) {
  json r = {{"id", QdrantId(p.id)}};
  r["payload"] = qdrant::SelectPayload(Payload(p.metadata), with_payload);
  r["vector"] = with_vector ? json(p.vector) : json(nullptr);
  return r;
}

// MMR costs (limit + offset) * candidates_limit similarities of `dim` values each, and holds
// the candidates' vectors: both bounded, so that one query cannot hold a thread for minutes.
inline constexpr uint64_t kMaxMmrWork = uint64_t{1} << 30;     // multiply-adds
inline constexpr uint64_t kMaxMmrVectors = uint64_t{1} << 26;  // floats (256 MiB)

Status CheckMmrWork(const qdrant::QueryRequest& q, uint32_t dim) {
  // Each factor is at most max_limit (a uint32) and dim at most kMaxDimension: no overflow.
  const uint64_t picks = q.limit + q.offset, work = picks * q.mmr_candidates * dim;
  const uint64_t vectors = q.mmr_candidates * dim;
  if (work <= kMaxMmrWork && vectors <= kMaxMmrVectors) return Status::Ok();
  return Status::InvalidArgument(
      "mmr over " + std::to_string(q.mmr_candidates) + " candidates picking " +
      std::to_string(picks) + " (limit + offset) of dimension " + std::to_string(dim) +
      " is too much work: (limit + offset) * candidates_limit * dimension must be at most " +
      std::to_string(kMaxMmrWork) + " and candidates_limit * dimension at most " +
      std::to_string(kMaxMmrVectors));
}

class QdrantApi {
 public:
  QdrantApi(Database* db, const ServerOptions& options) : db_(db), limits_(options) {}

  Result<json> ListCollections(const Request& r) {
    NEARSTORE_RETURN_IF_ERROR(qdrant::CheckQueryParams(r.query, Params::kNone));
    json out = json::array();
    for (const auto& c : db_->ListCollections()) out.push_back({{"name", c.name}});
    return json{{"collections", out}};
  }

  Result<json> CreateCollection(const Request& r) {
    NEARSTORE_RETURN_IF_ERROR(qdrant::CheckQueryParams(r.query, Params::kCollection));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body.empty() ? "{}" : r.body));
    NEARSTORE_ASSIGN_OR_RETURN(const auto c, qdrant::ReadCreateCollection(body));
    NEARSTORE_RETURN_IF_ERROR(
        db_->CreateCollection(r.params.at("collection"), c.dim, c.metric, c.index).status());
    return json(true);
  }

  Result<json> GetCollection(const Request& r) {
    NEARSTORE_RETURN_IF_ERROR(qdrant::CheckQueryParams(r.query, Params::kNone));
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
    NEARSTORE_RETURN_IF_ERROR(qdrant::CheckQueryParams(r.query, Params::kCollection));
    const Status s = db_->DropCollection(r.params.at("collection"));
    if (s.code() == StatusCode::kNotFound) return json(false);
    NEARSTORE_RETURN_IF_ERROR(s);
    return json(true);
  }

  Result<json> Exists(const Request& r) {
    NEARSTORE_RETURN_IF_ERROR(qdrant::CheckQueryParams(r.query, Params::kNone));
    const auto col = db_->GetCollection(r.params.at("collection"));
    if (!col.ok() && col.status().code() != StatusCode::kNotFound) return col.status();
    return json{{"exists", col.ok()}};
  }

  // {"points": [{"id", "vector", "payload"}]} or {"batch": {"ids", "vectors", "payloads"}}.
  Result<json> Upsert(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r, Params::kWrite));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
    NEARSTORE_ASSIGN_OR_RETURN(const auto points, qdrant::ReadUpsert(body, limits_));
    NEARSTORE_RETURN_IF_ERROR(col->Upsert(points));
    return Completed();
  }

  // {"points": [{"id", "vector"}]}: each point's vector replaced, its payload kept; every
  // point must exist (checked before any is changed; then applied point by point).
  Result<json> UpdateVectors(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r, Params::kWrite));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
    NEARSTORE_ASSIGN_OR_RETURN(const auto points, qdrant::ReadUpdateVectors(body, limits_));
    std::vector<std::string> ids;
    for (const auto& p : points) ids.push_back(p.id);
    NEARSTORE_ASSIGN_OR_RETURN(const auto stored, col->GetMany(ids));
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!stored[i].has_value()) {
        return Status::NotFound("no point with id " + QdrantId(ids[i]).dump());
      }
    }
    for (const auto& p : points) {
      PointUpdate u;
      u.vector = p.vector;
      NEARSTORE_RETURN_IF_ERROR(col->Update(p.id, u).status());
    }
    return Completed();
  }

  Result<json> Retrieve(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r, Params::kRead));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
    NEARSTORE_ASSIGN_OR_RETURN(const auto q, qdrant::ReadRetrieve(body, limits_));
    // Each point once, in the order first asked, as Qdrant (a repeated id repeated its point).
    std::vector<std::string> ids;
    std::unordered_set<std::string_view> seen;
    for (const auto& id : q.ids) {
      if (seen.insert(id).second) ids.push_back(id);
    }
    NEARSTORE_ASSIGN_OR_RETURN(const auto points, col->GetMany(ids));
    ResponseBudget budget(response_limit_, kAskFewerPoints);
    json out = json::array();
    for (const auto& p : points) {
      if (!p.has_value()) continue;
      NEARSTORE_RETURN_IF_ERROR(budget.Spend(LeastEntryBytes(
          p->id, p->metadata, q.with_payload, q.with_vector ? p->vector.size() : 0)));
      out.push_back(Record(*p, q.with_payload, q.with_vector));
    }
    return out;
  }

  Result<json> GetPoint(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r, Params::kRead));
    // The path holds an id as text: decimal digits are an integer id, anything else a UUID.
    const std::string& raw = r.params.at("id");
    uint64_t number = 0;
    const auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), number);
    const bool integer = ec == std::errc() && end == raw.data() + raw.size();
    NEARSTORE_ASSIGN_OR_RETURN(const std::string id,
                               EngineId(integer ? json(number) : json(raw), "id"));
    NEARSTORE_ASSIGN_OR_RETURN(const auto point, col->Get(id));
    if (!point.has_value()) return Status::NotFound("no point with id " + raw);
    return Record(*point, {}, true);
  }

  Result<json> Delete(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r, Params::kWrite));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
    NEARSTORE_ASSIGN_OR_RETURN(const auto targets, qdrant::ReadDelete(body, limits_));
    if (targets.by_filter) {
      NEARSTORE_RETURN_IF_ERROR(col->DeleteWhere(targets.filter).status());
    } else {
      NEARSTORE_RETURN_IF_ERROR(col->DeleteMany(targets.ids).status());
    }
    return Completed();
  }

  // Set (merge into) or overwrite the payload of the points named or passing a filter.
  Result<json> SetPayload(const Request& r, bool overwrite) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r, Params::kWrite));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
    NEARSTORE_ASSIGN_OR_RETURN(const auto q, qdrant::ReadSetPayload(body, limits_));
    return EditPayloads(*col, q.targets, [&](json& payload) {
      if (overwrite) payload = json::object();
      for (const auto& [k, v] : q.payload.items()) payload[k] = v;
    });
  }

  Result<json> DeletePayload(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r, Params::kWrite));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
    NEARSTORE_ASSIGN_OR_RETURN(const auto q, qdrant::ReadDeletePayload(body, limits_));
    return EditPayloads(*col, q.targets, [&](json& payload) {
      for (const auto& key : q.keys) qdrant::ErasePath(payload, key);
    });
  }

  Result<json> Scroll(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r, Params::kRead));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body.empty() ? "{}" : r.body));
    NEARSTORE_ASSIGN_OR_RETURN(const auto q, qdrant::ReadScroll(body, limits_));
    ScrollOptions o;
    o.max_result_bytes = response_limit_.engine_bytes();
    o.limit = q.limit;
    o.filter = q.filter;
    o.with_vectors = q.with_vector;
    o.with_metadata = q.with_payload.kind != qdrant::PayloadSelector::Kind::kNone;
    NEARSTORE_RETURN_IF_ERROR(response_limit_.CheckEntries(
        std::min<uint64_t>(o.limit, col->Count()),
        ResponseLimit::MinEntryBytes(false, false, q.with_vector, col->dim()),
        "a page of " + std::to_string(o.limit) + " points", kAskFewerPoints));
    ResponseBudget budget(response_limit_, kAskFewerPoints);
    auto spend = [&](const Point& p) {
      return budget.Spend(
          LeastEntryBytes(p.id, p.metadata, q.with_payload, q.with_vector ? p.vector.size() : 0));
    };
    json points = json::array();
    // Qdrant's offset is the first id of the page (inclusive); the engine's `after` excludes.
    if (!q.offset.empty()) {
      o.after = q.offset;
      NEARSTORE_ASSIGN_OR_RETURN(const auto got, col->Get(o.after));
      bool passes = got.has_value();
      if (passes && !o.filter.empty()) {
        NEARSTORE_ASSIGN_OR_RETURN(const auto f, filter::Filter::Parse(o.filter));
        passes = f.MatchesText(got->metadata, o.after);
      }
      if (passes) {
        NEARSTORE_RETURN_IF_ERROR(spend(*got));
        points.push_back(Record(*got, q.with_payload, q.with_vector));
      }
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
      NEARSTORE_RETURN_IF_ERROR(spend(p));
      points.push_back(Record(p, q.with_payload, q.with_vector));
    }
    return json{{"points", points}, {"next_page_offset", next}};
  }

  Result<json> Count(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r, Params::kRead));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body.empty() ? "{}" : r.body));
    NEARSTORE_ASSIGN_OR_RETURN(const std::string filter, qdrant::ReadCount(body));
    NEARSTORE_ASSIGN_OR_RETURN(const uint64_t n, col->CountWhere(filter));
    return json{{"count", n}};
  }

  Result<json> Query(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r, Params::kRead));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
    NEARSTORE_ASSIGN_OR_RETURN(const auto q,
                               qdrant::ReadQuery(body, r.params.at("collection"), limits_));
    NEARSTORE_RETURN_IF_ERROR(CheckQueries(*col, std::span(&q, 1)));
    ResponseBudget budget(response_limit_, kAskFewerPoints);
    return QueryOne(*col, q, &budget);
  }

  Result<json> QueryBatch(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r, Params::kRead));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
    NEARSTORE_ASSIGN_OR_RETURN(const auto queries,
                               qdrant::ReadQueryBatch(body, r.params.at("collection"), limits_));
    NEARSTORE_RETURN_IF_ERROR(CheckQueries(*col, queries));
    ResponseBudget budget(response_limit_, kAskFewerPoints);
    json out = json::array();
    for (const auto& q : queries) {
      NEARSTORE_ASSIGN_OR_RETURN(json one, QueryOne(*col, q, &budget));
      out.push_back(std::move(one));
    }
    return out;
  }

  Result<json> CreateIndex(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r, Params::kWrite));
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
    NEARSTORE_ASSIGN_OR_RETURN(const auto q, qdrant::ReadCreateIndex(body));
    NEARSTORE_RETURN_IF_ERROR(col->CreatePayloadIndex(q.field, q.kind));
    return Completed();
  }

  Result<json> DropIndex(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r, Params::kWrite));
    NEARSTORE_RETURN_IF_ERROR(col->DropPayloadIndex(r.params.at("field")).status());
    return Completed();
  }

 private:
  // The collection the path names, once the query string is checked for the route's kind.
  Result<std::shared_ptr<nearstore::Collection>> Collection(const Request& r,
                                                            Params params = Params::kNone) {
    NEARSTORE_RETURN_IF_ERROR(qdrant::CheckQueryParams(r.query, params));
    return db_->GetCollection(r.params.at("collection"));
  }

  // The ids `targets` names: its ids, or those of the points passing its filter.
  static Result<std::vector<std::string>> Ids(const nearstore::Collection& col,
                                              const qdrant::Targets& targets) {
    if (!targets.by_filter) return targets.ids;
    ScrollOptions o;
    o.filter = targets.filter;
    o.with_metadata = false;
    std::vector<std::string> ids;
    for (;;) {
      NEARSTORE_ASSIGN_OR_RETURN(const ScrollPage page, col.Scroll(o));
      for (const auto& p : page.points) ids.push_back(p.id);
      if (page.next_after.empty()) return ids;
      o.after = page.next_after;
    }
  }

  // Applies `edit` to the payload of each point `targets` names, one update per point: a
  // point written by someone else between its read and its update keeps that write's vector
  // but gets the edited payload of the version read (Qdrant's payload operations are per
  // point too).
  Result<json> EditPayloads(nearstore::Collection& col, const qdrant::Targets& targets,
                            const std::function<void(json&)>& edit) {
    NEARSTORE_ASSIGN_OR_RETURN(const auto ids, Ids(col, targets));
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

  // Refuses queries whose answers are certain to pass max_response_bytes: `limit` points each
  // (at most the collection's count), of at least MinEntryBytes. No sum can wrap: at most
  // max_batch_points queries of max_limit points of kMaxDimension numbers.
  Status CheckQueries(const nearstore::Collection& col,
                      std::span<const qdrant::QueryRequest> queries) const {
    uint64_t entries = 0, bytes = 0;
    for (const auto& q : queries) {
      const uint64_t n = std::min<uint64_t>(q.limit, col.Count());
      entries += n;
      bytes += n * ResponseLimit::MinEntryBytes(false, false, q.with_vector, col.dim());
    }
    return response_limit_.Check(bytes,
                                 std::to_string(queries.size()) +
                                     (queries.size() == 1 ? " query" : " queries") + " of up to " +
                                     std::to_string(entries) + " points in all",
                                 kAskFewerPoints);
  }

  // One query: the nearest points (after the threshold; by id: without that point), or with
  // mmr the limit + offset picked from the candidates_limit nearest, then `offset` skipped.
  // Each point sent is counted in `budget`.
  Result<json> QueryOne(const nearstore::Collection& col, const qdrant::QueryRequest& q,
                        ResponseBudget* budget) {
    std::vector<float> vector = q.vector;
    if (!q.by_id.empty()) {
      NEARSTORE_ASSIGN_OR_RETURN(const auto point, col.Get(q.by_id));
      if (!point.has_value()) return Status::NotFound("no point with id " + q.by_id_text);
      vector = point->vector;
    }
    if (q.mmr) NEARSTORE_RETURN_IF_ERROR(CheckMmrWork(q, col.dim()));
    const uint64_t wanted = (q.mmr ? q.mmr_candidates : q.limit + q.offset) + !q.by_id.empty();
    SearchOptions o;
    o.max_result_bytes = response_limit_.engine_bytes();  // the offset and MMR candidates too
    o.k = static_cast<int>(std::min<uint64_t>(wanted, kMaxK));
    o.ef = q.ef;
    o.rerank = q.rerank;
    o.filter = q.filter;
    o.with_metadata = q.with_payload.kind != qdrant::PayloadSelector::Kind::kNone;
    o.with_vectors = q.with_vector || q.mmr;
    NEARSTORE_ASSIGN_OR_RETURN(const auto hits, col.Search(vector, o));
    std::vector<const Hit*> kept;
    std::vector<float> scores;
    for (const auto& h : hits) {
      if (h.id == q.by_id) continue;
      const float score = qdrant::ScoreOf(col.metric(), h.distance);
      if (q.score_threshold && !qdrant::PassesThreshold(col.metric(), score, *q.score_threshold)) {
        continue;
      }
      kept.push_back(&h);
      scores.push_back(score);
    }
    std::vector<size_t> order(kept.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    if (q.mmr) {
      std::vector<std::span<const float>> candidates;
      for (const Hit* h : kept) candidates.emplace_back(h->vector);
      order = qdrant::MaximalMarginalRelevance(col.metric(), vector, candidates, q.mmr_lambda,
                                               q.limit + q.offset);
    }
    json points = json::array();
    for (size_t i = q.offset; i < order.size() && points.size() < q.limit; ++i) {
      const Hit& h = *kept[order[i]];
      NEARSTORE_RETURN_IF_ERROR(budget->Spend(
          LeastEntryBytes(h.id, h.metadata, q.with_payload, q.with_vector ? h.vector.size() : 0)));
      json p = {{"id", QdrantId(h.id)}, {"version", 0}, {"score", scores[order[i]]}};
      p["payload"] = qdrant::SelectPayload(Payload(h.metadata), q.with_payload);
      p["vector"] = q.with_vector ? json(h.vector) : json(nullptr);
      points.push_back(std::move(p));
    }
    return json{{"points", points}};
  }

  Database* db_;
  ServerOptions limits_;
  ResponseLimit response_limit_{limits_.max_response_bytes};
};

}  // namespace

void AddQdrantRoutes(Database* db, const ServerOptions& options, Router* router) {
  auto api = std::make_shared<QdrantApi>(db, options);
  auto add = [&](Method method, const std::string& pattern, Access access, auto fn,
                 Work work = Work::kQueued) {
    router
        ->Add(method, pattern, access,
              [api, fn,
               limit = ResponseLimit(options.max_response_bytes)](const Request& r) -> Response {
                const auto start = Clock::now();
                Response out = Envelope(fn(*api, r), start);
                // The tree was bounded while built (ResponseBudget); its text, exactly.
                if (Status s = limit.Check(out.body.size(), "the answer", kAskFewerPoints);
                    !s.ok()) {
                  return Envelope(s, start);
                }
                return out;
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
  add(Method::kPut, c + "/points/vectors", kWrite,
      [](QdrantApi& a, const Request& r) { return a.UpdateVectors(r); });
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

#include "server/native_api.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <span>
#include <string_view>
#include <unordered_map>

#include "server/json_io.h"
#include "server/response_limit.h"

namespace nearstore::server {
namespace {

using nlohmann::json;

// The handlers of one server; each reads its body, calls the engine and renders the answer.
class NativeApi {
 public:
  NativeApi(Database* db, const ServerOptions& options) : db_(db), limits_(options) {}

  Result<Response> ListCollections(const Request&) {
    std::string out = "{\"collections\":[";
    bool first = true;
    for (const auto& info : db_->ListCollections()) {
      if (!first) out.push_back(',');
      first = false;
      out += CollectionInfoToJson(info);
    }
    out += "]}";
    return Response{200, std::move(out)};
  }

  Result<Response> CreateCollection(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
    const Fields f(body, "");
    NEARSTORE_RETURN_IF_ERROR(f.OnlyKnown({"name", "dim", "metric", "index", "m", "ef_construction",
                                           "ef_search", "quantization", "rerank"}));
    NEARSTORE_ASSIGN_OR_RETURN(const std::string name, f.String("name"));
    if (!f.Has("dim")) {
      return Status::InvalidArgument("'dim' is required (1.." + std::to_string(kMaxDimension) +
                                     ")");
    }
    NEARSTORE_ASSIGN_OR_RETURN(const uint64_t dim, f.Unsigned("dim", 0, 0, UINT32_MAX));
    NEARSTORE_ASSIGN_OR_RETURN(const std::string metric_name, f.String("metric", "cosine"));
    NEARSTORE_ASSIGN_OR_RETURN(const Metric metric, ParseMetric(metric_name));
    IndexOptions index;
    NEARSTORE_ASSIGN_OR_RETURN(const std::string kind, f.String("index", "flat"));
    NEARSTORE_ASSIGN_OR_RETURN(index.kind, ParseIndexKind(kind));
    NEARSTORE_ASSIGN_OR_RETURN(const std::string quantization, f.String("quantization", "none"));
    NEARSTORE_ASSIGN_OR_RETURN(index.quantization, ParseQuantization(quantization));
    NEARSTORE_ASSIGN_OR_RETURN(index.m, f.Unsigned("m", index.m, 0, UINT32_MAX));
    NEARSTORE_ASSIGN_OR_RETURN(index.ef_construction,
                               f.Unsigned("ef_construction", index.ef_construction, 0, UINT32_MAX));
    NEARSTORE_ASSIGN_OR_RETURN(index.ef_search,
                               f.Unsigned("ef_search", index.ef_search, 0, UINT32_MAX));
    NEARSTORE_ASSIGN_OR_RETURN(index.rerank, f.Unsigned("rerank", index.rerank, 0, UINT32_MAX));
    NEARSTORE_ASSIGN_OR_RETURN(
        auto col, db_->CreateCollection(name, static_cast<uint32_t>(dim), metric, index));
    return Response{201, CollectionInfoToJson(col->Info())};
  }

  Result<Response> GetCollection(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    return Response{200, CollectionInfoToJson(col->Info())};
  }

  Result<Response> DropCollection(const Request& r) {
    NEARSTORE_RETURN_IF_ERROR(db_->DropCollection(r.params.at("collection")));
    return JsonResponse({{"dropped", true}});
  }

  // Two forms: {"points": [{"id", "vector", "metadata"}]} for people, and the columns the
  // Python client sends, {"ids", "vectors_f32" (base64), "dim", "metadata_json" (texts)},
  // checked by the same code as an in-process upsert.
  Result<Response> Upsert(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(const Call call,
                               Begin(r, {"points", "ids", "vectors_f32", "dim", "metadata_json"}));
    const auto& col = call.col;
    const Fields f(call.body, "");
    const bool columns =
        f.Has("ids") || f.Has("vectors_f32") || f.Has("dim") || f.Has("metadata_json");
    if (f.Has("points") == columns) {
      return Status::InvalidArgument(
          "give either 'points' (a list of points) or the columns 'ids' and 'vectors_f32' "
          "(with 'dim' and 'metadata_json'), not both");
    }
    if (!f.Has("points")) {
      NEARSTORE_ASSIGN_OR_RETURN(const auto ids, f.Strings("ids", limits_.max_batch_points));
      NEARSTORE_ASSIGN_OR_RETURN(const std::vector<float> vectors, f.Floats32("vectors_f32"));
      NEARSTORE_ASSIGN_OR_RETURN(const uint64_t dim, f.Unsigned("dim", col->dim(), 1, UINT32_MAX));
      std::vector<std::string> metadata;
      if (f.Has("metadata_json")) {
        NEARSTORE_ASSIGN_OR_RETURN(metadata, f.Strings("metadata_json", limits_.max_batch_points));
      }
      if (vectors.size() % dim != 0) {
        return Status::InvalidArgument("'vectors_f32' holds " + std::to_string(vectors.size()) +
                                       " numbers, not a multiple of 'dim' " + std::to_string(dim));
      }
      NEARSTORE_RETURN_IF_ERROR(CheckUpsertShape(*col, ids.size(), vectors.size() / dim, dim));
      NEARSTORE_RETURN_IF_ERROR(col->UpsertColumns(ids, vectors, metadata));
      return JsonResponse({{"upserted", ids.size()}});
    }
    if (!f.At("points").is_array()) {
      return Status::InvalidArgument(
          "'points' must be a list of {\"id\", \"vector\", \"metadata\"} objects");
    }
    const json& points = f.At("points");
    NEARSTORE_RETURN_IF_ERROR(CheckBatch("points", points.size()));
    std::vector<Point> batch(points.size());
    for (size_t i = 0; i < points.size(); ++i) {
      const std::string where = "points[" + std::to_string(i) + "]";
      if (!points[i].is_object()) {
        return Status::InvalidArgument("'" + where + "' must be an object, got " +
                                       Describe(points[i]));
      }
      const Fields p(points[i], where);
      NEARSTORE_RETURN_IF_ERROR(p.OnlyKnown({"id", "vector", "metadata"}));
      NEARSTORE_ASSIGN_OR_RETURN(batch[i].id, p.String("id"));
      NEARSTORE_ASSIGN_OR_RETURN(batch[i].vector, p.Vector("vector"));
      NEARSTORE_ASSIGN_OR_RETURN(batch[i].metadata, p.Metadata("metadata"));
    }
    NEARSTORE_RETURN_IF_ERROR(col->Upsert(batch));
    return JsonResponse({{"upserted", batch.size()}});
  }

  // One entry per id asked, in order (null for an unknown id), as in-process. Each distinct id
  // is looked up and rendered once; an id asked again repeats that entry's text, and every
  // repeat counts against max_response_bytes.
  Result<Response> GetPoints(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(const Call call, Begin(r, {"ids", "with_vectors", "with_metadata"}));
    const auto& col = call.col;
    const Fields f(call.body, "");
    NEARSTORE_ASSIGN_OR_RETURN(const auto ids, f.Strings("ids", limits_.max_batch_points));
    NEARSTORE_ASSIGN_OR_RETURN(const bool with_vectors, f.Bool("with_vectors", true));
    NEARSTORE_ASSIGN_OR_RETURN(const bool with_metadata, f.Bool("with_metadata", true));
    std::vector<std::string> distinct;
    std::vector<size_t> entry_of(ids.size());  // ids[i] is distinct[entry_of[i]]
    std::unordered_map<std::string_view, size_t> seen;
    for (size_t i = 0; i < ids.size(); ++i) {
      const auto [it, added] = seen.try_emplace(ids[i], distinct.size());
      if (added) distinct.push_back(ids[i]);
      entry_of[i] = it->second;
    }
    constexpr std::string_view kAskLess =
        "ask for fewer ids, or with \"with_vectors\" or \"with_metadata\" false";
    NEARSTORE_ASSIGN_OR_RETURN(const auto points, col->GetMany(distinct));
    std::vector<std::string> entries(points.size());
    uint64_t bytes = sizeof("{\"points\":[]}");
    for (size_t i = 0; i < points.size(); ++i) {
      if (points[i].has_value()) {
        AppendPoint(*points[i], with_metadata, with_vectors, &entries[i]);
      } else {
        entries[i] = "null";
      }
      bytes += entries[i].size() + 1;
      NEARSTORE_RETURN_IF_ERROR(response_limit_.Check(bytes, "the answer", kAskLess));
    }
    for (size_t i = 0; i < ids.size(); ++i) {
      if (seen.erase(ids[i]) == 0) bytes += entries[entry_of[i]].size() + 1;  // a repeat
    }
    NEARSTORE_RETURN_IF_ERROR(response_limit_.Check(bytes, "the answer", kAskLess));
    std::string out;
    out.reserve(bytes);
    out += "{\"points\":[";
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i > 0) out.push_back(',');
      out += entries[entry_of[i]];
    }
    out += "]}";
    return Response{200, std::move(out)};
  }

  Result<Response> Update(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(
        const Call call, Begin(r, {"id", "vector", "vector_f32", "metadata", "metadata_json"}));
    const auto& col = call.col;
    const Fields f(call.body, "");
    NEARSTORE_ASSIGN_OR_RETURN(const std::string id, f.String("id"));
    PointUpdate update;
    if (f.Has("vector")) {
      NEARSTORE_ASSIGN_OR_RETURN(update.vector, f.Vector("vector"));
    } else if (f.Has("vector_f32")) {
      NEARSTORE_ASSIGN_OR_RETURN(update.vector, f.Floats32("vector_f32"));
    }
    if (f.Has("metadata")) {
      NEARSTORE_ASSIGN_OR_RETURN(update.metadata, f.Metadata("metadata"));
    } else if (f.Has("metadata_json")) {
      NEARSTORE_ASSIGN_OR_RETURN(update.metadata, f.String("metadata_json"));
    }
    NEARSTORE_ASSIGN_OR_RETURN(const bool updated, col->Update(id, update));
    return JsonResponse({{"updated", updated}});
  }

  Result<Response> Delete(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(const Call call, Begin(r, {"ids", "filter"}));
    const auto& col = call.col;
    const Fields f(call.body, "");
    if (f.Has("ids") == f.Has("filter")) {
      return Status::InvalidArgument("give either 'ids' (a list) or 'filter' (an object)");
    }
    if (f.Has("filter")) {
      NEARSTORE_ASSIGN_OR_RETURN(const std::string filter, f.Filter("filter"));
      NEARSTORE_ASSIGN_OR_RETURN(const uint64_t n, col->DeleteWhere(filter));
      return JsonResponse({{"deleted", n}});
    }
    NEARSTORE_ASSIGN_OR_RETURN(const auto ids, f.Strings("ids", limits_.max_batch_points));
    NEARSTORE_ASSIGN_OR_RETURN(const std::vector<bool> existed, col->DeleteMany(ids));
    return JsonResponse({{"deleted", existed}});
  }

  Result<Response> Count(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    std::string filter;
    if (!r.body.empty()) {
      NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
      const Fields f(body, "");
      NEARSTORE_RETURN_IF_ERROR(f.OnlyKnown({"filter"}));
      NEARSTORE_ASSIGN_OR_RETURN(filter, f.Filter("filter"));
    }
    NEARSTORE_ASSIGN_OR_RETURN(const uint64_t n, col->CountWhere(filter));
    return JsonResponse({{"count", n}});
  }

  Result<Response> Scroll(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    ScrollOptions o;
    o.max_result_bytes = response_limit_.engine_bytes();
    if (!r.body.empty()) {
      NEARSTORE_ASSIGN_OR_RETURN(const json body, ParseObject(r.body));
      const Fields f(body, "");
      NEARSTORE_RETURN_IF_ERROR(
          f.OnlyKnown({"after", "limit", "filter", "with_vectors", "with_metadata"}));
      NEARSTORE_ASSIGN_OR_RETURN(o.after, f.String("after", ""));
      NEARSTORE_ASSIGN_OR_RETURN(o.limit, f.Unsigned("limit", 100, 0, limits_.max_limit));
      NEARSTORE_ASSIGN_OR_RETURN(o.filter, f.Filter("filter"));
      NEARSTORE_ASSIGN_OR_RETURN(o.with_vectors, f.Bool("with_vectors", false));
      NEARSTORE_ASSIGN_OR_RETURN(o.with_metadata, f.Bool("with_metadata", true));
    } else {
      o.limit = 100;
    }
    constexpr std::string_view kAskLess =
        "ask for a smaller \"limit\" (and the next page with \"after\"), or with "
        "\"with_vectors\" or \"with_metadata\" false";
    NEARSTORE_RETURN_IF_ERROR(response_limit_.CheckEntries(
        std::min<uint64_t>(o.limit, col->Count()),
        ResponseLimit::MinEntryBytes(false, o.with_metadata, o.with_vectors, col->dim()),
        "a page of " + std::to_string(o.limit) + " points", kAskLess));
    NEARSTORE_ASSIGN_OR_RETURN(const ScrollPage page, col->Scroll(o));
    std::string out = "{\"points\":[";
    for (size_t i = 0; i < page.points.size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendPoint(page.points[i], o.with_metadata, o.with_vectors, &out);
      NEARSTORE_RETURN_IF_ERROR(response_limit_.Check(out.size(), "the answer", kAskLess));
    }
    out += "],\"next_after\":";
    out += page.next_after.empty() ? "null" : json(page.next_after).dump();
    out += "}";
    return Response{200, std::move(out)};
  }

  // The query as "vector" (numbers) or "vector_f32" (base64 float32, the Python client's).
  Result<Response> Search(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(const Call call,
                               Begin(r, {"vector", "vector_f32", "k", "ef", "rerank", "filter",
                                         "with_metadata", "with_vectors"}));
    const Fields f(call.body, "");
    std::vector<float> vector;
    if (f.Has("vector_f32")) {
      NEARSTORE_ASSIGN_OR_RETURN(vector, f.Floats32("vector_f32"));
    } else {
      NEARSTORE_ASSIGN_OR_RETURN(vector, f.Vector("vector"));
    }
    NEARSTORE_ASSIGN_OR_RETURN(const SearchOptions o, ReadSearchOptions(f));
    NEARSTORE_RETURN_IF_ERROR(CheckHits(*call.col, 1, o));
    NEARSTORE_ASSIGN_OR_RETURN(const auto hits, call.col->Search(vector, o));
    std::string out = "{\"hits\":";
    NEARSTORE_RETURN_IF_ERROR(AppendHits(hits, o, &out));
    out += "}";
    return Response{200, std::move(out)};
  }

  // The queries as "vectors" (lists of numbers) or "vectors_f32" (base64) with "dim".
  Result<Response> SearchBatch(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(
        const Call call, Begin(r, {"vectors", "vectors_f32", "dim", "k", "ef", "rerank", "filter",
                                   "with_metadata", "with_vectors"}));
    const auto& col = call.col;
    const Fields f(call.body, "");
    std::vector<float> queries;
    if (f.Has("vectors_f32")) {
      NEARSTORE_ASSIGN_OR_RETURN(queries, f.Floats32("vectors_f32"));
      NEARSTORE_ASSIGN_OR_RETURN(const uint64_t dim, f.Unsigned("dim", col->dim(), 1, UINT32_MAX));
      NEARSTORE_RETURN_IF_ERROR(CheckQueryWidth(*col, dim));
      if (queries.size() % dim != 0) {
        return Status::InvalidArgument("'vectors_f32' holds " + std::to_string(queries.size()) +
                                       " numbers, not a multiple of 'dim' " + std::to_string(dim));
      }
      NEARSTORE_RETURN_IF_ERROR(CheckBatch("vectors_f32", queries.size() / dim));
    } else {
      if (!f.Has("vectors") || !f.At("vectors").is_array()) {
        return Status::InvalidArgument("'vectors' is required: a list of lists of numbers");
      }
      const json& vectors = f.At("vectors");
      NEARSTORE_RETURN_IF_ERROR(CheckBatch("vectors", vectors.size()));
      queries.reserve(vectors.size() * col->dim());
      for (size_t i = 0; i < vectors.size(); ++i) {
        NEARSTORE_ASSIGN_OR_RETURN(const std::vector<float> v,
                                   ReadVector(vectors[i], "vectors[" + std::to_string(i) + "]"));
        NEARSTORE_RETURN_IF_ERROR(CheckQueryWidth(*col, v.size()));
        queries.insert(queries.end(), v.begin(), v.end());
      }
    }
    NEARSTORE_ASSIGN_OR_RETURN(const SearchOptions o, ReadSearchOptions(f));
    const size_t dim = col->dim();
    const size_t n = queries.size() / dim;
    NEARSTORE_RETURN_IF_ERROR(CheckHits(*col, n, o));
    // The engine holds a call's hits (with their metadata and vectors) until they are
    // rendered: queries go to it in parts of at most max_limit hits, so that a batch costs
    // it no more than one search with the largest k allowed.
    const uint64_t hits_per_query =
        std::max<uint64_t>(1, std::min<uint64_t>(std::max(o.k, 0), col->Count()));
    const size_t part = std::max<uint64_t>(1, limits_.max_limit / hits_per_query);
    std::string out = "{\"results\":[";
    size_t first = 0;
    do {
      const size_t count = std::min(part, n - first);
      auto results = col->SearchBatch(std::span(queries).subspan(first * dim, count * dim), o);
      if (!results.ok() && count < n && results.status().code() == StatusCode::kInvalidArgument) {
        // A bad query in a part: the whole batch names it by its place in the batch (and
        // stops at that check, before searching).
        const auto whole = col->SearchBatch(queries, o);
        return whole.ok() ? results.status() : whole.status();
      }
      NEARSTORE_RETURN_IF_ERROR(results.status());
      for (size_t q = 0; q < results->size(); ++q) {
        if (first + q > 0) out.push_back(',');
        NEARSTORE_RETURN_IF_ERROR(AppendHits((*results)[q], o, &out));
      }
      first += count;
    } while (first < n);
    out += "]}";
    return Response{200, std::move(out)};
  }

  Result<Response> ListIndexes(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    NEARSTORE_RETURN_IF_ERROR(col->CheckUsable());
    json indexes = json::object();
    for (const auto& i : col->ListPayloadIndexes()) indexes[i.field] = PayloadIndexKindName(i.kind);
    return JsonResponse({{"indexes", indexes}});
  }

  Result<Response> CreateIndex(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(const Call call, Begin(r, {"field", "kind"}));
    const auto& col = call.col;
    const Fields f(call.body, "");
    NEARSTORE_ASSIGN_OR_RETURN(const std::string field, f.String("field"));
    NEARSTORE_ASSIGN_OR_RETURN(const std::string kind_name, f.String("kind"));
    NEARSTORE_ASSIGN_OR_RETURN(const PayloadIndexKind kind, ParsePayloadIndexKind(kind_name));
    NEARSTORE_RETURN_IF_ERROR(col->CreatePayloadIndex(field, kind));
    return JsonResponse({{"created", true}});
  }

  Result<Response> DropIndex(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(const Call call, Begin(r, {"field"}));
    const auto& col = call.col;
    const Fields f(call.body, "");
    NEARSTORE_ASSIGN_OR_RETURN(const std::string field, f.String("field"));
    NEARSTORE_ASSIGN_OR_RETURN(const bool dropped, col->DropPayloadIndex(field));
    return JsonResponse({{"dropped", dropped}});
  }

  Result<Response> Flush(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    NEARSTORE_RETURN_IF_ERROR(col->Flush());
    return JsonResponse({{"flushed", true}});
  }

  Result<Response> Compact(const Request& r) {
    NEARSTORE_ASSIGN_OR_RETURN(auto col, Collection(r));
    NEARSTORE_RETURN_IF_ERROR(col->Compact());
    return JsonResponse({{"compacted", true}});
  }

 private:
  // The collection named in the path; FailedPrecondition, as in-process, when the client's
  // handle names an incarnation that was dropped (even if the name was created again).
  Result<std::shared_ptr<nearstore::Collection>> Collection(const Request& r) {
    const std::string& name = r.params.at("collection");
    auto col = db_->GetCollection(name);
    if (r.incarnation.empty()) return col;
    const bool gone = col.ok() ? std::to_string((*col)->incarnation()) != r.incarnation
                               : col.status().code() == StatusCode::kNotFound;
    if (gone) return Status::FailedPrecondition("collection '" + name + "' was dropped");
    return col;
  }

  // What most routes start with: the collection named in the path, and the body, a JSON
  // object with only `known` keys.
  struct Call {
    std::shared_ptr<nearstore::Collection> col;
    json body;
  };
  Result<Call> Begin(const Request& r, std::initializer_list<std::string_view> known) {
    Call call;
    NEARSTORE_ASSIGN_OR_RETURN(call.col, Collection(r));
    NEARSTORE_ASSIGN_OR_RETURN(call.body, ParseObject(r.body));
    NEARSTORE_RETURN_IF_ERROR(Fields(call.body, "").OnlyKnown(known));
    return call;
  }

  Status CheckBatch(const char* what, size_t n) const {
    if (n <= limits_.max_batch_points) return Status::Ok();
    return Status::InvalidArgument("'" + std::string(what) + "' holds " + std::to_string(n) +
                                   " entries; at most " + std::to_string(limits_.max_batch_points) +
                                   " are accepted per request (max_batch_points)");
  }

  Result<SearchOptions> ReadSearchOptions(const Fields& f) const {
    SearchOptions o;
    o.max_result_bytes = response_limit_.engine_bytes();
    // Ranges are the engine's to check (the same messages as in-process), but k is judged at
    // its full width before it is narrowed to the engine's int (4294967301 was taken as 5):
    // the server refuses what passes its max_limit or an int, with the engine's message when
    // max_limit is the engine's kMaxK, and the value as it was sent.
    NEARSTORE_ASSIGN_OR_RETURN(const int64_t k, f.Integer("k", 10));
    if (k > static_cast<int64_t>(limits_.max_limit) || k < INT32_MIN) {
      const bool own_limit = limits_.max_limit < static_cast<uint32_t>(kMaxK);
      return Status::InvalidArgument("k must be 1.." + std::to_string(limits_.max_limit) +
                                     (own_limit ? " on this server (max_limit)" : "") + ", got " +
                                     f.At("k").dump());
    }
    o.k = static_cast<int>(k);
    NEARSTORE_ASSIGN_OR_RETURN(o.ef, f.Unsigned("ef", 0, 0, UINT32_MAX));
    NEARSTORE_ASSIGN_OR_RETURN(o.rerank, f.Unsigned("rerank", 0, 0, UINT32_MAX));
    NEARSTORE_ASSIGN_OR_RETURN(o.filter, f.Filter("filter"));
    NEARSTORE_ASSIGN_OR_RETURN(o.with_metadata, f.Bool("with_metadata", true));
    NEARSTORE_ASSIGN_OR_RETURN(o.with_vectors, f.Bool("with_vectors", false));
    return o;
  }

  // Refuses a search whose answer is certain to pass max_response_bytes: `queries` lists of
  // min(k, points) hits, each at least ResponseLimit::MinEntryBytes.
  Status CheckHits(const nearstore::Collection& col, size_t queries, const SearchOptions& o) const {
    const uint64_t hits = std::min<uint64_t>(std::max(o.k, 0), col.Count());
    uint64_t entries = 0;
    if (__builtin_mul_overflow(hits, uint64_t{queries}, &entries)) entries = UINT64_MAX;
    return response_limit_.CheckEntries(
        entries, ResponseLimit::MinEntryBytes(true, o.with_metadata, o.with_vectors, col.dim()),
        std::to_string(queries) + (queries == 1 ? " query" : " queries") + " of k " +
            std::to_string(o.k),
        kAskFewerHits);
  }

  // Appends [hit, ...]; refused as soon as the body passes max_response_bytes.
  Status AppendHits(const std::vector<Hit>& hits, const SearchOptions& o, std::string* out) const {
    out->push_back('[');
    for (size_t i = 0; i < hits.size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendHit(hits[i], o.with_metadata, o.with_vectors, out);
      NEARSTORE_RETURN_IF_ERROR(response_limit_.Check(out->size(), "the answer", kAskFewerHits));
    }
    out->push_back(']');
    return Status::Ok();
  }

  static constexpr std::string_view kAskFewerHits =
      "ask for a smaller \"k\" or fewer queries per request, or with \"with_vectors\" or "
      "\"with_metadata\" false";

  Database* db_;
  ServerOptions limits_;
  ResponseLimit response_limit_{limits_.max_response_bytes};
};

}  // namespace

void AddNativeRoutes(Database* db, const ServerOptions& options, Router* router) {
  auto api = std::make_shared<NativeApi>(db, options);
  using Fn = Result<Response> (NativeApi::*)(const Request&);
  auto add = [&](Method method, const char* pattern, Access access, Fn fn,
                 Work work = Work::kQueued) {
    router
        ->Add(method, pattern, access,
              [api, fn](const Request& r) -> Response {
                Result<Response> out = ((*api).*fn)(r);
                return out.ok() ? std::move(*out) : ErrorResponse(out.status());
              })
        .work = work;
  };
  constexpr Work kInline = Work::kInline;
  constexpr Access kRead = Access::kReadOnly, kWrite = Access::kReadWrite;
  const std::string c = "/v1/collections/{collection}";
  add(Method::kGet, "/v1/collections", kRead, &NativeApi::ListCollections, kInline);
  add(Method::kPost, "/v1/collections", kWrite, &NativeApi::CreateCollection);
  add(Method::kGet, c.c_str(), kRead, &NativeApi::GetCollection, kInline);
  add(Method::kDelete, c.c_str(), kWrite, &NativeApi::DropCollection);
  add(Method::kPost, (c + "/upsert").c_str(), kWrite, &NativeApi::Upsert);
  add(Method::kPost, (c + "/get").c_str(), kRead, &NativeApi::GetPoints, kInline);
  add(Method::kPost, (c + "/update").c_str(), kWrite, &NativeApi::Update);
  add(Method::kPost, (c + "/delete").c_str(), kWrite, &NativeApi::Delete);
  add(Method::kPost, (c + "/count").c_str(), kRead, &NativeApi::Count);
  add(Method::kPost, (c + "/scroll").c_str(), kRead, &NativeApi::Scroll);
  add(Method::kPost, (c + "/search").c_str(), kRead, &NativeApi::Search, kInline);
  add(Method::kPost, (c + "/search_batch").c_str(), kRead, &NativeApi::SearchBatch);
  add(Method::kGet, (c + "/indexes").c_str(), kRead, &NativeApi::ListIndexes, kInline);
  add(Method::kPost, (c + "/indexes").c_str(), kWrite, &NativeApi::CreateIndex);
  add(Method::kPost, (c + "/indexes/drop").c_str(), kWrite, &NativeApi::DropIndex);
  add(Method::kPost, (c + "/flush").c_str(), kWrite, &NativeApi::Flush);
  add(Method::kPost, (c + "/compact").c_str(), kWrite, &NativeApi::Compact);
}

}  // namespace nearstore::server

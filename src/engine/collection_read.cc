// The read path of CollectionImpl: snapshots, point reads, scroll and search.
#include <algorithm>

#include "engine/collection_impl.h"
#include "engine/filtered_search.h"
#include "engine/graph_search.h"
#include "engine/validate.h"

namespace nearstore::engine {
namespace {

// The filter of a call: nullopt for "" (every point); InvalidArgument for a bad one.
Result<std::optional<filter::Filter>> ParseOptionalFilter(std::string_view text) {
  if (text.empty()) return std::optional<filter::Filter>();
  NEARSTORE_ASSIGN_OR_RETURN(filter::Filter f, filter::Filter::Parse(text));
  if (f.MatchesEverything()) return std::optional<filter::Filter>();
  return std::optional<filter::Filter>(std::move(f));
}

// The bytes an answer has taken so far, against SearchOptions/ScrollOptions::max_result_bytes
// (0 = no bound). Each hit or point is counted before it is copied.
class ResultBytes {
 public:
  explicit ResultBytes(uint64_t max_bytes) : max_bytes_(max_bytes) {}

  // The bytes of the row `ref` as an answer gives it; InvalidArgument once past the bound.
  Status Spend(const RowRef& ref, uint32_t dim, bool with_vector, bool with_metadata) {
    if (max_bytes_ == 0) return Status::Ok();
    used_ += ref.source->Id(ref.row).size();
    if (with_metadata) used_ += ref.source->Metadata(ref.row).size();
    if (with_vector) used_ += uint64_t{dim} * sizeof(float);
    if (used_ <= max_bytes_) return Status::Ok();
    return Status::InvalidArgument(
        "the answer would take more than " + std::to_string(max_bytes_) +
        " bytes of ids, metadata and vectors, the most this call may return (max_result_bytes; "
        "on a server, its max_response_bytes); ask for fewer points, or leave out metadata or "
        "vectors");
  }

 private:
  const uint64_t max_bytes_;
  uint64_t used_ = 0;
};

}  // namespace

Snapshot CollectionImpl::TakeSnapshot() const {
  base::ReaderLock state(state_mu_);
  return Snapshot{version_, visible_seq_};
}

Point CollectionImpl::MakePoint(const RowRef& ref, bool with_vector, bool with_metadata) const {
  Point p;
  p.id = std::string(ref.source->Id(ref.row));
  if (with_vector) {
    const float* v = ref.source->Vector(ref.row);
    p.vector.assign(v, v + dim_);
  }
  p.metadata = with_metadata ? std::string(ref.source->Metadata(ref.row)) : std::string();
  return p;
}

Result<std::optional<Point>> CollectionImpl::Get(std::string_view id) const {
  NEARSTORE_RETURN_IF_ERROR(CheckOpen());
  NEARSTORE_RETURN_IF_ERROR(ValidateId(id));
  base::ReaderLock state(state_mu_);
  auto it = index_.find(id);
  if (it == index_.end()) return std::optional<Point>();
  return std::optional<Point>(MakePoint(it->second, true, true));
}

Result<std::vector<std::optional<Point>>> CollectionImpl::GetMany(
    std::span<const std::string> ids) const {
  NEARSTORE_RETURN_IF_ERROR(CheckOpen());
  for (const auto& id : ids) NEARSTORE_RETURN_IF_ERROR(ValidateId(id));
  std::vector<std::optional<Point>> out;
  out.reserve(ids.size());
  base::ReaderLock state(state_mu_);
  for (const auto& id : ids) {
    auto it = index_.find(id);
    if (it == index_.end()) {
      out.emplace_back();
    } else {
      out.emplace_back(MakePoint(it->second, true, true));
    }
  }
  return out;
}

uint64_t CollectionImpl::Count() const {
  base::ReaderLock state(state_mu_);
  return index_.size();
}

Result<uint64_t> CollectionImpl::CountWhere(std::string_view filter_text) const {
  NEARSTORE_RETURN_IF_ERROR(CheckOpen());
  NEARSTORE_ASSIGN_OR_RETURN(auto filter, ParseOptionalFilter(filter_text));
  if (!filter.has_value()) return Count();
  const Snapshot snapshot = TakeSnapshot();
  uint64_t count = 0;
  ForEachMatch(PrepareFilter(snapshot, *filter, /*plan_walks=*/false), snapshot.seq,
               [&](const RowSource&, uint64_t) { ++count; });
  return count;
}

Result<ScrollPage> CollectionImpl::Scroll(const ScrollOptions& options) const {
  NEARSTORE_RETURN_IF_ERROR(CheckOpen());
  if (options.limit < 1) {
    return Status::InvalidArgument("scroll limit must be at least 1, got 0");
  }
  NEARSTORE_ASSIGN_OR_RETURN(auto filter, ParseOptionalFilter(options.filter));
  ScrollPage page;
  if (filter.has_value()) {
    // The passing rows of a snapshot after `after`, the first `limit` of them by id: no lock
    // is held while the filter reads metadata.
    const Snapshot snapshot = TakeSnapshot();
    std::vector<RowRef> found;
    ForEachMatch(PrepareFilter(snapshot, *filter, /*plan_walks=*/false), snapshot.seq,
                 [&](const RowSource& source, uint64_t row) {
                   if (source.Id(row) > options.after) found.push_back({&source, row});
                 });
    auto by_id = [](const RowRef& a, const RowRef& b) {
      return a.source->Id(a.row) < b.source->Id(b.row);
    };
    const size_t take = std::min(found.size(), options.limit);
    std::partial_sort(found.begin(), found.begin() + static_cast<std::ptrdiff_t>(take), found.end(),
                      by_id);
    ResultBytes bytes(options.max_result_bytes);
    for (size_t i = 0; i < take; ++i) {
      NEARSTORE_RETURN_IF_ERROR(
          bytes.Spend(found[i], dim_, options.with_vectors, options.with_metadata));
      page.points.push_back(MakePoint(found[i], options.with_vectors, options.with_metadata));
    }
    if (found.size() > take) page.next_after = page.points.back().id;
    return page;
  }
  base::ReaderLock state(state_mu_);
  auto it = options.after.empty() ? index_.begin() : index_.upper_bound(options.after);
  ResultBytes bytes(options.max_result_bytes);
  for (; it != index_.end() && page.points.size() < options.limit; ++it) {
    NEARSTORE_RETURN_IF_ERROR(
        bytes.Spend(it->second, dim_, options.with_vectors, options.with_metadata));
    page.points.push_back(MakePoint(it->second, options.with_vectors, options.with_metadata));
  }
  if (it != index_.end()) page.next_after = page.points.back().id;
  return page;
}

Result<std::vector<float>> CollectionImpl::PrepareQueries(std::span<const float> queries,
                                                          size_t* nq) const {
  if (queries.size() % dim_ != 0) {
    return Status::InvalidArgument("dimension mismatch: collection '" + name_ + "' expects " +
                                   "queries of " + std::to_string(dim_) + " floats, got " +
                                   std::to_string(queries.size()) + " values");
  }
  *nq = queries.size() / dim_;
  std::vector<float> prepared(queries.size());
  for (size_t q = 0; q < *nq; ++q) {
    const std::string what = *nq == 1 ? std::string("query") : "query " + std::to_string(q);
    NEARSTORE_RETURN_IF_ERROR(PrepareVector(queries.subspan(q * dim_, dim_), dim_, metric_, name_,
                                            what, prepared.data() + q * dim_));
  }
  return prepared;
}

Result<std::vector<Hit>> CollectionImpl::Search(std::span<const float> query,
                                                const SearchOptions& options) const {
  if (query.size() != dim_) {
    return Status::InvalidArgument("dimension mismatch: collection '" + name_ + "' expects " +
                                   std::to_string(dim_) + ", got " + std::to_string(query.size()) +
                                   " (query)");
  }
  NEARSTORE_ASSIGN_OR_RETURN(auto results, SearchBatch(query, options));
  return std::move(results.front());
}

Result<std::vector<std::vector<Hit>>> CollectionImpl::SearchBatch(
    std::span<const float> queries, const SearchOptions& options) const {
  NEARSTORE_RETURN_IF_ERROR(CheckOpen());
  NEARSTORE_RETURN_IF_ERROR(ValidateK(options.k));
  NEARSTORE_RETURN_IF_ERROR(ValidateEf(options.ef));
  NEARSTORE_RETURN_IF_ERROR(ValidateSearchRerank(options.rerank));
  NEARSTORE_ASSIGN_OR_RETURN(auto filter, ParseOptionalFilter(options.filter));
  size_t nq = 0;
  NEARSTORE_ASSIGN_OR_RETURN(std::vector<float> prepared, PrepareQueries(queries, &nq));
  const Snapshot snapshot = TakeSnapshot();
  GraphSearchOptions graph_options;
  graph_options.k = static_cast<size_t>(options.k);
  graph_options.ef = options.ef != 0 ? options.ef : index_options_.ef_search;
  graph_options.rerank = options.rerank != 0 ? options.rerank : index_options_.rerank;
  const bool hnsw = index_options_.kind == IndexKind::kHnsw;
  auto candidates =
      filter.has_value() ? FilteredSearch(snapshot, *filter, prepared.data(), nq, dim_, metric_,
                                          graph_options, hnsw, ctx_.pool)
      : hnsw
          ? GraphSearch(snapshot, prepared.data(), nq, dim_, metric_, graph_options, ctx_.pool)
          : ExactSearch(snapshot, prepared.data(), nq, dim_, metric_, graph_options.k, ctx_.pool);
  std::vector<std::vector<Hit>> out(nq);
  ResultBytes bytes(options.max_result_bytes);
  for (size_t q = 0; q < nq; ++q) {
    auto& hits = out[q];
    hits.reserve(candidates[q].size());
    for (const Candidate& c : candidates[q]) {
      NEARSTORE_RETURN_IF_ERROR(
          bytes.Spend(RowRef{c.source, c.row}, dim_, options.with_vectors, options.with_metadata));
      Hit h;
      h.id = std::string(c.id);
      h.distance = c.distance;
      if (options.with_metadata) h.metadata = std::string(c.source->Metadata(c.row));
      if (options.with_vectors) {
        const float* v = c.source->Vector(c.row);
        h.vector.assign(v, v + dim_);
      }
      hits.push_back(std::move(h));
    }
  }
  return out;
}

CollectionInfo CollectionImpl::Info() const {
  CollectionInfo info;
  info.name = name_;
  info.incarnation = id_;
  info.dim = dim_;
  info.metric = metric_;
  info.index = index_options_;
  const Snapshot snap = TakeSnapshot();
  info.count = Count();
  for (const auto& s : snap.version->sources) {
    info.vector_bytes += s->NumRows() * dim_ * sizeof(float);
    if (s->IsSealed()) {
      const auto& segment = static_cast<const Segment&>(*s);
      ++info.segments;
      info.segment_rows += s->NumRows();
      info.disk_bytes += segment.size_bytes();
      if (segment.graph() != nullptr) {
        info.graph_bytes += segment.graph()->memory_bytes();
        info.indexed_rows += s->NumRows();
      }
      info.code_bytes += segment.code_bytes();
      if (auto payload = segment.payload()) info.payload_index_bytes += payload->memory_bytes();
    } else {
      info.memtable_rows += s->NumRows();
    }
  }
  if (closed_.load()) return info;  // the database (and its Env) may be gone
  auto names = ctx_.env->ListDir(ctx_.dir);
  if (names.ok()) {
    for (const auto& n : *names) {
      uint64_t number = 0;
      if (storage::ParseWalFileName(n, &number)) {
        auto size = ctx_.env->FileSize(storage::JoinPath(ctx_.dir, n));
        if (size.ok()) {
          info.disk_bytes += *size;
          info.wal_bytes += *size;
        }
      }
    }
  }
  return info;
}

}  // namespace nearstore::engine

#include "engine/graph_search.h"

#include <algorithm>
#include <variant>

#include "engine/distance.h"
#include "engine/segment.h"
#include "index/codes.h"
#include "index/hnsw.h"

namespace nearstore::engine {
namespace {

// Per-thread search state, reused so that a warm search does not allocate (the prepared query
// of each kind of codes is a thread_local of its own, in QueryFor).
struct Scratch {
  index::SearchScratch walk;
  std::vector<index::Neighbor> found;
  std::vector<float> estimates;                   // MeasureRows
  std::vector<std::pair<float, uint32_t>> order;  // likewise
};
thread_local Scratch scratch;

// This thread's query for codes of kind `Codes`, prepared for `query`.
template <class Codes>
const typename Codes::Query& QueryFor(const Codes& codes, const float* query, Metric metric) {
  thread_local typename Codes::Query prepared;
  prepared.Prepare(codes, query, GraphMetricFor(metric));
  return prepared;
}

// How many of a walk's or a measure's best rows to keep: k when its distances are exact, else
// the k * rerank that are re-ranked on the float vectors.
template <class Query>
size_t Keep(const GraphSearchOptions& o) {
  return Query::kExact ? o.k : o.k * std::max<size_t>(1, o.rerank);
}

// The ranking distance of `row` by which it is offered: the walk's own when exact, else measured
// again on the float vectors.
template <class Query>
float Rerank(const Segment& segment, const float* query, index::GraphMetric graph_metric,
             uint32_t row, float measured) {
  if constexpr (Query::kExact) {
    return measured;
  } else {
    return index::RankingDistance(graph_metric, query, segment.Vector(row), segment.view().dim());
  }
}

// Walks `segment`'s graph on `codes` and offers to `top` its best accepted rows (see Keep and
// Rerank).
template <class Codes>
size_t WalkAndOffer(const Segment& segment, const Codes& codes, const float* query, Metric metric,
                    const GraphSearchOptions& o, const index::AcceptFn* accept, TopK* top) {
  using Query = typename Codes::Query;
  const Query& prepared = QueryFor(codes, query, metric);
  segment.graph()->Search(prepared, Keep<Query>(o), o.ef, accept, &scratch.walk, &scratch.found);
  const index::GraphMetric graph_metric = GraphMetricFor(metric);
  for (const index::Neighbor& n : scratch.found) {
    const float ranking = Rerank<Query>(segment, query, graph_metric, n.node, n.distance);
    top->Push({UserDistance(metric, ranking), segment.Id(n.node), &segment, n.node});
  }
  return scratch.found.size();
}

// Measures `rows` on `codes`, then offers to `top` the accepted ones in order of measure: the
// first Keep() of them, re-ranked on the float vectors when the measures are estimates.
template <class Codes>
void MeasureRows(const Segment& segment, const Codes& codes, std::span<const uint32_t> rows,
                 const float* query, Metric metric, const GraphSearchOptions& o,
                 const index::AcceptFn& accept, TopK* top) {
  using Query = typename Codes::Query;
  const Query& prepared = QueryFor(codes, query, metric);
  scratch.estimates.resize(rows.size());
  prepared.Distances(rows.data(), rows.size(), scratch.estimates.data());
  auto& order = scratch.order;
  order.clear();
  for (size_t i = 0; i < rows.size(); ++i) order.emplace_back(scratch.estimates[i], rows[i]);
  const index::GraphMetric graph_metric = GraphMetricFor(metric);
  const size_t keep = Keep<Query>(o);
  size_t taken = 0;
  // Sorted a window at a time: most searches stop within the first few k * rerank rows.
  for (size_t begin = 0; begin < order.size() && taken < keep;) {
    const size_t end = std::min(order.size(), begin + std::max<size_t>(4 * keep, 64));
    std::nth_element(order.begin() + begin, order.begin() + (end - 1), order.end());
    std::sort(order.begin() + begin, order.begin() + end);
    for (size_t i = begin; i < end && taken < keep; ++i) {
      const uint32_t row = order[i].second;
      if (!accept(row)) continue;
      ++taken;
      const float ranking = Rerank<Query>(segment, query, graph_metric, row, order[i].first);
      top->Push({UserDistance(metric, ranking), segment.Id(row), &segment, row});
    }
    begin = end;
  }
}

}  // namespace

// The one dispatch on the kind of codes: once per query and segment, so that each kind's walk
// is its own template instance and no distance is a virtual call.
void SearchSegmentRows(const Segment& segment, std::span<const uint32_t> rows, const float* query,
                       Metric metric, const GraphSearchOptions& o, const index::AcceptFn& accept,
                       TopK* top) {
  std::visit(
      [&](const auto& codes) { MeasureRows(segment, codes, rows, query, metric, o, accept, top); },
      segment.codes());
}

size_t SearchSegmentGraph(const Segment& segment, const float* query, Metric metric,
                          const GraphSearchOptions& o, const index::AcceptFn* accept, TopK* top) {
  return std::visit(
      [&](const auto& codes) {
        return WalkAndOffer(segment, codes, query, metric, o, accept, top);
      },
      segment.codes());
}

std::vector<std::vector<Candidate>> GraphSearch(const Snapshot& snapshot, const float* queries,
                                                size_t nq, uint32_t dim, Metric metric,
                                                const GraphSearchOptions& options,
                                                ThreadPool* pool) {
  const size_t k = options.k;
  std::vector<const Segment*> graphs;
  auto rest = std::make_shared<Version>();
  for (const auto& source : snapshot.version->sources) {
    const auto* segment = source->IsSealed() ? static_cast<const Segment*>(source.get()) : nullptr;
    if (segment != nullptr && segment->graph() != nullptr) {
      graphs.push_back(segment);
    } else if (source->NumRows() > 0) {  // an empty memtable costs the scan's set-up per query
      rest->sources.push_back(source);
    }
  }
  if (graphs.empty()) return ExactSearch(snapshot, queries, nq, dim, metric, k, pool);

  // The sources without a graph first (one batched scan), then each query's graphs.
  std::vector<std::vector<Candidate>> out =
      rest->sources.empty()
          ? std::vector<std::vector<Candidate>>(nq)
          : ExactSearch(Snapshot{rest, snapshot.seq}, queries, nq, dim, metric, k, pool);
  const uint64_t seq = snapshot.seq;
  auto search_query = [&](size_t q) {
    TopK top(k);
    for (const Candidate& c : out[q]) top.Push(c);
    for (const Segment* segment : graphs) {
      const index::AcceptFn visible_fn = [segment, seq](uint32_t node) {
        return segment->VisibleAt(node, seq);
      };
      // Every row visible (none deleted, none newer than the snapshot): no check per row.
      const bool all_visible = segment->MarkedRows() == 0 && segment->view().max_seq() <= seq;
      SearchSegmentGraph(*segment, queries + q * dim, metric, options,
                         all_visible ? nullptr : &visible_fn, &top);
    }
    out[q] = top.TakeSorted();
  };
  ForEachSpread(pool, nq, search_query);
  return out;
}

}  // namespace nearstore::engine

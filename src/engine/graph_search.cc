#include "engine/graph_search.h"

#include <algorithm>

#include "engine/segment.h"
#include "index/hnsw.h"
#include "index/hnsw_internal.h"

namespace nearstore::engine {
namespace {

// Per-thread search state, reused so that a warm search does not allocate.
struct Scratch {
  index::SearchScratch walk;
  index::Sq8Query sq8;
  index::BinaryQuery binary;
  std::vector<index::Neighbor> found;
  std::vector<float> estimates;                   // SearchSegmentRows
  std::vector<std::pair<float, uint32_t>> order;  // likewise
};

// Walks `graph` on `codes` with `prepared` (a query of their kind), keeps the best k * rerank
// and offers them to `top` with their exact distances on the float vectors.
template <class Query, class Codes>
size_t WalkCodesAndRerank(const Segment& segment, const Codes& codes, Query* prepared,
                          const float* query, Metric metric, const index::AcceptFn* accept,
                          const GraphSearchOptions& o, Scratch* scratch, TopK* top) {
  const index::GraphMetric graph_metric = GraphMetricFor(metric);
  prepared->Prepare(codes, query, graph_metric);
  const size_t keep = o.k * std::max<size_t>(1, o.rerank);
  segment.graph()->Search(*prepared, keep, std::max(o.ef, keep), accept, &scratch->walk,
                          &scratch->found);
  const uint32_t dim = segment.view().dim();
  for (const index::Neighbor& n : scratch->found) {
    const float ranking = index::RankingDistance(graph_metric, query, segment.Vector(n.node), dim);
    top->Push({UserDistance(metric, ranking), segment.Id(n.node), &segment, n.node});
  }
  return scratch->found.size();
}

// Measures `rows` with `dist`, then offers to `top` the accepted ones in order of estimate:
// the first `keep` of them, re-ranked on the float vectors when `estimated`.
template <class Dist>
void MeasureAndOffer(const Segment& segment, std::span<const uint32_t> rows, const Dist& dist,
                     bool estimated, const float* query, Metric metric, size_t keep,
                     const index::AcceptFn& accept, Scratch* scratch, TopK* top) {
  scratch->estimates.resize(rows.size());
  dist.Many(rows.data(), rows.size(), scratch->estimates.data());
  auto& order = scratch->order;
  order.clear();
  for (size_t i = 0; i < rows.size(); ++i) order.emplace_back(scratch->estimates[i], rows[i]);
  const index::GraphMetric graph_metric = GraphMetricFor(metric);
  const uint32_t dim = segment.view().dim();
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
      const float ranking =
          estimated ? index::RankingDistance(graph_metric, query, segment.Vector(row), dim)
                    : order[i].first;
      top->Push({UserDistance(metric, ranking), segment.Id(row), &segment, row});
    }
    begin = end;
  }
}

}  // namespace

void SearchSegmentRows(const Segment& segment, std::span<const uint32_t> rows, const float* query,
                       Metric metric, const GraphSearchOptions& o, const index::AcceptFn& accept,
                       TopK* top) {
  thread_local Scratch scratch;
  const index::GraphMetric graph_metric = GraphMetricFor(metric);
  const size_t rerank_keep = o.k * std::max<size_t>(1, o.rerank);
  if (const index::Sq8Codes* codes = segment.sq8_codes(); codes != nullptr) {
    scratch.sq8.Prepare(*codes, query, graph_metric);
    MeasureAndOffer(segment, rows, index::Sq8Distance{&scratch.sq8}, true, query, metric,
                    rerank_keep, accept, &scratch, top);
    return;
  }
  if (const index::BinaryCodes* codes = segment.binary_codes(); codes != nullptr) {
    scratch.binary.Prepare(*codes, query, graph_metric);
    MeasureAndOffer(segment, rows, index::BinaryDistance{&scratch.binary}, true, query, metric,
                    rerank_keep, accept, &scratch, top);
    return;
  }
  const index::FloatDistance dist{segment.view().vectors(), query, segment.view().dim(),
                                  graph_metric};
  MeasureAndOffer(segment, rows, dist, false, query, metric, o.k, accept, &scratch, top);
}

size_t SearchSegmentGraph(const Segment& segment, const float* query, Metric metric,
                          const GraphSearchOptions& o, const index::AcceptFn* accept, TopK* top) {
  thread_local Scratch scratch;
  if (const index::Sq8Codes* codes = segment.sq8_codes(); codes != nullptr) {
    return WalkCodesAndRerank(segment, *codes, &scratch.sq8, query, metric, accept, o, &scratch,
                              top);
  }
  if (const index::BinaryCodes* codes = segment.binary_codes(); codes != nullptr) {
    return WalkCodesAndRerank(segment, *codes, &scratch.binary, query, metric, accept, o, &scratch,
                              top);
  }
  segment.graph()->Search(segment.view().vectors(), query, o.k, o.ef, accept, &scratch.walk,
                          &scratch.found);
  for (const index::Neighbor& n : scratch.found) {
    top->Push({UserDistance(metric, n.distance), segment.Id(n.node), &segment, n.node});
  }
  return scratch.found.size();
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

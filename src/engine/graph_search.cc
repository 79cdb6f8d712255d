#include "engine/graph_search.h"

#include <algorithm>

#include "engine/segment.h"
#include "index/hnsw.h"

namespace nearstore::engine {
namespace {

// Queries per parallel task: enough to make scheduling cheap, few enough to balance.
size_t QueriesPerTask(size_t nq, const ThreadPool* pool) {
  const size_t tasks = static_cast<size_t>(pool == nullptr ? 1 : pool->size()) * 4;
  return std::max<size_t>(1, (nq + tasks - 1) / tasks);
}

// Per-thread search state, reused so that a warm search does not allocate.
struct Scratch {
  index::SearchScratch walk;
  index::Sq8Query sq8;
  index::BinaryQuery binary;
  std::vector<index::Neighbor> found;
};

// Walks `graph` on `codes` with `prepared` (a query of their kind), keeps the best k * rerank
// and offers them to `top` with their exact distances on the float vectors.
template <class Query, class Codes>
void WalkCodesAndRerank(const Segment& segment, const Codes& codes, Query* prepared,
                        const float* query, Metric metric, const index::AcceptFn* visible,
                        const GraphSearchOptions& o, Scratch* scratch, TopK* top) {
  const index::GraphMetric graph_metric = GraphMetricFor(metric);
  prepared->Prepare(codes, query, graph_metric);
  const size_t keep = o.k * std::max<size_t>(1, o.rerank);
  segment.graph()->Search(*prepared, keep, std::max(o.ef, keep), visible, &scratch->walk,
                          &scratch->found);
  const uint32_t dim = segment.view().dim();
  for (const index::Neighbor& n : scratch->found) {
    const float ranking = index::RankingDistance(graph_metric, query, segment.Vector(n.node), dim);
    top->Push({UserDistance(metric, ranking), segment.Id(n.node), &segment, n.node});
  }
}

// Walks one segment's graph for `query` and offers its best visible rows to `top`.
void SearchSegment(const Segment& segment, const float* query, uint64_t seq, Metric metric,
                   const GraphSearchOptions& o, Scratch* scratch, TopK* top) {
  const index::AcceptFn visible_fn = [&segment, seq](uint32_t node) {
    return segment.VisibleAt(node, seq);
  };
  // Every row visible (none deleted, none newer than the snapshot): no check per row.
  const bool all_visible = segment.MarkedRows() == 0 && segment.view().max_seq() <= seq;
  const index::AcceptFn* visible = all_visible ? nullptr : &visible_fn;
  if (const index::Sq8Codes* codes = segment.sq8_codes(); codes != nullptr) {
    WalkCodesAndRerank(segment, *codes, &scratch->sq8, query, metric, visible, o, scratch, top);
    return;
  }
  if (const index::BinaryCodes* codes = segment.binary_codes(); codes != nullptr) {
    WalkCodesAndRerank(segment, *codes, &scratch->binary, query, metric, visible, o, scratch, top);
    return;
  }
  segment.graph()->Search(segment.view().vectors(), query, o.k, o.ef, visible, &scratch->walk,
                          &scratch->found);
  for (const index::Neighbor& n : scratch->found) {
    top->Push({UserDistance(metric, n.distance), segment.Id(n.node), &segment, n.node});
  }
}

}  // namespace

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
    thread_local Scratch scratch;
    TopK top(k);
    for (const Candidate& c : out[q]) top.Push(c);
    for (const Segment* segment : graphs) {
      SearchSegment(*segment, queries + q * dim, seq, metric, options, &scratch, &top);
    }
    out[q] = top.TakeSorted();
  };
  const size_t per_task = QueriesPerTask(nq, pool);
  const size_t tasks = (nq + per_task - 1) / per_task;
  auto run_task = [&](size_t t) {
    for (size_t q = t * per_task; q < std::min(nq, (t + 1) * per_task); ++q) search_query(q);
  };
  if (pool != nullptr && tasks > 1) {
    pool->ParallelFor(tasks, run_task);
  } else {
    for (size_t t = 0; t < tasks; ++t) run_task(t);
  }
  return out;
}

}  // namespace nearstore::engine

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

}  // namespace

std::vector<std::vector<Candidate>> GraphSearch(const Snapshot& snapshot, const float* queries,
                                                size_t nq, uint32_t dim, Metric metric, size_t k,
                                                size_t ef, ThreadPool* pool) {
  std::vector<const Segment*> graphs;
  auto rest = std::make_shared<Version>();
  for (const auto& source : snapshot.version->sources) {
    const auto* segment = source->IsSealed() ? static_cast<const Segment*>(source.get()) : nullptr;
    if (segment != nullptr && segment->graph() != nullptr) {
      graphs.push_back(segment);
    } else {
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
    // Reused per thread: once warm, the graph walk allocates nothing.
    thread_local index::SearchScratch scratch;
    thread_local std::vector<index::Neighbor> found;
    TopK top(k);
    for (const Candidate& c : out[q]) top.Push(c);
    for (const Segment* segment : graphs) {
      const index::AcceptFn visible = [segment, seq](uint32_t node) {
        return segment->VisibleAt(node, seq);
      };
      segment->graph()->Search(segment->view().vectors(), queries + q * dim, k, ef, &visible,
                               &scratch, &found);
      for (const index::Neighbor& n : found) {
        top.Push({UserDistance(metric, n.distance), segment->Id(n.node), segment, n.node});
      }
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

// Search of an HNSW collection's snapshot: each sealed segment that carries a graph is searched
// through it, every other source (the memtable, segments too small for a graph, segments
// written before the collection had one) exactly; the candidates are merged per query.
//
// A segment with SQ8 codes is walked on them (a quarter of the bytes per distance), and the
// best candidates of the walk are re-ranked on the float vectors.
//
// A graph's nodes are all the rows of its segment, dead ones too: a deleted or superseded row
// is refused as a result (it is not visible at the snapshot) but still routes the search, so
// recall holds after heavy deletes until compaction rebuilds the graph without those rows.
#pragma once

#include <span>
#include <vector>

#include "engine/exact_search.h"
#include "engine/segment.h"
#include "engine/thread_pool.h"
#include "engine/top_k.h"
#include "engine/version.h"
#include "nearstore/types.h"

namespace nearstore::engine {

struct GraphSearchOptions {
  size_t k = 10;
  size_t ef = 64;  // the walk's candidate list is max(ef, k * rerank)
  // Segments with quantized codes are walked on the codes; their best k * rerank are then
  // re-ranked on the float vectors. Distances returned are always the float ones.
  size_t rerank = 1;
};

// Walks `segment`'s graph for `query` (prepared as stored) and offers to `top` the best rows
// that `accept` takes (all when null), with their float distances. Returns how many it offered:
// fewer than k only when the walk reached fewer accepted rows.
size_t SearchSegmentGraph(const Segment& segment, const float* query, Metric metric,
                          const GraphSearchOptions& options, const index::AcceptFn* accept,
                          TopK* top);

// Offers to `top` the nearest of `rows` (rows of `segment`) that `accept` takes, with their
// float distances. Measured like a walk measures: on the segment's codes when it has them
// (the best k * rerank accepted estimates are then re-ranked on the float vectors), else on
// the floats; `accept` is asked only of rows in order of their estimates, until enough pass.
void SearchSegmentRows(const Segment& segment, std::span<const uint32_t> rows, const float* query,
                       Metric metric, const GraphSearchOptions& options,
                       const index::AcceptFn& accept, TopK* top);

// For each of the nq queries (prepared as stored), the k closest visible rows, closest first.
// Batches spread over `pool`.
std::vector<std::vector<Candidate>> GraphSearch(const Snapshot& snapshot, const float* queries,
                                                size_t nq, uint32_t dim, Metric metric,
                                                const GraphSearchOptions& options,
                                                ThreadPool* pool);

}  // namespace nearstore::engine

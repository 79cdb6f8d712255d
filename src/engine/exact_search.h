// Exact (brute-force) k-nearest-neighbour search over a snapshot of a collection's rows, with
// the SIMD kernels of src/simd: one query streams every vector once (dot_many / l2sq_many);
// a batch of queries goes through the blocked many-by-many kernel, so each tile of vectors is
// read from memory once for all queries. Large scans are split into row ranges spread over
// the thread pool, each keeping its own TopK, merged at the end.
#pragma once

#include <vector>

#include "engine/thread_pool.h"
#include "engine/top_k.h"
#include "engine/version.h"
#include "nearstore/types.h"

namespace nearstore::engine {

// For each of the nq queries (rows of `queries`, prepared as stored: normalised for cosine),
// the k closest visible rows, closest first.
std::vector<std::vector<Candidate>> ExactSearch(const Snapshot& snapshot, const float* queries,
                                                size_t nq, uint32_t dim, Metric metric, size_t k,
                                                ThreadPool* pool);

}  // namespace nearstore::engine

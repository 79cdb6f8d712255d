// What a graph walk measures with: one query's distances to the rows of one set of codes (in
// FAISS's terms, a DistanceComputer with its query set). Every kind of codes (codes.h) has a
// `Query` type that models QueryDistances; the walk (hnsw_walk.h) and the engine's segment
// search are templates on it, so a distance is an inlined call, never a virtual one: the kind
// is dispatched once per query and segment, not once per distance.
//
// A Query is prepared for a query vector and reused from search to search by one thread
// (Prepare does not allocate once its buffers have grown); it belongs to one search at a time.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>

namespace nearstore::index {

enum class GraphMetric : uint32_t;

// Requirements of a query's distances:
//   q.Distance(node)           the ranking distance (graph_metric.h) to row `node`, exact or
//                              estimated on codes (inline: called for every node a walk visits);
//   q.Distances(rows, n, out)  the same of n rows into out[0..n), with the data of the rows
//                              ahead already requested (several cache misses in flight);
//   q.Prefetch(node)           asks for the row's data ahead of use (a hint: never faults);
//   Q::kExact                  whether q(node) is the exact ranking distance on the float
//                              vectors (then nothing is re-ranked).
template <class Q>
concept QueryDistances = requires(const Q& q, uint32_t node, const uint32_t* rows, size_t n,
                                  float* out) {
  { q.Distance(node) } -> std::same_as<float>;
  q.Distances(rows, n, out);
  q.Prefetch(node);
  { Q::kExact } -> std::convertible_to<bool>;
};

// Asks for the first cache lines of a row's vector ahead of use (a hint only: never faults);
// the hardware's adjacent-line and stream prefetchers fetch the rest once the row is read.
// (Prefetching every line of a 384-d row measured slower: the hints crowd out the loads.)
inline void PrefetchVector(const float* vectors, uint32_t node, uint32_t dim) {
  const char* p = reinterpret_cast<const char*>(vectors + static_cast<uint64_t>(node) * dim);
  __builtin_prefetch(p);
  __builtin_prefetch(p + 64);
}

// The distances of `count` rows into out[0..count), each measured while the data of the next
// `ahead` is already requested: a Distances() for kinds that measure one row at a time.
// How far ahead pays was measured on WordNet (384-d) by alternating settings in one process:
// codes of a few lines a row, all requested, gain up to about 8-12 ahead (+60% over none);
// float rows (2 of 24 lines requested) gain little past 2-3.
template <class Q>
void MeasureAhead(const Q& q, const uint32_t* rows, size_t count, size_t ahead, float* out) {
  ahead = std::min(count, ahead);
  for (size_t i = 0; i < ahead; ++i) q.Prefetch(rows[i]);
  for (size_t i = 0; i < count; ++i) {
    if (i + ahead < count) q.Prefetch(rows[i + ahead]);
    out[i] = q.Distance(rows[i]);
  }
}

}  // namespace nearstore::index

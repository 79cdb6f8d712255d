// Pieces shared by the HNSW search (hnsw.cc) and build (hnsw_build.cc): the ranking distance,
// prefetching, and the two heaps of a graph search.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "index/hnsw.h"
#include "index/sq8.h"
#include "simd/distance.h"

namespace nearstore::index {

inline constexpr float kInfinity = __builtin_huge_valf();

// Asks for the first cache lines of a row's vector ahead of use (a hint only: never faults);
// the hardware's adjacent-line and stream prefetchers fetch the rest once the row is read.
// (Prefetching every line of a 384-d row measured slower: the hints crowd out the loads.)
inline void PrefetchVector(const float* vectors, uint32_t node, uint32_t dim) {
  const char* p = reinterpret_cast<const char*>(vectors + static_cast<uint64_t>(node) * dim);
  __builtin_prefetch(p);
  __builtin_prefetch(p + 64);
}

// How many neighbours' data a walk requests ahead of the one it measures (kPrefetchAhead, and
// simd's kRowsAhead for SQ8 codes), measured on WordNet (384-d) by alternating settings in one
// process: codes (6 lines a row, all requested) gain up to about 8-12 ahead (+60% over none);
// float rows (2 of 24 lines requested) gain little past 2-3.

// The distances of `count` nodes into out[0..count), each measured while the data of the
// next Dist::kPrefetchAhead is already requested.
template <class Dist>
void MeasureAhead(const Dist& dist, const uint32_t* nodes, size_t count, float* out) {
  const size_t ahead = std::min(count, Dist::kPrefetchAhead);
  for (size_t i = 0; i < ahead; ++i) dist.Prefetch(nodes[i]);
  for (size_t i = 0; i < count; ++i) {
    if (i + ahead < count) dist.Prefetch(nodes[i + ahead]);
    out[i] = dist(nodes[i]);
  }
}

// Each distance type also measures many nodes at once (Many: the unvisited links of a node).

// Distances on the float32 rows.
struct FloatDistance {
  static constexpr size_t kPrefetchAhead = 3;
  const float* vectors;
  const float* query;
  uint32_t dim;
  GraphMetric metric;
  float operator()(uint32_t node) const {
    return RankingDistance(metric, query, vectors + uint64_t{node} * dim, dim);
  }
  void Prefetch(uint32_t node) const { PrefetchVector(vectors, node, dim); }
  void Many(const uint32_t* nodes, size_t count, float* out) const {
    MeasureAhead(*this, nodes, count, out);
  }
};

// Estimated distances on SQ8 codes.
struct Sq8Distance {
  const Sq8Query* query;
  float operator()(uint32_t node) const { return query->Distance(node); }
  void Prefetch(uint32_t node) const { query->Prefetch(node); }
  // One kernel call (simd dot_u8i8_rows), which requests rows ahead itself.
  void Many(const uint32_t* nodes, size_t count, float* out) const {
    query->DistanceMany(nodes, count, out);
  }
};

// Estimated distances on binary codes (records of 64 bytes for 384-d, like a row of codes).
struct BinaryDistance {
  static constexpr size_t kPrefetchAhead = 10;
  const BinaryQuery* query;
  float operator()(uint32_t node) const { return query->Distance(node); }
  void Prefetch(uint32_t node) const { query->Prefetch(node); }
  void Many(const uint32_t* nodes, size_t count, float* out) const {
    MeasureAhead(*this, nodes, count, out);
  }
};

// Closest first; ties by node id so results do not depend on heap order. Function objects
// rather than functions, so that the heap and sort templates inline them (a function passed
// as a comparator is called through a pointer).
struct NearerFirstOrder {
  bool operator()(const Neighbor& a, const Neighbor& b) const {
    return a.distance < b.distance || (a.distance == b.distance && a.node < b.node);
  }
};
struct FartherFirstOrder {
  bool operator()(const Neighbor& a, const Neighbor& b) const { return NearerFirstOrder()(b, a); }
};
inline constexpr NearerFirstOrder NearerFirst{};
inline constexpr FartherFirstOrder FartherFirst{};

// The frontier: a min-heap (the nearest candidate on top).
inline void PushFrontier(std::vector<Neighbor>* heap, Neighbor n) {
  heap->push_back(n);
  std::push_heap(heap->begin(), heap->end(), FartherFirst);
}
inline void PopFrontier(std::vector<Neighbor>* heap) {
  std::pop_heap(heap->begin(), heap->end(), FartherFirst);
  heap->pop_back();
}

// The results: a max-heap (the farthest on top) holding at most `limit`.
inline void PushBest(std::vector<Neighbor>* heap, Neighbor n, size_t limit) {
  heap->push_back(n);
  std::push_heap(heap->begin(), heap->end(), NearerFirst);
  if (heap->size() > limit) {
    std::pop_heap(heap->begin(), heap->end(), NearerFirst);
    heap->pop_back();
  }
}

}  // namespace nearstore::index

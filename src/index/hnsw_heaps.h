// The two heaps of a graph search, shared by the walk (hnsw_walk.h) and the build
// (hnsw_build.cc): the frontier (nearest candidate on top) and the best results so far
// (farthest on top).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace nearstore::index {

inline constexpr float kInfinity = __builtin_huge_valf();

struct Neighbor {
  float distance;  // ranking distance (graph_metric.h)
  uint32_t node;
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

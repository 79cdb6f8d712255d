// TopK: the k best candidates seen so far, in a bounded max-heap (the worst on top), so a
// scan costs O(n log k) and never sorts everything. Order: smaller distance first, then smaller
// id, so results are deterministic when distances tie.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

namespace nearstore::engine {

class RowSource;

struct Candidate {
  float distance;  // the user's distance: smaller is closer
  std::string_view id;
  const RowSource* source;
  uint64_t row;
};

inline bool CloserThan(const Candidate& a, const Candidate& b) {
  return a.distance < b.distance || (a.distance == b.distance && a.id < b.id);
}

class TopK {
 public:
  explicit TopK(size_t k) : k_(k) { heap_.reserve(k); }

  // The distance a new candidate must not exceed to be considered (inclusive, so ties on distance
  // still get compared by id).
  float threshold() const { return heap_.size() < k_ ? kInf : heap_.front().distance; }

  void Push(const Candidate& c) {
    if (heap_.size() < k_) {
      heap_.push_back(c);
      std::push_heap(heap_.begin(), heap_.end(), CloserThan);
    } else if (CloserThan(c, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), CloserThan);
      heap_.back() = c;
      std::push_heap(heap_.begin(), heap_.end(), CloserThan);
    }
  }

  void Merge(const TopK& other) {
    for (const auto& c : other.heap_) Push(c);
  }

  // The candidates, closest first. Leaves the TopK empty.
  std::vector<Candidate> TakeSorted() {
    std::sort_heap(heap_.begin(), heap_.end(), CloserThan);
    return std::move(heap_);
  }

 private:
  static constexpr float kInf = __builtin_huge_valf();
  size_t k_;
  std::vector<Candidate> heap_;
};

}  // namespace nearstore::engine

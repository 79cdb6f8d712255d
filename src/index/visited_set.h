// VisitedSet: which nodes a graph search has already seen, cleared in O(1).
//
// Each node has a 16-bit tag; a node is visited when its tag equals the current epoch. Clearing
// is one increment of the epoch; only when the epoch wraps (once per 65,535 searches) is the
// array zeroed. The array grows to the largest graph searched and is then reused, so a warm
// search never allocates.
//
// Thread-safety: none; one per searching thread (see SearchScratch).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace nearstore::index {

class VisitedSet {
 public:
  // Forgets every visit and makes room for nodes [0, n).
  void Reset(uint64_t n) {
    if (tags_.size() < n) tags_.resize(n, 0);
    if (++epoch_ == 0) {  // wrapped: tags from 65,536 searches ago would look current
      std::fill(tags_.begin(), tags_.end(), 0);
      epoch_ = 1;
    }
  }

  bool Contains(uint64_t node) const { return tags_[node] == epoch_; }
  void Insert(uint64_t node) { tags_[node] = epoch_; }

  // Marks the node; returns whether it was new.
  bool TryInsert(uint64_t node) {
    if (tags_[node] == epoch_) return false;
    tags_[node] = epoch_;
    return true;
  }

 private:
  std::vector<uint16_t> tags_;
  uint16_t epoch_ = 0;
};

}  // namespace nearstore::index

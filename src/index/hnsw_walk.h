// HnswGraph::Search: the walk, a template on the query's distances (query_distances.h), so
// that each kind of codes gets its own inlined walk; included by hnsw.h.
#pragma once

#include <algorithm>

#include "index/hnsw.h"
#include "index/hnsw_heaps.h"

namespace nearstore::index {

template <QueryDistances Q>
uint32_t HnswGraph::Greedy(const Q& dist, uint32_t from, float* from_distance,
                           uint32_t level) const {
  uint32_t best = from;
  float best_distance = *from_distance;
  for (bool moved = true; moved;) {
    moved = false;
    const uint32_t* slot = Slot(best, level);
    const uint32_t count = slot[0];
    for (uint32_t i = 1; i <= count; ++i) {
      if (i < count) dist.Prefetch(slot[i + 1]);
      const float d = dist.Distance(slot[i]);
      if (d < best_distance) {
        best_distance = d;
        best = slot[i];
        moved = true;
      }
    }
  }
  *from_distance = best_distance;
  return best;
}

template <QueryDistances Q>
void HnswGraph::SearchLevel0(const Q& dist, uint32_t entry, float entry_distance, size_t ef,
                             const AcceptFn* accept, SearchScratch* scratch) const {
  auto& visited = scratch->visited;
  auto& frontier = scratch->candidates;
  auto& best = scratch->results;
  auto& fresh = scratch->fresh;
  auto& distances = scratch->distances;
  visited.Reset(n_);
  frontier.clear();
  best.clear();
  visited.Insert(entry);
  PushFrontier(&frontier, {entry_distance, entry});
  if (accept == nullptr || (*accept)(entry)) PushBest(&best, {entry_distance, entry}, ef);
  float bound = best.size() < ef ? kInfinity : best.front().distance;

  while (!frontier.empty()) {
    const Neighbor current = frontier.front();
    // Every unexplored candidate is farther than the worst of a full result list: done. While
    // the list is not full (refused nodes do not enter it) the search goes on widening.
    if (current.distance > bound && best.size() >= ef) break;
    PopFrontier(&frontier);
    // The links of the next candidate, most likely the next one expanded, load while this
    // node's neighbours are measured (+5-9% QPS on 1M x 128, alternating within one process).
    if (!frontier.empty()) PrefetchSlot(frontier.front().node);
    const uint32_t* slot = Slot(current.node, 0);
    const uint32_t count = slot[0];
    // The unvisited links first, then their distances with the data of the next few already
    // requested: several misses in flight at once instead of one after another.
    fresh.clear();
    for (uint32_t i = 1; i <= count; ++i) {
      if (visited.TryInsert(slot[i])) fresh.push_back(slot[i]);
    }
    if (distances.size() < fresh.size()) distances.resize(fresh.size());
    dist.Distances(fresh.data(), fresh.size(), distances.data());
    for (size_t i = 0; i < fresh.size(); ++i) {
      const uint32_t node = fresh[i];
      const float d = distances[i];
      if (best.size() < ef || d < bound) {
        PushFrontier(&frontier, {d, node});
        if (accept == nullptr || (*accept)(node)) PushBest(&best, {d, node}, ef);
        if (best.size() >= ef) bound = best.front().distance;
      }
    }
  }
}

template <QueryDistances Q>
void HnswGraph::Search(const Q& dist, size_t k, size_t ef, const AcceptFn* accept,
                       SearchScratch* scratch, std::vector<Neighbor>* out) const {
  out->clear();
  if (n_ == 0 || k == 0) return;
  ef = std::max(ef, k);
  uint32_t entry = entry_;
  float d = dist.Distance(entry);
  for (uint32_t level = max_level_; level > 0; --level) entry = Greedy(dist, entry, &d, level);
  SearchLevel0(dist, entry, d, ef, accept, scratch);
  auto& best = scratch->results;
  std::sort(best.begin(), best.end(), NearerFirst);
  out->assign(best.begin(), best.begin() + std::min(k, best.size()));
}

}  // namespace nearstore::index

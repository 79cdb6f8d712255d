// HnswGraph::Build: inserts every row into the graph, in parallel (after Malkov & Yashunin,
// Algorithms 1, 2 and 4).
//
// Concurrency: each node's link lists are guarded by one of a fixed set of striped mutexes
// (never two held at once, so no lock order to respect); readers copy a list under its lock.
// The entry point and top level are guarded by `top_mu_`; a node that raises the top level
// holds it for its whole insertion, as only it may make the new levels reachable.
//
// These stay std::mutex, not the annotated base::Mutex (base/mutex.h): clang's thread-safety
// analysis could check nothing here. What they guard is HnswGraph's (link slots, entry_,
// max_level_), which GUARDED_BY in that class cannot tie to a mutex of the builder; a node's
// stripe is chosen by index at run time, which no annotation can name; and top_mu_ is held on
// to or not depending on the node's level, which the analysis (needing the same locks held on
// every path) cannot follow.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <thread>

#include "index/float_rows.h"
#include "index/hnsw.h"
#include "index/sq8.h"

namespace nearstore::index {

namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A node's top level: floor(-ln(u) / ln(m)) for u uniform in (0, 1], so that about 1/m of the
// nodes reach level 1, 1/m^2 level 2, and so on.
uint8_t DrawLevel(uint64_t seed, uint64_t node, uint32_t m) {
  const double u = (static_cast<double>(SplitMix64(seed ^ SplitMix64(node)) >> 11) + 1.0) * 0x1p-53;
  const double level = std::floor(-std::log(u) / std::log(static_cast<double>(m)));
  return static_cast<uint8_t>(std::min<double>(level, kHnswMaxLevel));
}

constexpr size_t kLockStripes = 4096;

}  // namespace

class HnswBuilder {
 public:
  HnswBuilder(HnswGraph* g, const float* vectors, const HnswOptions& options, const Sq8Codes* codes)
      : g_(*g),
        vectors_(vectors),
        codes_(codes),
        // At least m (CheckHnswOptions): fewer candidates than links would leave lists short
        // for no gain.
        ef_construction_(options.ef_construction),
        locks_(new std::mutex[kLockStripes]) {}

  // `query` is scratch for the node's quantized form (used when building with codes).
  void Insert(uint32_t node, SearchScratch* scratch, Sq8Query* query, FloatQuery* exact);

 private:
  const float* Vec(uint32_t node) const { return vectors_ + static_cast<uint64_t>(node) * g_.dim_; }
  float Distance(uint32_t a, uint32_t b) const { return g_.Distance(Vec(a), Vec(b)); }
  std::mutex& LockOf(uint32_t node) { return locks_[node % kLockStripes]; }
  uint32_t* MutableSlot(uint32_t node, uint32_t level) {
    return const_cast<uint32_t*>(g_.Slot(node, level));
  }
  uint32_t Capacity(uint32_t level) const { return level == 0 ? g_.m0_ : g_.m_; }

  // Copies the level-`level` links of `node` into `out`, under the node's lock.
  void CopyLinks(uint32_t node, uint32_t level, std::vector<uint32_t>* out) {
    std::lock_guard lock(LockOf(node));
    const uint32_t* slot = g_.Slot(node, level);
    out->assign(slot + 1, slot + 1 + slot[0]);
  }
  uint32_t GreedyDescent(uint32_t node, uint32_t from, float* distance, uint32_t level);
  // The ef_construction nearest to `node` on `level` found from `entry`, nearest first, with
  // exact distances. `dist` (FloatQuery or Sq8Query) is the distance the search ranks by:
  // exact, or estimated on codes.
  template <QueryDistances Q>
  void SearchLevel(uint32_t node, const Q& dist, uint32_t entry, uint32_t level,
                   SearchScratch* scratch, std::vector<Neighbor>* out);
  // Algorithm 4 (without extending candidates or keeping pruned ones): keep a candidate only if
  // it is nearer to the base than to every candidate already kept, so links point in diverse
  // directions. `candidates` sorted nearest first; writes at most `limit` into `out`.
  void SelectNeighbors(const std::vector<Neighbor>& candidates, uint32_t limit,
                       std::vector<Neighbor>* out) const;
  // `distance` is the distance between the two nodes (known to the caller).
  void Link(uint32_t from, uint32_t to, float distance, uint32_t level);

  HnswGraph& g_;
  const float* vectors_;
  const Sq8Codes* codes_;  // nullptr: search on the floats
  const uint32_t ef_construction_;
  std::unique_ptr<std::mutex[]> locks_;  // striped: see the top of the file for why not annotated
  std::mutex top_mu_;                    // guards g_.entry_ and g_.max_level_ during the build
};

uint32_t HnswBuilder::GreedyDescent(uint32_t node, uint32_t from, float* distance, uint32_t level) {
  thread_local std::vector<uint32_t> links;
  uint32_t best = from;
  for (bool moved = true; moved;) {
    moved = false;
    CopyLinks(best, level, &links);
    for (uint32_t next : links) {
      const float d = Distance(node, next);
      if (d < *distance) {
        *distance = d;
        best = next;
        moved = true;
      }
    }
  }
  return best;
}

template <QueryDistances Q>
void HnswBuilder::SearchLevel(uint32_t node, const Q& dist, uint32_t entry, uint32_t level,
                              SearchScratch* scratch, std::vector<Neighbor>* out) {
  thread_local std::vector<uint32_t> links;
  auto& visited = scratch->visited;
  auto& frontier = scratch->candidates;
  auto& best = scratch->results;
  visited.Reset(g_.n_);
  frontier.clear();
  best.clear();
  visited.Insert(entry);
  visited.Insert(node);  // never link a node to itself
  const float entry_distance = dist.Distance(entry);
  PushFrontier(&frontier, {entry_distance, entry});
  PushBest(&best, {entry_distance, entry}, ef_construction_);
  while (!frontier.empty()) {
    const Neighbor current = frontier.front();
    if (best.size() >= ef_construction_ && current.distance > best.front().distance) break;
    PopFrontier(&frontier);
    CopyLinks(current.node, level, &links);
    // Keep the unvisited links, then measure them all at once (as the search does, hnsw.cc).
    size_t fresh = 0;
    for (uint32_t next : links) {
      if (visited.TryInsert(next)) links[fresh++] = next;
    }
    auto& distances = scratch->distances;
    if (distances.size() < fresh) distances.resize(fresh);
    dist.Distances(links.data(), fresh, distances.data());
    for (size_t i = 0; i < fresh; ++i) {
      const uint32_t next = links[i];
      const float d = distances[i];
      if (best.size() < ef_construction_ || d < best.front().distance) {
        PushFrontier(&frontier, {d, next});
        PushBest(&best, {d, next}, ef_construction_);
      }
    }
  }
  out->assign(best.begin(), best.end());
  if (codes_ != nullptr) {
    for (Neighbor& nb : *out) nb.distance = Distance(node, nb.node);  // exact, for selection
  }
  std::sort(out->begin(), out->end(), NearerFirst);
}

void HnswBuilder::SelectNeighbors(const std::vector<Neighbor>& candidates, uint32_t limit,
                                  std::vector<Neighbor>* out) const {
  out->clear();
  for (const Neighbor& c : candidates) {
    if (out->size() >= limit) break;
    bool diverse = true;
    for (const Neighbor& kept : *out) {
      if (Distance(c.node, kept.node) < c.distance) {
        diverse = false;
        break;
      }
    }
    if (diverse) out->push_back(c);
  }
}

// Adds the link from -> to; a full list is re-selected with the heuristic among its links and
// the new one, from `from`'s point of view.
void HnswBuilder::Link(uint32_t from, uint32_t to, float distance, uint32_t level) {
  thread_local std::vector<Neighbor> candidates, kept;
  std::lock_guard lock(LockOf(from));
  uint32_t* slot = MutableSlot(from, level);
  const uint32_t cap = Capacity(level);
  for (uint32_t i = 1; i <= slot[0]; ++i) {
    if (slot[i] == to) return;
  }
  if (slot[0] < cap) {
    slot[++slot[0]] = to;
    return;
  }
  candidates.clear();
  candidates.push_back({distance, to});
  for (uint32_t i = 1; i <= slot[0]; ++i) candidates.push_back({Distance(from, slot[i]), slot[i]});
  std::sort(candidates.begin(), candidates.end(), NearerFirst);
  SelectNeighbors(candidates, cap, &kept);
  slot[0] = static_cast<uint32_t>(kept.size());
  for (size_t i = 0; i < kept.size(); ++i) slot[i + 1] = kept[i].node;
}

void HnswBuilder::Insert(uint32_t node, SearchScratch* scratch, Sq8Query* query,
                         FloatQuery* exact) {
  thread_local std::vector<Neighbor> found;
  thread_local std::vector<std::vector<Neighbor>> chosen;  // per level
  const uint32_t level = g_.levels_[node];
  std::unique_lock top(top_mu_);
  const uint32_t top_level = g_.max_level_;
  uint32_t entry = g_.entry_;
  if (level <= top_level) top.unlock();  // only a node that raises the top keeps the lock

  float distance = Distance(node, entry);
  for (uint32_t l = top_level; l > level; --l) entry = GreedyDescent(node, entry, &distance, l);
  // Two phases. First every level's neighbours are chosen and the node's own lists written;
  // only then do other nodes get links to it. Until that second phase no search can reach the
  // node, so no other insertion can route through its still-empty lower lists and add a link
  // there that the first phase would overwrite (which would leave that node unreachable).
  const uint32_t linked_levels = std::min(level, top_level) + 1;
  if (chosen.size() < linked_levels) chosen.resize(linked_levels);
  if (codes_ != nullptr) {
    query->Prepare(*codes_, Vec(node), g_.metric_);
  } else {
    exact->Prepare(FloatRows(vectors_, g_.dim_), Vec(node), g_.metric_);
  }
  for (uint32_t l = linked_levels; l-- > 0;) {
    if (codes_ != nullptr) {
      SearchLevel(node, *query, entry, l, scratch, &found);
    } else {
      SearchLevel(node, *exact, entry, l, scratch, &found);
    }
    SelectNeighbors(found, g_.m_, &chosen[l]);
    {
      std::lock_guard lock(LockOf(node));
      uint32_t* slot = MutableSlot(node, l);
      slot[0] = static_cast<uint32_t>(chosen[l].size());
      for (size_t i = 0; i < chosen[l].size(); ++i) slot[i + 1] = chosen[l][i].node;
    }
    if (!found.empty()) entry = found.front().node;
  }
  for (uint32_t l = 0; l < linked_levels; ++l) {
    for (const Neighbor& nb : chosen[l]) Link(nb.node, node, nb.distance, l);
  }
  if (level > top_level) {
    g_.max_level_ = level;
    g_.entry_ = node;
  }
}

Result<HnswGraph> HnswGraph::Build(const float* vectors, uint64_t n, uint32_t dim,
                                   GraphMetric metric, const HnswOptions& options, int threads,
                                   const Sq8Codes* codes, uint64_t seed) {
  if (codes != nullptr && (codes->size() != n || codes->dim() != dim)) {
    return Status::InvalidArgument("HNSW build: the codes cover " + std::to_string(codes->size()) +
                                   " rows of " + std::to_string(codes->dim()) +
                                   " dimensions, expected " + std::to_string(n) + " of " +
                                   std::to_string(dim));
  }
  NEARSTORE_RETURN_IF_ERROR(CheckHnswOptions(options));
  if (n >= (uint64_t{1} << 32)) {
    return Status::InvalidArgument("an HNSW graph holds fewer than 2^32 nodes, got " +
                                   std::to_string(n));
  }
  HnswGraph g;
  g.n_ = n;
  g.dim_ = dim;
  g.metric_ = metric;
  g.m_ = options.m;
  g.m0_ = 2 * options.m;
  g.owned_levels_.resize(n);
  g.owned_upper_offsets_.assign(n, 0);
  // Levels are drawn up front, so the upper pool is laid out (and allocated) once.
  for (uint64_t i = 0; i < n; ++i) {
    const uint8_t level = DrawLevel(seed, i, options.m);
    g.owned_levels_[i] = level;
    g.owned_upper_offsets_[i] = level > 0 ? g.upper_slots_ : 0;
    g.upper_slots_ += uint64_t{level} * (g.m_ + 1);
  }
  g.owned_links0_.assign(n * (g.m0_ + 1), 0);
  g.owned_upper_.assign(g.upper_slots_, 0);
  g.levels_ = g.owned_levels_.data();
  g.links0_ = g.owned_links0_.data();
  g.upper_offsets_ = g.owned_upper_offsets_.data();
  g.upper_ = g.owned_upper_.data();
  if (n == 0) return g;
  g.entry_ = 0;
  g.max_level_ = g.levels_[0];

  HnswBuilder builder(&g, vectors, options, codes);
  std::atomic<uint64_t> next{1};
  auto work = [&] {
    SearchScratch scratch;
    Sq8Query query;
    FloatQuery exact;
    for (uint64_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
      builder.Insert(static_cast<uint32_t>(i), &scratch, &query, &exact);
    }
  };
  const int extra = static_cast<int>(std::min<uint64_t>(std::max(threads, 1) - 1, n));
  std::vector<std::thread> workers;
  workers.reserve(extra);
  for (int t = 0; t < extra; ++t) workers.emplace_back(work);
  work();
  for (auto& w : workers) w.join();
  return g;
}

}  // namespace nearstore::index

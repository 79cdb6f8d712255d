// HnswGraph: a hierarchical navigable small-world graph (Malkov & Yashunin, 2016) over vectors
// that live elsewhere (a segment's mapped vector section, or a caller's array).
//
// Layout, chosen so that a search touches few cache lines:
//   - level 0 (every node): one flat array of fixed-size slots, node i at i * (m0 + 1):
//     slot[0] = number of links, slot[1..] = neighbour ids. One node's links are found without
//     indirection (132 bytes for m = 16: two or three cache lines);
//   - upper levels (about 1/m of the nodes): per node an offset into one pool of slots of
//     (m + 1) entries per level, same shape as level 0;
//   - one byte per node: its top level.
// The arrays are either owned (after Build) or borrowed from a mapped file (View), so a sealed
// segment's graph is searched in place, without loading or rebuilding it on open.
//
// Distances inside the graph are "ranking distances", smaller is closer: squared Euclidean for
// kL2, minus the inner product for kInnerProduct (cosine on normalised vectors, and dot).
//
// Thread-safety: a built or viewed graph is immutable; any number of threads may Search it at
// once, each with its own SearchScratch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "index/graph_metric.h"
#include "index/hnsw_heaps.h"
#include "index/hnsw_options.h"
#include "index/query_distances.h"
#include "index/visited_set.h"
#include "nearstore/status.h"

namespace nearstore::index {

class Sq8Codes;

// Each node's level is drawn from a hash of a seed and the node id, so levels do not depend on
// thread scheduling; this is the seed of every graph the engine builds.
inline constexpr uint64_t kHnswDefaultSeed = 0x6e656172;  // "near"

// OK when every setting is in its range (hnsw_options.h); InvalidArgument naming the first
// that is not, with the range.
[[nodiscard]] Status CheckHnswOptions(const HnswOptions& options);

// A node a search may return. Nodes refused still route the search (a deleted point keeps the
// graph connected until compaction rebuilds it). Called from the searching thread only.
using AcceptFn = std::function<bool(uint32_t node)>;

// Per-thread search state, reused between searches so the search path does not allocate once
// warm: the visited set and the two heaps.
struct SearchScratch {
  VisitedSet visited;
  std::vector<Neighbor> candidates;  // min-heap by distance: the frontier
  std::vector<Neighbor> results;     // max-heap by distance: the best ef so far
  std::vector<uint32_t> fresh;       // the unvisited links of the node being expanded
  std::vector<float> distances;      // and their distances
};

class HnswGraph {
 public:
  HnswGraph() = default;
  HnswGraph(HnswGraph&&) noexcept = default;
  HnswGraph& operator=(HnswGraph&&) noexcept = default;

  // Builds the graph of the n rows of `vectors` (n * dim floats, row-major, kept alive by the
  // caller for every later search) with `threads` threads (1 = the calling thread only).
  // With `codes` (of the same rows), each insertion's candidate search runs on the codes and
  // only its ef_construction results are measured again on the floats, for the neighbour
  // selection: the search reads a quarter of the bytes. `seed` draws the levels.
  // InvalidArgument for settings out of range (CheckHnswOptions; ef_search is not used).
  [[nodiscard]] static Result<HnswGraph> Build(const float* vectors, uint64_t n, uint32_t dim,
                                               GraphMetric metric, const HnswOptions& options,
                                               int threads, const Sq8Codes* codes = nullptr,
                                               uint64_t seed = kHnswDefaultSeed);

  // The graph's bytes (format in docs/FORMATS.md, "HNSW graph"), to be stored by the caller.
  std::string Encode() const;

  // A graph over `bytes` (which the caller keeps alive), validated: every count, level and link
  // in range, so that a damaged file can never make a search read out of bounds. Corruption
  // naming `path` otherwise. `n` is the number of rows the graph must cover. Validation reads
  // every link once, so a mapped graph is paged in by its first View.
  [[nodiscard]] static Result<HnswGraph> View(std::string_view bytes, uint64_t n, uint32_t dim,
                                              GraphMetric metric, const std::string& path);

  // The (up to) k nearest accepted nodes, closest first (ties by node id), by the distances of
  // `query` (a query prepared for codes of the graph's rows, with this graph's metric; see
  // codes.h), exploring with a candidate list of max(ef, k). `out` holds the walk's distances
  // (estimates, for quantized codes). Defined in hnsw_walk.h, instantiated where it is called.
  template <QueryDistances Q>
  void Search(const Q& query, size_t k, size_t ef, const AcceptFn* accept, SearchScratch* scratch,
              std::vector<Neighbor>* out) const;
  // The walk on the float rows the graph was built on (`vectors`), for `query`.
  void Search(const float* vectors, const float* query, size_t k, size_t ef, const AcceptFn* accept,
              SearchScratch* scratch, std::vector<Neighbor>* out) const;

  uint64_t size() const { return n_; }
  uint32_t m() const { return m_; }
  uint32_t max_level() const { return max_level_; }
  uint32_t entry_point() const { return entry_; }
  // Bytes of the graph's arrays (the memory a collection reports for its graph).
  uint64_t memory_bytes() const;

  // Level-`level` links of `node` (level <= the node's level). For tests and tools.
  std::span<const uint32_t> Links(uint32_t node, uint32_t level) const;
  uint32_t Level(uint32_t node) const { return levels_[node]; }

 private:
  friend class HnswBuilder;

  const uint32_t* Slot(uint32_t node, uint32_t level) const {
    return level == 0 ? links0_ + static_cast<uint64_t>(node) * (m0_ + 1)
                      : upper_ + upper_offsets_[node] + (level - 1) * (m_ + 1);
  }
  float Distance(const float* a, const float* b) const;
  // Asks for every cache line of a node's level-0 slot ahead of use (a hint: never faults).
  void PrefetchSlot(uint32_t node) const {
    const char* p = reinterpret_cast<const char*>(Slot(node, 0));
    for (uint32_t off = 0; off < (m0_ + 1) * 4; off += 64) __builtin_prefetch(p + off);
  }
  // Greedy descent through one upper level: the closest node reachable from `from`.
  template <QueryDistances Q>
  uint32_t Greedy(const Q& dist, uint32_t from, float* from_distance, uint32_t level) const;
  template <QueryDistances Q>
  void SearchLevel0(const Q& dist, uint32_t entry, float entry_distance, size_t ef,
                    const AcceptFn* accept, SearchScratch* scratch) const;

  uint64_t n_ = 0;
  uint32_t dim_ = 0;
  GraphMetric metric_ = GraphMetric::kL2;
  uint32_t m_ = 0, m0_ = 0;
  uint32_t max_level_ = 0;
  uint32_t entry_ = 0;
  uint64_t upper_slots_ = 0;  // entries in the upper pool

  // The arrays: point into owned_* (built) or into the caller's bytes (viewed).
  const uint8_t* levels_ = nullptr;
  const uint32_t* links0_ = nullptr;
  const uint64_t* upper_offsets_ = nullptr;
  const uint32_t* upper_ = nullptr;

  std::vector<uint8_t> owned_levels_;
  std::vector<uint32_t> owned_links0_;
  std::vector<uint64_t> owned_upper_offsets_;
  std::vector<uint32_t> owned_upper_;
};

}  // namespace nearstore::index

#include "index/hnsw_walk.h"  // IWYU pragma: export (the Search template)

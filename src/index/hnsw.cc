// HnswGraph: search, encoding and validated views (the build is in hnsw_build.cc).
#include "index/hnsw.h"

#include <algorithm>
#include <cstring>

#include "index/float_rows.h"
#include "nearstore/types.h"
#include "storage/coding.h"

namespace nearstore::index {

namespace {

constexpr uint32_t kMagic = 0x57534e48;  // "HNSW" little-endian
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 48;

using storage::PadTo8;

// Byte offsets of the arrays inside an encoded graph.
struct Layout {
  uint64_t levels, links0, upper_offsets, upper, total;
};

Layout LayoutFor(uint64_t n, uint32_t m0, uint64_t upper_slots) {
  Layout l;
  l.levels = kHeaderBytes;
  l.links0 = l.levels + PadTo8(n);
  l.upper_offsets = l.links0 + PadTo8(n * (m0 + 1) * 4);
  l.upper = l.upper_offsets + n * 8;
  l.total = l.upper + PadTo8(upper_slots * 4);
  return l;
}

Status Damaged(const std::string& path, const std::string& what) {
  return Status::Corruption("HNSW graph in " + path + ": " + what);
}

}  // namespace

Status CheckHnswOptions(const HnswOptions& options) {
  if (options.m < 2 || options.m > kHnswMaxM) {
    return Status::InvalidArgument("hnsw m must be 2.." + std::to_string(kHnswMaxM) + ", got " +
                                   std::to_string(options.m));
  }
  if (options.ef_construction < options.m || options.ef_construction > kMaxEf) {
    return Status::InvalidArgument("hnsw ef_construction must be m (" + std::to_string(options.m) +
                                   ").." + std::to_string(kMaxEf) + ", got " +
                                   std::to_string(options.ef_construction));
  }
  if (options.ef_search < 1 || options.ef_search > kMaxEf) {
    return Status::InvalidArgument("hnsw ef_search must be 1.." + std::to_string(kMaxEf) +
                                   ", got " + std::to_string(options.ef_search));
  }
  return Status::Ok();
}

uint64_t HnswGraph::memory_bytes() const {
  return PadTo8(n_) + n_ * (m0_ + 1) * 4 + n_ * 8 + upper_slots_ * 4;
}

std::span<const uint32_t> HnswGraph::Links(uint32_t node, uint32_t level) const {
  const uint32_t* slot = Slot(node, level);
  return {slot + 1, slot[0]};
}

float HnswGraph::Distance(const float* a, const float* b) const {
  return RankingDistance(metric_, a, b, dim_);
}

void HnswGraph::Search(const float* vectors, const float* query, size_t k, size_t ef,
                       const AcceptFn* accept, SearchScratch* scratch,
                       std::vector<Neighbor>* out) const {
  FloatQuery q;
  q.Prepare(FloatRows(vectors, dim_), query, metric_);
  Search(q, k, ef, accept, scratch, out);
}

std::string HnswGraph::Encode() const {
  const Layout layout = LayoutFor(n_, m0_, upper_slots_);
  std::string out;
  out.reserve(layout.total);
  storage::PutU32(out, kMagic);
  storage::PutU32(out, kVersion);
  storage::PutU32(out, static_cast<uint32_t>(metric_));
  storage::PutU32(out, dim_);
  storage::PutU32(out, m_);
  storage::PutU32(out, m0_);
  storage::PutU32(out, max_level_);
  storage::PutU32(out, entry_);
  storage::PutU64(out, n_);
  storage::PutU64(out, upper_slots_);
  if (n_ > 0) {  // (an empty graph's arrays may be null pointers)
    out.append(reinterpret_cast<const char*>(levels_), n_);
    out.resize(layout.links0, '\0');
    out.append(reinterpret_cast<const char*>(links0_), n_ * (m0_ + 1) * 4);
    out.resize(layout.upper_offsets, '\0');
    out.append(reinterpret_cast<const char*>(upper_offsets_), n_ * 8);
  }
  if (upper_slots_ > 0) out.append(reinterpret_cast<const char*>(upper_), upper_slots_ * 4);
  out.resize(layout.total, '\0');
  return out;
}

Result<HnswGraph> HnswGraph::View(std::string_view bytes, uint64_t n, uint32_t dim,
                                  GraphMetric metric, const std::string& path) {
  if (bytes.size() < kHeaderBytes) {
    return Damaged(path, "header cut short (" + std::to_string(bytes.size()) + " bytes)");
  }
  if (reinterpret_cast<uintptr_t>(bytes.data()) % 8 != 0) {
    return Damaged(path, "graph bytes are not 8-byte aligned");
  }
  const char* p = bytes.data();
  if (storage::LoadU32(p) != kMagic) return Damaged(path, "bad magic");
  if (storage::LoadU32(p + 4) != kVersion) {
    return Damaged(path, "format version " + std::to_string(storage::LoadU32(p + 4)) +
                             ", expected " + std::to_string(kVersion));
  }
  HnswGraph g;
  g.metric_ = static_cast<GraphMetric>(storage::LoadU32(p + 8));
  g.dim_ = storage::LoadU32(p + 12);
  g.m_ = storage::LoadU32(p + 16);
  g.m0_ = storage::LoadU32(p + 20);
  g.max_level_ = storage::LoadU32(p + 24);
  g.entry_ = storage::LoadU32(p + 28);
  g.n_ = storage::LoadU64(p + 32);
  g.upper_slots_ = storage::LoadU64(p + 40);
  if (g.metric_ != metric || g.dim_ != dim) return Damaged(path, "metric or dimension mismatch");
  if (n >= (uint64_t{1} << 32)) return Damaged(path, "node ids are 32-bit: too many nodes");
  if (g.n_ != n) {
    return Damaged(path,
                   "covers " + std::to_string(g.n_) + " nodes, expected " + std::to_string(n));
  }
  if (g.m_ < 2 || g.m_ > kHnswMaxM || g.m0_ != 2 * g.m_) return Damaged(path, "bad link counts");
  if (g.max_level_ > kHnswMaxLevel || (n > 0 && g.entry_ >= n)) {
    return Damaged(path, "bad entry point or top level");
  }
  if (g.upper_slots_ > (uint64_t{1} << 40)) return Damaged(path, "upper level pool too large");
  const Layout layout = LayoutFor(n, g.m0_, g.upper_slots_);
  if (bytes.size() != layout.total) {
    return Damaged(path, "size " + std::to_string(bytes.size()) + " bytes, expected " +
                             std::to_string(layout.total));
  }
  g.levels_ = reinterpret_cast<const uint8_t*>(p + layout.levels);
  g.links0_ = reinterpret_cast<const uint32_t*>(p + layout.links0);
  g.upper_offsets_ = reinterpret_cast<const uint64_t*>(p + layout.upper_offsets);
  g.upper_ = reinterpret_cast<const uint32_t*>(p + layout.upper);
  if (n > 0 && g.levels_[g.entry_] != g.max_level_) {
    return Damaged(path, "the entry point is not on the top level");
  }
  // Every node's slots in bounds, every count within its capacity, every link a node.
  for (uint64_t node = 0; node < n; ++node) {
    const uint32_t level = g.levels_[node];
    if (level > g.max_level_) return Damaged(path, "node " + std::to_string(node) + " too high");
    // Overflow-safe: the offset comes from disk. Level-0 nodes have none (0).
    const uint64_t offset = g.upper_offsets_[node];
    const uint64_t slots = uint64_t{level} * (g.m_ + 1);
    if ((level == 0 && offset != 0) || offset > g.upper_slots_ || slots > g.upper_slots_ - offset) {
      return Damaged(path, "node " + std::to_string(node) + " links outside the pool");
    }
    for (uint32_t l = 0; l <= level; ++l) {
      const uint32_t* slot = g.Slot(static_cast<uint32_t>(node), l);
      const uint32_t cap = l == 0 ? g.m0_ : g.m_;
      if (slot[0] > cap)
        return Damaged(path, "node " + std::to_string(node) + " has too many links");
      for (uint32_t i = 1; i <= slot[0]; ++i) {
        // A link on level l must reach a node that has level l, or its slot would be garbage.
        if (slot[i] >= n || g.levels_[slot[i]] < l) {
          return Damaged(path, "node " + std::to_string(node) + " has a link to no such node");
        }
      }
    }
  }
  return g;
}

}  // namespace nearstore::index

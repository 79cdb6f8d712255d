// The settings of an HNSW graph: the index layer's own type, with its defaults and limits. The
// engine fills it from a collection's IndexOptions (engine/index_settings.h), the graph build
// takes it (hnsw.h), and the MANIFEST records it (storage/manifest.h). That is why this header
// is plain values and includes nothing but <cstdint>: storage, which the index depends on,
// records the settings without depending on the index's code (nothing to link, no cycle).
// The checks of the ranges are the index's too: CheckHnswOptions in hnsw.h.
#pragma once

#include <cstdint>

namespace nearstore::index {

// Limits a graph must respect (checked by CheckHnswOptions and by HnswGraph::View).
inline constexpr uint32_t kHnswMaxM = 256;
inline constexpr uint32_t kHnswMaxLevel = 32;

struct HnswOptions {
  // Links per node on the upper levels; level 0 keeps up to 2 * m (as the paper advises).
  // 2..kHnswMaxM.
  uint32_t m = 16;
  // Candidate list size while linking a new node: higher builds slower and finds better links.
  // m..kMaxEf.
  uint32_t ef_construction = 200;
  // The candidate list of a search that gives none. 1..kMaxEf.
  uint32_t ef_search = 64;
};

}  // namespace nearstore::index

// What sealing and compaction store for the rows of a segment of an hnsw collection: its HNSW
// graph and its codes section, built in one place for every kind of codes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "index/hnsw.h"
#include "nearstore/status.h"

namespace nearstore::index {

struct SegmentIndexSections {
  std::string graph;  // HnswGraph::Encode()
  std::string codes;  // EncodeCodes() of the kind asked for (empty for FloatRows)
};

// The graph of the n rows of `vectors` (built with `threads` threads) and their codes of kind
// `code_kind` (codes.h; < kCodeKinds). The build's candidate searches run on SQ8 codes of the
// rows (a quarter of the bytes to read; the links are chosen on the floats): the segment's
// own codes when they are SQ8, else codes trained for the build alone (binary codes are too
// coarse to build on). InvalidArgument for settings out of range (CheckHnswOptions).
[[nodiscard]] Result<SegmentIndexSections> BuildSegmentIndex(const float* vectors, uint64_t n,
                                                             uint32_t dim, GraphMetric metric,
                                                             const HnswOptions& options,
                                                             int threads, size_t code_kind);

}  // namespace nearstore::index

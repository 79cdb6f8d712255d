// The metric a graph and its codes rank by, and the ranking distance of two float vectors.
//
// Ranking distances are smaller-is-closer: the squared Euclidean distance for kL2, minus the
// inner product for kInnerProduct (cosine on normalised vectors, and dot). Every distance a
// walk measures, exact or estimated on codes, is one of these; the engine turns them into the
// user's distances in one place (engine/distance.h).
#pragma once

#include <cstdint>

#include "simd/distance.h"

namespace nearstore::index {

enum class GraphMetric : uint32_t { kL2 = 0, kInnerProduct = 1 };

// The ranking distance of two float vectors: squared Euclidean, or minus the inner product.
inline float RankingDistance(GraphMetric metric, const float* a, const float* b, uint32_t dim) {
  static const simd::KernelTable& kernels = simd::Kernels();
  return metric == GraphMetric::kL2 ? kernels.l2sq(a, b, dim) : -kernels.dot(a, b, dim);
}

}  // namespace nearstore::index

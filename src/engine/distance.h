// A metric's distances, in one place: how the engine ranks rows, and the distance the user
// sees (see nearstore::Metric).
//
// Every search ranks by a *ranking distance*, smaller is closer (index/graph_metric.h): minus
// the inner product for cosine (stored vectors and queries are unit length) and dot, the squared
// Euclidean distance for l2. The user's distance is one function of it, UserDistanceOf below:
//   cosine 1 + r (= 1 - cos), dot r (= -dot), l2 sqrt(max(0, r)).
// The exact scan, graph walks, re-ranking and filtered scans all convert through it. (The paths
// that measure one row at a time give a row the same distance to the bit; the exact scan's
// batched kernels add up in another order, so its distances may differ in the last bits.)
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "index/graph_metric.h"
#include "nearstore/types.h"

namespace nearstore::engine {

// The graph metric that ranks like `metric`.
inline index::GraphMetric GraphMetricFor(Metric metric) {
  return metric == Metric::kL2 ? index::GraphMetric::kL2 : index::GraphMetric::kInnerProduct;
}

// The user's distance of a ranking distance under metric M: the rule.
template <Metric M>
inline float UserDistanceOf(float ranking) {
  if constexpr (M == Metric::kCosine) {
    return 1.0f + ranking;
  } else if constexpr (M == Metric::kDot) {
    return ranking;
  } else {
    return std::sqrt(std::max(0.0f, ranking));
  }
}

inline float UserDistance(Metric metric, float ranking) {
  switch (metric) {
    case Metric::kCosine:
      return UserDistanceOf<Metric::kCosine>(ranking);
    case Metric::kDot:
      return UserDistanceOf<Metric::kDot>(ranking);
    case Metric::kL2:
      return UserDistanceOf<Metric::kL2>(ranking);
  }
  return ranking;
}

// The user's distance between a query and a row (both as stored: unit length for cosine).
inline float RowDistance(Metric metric, const float* query, const float* row, uint32_t dim) {
  return UserDistance(metric, index::RankingDistance(GraphMetricFor(metric), query, row, dim));
}

namespace internal {
template <Metric M>
void KernelToUser(float* values, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    values[i] = UserDistanceOf<M>(M == Metric::kL2 ? values[i] : -values[i]);
  }
}
}  // namespace internal

// In place: n values of the exact scan's kernels (simd dot_many/dot_block for cosine and dot,
// the inner products; l2sq_many/l2sq_block for l2, the squared distances) into the user's
// distances. One loop per metric, so that each vectorises.
inline void KernelValuesToUserDistances(Metric metric, float* values, size_t n) {
  switch (metric) {
    case Metric::kCosine:
      return internal::KernelToUser<Metric::kCosine>(values, n);
    case Metric::kDot:
      return internal::KernelToUser<Metric::kDot>(values, n);
    case Metric::kL2:
      return internal::KernelToUser<Metric::kL2>(values, n);
  }
}

}  // namespace nearstore::engine

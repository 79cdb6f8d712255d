// FloatRows: the kind of codes of a segment that has none: a walk measures on the float32
// vectors themselves (borrowed from the segment's vector column, so no bytes of its own and
// no section in the file). Its distances are exact: nothing is re-ranked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "index/graph_metric.h"
#include "index/query_distances.h"
#include "nearstore/types.h"

namespace nearstore::index {

class FloatQuery;

class FloatRows {
 public:
  static constexpr std::string_view kName = "none";
  // Never used by a walk (it re-ranks nothing); the factor a collection without quantization
  // has always stored and reported.
  static constexpr uint32_t kDefaultRerank = kDefaultRerankSq8;
  using Query = FloatQuery;

  FloatRows() = default;
  // The n rows of `vectors` (n * dim floats, kept alive by the caller).
  FloatRows(const float* vectors, uint32_t dim) : vectors_(vectors), dim_(dim) {}
  static FloatRows Train(const float* vectors, uint64_t /*n*/, uint32_t dim) {
    return {vectors, dim};
  }
  // No section: the segment's vector column is the data.
  std::string Encode() const { return {}; }

  const float* vectors() const { return vectors_; }
  uint32_t dim() const { return dim_; }
  // No bytes besides the vectors, which are counted as vectors.
  uint64_t memory_bytes() const { return 0; }

 private:
  const float* vectors_ = nullptr;
  uint32_t dim_ = 0;
};

// A query's exact ranking distances to float rows (QueryDistances).
class FloatQuery {
 public:
  static constexpr bool kExact = true;
  // Rows ahead whose first lines are requested (query_distances.h, MeasureAhead).
  static constexpr size_t kPrefetchAhead = 3;

  void Prepare(const FloatRows& rows, const float* query, GraphMetric metric) {
    vectors_ = rows.vectors();
    dim_ = rows.dim();
    query_ = query;
    metric_ = metric;
  }
  float Distance(uint32_t node) const {
    return RankingDistance(metric_, query_, vectors_ + uint64_t{node} * dim_, dim_);
  }
  void Prefetch(uint32_t node) const { PrefetchVector(vectors_, node, dim_); }
  void Distances(const uint32_t* nodes, size_t count, float* out) const {
    MeasureAhead(*this, nodes, count, kPrefetchAhead, out);
  }

 private:
  const float* vectors_ = nullptr;
  uint32_t dim_ = 0;
  const float* query_ = nullptr;
  GraphMetric metric_ = GraphMetric::kL2;
};

}  // namespace nearstore::index

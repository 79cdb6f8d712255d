// Data for the tests of quantized codes (sq8_test.cc, binary_codes_test.cc): clustered rows and
// the exact ranking distance to compare estimates with.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "index/hnsw.h"

namespace nearstore::index {

// n rows of `dim` floats around 16 random centres, unit length when `normalise`.
inline std::vector<float> Clustered(uint64_t n, uint32_t dim, bool normalise, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> centres(16 * dim);
  for (auto& c : centres) c = normal(rng) * 3.0f;
  std::vector<float> out(n * dim);
  for (uint64_t i = 0; i < n; ++i) {
    const uint32_t c = rng() % 16;
    double norm = 0;
    for (uint32_t d = 0; d < dim; ++d) {
      out[i * dim + d] = centres[c * dim + d] + normal(rng);
      norm += double{out[i * dim + d]} * out[i * dim + d];
    }
    if (normalise) {
      for (uint32_t d = 0; d < dim; ++d) out[i * dim + d] /= static_cast<float>(std::sqrt(norm));
    }
  }
  return out;
}

// The exact ranking distance (smaller is closer) of a and b.
inline double Ranking(GraphMetric metric, const float* a, const float* b, uint32_t dim) {
  double acc = 0;
  for (uint32_t d = 0; d < dim; ++d) {
    acc += metric == GraphMetric::kL2 ? (a[d] - b[d]) * double(a[d] - b[d]) : double(a[d]) * b[d];
  }
  return metric == GraphMetric::kL2 ? acc : -acc;
}

// How many of the true 10 nearest rows of `base` (n rows) to `query` are among the 10 best of
// `found` once re-ranked on the floats.
inline size_t TrueTenAfterReranking(GraphMetric metric, const std::vector<float>& base, uint64_t n,
                                    uint32_t dim, const float* query,
                                    const std::vector<Neighbor>& found) {
  std::vector<std::pair<double, uint32_t>> reranked, all;
  for (const Neighbor& nb : found) {
    reranked.push_back(
        {Ranking(metric, query, base.data() + uint64_t{nb.node} * dim, dim), nb.node});
  }
  std::sort(reranked.begin(), reranked.end());
  for (uint32_t i = 0; i < n; ++i) {
    all.push_back({Ranking(metric, query, base.data() + uint64_t{i} * dim, dim), i});
  }
  std::partial_sort(all.begin(), all.begin() + 10, all.end());
  std::set<uint32_t> truth;
  for (size_t i = 0; i < 10; ++i) truth.insert(all[i].second);
  size_t hits = 0;
  for (size_t i = 0; i < std::min<size_t>(10, reranked.size()); ++i) {
    hits += truth.count(reranked[i].second);
  }
  return hits;
}

}  // namespace nearstore::index

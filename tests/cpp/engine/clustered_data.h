// Clustered test data for the index and filter tests: points in Gaussian clusters (the shape
// of real embeddings), queries near them, and the brute-force k nearest in double precision.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "nearstore/nearstore.h"

namespace nearstore::test {

inline constexpr uint32_t kDim = 24;

// Points in `clusters` Gaussian clusters: the shape of real embeddings, where a graph index
// has to cope with dense neighbourhoods (uniform random data is the easy case).
inline std::vector<Point> ClusteredPoints(std::mt19937_64& rng, size_t n, int clusters,
                                          const std::string& prefix = "p") {
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<std::vector<float>> centres(clusters, std::vector<float>(kDim));
  for (auto& c : centres) {
    for (auto& x : c) x = 3.0f * g(rng);
  }
  std::vector<Point> points(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& c = centres[rng() % clusters];
    points[i].id = prefix + std::to_string(i);
    points[i].vector.resize(kDim);
    for (uint32_t d = 0; d < kDim; ++d) points[i].vector[d] = c[d] + g(rng);
  }
  return points;
}

// The user's distance between `a` and `b` under `metric` (see nearstore::Metric), in double.
inline double Distance(Metric metric, const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0, aa = 0, bb = 0, l2 = 0;
  for (size_t d = 0; d < a.size(); ++d) {
    dot += double{a[d]} * b[d];
    aa += double{a[d]} * a[d];
    bb += double{b[d]} * b[d];
    l2 += (double{a[d]} - b[d]) * (double{a[d]} - b[d]);
  }
  return metric == Metric::kL2    ? std::sqrt(l2)
         : metric == Metric::kDot ? -dot
                                  : 1.0 - dot / std::sqrt(aa * bb);
}

// Queries near stored points (the way a real query lands among the data).
inline std::vector<std::vector<float>> QueriesNear(std::mt19937_64& rng,
                                                   const std::vector<Point>& points, int n) {
  std::normal_distribution<float> g(0.0f, 0.5f);
  std::vector<std::vector<float>> queries;
  for (int i = 0; i < n; ++i) {
    auto q = points[rng() % points.size()].vector;
    for (auto& x : q) x += g(rng);
    queries.push_back(std::move(q));
  }
  return queries;
}

// The ids of the k points nearest to `query`, by brute force in double precision (cosine on
// normalised copies).
inline std::vector<std::string> ExactIds(const std::map<std::string, std::vector<float>>& live,
                                         const std::vector<float>& query, Metric metric, size_t k) {
  std::vector<std::pair<double, std::string>> all;
  for (const auto& [id, v] : live) all.emplace_back(Distance(metric, v, query), id);
  const size_t n = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + n, all.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(all[i].second);
  return out;
}

}  // namespace nearstore::test

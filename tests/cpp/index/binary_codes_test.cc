// BinaryCodes: estimates equal to the formula of binary_codes.h computed independently, the
// order they give close to the true order, graph walks on codes + float re-ranking finding the
// true neighbours, and the encoded form (round trip, refusal of damage).
#include "index/binary_codes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <vector>

#include "codes_test_data.h"
#include "common/damaged_bytes.h"
#include "index/hnsw.h"

namespace nearstore::index {
namespace {

using test_support::Aligned;

// The estimate of binary_codes.h in double, from the definition: rows as mean + alpha * signs,
// the query rounded to 16 levels of its own range.
double ReferenceEstimate(GraphMetric metric, const std::vector<float>& base, uint64_t n,
                         uint32_t dim, uint64_t row, const float* query) {
  std::vector<double> mean(dim, 0.0);
  for (uint64_t i = 0; i < n; ++i) {
    for (uint32_t d = 0; d < dim; ++d) mean[d] += base[i * dim + d];
  }
  for (double& m : mean) m = static_cast<float>(m / static_cast<double>(n));
  const float* x = base.data() + row * dim;
  double l1 = 0, l2 = 0, norm2 = 0;
  for (uint32_t d = 0; d < dim; ++d) {
    const double r = x[d] - mean[d];
    l1 += std::abs(r);
    l2 += r * r;
    norm2 += double{x[d]} * x[d];
  }
  const double alpha = l2 / l1;
  const float lo = *std::min_element(query, query + dim);
  const float hi = *std::max_element(query, query + dim);
  const double delta = (hi - lo) / 15.0;
  // q.x^ = q.mu + alpha (sum_d s_d q~_d + sum_d (q~_d - q_d)): the bits see the rounded query
  // q~, while q.mu and the sum of the query's values are exact.
  double dot = 0, query_norm2 = 0;
  for (uint32_t d = 0; d < dim; ++d) {
    const double rounded = lo + delta * std::round((query[d] - lo) / delta);
    const double sign = x[d] - mean[d] >= 0 ? 1.0 : -1.0;
    dot += double{query[d]} * mean[d] + alpha * (sign * rounded + rounded - query[d]);
    query_norm2 += double{query[d]} * query[d];
  }
  return metric == GraphMetric::kL2 ? query_norm2 - 2 * dot + norm2 : -dot;
}

// Rows like a model's embeddings: a clustered 32-d latent point (16 clusters) mapped into `dim`
// dimensions by one random linear map, plus a little noise; unit length when `normalise`.
// Neighbours are then decided by a few directions spread over every dimension, which is what
// one bit per dimension can capture. (Clusters of independent noise in every dimension, as
// Clustered() draws, are not: there the nearest rows are barely nearer than the rest of their
// cluster, and one bit per dimension keeps about 0.6 of the true 10 among the best 100
// estimates. SQ8 is the quantization for such data.)
std::vector<float> EmbeddingLike(uint64_t n, uint32_t dim, bool normalise, uint32_t seed) {
  constexpr uint32_t kLatent = 32;
  const std::vector<float> latent = Clustered(n, kLatent, false, seed);
  std::mt19937 rng(seed + 1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> map(kLatent * dim);
  for (float& w : map) w = normal(rng) / 3.0f;  // Clustered()'s centres are 3x the noise
  std::vector<float> out(n * dim);
  for (uint64_t i = 0; i < n; ++i) {
    double norm = 0;
    for (uint32_t d = 0; d < dim; ++d) {
      float x = 0.1f * normal(rng);
      for (uint32_t l = 0; l < kLatent; ++l) x += latent[i * kLatent + l] * map[l * dim + d];
      out[i * dim + d] = x;
      norm += double{x} * x;
    }
    if (normalise) {
      for (uint32_t d = 0; d < dim; ++d) out[i * dim + d] /= static_cast<float>(std::sqrt(norm));
    }
  }
  return out;
}

class BinaryCodesTest : public ::testing::TestWithParam<GraphMetric> {};

TEST_P(BinaryCodesTest, EstimatesFollowTheDefinition) {
  const GraphMetric metric = GetParam();
  const uint32_t dim = 150;  // three words, the last one partial
  const uint64_t n = 300;
  const auto drawn = Clustered(n + 5, dim, metric == GraphMetric::kInnerProduct, 3);
  const std::vector<float> base(drawn.begin(), drawn.begin() + n * dim);
  const BinaryCodes codes = BinaryCodes::Train(base.data(), n, dim);
  BinaryQuery prepared;
  for (size_t q = 0; q < 5; ++q) {
    const float* query = drawn.data() + (n + q) * dim;
    prepared.Prepare(codes, query, metric);
    for (uint64_t i = 0; i < n; i += 7) {
      const double want = ReferenceEstimate(metric, base, n, dim, i, query);
      EXPECT_NEAR(prepared.Distance(static_cast<uint32_t>(i)), want, 1e-3 * (1 + std::abs(want)))
          << "query " << q << " row " << i;
    }
  }
}

// A walk on binary codes, then float re-ranking of k * 20 candidates: recall@10 >= 0.95 on
// 256-d embedding-like data (what binary codes are meant for). (The best 100 estimates hold
// 0.93 of the true 10 on this data, the best 200 over 0.99: the walk itself loses nothing.)
TEST_P(BinaryCodesTest, GraphWalkOnCodesWithRerankingFindsTheNeighbours) {
  const GraphMetric metric = GetParam();
  const uint32_t dim = 256;
  const uint64_t n = 6000;
  const auto drawn = EmbeddingLike(n + 100, dim, metric == GraphMetric::kInnerProduct, 7);
  const std::vector<float> base(drawn.begin(), drawn.begin() + n * dim);
  const std::vector<float> queries(drawn.begin() + n * dim, drawn.end());
  auto g = HnswGraph::Build(base.data(), n, dim, metric, {.m = 12, .ef_construction = 100}, 2);
  ASSERT_TRUE(g.ok());
  const BinaryCodes codes = BinaryCodes::Train(base.data(), n, dim);
  BinaryQuery prepared;
  SearchScratch scratch;
  std::vector<Neighbor> found;
  size_t hits = 0;
  for (size_t q = 0; q < 100; ++q) {
    const float* query = queries.data() + q * dim;
    prepared.Prepare(codes, query, metric);
    g->Search(prepared, 200, 200, nullptr, &scratch, &found);
    ASSERT_EQ(found.size(), 200u);
    ASSERT_TRUE(std::is_sorted(found.begin(), found.end(), [](const auto& a, const auto& b) {
      return a.distance < b.distance;
    }));
    hits += TrueTenAfterReranking(metric, base, n, dim, query, found);
  }
  EXPECT_GE(hits / 1000.0, 0.95);
}

INSTANTIATE_TEST_SUITE_P(Metrics, BinaryCodesTest,
                         ::testing::Values(GraphMetric::kL2, GraphMetric::kInnerProduct),
                         [](const auto& param_info) {
                           return std::string(param_info.param == GraphMetric::kL2 ? "l2" : "ip");
                         });

TEST(BinaryCodesFormatTest, EncodedCodesViewIdenticallyAndDamageIsRefused) {
  const uint32_t dim = 70;
  const auto base = Clustered(300, dim, false, 9);
  const BinaryCodes codes = BinaryCodes::Train(base.data(), 300, dim);
  const std::string bytes = codes.Encode();
  EXPECT_TRUE(BinaryCodes::Holds(bytes));
  const Aligned aligned(bytes);
  const std::string_view view = aligned.view();
  auto viewed = BinaryCodes::View(view, 300, dim, "seg");
  ASSERT_TRUE(viewed.ok()) << viewed.status().ToString();
  EXPECT_EQ(viewed->memory_bytes(), codes.memory_bytes());
  EXPECT_EQ(codes.memory_bytes(), 300u * 8 * (2 + 2) + 70 * 4);  // records and mean
  for (uint32_t i = 0; i < 300; ++i) {
    ASSERT_EQ(std::memcmp(viewed->record(i), codes.record(i), 32), 0);
  }
  auto refused = [&](std::string_view b, uint64_t n, uint32_t d, const char* what) {
    auto r = BinaryCodes::View(b, n, d, "seg");
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_NE(r.status().message().find("seg"), std::string::npos);
  };
  refused(view.substr(0, 10), 300, dim, "cut header");
  refused(view.substr(0, view.size() - 8), 300, dim, "cut records");
  refused(view, 301, dim, "other row count");
  refused(view, 300, dim + 1, "other dimension");
  const size_t records = bytes.size() - 300 * 32;
  auto damaged = [&](size_t byte, auto change, const char* what) {
    Aligned bad = aligned;
    change(bad.data() + byte);
    refused(bad.view(), 300, dim, what);
  };
  damaged(
      0, [](char* p) { *p ^= 1; }, "magic");
  damaged(
      32 + 4 * 5, [](char* p) { *reinterpret_cast<float*>(p) = NAN; }, "NaN mean");
  damaged(
      records + 32 * 4, [](char* p) { *reinterpret_cast<float*>(p) = INFINITY; }, "scale");
  damaged(
      records + 32 * 4 + 4, [](char* p) { ++*reinterpret_cast<uint32_t*>(p); }, "bit count");
  // Row 4's second word holds dimensions 64..69: bit 70 lies past the dimension.
  damaged(
      records + 32 * 4 + 24, [](char* p) { *reinterpret_cast<uint64_t*>(p) |= 1u << 6; },
      "bit past the dimension");
  EXPECT_FALSE(BinaryCodes::Holds(std::string(8, '\0')));
}

TEST(BinaryCodesFormatTest, RowsAtTheMeanAndEmptySetsWork) {
  std::vector<float> same(50 * 4, 2.5f);
  const BinaryCodes codes = BinaryCodes::Train(same.data(), 50, 4);
  BinaryQuery q;
  const float query[4] = {1, 0, 0, 1};
  q.Prepare(codes, query, GraphMetric::kL2);
  // Every row is the mean: the estimate is the true distance.
  EXPECT_NEAR(q.Distance(7), 1.5 * 1.5 * 2 + 2.5 * 2.5 * 2, 1e-3);
  const BinaryCodes empty = BinaryCodes::Train(nullptr, 0, 4);
  EXPECT_EQ(empty.size(), 0u);
}

}  // namespace
}  // namespace nearstore::index

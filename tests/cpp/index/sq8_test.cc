// Sq8Codes: estimates close to the true distances, the order they give close to the true order,
// graph walks on codes + float re-ranking finding the true neighbours, and the encoded form
// (round trip, refusal of damage).
#include "index/sq8.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <set>
#include <vector>

#include "codes_test_data.h"
#include "common/damaged_bytes.h"
#include "index/hnsw.h"

namespace nearstore::index {
namespace {

using test_support::Aligned;

class Sq8Test : public ::testing::TestWithParam<GraphMetric> {};

// Each estimate is the distance to the decoded row up to the query's rounding: within a small
// fraction of the spread of distances.
TEST_P(Sq8Test, EstimatesTrackTheTrueDistances) {
  const GraphMetric metric = GetParam();
  const uint32_t dim = 37;  // not a multiple of any vector width
  const auto drawn = Clustered(2020, dim, metric == GraphMetric::kInnerProduct, 3);
  const std::vector<float> base(drawn.begin(), drawn.begin() + 2000 * dim);
  const std::vector<float> queries(drawn.begin() + 2000 * dim, drawn.end());
  const Sq8Codes codes = Sq8Codes::Train(base.data(), 2000, dim);
  Sq8Query prepared;
  for (size_t q = 0; q < 20; ++q) {
    const float* query = queries.data() + q * dim;
    prepared.Prepare(codes, query, metric);
    double lo = 1e30, hi = -1e30, worst = 0;
    for (uint32_t i = 0; i < 2000; ++i) {
      const double truth = Ranking(metric, query, base.data() + uint64_t{i} * dim, dim);
      lo = std::min(lo, truth);
      hi = std::max(hi, truth);
      worst = std::max(worst, std::abs(prepared.Distance(i) - truth));
    }
    EXPECT_LT(worst, 0.02 * (hi - lo)) << "query " << q;
  }
}

// A walk on codes, then float re-ranking of k * 4 candidates: recall@10 >= 0.95 at ef 64.
TEST_P(Sq8Test, GraphWalkOnCodesWithRerankingFindsTheNeighbours) {
  const GraphMetric metric = GetParam();
  const uint32_t dim = 48;
  const uint64_t n = 8000;
  const bool unit = metric == GraphMetric::kInnerProduct;
  // Queries from the same clusters as the rows (the last 100 drawn), as real queries are.
  const auto drawn = Clustered(n + 100, dim, unit, 7);
  const std::vector<float> base(drawn.begin(), drawn.begin() + n * dim);
  const std::vector<float> queries(drawn.begin() + n * dim, drawn.end());
  auto g = HnswGraph::Build(base.data(), n, dim, metric, {.m = 12, .ef_construction = 100}, 2);
  ASSERT_TRUE(g.ok());
  const Sq8Codes codes = Sq8Codes::Train(base.data(), n, dim);
  Sq8Query prepared;
  SearchScratch scratch;
  std::vector<Neighbor> found;
  size_t hits = 0;
  for (size_t q = 0; q < 100; ++q) {
    const float* query = queries.data() + q * dim;
    prepared.Prepare(codes, query, metric);
    g->Search(prepared, 40, 64, nullptr, &scratch, &found);
    hits += TrueTenAfterReranking(metric, base, n, dim, query, found);
  }
  EXPECT_GE(hits / 1000.0, 0.95);
}

INSTANTIATE_TEST_SUITE_P(Metrics, Sq8Test,
                         ::testing::Values(GraphMetric::kL2, GraphMetric::kInnerProduct),
                         [](const auto& param_info) {
                           return std::string(param_info.param == GraphMetric::kL2 ? "l2" : "ip");
                         });

TEST(Sq8CodesTest, EncodedCodesViewIdenticallyAndDamageIsRefused) {
  const uint32_t dim = 20;
  const auto base = Clustered(300, dim, false, 9);
  const Sq8Codes codes = Sq8Codes::Train(base.data(), 300, dim);
  const std::string bytes = codes.Encode();
  const Aligned aligned(bytes);
  const std::string_view view = aligned.view();
  auto viewed = Sq8Codes::View(view, 300, dim, "seg");
  ASSERT_TRUE(viewed.ok()) << viewed.status().ToString();
  EXPECT_EQ(viewed->memory_bytes(), codes.memory_bytes());
  for (uint32_t i = 0; i < 300; ++i) {
    ASSERT_EQ(std::memcmp(viewed->codes(i), codes.codes(i), dim), 0);
    ASSERT_EQ(viewed->norm2(i), codes.norm2(i));
  }
  auto refused = [&](std::string_view b, uint64_t n, uint32_t d, const char* what) {
    auto r = Sq8Codes::View(b, n, d, "seg");
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_NE(r.status().message().find("seg"), std::string::npos);
  };
  refused(view.substr(0, 10), 300, dim, "cut header");
  refused(view.substr(0, view.size() - 8), 300, dim, "cut codes");
  refused(view, 301, dim, "other row count");
  refused(view, 300, dim + 1, "other dimension");
  Aligned bad = aligned;
  reinterpret_cast<float*>(bad.data() + 32)[3] = NAN;  // a minimum
  refused(bad.view(), 300, dim, "NaN range");
  bad = aligned;
  bad.data()[0] ^= 1;
  refused(bad.view(), 300, dim, "magic");
}

TEST(Sq8CodesTest, ConstantDimensionsAndEmptySetsWork) {
  std::vector<float> same(50 * 4, 2.5f);
  const Sq8Codes codes = Sq8Codes::Train(same.data(), 50, 4);
  Sq8Query q;
  const float query[4] = {1, 0, 0, 1};
  q.Prepare(codes, query, GraphMetric::kL2);
  EXPECT_NEAR(q.Distance(7), 1.5 * 1.5 * 2 + 2.5 * 2.5 * 2, 1e-3);
  const Sq8Codes empty = Sq8Codes::Train(nullptr, 0, 4);
  EXPECT_EQ(empty.size(), 0u);
}

}  // namespace
}  // namespace nearstore::index

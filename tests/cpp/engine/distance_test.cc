// engine/distance.h: the one conversion from ranking distances to the user's distances. Checked
// against the definition of each metric (nearstore::Metric) in double, the exact scan's bulk
// conversion against the single one bit for bit, and the search paths that measure one row at
// a time (graph walk on floats, re-ranking after a walk on codes, the filtered exact scan)
// against each other bit for bit on the same rows.
#include "engine/distance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include "clustered_data.h"
#include "test_util.h"

namespace nearstore::test {
namespace {

uint32_t Bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}

class DistanceTest : public ::testing::TestWithParam<Metric> {};

TEST_P(DistanceTest, UserDistanceFollowsTheMetricsDefinition) {
  const Metric metric = GetParam();
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<float> u(-3.0f, 3.0f);
  std::vector<float> kernel(1000);
  for (auto& x : kernel) x = u(rng);
  if (metric == Metric::kL2) kernel[0] = -1e-6f;  // rounding can make a squared distance < 0
  std::vector<float> bulk = kernel;
  engine::KernelValuesToUserDistances(metric, bulk.data(), bulk.size());
  for (size_t i = 0; i < kernel.size(); ++i) {
    // The kernel gives the inner product (cosine, dot) or the squared distance (l2).
    const double k = kernel[i];
    const double want = metric == Metric::kCosine ? 1.0 - k
                        : metric == Metric::kDot  ? -k
                                                  : std::sqrt(std::max(0.0, k));
    const float ranking = metric == Metric::kL2 ? kernel[i] : -kernel[i];
    const float one = engine::UserDistance(metric, ranking);
    EXPECT_NEAR(one, want, 1e-6 * (1 + std::abs(want))) << "value " << k;
    EXPECT_EQ(Bits(bulk[i]), Bits(one)) << "value " << k;
  }
}

// One collection per path over the same points (in memory, one sealed segment each): a walk on
// the floats (ef past the row count, so it reaches every row), a walk on SQ8 codes (its hits
// re-ranked on the floats), and a filtered search planned as an exact scan of the candidate
// rows. Each path's distance of a row must be the same float.
TEST_P(DistanceTest, SearchPathsGiveTheSameDistanceForTheSameRow) {
  const Metric metric = GetParam();
  std::mt19937_64 rng(11);
  auto points = ClusteredPoints(rng, 600, 6);
  for (size_t i = 0; i < points.size(); ++i) {
    points[i].metadata = "{\"even\": " + std::string(i % 2 == 0 ? "true" : "false") + "}";
  }
  const auto queries = QueriesNear(rng, points, 20);
  DatabaseOptions options;
  options.graph_min_rows = 100;
  auto db = Database::OpenInMemory(options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto make = [&](const std::string& name, Quantization quantization) {
    IndexOptions index;
    index.kind = IndexKind::kHnsw;
    index.quantization = quantization;
    auto c = (*db)->CreateCollection(name, kDim, metric, index);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_TRUE((*c)->Upsert(points).ok());
    EXPECT_TRUE((*c)->CreatePayloadIndex("even", PayloadIndexKind::kBool).ok());
    EXPECT_TRUE((*c)->Flush().ok());
    return *c;
  };
  const auto floats = make("floats", Quantization::kNone);
  const auto sq8 = make("sq8", Quantization::kSq8);
  for (const auto& q : queries) {
    SearchOptions walk;
    walk.k = 50;
    walk.ef = 1000;
    walk.with_metadata = false;
    SearchOptions filtered = walk;
    filtered.filter = "{\"even\": true}";  // half the rows: the walk plan; the planner's choice
    std::map<std::string, uint32_t> seen;  // id -> distance bits, from any path
    auto check = [&](const std::vector<Hit>& hits, const char* path) {
      ASSERT_FALSE(hits.empty()) << path;
      for (const Hit& h : hits) {
        auto [it, fresh] = seen.emplace(h.id, Bits(h.distance));
        EXPECT_EQ(it->second, Bits(h.distance)) << path << " gives another distance for " << h.id;
      }
    };
    check(*floats->Search(q, walk), "walk on floats");
    check(*sq8->Search(q, walk), "walk on sq8, re-ranked");
    check(*floats->Search(q, filtered), "filtered walk on floats");
    check(*sq8->Search(q, filtered), "filtered walk on sq8, re-ranked");
    SearchOptions few = walk;
    few.filter = "{\"$id\": {\"$in\": [\"p1\", \"p2\", \"p3\", \"p5\", \"p8\"]}}";  // exact plan
    check(*floats->Search(q, few), "filtered exact scan");
    check(*sq8->Search(q, few), "filtered exact scan on sq8, re-ranked");
  }
}

INSTANTIATE_TEST_SUITE_P(Metrics, DistanceTest,
                         ::testing::Values(Metric::kCosine, Metric::kL2, Metric::kDot),
                         [](const auto& param_info) {
                           return std::string(MetricName(param_info.param));
                         });

}  // namespace
}  // namespace nearstore::test

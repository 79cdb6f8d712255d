// HnswGraph against brute force: recall@10 on clustered data for both graph metrics, searches
// with refused (deleted) nodes, the structure of the built graph, determinism, and the encoded
// form (round trip, and refusal of every kind of damage).
#include "index/hnsw.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <vector>

#include "common/damaged_bytes.h"
#include "index/sq8.h"

namespace nearstore::index {
namespace {

using test_support::Aligned;

struct Data {
  uint32_t dim;
  uint64_t n;
  std::vector<float> base;
  std::vector<float> queries;
};

// Gaussian clusters (so the graph has structure to find), normalised for the inner product.
Data Clustered(uint64_t n, uint32_t dim, size_t nq, GraphMetric metric, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int clusters = 20;
  std::vector<float> centres(clusters * dim);
  for (auto& c : centres) c = normal(rng) * 3.0f;
  auto draw = [&](uint64_t count) {
    std::vector<float> out(count * dim);
    for (uint64_t i = 0; i < count; ++i) {
      const int c = static_cast<int>(rng() % clusters);
      float norm = 0;
      for (uint32_t d = 0; d < dim; ++d) {
        out[i * dim + d] = centres[c * dim + d] + normal(rng);
        norm += out[i * dim + d] * out[i * dim + d];
      }
      if (metric == GraphMetric::kInnerProduct) {
        for (uint32_t d = 0; d < dim; ++d) out[i * dim + d] /= std::sqrt(norm);
      }
    }
    return out;
  };
  Data data{dim, n, draw(n), draw(nq)};
  return data;
}

float Ranking(GraphMetric metric, const float* a, const float* b, uint32_t dim) {
  double acc = 0;
  for (uint32_t d = 0; d < dim; ++d) {
    acc += metric == GraphMetric::kL2 ? (a[d] - b[d]) * double(a[d] - b[d]) : double(a[d]) * b[d];
  }
  return static_cast<float>(metric == GraphMetric::kL2 ? acc : -acc);
}

// The k nearest accepted rows by brute force.
std::vector<uint32_t> Exact(const Data& data, const float* q, size_t k, GraphMetric metric,
                            const std::vector<bool>* accepted = nullptr) {
  std::vector<std::pair<float, uint32_t>> all;
  for (uint32_t i = 0; i < data.n; ++i) {
    if (accepted && !(*accepted)[i]) continue;
    all.push_back({Ranking(metric, q, data.base.data() + uint64_t{i} * data.dim, data.dim), i});
  }
  const size_t take = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + take, all.end());
  std::vector<uint32_t> out;
  for (size_t i = 0; i < take; ++i) out.push_back(all[i].second);
  return out;
}

double Recall(const Data& data, const HnswGraph& g, GraphMetric metric, size_t k, size_t ef,
              const std::vector<bool>* accepted = nullptr) {
  SearchScratch scratch;
  std::vector<Neighbor> found;
  AcceptFn accept = [&](uint32_t node) { return (*accepted)[node]; };
  size_t hits = 0, wanted = 0;
  const size_t nq = data.queries.size() / data.dim;
  for (size_t q = 0; q < nq; ++q) {
    const float* query = data.queries.data() + q * data.dim;
    g.Search(data.base.data(), query, k, ef, accepted ? &accept : nullptr, &scratch, &found);
    const auto truth = Exact(data, query, k, metric, accepted);
    EXPECT_EQ(found.size(), truth.size()) << "query " << q;
    for (size_t i = 1; i < found.size(); ++i) {
      EXPECT_LE(found[i - 1].distance, found[i].distance) << "results not sorted";
    }
    std::set<uint32_t> want(truth.begin(), truth.end());
    for (const Neighbor& nb : found) {
      if (accepted) {
        EXPECT_TRUE((*accepted)[nb.node]) << "returned refused node " << nb.node;
      }
      hits += want.count(nb.node);
    }
    wanted += truth.size();
  }
  return static_cast<double>(hits) / static_cast<double>(wanted);
}

class HnswRecallTest : public ::testing::TestWithParam<GraphMetric> {};

TEST_P(HnswRecallTest, FindsTheTrueNeighboursAtModestEf) {
  const GraphMetric metric = GetParam();
  const Data data = Clustered(8000, 48, 100, metric, 7);
  auto g = HnswGraph::Build(data.base.data(), data.n, data.dim, metric,
                            {.m = 12, .ef_construction = 100}, 2);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  // The floor the issue sets: 0.95 at a stated ef; the curve must rise with ef.
  const double at16 = Recall(data, *g, metric, 10, 16);
  const double at64 = Recall(data, *g, metric, 10, 64);
  const double at256 = Recall(data, *g, metric, 10, 256);
  std::printf("recall@10 at ef 16 / 64 / 256: %.4f / %.4f / %.4f\n", at16, at64, at256);
  EXPECT_GE(at16, 0.85);
  EXPECT_GE(at64, 0.95);
  EXPECT_GE(at256, 0.99);
  EXPECT_LE(at16, at256);
}

TEST_P(HnswRecallTest, RefusedNodesRouteButAreNeverReturned) {
  const GraphMetric metric = GetParam();
  const Data data = Clustered(5000, 16, 60, metric, 11);
  auto g = HnswGraph::Build(data.base.data(), data.n, data.dim, metric,
                            {.m = 12, .ef_construction = 100}, 2);
  ASSERT_TRUE(g.ok());
  std::mt19937 rng(3);
  for (double kept : {0.5, 0.1}) {  // after heavy deletes the graph must still find the survivors
    std::vector<bool> accepted(data.n);
    for (uint64_t i = 0; i < data.n; ++i) accepted[i] = (rng() % 1000) < kept * 1000;
    EXPECT_GE(Recall(data, *g, metric, 10, 64, &accepted), 0.95) << "kept " << kept;
  }
  // Nothing accepted: the search explores the whole graph and returns nothing.
  SearchScratch scratch;
  std::vector<Neighbor> found;
  AcceptFn refuse_all = [](uint32_t) { return false; };
  g->Search(data.base.data(), data.queries.data(), 10, 64, &refuse_all, &scratch, &found);
  EXPECT_TRUE(found.empty());
}

INSTANTIATE_TEST_SUITE_P(Metrics, HnswRecallTest,
                         ::testing::Values(GraphMetric::kL2, GraphMetric::kInnerProduct));

TEST(HnswGraphTest, LinksAreBoundedDistinctAndNeverSelf) {
  const Data data = Clustered(3000, 8, 0, GraphMetric::kL2, 5);
  auto g = HnswGraph::Build(data.base.data(), data.n, data.dim, GraphMetric::kL2,
                            {.m = 8, .ef_construction = 64}, 2);
  ASSERT_TRUE(g.ok());
  uint64_t upper_nodes = 0;
  for (uint32_t node = 0; node < data.n; ++node) {
    upper_nodes += g->Level(node) > 0;
    for (uint32_t level = 0; level <= g->Level(node); ++level) {
      auto links = g->Links(node, level);
      EXPECT_LE(links.size(), level == 0 ? 16u : 8u);
      std::set<uint32_t> distinct(links.begin(), links.end());
      EXPECT_EQ(distinct.size(), links.size()) << "node " << node;
      EXPECT_EQ(distinct.count(node), 0u) << "node " << node << " links to itself";
      for (uint32_t to : links) EXPECT_GE(g->Level(to), level);
    }
    EXPECT_FALSE(g->Links(node, 0).empty()) << "node " << node << " unreachable from its links";
  }
  // About 1/m of the nodes reach level 1.
  EXPECT_GT(upper_nodes, data.n / 8 / 2);
  EXPECT_LT(upper_nodes, data.n / 8 * 2);
  EXPECT_EQ(g->Level(g->entry_point()), g->max_level());
}

// Nodes of level 0 that a walk from the entry point cannot reach (through every level's links).
uint64_t Unreachable(const HnswGraph& g) {
  std::vector<bool> seen(g.size(), false);
  std::vector<uint32_t> stack{g.entry_point()};
  seen[g.entry_point()] = true;
  uint64_t reached = 1;
  while (!stack.empty()) {
    const uint32_t node = stack.back();
    stack.pop_back();
    for (uint32_t level = 0; level <= g.Level(node); ++level) {
      for (uint32_t to : g.Links(node, level)) {
        if (!seen[to]) {
          seen[to] = true;
          ++reached;
          stack.push_back(to);
        }
      }
    }
  }
  return g.size() - reached;
}

TEST(HnswGraphTest, ParallelBuildsStrandNoMoreNodesThanSerialOnes) {
  // Many threads on a small graph with few links, where one insertion often routes through
  // another's. Pruning alone strands a few nodes in any HNSW (here 2-4 of 3,000 with one
  // thread); an insertion whose links are overwritten by a racing one strands more (11-18 per
  // build before the two-phase insert): the parallel count must stay at the serial one's.
  const Data data = Clustered(3000, 8, 0, GraphMetric::kL2, 21);
  for (uint64_t trial = 0; trial < 4; ++trial) {
    const HnswOptions options{.m = 4, .ef_construction = 32};
    auto serial = HnswGraph::Build(data.base.data(), data.n, data.dim, GraphMetric::kL2, options, 1,
                                   nullptr, trial);
    auto parallel = HnswGraph::Build(data.base.data(), data.n, data.dim, GraphMetric::kL2, options,
                                     8, nullptr, trial);
    ASSERT_TRUE(serial.ok() && parallel.ok());
    EXPECT_LE(Unreachable(*parallel), Unreachable(*serial) + 3) << "trial " << trial;
  }
}

TEST(HnswGraphTest, OneThreadBuildsAreIdentical) {
  const Data data = Clustered(1500, 12, 0, GraphMetric::kInnerProduct, 9);
  auto a = HnswGraph::Build(data.base.data(), data.n, data.dim, GraphMetric::kInnerProduct, {}, 1);
  auto b = HnswGraph::Build(data.base.data(), data.n, data.dim, GraphMetric::kInnerProduct, {}, 1);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->Encode(), b->Encode());
}

TEST(HnswGraphTest, TinyGraphsReturnEveryNode) {
  for (uint64_t n : {0, 1, 2, 7}) {
    const Data data = Clustered(n, 4, 3, GraphMetric::kL2, 1);
    auto g = HnswGraph::Build(data.base.data(), n, 4, GraphMetric::kL2, {}, 2);
    ASSERT_TRUE(g.ok());
    SearchScratch scratch;
    std::vector<Neighbor> found;
    g->Search(data.base.data(), data.queries.data(), 10, 10, nullptr, &scratch, &found);
    EXPECT_EQ(found.size(), n);
    std::vector<uint32_t> got;
    for (auto& f : found) got.push_back(f.node);
    EXPECT_EQ(got, Exact(data, data.queries.data(), 10, GraphMetric::kL2));
  }
}

TEST(HnswGraphTest, RefusesParametersOutOfRange) {
  float v[4] = {0, 0, 0, 0};
  EXPECT_EQ(HnswGraph::Build(v, 1, 4, GraphMetric::kL2, {.m = 1}, 1).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(HnswGraph::Build(v, 1, 4, GraphMetric::kL2, {.m = 1000}, 1).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(HnswGraph::Build(v, 1, 4, GraphMetric::kL2, {.ef_construction = 0}, 1).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(HnswGraphTest, EncodedGraphSearchesIdentically) {
  const Data data = Clustered(2000, 16, 20, GraphMetric::kL2, 13);
  auto built = HnswGraph::Build(data.base.data(), data.n, data.dim, GraphMetric::kL2, {}, 2);
  ASSERT_TRUE(built.ok());
  Aligned bytes(built->Encode());
  auto viewed = HnswGraph::View(bytes.view(), data.n, data.dim, GraphMetric::kL2, "g");
  ASSERT_TRUE(viewed.ok()) << viewed.status().ToString();
  EXPECT_EQ(viewed->Encode(), built->Encode());
  SearchScratch scratch;
  std::vector<Neighbor> a, b;
  for (size_t q = 0; q < 20; ++q) {
    const float* query = data.queries.data() + q * data.dim;
    built->Search(data.base.data(), query, 10, 40, nullptr, &scratch, &a);
    viewed->Search(data.base.data(), query, 10, 40, nullptr, &scratch, &b);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].node, b[i].node);
  }
  EXPECT_EQ(viewed->memory_bytes(), built->memory_bytes());
}

TEST(HnswGraphTest, ViewRefusesEveryDamageItCanSee) {
  const Data data = Clustered(300, 4, 0, GraphMetric::kL2, 17);
  auto built = HnswGraph::Build(data.base.data(), data.n, data.dim, GraphMetric::kL2, {.m = 4}, 1);
  ASSERT_TRUE(built.ok());
  const std::string good = built->Encode();
  auto corrupt = [&](const std::string& bytes, uint64_t n = 300, uint32_t dim = 4) {
    Aligned a(bytes);
    auto r = HnswGraph::View(a.view(), n, dim, GraphMetric::kL2, "seg-7.hnsw");
    if (r.ok()) return false;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_NE(r.status().message().find("seg-7.hnsw"), std::string::npos) << r.status().ToString();
    return true;
  };
  EXPECT_FALSE(corrupt(good));
  EXPECT_TRUE(corrupt(good, 301));                        // covers other rows
  EXPECT_TRUE(corrupt(good, 300, 5));                     // another dimension
  EXPECT_TRUE(corrupt(good.substr(0, good.size() - 8)));  // cut short
  EXPECT_TRUE(corrupt(good.substr(0, 20)));               // header cut short
  EXPECT_TRUE(corrupt(good + std::string(8, '\0')));      // trailing bytes
  // Every single link overwritten with an id past the end, or a count past the capacity, is
  // refused: a damaged graph can never make a search read outside its arrays.
  const size_t links0 = 48 + ((300 + 7) & ~size_t{7});
  for (uint32_t node : {0u, 1u, 150u, 299u}) {
    std::string bad = good;
    const size_t slot = links0 + size_t{node} * (8 + 1) * 4;
    uint32_t count;
    std::memcpy(&count, bad.data() + slot, 4);
    ASSERT_GT(count, 0u);
    const uint32_t past_end = 300;
    std::memcpy(bad.data() + slot + 4, &past_end, 4);
    EXPECT_TRUE(corrupt(bad)) << "link of node " << node;
    bad = good;
    const uint32_t too_many = 9;
    std::memcpy(bad.data() + slot, &too_many, 4);
    EXPECT_TRUE(corrupt(bad)) << "count of node " << node;
  }
  std::string bad_magic = good;
  bad_magic[0] ^= 1;
  EXPECT_TRUE(corrupt(bad_magic));
  EXPECT_TRUE(corrupt(good, uint64_t{1} << 32));  // node ids are 32-bit

  // Levels and the upper pool: a level above the top, the entry point off the top level, an
  // upper-level offset past the pool or wrapping around 2^64, an offset on a level-0 node.
  const size_t levels = 48;
  const size_t offsets = links0 + ((size_t{300} * 9 * 4 + 7) & ~size_t{7});
  uint32_t top, entry;
  std::memcpy(&top, good.data() + 24, 4);
  std::memcpy(&entry, good.data() + 28, 4);
  uint32_t low = 0, high = 0;  // a level-0 node, and a node with upper levels
  for (uint32_t i = 0; i < 300; ++i) {
    if (good[levels + i] == 0) low = i;
    if (good[levels + i] > 0) high = i;
  }
  ASSERT_GT(good[levels + high], 0);
  std::string bad = good;
  bad[levels + low] = static_cast<char>(top + 1);
  EXPECT_TRUE(corrupt(bad)) << "level above the top";
  bad = good;
  bad[levels + entry] = 0;
  EXPECT_TRUE(corrupt(bad)) << "entry point off the top level";
  for (uint64_t offset : {uint64_t{1} << 40, ~uint64_t{0} - 7}) {
    bad = good;
    std::memcpy(bad.data() + offsets + size_t{high} * 8, &offset, 8);
    EXPECT_TRUE(corrupt(bad)) << "upper offset " << offset;
  }
  bad = good;
  const uint64_t one = 1;
  std::memcpy(bad.data() + offsets + size_t{low} * 8, &one, 8);
  EXPECT_TRUE(corrupt(bad)) << "offset on a level-0 node";
}

TEST(HnswGraphTest, EmptyGraphRoundTrips) {
  auto built = HnswGraph::Build(nullptr, 0, 4, GraphMetric::kInnerProduct, {}, 2);
  ASSERT_TRUE(built.ok());
  Aligned bytes(built->Encode());
  auto viewed = HnswGraph::View(bytes.view(), 0, 4, GraphMetric::kInnerProduct, "g");
  ASSERT_TRUE(viewed.ok()) << viewed.status().ToString();
  EXPECT_EQ(viewed->size(), 0u);
}

TEST(HnswGraphTest, ARefusingFilterStillFindsTheFewItAccepts) {
  // Three accepted nodes far from the query: the walk must widen until it reaches all three.
  const Data data = Clustered(4000, 8, 1, GraphMetric::kL2, 23);
  auto g = HnswGraph::Build(data.base.data(), data.n, data.dim, GraphMetric::kL2, {.m = 8}, 2);
  ASSERT_TRUE(g.ok());
  const auto far = Exact(data, data.queries.data(), data.n, GraphMetric::kL2);
  const std::set<uint32_t> wanted{far[far.size() - 1], far[far.size() - 2], far[far.size() - 3]};
  AcceptFn accept = [&](uint32_t node) { return wanted.count(node) > 0; };
  SearchScratch scratch;
  std::vector<Neighbor> found;
  g->Search(data.base.data(), data.queries.data(), 10, 16, &accept, &scratch, &found);
  std::set<uint32_t> got;
  for (const auto& f : found) got.insert(f.node);
  EXPECT_EQ(got, wanted);
}

// A build whose candidate searches run on SQ8 codes (links still chosen on the floats) keeps
// the recall of a float build, and strands no more nodes.
TEST(HnswGraphTest, BuildOnCodesKeepsRecall) {
  for (GraphMetric metric : {GraphMetric::kL2, GraphMetric::kInnerProduct}) {
    const Data data = Clustered(8000, 48, 100, metric, 7);
    const Sq8Codes codes = Sq8Codes::Train(data.base.data(), data.n, data.dim);
    auto g = HnswGraph::Build(data.base.data(), data.n, data.dim, metric,
                              {.m = 12, .ef_construction = 100}, 2, &codes);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    const double at16 = Recall(data, *g, metric, 10, 16);
    const double at64 = Recall(data, *g, metric, 10, 64);
    std::printf("built on codes: recall@10 at ef 16 / 64: %.4f / %.4f\n", at16, at64);
    EXPECT_GE(at16, 0.85);
    EXPECT_GE(at64, 0.95);
    // Pruning strands a few nodes in any HNSW: no more than a float build does.
    auto on_floats = HnswGraph::Build(data.base.data(), data.n, data.dim, metric,
                                      {.m = 12, .ef_construction = 100}, 2);
    ASSERT_TRUE(on_floats.ok());
    EXPECT_LE(Unreachable(*g), Unreachable(*on_floats) + 3);
  }
  // Codes of other rows are refused.
  const Data data = Clustered(100, 8, 0, GraphMetric::kL2, 1);
  const Sq8Codes other = Sq8Codes::Train(data.base.data(), 50, 8);
  auto g = HnswGraph::Build(data.base.data(), data.n, 8, GraphMetric::kL2, {}, 1, &other);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nearstore::index

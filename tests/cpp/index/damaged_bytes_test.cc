// Random damage to the encoded graph and codes (a fuzz loop run in every test pass, and under
// AddressSanitizer in CI): whatever the bytes, View either refuses them with Corruption or
// gives a structure that searches without reading out of bounds.
#include "common/damaged_bytes.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "codes_test_data.h"
#include "index/binary_codes.h"
#include "index/hnsw.h"
#include "index/sq8.h"

namespace nearstore::index {
namespace {

constexpr uint32_t kDim = 40;  // binary rows of one full and one partial word
constexpr uint64_t kRows = 300;
constexpr int kRounds = 20000;

using test_support::Aligned;

std::string Damage(const std::string& bytes, std::mt19937_64& rng) {
  return test_support::Damage(bytes, rng, kRows);
}

class DamagedBytesTest : public ::testing::Test {
 public:
  const std::vector<float> base_ = Clustered(kRows + 1, kDim, false, 31);
  const float* query_ = base_.data() + kRows * kDim;
  std::mt19937_64 rng_{20261202};
  SearchScratch scratch_;
  std::vector<Neighbor> found_;
  int viewed_ = 0;  // damaged copies accepted (and searched)
};

TEST_F(DamagedBytesTest, GraphIsRefusedOrSearchable) {
  auto built = HnswGraph::Build(base_.data(), kRows, kDim, GraphMetric::kL2, {.m = 4}, 1);
  ASSERT_TRUE(built.ok());
  const std::string bytes = built->Encode();
  for (int round = 0; round < kRounds; ++round) {
    const Aligned damaged(Damage(bytes, rng_));
    auto g = HnswGraph::View(damaged.view(), kRows, kDim, GraphMetric::kL2, "g");
    if (!g.ok()) {
      ASSERT_EQ(g.status().code(), StatusCode::kCorruption) << "round " << round;
      continue;
    }
    ++viewed_;
    g->Search(base_.data(), query_, 10, 32, nullptr, &scratch_, &found_);
    for (const Neighbor& n : found_) ASSERT_LT(n.node, kRows) << "round " << round;
  }
  // Some damage (a link moved to another valid node) is indistinguishable from a graph.
  EXPECT_GT(viewed_, 0);
  EXPECT_LT(viewed_, kRounds);
}

// Damaged copies of `Codes` trained on the rows: refused, or walked with a `Query` of theirs.
template <class Codes, class Query>
void DamagedCodesAreRefusedOrSearchable(DamagedBytesTest* t) {
  auto graph = HnswGraph::Build(t->base_.data(), kRows, kDim, GraphMetric::kL2, {.m = 4}, 1);
  ASSERT_TRUE(graph.ok());
  const std::string bytes = Codes::Train(t->base_.data(), kRows, kDim).Encode();
  Query prepared;
  for (int round = 0; round < kRounds; ++round) {
    const Aligned damaged(Damage(bytes, t->rng_));
    auto codes = Codes::View(damaged.view(), kRows, kDim, "c");
    if (!codes.ok()) {
      ASSERT_EQ(codes.status().code(), StatusCode::kCorruption) << "round " << round;
      continue;
    }
    ++t->viewed_;
    prepared.Prepare(*codes, t->query_, GraphMetric::kL2);
    graph->Search(prepared, 10, 32, nullptr, &t->scratch_, &t->found_);
    for (const Neighbor& n : t->found_) ASSERT_LT(n.node, kRows) << "round " << round;
  }
  // Some damage leaves valid codes: any SQ8 code byte is a code; a binary row's scale may
  // change and stay finite.
  EXPECT_GT(t->viewed_, 0);
  EXPECT_LT(t->viewed_, kRounds);
}

TEST_F(DamagedBytesTest, Sq8CodesAreRefusedOrSearchable) {
  DamagedCodesAreRefusedOrSearchable<Sq8Codes, Sq8Query>(this);
}

TEST_F(DamagedBytesTest, BinaryCodesAreRefusedOrSearchable) {
  DamagedCodesAreRefusedOrSearchable<BinaryCodes, BinaryQuery>(this);
}

}  // namespace
}  // namespace nearstore::index

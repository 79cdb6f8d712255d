// Tests of the kernel-table choice: CPU support, the NEARSTORE_ISA cap and the table lookup.

#include "simd/dispatch.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "simd/distance.h"

namespace nearstore::simd {
namespace {

constexpr Isa kAllIsas[] = {Isa::kScalar, Isa::kAvx2, Isa::kAvx512};

TEST(DispatchTest, ParseIsaCapAcceptsTheThreeNamesInAnyCase) {
  EXPECT_EQ(ParseIsaCap("scalar"), Isa::kScalar);
  EXPECT_EQ(ParseIsaCap("SCALAR"), Isa::kScalar);
  EXPECT_EQ(ParseIsaCap("avx2"), Isa::kAvx2);
  EXPECT_EQ(ParseIsaCap("AVX2"), Isa::kAvx2);
  EXPECT_EQ(ParseIsaCap("avx512"), Isa::kAvx512);
  EXPECT_EQ(ParseIsaCap("Avx512"), Isa::kAvx512);
}

TEST(DispatchTest, ParseIsaCapTreatsUnsetAndEmptyAsNoCap) {
  EXPECT_EQ(ParseIsaCap(nullptr), Isa::kAvx512);
  EXPECT_EQ(ParseIsaCap(""), Isa::kAvx512);
}

TEST(DispatchTest, ParseIsaCapRejectsOtherText) {
  EXPECT_EQ(ParseIsaCap("avx"), std::nullopt);
  EXPECT_EQ(ParseIsaCap("avx5120"), std::nullopt);
  EXPECT_EQ(ParseIsaCap("scalar "), std::nullopt);
  EXPECT_EQ(ParseIsaCap("sse"), std::nullopt);
  EXPECT_EQ(ParseIsaCap("native"), std::nullopt);
}

TEST(DispatchTest, ScalarIsAlwaysSupported) {
  EXPECT_TRUE(CpuSupports(Isa::kScalar));
  ASSERT_NE(KernelsFor(Isa::kScalar), nullptr);
  EXPECT_EQ(KernelsFor(Isa::kScalar)->isa, Isa::kScalar);
}

TEST(DispatchTest, KernelsForReturnsATableExactlyWhenSupported) {
  for (Isa isa : kAllIsas) {
    SCOPED_TRACE(IsaName(isa));
    const KernelTable* table = KernelsFor(isa);
    std::printf("[ INFO     ] %s: %s\n", IsaName(isa),
                CpuSupports(isa) ? "supported" : "not supported by this CPU");
    if (!CpuSupports(isa)) {
      EXPECT_EQ(table, nullptr);
      continue;
    }
    ASSERT_NE(table, nullptr);
    EXPECT_EQ(table->isa, isa);
  }
}

TEST(DispatchTest, BestIsaUpToHonoursTheCap) {
  EXPECT_EQ(BestIsaUpTo(Isa::kScalar), Isa::kScalar);
  EXPECT_EQ(BestIsaUpTo(Isa::kAvx2), CpuSupports(Isa::kAvx2) ? Isa::kAvx2 : Isa::kScalar);
  const Isa best = BestIsaUpTo(Isa::kAvx512);
  EXPECT_TRUE(CpuSupports(best));
  // Nothing wider than the best is supported.
  for (Isa isa : kAllIsas) {
    if (isa > best) {
      EXPECT_FALSE(CpuSupports(isa)) << IsaName(isa);
    }
  }
}

// Run by ctest a second time with NEARSTORE_ISA=scalar (see CMakeLists.txt), which checks the
// cap end to end.
TEST(DispatchTest, KernelsHonoursTheEnvironment) {
  const char* text = std::getenv("NEARSTORE_ISA");
  const Isa expected = BestIsaUpTo(ParseIsaCap(text).value_or(Isa::kAvx512));
  std::printf("[ INFO     ] NEARSTORE_ISA=%s; Kernels() chose %s\n",
              text == nullptr ? "(unset)" : text, IsaName(Kernels().isa));
  EXPECT_EQ(Kernels().isa, expected);
  EXPECT_EQ(&Kernels(), KernelsFor(expected));
}

TEST(DispatchTest, IsaNames) {
  EXPECT_STREQ(IsaName(Isa::kScalar), "scalar");
  EXPECT_STREQ(IsaName(Isa::kAvx2), "avx2");
  EXPECT_STREQ(IsaName(Isa::kAvx512), "avx512");
  // Every name parses back to its ISA.
  for (Isa isa : kAllIsas) EXPECT_EQ(ParseIsaCap(IsaName(isa)), isa);
}

}  // namespace
}  // namespace nearstore::simd

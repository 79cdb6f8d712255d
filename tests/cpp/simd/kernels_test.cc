// Tests every kernel variant this CPU supports against the scalar reference, over dimensions
// and counts that hit every tail and tile edge, plus bounds checks (guard pages, sentinels).
//
// The inputs are random; the seed is printed, and NEARSTORE_TEST_SEED=<seed> replays a run.

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "simd/distance.h"
#include "simd/kernels_internal.h"
#include "wide_loops_avx2.h"

namespace nearstore::simd {
namespace {

constexpr size_t kDims[] = {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 127, 128, 384, 1536};
constexpr size_t kRowCounts[] = {0, 1, 3, 5, 17, 1000};
constexpr size_t kQueryCounts[] = {1, 3, 4, 5, 64};

// Written past the end of every output; a kernel must leave it alone.
constexpr float kSentinel = -12345.5f;
constexpr size_t kSentinelCount = 16;

enum class Metric { kDot, kL2sq };

const char* MetricName(Metric metric) { return metric == Metric::kDot ? "dot" : "l2sq"; }

// The run's seed: NEARSTORE_TEST_SEED if set, otherwise fresh; printed once.
uint64_t Seed() {
  static const uint64_t seed = [] {
    const char* text = std::getenv("NEARSTORE_TEST_SEED");
    const uint64_t value = text != nullptr
                               ? std::strtoull(text, nullptr, 10)
                               : (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
    std::printf("[ SEED     ] NEARSTORE_TEST_SEED=%llu\n", static_cast<unsigned long long>(value));
    return value;
  }();
  return seed;
}

// A generator for one test case, derived from the run's seed and the case's parameters so that
// a case replays on its own.
std::mt19937_64 Rng(size_t a, size_t b = 0, size_t c = 0) {
  // std::seed_seq keeps 32 bits of each value.
  std::seed_seq seq{static_cast<uint32_t>(Seed()), static_cast<uint32_t>(Seed() >> 32),
                    static_cast<uint32_t>(a), static_cast<uint32_t>(b), static_cast<uint32_t>(c)};
  return std::mt19937_64(seq);
}

std::vector<float> RandomFloats(size_t count, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> values(count);
  for (float& v : values) v = uniform(rng);
  return values;
}

// Euclidean norm of each of `count` vectors, in double.
std::vector<double> Norms(const float* vectors, size_t count, size_t dim) {
  std::vector<double> norms(count);
  for (size_t i = 0; i < count; ++i) {
    double sum = 0.0;
    for (size_t k = 0; k < dim; ++k) sum += double{vectors[i * dim + k]} * vectors[i * dim + k];
    norms[i] = std::sqrt(sum);
  }
  return norms;
}

// Whether a float-accumulated result is close enough to the reference `want`. The error of a
// float sum grows with the sum of the magnitudes of its terms (here bounded by |a| * |b| for a
// dot product, and equal to `want` for l2sq, whose terms are all >= 0) and, for random rounding,
// with the square root of the number of terms. 1e-6 is about 8 float epsilons.
::testing::AssertionResult Close(float got, float want, double magnitude, size_t dim) {
  const double tolerance = 1e-6 * std::sqrt(static_cast<double>(dim)) * magnitude;
  const double error = std::fabs(double{got} - double{want});
  if (error <= tolerance) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "got " << got << ", want " << want << " (error " << error
                                       << " > tolerance " << tolerance << ")";
}

// Checks out[q * n + i] against want[...] for q < nq, i < n, and that the sentinels after the
// outputs are intact. Reports the first mismatch only.
::testing::AssertionResult OutputsMatch(Metric metric, const std::vector<float>& got,
                                        const std::vector<float>& want,
                                        const std::vector<double>& query_norms,
                                        const std::vector<double>& row_norms, size_t nq, size_t n,
                                        size_t dim) {
  for (size_t q = 0; q < nq; ++q) {
    for (size_t i = 0; i < n; ++i) {
      const size_t at = q * n + i;
      const double magnitude = metric == Metric::kDot ? query_norms[q] * row_norms[i] : want[at];
      ::testing::AssertionResult close = Close(got[at], want[at], magnitude, dim);
      if (!close) return close << " at query " << q << ", row " << i;
    }
  }
  for (size_t j = nq * n; j < got.size(); ++j) {
    if (got[j] != kSentinel) {
      return ::testing::AssertionFailure() << "wrote past the end of the output, at " << j;
    }
  }
  return ::testing::AssertionSuccess();
}

// `count` floats that end exactly where an inaccessible page begins: reading past the end
// faults.
class GuardedFloats {
 public:
  explicit GuardedFloats(size_t count) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    data_bytes_ = (count * sizeof(float) + page - 1) / page * page;
    total_bytes_ = data_bytes_ + page;
    void* base =
        mmap(nullptr, total_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) std::abort();
    base_ = static_cast<char*>(base);
    if (mprotect(base_ + data_bytes_, page, PROT_NONE) != 0) std::abort();
    data_ = reinterpret_cast<float*>(base_ + data_bytes_) - count;
  }
  ~GuardedFloats() { munmap(base_, total_bytes_); }
  GuardedFloats(const GuardedFloats&) = delete;
  GuardedFloats& operator=(const GuardedFloats&) = delete;

  float* data() { return data_; }

 private:
  char* base_ = nullptr;
  size_t data_bytes_ = 0;
  size_t total_bytes_ = 0;
  float* data_ = nullptr;
};

// One kernel table under test.
struct Variant {
  const char* name;
  // The ISA the table needs (and names in its isa field).
  Isa isa;
  // The table, or nullptr where this CPU cannot run it.
  const KernelTable* (*table)();
};

void PrintTo(const Variant& variant, std::ostream* os) { *os << variant.name; }

const Variant kVariants[] = {
    {"scalar", Isa::kScalar, [] { return KernelsFor(Isa::kScalar); }},
    {"avx2", Isa::kAvx2, [] { return KernelsFor(Isa::kAvx2); }},
    {"avx512", Isa::kAvx512, [] { return KernelsFor(Isa::kAvx512); }},
    // The AVX-512 loops, emulated with AVX2 (see wide_loops_avx2.h).
    {"avx512_loops_on_avx2", Isa::kAvx2,
     [] { return CpuSupports(Isa::kAvx2) ? &test::WideLoopsOnAvx2Table() : nullptr; }},
};

// The fixture runs each test once per variant; a variant that this CPU cannot run is skipped
// (and says so), the others still run.
class KernelsTest : public ::testing::TestWithParam<Variant> {
 protected:
  void SetUp() override {
    table_ = GetParam().table();
    if (table_ == nullptr) {
      GTEST_SKIP() << "this CPU does not support " << IsaName(GetParam().isa) << ": variant "
                   << GetParam().name << " is not tested here";
    }
    Seed();
  }

  float Pair(const KernelTable& table, Metric metric, const float* a, const float* b,
             size_t dim) const {
    return metric == Metric::kDot ? table.dot(a, b, dim) : table.l2sq(a, b, dim);
  }
  void Many(const KernelTable& table, Metric metric, const float* query, const float* rows,
            size_t n, size_t dim, float* out) const {
    (metric == Metric::kDot ? table.dot_many : table.l2sq_many)(query, rows, n, dim, out);
  }
  void Block(const KernelTable& table, Metric metric, const float* queries, size_t nq,
             const float* rows, size_t n, size_t dim, float* out) const {
    (metric == Metric::kDot ? table.dot_block : table.l2sq_block)(queries, nq, rows, n, dim, out);
  }

  // Runs the block kernel of the variant under test and of the reference on random data and
  // compares them.
  void CheckBlock(Metric metric, size_t nq, size_t n, size_t dim) {
    SCOPED_TRACE(std::string(MetricName(metric)) + " nq=" + std::to_string(nq) +
                 " n=" + std::to_string(n) + " dim=" + std::to_string(dim));
    std::mt19937_64 rng = Rng(nq, n, dim);
    const std::vector<float> queries = RandomFloats(nq * dim, rng);
    const std::vector<float> rows = RandomFloats(n * dim, rng);
    std::vector<float> got(nq * n + kSentinelCount, kSentinel);
    std::vector<float> want(nq * n + kSentinelCount, kSentinel);
    Block(*table_, metric, queries.data(), nq, rows.data(), n, dim, got.data());
    Block(reference_, metric, queries.data(), nq, rows.data(), n, dim, want.data());
    EXPECT_TRUE(OutputsMatch(metric, got, want, Norms(queries.data(), nq, dim),
                             Norms(rows.data(), n, dim), nq, n, dim));
  }

  const KernelTable* table_ = nullptr;
  const KernelTable& reference_ = *KernelsFor(Isa::kScalar);
};

TEST_P(KernelsTest, TableIsComplete) {
  EXPECT_EQ(table_->isa, GetParam().isa);
  EXPECT_NE(table_->dot, nullptr);
  EXPECT_NE(table_->l2sq, nullptr);
  EXPECT_NE(table_->dot_many, nullptr);
  EXPECT_NE(table_->l2sq_many, nullptr);
  EXPECT_NE(table_->dot_block, nullptr);
  EXPECT_NE(table_->l2sq_block, nullptr);
}

TEST_P(KernelsTest, PairMatchesReference) {
  for (Metric metric : {Metric::kDot, Metric::kL2sq}) {
    for (size_t dim : kDims) {
      // Offsets 0..2 floats: the kernels must not assume any alignment.
      for (size_t offset = 0; offset < 3; ++offset) {
        SCOPED_TRACE(std::string(MetricName(metric)) + " dim=" + std::to_string(dim) +
                     " offset=" + std::to_string(offset));
        std::mt19937_64 rng = Rng(dim, offset);
        const std::vector<float> a = RandomFloats(dim + offset, rng);
        const std::vector<float> b = RandomFloats(dim + offset, rng);
        const float* pa = a.data() + offset;
        const float* pb = b.data() + offset;
        const float want = Pair(reference_, metric, pa, pb, dim);
        const double magnitude =
            metric == Metric::kDot ? Norms(pa, 1, dim)[0] * Norms(pb, 1, dim)[0] : double{want};
        EXPECT_TRUE(Close(Pair(*table_, metric, pa, pb, dim), want, magnitude, dim));
      }
    }
  }
}

TEST_P(KernelsTest, L2sqOfEqualVectorsIsExactlyZero) {
  for (size_t dim : kDims) {
    std::mt19937_64 rng = Rng(dim);
    const std::vector<float> a = RandomFloats(dim, rng);
    const std::vector<float> rows = [&] {
      std::vector<float> r;
      for (int i = 0; i < 5; ++i) r.insert(r.end(), a.begin(), a.end());
      return r;
    }();
    EXPECT_EQ(table_->l2sq(a.data(), a.data(), dim), 0.0f) << "dim=" << dim;
    std::vector<float> out(5 * 5, kSentinel);
    table_->l2sq_many(a.data(), rows.data(), 5, dim, out.data());
    for (size_t i = 0; i < 5; ++i) EXPECT_EQ(out[i], 0.0f) << "dim=" << dim << " row " << i;
    table_->l2sq_block(rows.data(), 5, rows.data(), 5, dim, out.data());
    for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], 0.0f) << "dim=" << dim << " " << i;
  }
}

TEST_P(KernelsTest, ZeroDimensionGivesZero) {
  const float a = 1.0f;
  EXPECT_EQ(table_->dot(&a, &a, 0), 0.0f);
  EXPECT_EQ(table_->l2sq(&a, &a, 0), 0.0f);
  std::vector<float> out(6, kSentinel);
  table_->dot_block(&a, 2, &a, 3, 0, out.data());
  for (float v : out) EXPECT_EQ(v, 0.0f);
}

// n = 1000 at dim 1536 (6 MB) also takes the streaming path of the SIMD variants.
TEST_P(KernelsTest, ManyMatchesReference) {
  for (Metric metric : {Metric::kDot, Metric::kL2sq}) {
    for (size_t dim : kDims) {
      for (size_t n : kRowCounts) {
        SCOPED_TRACE(std::string(MetricName(metric)) + " n=" + std::to_string(n) +
                     " dim=" + std::to_string(dim));
        std::mt19937_64 rng = Rng(n, dim);
        const std::vector<float> query = RandomFloats(dim, rng);
        const std::vector<float> rows = RandomFloats(n * dim, rng);
        std::vector<float> got(n + kSentinelCount, kSentinel);
        std::vector<float> want(n + kSentinelCount, kSentinel);
        Many(*table_, metric, query.data(), rows.data(), n, dim, got.data());
        Many(reference_, metric, query.data(), rows.data(), n, dim, want.data());
        EXPECT_TRUE(OutputsMatch(metric, got, want, Norms(query.data(), 1, dim),
                                 Norms(rows.data(), n, dim), 1, n, dim));
        // Each result is also the pair kernel of its row.
        for (size_t i = 0; i < n; ++i) {
          const float pair = Pair(*table_, metric, query.data(), rows.data() + i * dim, dim);
          const double magnitude =
              metric == Metric::kDot
                  ? Norms(query.data(), 1, dim)[0] * Norms(rows.data() + i * dim, 1, dim)[0]
                  : double{want[i]};
          ASSERT_TRUE(Close(got[i], pair, 2 * magnitude, dim)) << "row " << i;
        }
      }
    }
  }
}

TEST_P(KernelsTest, BlockMatchesReference) {
  for (Metric metric : {Metric::kDot, Metric::kL2sq}) {
    for (size_t dim : kDims) {
      for (size_t n : kRowCounts) {
        for (size_t nq : kQueryCounts) CheckBlock(metric, nq, n, dim);
      }
    }
  }
}

// Enough rows and queries to span several cache tiles of each kind, with ragged last tiles.
TEST_P(KernelsTest, BlockSpansSeveralTiles) {
  for (Metric metric : {Metric::kDot, Metric::kL2sq}) {
    CheckBlock(metric, 7, 4099, 33);
    CheckBlock(metric, 50, 203, 1536);
    CheckBlock(metric, 0, 10, 16);
  }
}

// Vectors that end where an inaccessible page begins: a tail that read past its last float
// would fault.
TEST_P(KernelsTest, TailsNeverReadPastTheEnd) {
  constexpr size_t kCount = 5;
  for (size_t dim = 1; dim <= 40; ++dim) {
    SCOPED_TRACE("dim=" + std::to_string(dim));
    GuardedFloats queries(kCount * dim);
    GuardedFloats rows(kCount * dim);
    std::mt19937_64 rng = Rng(dim);
    const std::vector<float> q = RandomFloats(kCount * dim, rng);
    const std::vector<float> r = RandomFloats(kCount * dim, rng);
    std::memcpy(queries.data(), q.data(), q.size() * sizeof(float));
    std::memcpy(rows.data(), r.data(), r.size() * sizeof(float));
    const float* last_query = queries.data() + (kCount - 1) * dim;
    const float* last_row = rows.data() + (kCount - 1) * dim;
    float out[kCount * kCount];
    for (Metric metric : {Metric::kDot, Metric::kL2sq}) {
      Pair(*table_, metric, last_query, last_row, dim);
      Many(*table_, metric, last_query, rows.data(), kCount, dim, out);
      for (size_t nq = 1; nq <= kCount; ++nq) {
        Block(*table_, metric, queries.data() + (kCount - nq) * dim, nq, rows.data(), kCount, dim,
              out);
      }
    }
  }
}

std::string VariantName(const ::testing::TestParamInfo<Variant>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(AllVariants, KernelsTest, ::testing::ValuesIn(kVariants), VariantName);

// The reference itself, against a direct double-precision sum.
TEST(ScalarReferenceTest, MatchesDirectSums) {
  std::mt19937_64 rng = Rng(7);
  for (size_t dim : kDims) {
    const std::vector<float> a = RandomFloats(dim, rng);
    const std::vector<float> b = RandomFloats(dim, rng);
    double dot = 0.0;
    double l2sq = 0.0;
    for (size_t k = 0; k < dim; ++k) {
      dot += double{a[k]} * b[k];
      l2sq += (double{a[k]} - b[k]) * (double{a[k]} - b[k]);
    }
    const KernelTable& reference = *KernelsFor(Isa::kScalar);
    EXPECT_FLOAT_EQ(reference.dot(a.data(), b.data(), dim), static_cast<float>(dot));
    EXPECT_FLOAT_EQ(reference.l2sq(a.data(), b.data(), dim), static_cast<float>(l2sq));
  }
}

// ---- The integer kernel of quantized codes: every variant exact, equal to the scalar sum.

struct IntVariant {
  const char* name;
  int32_t (*dot)(const uint8_t*, const int8_t*, size_t);  // nullptr: not on this CPU
};

std::vector<IntVariant> IntVariants() {
  std::vector<IntVariant> v = {{"scalar", internal::kScalarTable.dot_u8i8}};
  v.push_back({"avx2", CpuSupports(Isa::kAvx2) ? internal::kAvx2Table.dot_u8i8 : nullptr});
  v.push_back({"avx512", CpuSupports(Isa::kAvx512) ? internal::kAvx512Table.dot_u8i8 : nullptr});
  v.push_back({"avx512_vnni", CpuSupportsVnni() ? &internal::DotU8I8Vnni : nullptr});
  return v;
}

TEST(IntKernelTest, EveryVariantIsExactForEveryLength) {
  std::mt19937_64 rng = Rng(17);
  for (const IntVariant& variant : IntVariants()) {
    if (variant.dot == nullptr) {
      std::printf("[ SKIPPED  ] integer kernel %s: not supported by this CPU\n", variant.name);
      continue;
    }
    SCOPED_TRACE(variant.name);
    for (size_t n = 0; n <= 300; ++n) {
      std::vector<uint8_t> codes(n);
      std::vector<int8_t> query(n);
      int64_t want = 0;
      for (size_t i = 0; i < n; ++i) {
        codes[i] = static_cast<uint8_t>(rng());
        query[i] = static_cast<int8_t>(rng());
        want += int64_t{codes[i]} * int64_t{query[i]};
      }
      ASSERT_EQ(variant.dot(codes.data(), query.data(), n), want) << "n=" << n;
    }
    // The extremes: every product 255 * -128 or 255 * 127, over the longest supported length.
    const size_t n = (size_t{1} << 16) - 1;
    std::vector<uint8_t> codes(n, 255);
    std::vector<int8_t> low(n, -128), high(n, 127);
    EXPECT_EQ(variant.dot(codes.data(), low.data(), n), -255 * 128 * static_cast<int64_t>(n));
    EXPECT_EQ(variant.dot(codes.data(), high.data(), n), 255 * 127 * static_cast<int64_t>(n));
  }
  // Kernels() hands out the widest one.
  EXPECT_NE(Kernels().dot_u8i8, nullptr);
}

// The row-gathering form: each out[i] equals the one-row kernel on row rows[i], for every
// table this CPU runs (the avx512 one with VNNI where the CPU has it).
TEST(IntKernelTest, RowsFormEqualsOneRowAtATime) {
  std::mt19937_64 rng = Rng(19);
  const size_t n = 131, stride = 136, count_rows = 50;
  std::vector<uint8_t> codes(count_rows * stride);
  std::vector<int8_t> query(n);
  for (auto& c : codes) c = static_cast<uint8_t>(rng());
  for (auto& q : query) q = static_cast<int8_t>(rng());
  std::vector<uint32_t> rows(200);
  for (auto& r : rows) r = static_cast<uint32_t>(rng() % count_rows);
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    const KernelTable* table = KernelsFor(isa);
    if (table == nullptr) continue;
    SCOPED_TRACE(IsaName(isa));
    for (size_t count : {size_t{0}, size_t{1}, size_t{9}, size_t{10}, size_t{11}, size_t{200}}) {
      std::vector<int32_t> out(count, -1);
      table->dot_u8i8_rows(codes.data(), stride, rows.data(), count, query.data(), n, out.data());
      for (size_t i = 0; i < count; ++i) {
        ASSERT_EQ(out[i],
                  internal::kScalarTable.dot_u8i8(codes.data() + rows[i] * stride, query.data(), n))
            << "count " << count << " row " << i;
      }
    }
  }
}

// ---- The bit-plane kernel of binary codes: every variant exact, equal to a bit-by-bit sum.

struct BitsVariant {
  const char* name;
  uint32_t (*dot)(const uint64_t*, const uint64_t*, size_t);  // nullptr: not on this CPU
};

TEST(BitPlanesKernelTest, EveryVariantIsExactForEveryLength) {
  const std::vector<BitsVariant> variants = {
      {"scalar", internal::kScalarTable.bit_planes_dot},
      {"avx2", CpuSupports(Isa::kAvx2) ? internal::kAvx2Table.bit_planes_dot : nullptr},
      {"avx512", CpuSupports(Isa::kAvx512) ? internal::kAvx512Table.bit_planes_dot : nullptr},
      {"avx512_vpopcntdq", CpuSupportsVpopcntdq() ? &internal::BitPlanesDotVpopcntdq : nullptr}};
  std::mt19937_64 rng = Rng(23);
  for (const BitsVariant& variant : variants) {
    if (variant.dot == nullptr) {
      std::printf("[ SKIPPED  ] bit-plane kernel %s: not supported by this CPU\n", variant.name);
      continue;
    }
    SCOPED_TRACE(variant.name);
    for (size_t words = 0; words <= 40; ++words) {
      std::vector<uint64_t> bits(words), planes(kBitPlanes * words);
      for (uint64_t& w : bits) w = rng();
      for (uint64_t& w : planes) w = rng();
      // The reference: for each set bit d of `bits`, add the 4-bit number at d.
      uint64_t want = 0;
      for (size_t d = 0; d < words * 64; ++d) {
        if (((bits[d / 64] >> (d % 64)) & 1u) == 0) continue;
        for (size_t j = 0; j < kBitPlanes; ++j) {
          want += ((planes[j * words + d / 64] >> (d % 64)) & 1u) << j;
        }
      }
      ASSERT_EQ(variant.dot(bits.data(), planes.data(), words), want) << "words=" << words;
    }
    // Every bit set: 15 per dimension.
    const size_t words = 1000;
    std::vector<uint64_t> ones(kBitPlanes * words, ~uint64_t{0});
    EXPECT_EQ(variant.dot(ones.data(), ones.data(), words), 15u * 64u * words);
  }
  EXPECT_NE(Kernels().bit_planes_dot, nullptr);
}

}  // namespace
}  // namespace nearstore::simd

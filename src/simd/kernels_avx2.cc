// The AVX2 + FMA kernels: 8 floats per register, 16 registers.
//
// This file alone is compiled with -mavx2 -mfma (see CMakeLists.txt); its functions may run
// only once dispatch.cc has checked CpuSupports(Isa::kAvx2).

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "simd/bit_planes_loop.h"
#include "simd/code_rows_loop.h"
#include "simd/distance.h"
#include "simd/kernels_generic.h"
#include "simd/kernels_internal.h"

namespace nearstore::simd::internal {
namespace {

// kTailMask + 8 - count holds `count` all-ones lanes followed by zero lanes.
constexpr int32_t kTailMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

// The vector traits that kernels_generic.h expects (its header comment gives the contracts).
struct Avx2 {
  using Vec = __m256;
  static constexpr size_t kWidth = 8;

  static Vec Zero() { return _mm256_setzero_ps(); }
  static Vec Load(const float* p) { return _mm256_loadu_ps(p); }
  static Vec LoadPartial(const float* p, size_t count) {
    // VMASKMOVPS does not touch (or fault on) the masked-off lanes.
    const __m256i mask =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTailMask + 8 - count));
    return _mm256_maskload_ps(p, mask);
  }
  static Vec Add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static Vec Sub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
  static Vec MulAdd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }

  static float Sum(Vec v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
  }
  static void Sum4(Vec a, Vec b, Vec c, Vec d, float* out) {
    // Per 128-bit half: ab = {a01, a23, b01, b23}, cd = {c01, c23, d01, d23},
    // abcd = {a0123, b0123, c0123, d0123}; then add the two halves.
    const __m256 ab = _mm256_hadd_ps(a, b);
    const __m256 cd = _mm256_hadd_ps(c, d);
    const __m256 abcd = _mm256_hadd_ps(ab, cd);
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1)));
  }
};

// Tiles for 16 registers. dot: 4 queries x 3 rows = 12 accumulators + 3 rows + 1 query.
// l2sq also needs a temporary for the difference: 3 x 3 = 9 accumulators + 3 + 1 + 1.
// Measured on Zen 3 (nq 64, n 100000, dim 384): dot 4x3 65 GFLOP/s, 3x4 59, 3x3 58, 4x2 40,
// 2x4 40; l2sq 3x3 50, 4x3 50, 3x4 49, 2x4 40.
constexpr size_t kDotQueries = 4;
constexpr size_t kDotRows = 3;
constexpr size_t kL2sqQueries = 3;
constexpr size_t kL2sqRows = 3;

float Dot(const float* a, const float* b, size_t dim) {
  return Pair<Avx2, Metric::kDot>(a, b, dim);
}

float L2sq(const float* a, const float* b, size_t dim) {
  return Pair<Avx2, Metric::kL2sq>(a, b, dim);
}

void DotMany(const float* query, const float* rows, size_t n, size_t dim, float* out) {
  Many<Avx2, Metric::kDot>(query, rows, n, dim, out);
}

void L2sqMany(const float* query, const float* rows, size_t n, size_t dim, float* out) {
  Many<Avx2, Metric::kL2sq>(query, rows, n, dim, out);
}

void DotBlock(const float* queries, size_t nq, const float* rows, size_t n, size_t dim,
              float* out) {
  Block<Avx2, Metric::kDot, kDotQueries, kDotRows>(queries, nq, rows, n, dim, out);
}

void L2sqBlock(const float* queries, size_t nq, const float* rows, size_t n, size_t dim,
               float* out) {
  Block<Avx2, Metric::kL2sq, kL2sqQueries, kL2sqRows>(queries, nq, rows, n, dim, out);
}

// 16 codes at a time widened to 16-bit lanes; vpmaddwd sums adjacent products into 32 bits
// (255 * 127 * 2 fits easily), so the sum is exact.
int32_t DotU8I8(const uint8_t* codes, const int8_t* query, size_t n) {
  __m256i acc = _mm256_setzero_si256();
  size_t k = 0;
  for (; k + 16 <= n; k += 16) {
    const __m256i c =
        _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + k)));
    const __m256i q =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(query + k)));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(c, q));
  }
  __m128i x = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4e));
  x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xb1));
  int32_t sum = _mm_cvtsi128_si32(x);
  for (; k < n; ++k) sum += int32_t{codes[k]} * int32_t{query[k]};
  return sum;
}

}  // namespace

constinit const KernelTable kAvx2Table = {
    .isa = Isa::kAvx2,
    .dot = &Dot,
    .l2sq = &L2sq,
    .dot_many = &DotMany,
    .l2sq_many = &L2sqMany,
    .dot_block = &DotBlock,
    .l2sq_block = &L2sqBlock,
    .dot_u8i8 = &DotU8I8,
    .dot_u8i8_rows = &DotU8I8RowsLoop<&DotU8I8>,
    .bit_planes_dot = &BitPlanesDotLoop,
};

}  // namespace nearstore::simd::internal

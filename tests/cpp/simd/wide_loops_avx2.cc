// See wide_loops_avx2.h. Compiled with -mavx2 -mfma (see CMakeLists.txt).

#include "wide_loops_avx2.h"

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "simd/distance.h"
#include "simd/kernels_generic.h"

namespace nearstore::simd::test {
namespace {

using internal::Metric;

// kTailMask + 8 - count holds `count` all-ones lanes followed by zero lanes, for count <= 8.
constexpr int32_t kTailMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

// 16 floats as two AVX2 registers: lanes 0..7 in lo, 8..15 in hi.
struct Wide {
  __m256 lo;
  __m256 hi;
};

__m256 LoadFirst(const float* p, size_t count) {
  const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTailMask + 8 - count));
  return _mm256_maskload_ps(p, mask);
}

__m256 Fold(Wide v) { return _mm256_add_ps(v.lo, v.hi); }

// The vector traits of kernels_generic.h, 16 floats wide.
struct TwoAvx2 {
  using Vec = Wide;
  static constexpr size_t kWidth = 16;

  static Vec Zero() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
  static Vec Load(const float* p) { return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
  static Vec LoadPartial(const float* p, size_t count) {
    if (count <= 8) return {LoadFirst(p, count), _mm256_setzero_ps()};
    return {_mm256_loadu_ps(p), LoadFirst(p + 8, count - 8)};
  }
  static Vec Add(Vec a, Vec b) { return {_mm256_add_ps(a.lo, b.lo), _mm256_add_ps(a.hi, b.hi)}; }
  static Vec Sub(Vec a, Vec b) { return {_mm256_sub_ps(a.lo, b.lo), _mm256_sub_ps(a.hi, b.hi)}; }
  static Vec MulAdd(Vec a, Vec b, Vec c) {
    return {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)};
  }
  static float Sum(Vec v) {
    const __m256 folded = Fold(v);
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(folded), _mm256_extractf128_ps(folded, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
  }
  static void Sum4(Vec a, Vec b, Vec c, Vec d, float* out) {
    const __m256 ab = _mm256_hadd_ps(Fold(a), Fold(b));
    const __m256 cd = _mm256_hadd_ps(Fold(c), Fold(d));
    const __m256 abcd = _mm256_hadd_ps(ab, cd);
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1)));
  }
};

// The tile shape of kernels_avx512.cc.
constexpr size_t kTileQueries = 4;
constexpr size_t kTileRows = 4;

float Dot(const float* a, const float* b, size_t dim) {
  return internal::Pair<TwoAvx2, Metric::kDot>(a, b, dim);
}
float L2sq(const float* a, const float* b, size_t dim) {
  return internal::Pair<TwoAvx2, Metric::kL2sq>(a, b, dim);
}
void DotMany(const float* query, const float* rows, size_t n, size_t dim, float* out) {
  internal::Many<TwoAvx2, Metric::kDot>(query, rows, n, dim, out);
}
void L2sqMany(const float* query, const float* rows, size_t n, size_t dim, float* out) {
  internal::Many<TwoAvx2, Metric::kL2sq>(query, rows, n, dim, out);
}
void DotBlock(const float* queries, size_t nq, const float* rows, size_t n, size_t dim,
              float* out) {
  internal::Block<TwoAvx2, Metric::kDot, kTileQueries, kTileRows>(queries, nq, rows, n, dim, out);
}
void L2sqBlock(const float* queries, size_t nq, const float* rows, size_t n, size_t dim,
               float* out) {
  internal::Block<TwoAvx2, Metric::kL2sq, kTileQueries, kTileRows>(queries, nq, rows, n, dim, out);
}

constinit const KernelTable kTable = {
    .isa = Isa::kAvx2,
    .dot = &Dot,
    .l2sq = &L2sq,
    .dot_many = &DotMany,
    .l2sq_many = &L2sqMany,
    .dot_block = &DotBlock,
    .l2sq_block = &L2sqBlock,
    // Float loops only: the integer kernels are tested on their own.
    .dot_u8i8 = nullptr,
    .dot_u8i8_rows = nullptr,
    .bit_planes_dot = nullptr,
};

}  // namespace

const KernelTable& WideLoopsOnAvx2Table() { return kTable; }

}  // namespace nearstore::simd::test

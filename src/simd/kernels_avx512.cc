// The AVX-512 kernels: 16 floats per register, 32 registers, masked loads for the tails.
//
// This file alone is compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx2 -mfma
// (see CMakeLists.txt); its functions may run only once dispatch.cc has checked
// CpuSupports(Isa::kAvx512). The loops are those of kernels_generic.h, which the AVX2 variant
// shares, so only the traits below are specific to AVX-512.

#include <immintrin.h>

#include <cstddef>

#include "simd/bit_planes_loop.h"
#include "simd/code_rows_loop.h"
#include "simd/distance.h"
#include "simd/kernels_generic.h"
#include "simd/kernels_internal.h"
#include "simd/reduce_avx512.h"

namespace nearstore::simd::internal {
namespace {

// The vector traits that kernels_generic.h expects (its header comment gives the contracts).
struct Avx512 {
  using Vec = __m512;
  static constexpr size_t kWidth = 16;

  static Vec Zero() { return _mm512_setzero_ps(); }
  static Vec Load(const float* p) { return _mm512_loadu_ps(p); }
  static Vec LoadPartial(const float* p, size_t count) {
    // count < 16, so the shift is defined; masked-off lanes are neither read nor faulted on.
    const __mmask16 mask = static_cast<__mmask16>((1u << count) - 1u);
    return _mm512_maskz_loadu_ps(mask, p);
  }
  static Vec Add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  static Vec Sub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
  static Vec MulAdd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }

  static float Sum(Vec v) {
    const __m256 folded = Fold(v);
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(folded), _mm256_extractf128_ps(folded, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
  }
  static void Sum4(Vec a, Vec b, Vec c, Vec d, float* out) {
    // Fold each register to 8 lanes, then as on AVX2: per 128-bit half,
    // ab = {a01, a23, b01, b23}, cd = {c01, c23, d01, d23}, abcd = {a0123, b0123, c0123, d0123};
    // finally add the two halves.
    const __m256 ab = _mm256_hadd_ps(Fold(a), Fold(b));
    const __m256 cd = _mm256_hadd_ps(Fold(c), Fold(d));
    const __m256 abcd = _mm256_hadd_ps(ab, cd);
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1)));
  }

 private:
  // Lanes i and i + 8 added, for i < 8.
  // The zero-masking extracts (with an all-ones mask) stand in for _mm512_castps512_ps256 and
  // _mm512_extractf32x8_ps, whose GCC 12 definitions start from an "undefined" register that
  // -Wuninitialized reports (GCC bug 105593); _mm512_reduce_add_ps has the same problem.
  static __m256 Fold(Vec v) {
    return _mm256_add_ps(_mm512_maskz_extractf32x8_ps(0xFF, v, 0),
                         _mm512_maskz_extractf32x8_ps(0xFF, v, 1));
  }
};

// Tiles for 32 registers: 4 queries x 4 rows = 16 accumulators + 4 rows + 1 query
// (+ 1 temporary for l2sq).
constexpr size_t kTileQueries = 4;
constexpr size_t kTileRows = 4;

float Dot(const float* a, const float* b, size_t dim) {
  return Pair<Avx512, Metric::kDot>(a, b, dim);
}

float L2sq(const float* a, const float* b, size_t dim) {
  return Pair<Avx512, Metric::kL2sq>(a, b, dim);
}

void DotMany(const float* query, const float* rows, size_t n, size_t dim, float* out) {
  Many<Avx512, Metric::kDot>(query, rows, n, dim, out);
}

void L2sqMany(const float* query, const float* rows, size_t n, size_t dim, float* out) {
  Many<Avx512, Metric::kL2sq>(query, rows, n, dim, out);
}

void DotBlock(const float* queries, size_t nq, const float* rows, size_t n, size_t dim,
              float* out) {
  Block<Avx512, Metric::kDot, kTileQueries, kTileRows>(queries, nq, rows, n, dim, out);
}

void L2sqBlock(const float* queries, size_t nq, const float* rows, size_t n, size_t dim,
               float* out) {
  Block<Avx512, Metric::kL2sq, kTileQueries, kTileRows>(queries, nq, rows, n, dim, out);
}

// Without VNNI: 32 codes at a time widened to 16-bit lanes, vpmaddwd into 32 bits (exact);
// the tail through masked loads.
int32_t DotU8I8(const uint8_t* codes, const int8_t* query, size_t n) {
  __m512i acc = _mm512_setzero_si512();
  size_t k = 0;
  for (; k < n; k += 32) {
    const size_t left = n - k;
    const __mmask32 mask = left >= 32 ? ~__mmask32{0} : static_cast<__mmask32>((1u << left) - 1u);
    const __m512i c = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(mask, codes + k));
    const __m512i q = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(mask, query + k));
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(c, q));
  }
  return internal::ReduceAddEpi32(acc);
}

}  // namespace

constinit const KernelTable kAvx512Table = {
    .isa = Isa::kAvx512,
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

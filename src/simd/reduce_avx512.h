// Horizontal sum of sixteen 32-bit lanes, for the AVX-512 files only (include it only from a
// file compiled with -mavx512f -mavx512dq).
//
// The zero-masking extracts (with an all-ones mask) stand in for _mm512_reduce_add_epi32 and
// _mm512_extracti32x8_epi32, whose GCC 12 definitions start from an "undefined" register that
// -Wuninitialized reports (GCC bug 105593).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace nearstore::simd::internal {

inline int32_t ReduceAddEpi32(__m512i v) {
  const __m256i folded = _mm256_add_epi32(_mm512_maskz_extracti32x8_epi32(0xFF, v, 0),
                                          _mm512_maskz_extracti32x8_epi32(0xFF, v, 1));
  __m128i x = _mm_add_epi32(_mm256_castsi256_si128(folded), _mm256_extracti128_si256(folded, 1));
  x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4e));
  x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xb1));
  return _mm_cvtsi128_si32(x);
}

}  // namespace nearstore::simd::internal

// The AVX-512 VPOPCNTDQ variant of bit_planes_dot: vpopcntq counts the set bits of eight
// 64-bit words in one instruction, so a 384-bit code against its four query planes is five
// masked loads, four ANDs and four counts.
//
// This file alone is compiled with -mavx512vpopcntdq on top of the AVX-512 flags; dispatch.cc
// calls it only on CPUs that report AVX-512 VPOPCNTDQ.

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "simd/distance.h"
#include "simd/kernels_internal.h"

namespace nearstore::simd::internal {

uint32_t BitPlanesDotVpopcntdq(const uint64_t* bits, const uint64_t* planes, size_t words) {
  static_assert(kBitPlanes == 4);
  __m512i acc = _mm512_setzero_si512();
  for (size_t w = 0; w < words; w += 8) {
    // Masked-off words are neither read nor faulted on.
    const size_t left = words - w;
    const __mmask8 mask = left >= 8 ? __mmask8{0xFF} : static_cast<__mmask8>((1u << left) - 1u);
    const __m512i b = _mm512_maskz_loadu_epi64(mask, bits + w);
    for (size_t j = 0; j < kBitPlanes; ++j) {
      const __m512i plane = _mm512_maskz_loadu_epi64(mask, planes + j * words + w);
      const __m512i count = _mm512_popcnt_epi64(_mm512_and_si512(b, plane));
      // The zero-masking shift: the plain one starts from an "undefined" register that GCC 12
      // reports as uninitialised (GCC bug 105593).
      acc = _mm512_add_epi64(acc, _mm512_maskz_slli_epi64(0xFF, count, static_cast<unsigned>(j)));
    }
  }
  // Horizontal sum of the eight lanes (zero-masking extracts: see reduce_avx512.h).
  const __m256i folded = _mm256_add_epi64(_mm512_maskz_extracti64x4_epi64(0xFF, acc, 0),
                                          _mm512_maskz_extracti64x4_epi64(0xFF, acc, 1));
  const __m128i x =
      _mm_add_epi64(_mm256_castsi256_si128(folded), _mm256_extracti128_si256(folded, 1));
  return static_cast<uint32_t>(_mm_cvtsi128_si64(x) + _mm_extract_epi64(x, 1));
}

}  // namespace nearstore::simd::internal

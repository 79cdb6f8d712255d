// The AVX-512 VNNI variant of the integer kernel: vpdpbusd multiplies 64 unsigned by 64 signed
// bytes and adds each group of four products into a 32-bit lane, in one instruction (exact: no
// saturation in the 32-bit sum for n < 2^16).
//
// This file alone is compiled with -mavx512vnni on top of the AVX-512 flags; dispatch.cc calls
// it only on CPUs that report AVX-512 VNNI.

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "simd/code_rows_loop.h"
#include "simd/kernels_internal.h"
#include "simd/reduce_avx512.h"

namespace nearstore::simd::internal {

int32_t DotU8I8Vnni(const uint8_t* codes, const int8_t* query, size_t n) {
  __m512i acc = _mm512_setzero_si512();
  size_t k = 0;
  for (; k + 64 <= n; k += 64) {
    acc = _mm512_dpbusd_epi32(acc, _mm512_loadu_si512(codes + k), _mm512_loadu_si512(query + k));
  }
  if (k < n) {
    // n - k < 64, so the shift is defined; masked-off bytes are neither read nor faulted on.
    const __mmask64 mask = (uint64_t{1} << (n - k)) - 1u;
    acc = _mm512_dpbusd_epi32(acc, _mm512_maskz_loadu_epi8(mask, codes + k),
                              _mm512_maskz_loadu_epi8(mask, query + k));
  }
  return internal::ReduceAddEpi32(acc);
}

void DotU8I8RowsVnni(const uint8_t* codes, size_t stride, const uint32_t* rows, size_t count,
                     const int8_t* query, size_t n, int32_t* out) {
  DotU8I8RowsLoop<&DotU8I8Vnni>(codes, stride, rows, count, query, n, out);
}

}  // namespace nearstore::simd::internal

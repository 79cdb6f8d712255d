// The word-at-a-time loop of bit_planes_dot (see distance.h), included by each kernel file and
// compiled with that file's flags: baseline x86-64 (where __builtin_popcountll is a library
// call), and the AVX2 and AVX-512 files, which are compiled with -mpopcnt (every CPU with AVX2
// has POPCNT) and so count one word per instruction.
//
// `static`: each kernel file gets its own copy, compiled for its instruction set (an inline
// function with external linkage could be shared with baseline code by the linker).
#pragma once

#include <cstddef>
#include <cstdint>

namespace nearstore::simd::internal {

static inline uint32_t BitPlanesDotLoop(const uint64_t* bits, const uint64_t* planes,
                                        size_t words) {
  uint64_t sum = 0;
  for (size_t w = 0; w < words; ++w) {
    const uint64_t b = bits[w];
    sum += static_cast<uint64_t>(__builtin_popcountll(b & planes[w])) +
           (static_cast<uint64_t>(__builtin_popcountll(b & planes[words + w])) << 1) +
           (static_cast<uint64_t>(__builtin_popcountll(b & planes[2 * words + w])) << 2) +
           (static_cast<uint64_t>(__builtin_popcountll(b & planes[3 * words + w])) << 3);
  }
  return static_cast<uint32_t>(sum);
}

}  // namespace nearstore::simd::internal

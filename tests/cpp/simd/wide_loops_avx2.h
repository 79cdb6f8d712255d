// The loops of the AVX-512 table (kernels_generic.h at 16 floats per vector, with the AVX-512
// tile shapes), run on AVX2 by a test-only vector type made of two AVX2 registers. CPUs without
// AVX-512 (the development machines among them) thereby still test the 16-wide loops: tails of
// 1 to 15 floats, 4 x 4 tiles. Only the few lines of AVX-512 intrinsics in kernels_avx512.cc
// stay untested there.
#pragma once

#include "simd/distance.h"

namespace nearstore::simd::test {

// The table; its isa field says kAvx2, the instructions it needs.
// REQUIRES CpuSupports(Isa::kAvx2) before calling any of its functions.
const KernelTable& WideLoopsOnAvx2Table();

}  // namespace nearstore::simd::test

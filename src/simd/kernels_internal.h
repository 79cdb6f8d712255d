// The per-ISA kernel tables, private to src/simd.
//
// Each table is defined in the file that is compiled for its instruction set
// (kernels_scalar.cc for baseline x86-64, kernels_avx2.cc with -mavx2 -mfma, kernels_avx512.cc
// with -mavx512f/bw/dq/vl). The tables themselves are plain data, constant-initialised, so
// reading one never executes an instruction of its ISA; dispatch.cc hands out a table only once
// CpuSupports() says the CPU can run it.
#pragma once

#include "simd/distance.h"

namespace nearstore::simd::internal {

// Baseline x86-64, accumulating in double: the reference every other variant is tested against.
extern const KernelTable kScalarTable;

// REQUIRES CpuSupports(Isa::kAvx2) (AVX2 and FMA) before calling any of its functions.
extern const KernelTable kAvx2Table;

// REQUIRES CpuSupports(Isa::kAvx512) (AVX-512 F, BW, DQ and VL) before calling any of its
// functions.
extern const KernelTable kAvx512Table;

// dot_u8i8 with AVX-512 VNNI. REQUIRES CpuSupportsVnni().
int32_t DotU8I8Vnni(const uint8_t* codes, const int8_t* query, size_t n);
void DotU8I8RowsVnni(const uint8_t* codes, size_t stride, const uint32_t* rows, size_t count,
                     const int8_t* query, size_t n, int32_t* out);

// bit_planes_dot with AVX-512 VPOPCNTDQ. REQUIRES CpuSupportsVpopcntdq().
uint32_t BitPlanesDotVpopcntdq(const uint64_t* bits, const uint64_t* planes, size_t words);

}  // namespace nearstore::simd::internal

// Distance kernels with run-time dispatch.
//
// Every kernel exists as a scalar reference and in SIMD variants compiled per target
// (AVX2+FMA, AVX-512); Kernels() picks the widest one this CPU supports, once, at first use.
// Setting the environment variable NEARSTORE_ISA to "scalar", "avx2" or "avx512" caps the
// choice (for testing and for comparing variants); asking for an ISA the CPU lacks falls back
// to the best one it has.
//
// Vectors are float32 (rows stored contiguously with stride `dim`), except for the integer
// kernels of quantized codes. Thread-safe: the table
// is immutable after first use.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nearstore::simd {

enum class Isa { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

struct KernelTable {
  Isa isa;
  // Inner product of a[0..dim) and b[0..dim).
  float (*dot)(const float* a, const float* b, size_t dim);
  // Squared Euclidean distance.
  float (*l2sq)(const float* a, const float* b, size_t dim);
  // One query against n rows: out[i] = dot(query, rows + i * dim).
  void (*dot_many)(const float* query, const float* rows, size_t n, size_t dim, float* out);
  void (*l2sq_many)(const float* query, const float* rows, size_t n, size_t dim, float* out);
  // Many queries against many rows, blocked so that a tile of rows is read from memory once
  // for all queries: out[q * n + i] = dot(queries + q * dim, rows + i * dim), for q < nq, i < n.
  void (*dot_block)(const float* queries, size_t nq, const float* rows, size_t n, size_t dim,
                    float* out);
  void (*l2sq_block)(const float* queries, size_t nq, const float* rows, size_t n, size_t dim,
                     float* out);
  // Exact integer inner product of n unsigned bytes (quantized codes) and n signed bytes (a
  // quantized query), any n; no overflow for n < 2^16. On CPUs with AVX-512 VNNI the avx512
  // table's entry uses vpdpbusd (64 products per instruction).
  int32_t (*dot_u8i8)(const uint8_t* codes, const int8_t* query, size_t n);
  // dot_u8i8 of `query` with `count` rows of a code array (row r at codes + r * stride):
  // out[i] = dot_u8i8(codes + rows[i] * stride, query, n). One call for all the unvisited
  // neighbours of a node; the rows' codes are requested from memory several rows ahead.
  void (*dot_u8i8_rows)(const uint8_t* codes, size_t stride, const uint32_t* rows, size_t count,
                        const int8_t* query, size_t n, int32_t* out);
  // Inner product of a bit vector (`words` 64-bit words) with a vector of 4-bit numbers stored
  // as kBitPlanes bit planes (plane j, the numbers' bit j, at planes + j * words):
  //     sum_j 2^j * popcount(bits & plane_j).
  // Exact; no overflow for words < 2^26. On CPUs with AVX-512 VPOPCNTDQ the avx512 table's
  // entry counts eight words per instruction.
  uint32_t (*bit_planes_dot)(const uint64_t* bits, const uint64_t* planes, size_t words);
};

inline constexpr size_t kBitPlanes = 4;

// The best table for this CPU (honouring NEARSTORE_ISA).
const KernelTable& Kernels();

// The table of one ISA, or nullptr when this CPU (or this build) cannot run it.
const KernelTable* KernelsFor(Isa isa);

// Whether this CPU supports the ISA (CPUID and OS register-state support).
bool CpuSupports(Isa isa);
// Whether the avx512 table's dot_u8i8 uses VNNI on this CPU (AVX-512 and AVX-512 VNNI).
bool CpuSupportsVnni();
// Whether the avx512 table's bit_planes_dot uses VPOPCNTDQ on this CPU.
bool CpuSupportsVpopcntdq();

const char* IsaName(Isa isa);

}  // namespace nearstore::simd

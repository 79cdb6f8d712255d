// Distance kernels with run-time dispatch.
//
// Every kernel exists as a scalar reference and in SIMD variants compiled per target
// (AVX2+FMA, AVX-512); Kernels() picks the widest one this CPU supports, once, at first use.
// Setting the environment variable NEARSTORE_ISA to "scalar", "avx2" or "avx512" caps the
// choice (for testing and for comparing variants); asking for an ISA the CPU lacks falls back
// to the best one it has.
//
// All vectors are float32, rows stored contiguously with stride `dim`. Thread-safe: the table
// is immutable after first use.
#pragma once

#include <cstddef>

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
};

// The best table for this CPU (honouring NEARSTORE_ISA).
const KernelTable& Kernels();

// The table of one ISA, or nullptr when this CPU (or this build) cannot run it.
const KernelTable* KernelsFor(Isa isa);

// Whether this CPU supports the ISA (CPUID and OS register-state support).
bool CpuSupports(Isa isa);

const char* IsaName(Isa isa);

}  // namespace nearstore::simd

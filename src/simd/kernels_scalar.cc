// The scalar reference kernels: plain loops, accumulating in double so that their error is far
// below that of any float variant. Tests compare every SIMD variant against these, and they
// serve CPUs without AVX2. Compiled for baseline x86-64.

#include <cstddef>

#include "simd/bit_planes_loop.h"
#include "simd/code_rows_loop.h"
#include "simd/distance.h"
#include "simd/kernels_internal.h"

namespace nearstore::simd::internal {
namespace {

float Dot(const float* a, const float* b, size_t dim) {
  double sum = 0.0;
  for (size_t k = 0; k < dim; ++k) sum += static_cast<double>(a[k]) * static_cast<double>(b[k]);
  return static_cast<float>(sum);
}

float L2sq(const float* a, const float* b, size_t dim) {
  double sum = 0.0;
  for (size_t k = 0; k < dim; ++k) {
    const double d = static_cast<double>(a[k]) - static_cast<double>(b[k]);
    sum += d * d;
  }
  return static_cast<float>(sum);
}

int32_t DotU8I8(const uint8_t* codes, const int8_t* query, size_t n) {
  int32_t sum = 0;
  for (size_t k = 0; k < n; ++k) sum += int32_t{codes[k]} * int32_t{query[k]};
  return sum;
}

void DotMany(const float* query, const float* rows, size_t n, size_t dim, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = Dot(query, rows + i * dim, dim);
}

void L2sqMany(const float* query, const float* rows, size_t n, size_t dim, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = L2sq(query, rows + i * dim, dim);
}

void DotBlock(const float* queries, size_t nq, const float* rows, size_t n, size_t dim,
              float* out) {
  for (size_t q = 0; q < nq; ++q) DotMany(queries + q * dim, rows, n, dim, out + q * n);
}

void L2sqBlock(const float* queries, size_t nq, const float* rows, size_t n, size_t dim,
               float* out) {
  for (size_t q = 0; q < nq; ++q) L2sqMany(queries + q * dim, rows, n, dim, out + q * n);
}

}  // namespace

constinit const KernelTable kScalarTable = {
    .isa = Isa::kScalar,
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

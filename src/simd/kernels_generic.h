// The loops of the SIMD kernels, written once over a "vector traits" type V that each SIMD
// variant defines for its instruction set (kernels_avx2.cc, kernels_avx512.cc).
//
// PRIVATE to src/simd: include only from a file compiled for one SIMD instruction set
// (kernels_<isa>.cc; tests/cpp/simd/wide_loops_avx2.cc also does). Everything here is a template
// over V, and each V lives in an unnamed namespace, so every instantiation has internal linkage:
// the linker can never pick the AVX-512 copy of a loop where the AVX2 (or baseline) one was
// meant. For the same reason, do not call inline functions with external linkage from here
// (std::min and friends included): their out-of-line copies would be compiled with the wider
// instruction set and could be shared with baseline code.
//
// V must provide, all static:
//   using Vec;                                   one register of kWidth floats
//   constexpr size_t kWidth;
//   Vec Zero();
//   Vec Load(const float* p);                    p[0..kWidth), no alignment needed
//   Vec LoadPartial(const float* p, size_t count);
//       REQUIRES 0 < count < kWidth. Loads p[0..count), zeroes the other lanes, and never
//       touches memory at or after p + count (so it cannot fault past the end of a buffer).
//   Vec Add(Vec a, Vec b);  Vec Sub(Vec a, Vec b);
//   Vec MulAdd(Vec a, Vec b, Vec c);             a * b + c, fused
//   float Sum(Vec v);                            the sum of the lanes
//   void Sum4(Vec a, Vec b, Vec c, Vec d, float* out);
//       out[0..4) = {Sum(a), Sum(b), Sum(c), Sum(d)}, faster than four Sum calls.
#pragma once

#include <cstddef>

namespace nearstore::simd::internal {

enum class Metric { kDot, kL2sq };

// One step of the metric on a lane of vectors: acc + a * b, or acc + (a - b)^2.
// Lanes where both a and b are zero (the tail of a LoadPartial) add exactly zero.
template <class V, Metric M>
inline typename V::Vec Accumulate(typename V::Vec acc, typename V::Vec a, typename V::Vec b) {
  if constexpr (M == Metric::kDot) {
    return V::MulAdd(a, b, acc);
  } else {
    const typename V::Vec d = V::Sub(a, b);
    return V::MulAdd(d, d, acc);
  }
}

// The register-tiled micro-kernel: for a < kQueries and b < kRows,
//   out[a * out_stride + b] = metric(queries + a * dim, rows + b * dim).
// REQUIRES 1 <= kQueries; 1 <= kRows <= 4. dim may be 0 (every result is then 0).
// Keeps kQueries * kRows accumulators in registers; when there are fewer than 8 (too few to
// hide the FMA latency) it unrolls over dim with independent accumulator sets instead.
// V::Vec registers in use: kUnroll * kQueries * kRows + kRows + 1 (+ 1 for kL2sq); callers pick
// tiles that fit the register file (16 on AVX2, 32 on AVX-512).
template <class V, Metric M, size_t kQueries, size_t kRows>
inline void Tile(const float* queries, const float* rows, size_t dim, float* out,
                 size_t out_stride) {
  static_assert(kQueries >= 1 && kRows >= 1 && kRows <= 4);
  using Vec = typename V::Vec;
  constexpr size_t kW = V::kWidth;
  constexpr size_t kTiles = kQueries * kRows;
  constexpr size_t kUnroll = kTiles >= 8 ? 1 : (kTiles >= 4 ? 2 : 4);

  Vec acc[kUnroll][kQueries][kRows];
#pragma GCC unroll 4
  for (size_t u = 0; u < kUnroll; ++u) {
#pragma GCC unroll 8
    for (size_t a = 0; a < kQueries; ++a) {
#pragma GCC unroll 4
      for (size_t b = 0; b < kRows; ++b) acc[u][a][b] = V::Zero();
    }
  }

  size_t k = 0;
  for (; k + kUnroll * kW <= dim; k += kUnroll * kW) {
#pragma GCC unroll 4
    for (size_t u = 0; u < kUnroll; ++u) {
      const size_t ku = k + u * kW;
      Vec x[kRows];
#pragma GCC unroll 4
      for (size_t b = 0; b < kRows; ++b) x[b] = V::Load(rows + b * dim + ku);
#pragma GCC unroll 8
      for (size_t a = 0; a < kQueries; ++a) {
        const Vec q = V::Load(queries + a * dim + ku);
#pragma GCC unroll 4
        for (size_t b = 0; b < kRows; ++b) acc[u][a][b] = Accumulate<V, M>(acc[u][a][b], q, x[b]);
      }
    }
  }
  // Whole vectors left over when kUnroll > 1.
  for (; k + kW <= dim; k += kW) {
    Vec x[kRows];
#pragma GCC unroll 4
    for (size_t b = 0; b < kRows; ++b) x[b] = V::Load(rows + b * dim + k);
#pragma GCC unroll 8
    for (size_t a = 0; a < kQueries; ++a) {
      const Vec q = V::Load(queries + a * dim + k);
#pragma GCC unroll 4
      for (size_t b = 0; b < kRows; ++b) acc[0][a][b] = Accumulate<V, M>(acc[0][a][b], q, x[b]);
    }
  }
  // The last dim % kW floats.
  if (k < dim) {
    const size_t count = dim - k;
    Vec x[kRows];
#pragma GCC unroll 4
    for (size_t b = 0; b < kRows; ++b) x[b] = V::LoadPartial(rows + b * dim + k, count);
#pragma GCC unroll 8
    for (size_t a = 0; a < kQueries; ++a) {
      const Vec q = V::LoadPartial(queries + a * dim + k, count);
#pragma GCC unroll 4
      for (size_t b = 0; b < kRows; ++b) {
        acc[kUnroll - 1][a][b] = Accumulate<V, M>(acc[kUnroll - 1][a][b], q, x[b]);
      }
    }
  }

#pragma GCC unroll 4
  for (size_t u = 1; u < kUnroll; ++u) {
#pragma GCC unroll 8
    for (size_t a = 0; a < kQueries; ++a) {
#pragma GCC unroll 4
      for (size_t b = 0; b < kRows; ++b) acc[0][a][b] = V::Add(acc[0][a][b], acc[u][a][b]);
    }
  }
#pragma GCC unroll 8
  for (size_t a = 0; a < kQueries; ++a) {
    float* out_a = out + a * out_stride;
    if constexpr (kRows == 1) {
      out_a[0] = V::Sum(acc[0][a][0]);
    } else {
      Vec r[4] = {V::Zero(), V::Zero(), V::Zero(), V::Zero()};
#pragma GCC unroll 4
      for (size_t b = 0; b < kRows; ++b) r[b] = acc[0][a][b];
      if constexpr (kRows == 4) {
        V::Sum4(r[0], r[1], r[2], r[3], out_a);
      } else {
        float sums[4];
        V::Sum4(r[0], r[1], r[2], r[3], sums);
#pragma GCC unroll 4
        for (size_t b = 0; b < kRows; ++b) out_a[b] = sums[b];
      }
    }
  }
}

// metric(a[0..dim), b[0..dim)).
template <class V, Metric M>
float Pair(const float* a, const float* b, size_t dim) {
  float out;
  Tile<V, M, 1, 1>(a, b, dim, &out, 0);
  return out;
}

// Above this many bytes, Many() takes its rows to come from memory rather than from L2.
inline constexpr size_t kStreamingBytes = size_t{2} << 20;

// out[i] = metric(query, rows + i * dim) for i < n.
// Rows that fit in cache go four at a time, so that each load of the query serves four rows
// (1.5x faster than one at a time, in L1 or L2). Rows streamed from memory go one at a time:
// the four-row tile reads four streams 4 * dim floats apart, which the hardware prefetchers
// follow badly (on Zen 3 at dim 384 it reached 70% of a plain read's bandwidth, against 90%
// one row at a time; software prefetching did not close the gap).
template <class V, Metric M>
void Many(const float* query, const float* rows, size_t n, size_t dim, float* out) {
  if (n * dim * sizeof(float) > kStreamingBytes) {
    for (size_t i = 0; i < n; ++i) Tile<V, M, 1, 1>(query, rows + i * dim, dim, out + i, 0);
    return;
  }
  size_t i = 0;
  for (; i + 4 <= n; i += 4) Tile<V, M, 1, 4>(query, rows + i * dim, dim, out + i, 0);
  for (; i < n; ++i) Tile<V, M, 1, 1>(query, rows + i * dim, dim, out + i, 0);
}

// Rows [first, last) against kQueries queries: out[a * n + i] for a < kQueries, first <= i < last.
template <class V, Metric M, size_t kQueries, size_t kRows>
void RowRange(const float* queries, const float* rows, size_t first, size_t last, size_t n,
              size_t dim, float* out) {
  size_t i = first;
  for (; i + kRows <= last; i += kRows) {
    Tile<V, M, kQueries, kRows>(queries, rows + i * dim, dim, out + i, n);
  }
  for (; i < last; ++i) Tile<V, M, kQueries, 1>(queries, rows + i * dim, dim, out + i, n);
}

// Cache blocking of Block(): a tile of rows (about kRowTileBytes) stays in L2 while every group
// of kQueries queries (in L1) runs over it, so each row is read from memory once per tile of
// queries (about kQueryTileBytes, i.e. once in all for up to ~680 queries of dim 384). The
// queries of a tile need not fit in L2: each group is read once per row tile, from L3 at worst.
// On Zen 3 (512 KiB L2), row tiles of 96-192 KiB ran at the same speed, 384 KiB was 5% slower;
// query tiles of 256 KiB or more ran at the same speed, 64 KiB (rows read twice) 20% slower.
inline constexpr size_t kRowTileBytes = 192 * 1024;
inline constexpr size_t kQueryTileBytes = 1024 * 1024;

// out[q * n + i] = metric(queries + q * dim, rows + i * dim) for q < nq, i < n.
template <class V, Metric M, size_t kQueries, size_t kRows>
void Block(const float* queries, size_t nq, const float* rows, size_t n, size_t dim, float* out) {
  if (nq == 0 || n == 0) return;
  // One query gains nothing from blocking, and Many() streams large inputs better.
  if (nq == 1) return Many<V, M>(queries, rows, n, dim, out);
  const size_t row_bytes = (dim == 0 ? 1 : dim) * sizeof(float);
  // Tiles hold a whole number of micro-kernel tiles, at least one.
  size_t rows_per_tile = kRowTileBytes / row_bytes / kRows * kRows;
  if (rows_per_tile == 0) rows_per_tile = kRows;
  size_t queries_per_tile = kQueryTileBytes / row_bytes / kQueries * kQueries;
  if (queries_per_tile == 0) queries_per_tile = kQueries;

  for (size_t q0 = 0; q0 < nq; q0 += queries_per_tile) {
    const size_t q1 = nq - q0 <= queries_per_tile ? nq : q0 + queries_per_tile;
    for (size_t i0 = 0; i0 < n; i0 += rows_per_tile) {
      const size_t i1 = n - i0 <= rows_per_tile ? n : i0 + rows_per_tile;
      size_t q = q0;
      for (; q + kQueries <= q1; q += kQueries) {
        RowRange<V, M, kQueries, kRows>(queries + q * dim, rows, i0, i1, n, dim, out + q * n);
      }
      for (; q < q1; ++q) {
        RowRange<V, M, 1, 4>(queries + q * dim, rows, i0, i1, n, dim, out + q * n);
      }
    }
  }
}

}  // namespace nearstore::simd::internal

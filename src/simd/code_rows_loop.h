// The row loop of dot_u8i8_rows (see distance.h), over a one-row kernel, with the rows' codes
// requested kRowsAhead rows before they are read: a graph walk measures the unvisited
// neighbours of a node, rows scattered over the whole code array, so each is a cache miss and
// several must be in flight at once.
//
// `static` and a template over the one-row function: each kernel file instantiates it with its
// own function, compiled for its own instruction set (see bit_planes_loop.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace nearstore::simd::internal {

// Rows requested ahead of the one being measured (the walk's setting before this loop moved
// here: measured on WordNet by alternating settings in one process).
inline constexpr size_t kRowsAhead = 10;

template <int32_t (*Dot)(const uint8_t*, const int8_t*, size_t)>
static inline void DotU8I8RowsLoop(const uint8_t* codes, size_t stride, const uint32_t* rows,
                                   size_t count, const int8_t* query, size_t n, int32_t* out) {
  auto request = [&](size_t i) {
    const char* p = reinterpret_cast<const char*>(codes + rows[i] * stride);
    for (size_t off = 0; off < n; off += 64) __builtin_prefetch(p + off);
  };
  const size_t ahead = count < kRowsAhead ? count : kRowsAhead;
  for (size_t i = 0; i < ahead; ++i) request(i);
  for (size_t i = 0; i < count; ++i) {
    if (i + ahead < count) request(i + ahead);
    out[i] = Dot(codes + rows[i] * stride, query, n);
  }
}

}  // namespace nearstore::simd::internal

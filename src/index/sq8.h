// Sq8Codes: 8-bit scalar quantization of a set of vectors (the rows of a segment), for graph
// walks that read a quarter of the bytes of float32 vectors.
//
// Training takes each dimension's range over the rows: x_d ~ min_d + step_d * c_d with c_d a
// byte, step_d = (max_d - min_d) / 255. A query is not quantized that coarsely: the inner product
// with a decoded row is
//     q . x^ = sum_d q_d min_d + sum_d (q_d step_d) c_d,
// and the weights w_d = q_d step_d are rounded to signed bytes on a per-query scale (1/127 of the
// largest), so the second sum is one exact integer dot product of bytes (simd dot_u8i8: VNNI
// where the CPU has it). Squared Euclidean distance follows from the same product and the
// decoded rows' squared norms, stored per row: |q|^2 - 2 q.x^ + |x^|^2.
// The estimates rank candidates; the engine re-ranks the best of them on the float32 vectors.
//
// Thread-safety: immutable once built or viewed; an Sq8Query belongs to one search at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "index/graph_metric.h"
#include "nearstore/status.h"
#include "nearstore/types.h"

namespace nearstore::index {

class Sq8Query;

// A kind of codes (codes.h).
class Sq8Codes {
 public:
  static constexpr std::string_view kName = "sq8";
  static constexpr uint32_t kDefaultRerank = kDefaultRerankSq8;
  using Query = Sq8Query;

  Sq8Codes() = default;
  Sq8Codes(Sq8Codes&&) noexcept = default;
  Sq8Codes& operator=(Sq8Codes&&) noexcept = default;

  // Trains the ranges on the n rows of `vectors` and encodes them.
  static Sq8Codes Train(const float* vectors, uint64_t n, uint32_t dim);

  // The bytes (format in docs/FORMATS.md, "SQ8 codes"), to be stored by the caller.
  std::string Encode() const;
  // Codes over `bytes` (kept alive by the caller, 8-byte aligned), validated: sizes exact and
  // ranges and norms finite. Corruption naming `path` otherwise.
  [[nodiscard]] static Result<Sq8Codes> View(std::string_view bytes, uint64_t n, uint32_t dim,
                                             const std::string& path);
  // Whether `bytes` start as SQ8 codes do (their magic).
  static bool Holds(std::string_view bytes);

  uint64_t size() const { return n_; }
  uint32_t dim() const { return dim_; }
  const uint8_t* codes(uint32_t node) const { return codes_ + uint64_t{node} * dim_; }
  float norm2(uint32_t node) const { return norms_[node]; }
  const float* mins() const { return mins_; }
  const float* steps() const { return steps_; }
  // Bytes of the codes and their per-row and per-dimension data.
  uint64_t memory_bytes() const;

 private:
  uint64_t n_ = 0;
  uint32_t dim_ = 0;
  const float* mins_ = nullptr;
  const float* steps_ = nullptr;
  const float* norms_ = nullptr;
  const uint8_t* codes_ = nullptr;
  std::vector<float> owned_floats_;  // mins, steps, norms (built)
  std::vector<uint8_t> owned_codes_;
};

// A query prepared for one set of codes (QueryDistances, query_distances.h); reused across
// searches (Prepare does not allocate once its buffer has grown to the dimension).
class Sq8Query {
 public:
  static constexpr bool kExact = false;

  void Prepare(const Sq8Codes& codes, const float* query, GraphMetric metric);
  // The estimated ranking distance (squared Euclidean, or minus the inner product) to `node`.
  // Inline: called for every node a walk visits.
  float Distance(uint32_t node) const {
    const float dot =
        offset_ + scale_ * static_cast<float>(dot_(codes_->codes(node), weights_.data(), dim_));
    return l2_ ? query_norm2_ - 2.0f * dot + codes_->norm2(node) : -dot;
  }
  // Distance() of each of `count` nodes, into out[0..count): one kernel call, which requests
  // the rows' codes several rows ahead of measuring them.
  void Distances(const uint32_t* nodes, size_t count, float* out) const;
  // Asks for every cache line of the node's codes ahead of use (a hint: never faults).
  void Prefetch(uint32_t node) const {
    const char* p = reinterpret_cast<const char*>(codes_->codes(node));
    for (uint32_t off = 0; off < dim_; off += 64) __builtin_prefetch(p + off);
  }

 private:
  const Sq8Codes* codes_ = nullptr;
  uint32_t dim_ = 0;
  bool l2_ = false;
  std::vector<int8_t> weights_;
  float scale_ = 0;   // the weights' unit
  float offset_ = 0;  // sum_d q_d min_d
  float query_norm2_ = 0;
  int32_t (*dot_)(const uint8_t*, const int8_t*, size_t) = nullptr;
  void (*dot_rows_)(const uint8_t*, size_t, const uint32_t*, size_t, const int8_t*, size_t,
                    int32_t*) = nullptr;
  mutable std::vector<int32_t> dots_;  // Distances' products (grows, then reused)
};

}  // namespace nearstore::index

// BinaryCodes: 1-bit quantization of a set of vectors (the rows of a segment), for graph walks
// that read 1/32 of the bytes of float32 vectors. Made for high-dimensional models (768-d and
// up), where one bit per dimension still separates neighbours well.
//
// Training takes the rows' mean mu. Row x is stored as the signs of its residual r = x - mu,
// bit b_d = (r_d >= 0), read as s_d = 2 b_d - 1 in {-1, +1}, with one scale per row,
//     alpha = |r|^2 / |r|_1,
// so that x ~ mu + alpha s, the scale that makes the estimate of r.r exact (alpha s.r = |r|^2).
// The query is not reduced to bits: it is quantized to 4 bits per dimension on its own range
// (q_d ~ lo + delta u_d, u_d in 0..15) and kept as 4 bit planes, so that
//     q.x^ = q.mu + alpha (2 q.b - sum_d q_d),   q.b ~ lo |b| + delta sum_j 2^j popcount(P_j & b)
// costs five popcounts per 64 dimensions (simd bit_planes_dot: AVX-512 VPOPCNTDQ where the
// CPU has it). This asymmetric estimate ranks far better than the Hamming distance of two
// sign vectors (on 384-d MiniLM embeddings, 0.95 against 0.82 of the true 10 nearest among
// the 40 best estimates). Squared Euclidean distance adds the rows' exact squared norms:
// |q|^2 - 2 q.x^ + |x|^2.
// The estimates only rank candidates; the engine re-ranks the best of them on the floats.
//
// Each row's record keeps its scalars next to its bits, so one node is one or two cache
// lines: {alpha f32, |b| u32, |x|^2 f32, 0 u32, bits as ceil(dim / 64) u64 words}.
//
// Thread-safety: immutable once built or viewed; a BinaryQuery belongs to one search at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "index/graph_metric.h"
#include "index/query_distances.h"
#include "nearstore/status.h"
#include "nearstore/types.h"

namespace nearstore::index {

class BinaryQuery;

// A kind of codes (codes.h).
class BinaryCodes {
 public:
  static constexpr std::string_view kName = "binary";
  static constexpr uint32_t kDefaultRerank = kDefaultRerankBinary;
  using Query = BinaryQuery;

  BinaryCodes() = default;
  BinaryCodes(BinaryCodes&&) noexcept = default;
  BinaryCodes& operator=(BinaryCodes&&) noexcept = default;

  // Trains the mean on the n rows of `vectors` and encodes them.
  static BinaryCodes Train(const float* vectors, uint64_t n, uint32_t dim);

  // The bytes (format in docs/FORMATS.md, "Binary codes"), to be stored by the caller.
  std::string Encode() const;
  // Codes over `bytes` (kept alive by the caller, 8-byte aligned), validated: sizes exact, the
  // mean and every row's scalars finite, bit counts true. Corruption naming `path` otherwise.
  [[nodiscard]] static Result<BinaryCodes> View(std::string_view bytes, uint64_t n, uint32_t dim,
                                                const std::string& path);
  // Whether `bytes` start as binary codes do (their magic).
  static bool Holds(std::string_view bytes);

  uint64_t size() const { return n_; }
  uint32_t dim() const { return dim_; }
  uint32_t words() const { return words_; }
  const float* mean() const { return mean_; }
  // Row `node`'s record: scalars, then bits.
  const uint64_t* record(uint32_t node) const { return records_ + uint64_t{node} * stride_; }
  static float Scale(const uint64_t* record) { return reinterpret_cast<const float*>(record)[0]; }
  static uint32_t Ones(const uint64_t* record) {
    return reinterpret_cast<const uint32_t*>(record)[1];
  }
  static float Norm2(const uint64_t* record) { return reinterpret_cast<const float*>(record)[2]; }
  static const uint64_t* Bits(const uint64_t* record) { return record + kScalarWords; }
  // Bytes of the records and the mean.
  uint64_t memory_bytes() const;

  // 64-bit words of scalars at the start of each record.
  static constexpr uint32_t kScalarWords = 2;

 private:
  uint64_t n_ = 0;
  uint32_t dim_ = 0;
  uint32_t words_ = 0;   // ceil(dim / 64)
  uint32_t stride_ = 0;  // words per record
  const float* mean_ = nullptr;
  const uint64_t* records_ = nullptr;
  std::vector<float> owned_mean_;
  std::vector<uint64_t> owned_records_;
};

// A query prepared for one set of codes (QueryDistances, query_distances.h); reused across
// searches (Prepare does not allocate once its buffer has grown to the dimension).
class BinaryQuery {
 public:
  static constexpr bool kExact = false;
  // Rows ahead whose records are requested (query_distances.h, MeasureAhead): a record of
  // 384-d is 64 bytes, like a row of SQ8 codes.
  static constexpr size_t kPrefetchAhead = 10;

  void Prepare(const BinaryCodes& codes, const float* query, GraphMetric metric);
  // The estimated ranking distance (squared Euclidean, or minus the inner product) to `node`.
  // Inline: called for every node a walk visits.
  float Distance(uint32_t node) const {
    const uint64_t* r = codes_->record(node);
    const float weighted =
        static_cast<float>(planes_dot_(BinaryCodes::Bits(r), planes_.data(), words_));
    // q.b, then q.x^ = q.mu + alpha (2 q.b - sum q).
    const float qb = lo_ * static_cast<float>(BinaryCodes::Ones(r)) + delta_ * weighted;
    const float dot = query_mean_ + BinaryCodes::Scale(r) * (2.0f * qb - query_sum_);
    return l2_ ? query_norm2_ - 2.0f * dot + BinaryCodes::Norm2(r) : -dot;
  }
  // Asks for every cache line of the node's record ahead of use (a hint: never faults).
  void Prefetch(uint32_t node) const {
    const char* p = reinterpret_cast<const char*>(codes_->record(node));
    for (uint32_t off = 0; off < record_bytes_; off += 64) __builtin_prefetch(p + off);
  }
  void Distances(const uint32_t* nodes, size_t count, float* out) const {
    MeasureAhead(*this, nodes, count, kPrefetchAhead, out);
  }

 private:
  const BinaryCodes* codes_ = nullptr;
  uint32_t words_ = 0;
  uint32_t record_bytes_ = 0;
  bool l2_ = false;
  std::vector<uint64_t> planes_;  // kBitPlanes planes of words_ words
  float lo_ = 0, delta_ = 0;      // q_d ~ lo + delta u_d
  float query_mean_ = 0;          // q.mu
  float query_sum_ = 0;           // sum_d q_d
  float query_norm2_ = 0;
  uint32_t (*planes_dot_)(const uint64_t*, const uint64_t*, size_t) = nullptr;
};

}  // namespace nearstore::index

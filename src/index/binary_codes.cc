#include "index/binary_codes.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "index/codes_header.h"
#include "simd/distance.h"
#include "storage/coding.h"

namespace nearstore::index {
namespace {

constexpr uint32_t kMagic = 0x314e4942;  // "BIN1" little-endian
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = kCodesHeaderBytes;

using storage::PadTo8;

uint32_t WordsFor(uint32_t dim) { return (dim + 63) / 64; }

struct Layout {
  uint64_t mean, records, total;
};

Layout LayoutFor(uint64_t n, uint32_t dim) {
  Layout l;
  l.mean = kHeaderBytes;
  l.records = PadTo8(l.mean + uint64_t{dim} * 4);
  l.total = l.records + n * (BinaryCodes::kScalarWords + WordsFor(dim)) * 8;
  return l;
}

Status Damaged(const std::string& path, const std::string& what) {
  return Status::Corruption("binary codes in " + path + ": " + what);
}

// Writes row record scalars: alpha, |b|, |x|^2, and a zero word.
void PutScalars(uint64_t* record, float alpha, uint32_t ones, float norm2) {
  auto* words = reinterpret_cast<unsigned char*>(record);
  std::memset(words, 0, BinaryCodes::kScalarWords * 8);
  std::memcpy(words, &alpha, 4);
  std::memcpy(words + 4, &ones, 4);
  std::memcpy(words + 8, &norm2, 4);
}

}  // namespace

BinaryCodes BinaryCodes::Train(const float* vectors, uint64_t n, uint32_t dim) {
  BinaryCodes c;
  c.n_ = n;
  c.dim_ = dim;
  c.words_ = WordsFor(dim);
  c.stride_ = kScalarWords + c.words_;
  std::vector<double> sum(dim, 0.0);
  for (uint64_t i = 0; i < n; ++i) {
    for (uint32_t d = 0; d < dim; ++d) sum[d] += vectors[i * dim + d];
  }
  c.owned_mean_.resize(dim);
  for (uint32_t d = 0; d < dim; ++d) {
    c.owned_mean_[d] = n > 0 ? static_cast<float>(sum[d] / static_cast<double>(n)) : 0.0f;
  }
  c.owned_records_.assign(n * c.stride_, 0);
  for (uint64_t i = 0; i < n; ++i) {
    const float* v = vectors + i * dim;
    uint64_t* record = c.owned_records_.data() + i * c.stride_;
    uint64_t* bits = record + kScalarWords;
    double l1 = 0, l2 = 0, norm2 = 0;
    uint32_t ones = 0;
    for (uint32_t d = 0; d < dim; ++d) {
      const double r = double{v[d]} - c.owned_mean_[d];
      l1 += std::abs(r);
      l2 += r * r;
      norm2 += double{v[d]} * v[d];
      if (r >= 0) {
        bits[d / 64] |= uint64_t{1} << (d % 64);
        ++ones;
      }
    }
    // A row equal to the mean has no direction: scale 0 estimates it as the mean itself.
    const float alpha = l1 > 0 ? static_cast<float>(l2 / l1) : 0.0f;
    PutScalars(record, alpha, ones, static_cast<float>(norm2));
  }
  c.mean_ = c.owned_mean_.data();
  c.records_ = c.owned_records_.data();
  return c;
}

uint64_t BinaryCodes::memory_bytes() const { return LayoutFor(n_, dim_).total - kHeaderBytes; }

bool BinaryCodes::Holds(std::string_view bytes) {
  return bytes.size() >= 4 && storage::LoadU32(bytes.data()) == kMagic;
}

std::string BinaryCodes::Encode() const {
  const Layout layout = LayoutFor(n_, dim_);
  std::string out;
  out.reserve(layout.total);
  PutCodesHeader(&out, kMagic, kVersion, dim_, n_);
  out.append(reinterpret_cast<const char*>(mean_), uint64_t{dim_} * 4);
  out.resize(layout.records, '\0');
  out.append(reinterpret_cast<const char*>(records_), n_ * stride_ * 8);
  return out;
}

Result<BinaryCodes> BinaryCodes::View(std::string_view bytes, uint64_t n, uint32_t dim,
                                      const std::string& path) {
  NEARSTORE_RETURN_IF_ERROR(CheckCodesHeader(
      bytes, kMagic, kVersion, n, dim,
      [](uint64_t rows, uint32_t d) { return LayoutFor(rows, d).total; }, "binary codes", path));
  const Layout layout = LayoutFor(n, dim);
  const char* p = bytes.data();
  BinaryCodes c;
  c.n_ = n;
  c.dim_ = dim;
  c.words_ = WordsFor(dim);
  c.stride_ = kScalarWords + c.words_;
  c.mean_ = reinterpret_cast<const float*>(p + layout.mean);
  c.records_ = reinterpret_cast<const uint64_t*>(p + layout.records);
  for (uint32_t d = 0; d < dim; ++d) {
    if (!std::isfinite(c.mean_[d])) {
      return Damaged(path, "mean of dimension " + std::to_string(d) + " is not finite");
    }
  }
  // Non-finite scalars would turn estimates into NaN (which breaks the heaps' order); a wrong
  // bit count or a bit past the dimension would skew them silently.
  const uint64_t tail_mask = dim % 64 == 0 ? 0 : ~uint64_t{0} << (dim % 64);
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t* r = c.record(static_cast<uint32_t>(i));
    const uint64_t* bits = Bits(r);
    uint32_t ones = 0;
    for (uint32_t w = 0; w < c.words_; ++w) ones += static_cast<uint32_t>(std::popcount(bits[w]));
    if (!std::isfinite(Scale(r)) || Scale(r) < 0 || !std::isfinite(Norm2(r)) || Norm2(r) < 0 ||
        Ones(r) != ones || (c.words_ > 0 && (bits[c.words_ - 1] & tail_mask) != 0)) {
      return Damaged(path, "record of row " + std::to_string(i));
    }
  }
  return c;
}

void BinaryQuery::Prepare(const BinaryCodes& codes, const float* query, GraphMetric metric) {
  const uint32_t dim = codes.dim();
  codes_ = &codes;
  words_ = codes.words();
  record_bytes_ = (BinaryCodes::kScalarWords + words_) * 8;
  l2_ = metric == GraphMetric::kL2;
  planes_dot_ = simd::Kernels().bit_planes_dot;
  double mean_dot = 0, sum = 0, norm2 = 0;
  float lo = 0, hi = 0;
  if (dim > 0) lo = hi = query[0];
  for (uint32_t d = 0; d < dim; ++d) {
    mean_dot += double{query[d]} * codes.mean()[d];
    sum += query[d];
    norm2 += double{query[d]} * query[d];
    lo = std::min(lo, query[d]);
    hi = std::max(hi, query[d]);
  }
  constexpr float kLevels = (1u << simd::kBitPlanes) - 1;  // 15
  const float delta = hi > lo ? (hi - lo) / kLevels : 0.0f;
  planes_.assign(simd::kBitPlanes * words_, 0);
  for (uint32_t d = 0; d < dim; ++d) {
    const float u = delta > 0 ? std::round((query[d] - lo) / delta) : 0.0f;
    const auto level = static_cast<uint32_t>(std::clamp(u, 0.0f, kLevels));
    for (uint32_t j = 0; j < simd::kBitPlanes; ++j) {
      if ((level >> j) & 1u) planes_[j * words_ + d / 64] |= uint64_t{1} << (d % 64);
    }
  }
  lo_ = lo;
  delta_ = delta;
  query_mean_ = static_cast<float>(mean_dot);
  query_sum_ = static_cast<float>(sum);
  query_norm2_ = static_cast<float>(norm2);
}

}  // namespace nearstore::index

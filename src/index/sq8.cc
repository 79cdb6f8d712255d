#include "index/sq8.h"

#include <algorithm>
#include <cmath>

#include "index/codes_header.h"
#include "simd/distance.h"
#include "storage/coding.h"

namespace nearstore::index {
namespace {

constexpr uint32_t kMagic = 0x00385153;  // "SQ8\0" little-endian
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = kCodesHeaderBytes;

using storage::PadTo8;

struct Layout {
  uint64_t mins, steps, norms, codes, total;
};

Layout LayoutFor(uint64_t n, uint32_t dim) {
  Layout l;
  l.mins = kHeaderBytes;
  l.steps = l.mins + uint64_t{dim} * 4;
  l.norms = l.steps + uint64_t{dim} * 4;
  l.codes = PadTo8(l.norms + n * 4);
  l.total = PadTo8(l.codes + n * dim);
  return l;
}

Status Damaged(const std::string& path, const std::string& what) {
  return Status::Corruption("SQ8 codes in " + path + ": " + what);
}

}  // namespace

Sq8Codes Sq8Codes::Train(const float* vectors, uint64_t n, uint32_t dim) {
  Sq8Codes c;
  c.n_ = n;
  c.dim_ = dim;
  c.owned_floats_.assign(2 * uint64_t{dim} + n, 0.0f);
  float* mins = c.owned_floats_.data();
  float* steps = mins + dim;
  float* norms = steps + dim;
  std::vector<float> maxs(dim, 0.0f);
  if (n > 0) {
    std::copy(vectors, vectors + dim, mins);
    std::copy(vectors, vectors + dim, maxs.begin());
  }
  for (uint64_t i = 1; i < n; ++i) {
    const float* v = vectors + i * dim;
    for (uint32_t d = 0; d < dim; ++d) {
      mins[d] = std::min(mins[d], v[d]);
      maxs[d] = std::max(maxs[d], v[d]);
    }
  }
  for (uint32_t d = 0; d < dim; ++d) steps[d] = (maxs[d] - mins[d]) / 255.0f;
  c.owned_codes_.resize(n * dim);
  for (uint64_t i = 0; i < n; ++i) {
    const float* v = vectors + i * dim;
    uint8_t* code = c.owned_codes_.data() + i * dim;
    double norm2 = 0;
    for (uint32_t d = 0; d < dim; ++d) {
      const float x = steps[d] > 0 ? std::round((v[d] - mins[d]) / steps[d]) : 0.0f;
      code[d] = static_cast<uint8_t>(std::clamp(x, 0.0f, 255.0f));
      const double decoded = double{mins[d]} + double{steps[d]} * code[d];
      norm2 += decoded * decoded;
    }
    norms[i] = static_cast<float>(norm2);
  }
  c.mins_ = mins;
  c.steps_ = steps;
  c.norms_ = norms;
  c.codes_ = c.owned_codes_.data();
  return c;
}

bool Sq8Codes::Holds(std::string_view bytes) {
  return bytes.size() >= 4 && storage::LoadU32(bytes.data()) == kMagic;
}

uint64_t Sq8Codes::memory_bytes() const { return LayoutFor(n_, dim_).total - kHeaderBytes; }

std::string Sq8Codes::Encode() const {
  const Layout layout = LayoutFor(n_, dim_);
  std::string out;
  out.reserve(layout.total);
  PutCodesHeader(&out, kMagic, kVersion, dim_, n_);
  out.append(reinterpret_cast<const char*>(mins_), uint64_t{dim_} * 4);
  out.append(reinterpret_cast<const char*>(steps_), uint64_t{dim_} * 4);
  out.append(reinterpret_cast<const char*>(norms_), n_ * 4);
  out.resize(layout.codes, '\0');
  out.append(reinterpret_cast<const char*>(codes_), n_ * dim_);
  out.resize(layout.total, '\0');
  return out;
}

Result<Sq8Codes> Sq8Codes::View(std::string_view bytes, uint64_t n, uint32_t dim,
                                const std::string& path) {
  NEARSTORE_RETURN_IF_ERROR(CheckCodesHeader(
      bytes, kMagic, kVersion, n, dim,
      [](uint64_t rows, uint32_t d) { return LayoutFor(rows, d).total; }, "SQ8 codes", path));
  const Layout layout = LayoutFor(n, dim);
  const char* p = bytes.data();
  Sq8Codes c;
  c.n_ = n;
  c.dim_ = dim;
  c.mins_ = reinterpret_cast<const float*>(p + layout.mins);
  c.steps_ = reinterpret_cast<const float*>(p + layout.steps);
  c.norms_ = reinterpret_cast<const float*>(p + layout.norms);
  c.codes_ = reinterpret_cast<const uint8_t*>(p + layout.codes);
  // Non-finite ranges would turn every estimate into NaN, which breaks the heaps' order.
  for (uint32_t d = 0; d < dim; ++d) {
    if (!std::isfinite(c.mins_[d]) || !std::isfinite(c.steps_[d]) || c.steps_[d] < 0) {
      return Damaged(path, "range of dimension " + std::to_string(d) + " is not finite");
    }
  }
  for (uint64_t i = 0; i < n; ++i) {
    if (!std::isfinite(c.norms_[i])) return Damaged(path, "norm of row " + std::to_string(i));
  }
  return c;
}

void Sq8Query::Distances(const uint32_t* nodes, size_t count, float* out) const {
  if (dots_.size() < count) dots_.resize(count);
  dot_rows_(codes_->codes(0), dim_, nodes, count, weights_.data(), dim_, dots_.data());
  for (size_t i = 0; i < count; ++i) {
    const float dot = offset_ + scale_ * static_cast<float>(dots_[i]);
    out[i] = l2_ ? query_norm2_ - 2.0f * dot + codes_->norm2(nodes[i]) : -dot;
  }
}

void Sq8Query::Prepare(const Sq8Codes& codes, const float* query, GraphMetric metric) {
  const uint32_t dim = codes.dim();
  codes_ = &codes;
  dim_ = dim;
  l2_ = metric == GraphMetric::kL2;
  dot_ = simd::Kernels().dot_u8i8;
  dot_rows_ = simd::Kernels().dot_u8i8_rows;
  weights_.resize(dim);
  double offset = 0, norm2 = 0;
  float largest = 0;
  for (uint32_t d = 0; d < dim; ++d) {
    offset += double{query[d]} * codes.mins()[d];
    norm2 += double{query[d]} * query[d];
    largest = std::max(largest, std::abs(query[d] * codes.steps()[d]));
  }
  scale_ = largest > 0 ? largest / 127.0f : 1.0f;
  for (uint32_t d = 0; d < dim; ++d) {
    const float w = std::round(query[d] * codes.steps()[d] / scale_);
    weights_[d] = static_cast<int8_t>(std::clamp(w, -127.0f, 127.0f));
  }
  offset_ = static_cast<float>(offset);
  query_norm2_ = static_cast<float>(norm2);
}

}  // namespace nearstore::index

#include "engine/validate.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/index_settings.h"
#include "filter/filter.h"
#include "index/codes.h"
#include "index/hnsw.h"
#include "storage/json_text.h"

namespace nearstore::engine {

Status ValidateCollectionName(std::string_view name) {
  if (name.empty() || name.size() > kMaxCollectionNameBytes) {
    return Status::InvalidArgument("collection name must be 1.." +
                                   std::to_string(kMaxCollectionNameBytes) + " bytes, got " +
                                   std::to_string(name.size()));
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) {
      return Status::InvalidArgument("collection name '" + std::string(name) +
                                     "' may hold only letters, digits, '_', '-' and '.'");
    }
  }
  if (name == "." || name == "..") {
    return Status::InvalidArgument("collection name '" + std::string(name) + "' is reserved");
  }
  return Status::Ok();
}

Status ValidateDimension(uint64_t dim) {
  if (dim < 1 || dim > kMaxDimension) {
    return Status::InvalidArgument("dimension must be 1.." + std::to_string(kMaxDimension) +
                                   ", got " + std::to_string(dim));
  }
  return Status::Ok();
}

Status ValidateId(std::string_view id) {
  if (id.empty()) return Status::InvalidArgument("point id must not be empty");
  if (id.size() > kMaxIdBytes) {
    return Status::InvalidArgument("point id of " + std::to_string(id.size()) +
                                   " bytes is too long; the limit is " +
                                   std::to_string(kMaxIdBytes) + " bytes");
  }
  return Status::Ok();
}

Status PrepareVector(std::span<const float> in, uint32_t dim, Metric metric,
                     std::string_view collection, std::string_view what, float* out) {
  if (in.size() != dim) {
    return Status::InvalidArgument("dimension mismatch: collection '" + std::string(collection) +
                                   "' expects " + std::to_string(dim) + ", got " +
                                   std::to_string(in.size()) + " (" + std::string(what) + ")");
  }
  double norm2 = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!std::isfinite(in[i])) {
      return Status::InvalidArgument(std::string(what) + " has a non-finite value (" +
                                     std::to_string(in[i]) + ") at index " + std::to_string(i) +
                                     "; every component must be a finite number");
    }
    norm2 += static_cast<double>(in[i]) * in[i];
  }
  if (metric == Metric::kCosine) {
    if (norm2 == 0 || !std::isfinite(norm2)) {
      return Status::InvalidArgument(std::string(what) +
                                     " has zero norm; cosine distance needs a non-zero vector");
    }
    const double inv = 1.0 / std::sqrt(norm2);
    for (size_t i = 0; i < in.size(); ++i) out[i] = static_cast<float>(in[i] * inv);
  } else {
    std::copy(in.begin(), in.end(), out);
  }
  return Status::Ok();
}

Result<std::string> CanonicalMetadata(std::string_view text, std::string_view id) {
  if (text.empty()) return std::string("{}");
  if (text.size() > kMaxMetadataBytes) {
    return Status::InvalidArgument("metadata of '" + std::string(id) + "' is " +
                                   std::to_string(text.size()) + " bytes; the limit is " +
                                   std::to_string(kMaxMetadataBytes));
  }
  auto parsed = storage::ParseJson(text, kMaxJsonDepth, "metadata of '" + std::string(id) + "'");
  if (!parsed.ok()) {
    return Status::InvalidArgument(parsed.status().message() +
                                   "; expected a JSON object such as {\"text\": \"...\"}");
  }
  const nlohmann::json& doc = *parsed;
  if (!doc.is_object()) {
    return Status::InvalidArgument("metadata of '" + std::string(id) + "' is a JSON " +
                                   doc.type_name() + "; expected a JSON object");
  }
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status ValidateFieldPath(std::string_view field) {
  if (field.empty() || field.size() > kMaxFieldPathBytes) {
    return Status::InvalidArgument("field path must be 1.." + std::to_string(kMaxFieldPathBytes) +
                                   " bytes, got " + std::to_string(field.size()));
  }
  NEARSTORE_ASSIGN_OR_RETURN(auto parts, filter::SplitFieldPath(field));
  for (const auto& part : parts) {
    if (part[0] == '$') {
      return Status::InvalidArgument("field path '" + std::string(field) + "' has a part '" + part +
                                     "' starting with '$', which filters read as an " + "operator");
    }
  }
  return Status::Ok();
}

Status ValidateK(int k) {
  if (k < 1 || k > kMaxK) {
    return Status::InvalidArgument("k must be 1.." + std::to_string(kMaxK) + ", got " +
                                   std::to_string(k));
  }
  return Status::Ok();
}

Status ValidateEf(uint32_t ef) {
  if (ef > kMaxEf) {
    return Status::InvalidArgument("ef must be 0 (the collection's ef_search) or 1.." +
                                   std::to_string(kMaxEf) + ", got " + std::to_string(ef));
  }
  return Status::Ok();
}

Status ValidateSearchRerank(uint32_t rerank) {
  if (rerank > kMaxRerank) {
    return Status::InvalidArgument("rerank must be 0 (the collection's rerank) or 1.." +
                                   std::to_string(kMaxRerank) + ", got " + std::to_string(rerank));
  }
  return Status::Ok();
}

Status ValidateIndexOptions(const IndexOptions& index) {
  if (index.kind != IndexKind::kFlat && index.kind != IndexKind::kHnsw) {
    return Status::InvalidArgument("unknown index kind " +
                                   std::to_string(static_cast<uint32_t>(index.kind)));
  }
  NEARSTORE_RETURN_IF_ERROR(index::CheckHnswOptions(HnswOptionsOf(index)));
  if (static_cast<size_t>(index.quantization) >= index::kCodeKinds) {
    return Status::InvalidArgument("unknown quantization " +
                                   std::to_string(static_cast<uint32_t>(index.quantization)));
  }
  if (index.quantization != Quantization::kNone && index.kind != IndexKind::kHnsw) {
    return Status::InvalidArgument(std::string("quantization '") +
                                   QuantizationName(index.quantization) +
                                   "' needs index 'hnsw' (a flat collection searches exactly)");
  }
  if (index.rerank < 1 || index.rerank > kMaxRerank) {
    return Status::InvalidArgument("rerank must be 1.." + std::to_string(kMaxRerank) + ", got " +
                                   std::to_string(index.rerank));
  }
  return Status::Ok();
}

}  // namespace nearstore::engine

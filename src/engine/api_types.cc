// Out-of-line parts of the public value types (status.h, types.h).
#include <nlohmann/json.hpp>

#include "index/codes.h"
#include "nearstore/collection.h"
#include "nearstore/status.h"
#include "nearstore/types.h"

namespace nearstore {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case StatusCode::kNotFound:
      return "NotFound";
    case StatusCode::kAlreadyExists:
      return "AlreadyExists";
    case StatusCode::kCorruption:
      return "Corruption";
    case StatusCode::kIOError:
      return "IOError";
    case StatusCode::kBusy:
      return "Busy";
    case StatusCode::kFailedPrecondition:
      return "FailedPrecondition";
    case StatusCode::kInternal:
      return "Internal";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_);
}

const char* PayloadIndexKindName(PayloadIndexKind kind) {
  switch (kind) {
    case PayloadIndexKind::kKeyword:
      return "keyword";
    case PayloadIndexKind::kInt:
      return "int";
    case PayloadIndexKind::kFloat:
      return "float";
    case PayloadIndexKind::kBool:
      return "bool";
  }
  return "unknown";
}

Result<PayloadIndexKind> ParsePayloadIndexKind(std::string_view name) {
  for (auto kind : {PayloadIndexKind::kKeyword, PayloadIndexKind::kInt, PayloadIndexKind::kFloat,
                    PayloadIndexKind::kBool}) {
    if (name == PayloadIndexKindName(kind)) return kind;
  }
  return Status::InvalidArgument("unknown payload index kind '" + std::string(name) +
                                 "'; expected keyword, int, float or bool");
}

const char* MetricName(Metric metric) {
  switch (metric) {
    case Metric::kCosine:
      return "cosine";
    case Metric::kL2:
      return "l2";
    case Metric::kDot:
      return "dot";
  }
  return "unknown";
}

Result<Metric> ParseMetric(std::string_view name) {
  if (name == "cosine") return Metric::kCosine;
  if (name == "l2" || name == "euclidean") return Metric::kL2;
  if (name == "dot" || name == "ip") return Metric::kDot;
  return Status::InvalidArgument("unknown metric '" + std::string(name) +
                                 "'; expected 'cosine', 'l2' or 'dot'");
}

const char* IndexKindName(IndexKind kind) {
  switch (kind) {
    case IndexKind::kFlat:
      return "flat";
    case IndexKind::kHnsw:
      return "hnsw";
  }
  return "unknown";
}

Result<IndexKind> ParseIndexKind(std::string_view name) {
  if (name == "flat") return IndexKind::kFlat;
  if (name == "hnsw") return IndexKind::kHnsw;
  return Status::InvalidArgument("unknown index '" + std::string(name) +
                                 "'; expected 'flat' or 'hnsw'");
}

// Quantizations are the kinds of codes of index/codes.h, numbered by their position there.
const char* QuantizationName(Quantization quantization) {
  const auto kind = static_cast<size_t>(quantization);
  // (kName is a string literal, so its data is terminated.)
  return kind < index::kCodeKinds ? index::CodeKindName(kind).data() : "unknown";
}

IndexOptions WithDefaults(IndexOptions index) {
  const auto kind = static_cast<size_t>(index.quantization);
  if (index.rerank == 0 && kind < index::kCodeKinds) {
    index.rerank = index::CodeKindDefaultRerank(kind);
  }
  return index;
}

Result<Quantization> ParseQuantization(std::string_view name) {
  if (const auto kind = index::FindCodeKind(name); kind.has_value()) {
    return static_cast<Quantization>(*kind);
  }
  std::string expected;
  for (size_t i = 0; i < index::kCodeKinds; ++i) {
    expected += i == 0 ? "'" : i + 1 < index::kCodeKinds ? ", '" : " or '";
    expected += std::string(index::CodeKindName(i)) + "'";
  }
  return Status::InvalidArgument("unknown quantization '" + std::string(name) + "'; expected " +
                                 expected);
}

Status CheckUpsertShape(const Collection& c, size_t ids, size_t rows, size_t width) {
  if (rows != ids) {
    return Status::InvalidArgument("got " + std::to_string(ids) + " ids and " +
                                   std::to_string(rows) + " vectors; expected one vector per id");
  }
  if (rows > 0 && width != c.dim()) {
    return Status::InvalidArgument("dimension mismatch: collection '" + c.name() + "' expects " +
                                   std::to_string(c.dim()) + ", got vectors of " +
                                   std::to_string(width));
  }
  return Status::Ok();
}

Status CheckQueryWidth(const Collection& c, size_t width) {
  if (width == c.dim()) return Status::Ok();
  return Status::InvalidArgument("dimension mismatch: collection '" + c.name() + "' expects " +
                                 std::to_string(c.dim()) + ", got queries of " +
                                 std::to_string(width));
}

std::string CollectionInfoToJson(const CollectionInfo& i) {
  const nlohmann::json doc = {{"name", i.name},
                              {"incarnation", i.incarnation},
                              {"dim", i.dim},
                              {"metric", MetricName(i.metric)},
                              {"count", i.count},
                              {"segments", i.segments},
                              {"segment_rows", i.segment_rows},
                              {"memtable_rows", i.memtable_rows},
                              {"disk_bytes", i.disk_bytes},
                              {"wal_bytes", i.wal_bytes},
                              {"index", IndexKindName(i.index.kind)},
                              {"m", i.index.m},
                              {"ef_construction", i.index.ef_construction},
                              {"ef_search", i.index.ef_search},
                              {"quantization", QuantizationName(i.index.quantization)},
                              {"rerank", i.index.rerank},
                              {"vector_bytes", i.vector_bytes},
                              {"graph_bytes", i.graph_bytes},
                              {"code_bytes", i.code_bytes},
                              {"indexed_rows", i.indexed_rows},
                              {"payload_index_bytes", i.payload_index_bytes}};
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace nearstore

#include "engine/index_settings.h"

#include "engine/validate.h"

namespace nearstore::engine {

// The public defaults are documented in nearstore/types.h, which cannot include the index's
// header: they must be the index's.
static_assert(IndexOptions{}.m == index::HnswOptions{}.m);
static_assert(IndexOptions{}.ef_construction == index::HnswOptions{}.ef_construction);
static_assert(IndexOptions{}.ef_search == index::HnswOptions{}.ef_search);

index::HnswOptions HnswOptionsOf(const IndexOptions& index) {
  return {.m = index.m, .ef_construction = index.ef_construction, .ef_search = index.ef_search};
}

storage::IndexEntry IndexEntryOf(const IndexOptions& index) {
  return {IndexKindName(index.kind), HnswOptionsOf(index), QuantizationName(index.quantization),
          index.rerank};
}

Result<IndexOptions> IndexOptionsOf(const storage::IndexEntry& entry) {
  NEARSTORE_ASSIGN_OR_RETURN(const IndexKind kind, ParseIndexKind(entry.kind));
  NEARSTORE_ASSIGN_OR_RETURN(const Quantization quantization,
                             ParseQuantization(entry.quantization));
  const IndexOptions index{
      kind,         entry.hnsw.m, entry.hnsw.ef_construction, entry.hnsw.ef_search,
      quantization, entry.rerank};
  NEARSTORE_RETURN_IF_ERROR(ValidateIndexOptions(index));
  return index;
}

}  // namespace nearstore::engine

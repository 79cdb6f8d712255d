// A collection's index settings in the three forms they take, converted in one place: the
// public IndexOptions (what users pass and Info reports), the index layer's HnswOptions (what a
// graph is built with; index/hnsw_options.h) and the MANIFEST's IndexEntry (the kind and the
// quantization by name, the HnswOptions as they are).
#pragma once

#include "index/hnsw_options.h"
#include "nearstore/status.h"
#include "nearstore/types.h"
#include "storage/manifest.h"

namespace nearstore::engine {

index::HnswOptions HnswOptionsOf(const IndexOptions& index);
storage::IndexEntry IndexEntryOf(const IndexOptions& index);
// The settings `entry` records, checked as a creation checks them (ValidateIndexOptions):
// InvalidArgument saying what is wrong otherwise.
[[nodiscard]] Result<IndexOptions> IndexOptionsOf(const storage::IndexEntry& entry);

}  // namespace nearstore::engine

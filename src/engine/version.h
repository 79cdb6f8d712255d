// What a reader sees of a collection: a Version (its row sources at one moment) and a Snapshot
// (a version and the newest sequence number visible in it). Published by the collection
// (CollectionImpl::PublishVersion), read by every search and scan.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/row_source.h"

namespace nearstore::engine {

// The row sources of a collection at one moment, oldest first. Immutable once published: a
// change makes a new Version, and a reader holding the old one keeps its sources (and their
// mapped files) alive.
struct Version {
  std::vector<std::shared_ptr<RowSource>> sources;
};

// What a reader sees: the sources, and the newest sequence number visible to it.
struct Snapshot {
  std::shared_ptr<const Version> version;
  uint64_t seq = 0;
};

}  // namespace nearstore::engine

// GatherInfo: what `nearstore info` shows about a database directory: its collections with
// their dimension, metric, live count, segments, rows, bytes on disk and payload indexes.
//
// It opens the database (Database::Open, which takes the write lock and runs recovery: a
// torn log tail is trimmed, leftovers are removed, replayed rows are sealed in the
// background). When another process holds the lock (Busy), it falls back to reading the
// MANIFEST, the logs and the file sizes without opening: nothing is written then, the live
// count is unknown, and the memtable rows are the rows logged since the last seal.
//
// Thread-safety: a free function over its arguments; safe to call from several threads (but
// only one of them can open a given directory at a time).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nearstore/status.h"
#include "nearstore/types.h"

namespace nearstore::cli {

struct CollectionSummary {
  std::string name;
  uint32_t dim = 0;
  std::string metric;
  std::string index;             // "flat" | "hnsw"
  std::optional<uint64_t> live;  // unknown when the database could not be opened
  uint64_t segments = 0;
  uint64_t segment_rows = 0;  // deleted ones included
  // Rows not yet sealed, deleted ones included. Without opening: the rows written by the logs
  // after the last seal; unknown when a log cannot be parsed.
  std::optional<uint64_t> memtable_rows;
  uint64_t disk_bytes = 0;                        // segment and log files
  std::vector<PayloadIndexInfo> payload_indexes;  // as defined (docs/FILTERS.md)
};

struct DatabaseSummary {
  std::string path;
  // True when the database was opened; false when it was locked by another process and this
  // summary comes from the MANIFEST and the file sizes.
  bool opened = false;
  std::string lock_message;  // why it could not be opened (the Busy message), when !opened
  std::vector<CollectionSummary> collections;  // sorted by name
};

// Errors: InvalidArgument when `path` does not exist or holds no MANIFEST (it is not a
// database; nothing is created); the error of Database::Open other than Busy (Corruption
// naming the file, IOError); Corruption when the fallback cannot read the MANIFEST.
[[nodiscard]] Result<DatabaseSummary> GatherInfo(const std::string& path);

// A table, one row per collection and a total; a note first when the database was locked.
std::string FormatInfo(const DatabaseSummary& summary);
// The same as JSON: {"path", "opened", "lock_message", "collections": [...], "total": {...}};
// unknown values are null.
std::string InfoToJson(const DatabaseSummary& summary);

}  // namespace nearstore::cli

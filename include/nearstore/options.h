// Options of a database, one struct, defaults next to each field.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nearstore {

namespace storage {
class Env;
}

enum class Durability {
  // Default. Every write is in the write-ahead log and fsynced before it is acknowledged:
  // an acknowledged write survives a process crash and a power cut. Concurrent writers share
  // one fsync (group commit).
  kSync,
  // The write is handed to the operating system before it is acknowledged, but not fsynced:
  // it survives a crash of the process, not a power cut or a kernel crash. Much faster for
  // streaming ingestion; opt-in.
  kNoSync,
};

struct DatabaseOptions {
  Durability durability = Durability::kSync;

  // A collection's memtable is sealed into a segment file when its vectors reach this many
  // bytes (or memtable_max_rows rows, whichever comes first).
  size_t memtable_max_bytes = size_t{64} << 20;
  size_t memtable_max_rows = 1u << 20;

  // Compaction rewrites a collection's segments into one, without deleted points, once this
  // fraction of their rows is dead or once there are more than this many segments.
  double compaction_dead_fraction = 0.3;
  size_t compaction_max_segments = 8;

  // Threads for searches (batch queries, and the scan of one large query). 0 = one per core.
  int search_threads = 0;

  // HNSW collections: a sealed segment with fewer rows than this gets no graph (exact search
  // over it is as fast), and threads that build a graph (0 = one per core).
  size_t graph_min_rows = 1000;
  int index_build_threads = 0;

  // Check every section checksum of every segment when opening (reads all files once).
  bool verify_checksums_on_open = true;

  // The file system to use; nullptr = the real one. Tests pass an in-memory or faulty Env.
  // Not owned; must outlive the database.
  storage::Env* env = nullptr;
};

}  // namespace nearstore

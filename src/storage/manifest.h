// The MANIFEST: the one file that says what a database directory holds: its collections and,
// for each, its sealed segment files and the first write-ahead log still needed. It is
// replaced atomically (write, sync, rename, sync directory) after every change, so a crash
// leaves either the old or the new one. Format in docs/FORMATS.md: a checksummed header
// around a JSON document.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "index/hnsw_options.h"  // plain values only: see that file
#include "nearstore/status.h"
#include "storage/env.h"
#include "storage/filename.h"

namespace nearstore::storage {

struct SegmentEntry {
  std::string file;  // name inside the collection's directory, e.g. "seg-000004.nss"
  uint64_t rows = 0;
  uint64_t tombstones = 0;
  uint64_t min_seq = 0;
  uint64_t max_seq = 0;
  uint64_t size_bytes = 0;
};

// A collection's index settings (the engine's IndexOptions, spelled out for the file; the
// engine converts both ways in engine/index_settings.h). The graph's settings are the index
// layer's own struct, recorded as they are; the defaults are what a MANIFEST written before a
// field existed means.
struct IndexEntry {
  std::string kind = "flat";  // "flat" | "hnsw"
  index::HnswOptions hnsw;
  std::string quantization = "none";  // "none" | "sq8" | "binary"
  uint32_t rerank = 4;
};

// A payload index on one metadata field (the engine's PayloadIndexInfo, spelled out).
struct PayloadIndexEntry {
  std::string field;  // dotted path
  std::string kind;   // "keyword" | "int" | "float" | "bool"
};

struct CollectionEntry {
  std::string name;
  uint64_t id = 0;  // unique for the life of the database, names the directory
  std::string dir;  // CollectionDirName(id), e.g. "c000001"
  uint32_t dim = 0;
  std::string metric;                  // "cosine" | "l2" | "dot"
  IndexEntry index;                    // absent in files written before indexes: flat
  uint64_t next_file = 1;              // next number for a WAL or segment file
  uint64_t min_wal = 0;                // WAL files numbered below this are fully sealed
  uint64_t last_sealed_seq = 0;        // every write up to this sequence number is in a segment
  std::vector<SegmentEntry> segments;  // oldest first
  std::vector<PayloadIndexEntry> payload_indexes;  // absent in files written before them
};

struct Manifest {
  uint64_t next_collection_id = 1;
  std::vector<CollectionEntry> collections;
};

// Serialises a manifest to the bytes of a MANIFEST file.
std::string EncodeManifest(const Manifest& manifest);
// Parses and validates a MANIFEST file. Corruption (naming `path`) on any damage.
[[nodiscard]] Result<Manifest> DecodeManifest(std::string_view data, const std::string& path);

// Reads `dir`/MANIFEST; NotFound when there is none (a new database).
[[nodiscard]] Result<Manifest> ReadManifest(Env* env, const std::string& dir);
// Atomically replaces `dir`/MANIFEST.
[[nodiscard]] Status WriteManifest(Env* env, const std::string& dir, const Manifest& manifest);

}  // namespace nearstore::storage

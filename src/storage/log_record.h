// LogRecord: the payload of one write-ahead-log record (an upsert batch, an update, or a delete
// batch) and its codec. The engine logs each write as one record and replays the records in
// order after a crash; `nearstore verify` and `nearstore info` decode them without opening the
// database. Byte layout in docs/FORMATS.md (under "Write-ahead log").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nearstore/status.h"

namespace nearstore::storage {

enum class OpType : uint8_t { kUpsert = 1, kUpdate = 2, kDelete = 3 };

struct LogRecord {
  OpType type = OpType::kUpsert;
  uint64_t seq = 0;
  std::vector<std::string> ids;  // each at most 65535 bytes (the engine's id limit is lower)
  // kUpsert: ids.size() * dim floats (already normalised for cosine).
  // kUpdate: dim floats when has_vector, else empty.
  std::vector<float> vectors;
  // kUpsert: one canonical JSON object per id. kUpdate: one when has_metadata, else empty.
  std::vector<std::string> metadata;
  bool has_vector = false;    // kUpdate only
  bool has_metadata = false;  // kUpdate only

  // Rows this record may append to a memtable (an upper bound).
  size_t MaxNewRows() const { return type == OpType::kDelete ? 0 : ids.size(); }
  // About the bytes the encoded record takes (what a memtable or a batch is charged).
  size_t ApproxBytes() const;
};

// Appends the encoding of `record` for a collection of dimension `dim` to `out`.
void EncodeLogRecord(const LogRecord& record, uint32_t dim, std::string* out);
// Parses a payload written by EncodeLogRecord for a collection of dimension `dim`. Corruption,
// naming `where`, when it does not parse (its checksum passed, so this is not a torn write).
[[nodiscard]] Result<LogRecord> DecodeLogRecord(std::string_view payload, uint32_t dim,
                                                const std::string& where);

}  // namespace nearstore::storage

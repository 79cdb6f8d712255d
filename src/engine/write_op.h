// WriteOp: one logged write (an upsert batch, an update, or a delete batch) as it is validated,
// encoded into a write-ahead-log record, and applied. Replaying the log applies the same ops
// in the same order, so every outcome (which ids existed, whether an update found its point)
// is the same after a crash as it was when first acknowledged. Payload format in
// docs/FORMATS.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nearstore/status.h"

namespace nearstore::engine {

enum class OpType : uint8_t { kUpsert = 1, kUpdate = 2, kDelete = 3 };

struct WriteOp {
  OpType type = OpType::kUpsert;
  uint64_t seq = 0;
  std::vector<std::string> ids;
  // kUpsert: ids.size() * dim floats (already normalised for cosine).
  // kUpdate: dim floats when has_vector, else empty.
  std::vector<float> vectors;
  // kUpsert: one canonical JSON object per id. kUpdate: one when has_metadata, else empty.
  std::vector<std::string> metadata;
  bool has_vector = false;    // kUpdate only
  bool has_metadata = false;  // kUpdate only
  // kDelete only, never logged: when set (one per id), ids[i] is deleted only if its live
  // version was written at sequence number if_seq[i]. The group-commit leader drops the other
  // ids before it logs the op (see CollectionImpl::DropChangedIds), so the log holds exactly
  // the deletes made, and replay needs no condition.
  std::vector<uint64_t> if_seq;

  // Rows this op may append to a memtable (an upper bound).
  size_t MaxNewRows() const { return type == OpType::kDelete ? 0 : ids.size(); }
  size_t ApproxBytes() const;
};

// Appends the log payload of `op` to `out`.
void EncodeWriteOp(const WriteOp& op, uint32_t dim, std::string* out);
// Parses a payload written by EncodeWriteOp for a collection of dimension `dim`. Corruption,
// naming `where`, when it does not parse (its checksum passed, so this is not a torn write).
[[nodiscard]] Result<WriteOp> DecodeWriteOp(std::string_view payload, uint32_t dim,
                                            const std::string& where);

}  // namespace nearstore::engine

// WriteOp: one write (an upsert batch, an update, or a delete batch) as the engine validates,
// logs and applies it: the log record it is written as (storage/log_record.h), plus what only
// the write path uses. Replaying the log applies the same ops in the same order, so every
// outcome (which ids existed, whether an update found its point) is the same after a crash as
// it was when first acknowledged.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "storage/log_record.h"

namespace nearstore::engine {

struct WriteOp : storage::LogRecord {
  WriteOp() = default;
  // An op replayed from the log.
  explicit WriteOp(storage::LogRecord record) : storage::LogRecord(std::move(record)) {}

  // kDelete only, never logged: when set (one per id), ids[i] is deleted only if its live
  // version was written at sequence number if_seq[i]. The group-commit leader drops the other
  // ids before it logs the op (see CollectionImpl::DropChangedIds), so the log holds exactly
  // the deletes made, and replay needs no condition.
  std::vector<uint64_t> if_seq;
};

}  // namespace nearstore::engine

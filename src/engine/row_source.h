// RowSource: rows of points that a search scans, whether in a memtable (RAM, growing) or a
// sealed segment (a mapped file, immutable).
//
// Multi-version rows: each row carries the sequence number of the write that made it and a
// deleted_at sequence number (kNeverDeleted until a later write replaces or deletes its id).
// A reader holding snapshot sequence S sees a row iff seq <= S < deleted_at, which gives every
// search a consistent snapshot without locks on the scan path.
//
// Thread-safety: rows below NumRows() may be read from any thread. Only the collection's
// single applying writer appends rows or marks them deleted (MarkDeleted is atomic).
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

namespace nearstore::engine {

inline constexpr uint64_t kNeverDeleted = std::numeric_limits<uint64_t>::max();

// A run of rows whose vectors are contiguous.
struct VectorBlock {
  uint64_t first_row;
  uint64_t rows;
  const float* vectors;  // rows * dim floats
};

class RowSource {
 public:
  virtual ~RowSource() = default;

  // Rows that may be read now (acquire: their contents are complete).
  virtual uint64_t NumRows() const = 0;
  virtual const float* Vector(uint64_t row) const = 0;
  virtual std::string_view Id(uint64_t row) const = 0;
  virtual std::string_view Metadata(uint64_t row) const = 0;
  virtual uint64_t Seq(uint64_t row) const = 0;
  virtual std::atomic<uint64_t>& DeletedAt(uint64_t row) const = 0;
  // Appends the contiguous runs covering rows [0, num_rows).
  virtual void Blocks(uint64_t num_rows, std::vector<VectorBlock>* out) const = 0;
  // True for a sealed segment, false for a memtable.
  virtual bool IsSealed() const = 0;

  bool VisibleAt(uint64_t row, uint64_t snapshot_seq) const {
    return Seq(row) <= snapshot_seq &&
           DeletedAt(row).load(std::memory_order_relaxed) > snapshot_seq;
  }
  void MarkDeleted(uint64_t row, uint64_t seq) const {
    std::atomic<uint64_t>& deleted_at = DeletedAt(row);
    if (seq != kNeverDeleted && deleted_at.load(std::memory_order_relaxed) == kNeverDeleted) {
      marked_rows_.fetch_add(1, std::memory_order_relaxed);
    }
    deleted_at.store(seq, std::memory_order_relaxed);
  }
  // Rows ever marked deleted (an upper bound of the dead rows). 0 lets a search skip the
  // per-row visibility check of rows it knows are all written at or before its snapshot.
  // Marks are made under the collection's exclusive state lock, so a reader that took its
  // snapshot under the shared lock sees every mark at or below its sequence number.
  uint64_t MarkedRows() const { return marked_rows_.load(std::memory_order_relaxed); }

 private:
  mutable std::atomic<uint64_t> marked_rows_{0};
};

}  // namespace nearstore::engine

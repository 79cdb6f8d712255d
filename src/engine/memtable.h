// Memtable: the mutable, in-RAM rows of a collection, written by its applying writer and
// scanned by readers at the same time. Rows live in fixed chunks that never move, so a reader
// can use a row while more rows are appended; a row becomes readable when Publish() stores
// the new row count with release semantics. When full, a memtable is frozen and sealed into a
// segment file that has the same rows in the same order.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/row_source.h"

namespace nearstore::engine {

class Memtable final : public RowSource {
 public:
  static constexpr uint64_t kChunkRows = 1024;

  // Room for `capacity_rows` rows of `dim` floats; chunks are allocated as rows arrive.
  Memtable(uint32_t dim, uint64_t capacity_rows);
  ~Memtable() override;

  uint32_t dim() const { return dim_; }
  uint64_t capacity() const { return capacity_; }

  // Writer side (one thread at a time). Append writes a row that readers cannot see until
  // Publish(). REQUIRES: appended() < capacity().
  uint64_t Append(std::string_view id, const float* vector, std::string_view metadata,
                  uint64_t seq);
  void Publish() { num_rows_.store(appended_, std::memory_order_release); }
  uint64_t appended() const { return appended_; }
  // No rows and no tombstones: nothing to seal.
  bool empty() const { return appended_ == 0 && tombstones_.empty(); }
  // Deletes are logged here so the sealed segment can carry them (as tombstones).
  void AddTombstone(std::string_view id, uint64_t seq) { tombstones_.emplace_back(id, seq); }
  const std::vector<std::pair<std::string, uint64_t>>& tombstones() const { return tombstones_; }

  // RowSource.
  uint64_t NumRows() const override { return num_rows_.load(std::memory_order_acquire); }
  const float* Vector(uint64_t row) const override;
  std::string_view Id(uint64_t row) const override;
  std::string_view Metadata(uint64_t row) const override;
  uint64_t Seq(uint64_t row) const override;
  std::atomic<uint64_t>& DeletedAt(uint64_t row) const override;
  void Blocks(uint64_t num_rows, std::vector<VectorBlock>* out) const override;
  bool IsSealed() const override { return false; }

 private:
  struct Chunk;
  Chunk& ChunkOf(uint64_t row) const { return *chunks_[row / kChunkRows]; }

  const uint32_t dim_;
  const uint64_t capacity_;
  std::unique_ptr<std::unique_ptr<Chunk>[]> chunks_;  // capacity / kChunkRows slots, fixed
  uint64_t appended_ = 0;                             // writer only
  std::atomic<uint64_t> num_rows_{0};
  std::vector<std::pair<std::string, uint64_t>> tombstones_;  // writer only (until frozen)
};

}  // namespace nearstore::engine

#include "engine/memtable.h"

#include <cstring>
#include <new>

namespace nearstore::engine {

struct Memtable::Chunk {
  explicit Chunk(uint32_t dim)
      : vectors(static_cast<float*>(
            ::operator new[](sizeof(float) * dim * kChunkRows, std::align_val_t{64}))) {
    for (auto& d : deleted_at) d.store(kNeverDeleted, std::memory_order_relaxed);
  }
  ~Chunk() { ::operator delete[](vectors, std::align_val_t{64}); }
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;

  float* vectors;
  uint64_t seqs[kChunkRows];
  std::string ids[kChunkRows];
  std::string metadata[kChunkRows];
  mutable std::atomic<uint64_t> deleted_at[kChunkRows];
};

Memtable::Memtable(uint32_t dim, uint64_t capacity_rows)
    : dim_(dim),
      capacity_((capacity_rows + kChunkRows - 1) / kChunkRows * kChunkRows),
      chunks_(new std::unique_ptr<Chunk>[capacity_ / kChunkRows]) {}

Memtable::~Memtable() = default;

uint64_t Memtable::Append(std::string_view id, const float* vector, std::string_view metadata,
                          uint64_t seq) {
  const uint64_t row = appended_++;
  auto& slot = chunks_[row / kChunkRows];
  if (!slot) slot = std::make_unique<Chunk>(dim_);
  const uint64_t i = row % kChunkRows;
  std::memcpy(slot->vectors + i * dim_, vector, sizeof(float) * dim_);
  slot->seqs[i] = seq;
  slot->ids[i].assign(id);
  slot->metadata[i].assign(metadata);
  return row;
}

const float* Memtable::Vector(uint64_t row) const {
  return ChunkOf(row).vectors + (row % kChunkRows) * dim_;
}
std::string_view Memtable::Id(uint64_t row) const { return ChunkOf(row).ids[row % kChunkRows]; }
std::string_view Memtable::Metadata(uint64_t row) const {
  return ChunkOf(row).metadata[row % kChunkRows];
}
uint64_t Memtable::Seq(uint64_t row) const { return ChunkOf(row).seqs[row % kChunkRows]; }
std::atomic<uint64_t>& Memtable::DeletedAt(uint64_t row) const {
  return ChunkOf(row).deleted_at[row % kChunkRows];
}

void Memtable::Blocks(uint64_t num_rows, std::vector<VectorBlock>* out) const {
  for (uint64_t first = 0; first < num_rows; first += kChunkRows) {
    out->push_back(
        {first, std::min(kChunkRows, num_rows - first), chunks_[first / kChunkRows]->vectors});
  }
}

}  // namespace nearstore::engine

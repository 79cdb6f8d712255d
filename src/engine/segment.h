// Segment: a sealed segment file, memory-mapped, as a RowSource. The file is immutable; the
// only mutable state is the in-RAM deleted_at of each row (rebuilt on open from the rows and
// tombstones of this and later segments and the write-ahead log).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "engine/distance.h"  // GraphMetricFor, for the graph of a collection's metric
#include "engine/row_source.h"
#include "filter/payload_index.h"
#include "index/codes.h"
#include "index/hnsw.h"
#include "nearstore/status.h"
#include "nearstore/types.h"
#include "storage/env.h"
#include "storage/segment_file.h"

namespace nearstore::engine {

class Segment final : public RowSource {
 public:
  // Maps and validates `dir`/`file_name`, and views its graph, codes and payload indexes when
  // it has them (validated whatever verify_checksums says: a search must never read out of
  // bounds).
  [[nodiscard]] static Result<std::shared_ptr<Segment>> Open(storage::Env* env,
                                                             const std::string& dir,
                                                             const std::string& file_name,
                                                             bool verify_checksums);

  const storage::SegmentView& view() const { return view_; }
  const std::string& file_name() const { return file_name_; }
  uint64_t size_bytes() const { return file_->data().size(); }
  // The HNSW graph over this segment's rows (every row is a node, dead ones included), or
  // nullptr when the segment was written without one.
  const index::HnswGraph* graph() const { return graph_ ? &*graph_ : nullptr; }
  // The codes its graph walks measure on (index/codes.h): the kind stored in the file's codes
  // section, or the float vectors themselves (FloatRows) when it has none.
  const index::CodeSet& codes() const { return codes_; }
  // Bytes of the codes (0 without).
  uint64_t code_bytes() const { return index::CodeBytes(codes_); }

  // The payload indexes stored in the file (those defined when it was written), or null.
  const std::shared_ptr<const filter::PayloadIndex>& stored_payload() const {
    return stored_payload_;
  }
  // The payload indexes searches use: the collection's indexed fields, taken from the file or
  // built from the metadata (see CollectionImpl::IndexPayload), or null before any. Swapped
  // whole, never changed.
  std::shared_ptr<const filter::PayloadIndex> payload() const {
    return payload_.load(std::memory_order_acquire);
  }
  void SetPayload(std::shared_ptr<const filter::PayloadIndex> payload) const {
    payload_.store(std::move(payload), std::memory_order_release);
  }

  uint64_t NumRows() const override { return view_.rows(); }
  const float* Vector(uint64_t row) const override { return view_.vector(row); }
  std::string_view Id(uint64_t row) const override { return view_.id(row); }
  std::string_view Metadata(uint64_t row) const override { return view_.metadata(row); }
  uint64_t Seq(uint64_t row) const override { return view_.seq(row); }
  std::atomic<uint64_t>& DeletedAt(uint64_t row) const override { return deleted_at_[row]; }
  void Blocks(uint64_t num_rows, std::vector<VectorBlock>* out) const override {
    if (num_rows > 0) out->push_back({0, num_rows, view_.vectors()});
  }
  bool IsSealed() const override { return true; }

 private:
  Segment(std::shared_ptr<storage::MappedFile> file, storage::SegmentView view, std::string name,
          std::optional<index::HnswGraph> graph, index::CodeSet codes,
          std::shared_ptr<const filter::PayloadIndex> stored_payload);

  std::shared_ptr<storage::MappedFile> file_;
  storage::SegmentView view_;
  std::string file_name_;
  std::unique_ptr<std::atomic<uint64_t>[]> deleted_at_;
  std::optional<index::HnswGraph> graph_;                       // views file_'s bytes
  index::CodeSet codes_;                                        // likewise
  std::shared_ptr<const filter::PayloadIndex> stored_payload_;  // likewise
  mutable std::atomic<std::shared_ptr<const filter::PayloadIndex>> payload_;
};

}  // namespace nearstore::engine

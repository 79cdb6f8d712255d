// Sealed segment files: an immutable, checksummed image of a set of rows (format in
// docs/FORMATS.md). A segment holds, in sequence order, the rows written (id, vector, metadata,
// sequence number) and the tombstones of deletes (id, sequence number). Files are memory-mapped
// by the engine; this layer only turns columns into bytes and bytes back into checked views.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nearstore/status.h"

namespace nearstore::storage {

// Version 2 added the graph section, version 3 the codes section, version 4 the payload index
// section; older files are still read.
inline constexpr uint32_t kSegmentFormatVersion = 4;
// Larger than any dimension a collection may have (nearstore::kMaxDimension).
inline constexpr uint32_t kSegmentMaxDim = 1u << 16;

// What a segment is made from. Spans are borrowed for the duration of EncodeSegment.
struct SegmentColumns {
  uint32_t dim = 0;
  uint32_t metric = 0;                              // informational (the engine's enum value)
  std::span<const float> vectors;                   // rows * dim
  std::span<const uint64_t> seqs;                   // rows
  std::span<const std::string_view> ids;            // rows
  std::span<const std::string_view> metadata;       // rows
  std::span<const uint64_t> tombstone_seqs;         // tombstones
  std::span<const std::string_view> tombstone_ids;  // tombstones
  std::string_view graph;                           // the rows' index (empty: none)
  std::string_view codes;                           // the rows' quantized codes (empty: none)
  std::string_view payload;                         // the rows' payload indexes (empty: none)
};

// Builds the bytes of a segment file.
std::string EncodeSegment(const SegmentColumns& columns);

// A parsed, validated view over a segment file's bytes (which the caller keeps alive).
class SegmentView {
 public:
  // Validates the header, section bounds and offset tables, and (when verify_checksums) the
  // CRC32C of every section. Corruption naming `path` on any damage.
  [[nodiscard]] static Result<SegmentView> Parse(std::string_view data, const std::string& path,
                                                 bool verify_checksums);

  uint32_t dim() const { return dim_; }
  uint32_t metric() const { return metric_; }
  uint64_t rows() const { return rows_; }
  uint64_t tombstones() const { return tombstones_; }
  uint64_t min_seq() const { return min_seq_; }
  uint64_t max_seq() const { return max_seq_; }

  const float* vectors() const { return vectors_; }  // rows * dim, 64-byte aligned in the file
  const float* vector(uint64_t row) const { return vectors_ + row * dim_; }
  uint64_t seq(uint64_t row) const;
  std::string_view id(uint64_t row) const { return Str(id_offsets_, id_bytes_, row); }
  std::string_view metadata(uint64_t row) const { return Str(meta_offsets_, meta_bytes_, row); }
  uint64_t tombstone_seq(uint64_t i) const;
  std::string_view tombstone_id(uint64_t i) const { return Str(tomb_offsets_, tomb_bytes_, i); }
  // The index section, 64-byte aligned in the file (empty when the segment has none). Not
  // interpreted here: the index validates it when viewing it.
  std::string_view graph() const { return graph_; }
  // The quantized codes section, likewise (empty when none).
  std::string_view codes() const { return codes_; }
  // The payload index section, likewise (empty when none).
  std::string_view payload() const { return payload_; }
  uint32_t format_version() const { return version_; }

 private:
  static std::string_view Str(const char* offsets, const char* bytes, uint64_t i);

  uint32_t version_ = 0, dim_ = 0, metric_ = 0;
  uint64_t rows_ = 0, tombstones_ = 0, min_seq_ = 0, max_seq_ = 0;
  const float* vectors_ = nullptr;
  const char* seqs_ = nullptr;
  const char* id_offsets_ = nullptr;
  const char* id_bytes_ = nullptr;
  const char* meta_offsets_ = nullptr;
  const char* meta_bytes_ = nullptr;
  const char* tomb_seqs_ = nullptr;
  const char* tomb_offsets_ = nullptr;
  const char* tomb_bytes_ = nullptr;
  std::string_view graph_;
  std::string_view codes_;
  std::string_view payload_;
};

}  // namespace nearstore::storage

#include "storage/segment_file.h"

#include <array>

#include "storage/coding.h"
#include "storage/crc32c.h"

namespace nearstore::storage {
namespace {

constexpr char kSegmentMagic[8] = {'N', 'S', 'S', 'E', 'G', '\0', '\0', '\0'};
constexpr size_t kSectionAlign = 64;

// Section order in the file and in the header's section table.
enum Section : size_t {
  kVectors,
  kSeqs,
  kIdOffsets,
  kIdBytes,
  kMetaOffsets,
  kMetaBytes,
  kTombSeqs,
  kTombIdOffsets,
  kTombIdBytes,
  kGraph,    // from version 2
  kCodes,    // from version 3
  kPayload,  // from version 4
  kNumSections
};
constexpr const char* kSectionNames[kNumSections] = {
    "vectors",  "sequence numbers",    "id offsets",           "ids",           "metadata offsets",
    "metadata", "tombstone sequences", "tombstone id offsets", "tombstone ids", "graph",
    "codes",    "payload indexes"};

// Sections a file of each format version has (the first N of the list above).
size_t SectionsInVersion(uint32_t version) {
  switch (version) {
    case 1:
      return kGraph;
    case 2:
      return kCodes;
    case 3:
      return kPayload;
    default:
      return kNumSections;
  }
}

// Fixed fields (56 bytes) + section table (24 bytes per section) + header checksum (4) + pad.
constexpr size_t kFixedFields = 56;
constexpr size_t kSectionEntrySize = 24;
constexpr size_t HeaderCrcOffset(size_t sections) {
  return kFixedFields + sections * kSectionEntrySize;
}
// The header, padded to the section alignment: 320 bytes up to version 2, 384 from version 3.
constexpr size_t HeaderSize(size_t sections) {
  return (HeaderCrcOffset(sections) + 4 + kSectionAlign - 1) / kSectionAlign * kSectionAlign;
}
// The smallest header of any version: enough to read the magic and the version.
constexpr size_t kMinHeaderSize = HeaderSize(kGraph);

size_t AlignUp(size_t n) { return (n + kSectionAlign - 1) / kSectionAlign * kSectionAlign; }

void AppendStrings(std::span<const std::string_view> strs, std::string* offsets,
                   std::string* bytes) {
  uint64_t off = 0;
  PutU64(*offsets, off);
  for (auto s : strs) {
    bytes->append(s);
    off += s.size();
    PutU64(*offsets, off);
  }
}

}  // namespace

std::string EncodeSegment(const SegmentColumns& c) {
  const uint64_t rows = c.seqs.size();
  const uint64_t tombs = c.tombstone_seqs.size();
  std::array<std::string, kNumSections> sec;
  sec[kVectors].assign(reinterpret_cast<const char*>(c.vectors.data()), c.vectors.size_bytes());
  sec[kSeqs].assign(reinterpret_cast<const char*>(c.seqs.data()), c.seqs.size_bytes());
  AppendStrings(c.ids, &sec[kIdOffsets], &sec[kIdBytes]);
  AppendStrings(c.metadata, &sec[kMetaOffsets], &sec[kMetaBytes]);
  sec[kTombSeqs].assign(reinterpret_cast<const char*>(c.tombstone_seqs.data()),
                        c.tombstone_seqs.size_bytes());
  AppendStrings(c.tombstone_ids, &sec[kTombIdOffsets], &sec[kTombIdBytes]);
  sec[kGraph].assign(c.graph);
  sec[kCodes].assign(c.codes);
  sec[kPayload].assign(c.payload);

  uint64_t min_seq = UINT64_MAX, max_seq = 0;
  for (auto s : c.seqs) min_seq = std::min(min_seq, s), max_seq = std::max(max_seq, s);
  for (auto s : c.tombstone_seqs) min_seq = std::min(min_seq, s), max_seq = std::max(max_seq, s);
  if (rows + tombs == 0) min_seq = 0;

  std::string header;
  PutBytes(header, kSegmentMagic, 8);
  PutU32(header, kSegmentFormatVersion);
  PutU32(header, c.dim);
  PutU64(header, rows);
  PutU64(header, tombs);
  PutU64(header, min_seq);
  PutU64(header, max_seq);
  PutU32(header, c.metric);
  PutU32(header, 0);  // flags, none yet
  size_t offset = HeaderSize(kNumSections);
  for (const auto& s : sec) {
    PutU64(header, offset);
    PutU64(header, s.size());
    PutU32(header, Crc32c(s));
    PutU32(header, 0);
    offset = AlignUp(offset + s.size());
  }
  PutU32(header, Crc32c(header));
  header.resize(HeaderSize(kNumSections), '\0');

  std::string out = std::move(header);
  out.reserve(offset);
  for (const auto& s : sec) {
    out += s;
    out.resize(AlignUp(out.size()), '\0');
  }
  return out;
}

Result<SegmentView> SegmentView::Parse(std::string_view data, const std::string& path,
                                       bool verify_checksums) {
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption("segment '" + path + "' is damaged: " + what);
  };
  if (data.size() < kMinHeaderSize) {
    return corrupt("file is " + std::to_string(data.size()) + " bytes, shorter than its " +
                   std::to_string(kMinHeaderSize) + "-byte header");
  }
  const char* h = data.data();
  if (std::string_view(h, 8) != std::string_view(kSegmentMagic, 8)) return corrupt("bad magic");
  // The version says how long the section table is, so it is read before the checksum that
  // covers it; a damaged version either names no format or fails that checksum.
  SegmentView v;
  v.version_ = LoadU32(h + 8);
  if (v.version_ < 1 || v.version_ > kSegmentFormatVersion) {
    return corrupt("format version " + std::to_string(v.version_) + ", expected 1.." +
                   std::to_string(kSegmentFormatVersion));
  }
  const size_t num_sections = SectionsInVersion(v.version_);
  const size_t header_crc_offset = HeaderCrcOffset(num_sections);
  const size_t header_size = HeaderSize(num_sections);
  if (data.size() < header_size) {
    return corrupt("file is " + std::to_string(data.size()) + " bytes, shorter than its " +
                   std::to_string(header_size) + "-byte header");
  }
  if (Crc32c(h, header_crc_offset) != LoadU32(h + header_crc_offset)) {
    return corrupt("header checksum mismatch");
  }
  // Bytes no checksum covers (alignment padding) must be the zeros the writer put there, so
  // that damage anywhere in the file is found.
  auto all_zero = [&](uint64_t from, uint64_t to) {
    for (uint64_t i = from; i < to; ++i) {
      if (h[i] != 0) return false;
    }
    return true;
  };
  if (!all_zero(header_crc_offset + 4, header_size)) return corrupt("header padding is not zero");
  v.dim_ = LoadU32(h + 12);
  v.rows_ = LoadU64(h + 16);
  v.tombstones_ = LoadU64(h + 24);
  v.min_seq_ = LoadU64(h + 32);
  v.max_seq_ = LoadU64(h + 40);
  v.metric_ = LoadU32(h + 48);
  if (v.dim_ == 0 || v.dim_ > kSegmentMaxDim) {
    return corrupt("dimension " + std::to_string(v.dim_) + " outside 1.." +
                   std::to_string(kSegmentMaxDim));
  }

  // Every size is checked against what the counts imply before any byte is used, with
  // overflow-safe arithmetic (counts come from disk).
  const uint64_t max_rows = data.size() / 8;
  if (v.rows_ > max_rows || v.tombstones_ > max_rows) return corrupt("row counts exceed file size");
  constexpr uint64_t kAnySize = UINT64_MAX;  // string bytes: checked through their offsets
  const uint64_t expected[kNumSections] = {v.rows_ * v.dim_ * 4,
                                           v.rows_ * 8,
                                           (v.rows_ + 1) * 8,
                                           kAnySize,
                                           (v.rows_ + 1) * 8,
                                           kAnySize,
                                           v.tombstones_ * 8,
                                           (v.tombstones_ + 1) * 8,
                                           kAnySize,
                                           kAnySize,
                                           kAnySize,
                                           kAnySize};
  const char* base[kNumSections] = {};
  uint64_t size[kNumSections] = {};
  uint64_t prev_end = header_size;
  for (size_t i = 0; i < num_sections; ++i) {
    const char* e = h + kFixedFields + i * kSectionEntrySize;
    const uint64_t off = LoadU64(e), len = LoadU64(e + 8);
    const std::string name = kSectionNames[i];
    if (off % kSectionAlign != 0 || off < prev_end || off > data.size() ||
        len > data.size() - off) {
      return corrupt("section '" + name + "' lies outside the file (offset " + std::to_string(off) +
                     ", " + std::to_string(len) + " bytes, file " + std::to_string(data.size()) +
                     " bytes)");
    }
    if (!all_zero(prev_end, off)) {
      return corrupt("padding before section '" + name + "' is not zero");
    }
    if (expected[i] != kAnySize && len != expected[i]) {
      return corrupt("section '" + name + "' is " + std::to_string(len) + " bytes, expected " +
                     std::to_string(expected[i]));
    }
    if (verify_checksums && Crc32c(h + off, len) != LoadU32(e + 16)) {
      return corrupt("section '" + name + "' fails its checksum");
    }
    base[i] = h + off;
    size[i] = len;
    prev_end = off + len;
  }
  // The file ends with the last section, padded to the alignment (a longer or shorter file
  // was damaged, e.g. cut short within that padding).
  if (data.size() != AlignUp(prev_end) || !all_zero(prev_end, data.size())) {
    return corrupt("file is " + std::to_string(data.size()) + " bytes, expected " +
                   std::to_string(AlignUp(prev_end)) + " ending in zero padding");
  }
  // Offset tables must start at 0, never decrease, and end exactly at their bytes' size.
  auto check_offsets = [&](Section offs, Section bytes, uint64_t n) -> Status {
    uint64_t prev = 0;
    for (uint64_t i = 0; i <= n; ++i) {
      const uint64_t o = LoadU64(base[offs] + i * 8);
      if ((i == 0 && o != 0) || o < prev || o > size[bytes]) {
        return corrupt(std::string("offset table '") + kSectionNames[offs] + "' is inconsistent");
      }
      prev = o;
    }
    if (prev != size[bytes]) {
      return corrupt(std::string("offset table '") + kSectionNames[offs] + "' is inconsistent");
    }
    return Status::Ok();
  };
  NEARSTORE_RETURN_IF_ERROR(check_offsets(kIdOffsets, kIdBytes, v.rows_));
  NEARSTORE_RETURN_IF_ERROR(check_offsets(kMetaOffsets, kMetaBytes, v.rows_));
  NEARSTORE_RETURN_IF_ERROR(check_offsets(kTombIdOffsets, kTombIdBytes, v.tombstones_));

  v.vectors_ = reinterpret_cast<const float*>(base[kVectors]);
  v.seqs_ = base[kSeqs];
  v.id_offsets_ = base[kIdOffsets];
  v.id_bytes_ = base[kIdBytes];
  v.meta_offsets_ = base[kMetaOffsets];
  v.meta_bytes_ = base[kMetaBytes];
  v.tomb_seqs_ = base[kTombSeqs];
  v.tomb_offsets_ = base[kTombIdOffsets];
  v.tomb_bytes_ = base[kTombIdBytes];
  if (num_sections > kGraph && size[kGraph] > 0) v.graph_ = {base[kGraph], size[kGraph]};
  if (num_sections > kCodes && size[kCodes] > 0) v.codes_ = {base[kCodes], size[kCodes]};
  if (num_sections > kPayload && size[kPayload] > 0) {
    v.payload_ = {base[kPayload], size[kPayload]};
  }
  // Sequence numbers must lie in the header's range and never decrease (replay order).
  uint64_t prev = 0;
  for (uint64_t r = 0; r < v.rows_; ++r) {
    const uint64_t s = v.seq(r);
    if (s < prev || s < v.min_seq_ || s > v.max_seq_)
      return corrupt("sequence numbers out of order");
    prev = s;
  }
  return v;
}

uint64_t SegmentView::seq(uint64_t row) const { return LoadU64(seqs_ + row * 8); }
uint64_t SegmentView::tombstone_seq(uint64_t i) const { return LoadU64(tomb_seqs_ + i * 8); }

std::string_view SegmentView::Str(const char* offsets, const char* bytes, uint64_t i) {
  const uint64_t a = LoadU64(offsets + i * 8), b = LoadU64(offsets + (i + 1) * 8);
  return {bytes + a, b - a};
}

}  // namespace nearstore::storage

// Segment files: encode/parse round trips, and every damaged header field, section table entry,
// section checksum and offset table refused as Corruption naming the file.
#include "storage/segment_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "storage/coding.h"
#include "storage/crc32c.h"

namespace nearstore::storage {
namespace {

using ::testing::HasSubstr;

const std::string kPath = "/db/c000001/seg-000004.nss";

// The header layout (docs/FORMATS.md): fixed fields, then 12 section entries (9 in version 1,
// 10 in version 2, 11 in version 3) of {offset u64, length u64, crc u32, pad u32}, then the
// CRC32C of everything before it, then zeros to a multiple of 64 bytes.
constexpr size_t kDimOffset = 12, kRowsOffset = 16, kTombsOffset = 24, kVersionOffset = 8;
constexpr size_t kSectionTable = 56, kSectionEntry = 24, kNumSections = 12;
constexpr size_t kHeaderCrc = kSectionTable + kNumSections * kSectionEntry;  // 344
constexpr size_t kHeaderSize = 384;
// The header of a version with `sections` sections: 320 bytes for 9 or 10, 384 for 11 or 12.
constexpr size_t HeaderSizeFor(size_t sections) {
  return (kSectionTable + sections * kSectionEntry + 4 + 63) / 64 * 64;
}
enum { kVectors, kSeqs, kIdOffsets, kIdBytes, kMetaOffsets, kMetaBytes, kTombSeqs, kTombOffsets };

// Rows and tombstones owned by the test; Columns() borrows them.
struct Data {
  uint32_t dim = 0;
  std::vector<float> vectors;
  std::vector<uint64_t> seqs;
  std::vector<std::string> ids, metadata, tomb_ids;
  std::vector<uint64_t> tomb_seqs;
  std::vector<std::string_view> id_views, meta_views, tomb_views;
  std::string graph, codes, payload;

  SegmentColumns Columns() {
    id_views.assign(ids.begin(), ids.end());
    meta_views.assign(metadata.begin(), metadata.end());
    tomb_views.assign(tomb_ids.begin(), tomb_ids.end());
    SegmentColumns c;
    c.dim = dim;
    c.metric = 2;
    c.vectors = vectors;
    c.seqs = seqs;
    c.ids = id_views;
    c.metadata = meta_views;
    c.tombstone_seqs = tomb_seqs;
    c.tombstone_ids = tomb_views;
    c.graph = graph;
    c.codes = codes;
    c.payload = payload;
    return c;
  }
};

Data RandomData(std::mt19937_64& rng, uint32_t dim, size_t rows, size_t tombs) {
  Data d;
  d.dim = dim;
  uint64_t seq = 1 + rng() % 100;
  for (size_t r = 0; r < rows; ++r) {
    for (uint32_t i = 0; i < dim; ++i) {
      d.vectors.push_back(std::uniform_real_distribution<float>(-5, 5)(rng));
    }
    seq += rng() % 3;  // non-decreasing: rows of one batch share a sequence number
    d.seqs.push_back(seq);
    d.ids.push_back("id-" + std::to_string(rng() % 100000) + std::string(rng() % 5, 'x'));
    d.metadata.push_back(rng() % 4 == 0 ? "" : "{\"n\":" + std::to_string(r) + "}");
  }
  for (size_t t = 0; t < tombs; ++t) {
    d.tomb_seqs.push_back(seq + 1 + rng() % 50);
    d.tomb_ids.push_back(t % 3 == 0 ? "" : "gone-" + std::to_string(t));
  }
  return d;
}

void Rehash(std::string* file) {
  StoreU32(file->data() + kHeaderCrc, Crc32c(file->data(), kHeaderCrc));
}
uint64_t SectionField(const std::string& file, int section, int field) {
  return LoadU64(file.data() + kSectionTable + section * kSectionEntry + field * 8);
}
void SetSectionField(std::string* file, int section, int field, uint64_t v) {
  std::memcpy(file->data() + kSectionTable + section * kSectionEntry + field * 8, &v, 8);
  Rehash(file);
}

void ExpectCorrupt(const std::string& data, const std::vector<std::string>& parts,
                   bool verify = true) {
  auto v = SegmentView::Parse(data, kPath, verify);
  ASSERT_FALSE(v.ok()) << "damaged segment accepted";
  EXPECT_EQ(v.status().code(), StatusCode::kCorruption) << v.status().ToString();
  EXPECT_THAT(v.status().message(), HasSubstr(kPath));
  for (const auto& p : parts) EXPECT_THAT(v.status().message(), HasSubstr(p));
}

TEST(SegmentFile, RoundTrip) {
  std::random_device rd;
  const uint64_t seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (uint32_t dim : {1u, 3u, 16u, 129u}) {
    for (size_t rows : {0u, 1u, 37u, 300u}) {
      for (size_t tombs : {0u, 5u}) {
        SCOPED_TRACE("dim " + std::to_string(dim) + " rows " + std::to_string(rows) +
                     " tombstones " + std::to_string(tombs));
        Data d = RandomData(rng, dim, rows, tombs);
        const std::string file = EncodeSegment(d.Columns());
        for (bool verify : {true, false}) {
          auto v = SegmentView::Parse(file, kPath, verify);
          ASSERT_TRUE(v.ok()) << v.status().ToString();
          EXPECT_EQ(v->dim(), dim);
          EXPECT_EQ(v->metric(), 2u);
          ASSERT_EQ(v->rows(), rows);
          ASSERT_EQ(v->tombstones(), tombs);
          uint64_t lo = UINT64_MAX, hi = 0;
          for (auto s : d.seqs) lo = std::min(lo, s), hi = std::max(hi, s);
          for (auto s : d.tomb_seqs) lo = std::min(lo, s), hi = std::max(hi, s);
          EXPECT_EQ(v->min_seq(), rows + tombs == 0 ? 0 : lo);
          EXPECT_EQ(v->max_seq(), hi);
          if (rows > 0) {
            EXPECT_EQ((reinterpret_cast<const char*>(v->vectors()) - file.data()) % 64, 0)
                << "vectors must start 64-byte aligned within the file";
          }
          for (size_t r = 0; r < rows; ++r) {
            ASSERT_EQ(
                std::vector<float>(v->vector(r), v->vector(r) + dim),
                std::vector<float>(d.vectors.begin() + r * dim, d.vectors.begin() + (r + 1) * dim))
                << "row " << r;
            EXPECT_EQ(v->seq(r), d.seqs[r]);
            EXPECT_EQ(v->id(r), d.ids[r]);
            EXPECT_EQ(v->metadata(r), d.metadata[r]);
          }
          for (size_t t = 0; t < tombs; ++t) {
            EXPECT_EQ(v->tombstone_seq(t), d.tomb_seqs[t]);
            EXPECT_EQ(v->tombstone_id(t), d.tomb_ids[t]);
          }
        }
      }
    }
  }
}

class SegmentDamageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(7);
    data_ = RandomData(rng, 5, 20, 3);
    file_ = EncodeSegment(data_.Columns());
    ASSERT_TRUE(SegmentView::Parse(file_, kPath, true).ok());
  }
  Data data_;
  std::string file_;
};

TEST_F(SegmentDamageTest, BadMagic) {
  for (size_t i = 0; i < 8; ++i) {
    std::string bad = file_;
    bad[i] ^= 0x40;
    ExpectCorrupt(bad, {"bad magic"});
  }
}

TEST_F(SegmentDamageTest, EveryHeaderByteIsCovered) {
  for (size_t i = 8; i < kHeaderCrc + 4; ++i) {
    std::string bad = file_;
    bad[i] ^= 0x01;
    SCOPED_TRACE("flip at " + std::to_string(i));
    // The version is read before the checksum (it sets the table's length): a flipped one
    // names no format, or names an older one whose checksum (at another place) fails.
    const uint32_t version = LoadU32(bad.data() + kVersionOffset);
    const bool known = version >= 1 && version <= kSegmentFormatVersion;
    ExpectCorrupt(bad, {known ? "header checksum" : "format version"}, /*verify=*/false);
  }
}

TEST_F(SegmentDamageTest, UnknownVersion) {
  for (uint32_t version : {0u, 5u}) {
    std::string bad = file_;
    StoreU32(bad.data() + kVersionOffset, version);
    Rehash(&bad);
    ExpectCorrupt(bad, {"format version " + std::to_string(version), "expected 1..4"});
  }
}

// The bytes an older version wrote for the same rows (whose newer sections are all empty): the
// first `sections` table entries, moved with the sections to follow that version's header.
std::string AsOlderVersion(const std::string& file, uint32_t version, size_t sections) {
  const size_t old_header_size = HeaderSizeFor(sections);
  std::string old(old_header_size, '\0');
  std::memcpy(old.data(), file.data(), kSectionTable);
  StoreU32(old.data() + kVersionOffset, version);
  for (size_t i = 0; i < sections; ++i) {
    const char* from = file.data() + kSectionTable + i * kSectionEntry;
    char* to = old.data() + kSectionTable + i * kSectionEntry;
    std::memcpy(to, from, kSectionEntry);
    const uint64_t offset = LoadU64(from) - (kHeaderSize - old_header_size);
    std::memcpy(to, &offset, 8);
  }
  const size_t crc_at = kSectionTable + sections * kSectionEntry;
  StoreU32(old.data() + crc_at, Crc32c(old.data(), crc_at));
  return old + file.substr(kHeaderSize);
}

// Files written before segments carried a graph (version 1), codes (version 2) or payload
// indexes (version 3) still parse, without them; and a header relabelled to an older version
// fails the checksum.
TEST_F(SegmentDamageTest, ReadsOlderVersions) {
  ASSERT_EQ(SectionField(file_, kNumSections - 3, 1), 0u) << "fixture has no graph";
  ASSERT_EQ(SectionField(file_, kNumSections - 2, 1), 0u) << "fixture has no codes";
  ASSERT_EQ(SectionField(file_, kNumSections - 1, 1), 0u) << "fixture has no payload index";
  for (uint32_t version : {1u, 2u, 3u}) {
    SCOPED_TRACE("version " + std::to_string(version));
    const std::string old = AsOlderVersion(file_, version, 8 + version);
    auto v = SegmentView::Parse(old, kPath, true);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(v->format_version(), version);
    EXPECT_EQ(v->rows(), data_.seqs.size());
    EXPECT_TRUE(v->graph().empty());
    EXPECT_TRUE(v->codes().empty());
    EXPECT_TRUE(v->payload().empty());
    EXPECT_EQ(v->id(7), data_.ids[7]);
    EXPECT_EQ(v->tombstone_id(1), data_.tomb_ids[1]);
  }
  std::string relabelled = file_;
  StoreU32(relabelled.data() + kVersionOffset, 2);
  ExpectCorrupt(relabelled, {"header checksum"});
}

TEST(SegmentFile, IndexSectionsRoundTrip) {
  std::mt19937_64 rng(7);
  Data d = RandomData(rng, 5, 40, 2);
  for (int i = 0; i < 1000; ++i) d.graph.push_back(static_cast<char>(rng()));
  for (int i = 0; i < 333; ++i) d.codes.push_back(static_cast<char>(rng()));
  for (int i = 0; i < 77; ++i) d.payload.push_back(static_cast<char>(rng()));
  const std::string file = EncodeSegment(d.Columns());
  auto v = SegmentView::Parse(file, kPath, true);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->format_version(), kSegmentFormatVersion);
  EXPECT_EQ(v->graph(), d.graph);
  EXPECT_EQ((v->graph().data() - file.data()) % 64, 0) << "the graph is read in place: aligned";
  EXPECT_EQ(v->codes(), d.codes);
  EXPECT_EQ((v->codes().data() - file.data()) % 64, 0) << "the codes are read in place: aligned";
  EXPECT_EQ(v->payload(), d.payload);
  EXPECT_EQ((v->payload().data() - file.data()) % 64, 0) << "payload indexes are read in place";
  // Checksums cover them.
  std::string bad = file;
  bad[static_cast<size_t>(v->graph().data() - file.data()) + 500] ^= 0x10;
  ExpectCorrupt(bad, {"section 'graph' fails its checksum"});
  bad = file;
  bad[static_cast<size_t>(v->payload().data() - file.data()) + 70] ^= 0x10;
  ExpectCorrupt(bad, {"section 'payload indexes' fails its checksum"});
}

TEST_F(SegmentDamageTest, DimensionOutOfRange) {
  for (uint32_t dim : {0u, kSegmentMaxDim + 1, UINT32_MAX}) {
    std::string bad = file_;
    StoreU32(bad.data() + kDimOffset, dim);
    Rehash(&bad);
    ExpectCorrupt(bad, {"dimension " + std::to_string(dim)});
  }
  // A different but valid dimension no longer matches the vector section's size.
  std::string bad = file_;
  StoreU32(bad.data() + kDimOffset, 6);
  Rehash(&bad);
  ExpectCorrupt(bad, {"'vectors'", "expected"});
}

TEST_F(SegmentDamageTest, CountsThatDoNotFit) {
  for (size_t field : {kRowsOffset, kTombsOffset}) {
    for (uint64_t n : {uint64_t{1} << 40, UINT64_MAX, UINT64_MAX / 4 + 1}) {
      std::string bad = file_;
      std::memcpy(bad.data() + field, &n, 8);
      Rehash(&bad);
      SCOPED_TRACE("count " + std::to_string(n) + " at " + std::to_string(field));
      ExpectCorrupt(bad, {});
    }
    // Off by one: the section sizes give it away.
    std::string bad = file_;
    const uint64_t n = LoadU64(bad.data() + field) + 1;
    std::memcpy(bad.data() + field, &n, 8);
    Rehash(&bad);
    ExpectCorrupt(bad, {"expected"});
  }
}

TEST_F(SegmentDamageTest, SectionOffsetsAndLengths) {
  for (int s = 0; s < static_cast<int>(kNumSections); ++s) {
    SCOPED_TRACE("section " + std::to_string(s));
    const uint64_t off = SectionField(file_, s, 0), len = SectionField(file_, s, 1);
    std::string bad = file_;
    SetSectionField(&bad, s, 0, off + 1);  // misaligned
    ExpectCorrupt(bad, {"lies outside the file"});
    bad = file_;
    SetSectionField(&bad, s, 0, file_.size() + 64);  // past the end
    ExpectCorrupt(bad, {"lies outside the file"});
    bad = file_;
    SetSectionField(&bad, s, 1, file_.size());  // longer than the file
    ExpectCorrupt(bad, {});
    bad = file_;
    SetSectionField(&bad, s, 1, UINT64_MAX - off + 1);  // off + len overflows
    ExpectCorrupt(bad, {});
    if (s > 0) {
      bad = file_;
      SetSectionField(&bad, s, 0, 0);  // overlaps the header and the sections before
      ExpectCorrupt(bad, {"lies outside the file"});
    }
    (void)len;
  }
  // Fixed-size sections must have exactly the size the counts imply.
  for (int s : {kVectors, kSeqs, kIdOffsets, kMetaOffsets, kTombSeqs, kTombOffsets}) {
    std::string bad = file_;
    SetSectionField(&bad, s, 1, SectionField(file_, s, 1) - 4);
    SCOPED_TRACE("section " + std::to_string(s));
    ExpectCorrupt(bad, {"bytes, expected"});
  }
}

TEST_F(SegmentDamageTest, SectionChecksums) {
  for (int s = 0; s < static_cast<int>(kNumSections); ++s) {
    const uint64_t off = SectionField(file_, s, 0), len = SectionField(file_, s, 1);
    for (uint64_t i = 0; i < len; i += std::max<uint64_t>(1, len / 7)) {
      std::string bad = file_;
      bad[off + i] ^= 0x10;
      SCOPED_TRACE("section " + std::to_string(s) + " byte " + std::to_string(i));
      ExpectCorrupt(bad, {"fails its checksum"}, /*verify=*/true);
    }
  }
  // Without checksum verification, a flipped vector byte is not noticed (by design: the
  // engine verifies on open unless told not to).
  std::string bad = file_;
  bad[SectionField(file_, kVectors, 0) + 3] ^= 0x10;
  EXPECT_TRUE(SegmentView::Parse(bad, kPath, /*verify_checksums=*/false).ok());
}

TEST_F(SegmentDamageTest, InconsistentOffsetTables) {
  // Checked even without checksum verification, since the readers index with them.
  struct Case {
    int section;
    uint64_t entry;
    uint64_t value;
  };
  const uint64_t id_bytes = SectionField(file_, kIdBytes, 1);
  const std::vector<Case> cases = {
      {kIdOffsets, 0, 1},              // must start at 0
      {kIdOffsets, 5, id_bytes + 1},   // past the bytes
      {kIdOffsets, 20, id_bytes - 1},  // must end at the bytes' size
      {kIdOffsets, 3, 0},              // decreasing
      {kMetaOffsets, 7, UINT64_MAX},   // wild
      {kTombOffsets, 1, UINT64_MAX / 2},
  };
  for (const auto& c : cases) {
    std::string bad = file_;
    const uint64_t at = SectionField(file_, c.section, 0) + c.entry * 8;
    std::memcpy(bad.data() + at, &c.value, 8);
    SCOPED_TRACE("section " + std::to_string(c.section) + " entry " + std::to_string(c.entry));
    ExpectCorrupt(bad, {"offset table", "inconsistent"}, /*verify=*/false);
  }
}

TEST_F(SegmentDamageTest, SequenceNumbersOutOfOrder) {
  Data d = data_;
  std::swap(d.seqs[3], d.seqs[12]);
  ASSERT_NE(d.seqs[3], d.seqs[12]);
  ExpectCorrupt(EncodeSegment(d.Columns()), {"sequence numbers"});
}

TEST_F(SegmentDamageTest, TruncatedFile) {
  for (size_t cut = 0; cut < file_.size(); cut += (cut < 400 ? 1 : 13)) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    // The last section may end exactly at a cut inside trailing padding: only cuts into data
    // must be refused.
    const uint64_t end =
        SectionField(file_, kNumSections - 1, 0) + SectionField(file_, kNumSections - 1, 1);
    if (cut >= end) continue;
    ExpectCorrupt(file_.substr(0, cut), {});
  }
}

}  // namespace
}  // namespace nearstore::storage

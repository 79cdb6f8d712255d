// File names: every kind built and parsed back (round trip at the edges of the number range),
// and the near misses that are someone else's file refused.
#include "storage/filename.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nearstore::storage {
namespace {

const std::vector<uint64_t> kNumbers = {0,       1,         7,          999999,
                                        1000000, 123456789, UINT64_MAX, UINT64_MAX - 1};

TEST(FileNameTest, BuildsTheDocumentedNames) {
  EXPECT_EQ(WalFileName(7), "wal-000007.log");
  EXPECT_EQ(SegmentFileName(5), "seg-000005.nss");
  EXPECT_EQ(CollectionDirName(1), "c000001");
  EXPECT_EQ(WalFileName(1234567), "wal-1234567.log");
  EXPECT_EQ(SegmentFileName(UINT64_MAX), "seg-18446744073709551615.nss");
  EXPECT_EQ(TempFileName("MANIFEST"), "MANIFEST.tmp");
  EXPECT_EQ(TempFileName("/db/MANIFEST"), "/db/MANIFEST.tmp");
}

TEST(FileNameTest, RoundTripsEveryKind) {
  for (uint64_t n : kNumbers) {
    SCOPED_TRACE(n);
    ParsedFileName p = ParseFileName(WalFileName(n));
    EXPECT_EQ(p.kind, FileKind::kWal);
    EXPECT_EQ(p.number, n);
    p = ParseFileName(SegmentFileName(n));
    EXPECT_EQ(p.kind, FileKind::kSegment);
    EXPECT_EQ(p.number, n);
    p = ParseFileName(CollectionDirName(n));
    EXPECT_EQ(p.kind, FileKind::kCollectionDir);
    EXPECT_EQ(p.number, n);
    uint64_t got = 0;
    EXPECT_TRUE(ParseWalFileName(WalFileName(n), &got));
    EXPECT_EQ(got, n);
    EXPECT_TRUE(ParseSegmentFileName(SegmentFileName(n), &got));
    EXPECT_EQ(got, n);
    EXPECT_TRUE(ParseCollectionDirName(CollectionDirName(n), &got));
    EXPECT_EQ(got, n);
    // Each shorthand answers for its own kind only.
    EXPECT_FALSE(ParseWalFileName(SegmentFileName(n), &got));
    EXPECT_FALSE(ParseSegmentFileName(WalFileName(n), &got));
    EXPECT_FALSE(ParseCollectionDirName(WalFileName(n), &got));
  }
  EXPECT_EQ(ParseFileName(kManifestFileName).kind, FileKind::kManifest);
  EXPECT_EQ(ParseFileName(kLockFileName).kind, FileKind::kLock);
  EXPECT_EQ(ParseFileName(TempFileName(kManifestFileName)).kind, FileKind::kTemp);
  EXPECT_EQ(ParseFileName("junk.tmp").kind, FileKind::kTemp);
}

TEST(FileNameTest, RefusesNearMisses) {
  const std::vector<std::string> not_ours = {
      "",
      "wal-.log",
      "wal-000001",
      "wal-000001.lo",
      "wal-000001.log.bak",
      "wal-000001.LOG",
      "WAL-000001.log",
      "xwal-000001.log",
      "wal-7.log",                      // not the builder's padding
      "wal-0000007.log",                // nor this
      "wal- 00001.log",                 // what sscanf's %llu would take
      "wal-+00001.log",                 // likewise
      "wal--00001.log",                 // likewise (and wrap to a huge number)
      "wal-00001a.log",                 //
      "wal-0x0001.log",                 //
      "wal-18446744073709551616.log",   // 2^64: does not fit
      "wal-99999999999999999999.log",   // 20 digits past 2^64
      "wal-184467440737095516150.log",  // 21 digits
      "seg-000001.log",                 // a segment number with a log's suffix
      "seg-000001.nss.bak",             //
      "seg-zz.nss",                     //
      "seg-1.nss",                      //
      "c",                              //
      "c1",                             //
      "c1-backup",                      // what sscanf("c%llu") took for a collection
      "c000001/",                       //
      "C000001",                        //
      "c18446744073709551616",          //
      "MANIFEST.bak",                   //
      "manifest",                       //
      "LOCK2",                          //
      ".tmp",                           // a suffix with no name
  };
  for (const auto& name : not_ours) {
    EXPECT_EQ(ParseFileName(name).kind, FileKind::kUnknown) << "'" << name << "'";
  }
  // A temporary copy of one of our files is a temporary file, not the file.
  EXPECT_EQ(ParseFileName("wal-12.log.tmp").kind, FileKind::kTemp);
  EXPECT_EQ(ParseFileName(TempFileName(WalFileName(12))).kind, FileKind::kTemp);
  uint64_t n = 99;
  EXPECT_FALSE(ParseWalFileName("wal-12.log.tmp", &n));
  EXPECT_FALSE(ParseWalFileName("wal-.log", &n));
  EXPECT_FALSE(ParseSegmentFileName("seg-18446744073709551616.nss", &n));
  EXPECT_EQ(n, 99u) << "a refused name must not change the number";
}

}  // namespace
}  // namespace nearstore::storage

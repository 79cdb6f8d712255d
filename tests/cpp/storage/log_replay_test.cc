// The replay rules (storage/log_replay.h) that recovery and `nearstore verify` share: which logs
// are replayed, where a log may end cut short, and which sequence number may follow which.
#include "storage/log_replay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/filename.h"

namespace nearstore::storage {
namespace {

using ::testing::HasSubstr;

WalContents Whole() { return WalContents{}; }

WalContents TornTail() {
  WalContents c;
  c.torn_tail = true;
  c.valid_size = 40;
  return c;
}

WalContents TornHeader() {
  WalContents c;
  c.torn_header = true;
  return c;
}

TEST(LogReplayTest, LogsToReplayAreOursAtOrAboveMinWalInOrder) {
  const std::vector<std::string> names = {
      WalFileName(12),      "wal-7.log",    WalFileName(3),
      SegmentFileName(5),   WalFileName(5), WalFileName(4),
      "wal-000006.log.bak", "MANIFEST",     TempFileName(WalFileName(9))};
  EXPECT_EQ(LogsToReplay(names, 4), (std::vector<uint64_t>{4, 5, 12}));
  EXPECT_EQ(LogsToReplay(names, 0), (std::vector<uint64_t>{3, 4, 5, 12}));
  EXPECT_TRUE(LogsToReplay(names, 13).empty());
}

TEST(LogReplayTest, DenseSequenceAcrossLogsReplays) {
  ReplayChecker r(/*last_sealed_seq=*/10);
  EXPECT_EQ(r.next_seq(), 11u);
  ASSERT_TRUE(r.BeginLog("/d/wal-000001.log", Whole(), false).ok());
  // Records already sealed are skipped, in any order.
  EXPECT_FALSE(*r.Accept(9));
  EXPECT_FALSE(*r.Accept(10));
  EXPECT_FALSE(*r.Accept(3));
  EXPECT_TRUE(*r.Accept(11));
  EXPECT_TRUE(*r.Accept(12));
  ASSERT_TRUE(r.BeginLog("/d/wal-000002.log", TornTail(), true).ok());
  EXPECT_TRUE(*r.Accept(13));
  EXPECT_EQ(r.next_seq(), 14u);
}

TEST(LogReplayTest, AGapIsCorruptionNamingBothLogs) {
  ReplayChecker r(0);
  ASSERT_TRUE(r.BeginLog("/d/wal-000001.log", Whole(), false).ok());
  EXPECT_TRUE(*r.Accept(1));
  EXPECT_TRUE(*r.Accept(2));
  ASSERT_TRUE(r.BeginLog("/d/wal-000002.log", Whole(), true).ok());
  auto gap = r.Accept(4);
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(gap.status().message(), HasSubstr("'/d/wal-000002.log' has sequence number 4 where "
                                                "3 was expected: writes are missing"));
  EXPECT_THAT(gap.status().message(), HasSubstr("or at the end of '/d/wal-000001.log'"));
  // Refused records leave the position where it was.
  EXPECT_EQ(r.next_seq(), 3u);
  EXPECT_TRUE(*r.Accept(3));
  // Inside a log, the log before is not blamed.
  auto inner = r.Accept(9);
  ASSERT_FALSE(inner.ok());
  EXPECT_THAT(inner.status().message(), ::testing::Not(HasSubstr("at the end of")));
}

TEST(LogReplayTest, AStepBackIsCorruption) {
  ReplayChecker r(5);
  ASSERT_TRUE(r.BeginLog("/d/wal-000003.log", Whole(), true).ok());
  EXPECT_TRUE(*r.Accept(6));
  EXPECT_TRUE(*r.Accept(7));
  for (uint64_t back : {6u, 7u}) {
    auto s = r.Accept(back);
    ASSERT_FALSE(s.ok()) << back;
    EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
    EXPECT_THAT(s.status().message(), HasSubstr("a step back"));
  }
}

TEST(LogReplayTest, TornEndsOnlyInTheNewestLog) {
  for (const WalContents& torn : {TornTail(), TornHeader()}) {
    ReplayChecker r(0);
    EXPECT_TRUE(r.BeginLog("/d/wal-000002.log", torn, /*newest=*/true).ok());
    Status s = r.BeginLog("/d/wal-000001.log", torn, /*newest=*/false);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kCorruption);
    EXPECT_THAT(s.message(), HasSubstr("'/d/wal-000001.log' ends in a partial record"));
    EXPECT_THAT(s.message(), HasSubstr("not the newest log"));
  }
}

TEST(LogReplayTest, SegmentsSetTheStartAndMustNotOverlap) {
  ReplayChecker r(4);
  ASSERT_TRUE(r.AddSegment("/d/seg-000001.nss", 3, 1, 3).ok());
  EXPECT_EQ(r.next_seq(), 5u);                                   // last_sealed_seq is higher
  ASSERT_TRUE(r.AddSegment("/d/seg-000002.nss", 0, 0, 0).ok());  // an empty segment
  ASSERT_TRUE(r.AddSegment("/d/seg-000003.nss", 2, 5, 8).ok());
  EXPECT_EQ(r.next_seq(), 9u);  // a segment's max_seq is higher
  Status overlap = r.AddSegment("/d/seg-000004.nss", 1, 8, 9);
  ASSERT_FALSE(overlap.ok());
  EXPECT_EQ(overlap.code(), StatusCode::kCorruption);
  EXPECT_THAT(overlap.message(), HasSubstr("'/d/seg-000004.nss' holds sequence numbers from 8"));
  EXPECT_EQ(r.next_seq(), 9u);
  ASSERT_TRUE(r.BeginLog("/d/wal-000009.log", Whole(), true).ok());
  // Above last_sealed_seq but inside a segment: the MANIFEST says it is not sealed, so the
  // logs and segments disagree.
  EXPECT_FALSE(r.Accept(8).ok());
  EXPECT_TRUE(*r.Accept(9));
}

TEST(LogReplayTest, SkipLogForgetsThePosition) {
  ReplayChecker r(0);
  ASSERT_TRUE(r.BeginLog("/d/wal-000001.log", Whole(), false).ok());
  EXPECT_TRUE(*r.Accept(1));
  r.SkipLog();  // the next log could not be read
  ASSERT_TRUE(r.BeginLog("/d/wal-000003.log", Whole(), true).ok());
  EXPECT_TRUE(*r.Accept(7));  // the position is taken from here
  EXPECT_FALSE(r.Accept(9).ok());
  EXPECT_TRUE(*r.Accept(8));
}

}  // namespace
}  // namespace nearstore::storage

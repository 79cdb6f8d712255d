// A full disk (MemEnv's space limit and fault knobs): a write that fails is refused and never
// applied; once space is back the next write succeeds without a reopen; a seal, compaction or
// new log that fails for space leaves no partial file behind and is retried; and a write whose
// append or sync failed never comes back after writes acknowledged later, across a reopen or a
// power cut. Every state is compared with the brute-force reference.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "nearstore/nearstore.h"
#include "storage/filename.h"
#include "storage/manifest.h"
#include "storage/mem_env.h"
#include "test_util.h"

namespace nearstore {
namespace {

using test::ExpectMatchesReference;
using test::Reference;
using ::testing::HasSubstr;

constexpr uint32_t kDim = 4;
constexpr char kDb[] = "/db";
constexpr char kCollectionDir[] = "/db/c000001";

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = test::TestSeed();
    rng_.seed(seed_);
    Open();
    auto c = db_->CreateCollection("c", kDim, Metric::kL2);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    col_ = std::move(c).value();
  }

  // Opens (or reopens) the database on the same in-memory disk.
  void Open() {
    col_.reset();
    db_.reset();
    DatabaseOptions o;
    o.env = &mem_;
    o.memtable_max_rows = memtable_rows_;
    auto db = Database::Open(kDb, o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    if (auto c = db_->GetCollection("c"); c.ok()) col_ = std::move(c).value();
  }

  std::vector<Point> Batch(const std::string& prefix, int n) {
    std::vector<Point> points;
    for (int i = 0; i < n; ++i) {
      points.push_back(
          Point{prefix + std::to_string(i), test::RandomVector(rng_, kDim), R"({"i":1})"});
    }
    return points;
  }
  // Writes `points`, and into the reference when acknowledged.
  Status Write(const std::vector<Point>& points) {
    Status s = col_->Upsert(points);
    if (s.ok()) {
      for (const auto& p : points) ref_.Upsert(p.id, p.vector, p.metadata);
    }
    return s;
  }
  // The power is cut: nothing more reaches the disk, what was not synced is lost; then the
  // database is opened again.
  void PowerCut() {
    mem_.SetFailWrites(true);
    col_.reset();
    db_.reset();
    mem_.DropUnsyncedData();
    mem_.SetFailWrites(false);
    Open();
  }
  void Check(const std::string& phase) {
    SCOPED_TRACE(test::SeedTrace(seed_));
    ExpectMatchesReference(*col_, ref_, rng_, phase);
  }
  // The files of the collection whose names are of `kind`.
  std::vector<std::string> Files(storage::FileKind kind) {
    auto names = mem_.ListDir(kCollectionDir);
    EXPECT_TRUE(names.ok());
    std::vector<std::string> out;
    for (const auto& n : *names) {
      if (storage::ParseFileName(n).kind == kind) out.push_back(n);
    }
    return out;
  }
  // The segment files the MANIFEST lists.
  std::vector<std::string> ListedSegments() {
    auto m = storage::ReadManifest(&mem_, kDb);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    std::vector<std::string> out;
    for (const auto& s : m->collections.at(0).segments) out.push_back(s.file);
    std::sort(out.begin(), out.end());
    return out;
  }
  void ExpectOnlyListedSegments(const std::string& phase) {
    std::vector<std::string> files = Files(storage::FileKind::kSegment);
    std::sort(files.begin(), files.end());
    EXPECT_EQ(files, ListedSegments()) << phase;
  }

  storage::MemEnv mem_;
  size_t memtable_rows_ = 100000;
  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
  Reference ref_{kDim, Metric::kL2};
  std::unique_ptr<Database> db_;
  std::shared_ptr<Collection> col_;
};

TEST_F(DiskFullTest, WritesResumeOnceSpaceIsBackWithoutAReopen) {
  ASSERT_TRUE(Write(Batch("a", 20)).ok());
  mem_.SetSpaceLimit(mem_.UsedSpace() + 200);  // less than the next batch's record
  Status full = Write(Batch("full", 40));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.code(), StatusCode::kIOError) << full.ToString();
  EXPECT_THAT(full.message(), HasSubstr("No space left on device"));
  EXPECT_THAT(full.message(), HasSubstr("not applied"));
  Check("after a write failed for space");  // reads keep working; nothing of the batch
  Status still_full = Write(Batch("still", 40));
  ASSERT_FALSE(still_full.ok());
  Check("while the disk is still full");

  mem_.SetSpaceLimit(storage::MemEnv::kUnlimitedSpace);
  Status s = Write(Batch("b", 20));
  ASSERT_TRUE(s.ok()) << "writes stay refused after space came back: " << s.ToString();
  Check("space back");
  ASSERT_TRUE(col_->Flush().ok());
  ASSERT_TRUE(Write(Batch("c", 5)).ok());

  PowerCut();  // every acknowledged write was synced
  Check("after a power cut");
}

// Sync fails with the whole group appended: the log holds records that were never
// acknowledged. They must not come back after later writes are acknowledged (a reopen replays
// what the log holds), so the log is cut back before anything else is written to it.
TEST_F(DiskFullTest, AWriteWhoseSyncFailedNeverComesBack) {
  ASSERT_TRUE(Write(Batch("p", 10)).ok());
  mem_.SetFailSyncs(true);
  PointUpdate update;
  update.vector = std::vector<float>{9, 9, 9, 9};
  auto updated = col_->Update("p0", update);
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.status().code(), StatusCode::kIOError);
  ASSERT_FALSE(Write(Batch("ghost", 3)).ok());  // the repair cannot sync either
  Check("syncs failing");

  mem_.SetFailSyncs(false);
  ASSERT_TRUE(Write(Batch("after", 3)).ok());
  auto deleted = col_->Delete("p1");
  ASSERT_TRUE(deleted.ok() && *deleted);
  ref_.Delete("p1");
  Check("syncs work again");

  Open();  // the process ends and starts again: the log is replayed as it is
  Check("reopened");
  ASSERT_TRUE(Write(Batch("later", 3)).ok());
  PowerCut();
  Check("power cut");
}

// The same when the database is closed right after the refused write: it is not replayed.
TEST_F(DiskFullTest, ARefusedWriteIsNotReplayedAfterAClose) {
  ASSERT_TRUE(Write(Batch("p", 10)).ok());
  mem_.SetFailSyncs(true);
  ASSERT_FALSE(Write(Batch("ghost", 3)).ok());
  mem_.SetFailSyncs(false);
  Open();
  Check("reopened");
}

TEST_F(DiskFullTest, ASealThatFailsForSpaceLeavesNoPartialSegmentAndIsRetried) {
  ASSERT_TRUE(Write(Batch("a", 50)).ok());
  mem_.SetSpaceLimit(mem_.UsedSpace() + 64);  // room for a new log, not for the segment
  Status flushed = col_->Flush();
  ASSERT_FALSE(flushed.ok());
  EXPECT_THAT(flushed.message(), HasSubstr("No space left on device"));
  EXPECT_THAT(flushed.message(), HasSubstr("sealing"));
  EXPECT_THAT(Files(storage::FileKind::kSegment), ::testing::IsEmpty())
      << "the partial segment stays until the next open";
  Check("seal failed");
  // While the seal cannot succeed, writes are refused (each retries it) and leave nothing.
  Status refused = Write(Batch("refused", 2));
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(Files(storage::FileKind::kSegment), ::testing::IsEmpty());

  mem_.SetSpaceLimit(storage::MemEnv::kUnlimitedSpace);
  Status s = Write(Batch("b", 5));
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(col_->Info().segments, 1u);  // the retried seal
  ASSERT_TRUE(col_->Flush().ok());
  ExpectOnlyListedSegments("after the retry");
  Check("space back");
  Open();
  Check("reopened");
}

TEST_F(DiskFullTest, ACompactionThatFailsForSpaceLeavesNoPartialSegment) {
  ASSERT_TRUE(Write(Batch("a", 50)).ok());
  ASSERT_TRUE(col_->Flush().ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(col_->Delete("a" + std::to_string(i)).ok());
    ref_.Delete("a" + std::to_string(i));
  }
  ASSERT_TRUE(col_->Flush().ok());
  ExpectOnlyListedSegments("before compaction");
  const size_t segments = Files(storage::FileKind::kSegment).size();
  mem_.SetSpaceLimit(mem_.UsedSpace() + 64);
  Status compacted = col_->Compact();
  ASSERT_FALSE(compacted.ok());
  EXPECT_THAT(compacted.message(), HasSubstr("No space left on device"));
  EXPECT_EQ(Files(storage::FileKind::kSegment).size(), segments);
  ExpectOnlyListedSegments("compaction failed");
  Check("compaction failed");

  mem_.SetSpaceLimit(storage::MemEnv::kUnlimitedSpace);
  ASSERT_TRUE(col_->Compact().ok());
  EXPECT_EQ(col_->Info().segments, 1u);
  ExpectOnlyListedSegments("compacted");
  Check("compacted");
  Open();
  Check("reopened");
}

// The segment was written whole but the MANIFEST could not be replaced: whether the disk's
// MANIFEST lists it is not known, so the file stays until a later MANIFEST is written, then
// goes.
TEST_F(DiskFullTest, ASegmentTheManifestCouldNotRecordIsRemovedAfterTheNextManifest) {
  ASSERT_TRUE(Write(Batch("a", 30)).ok());
  mem_.SetFailCreating(storage::TempFileName(storage::kManifestFileName));
  ASSERT_FALSE(col_->Flush().ok());
  EXPECT_EQ(Files(storage::FileKind::kSegment).size(), 1u);
  EXPECT_TRUE(ListedSegments().empty());
  Check("manifest not replaced");

  mem_.SetFailCreating("");
  ASSERT_TRUE(Write(Batch("b", 3)).ok());
  ASSERT_TRUE(col_->Flush().ok());
  EXPECT_EQ(ListedSegments().size(), 2u);
  ExpectOnlyListedSegments("after the retry");
  Open();
  Check("reopened");
}

TEST_F(DiskFullTest, ANewLogThatCannotBeStartedLeavesNoPartialLog) {
  ASSERT_TRUE(Write(Batch("a", 10)).ok());
  const size_t logs = Files(storage::FileKind::kWal).size();
  mem_.SetSpaceLimit(mem_.UsedSpace() + 8);  // not even a log header
  ASSERT_FALSE(col_->Flush().ok());
  EXPECT_EQ(Files(storage::FileKind::kWal).size(), logs) << "a log cut short was left";
  ASSERT_FALSE(Write(Batch("refused", 1)).ok());
  EXPECT_EQ(Files(storage::FileKind::kWal).size(), logs);
  Check("no room for a log");

  mem_.SetSpaceLimit(storage::MemEnv::kUnlimitedSpace);
  ASSERT_TRUE(Write(Batch("b", 10)).ok());
  ASSERT_TRUE(col_->Flush().ok());
  ASSERT_TRUE(Write(Batch("c", 10)).ok());
  Check("space back");
  Open();
  Check("reopened");
}

// Small memtables: writes fill the disk while memtables are being frozen and sealed in the
// background; whatever fails, the acknowledged writes are exactly what a reopen finds.
TEST_F(DiskFullTest, RandomLimitsUnderRotationKeepExactlyTheAcknowledgedWrites) {
  memtable_rows_ = 16;
  Open();
  for (int round = 0; round < 12; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    mem_.SetSpaceLimit(mem_.UsedSpace() + rng_() % 4000);
    for (int i = 0; i < 20; ++i) {
      (void)Write(Batch("r" + std::to_string(round) + "-" + std::to_string(i) + "-", 3));
    }
    Check("full");
    mem_.SetSpaceLimit(storage::MemEnv::kUnlimitedSpace);
    Status s = Write(Batch("ok" + std::to_string(round) + "-", 2));
    ASSERT_TRUE(s.ok()) << s.ToString();
    if (round % 3 == 2) {
      PowerCut();
      Check("power cut");
    }
  }
}

// Writers on several threads while the disk fills and empties under them: a write that was
// refused is never seen (now, after a reopen, or after a power cut), and every acknowledged one
// always is.
TEST_F(DiskFullTest, ConcurrentWritersKeepExactlyTheAcknowledgedWrites) {
  memtable_rows_ = 16;
  Open();
  constexpr int kThreads = 4, kWrites = 150;
  std::vector<std::vector<std::string>> acked(kThreads), refused(kThreads);
  std::atomic<bool> stop{false};
  std::thread flipper([&] {
    std::mt19937_64 rng(seed_);
    while (!stop.load()) {
      mem_.SetSpaceLimit(rng() % 2 == 0 ? mem_.UsedSpace() + rng() % 1500
                                        : storage::MemEnv::kUnlimitedSpace);
      std::this_thread::sleep_for(std::chrono::microseconds(100 + rng() % 2000));
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        const Point p{id, {float(t), float(i), 1, 2}, ""};
        (col_->Upsert(p).ok() ? acked : refused)[t].push_back(id);
        std::this_thread::sleep_for(std::chrono::microseconds(30));  // let the disk change
      }
    });
  }
  for (auto& w : writers) w.join();
  stop.store(true);
  flipper.join();
  mem_.SetSpaceLimit(storage::MemEnv::kUnlimitedSpace);
  size_t total_acked = 0, total_refused = 0;
  for (int t = 0; t < kThreads; ++t) {
    total_acked += acked[t].size();
    total_refused += refused[t].size();
  }
  std::printf("[disk full] %zu writes acknowledged, %zu refused\n", total_acked, total_refused);
  auto expect_exactly_acked = [&](const std::string& phase) {
    SCOPED_TRACE(phase + ", " + test::SeedTrace(seed_));
    EXPECT_EQ(col_->Count(), total_acked);
    for (int t = 0; t < kThreads; ++t) {
      for (const auto& id : acked[t]) {
        auto got = col_->Get(id);
        ASSERT_TRUE(got.ok() && got->has_value()) << id << " was acknowledged";
      }
      for (const auto& id : refused[t]) {
        auto got = col_->Get(id);
        ASSERT_TRUE(got.ok() && !got->has_value()) << id << " was refused";
      }
    }
  };
  expect_exactly_acked("after the writers");
  Open();
  expect_exactly_acked("reopened");
  PowerCut();
  expect_exactly_acked("power cut");
}

}  // namespace
}  // namespace nearstore

// Round trips through close and reopen: whatever was acknowledged before Close is there, exactly,
// after the next Open, whether it sat in the memtable (the write-ahead log), in sealed segments,
// or in a compacted segment; deletes whose tombstones are in the log or in segments stay
// deleted. Also: in-memory databases, dropping collections, the directory lock, kNoSync.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "nearstore/nearstore.h"
#include "storage/env.h"
#include "storage/mem_env.h"
#include "test_util.h"

namespace nearstore {
namespace {

using test::ExpectMatchesReference;
using test::MetadataCase;
using test::RandomId;
using test::RandomMetadata;
using test::RandomVector;
using test::Reference;
using ::testing::HasSubstr;

// Names of the files in `dir` whose names start with `prefix`.
std::vector<std::string> FilesIn(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct PersistParam {
  Metric metric;
  Durability durability;
};

class PersistenceTest : public ::testing::TestWithParam<PersistParam> {
 protected:
  static constexpr uint32_t kDim = 8;

  void SetUp() override {
    seed_ = test::TestSeed();
    rng_.seed(seed_);
    Open();
    ASSERT_NE(db_, nullptr);
    auto c = db_->CreateCollection("docs", kDim, GetParam().metric);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    col_ = std::move(c).value();
  }

  DatabaseOptions Options() {
    DatabaseOptions o;
    o.durability = GetParam().durability;
    // Vary what recovery sees: small and large memtables, checksums verified or not.
    const size_t rows[] = {16, 40, 1u << 20};
    o.memtable_max_rows = rows[rng_() % 3];
    o.verify_checksums_on_open = rng_() % 2 == 0;
    o.search_threads = 2;
    return o;
  }

  void Open() {
    auto db = Database::Open(dir_.path(), Options());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }

  // Closes and reopens the database, then compares everything with the reference.
  void ReopenAndCheck(const Reference& ref, const std::string& phase) {
    SCOPED_TRACE("reopen after: " + phase);
    col_.reset();
    ASSERT_TRUE(db_->Close().ok());
    db_.reset();
    Open();
    ASSERT_NE(db_, nullptr);
    auto list = db_->ListCollections();
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].name, "docs");
    EXPECT_EQ(list[0].dim, kDim);
    EXPECT_EQ(list[0].metric, GetParam().metric);
    EXPECT_EQ(list[0].count, ref.size());
    auto c = db_->GetCollection("docs");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    col_ = std::move(c).value();
    ExpectMatchesReference(*col_, ref, rng_, phase);
  }

  void UpsertRandom(Reference* ref, int n, int id_pool) {
    std::vector<Point> batch;
    std::vector<std::string> canonical;
    for (int i = 0; i < n; ++i) {
      const MetadataCase m = RandomMetadata(rng_);
      batch.push_back(Point{RandomId(rng_, id_pool), RandomVector(rng_, kDim), m.input});
      canonical.push_back(m.canonical);
      if (batch.size() == 7 || i + 1 == n) {
        if (batch.size() == 1) {
          ASSERT_TRUE(col_->Upsert(batch[0]).ok());
        } else {
          ASSERT_TRUE(col_->Upsert(batch).ok());
        }
        for (size_t j = 0; j < batch.size(); ++j) {
          ref->Upsert(batch[j].id, batch[j].vector, canonical[j]);
        }
        batch.clear();
        canonical.clear();
      }
    }
  }

  void DeleteSome(Reference* ref, int n) {
    std::vector<std::string> ids;
    for (const auto& [id, p] : ref->points()) {
      if (static_cast<int>(ids.size()) < n && rng_() % 3 == 0) ids.push_back(id);
    }
    ids.push_back("never-existed");
    auto r = col_->DeleteMany(ids);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ((*r)[i], ref->Delete(ids[i]));
  }

  void UpdateSome(Reference* ref, int n) {
    int done = 0;
    std::vector<std::string> ids;
    for (const auto& [id, p] : ref->points()) ids.push_back(id);
    for (const auto& id : ids) {
      if (done == n) break;
      if (rng_() % 3 != 0) continue;
      PointUpdate u;
      MetadataCase m = RandomMetadata(rng_);
      if (done % 3 != 1) u.vector = RandomVector(rng_, kDim);
      if (done % 3 != 0) u.metadata = m.input;
      auto r = col_->Update(id, u);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_TRUE(*r);
      ref->Update(id, u.vector ? &*u.vector : nullptr, u.metadata ? &m.canonical : nullptr);
      ++done;
    }
  }

  test::ScopedTempDir dir_{"persist"};
  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
  std::unique_ptr<Database> db_;
  std::shared_ptr<Collection> col_;
};

TEST_P(PersistenceTest, StateSurvivesEveryKindOfReopen) {
  SCOPED_TRACE(test::SeedTrace(seed_));
  Reference ref(kDim, GetParam().metric);
  ReopenAndCheck(ref, "nothing written");

  UpsertRandom(&ref, 60, 200);
  ReopenAndCheck(ref, "upserts in the log");

  ASSERT_TRUE(col_->Flush().ok());
  ReopenAndCheck(ref, "Flush");

  DeleteSome(&ref, 15);  // tombstones in the log, deleted rows in segments
  ReopenAndCheck(ref, "deletes in the log");

  UpsertRandom(&ref, 5, 200);
  ASSERT_TRUE(col_->Flush().ok());  // the tombstones move into a segment
  ReopenAndCheck(ref, "deletes sealed into a segment");

  UpdateSome(&ref, 20);  // updates of points in segments, in the log
  ReopenAndCheck(ref, "updates in the log");
  ASSERT_TRUE(col_->Flush().ok());
  ReopenAndCheck(ref, "updates sealed");

  ASSERT_TRUE(col_->Compact().ok());
  ReopenAndCheck(ref, "Compact");

  // Many cycles of random work, each ending in a reopen; sometimes sealed or compacted first.
  for (int cycle = 0; cycle < 6; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    UpsertRandom(&ref, 20 + static_cast<int>(rng_() % 40), 300);
    DeleteSome(&ref, static_cast<int>(rng_() % 10));
    UpdateSome(&ref, static_cast<int>(rng_() % 10));
    switch (rng_() % 4) {
      case 0:
        ASSERT_TRUE(col_->Flush().ok());
        break;
      case 1:
        ASSERT_TRUE(col_->Compact().ok());
        break;
      case 2:
        ASSERT_TRUE(col_->Flush().ok());
        ASSERT_TRUE(col_->Compact().ok());
        break;
      default:
        break;
    }
    ReopenAndCheck(ref, "cycle " + std::to_string(cycle));
  }
}

// The same id deleted and written again, in the log and in segments, in every order.
TEST_P(PersistenceTest, DeleteAndRewriteOfOneIdAcrossLayers) {
  SCOPED_TRACE(test::SeedTrace(seed_));
  Reference ref(kDim, GetParam().metric);
  auto put = [&](const std::string& id) {
    const auto v = RandomVector(rng_, kDim);
    const std::string meta = "{\"v\":" + std::to_string(rng_() % 1000) + "}";
    ASSERT_TRUE(col_->Upsert(Point{id, v, meta}).ok());
    ref.Upsert(id, v, meta);
  };
  auto del = [&](const std::string& id) {
    auto r = col_->Delete(id);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, ref.Delete(id)) << "Delete('" << id << "')";
  };
  auto update = [&](const std::string& id) {
    const auto v = RandomVector(rng_, kDim);
    auto r = col_->Update(id, test::VectorUpdate(v));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, ref.Update(id, &v, nullptr)) << "Update('" << id << "')";
  };
  for (const char* id : {"a", "b", "c", "d", "e", "f"}) put(id);
  ASSERT_TRUE(col_->Flush().ok());  // all six in segment 1
  del("a");                         // row in a segment, tombstone in the log
  put("b");                         // replaced in the log
  del("c");
  put("c");  // deleted then written again in one memtable
  put("g");
  del("g");  // written and deleted in one memtable
  update("d");
  del("d");     // updated then deleted
  update("x");  // never existed: false, nothing written
  ReopenAndCheck(ref, "mixed in the log");
  ASSERT_TRUE(col_->Flush().ok());
  ReopenAndCheck(ref, "mixed sealed");
  put("a");  // back after a delete sealed in a segment
  del("e");
  ASSERT_TRUE(col_->Flush().ok());
  put("e");
  ReopenAndCheck(ref, "rewrites across segments");
  ASSERT_TRUE(col_->Compact().ok());
  ReopenAndCheck(ref, "compacted");
  del("a");
  del("b");
  ASSERT_TRUE(col_->Compact().ok());  // compaction while the tombstones are only in the log
  ReopenAndCheck(ref, "compacted with tombstones in the log");
}

INSTANTIATE_TEST_SUITE_P(MetricsAndDurability, PersistenceTest,
                         ::testing::Values(PersistParam{Metric::kCosine, Durability::kSync},
                                           PersistParam{Metric::kL2, Durability::kSync},
                                           PersistParam{Metric::kDot, Durability::kSync},
                                           PersistParam{Metric::kCosine, Durability::kNoSync},
                                           PersistParam{Metric::kL2, Durability::kNoSync},
                                           PersistParam{Metric::kDot, Durability::kNoSync}),
                         [](const ::testing::TestParamInfo<PersistParam>& param_info) {
                           return std::string(MetricName(param_info.param.metric)) +
                                  (param_info.param.durability == Durability::kSync ? "_sync"
                                                                                    : "_nosync");
                         });

// ---------------------------------------------------------------------------------------------

TEST(Persistence, InMemoryDatabaseWorks) {
  const uint64_t seed = test::TestSeed();
  SCOPED_TRACE(test::SeedTrace(seed));
  std::mt19937_64 rng(seed);
  DatabaseOptions o;
  o.memtable_max_rows = 32;
  auto db = Database::OpenInMemory(o);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ((*db)->path(), "");
  auto other = Database::OpenInMemory(o);  // independent of the first; no lock between them
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto c = (*db)->CreateCollection("mem", 16, Metric::kCosine);
  ASSERT_TRUE(c.ok());
  Reference ref(16, Metric::kCosine);
  for (int i = 0; i < 150; ++i) {
    const auto v = RandomVector(rng, 16);
    const std::string id = RandomId(rng, 120);
    ASSERT_TRUE((*c)->Upsert(Point{id, v, "{}"}).ok());
    ref.Upsert(id, v, "{}");
    if (i % 10 == 9) {
      const std::string gone = RandomId(rng, 120);
      auto r = (*c)->Delete(gone);
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(*r, ref.Delete(gone));
    }
  }
  ExpectMatchesReference(**c, ref, rng, "in memory");
  ASSERT_TRUE((*c)->Flush().ok());
  ASSERT_TRUE((*c)->Compact().ok());
  ExpectMatchesReference(**c, ref, rng, "in memory, compacted");
  EXPECT_TRUE((*other)->ListCollections().empty());
  auto missing = (*other)->GetCollection("mem");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  ASSERT_TRUE((*db)->Close().ok());
  EXPECT_EQ((*c)->Upsert(Point{"late", std::vector<float>(16, 1.0f), "{}"}).code(),
            StatusCode::kFailedPrecondition);
}

TEST(Persistence, DropCollectionRemovesItAndItsFiles) {
  test::ScopedTempDir dir("drop");
  std::shared_ptr<Collection> old_handle;
  std::string dropped_dir;
  {
    auto db = Database::Open(dir.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto a = (*db)->CreateCollection("alpha", 2, Metric::kL2);
    auto b = (*db)->CreateCollection("beta", 2, Metric::kL2);
    ASSERT_TRUE(a.ok() && b.ok());
    const auto dirs_before = FilesIn(dir.path(), "c");
    ASSERT_EQ(dirs_before.size(), 2u);
    ASSERT_TRUE((*a)->Upsert(Point{"x", {1, 1}, "{}"}).ok());
    ASSERT_TRUE((*a)->Flush().ok());
    ASSERT_TRUE((*a)->Upsert(Point{"y", {2, 2}, "{}"}).ok());
    ASSERT_TRUE((*b)->Upsert(Point{"z", {3, 3}, "{}"}).ok());
    old_handle = *a;
    ASSERT_TRUE((*db)->DropCollection("alpha").ok());
    EXPECT_EQ((*db)->GetCollection("alpha").status().code(), StatusCode::kNotFound);
    EXPECT_EQ((*db)->DropCollection("alpha").code(), StatusCode::kNotFound);
    auto list = (*db)->ListCollections();
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0].name, "beta");
    EXPECT_EQ(old_handle->Upsert(Point{"w", {1, 1}, "{}"}).code(), StatusCode::kFailedPrecondition);
    // A new collection of the same name starts empty.
    auto again = (*db)->CreateCollection("alpha", 3, Metric::kDot);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ((*again)->Count(), 0u);
    EXPECT_EQ((*again)->dim(), 3u);
    ASSERT_TRUE((*again)->Upsert(Point{"new", {1, 2, 3}, "{}"}).ok());
    ASSERT_TRUE((*db)->Close().ok());
    // The dropped collection's directory is gone once background work is done (Close).
    const auto dirs_after = FilesIn(dir.path(), "c");
    EXPECT_EQ(dirs_after.size(), 2u) << "dropped collection's directory still on disk";
    for (const auto& d : dirs_before) {
      if (std::find(dirs_after.begin(), dirs_after.end(), d) == dirs_after.end()) dropped_dir = d;
    }
    EXPECT_FALSE(dropped_dir.empty()) << "no directory disappeared after the drop";
  }
  EXPECT_EQ(old_handle->Get("x").status().code(), StatusCode::kFailedPrecondition);
  {
    auto db = Database::Open(dir.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto list = (*db)->ListCollections();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].name, "alpha");
    EXPECT_EQ(list[1].name, "beta");
    auto a = (*db)->GetCollection("alpha");
    ASSERT_TRUE(a.ok());
    EXPECT_EQ((*a)->dim(), 3u);
    EXPECT_EQ((*a)->metric(), Metric::kDot);
    EXPECT_EQ((*a)->Count(), 1u);
    auto x = (*a)->Get("x");
    ASSERT_TRUE(x.ok());
    EXPECT_FALSE(x->has_value()) << "a point of the dropped collection came back";
    auto b = (*db)->GetCollection("beta");
    ASSERT_TRUE(b.ok());
    EXPECT_EQ((*b)->Count(), 1u);
    ASSERT_TRUE((*db)->DropCollection("alpha").ok());
    ASSERT_TRUE((*db)->DropCollection("beta").ok());
    EXPECT_TRUE((*db)->ListCollections().empty());
  }
  {
    auto db = Database::Open(dir.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_TRUE((*db)->ListCollections().empty());
    EXPECT_TRUE(FilesIn(dir.path(), "c").empty()) << "dropped directories left on disk";
  }
}

TEST(Persistence, SecondOpenOfTheSameDirectoryIsBusy) {
  test::ScopedTempDir dir("busy");
  auto first = Database::Open(dir.path());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto c = (*first)->CreateCollection("c", 2, Metric::kL2);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Upsert(Point{"a", {1, 2}, "{}"}).ok());

  auto second = Database::Open(dir.path());
  ASSERT_FALSE(second.ok());
  test::ExpectError(second.status(), StatusCode::kBusy, {"locked", dir.path()});

  // The refused open disturbed nothing: the first keeps working.
  ASSERT_TRUE((*c)->Upsert(Point{"b", {3, 4}, "{}"}).ok());
  EXPECT_EQ((*c)->Count(), 2u);
  ASSERT_TRUE((*c)->Flush().ok());

  ASSERT_TRUE((*first)->Close().ok());
  auto third = Database::Open(dir.path());
  ASSERT_TRUE(third.ok()) << "the lock must be released by Close: " << third.status().ToString();
  auto c3 = (*third)->GetCollection("c");
  ASSERT_TRUE(c3.ok());
  EXPECT_EQ((*c3)->Count(), 2u);
  third->reset();  // the destructor closes and releases the lock too
  auto fourth = Database::Open(dir.path());
  EXPECT_TRUE(fourth.ok()) << fourth.status().ToString();
}

TEST(Persistence, EmptyPathIsRefused) {
  auto db = Database::Open("");
  ASSERT_FALSE(db.ok());
  test::ExpectError(db.status(), StatusCode::kInvalidArgument, {"path", "OpenInMemory"});
}

// Reopening a database with nothing new to replay must not pile up log files: each open starts
// a new write-ahead log, and the old ones hold nothing that is not in a segment.
TEST(Persistence, IdleReopensDoNotAccumulateLogFiles) {
  test::ScopedTempDir dir("idle");
  std::string cdir;
  {
    auto db = Database::Open(dir.path());
    ASSERT_TRUE(db.ok());
    auto c = (*db)->CreateCollection("c", 2, Metric::kL2);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->Upsert(Point{"a", {1, 2}, "{}"}).ok());
    ASSERT_TRUE((*c)->Flush().ok());
    ASSERT_TRUE((*db)->Close().ok());
    const auto dirs = FilesIn(dir.path(), "c");
    ASSERT_EQ(dirs.size(), 1u);
    cdir = dir.path() + "/" + dirs[0];
  }
  for (int i = 0; i < 10; ++i) {
    auto db = Database::Open(dir.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto c = (*db)->GetCollection("c");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ((*c)->Count(), 1u);
  }
  EXPECT_LE(FilesIn(cdir, "wal-").size(), 2u) << "write-ahead logs after 10 idle reopens: "
                                              << ::testing::PrintToString(FilesIn(cdir, "wal-"));
}

// Deletes alone (no new rows) must survive reopens, and must not keep old log files forever.
TEST(Persistence, DeleteOnlyWorkloadSurvivesReopen) {
  test::ScopedTempDir dir("delonly");
  {
    auto db = Database::Open(dir.path());
    ASSERT_TRUE(db.ok());
    auto c = (*db)->CreateCollection("c", 2, Metric::kL2);
    ASSERT_TRUE(c.ok());
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE((*c)->Upsert(Point{"p" + std::to_string(i), {1, float(i)}, "{}"}).ok());
    }
    ASSERT_TRUE((*c)->Flush().ok());
  }
  for (int round = 0; round < 5; ++round) {
    auto db = Database::Open(dir.path());
    ASSERT_TRUE(db.ok());
    auto c = (*db)->GetCollection("c");
    ASSERT_TRUE(c.ok());
    ASSERT_EQ((*c)->Count(), static_cast<uint64_t>(10 - round)) << "round " << round;
    auto r = (*c)->Delete("p" + std::to_string(round));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(*r);
    if (round == 2) {
      ASSERT_TRUE((*c)->Flush().ok());
    }
  }
  auto db = Database::Open(dir.path());
  ASSERT_TRUE(db.ok());
  auto c = (*db)->GetCollection("c");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->Count(), 5u);
  for (int i = 0; i < 10; ++i) {
    auto got = (*c)->Get("p" + std::to_string(i));
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->has_value(), i >= 5) << "p" << i;
  }
  const auto dirs = FilesIn(dir.path(), "c");
  ASSERT_EQ(dirs.size(), 1u);
  EXPECT_LE(FilesIn(dir.path() + "/" + dirs[0], "wal-").size(), 2u)
      << ::testing::PrintToString(FilesIn(dir.path() + "/" + dirs[0], "wal-"));
}

// ---------------------------------------------------------------------------------------------
// Recovery that replays more rows than one memtable holds freezes memtables as it goes and
// seals them in the background. If the process stops after the first of those seals, the next
// recovery must still find every row.

// Forwards to another Env, but refuses to create segment files after the first `allowed`.
class FailSegmentsEnv final : public storage::Env {
 public:
  FailSegmentsEnv(storage::Env* base, int allowed) : base_(base), allowed_(allowed) {}

  Result<std::unique_ptr<storage::WritableFile>> NewWritableFile(const std::string& path) override {
    if (path.find("/seg-") != std::string::npos && created_.fetch_add(1) >= allowed_) {
      return Status::IOError("injected: cannot create '" + path + "'");
    }
    return base_->NewWritableFile(path);
  }
  Result<std::unique_ptr<storage::WritableFile>> NewAppendableFile(const std::string& p) override {
    return base_->NewAppendableFile(p);
  }
  Result<std::shared_ptr<storage::MappedFile>> MapFile(const std::string& p) override {
    return base_->MapFile(p);
  }
  Result<std::string> ReadFile(const std::string& p) override { return base_->ReadFile(p); }
  bool FileExists(const std::string& p) override { return base_->FileExists(p); }
  Result<uint64_t> FileSize(const std::string& p) override { return base_->FileSize(p); }
  Result<std::vector<std::string>> ListDir(const std::string& d) override {
    return base_->ListDir(d);
  }
  Status CreateDirs(const std::string& d) override { return base_->CreateDirs(d); }
  Status RemoveFile(const std::string& p) override { return base_->RemoveFile(p); }
  Status RemoveDirAll(const std::string& d) override { return base_->RemoveDirAll(d); }
  Status RenameFile(const std::string& f, const std::string& t) override {
    return base_->RenameFile(f, t);
  }
  Status TruncateFile(const std::string& p, uint64_t s) override {
    return base_->TruncateFile(p, s);
  }
  Status SyncDir(const std::string& d) override { return base_->SyncDir(d); }
  Result<std::unique_ptr<storage::FileLock>> LockFile(const std::string& p) override {
    return base_->LockFile(p);
  }

 private:
  storage::Env* const base_;
  const int allowed_;
  std::atomic<int> created_{0};
};

TEST(Persistence, ReplayThatFreezesMemtablesThenStopsAfterOneSeal) {
  auto mem = storage::NewMemEnv();
  constexpr int kBatches = 15, kBatchRows = 100;
  {
    DatabaseOptions o;
    o.env = mem.get();  // a large memtable: everything stays in one log, nothing is sealed
    auto db = Database::Open("/db", o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto c = (*db)->CreateCollection("r", 4, Metric::kL2);
    ASSERT_TRUE(c.ok());
    for (int b = 0; b < kBatches; ++b) {
      std::vector<Point> batch;
      for (int i = 0; i < kBatchRows; ++i) {
        batch.push_back(Point{
            "b" + std::to_string(b) + "-" + std::to_string(i), {float(b), float(i), 1, 2}, "{}"});
      }
      ASSERT_TRUE((*c)->Upsert(batch).ok());
    }
    ASSERT_EQ((*c)->Info().segments, 0u);
  }
  {
    // Recovery replays 1500 rows into memtables of at most 1024 rows: two get frozen. The first
    // is sealed, the second's seal fails, as if the process had died between them.
    FailSegmentsEnv failing(mem.get(), 1);
    DatabaseOptions o;
    o.env = &failing;
    o.memtable_max_rows = 1000;
    auto db = Database::Open("/db", o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto c = (*db)->GetCollection("r");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ((*c)->Count(), static_cast<uint64_t>(kBatches * kBatchRows));
    ASSERT_TRUE((*db)->Close().ok());
  }
  DatabaseOptions o;
  o.env = mem.get();
  auto db = Database::Open("/db", o);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto c = (*db)->GetCollection("r");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->Count(), static_cast<uint64_t>(kBatches * kBatchRows))
      << "rows acknowledged before the first close were lost";
  for (int b = 0; b < kBatches; ++b) {
    auto got = (*c)->Get("b" + std::to_string(b) + "-0");
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(got->has_value()) << "batch " << b << " is missing";
  }
}

// Open removes collection directories the MANIFEST does not list (a create or drop cut short),
// and only those: names in exactly the form it gives them (storage/filename.h). It used to read
// them with sscanf("c%llu"), which took "c1-backup" or "c7" for one and removed it.
TEST(Persistence, OpenRemovesOnlyItsOwnUnlistedDirectories) {
  test::ScopedTempDir dir("foreign_dirs");
  {
    auto db = Database::Open(dir.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto c = (*db)->CreateCollection("c", 2, Metric::kL2);
    ASSERT_TRUE(c.ok() && (*c)->Upsert(Point{"a", {1, 2}, ""}).ok());
  }
  namespace fs = std::filesystem;
  const std::vector<std::string> foreign = {"c1-backup", "c7", "c000001.old", "cache"};
  for (const auto& name : foreign) {
    fs::create_directories(fs::path(dir.path()) / name);
    std::ofstream(fs::path(dir.path()) / name / "keep.txt") << "someone's file";
  }
  fs::create_directories(fs::path(dir.path()) / "c000099");  // ours, listed nowhere
  auto db = Database::Open(dir.path());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  for (const auto& name : foreign) {
    EXPECT_TRUE(fs::exists(fs::path(dir.path()) / name / "keep.txt")) << name << " was removed";
  }
  EXPECT_FALSE(fs::exists(fs::path(dir.path()) / "c000099"));
  auto c = (*db)->GetCollection("c");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->Count(), 1u);
}

// kNoSync hands writes to the OS without fsync: within one process nothing is lost on Close.
TEST(Persistence, NoSyncRoundTrip) {
  test::ScopedTempDir dir("nosync");
  const uint64_t seed = test::TestSeed();
  SCOPED_TRACE(test::SeedTrace(seed));
  std::mt19937_64 rng(seed);
  Reference ref(5, Metric::kL2);
  DatabaseOptions o;
  o.durability = Durability::kNoSync;
  o.memtable_max_rows = 25;
  for (int round = 0; round < 4; ++round) {
    auto db = Database::Open(dir.path(), o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto c = round == 0 ? (*db)->CreateCollection("n", 5, Metric::kL2) : (*db)->GetCollection("n");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ExpectMatchesReference(**c, ref, rng, "round " + std::to_string(round));
    for (int i = 0; i < 70; ++i) {
      const std::string id = RandomId(rng, 100);
      if (rng() % 5 == 0) {
        auto r = (*c)->Delete(id);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(*r, ref.Delete(id));
      } else {
        const auto v = RandomVector(rng, 5);
        ASSERT_TRUE((*c)->Upsert(Point{id, v, ""}).ok());
        ref.Upsert(id, v, "{}");
      }
    }
  }
}

}  // namespace
}  // namespace nearstore

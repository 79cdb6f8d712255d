// VerifyDatabase: intact databases pass; every kind of damage is reported with its file.
#include "nearstore/verify.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "storage/manifest.h"
#include "storage/segment_file.h"
#include "storage/wal.h"
#include "test_db.h"

namespace nearstore::cli {
namespace {

using testing::BuildDatabase;
using testing::FindFiles;
using testing::FlipByte;
using testing::TempDir;

const FileFinding* FindingFor(const VerifyReport& report, const std::string& file) {
  for (const auto& f : report.files) {
    if (f.file == file) return &f;
  }
  return nullptr;
}

VerifyReport MustVerify(const std::string& dir) {
  auto report = VerifyDatabase(dir);
  EXPECT_TRUE(report.ok()) << report.status().ToString();
  return report.ok() ? std::move(report).value() : VerifyReport{};
}

// The newest write-ahead log of collection "docs" (the one holding the logged rows).
std::string NewestWal(const std::string& dir) {
  auto wals = FindFiles(dir, "wal-");
  EXPECT_FALSE(wals.empty());
  std::string newest;
  for (const auto& w : wals) {
    if (w.rfind("c000001/", 0) == 0) newest = w;  // sorted: the last is the newest
  }
  return newest;
}

TEST(VerifyTest, IntactDatabaseIsClean) {
  TempDir tmp("verify_clean");
  BuildDatabase(tmp.path());
  const VerifyReport report = MustVerify(tmp.path());
  const std::string text = FormatVerifyReport(report, tmp.path());
  EXPECT_FALSE(report.damaged()) << text;
  EXPECT_EQ(report.Count(VerifyFinding::kWarning), 0u) << text;
  EXPECT_EQ(report.Count(VerifyFinding::kNote), 0u) << text;
  // MANIFEST, one segment, and the logs of both collections.
  ASSERT_EQ(FindFiles(tmp.path(), "seg-").size(), 1u);
  for (const auto& f : FindFiles(tmp.path(), "seg-")) {
    const FileFinding* finding = FindingFor(report, f);
    ASSERT_NE(finding, nullptr) << f << "\n" << text;
    EXPECT_EQ(finding->finding, VerifyFinding::kOk) << text;
    EXPECT_NE(finding->detail.find("100 rows"), std::string::npos) << finding->detail;
  }
  const FileFinding* wal = FindingFor(report, NewestWal(tmp.path()));
  ASSERT_NE(wal, nullptr) << text;
  EXPECT_EQ(wal->finding, VerifyFinding::kOk);
  EXPECT_NE(wal->detail.find("2 records"), std::string::npos) << wal->detail;
  ASSERT_NE(FindingFor(report, "MANIFEST"), nullptr);
  EXPECT_NE(text.find("OK      MANIFEST"), std::string::npos) << text;
  EXPECT_NE(text.find("-> intact"), std::string::npos) << text;
}

TEST(VerifyTest, FlippedSegmentByteIsDamaged) {
  TempDir tmp("verify_segment");
  BuildDatabase(tmp.path());
  const std::string seg = FindFiles(tmp.path(), "seg-").at(0);
  const std::string path = tmp.path() + "/" + seg;
  // A byte inside the vectors section (covered by its checksum, not the header's).
  const std::string data = testing::ReadAll(path);
  auto view = storage::SegmentView::Parse(data, path, true);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  const size_t offset =
      static_cast<size_t>(reinterpret_cast<const char*>(view->vector(42)) - data.data()) + 5;
  FlipByte(path, offset);

  const VerifyReport report = MustVerify(tmp.path());
  const std::string text = FormatVerifyReport(report, tmp.path());
  EXPECT_TRUE(report.damaged()) << text;
  const FileFinding* finding = FindingFor(report, seg);
  ASSERT_NE(finding, nullptr) << text;
  EXPECT_EQ(finding->finding, VerifyFinding::kDamaged) << text;
  EXPECT_NE(finding->detail.find("vectors"), std::string::npos) << finding->detail;
  EXPECT_NE(text.find("DAMAGED " + seg + ": "), std::string::npos) << text;
  EXPECT_NE(text.find("-> DAMAGED"), std::string::npos) << text;
  // The other files are still checked and intact.
  EXPECT_EQ(FindingFor(report, NewestWal(tmp.path()))->finding, VerifyFinding::kOk);
}

TEST(VerifyTest, FlippedSegmentHeaderByteIsDamaged) {
  TempDir tmp("verify_segment_header");
  BuildDatabase(tmp.path());
  const std::string seg = FindFiles(tmp.path(), "seg-").at(0);
  FlipByte(tmp.path() + "/" + seg, 20);  // the row count
  const VerifyReport report = MustVerify(tmp.path());
  ASSERT_NE(FindingFor(report, seg), nullptr);
  EXPECT_EQ(FindingFor(report, seg)->finding, VerifyFinding::kDamaged);
}

TEST(VerifyTest, FlippedWalByteIsDamaged) {
  TempDir tmp("verify_wal");
  BuildDatabase(tmp.path());
  const std::string wal = NewestWal(tmp.path());
  // Inside the payload of the first record.
  FlipByte(tmp.path() + "/" + wal, storage::kWalHeaderSize + storage::kWalRecordHeaderSize + 3);

  const VerifyReport report = MustVerify(tmp.path());
  const std::string text = FormatVerifyReport(report, tmp.path());
  EXPECT_TRUE(report.damaged()) << text;
  const FileFinding* finding = FindingFor(report, wal);
  ASSERT_NE(finding, nullptr) << text;
  EXPECT_EQ(finding->finding, VerifyFinding::kDamaged);
  EXPECT_NE(finding->detail.find("checksum"), std::string::npos) << finding->detail;
  EXPECT_NE(text.find("DAMAGED " + wal + ": "), std::string::npos) << text;
}

TEST(VerifyTest, FlippedWalHeaderIsDamaged) {
  TempDir tmp("verify_wal_header");
  BuildDatabase(tmp.path());
  const std::string wal = NewestWal(tmp.path());
  FlipByte(tmp.path() + "/" + wal, 2);  // the magic
  const VerifyReport report = MustVerify(tmp.path());
  ASSERT_NE(FindingFor(report, wal), nullptr);
  EXPECT_EQ(FindingFor(report, wal)->finding, VerifyFinding::kDamaged);
  EXPECT_NE(FindingFor(report, wal)->detail.find("bad header"), std::string::npos);
}

TEST(VerifyTest, TornWalTailIsAWarningNotDamage) {
  TempDir tmp("verify_torn");
  BuildDatabase(tmp.path());
  const std::string wal = NewestWal(tmp.path());
  const std::string path = tmp.path() + "/" + wal;
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 3);

  const VerifyReport report = MustVerify(tmp.path());
  const std::string text = FormatVerifyReport(report, tmp.path());
  EXPECT_FALSE(report.damaged()) << text;
  const FileFinding* finding = FindingFor(report, wal);
  ASSERT_NE(finding, nullptr) << text;
  EXPECT_EQ(finding->finding, VerifyFinding::kWarning) << text;
  EXPECT_NE(finding->detail.find("torn tail"), std::string::npos) << finding->detail;
}

TEST(VerifyTest, TornLogThatIsNotTheNewestIsDamaged) {
  TempDir tmp("verify_torn_old");
  BuildDatabase(tmp.path());
  const std::string wal = NewestWal(tmp.path());
  const std::string path = tmp.path() + "/" + wal;
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 3);
  // A newer log after it: the torn one was complete once.
  std::filesystem::copy_file(tmp.path() + "/" + FindFiles(tmp.path(), "wal-").back(),
                             tmp.path() + "/c000001/wal-000999.log");
  const VerifyReport report = MustVerify(tmp.path());
  ASSERT_NE(FindingFor(report, wal), nullptr);
  EXPECT_EQ(FindingFor(report, wal)->finding, VerifyFinding::kDamaged);
}

// A log missing records (cut at a record boundary, or a log lost from the middle): recovery
// refuses to open it (the sequence numbers have a gap), so verify must call it damaged too.
// Verify used to check only for a step back and called this directory intact.
TEST(VerifyTest, GapInTheLogIsDamagedAsRecoveryRefusesIt) {
  TempDir tmp("verify_gap");
  BuildDatabase(tmp.path());
  const std::string wal = NewestWal(tmp.path());
  const std::string path = tmp.path() + "/" + wal;
  const std::string data = testing::ReadAll(path);
  auto contents = storage::ParseWal(data, path);
  ASSERT_TRUE(contents.ok()) << contents.status().ToString();
  ASSERT_EQ(contents->records.size(), 2u);  // the logged rows, then the delete
  std::string without_first = data.substr(0, storage::kWalHeaderSize);
  storage::WalWriter::EncodeRecord(contents->records[1], &without_first);
  testing::WriteAll(path, without_first);

  const VerifyReport report = MustVerify(tmp.path());
  const std::string text = FormatVerifyReport(report, tmp.path());
  EXPECT_TRUE(report.damaged()) << text;
  const FileFinding* finding = FindingFor(report, wal);
  ASSERT_NE(finding, nullptr) << text;
  EXPECT_EQ(finding->finding, VerifyFinding::kDamaged) << text;
  EXPECT_NE(finding->detail.find("writes are missing"), std::string::npos) << finding->detail;

  auto db = Database::Open(tmp.path());
  ASSERT_FALSE(db.ok()) << "verify and recovery disagree: " << text;
  EXPECT_EQ(db.status().code(), StatusCode::kCorruption) << db.status().ToString();
}

// Issue 17, defect 3: an id written twice, then flushed. The seal writes both rows (the first
// superseded); compaction then keeps the live one only, so the compacted file's sequence numbers
// start at 2. Its MANIFEST entry said 1 (the inputs' range) and verify called the healthy
// database damaged.
TEST(VerifyTest, CompactedSegmentWithoutItsSupersededRowIsIntact) {
  TempDir tmp("verify_superseded");
  {
    auto db = Database::Open(tmp.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto c = (*db)->CreateCollection("c", 2, Metric::kCosine);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_TRUE((*c)->Upsert(Point{"a", {1, 2}, ""}).ok());
    ASSERT_TRUE((*c)->Upsert(Point{"a", {2, 1}, ""}).ok());
    ASSERT_TRUE((*c)->Flush().ok());
    ASSERT_TRUE((*db)->Close().ok());
  }
  const VerifyReport report = MustVerify(tmp.path());
  const std::string text = FormatVerifyReport(report, tmp.path());
  EXPECT_FALSE(report.damaged()) << text;
  const auto segments = FindFiles(tmp.path(), "seg-");
  ASSERT_EQ(segments.size(), 1u) << text;  // compacted: one segment of one row
  EXPECT_EQ(FindingFor(report, segments[0])->finding, VerifyFinding::kOk) << text;
  EXPECT_NE(FindingFor(report, segments[0])->detail.find("1 row,"), std::string::npos) << text;

  // The MANIFEST now records the file's own range.
  auto manifest = storage::ReadManifest(storage::PosixEnv(), tmp.path());
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  const storage::SegmentEntry& entry = manifest->collections.at(0).segments.at(0);
  EXPECT_EQ(entry.min_seq, 2u);
  EXPECT_EQ(entry.max_seq, 2u);

  // And the data is right.
  auto db = Database::Open(tmp.path());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto got = (*(*db)->GetCollection("c"))->Get("a");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_GT((*got)->vector[0], (*got)->vector[1]);  // [2, 1], normalised
}

// A MANIFEST written by compaction before the rule above holds the inputs' range, wider than
// the file's: still intact. A range that does not contain the file's is damage.
TEST(VerifyTest, SegmentRangeFromAnOlderCompactionIsIntact) {
  TempDir tmp("verify_old_range");
  {
    auto db = Database::Open(tmp.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto c = (*db)->CreateCollection("c", 2, Metric::kL2);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE((*c)->Upsert(Point{"a", {float(i), 1}, ""}).ok());  // seq 1..4, 4 live
    }
    ASSERT_TRUE((*c)->Upsert(Point{"b", {9, 9}, ""}).ok());  // seq 5
    ASSERT_TRUE((*c)->Flush().ok());
    ASSERT_TRUE((*db)->Close().ok());
  }
  auto set_range = [&](uint64_t min_seq, uint64_t max_seq) {
    auto m = storage::ReadManifest(storage::PosixEnv(), tmp.path());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    auto& entry = m->collections.at(0).segments.at(0);
    entry.min_seq = min_seq;
    entry.max_seq = max_seq;
    ASSERT_TRUE(storage::WriteManifest(storage::PosixEnv(), tmp.path(), *m).ok());
  };
  auto written = storage::ReadManifest(storage::PosixEnv(), tmp.path());
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(written->collections.at(0).segments.at(0).min_seq, 4u);  // a (seq 4), b (seq 5)
  EXPECT_EQ(written->collections.at(0).segments.at(0).max_seq, 5u);
  const std::string seg = FindFiles(tmp.path(), "seg-").at(0);
  set_range(1, 5);  // what compaction used to record
  VerifyReport report = MustVerify(tmp.path());
  EXPECT_FALSE(report.damaged()) << FormatVerifyReport(report, tmp.path());

  set_range(1, 4);  // does not contain the file's max
  report = MustVerify(tmp.path());
  ASSERT_NE(FindingFor(report, seg), nullptr);
  EXPECT_EQ(FindingFor(report, seg)->finding, VerifyFinding::kDamaged);
  EXPECT_NE(FindingFor(report, seg)->detail.find("max sequence number 5 but the MANIFEST says 4"),
            std::string::npos)
      << FindingFor(report, seg)->detail;
}

TEST(VerifyTest, MissingListedFilesAreDamaged) {
  TempDir tmp("verify_missing");
  BuildDatabase(tmp.path());
  const std::string seg = FindFiles(tmp.path(), "seg-").at(0);
  std::filesystem::remove(tmp.path() + "/" + seg);
  std::filesystem::remove_all(tmp.path() + "/c000002");

  const VerifyReport report = MustVerify(tmp.path());
  const std::string text = FormatVerifyReport(report, tmp.path());
  EXPECT_TRUE(report.damaged());
  ASSERT_NE(FindingFor(report, seg), nullptr) << text;
  EXPECT_EQ(FindingFor(report, seg)->finding, VerifyFinding::kDamaged);
  EXPECT_NE(FindingFor(report, seg)->detail.find("missing"), std::string::npos);
  ASSERT_NE(FindingFor(report, "c000002/"), nullptr) << text;
  EXPECT_EQ(FindingFor(report, "c000002/")->finding, VerifyFinding::kDamaged);
}

TEST(VerifyTest, SegmentThatDisagreesWithTheManifestIsDamaged) {
  TempDir tmp("verify_swap");
  BuildDatabase(tmp.path());
  const std::string seg = FindFiles(tmp.path(), "seg-").at(0);
  // A valid segment file, but not the one the MANIFEST describes.
  const std::vector<float> vectors(3 * testing::kDim, 0.5f);
  const std::vector<uint64_t> seqs = {1, 2, 3};
  const std::vector<std::string_view> ids = {"a", "b", "c"}, meta = {"{}", "{}", "{}"};
  storage::SegmentColumns columns;
  columns.dim = testing::kDim;
  columns.vectors = vectors;
  columns.seqs = seqs;
  columns.ids = ids;
  columns.metadata = meta;
  testing::WriteAll(tmp.path() + "/" + seg, storage::EncodeSegment(columns));

  const VerifyReport report = MustVerify(tmp.path());
  ASSERT_NE(FindingFor(report, seg), nullptr);
  EXPECT_EQ(FindingFor(report, seg)->finding, VerifyFinding::kDamaged);
  EXPECT_NE(FindingFor(report, seg)->detail.find("rows 3 but the MANIFEST says 100"),
            std::string::npos)
      << FindingFor(report, seg)->detail;
}

TEST(VerifyTest, LeftoversAreNotes) {
  TempDir tmp("verify_leftovers");
  BuildDatabase(tmp.path());
  testing::WriteAll(tmp.path() + "/c000001/seg-000999.nss", "half a segment");
  testing::WriteAll(tmp.path() + "/c000001/wal-000000.log", "an old log");
  testing::WriteAll(tmp.path() + "/c000001/MANIFEST.tmp", "x");
  testing::WriteAll(tmp.path() + "/README.txt", "hello");
  std::filesystem::create_directories(tmp.path() + "/c000077");

  const VerifyReport report = MustVerify(tmp.path());
  const std::string text = FormatVerifyReport(report, tmp.path());
  EXPECT_FALSE(report.damaged()) << text;
  for (const char* f : {"c000001/seg-000999.nss", "c000001/wal-000000.log", "c000001/MANIFEST.tmp",
                        "README.txt", "c000077/"}) {
    const FileFinding* finding = FindingFor(report, f);
    ASSERT_NE(finding, nullptr) << f << "\n" << text;
    EXPECT_EQ(finding->finding, VerifyFinding::kNote) << f;
  }
}

TEST(VerifyTest, DamagedManifestIsReportedAndFilesStillChecked) {
  TempDir tmp("verify_manifest");
  BuildDatabase(tmp.path());
  const std::string manifest = tmp.path() + "/MANIFEST";
  FlipByte(manifest, std::filesystem::file_size(manifest) - 10);

  const VerifyReport report = MustVerify(tmp.path());
  const std::string text = FormatVerifyReport(report, tmp.path());
  EXPECT_TRUE(report.damaged()) << text;
  EXPECT_EQ(FindingFor(report, "MANIFEST")->finding, VerifyFinding::kDamaged) << text;
  const std::string seg = FindFiles(tmp.path(), "seg-").at(0);
  ASSERT_NE(FindingFor(report, seg), nullptr) << text;
  EXPECT_EQ(FindingFor(report, seg)->finding, VerifyFinding::kOk) << text;
}

TEST(VerifyTest, MissingManifestWithCollectionsIsDamaged) {
  TempDir tmp("verify_no_manifest");
  BuildDatabase(tmp.path());
  std::filesystem::remove(tmp.path() + "/MANIFEST");
  const VerifyReport report = MustVerify(tmp.path());
  EXPECT_TRUE(report.damaged());
  EXPECT_EQ(FindingFor(report, "MANIFEST")->finding, VerifyFinding::kDamaged);
}

TEST(VerifyTest, NeverModifiesAnythingAndNeedsNoLock) {
  TempDir tmp("verify_readonly");
  BuildDatabase(tmp.path());
  const std::string wal = tmp.path() + "/" + NewestWal(tmp.path());
  std::filesystem::resize_file(wal, std::filesystem::file_size(wal) - 3);  // recovery would trim
  testing::WriteAll(tmp.path() + "/c000001/seg-000999.nss", "leftover");   // and remove
  const auto before = testing::Snapshot(tmp.path());
  const VerifyReport report = MustVerify(tmp.path());
  EXPECT_FALSE(report.damaged());
  EXPECT_EQ(testing::Snapshot(tmp.path()), before);

  // While a process holds the database open (and its lock), verify still runs.
  TempDir tmp2("verify_locked");
  BuildDatabase(tmp2.path());
  auto db = Database::Open(tmp2.path());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto locked = VerifyDatabase(tmp2.path());
  ASSERT_TRUE(locked.ok()) << locked.status().ToString();
  EXPECT_FALSE(locked->damaged()) << FormatVerifyReport(*locked, tmp2.path());
}

TEST(VerifyTest, NotADatabaseIsAnError) {
  TempDir tmp("verify_not_db");
  auto missing = VerifyDatabase(tmp.path());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(tmp.path()));  // nothing created
  std::filesystem::create_directories(tmp.path());
  auto empty = VerifyDatabase(tmp.path());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.status().message().find("not a nearstore database"), std::string::npos);
}

TEST(VerifyTest, JsonReport) {
  TempDir tmp("verify_json");
  BuildDatabase(tmp.path());
  const VerifyReport report = MustVerify(tmp.path());
  const std::string json = VerifyReportToJson(report, tmp.path());
  EXPECT_NE(json.find("\"ok\": true"), std::string::npos) << json;
  EXPECT_NE(json.find("\"status\": \"OK\""), std::string::npos) << json;
}

}  // namespace
}  // namespace nearstore::cli

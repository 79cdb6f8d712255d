// GatherInfo: counts from an opened database, and from the MANIFEST when another holds it.
#include "cli/info.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "test_db.h"

namespace nearstore::cli {
namespace {

using testing::BuildDatabase;
using testing::TempDir;

// Adds payload indexes to the "docs" collection of a database built by BuildDatabase.
void IndexDocs(const std::string& path) {
  auto db = Database::Open(path);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto docs = (*db)->GetCollection("docs");
  ASSERT_TRUE(docs.ok());
  ASSERT_TRUE((*docs)->CreatePayloadIndex("lang", PayloadIndexKind::kKeyword).ok());
  ASSERT_TRUE((*docs)->CreatePayloadIndex("meta.year", PayloadIndexKind::kInt).ok());
  ASSERT_TRUE((*db)->Close().ok());
}

TEST(InfoTest, OpensAndCounts) {
  TempDir tmp("info_open");
  BuildDatabase(tmp.path());
  IndexDocs(tmp.path());
  auto summary = GatherInfo(tmp.path());
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_TRUE(summary->opened);
  ASSERT_EQ(summary->collections.size(), 2u);
  const CollectionSummary& docs = summary->collections[0];
  EXPECT_EQ(docs.name, "docs");
  EXPECT_EQ(docs.dim, testing::kDim);
  EXPECT_EQ(docs.metric, "cosine");
  EXPECT_EQ(docs.index, "flat");
  EXPECT_EQ(docs.live, testing::kSealedRows + testing::kLoggedRows - 1);
  // Recovery may already have sealed the logged rows in the background: either way they are
  // all counted once.
  ASSERT_TRUE(docs.memtable_rows.has_value());
  EXPECT_EQ(docs.segment_rows + *docs.memtable_rows, testing::kSealedRows + testing::kLoggedRows);
  EXPECT_GE(docs.segments, 1u);
  EXPECT_GT(docs.disk_bytes, testing::kSealedRows * testing::kDim * sizeof(float));
  const CollectionSummary& empty = summary->collections[1];
  EXPECT_EQ(empty.name, "empty");
  EXPECT_EQ(empty.metric, "l2");
  EXPECT_EQ(empty.index, "hnsw");
  EXPECT_EQ(empty.live, 0u);

  const std::string text = FormatInfo(*summary);
  EXPECT_NE(text.find("docs"), std::string::npos) << text;
  EXPECT_NE(text.find("total"), std::string::npos) << text;
  EXPECT_EQ(text.find("locked"), std::string::npos) << text;
  EXPECT_NE(text.find("payload indexes of 'docs': lang (keyword) meta.year (int)"),
            std::string::npos)
      << text;

  auto json = nlohmann::json::parse(InfoToJson(*summary));
  EXPECT_EQ(json["opened"], true);
  EXPECT_EQ(json["collections"][0]["live"], 109);
  EXPECT_EQ(json["total"]["live"], 109);
  EXPECT_TRUE(json["lock_message"].is_null());
  EXPECT_EQ(json["collections"][0]["payload_indexes"][1]["field"], "meta.year");
  EXPECT_EQ(json["collections"][0]["payload_indexes"][1]["kind"], "int");
  EXPECT_TRUE(json["collections"][1]["payload_indexes"].empty());
}

TEST(InfoTest, LockedDatabaseFallsBackToTheManifest) {
  TempDir tmp("info_locked");
  BuildDatabase(tmp.path());
  IndexDocs(tmp.path());
  // Another holder of the lock (flock conflicts between open files, even in one process).
  auto db = Database::Open(tmp.path());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto docs = (*db)->GetCollection("docs");
  ASSERT_TRUE(docs.ok());
  ASSERT_TRUE((*docs)->Flush().ok());  // everything so far in segments
  ASSERT_TRUE((*docs)->Upsert(Point{"late-1", std::vector<float>(testing::kDim, 1.0f)}).ok());
  ASSERT_TRUE((*docs)->Upsert(Point{"late-2", std::vector<float>(testing::kDim, 2.0f)}).ok());

  auto summary = GatherInfo(tmp.path());
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_FALSE(summary->opened);
  EXPECT_NE(summary->lock_message.find("locked"), std::string::npos) << summary->lock_message;
  ASSERT_EQ(summary->collections.size(), 2u);
  const CollectionSummary& c = summary->collections[0];
  EXPECT_EQ(c.name, "docs");
  EXPECT_FALSE(c.live.has_value());
  EXPECT_EQ(c.segment_rows, testing::kSealedRows + testing::kLoggedRows);
  EXPECT_EQ(c.memtable_rows, 2u);  // logged since the last seal
  EXPECT_GT(c.disk_bytes, 0u);

  const std::string text = FormatInfo(*summary);
  EXPECT_NE(text.find("locked by another process"), std::string::npos) << text;
  auto json = nlohmann::json::parse(InfoToJson(*summary));
  EXPECT_EQ(json["opened"], false);
  EXPECT_TRUE(json["collections"][0]["live"].is_null());
  EXPECT_EQ(json["collections"][0]["memtable_rows"], 2);
  EXPECT_EQ(json["collections"][0]["payload_indexes"][0]["field"], "lang");
}

TEST(InfoTest, NotADatabaseIsRefusedAndNothingIsCreated) {
  TempDir tmp("info_not_db");
  auto missing = GatherInfo(tmp.path());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(tmp.path()));
  std::filesystem::create_directories(tmp.path());
  auto empty = GatherInfo(tmp.path());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path()));
}

}  // namespace
}  // namespace nearstore::cli

// A first end-to-end check of the engine: write, search, reopen, search again.
#include <gtest/gtest.h>

#include <filesystem>

#include "nearstore/nearstore.h"

namespace nearstore {
namespace {

std::string TempDir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() /
           ("nearstore_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  return p.string();
}

TEST(Smoke, WriteSearchReopen) {
  const std::string dir = TempDir("smoke");
  {
    auto db = Database::Open(dir);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto col = (*db)->CreateCollection("docs", 3, Metric::kL2);
    ASSERT_TRUE(col.ok()) << col.status().ToString();
    ASSERT_TRUE((*col)->Upsert(Point{"a", {1, 0, 0}, R"({"n": 1})"}).ok());
    ASSERT_TRUE((*col)->Upsert(Point{"b", {0, 1, 0}, "{}"}).ok());
    ASSERT_TRUE((*col)->Upsert(Point{"c", {0, 0, 1}, "{}"}).ok());
    auto hits = (*col)->Search(std::vector<float>{1, 0.1f, 0}, SearchOptions{.k = 2});
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    ASSERT_EQ(hits->size(), 2u);
    EXPECT_EQ((*hits)[0].id, "a");
    EXPECT_EQ((*hits)[0].metadata, R"({"n":1})");
    ASSERT_TRUE((*col)->Flush().ok());
    auto del = (*col)->Delete("b");
    ASSERT_TRUE(del.ok());
    EXPECT_TRUE(*del);
  }
  {
    auto db = Database::Open(dir);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto col = (*db)->GetCollection("docs");
    ASSERT_TRUE(col.ok()) << col.status().ToString();
    EXPECT_EQ((*col)->Count(), 2u);
    auto hits = (*col)->Search(std::vector<float>{0, 1, 0}, SearchOptions{.k = 5});
    ASSERT_TRUE(hits.ok());
    ASSERT_EQ(hits->size(), 2u);
    EXPECT_NE((*hits)[0].id, "b");
    ASSERT_TRUE((*col)->Compact().ok());
    EXPECT_EQ((*col)->Count(), 2u);
  }
  {
    auto db = Database::Open(dir);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto col = (*db)->GetCollection("docs");
    ASSERT_TRUE(col.ok());
    EXPECT_EQ((*col)->Count(), 2u);
    auto got = (*col)->Get("a");
    ASSERT_TRUE(got.ok() && got->has_value());
    EXPECT_EQ((*got)->vector, (std::vector<float>{1, 0, 0}));
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nearstore

// nearstore::Filter, the public face of the filter language: it refuses what the engine
// refuses and passes exactly the points a filtered read would return.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nearstore/filter.h"
#include "nearstore/nearstore.h"

namespace nearstore {
namespace {

TEST(PublicFilter, RefusesBadFiltersWithTheEnginesMessage) {
  auto bad = Filter::Parse(R"({"year": {"$between": [1, 2]}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), ::testing::HasSubstr("unknown operator '$between'"));
  EXPECT_FALSE(Filter::Parse("{not json").ok());
}

TEST(PublicFilter, MatchesWhatAFilteredCountCounts) {
  auto db = Database::OpenInMemory();
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto col = (*db)->CreateCollection("c", 2, Metric::kL2);
  ASSERT_TRUE(col.ok());
  const std::vector<std::string> metadata = {R"({"lang": "en", "year": 2024})",
                                             R"({"lang": "fr", "year": 2020})", R"({"year": 2030})",
                                             R"({"lang": ["en", "de"]})", "{}"};
  for (size_t i = 0; i < metadata.size(); ++i) {
    ASSERT_TRUE((*col)->Upsert(Point{"p" + std::to_string(i), {1, 2}, metadata[i]}).ok());
  }
  for (const char* text :
       {R"({"lang": "en"})", R"({"year": {"$gte": 2024}})",
        R"({"$or": [{"lang": "fr"}, {"$id": "p4"}]})", R"({"lang": {"$exists": false}})",
        R"({"$id": {"$in": ["p1", "p3"]}})"}) {
    SCOPED_TRACE(text);
    auto f = Filter::Parse(text);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    uint64_t passing = 0;
    for (size_t i = 0; i < metadata.size(); ++i) {
      passing += f->Matches(metadata[i], "p" + std::to_string(i)) ? 1 : 0;
    }
    auto counted = (*col)->CountWhere(text);
    ASSERT_TRUE(counted.ok());
    EXPECT_EQ(passing, *counted);
  }
  auto any = Filter::Parse("{}");
  ASSERT_TRUE(any.ok());
  EXPECT_TRUE(any->Matches("not json"));  // text that is not an object has no fields
}

}  // namespace
}  // namespace nearstore

// The filter language (docs/FILTERS.md) on hand-made documents: each operator, typed
// comparisons, missing fields, dotted paths, boolean combinations, and refusals naming the
// faulty part.
#include "filter/filter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nearstore::filter {
namespace {

using nlohmann::json;

const std::vector<json>& Documents() {
  static const std::vector<json> docs = {
      json::parse(R"({"lang": "en", "year": 2024, "tags": ["a", "b"], "draft": false,
                      "author": {"name": "Ann", "age": 41}, "score": 0.5})"),
      json::parse(R"({"lang": "fr", "year": 2019, "tags": ["b"], "draft": true})"),
      json::parse(R"({"lang": "en", "year": "2024", "tags": [], "score": 1})"),
      json::parse(R"({"author": {"name": "Bob"}, "year": 2024.0, "tags": "a"})"),
      json::object(),
      json::parse(R"({"lang": null, "tags": [null, 3, 7],
                      "diet": [{"food": "meat", "likes": false}, {"food": "fish", "likes": true}]})"),
  };
  return docs;
}

// The indexes of Documents() that `text` matches.
std::vector<int> Matching(const std::string& text) {
  auto f = Filter::Parse(text);
  EXPECT_TRUE(f.ok()) << text << ": " << f.status().ToString();
  std::vector<int> out;
  if (!f.ok()) return out;
  for (size_t i = 0; i < Documents().size(); ++i) {
    if (f->Matches(Documents()[i])) out.push_back(static_cast<int>(i));
    // Stored text gives the same answer as parsed JSON.
    EXPECT_EQ(f->Matches(Documents()[i]), f->MatchesText(Documents()[i].dump())) << text;
  }
  return out;
}

using V = std::vector<int>;

TEST(FilterTest, EqualityIsTyped) {
  EXPECT_EQ(Matching(R"({"lang": "en"})"), V({0, 2}));
  EXPECT_EQ(Matching(R"({"lang": {"$eq": "en"}})"), V({0, 2}));
  EXPECT_EQ(Matching(R"({"lang": null})"), V({5}));  // null equals null only, never missing
  // 2024 the number: not the string "2024"; 2024.0 equals 2024.
  EXPECT_EQ(Matching(R"({"year": 2024})"), V({0, 3}));
  EXPECT_EQ(Matching(R"({"year": "2024"})"), V({2}));
  EXPECT_EQ(Matching(R"({"draft": false})"), V({0}));
  EXPECT_EQ(Matching(R"({"score": 1})"), V({2}));
  EXPECT_EQ(Matching(R"({"draft": 0})"), V({}));  // a number never equals a boolean
}

TEST(FilterTest, MissingFieldsMatchOnlyExistsFalseNeAndNin) {
  EXPECT_EQ(Matching(R"({"draft": {"$ne": true}})"), V({0, 2, 3, 4, 5}));
  EXPECT_EQ(Matching(R"({"lang": {"$nin": ["en"]}})"), V({1, 3, 4, 5}));
  EXPECT_EQ(Matching(R"({"lang": {"$nin": ["en", null]}})"), V({1, 3, 4}));
  EXPECT_EQ(Matching(R"({"lang": {"$exists": false}})"), V({3, 4}));
  EXPECT_EQ(Matching(R"({"lang": {"$exists": true}})"), V({0, 1, 2, 5}));
  EXPECT_EQ(Matching(R"({"score": {"$lt": 100}})"), V({0, 2}));
}

TEST(FilterTest, RangesTakeNumbersOnly) {
  EXPECT_EQ(Matching(R"({"year": {"$gte": 2024}})"), V({0, 3}));  // not the string "2024"
  EXPECT_EQ(Matching(R"({"year": {"$gt": 2019, "$lte": 2024}})"), V({0, 3}));
  EXPECT_EQ(Matching(R"({"year": {"$lt": 2024}})"), V({1}));
  EXPECT_EQ(Matching(R"({"score": {"$gt": 0.5}})"), V({2}));
  EXPECT_EQ(Matching(R"({"score": {"$gte": 0.5}})"), V({0, 2}));
}

TEST(FilterTest, InNinAndContains) {
  EXPECT_EQ(Matching(R"({"lang": {"$in": ["fr", "de"]}})"), V({1}));
  EXPECT_EQ(Matching(R"({"year": {"$in": [2019, "2024"]}})"), V({1, 2}));
  EXPECT_EQ(Matching(R"({"lang": {"$in": []}})"), V({}));
  EXPECT_EQ(Matching(R"({"lang": {"$nin": []}})"), V({0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(Matching(R"({"tags": {"$contains": "a"}})"), V({0}));  // "a" itself is no array
  EXPECT_EQ(Matching(R"({"tags": {"$contains": "b"}})"), V({0, 1}));
  EXPECT_EQ(Matching(R"({"tags": {"$contains": null}})"), V({5}));
  EXPECT_EQ(Matching(R"({"tags": "a"})"), V({3}));  // equality never looks inside an array
}

TEST(FilterTest, SizeCountsTheElementsOfAnArray) {
  EXPECT_EQ(Matching(R"({"tags": {"$size": 0}})"), V({2}));
  EXPECT_EQ(Matching(R"({"tags": {"$size": 2}})"), V({0}));
  EXPECT_EQ(Matching(R"({"tags": {"$size": 1}})"), V({1}));  // "a" is no array
  EXPECT_EQ(Matching(R"({"$or": [{"tags": {"$exists": false}}, {"tags": null},
                                  {"tags": {"$size": 0}}]})"),
            V({2, 4}));  // empty: missing, null or []
}

TEST(FilterTest, ElemMatchAsksOneElementToPassEveryCondition) {
  // Operators on the elements themselves: 3 and 7 are each outside (4, 6); none is inside.
  EXPECT_EQ(Matching(R"({"tags": {"$elemMatch": {"$gt": 4, "$lt": 6}}})"), V({}));
  EXPECT_EQ(Matching(R"({"tags": {"$elemMatch": {"$gt": 4, "$lt": 8}}})"), V({5}));
  EXPECT_EQ(Matching(R"({"tags": {"$elemMatch": {"$in": ["b", 3]}}})"), V({0, 1, 5}));
  // A filter on elements that are documents: the same element must pass both.
  EXPECT_EQ(Matching(R"({"diet": {"$elemMatch": {"food": "meat", "likes": true}}})"), V({}));
  EXPECT_EQ(Matching(R"({"diet": {"$elemMatch": {"food": "fish", "likes": true}}})"), V({5}));
  EXPECT_EQ(Matching(R"({"diet": {"$elemMatch": {"$or": [{"food": "x"}, {"likes": false}]}}})"),
            V({5}));
  EXPECT_EQ(Matching(R"({"lang": {"$elemMatch": {"$exists": true}}})"), V({}));  // no array
}

TEST(FilterTest, IdConditionsReadThePointsId) {
  auto f = Filter::Parse(R"({"$id": {"$in": ["p1", "p2"]}, "lang": "en"})");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(f->Matches(Documents()[0], "p2"));
  EXPECT_FALSE(f->Matches(Documents()[0], "p3"));
  EXPECT_FALSE(f->Matches(Documents()[1], "p1"));
  auto one = Filter::Parse(R"({"$id": "p1"})");
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(one->MatchesText("{}", "p1"));
  EXPECT_FALSE(one->MatchesText("{}", "p10"));
  auto not_in = Filter::Parse(R"({"$id": {"$nin": ["p1"], "$ne": "p2"}})");
  ASSERT_TRUE(not_in.ok());
  EXPECT_TRUE(not_in->MatchesText("{}", "p3"));
  EXPECT_FALSE(not_in->MatchesText("{}", "p2"));
  EXPECT_FALSE(not_in->MatchesText("{}", "p1"));
}

TEST(FilterTest, DottedPathsReachNestedFields) {
  EXPECT_EQ(Matching(R"({"author.name": "Ann"})"), V({0}));
  EXPECT_EQ(Matching(R"({"author.age": {"$exists": true}})"), V({0}));
  EXPECT_EQ(Matching(R"({"author.name": {"$exists": true}})"), V({0, 3}));
  EXPECT_EQ(Matching(R"({"lang.x": {"$exists": false}})"), V({0, 1, 2, 3, 4, 5}));
}

TEST(FilterTest, BooleanCombinations) {
  EXPECT_EQ(Matching("{}"), V({0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(Filter::Parse("{}")->MatchesEverything());
  EXPECT_EQ(Matching(R"({"lang": "en", "year": 2024})"), V({0}));
  EXPECT_EQ(Matching(R"({"$and": [{"lang": "en"}, {"year": 2024}]})"), V({0}));
  EXPECT_EQ(Matching(R"({"$or": [{"lang": "fr"}, {"author.name": "Bob"}]})"), V({1, 3}));
  EXPECT_EQ(Matching(R"({"$not": {"lang": "en"}})"), V({1, 3, 4, 5}));
  EXPECT_EQ(Matching(R"({"lang": "en", "year": {"$gte": 2024},
                         "$or": [{"tags": {"$contains": "a"}}, {"draft": false}]})"),
            V({0}));
}

// A refused filter: InvalidArgument whose message holds each of `parts`.
void Refused(const std::string& text, const std::vector<std::string>& parts) {
  auto f = Filter::Parse(text);
  ASSERT_FALSE(f.ok()) << text;
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
  for (const auto& part : parts) {
    EXPECT_THAT(f.status().message(), ::testing::HasSubstr(part)) << text;
  }
}

TEST(FilterTest, NestingBombsAreRefusedBeforeTheyAreParsed) {
  Refused(std::string(30000, '[') + std::string(30000, ']'), {"filter nests deeper than 64"});
  std::string objects;
  for (int i = 0; i < 9000; ++i) objects += "{\"a\":";  // within kMaxFilterBytes
  Refused(objects + "1" + std::string(9000, '}'), {"filter nests deeper than 64"});
}

TEST(FilterTest, BadFiltersAreRefusedWithThePathAndWhatWasExpected) {
  Refused(R"({"year": {"$between": [1, 2]}})", {"year.$between", "unknown operator '$between'"});
  Refused(R"({"$nor": []})", {"unknown operator '$nor'"});
  Refused(R"({"tag": {"$in": "a"}})", {"tag.$in", "$in expects a list"});
  Refused(R"({"tag": {"$in": ["a", {"b": 1}]}})",
          {"tag.$in[1]", "strings, numbers, booleans or null"});
  Refused(R"({"year": {"$gt": "2024"}})", {"year.$gt", "expects a number", "\"2024\""});
  Refused(R"({"$or": [{"a": 1}, {"b": {"$lt": null}}]})", {"$or[1].b.$lt", "expects a number"});
  Refused(R"({"$and": []})", {"$and", "non-empty list"});
  Refused(R"({"$not": [1]})", {"$not", "expected an object"});
  Refused(R"({"a": {"$exists": 1}})", {"a.$exists", "true or false"});
  Refused(R"({"a": [1, 2]})", {"$eq expects a string, number, boolean or null"});
  Refused(R"({"a": {"$size": -1}})", {"a.$size", "non-negative integer"});
  Refused(R"({"a": {"$size": 1.5}})", {"a.$size", "non-negative integer"});
  Refused(R"({"a": {"$elemMatch": {}}})", {"a.$elemMatch", "non-empty object"});
  Refused(R"({"a": {"$elemMatch": {"$gt": 1, "b": 2}}})", {"a.$elemMatch", "mixes"});
  Refused(R"({"a": {"$elemMatch": {"b": {"$foo": 2}}}})", {"a.$elemMatch.b.$foo", "unknown"});
  Refused(R"({"a": {"$elemMatch": {"$id": "x"}}})", {"unknown operator '$id'"});
  Refused(R"({"$id": 7})", {"$id", "an id is a string, got 7"});
  Refused(R"({"$id": {"$in": ["a", 1]}})", {"$id.$in[1]", "an id is a string"});
  Refused(R"({"$id": {"$gt": "a"}})", {"$id.$gt", "expected $eq, $ne, $in or $nin"});
  Refused(R"({"a": {"b": 1}})", {"dotted path", "a.b"});
  Refused(R"({"a..b": 1})", {"empty part"});
  Refused(R"([1])", {"the filter", "expected an object"});
  Refused(R"({"a": )", {"not valid JSON"});
  // Nesting deeper than the limit.
  std::string deep = R"({"a": 1})";
  for (size_t i = 0; i < kMaxDepth + 1; ++i) deep = R"({"$not": )" + deep + "}";
  Refused(deep, {"nested deeper than 32"});
  std::string deep_elements = R"({"$gt": 1})";
  for (size_t i = 0; i < kMaxDepth + 1; ++i)
    deep_elements = R"({"$elemMatch": )" + deep_elements + "}";
  Refused(R"({"a": )" + deep_elements + "}", {"nested deeper than 32"});
  // Too many conditions, and too long a text.
  std::string many = R"({"a": {"$in": [)";
  for (size_t i = 0; i <= kMaxConditions; ++i) many += (i ? "," : "") + std::to_string(i);
  Refused(many + "]}}", {"more than 1024 conditions"});
  Refused(std::string(kMaxFilterBytes + 1, ' '), {"at most 65536"});
}

TEST(FilterTest, MetadataThatIsNotAnObjectHasNoFields) {
  auto f = Filter::Parse(R"({"a": {"$exists": false}})");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->MatchesText(""));
  EXPECT_TRUE(f->MatchesText("[1, 2]"));
  EXPECT_TRUE(f->MatchesText("not json"));
  EXPECT_FALSE(f->MatchesText(R"({"a": null})"));  // present, even if null
}

}  // namespace
}  // namespace nearstore::filter

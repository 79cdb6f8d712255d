// ParseJson is the one place JSON text from outside becomes a document: its depth check must be
// exact on valid JSON, blind to brackets inside strings, and cheap on a nesting bomb.
#include "storage/json_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace nearstore::storage {
namespace {

using ::testing::HasSubstr;

std::string Arrays(size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }

TEST(JsonNestingDepth, CountsObjectsAndArraysNotStrings) {
  EXPECT_EQ(JsonNestingDepth("1", 64), 0u);
  EXPECT_EQ(JsonNestingDepth("{}", 64), 1u);
  EXPECT_EQ(JsonNestingDepth(R"({"a": [1, {"b": []}], "c": {}})", 64), 4u);
  EXPECT_EQ(JsonNestingDepth(R"({"a": "[[[[{{{{"})", 64), 1u);
  // An escaped quote does not end the string; an escaped backslash before the quote does.
  EXPECT_EQ(JsonNestingDepth(R"({"a": "\"[[[["})", 64), 1u);
  EXPECT_EQ(JsonNestingDepth(R"({"a": "\\", "b": [[]]})", 64), 3u);
  EXPECT_EQ(JsonNestingDepth(Arrays(64), 64), 64u);
  // Past the limit the scan stops: it reports max + 1 however deep the text goes.
  EXPECT_EQ(JsonNestingDepth(Arrays(100000), 64), 65u);
}

TEST(ParseJson, RefusesDeepTextBeforeBuildingIt) {
  EXPECT_TRUE(ParseJson(Arrays(64), 64, "x").ok());
  for (const std::string& text : {Arrays(65), std::string(100000, '['), Arrays(100000)}) {
    auto r = ParseJson(text, 64, "metadata of 'a'");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(),
                HasSubstr("metadata of 'a' nests deeper than 64 levels of objects and lists"));
  }
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  objects += "1" + std::string(100000, '}');
  EXPECT_THAT(ParseJson(objects, 64, "x").status().message(), HasSubstr("deeper than 64"));
}

TEST(ParseJson, SaysWhyInvalidTextIsRefused) {
  for (const char* text : {"", "{", "{a: 1}", "{} {}", "\xFF"}) {
    auto r = ParseJson(text, 64, "the body");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_THAT(r.status().message(), HasSubstr("the body is not valid JSON: "));
  }
  auto ok = ParseJson(R"({"a": [1, "]"]})", 64, "x");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)["a"][1], "]");
}

}  // namespace
}  // namespace nearstore::storage

// Every refused input: the right StatusCode, a message that says what was wrong and what was
// expected, and no change at all to what was stored (a batch with one bad point among good ones
// is refused whole). Also: calls on dropped collections and closed databases.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "nearstore/nearstore.h"
#include "test_util.h"

namespace nearstore {
namespace {

using test::ExpectError;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// Everything a collection holds, for before/after comparisons.
std::vector<Point> Contents(const Collection& c) {
  auto page = c.Scroll(test::ScrollFrom("", 100000, true));
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  return page.ok() ? page->points : std::vector<Point>{};
}

bool SamePoints(const std::vector<Point>& a, const std::vector<Point>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || a[i].vector != b[i].vector || a[i].metadata != b[i].metadata) {
      return false;
    }
  }
  return true;
}

class BadInputTest : public ::testing::TestWithParam<Metric> {
 protected:
  static constexpr uint32_t kDim = 4;

  void SetUp() override {
    DatabaseOptions o;
    o.memtable_max_rows = 8;
    auto db = Database::Open(dir_.path(), o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto c = db_->CreateCollection("docs", kDim, GetParam());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    col_ = std::move(c).value();
    // Data stored before the bad calls, in a segment and in the memtable.
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(col_->Upsert(Good("s" + std::to_string(i), i)).ok());
      if (i == 11) {
        ASSERT_TRUE(col_->Flush().ok());
      }
    }
    before_ = Contents(*col_);
    ASSERT_EQ(before_.size(), 20u);
  }

  // After every refused call: nothing changed, and reads still work.
  void TearDown() override {
    if (col_ == nullptr || db_ == nullptr) return;
    ExpectUnchanged();
  }
  void ExpectUnchanged() {
    EXPECT_EQ(col_->Count(), before_.size());
    EXPECT_TRUE(SamePoints(Contents(*col_), before_)) << "a refused call changed the data";
  }

  static Point Good(const std::string& id, int i) {
    return Point{id, {1.0f + i, 2, -3, 0.5f}, "{\"i\":" + std::to_string(i) + "}"};
  }

  test::ScopedTempDir dir_{"badinput"};
  std::unique_ptr<Database> db_;
  std::shared_ptr<Collection> col_;
  std::vector<Point> before_;
};

// A batch of good points with `bad` in the middle, through Upsert(span) and UpsertColumns.
#define EXPECT_BATCH_REFUSED(bad, code, ...)                                              \
  do {                                                                                    \
    std::vector<Point> batch = {Good("new1", 1), Good("s3", 30), (bad), Good("new2", 2)}; \
    ExpectError(col_->Upsert(batch), code, __VA_ARGS__);                                  \
    std::vector<std::string> ids, meta;                                                   \
    std::vector<float> vecs;                                                              \
    for (const auto& p : batch) {                                                         \
      ids.push_back(p.id);                                                                \
      meta.push_back(p.metadata);                                                         \
      vecs.insert(vecs.end(), p.vector.begin(), p.vector.end());                          \
    }                                                                                     \
    if (vecs.size() == ids.size() * kDim) {                                               \
      ExpectError(col_->UpsertColumns(ids, vecs, meta), code, __VA_ARGS__);               \
    }                                                                                     \
    ExpectUnchanged();                                                                    \
  } while (0)

TEST_P(BadInputTest, WrongDimension) {
  const std::vector<float> three = {1, 2, 3};
  const std::vector<float> five = {1, 2, 3, 4, 5};
  ExpectError(col_->Upsert(Point{"a", three, "{}"}), StatusCode::kInvalidArgument,
              {"dimension mismatch", "'docs'", "expects 4", "got 3", "'a'"});
  EXPECT_BATCH_REFUSED((Point{"bad", five, "{}"}), StatusCode::kInvalidArgument,
                       {"dimension mismatch", "expects 4", "got 5", "'bad'"});
  std::vector<Point> empty_vec = {Good("n", 1), Point{"e", {}, "{}"}};
  ExpectError(col_->Upsert(empty_vec), StatusCode::kInvalidArgument, {"expects 4", "got 0"});
  // Columns whose float count does not match ids * dim.
  std::vector<std::string> ids = {"x", "y"};
  std::vector<float> seven(7, 1.0f);
  ExpectError(col_->UpsertColumns(ids, seven, {}), StatusCode::kInvalidArgument,
              {"dimension mismatch", "expects", "8", "got 7"});
  std::vector<std::string> one_meta = {"{}"};
  std::vector<float> eight(8, 1.0f);
  ExpectError(col_->UpsertColumns(ids, eight, one_meta), StatusCode::kInvalidArgument,
              {"1 metadata", "2 ids"});
  // Update.
  ExpectError(col_->Update("s1", test::VectorUpdate(three)).status(), StatusCode::kInvalidArgument,
              {"dimension mismatch", "expects 4", "got 3"});
  // Search and SearchBatch.
  ExpectError(col_->Search(three, SearchOptions{}).status(), StatusCode::kInvalidArgument,
              {"dimension mismatch", "expects 4", "got 3", "query"});
  ExpectError(col_->Search(five, SearchOptions{}).status(), StatusCode::kInvalidArgument,
              {"expects 4", "got 5"});
  ExpectError(col_->Search(std::vector<float>{}, SearchOptions{}).status(),
              StatusCode::kInvalidArgument, {"expects 4", "got 0"});
  ExpectError(col_->SearchBatch(seven, SearchOptions{}).status(), StatusCode::kInvalidArgument,
              {"dimension mismatch", "4", "got 7"});
}

TEST_P(BadInputTest, NonFiniteValues) {
  for (float bad : {kNaN, kInf, -kInf}) {
    SCOPED_TRACE(std::to_string(bad));
    const std::vector<float> v = {1, 2, bad, 4};
    const std::string shown = std::isnan(bad) ? "nan" : (bad > 0 ? "inf" : "-inf");
    ExpectError(col_->Upsert(Point{"a", v, "{}"}), StatusCode::kInvalidArgument,
                {"'a'", "non-finite", shown, "index 2", "finite number"});
    EXPECT_BATCH_REFUSED((Point{"b", v, "{}"}), StatusCode::kInvalidArgument,
                         {"'b'", "non-finite", "index 2"});
    ExpectError(col_->Update("s1", test::VectorUpdate(v)).status(), StatusCode::kInvalidArgument,
                {"non-finite", "index 2"});
    ExpectError(col_->Search(v, SearchOptions{}).status(), StatusCode::kInvalidArgument,
                {"query", "non-finite", "index 2"});
    std::vector<float> two = {1, 1, 1, 1, 1, bad, 1, 1};
    ExpectError(col_->SearchBatch(two, SearchOptions{}).status(), StatusCode::kInvalidArgument,
                {"query 1", "non-finite", "index 1"});
  }
}

TEST_P(BadInputTest, ZeroVector) {
  const std::vector<float> zero(kDim, 0.0f);
  if (GetParam() == Metric::kCosine) {
    ExpectError(col_->Upsert(Point{"z", zero, "{}"}), StatusCode::kInvalidArgument,
                {"'z'", "zero norm", "cosine", "non-zero"});
    EXPECT_BATCH_REFUSED((Point{"z", zero, "{}"}), StatusCode::kInvalidArgument, {"zero norm"});
    ExpectError(col_->Update("s1", test::VectorUpdate(zero)).status(), StatusCode::kInvalidArgument,
                {"zero norm"});
    ExpectError(col_->Search(zero, SearchOptions{}).status(), StatusCode::kInvalidArgument,
                {"query", "zero norm"});
  } else {
    // Fine in l2 and dot: store, read back, search with it, remove it again.
    ASSERT_TRUE(col_->Upsert(Point{"z", zero, "{}"}).ok());
    auto got = col_->Get("z");
    ASSERT_TRUE(got.ok() && got->has_value());
    EXPECT_EQ((*got)->vector, zero);
    auto hits = col_->Search(zero, SearchOptions{.k = 3});
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    EXPECT_EQ(hits->size(), 3u);
    auto upd = col_->Update("s1", test::VectorUpdate(zero));
    ASSERT_TRUE(upd.ok());
    ASSERT_TRUE(col_->Update("s1", test::VectorUpdate(before_[1].vector)).ok());
    auto del = col_->Delete("z");
    ASSERT_TRUE(del.ok() && *del);
  }
}

TEST_P(BadInputTest, BadIds) {
  const std::string long_id(kMaxIdBytes + 1, 'x');
  const std::string max_id(kMaxIdBytes, 'y');
  ExpectError(col_->Upsert(Point{"", {1, 2, 3, 4}, "{}"}), StatusCode::kInvalidArgument,
              {"id", "empty"});
  EXPECT_BATCH_REFUSED((Point{"", {1, 2, 3, 4}, "{}"}), StatusCode::kInvalidArgument,
                       {"id", "empty"});
  ExpectError(col_->Upsert(Point{long_id, {1, 2, 3, 4}, "{}"}), StatusCode::kInvalidArgument,
              {"513 bytes", "too long", "512"});
  EXPECT_BATCH_REFUSED((Point{long_id, {1, 2, 3, 4}, "{}"}), StatusCode::kInvalidArgument,
                       {"513 bytes", "512"});
  for (const std::string& bad : {std::string(), long_id}) {
    ExpectError(col_->Get(bad).status(), StatusCode::kInvalidArgument, {"id"});
    std::vector<std::string> ids = {"s1", bad, "s2"};
    ExpectError(col_->GetMany(ids).status(), StatusCode::kInvalidArgument, {"id"});
    ExpectError(col_->Update(bad, test::MetadataUpdate("{}")).status(),
                StatusCode::kInvalidArgument, {"id"});
    ExpectError(col_->Delete(bad).status(), StatusCode::kInvalidArgument, {"id"});
    // A delete batch with one bad id deletes nothing.
    ExpectError(col_->DeleteMany(ids).status(), StatusCode::kInvalidArgument, {"id"});
    ExpectUnchanged();
  }
  // Exactly the limit is fine, and survives a seal.
  ASSERT_TRUE(col_->Upsert(Point{max_id, {1, 2, 3, 4}, "{}"}).ok());
  ASSERT_TRUE(col_->Flush().ok());
  auto got = col_->Get(max_id);
  ASSERT_TRUE(got.ok() && got->has_value());
  auto del = col_->Delete(max_id);
  ASSERT_TRUE(del.ok() && *del);
}

TEST_P(BadInputTest, MetadataNotAJsonObject) {
  struct Case {
    std::string text;
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases = {
      {"[1, 2]", {"'m'", "array", "expected a JSON object"}},
      {"42", {"'m'", "number", "expected a JSON object"}},
      {"\"text\"", {"'m'", "string", "expected a JSON object"}},
      {"null", {"'m'", "null", "expected a JSON object"}},
      {"true", {"'m'", "boolean", "expected a JSON object"}},
      {"{\"a\": 1", {"'m'", "not valid JSON", "expected a JSON object"}},
      {"{a: 1}", {"'m'", "not valid JSON"}},
      {"{} {}", {"'m'", "not valid JSON"}},
      {"\xFF\xFE", {"'m'", "not valid JSON"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("metadata " + c.text);
    ExpectError(col_->Upsert(Point{"m", {1, 2, 3, 4}, c.text}), StatusCode::kInvalidArgument,
                c.parts);
    EXPECT_BATCH_REFUSED((Point{"m", {1, 2, 3, 4}, c.text}), StatusCode::kInvalidArgument, c.parts);
    ExpectError(col_->Update("m", test::MetadataUpdate(c.text)).status(),
                StatusCode::kInvalidArgument, c.parts);
    // An update that is refused for its metadata does not apply its vector either.
    ExpectError(
        col_->Update("s1", test::FullUpdate(std::vector<float>{9, 9, 9, 9}, c.text)).status(),
        StatusCode::kInvalidArgument, {"'s1'", "expected a JSON object"});
  }
}

// Metadata nested past kMaxJsonDepth is refused before it is parsed: 100,000 levels used to
// overflow the stack when the parsed document was serialised again.
TEST_P(BadInputTest, MetadataNestedTooDeep) {
  const auto nested = [](size_t levels) {
    std::string text;
    for (size_t i = 0; i < levels; ++i) text += "{\"a\":";
    return text + "1" + std::string(levels, '}');
  };
  ASSERT_TRUE(col_->Upsert(Point{"deep", {1, 2, 3, 4}, nested(kMaxJsonDepth)}).ok());
  ASSERT_TRUE(col_->Delete("deep").ok());  // the fixture checks that nothing else changed
  for (size_t levels : {kMaxJsonDepth + 1, size_t{100000}}) {
    SCOPED_TRACE(levels);
    const std::vector<std::string> parts = {"'m'", "nests deeper than 64 levels"};
    ExpectError(col_->Upsert(Point{"m", {1, 2, 3, 4}, nested(levels)}),
                StatusCode::kInvalidArgument, parts);
    EXPECT_BATCH_REFUSED((Point{"m", {1, 2, 3, 4}, nested(levels)}), StatusCode::kInvalidArgument,
                         parts);
    ExpectError(col_->Update("m", test::MetadataUpdate(nested(levels))).status(),
                StatusCode::kInvalidArgument, parts);
  }
}

TEST_P(BadInputTest, MetadataTooLarge) {
  std::string big = "{\"x\":\"" + std::string(kMaxMetadataBytes, 'a') + "\"}";
  ExpectError(col_->Upsert(Point{"big", {1, 2, 3, 4}, big}), StatusCode::kInvalidArgument,
              {"'big'", std::to_string(big.size()), "limit", std::to_string(kMaxMetadataBytes)});
}

TEST_P(BadInputTest, KAndScrollLimitOutOfRange) {
  const std::vector<float> q = {1, 2, 3, 4};
  for (int k : {0, -1, std::numeric_limits<int>::min(), kMaxK + 1}) {
    SCOPED_TRACE("k=" + std::to_string(k));
    ExpectError(col_->Search(q, SearchOptions{.k = k}).status(), StatusCode::kInvalidArgument,
                {"k must be 1..", std::to_string(kMaxK), "got " + std::to_string(k)});
    ExpectError(col_->SearchBatch(q, SearchOptions{.k = k}).status(), StatusCode::kInvalidArgument,
                {"k must be", "got " + std::to_string(k)});
  }
  auto max_k = col_->Search(q, SearchOptions{.k = kMaxK});
  ASSERT_TRUE(max_k.ok());
  EXPECT_EQ(max_k->size(), 20u);
  ExpectError(col_->Scroll(test::ScrollFrom("", 0)).status(), StatusCode::kInvalidArgument,
              {"scroll limit", "at least 1", "got 0"});
}

TEST_P(BadInputTest, UpdateOfMissingIdChangesNothing) {
  auto r = col_->Update("missing", test::FullUpdate(std::vector<float>{1, 1, 1, 1}, "{\"a\":1}"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(*r);
  auto got = col_->Get("missing");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  auto d = col_->Delete("missing");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(*d);
}

// The refused calls of every other test leave data that survives a reopen unchanged.
TEST_P(BadInputTest, RefusedCallsLeaveNothingInTheLog) {
  const std::vector<float> bad = {1, kNaN, 3, 4};
  EXPECT_FALSE(col_->Upsert(Point{"x", bad, "{}"}).ok());
  EXPECT_FALSE(col_->Upsert(Point{"y", {1, 2, 3, 4}, "[]"}).ok());
  std::vector<std::string> ids = {"s1", ""};
  EXPECT_FALSE(col_->DeleteMany(ids).ok());
  col_.reset();
  ASSERT_TRUE(db_->Close().ok());
  auto db = Database::Open(dir_.path());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  db_ = std::move(db).value();
  auto c = db_->GetCollection("docs");
  ASSERT_TRUE(c.ok());
  col_ = std::move(c).value();
  // TearDown compares with the contents from before.
}

INSTANTIATE_TEST_SUITE_P(Metrics, BadInputTest,
                         ::testing::Values(Metric::kCosine, Metric::kL2, Metric::kDot),
                         [](const ::testing::TestParamInfo<Metric>& param_info) {
                           return std::string(MetricName(param_info.param));
                         });

// ---------------------------------------------------------------------------------------------
// Database-level input.

TEST(BadDatabaseInput, CollectionNamesAndDimensions) {
  auto db = Database::OpenInMemory();
  ASSERT_TRUE(db.ok());
  Database& d = **db;
  ExpectError(d.CreateCollection("", 4, Metric::kL2).status(), StatusCode::kInvalidArgument,
              {"collection name", "1..128 bytes", "got 0"});
  ExpectError(d.CreateCollection(std::string(129, 'n'), 4, Metric::kL2).status(),
              StatusCode::kInvalidArgument, {"1..128", "got 129"});
  for (const char* bad : {"a b", "a/b", "../up", "tab\t", "semi;colon", "caf\xC3\xA9", "star*"}) {
    ExpectError(d.CreateCollection(bad, 4, Metric::kL2).status(), StatusCode::kInvalidArgument,
                {std::string("'") + bad + "'", "letters, digits"});
  }
  for (const char* reserved : {".", ".."}) {
    ExpectError(d.CreateCollection(reserved, 4, Metric::kL2).status(), StatusCode::kInvalidArgument,
                {std::string("'") + reserved + "'", "reserved"});
  }
  ExpectError(d.CreateCollection("ok", 0, Metric::kL2).status(), StatusCode::kInvalidArgument,
              {"dimension", "1..65536", "got 0"});
  ExpectError(d.CreateCollection("ok", kMaxDimension + 1, Metric::kL2).status(),
              StatusCode::kInvalidArgument, {"dimension", "got 65537"});
  EXPECT_TRUE(d.ListCollections().empty()) << "a refused create left a collection behind";
  // The limits themselves are fine.
  EXPECT_TRUE(d.CreateCollection(std::string(128, 'n'), 1, Metric::kL2).ok());
  EXPECT_TRUE(d.CreateCollection("A-z_0.9", kMaxDimension, Metric::kCosine).ok());
  EXPECT_TRUE(d.CreateCollection("...", 2, Metric::kDot).ok());
  EXPECT_EQ(d.ListCollections().size(), 3u);
}

// max_result_bytes bounds the ids, metadata and vectors an answer copies (what a server holds
// for one request): exactly at the bound passes, one byte under it is refused, a batch counts
// all its queries, and 0 is no bound. Search (flat and hnsw, with and without a filter) and
// scroll alike.
TEST(BadSearchInput, AnswersAreBoundedByMaxResultBytes) {
  auto db = Database::OpenInMemory();
  ASSERT_TRUE(db.ok());
  for (const char* index : {"flat", "hnsw"}) {
    IndexOptions io;
    io.kind = std::string(index) == "hnsw" ? IndexKind::kHnsw : IndexKind::kFlat;
    auto made = (*db)->CreateCollection(index, 4, Metric::kL2, io);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    Collection& c = **made;
    std::vector<Point> points;
    for (int i = 0; i < 10; ++i) {  // ids "p0".."p9" (2 bytes), metadata of 1,000 bytes
      points.push_back(Point{"p" + std::to_string(i),
                             {static_cast<float>(i), 1.0f, 2.0f, 3.0f},
                             "{\"t\":\"" + std::string(992, 'x') + "\"}"});
    }
    ASSERT_TRUE(c.Upsert(points).ok());
    if (io.kind == IndexKind::kHnsw) {
      ASSERT_TRUE(c.Flush().ok());  // sealed: searched through its graph
    }
    const std::vector<float> query = {0, 1, 2, 3};
    for (const char* filter : {"", R"({"t": {"$exists": true}})"}) {
      SearchOptions o;
      o.k = 5;
      o.filter = filter;
      o.max_result_bytes = 5 * (2 + 1000);  // five hits with their metadata, exactly
      auto hits = c.Search(query, o);
      ASSERT_TRUE(hits.ok()) << hits.status().ToString();
      EXPECT_EQ(hits->size(), 5u);
      o.max_result_bytes -= 1;
      ExpectError(
          c.Search(query, o).status(), StatusCode::kInvalidArgument,
          {"more than 5009 bytes", "max_result_bytes", "max_response_bytes", "fewer points"});
      o.with_metadata = false;
      o.with_vectors = true;  // now 2 + 16 bytes a hit
      EXPECT_TRUE(c.Search(query, o).ok());
      std::vector<float> three(query.begin(), query.end());
      three.insert(three.end(), query.begin(), query.end());
      three.insert(three.end(), query.begin(), query.end());
      o.max_result_bytes = 3 * 5 * 18 - 1;  // the batch's 15 hits take one byte more
      ExpectError(c.SearchBatch(three, o).status(), StatusCode::kInvalidArgument,
                  {"more than 269 bytes"});
      o.max_result_bytes = 0;  // no bound
      EXPECT_TRUE(c.SearchBatch(three, o).ok());
    }
    for (const char* filter : {"", R"({"t": {"$exists": true}})"}) {
      ScrollOptions s;
      s.limit = 10;
      s.filter = filter;
      s.max_result_bytes = 10 * 1002;
      auto page = c.Scroll(s);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      EXPECT_EQ(page->points.size(), 10u);
      s.max_result_bytes -= 1;
      ExpectError(c.Scroll(s).status(), StatusCode::kInvalidArgument, {"more than 10019 bytes"});
    }
  }
}

TEST(BadDatabaseInput, UnknownAndDuplicateCollections) {
  auto db = Database::OpenInMemory();
  ASSERT_TRUE(db.ok());
  Database& d = **db;
  ExpectError(d.GetCollection("nope").status(), StatusCode::kNotFound,
              {"'nope'", "does not exist"});
  ExpectError(d.DropCollection("nope"), StatusCode::kNotFound, {"'nope'"});
  // A name no collection can have is refused as such, as the server refuses it in a path.
  ExpectError(d.GetCollection("a/b").status(), StatusCode::kInvalidArgument,
              {"'a/b'", "only letters, digits"});
  ExpectError(d.GetCollection("").status(), StatusCode::kInvalidArgument, {"1..128 bytes"});
  ExpectError(d.DropCollection(".."), StatusCode::kInvalidArgument, {"'..'", "reserved"});
  ExpectError(d.DropCollection(std::string(129, 'n')), StatusCode::kInvalidArgument, {"got 129"});
  auto c = d.CreateCollection("docs", 3, Metric::kL2);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Upsert(Point{"a", {1, 2, 3}, "{}"}).ok());
  ExpectError(d.GetCollection("nope").status(), StatusCode::kNotFound, {"'nope'", "docs"});
  ExpectError(d.GetCollection("Docs").status(), StatusCode::kNotFound, {"'Docs'"});
  // Same name: refused whatever the dimension or metric, and the existing one is untouched.
  ExpectError(d.CreateCollection("docs", 3, Metric::kL2).status(), StatusCode::kAlreadyExists,
              {"'docs'", "already exists"});
  ExpectError(d.CreateCollection("docs", 7, Metric::kCosine).status(), StatusCode::kAlreadyExists,
              {"'docs'"});
  auto again = d.GetCollection("docs");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->dim(), 3u);
  EXPECT_EQ((*again)->Count(), 1u);
}

TEST(BadDatabaseInput, ParseMetric) {
  EXPECT_EQ(*ParseMetric("cosine"), Metric::kCosine);
  EXPECT_EQ(*ParseMetric("l2"), Metric::kL2);
  EXPECT_EQ(*ParseMetric("euclidean"), Metric::kL2);
  EXPECT_EQ(*ParseMetric("dot"), Metric::kDot);
  EXPECT_EQ(*ParseMetric("ip"), Metric::kDot);
  ExpectError(ParseMetric("manhattan").status(), StatusCode::kInvalidArgument,
              {"'manhattan'", "'cosine', 'l2' or 'dot'"});
  ExpectError(ParseMetric("").status(), StatusCode::kInvalidArgument, {"expected"});
}

// ---------------------------------------------------------------------------------------------
// Dropped collections and closed databases.

// Every call that can fail, on `c`; each must give FailedPrecondition naming `why`.
void ExpectAllRefused(Collection& c, const std::string& why) {
  const std::vector<float> v = {1, 2, 3};
  const std::vector<std::string> ids = {"a"};
  ExpectError(c.Upsert(Point{"b", v, "{}"}), StatusCode::kFailedPrecondition, {why});
  std::vector<Point> batch = {Point{"b", v, "{}"}, Point{"c", v, "{}"}};
  ExpectError(c.Upsert(batch), StatusCode::kFailedPrecondition, {why});
  ExpectError(c.Upsert(std::span<const Point>()), StatusCode::kFailedPrecondition, {why});
  ExpectError(c.UpsertColumns(ids, v, {}), StatusCode::kFailedPrecondition, {why});
  ExpectError(c.Get("a").status(), StatusCode::kFailedPrecondition, {why});
  ExpectError(c.GetMany(ids).status(), StatusCode::kFailedPrecondition, {why});
  ExpectError(c.Update("a", test::MetadataUpdate("{}")).status(), StatusCode::kFailedPrecondition,
              {why});
  ExpectError(c.Delete("a").status(), StatusCode::kFailedPrecondition, {why});
  ExpectError(c.DeleteMany(ids).status(), StatusCode::kFailedPrecondition, {why});
  ExpectError(c.DeleteMany({}).status(), StatusCode::kFailedPrecondition, {why});
  ExpectError(c.Scroll(ScrollOptions{}).status(), StatusCode::kFailedPrecondition, {why});
  ExpectError(c.Search(v, SearchOptions{}).status(), StatusCode::kFailedPrecondition, {why});
  ExpectError(c.SearchBatch(v, SearchOptions{}).status(), StatusCode::kFailedPrecondition, {why});
  ExpectError(c.Flush(), StatusCode::kFailedPrecondition, {why});
  ExpectError(c.Compact(), StatusCode::kFailedPrecondition, {why});
  // Non-failing accessors still answer (and touch nothing the database owned).
  EXPECT_EQ(c.dim(), 3u);
  EXPECT_EQ(c.Info().dim, 3u);
  EXPECT_LE(c.Count(), 1u);
}

TEST(ClosedObjects, DroppedCollectionHandleRefusesEverything) {
  test::ScopedTempDir dir("dropped");
  auto db = Database::Open(dir.path());
  ASSERT_TRUE(db.ok());
  auto c = (*db)->CreateCollection("gone", 3, Metric::kL2);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Upsert(Point{"a", {1, 2, 3}, "{}"}).ok());
  ASSERT_TRUE((*db)->DropCollection("gone").ok());
  ExpectAllRefused(**c, "'gone' was dropped");
  // The handle stays refused after a new collection of the same name appears.
  auto fresh = (*db)->CreateCollection("gone", 3, Metric::kL2);
  ASSERT_TRUE(fresh.ok());
  ExpectAllRefused(**c, "dropped");
  EXPECT_EQ((*fresh)->Count(), 0u);
}

TEST(ClosedObjects, EverythingAfterCloseIsRefused) {
  for (bool in_memory : {false, true}) {
    SCOPED_TRACE(in_memory ? "in memory" : "on disk");
    test::ScopedTempDir dir("closed");
    auto db = in_memory ? Database::OpenInMemory() : Database::Open(dir.path());
    ASSERT_TRUE(db.ok());
    auto c = (*db)->CreateCollection("docs", 3, Metric::kL2);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->Upsert(Point{"a", {1, 2, 3}, "{}"}).ok());
    ASSERT_TRUE((*db)->Close().ok());
    ExpectAllRefused(**c, "closed");
    ExpectError((*db)->CreateCollection("x", 3, Metric::kL2).status(),
                StatusCode::kFailedPrecondition, {"closed"});
    ExpectError((*db)->GetCollection("docs").status(), StatusCode::kFailedPrecondition, {"closed"});
    ExpectError((*db)->DropCollection("docs"), StatusCode::kFailedPrecondition, {"closed"});
    EXPECT_TRUE((*db)->ListCollections().empty());
    EXPECT_TRUE((*db)->Close().ok()) << "Close is idempotent";
    // The handle outlives the database object itself.
    db->reset();
    ExpectAllRefused(**c, "closed");
  }
}

}  // namespace
}  // namespace nearstore

// Filters on every read and delete of a collection, against a brute-force reference that
// evaluates the filter on each point (filter::Filter, itself checked against a Python reading
// of docs/FILTERS.md): search at selectivities from 50% to under k points, with and without
// payload indexes, in flat and HNSW (float and SQ8) collections spread over segments and a
// memtable; count, scroll and delete by filter; indexes kept by seal, compaction and reopen.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "clustered_data.h"
#include "filter/filter.h"
#include "test_util.h"

namespace nearstore::test {
namespace {

constexpr int kPoints = 3000;
constexpr int kK = 10;

// Metadata with a keyword of 100 values, a uniform integer in [0, 1000), a boolean, a nested
// field, and some rows where "n" is missing or a string (so an index meets other kinds).
std::string MetadataFor(int i) {
  const std::string cat = "\"cat\":\"c" + std::to_string(i % 100) + "\"";
  const int n = (i * 7919) % 1000;
  std::string number = ",\"n\":" + std::to_string(n);
  if (i % 97 == 0) number = "";                                      // missing
  if (i % 89 == 0) number = ",\"n\":\"" + std::to_string(n) + "\"";  // a string
  return "{" + cat + number + ",\"flag\":" + (i % 3 == 0 ? "true" : "false") +
         ",\"author\":{\"name\":\"a" + std::to_string(i % 7) + "\"}}";
}

struct Case {
  std::string filter;
  const char* what;
};

// From half of the points to fewer than k.
std::vector<Case> Filters() {
  return {
      {R"({"n": {"$lt": 500}})", "50% range"},
      {R"({"cat": {"$in": ["c1","c2","c3","c4","c5","c6","c7","c8","c9","c10"]}})", "10% keyword"},
      {R"({"n": {"$gte": 100, "$lt": 110}})", "1% range"},
      {R"({"cat": "c42"})", "1% keyword"},
      {R"({"cat": "c42", "n": {"$lt": 100}})", "0.1% and"},
      {R"({"n": 3})", "fewer than k"},
      {R"({"$or": [{"cat": "c5"}, {"flag": true, "n": {"$gt": 900}}]})", "or"},
      {R"({"$not": {"n": {"$lt": 990}}})", "not (missing and strings pass)"},
      {R"({"author.name": "a3", "n": {"$lt": 300}})", "nested"},
      {R"({"n": "12"})", "a string under a number index"},
      {R"({"n": {"$ne": 5}, "cat": "c9"})", "ne"},
      {R"({"cat": "nope"})", "no match"},
  };
}

class FilteredSearchTest : public ::testing::TestWithParam<Quantization> {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(TestSeed());
    points_ = ClusteredPoints(rng, kPoints, 30);
    for (int i = 0; i < kPoints; ++i) points_[i].metadata = MetadataFor(i);
    queries_ = QueriesNear(rng, points_, 30);
    Open();
    IndexOptions index;
    index.kind = IndexKind::kHnsw;
    index.m = 12;
    index.ef_construction = 100;
    index.quantization = GetParam();
    auto c = db_->CreateCollection("docs", kDim, Metric::kL2, index);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    col_ = *c;
    // Segments of 1000 rows with graphs, then 500 rows left in the memtable.
    const std::span<const Point> all(points_);
    for (size_t i = 0; i < 2500; i += 250) ASSERT_TRUE(col_->Upsert(all.subspan(i, 250)).ok());
    ASSERT_TRUE(col_->Flush().ok());
    ASSERT_TRUE(col_->Upsert(all.subspan(2500)).ok());
  }

  void Open() {
    DatabaseOptions o;
    o.durability = Durability::kNoSync;
    o.memtable_max_rows = 1000;
    o.graph_min_rows = 200;
    o.compaction_max_segments = 100;
    o.compaction_dead_fraction = 0.99;
    col_.reset();
    db_.reset();
    auto db = Database::Open(dir_.path(), o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    if (auto c = db_->GetCollection("docs"); c.ok()) col_ = *c;
  }

  // The points passing `text`, by brute force.
  std::map<std::string, std::vector<float>> Passing(const std::string& text) const {
    auto f = filter::Filter::Parse(text);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    std::map<std::string, std::vector<float>> out;
    for (const auto& p : points_) {
      if (f->MatchesText(p.metadata)) out[p.id] = p.vector;
    }
    return out;
  }

  // Every filter: hits all pass, min(k, passing) of them, recall against brute force.
  void CheckSearches(const std::string& when) {
    double found = 0, wanted = 0;
    for (const Case& c : Filters()) {
      const auto passing = Passing(c.filter);
      SearchOptions o;
      o.k = kK;
      o.ef = 64;
      o.filter = c.filter;
      for (const auto& q : queries_) {
        auto hits = col_->Search(q, o);
        ASSERT_TRUE(hits.ok()) << hits.status().ToString();
        ASSERT_EQ(hits->size(), std::min<size_t>(kK, passing.size()))
            << c.what << " " << c.filter << " " << when;
        const auto truth = ExactIds(passing, q, Metric::kL2, kK);
        const std::set<std::string> truth_set(truth.begin(), truth.end());
        for (const Hit& h : *hits) {
          ASSERT_TRUE(passing.count(h.id)) << h.id << " fails " << c.filter << " " << when;
          found += truth_set.count(h.id);
        }
        wanted += static_cast<double>(truth.size());
      }
      auto count = col_->CountWhere(c.filter);
      ASSERT_TRUE(count.ok());
      EXPECT_EQ(*count, passing.size()) << c.filter << " " << when;
    }
    EXPECT_GE(found / wanted, 0.95) << when;
  }

  ScopedTempDir dir_{"filtered"};
  std::unique_ptr<Database> db_;
  std::shared_ptr<Collection> col_;
  std::vector<Point> points_;
  std::vector<std::vector<float>> queries_;
};

TEST_P(FilteredSearchTest, WithoutIndexesThenIndexedThroughSealCompactionAndReopen) {
  ASSERT_GT(col_->Info().segments, 1u);
  CheckSearches("no index");
  ASSERT_TRUE(col_->CreatePayloadIndex("cat", PayloadIndexKind::kKeyword).ok());
  ASSERT_TRUE(col_->CreatePayloadIndex("n", PayloadIndexKind::kInt).ok());
  ASSERT_TRUE(col_->CreatePayloadIndex("flag", PayloadIndexKind::kBool).ok());
  ASSERT_TRUE(col_->CreatePayloadIndex("author.name", PayloadIndexKind::kKeyword).ok());
  CheckSearches("indexed");
  ASSERT_TRUE(col_->Flush().ok());
  CheckSearches("indexed, flushed");
  ASSERT_TRUE(col_->Compact().ok());
  EXPECT_EQ(col_->Info().segments, 1u);
  CheckSearches("indexed, compacted");
  Open();
  ASSERT_NE(col_, nullptr);
  EXPECT_EQ(col_->ListPayloadIndexes().size(), 4u);
  CheckSearches("indexed, reopened");
}

TEST_P(FilteredSearchTest, BatchSearchMatchesSingleSearches) {
  ASSERT_TRUE(col_->CreatePayloadIndex("n", PayloadIndexKind::kFloat).ok());
  std::vector<float> batch;
  for (const auto& q : queries_) batch.insert(batch.end(), q.begin(), q.end());
  for (const Case& c : Filters()) {
    SearchOptions o;
    o.k = kK;
    o.filter = c.filter;
    auto all = col_->SearchBatch(batch, o);
    ASSERT_TRUE(all.ok());
    for (size_t i = 0; i < queries_.size(); ++i) {
      auto one = col_->Search(queries_[i], o);
      ASSERT_TRUE(one.ok());
      ASSERT_EQ((*all)[i].size(), one->size());
      for (size_t j = 0; j < one->size(); ++j) EXPECT_EQ((*all)[i][j].id, (*one)[j].id);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Quantizations, FilteredSearchTest,
                         ::testing::Values(Quantization::kNone, Quantization::kSq8),
                         [](const auto& param) {
                           return std::string(QuantizationName(param.param));
                         });

class FilteredReadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DatabaseOptions o;
    o.durability = Durability::kNoSync;
    o.memtable_max_rows = 64;
    auto db = Database::Open(dir_.path(), o);
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
    auto c = db_->CreateCollection("flat", 4, Metric::kCosine);
    ASSERT_TRUE(c.ok());
    col_ = *c;
    std::vector<Point> points;
    for (int i = 0; i < 500; ++i) {
      char id[16];
      std::snprintf(id, sizeof(id), "p%04d", i);
      points.push_back({id, {1.0f + i, 2.0f, 3.0f, 4.0f}, MetadataFor(i)});
    }
    ASSERT_TRUE(col_->Upsert(points).ok());
    for (const auto& p : points) metadata_[p.id] = p.metadata;
  }

  std::vector<std::string> Passing(const std::string& text) const {
    auto f = filter::Filter::Parse(text);
    std::vector<std::string> out;
    for (const auto& [id, m] : metadata_) {
      if (f->MatchesText(m)) out.push_back(id);
    }
    return out;
  }

  ScopedTempDir dir_{"filtered"};
  std::unique_ptr<Database> db_;
  std::shared_ptr<Collection> col_;
  std::map<std::string, std::string> metadata_;  // the live points
};

TEST_F(FilteredReadsTest, ScrollPagesThroughExactlyThePassingPoints) {
  for (bool indexed : {false, true}) {
    if (indexed) {
      ASSERT_TRUE(col_->CreatePayloadIndex("cat", PayloadIndexKind::kKeyword).ok());
    }
    for (const Case& c : Filters()) {
      std::vector<std::string> seen;
      ScrollOptions o;
      o.limit = 7;
      o.filter = c.filter;
      for (;;) {
        auto page = col_->Scroll(o);
        ASSERT_TRUE(page.ok());
        for (const auto& p : page->points) seen.push_back(p.id);
        if (page->next_after.empty()) break;
        o.after = page->next_after;
      }
      EXPECT_EQ(seen, Passing(c.filter)) << c.filter;
    }
  }
}

TEST_F(FilteredReadsTest, DeleteWhereDeletesThePassingPointsAndRefusalsChangeNothing) {
  const uint64_t before = col_->Count();
  for (const char* bad : {"", "{\"n\": {\"$gt\": \"x\"}}", "{\"$bogus\": 1}", "not json",
                          "{\"cat\": {\"$in\": \"c1\"}}"}) {
    auto r = col_->DeleteWhere(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(col_->Count(), before);
  }
  const std::string f = R"({"$or": [{"cat": "c3"}, {"n": {"$lt": 50}}]})";
  const auto doomed = Passing(f);
  ASSERT_FALSE(doomed.empty());
  auto deleted = col_->DeleteWhere(f);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, doomed.size());
  for (const auto& id : doomed) metadata_.erase(id);
  EXPECT_EQ(col_->Count(), metadata_.size());
  EXPECT_EQ(*col_->CountWhere(f), 0u);
  for (const auto& id : doomed) EXPECT_FALSE(col_->Get(id)->has_value()) << id;
  auto rest = col_->CountWhere("{}");
  EXPECT_EQ(*rest, metadata_.size());
}

// A delete by filter deletes the versions it judged: a point rewritten meanwhile so that it
// no longer passes survives. A writer flips one point between failing and passing versions
// and, after each write of a failing version, expects the point to be there; deleters delete
// the passing version over and over.
TEST_F(FilteredReadsTest, DeleteWhereNeverDeletesAVersionItDidNotJudge) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> deleters;
  for (int t = 0; t < 2; ++t) {
    deleters.emplace_back([&] {
      while (!stop.load()) {
        auto r = col_->DeleteWhere(R"({"v": 1})");
        ASSERT_TRUE(r.ok()) << r.status().ToString();
      }
    });
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  int rounds = 0;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(col_->Upsert(Point{"flip", {1, 2, 3, 4}, R"({"v": 1})"}).ok());
    ASSERT_TRUE(col_->Upsert(Point{"flip", {1, 2, 3, 4}, R"({"v": 2})"}).ok());
    auto got = col_->Get("flip");
    ASSERT_TRUE(got.ok());
    ASSERT_TRUE(got->has_value()) << "a delete of {v: 1} removed the {v: 2} version, round "
                                  << rounds;
    ++rounds;
  }
  stop = true;
  for (auto& t : deleters) t.join();
  EXPECT_GT(rounds, 10);
}

TEST_F(FilteredReadsTest, PayloadIndexDefinitionsAreCheckedAndListed) {
  EXPECT_TRUE(col_->CreatePayloadIndex("cat", PayloadIndexKind::kKeyword).ok());
  EXPECT_TRUE(col_->CreatePayloadIndex("cat", PayloadIndexKind::kKeyword).ok());  // no-op
  EXPECT_EQ(col_->CreatePayloadIndex("cat", PayloadIndexKind::kInt).code(),
            StatusCode::kAlreadyExists);
  for (const char* bad : {"", "a..b", ".a", "a.$b", "$or"}) {
    EXPECT_EQ(col_->CreatePayloadIndex(bad, PayloadIndexKind::kInt).code(),
              StatusCode::kInvalidArgument)
        << bad;
  }
  ASSERT_EQ(col_->ListPayloadIndexes().size(), 1u);
  EXPECT_TRUE(*col_->DropPayloadIndex("cat"));
  EXPECT_FALSE(*col_->DropPayloadIndex("cat"));
  EXPECT_TRUE(col_->ListPayloadIndexes().empty());
  EXPECT_EQ(ParsePayloadIndexKind("text").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nearstore::test

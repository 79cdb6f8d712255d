// Every point operation of Collection, for every metric and a range of dimensions, against the
// brute-force reference model of test_util.h. Memtables are kept small so that the data spans
// several sealed segments and the memtable, and Flush and Compact run between the phases.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "nearstore/nearstore.h"
#include "test_util.h"

namespace nearstore {
namespace {

using test::ExpectHitsMatch;
using test::ExpectMatchesReference;
using test::MetadataCase;
using test::RandomId;
using test::RandomMetadata;
using test::RandomVector;
using test::Reference;

struct CrudParam {
  Metric metric;
  uint32_t dim;
};

std::string ParamName(const ::testing::TestParamInfo<CrudParam>& param_info) {
  return std::string(MetricName(param_info.param.metric)) + "_dim" +
         std::to_string(param_info.param.dim);
}

// Points per phase: fewer for wide vectors, so that the whole file stays quick under sanitizers.
int PointsFor(uint32_t dim) {
  if (dim <= 3) return 240;
  if (dim <= 127) return 160;
  if (dim <= 384) return 110;
  return 45;
}

class CrudReferenceTest : public ::testing::TestWithParam<CrudParam> {
 protected:
  void SetUp() override {
    seed_ = test::TestSeed();
    rng_.seed(seed_);
    DatabaseOptions options;
    options.durability = Durability::kNoSync;
    options.memtable_max_rows = GetParam().dim >= 1536 ? 24 : 64;
    options.search_threads = 2;
    auto db = Database::Open(dir_.path(), options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto c = db_->CreateCollection("crud", GetParam().dim, GetParam().metric);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    col_ = std::move(c).value();
  }

  Point MakePoint(const std::string& id, MetadataCase* meta) {
    *meta = RandomMetadata(rng_);
    return Point{id, RandomVector(rng_, GetParam().dim), meta->input};
  }

  test::ScopedTempDir dir_{"crud"};
  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
  std::unique_ptr<Database> db_;
  std::shared_ptr<Collection> col_;
};

TEST_P(CrudReferenceTest, AllOperationsMatchReference) {
  SCOPED_TRACE(test::SeedTrace(seed_));
  const uint32_t dim = GetParam().dim;
  const int n = PointsFor(dim);
  const int id_pool = n * 2;  // ids repeat: later upserts replace earlier points
  Reference ref(dim, GetParam().metric);
  Collection& c = *col_;

  ExpectMatchesReference(c, ref, rng_, "empty");

  // Phase 1: single upserts.
  for (int i = 0; i < n; ++i) {
    MetadataCase meta;
    Point p = MakePoint(RandomId(rng_, id_pool), &meta);
    ASSERT_TRUE(c.Upsert(p).ok());
    ref.Upsert(p.id, p.vector, meta.canonical);
  }
  ExpectMatchesReference(c, ref, rng_, "single upserts");

  // Phase 2: batches, with ids repeated inside a batch (the last one wins).
  for (int done = 0; done < n;) {
    const int size = 1 + static_cast<int>(rng_() % 40);
    std::vector<Point> batch;
    std::vector<MetadataCase> metas(size);
    for (int i = 0; i < size; ++i) {
      batch.push_back(MakePoint(RandomId(rng_, id_pool), &metas[i]));
      if (i > 0 && rng_() % 5 == 0) batch.back().id = batch[rng_() % i].id;
    }
    ASSERT_TRUE(c.Upsert(batch).ok());
    for (int i = 0; i < size; ++i) ref.Upsert(batch[i].id, batch[i].vector, metas[i].canonical);
    done += size;
  }
  ExpectMatchesReference(c, ref, rng_, "batch upserts");

  // Phase 3: columns, with and without metadata, ids repeated.
  for (int done = 0; done < n;) {
    const int size = 1 + static_cast<int>(rng_() % 40);
    std::vector<std::string> ids, metadata, canonical;
    std::vector<float> vectors;
    const bool with_meta = rng_() % 2 == 0;
    for (int i = 0; i < size; ++i) {
      ids.push_back(i > 0 && rng_() % 6 == 0 ? ids[rng_() % i] : RandomId(rng_, id_pool));
      auto v = RandomVector(rng_, dim);
      vectors.insert(vectors.end(), v.begin(), v.end());
      const MetadataCase m = with_meta ? RandomMetadata(rng_) : MetadataCase{"", "{}"};
      metadata.push_back(m.input);
      canonical.push_back(m.canonical);
    }
    ASSERT_TRUE(
        c.UpsertColumns(ids, vectors, with_meta ? metadata : std::vector<std::string>{}).ok());
    for (int i = 0; i < size; ++i) {
      ref.Upsert(ids[i], std::span<const float>(vectors).subspan(i * dim, dim), canonical[i]);
    }
    done += size;
  }
  ExpectMatchesReference(c, ref, rng_, "column upserts");

  // Phase 4: seal everything.
  ASSERT_TRUE(c.Flush().ok());
  {
    const CollectionInfo info = c.Info();
    EXPECT_GE(info.segments, 1u);
    EXPECT_EQ(info.memtable_rows, 0u) << "Flush must leave the memtable empty";
  }
  ExpectMatchesReference(c, ref, rng_, "after Flush");

  // Phase 5: updates of every kind, on points in segments and in the memtable.
  for (int i = 0; i < n; ++i) {
    const std::string id = RandomId(rng_, id_pool + 20);  // some ids never existed
    PointUpdate u;
    MetadataCase meta;
    const int kind = static_cast<int>(rng_() % 4);  // 0 vector, 1 metadata, 2 both, 3 neither
    if (kind == 0 || kind == 2) u.vector = RandomVector(rng_, dim);
    if (kind == 1 || kind == 2) {
      meta = RandomMetadata(rng_);
      u.metadata = meta.input;
    }
    auto r = c.Update(id, u);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const bool existed =
        ref.Update(id, u.vector ? &*u.vector : nullptr, u.metadata ? &meta.canonical : nullptr);
    EXPECT_EQ(*r, existed) << "Update('" << id << "') kind " << kind;
    if (i == n / 2) {
      // Some upserts between the updates so that updated points land in new memtables.
      MetadataCase m;
      Point p = MakePoint(RandomId(rng_, id_pool), &m);
      ASSERT_TRUE(c.Upsert(p).ok());
      ref.Upsert(p.id, p.vector, m.canonical);
    }
  }
  ExpectMatchesReference(c, ref, rng_, "updates");

  // Phase 6: deletes, single and in batches (with absent ids).
  for (int i = 0; i < n / 3; ++i) {
    const std::string id = RandomId(rng_, id_pool + 20);
    auto r = c.Delete(id);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, ref.Delete(id)) << "Delete('" << id << "')";
  }
  for (int b = 0; b < 5; ++b) {
    std::set<std::string> unique;
    const int size = 1 + static_cast<int>(rng_() % 30);
    while (static_cast<int>(unique.size()) < size) unique.insert(RandomId(rng_, id_pool + 20));
    std::vector<std::string> ids(unique.begin(), unique.end());
    std::shuffle(ids.begin(), ids.end(), rng_);
    auto r = c.DeleteMany(ids);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      EXPECT_EQ((*r)[i], ref.Delete(ids[i])) << "DeleteMany entry " << i << " ('" << ids[i] << "')";
    }
  }
  ExpectMatchesReference(c, ref, rng_, "deletes");

  // Phase 7: compaction rewrites the segments into one without dead rows.
  ASSERT_TRUE(c.Flush().ok());
  ASSERT_TRUE(c.Compact().ok());
  {
    const CollectionInfo info = c.Info();
    EXPECT_EQ(info.segments, 1u);
    EXPECT_EQ(info.segment_rows, ref.size()) << "compaction must drop every dead row";
    EXPECT_EQ(info.memtable_rows, 0u);
  }
  ExpectMatchesReference(c, ref, rng_, "after Compact");

  // Phase 8: a random mix on top of the compacted segment, then a compaction that runs while
  // rows are still in the memtable.
  for (int i = 0; i < n; ++i) {
    const std::string id = RandomId(rng_, id_pool);
    switch (rng_() % 4) {
      case 0:
      case 1: {
        MetadataCase m;
        Point p = MakePoint(id, &m);
        ASSERT_TRUE(c.Upsert(p).ok());
        ref.Upsert(p.id, p.vector, m.canonical);
        break;
      }
      case 2: {
        auto r = c.Delete(id);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(*r, ref.Delete(id));
        break;
      }
      default: {
        PointUpdate u;
        u.vector = RandomVector(rng_, dim);
        auto r = c.Update(id, u);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(*r, ref.Update(id, &*u.vector, nullptr));
      }
    }
    if (i == n / 2) {
      ASSERT_TRUE(c.Compact().ok());
    }
  }
  ExpectMatchesReference(c, ref, rng_, "mixed");
  ASSERT_TRUE(c.Compact().ok());
  ExpectMatchesReference(c, ref, rng_, "mixed then Compact");

  // Everything deleted: searches return nothing, scroll returns an empty last page.
  std::vector<std::string> all;
  for (const auto& [id, p] : ref.points()) all.push_back(id);
  auto r = c.DeleteMany(all);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::count(r->begin(), r->end(), true), static_cast<std::ptrdiff_t>(all.size()));
  for (const auto& id : all) ref.Delete(id);
  ExpectMatchesReference(c, ref, rng_, "all deleted");
}

INSTANTIATE_TEST_SUITE_P(MetricsAndDims, CrudReferenceTest, ::testing::ValuesIn([] {
                           std::vector<CrudParam> params;
                           for (Metric m : {Metric::kCosine, Metric::kL2, Metric::kDot}) {
                             for (uint32_t d : {1u, 3u, 127u, 384u, 1536u})
                               params.push_back({m, d});
                           }
                           return params;
                         }()),
                         ParamName);

// ---------------------------------------------------------------------------------------------
// Focused cases.

std::unique_ptr<Database> OpenMemory(size_t memtable_max_rows = 1u << 20) {
  DatabaseOptions o;
  o.memtable_max_rows = memtable_max_rows;
  auto db = Database::OpenInMemory(o);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

std::vector<std::string> Ids(const std::vector<Hit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h.id);
  return out;
}

// With small-integer vectors every l2 and dot distance is exact in float, so the order of
// results, ties included, is fully determined: ties must come back in id order.
TEST(CrudExactTies, IntegerVectorsTieByIdInEveryMetric) {
  for (Metric metric : {Metric::kL2, Metric::kDot}) {
    SCOPED_TRACE(MetricName(metric));
    auto db = OpenMemory(64);
    ASSERT_NE(db, nullptr);
    auto c = db->CreateCollection("ties", 5, metric);
    ASSERT_TRUE(c.ok());
    // 300 points over 10 distinct vectors: every distance is shared by ~30 ids.
    std::vector<Point> points;
    for (int i = 0; i < 300; ++i) {
      const float a = static_cast<float>(i % 10);
      points.push_back(Point{"t" + std::to_string(1000 - i), {a, 1, -a, 2, 0}, "{}"});
    }
    for (size_t i = 0; i < points.size(); i += 37) {
      const size_t end = std::min(points.size(), i + 37);
      ASSERT_TRUE((*c)->Upsert(std::span<const Point>(points).subspan(i, end - i)).ok());
      if (i == 148) {
        ASSERT_TRUE((*c)->Flush().ok());
      }
    }
    const std::vector<float> query = {3, -1, 2, 0, 5};
    // The exact expected ranking: (distance, id) over all points.
    std::vector<std::pair<float, std::string>> expected;
    for (const auto& p : points) {
      double s = 0;
      for (int d = 0; d < 5; ++d) {
        s += metric == Metric::kL2 ? (query[d] - p.vector[d]) * (query[d] - p.vector[d])
                                   : -query[d] * p.vector[d];
      }
      const float dist =
          metric == Metric::kL2 ? std::sqrt(static_cast<float>(s)) : static_cast<float>(s);
      expected.emplace_back(dist, p.id);
    }
    std::sort(expected.begin(), expected.end());
    for (int k : {1, 7, 30, 31, 100, 299, 300, 301, kMaxK}) {
      SCOPED_TRACE("k=" + std::to_string(k));
      auto hits = (*c)->Search(query, SearchOptions{.k = k});
      ASSERT_TRUE(hits.ok()) << hits.status().ToString();
      ASSERT_EQ(hits->size(), std::min<size_t>(k, 300));
      for (size_t i = 0; i < hits->size(); ++i) {
        ASSERT_EQ((*hits)[i].id, expected[i].second) << "rank " << i;
        ASSERT_EQ((*hits)[i].distance, expected[i].first) << "rank " << i;
      }
      // The same through SearchBatch, with the query repeated.
      std::vector<float> two = query;
      two.insert(two.end(), query.begin(), query.end());
      auto batch = (*c)->SearchBatch(two, SearchOptions{.k = k});
      ASSERT_TRUE(batch.ok());
      ASSERT_EQ(batch->size(), 2u);
      EXPECT_EQ(Ids((*batch)[0]), Ids(*hits));
      EXPECT_EQ(Ids((*batch)[1]), Ids(*hits));
    }
  }
}

// Identical vectors under different ids are exact ties in every metric: whatever the row's
// position in a segment or memtable, they must get the same distance and come back in id order.
TEST(CrudExactTies, DuplicateVectorsComeBackInIdOrder) {
  const uint64_t seed = test::TestSeed();
  SCOPED_TRACE(test::SeedTrace(seed));
  std::mt19937_64 rng(seed);
  for (Metric metric : {Metric::kCosine, Metric::kL2, Metric::kDot}) {
    for (uint32_t dim : {3u, 37u, 384u}) {
      SCOPED_TRACE(std::string(MetricName(metric)) + " dim " + std::to_string(dim));
      auto db = OpenMemory(64);
      ASSERT_NE(db, nullptr);
      auto c = db->CreateCollection("dups", dim, metric);
      ASSERT_TRUE(c.ok());
      // Large components, so that in every metric nothing random comes closer than a twin.
      std::vector<float> twin = RandomVector(rng, dim);
      for (float& x : twin) x += x < 0 ? -4.0f : 4.0f;
      std::vector<std::string> twin_ids;
      for (int i = 0; i < 200; ++i) {
        Point p{"r" + std::to_string(i), RandomVector(rng, dim), "{}"};
        if (i % 9 == 4) {
          p.id = "twin" + std::to_string(100 + (i * 37) % 89);
          p.vector = twin;
          twin_ids.push_back(p.id);
        }
        ASSERT_TRUE((*c)->Upsert(p).ok());
        if (i == 120) {
          ASSERT_TRUE((*c)->Flush().ok());
        }
      }
      std::sort(twin_ids.begin(), twin_ids.end());
      // The twin itself as query puts all twins first.
      for (bool batch : {false, true}) {
        SearchOptions o{.k = static_cast<int>(twin_ids.size())};
        std::vector<Hit> hits;
        if (batch) {
          std::vector<float> qs = RandomVector(rng, dim);
          qs.insert(qs.end(), twin.begin(), twin.end());
          auto r = (*c)->SearchBatch(qs, o);
          ASSERT_TRUE(r.ok());
          hits = (*r)[1];
        } else {
          auto r = (*c)->Search(twin, o);
          ASSERT_TRUE(r.ok());
          hits = *r;
        }
        ASSERT_EQ(Ids(hits), twin_ids) << (batch ? "SearchBatch" : "Search");
        for (const Hit& h : hits) {
          EXPECT_EQ(h.distance, hits.front().distance)
              << "identical vectors got different distances ('" << h.id << "' vs '"
              << hits.front().id << "')";
        }
      }
    }
  }
}

TEST(CrudEdgeCases, EmptyBatchesAndEmptyCollection) {
  auto db = OpenMemory();
  ASSERT_NE(db, nullptr);
  auto c = db->CreateCollection("e", 4, Metric::kCosine);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE((*c)->Upsert(std::span<const Point>()).ok());
  EXPECT_TRUE((*c)->UpsertColumns({}, {}, {}).ok());
  auto del = (*c)->DeleteMany({});
  ASSERT_TRUE(del.ok());
  EXPECT_TRUE(del->empty());
  auto many = (*c)->GetMany({});
  ASSERT_TRUE(many.ok());
  EXPECT_TRUE(many->empty());
  EXPECT_EQ((*c)->Count(), 0u);
  auto hits = (*c)->Search(std::vector<float>{1, 2, 3, 4}, SearchOptions{.k = 10});
  ASSERT_TRUE(hits.ok());
  EXPECT_TRUE(hits->empty());
  auto batch = (*c)->SearchBatch({}, SearchOptions{});
  ASSERT_TRUE(batch.ok());
  EXPECT_TRUE(batch->empty());
  auto page = (*c)->Scroll(ScrollOptions{});
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->points.empty());
  EXPECT_EQ(page->next_after, "");
  EXPECT_TRUE((*c)->Flush().ok());
  EXPECT_TRUE((*c)->Compact().ok());
  EXPECT_EQ((*c)->Count(), 0u);
  auto upd = (*c)->Update("nobody", test::VectorUpdate(std::vector<float>{1, 0, 0, 0}));
  ASSERT_TRUE(upd.ok());
  EXPECT_FALSE(*upd);
  EXPECT_EQ((*c)->Count(), 0u);
}

TEST(CrudEdgeCases, ScrollAfterSemantics) {
  auto db = OpenMemory();
  ASSERT_NE(db, nullptr);
  auto c = db->CreateCollection("s", 2, Metric::kL2);
  ASSERT_TRUE(c.ok());
  for (const char* id : {"b", "d", "f", "h"}) {
    ASSERT_TRUE((*c)->Upsert(Point{id, {1, 2}, "{}"}).ok());
  }
  auto scroll = [&](std::string after, size_t limit) {
    auto page = (*c)->Scroll(test::ScrollFrom(std::move(after), limit));
    EXPECT_TRUE(page.ok());
    std::vector<std::string> ids;
    for (const auto& p : page->points) ids.push_back(p.id);
    return std::make_pair(ids, page->next_after);
  };
  using V = std::vector<std::string>;
  // `after` need not be a stored id: the page starts at the first id greater than it.
  EXPECT_EQ(scroll("c", 2), std::make_pair(V{"d", "f"}, std::string("f")));
  EXPECT_EQ(scroll("d", 2), std::make_pair(V{"f", "h"}, std::string()));
  EXPECT_EQ(scroll("a", 4), std::make_pair(V{"b", "d", "f", "h"}, std::string()));
  EXPECT_EQ(scroll("", 3), std::make_pair(V{"b", "d", "f"}, std::string("f")));
  EXPECT_EQ(scroll("h", 3), std::make_pair(V{}, std::string()));
  EXPECT_EQ(scroll("zzz", 1), std::make_pair(V{}, std::string()));
  // A point deleted between pages is skipped; one inserted after the cursor is seen.
  auto first = scroll("", 2);
  ASSERT_TRUE((*c)->Delete("f").ok());
  ASSERT_TRUE((*c)->Upsert(Point{"g", {0, 0}, "{}"}).ok());
  EXPECT_EQ(scroll(first.second, 10), std::make_pair(V{"g", "h"}, std::string()));
}

TEST(CrudEdgeCases, StoredFormsOfVectorsAndMetadata) {
  auto db = OpenMemory();
  ASSERT_NE(db, nullptr);
  auto cos = db->CreateCollection("cos", 3, Metric::kCosine);
  auto l2 = db->CreateCollection("l2", 3, Metric::kL2);
  ASSERT_TRUE(cos.ok() && l2.ok());
  // Cosine stores the unit vector; a subnormal vector still has a direction.
  ASSERT_TRUE((*cos)->Upsert(Point{"a", {3, 0, 4}, R"( {"x" : [1, 2], "a": "\u00e9"} )"}).ok());
  ASSERT_TRUE((*cos)->Upsert(Point{"tiny", {1e-40f, 0, 0}, ""}).ok());
  auto a = (*cos)->Get("a");
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->vector, (std::vector<float>{0.6f, 0, 0.8f}));
  EXPECT_EQ((*a)->metadata, "{\"a\":\"\xC3\xA9\",\"x\":[1,2]}");
  auto tiny = (*cos)->Get("tiny");
  ASSERT_TRUE(tiny.ok() && tiny->has_value());
  EXPECT_EQ((*tiny)->vector, (std::vector<float>{1, 0, 0}));
  EXPECT_EQ((*tiny)->metadata, "{}");
  // Cosine distance is 1 - cos: opposite vectors are 2 apart, orthogonal ones 1.
  auto hits = (*cos)->Search(std::vector<float>{-3, 0, -4}, SearchOptions{.k = 2});
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[0].id, "tiny");
  EXPECT_NEAR((*hits)[0].distance, 1.6f, 1e-6);  // 1 - (-0.6)
  EXPECT_NEAR((*hits)[1].distance, 2.0f, 1e-6);
  // l2 keeps the vector as given; zero vectors are fine; distance is not squared.
  ASSERT_TRUE((*l2)->Upsert(Point{"z", {0, 0, 0}, "{}"}).ok());
  ASSERT_TRUE((*l2)->Upsert(Point{"v", {3, 0, 4}, "{}"}).ok());
  auto lh = (*l2)->Search(std::vector<float>{0, 0, 0}, SearchOptions{.k = 5});
  ASSERT_TRUE(lh.ok());
  ASSERT_EQ(lh->size(), 2u);
  EXPECT_EQ((*lh)[0].id, "z");
  EXPECT_EQ((*lh)[0].distance, 0.0f);
  EXPECT_EQ((*lh)[1].id, "v");
  EXPECT_EQ((*lh)[1].distance, 5.0f);
}

// DatabaseOptions::memtable_max_rows is documented to seal the memtable at that many rows.
TEST(CrudEdgeCases, MemtableMaxRowsSealsSegments) {
  DatabaseOptions o;
  o.memtable_max_rows = 50;
  o.compaction_max_segments = 1000;  // no automatic compaction: count the seals
  o.compaction_dead_fraction = 2.0;
  auto db = Database::OpenInMemory(o);
  ASSERT_TRUE(db.ok());
  auto c = (*db)->CreateCollection("m", 4, Metric::kL2);
  ASSERT_TRUE(c.ok());
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE((*c)->Upsert(Point{"p" + std::to_string(i), {1, 2, 3, float(i)}, "{}"}).ok());
  }
  // Sealing runs in the background: wait (bounded) for it.
  CollectionInfo info;
  for (int i = 0; i < 1000; ++i) {
    info = (*c)->Info();
    if (info.segments >= 10) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(info.segments, 10u) << "500 rows with memtable_max_rows=50 should give 10 segments";
  EXPECT_EQ(info.segment_rows, 500u);
  EXPECT_EQ(info.memtable_rows, 0u);
  EXPECT_EQ((*c)->Count(), 500u);
}

}  // namespace
}  // namespace nearstore

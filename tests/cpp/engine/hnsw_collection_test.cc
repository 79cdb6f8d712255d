// HNSW collections: recall against brute force for each metric, deletes and updates never
// returned (and recall kept after heavy deletes), sorted results, identical results after a
// reopen, graphs persisted (not rebuilt) and validated on open, refused settings, and searches
// running while points stream in (also under ThreadSanitizer: the name holds "Concurrency").
#include <cstring>
#include <fstream>
#include <thread>

#include "clustered_data.h"
#include "test_util.h"

namespace nearstore::test {
namespace {

DatabaseOptions SmallSegments() {
  DatabaseOptions o;
  o.durability = Durability::kNoSync;
  o.memtable_max_rows = 1500;  // several segments, each with its graph, plus a memtable
  o.graph_min_rows = 200;
  o.compaction_max_segments = 100;
  o.compaction_dead_fraction = 0.99;  // compaction only when the test asks
  return o;
}

IndexOptions Hnsw(uint32_t m = 12, uint32_t ef_construction = 100, uint32_t ef_search = 64) {
  IndexOptions index;
  index.kind = IndexKind::kHnsw;
  index.m = m;
  index.ef_construction = ef_construction;
  index.ef_search = ef_search;
  return index;
}

struct Fixture {
  explicit Fixture(const std::string& name, Metric metric,
                   DatabaseOptions options = SmallSegments(), IndexOptions index = Hnsw(),
                   uint32_t dim = kDim)
      : dir(name), metric_(metric), options_(options), index_(index), dim_(dim) {
    Reopen();
  }
  void Reopen() {
    col.reset();
    db.reset();
    auto opened = Database::Open(dir.path(), options_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    db = std::move(*opened);
    auto existing = db->GetCollection("c");
    if (existing.ok()) {
      col = *existing;
      return;
    }
    auto created = db->CreateCollection("c", dim_, metric_, index_);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    col = *created;
  }
  void Upsert(const std::vector<Point>& points) {
    for (size_t i = 0; i < points.size(); i += 500) {
      const size_t n = std::min<size_t>(500, points.size() - i);
      ASSERT_TRUE(col->Upsert(std::span(points).subspan(i, n)).ok());
    }
  }
  std::vector<Hit> Search(const std::vector<float>& q, int k, uint32_t ef = 0) {
    SearchOptions o;
    o.k = k;
    o.ef = ef;
    auto r = col->Search(q, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<Hit>{};
  }

  ScopedTempDir dir;
  Metric metric_;
  DatabaseOptions options_;
  IndexOptions index_;
  uint32_t dim_;
  std::unique_ptr<Database> db;
  std::shared_ptr<Collection> col;
};

// Mean recall@k of the collection's answers against brute force over `live`.
double Recall(Fixture& f, const std::map<std::string, std::vector<float>>& live,
              const std::vector<std::vector<float>>& queries, int k, uint32_t ef) {
  double found = 0, wanted = 0;
  for (const auto& q : queries) {
    const auto truth = ExactIds(live, q, f.metric_, k);
    std::set<std::string> got;
    for (const Hit& h : f.Search(q, k, ef)) got.insert(h.id);
    for (const auto& id : truth) found += got.count(id);
    wanted += static_cast<double>(truth.size());
  }
  return found / wanted;
}

// Each metric, with the walk on float vectors and on SQ8 codes (re-ranked).
class HnswCollectionTest : public ::testing::TestWithParam<std::tuple<Metric, Quantization>> {
 protected:
  Metric metric() const { return std::get<0>(GetParam()); }
  IndexOptions Index() const {
    IndexOptions index = Hnsw();
    index.quantization = std::get<1>(GetParam());
    return index;
  }
};

TEST_P(HnswCollectionTest, RecallAgainstBruteForceAcrossSegmentsAndMemtable) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  Fixture f("hnsw_recall", metric(), SmallSegments(), Index());
  // Four sealed segments with graphs (sealing is in the background: Flush waits for it),
  // then rows that stay in the memtable.
  const auto points = ClusteredPoints(rng, 6700, 30);
  f.Upsert(std::vector<Point>(points.begin(), points.begin() + 6000));
  ASSERT_TRUE(f.col->Flush().ok());
  f.Upsert(std::vector<Point>(points.begin() + 6000, points.end()));
  std::map<std::string, std::vector<float>> live;
  for (const auto& p : points) live[p.id] = p.vector;
  const CollectionInfo info = f.col->Info();
  EXPECT_GE(info.segments, 3u);
  EXPECT_GT(info.memtable_rows, 0u) << "the memtable part is searched exactly";
  EXPECT_EQ(info.indexed_rows, info.segment_rows);
  EXPECT_GT(info.graph_bytes, 0u);
  EXPECT_EQ(info.index.kind, IndexKind::kHnsw);
  const bool quantized = Index().quantization == Quantization::kSq8;
  // Codes: a byte per dimension per row, plus each row's norm and the ranges.
  EXPECT_EQ(info.code_bytes > 0, quantized);
  if (quantized) {
    EXPECT_GE(info.code_bytes, info.segment_rows * (kDim + 4));
  }

  const auto queries = QueriesNear(rng, points, 60);
  const double recall = Recall(f, live, queries, 10, 64);
  EXPECT_GE(recall, 0.95) << "recall@10 at ef=64";
  EXPECT_GE(Recall(f, live, queries, 10, 256), recall - 0.01) << "a larger ef never hurts much";

  // Results sorted, at most k, no duplicates; the batch path gives the same answers (up to
  // rounding: its exact part uses the many-by-many kernel).
  SearchOptions o;
  o.k = 10;
  std::vector<float> flat;
  for (const auto& q : queries) flat.insert(flat.end(), q.begin(), q.end());
  auto batch = f.col->SearchBatch(flat, o);
  ASSERT_TRUE(batch.ok());
  for (size_t i = 0; i < queries.size(); ++i) {
    const auto hits = f.Search(queries[i], 10);
    ASSERT_EQ(hits.size(), 10u);
    ASSERT_EQ((*batch)[i].size(), hits.size());
    std::set<std::string> ids, batch_ids;
    for (size_t j = 0; j < hits.size(); ++j) {
      ids.insert(hits[j].id);
      batch_ids.insert((*batch)[i][j].id);
      if (j > 0) {
        EXPECT_LE(hits[j - 1].distance, hits[j].distance);
      }
      EXPECT_NEAR((*batch)[i][j].distance, hits[j].distance,
                  1e-4 * (1 + std::abs(hits[j].distance)));
    }
    EXPECT_EQ(ids.size(), hits.size());
    EXPECT_EQ(ids, batch_ids);
  }
}

TEST_P(HnswCollectionTest, DeletedAndSupersededPointsAreNeverReturned) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  Fixture f("hnsw_deletes", metric(), SmallSegments(), Index());
  const auto points = ClusteredPoints(rng, 5000, 20);
  f.Upsert(points);
  ASSERT_TRUE(f.col->Flush().ok());
  // Delete 70% and move 10% elsewhere (an update supersedes the row the graph holds).
  std::map<std::string, std::vector<float>> live;
  std::vector<std::string> gone;
  for (const auto& p : points) {
    const uint64_t r = rng() % 10;
    if (r < 7) {
      gone.push_back(p.id);
    } else if (r == 7) {
      auto moved = ClusteredPoints(rng, 1, 20)[0].vector;
      ASSERT_TRUE(*f.col->Update(p.id, VectorUpdate(moved)));
      live[p.id] = moved;
    } else {
      live[p.id] = p.vector;
    }
  }
  ASSERT_TRUE(f.col->DeleteMany(gone).ok());
  const std::set<std::string> deleted(gone.begin(), gone.end());

  const auto queries = QueriesNear(rng, points, 40);
  for (const auto& q : queries) {
    for (const Hit& h : f.Search(q, 20)) {
      ASSERT_EQ(deleted.count(h.id), 0u) << h.id << " was deleted";
      // A moved point is found with its new vector, never its old row.
      const double expected = Distance(metric(), live.at(h.id), q);
      ASSERT_NEAR(h.distance, expected, 1e-3 * (1.0 + std::abs(expected))) << h.id;
    }
  }
  // Dead nodes still route: recall over the live points holds before compaction...
  const double before = Recall(f, live, queries, 10, 128);
  EXPECT_GE(before, 0.9) << "recall@10 at ef=128 with 70% of the nodes deleted";
  // ...and after compaction rebuilds one graph of the live points.
  // (Flush first: compaction keeps rows whose end is still only in the log.)
  ASSERT_TRUE(f.col->Flush().ok());
  ASSERT_TRUE(f.col->Compact().ok());
  EXPECT_EQ(f.col->Info().segments, 1u);
  EXPECT_EQ(f.col->Info().segment_rows, live.size());
  EXPECT_EQ(f.col->Info().indexed_rows, live.size());
  EXPECT_GE(Recall(f, live, queries, 10, 64), 0.95);
}

TEST_P(HnswCollectionTest, ReopenGivesIdenticalResultsWithoutRebuilding) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  Fixture f("hnsw_reopen", metric(), SmallSegments(), Index());
  const auto points = ClusteredPoints(rng, 4000, 15);
  f.Upsert(points);
  ASSERT_TRUE(f.col->Flush().ok());
  const auto queries = QueriesNear(rng, points, 25);
  std::vector<std::vector<Hit>> before;
  for (const auto& q : queries) before.push_back(f.Search(q, 10, 32));
  const CollectionInfo info = f.col->Info();

  f.Reopen();
  const CollectionInfo reopened = f.col->Info();
  EXPECT_EQ(reopened.graph_bytes, info.graph_bytes);
  EXPECT_EQ(reopened.indexed_rows, info.indexed_rows);
  EXPECT_EQ(reopened.index.m, 12u);
  EXPECT_EQ(reopened.index.ef_construction, 100u);
  EXPECT_EQ(reopened.index.quantization, Index().quantization);
  EXPECT_EQ(reopened.index.rerank, 4u);
  EXPECT_EQ(reopened.code_bytes, info.code_bytes);
  for (size_t i = 0; i < queries.size(); ++i) {
    const auto after = f.Search(queries[i], 10, 32);
    ASSERT_EQ(after.size(), before[i].size());
    for (size_t j = 0; j < after.size(); ++j) {
      EXPECT_EQ(after[j].id, before[i][j].id);
      EXPECT_EQ(after[j].distance, before[i][j].distance);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    MetricsAndQuantization, HnswCollectionTest,
    ::testing::Combine(::testing::Values(Metric::kCosine, Metric::kL2, Metric::kDot),
                       ::testing::Values(Quantization::kNone, Quantization::kSq8)),
    [](const auto& param_info) {
      return std::string(MetricName(std::get<0>(param_info.param))) + "_" +
             QuantizationName(std::get<1>(param_info.param));
    });

// Binary codes are meant for embedding models: rows whose neighbourhoods are decided by a few
// latent directions spread over many dimensions (src/index/binary_codes.h; the clusters of
// independent noise above are the case for SQ8). 256-d rows made from a clustered 32-d latent
// point by one random linear map, in several segments plus the memtable: recall@10 >= 0.95 at
// the default ef and rerank, deletes never returned, identical results after a reopen.
class BinaryCollectionTest : public ::testing::TestWithParam<Metric> {};

TEST_P(BinaryCollectionTest, RecallDeletesAndReopen) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  constexpr uint32_t kLatent = 32, kWide = 256;
  IndexOptions index = Hnsw();
  index.quantization = Quantization::kBinary;
  Fixture f("hnsw_binary", GetParam(), SmallSegments(), index, kWide);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> map(kLatent * kWide);
  for (float& w : map) w = g(rng) / 3.0f;
  auto widen = [&](const std::vector<float>& latent) {
    std::vector<float> out(kWide);
    for (uint32_t d = 0; d < kWide; ++d) {
      out[d] = 0.1f * g(rng);
      for (uint32_t l = 0; l < kLatent; ++l) out[d] += latent[l] * map[l * kWide + d];
    }
    return out;
  };
  auto latent = [&](size_t n) {  // ClusteredPoints draws kDim (24) latent dimensions
    std::vector<Point> points = ClusteredPoints(rng, n, 20);
    for (Point& p : points) {
      p.vector.resize(kLatent);
      for (uint32_t l = kDim; l < kLatent; ++l) p.vector[l] = g(rng);
    }
    return points;
  };
  std::vector<Point> points = latent(5600);
  for (Point& p : points) p.vector = widen(p.vector);
  f.Upsert(std::vector<Point>(points.begin(), points.begin() + 5000));
  ASSERT_TRUE(f.col->Flush().ok());
  f.Upsert(std::vector<Point>(points.begin() + 5000, points.end()));
  std::vector<std::string> gone;
  std::map<std::string, std::vector<float>> live;
  for (size_t i = 0; i < points.size(); ++i) {
    if (i % 5 == 0) {
      gone.push_back(points[i].id);
    } else {
      live[points[i].id] = points[i].vector;
    }
  }
  ASSERT_TRUE(f.col->DeleteMany(gone).ok());
  const CollectionInfo info = f.col->Info();
  EXPECT_GE(info.segments, 3u);
  EXPECT_EQ(info.index.rerank, kDefaultRerankBinary);
  // A record per row (16 bytes of scalars and 256 bits), and per segment the mean.
  EXPECT_EQ(info.code_bytes, info.segment_rows * (16 + kWide / 8) + info.segments * 4 * kWide);

  std::vector<std::vector<float>> queries;
  for (const Point& p : latent(60)) {
    std::vector<float> q = p.vector;
    for (float& x : q) x += 0.5f * g(rng);
    queries.push_back(widen(q));
  }
  const std::set<std::string> deleted(gone.begin(), gone.end());
  for (const auto& q : queries) {
    for (const Hit& h : f.Search(q, 10)) ASSERT_EQ(deleted.count(h.id), 0u) << h.id;
  }
  EXPECT_GE(Recall(f, live, queries, 10, 0), 0.95) << "recall@10 at the default ef and rerank";

  // Everything sealed, then reopened: the same answers.
  ASSERT_TRUE(f.col->Flush().ok());
  const uint64_t code_bytes = f.col->Info().code_bytes;
  std::vector<std::vector<Hit>> before;
  for (const auto& q : queries) before.push_back(f.Search(q, 10));
  f.Reopen();
  EXPECT_EQ(f.col->Info().code_bytes, code_bytes);
  EXPECT_EQ(f.col->Info().index.quantization, Quantization::kBinary);
  for (size_t i = 0; i < queries.size(); ++i) {
    const auto after = f.Search(queries[i], 10);
    ASSERT_EQ(after.size(), before[i].size());
    for (size_t j = 0; j < after.size(); ++j) EXPECT_EQ(after[j].id, before[i][j].id);
  }
}

INSTANTIATE_TEST_SUITE_P(Metrics, BinaryCollectionTest,
                         ::testing::Values(Metric::kCosine, Metric::kL2, Metric::kDot),
                         [](const auto& param_info) {
                           return std::string(MetricName(param_info.param));
                         });

TEST(HnswCollection, SmallSegmentsAndFlatCollectionsHaveNoGraph) {
  std::mt19937_64 rng(3);
  DatabaseOptions o = SmallSegments();
  o.graph_min_rows = 5000;
  auto opened = Database::OpenInMemory(o);
  ASSERT_TRUE(opened.ok());
  auto db = std::move(*opened);
  auto hnsw = *db->CreateCollection("h", kDim, Metric::kL2, Hnsw());
  auto flat = *db->CreateCollection("f", kDim, Metric::kL2);
  const auto points = ClusteredPoints(rng, 3000, 5);
  ASSERT_TRUE(hnsw->Upsert(points).ok());
  ASSERT_TRUE(flat->Upsert(points).ok());
  ASSERT_TRUE(hnsw->Flush().ok());
  ASSERT_TRUE(flat->Flush().ok());
  EXPECT_EQ(hnsw->Info().graph_bytes, 0u);
  EXPECT_EQ(flat->Info().graph_bytes, 0u);
  EXPECT_EQ(flat->Info().index.kind, IndexKind::kFlat);
  // Without graphs the search is exact: the same answers as the flat collection.
  SearchOptions so;
  so.k = 7;
  for (int i = 0; i < 10; ++i) {
    const auto& q = points[rng() % points.size()].vector;
    auto a = *hnsw->Search(q, so);
    auto b = *flat->Search(q, so);
    ASSERT_EQ(a.size(), b.size());
    for (size_t j = 0; j < a.size(); ++j) EXPECT_EQ(a[j].id, b[j].id);
  }
}

TEST(HnswCollection, RefusesBadSettings) {
  auto opened = Database::OpenInMemory();
  ASSERT_TRUE(opened.ok());
  auto db = std::move(*opened);
  auto bad = [&](IndexOptions index, const std::string& expected) {
    auto c = db->CreateCollection("c", kDim, Metric::kCosine, index);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(c.status().message(), ::testing::HasSubstr(expected));
  };
  bad(Hnsw(1), "m must be 2..256, got 1");
  bad(Hnsw(300), "m must be 2..256, got 300");
  bad(Hnsw(16, 8), "ef_construction must be m (16)..65536, got 8");
  bad(Hnsw(16, 200, 0), "ef_search must be 1..65536, got 0");
  IndexOptions flat_sq8;
  flat_sq8.quantization = Quantization::kSq8;
  bad(flat_sq8, "quantization 'sq8' needs index 'hnsw'");
  IndexOptions big_rerank = Hnsw();
  big_rerank.quantization = Quantization::kSq8;
  big_rerank.rerank = 65;
  bad(big_rerank, "rerank must be 1..64, got 65");
  EXPECT_FALSE(ParseQuantization("pq").ok());
  EXPECT_EQ(*ParseQuantization("sq8"), Quantization::kSq8);
  EXPECT_EQ(*ParseQuantization("binary"), Quantization::kBinary);
  // rerank 0 is the quantization's default, stored as such.
  IndexOptions defaults = Hnsw();
  defaults.quantization = Quantization::kSq8;
  EXPECT_EQ((*db->CreateCollection("sq8", kDim, Metric::kCosine, defaults))->Info().index.rerank,
            kDefaultRerankSq8);
  defaults.quantization = Quantization::kBinary;
  EXPECT_EQ((*db->CreateCollection("bin", kDim, Metric::kCosine, defaults))->Info().index.rerank,
            kDefaultRerankBinary);
  defaults.rerank = 3;
  EXPECT_EQ((*db->CreateCollection("bin3", kDim, Metric::kCosine, defaults))->Info().index.rerank,
            3u);
  IndexOptions unknown = Hnsw();
  unknown.kind = static_cast<IndexKind>(7);
  bad(unknown, "unknown index kind 7");
  EXPECT_FALSE(ParseIndexKind("ivf").ok());
  EXPECT_EQ(*ParseIndexKind("hnsw"), IndexKind::kHnsw);

  auto c = *db->CreateCollection("ok", kDim, Metric::kCosine, Hnsw());
  SearchOptions o;
  o.ef = kMaxEf + 1;
  auto r = c->Search(std::vector<float>(kDim, 1.0f), o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("ef must be 0"));
  o.ef = 0;
  o.rerank = kMaxRerank + 1;
  r = c->Search(std::vector<float>(kDim, 1.0f), o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("rerank must be 0 (the collection's"));
}

// A damaged graph is found on open even without checksum verification (a search must never
// follow a link out of bounds), and the error names the segment.
TEST(HnswCollection, DamagedGraphIsCorruption) {
  std::mt19937_64 rng(5);
  DatabaseOptions o = SmallSegments();
  o.verify_checksums_on_open = false;
  Fixture f("hnsw_damage", Metric::kL2, o);
  f.Upsert(ClusteredPoints(rng, 1000, 4));
  ASSERT_TRUE(f.col->Flush().ok());
  f.col.reset();
  f.db.reset();
  std::string seg_path;
  for (const auto& e : std::filesystem::recursive_directory_iterator(f.dir.path())) {
    if (e.path().extension() == ".nss") seg_path = e.path().string();
  }
  ASSERT_FALSE(seg_path.empty());
  std::string bytes;
  {
    std::ifstream in(seg_path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // The graph is the last section: its level-0 links sit near the end; point one far away.
  const size_t at = bytes.size() - 4096;
  uint32_t huge = 0x7fffffff;
  std::memcpy(bytes.data() + (at & ~size_t{3}), &huge, 4);
  {
    std::ofstream out(seg_path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  auto reopened = Database::Open(f.dir.path(), o);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), StatusCode::kCorruption) << reopened.status().ToString();
  EXPECT_THAT(reopened.status().message(), ::testing::HasSubstr(seg_path));
}

// Searches run while writers stream points in and the background seals graphs: no search
// fails, none returns a point twice or a point never written, and each sees at least the
// points acknowledged before it started.
TEST(HnswConcurrency, SearchWhileInsertingAndSealing) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE(SeedTrace(seed));
  std::mt19937_64 rng(seed);
  DatabaseOptions o = SmallSegments();
  o.memtable_max_rows = 600;
  o.graph_min_rows = 100;
  o.index_build_threads = 2;
  auto opened = Database::OpenInMemory(o);
  ASSERT_TRUE(opened.ok());
  auto db = std::move(*opened);
  auto col = *db->CreateCollection("c", kDim, Metric::kCosine, Hnsw(8, 40, 32));
  const auto points = ClusteredPoints(rng, 4000, 10);
  std::atomic<size_t> acknowledged{0};
  std::atomic<bool> failed{false};
  std::thread writer([&] {
    for (size_t i = 0; i < points.size(); i += 100) {
      if (!col->Upsert(std::span(points).subspan(i, 100)).ok()) failed = true;
      acknowledged = i + 100;
    }
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937_64 r(seed + t);
      while (acknowledged.load() < points.size()) {
        const size_t seen = acknowledged.load();
        SearchOptions so;
        so.k = 5;
        const auto& q = points[r() % points.size()].vector;
        auto hits = col->Search(q, so);
        if (!hits.ok()) {
          failed = true;
          return;
        }
        std::set<std::string> ids;
        for (const Hit& h : *hits) {
          const size_t index = std::stoul(h.id.substr(1));
          if (!ids.insert(h.id).second || index >= points.size()) failed = true;
        }
        if (hits->size() < std::min<size_t>(5, seen)) failed = true;
      }
    });
  }
  writer.join();
  for (auto& r : readers) r.join();
  EXPECT_FALSE(failed.load());
  ASSERT_TRUE(col->Flush().ok());
  EXPECT_EQ(col->Count(), points.size());
  EXPECT_GT(col->Info().graph_bytes, 0u);
}

}  // namespace
}  // namespace nearstore::test

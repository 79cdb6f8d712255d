// Readers (Search, SearchBatch, Get, GetMany, Scroll, Count) run while writers upsert, update
// and delete, with memtables small enough that seals and compactions happen during the test.
// Checked: every result is well formed (sorted, no duplicate ids, at most k); a point
// acknowledged before a read started is seen by it; the final state equals the merged
// reference of the writers (each writer owns its ids). Run under ThreadSanitizer in CI.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "nearstore/nearstore.h"
#include "test_util.h"

namespace nearstore {
namespace {

using test::RandomVector;
using test::Reference;

constexpr uint32_t kDim = 8;

// Structure every k-NN answer must have, whatever the concurrent writes.
void ExpectWellFormed(const std::vector<Hit>& hits, int k, const char* what) {
  EXPECT_LE(hits.size(), static_cast<size_t>(k)) << what;
  std::set<std::string> ids;
  for (size_t i = 0; i < hits.size(); ++i) {
    EXPECT_TRUE(ids.insert(hits[i].id).second) << what << ": duplicate id '" << hits[i].id << "'";
    if (i > 0) {
      const Hit& p = hits[i - 1];
      EXPECT_TRUE(p.distance < hits[i].distance ||
                  (p.distance == hits[i].distance && p.id < hits[i].id))
          << what << ": not sorted at rank " << i;
    }
  }
}

// Points acknowledged to a writer and never deleted or re-vectored afterwards.
class AckedPoints {
 public:
  void Add(std::string id, std::vector<float> v) {
    std::lock_guard lock(mu_);
    points_.emplace_back(std::move(id), std::move(v));
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return points_.size();
  }
  // A random one of the first n (n <= size()).
  std::pair<std::string, std::vector<float>> Pick(std::mt19937_64& rng, size_t n) const {
    std::lock_guard lock(mu_);
    return points_[rng() % n];
  }
  std::vector<std::string> Ids(size_t n) const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (size_t i = 0; i < n; ++i) out.push_back(points_[i].first);
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, std::vector<float>>> points_;  // guarded by mu_
};

class ConcurrencyTest : public ::testing::TestWithParam<Durability> {};

TEST_P(ConcurrencyTest, ReadersSeeAcknowledgedWritesWhileWritersChurn) {
  const uint64_t seed = test::TestSeed();
  SCOPED_TRACE(test::SeedTrace(seed));
  test::ScopedTempDir dir("concurrency");
  DatabaseOptions o;
  o.durability = GetParam();
  o.memtable_max_rows = GetParam() == Durability::kSync ? 48 : 200;
  o.compaction_max_segments = 3;
  o.search_threads = 2;
  auto db = Database::Open(dir.path(), o);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto created = (*db)->CreateCollection("hot", kDim, Metric::kL2);
  ASSERT_TRUE(created.ok());
  std::shared_ptr<Collection> col = *created;

  constexpr int kWriters = 2, kReaders = 3;
  // Each writer does at least min_ops operations, and goes on until the maintenance thread
  // has compacted a few times while writes were running (or a time limit passes: sanitizer
  // builds are slow).
  const int min_ops = GetParam() == Durability::kSync ? 300 : 1000;
  constexpr int kMinCompactions = 3;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  AckedPoints acked;
  std::atomic<int> writers_left{kWriters};
  std::atomic<int> compactions{0}, flushes{0}, reads{0};
  std::atomic<uint64_t> max_segments{0};  // seen by readers through Info()
  std::vector<Reference> refs(kWriters, Reference(kDim, Metric::kL2));
  std::vector<std::thread> threads;

  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + 100 + t);
      Reference& ref = refs[t];
      std::vector<std::string> stable;  // ids of acknowledged stable points of this writer
      auto churn_id = [&] { return "c" + std::to_string(t) + "-" + std::to_string(rng() % 60); };
      auto run = [&] {
        for (int i = 0; i < min_ops || (compactions.load() < kMinCompactions &&
                                        std::chrono::steady_clock::now() < deadline);
             ++i) {
          switch (rng() % 10) {
            case 0:
            case 1:
            case 2: {  // a stable point: never deleted, its vector never changes
              const std::string id = "s" + std::to_string(t) + "-" + std::to_string(i);
              auto v = RandomVector(rng, kDim);
              ASSERT_TRUE(col->Upsert(Point{id, v, "{}"}).ok());
              ref.Upsert(id, v, "{}");
              acked.Add(id, v);
              stable.push_back(id);
              break;
            }
            case 3:
            case 4: {
              std::vector<Point> batch;
              for (int j = 0; j < 5; ++j)
                batch.push_back(Point{churn_id(), RandomVector(rng, kDim), "{}"});
              ASSERT_TRUE(col->Upsert(batch).ok());
              for (const auto& p : batch) ref.Upsert(p.id, p.vector, "{}");
              break;
            }
            case 5: {
              const std::string id = churn_id();
              auto r = col->Delete(id);
              ASSERT_TRUE(r.ok()) << r.status().ToString();
              EXPECT_EQ(*r, ref.Delete(id)) << "Delete('" << id << "')";
              break;
            }
            case 6: {
              std::set<std::string> unique = {churn_id(), churn_id(), churn_id()};
              std::vector<std::string> ids(unique.begin(), unique.end());
              auto r = col->DeleteMany(ids);
              ASSERT_TRUE(r.ok()) << r.status().ToString();
              for (size_t j = 0; j < ids.size(); ++j) EXPECT_EQ((*r)[j], ref.Delete(ids[j]));
              break;
            }
            case 7: {
              const std::string id = churn_id();
              auto v = RandomVector(rng, kDim);
              auto r = col->Update(id, test::VectorUpdate(v));
              ASSERT_TRUE(r.ok()) << r.status().ToString();
              EXPECT_EQ(*r, ref.Update(id, &v, nullptr)) << "Update('" << id << "')";
              break;
            }
            case 8: {  // metadata of a stable point: a new row version, same vector
              if (stable.empty()) break;
              const std::string& id = stable[rng() % stable.size()];
              const std::string meta = "{\"n\":" + std::to_string(i) + "}";
              auto r = col->Update(id, test::MetadataUpdate(meta));
              ASSERT_TRUE(r.ok()) << r.status().ToString();
              EXPECT_TRUE(*r) << "Update of stable point '" << id << "' did not find it";
              ref.Update(id, nullptr, &meta);
              break;
            }
            default: {
              std::vector<std::string> ids = {churn_id(), churn_id()};
              std::vector<float> vecs;
              for (int j = 0; j < 2; ++j) {
                auto v = RandomVector(rng, kDim);
                vecs.insert(vecs.end(), v.begin(), v.end());
              }
              ASSERT_TRUE(col->UpsertColumns(ids, vecs, {}).ok());
              for (int j = 0; j < 2; ++j) {
                ref.Upsert(ids[j], std::span<const float>(vecs).subspan(j * kDim, kDim), "{}");
              }
            }
          }
        }
      };
      run();
      writers_left.fetch_sub(1);
    });
  }

  // Maintenance: explicit flushes and compactions on top of the automatic ones.
  threads.emplace_back([&] {
    while (writers_left.load() > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
      Status s = col->Compact();
      EXPECT_TRUE(s.ok()) << s.ToString();
      compactions.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
      s = col->Flush();
      EXPECT_TRUE(s.ok()) << s.ToString();
      flushes.fetch_add(1);
    }
  });

  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937_64 rng(seed + 200 + r);
      for (int iter = 0; writers_left.load() > 0 || iter < 20; ++iter) {
        reads.fetch_add(1);
        const size_t n = acked.size();  // all of these were acknowledged before this read
        const uint64_t count = col->Count();
        EXPECT_GE(count, n) << "Count() below the number of acknowledged stable points";
        if (n == 0) {
          std::this_thread::yield();
          continue;
        }
        const auto [id, v] = acked.Pick(rng, n);
        switch (iter % 6) {
          case 0: {
            auto got = col->Get(id);
            ASSERT_TRUE(got.ok()) << got.status().ToString();
            ASSERT_TRUE(got->has_value()) << "acknowledged point '" << id << "' not found by Get";
            EXPECT_EQ((*got)->vector, v);
            break;
          }
          case 1: {
            auto hits = col->Search(v, SearchOptions{.k = 5});
            ASSERT_TRUE(hits.ok()) << hits.status().ToString();
            ExpectWellFormed(*hits, 5, "Search");
            ASSERT_FALSE(hits->empty());
            EXPECT_EQ((*hits)[0].id, id) << "exact-vector query did not find acknowledged point";
            EXPECT_EQ((*hits)[0].distance, 0.0f);
            EXPECT_GE(hits->size(), std::min<size_t>(5, n));  // churn points may add more
            break;
          }
          case 2: {
            const auto other = acked.Pick(rng, n);
            std::vector<float> qs = v;
            qs.insert(qs.end(), other.second.begin(), other.second.end());
            const auto random = RandomVector(rng, kDim);
            qs.insert(qs.end(), random.begin(), random.end());
            auto res = col->SearchBatch(qs, SearchOptions{.k = 4, .with_vectors = true});
            ASSERT_TRUE(res.ok()) << res.status().ToString();
            ASSERT_EQ(res->size(), 3u);
            for (const auto& hits : *res) ExpectWellFormed(hits, 4, "SearchBatch");
            ASSERT_FALSE((*res)[0].empty());
            ASSERT_FALSE((*res)[1].empty());
            EXPECT_EQ((*res)[0][0].id, id);
            EXPECT_EQ((*res)[0][0].vector, v);
            EXPECT_EQ((*res)[1][0].id, other.first);
            EXPECT_GE((*res)[2].size(), std::min<size_t>(4, n));
            break;
          }
          case 3: {
            std::vector<std::string> ids = {id, acked.Pick(rng, n).first, "no-such-id"};
            auto got = col->GetMany(ids);
            ASSERT_TRUE(got.ok()) << got.status().ToString();
            ASSERT_EQ(got->size(), 3u);
            EXPECT_TRUE((*got)[0].has_value()) << "'" << ids[0] << "'";
            EXPECT_TRUE((*got)[1].has_value()) << "'" << ids[1] << "'";
            EXPECT_FALSE((*got)[2].has_value());
            break;
          }
          case 4: {
            auto hits = col->Search(RandomVector(rng, kDim), SearchOptions{.k = 10});
            ASSERT_TRUE(hits.ok()) << hits.status().ToString();
            ExpectWellFormed(*hits, 10, "Search random");
            EXPECT_GE(hits->size(), std::min<size_t>(10, n));
            break;
          }
          default: {
            if (iter % 60 != 5) break;
            const uint64_t segs = col->Info().segments;
            if (segs > max_segments.load()) max_segments.store(segs);
            // A full scroll: strictly ascending ids, and every acknowledged stable point.
            const std::vector<std::string> expected = acked.Ids(n);
            std::set<std::string> seen;
            ScrollOptions so = test::ScrollFrom("", 97);
            std::string last;
            for (;;) {
              auto page = col->Scroll(so);
              ASSERT_TRUE(page.ok()) << page.status().ToString();
              EXPECT_LE(page->points.size(), so.limit);
              for (const auto& p : page->points) {
                EXPECT_LT(last, p.id) << "scroll not strictly ascending";
                last = p.id;
                seen.insert(p.id);
              }
              if (page->next_after.empty()) break;
              so.after = page->next_after;
            }
            for (const auto& e : expected) {
              EXPECT_TRUE(seen.count(e)) << "scroll missed acknowledged point '" << e << "'";
            }
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_FALSE(::testing::Test::HasFailure());
  EXPECT_GE(compactions.load(), 1) << "no compaction ran while the writers were running";
  EXPECT_GE(max_segments.load(), 2u) << "the test meant to run while several segments exist";
  EXPECT_GT(flushes.load(), 0);

  // The final state is exactly the union of the writers' references.
  Reference merged(kDim, Metric::kL2);
  for (const auto& ref : refs) {
    for (const auto& [id, p] : ref.points()) merged.PutStored(id, p);
  }
  std::mt19937_64 rng(seed);
  test::ExpectMatchesReference(*col, merged, rng, "after the concurrent phase");
  const CollectionInfo info = col->Info();
  EXPECT_GE(info.segments, 1u);
  std::printf("[ concurrency ] %d reads, %d compactions, %d flushes, up to %llu segments\n",
              reads.load(), compactions.load(), flushes.load(),
              static_cast<unsigned long long>(max_segments.load()));

  col.reset();
  ASSERT_TRUE((*db)->Close().ok());
  auto reopened = Database::Open(dir.path(), o);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto c2 = (*reopened)->GetCollection("hot");
  ASSERT_TRUE(c2.ok());
  test::ExpectMatchesReference(**c2, merged, rng, "after reopen");
}

INSTANTIATE_TEST_SUITE_P(Durability, ConcurrencyTest,
                         ::testing::Values(Durability::kNoSync, Durability::kSync),
                         [](const ::testing::TestParamInfo<Durability>& param_info) {
                           return param_info.param == Durability::kSync ? "sync" : "nosync";
                         });

// Several writers replace the same ids at once: no id ever shows twice, the count never exceeds
// the number of ids, and each id ends with one of the vectors written for it.
TEST(Concurrency, WritersContendForTheSameIds) {
  DatabaseOptions o;
  o.memtable_max_rows = 40;
  o.compaction_max_segments = 2;
  auto db = Database::OpenInMemory(o);
  ASSERT_TRUE(db.ok());
  auto c = (*db)->CreateCollection("same", 4, Metric::kDot);
  ASSERT_TRUE(c.ok());
  std::shared_ptr<Collection> col = *c;
  constexpr int kIds = 30, kWriters = 4, kRounds = 60;
  std::atomic<int> left{kWriters};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        std::vector<Point> batch;
        for (int i = 0; i < kIds; i += 1 + (round + t) % 3) {
          batch.push_back(Point{"h" + std::to_string(i),
                                {float(t + 1), float(i), float(round), 1},
                                "{\"w\":" + std::to_string(t) + "}"});
        }
        EXPECT_TRUE(col->Upsert(batch).ok());
        if (round % 7 == t) {
          auto r = col->Update("h0", test::MetadataUpdate("{\"u\":1}"));
          EXPECT_TRUE(r.ok() && *r);
        }
      }
      left.fetch_sub(1);
    });
  }
  threads.emplace_back([&] {
    while (left.load() > 0) {
      EXPECT_LE(col->Count(), static_cast<uint64_t>(kIds));
      auto hits = col->Search(std::vector<float>{1, 0.5f, 0.25f, 1}, SearchOptions{.k = 50});
      ASSERT_TRUE(hits.ok());
      ExpectWellFormed(*hits, 50, "Search");
      EXPECT_LE(hits->size(), static_cast<size_t>(kIds));
      auto page = col->Scroll(test::ScrollFrom("", 1000));
      ASSERT_TRUE(page.ok());
      EXPECT_LE(page->points.size(), static_cast<size_t>(kIds));
    }
  });
  threads.emplace_back([&] {
    while (left.load() > 0) {
      EXPECT_TRUE(col->Compact().ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  for (auto& th : threads) th.join();
  EXPECT_EQ(col->Count(), static_cast<uint64_t>(kIds));
  auto page = col->Scroll(test::ScrollFrom("", 1000, true));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->points.size(), static_cast<size_t>(kIds));
  for (const auto& p : page->points) {
    ASSERT_EQ(p.vector.size(), 4u);
    EXPECT_GE(p.vector[0], 1.0f);
    EXPECT_LE(p.vector[0], float(kWriters));
    EXPECT_EQ("h" + std::to_string(static_cast<int>(p.vector[1])), p.id);
  }
  auto hits = col->Search(std::vector<float>{1, 0, 0, 0}, SearchOptions{.k = 100});
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(hits->size(), static_cast<size_t>(kIds));
  ExpectWellFormed(*hits, 100, "final Search");
}

// Updates of points that sit in a memtable being sealed (or in segments being compacted) at
// that moment: the update must end the life of the row where it lives now, so no id is ever
// visible twice. Tiny memtables make a seal run under almost every update.
TEST(Concurrency, UpdatesRacingSealsAndCompactions) {
  DatabaseOptions o;
  o.memtable_max_rows = 4;
  o.compaction_max_segments = 4;
  o.durability = Durability::kNoSync;
  auto db = Database::OpenInMemory(o);
  ASSERT_TRUE(db.ok());
  auto c = (*db)->CreateCollection("upd", 2, Metric::kL2);
  ASSERT_TRUE(c.ok());
  std::shared_ptr<Collection> col = *c;
  constexpr int kPoints = 1500;
  std::atomic<int> written{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    for (int i = 0; i < kPoints; ++i) {
      ASSERT_TRUE(col->Upsert(Point{"p" + std::to_string(i), {float(i), 1}, "{}"}).ok());
      written.store(i + 1);
    }
  });
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      int n = 0;
      while (!done.load()) {
        const int w = written.load();
        if (w == 0) continue;
        // The newest points: in the memtable now, in a segment a moment later.
        const int target = std::max(0, w - 1 - (n++ % 6));
        auto r = col->Update("p" + std::to_string(target),
                             test::MetadataUpdate("{\"t\":" + std::to_string(t) + "}"));
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        EXPECT_TRUE(*r) << "p" << target;
        if (n % 5 == 0) {
          auto v = col->Update("p" + std::to_string(n % w), test::VectorUpdate({float(n % w), 1}));
          ASSERT_TRUE(v.ok());
        }
      }
    });
  }
  threads.emplace_back([&] {
    while (!done.load()) {
      const int w = written.load();
      auto hits = col->Search(std::vector<float>{float(w), 1}, SearchOptions{.k = 20});
      ASSERT_TRUE(hits.ok());
      ExpectWellFormed(*hits, 20, "Search during updates");
    }
  });
  threads[0].join();
  done.store(true);
  for (size_t i = 1; i < threads.size(); ++i) threads[i].join();
  ASSERT_TRUE(col->Compact().ok());
  // Every point exactly once, everywhere.
  EXPECT_EQ(col->Count(), static_cast<uint64_t>(kPoints));
  auto all = col->Search(std::vector<float>{0, 1}, SearchOptions{.k = kPoints + 10});
  ASSERT_TRUE(all.ok());
  ExpectWellFormed(*all, kPoints + 10, "final Search");
  EXPECT_EQ(all->size(), static_cast<size_t>(kPoints)) << "some id is visible more than once";
  auto page = col->Scroll(test::ScrollFrom("", kPoints + 10));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->points.size(), static_cast<size_t>(kPoints));
  for (const Hit& h : *all) {
    EXPECT_EQ(h.distance, std::abs(std::stof(h.id.substr(1)))) << h.id;
  }
}

// Flush seals what was written before it, and must not also wait for the memtables that a
// concurrent writer keeps freezing after it: under steady writes there is always one queued.
// The writer throttles itself on Info().memtable_rows, so about 20 frozen memtables are always
// waiting; a Flush that waited for none to be left would return only when the writer gives up.
TEST(Concurrency, FlushDoesNotWaitForWritesThatCameAfterIt) {
  DatabaseOptions o;
  o.memtable_max_rows = 16;
  o.compaction_max_segments = 1000;  // no compactions: only seals in the background
  o.compaction_dead_fraction = 2.0;
  auto db = Database::OpenInMemory(o);
  ASSERT_TRUE(db.ok());
  auto c = (*db)->CreateCollection("f", 4, Metric::kL2);
  ASSERT_TRUE(c.ok());
  std::shared_ptr<Collection> col = *c;
  constexpr int kGiveUpRows = 20000;
  std::atomic<int> written{0};
  std::atomic<bool> flushed{false};
  std::thread writer([&] {
    for (int i = 0; i < kGiveUpRows && !flushed.load(); ++i) {
      while (col->Info().memtable_rows > 20 * 16 && !flushed.load()) std::this_thread::yield();
      ASSERT_TRUE(col->Upsert(Point{"w" + std::to_string(i), {1, 2, 3, float(i)}, "{}"}).ok());
      written.store(i + 1);
    }
  });
  while (written.load() < 500) std::this_thread::yield();
  const int at_call = written.load();
  ASSERT_TRUE(col->Flush().ok());
  const int at_return = written.load();
  flushed.store(true);
  writer.join();
  // While Flush waits for the ~21 memtables frozen before it, the throttled writer can add
  // about as many again (21 * 16 rows), plus the 320 rows it may keep unsealed.
  EXPECT_LT(at_return - at_call, 1500)
      << "Flush kept waiting while the concurrent writer wrote " << at_return - at_call
      << " more rows (from " << at_call << ")";
  // Everything written before the Flush is in segments now.
  const CollectionInfo info = col->Info();
  EXPECT_GE(info.segment_rows, 500u);
}

// Dropping a collection and closing the database while other threads use it: every call either
// succeeds or fails with FailedPrecondition; nothing crashes or hangs (a watchdog aborts the
// test binary if the threads do not finish).
TEST(Concurrency, DropAndCloseWhileInUse) {
  for (int round = 0; round < 6; ++round) {
    const bool close_db = round % 2 == 1;
    SCOPED_TRACE(std::string(close_db ? "Close" : "DropCollection") + ", round " +
                 std::to_string(round));
    test::ScopedTempDir dir("dropbusy");
    DatabaseOptions o;
    o.memtable_max_rows = 32;
    o.durability = Durability::kNoSync;
    auto db = Database::Open(dir.path(), o);
    ASSERT_TRUE(db.ok());
    auto c = (*db)->CreateCollection("victim", 4, Metric::kCosine);
    ASSERT_TRUE(c.ok());
    std::shared_ptr<Collection> col = *c;
    std::atomic<bool> stop{false};
    std::atomic<int> ok_writes{0}, finished{0};
    auto acceptable = [](const Status& s) {
      return s.ok() || s.code() == StatusCode::kFailedPrecondition;
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; !stop.load(); ++i) {
          Status s = col->Upsert(Point{"p" + std::to_string(t) + "-" + std::to_string(i % 300),
                                       {1, float(i), float(t), 1},
                                       "{}"});
          EXPECT_TRUE(acceptable(s)) << s.ToString();
          if (!s.ok()) break;
          ok_writes.fetch_add(1);
          if (i % 50 == 0) {
            auto d = col->Delete("p0-" + std::to_string(i % 300));
            EXPECT_TRUE(acceptable(d.status())) << d.status().ToString();
          }
        }
        finished.fetch_add(1);
      });
    }
    threads.emplace_back([&] {
      while (!stop.load()) {
        auto hits = col->Search(std::vector<float>{1, 2, 3, 4}, SearchOptions{.k = 5});
        EXPECT_TRUE(acceptable(hits.status())) << hits.status().ToString();
        if (hits.ok()) ExpectWellFormed(*hits, 5, "Search");
        auto page = col->Scroll(test::ScrollFrom("", 50));
        EXPECT_TRUE(acceptable(page.status())) << page.status().ToString();
        Status k = col->Compact();
        EXPECT_TRUE(acceptable(k)) << "Compact: " << k.ToString();
      }
      finished.fetch_add(1);
    });
    threads.emplace_back([&] {
      while (!stop.load()) {
        Status f = col->Flush();
        EXPECT_TRUE(acceptable(f)) << "Flush: " << f.ToString();
      }
      finished.fetch_add(1);
    });
    const int kThreads = static_cast<int>(threads.size());
    while (ok_writes.load() < 100 + 40 * round) std::this_thread::yield();
    if (close_db) {
      EXPECT_TRUE((*db)->Close().ok());
    } else {
      EXPECT_TRUE((*db)->DropCollection("victim").ok());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stop.store(true);
    for (int waited_ms = 0; finished.load() < kThreads; waited_ms += 10) {
      if (waited_ms > 30000) {
        std::fprintf(stderr,
                     "FATAL: %d of %d threads still blocked 30 s after %s (a call on the "
                     "collection never returned)\n",
                     kThreads - finished.load(), kThreads, close_db ? "Close" : "DropCollection");
        std::abort();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(col->Upsert(Point{"late", {1, 1, 1, 1}, "{}"}).code(),
              StatusCode::kFailedPrecondition);
    col.reset();
    db->reset();
    // What was acknowledged before a Close is there after reopening.
    if (close_db) {
      auto again = Database::Open(dir.path(), o);
      ASSERT_TRUE(again.ok()) << again.status().ToString();
      auto c2 = (*again)->GetCollection("victim");
      ASSERT_TRUE(c2.ok());
      EXPECT_GT((*c2)->Count(), 0u);
    }
  }
}

// Collections created, listed, fetched and dropped from several threads at once.
TEST(Concurrency, CollectionLifecycleFromManyThreads) {
  test::ScopedTempDir dir("lifecycle");
  auto db = Database::Open(dir.path());
  ASSERT_TRUE(db.ok());
  Database& d = **db;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        const std::string name = "c" + std::to_string((t * 7 + i) % 6);
        auto c = d.CreateCollection(name, 3, Metric::kL2);
        EXPECT_TRUE(c.ok() || c.status().code() == StatusCode::kAlreadyExists)
            << c.status().ToString();
        auto g = d.GetCollection(name);
        EXPECT_TRUE(g.ok() || g.status().code() == StatusCode::kNotFound) << g.status().ToString();
        if (g.ok()) {
          Status s = (*g)->Upsert(Point{"x", {1, 2, 3}, "{}"});
          EXPECT_TRUE(s.ok() || s.code() == StatusCode::kFailedPrecondition) << s.ToString();
        }
        auto list = d.ListCollections();
        for (size_t j = 1; j < list.size(); ++j) EXPECT_LT(list[j - 1].name, list[j].name);
        Status s = d.DropCollection(name);
        EXPECT_TRUE(s.ok() || s.code() == StatusCode::kNotFound) << s.ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  const size_t left = d.ListCollections().size();
  ASSERT_TRUE(d.Close().ok());
  auto again = Database::Open(dir.path());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->ListCollections().size(), left);
}

}  // namespace
}  // namespace nearstore

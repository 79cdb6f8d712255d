// Shared helpers of the engine tests: seeds, temporary directories, random points and
// metadata, and the brute-force reference model every engine result is compared with.
//
// The reference keeps points in a std::map (the obviously correct store) and answers k-NN
// queries by computing every distance in double precision on the vectors as the engine stores
// them (normalised for cosine). Engine distances are float, so each comparison allows a
// tolerance derived from the magnitude of the terms summed; result ids are compared exactly
// wherever the reference ranking is not within tolerance of a tie.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "nearstore/nearstore.h"

namespace nearstore::test {

// The seed of a randomised test: $NEARSTORE_TEST_SEED when set (to replay a failure), else a
// fresh one. Tests put it in a SCOPED_TRACE so that every failure message shows it.
inline uint64_t TestSeed() {
  if (const char* env = std::getenv("NEARSTORE_TEST_SEED"); env != nullptr && *env != '\0') {
    return std::strtoull(env, nullptr, 10);
  }
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

inline std::string SeedTrace(uint64_t seed) {
  return "seed " + std::to_string(seed) +
         " (rerun with NEARSTORE_TEST_SEED=" + std::to_string(seed) + ")";
}

// A fresh directory under the system temp directory, removed again on destruction.
class ScopedTempDir {
 public:
  explicit ScopedTempDir(const std::string& name) {
    static std::atomic<int> counter{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("nearstore_" + name + "_" + std::to_string(::getpid()) + "_" +
              std::to_string(counter.fetch_add(1))))
                .string();
    std::filesystem::remove_all(path_);
  }
  ~ScopedTempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// PointUpdate builders (designated initializers would leave a field implicit).
inline PointUpdate VectorUpdate(std::vector<float> v) {
  PointUpdate u;
  u.vector = std::move(v);
  return u;
}
inline PointUpdate MetadataUpdate(std::string m) {
  PointUpdate u;
  u.metadata = std::move(m);
  return u;
}
inline PointUpdate FullUpdate(std::vector<float> v, std::string m) {
  PointUpdate u;
  u.vector = std::move(v);
  u.metadata = std::move(m);
  return u;
}

inline ScrollOptions ScrollFrom(std::string after, size_t limit, bool with_vectors = false) {
  ScrollOptions o;
  o.after = std::move(after);
  o.limit = limit;
  o.with_vectors = with_vectors;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Random inputs.

inline std::vector<float> RandomVector(std::mt19937_64& rng, uint32_t dim) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(dim);
  for (auto& x : v) x = u(rng);
  // Never all-zero (cosine refuses it); with uniform floats this is astronomically rare.
  if (std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f; })) v[0] = 0.5f;
  return v;
}

// Ids of varying length and shape, so that map order and byte order are both exercised.
inline std::string RandomId(std::mt19937_64& rng, int pool) {
  const int n = std::uniform_int_distribution<int>(0, pool - 1)(rng);
  switch (n % 4) {
    case 0:
      return "p" + std::to_string(n);
    case 1:
      return "id-" + std::to_string(n) + "-x";
    case 2:
      return std::string(1 + n % 7, 'z') + std::to_string(n);
    default:
      return "A" + std::to_string(n * 7919);
  }
}

// Metadata as a caller might send it (any key order, any whitespace, escapes) and the
// compact form the engine must store (keys sorted, no whitespace, UTF-8 unescaped).
struct MetadataCase {
  std::string input;
  std::string canonical;
};

inline MetadataCase RandomMetadata(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> pick(0, 99);
  const int shape = pick(rng);
  if (shape < 10) return {"", "{}"};
  if (shape < 15) return {" { \n} ", "{}"};
  static const std::vector<std::pair<std::string, std::string>> kValues = {
      // {input text, canonical text}
      {"0", "0"},
      {"-17", "-17"},
      {"123456789", "123456789"},
      {"1.5", "1.5"},
      {"-0.25", "-0.25"},
      {"true", "true"},
      {"false", "false"},
      {"null", "null"},
      {"\"hello world\"", "\"hello world\""},
      {"\"caf\\u00e9\"", "\"caf\xC3\xA9\""},
      {"\"q\\\"uote\"", "\"q\\\"uote\""},
      {"\"\"", "\"\""},
      {"[1, 2 ,3]", "[1,2,3]"},
      {"{ \"inner\" : { \"k\" : \"v\" } }", "{\"inner\":{\"k\":\"v\"}}"},
      {"[ ]", "[]"},
  };
  static const std::vector<std::string> kKeys = {
      "a", "b", "n", "name", "tag", "z", "\xC3\xA9t\xC3\xA9"};
  std::vector<std::string> keys = kKeys;
  std::shuffle(keys.begin(), keys.end(), rng);
  keys.resize(1 + pick(rng) % 4);
  std::map<std::string, std::string> canonical_fields;
  std::string input = "{";
  static const char* kSpace[] = {"", " ", "\n", "\t", "  "};
  auto ws = [&] { return std::string(kSpace[pick(rng) % 5]); };
  for (size_t i = 0; i < keys.size(); ++i) {
    const auto& [in, canon] = kValues[pick(rng) % kValues.size()];
    input += ws() + "\"" + keys[i] + "\"" + ws() + ":" + ws() + in + ws();
    if (i + 1 < keys.size()) input += ",";
    canonical_fields[keys[i]] = canon;
  }
  input += "}";
  std::string canonical = "{";
  for (const auto& [k, v] : canonical_fields) {
    if (canonical.size() > 1) canonical += ",";
    canonical += "\"" + k + "\":" + v;
  }
  canonical += "}";
  return {input, canonical};
}

// ---------------------------------------------------------------------------------------------
// The reference model.

struct RefPoint {
  std::vector<float> vector;  // as stored: normalised for cosine
  std::string metadata;       // canonical
};

// One entry of the reference ranking.
struct RefHit {
  std::string id;
  double score = 0;  // comparable with ScoreOf(engine distance): distance, or distance^2 for l2
  double tol = 0;    // how far a float computation of `score` may be off
};

class Reference {
 public:
  Reference(uint32_t dim, Metric metric) : dim_(dim), metric_(metric) {}

  uint32_t dim() const { return dim_; }
  Metric metric() const { return metric_; }
  size_t size() const { return points_.size(); }
  const std::map<std::string, RefPoint>& points() const { return points_; }
  const RefPoint* Find(const std::string& id) const {
    auto it = points_.find(id);
    return it == points_.end() ? nullptr : &it->second;
  }

  // The vector as the engine stores it: for cosine each component times 1/|v| computed in
  // double, then rounded to float (the engine's documented normalisation).
  std::vector<float> Stored(std::span<const float> v) const {
    std::vector<float> out(v.begin(), v.end());
    if (metric_ == Metric::kCosine) {
      double n2 = 0;
      for (float x : v) n2 += static_cast<double>(x) * x;
      const double inv = 1.0 / std::sqrt(n2);
      for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<float>(v[i] * inv);
    }
    return out;
  }

  void Upsert(const std::string& id, std::span<const float> vector, const std::string& canonical) {
    points_[id] = RefPoint{Stored(vector), canonical};
  }
  // Returns whether the id existed.
  bool Update(const std::string& id, const std::vector<float>* vector,
              const std::string* canonical) {
    auto it = points_.find(id);
    if (it == points_.end()) return false;
    if (vector != nullptr) it->second.vector = Stored(*vector);
    if (canonical != nullptr) it->second.metadata = *canonical;
    return true;
  }
  bool Delete(const std::string& id) { return points_.erase(id) > 0; }
  // Inserts a point already in stored form (for merging references).
  void PutStored(const std::string& id, const RefPoint& p) { points_[id] = p; }

  // Every point ranked for `query` (closest first, ties by id), in double precision.
  std::vector<RefHit> Rank(std::span<const float> query) const {
    std::vector<RefHit> all;
    all.reserve(points_.size());
    double qn2 = 0;
    for (float x : query) qn2 += static_cast<double>(x) * x;
    // Error of a float computation of n terms: a few ulps per term of the sum of magnitudes.
    const double rel = 6e-8 * (dim_ + 4);
    for (const auto& [id, p] : points_) {
      double dot = 0, absdot = 0, l2 = 0, xn2 = 0;
      for (uint32_t i = 0; i < dim_; ++i) {
        const double q = query[i], x = p.vector[i];
        dot += q * x;
        absdot += std::abs(q * x);
        l2 += (q - x) * (q - x);
        xn2 += x * x;
      }
      RefHit h;
      h.id = id;
      switch (metric_) {
        case Metric::kCosine: {
          const double norms = std::sqrt(qn2) * std::sqrt(xn2);
          h.score = 1.0 - dot / norms;
          h.tol = 1e-6 + rel * (absdot / norms + 1.0);
          break;
        }
        case Metric::kL2:
          h.score = l2;  // compared with the engine's distance squared
          h.tol = 1e-6 + rel * l2 * 2;
          break;
        case Metric::kDot:
          h.score = -dot;
          h.tol = 1e-6 + rel * absdot;
          break;
      }
      all.push_back(std::move(h));
    }
    std::sort(all.begin(), all.end(), [](const RefHit& a, const RefHit& b) {
      return a.score < b.score || (a.score == b.score && a.id < b.id);
    });
    return all;
  }

  // The engine's reported distance in the reference's score space.
  double ScoreOf(float distance) const {
    return metric_ == Metric::kL2 ? static_cast<double>(distance) * distance : distance;
  }

 private:
  uint32_t dim_;
  Metric metric_;
  std::map<std::string, RefPoint> points_;
};

// ---------------------------------------------------------------------------------------------
// Comparisons. Each reports through EXPECT_*/ADD_FAILURE; `what` names the check.

// `hits` is the engine's answer for `query` with options `opts`.
inline void ExpectHitsMatch(const std::vector<Hit>& hits, const Reference& ref,
                            std::span<const float> query, const SearchOptions& opts,
                            const std::string& what) {
  SCOPED_TRACE(what + " (k=" + std::to_string(opts.k) + ", points=" + std::to_string(ref.size()) +
               ")");
  const std::vector<RefHit> all = ref.Rank(query);
  const size_t n = std::min(static_cast<size_t>(opts.k), all.size());
  ASSERT_EQ(hits.size(), n) << "k-NN must return min(k, count) hits";
  std::map<std::string, const RefHit*> by_id;
  for (const auto& h : all) by_id[h.id] = &h;
  std::set<std::string> seen;
  for (size_t i = 0; i < n; ++i) {
    const Hit& h = hits[i];
    EXPECT_TRUE(seen.insert(h.id).second) << "duplicate id '" << h.id << "' at rank " << i;
    if (i > 0) {
      const Hit& p = hits[i - 1];
      EXPECT_TRUE(p.distance < h.distance || (p.distance == h.distance && p.id < h.id))
          << "hits not in (distance, id) order at rank " << i << ": (" << p.distance << ", '"
          << p.id << "') before (" << h.distance << ", '" << h.id << "')";
    }
    auto it = by_id.find(h.id);
    if (it == by_id.end()) {
      ADD_FAILURE() << "hit '" << h.id << "' at rank " << i << " is not a live point";
      continue;
    }
    const RefHit& own = *it->second;
    // The distance reported for this id is its true distance ...
    EXPECT_NEAR(ref.ScoreOf(h.distance), own.score, own.tol)
        << "distance of '" << h.id << "' at rank " << i;
    // ... and it is as close as the true i-th nearest point.
    EXPECT_NEAR(own.score, all[i].score, own.tol + all[i].tol)
        << "rank " << i << ": got '" << h.id << "', reference has '" << all[i].id << "'";
    // Where the reference ranking is unambiguous (no near-tie with a neighbour), the id at
    // this rank is exactly the reference's.
    const bool tie_before = i > 0 && all[i].score - all[i - 1].score <= all[i].tol + all[i - 1].tol;
    const bool tie_after =
        i + 1 < all.size() && all[i + 1].score - all[i].score <= all[i].tol + all[i + 1].tol;
    if (!tie_before && !tie_after) {
      EXPECT_EQ(h.id, all[i].id) << "rank " << i << " (distance " << h.distance << ")";
    }
    const RefPoint* p = ref.Find(h.id);
    if (opts.with_metadata) {
      EXPECT_EQ(h.metadata, p->metadata) << "metadata of hit '" << h.id << "'";
    } else {
      EXPECT_TRUE(h.metadata.empty()) << "metadata returned without with_metadata";
    }
    if (opts.with_vectors) {
      EXPECT_EQ(h.vector, p->vector) << "vector of hit '" << h.id << "'";
    } else {
      EXPECT_TRUE(h.vector.empty()) << "vector returned without with_vectors";
    }
  }
}

// Walks every page of Scroll with `limit` and compares with the reference.
inline void ExpectScrollMatches(const Collection& c, const Reference& ref, size_t limit,
                                bool with_vectors, bool with_metadata) {
  SCOPED_TRACE("scroll with limit " + std::to_string(limit));
  ScrollOptions o;
  o.limit = limit;
  o.with_vectors = with_vectors;
  o.with_metadata = with_metadata;
  auto expected = ref.points().begin();
  size_t remaining = ref.size();
  for (size_t page_no = 0;; ++page_no) {
    auto page = c.Scroll(o);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_EQ(page->points.size(), std::min(limit, remaining))
        << "page " << page_no << " after '" << o.after << "'";
    for (const Point& p : page->points) {
      ASSERT_NE(expected, ref.points().end());
      ASSERT_EQ(p.id, expected->first) << "page " << page_no;
      if (with_vectors) {
        EXPECT_EQ(p.vector, expected->second.vector) << "vector of '" << p.id << "'";
      } else {
        EXPECT_TRUE(p.vector.empty());
      }
      if (with_metadata) {
        EXPECT_EQ(p.metadata, expected->second.metadata) << "metadata of '" << p.id << "'";
      } else {
        EXPECT_TRUE(p.metadata.empty());
      }
      ++expected;
    }
    remaining -= page->points.size();
    if (remaining == 0) {
      EXPECT_EQ(page->next_after, "") << "the last page must have an empty next_after";
      break;
    }
    ASSERT_EQ(page->next_after, page->points.back().id)
        << "next_after must be the last id of a page that is not the last";
    o.after = page->next_after;
  }
}

// Count, Info, Scroll, Get, GetMany, Search and SearchBatch against the reference.
inline void ExpectMatchesReference(const Collection& c, const Reference& ref, std::mt19937_64& rng,
                                   const std::string& phase) {
  SCOPED_TRACE("phase: " + phase);
  ASSERT_EQ(c.Count(), ref.size());
  EXPECT_EQ(c.Info().count, ref.size());
  EXPECT_EQ(c.dim(), ref.dim());
  EXPECT_EQ(c.metric(), ref.metric());

  // Scroll: one big page, one page per point when small, and a random page size.
  ExpectScrollMatches(c, ref, ref.size() + 1, true, true);
  if (ref.size() <= 400) ExpectScrollMatches(c, ref, 1, false, true);
  ExpectScrollMatches(c, ref, 1 + rng() % (ref.size() / 3 + 2), rng() % 2 == 0, rng() % 2 == 0);

  // Get and GetMany of every id, plus absent ones.
  std::vector<std::string> ids;
  for (const auto& [id, p] : ref.points()) {
    ids.push_back(id);
    if (rng() % 8 == 0 || ref.size() < 64) {
      auto got = c.Get(id);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_TRUE(got->has_value()) << "Get('" << id << "') found nothing";
      EXPECT_EQ((*got)->id, id);
      EXPECT_EQ((*got)->vector, p.vector) << "Get('" << id << "')";
      EXPECT_EQ((*got)->metadata, p.metadata) << "Get('" << id << "')";
    }
  }
  for (const char* absent : {"absent", "p-1", "zzzzzzzzzzzzzzzzzzzzzz"}) {
    auto got = c.Get(absent);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_FALSE(got->has_value()) << "Get('" << absent << "') of an absent id";
    ids.insert(ids.begin() + static_cast<std::ptrdiff_t>(rng() % (ids.size() + 1)), absent);
  }
  if (!ids.empty()) ids.push_back(ids.front());  // a repeated id
  auto many = c.GetMany(ids);
  ASSERT_TRUE(many.ok()) << many.status().ToString();
  ASSERT_EQ(many->size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const RefPoint* p = ref.Find(ids[i]);
    const auto& got = (*many)[i];
    ASSERT_EQ(got.has_value(), p != nullptr) << "GetMany entry " << i << " ('" << ids[i] << "')";
    if (p != nullptr) {
      EXPECT_EQ(got->id, ids[i]);
      EXPECT_EQ(got->vector, p->vector) << "GetMany('" << ids[i] << "')";
      EXPECT_EQ(got->metadata, p->metadata) << "GetMany('" << ids[i] << "')";
    }
  }

  // Search: random queries, a stored vector as query, and several k.
  std::vector<std::vector<float>> queries;
  for (int i = 0; i < 3; ++i) queries.push_back(RandomVector(rng, ref.dim()));
  if (ref.size() > 0) {
    auto it = ref.points().begin();
    std::advance(it, static_cast<std::ptrdiff_t>(rng() % ref.size()));
    queries.push_back(it->second.vector);
  }
  const int count = static_cast<int>(ref.size());
  const int ks[] = {1, 10, std::max(1, count), count + 5};
  for (size_t qi = 0; qi < queries.size(); ++qi) {
    SearchOptions o;
    o.k = ks[qi % 4];
    o.with_metadata = qi % 2 == 0;
    o.with_vectors = qi % 3 == 0;
    auto hits = c.Search(queries[qi], o);
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    ExpectHitsMatch(*hits, ref, queries[qi], o, "Search query " + std::to_string(qi));
  }
  {
    std::vector<float> flat;
    for (const auto& q : queries) flat.insert(flat.end(), q.begin(), q.end());
    SearchOptions o;
    o.k = 7;
    o.with_vectors = true;
    auto batch = c.SearchBatch(flat, o);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    ASSERT_EQ(batch->size(), queries.size());
    for (size_t qi = 0; qi < queries.size(); ++qi) {
      ExpectHitsMatch((*batch)[qi], ref, queries[qi], o, "SearchBatch query " + std::to_string(qi));
    }
  }
}

// Status matchers for messages: EXPECT_THAT(s, IsCode(...)) is noisier than two lines, so tests
// use this helper to check code and message parts together.
inline void ExpectError(const Status& s, StatusCode code,
                        const std::vector<std::string>& message_parts) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  for (const auto& part : message_parts) {
    EXPECT_THAT(s.message(), ::testing::HasSubstr(part)) << "code " << StatusCodeName(s.code());
  }
}

}  // namespace nearstore::test

// Quick start: create an on-disk database, load vectors, search, close, reopen, search again.
//
//   quickstart [DIR]     (default: ./demo-db)
//
// Run twice: the second run finds the collection already there and skips loading.
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "nearstore/nearstore.h"

namespace {

constexpr uint32_t kDim = 384;
constexpr size_t kPoints = 50000;
constexpr size_t kBatch = 1000;

// Random unit-ish vectors around a few topic centres, so that neighbours are meaningful.
std::vector<float> MakeVector(std::mt19937& rng, int topic) {
  std::normal_distribution<float> noise(0.0f, 0.3f);
  std::vector<float> v(kDim);
  for (uint32_t i = 0; i < kDim; ++i)
    v[i] = ((i % 8) == static_cast<uint32_t>(topic) ? 1.0f : 0.0f) + noise(rng);
  return v;
}

int Fail(const nearstore::Status& s) {
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  return 1;
}

void PrintHits(const std::vector<nearstore::Hit>& hits) {
  for (const auto& h : hits) {
    std::printf("  %-12s distance %.4f  %s\n", h.id.c_str(), h.distance, h.metadata.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "demo-db";
  std::mt19937 rng(42);
  const std::vector<float> query = MakeVector(rng, 3);
  std::vector<nearstore::Hit> first_hits;

  {
    auto db = nearstore::Database::Open(dir);
    if (!db.ok()) return Fail(db.status());
    auto existing = (*db)->GetCollection("docs");
    std::shared_ptr<nearstore::Collection> docs;
    if (existing.ok()) {
      docs = *existing;
      std::printf("reopened '%s': collection 'docs' already holds %llu points\n", dir.c_str(),
                  static_cast<unsigned long long>(docs->Count()));
    } else {
      auto created = (*db)->CreateCollection("docs", kDim, nearstore::Metric::kCosine);
      if (!created.ok()) return Fail(created.status());
      docs = *created;
      const auto start = std::chrono::steady_clock::now();
      std::vector<nearstore::Point> batch;
      for (size_t i = 0; i < kPoints; ++i) {
        const int topic = static_cast<int>(i % 8);
        batch.push_back({"doc-" + std::to_string(i), MakeVector(rng, topic),
                         "{\"topic\": " + std::to_string(topic) + "}"});
        if (batch.size() == kBatch) {
          if (auto s = docs->Upsert(batch); !s.ok()) return Fail(s);
          batch.clear();
        }
      }
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("loaded %zu points of %u dimensions into '%s' in %.2f s (%.0f points/s)\n",
                  kPoints, kDim, dir.c_str(), secs, kPoints / secs);
    }
    auto hits = docs->Search(query, {.k = 5});
    if (!hits.ok()) return Fail(hits.status());
    std::printf("top 5 for a topic-3 query:\n");
    PrintHits(*hits);
    first_hits = *hits;
    if (auto s = (*db)->Close(); !s.ok()) return Fail(s);
  }

  auto db = nearstore::Database::Open(dir);
  if (!db.ok()) return Fail(db.status());
  auto docs = (*db)->GetCollection("docs");
  if (!docs.ok()) return Fail(docs.status());
  auto hits = (*docs)->Search(query, {.k = 5});
  if (!hits.ok()) return Fail(hits.status());
  std::printf("after closing and reopening, %llu points; top 5 again:\n",
              static_cast<unsigned long long>((*docs)->Count()));
  PrintHits(*hits);
  for (size_t i = 0; i < hits->size(); ++i) {
    if ((*hits)[i].id != first_hits[i].id) {
      std::fprintf(stderr, "error: results differ after reopening\n");
      return 1;
    }
  }
  std::printf("same results after reopening: OK\n");
  return 0;
}

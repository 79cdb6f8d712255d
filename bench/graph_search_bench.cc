// graph_search_bench: single-thread HNSW search speed of one build of nearstore, on a database
// it makes once and then reuses, so that two builds (say, before and after a change) can be
// run in turn on the very same segment files and compared.
//
// Data (seeded, made in the program): n points of `dim` dimensions shaped like embeddings, a
// mixture of 16 clusters, each a 32-dimensional subspace around its centre plus a little noise,
// normalised (cosine); queries drawn the same way (never stored points). One hnsw collection
// per quantization (none, sq8, binary; m 16, ef_construction 100), all rows sealed into one
// segment by Flush(); with `--quantizations flat`, a flat collection (the exact scan; ef has
// no effect there).
//
// For each collection and each ef, it times `passes` passes over the queries with
// Collection::Search (k 10, one query per call, search_threads 1, no metadata) after a warm-up
// pass, and prints one JSON line per (quantization, ef): the median and best QPS of the passes,
// recall@10 against the exact neighbours (computed here in double), and a checksum of every
// hit's id and distance bits, so that two builds can be shown to return the same hits.
//
// Usage:
//   graph_search_bench --db DIR [--n 20000] [--dim 384] [--queries 500] [--passes 5]
//                      [--ef 16,64,128] [--quantizations none,sq8,binary] [--label NAME]
//                      [--recall 0]
// --recall 0 skips the exact neighbours (recall printed as -1): for runs under a profiler such as
// `valgrind --tool=callgrind --toggle-collect='*SearchBatch*'`, whose instruction counts do not
// drift with the machine's load as timings do.
// DIR is made on first use (the build takes a while) and reused as long as it holds the data
// of the same --n and --dim. To compare two builds, run them in turn several times on one DIR
// and compare the medians (this machine's speed drifts between minutes).
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "nearstore/nearstore.h"

namespace {

using Clock = std::chrono::steady_clock;
using nearstore::Collection;
using nearstore::Database;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "graph_search_bench: %s\n", message.c_str());
  std::exit(2);
}

template <class T>
T Check(nearstore::Result<T> r, const char* what) {
  if (!r.ok()) Die(std::string(what) + ": " + r.status().ToString());
  return std::move(*r);
}
void Check(const nearstore::Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.ToString());
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t end = std::min(s.find(',', start), s.size());
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// n rows of embedding-like vectors (see the file comment), normalised.
std::vector<float> MakeRows(uint64_t seed, size_t n, uint32_t dim) {
  constexpr int kClusters = 16, kLatent = 32;
  std::mt19937_64 shape(42);  // the clusters are the same for base and queries
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<std::vector<float>> centres(kClusters, std::vector<float>(dim));
  std::vector<std::vector<float>> bases(kClusters, std::vector<float>(size_t{kLatent} * dim));
  for (int c = 0; c < kClusters; ++c) {
    for (auto& x : centres[c]) x = g(shape);
    for (auto& x : bases[c]) x = g(shape) * 0.5f;
  }
  std::mt19937_64 rng(seed);
  std::vector<float> rows(n * dim);
  std::vector<float> z(kLatent);
  for (size_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(rng() % kClusters);
    for (auto& x : z) x = g(rng);
    float* v = rows.data() + i * dim;
    double norm2 = 0;
    for (uint32_t d = 0; d < dim; ++d) {
      float x = centres[c][d] + 0.1f * g(rng);
      for (size_t j = 0; j < kLatent; ++j) x += z[j] * bases[c][j * dim + d];
      v[d] = x;
      norm2 += double{x} * x;
    }
    const float inv = static_cast<float>(1.0 / std::sqrt(norm2));
    for (uint32_t d = 0; d < dim; ++d) v[d] *= inv;
  }
  return rows;
}

// The 10 nearest rows (by cosine, in double) of each query.
std::vector<std::vector<size_t>> ExactNeighbours(const std::vector<float>& rows,
                                                 const std::vector<float>& queries, uint32_t dim) {
  const size_t n = rows.size() / dim, nq = queries.size() / dim;
  std::vector<std::vector<size_t>> out(nq);
  std::vector<std::pair<double, size_t>> scored(n);
  for (size_t q = 0; q < nq; ++q) {
    for (size_t i = 0; i < n; ++i) {
      double dot = 0;
      for (uint32_t d = 0; d < dim; ++d) dot += double{queries[q * dim + d]} * rows[i * dim + d];
      scored[i] = {-dot, i};
    }
    std::partial_sort(scored.begin(), scored.begin() + 10, scored.end());
    for (int j = 0; j < 10; ++j) out[q].push_back(scored[j].second);
  }
  return out;
}

std::string IdOf(size_t row) { return "r" + std::to_string(row); }

// `kind`: a quantization's name, or "flat".
void Build(Database& db, const std::string& name, const std::vector<float>& rows, uint32_t dim,
           const std::string& kind) {
  nearstore::IndexOptions index;
  if (kind != "flat") {
    index.kind = nearstore::IndexKind::kHnsw;
    index.m = 16;
    index.ef_construction = 100;
    index.quantization = Check(nearstore::ParseQuantization(kind), "quantization");
  }
  auto col = Check(db.CreateCollection(name, dim, nearstore::Metric::kCosine, index), "create");
  const size_t n = rows.size() / dim;
  constexpr size_t kBatch = 1000;
  for (size_t first = 0; first < n; first += kBatch) {
    const size_t count = std::min(kBatch, n - first);
    std::vector<std::string> ids;
    for (size_t i = first; i < first + count; ++i) ids.push_back(IdOf(i));
    Check(col->UpsertColumns(ids, {rows.data() + first * dim, count * dim}, {}), "upsert");
  }
  Check(col->Flush(), "flush");
}

}  // namespace

int main(int argc, char** argv) {
  std::string db_dir, label = "build";
  bool with_recall = true;
  size_t n = 20000, nq = 500, passes = 5;
  uint32_t dim = 384;
  std::vector<std::string> efs = {"16", "64", "128"};
  std::vector<std::string> kinds = {"none", "sq8", "binary"};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) Die("missing value after " + a);
    const std::string v = argv[++i];
    if (a == "--db") {
      db_dir = v;
    } else if (a == "--n") {
      n = std::stoull(v);
    } else if (a == "--dim") {
      dim = static_cast<uint32_t>(std::stoul(v));
    } else if (a == "--queries") {
      nq = std::stoull(v);
    } else if (a == "--passes") {
      passes = std::max<size_t>(1, std::stoull(v));
    } else if (a == "--ef") {
      efs = Split(v);
    } else if (a == "--quantizations") {
      kinds = Split(v);
    } else if (a == "--label") {
      label = v;
    } else if (a == "--recall") {
      with_recall = v != "0";
    } else {
      Die("unknown option " + a);
    }
  }
  if (db_dir.empty()) Die("--db DIR is required");

  const std::vector<float> rows = MakeRows(1, n, dim);
  const std::vector<float> queries = MakeRows(2, nq, dim);
  nearstore::DatabaseOptions options;
  options.search_threads = 1;
  options.durability = nearstore::Durability::kNoSync;
  options.memtable_max_bytes = rows.size() * sizeof(float) + (size_t{1} << 20);
  options.memtable_max_rows = n + 1;
  options.verify_checksums_on_open = false;
  auto db = Check(Database::Open(db_dir, options), "open");
  const std::string suffix = "_" + std::to_string(n) + "x" + std::to_string(dim);
  for (const std::string& kind : kinds) {
    const std::string name = kind + suffix;
    if (!db->GetCollection(name).ok()) {
      std::fprintf(stderr, "[graph_search_bench] building %s\n", name.c_str());
      Build(*db, name, rows, dim, kind);
    }
  }
  const auto truth =
      with_recall ? ExactNeighbours(rows, queries, dim) : std::vector<std::vector<size_t>>(nq);

  for (const std::string& kind : kinds) {
    auto col = Check(db->GetCollection(kind + suffix), "get");
    for (const std::string& ef_text : efs) {
      nearstore::SearchOptions so;
      so.k = 10;
      so.ef = static_cast<uint32_t>(std::stoul(ef_text));
      so.with_metadata = false;
      uint64_t checksum = 0;
      size_t found = 0;
      auto pass = [&](bool score) {
        for (size_t q = 0; q < nq; ++q) {
          auto hits = Check(col->Search({queries.data() + q * dim, dim}, so), "search");
          if (!score) continue;
          for (const auto& h : hits) {
            uint32_t bits;
            std::memcpy(&bits, &h.distance, 4);
            checksum = checksum * 1000003 + std::hash<std::string>()(h.id) + bits;
            const size_t row = std::stoull(h.id.substr(1));
            if (std::find(truth[q].begin(), truth[q].end(), row) != truth[q].end()) ++found;
          }
        }
      };
      pass(true);  // warm-up, and the hits' checksum and recall
      std::vector<double> qps;
      for (size_t p = 0; p < passes; ++p) {
        const auto start = Clock::now();
        pass(false);
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        qps.push_back(static_cast<double>(nq) / seconds);
      }
      std::sort(qps.begin(), qps.end());
      std::printf(
          "{\"label\": \"%s\", \"quantization\": \"%s\", \"ef\": %s, \"qps_median\": %.1f, "
          "\"qps_best\": %.1f, \"recall\": %.4f, \"checksum\": \"%016" PRIx64 "\"}\n",
          label.c_str(), kind.c_str(), ef_text.c_str(), qps[qps.size() / 2], qps.back(),
          with_recall ? static_cast<double>(found) / static_cast<double>(10 * nq) : -1.0, checksum);
      std::fflush(stdout);
    }
  }
  Check(db->Close(), "close");
  return 0;
}

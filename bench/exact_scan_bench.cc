// exact_scan_bench: exact-scan throughput of nearstore against the machine's memory bandwidth.
//
// Reads N vectors (an N x dim float32 .npy file) and 64 queries (another .npy), and times, as
// the median of several repetitions:
//   stream      a plain read of the same bytes (a sum loop; no memcpy): the bandwidth ceiling
//   dot_many    the raw kernel, one query over the whole contiguous array
//   dot_block   the raw kernel, 64 queries at once, in calls of 1024 rows (as the engine calls it)
//   search      Collection::Search on an on-disk database after Flush (one mapped segment)
//   search_batch  Collection::SearchBatch with the 64 queries
// each with one thread and with all threads (DatabaseOptions::search_threads = 1 and 0; the raw
// kernels and the stream split the rows between threads), plus diagnostics that split the
// engine's cost into its parts (kernel called in 1024-row pieces, the scan of the scores for the
// top k, reading from the mapped file instead of anonymous memory).
//
// Prints one JSON document on stdout (bench/exact_scan.py turns it into the table; progress goes
// to stderr). Usage:
//   exact_scan_bench --data X.npy --queries Q.npy --db DIR [--k 10] [--reps 15] [--batch-reps 5]
// DIR caches the database between runs: it is rebuilt when it does not hold exactly the data.
#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "nearstore/nearstore.h"
#include "simd/distance.h"
#include "storage/env.h"
#include "storage/manifest.h"
#include "storage/segment_file.h"

namespace {

using Clock = std::chrono::steady_clock;
using nearstore::Collection;
using nearstore::Database;
using nearstore::DatabaseOptions;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "exact_scan_bench: %s\n", message.c_str());
  std::exit(2);
}

void Progress(const std::string& message) {
  std::fprintf(stderr, "[exact_scan_bench] %s\n", message.c_str());
  std::fflush(stderr);
}

// ---------------------------------------------------------------- data

// A 64-byte aligned float array, backed by transparent huge pages where the kernel allows (as
// numpy does for large arrays), so that the raw-kernel figures compare with numpy's fairly.
struct FloatArray {
  float* data = nullptr;
  size_t size = 0;
  FloatArray() = default;
  explicit FloatArray(size_t n) : size(n) {
    const size_t bytes = (n * sizeof(float) + (2u << 20) - 1) / (2u << 20) * (2u << 20);
    data = static_cast<float*>(std::aligned_alloc(2u << 20, bytes));
    if (data == nullptr) Die("out of memory for " + std::to_string(bytes) + " bytes");
    ::madvise(data, bytes, MADV_HUGEPAGE);
  }
  FloatArray(FloatArray&& o) noexcept : data(o.data), size(o.size) { o.data = nullptr; }
  FloatArray& operator=(FloatArray&& o) noexcept {
    std::swap(data, o.data);
    std::swap(size, o.size);
    return *this;
  }
  ~FloatArray() { std::free(data); }
};

struct Matrix {
  FloatArray values;
  size_t rows = 0, cols = 0;
  const float* row(size_t i) const { return values.data + i * cols; }
};

// Reads a C-ordered little-endian float32 2-D .npy file (format versions 1 to 3).
Matrix ReadNpy(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) Die("cannot open '" + path + "': " + std::strerror(errno));
  char magic[8];
  if (std::fread(magic, 1, 8, f) != 8 || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    Die("'" + path + "' is not a .npy file");
  }
  size_t header_len = 0;
  if (magic[6] == 1) {
    unsigned char b[2];
    if (std::fread(b, 1, 2, f) != 2) Die("'" + path + "': short header");
    header_len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    if (std::fread(b, 1, 4, f) != 4) Die("'" + path + "': short header");
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<size_t>(b[3]) << 24);
  }
  std::string header(header_len, '\0');
  if (std::fread(header.data(), 1, header_len, f) != header_len)
    Die("'" + path + "': short header");
  if (header.find("'descr': '<f4'") == std::string::npos) {
    Die("'" + path + "' must hold float32 ('<f4'); header: " + header);
  }
  if (header.find("'fortran_order': False") == std::string::npos) {
    Die("'" + path + "' must be C-ordered; header: " + header);
  }
  const size_t shape = header.find("'shape': (");
  unsigned long long rows = 0, cols = 0;
  if (shape == std::string::npos ||
      std::sscanf(header.c_str() + shape, "'shape': (%llu, %llu)", &rows, &cols) != 2) {
    Die("'" + path + "' must be 2-D; header: " + header);
  }
  Matrix m;
  m.rows = rows;
  m.cols = cols;
  m.values = FloatArray(rows * cols);
  if (std::fread(m.values.data, sizeof(float), rows * cols, f) != rows * cols) {
    Die("'" + path + "' is shorter than its shape says");
  }
  std::fclose(f);
  return m;
}

// ---------------------------------------------------------------- timing

struct Measurement {
  std::string name;
  int threads = 1;
  size_t queries_per_op = 1;
  double bytes_per_op = 0;  // vector bytes scanned by one op
  std::vector<double> seconds;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// A measured operation; op(rep) runs it once (rep < 0 for the warm-up).
struct Op {
  Measurement m;
  int reps;
  std::function<void(int)> op;
};

// Warms every op up once, then runs them round-robin: in round r, every op with more than r
// repetitions runs once. Interleaving spreads the load of other processes (this machine is
// shared) over all ops alike, so their ratios hold even when the absolute numbers drift.
void RunInterleaved(std::vector<Op>* ops) {
  int rounds = 0;
  for (auto& o : *ops) {
    Progress("warm-up: " + o.m.name + " (" + std::to_string(o.m.threads) + " threads)");
    o.op(-1);
    rounds = std::max(rounds, o.reps);
  }
  for (int r = 0; r < rounds; ++r) {
    Progress("round " + std::to_string(r + 1) + " of " + std::to_string(rounds));
    for (auto& o : *ops) {
      if (r >= o.reps) continue;
      const auto t0 = Clock::now();
      o.op(r);
      o.m.seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
  }
}

// Runs fn(begin, end, part) over [0, n) split into `threads` contiguous parts; the caller runs
// the first part.
void Split(int threads, size_t n, const std::function<void(size_t, size_t, int)>& fn) {
  std::vector<std::thread> others;
  const size_t per = (n + static_cast<size_t>(threads) - 1) / static_cast<size_t>(threads);
  for (int t = 1; t < threads; ++t) {
    const size_t b = std::min(n, per * static_cast<size_t>(t));
    const size_t e = std::min(n, b + per);
    others.emplace_back([&fn, b, e, t] { fn(b, e, t); });
  }
  fn(0, std::min(n, per), 0);
  for (auto& t : others) t.join();
}

// ---------------------------------------------------------------- kernels under test

// The bandwidth probe: a sum with 8 independent accumulators, so that the loop is bound by
// loads, not by add latency. AVX2 where the CPU has it (as the kernels under test), else SSE
// (baseline x86-64).
__attribute__((target("avx2"))) float StreamSumAvx2(const float* p, size_t n) {
  __m256 a[8];
  for (auto& x : a) x = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    for (int j = 0; j < 8; ++j) a[j] = _mm256_add_ps(a[j], _mm256_loadu_ps(p + i + 8 * j));
  }
  for (int j = 1; j < 8; ++j) a[0] = _mm256_add_ps(a[0], a[j]);
  float lanes[8];
  _mm256_storeu_ps(lanes, a[0]);
  float s = 0;
  for (float v : lanes) s += v;
  for (; i < n; ++i) s += p[i];
  return s;
}

float StreamSumSse(const float* p, size_t n) {
  __m128 a[8];
  for (auto& x : a) x = _mm_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int j = 0; j < 8; ++j) a[j] = _mm_add_ps(a[j], _mm_loadu_ps(p + i + 4 * j));
  }
  for (int j = 1; j < 8; ++j) a[0] = _mm_add_ps(a[0], a[j]);
  float lanes[4];
  _mm_storeu_ps(lanes, a[0]);
  float s = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i < n; ++i) s += p[i];
  return s;
}

float StreamSum(const float* p, size_t n) {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2 ? StreamSumAvx2(p, n) : StreamSumSse(p, n);
}

volatile float g_sink;  // keeps results alive

struct TopEntry {
  float score;  // smaller is closer (negated dot), as in the engine
  size_t row;
  bool operator<(const TopEntry& o) const { return score < o.score; }  // max-heap: worst on top
};

// The engine's per-call work after the kernel, without the visibility check or ids: negate the
// scores and offer those under the threshold to a bounded heap.
void CollectTopK(float* scores, size_t n, size_t first_row, size_t k,
                 std::priority_queue<TopEntry>* heap) {
  for (size_t i = 0; i < n; ++i) scores[i] = -scores[i];
  float threshold = heap->size() < k ? __builtin_huge_valf() : heap->top().score;
  for (size_t i = 0; i < n; ++i) {
    if (scores[i] > threshold) continue;
    heap->push({scores[i], first_row + i});
    if (heap->size() > k) heap->pop();
    threshold = heap->size() < k ? __builtin_huge_valf() : heap->top().score;
  }
}

// ---------------------------------------------------------------- the database

std::string IdOf(size_t row) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%09zu", row);
  return buf;
}

DatabaseOptions BenchOptions(int search_threads) {
  DatabaseOptions o;
  o.durability = nearstore::Durability::kNoSync;
  o.memtable_max_bytes = size_t{16} << 30;  // one memtable, hence one segment, for all rows
  o.memtable_max_rows = size_t{1} << 26;
  o.compaction_max_segments = 1000;
  o.verify_checksums_on_open = false;  // the benchmark reads every byte soon enough
  o.search_threads = search_threads;
  return o;
}

bool DatabaseHolds(const std::string& dir, const Matrix& x) {
  if (!std::filesystem::exists(std::filesystem::path(dir) / "MANIFEST")) return false;
  auto db = Database::Open(dir, BenchOptions(1));
  if (!db.ok()) return false;
  auto c = (*db)->GetCollection("bench");
  if (!c.ok()) return false;
  const auto info = (*c)->Info();
  if (info.count != x.rows || info.dim != x.cols || info.segments != 1 || info.memtable_rows != 0) {
    return false;
  }
  // Spot-check a few rows against the data (the file names carry the seed, but be sure).
  for (size_t row : {size_t{0}, x.rows / 2, x.rows - 1}) {
    auto p = (*c)->Get(IdOf(row));
    if (!p.ok() || !p->has_value()) return false;
    const auto& v = (*p)->vector;
    for (size_t d = 0; d < x.cols; ++d) {
      if (std::abs(v[d] - x.row(row)[d]) > 1e-5f) return false;
    }
  }
  return true;
}

void BuildDatabase(const std::string& dir, const Matrix& x) {
  std::filesystem::remove_all(dir);
  Progress("building the database in '" + dir + "' (" + std::to_string(x.rows) + " rows)");
  const auto t0 = Clock::now();
  auto db = Database::Open(dir, BenchOptions(1));
  if (!db.ok()) Die(db.status().ToString());
  auto c =
      (*db)->CreateCollection("bench", static_cast<uint32_t>(x.cols), nearstore::Metric::kCosine);
  if (!c.ok()) Die(c.status().ToString());
  constexpr size_t kBatch = 8192;
  std::vector<std::string> ids;
  for (size_t first = 0; first < x.rows; first += kBatch) {
    const size_t n = std::min(kBatch, x.rows - first);
    ids.clear();
    for (size_t i = 0; i < n; ++i) ids.push_back(IdOf(first + i));
    nearstore::Status s =
        (*c)->UpsertColumns(ids, std::span<const float>(x.row(first), n * x.cols), {});
    if (!s.ok()) Die(s.ToString());
  }
  nearstore::Status s = (*c)->Flush();
  if (!s.ok()) Die(s.ToString());
  s = (*db)->Close();
  if (!s.ok()) Die(s.ToString());
  Progress("built in " + std::to_string(std::chrono::duration<double>(Clock::now() - t0).count()) +
           " s");
}

// A second directory holding the same database, its segment files hard links to the first's
// (same inode, so the same page-cache pages): one process can then hold a database open with
// search_threads = 1 and one with search_threads = 0 at once, and interleave their runs.
void MakeTwin(const std::string& dir, const std::string& twin) {
  namespace fs = std::filesystem;
  fs::remove_all(twin);
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const fs::path to = fs::path(twin) / fs::relative(e.path(), dir);
    const std::string name = e.path().filename().string();
    if (e.is_directory()) {
      fs::create_directories(to);
    } else if (name == "LOCK") {
      continue;
    } else {
      fs::create_directories(to.parent_path());
      if (name.rfind("seg-", 0) == 0) {
        fs::create_hard_link(e.path(), to);
      } else {
        fs::copy_file(e.path(), to);
      }
    }
  }
}

// The one segment file of the benchmark's collection, mapped (read-only) and parsed.
struct MappedSegment {
  std::shared_ptr<nearstore::storage::MappedFile> file;
  const float* vectors = nullptr;
};

MappedSegment MapSegment(const std::string& dir) {
  auto* env = nearstore::storage::PosixEnv();
  auto manifest = nearstore::storage::ReadManifest(env, dir);
  if (!manifest.ok()) Die(manifest.status().ToString());
  const auto& entry = manifest->collections.at(0);
  const std::string path = nearstore::storage::JoinPath(
      nearstore::storage::JoinPath(dir, entry.dir), entry.segments.at(0).file);
  MappedSegment m;
  auto file = env->MapFile(path);
  if (!file.ok()) Die(file.status().ToString());
  m.file = std::move(file).value();
  auto view = nearstore::storage::SegmentView::Parse(m.file->data(), path, false);
  if (!view.ok()) Die(view.status().ToString());
  m.vectors = view->vectors();
  return m;
}

// ---------------------------------------------------------------- main

struct Args {
  std::string data, queries, db;
  size_t k = 10;
  int reps = 15;
  int batch_reps = 5;
  int all_threads = 0;  // 0: hardware_concurrency
};

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value after " + arg);
      return argv[++i];
    };
    if (arg == "--data") {
      a.data = value();
    } else if (arg == "--queries") {
      a.queries = value();
    } else if (arg == "--db") {
      a.db = value();
    } else if (arg == "--k") {
      a.k = std::stoul(value());
    } else if (arg == "--reps") {
      a.reps = std::stoi(value());
    } else if (arg == "--batch-reps") {
      a.batch_reps = std::stoi(value());
    } else if (arg == "--all-threads") {
      a.all_threads = std::stoi(value());
    } else if (arg == "--help" || arg == "-h") {
      std::printf(
          "usage: exact_scan_bench --data X.npy --queries Q.npy --db DIR [--k 10] [--reps 15]\n"
          "                        [--batch-reps 5] [--all-threads N]\n"
          "Normally run by bench/exact_scan.py, which makes the data and prints the table.\n");
      std::exit(0);
    } else {
      Die("unknown argument '" + arg + "' (see --help)");
    }
  }
  if (a.data.empty() || a.queries.empty() || a.db.empty())
    Die("--data, --queries and --db are required");
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = ParseArgs(argc, argv);
  const int all = args.all_threads > 0
                      ? args.all_threads
                      : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  Progress("reading " + args.data);
  const Matrix x = ReadNpy(args.data);
  const Matrix q = ReadNpy(args.queries);
  if (q.cols != x.cols) Die("queries and data differ in dimension");
  const size_t n = x.rows, dim = x.cols, nq = q.rows, k = args.k;
  const double bytes = static_cast<double>(n * dim * sizeof(float));
  const auto& kernels = nearstore::simd::Kernels();

  // The database: built once (cached in DIR), opened twice (see MakeTwin).
  if (!DatabaseHolds(args.db, x)) BuildDatabase(args.db, x);
  const std::string twin = args.db + ".all-threads";
  MakeTwin(args.db, twin);
  auto db1 = Database::Open(args.db, BenchOptions(1));
  if (!db1.ok()) Die(db1.status().ToString());
  auto db_all = Database::Open(twin, BenchOptions(all == 1 ? 1 : 0));
  if (!db_all.ok()) Die(db_all.status().ToString());
  auto c1 = (*db1)->GetCollection("bench");
  auto c_all = (*db_all)->GetCollection("bench");
  if (!c1.ok() || !c_all.ok()) Die("collection 'bench' missing");
  const MappedSegment seg = MapSegment(args.db);

  std::vector<Op> ops;
  auto add = [&](std::string name, int threads, size_t queries_per_op, int reps,
                 std::function<void(int)> op) {
    ops.push_back({{std::move(name), threads, queries_per_op, bytes, {}}, reps, std::move(op)});
  };
  auto query = [&](int rep) { return q.row(static_cast<size_t>(rep + 1) % nq); };

  // --- the bandwidth ceiling and the raw kernels, on the array in anonymous memory
  std::vector<float> partial(static_cast<size_t>(all));
  for (int t : {1, all}) {
    add("stream", t, 1, args.reps, [&, t](int) {
      Split(t, n * dim, [&](size_t b, size_t e, int part) {
        partial[static_cast<size_t>(part)] = StreamSum(x.values.data + b, e - b);
      });
      g_sink = partial[0];
    });
  }
  std::vector<float> scores(n);
  for (int t : {1, all}) {
    add("dot_many", t, 1, args.reps, [&, t](int rep) {
      Split(t, n, [&](size_t b, size_t e, int) {
        kernels.dot_many(query(rep), x.row(b), e - b, dim, scores.data() + b);
      });
      g_sink = scores[0];
    });
  }
  constexpr size_t kRowsPerCall = 1024;  // as src/engine/exact_search.cc
  std::vector<float> block_scores(nq * kRowsPerCall * static_cast<size_t>(all));
  for (int t : {1, all}) {
    add("dot_block", t, nq, args.batch_reps, [&, t](int) {
      Split(t, n, [&](size_t b, size_t e, int part) {
        float* out = block_scores.data() + static_cast<size_t>(part) * nq * kRowsPerCall;
        for (size_t off = b; off < e; off += kRowsPerCall) {
          kernels.dot_block(q.values.data, nq, x.row(off), std::min(kRowsPerCall, e - off), dim,
                            out);
        }
      });
      g_sink = block_scores[0];
    });
  }

  // --- diagnostics: the engine's way of calling the kernel, and the mapped file
  std::vector<float> chunk_scores(kRowsPerCall);
  add("diag_dot_many_1024", 1, 1, args.reps, [&](int rep) {
    for (size_t off = 0; off < n; off += kRowsPerCall) {
      kernels.dot_many(query(rep), x.row(off), std::min(kRowsPerCall, n - off), dim,
                       chunk_scores.data());
    }
    g_sink = chunk_scores[0];
  });
  add("diag_dot_many_1024_topk", 1, 1, args.reps, [&](int rep) {
    std::priority_queue<TopEntry> heap;
    for (size_t off = 0; off < n; off += kRowsPerCall) {
      const size_t m = std::min(kRowsPerCall, n - off);
      kernels.dot_many(query(rep), x.row(off), m, dim, chunk_scores.data());
      CollectTopK(chunk_scores.data(), m, off, k, &heap);
    }
    g_sink = heap.top().score;
  });
  // The same with calls just under and just over the size at which dot_many switches from its
  // cache tile (four rows at a time) to its streaming loop (one row at a time): 2 MiB of rows,
  // kStreamingBytes in src/simd/kernels_generic.h.
  const size_t rows_under = (size_t{2} << 20) / (dim * sizeof(float));
  std::vector<float> wide_scores(rows_under + 1);
  for (size_t rows_per_call : {rows_under, rows_under + 1}) {
    add("diag_dot_many_calls_of_" + std::to_string(rows_per_call), 1, 1, args.reps,
        [&, rows_per_call](int rep) {
          for (size_t off = 0; off < n; off += rows_per_call) {
            kernels.dot_many(query(rep), x.row(off), std::min(rows_per_call, n - off), dim,
                             wide_scores.data());
          }
          g_sink = wide_scores[0];
        });
  }
  std::vector<float> reference(n);
  kernels.dot_many(q.row(0), x.values.data, n, dim, reference.data());
  add("diag_topk_only", 1, 1, args.reps, [&](int) {
    // The scan of already computed scores alone.
    std::priority_queue<TopEntry> heap;
    for (size_t off = 0; off < n; off += kRowsPerCall) {
      const size_t m = std::min(kRowsPerCall, n - off);
      std::memcpy(chunk_scores.data(), reference.data() + off, m * sizeof(float));
      CollectTopK(chunk_scores.data(), m, off, k, &heap);
    }
    g_sink = heap.top().score;
  });
  add("diag_stream_segment", 1, 1, args.reps,
      [&](int) { g_sink = StreamSum(seg.vectors, n * dim); });
  add("diag_dot_many_segment", 1, 1, args.reps, [&](int rep) {
    kernels.dot_many(query(rep), seg.vectors, n, dim, scores.data());
    g_sink = scores[0];
  });
  add("diag_dot_many_1024_segment", 1, 1, args.reps, [&](int rep) {
    for (size_t off = 0; off < n; off += kRowsPerCall) {
      kernels.dot_many(query(rep), seg.vectors + off * dim, std::min(kRowsPerCall, n - off), dim,
                       chunk_scores.data());
    }
    g_sink = chunk_scores[0];
  });

  // --- diagnostics of the batch path: the kernel over the mapped file, and the top-k work
  add("diag_dot_block_segment", 1, nq, args.batch_reps, [&](int) {
    for (size_t off = 0; off < n; off += kRowsPerCall) {
      kernels.dot_block(q.values.data, nq, seg.vectors + off * dim, std::min(kRowsPerCall, n - off),
                        dim, block_scores.data());
    }
    g_sink = block_scores[0];
  });
  add("diag_dot_block_topk", 1, nq, args.batch_reps, [&](int) {
    std::vector<std::priority_queue<TopEntry>> heaps(nq);
    for (size_t off = 0; off < n; off += kRowsPerCall) {
      const size_t m = std::min(kRowsPerCall, n - off);
      kernels.dot_block(q.values.data, nq, x.row(off), m, dim, block_scores.data());
      for (size_t j = 0; j < nq; ++j)
        CollectTopK(block_scores.data() + j * m, m, off, k, &heaps[j]);
    }
    g_sink = heaps[0].top().score;
  });

  // --- the API
  const nearstore::SearchOptions options{.k = static_cast<int>(k), .with_metadata = false};
  for (int t : {1, all}) {
    Collection* c = (t == 1 ? *c1 : *c_all).get();
    add("search", t, 1, args.reps, [&, c](int rep) {
      auto hits = c->Search(std::span<const float>(query(rep), dim), options);
      if (!hits.ok()) Die(hits.status().ToString());
      g_sink = hits->front().distance;
    });
    add("search_batch", t, nq, args.batch_reps, [&, c](int) {
      auto hits = c->SearchBatch(std::span<const float>(q.values.data, nq * dim), options);
      if (!hits.ok()) Die(hits.status().ToString());
      g_sink = hits->back().front().distance;
    });
  }

  RunInterleaved(&ops);

  // Correctness: Search's top k is the reference's (from the raw kernel's scores).
  nlohmann::json checks = nlohmann::json::array();
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::partial_sort(order.begin(), order.begin() + static_cast<long>(k), order.end(),
                    [&](size_t a, size_t b) { return reference[a] > reference[b]; });
  for (int t : {1, all}) {
    Collection* c = (t == 1 ? *c1 : *c_all).get();
    auto hits = c->Search(std::span<const float>(q.row(0), dim), options);
    if (!hits.ok()) Die(hits.status().ToString());
    size_t same = 0;
    for (size_t i = 0; i < std::min(k, hits->size()); ++i) same += (*hits)[i].id == IdOf(order[i]);
    checks.push_back({{"threads", t}, {"top_k_matching_reference", same}, {"k", k}});
  }
  for (auto* db : {&*db1, &*db_all}) {
    nearstore::Status s = (*db)->Close();
    if (!s.ok()) Die(s.ToString());
  }
  std::filesystem::remove_all(twin);

  nlohmann::json out;
  out["n"] = n;
  out["dim"] = dim;
  out["k"] = k;
  out["batch"] = nq;
  out["isa"] = nearstore::simd::IsaName(kernels.isa);
  out["all_threads"] = all;
  out["checks"] = checks;
  out["results"] = nlohmann::json::array();
  for (const auto& o : ops) {
    const Measurement& m = o.m;
    out["results"].push_back({{"name", m.name},
                              {"threads", m.threads},
                              {"queries_per_op", m.queries_per_op},
                              {"bytes_per_op", m.bytes_per_op},
                              {"median_s", Median(m.seconds)},
                              {"min_s", *std::min_element(m.seconds.begin(), m.seconds.end())},
                              {"seconds", m.seconds}});
  }
  std::printf("%s\n", out.dump(1).c_str());
  return 0;
}

// crash_writer: the child process of crash_test. It opens a database with default (fsync)
// durability and a small memtable, and applies a deterministic-by-seed sequence of writes to
// collection "crash" until it is killed. After each call returns OK it writes the op's number
// (8 bytes, native order) to a pipe with write(2), so the parent knows exactly which writes
// were acknowledged when its SIGKILL landed.
//
//   crash_writer DIR SEED FIRST_OP MEMTABLE_BYTES REPORT_FD
//
// The op generator (MakeOp) and the reference model (ApplyOp) are shared with crash_test.cc,
// which includes this file with NEARSTORE_CRASH_WRITER_NO_MAIN defined: one definition of the
// op sequence for both processes.
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "nearstore/nearstore.h"

namespace nearstore::crash {

inline constexpr uint32_t kDim = 8;
inline constexpr char kCollection[] = "crash";
inline constexpr uint64_t kIdPool = 400;

enum class OpKind { kUpsert, kBatch, kUpdate, kDelete, kDeleteMany, kFlush, kCompact };

inline const char* OpKindName(OpKind k) {
  switch (k) {
    case OpKind::kUpsert:
      return "upsert";
    case OpKind::kBatch:
      return "batch";
    case OpKind::kUpdate:
      return "update";
    case OpKind::kDelete:
      return "delete";
    case OpKind::kDeleteMany:
      return "delete-many";
    case OpKind::kFlush:
      return "flush";
    case OpKind::kCompact:
      return "compact";
  }
  return "?";
}

// One write of the sequence. kUpsert/kBatch: `points`; kUpdate: points[0] carries the id and
// the fields that are set (update_vector / update_metadata); kDelete/kDeleteMany: `ids`.
struct Op {
  uint64_t n = 0;
  OpKind kind = OpKind::kUpsert;
  std::vector<Point> points;
  bool update_vector = false;
  bool update_metadata = false;
  bool as_columns = false;  // kBatch: written through UpsertColumns
  std::vector<std::string> ids;
};

inline uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline std::string IdOf(uint64_t k) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "p%04" PRIu64, k);
  return buf;
}

// Components in [-1, 1], different for every (op, point) pair; stored bit for bit (l2).
inline std::vector<float> VectorOf(std::mt19937_64& rng) {
  std::vector<float> v(kDim);
  for (auto& x : v) x = static_cast<float>(static_cast<int>(rng() % 20001) - 10000) / 10000.0f;
  return v;
}

// Metadata in the engine's canonical form (compact, keys sorted), so it reads back verbatim.
inline std::string MetaOf(uint64_t n, int64_t batch_index) {
  if (batch_index < 0) return "{\"op\":" + std::to_string(n) + "}";
  return "{\"batch\":" + std::to_string(n) + ",\"i\":" + std::to_string(batch_index) +
         ",\"op\":" + std::to_string(n) + "}";
}

// The n-th op of the sequence of `seed`.
inline Op MakeOp(uint64_t seed, uint64_t n) {
  std::mt19937_64 rng(Mix(seed ^ Mix(n + 1)));
  Op op;
  op.n = n;
  const uint64_t roll = rng() % 1000;
  // Distinct ids drawn from the pool.
  auto distinct_ids = [&](size_t count) {
    std::vector<std::string> out;
    std::vector<bool> used(kIdPool, false);
    while (out.size() < count) {
      const uint64_t k = rng() % kIdPool;
      if (used[k]) continue;
      used[k] = true;
      out.push_back(IdOf(k));
    }
    return out;
  };
  if (roll < 300) {
    op.kind = OpKind::kUpsert;
    op.points.push_back(Point{IdOf(rng() % kIdPool), VectorOf(rng), MetaOf(n, -1)});
  } else if (roll < 570) {
    op.kind = OpKind::kBatch;
    // Mostly small batches; some large ones span several memtables' worth of rows.
    const size_t count = roll < 530 ? 2 + rng() % 15 : 100 + rng() % 300;
    const auto ids = distinct_ids(count);
    for (size_t i = 0; i < ids.size(); ++i) {
      op.points.push_back(Point{ids[i], VectorOf(rng), MetaOf(n, static_cast<int64_t>(i))});
    }
    op.as_columns = rng() % 3 == 0;
  } else if (roll < 730) {
    op.kind = OpKind::kUpdate;
    const uint64_t which = rng() % 3;  // vector, metadata, or both
    op.update_vector = which != 1;
    op.update_metadata = which != 0;
    Point p;
    p.id = IdOf(rng() % kIdPool);
    if (op.update_vector) p.vector = VectorOf(rng);
    if (op.update_metadata) p.metadata = "{\"op\":" + std::to_string(n) + ",\"upd\":1}";
    op.points.push_back(std::move(p));
  } else if (roll < 880) {
    op.kind = OpKind::kDelete;
    op.ids.push_back(IdOf(rng() % kIdPool));
  } else if (roll < 975) {
    op.kind = OpKind::kDeleteMany;
    op.ids = distinct_ids(2 + rng() % 9);
  } else if (roll < 985) {
    op.kind = OpKind::kFlush;
  } else {
    op.kind = OpKind::kCompact;
  }
  return op;
}

// The reference model: id -> (vector, metadata).
struct Stored {
  std::vector<float> vector;
  std::string metadata;
  bool operator==(const Stored&) const = default;
};
using State = std::map<std::string, Stored>;

inline void ApplyOp(const Op& op, State* state) {
  switch (op.kind) {
    case OpKind::kUpsert:
    case OpKind::kBatch:
      for (const auto& p : op.points) (*state)[p.id] = Stored{p.vector, p.metadata};
      break;
    case OpKind::kUpdate: {
      auto it = state->find(op.points[0].id);
      if (it == state->end()) break;
      if (op.update_vector) it->second.vector = op.points[0].vector;
      if (op.update_metadata) it->second.metadata = op.points[0].metadata;
      break;
    }
    case OpKind::kDelete:
    case OpKind::kDeleteMany:
      for (const auto& id : op.ids) state->erase(id);
      break;
    case OpKind::kFlush:
    case OpKind::kCompact:
      break;
  }
}

// Runs one op against the collection.
inline Status RunOp(const Op& op, Collection& col) {
  switch (op.kind) {
    case OpKind::kUpsert:
      return col.Upsert(op.points[0]);
    case OpKind::kBatch: {
      if (!op.as_columns) return col.Upsert(std::span<const Point>(op.points));
      std::vector<std::string> ids, meta;
      std::vector<float> vectors;
      for (const auto& p : op.points) {
        ids.push_back(p.id);
        meta.push_back(p.metadata);
        vectors.insert(vectors.end(), p.vector.begin(), p.vector.end());
      }
      return col.UpsertColumns(ids, vectors, meta);
    }
    case OpKind::kUpdate: {
      PointUpdate u;
      if (op.update_vector) u.vector = op.points[0].vector;
      if (op.update_metadata) u.metadata = op.points[0].metadata;
      return col.Update(op.points[0].id, u).status();
    }
    case OpKind::kDelete:
      return col.Delete(op.ids[0]).status();
    case OpKind::kDeleteMany:
      return col.DeleteMany(op.ids).status();
    case OpKind::kFlush:
      return col.Flush();
    case OpKind::kCompact:
      return col.Compact();
  }
  return Status::Internal("unknown op kind");
}

// Options of the database under test: fsync durability (the default), a small memtable so
// that seals happen all the time, and eager compaction.
inline DatabaseOptions CrashOptions(size_t memtable_bytes) {
  DatabaseOptions o;
  o.memtable_max_bytes = memtable_bytes;
  o.compaction_max_segments = 4;
  o.search_threads = 2;
  return o;
}

}  // namespace nearstore::crash

#ifndef NEARSTORE_CRASH_WRITER_NO_MAIN
int main(int argc, char** argv) {
  using namespace nearstore;
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s DIR SEED FIRST_OP MEMTABLE_BYTES REPORT_FD\n", argv[0]);
    return 64;
  }
  const std::string dir = argv[1];
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  const uint64_t first = std::strtoull(argv[3], nullptr, 10);
  const size_t memtable_bytes = std::strtoull(argv[4], nullptr, 10);
  const int fd = std::atoi(argv[5]);

  auto db = Database::Open(dir, crash::CrashOptions(memtable_bytes));
  if (!db.ok()) {
    std::fprintf(stderr, "crash_writer: open failed: %s\n", db.status().ToString().c_str());
    return 2;
  }
  auto col = (*db)->GetCollection(crash::kCollection);
  if (!col.ok()) {
    std::fprintf(stderr, "crash_writer: %s\n", col.status().ToString().c_str());
    return 2;
  }
  for (uint64_t n = first;; ++n) {
    const crash::Op op = crash::MakeOp(seed, n);
    Status s = crash::RunOp(op, **col);
    if (!s.ok()) {
      std::fprintf(stderr, "crash_writer: op %" PRIu64 " (%s) failed: %s\n", n,
                   crash::OpKindName(op.kind), s.ToString().c_str());
      return 3;
    }
    // Acknowledged: tell the parent, unbuffered (a SIGKILL must not lose a reported number).
    const char* p = reinterpret_cast<const char*>(&n);
    size_t left = sizeof(n);
    while (left > 0) {
      const ssize_t w = ::write(fd, p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return 4;  // the parent is gone
      p += w;
      left -= static_cast<size_t>(w);
    }
  }
}
#endif  // NEARSTORE_CRASH_WRITER_NO_MAIN

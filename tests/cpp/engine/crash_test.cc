// Crash tests: acknowledged writes survive a process kill at any moment, and a power cut.
//
// KillWriterAtRandomMoments runs crash_writer (a child process writing a deterministic-by-seed
// sequence of upserts, batches, updates, deletes, flushes and compactions with fsync
// durability and a tiny memtable) and SIGKILLs it after a random delay, many times over on the
// same directory. After each kill it reopens the database and checks it against a reference
// model: every acknowledged op is there, the op in flight is there whole or not at all,
// nothing else is. Half the time it verifies a copy, so that the next writer itself recovers
// what the killed one left (and may be killed during that recovery). Environment:
// NEARSTORE_CRASH_SEED (default: from the clock), NEARSTORE_CRASH_KILLS (default: at least 50,
// then more until 300 or 45 seconds).
//
// The power-cut tests run the same sequence in-process on a storage::MemEnv and cut the power
// (fail every write, then DropUnsyncedData) at random moments.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "nearstore/nearstore.h"
#include "storage/env.h"
#include "storage/manifest.h"
#include "storage/mem_env.h"

// The op sequence and the reference model, shared with the child process.
#define NEARSTORE_CRASH_WRITER_NO_MAIN
#include "crash_writer.cc"

extern char** environ;

namespace nearstore {
namespace {

namespace fs = std::filesystem;
using crash::ApplyOp;
using crash::MakeOp;
using crash::Op;
using crash::State;

std::string TempDir(const std::string& name) {
  auto p = fs::temp_directory_path() / ("nearstore_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p.string();
}

uint64_t SeedFromEnv() {
  if (const char* s = std::getenv("NEARSTORE_CRASH_SEED")) return std::strtoull(s, nullptr, 10);
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) %
         1000000007ULL;
}

// Every point of the collection, vectors and metadata included.
Result<State> ReadAll(const Collection& col) {
  State out;
  ScrollOptions o;
  o.limit = 257;
  o.with_vectors = true;
  for (;;) {
    NEARSTORE_ASSIGN_OR_RETURN(ScrollPage page, col.Scroll(o));
    for (auto& p : page.points) {
      if (!out.emplace(p.id, crash::Stored{p.vector, p.metadata}).second) {
        return Status::Internal("scroll returned id '" + p.id + "' twice");
      }
    }
    if (page.next_after.empty()) break;
    o.after = page.next_after;
  }
  if (out.size() != col.Count()) {
    return Status::Internal("scroll found " + std::to_string(out.size()) +
                            " points, Count() says " + std::to_string(col.Count()));
  }
  return out;
}

std::string VecStr(const std::vector<float>& v) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < v.size(); ++i) s << (i ? "," : "") << v[i];
  return s.str() + "]";
}

// The first differences between the model and what the database holds.
std::string Diff(const State& want, const State& got, size_t max_lines = 8) {
  std::string out;
  size_t lines = 0;
  auto line = [&](const std::string& l) {
    if (lines++ < max_lines) out += "    " + l + "\n";
  };
  for (const auto& [id, w] : want) {
    auto it = got.find(id);
    if (it == got.end()) {
      line(id + ": missing (want " + w.metadata + ")");
    } else if (!(it->second == w)) {
      line(id + ": want " + w.metadata + " " + VecStr(w.vector) + ", got " + it->second.metadata +
           " " + VecStr(it->second.vector));
    }
  }
  for (const auto& [id, g] : got) {
    if (want.count(id) == 0) line(id + ": unexpected (got " + g.metadata + ")");
  }
  if (lines > max_lines) out += "    ... " + std::to_string(lines - max_lines) + " more\n";
  return out;
}

// Exact search with a stored vector must find its point at distance ~0.
::testing::AssertionResult SearchesFindStoredPoints(const Collection& col, const State& state,
                                                    std::mt19937_64& rng) {
  if (state.empty()) return ::testing::AssertionSuccess();
  std::vector<const std::pair<const std::string, crash::Stored>*> all;
  for (const auto& kv : state) all.push_back(&kv);
  for (int q = 0; q < 12; ++q) {
    const auto& [id, stored] = *all[rng() % all.size()];
    auto hits = col.Search(stored.vector, SearchOptions{.k = 3});
    if (!hits.ok()) return ::testing::AssertionFailure() << "search: " << hits.status().ToString();
    bool found = false;
    for (const auto& h : *hits) found |= h.id == id && h.distance <= 1e-3f;
    if (!found || hits->empty() || (*hits)[0].distance > 1e-3f) {
      auto f = ::testing::AssertionFailure()
               << "search with the vector of '" << id << "' did not find it at distance ~0; hits:";
      for (const auto& h : *hits) f << " " << h.id << "@" << h.distance;
      return f;
    }
  }
  return ::testing::AssertionSuccess();
}

// Recovered `got` must be `acked` (the in-flight op was lost) or `acked` + in-flight op.
// Returns 0 or 1 (ops of the in-flight op applied), or -1 when it is neither.
int MatchInFlight(const State& got, const State& acked, const State& with_in_flight) {
  if (got == with_in_flight) return 1;  // also when the op changed nothing
  if (got == acked) return 0;
  return -1;
}

// ------------------------------------------------------------------------------------------
// Process kills.

struct Child {
  pid_t pid = -1;
  int report_fd = -1;
};

Child SpawnWriter(const std::string& dir, uint64_t seed, uint64_t first_op, size_t memtable_bytes) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 3);  // dup2 clears close-on-exec on fd 3
  const std::string args[] = {CRASH_WRITER_PATH,
                              dir,
                              std::to_string(seed),
                              std::to_string(first_op),
                              std::to_string(memtable_bytes),
                              "3"};
  char* argv[] = {const_cast<char*>(args[0].c_str()),
                  const_cast<char*>(args[1].c_str()),
                  const_cast<char*>(args[2].c_str()),
                  const_cast<char*>(args[3].c_str()),
                  const_cast<char*>(args[4].c_str()),
                  const_cast<char*>(args[5].c_str()),
                  nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, CRASH_WRITER_PATH, &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return {};
  }
  return {pid, fds[0]};
}

// Reads what is available (or until EOF when `to_eof`), appending op numbers to `out`.
void ReadReports(int fd, bool to_eof, std::string* buf) {
  char tmp[4096];
  for (;;) {
    if (!to_eof) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) return;
    }
    const ssize_t n = ::read(fd, tmp, sizeof(tmp));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    buf->append(tmp, static_cast<size_t>(n));
  }
}

// What a killed writer left on disk: evidence that the kill landed mid-seal or mid-compaction.
struct DiskEvidence {
  bool unlisted_segment = false;  // a segment written but not (or no longer) in the manifest
  bool pending_seal = false;      // more than one live log: a frozen memtable not yet sealed
  bool manifest_tmp = false;      // killed while replacing the manifest
};

DiskEvidence Inspect(const std::string& dir) {
  DiskEvidence e;
  e.manifest_tmp = fs::exists(fs::path(dir) / "MANIFEST.tmp");
  auto m = storage::ReadManifest(storage::PosixEnv(), dir);
  if (!m.ok() || m->collections.empty()) return e;
  const auto& c = m->collections[0];
  int live_wals = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(dir) / c.dir)) {
    const std::string n = entry.path().filename().string();
    unsigned long long number = 0;
    if (std::sscanf(n.c_str(), "wal-%llu.log", &number) == 1 && number >= c.min_wal) ++live_wals;
    if (n.rfind("seg-", 0) == 0) {
      bool listed = false;
      for (const auto& s : c.segments) listed |= s.file == n;
      e.unlisted_segment |= !listed;
    }
  }
  e.pending_seal = live_wals > 1;
  return e;
}

TEST(CrashTest, KillWriterAtRandomMoments) {
  const uint64_t seed = SeedFromEnv();
  // NEARSTORE_CRASH_KILLS kills exactly; by default at least 50, then more until 300 kills
  // or 45 seconds.
  const char* kills_env = std::getenv("NEARSTORE_CRASH_KILLS");
  const int min_kills = kills_env != nullptr ? std::atoi(kills_env) : 50;
  const int max_kills = kills_env != nullptr ? min_kills : 300;
  const auto time_box = std::chrono::seconds(45);
  std::printf("[crash] seed %llu, %d..%d kills (rerun with NEARSTORE_CRASH_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), min_kills, max_kills,
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  const std::string dir = TempDir("crash");
  const std::string verify_dir = dir + "_verify";
  {
    auto db = Database::Open(dir, crash::CrashOptions(2048));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->CreateCollection(crash::kCollection, crash::kDim, Metric::kL2).ok());
  }

  std::mt19937_64 rng(seed);
  State state;  // the model after ops [0, next_op)
  uint64_t next_op = 0;
  int in_flight_applied = 0, mid_seal = 0, pending_seal = 0, manifest_tmp = 0;
  uint64_t acked_total = 0;
  const auto start = std::chrono::steady_clock::now();
  int kills = 0;
  for (; kills < max_kills; ++kills) {
    if (kills >= min_kills && std::chrono::steady_clock::now() - start > time_box) break;
    // Delays: a third within the child's open and recovery, the rest while it writes.
    const int delay_ms =
        rng() % 3 == 0 ? 1 + static_cast<int>(rng() % 15) : 15 + static_cast<int>(rng() % 286);
    // A memtable of 64 rows (seals all the time) or of 1024 rows (a full memtable's worth).
    const size_t memtable_bytes = rng() % 4 == 0 ? 32768 : 2048;
    Child child = SpawnWriter(dir, seed, next_op, memtable_bytes);
    ASSERT_GT(child.pid, 0) << "cannot start " << CRASH_WRITER_PATH;
    std::string reports;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{child.report_fd, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      (void)::poll(&p, 1, std::max<int>(0, static_cast<int>(left.count())));
      ReadReports(child.report_fd, /*to_eof=*/false, &reports);
    }
    ::kill(child.pid, SIGKILL);
    int wstatus = 0;
    ::waitpid(child.pid, &wstatus, 0);
    ReadReports(child.report_fd, /*to_eof=*/true, &reports);
    ::close(child.report_fd);
    ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
        << "the writer ended on its own (status " << wstatus << ") at kill " << kills << ", seed "
        << seed;

    // Acknowledged ops: next_op, next_op + 1, ..., in order.
    ASSERT_EQ(reports.size() % 8, 0u);
    uint64_t acked_end = next_op;
    for (size_t i = 0; i < reports.size(); i += 8) {
      uint64_t n;
      std::memcpy(&n, reports.data() + i, 8);
      ASSERT_EQ(n, acked_end) << "reports out of order";
      ++acked_end;
    }
    for (uint64_t n = next_op; n < acked_end; ++n) ApplyOp(MakeOp(seed, n), &state);
    acked_total += acked_end - next_op;
    const Op in_flight = MakeOp(seed, acked_end);
    State with_in_flight = state;
    ApplyOp(in_flight, &with_in_flight);

    const DiskEvidence ev = Inspect(dir);
    mid_seal += ev.unlisted_segment;
    pending_seal += ev.pending_seal;
    manifest_tmp += ev.manifest_tmp;

    // Verify on a copy half of the time, so that the next writer recovers what the killed one
    // left (and may be killed during that recovery); otherwise on the directory itself.
    const bool on_copy = rng() % 2 == 0;
    std::string open_dir = dir;
    if (on_copy) {
      fs::remove_all(verify_dir);
      fs::copy(dir, verify_dir, fs::copy_options::recursive);
      open_dir = verify_dir;
    }
    const std::string where = "kill " + std::to_string(kills) + " after " +
                              std::to_string(delay_ms) + " ms (seed " + std::to_string(seed) +
                              ", acked through op " + std::to_string(acked_end) +
                              ", in flight: " + crash::OpKindName(in_flight.kind) +
                              "; the directory is left at " + open_dir + ")";
    {
      auto db = Database::Open(open_dir, crash::CrashOptions(2048));
      ASSERT_TRUE(db.ok()) << where << ": " << db.status().ToString();
      auto col = (*db)->GetCollection(crash::kCollection);
      ASSERT_TRUE(col.ok()) << where << ": " << col.status().ToString();
      auto got = ReadAll(**col);
      ASSERT_TRUE(got.ok()) << where << ": " << got.status().ToString();
      const int applied = MatchInFlight(*got, state, with_in_flight);
      ASSERT_NE(applied, -1) << where << ": the recovered points match neither the acknowledged "
                             << "ops nor those plus the op in flight.\n  vs acknowledged:\n"
                             << Diff(state, *got) << "  vs with the op in flight:\n"
                             << Diff(with_in_flight, *got);
      if (applied == 1) {
        in_flight_applied += !(with_in_flight == state);
        state = std::move(with_in_flight);
        next_op = acked_end + 1;
      } else {
        next_op = acked_end;
      }
      ASSERT_TRUE(SearchesFindStoredPoints(**col, state, rng)) << where;
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "[crash] %d kills in %.1f s: %llu ops acknowledged, %d in-flight ops found applied, "
      "%zu points at the end; kills that left an unlisted segment (mid-seal/compaction): %d, "
      "a frozen memtable awaiting its seal: %d, a MANIFEST.tmp: %d\n",
      kills, secs, static_cast<unsigned long long>(acked_total), in_flight_applied, state.size(),
      mid_seal, pending_seal, manifest_tmp);
  fs::remove_all(dir);
  fs::remove_all(verify_dir);
}

// ------------------------------------------------------------------------------------------
// A crash while recovery's seals are half done.

// Forwards to another Env, but can hold the creation of segment files at a gate: the
// background thread then waits there, and the directory is a stable image of "the process
// died with this seal not yet done".
class GatedEnv final : public storage::Env {
 public:
  explicit GatedEnv(storage::Env* base) : base_(base) {}

  // Segment files that may still be created before the next one waits (-1: no limit).
  void AllowSegments(int n) {
    std::lock_guard lock(mu_);
    allowed_ = n;
    cv_.notify_all();
  }
  // Waits until a segment creation is held at the gate.
  bool WaitHeld() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return held_ > 0; });
  }

  Result<std::unique_ptr<storage::WritableFile>> NewWritableFile(const std::string& path) override {
    if (fs::path(path).filename().string().rfind("seg-", 0) == 0) {
      std::unique_lock lock(mu_);
      if (allowed_ == 0) {
        ++held_;
        cv_.notify_all();
        cv_.wait(lock, [&] { return allowed_ != 0; });
        --held_;
      }
      if (allowed_ > 0) --allowed_;
    }
    return base_->NewWritableFile(path);
  }
  Result<std::unique_ptr<storage::WritableFile>> NewAppendableFile(
      const std::string& path) override {
    return base_->NewAppendableFile(path);
  }
  Result<std::shared_ptr<storage::MappedFile>> MapFile(const std::string& path) override {
    return base_->MapFile(path);
  }
  Result<std::string> ReadFile(const std::string& path) override { return base_->ReadFile(path); }
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  Result<uint64_t> FileSize(const std::string& path) override { return base_->FileSize(path); }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return base_->ListDir(dir);
  }
  Status CreateDirs(const std::string& dir) override { return base_->CreateDirs(dir); }
  Status RemoveFile(const std::string& path) override { return base_->RemoveFile(path); }
  Status RemoveDirAll(const std::string& dir) override { return base_->RemoveDirAll(dir); }
  Status RenameFile(const std::string& from, const std::string& to) override {
    return base_->RenameFile(from, to);
  }
  Status TruncateFile(const std::string& path, uint64_t size) override {
    return base_->TruncateFile(path, size);
  }
  Status SyncDir(const std::string& dir) override { return base_->SyncDir(dir); }
  Result<std::unique_ptr<storage::FileLock>> LockFile(const std::string& path) override {
    return base_->LockFile(path);
  }

 private:
  storage::Env* const base_;
  std::mutex mu_;
  std::condition_variable cv_;
  int allowed_ = -1;  // guarded by mu_
  int held_ = 0;      // guarded by mu_
};

Point GridPoint(const std::string& id, int i) {
  std::vector<float> v(crash::kDim);
  for (uint32_t d = 0; d < crash::kDim; ++d) v[d] = static_cast<float>((i * 31 + d * 7) % 997);
  return Point{id, v, "{\"i\":" + std::to_string(i) + "}"};
}

// Recovery replays more log than one memtable holds, so it freezes a memtable part-way through
// the logs and seals it; a crash before the rest is sealed must lose nothing.
TEST(CrashTest, CrashBetweenRecoverySealsLosesNothing) {
  const std::string dir_a = TempDir("reseal_a"), dir_b = dir_a + "_b", dir_c = dir_a + "_c";
  DatabaseOptions options;
  options.memtable_max_bytes = 1024 * crash::kDim * sizeof(float);  // full at 1024 rows
  GatedEnv gate(storage::PosixEnv());
  options.env = &gate;
  State want;
  {
    // A full memtable (1024 rows) is frozen and its seal held; 10 more writes go to a new log.
    gate.AllowSegments(0);
    auto db = Database::Open(dir_a, options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto col = (*db)->CreateCollection("c", crash::kDim, Metric::kL2);
    ASSERT_TRUE(col.ok());
    for (int b = 0; b < 16; ++b) {
      std::vector<Point> batch;
      for (int i = b * 64; i < (b + 1) * 64; ++i) batch.push_back(GridPoint(crash::IdOf(i), i));
      ASSERT_TRUE((*col)->Upsert(batch).ok());
    }
    ASSERT_TRUE(gate.WaitHeld());
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE((*col)->Upsert(GridPoint("late" + std::to_string(i), 5000 + i)).ok());
    }
    auto all = ReadAll(**col);
    ASSERT_TRUE(all.ok());
    want = *all;
    ASSERT_EQ(want.size(), 1034u);
    fs::copy(dir_a, dir_b, fs::copy_options::recursive);  // the process dies here
    gate.AllowSegments(-1);
  }
  {
    // Recovery of that image: let its first seal through, hold the second, and die.
    gate.AllowSegments(1);
    auto db = Database::Open(dir_b, options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(gate.WaitHeld());
    fs::copy(dir_b, dir_c, fs::copy_options::recursive);
    gate.AllowSegments(-1);
  }
  auto m = storage::ReadManifest(storage::PosixEnv(), dir_c);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->collections.at(0).segments.size(), 1u) << "the scenario needs one seal done";
  {
    auto db = Database::Open(dir_c);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto col = (*db)->GetCollection("c");
    ASSERT_TRUE(col.ok());
    auto got = ReadAll(**col);
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(*got == want) << "acknowledged writes lost after a crash between recovery's "
                                 "seals:\n"
                              << Diff(want, *got);
  }
  fs::remove_all(dir_a);
  fs::remove_all(dir_b);
  fs::remove_all(dir_c);
}

// An Update is logged as "change these fields of the stored point": replaying it after a
// restart needs the row it changed. Compaction must not drop that row while the update is
// only in the log (no crash needed: a clean close leaves the memtable in the log too).
TEST(CrashTest, UpdatedRowsSurviveCompactionAndReopen) {
  const std::string dir = TempDir("update_compact");
  const Point a = GridPoint("a", 1), b = GridPoint("b", 2), c = GridPoint("c", 3);
  const std::vector<float> b_vector = GridPoint("b", 20).vector;
  {
    auto db = Database::Open(dir);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto col = (*db)->CreateCollection("c", crash::kDim, Metric::kL2);
    ASSERT_TRUE(col.ok());
    ASSERT_TRUE((*col)->Upsert(std::vector<Point>{a, b, c}).ok());
    ASSERT_TRUE((*col)->Flush().ok());  // a, b, c in a segment
    PointUpdate meta_only, vector_only;
    meta_only.metadata = "{\"v\":2}";
    vector_only.vector = b_vector;
    ASSERT_TRUE((*col)->Update("a", meta_only).ok());
    ASSERT_TRUE((*col)->Update("b", vector_only).ok());
    ASSERT_TRUE((*col)->Compact().ok());  // the old rows of a and b are dead now
  }
  auto db = Database::Open(dir);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto col = (*db)->GetCollection("c");
  ASSERT_TRUE(col.ok());
  auto got = ReadAll(**col);
  ASSERT_TRUE(got.ok());
  const State want = {
      {"a", {a.vector, "{\"v\":2}"}}, {"b", {b_vector, b.metadata}}, {"c", {c.vector, c.metadata}}};
  EXPECT_TRUE(*got == want) << Diff(want, *got);
  // Closed first: the reopened database may still be sealing replayed rows into `dir`.
  ASSERT_TRUE((*db)->Close().ok());
  fs::remove_all(dir);
}

// ------------------------------------------------------------------------------------------
// Power cuts (storage::MemEnv): everything not fsynced disappears.

// Runs rounds of: open, write from a thread, cut the power at a random moment (every write
// fails from then on, then DropUnsyncedData), reopen, check. With kSync every acknowledged op
// must survive; with kNoSync the database must hold a prefix of the ops (no holes).
void PowerCutRounds(Durability durability, int rounds) {
  const uint64_t seed = SeedFromEnv();
  std::printf("[power-cut %s] seed %llu, %d rounds\n",
              durability == Durability::kSync ? "sync" : "nosync",
              static_cast<unsigned long long>(seed), rounds);
  std::fflush(stdout);
  storage::MemEnv env;
  const std::string dir = "/powercut";
  auto options_for = [&](size_t memtable_bytes) {
    DatabaseOptions o = crash::CrashOptions(memtable_bytes);
    o.env = &env;
    o.durability = durability;
    return o;
  };
  {
    auto db = Database::Open(dir, options_for(2048));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)->CreateCollection(crash::kCollection, crash::kDim, Metric::kL2).ok());
  }
  std::mt19937_64 rng(seed);
  State state;
  uint64_t next_op = 0, acked_total = 0, lost_nosync = 0;
  for (int round = 0; round < rounds; ++round) {
    const size_t memtable_bytes = rng() % 4 == 0 ? 32768 : 2048;
    auto db = Database::Open(dir, options_for(memtable_bytes));
    ASSERT_TRUE(db.ok()) << "round " << round << ", seed " << seed << ": "
                         << db.status().ToString();
    auto col = (*db)->GetCollection(crash::kCollection);
    ASSERT_TRUE(col.ok());
    std::atomic<uint64_t> acked_end{next_op};
    // The last round cuts when the writer has stopped and the background is idle.
    const bool quiet = round == rounds - 1;
    const int ops_if_quiet = 300;
    std::thread writer([&] {
      for (uint64_t n = next_op;; ++n) {
        if (quiet && n == next_op + ops_if_quiet) return;
        if (!crash::RunOp(MakeOp(seed, n), **col).ok()) return;
        acked_end.store(n + 1);
      }
    });
    if (quiet) {
      writer.join();
      ASSERT_TRUE((*col)->Flush().ok());
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 40000));
    }
    env.SetFailWrites(true);  // the power is cut: nothing more reaches the disk
    if (!quiet) writer.join();
    col->reset();
    db->reset();  // the process ends (its writes fail)
    env.DropUnsyncedData();
    env.SetFailWrites(false);

    const uint64_t end = acked_end.load();
    const std::string where = "round " + std::to_string(round) + " (seed " + std::to_string(seed) +
                              ", acked through op " + std::to_string(end) + ")";
    State prefix = state;  // ops [0, next_op)
    State acked = state;
    for (uint64_t n = next_op; n < end; ++n) ApplyOp(MakeOp(seed, n), &acked);
    acked_total += end - next_op;

    db = Database::Open(dir, options_for(2048));
    ASSERT_TRUE(db.ok()) << where << ": " << db.status().ToString();
    col = (*db)->GetCollection(crash::kCollection);
    ASSERT_TRUE(col.ok());
    auto got = ReadAll(**col);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    if (durability == Durability::kSync) {
      State with_in_flight = acked;
      ApplyOp(MakeOp(seed, end), &with_in_flight);
      const int applied = MatchInFlight(*got, acked, with_in_flight);
      ASSERT_NE(applied, -1) << where << ": acknowledged writes lost or changed:\n"
                             << Diff(acked, *got);
      state = applied == 1 ? with_in_flight : acked;
      next_op = end + applied;
    } else {
      // Some prefix [0, j) with j <= end + 1.
      uint64_t j = next_op;
      bool found = *got == prefix;
      while (!found && j <= end) {
        ApplyOp(MakeOp(seed, j), &prefix);
        ++j;
        found = *got == prefix;
      }
      ASSERT_TRUE(found) << where << ": not a prefix of the ops:\n" << Diff(acked, *got);
      lost_nosync += end > j ? end - j : 0;
      state = prefix;
      next_op = j;
    }
    ASSERT_TRUE(SearchesFindStoredPoints(**col, state, rng)) << where;
  }
  std::printf("[power-cut] %llu ops acknowledged, %zu points at the end",
              static_cast<unsigned long long>(acked_total), state.size());
  if (durability == Durability::kNoSync) {
    std::printf(", %llu acknowledged (unsynced) ops lost as allowed",
                static_cast<unsigned long long>(lost_nosync));
  }
  std::printf("\n");
}

TEST(PowerCutTest, AcknowledgedWritesSurvive) { PowerCutRounds(Durability::kSync, 40); }

TEST(PowerCutTest, NoSyncKeepsAPrefix) { PowerCutRounds(Durability::kNoSync, 40); }

}  // namespace
}  // namespace nearstore

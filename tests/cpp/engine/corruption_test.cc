// Corruption tests: damage every kind of file of a database and check what Database::Open
// makes of it. The only acceptable outcomes are Corruption with a message naming the damaged
// file, or, where a crash could have produced the damage (the newest write-ahead log cut
// short), a successful open holding exactly a prefix of the acknowledged writes. Never a
// crash, never a silently changed or lost value.
//
// The image under test (built once): collection "docs" (dim 8, l2, payload indexes on two
// fields) with two sealed segments (rows, and tombstones of deletes), then two write-ahead logs (an
// older, complete one and the newest), as a crash leaves them while a frozen memtable waits for its
// seal; and the MANIFEST. Every case works on a fresh copy of the image (std::filesystem::copy).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "nearstore/nearstore.h"
#include "storage/coding.h"
#include "storage/crc32c.h"
#include "storage/wal.h"

namespace nearstore {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kDim = 8;

struct Stored {
  std::vector<float> vector;
  std::string metadata;
  bool operator==(const Stored&) const = default;
};
using State = std::map<std::string, Stored>;

std::string ReadBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteBytes(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

Result<State> ReadAll(const Collection& col) {
  State out;
  ScrollOptions o;
  o.with_vectors = true;
  for (;;) {
    NEARSTORE_ASSIGN_OR_RETURN(ScrollPage page, col.Scroll(o));
    for (auto& p : page.points) out[p.id] = Stored{p.vector, p.metadata};
    if (page.next_after.empty()) break;
    o.after = page.next_after;
  }
  return out;
}

std::string WalName(uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "wal-%06" PRIu64 ".log", n);
  return buf;
}

// The database image and what it must hold.
struct Golden {
  fs::path root;  // scratch space of this process
  fs::path image;
  std::string coll;  // the collection's directory name
  std::vector<std::string> segments;
  std::string older_wal, newest_wal;
  std::vector<State> prefix;  // prefix[j]: the points after the first j writes
  size_t ops_before_newest = 0;
  std::vector<size_t> newest_record_ends;  // file offsets where the newest log's records end
  size_t older_wal_records = 0;
};

class Builder {
 public:
  explicit Builder(Collection* col, Golden* g) : col_(col), g_(g) { g_->prefix.push_back({}); }

  void Upsert(std::vector<std::string> ids) {
    std::vector<Point> pts;
    for (auto& id : ids) {
      // Compact JSON with sorted keys: the engine's canonical form, so it reads back verbatim.
      pts.push_back(Point{id, Vec(), "{\"id\":\"" + id + "\",\"op\":" + std::to_string(op_) + "}"});
    }
    ASSERT_TRUE(col_->Upsert(pts).ok());
    Next([&](State& s) {
      for (auto& p : pts) s[p.id] = Stored{p.vector, p.metadata};
    });
  }
  void Update(const std::string& id, bool vec, bool meta) {
    PointUpdate u;
    if (vec) u.vector = Vec();
    if (meta) u.metadata = "{\"op\":" + std::to_string(op_) + ",\"updated\":true}";
    ASSERT_TRUE(col_->Update(id, u).ok());
    Next([&](State& s) {
      auto it = s.find(id);
      if (it == s.end()) return;
      if (vec) it->second.vector = *u.vector;
      if (meta) it->second.metadata = *u.metadata;
    });
  }
  void Delete(std::vector<std::string> ids) {
    ASSERT_TRUE(col_->DeleteMany(ids).ok());
    Next([&](State& s) {
      for (auto& id : ids) s.erase(id);
    });
  }
  size_t ops() const { return op_; }

 private:
  std::vector<float> Vec() {
    std::vector<float> v(kDim);
    for (auto& x : v) x = static_cast<float>(static_cast<int>(rng_() % 2001) - 1000) / 64.0f;
    return v;
  }
  void Next(const std::function<void(State&)>& f) {
    State s = g_->prefix.back();
    f(s);
    g_->prefix.push_back(std::move(s));
    ++op_;
  }
  Collection* col_;
  Golden* g_;
  size_t op_ = 0;
  std::mt19937_64 rng_{12345};
};

std::string Id(const char* prefix, int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%s%03d", prefix, i);
  return buf;
}

DatabaseOptions ImageOptions() {
  DatabaseOptions o;
  o.compaction_dead_fraction = 2.0;  // keep both segments and their tombstones
  o.compaction_max_segments = 100;
  o.search_threads = 1;
  return o;
}

// Thousands of copies of the image are made and opened: on a RAM file system when there is
// one (what is tested is parsing and recovery, not the disk). NEARSTORE_TEST_TMPDIR overrides.
fs::path ScratchBase() {
  if (const char* d = std::getenv("NEARSTORE_TEST_TMPDIR")) return d;
  std::error_code ec;
  if (fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) return "/dev/shm";
  return fs::temp_directory_path();
}

// Builds the image once for the whole suite.
const Golden& GetGolden() {
  static Golden* golden = [] {
    auto* g = new Golden;
    g->root = ScratchBase() / ("nearstore_corruption_" + std::to_string(::getpid()));
    fs::remove_all(g->root);
    fs::create_directories(g->root);
    g->image = g->root / "image";
    std::atexit([] { fs::remove_all(GetGolden().root); });
    {
      auto db = Database::Open(g->image.string(), ImageOptions());
      EXPECT_TRUE(db.ok()) << db.status().ToString();
      auto col = (*db)->CreateCollection("docs", kDim, Metric::kL2);
      EXPECT_TRUE(col.ok());
      // Each segment file then holds a payload index section: damage to it must be found too.
      EXPECT_TRUE((*col)->CreatePayloadIndex("op", PayloadIndexKind::kInt).ok());
      EXPECT_TRUE((*col)->CreatePayloadIndex("id", PayloadIndexKind::kKeyword).ok());
      Builder b(col->get(), g);
      // Segment 1: rows, replaced rows and tombstones.
      std::vector<std::string> ids;
      for (int i = 0; i < 20; ++i) ids.push_back(Id("d", i));
      b.Upsert(ids);
      ids.clear();
      for (int i = 20; i < 40; ++i) ids.push_back(Id("d", i));
      b.Upsert(ids);
      for (int i = 40; i < 46; ++i) b.Upsert({Id("d", i)});
      b.Delete({Id("d", 1), Id("d", 2)});
      b.Delete({Id("d", 3)});
      b.Update(Id("d", 4), true, false);
      b.Update(Id("d", 5), false, true);
      EXPECT_TRUE((*col)->Flush().ok());
      // Segment 2: deletes and updates of rows of segment 1.
      b.Upsert({Id("e", 0), Id("e", 1), Id("e", 2), Id("e", 3)});
      b.Update(Id("d", 6), true, true);
      b.Delete({Id("d", 7), Id("e", 0)});
      b.Upsert({Id("d", 8)});
      EXPECT_TRUE((*col)->Flush().ok());
      // The log: 8 writes for the older log, 8 for the newest.
      const size_t before_logs = b.ops();
      b.Upsert({Id("w", 0)});
      b.Upsert({Id("w", 1), Id("w", 2), Id("w", 3)});
      b.Delete({Id("d", 9)});
      b.Update(Id("d", 10), false, true);
      b.Delete({"absent"});
      b.Upsert({Id("d", 11)});
      b.Update(Id("e", 1), true, false);
      b.Upsert({Id("w", 4)});
      g->ops_before_newest = b.ops();
      b.Upsert({Id("x", 0), Id("x", 1)});
      b.Delete({Id("d", 12), Id("w", 0)});
      b.Update(Id("d", 13), true, false);
      b.Update("absent", true, true);
      b.Upsert({Id("x", 2)});
      b.Upsert({Id("d", 14), Id("x", 3), Id("x", 4)});
      b.Delete({Id("e", 2)});
      b.Update(Id("x", 0), false, true);
      g->older_wal_records = g->ops_before_newest - before_logs;
      auto all = ReadAll(**col);
      EXPECT_TRUE(all.ok() && *all == g->prefix.back()) << "the model does not match the database";
    }
    // Find the files and split the one log in two, as a rotation would have.
    for (const auto& e : fs::directory_iterator(g->image)) {
      if (e.is_directory()) g->coll = e.path().filename().string();
    }
    const fs::path cdir = g->image / g->coll;
    uint64_t max_number = 0;
    std::string wal;
    for (const auto& e : fs::directory_iterator(cdir)) {
      const std::string n = e.path().filename().string();
      unsigned long long num = 0;
      if (std::sscanf(n.c_str(), "seg-%llu.nss", &num) == 1) g->segments.push_back(n);
      if (std::sscanf(n.c_str(), "wal-%llu.log", &num) == 1) {
        EXPECT_TRUE(wal.empty()) << "expected one log after close, found " << wal << " and " << n;
        wal = n;
      }
      max_number = std::max<uint64_t>(max_number, num);
    }
    std::sort(g->segments.begin(), g->segments.end());
    EXPECT_EQ(g->segments.size(), 2u);
    const std::string data = ReadBytes(cdir / wal);
    auto parsed = storage::ParseWal(data, wal);
    EXPECT_TRUE(parsed.ok());
    const size_t total_records = parsed->records.size();
    EXPECT_EQ(total_records, g->prefix.size() - 1 - (g->ops_before_newest - g->older_wal_records));
    const size_t split_record = g->older_wal_records;
    auto record_start = [&](size_t i) {
      return static_cast<size_t>(parsed->records[i].data() - data.data()) -
             storage::kWalRecordHeaderSize;
    };
    const std::string header = data.substr(0, storage::kWalHeaderSize);
    g->older_wal = wal;
    g->newest_wal = WalName(max_number + 1);
    WriteBytes(cdir / g->older_wal,
               header + data.substr(storage::kWalHeaderSize,
                                    record_start(split_record) - storage::kWalHeaderSize));
    const std::string newest = header + data.substr(record_start(split_record));
    WriteBytes(cdir / g->newest_wal, newest);
    auto parsed_newest = storage::ParseWal(newest, g->newest_wal);
    for (auto rec : parsed_newest->records) {
      g->newest_record_ends.push_back(static_cast<size_t>(rec.data() - newest.data()) + rec.size());
    }
    return g;
  }();
  return *golden;
}

// A fresh copy of the image.
fs::path FreshCopy(const std::string& name = "case") {
  const Golden& g = GetGolden();
  const fs::path p = g.root / name;
  fs::remove_all(p);
  fs::copy(g.image, p, fs::copy_options::recursive);
  return p;
}

// The points of the database at `dir`, or the error of Open.
Result<State> OpenAndRead(const fs::path& dir, const DatabaseOptions& o = ImageOptions()) {
  NEARSTORE_ASSIGN_OR_RETURN(auto db, Database::Open(dir.string(), o));
  NEARSTORE_ASSIGN_OR_RETURN(auto col, db->GetCollection("docs"));
  return ReadAll(*col);
}

// Where an offset of a segment file lies (from the section table, docs/FORMATS.md).
std::string SegmentRegion(const std::string& data, size_t offset) {
  static const char* kNames[] = {"vectors",       "seqs",     "id offsets",     "ids",
                                 "meta offsets",  "metadata", "tombstone seqs", "tomb offsets",
                                 "tombstone ids", "graph",    "codes",          "payload indexes"};
  constexpr int kSections = 12;
  if (offset < 56) return "header fields";
  if (offset < 56 + kSections * 24) return "section table";
  if (offset < 56 + kSections * 24 + 4) return "header checksum";
  std::string region = "header padding";
  for (int i = 0; i < kSections; ++i) {
    const uint64_t off = storage::LoadU64(data.data() + 56 + i * 24);
    const uint64_t len = storage::LoadU64(data.data() + 56 + i * 24 + 8);
    if (offset >= off && offset < off + len) return std::string("section '") + kNames[i] + "'";
    if (offset >= off + len) region = std::string("padding after '") + kNames[i] + "'";
  }
  return region;
}

// Collects the cases that went wrong, so one run reports all of them.
class Findings {
 public:
  void Add(std::string s) { problems_.push_back(std::move(s)); }
  bool empty() const { return problems_.empty(); }
  std::string Report() const {
    std::string out = std::to_string(problems_.size()) + " case(s) went wrong:\n";
    for (size_t i = 0; i < problems_.size() && i < 40; ++i) out += "  " + problems_[i] + "\n";
    if (problems_.size() > 40) out += "  ...\n";
    return out;
  }

 private:
  std::vector<std::string> problems_;
};

// The outcome must be Corruption naming `file`. Anything else is recorded in `f`.
void ExpectCorruption(const Result<State>& r, const std::string& file, const std::string& what,
                      Findings* f) {
  if (r.ok()) {
    const bool same = *r == GetGolden().prefix.back();
    f->Add(what + ": open succeeded, " +
           (same ? std::string("data unchanged (damage silently accepted)")
                 : std::string("DATA CHANGED SILENTLY")));
    return;
  }
  if (r.status().code() != StatusCode::kCorruption) {
    f->Add(what + ": " + r.status().ToString() + " (expected Corruption)");
  } else if (r.status().message().find(file) == std::string::npos) {
    f->Add(what + ": Corruption does not name '" + file + "': " + r.status().message());
  }
}

// Offsets to damage: every one for files up to 16 KiB, else the first and last KiB and 200
// more drawn at random.
std::vector<size_t> OffsetsOf(size_t size) {
  std::vector<size_t> out;
  if (size <= (16u << 10)) {
    for (size_t i = 0; i < size; ++i) out.push_back(i);
    return out;
  }
  std::set<size_t> s;
  for (size_t i = 0; i < 1024; ++i) s.insert(i), s.insert(size - 1 - i);
  std::mt19937_64 rng(size);
  while (s.size() < 2048 + 200) s.insert(rng() % size);
  return {s.begin(), s.end()};
}

// Flips one bit (bit i % 8 at offset i) at every offset of `file` (relative to the image) and
// opens each copy.
void FlipEveryByte(const std::string& rel, Findings* f, int* cases) {
  const Golden& g = GetGolden();
  const std::string golden = ReadBytes(g.image / rel);
  const std::string name = fs::path(rel).filename().string();
  const bool segment = name.rfind("seg-", 0) == 0;
  for (size_t off : OffsetsOf(golden.size())) {
    const fs::path dir = FreshCopy();
    std::string bytes = golden;
    bytes[off] = static_cast<char>(bytes[off] ^ (1u << (off % 8)));
    WriteBytes(dir / rel, bytes);
    ExpectCorruption(OpenAndRead(dir), name,
                     "bit " + std::to_string(off % 8) + " of byte " + std::to_string(off) + " of " +
                         name + (segment ? " (" + SegmentRegion(golden, off) + ")" : ""),
                     f);
    ++*cases;
  }
}

// Lengths to cut a file to: every one for files up to 1 KiB; else every one within the first
// 512 bytes (headers), both sides of every 64-byte boundary (segment sections start and end
// there, padded), the last 64, and 200 more drawn at random.
std::vector<size_t> LengthsOf(size_t size) {
  std::set<size_t> s;
  for (size_t i = 0; i < size; ++i) {
    if (size <= 1024 || i < 512 || i + 64 >= size || i % 64 == 0 || i % 64 == 1 || i % 64 == 63) {
      s.insert(i);
    }
  }
  std::mt19937_64 rng(size);
  for (int i = 0; i < 200; ++i) s.insert(rng() % size);
  return {s.begin(), s.end()};
}

// Truncates `file` at many lengths below its size; each must give Corruption.
void TruncateEverywhere(const std::string& rel, Findings* f, int* cases) {
  const Golden& g = GetGolden();
  const std::string golden = ReadBytes(g.image / rel);
  const std::string name = fs::path(rel).filename().string();
  for (size_t len : LengthsOf(golden.size())) {
    const fs::path dir = FreshCopy();
    fs::resize_file(dir / rel, len);
    ExpectCorruption(OpenAndRead(dir), name,
                     name + " truncated to " + std::to_string(len) + " of " +
                         std::to_string(golden.size()) + " bytes",
                     f);
    ++*cases;
  }
}

TEST(CorruptionTest, IntactImageOpens) {
  const Golden& g = GetGolden();
  auto r = OpenAndRead(FreshCopy());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(*r == g.prefix.back());
  std::printf("[corruption] image: %zu writes, segments %s %s, logs %s (%zu writes) and %s (%zu)\n",
              g.prefix.size() - 1, g.segments[0].c_str(), g.segments[1].c_str(),
              g.older_wal.c_str(), g.older_wal_records, g.newest_wal.c_str(),
              g.newest_record_ends.size());
}

TEST(CorruptionTest, ManifestFlipsAndTruncations) {
  Findings f;
  int cases = 0;
  FlipEveryByte("MANIFEST", &f, &cases);
  TruncateEverywhere("MANIFEST", &f, &cases);
  std::printf("[corruption] MANIFEST: %d cases\n", cases);
  EXPECT_TRUE(f.empty()) << f.Report();
}

TEST(CorruptionTest, SegmentFlipsAndTruncations) {
  const Golden& g = GetGolden();
  Findings f;
  int cases = 0;
  for (const auto& seg : g.segments) {
    FlipEveryByte(g.coll + "/" + seg, &f, &cases);
    TruncateEverywhere(g.coll + "/" + seg, &f, &cases);
  }
  std::printf("[corruption] segments: %d cases\n", cases);
  EXPECT_TRUE(f.empty()) << f.Report();
}

TEST(CorruptionTest, OlderWalFlipsAndTruncations) {
  const Golden& g = GetGolden();
  Findings f;
  int cases = 0;
  // Damage anywhere in a log that is not the newest, cut short included, is corruption.
  FlipEveryByte(g.coll + "/" + g.older_wal, &f, &cases);
  TruncateEverywhere(g.coll + "/" + g.older_wal, &f, &cases);
  std::printf("[corruption] older log: %d cases\n", cases);
  EXPECT_TRUE(f.empty()) << f.Report();
}

TEST(CorruptionTest, NewestWalFlips) {
  const Golden& g = GetGolden();
  Findings f;
  int cases = 0;
  // A whole record that fails its checksum is corruption even at the end of the newest log.
  FlipEveryByte(g.coll + "/" + g.newest_wal, &f, &cases);
  std::printf("[corruption] newest log flips: %d cases\n", cases);
  EXPECT_TRUE(f.empty()) << f.Report();
}

// The newest log cut short anywhere (a torn tail) opens with exactly the writes whose records
// are whole, and the trimmed log opens the same way again.
TEST(CorruptionTest, NewestWalTruncationsKeepAPrefix) {
  const Golden& g = GetGolden();
  const std::string rel = g.coll + "/" + g.newest_wal;
  const size_t size = fs::file_size(g.image / rel);
  std::set<size_t> lengths;
  for (size_t i = 0; i <= storage::kWalHeaderSize + 4; ++i) lengths.insert(i);
  size_t prev_end = storage::kWalHeaderSize;
  for (size_t end : g.newest_record_ends) {
    for (size_t d = 0; d <= 2; ++d) lengths.insert(end - d), lengths.insert(end + d);
    lengths.insert(prev_end + storage::kWalRecordHeaderSize - 1);  // record header cut short
    lengths.insert(prev_end + storage::kWalRecordHeaderSize + 1);  // payload cut short
    lengths.insert((prev_end + end) / 2);
    prev_end = end;
  }
  Findings f;
  int cases = 0;
  for (size_t len : lengths) {
    if (len >= size) continue;
    const fs::path dir = FreshCopy();
    fs::resize_file(dir / rel, len);
    size_t whole = 0;
    for (size_t end : g.newest_record_ends) whole += end <= len;
    const State& want = g.prefix[g.ops_before_newest + whole];
    const std::string what = g.newest_wal + " truncated to " + std::to_string(len) + " bytes";
    for (int open = 0; open < (len % 5 == 0 ? 2 : 1); ++open) {
      auto r = OpenAndRead(dir);
      if (!r.ok()) {
        f.Add(what + ": " + r.status().ToString() + " (a torn tail must open)");
      } else if (!(*r == want)) {
        f.Add(what + (open ? " (second open)" : "") + ": not the first " +
              std::to_string(g.ops_before_newest + whole) + " writes");
      }
    }
    ++cases;
  }
  std::printf("[corruption] newest log truncations: %d cases\n", cases);
  EXPECT_TRUE(f.empty()) << f.Report();
}

// Checksums are verified on open by default, so a flipped bit in the vectors (which no
// structural check could notice) fails the open.
TEST(CorruptionTest, FlippedVectorByteFailsOpen) {
  const Golden& g = GetGolden();
  for (const auto& seg : g.segments) {
    const fs::path dir = FreshCopy();
    const fs::path p = dir / g.coll / seg;
    std::string bytes = ReadBytes(p);
    const uint64_t vectors_at = storage::LoadU64(bytes.data() + 56);  // first section's offset
    bytes[vectors_at + 5] ^= 0x04;
    WriteBytes(p, bytes);
    auto r = OpenAndRead(dir);
    ASSERT_FALSE(r.ok()) << seg;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
    EXPECT_NE(r.status().message().find(seg), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find("'vectors' fails its checksum"), std::string::npos)
        << r.status().ToString();
  }
}

// A payload index section whose checksum was recomputed after the damage (as a writer's bug
// would leave it): its structure is validated on open, so the open still fails.
TEST(CorruptionTest, PayloadIndexDamagedUnderAValidChecksum) {
  const Golden& g = GetGolden();
  constexpr size_t kTable = 56, kEntry = 24, kPayloadSection = 11, kHeaderCrc = 56 + 12 * 24;
  for (const auto& seg : g.segments) {
    const fs::path dir = FreshCopy();
    const fs::path p = dir / g.coll / seg;
    std::string bytes = ReadBytes(p);
    char* entry = bytes.data() + kTable + kPayloadSection * kEntry;
    const uint64_t at = storage::LoadU64(entry), len = storage::LoadU64(entry + 8);
    ASSERT_GT(len, 0u) << seg << " has no payload index section";
    // The first field ("op", int): after the 24-byte section header, its 24-byte header and
    // its name padded to 8, the first row's tag; 3 is no tag.
    bytes[at + 24 + 24 + 8] = 3;
    storage::StoreU32(entry + 16, storage::Crc32c(bytes.data() + at, len));
    storage::StoreU32(bytes.data() + kHeaderCrc, storage::Crc32c(bytes.data(), kHeaderCrc));
    WriteBytes(p, bytes);
    auto r = OpenAndRead(dir);
    ASSERT_FALSE(r.ok()) << seg;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
    EXPECT_NE(r.status().message().find("payload index in"), std::string::npos)
        << r.status().ToString();
    EXPECT_NE(r.status().message().find(seg), std::string::npos) << r.status().ToString();
  }
}

TEST(CorruptionTest, MissingSegment) {
  const Golden& g = GetGolden();
  Findings f;
  for (const auto& seg : g.segments) {
    const fs::path dir = FreshCopy();
    fs::remove(dir / g.coll / seg);
    ExpectCorruption(OpenAndRead(dir), seg, "missing " + seg, &f);
  }
  EXPECT_TRUE(f.empty()) << f.Report();
}

TEST(CorruptionTest, MissingManifestWithCollectionDirectory) {
  Findings f;
  const fs::path dir = FreshCopy();
  fs::remove(dir / "MANIFEST");
  ExpectCorruption(OpenAndRead(dir), "MANIFEST", "missing MANIFEST", &f);
  // The collection's files are still there for a person to rescue.
  EXPECT_TRUE(fs::exists(dir / GetGolden().coll / GetGolden().segments[0]));
  EXPECT_TRUE(f.empty()) << f.Report();
}

// A log lost from the middle of the sequence (or one cut exactly at a record boundary) leaves a
// hole in the sequence numbers: corruption, not a silent loss. The lost file cannot be named;
// the message names the log where the hole shows.
TEST(CorruptionTest, MissingOlderWal) {
  const Golden& g = GetGolden();
  Findings f;
  const fs::path dir = FreshCopy();
  fs::remove(dir / g.coll / g.older_wal);
  ExpectCorruption(OpenAndRead(dir), g.newest_wal, "missing " + g.older_wal, &f);
  EXPECT_TRUE(f.empty()) << f.Report();
}

TEST(CorruptionTest, OlderWalWithTornTail) {
  const Golden& g = GetGolden();
  Findings f;
  const fs::path dir = FreshCopy();
  const fs::path p = dir / g.coll / g.older_wal;
  fs::resize_file(p, fs::file_size(p) - 3);
  ExpectCorruption(OpenAndRead(dir), g.older_wal, "older log with a torn tail", &f);
  EXPECT_TRUE(f.empty()) << f.Report();
}

TEST(CorruptionTest, ZeroFilledTailOfNewestWalIsATornTail) {
  const Golden& g = GetGolden();
  const fs::path dir = FreshCopy();
  const fs::path p = dir / g.coll / g.newest_wal;
  WriteBytes(p, ReadBytes(p) + std::string(100, '\0'));
  auto r = OpenAndRead(dir);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(*r == g.prefix.back());
}

TEST(CorruptionTest, GarbageAppendedToNewestWal) {
  const Golden& g = GetGolden();
  Findings f;
  const fs::path dir = FreshCopy();
  const fs::path p = dir / g.coll / g.newest_wal;
  WriteBytes(p, ReadBytes(p) + std::string("this is not a log record at all"));
  ExpectCorruption(OpenAndRead(dir), g.newest_wal, "garbage after the newest log's records", &f);
  EXPECT_TRUE(f.empty()) << f.Report();
}

TEST(CorruptionTest, BytesAppendedToSegment) {
  const Golden& g = GetGolden();
  Findings f;
  for (const auto& seg : g.segments) {
    for (size_t extra : {1, 8, 64, 4096}) {
      const fs::path dir = FreshCopy();
      const fs::path p = dir / g.coll / seg;
      WriteBytes(p, ReadBytes(p) + std::string(extra, '\x5a'));
      ExpectCorruption(OpenAndRead(dir), seg, std::to_string(extra) + " bytes appended to " + seg,
                       &f);
    }
  }
  EXPECT_TRUE(f.empty()) << f.Report();
}

TEST(CorruptionTest, SegmentReplacedByAnother) {
  const Golden& g = GetGolden();
  Findings f;
  const fs::path dir = FreshCopy();
  fs::copy_file(dir / g.coll / g.segments[1], dir / g.coll / g.segments[0],
                fs::copy_options::overwrite_existing);
  ExpectCorruption(OpenAndRead(dir), g.segments[0], g.segments[0] + " replaced by " + g.segments[1],
                   &f);
  EXPECT_TRUE(f.empty()) << f.Report();
}

// Files the engine did not write are ignored (or, for leftovers of its own, cleaned), never
// a crash; a file that claims to be a log by its name is read as one.
TEST(CorruptionTest, UnknownFilesInCollectionDirectory) {
  const Golden& g = GetGolden();
  struct Case {
    std::string name;
    std::string bytes;
    bool expect_ok;
    bool expect_removed;
  };
  const std::vector<Case> cases = {
      {"notes.txt", "hello", true, false},
      {"wal-000001.log.bak", "not a log", true, false},
      {"seg-zz.nss", "not a segment", true, false},
      {"junk.tmp", "leftover", true, true},
      {"MANIFEST", "a stray manifest in the wrong place", true, false},
      {"seg-009999.nss", "garbage with a segment's name", true, true},  // an unlisted leftover
      {"wal-009999.log", "xyz", true, true},  // shorter than a header: a log torn at birth
      {"wal-009999.log", std::string(64, '\x7f'), false, false},
  };
  Findings f;
  for (const auto& c : cases) {
    const fs::path dir = FreshCopy();
    WriteBytes(dir / g.coll / c.name, c.bytes);
    fs::create_directories(dir / g.coll / "subdir");
    WriteBytes(dir / g.coll / "subdir" / "file", "x");
    WriteBytes(dir / "garbage-at-top", "x");
    WriteBytes(dir / "MANIFEST.tmp", "a manifest being written when the process died");
    auto r = OpenAndRead(dir);
    const std::string what =
        "unknown file '" + c.name + "' (" + std::to_string(c.bytes.size()) + " bytes)";
    if (c.expect_ok) {
      if (!r.ok()) {
        f.Add(what + ": " + r.status().ToString());
      } else if (!(*r == g.prefix.back())) {
        f.Add(what + ": the points changed");
      } else if (c.expect_removed == fs::exists(dir / g.coll / c.name)) {
        f.Add(what + (c.expect_removed ? ": not cleaned up" : ": removed"));
      }
    } else {
      ExpectCorruption(r, c.name, what, &f);
    }
  }
  EXPECT_TRUE(f.empty()) << f.Report();
}

}  // namespace
}  // namespace nearstore

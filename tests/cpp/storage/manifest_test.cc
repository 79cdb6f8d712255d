// MANIFEST encoding: round trips, and every kind of damage refused as Corruption naming the file.
#include "storage/manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/coding.h"
#include "storage/crc32c.h"
#include "storage/mem_env.h"

namespace nearstore::storage {
namespace {

using ::testing::HasSubstr;

const std::string kPath = "/db/MANIFEST";

Manifest Sample() {
  Manifest m;
  m.next_collection_id = 42;
  CollectionEntry a;
  a.name = "docs";
  a.id = 7;
  a.dir = "c000007";
  a.dim = 1536;
  a.metric = "cosine";
  a.next_file = 19;
  a.min_wal = 12;
  a.last_sealed_seq = 123456789012345ull;
  a.segments.push_back({"seg-000010.nss", 1000, 3, 1, 1003, 6144000});
  a.segments.push_back({"seg-000015.nss", 17, 0, 1004, 1020, 70000});
  CollectionEntry b;
  b.name = "x.y-z_0";
  b.id = 41;
  b.dir = "c000041";
  b.dim = 1;
  b.metric = "dot";
  m.collections = {a, b};
  return m;
}

void ExpectSame(const Manifest& a, const Manifest& b) {
  EXPECT_EQ(a.next_collection_id, b.next_collection_id);
  ASSERT_EQ(a.collections.size(), b.collections.size());
  for (size_t i = 0; i < a.collections.size(); ++i) {
    const auto &x = a.collections[i], &y = b.collections[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.dir, y.dir);
    EXPECT_EQ(x.dim, y.dim);
    EXPECT_EQ(x.metric, y.metric);
    EXPECT_EQ(x.next_file, y.next_file);
    EXPECT_EQ(x.min_wal, y.min_wal);
    EXPECT_EQ(x.last_sealed_seq, y.last_sealed_seq);
    ASSERT_EQ(x.segments.size(), y.segments.size());
    for (size_t j = 0; j < x.segments.size(); ++j) {
      const auto &s = x.segments[j], &t = y.segments[j];
      EXPECT_EQ(s.file, t.file);
      EXPECT_EQ(s.rows, t.rows);
      EXPECT_EQ(s.tombstones, t.tombstones);
      EXPECT_EQ(s.min_seq, t.min_seq);
      EXPECT_EQ(s.max_seq, t.max_seq);
      EXPECT_EQ(s.size_bytes, t.size_bytes);
    }
  }
}

// Header: magic(8) version(4) payload length(4) payload crc(4) header crc(4), then the payload.
std::string WithPayload(const std::string& payload, uint32_t version = 1) {
  std::string out = "NSMANIF";
  out.push_back('\0');
  PutU32(out, version);
  PutU32(out, static_cast<uint32_t>(payload.size()));
  PutU32(out, Crc32c(payload));
  PutU32(out, Crc32c(out));
  return out + payload;
}

void ExpectCorrupt(std::string_view data, const std::vector<std::string>& parts) {
  auto m = DecodeManifest(data, kPath);
  ASSERT_FALSE(m.ok()) << "damaged manifest accepted";
  EXPECT_EQ(m.status().code(), StatusCode::kCorruption) << m.status().ToString();
  EXPECT_THAT(m.status().message(), HasSubstr(kPath));
  for (const auto& p : parts) EXPECT_THAT(m.status().message(), HasSubstr(p));
}

TEST(Manifest, RoundTrip) {
  const Manifest m = Sample();
  auto decoded = DecodeManifest(EncodeManifest(m), kPath);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectSame(m, *decoded);
  auto empty = DecodeManifest(EncodeManifest(Manifest{}), kPath);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  ExpectSame(Manifest{}, *empty);
}

TEST(Manifest, WriteAndReadThroughEnv) {
  auto env = NewMemEnv();
  EXPECT_EQ(ReadManifest(env.get(), "/db").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(env->CreateDirs("/db").ok());
  ASSERT_TRUE(WriteManifest(env.get(), "/db", Sample()).ok());
  auto m = ReadManifest(env.get(), "/db");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ExpectSame(Sample(), *m);
  Manifest next = Sample();
  next.collections.pop_back();
  ASSERT_TRUE(WriteManifest(env.get(), "/db", next).ok());  // replaces the old one
  m = ReadManifest(env.get(), "/db");
  ASSERT_TRUE(m.ok());
  ExpectSame(next, *m);
  auto names = env->ListDir("/db");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"MANIFEST"}) << "temporary files left behind";
}

TEST(Manifest, TruncatedIsCorruption) {
  const std::string data = EncodeManifest(Sample());
  for (size_t cut = 0; cut < data.size(); cut += (cut < 40 ? 1 : 37)) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    ExpectCorrupt(std::string_view(data).substr(0, cut), {});
  }
  ExpectCorrupt(data + "x", {"payload length"});
}

TEST(Manifest, EveryFlippedByteIsCorruption) {
  const std::string data = EncodeManifest(Sample());
  for (size_t pos = 0; pos < data.size(); ++pos) {
    std::string bad = data;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x01);
    SCOPED_TRACE("flip at " + std::to_string(pos));
    ExpectCorrupt(bad, {});
  }
}

TEST(Manifest, BadMagicAndVersion) {
  std::string bad = EncodeManifest(Sample());
  bad[0] = 'X';
  ExpectCorrupt(bad, {"bad magic"});
  const std::string payload = EncodeManifest(Sample()).substr(24);
  ExpectCorrupt(WithPayload(payload, 2), {"format version 2", "expected 1"});
  auto ok = DecodeManifest(WithPayload(payload, 1), kPath);  // the hand-built header is right
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
}

TEST(Manifest, ValidChecksumsButUnusableContents) {
  ExpectCorrupt(WithPayload("not json"), {"unreadable"});
  ExpectCorrupt(WithPayload("[]"), {"unreadable"});
  ExpectCorrupt(WithPayload(std::string(100000, '[') + std::string(100000, ']')),
                {"nests deeper than 64"});
  ExpectCorrupt(WithPayload(R"({"collections": []})"), {"unreadable"});
  ExpectCorrupt(WithPayload(R"({"next_collection_id": "seven", "collections": []})"),
                {"next_collection_id"});
  const std::string coll =
      R"({"name":"a","id":1,"dir":"%DIR%","dim":3,"metric":"l2","next_file":2,"min_wal":1,)"
      R"("last_sealed_seq":0,"segments":[%SEG%]})";
  auto doc = [&](const std::string& dir, const std::string& seg) {
    std::string c = coll;
    c.replace(c.find("%DIR%"), 5, dir);
    c.replace(c.find("%SEG%"), 5, seg);
    return R"({"next_collection_id":2,"collections":[)" + c + "]}";
  };
  ASSERT_TRUE(DecodeManifest(WithPayload(doc("c000001", "")), kPath).ok());
  // File names from disk must be plain names: no path tricks.
  for (const char* dir : {"../escape", "a/b", "..", ".", ""}) {
    SCOPED_TRACE(dir);
    ExpectCorrupt(WithPayload(doc(dir, "")), {"not a name"});
  }
  const std::string seg =
      R"({"file":"%F%","rows":1,"tombstones":0,"min_seq":1,"max_seq":1,"size_bytes":10})";
  for (const char* file : {"../../etc/passwd", "/abs", ""}) {
    SCOPED_TRACE(file);
    std::string s = seg;
    s.replace(s.find("%F%"), 3, file);
    ExpectCorrupt(WithPayload(doc("c000001", s)), {"not a name"});
  }
  ExpectCorrupt(WithPayload(doc("c000001", R"({"file":"seg-1.nss"})")), {"unreadable"});
}

// Unsigned fields must be unsigned integers that fit: a negative count must not wrap around to
// 2^64-1, nor a dimension beyond 32 bits be truncated.
TEST(Manifest, NumbersOutOfRangeAreCorruption) {
  auto with = [](const std::string& field, const std::string& value) {
    std::string c =
        R"({"name":"a","id":1,"dir":"c000001","dim":3,"metric":"l2","next_file":2,"min_wal":1,)"
        R"("last_sealed_seq":0,"segments":[{"file":"seg-000002.nss","rows":1,"tombstones":0,)"
        R"("min_seq":1,"max_seq":1,"size_bytes":10}]})";
    const std::string key = "\"" + field + "\":";
    const size_t at = c.find(key) + key.size();
    c.replace(at, c.find_first_of(",}", at) - at, value);
    return R"({"next_collection_id":2,"collections":[)" + c + "]}";
  };
  ASSERT_TRUE(DecodeManifest(WithPayload(with("rows", "1")), kPath).ok());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"rows", "-1"},
      {"tombstones", "-5"},
      {"min_seq", "1.5"},
      {"size_bytes", "1e3"},
      {"dim", "8589934595"},
      {"dim", "-3"},
      {"id", "true"},
      {"next_file", "\"2\""},
      {"last_sealed_seq", "null"},
      {"max_seq", "-9223372036854775808"},
  };
  for (const auto& [field, value] : cases) {
    SCOPED_TRACE(field + " = " + value);
    ExpectCorrupt(WithPayload(with(field, value)), {field});
  }
}

}  // namespace
}  // namespace nearstore::storage

// The write-ahead log's framing: round trips through WalWriter and ParseWal, a tail cut at
// every byte offset (a torn write: earlier records intact), and a damaged complete record (a
// Corruption that names the file and the offset, never skipped).
#include "storage/wal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "storage/env.h"
#include "storage/mem_env.h"

namespace nearstore::storage {
namespace {

using ::testing::HasSubstr;

const std::string kPath = "/wal/wal-000001.log";

std::vector<std::string> SamplePayloads() {
  std::vector<std::string> p = {"first", "", std::string(1, '\0'), std::string(1000, 'b'),
                                "last record"};
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  p.insert(p.begin() + 2, binary);
  return p;
}

// Writes the payloads through a WalWriter (some records framed together in one Append) and
// returns the file's bytes.
std::string WriteLog(Env* env, const std::vector<std::string>& payloads) {
  auto w = WalWriter::Create(env, kPath);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  std::string pending;
  for (size_t i = 0; i < payloads.size(); ++i) {
    WalWriter::EncodeRecord(payloads[i], &pending);
    if (i % 2 == 1 || i + 1 == payloads.size()) {
      EXPECT_TRUE((*w)->Append(pending).ok());
      pending.clear();
    }
  }
  EXPECT_TRUE((*w)->Sync().ok());
  EXPECT_TRUE((*w)->Close().ok());
  auto data = env->ReadFile(kPath);
  EXPECT_TRUE(data.ok());
  return *data;
}

std::vector<std::string> Records(const WalContents& c) {
  return std::vector<std::string>(c.records.begin(), c.records.end());
}

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_->CreateDirs("/wal").ok()); }
  std::unique_ptr<Env> env_ = NewMemEnv();
};

TEST_F(WalTest, RoundTrip) {
  const auto payloads = SamplePayloads();
  const std::string data = WriteLog(env_.get(), payloads);
  auto parsed = ParseWal(data, kPath);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(Records(*parsed), payloads);
  EXPECT_EQ(parsed->valid_size, data.size());
  EXPECT_FALSE(parsed->torn_tail);
  EXPECT_FALSE(parsed->torn_header);
  size_t expected_size = kWalHeaderSize;
  for (const auto& p : payloads) expected_size += kWalRecordHeaderSize + p.size();
  EXPECT_EQ(data.size(), expected_size);
}

TEST_F(WalTest, EmptyLogAndTornHeader) {
  const std::string data = WriteLog(env_.get(), {});
  ASSERT_EQ(data.size(), kWalHeaderSize);
  auto parsed = ParseWal(data, kPath);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->records.empty());
  EXPECT_EQ(parsed->valid_size, kWalHeaderSize);
  EXPECT_FALSE(parsed->torn_tail);
  // A file cut inside its header: nothing was ever acknowledged from it.
  for (size_t cut = 0; cut < kWalHeaderSize; ++cut) {
    auto p = ParseWal(std::string_view(data).substr(0, cut), kPath);
    ASSERT_TRUE(p.ok()) << "cut " << cut << ": " << p.status().ToString();
    EXPECT_TRUE(p->torn_header) << "cut " << cut;
    EXPECT_EQ(p->torn_tail, cut > 0) << "cut " << cut;
    EXPECT_TRUE(p->records.empty());
  }
}

TEST_F(WalTest, TailCutAtEveryOffsetOfTheLastRecord) {
  const auto payloads = SamplePayloads();
  const std::string data = WriteLog(env_.get(), payloads);
  const size_t last_start = data.size() - kWalRecordHeaderSize - payloads.back().size();
  const std::vector<std::string> earlier(payloads.begin(), payloads.end() - 1);
  for (size_t cut = last_start; cut < data.size(); ++cut) {
    auto p = ParseWal(std::string_view(data).substr(0, cut), kPath);
    ASSERT_TRUE(p.ok()) << "cut at " << cut << ": " << p.status().ToString();
    EXPECT_EQ(Records(*p), earlier) << "cut at " << cut;
    EXPECT_EQ(p->valid_size, last_start) << "cut at " << cut;
    EXPECT_EQ(p->torn_tail, cut > last_start) << "cut at " << cut;
    EXPECT_FALSE(p->torn_header);
  }
}

TEST_F(WalTest, TailCutAnywhereKeepsEveryWholeRecord) {
  const auto payloads = SamplePayloads();
  const std::string data = WriteLog(env_.get(), payloads);
  std::vector<size_t> ends = {kWalHeaderSize};
  for (const auto& p : payloads) ends.push_back(ends.back() + kWalRecordHeaderSize + p.size());
  for (size_t cut = kWalHeaderSize; cut <= data.size(); ++cut) {
    auto p = ParseWal(std::string_view(data).substr(0, cut), kPath);
    ASSERT_TRUE(p.ok()) << "cut at " << cut << ": " << p.status().ToString();
    const size_t whole = std::upper_bound(ends.begin(), ends.end(), cut) - ends.begin() - 1;
    EXPECT_EQ(Records(*p), std::vector<std::string>(payloads.begin(), payloads.begin() + whole))
        << "cut at " << cut;
    EXPECT_EQ(p->valid_size, ends[whole]);
    EXPECT_EQ(p->torn_tail, cut != ends[whole]);
  }
}

TEST_F(WalTest, ZeroFilledTailIsTorn) {
  const auto payloads = SamplePayloads();
  const std::string data = WriteLog(env_.get(), payloads);
  for (size_t zeros : {1u, 11u, 12u, 13u, 4096u}) {
    const std::string padded = data + std::string(zeros, '\0');  // records view into it
    auto p = ParseWal(padded, kPath);
    ASSERT_TRUE(p.ok()) << zeros << " zeros: " << p.status().ToString();
    EXPECT_EQ(Records(*p), payloads);
    EXPECT_TRUE(p->torn_tail);
    EXPECT_EQ(p->valid_size, data.size());
  }
}

TEST_F(WalTest, FlippedByteInACompleteRecordIsCorruption) {
  const auto payloads = SamplePayloads();
  const std::string data = WriteLog(env_.get(), payloads);
  // Every byte of every record (header, length, checksums, payload) and of the file header.
  for (size_t pos = 0; pos < data.size(); ++pos) {
    std::string bad = data;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x20);
    auto p = ParseWal(bad, kPath);
    ASSERT_FALSE(p.ok()) << "flip at " << pos << " was not detected";
    EXPECT_EQ(p.status().code(), StatusCode::kCorruption) << "flip at " << pos;
    EXPECT_THAT(p.status().message(), HasSubstr(kPath)) << "flip at " << pos;
    if (pos >= kWalHeaderSize) {
      // Names the offset of the damaged record.
      EXPECT_THAT(p.status().message(), HasSubstr("offset")) << "flip at " << pos;
    }
  }
}

TEST_F(WalTest, DamageBeforeATornTailIsStillCorruption) {
  const auto payloads = SamplePayloads();
  const std::string data = WriteLog(env_.get(), payloads);
  std::string bad = data.substr(0, data.size() - 3);  // torn last record
  bad[kWalHeaderSize + kWalRecordHeaderSize] ^= 1;    // and damage in the first payload
  auto p = ParseWal(bad, kPath);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(p.status().message(), HasSubstr("offset " + std::to_string(kWalHeaderSize)));
}

TEST_F(WalTest, OpenForAppendContinuesTheLog) {
  const auto payloads = SamplePayloads();
  WriteLog(env_.get(), payloads);
  auto w = WalWriter::OpenForAppend(env_.get(), kPath);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  std::string more;
  WalWriter::EncodeRecord("appended", &more);
  ASSERT_TRUE((*w)->Append(more).ok());
  ASSERT_TRUE((*w)->Sync().ok());
  ASSERT_TRUE((*w)->Close().ok());
  auto data = env_->ReadFile(kPath);
  ASSERT_TRUE(data.ok());
  auto p = ParseWal(*data, kPath);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto expected = payloads;
  expected.push_back("appended");
  EXPECT_EQ(Records(*p), expected);

  // A log whose header was torn is started again.
  ASSERT_TRUE(env_->TruncateFile(kPath, 5).ok());
  auto w2 = WalWriter::OpenForAppend(env_.get(), kPath);
  ASSERT_TRUE(w2.ok()) << w2.status().ToString();
  std::string one;
  WalWriter::EncodeRecord("fresh", &one);
  ASSERT_TRUE((*w2)->Append(one).ok());
  ASSERT_TRUE((*w2)->Close().ok());
  data = env_->ReadFile(kPath);
  ASSERT_TRUE(data.ok());
  p = ParseWal(*data, kPath);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(Records(*p), std::vector<std::string>{"fresh"});
}

TEST_F(WalTest, RandomLogsRoundTrip) {
  std::random_device rd;
  const uint64_t seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::string> payloads(rng() % 30);
    for (auto& p : payloads) {
      p.resize(rng() % 3000);
      for (auto& ch : p) ch = static_cast<char>(rng());
    }
    const std::string data = WriteLog(env_.get(), payloads);
    auto parsed = ParseWal(data, kPath);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(Records(*parsed), payloads);
    // A random cut keeps a prefix of the records.
    const size_t cut = kWalHeaderSize + rng() % (data.size() - kWalHeaderSize + 1);
    auto torn = ParseWal(std::string_view(data).substr(0, cut), kPath);
    ASSERT_TRUE(torn.ok()) << torn.status().ToString();
    ASSERT_LE(torn->records.size(), payloads.size());
    for (size_t i = 0; i < torn->records.size(); ++i) EXPECT_EQ(torn->records[i], payloads[i]);
  }
}

}  // namespace
}  // namespace nearstore::storage

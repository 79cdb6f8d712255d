// CRC32C: published test vectors, incremental use, and the hardware path against the portable
// table on random data of every length and alignment.
#include "storage/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace nearstore::storage {
namespace {

uint32_t Portable(std::string_view s, uint32_t crc = 0) {
  return Crc32cPortable(s.data(), s.size(), crc);
}

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(Crc32c(std::string_view("123456789")), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string_view("")), 0u);
  EXPECT_EQ(Crc32c(std::string_view("a")), 0xC1D04330u);
  // RFC 3720 (iSCSI), appendix B.4.
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(descending), 0x113FDB5Cu);
  const unsigned char iscsi_read[48] = {0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
                                        0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00,
                                        0x00, 0x18, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(Crc32c(iscsi_read, sizeof(iscsi_read)), 0xD9963A56u);
  // The same vectors through the portable table.
  EXPECT_EQ(Portable("123456789"), 0xE3069283u);
  EXPECT_EQ(Portable(std::string(32, '\xFF')), 0x62A8AB43u);
  EXPECT_EQ(Crc32cPortable(iscsi_read, sizeof(iscsi_read), 0), 0xD9963A56u);
}

TEST(Crc32c, ExtendsAcrossPieces) {
  const std::string s = "The quick brown fox jumps over the lazy dog, twice over and again.";
  const uint32_t whole = Crc32c(s);
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    const std::string_view a(s.data(), cut), b(s.data() + cut, s.size() - cut);
    EXPECT_EQ(Crc32c(b, Crc32c(a)), whole) << "cut at " << cut;
    EXPECT_EQ(Portable(b, Portable(a)), whole) << "cut at " << cut;
  }
}

TEST(Crc32c, HardwareMatchesPortableOnRandomData) {
  std::random_device rd;
  const uint64_t seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::vector<unsigned char> buf(4096 + 64);
  for (auto& b : buf) b = static_cast<unsigned char>(rng());
  // Every length up to 300 at every alignment 0..15, then random longer spans.
  for (size_t align = 0; align < 16; ++align) {
    for (size_t len = 0; len <= 300; ++len) {
      const uint32_t init = static_cast<uint32_t>(rng());
      ASSERT_EQ(Crc32c(buf.data() + align, len, init),
                Crc32cPortable(buf.data() + align, len, init))
          << "len " << len << " align " << align;
    }
  }
  for (int i = 0; i < 200; ++i) {
    const size_t off = rng() % 64, len = rng() % 4096;
    ASSERT_EQ(Crc32c(buf.data() + off, len), Crc32cPortable(buf.data() + off, len, 0))
        << "len " << len << " offset " << off;
  }
}

TEST(Crc32c, DetectsEverySingleBitFlip) {
  std::string s(100, 'x');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(i * 7);
  const uint32_t good = Crc32c(s);
  for (size_t i = 0; i < s.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      s[i] = static_cast<char>(s[i] ^ (1 << bit));
      EXPECT_NE(Crc32c(s), good) << "byte " << i << " bit " << bit;
      s[i] = static_cast<char>(s[i] ^ (1 << bit));
    }
  }
}

}  // namespace
}  // namespace nearstore::storage

// Payload indexes in their encoded form: what an index built from random documents answers
// against the documents themselves; how stored and missing fields are assembled; and random
// damage to the bytes (a fuzz loop, run under AddressSanitizer in CI), which View must refuse
// with Corruption or accept only as an index whose invariants hold.
#include "filter/payload_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/damaged_bytes.h"
#include "filter/filter.h"
#include "filter/payload_index_format.h"

namespace nearstore::filter {
namespace {

using nlohmann::json;
using test_support::Aligned;
using Tag = FieldIndex::Tag;
constexpr double kInf = std::numeric_limits<double>::infinity();

// Values of every kind, with many distinct strings (empty, non-ASCII, prefixes of each other)
// and numbers (negative, fractional, large, -0.0).
json RandomValue(std::mt19937_64& rng) {
  static const char* const kStrings[] = {"", "a", "ab", "abc", "b", "é", "日本", "a\u0001", "zz"};
  switch (rng() % 7) {
    case 0:
      return kStrings[rng() % std::size(kStrings)];
    case 1:
      return "k" + std::to_string(rng() % 40);
    case 2:
      return static_cast<int64_t>(rng() % 21) - 10;
    case 3:
      return static_cast<double>(rng() % 9) * 0.25 - 1.0;
    case 4:
      return rng() % 3 == 0 ? json(-0.0) : json(uint64_t{1} << 60);
    case 5:
      return rng() % 2 == 0;
    default:
      return json::array({1, "a"});
  }
}

std::vector<std::string> RandomTexts(std::mt19937_64& rng, int rows) {
  std::vector<std::string> texts;
  for (int i = 0; i < rows; ++i) {
    json doc = json::object();
    if (rng() % 6 != 0) doc["a"] = RandomValue(rng);
    if (rng() % 2 == 0) doc["n"] = {{"x", RandomValue(rng)}};
    texts.push_back(rng() % 20 == 0 ? "" : doc.dump());
  }
  return texts;
}

const json* ValueAt(const json& doc, const std::vector<std::string>& path) {
  const json* v = &doc;
  for (const auto& part : path) {
    if (!v->is_object() || !v->contains(part)) return nullptr;
    v = &(*v)[part];
  }
  return v;
}

// Everything `f` answers, against the documents it was built from.
void ExpectAnswersLikeTheDocuments(const FieldIndex& f, const std::vector<std::string>& texts) {
  std::map<std::string, std::vector<uint32_t>> by_string;
  std::map<bool, std::vector<uint32_t>> by_bool;
  std::vector<std::pair<double, uint32_t>> numbers;
  for (uint32_t row = 0; row < texts.size(); ++row) {
    const json doc = texts[row].empty() ? json::object() : json::parse(texts[row]);
    const json* v = ValueAt(doc, f.path());
    const Tag expected = v == nullptr ? Tag::kMissing : f.HoldsKind(*v) ? Tag::kTyped : Tag::kOther;
    ASSERT_EQ(f.tag(row), expected) << "row " << row << ": " << texts[row];
    if (expected != Tag::kTyped) continue;
    if (f.numeric()) {
      ASSERT_EQ(f.number(row), v->get<double>());
      numbers.emplace_back(v->get<double>(), row);
    } else if (v->is_boolean()) {
      by_bool[v->get<bool>()].push_back(row);
      ASSERT_EQ(f.term(row), *f.TermOf(*v));
    } else {
      by_string[v->get<std::string>()].push_back(row);
      ASSERT_EQ(f.term(row), *f.TermOf(*v)) << v->dump();
    }
  }
  for (const auto& [value, rows] : by_string) {
    const auto term = f.TermOf(value);
    ASSERT_TRUE(term.has_value()) << value;
    const auto listed = f.Rows(*term);
    EXPECT_EQ(std::vector<uint32_t>(listed.begin(), listed.end()), rows) << value;
  }
  if (f.info().kind == PayloadIndexKind::kKeyword) {
    for (const char* absent : {"absent", "k99", "a\u0002", "0"}) {
      EXPECT_FALSE(f.TermOf(json(absent)).has_value()) << absent;
    }
  }
  for (bool b : {false, true}) {
    if (f.info().kind != PayloadIndexKind::kBool) break;
    const auto listed = f.Rows(*f.TermOf(json(b)));
    EXPECT_EQ(std::vector<uint32_t>(listed.begin(), listed.end()), by_bool[b]);
  }
  if (!f.numeric()) return;
  std::sort(numbers.begin(), numbers.end());
  for (double lo : {-kInf, -10.0, -1.0, -0.0, 0.5, 3.0}) {
    for (double hi : {-1.0, 0.0, 1.0, 5.0, kInf}) {
      for (int inclusive = 0; inclusive < 4; ++inclusive) {
        const bool lo_in = inclusive & 1, hi_in = inclusive & 2;
        std::vector<uint32_t> expected, got;
        for (const auto& [value, row] : numbers) {
          if ((lo_in ? value >= lo : value > lo) && (hi_in ? value <= hi : value < hi)) {
            expected.push_back(row);
          }
        }
        for (const auto& e : f.Range(lo, lo_in, hi, hi_in)) got.push_back(e.row);
        std::sort(got.begin(), got.end());
        std::sort(expected.begin(), expected.end());
        EXPECT_EQ(got, expected) << lo << (lo_in ? " <= " : " < ") << "v"
                                 << (hi_in ? " <= " : " < ") << hi;
      }
    }
  }
}

TEST(PayloadIndex, AnswersLikeTheDocumentsForEveryKind) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 20; ++round) {
    const auto texts = RandomTexts(rng, 1 + static_cast<int>(rng() % 300));
    for (auto kind : {PayloadIndexKind::kKeyword, PayloadIndexKind::kInt, PayloadIndexKind::kFloat,
                      PayloadIndexKind::kBool}) {
      SCOPED_TRACE(std::string("kind ") + PayloadIndexKindName(kind));
      const std::vector<PayloadIndexInfo> fields = {{"a", kind}, {"n.x", kind}};
      auto index = PayloadIndex::Build(fields, static_cast<uint32_t>(texts.size()),
                                       [&](uint32_t r) -> std::string_view { return texts[r]; });
      ASSERT_TRUE(index.ok()) << index.status().ToString();
      ASSERT_EQ((*index)->fields().size(), 2u);
      for (const auto& f : (*index)->fields()) ExpectAnswersLikeTheDocuments(f, texts);
    }
  }
}

TEST(PayloadIndex, NoRowsAndNoFields) {
  auto none = PayloadIndex::Build({}, 0, [](uint32_t) { return std::string_view(); });
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE((*none)->fields().empty());
  const std::vector<PayloadIndexInfo> fields = {{"a", PayloadIndexKind::kKeyword},
                                                {"b", PayloadIndexKind::kFloat}};
  auto empty = PayloadIndex::Build(fields, 0, [](uint32_t) { return std::string_view(); });
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_FALSE((*empty)->fields()[0].TermOf(json("x")).has_value());
  EXPECT_TRUE((*empty)->fields()[1].Range(-kInf, true, kInf, true).empty());
}

class StoredIndex : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(5);
    texts_ = RandomTexts(rng, 120);
    auto bytes = EncodePayloadIndex(stored_fields_, 120, Metadata());
    ASSERT_TRUE(bytes.ok());
    file_ = std::make_shared<Aligned>(*bytes);
    auto viewed = PayloadIndex::View(file_->view(), 120, file_, "seg");
    ASSERT_TRUE(viewed.ok()) << viewed.status().ToString();
    stored_ = *viewed;
  }
  PayloadIndex::MetadataFn Metadata() const {
    return [this](uint32_t r) -> std::string_view { return texts_[r]; };
  }
  // Whether `f` reads the stored bytes in place. REQUIRES: a keyword or bool `f` has a value.
  bool ViewsTheFile(const FieldIndex& f) const {
    const char* begin = file_->view().data();
    const char* end = begin + file_->view().size();
    // A field's inverted lists lie inside the bytes it was viewed from.
    const char* p = f.numeric()
                        ? reinterpret_cast<const char*>(f.Range(-kInf, true, kInf, true).data())
                        : reinterpret_cast<const char*>(f.Rows(0).data());
    return p >= begin && p <= end;
  }

  std::vector<std::string> texts_;
  const std::vector<PayloadIndexInfo> stored_fields_ = {{"a", PayloadIndexKind::kKeyword},
                                                        {"n.x", PayloadIndexKind::kInt}};
  std::shared_ptr<Aligned> file_;
  std::shared_ptr<const PayloadIndex> stored_;
};

TEST_F(StoredIndex, ExactlyTheStoredFieldsAreTheStoredIndex) {
  auto same = PayloadIndex::Assemble(stored_fields_, stored_, 120, Metadata());
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->get(), stored_.get());
}

TEST_F(StoredIndex, StoredFieldsAreTakenAndTheOthersBuilt) {
  // "n.x" stored as int; "a" wanted as float (stored as keyword); "n" new.
  const std::vector<PayloadIndexInfo> wanted = {{"n.x", PayloadIndexKind::kInt},
                                                {"a", PayloadIndexKind::kFloat},
                                                {"n", PayloadIndexKind::kBool}};
  auto assembled = PayloadIndex::Assemble(wanted, stored_, 120, Metadata());
  ASSERT_TRUE(assembled.ok()) << assembled.status().ToString();
  const auto& fields = (*assembled)->fields();
  ASSERT_EQ(fields.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(fields[i].info().field, wanted[i].field);
    EXPECT_EQ(fields[i].info().kind, wanted[i].kind);
    ExpectAnswersLikeTheDocuments(fields[i], texts_);
  }
  EXPECT_TRUE(ViewsTheFile(fields[0])) << "a stored field is read in place, not rebuilt";
  EXPECT_FALSE(ViewsTheFile(fields[1]));
  // The assembled index keeps the stored bytes alive on its own.
  std::weak_ptr<Aligned> file = file_;
  file_.reset();
  stored_.reset();
  EXPECT_FALSE(file.expired());
  ExpectAnswersLikeTheDocuments(fields[0], texts_);
  assembled->reset();
  EXPECT_TRUE(file.expired());
}

TEST_F(StoredIndex, DroppedFieldsAreLeftOut) {
  const std::vector<PayloadIndexInfo> wanted = {{"a", PayloadIndexKind::kKeyword}};
  auto assembled = PayloadIndex::Assemble(wanted, stored_, 120, Metadata());
  ASSERT_TRUE(assembled.ok());
  ASSERT_EQ((*assembled)->fields().size(), 1u);
  EXPECT_TRUE(ViewsTheFile((*assembled)->fields()[0]));
  EXPECT_EQ((*assembled)->Find({"n", "x"}), nullptr);
}

void ExpectCorrupt(std::string_view bytes, uint64_t rows, const std::string& what) {
  auto v = ViewPayloadIndex(bytes, rows, "seg-000007.nss");
  ASSERT_FALSE(v.ok()) << "accepted; expected: " << what;
  EXPECT_EQ(v.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(v.status().message(), ::testing::HasSubstr("payload index in 'seg-000007.nss'"));
  EXPECT_THAT(v.status().message(), ::testing::HasSubstr(what));
}

TEST_F(StoredIndex, NamedRefusals) {
  const std::string bytes(file_->view());
  ExpectCorrupt(Aligned(bytes).view(), 121, "indexes 120 rows, the segment has 121");
  ExpectCorrupt(Aligned(bytes.substr(0, 20)).view(), 120, "shorter than its header");
  ExpectCorrupt(Aligned(bytes + std::string(8, '\0')).view(), 120, "bytes follow the last field");
  ExpectCorrupt(Aligned(bytes.substr(0, bytes.size() - 8)).view(), 120, "lies past the end");
  std::string bad = bytes;
  bad[4] = 9;
  ExpectCorrupt(Aligned(bad).view(), 120, "format version 9, expected 1");
  bad = bytes;
  bad[0] = 'X';
  ExpectCorrupt(Aligned(bad).view(), 120, "bad magic");
  // The first field's kind, then its first tag (after the 24-byte field header and the name).
  bad = bytes;
  bad[24] = 7;
  ExpectCorrupt(Aligned(bad).view(), 120, "unknown kind 7");
  bad = bytes;
  bad[24 + 24 + 8] = 3;
  ExpectCorrupt(Aligned(bad).view(), 120, "tag is 3");
  // A keyword field's values must be distinct and sorted: two fields of one name are refused.
  const std::vector<PayloadIndexInfo> twice = {{"a", PayloadIndexKind::kKeyword},
                                               {"a", PayloadIndexKind::kBool}};
  auto doubled = EncodePayloadIndex(twice, 120, Metadata());
  ASSERT_TRUE(doubled.ok());
  ExpectCorrupt(Aligned(*doubled).view(), 120, "field 'a' twice");
  Aligned unaligned(" " + bytes);
  ExpectCorrupt(unaligned.view().substr(1), 120, "not 8-byte aligned");
}

// The invariants readers rely on, read through the public accessors only.
void ExpectConsistent(const FieldIndex& f, uint32_t rows) {
  uint64_t typed = 0, listed = 0;
  for (uint32_t r = 0; r < rows; ++r) {
    ASSERT_LE(static_cast<int>(f.tag(r)), 2);
    typed += f.tag(r) == Tag::kTyped;
  }
  if (f.numeric()) {
    for (const auto& e : f.Range(-kInf, true, kInf, true)) {
      ASSERT_LT(e.row, rows);
      ASSERT_EQ(f.tag(e.row), Tag::kTyped);
      ASSERT_EQ(f.number(e.row), e.value);
      ++listed;
    }
  } else {
    std::set<uint32_t> terms;
    for (uint32_t r = 0; r < rows; ++r) {
      if (f.tag(r) == Tag::kTyped) terms.insert(f.term(r));
    }
    for (uint32_t t : terms) {
      for (uint32_t r : f.Rows(t)) {
        ASSERT_LT(r, rows);
        ASSERT_EQ(f.term(r), t);
        ++listed;
      }
    }
    if (f.info().kind == PayloadIndexKind::kKeyword) {
      for (const char* v : {"", "a", "zz", "k7", "日本"}) {
        if (auto t = f.TermOf(json(v))) {
          ASSERT_TRUE(terms.count(*t)) << v;
        }
      }
    }
  }
  ASSERT_EQ(listed, typed);
}

TEST(PayloadIndex, DamagedBytesAreRefusedOrConsistent) {
  constexpr uint32_t kRows = 90;
  constexpr int kRounds = 20000;
  std::mt19937_64 rng(20261202);
  const auto texts = RandomTexts(rng, kRows);
  // One field of each shape ("n" holds objects: its bool index has no value, only "other").
  const std::vector<PayloadIndexInfo> fields = {{"a", PayloadIndexKind::kKeyword},
                                                {"n.x", PayloadIndexKind::kFloat},
                                                {"n", PayloadIndexKind::kBool}};
  auto bytes =
      EncodePayloadIndex(fields, kRows, [&](uint32_t r) -> std::string_view { return texts[r]; });
  ASSERT_TRUE(bytes.ok());
  int viewed = 0;
  for (int round = 0; round < kRounds; ++round) {
    const Aligned damaged(test_support::Damage(*bytes, rng, kRows));
    auto v = ViewPayloadIndex(damaged.view(), kRows, "seg");
    if (!v.ok()) {
      ASSERT_EQ(v.status().code(), StatusCode::kCorruption) << "round " << round;
      continue;
    }
    ++viewed;
    for (const auto& f : *v) {
      SCOPED_TRACE("round " + std::to_string(round));
      ExpectConsistent(f, kRows);
    }
  }
  // Some damage keeps the invariants (a missing field's tag turned to "other", a padding
  // byte); most does not.
  std::printf("[payload index] %d of %d damaged copies viewed\n", viewed, kRounds);
  EXPECT_GT(viewed, 0);
  EXPECT_LT(viewed, kRounds / 2);
}

}  // namespace
}  // namespace nearstore::filter

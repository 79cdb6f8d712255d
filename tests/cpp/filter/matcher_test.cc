// RowMatcher with payload indexes against the plain evaluator: on random documents whose
// fields hold every kind of value (and are often missing), random filters must give the same
// answer with an index of each kind on each field as without, the candidate rows must hold
// every passing row (exactly those when they say so), and the estimate must bound their number.
#include "filter/matcher.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "filter/payload_index.h"

namespace nearstore::filter {
namespace {

using nlohmann::json;

// A value of a random kind: a few strings, numbers (integers and fractions), booleans, arrays.
json RandomValue(std::mt19937_64& rng) {
  switch (rng() % 6) {
    case 0:
    case 1:
      return "s" + std::to_string(rng() % 4);
    case 2:
      return static_cast<int>(rng() % 5);
    case 3:
      return static_cast<double>(rng() % 5) + 0.5;
    case 4:
      return rng() % 2 == 0;
    default:
      return json::array({"s" + std::to_string(rng() % 4), static_cast<int>(rng() % 5)});
  }
}

json RandomDocument(std::mt19937_64& rng) {
  json doc = json::object();
  for (const char* field : {"a", "b"}) {
    if (rng() % 5 != 0) doc[field] = RandomValue(rng);
  }
  if (rng() % 2 == 0) doc["n"] = {{"x", RandomValue(rng)}};
  return doc;
}

json RandomScalar(std::mt19937_64& rng) {
  json v = RandomValue(rng);
  return v.is_array() ? v[0] : v;
}

json RandomCondition(std::mt19937_64& rng, int depth) {
  const char* fields[] = {"a", "b", "n.x", "c"};
  const std::string field = fields[rng() % 4];
  const int pick = static_cast<int>(rng() % (depth > 2 ? 9 : 12));
  auto number = [&] { return static_cast<double>(rng() % 6) - 0.25 * (rng() % 3); };
  switch (pick) {
    case 0:
      return {{field, RandomScalar(rng)}};
    case 1:
      return {{field, {{"$ne", RandomScalar(rng)}}}};
    case 2:
      return {{field, {{"$gt", number()}}}};
    case 3:
      return {{field, {{"$lte", number()}, {"$gte", number() - 2}}}};
    case 4:
      return {{field, {{"$in", {RandomScalar(rng), RandomScalar(rng)}}}}};
    case 5:
      return {{field, {{"$nin", {RandomScalar(rng)}}}}};
    case 6:
      return {{field, {{"$exists", rng() % 2 == 0}}}};
    case 7:
      return {{field, {{"$contains", RandomScalar(rng)}}}};
    case 8:
      return {{field, {{"$lt", number()}}}};
    case 9:
      return {{"$not", RandomCondition(rng, depth + 1)}};
    default:
      return {{pick == 10 ? "$and" : "$or",
               {RandomCondition(rng, depth + 1), RandomCondition(rng, depth + 1)}}};
  }
}

TEST(RowMatcher, AgreesWithTheEvaluatorUnderEveryIndexKind) {
  std::mt19937_64 rng(7);
  const PayloadIndexKind kinds[] = {PayloadIndexKind::kKeyword, PayloadIndexKind::kInt,
                                    PayloadIndexKind::kFloat, PayloadIndexKind::kBool};
  for (int round = 0; round < 60; ++round) {
    std::vector<std::string> texts;
    for (int i = 0; i < 200; ++i) texts.push_back(RandomDocument(rng).dump());
    const std::vector<PayloadIndexInfo> fields = {
        {"a", kinds[rng() % 4]}, {"b", kinds[rng() % 4]}, {"n.x", kinds[rng() % 4]}};
    auto metadata = [&](uint64_t row) -> std::string_view { return texts[row]; };
    auto index = PayloadIndex::Build(fields, static_cast<uint32_t>(texts.size()), metadata);
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    for (int f = 0; f < 40; ++f) {
      const json condition = RandomCondition(rng, 0);
      auto filter = Filter::FromJson(condition);
      ASSERT_TRUE(filter.ok()) << condition.dump() << ": " << filter.status().ToString();
      const RowMatcher plain(*filter, nullptr, texts.size(), metadata);
      const RowMatcher indexed(*filter, index->get(), texts.size(), metadata);
      auto candidates = indexed.CandidateRows();
      if (candidates.has_value()) {
        auto& rows = candidates->rows;
        std::sort(rows.begin(), rows.end());
        ASSERT_EQ(std::adjacent_find(rows.begin(), rows.end()), rows.end()) << "a row twice";
      }
      uint64_t passing = 0;
      for (uint32_t row = 0; row < texts.size(); ++row) {
        const bool expected = filter->MatchesText(texts[row]);
        ASSERT_EQ(plain.Matches(row), expected) << condition.dump() << " on " << texts[row];
        ASSERT_EQ(indexed.Matches(row), expected)
            << condition.dump() << " on " << texts[row]
            << " (a: " << PayloadIndexKindName(fields[0].kind)
            << ", b: " << PayloadIndexKindName(fields[1].kind)
            << ", n.x: " << PayloadIndexKindName(fields[2].kind) << ")";
        const bool listed =
            candidates.has_value() &&
            std::binary_search(candidates->rows.begin(), candidates->rows.end(), row);
        if (candidates.has_value() && candidates->exact) {
          ASSERT_EQ(listed, expected)
              << condition.dump() << " (exact candidates) on " << texts[row];
        }
        if (!expected) continue;
        ++passing;
        if (candidates.has_value()) {
          ASSERT_TRUE(listed) << condition.dump() << " lost row " << texts[row];
        }
      }
      EXPECT_GE(indexed.Estimate(), passing) << condition.dump();
    }
  }
}

}  // namespace
}  // namespace nearstore::filter

// RowMatcher with payload indexes against the plain evaluator: on random documents whose
// fields hold every kind of value (and are often missing), random filters (on fields and on
// ids, with every operator, $elemMatch included) must give the same
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

// A value of a random kind: a few strings, numbers (integers and fractions), booleans, null,
// arrays of scalars and arrays of objects.
json RandomValue(std::mt19937_64& rng) {
  switch (rng() % 9) {
    case 0:
    case 1:
      return "s" + std::to_string(rng() % 4);
    case 2:
      return static_cast<int>(rng() % 5);
    case 3:
      return static_cast<double>(rng() % 5) + 0.5;
    case 4:
      return rng() % 2 == 0;
    case 5:
      return nullptr;
    case 6:
      return json::array();
    case 7:
      return json::array(
          {{{"x", static_cast<int>(rng() % 5)}, {"y", "s" + std::to_string(rng() % 4)}},
           {{"x", static_cast<int>(rng() % 5)}}});
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
  while (v.is_array() && v.empty()) v = RandomValue(rng);
  return v.is_array() ? (v[0].is_object() ? v[0]["x"] : v[0]) : v;
}

std::string RandomId(std::mt19937_64& rng) { return "p" + std::to_string(rng() % 60); }

json RandomCondition(std::mt19937_64& rng, int depth) {
  const char* fields[] = {"a", "b", "n.x", "c"};
  const std::string field = fields[rng() % 4];
  const int pick = static_cast<int>(rng() % (depth > 2 ? 14 : 17));
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
      return {{field, {{"$size", rng() % 3}}}};
    case 10:  // on the elements as values
      return {{field, {{"$elemMatch", {{"$gte", number()}, {"$lt", number() + 2}}}}}};
    case 11:  // on the elements as documents
      return {{field, {{"$elemMatch", {{"x", {{"$gte", number()}}}, {"y", RandomScalar(rng)}}}}}};
    case 12:
      return {{"$id", RandomId(rng)}};
    case 13:
      return {{"$id", {{rng() % 2 == 0 ? "$in" : "$nin", {RandomId(rng), RandomId(rng)}}}}};
    case 14:
      return {{"$not", RandomCondition(rng, depth + 1)}};
    default:
      return {{pick == 15 ? "$and" : "$or",
               {RandomCondition(rng, depth + 1), RandomCondition(rng, depth + 1)}}};
  }
}

TEST(RowMatcher, AgreesWithTheEvaluatorUnderEveryIndexKind) {
  std::mt19937_64 rng(7);
  const PayloadIndexKind kinds[] = {PayloadIndexKind::kKeyword, PayloadIndexKind::kInt,
                                    PayloadIndexKind::kFloat, PayloadIndexKind::kBool};
  for (int round = 0; round < 60; ++round) {
    std::vector<std::string> texts;
    std::vector<std::string> ids;  // some twice, as a memtable holds an id's older versions
    for (int i = 0; i < 200; ++i) {
      texts.push_back(RandomDocument(rng).dump());
      ids.push_back(RandomId(rng));
    }
    const std::vector<PayloadIndexInfo> fields = {
        {"a", kinds[rng() % 4]}, {"b", kinds[rng() % 4]}, {"n.x", kinds[rng() % 4]}};
    auto metadata = [&](uint64_t row) -> std::string_view { return texts[row]; };
    auto id = [&](uint64_t row) -> std::string_view { return ids[row]; };
    auto index = PayloadIndex::Build(fields, static_cast<uint32_t>(texts.size()), metadata);
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    for (int f = 0; f < 40; ++f) {
      const json condition = RandomCondition(rng, 0);
      auto filter = Filter::FromJson(condition);
      ASSERT_TRUE(filter.ok()) << condition.dump() << ": " << filter.status().ToString();
      const RowMatcher plain(*filter, nullptr, texts.size(), metadata, id);
      const RowMatcher indexed(*filter, index->get(), texts.size(), metadata, id);
      auto candidates = indexed.CandidateRows();
      if (candidates.has_value()) {
        auto& rows = candidates->rows;
        std::sort(rows.begin(), rows.end());
        ASSERT_EQ(std::adjacent_find(rows.begin(), rows.end()), rows.end()) << "a row twice";
      }
      uint64_t passing = 0;
      for (uint32_t row = 0; row < texts.size(); ++row) {
        const bool expected = filter->MatchesText(texts[row], ids[row]);
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

// Filter: nearstore's filter language over a point's JSON metadata (docs/FILTERS.md), parsed
// once and evaluated per point.
//
// A filter is a JSON object in the style of MongoDB, Chroma and Pinecone:
//     {"lang": "en", "year": {"$gte": 2024}, "$or": [{"tag": {"$in": ["a", "b"]}}, {"draft":
//     false}]}
// Keys of an object are ANDed; a key is a dotted field path, $id (the point's id) or one of $and,
// $or, $not; a field's condition is a value (equality) or an object of operators ($eq $ne $gt
// $gte $lt $lte $in $nin $exists $contains $size $elemMatch). Comparisons are typed: a number
// never equals a string or a boolean, and a missing field matches only $exists: false, $ne and
// $nin.
//
// Parse refuses a bad filter before any work, with the path to the fault and what was expected.
// Thread-safety: a parsed Filter is immutable; any number of threads may evaluate it at once.
#pragma once

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "nearstore/status.h"

namespace nearstore::filter {

// Limits on what Parse accepts (a filter is user input, possibly from the network).
inline constexpr size_t kMaxFilterBytes = 64 * 1024;  // of the JSON text
inline constexpr size_t kMaxDepth = 32;               // nested objects and lists
inline constexpr size_t kMaxConditions = 1024;        // field conditions and list values

// "author.name" -> {"author", "name"}; InvalidArgument when a part is empty.
[[nodiscard]] Result<std::vector<std::string>> SplitFieldPath(std::string_view field);

class Filter {
 public:
  // The filter written as JSON text; InvalidArgument naming the faulty part otherwise.
  [[nodiscard]] static Result<Filter> Parse(std::string_view text);
  // The same from parsed JSON.
  [[nodiscard]] static Result<Filter> FromJson(const nlohmann::json& filter);

  // Whether a point whose metadata is `metadata` (a JSON object) and whose id is `id` passes.
  bool Matches(const nlohmann::json& metadata, std::string_view id = {}) const;
  // The same on metadata stored as JSON text (parsed here; text that is not JSON has no
  // fields). Empty text is the empty object.
  bool MatchesText(std::string_view metadata, std::string_view id = {}) const;

  // Whether the filter is empty ({}): every point passes.
  bool MatchesEverything() const;

  struct Node;  // the parsed tree (filter_node.h)
  const Node& root() const { return *root_; }

 private:
  explicit Filter(std::shared_ptr<const Node> root) : root_(std::move(root)) {}
  std::shared_ptr<const Node> root_;
};

}  // namespace nearstore::filter

// The parsed form of a Filter, shared by the evaluator (filter.cc) and by the matcher that
// answers conditions from payload indexes (matcher.cc). Internal to src/filter.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "filter/filter.h"

namespace nearstore::filter {

// One node of the parsed tree: a boolean combination, or one operator on one field.
struct Filter::Node {
  enum class Kind {
    kAnd,
    kOr,
    kNot,
    kEq,
    kNe,
    kGt,
    kGte,
    kLt,
    kLte,
    kIn,
    kNin,
    kExists,
    kContains,
    kSize,      // values: the array's length
    kElemMatch  // children: one filter, evaluated on each element of the array
  };
  Kind kind = Kind::kAnd;
  // kAnd, kOr (any number), kNot (one), kElemMatch (one: a filter whose leaves read the
  // element, by path when it is an object, or as itself through an empty path).
  std::vector<Node> children;
  std::vector<std::string> path;       // the field's keys, outermost first
  std::vector<nlohmann::json> values;  // the operand(s): one, or the list of $in / $nin
  bool exists = true;                  // kExists
  bool on_id = false;                  // $eq $ne $in $nin on the point's id, not a field
};

// Typed equality of a stored value and an operand: numbers by value (an integer equals the
// same float), strings and booleans exactly, null equals null; different types never equal.
bool TypedEqual(const nlohmann::json& stored, const nlohmann::json& operand);

// The value at `path` in `metadata` (`metadata` itself for an empty path), or nullptr when a
// key is missing or a step is not an object.
const nlohmann::json* Lookup(const nlohmann::json& metadata, const std::vector<std::string>& path);

// A range condition ($gt $gte $lt $lte, `kind`) on a number `value` with operand `operand`.
bool CompareNumbers(Filter::Node::Kind kind, double value, double operand);

// Whether a point with `metadata` and id `id` passes `node` (the semantics of docs/FILTERS.md).
bool Evaluate(const Filter::Node& node, const nlohmann::json& metadata, std::string_view id);

// Whether `node` is one condition (not $and, $or or $not). A kElemMatch is one condition on its
// field: its children read the elements, not the point.
inline bool IsLeaf(Filter::Node::Kind kind) {
  return kind != Filter::Node::Kind::kAnd && kind != Filter::Node::Kind::kOr &&
         kind != Filter::Node::Kind::kNot;
}

// Metadata text parsed as the filter reads it: text that is not a JSON object has no fields.
nlohmann::json ParseMetadata(std::string_view text);

}  // namespace nearstore::filter

#include "filter/filter.h"

#include <algorithm>

#include "filter/filter_node.h"
#include "nearstore/types.h"
#include "storage/json_text.h"

namespace nearstore::filter {

using nlohmann::json;

bool TypedEqual(const json& stored, const json& operand) {
  if (stored.is_number() && operand.is_number()) {
    return stored.get<double>() == operand.get<double>();
  }
  if (stored.is_string() && operand.is_string()) {
    return stored.get_ref<const std::string&>() == operand.get_ref<const std::string&>();
  }
  if (stored.is_boolean() && operand.is_boolean()) return stored.get<bool>() == operand.get<bool>();
  return stored.is_null() && operand.is_null();
}

const json* Lookup(const json& metadata, const std::vector<std::string>& path) {
  const json* at = &metadata;
  for (const std::string& key : path) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

namespace {

using Node = Filter::Node;
using Kind = Node::Kind;

// Where in the filter a part sits, for error messages: "$or[1].year".
std::string Where(const std::string& at) { return at.empty() ? "the filter" : "filter at " + at; }

Status Refuse(const std::string& at, const std::string& what) {
  return Status::InvalidArgument(Where(at) + ": " + what);
}

// A short rendering of a JSON value for error messages.
std::string Show(const json& value) {
  std::string text = value.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

// What equality-family operators compare with: a string, number, boolean or null.
bool IsValue(const json& v) {
  return v.is_string() || v.is_number() || v.is_boolean() || v.is_null();
}

class Parser {
 public:
  Result<Node> Object(const json& j, const std::string& at, size_t depth);

 private:
  Result<Node> Field(const std::string& key, const json& condition, const std::string& at,
                     size_t depth);
  Result<Node> Operator(const std::string& op, const std::vector<std::string>& path,
                        const json& operand, const std::string& at, size_t depth);
  Result<Node> Operators(const std::vector<std::string>& path, const json& condition,
                         const std::string& at, size_t depth);
  Result<Node> Id(const json& condition, const std::string& at);
  Result<Node> ElemMatch(const std::vector<std::string>& path, const json& operand,
                         const std::string& at, size_t depth);
  Status Count(const std::string& at) {
    if (++conditions_ > kMaxConditions) {
      return Refuse(at, "more than " + std::to_string(kMaxConditions) +
                            " conditions and list values; split the filter");
    }
    return Status::Ok();
  }
  size_t conditions_ = 0;
  bool in_element_ = false;  // inside $elemMatch, where there is no point id
};

Status TooDeep(const std::string& at, size_t depth) {
  if (depth <= kMaxDepth) return Status::Ok();
  return Refuse(at, "nested deeper than " + std::to_string(kMaxDepth) + " levels");
}

Result<Node> Parser::Object(const json& j, const std::string& at, size_t depth) {
  NEARSTORE_RETURN_IF_ERROR(TooDeep(at, depth));
  if (!j.is_object()) return Refuse(at, "expected an object, got " + Show(j));
  Node all;
  all.kind = Kind::kAnd;
  for (const auto& [key, value] : j.items()) {
    const std::string here = at.empty() ? key : at + "." + key;
    if (key == "$and" || key == "$or") {
      if (!value.is_array() || value.empty()) {
        return Refuse(here, key + " expects a non-empty list of filters, got " + Show(value));
      }
      Node list;
      list.kind = key == "$and" ? Kind::kAnd : Kind::kOr;
      for (size_t i = 0; i < value.size(); ++i) {
        NEARSTORE_ASSIGN_OR_RETURN(
            Node child, Object(value[i], here + "[" + std::to_string(i) + "]", depth + 1));
        list.children.push_back(std::move(child));
      }
      all.children.push_back(std::move(list));
    } else if (key == "$not") {
      NEARSTORE_ASSIGN_OR_RETURN(Node child, Object(value, here, depth + 1));
      Node negation;
      negation.kind = Kind::kNot;
      negation.children.push_back(std::move(child));
      all.children.push_back(std::move(negation));
    } else if (key == "$id" && !in_element_) {
      NEARSTORE_ASSIGN_OR_RETURN(Node id, Id(value, here));
      all.children.push_back(std::move(id));
    } else if (!key.empty() && key[0] == '$') {
      return Refuse(
          here, "unknown operator '" + key + "' (a filter's keys are field paths or " +
                    (in_element_ ? "$and, $or, $not inside $elemMatch)" : "$and, $or, $not, $id)"));
    } else {
      NEARSTORE_ASSIGN_OR_RETURN(Node field, Field(key, value, here, depth + 1));
      all.children.push_back(std::move(field));
    }
  }
  return all;
}

Result<Node> Parser::Field(const std::string& key, const json& condition, const std::string& at,
                           size_t depth) {
  NEARSTORE_RETURN_IF_ERROR(TooDeep(at, depth));
  auto split = SplitFieldPath(key);
  if (!split.ok()) return Refuse(at, split.status().message());
  const std::vector<std::string>& path = *split;
  if (!condition.is_object()) return Operator("$eq", path, condition, at, depth);
  if (condition.empty()) return Refuse(at, "expected a value or an object of operators, got {}");
  for (const auto& [op, operand] : condition.items()) {
    if (op.empty() || op[0] != '$') {
      return Refuse(at, "expected operators such as $eq or $gt, got key '" + op +
                            "' (write nested fields as a dotted path: \"" + key + "." + op + "\")");
    }
  }
  return Operators(path, condition, at, depth);
}

// An object of operators on the value at `path`, ANDed (one node when there is one).
Result<Node> Parser::Operators(const std::vector<std::string>& path, const json& condition,
                               const std::string& at, size_t depth) {
  Node all;
  all.kind = Kind::kAnd;
  for (const auto& [op, operand] : condition.items()) {
    NEARSTORE_ASSIGN_OR_RETURN(Node node, Operator(op, path, operand, at + "." + op, depth));
    all.children.push_back(std::move(node));
  }
  if (all.children.size() == 1) return std::move(all.children.front());
  return all;
}

// "$id": "a" or "$id": {"$in": [...]} (and $eq, $ne, $nin): conditions on the point's id, a
// string, so the operands are strings.
Result<Node> Parser::Id(const json& condition, const std::string& at) {
  const json ops = condition.is_object() ? condition : json{{"$eq", condition}};
  if (ops.empty()) return Refuse(at, "expected an id or an object of operators, got {}");
  Node all;
  all.kind = Kind::kAnd;
  for (const auto& [op, operand] : ops.items()) {
    const std::string here = condition.is_object() ? at + "." + op : at;
    NEARSTORE_RETURN_IF_ERROR(Count(here));
    Node node;
    node.on_id = true;
    if (op == "$eq" || op == "$ne") {
      if (!operand.is_string()) return Refuse(here, "an id is a string, got " + Show(operand));
      node.kind = op == "$eq" ? Kind::kEq : Kind::kNe;
      node.values.push_back(operand);
    } else if (op == "$in" || op == "$nin") {
      if (!operand.is_array()) return Refuse(here, op + " expects a list, got " + Show(operand));
      for (size_t i = 0; i < operand.size(); ++i) {
        if (!operand[i].is_string()) {
          return Refuse(here + "[" + std::to_string(i) + "]",
                        "an id is a string, got " + Show(operand[i]));
        }
        NEARSTORE_RETURN_IF_ERROR(Count(here));
        node.values.push_back(operand[i]);
      }
      node.kind = op == "$in" ? Kind::kIn : Kind::kNin;
    } else {
      return Refuse(here, "unknown operator '" + op + "' on $id; expected $eq, $ne, $in or $nin");
    }
    all.children.push_back(std::move(node));
  }
  if (all.children.size() == 1) return std::move(all.children.front());
  return all;
}

// "$elemMatch": an array with an element that passes. The operand is either operators on the
// element itself ({"$gte": 1, "$lt": 5}) or a filter on the element as a document
// ({"food": "meat", "likes": true}); the keys tell which.
Result<Node> Parser::ElemMatch(const std::vector<std::string>& path, const json& operand,
                               const std::string& at, size_t depth) {
  NEARSTORE_RETURN_IF_ERROR(TooDeep(at, depth));
  if (!operand.is_object() || operand.empty()) {
    return Refuse(at, "$elemMatch expects a non-empty object, got " + Show(operand));
  }
  size_t operators = 0;
  for (const auto& [key, value] : operand.items()) {
    operators += !key.empty() && key[0] == '$' && key != "$and" && key != "$or" && key != "$not";
  }
  if (operators != 0 && operators != operand.size()) {
    return Refuse(at,
                  "$elemMatch mixes operators and fields; write either operators on the "
                  "element ({\"$gte\": 1}) or a filter on its fields ({\"a\": 1})");
  }
  const bool was_in_element = in_element_;
  in_element_ = true;
  Result<Node> element =
      operators != 0 ? Operators({}, operand, at, depth + 1) : Object(operand, at, depth + 1);
  in_element_ = was_in_element;
  if (!element.ok()) return element.status();
  Node node;
  node.kind = Kind::kElemMatch;
  node.path = path;
  node.children.push_back(*std::move(element));
  return node;
}

Result<Node> Parser::Operator(const std::string& op, const std::vector<std::string>& path,
                              const json& operand, const std::string& at, size_t depth) {
  NEARSTORE_RETURN_IF_ERROR(Count(at));
  if (op == "$elemMatch") return ElemMatch(path, operand, at, depth);
  Node node;
  node.path = path;
  if (op == "$eq" || op == "$ne" || op == "$contains") {
    if (!IsValue(operand)) {
      return Refuse(at, op + " expects a string, number, boolean or null, got " + Show(operand));
    }
    node.kind = op == "$eq" ? Kind::kEq : op == "$ne" ? Kind::kNe : Kind::kContains;
    node.values.push_back(operand);
  } else if (op == "$gt" || op == "$gte" || op == "$lt" || op == "$lte") {
    if (!operand.is_number()) {
      return Refuse(at, op + " expects a number, got " + Show(operand));
    }
    node.kind = op == "$gt"    ? Kind::kGt
                : op == "$gte" ? Kind::kGte
                : op == "$lt"  ? Kind::kLt
                               : Kind::kLte;
    node.values.push_back(operand);
  } else if (op == "$in" || op == "$nin") {
    if (!operand.is_array()) return Refuse(at, op + " expects a list, got " + Show(operand));
    for (size_t i = 0; i < operand.size(); ++i) {
      if (!IsValue(operand[i])) {
        return Refuse(at + "[" + std::to_string(i) + "]",
                      op + " expects strings, numbers, booleans or null, got " + Show(operand[i]));
      }
      NEARSTORE_RETURN_IF_ERROR(Count(at));
      node.values.push_back(operand[i]);
    }
    node.kind = op == "$in" ? Kind::kIn : Kind::kNin;
  } else if (op == "$exists") {
    if (!operand.is_boolean()) {
      return Refuse(at, "$exists expects true or false, got " + Show(operand));
    }
    node.kind = Kind::kExists;
    node.exists = operand.get<bool>();
  } else if (op == "$size") {
    if (!operand.is_number_unsigned()) {
      return Refuse(at, "$size expects a non-negative integer, got " + Show(operand));
    }
    node.kind = Kind::kSize;
    node.values.push_back(operand);
  } else {
    return Refuse(at, "unknown operator '" + op +
                          "'; expected $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, "
                          "$contains, $size or $elemMatch");
  }
  return node;
}

}  // namespace

bool CompareNumbers(Kind kind, double value, double operand) {
  switch (kind) {
    case Kind::kGt:
      return value > operand;
    case Kind::kGte:
      return value >= operand;
    case Kind::kLt:
      return value < operand;
    case Kind::kLte:
      return value <= operand;
    default:
      return false;
  }
}

bool Evaluate(const Node& node, const json& metadata, std::string_view id) {
  switch (node.kind) {
    case Kind::kAnd:
      return std::all_of(node.children.begin(), node.children.end(),
                         [&](const Node& c) { return Evaluate(c, metadata, id); });
    case Kind::kOr:
      return std::any_of(node.children.begin(), node.children.end(),
                         [&](const Node& c) { return Evaluate(c, metadata, id); });
    case Kind::kNot:
      return !Evaluate(node.children.front(), metadata, id);
    default:
      break;
  }
  if (node.on_id) {
    const bool listed = std::any_of(node.values.begin(), node.values.end(), [&](const json& v) {
      return v.get_ref<const std::string&>() == id;
    });
    return (node.kind == Kind::kEq || node.kind == Kind::kIn) == listed;
  }
  const json* value = Lookup(metadata, node.path);
  auto equals_any = [&] {
    return value != nullptr &&
           std::any_of(node.values.begin(), node.values.end(),
                       [&](const json& operand) { return TypedEqual(*value, operand); });
  };
  switch (node.kind) {
    case Kind::kEq:
    case Kind::kIn:
      return equals_any();
    case Kind::kNe:
    case Kind::kNin:
      return !equals_any();
    case Kind::kGt:
    case Kind::kGte:
    case Kind::kLt:
    case Kind::kLte:
      return value != nullptr && value->is_number() &&
             CompareNumbers(node.kind, value->get<double>(), node.values.front().get<double>());
    case Kind::kExists:
      return (value != nullptr) == node.exists;
    case Kind::kContains:
      return value != nullptr && value->is_array() &&
             std::any_of(value->begin(), value->end(), [&](const json& element) {
               return TypedEqual(element, node.values.front());
             });
    case Kind::kSize:
      return value != nullptr && value->is_array() &&
             value->size() == node.values.front().get<uint64_t>();
    case Kind::kElemMatch:
      return value != nullptr && value->is_array() &&
             std::any_of(value->begin(), value->end(), [&](const json& element) {
               return Evaluate(node.children.front(), element, id);
             });
    default:
      return false;
  }
}

Result<Filter> Filter::Parse(std::string_view text) {
  if (text.size() > kMaxFilterBytes) {
    return Status::InvalidArgument("filter of " + std::to_string(text.size()) + " bytes; at most " +
                                   std::to_string(kMaxFilterBytes) + " are accepted");
  }
  auto parsed = storage::ParseJson(text, kMaxJsonDepth, "filter");
  if (!parsed.ok()) return parsed.status();
  return FromJson(*parsed);
}

Result<Filter> Filter::FromJson(const json& filter) {
  Parser parser;
  NEARSTORE_ASSIGN_OR_RETURN(Node root, parser.Object(filter, "", 0));
  return Filter(std::make_shared<const Node>(std::move(root)));
}

bool Filter::Matches(const json& metadata, std::string_view id) const {
  return Evaluate(*root_, metadata, id);
}

Result<std::vector<std::string>> SplitFieldPath(std::string_view field) {
  std::vector<std::string> path;
  for (size_t start = 0;;) {
    const size_t dot = field.find('.', start);
    path.emplace_back(
        field.substr(start, dot == std::string_view::npos ? field.npos : dot - start));
    if (path.back().empty()) {
      return Status::InvalidArgument("field path '" + std::string(field) + "' has an empty part");
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return path;
}

json ParseMetadata(std::string_view text) {
  if (text.empty()) return json::object();
  // Stored metadata was checked on write; text that does not parse (or nests deeper than writes
  // allow) reads as no fields rather than failing every filter that meets it.
  auto parsed = storage::ParseJson(text, kMaxJsonDepth, "metadata");
  return parsed.ok() ? std::move(*parsed) : json::object();
}

bool Filter::MatchesText(std::string_view metadata, std::string_view id) const {
  if (MatchesEverything()) return true;
  return Matches(ParseMetadata(metadata), id);
}

bool Filter::MatchesEverything() const {
  return root_->kind == Node::Kind::kAnd && root_->children.empty();
}

}  // namespace nearstore::filter

#include "filter/matcher.h"

#include <algorithm>
#include <limits>
#include <span>

#include "filter/filter_node.h"

namespace nearstore::filter {

using nlohmann::json;
using Kind = Filter::Node::Kind;
using Tag = FieldIndex::Tag;

// A filter node with what the segment's index says about it.
struct RowMatcher::Compiled {
  const Filter::Node* node = nullptr;
  std::vector<Compiled> children;
  const FieldIndex* index = nullptr;  // the field's index (leaves only), or null
  bool when_missing = false;          // the answer for a row without the field
  // Equality family ($eq $in $ne $nin) on a keyword/bool index: the operands' terms that some
  // row holds; on a number index: the numeric operands. Operands of another kind never equal
  // a value of the index's kind.
  std::vector<uint32_t> terms;
  std::vector<double> numbers;
  // A $id leaf listing ids ($eq, $in): the rows holding one of them, ascending.
  std::vector<uint32_t> id_rows;
};

namespace {

using Compiled = RowMatcher::Compiled;

bool IsRange(Kind kind) {
  return kind == Kind::kGt || kind == Kind::kGte || kind == Kind::kLt || kind == Kind::kLte;
}
bool IsEquality(Kind kind) {
  return kind == Kind::kEq || kind == Kind::kIn || kind == Kind::kNe || kind == Kind::kNin;
}

bool ListsIds(const Filter::Node& node) {
  return node.on_id && (node.kind == Kind::kEq || node.kind == Kind::kIn);
}

// The rows whose id `node` (a $id leaf) lists.
std::vector<uint32_t> RowsWithIds(const Filter::Node& node, uint64_t rows,
                                  const RowMatcher::IdFn& id) {
  std::vector<std::string_view> wanted;
  for (const json& v : node.values) wanted.push_back(v.get_ref<const std::string&>());
  std::sort(wanted.begin(), wanted.end());
  std::vector<uint32_t> out;
  for (uint64_t row = 0; row < rows; ++row) {
    if (std::binary_search(wanted.begin(), wanted.end(), id(row))) {
      out.push_back(static_cast<uint32_t>(row));
    }
  }
  return out;
}

Compiled Compile(const Filter::Node& node, const PayloadIndex* index, uint64_t rows,
                 const RowMatcher::IdFn& id) {
  Compiled c;
  c.node = &node;
  if (!IsLeaf(node.kind)) {  // a $elemMatch's children read elements, which no index holds
    for (const auto& child : node.children) c.children.push_back(Compile(child, index, rows, id));
  }
  if (ListsIds(node)) c.id_rows = RowsWithIds(node, rows, id);
  if (!IsLeaf(node.kind) || node.on_id || index == nullptr) return c;
  c.index = index->Find(node.path);
  if (c.index == nullptr) return c;
  c.when_missing = Evaluate(node, json::object(), {});
  if (IsEquality(node.kind)) {
    for (const json& operand : node.values) {
      if (!c.index->HoldsKind(operand)) continue;
      if (c.index->numeric()) {
        c.numbers.push_back(operand.get<double>());
      } else if (auto term = c.index->TermOf(operand)) {
        c.terms.push_back(*term);
      }
    }
  }
  return c;
}

// The answer from the index for a row whose field holds a value of the index's kind.
bool TypedLeaf(const Compiled& c, uint32_t row) {
  const FieldIndex& f = *c.index;
  const Filter::Node& n = *c.node;
  auto equals_any = [&] {
    if (f.numeric()) {
      const double v = f.number(row);
      return std::find(c.numbers.begin(), c.numbers.end(), v) != c.numbers.end();
    }
    return std::find(c.terms.begin(), c.terms.end(), f.term(row)) != c.terms.end();
  };
  switch (n.kind) {
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
      return f.numeric() && CompareNumbers(n.kind, f.number(row), n.values.front().get<double>());
    case Kind::kExists:
      return n.exists;
    case Kind::kContains:  // a value of an index's kind is a scalar, never an array
    case Kind::kSize:
    case Kind::kElemMatch:
      return false;
    default:
      return false;
  }
}

// How a row is read: its metadata (parsed once something needs it) and its id.
struct RowReader {
  const RowMatcher::MetadataFn& metadata;
  const RowMatcher::IdFn& id;
};

// Evaluates `c` on `row`; `parsed` holds the row's metadata once something needed it.
bool Eval(const Compiled& c, uint64_t row, const RowReader& read, std::optional<json>* parsed) {
  switch (c.node->kind) {
    case Kind::kAnd:
      for (const auto& child : c.children) {
        if (!Eval(child, row, read, parsed)) return false;
      }
      return true;
    case Kind::kOr:
      for (const auto& child : c.children) {
        if (Eval(child, row, read, parsed)) return true;
      }
      return false;
    case Kind::kNot:
      return !Eval(c.children.front(), row, read, parsed);
    default:
      break;
  }
  if (c.node->on_id) {
    if (ListsIds(*c.node)) {
      return std::binary_search(c.id_rows.begin(), c.id_rows.end(), static_cast<uint32_t>(row));
    }
    return Evaluate(*c.node, json(), read.id(row));
  }
  if (c.index != nullptr) {
    const auto r = static_cast<uint32_t>(row);
    switch (c.index->tag(r)) {
      case Tag::kMissing:
        return c.when_missing;
      case Tag::kTyped:
        return TypedLeaf(c, r);
      case Tag::kOther:
        if (c.node->kind == Kind::kExists) return c.node->exists;
        break;
    }
  }
  if (!parsed->has_value()) *parsed = ParseMetadata(read.metadata(row));
  return Evaluate(*c.node, **parsed, {});
}

// The entries of a number index passing a range leaf.
std::span<const FieldIndex::NumberRow> RangeOf(const Compiled& c) {
  const double v = c.node->values.front().get<double>();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  switch (c.node->kind) {
    case Kind::kGt:
      return c.index->Range(v, false, kInf, true);
    case Kind::kGte:
      return c.index->Range(v, true, kInf, true);
    case Kind::kLt:
      return c.index->Range(-kInf, true, v, false);
    default:  // kLte
      return c.index->Range(-kInf, true, v, true);
  }
}

// Whether the index alone lists every row that can pass leaf `c`: positive conditions whose
// operands are all of the index's kind (a row of another kind can equal a foreign operand, or
// be a number under a keyword index).
bool ListsCandidates(const Compiled& c) {
  if (ListsIds(*c.node)) return true;
  if (c.index == nullptr) return false;
  const Filter::Node& n = *c.node;
  if (n.kind == Kind::kEq || n.kind == Kind::kIn) {
    return std::all_of(n.values.begin(), n.values.end(),
                       [&](const json& v) { return c.index->HoldsKind(v); });
  }
  return IsRange(n.kind) && c.index->numeric();
}

// The range leaves of an AND that share a number index ({"n": {"$gte": a, "$lt": b}} parses
// into two) are one interval of that index: estimated and listed together, not each alone.
struct Interval {
  const FieldIndex* index;
  double lo = -std::numeric_limits<double>::infinity();
  bool lo_inclusive = true;
  double hi = std::numeric_limits<double>::infinity();
  bool hi_inclusive = true;

  void Narrow(Kind kind, double v) {
    if ((kind == Kind::kGt && (v > lo || (v == lo && lo_inclusive))) ||
        (kind == Kind::kGte && v > lo)) {
      lo = v;
      lo_inclusive = kind == Kind::kGte;
    }
    if ((kind == Kind::kLt && (v < hi || (v == hi && hi_inclusive))) ||
        (kind == Kind::kLte && v < hi)) {
      hi = v;
      hi_inclusive = kind == Kind::kLte;
    }
  }
  std::span<const FieldIndex::NumberRow> Entries() const {
    return index->Range(lo, lo_inclusive, hi, hi_inclusive);
  }
};

bool IsIndexedRange(const Compiled& c) { return IsRange(c.node->kind) && ListsCandidates(c); }

std::vector<Interval> IntervalsOf(const Compiled& and_node) {
  std::vector<Interval> out;
  for (const auto& child : and_node.children) {
    if (!IsIndexedRange(child)) continue;
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const Interval& i) { return i.index == child.index; });
    if (it == out.end()) it = out.insert(out.end(), Interval{child.index});
    it->Narrow(child.node->kind, child.node->values.front().get<double>());
  }
  return out;
}

// The rows of number-index entries, in the entries' (value) order: sorting them would cost
// more than the search over them (O(n log n) with a mispredicted branch per comparison).
std::vector<uint32_t> RowsOf(std::span<const FieldIndex::NumberRow> entries) {
  std::vector<uint32_t> out;
  out.reserve(entries.size());
  for (const auto& e : entries) out.push_back(e.row);
  return out;
}

// Upper bound of the rows passing `c` (`rows` when unknown).
uint64_t EstimateOf(const Compiled& c, uint64_t rows) {
  switch (c.node->kind) {
    case Kind::kAnd: {
      uint64_t best = rows;
      for (const auto& interval : IntervalsOf(c))
        best = std::min<uint64_t>(best, interval.Entries().size());
      for (const auto& child : c.children) {
        if (!IsIndexedRange(child)) best = std::min(best, EstimateOf(child, rows));
      }
      return best;
    }
    case Kind::kOr: {
      uint64_t sum = 0;
      for (const auto& child : c.children) sum += EstimateOf(child, rows);
      return std::min(sum, rows);
    }
    default:
      break;
  }
  if (!ListsCandidates(c)) return rows;
  if (ListsIds(*c.node)) return c.id_rows.size();
  if (IsRange(c.node->kind)) return RangeOf(c).size();
  uint64_t sum = 0;
  if (c.index->numeric()) {
    for (double v : c.numbers) sum += c.index->Range(v, true, v, true).size();
  } else {
    for (uint32_t t : c.terms) sum += c.index->Rows(t).size();
  }
  return sum;
}

using Candidates = RowMatcher::Candidates;

// The rows of every list, each once. Each list holds a row at most once.
Candidates Union(std::vector<std::vector<uint32_t>> lists, bool exact) {
  Candidates out;
  out.exact = exact;
  if (lists.size() == 1) {
    out.rows = std::move(lists.front());
    return out;
  }
  for (const auto& l : lists) out.rows.insert(out.rows.end(), l.begin(), l.end());
  std::sort(out.rows.begin(), out.rows.end());
  out.rows.erase(std::unique(out.rows.begin(), out.rows.end()), out.rows.end());
  return out;
}

std::optional<Candidates> CandidatesOf(const Compiled& c, uint64_t rows) {
  switch (c.node->kind) {
    case Kind::kAnd: {  // the smallest interval or child that lists its candidates
      const std::vector<Interval> intervals = IntervalsOf(c);
      const Interval* smallest_interval = nullptr;
      const Compiled* smallest = nullptr;
      uint64_t smallest_size = rows + 1;
      size_t in_intervals = 0;
      for (const auto& interval : intervals) {
        if (interval.Entries().size() < smallest_size) {
          smallest_interval = &interval;
          smallest_size = interval.Entries().size();
        }
      }
      for (const auto& child : c.children) {
        if (IsIndexedRange(child)) {
          ++in_intervals;
          continue;
        }
        const uint64_t e = EstimateOf(child, rows);
        if (e < smallest_size && (e < rows || ListsCandidates(child))) {
          smallest = &child;
          smallest_interval = nullptr;
          smallest_size = e;
        }
      }
      // Exact only when nothing else is ANDed with what is listed.
      if (smallest_interval != nullptr) {
        return Candidates{RowsOf(smallest_interval->Entries()),
                          intervals.size() == 1 && in_intervals == c.children.size()};
      }
      if (smallest == nullptr) return std::nullopt;
      auto listed = CandidatesOf(*smallest, rows);
      if (listed.has_value()) listed->exact &= c.children.size() == 1;
      return listed;
    }
    case Kind::kOr: {
      std::vector<std::vector<uint32_t>> lists;
      bool exact = true;
      for (const auto& child : c.children) {
        auto l = CandidatesOf(child, rows);
        if (!l) return std::nullopt;
        exact &= l->exact;
        lists.push_back(std::move(l->rows));
      }
      return Union(std::move(lists), exact);
    }
    default:
      break;
  }
  // One listed condition: its rows are exactly the passing ones (rows of another kind than
  // the index's never pass a condition whose operands are all of the index's kind).
  if (!ListsCandidates(c)) return std::nullopt;
  if (ListsIds(*c.node)) return Candidates{c.id_rows, true};
  if (IsRange(c.node->kind)) return Candidates{RowsOf(RangeOf(c)), true};
  std::vector<std::vector<uint32_t>> lists;
  if (c.index->numeric()) {
    for (double v : c.numbers) {
      auto& l = lists.emplace_back();
      for (const auto& e : c.index->Range(v, true, v, true)) l.push_back(e.row);
    }
  } else {
    for (uint32_t t : c.terms) {
      auto rows_of = c.index->Rows(t);
      lists.emplace_back(rows_of.begin(), rows_of.end());
    }
  }
  return Union(std::move(lists), true);
}

}  // namespace

RowMatcher::RowMatcher(const Filter& filter, const PayloadIndex* index, uint64_t rows,
                       MetadataFn metadata, IdFn id)
    : root_(std::make_unique<Compiled>(Compile(filter.root(), index, rows, id))),
      rows_(rows),
      metadata_(std::move(metadata)),
      id_(std::move(id)) {}
RowMatcher::RowMatcher(RowMatcher&&) noexcept = default;
RowMatcher& RowMatcher::operator=(RowMatcher&&) noexcept = default;
RowMatcher::~RowMatcher() = default;

bool RowMatcher::Matches(uint64_t row) const {
  std::optional<json> parsed;
  return Eval(*root_, row, RowReader{metadata_, id_}, &parsed);
}

uint64_t RowMatcher::Estimate() const { return EstimateOf(*root_, rows_); }

std::optional<RowMatcher::Candidates> RowMatcher::CandidateRows() const {
  return CandidatesOf(*root_, rows_);
}

}  // namespace nearstore::filter

// The kinds of codes a graph walk measures on, in one place. Each kind is one class (its own
// files in this folder) with:
//   kName                the quantization's name ("sq8"), as users and the MANIFEST spell it;
//   kDefaultRerank       the re-ranking factor of a collection that gives none;
//   Train(vectors, n, dim), Encode()   what sealing and compaction store for a segment;
//   Holds(bytes), View(bytes, n, dim, path)   a segment's codes section told apart by its
//                        magic, then validated on open (Corruption naming `path`);
//   memory_bytes()       what its data takes;
//   Query                its QueryDistances (query_distances.h): a query's distances to its
//                        rows, which walks are templates on.
// A new kind is its class and one entry in CodeSet below; the engine's dispatch
// (engine/graph_search.cc) and every list of kinds derive from it. A kind's number is its
// position in CodeSet, which is the value of the public nearstore::Quantization naming it.
//
// FloatRows (position 0, "none") is the kind of a segment without a codes section: the walk
// measures on the float vectors themselves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "index/binary_codes.h"
#include "index/float_rows.h"
#include "index/sq8.h"
#include "nearstore/status.h"

namespace nearstore::index {

// The registration point: one alternative per kind, in the order of nearstore::Quantization.
using CodeSet = std::variant<FloatRows, Sq8Codes, BinaryCodes>;

inline constexpr size_t kCodeKinds = std::variant_size_v<CodeSet>;

// The requirements of a kind (see above); checked for every alternative in codes.cc.
template <class C>
concept CodeKind = requires(const C& c, const float* vectors, uint64_t n, uint32_t dim) {
  { C::kName } -> std::convertible_to<std::string_view>;
  { C::kDefaultRerank } -> std::convertible_to<uint32_t>;
  { C::Train(vectors, n, dim) } -> std::same_as<C>;
  { c.Encode() } -> std::same_as<std::string>;
  { c.memory_bytes() } -> std::same_as<uint64_t>;
  requires QueryDistances<typename C::Query>;
};

// The name of kind `kind` (< kCodeKinds).
std::string_view CodeKindName(size_t kind);
// The kind named `name`, or nullopt.
std::optional<size_t> FindCodeKind(std::string_view name);
// The default re-ranking factor of kind `kind` (< kCodeKinds).
uint32_t CodeKindDefaultRerank(size_t kind);

// Codes of kind `kind` (< kCodeKinds) trained on the n rows of `vectors` (n * dim floats, kept
// alive by the caller as long as the result when the kind is FloatRows).
CodeSet TrainCodes(size_t kind, const float* vectors, uint64_t n, uint32_t dim);
// The section a segment stores for `codes` (empty for FloatRows).
std::string EncodeCodes(const CodeSet& codes);

// The codes of a segment of n rows from its codes section: FloatRows over `vectors` when the
// section is empty, else the kind whose magic it starts with, validated. Corruption naming
// `path` for damage or a kind of codes this build does not know.
[[nodiscard]] Result<CodeSet> ViewCodes(std::string_view section, const float* vectors, uint64_t n,
                                        uint32_t dim, const std::string& path);

// The kind of `codes` (its position in CodeSet) and the bytes its data takes.
inline size_t KindOf(const CodeSet& codes) { return codes.index(); }
uint64_t CodeBytes(const CodeSet& codes);
// Whether walks on `codes` estimate distances (then re-rank on the float vectors).
bool IsQuantized(const CodeSet& codes);

}  // namespace nearstore::index

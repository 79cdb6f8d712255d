#include "index/codes.h"

#include <array>
#include <cstdio>
#include <utility>

namespace nearstore::index {
namespace {

template <size_t I>
using KindAt = std::variant_alternative_t<I, CodeSet>;

template <size_t... I>
constexpr bool AllKinds(std::index_sequence<I...>) {
  return (CodeKind<KindAt<I>> && ...);
}
static_assert(AllKinds(std::make_index_sequence<kCodeKinds>()),
              "every alternative of CodeSet must be a CodeKind (codes.h)");
// Positions are the values of the public nearstore::Quantization.
static_assert(std::is_same_v<KindAt<static_cast<size_t>(Quantization::kNone)>, FloatRows>,
              "position 0 is the kind without codes");
static_assert(std::is_same_v<KindAt<static_cast<size_t>(Quantization::kSq8)>, Sq8Codes>);
static_assert(std::is_same_v<KindAt<static_cast<size_t>(Quantization::kBinary)>, BinaryCodes>);

template <size_t... I>
constexpr std::array<std::string_view, kCodeKinds> Names(std::index_sequence<I...>) {
  return {KindAt<I>::kName...};
}
constexpr auto kNames = Names(std::make_index_sequence<kCodeKinds>());

template <size_t... I>
constexpr std::array<uint32_t, kCodeKinds> Reranks(std::index_sequence<I...>) {
  return {KindAt<I>::kDefaultRerank...};
}
constexpr auto kReranks = Reranks(std::make_index_sequence<kCodeKinds>());

template <size_t... I>
CodeSet Train(size_t kind, const float* vectors, uint64_t n, uint32_t dim,
              std::index_sequence<I...>) {
  CodeSet out;
  // The alternative at `kind` is trained (the fold stops at the first match).
  (void)((kind == I ? (out.emplace<I>(KindAt<I>::Train(vectors, n, dim)), true) : false) || ...);
  return out;
}

// The stored kinds (all but FloatRows), tried in order on a non-empty section.
template <size_t I = 1>
Result<CodeSet> ViewStored(std::string_view section, uint64_t n, uint32_t dim,
                           const std::string& path) {
  if constexpr (I == kCodeKinds) {
    char magic[16] = "(cut short)";
    if (section.size() >= 4) {
      std::snprintf(magic, sizeof magic, "0x%02x%02x%02x%02x",
                    static_cast<unsigned char>(section[3]), static_cast<unsigned char>(section[2]),
                    static_cast<unsigned char>(section[1]), static_cast<unsigned char>(section[0]));
    }
    return Status::Corruption("codes in " + path + ": unknown kind of codes (magic " + magic + ")");
  } else {
    if (!KindAt<I>::Holds(section)) return ViewStored<I + 1>(section, n, dim, path);
    NEARSTORE_ASSIGN_OR_RETURN(auto codes, KindAt<I>::View(section, n, dim, path));
    // Built in place: GCC 12 under the sanitizers warns (maybe-uninitialized, wrongly) when a
    // temporary CodeSet is moved into the Result.
    return Result<CodeSet>(std::in_place, std::in_place_index<I>, std::move(codes));
  }
}

}  // namespace

std::string_view CodeKindName(size_t kind) { return kNames[kind]; }

std::optional<size_t> FindCodeKind(std::string_view name) {
  for (size_t i = 0; i < kCodeKinds; ++i) {
    if (kNames[i] == name) return i;
  }
  return std::nullopt;
}

uint32_t CodeKindDefaultRerank(size_t kind) { return kReranks[kind]; }

CodeSet TrainCodes(size_t kind, const float* vectors, uint64_t n, uint32_t dim) {
  return Train(kind, vectors, n, dim, std::make_index_sequence<kCodeKinds>());
}

std::string EncodeCodes(const CodeSet& codes) {
  return std::visit([](const auto& c) { return c.Encode(); }, codes);
}

Result<CodeSet> ViewCodes(std::string_view section, const float* vectors, uint64_t n, uint32_t dim,
                          const std::string& path) {
  if (section.empty()) return Result<CodeSet>(std::in_place, std::in_place_index<0>, vectors, dim);
  return ViewStored(section, n, dim, path);
}

uint64_t CodeBytes(const CodeSet& codes) {
  return std::visit([](const auto& c) { return c.memory_bytes(); }, codes);
}

bool IsQuantized(const CodeSet& codes) {
  return std::visit([](const auto& c) { return !std::decay_t<decltype(c)>::Query::kExact; }, codes);
}

}  // namespace nearstore::index

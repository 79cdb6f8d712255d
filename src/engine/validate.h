// Checks of user input, with messages that say what was wrong and what was expected.
// Everything a write carries is validated here before it reaches the log.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "nearstore/status.h"
#include "nearstore/types.h"

namespace nearstore::engine {

[[nodiscard]] Status ValidateCollectionName(std::string_view name);
[[nodiscard]] Status ValidateDimension(uint64_t dim);
[[nodiscard]] Status ValidateId(std::string_view id);

// Checks length, finiteness and (for cosine) non-zero norm, and writes the vector as stored
// into `out` (normalised for cosine). `what` names the vector in messages ("vector of 'a7'").
[[nodiscard]] Status PrepareVector(std::span<const float> in, uint32_t dim, Metric metric,
                                   std::string_view collection, std::string_view what, float* out);

// Parses `text` as a JSON object and returns its compact form. "" counts as "{}".
[[nodiscard]] Result<std::string> CanonicalMetadata(std::string_view text, std::string_view id);

// A payload index's field: a dotted path of 1..kMaxFieldPathBytes bytes whose parts are
// non-empty and do not start with '$' (a filter would read them as operators).
inline constexpr size_t kMaxFieldPathBytes = 256;
[[nodiscard]] Status ValidateFieldPath(std::string_view field);

[[nodiscard]] Status ValidateK(int k);
// 0 (the collection's default) or 1..kMaxEf.
[[nodiscard]] Status ValidateEf(uint32_t ef);
// A search's rerank: 0 (the collection's) or 1..kMaxRerank.
[[nodiscard]] Status ValidateSearchRerank(uint32_t rerank);
// The ranges documented in IndexOptions (checked for flat collections too: they are stored).
[[nodiscard]] Status ValidateIndexOptions(const IndexOptions& index);

}  // namespace nearstore::engine

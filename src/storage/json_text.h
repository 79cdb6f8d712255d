// Parsing JSON text that may come from anyone: metadata, filters, request bodies, config files,
// the MANIFEST. The one place where JSON text becomes a nlohmann::json.
//
// nlohmann's parser itself is iterative, but what follows a parse is not: serialising (dump),
// walking a filter, describing a value in an error all recurse once per level, so a document
// nested 100,000 levels deep (600 KB of "[[[[...") overflows the stack. The depth is therefore
// checked on the text, in one linear pass that allocates nothing, before anything is built.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "nearstore/status.h"

namespace nearstore::storage {

// The deepest nesting of objects and arrays in `text` if it is at most `max_depth`, else
// max_depth + 1 (the scan stops there). Strings are skipped with their escapes, so brackets
// inside them do not count. Exact for valid JSON; for invalid JSON it may say anything, and
// the parse that follows refuses the text.
size_t JsonNestingDepth(std::string_view text, size_t max_depth);

// `text` parsed as JSON, nested at most `max_depth` levels (a scalar is depth 0, `{}` depth 1).
// InvalidArgument, its message starting with `what` ("metadata of 'a'", "the request body"):
// "... nests deeper than 64 levels" or "... is not valid JSON: <the parser's reason>".
// Never throws.
[[nodiscard]] Result<nlohmann::json> ParseJson(std::string_view text, size_t max_depth,
                                               std::string_view what);

}  // namespace nearstore::storage

// Filter: a filter of nearstore's filter language (docs/FILTERS.md), parsed once. Searches,
// counts, scrolls and deletes take filters as JSON text; this type is for checking a filter
// without a collection, and for testing a point's metadata against it exactly as they do.
// Thread-safety: immutable once parsed; any number of threads may use it at once.
#pragma once

#include <memory>
#include <string_view>

#include "nearstore/status.h"

namespace nearstore {

namespace filter {
class Filter;  // the engine's parsed form (src/filter)
}

class Filter {
 public:
  // The filter written as JSON text; InvalidArgument naming the faulty part otherwise.
  [[nodiscard]] static Result<Filter> Parse(std::string_view text);

  // Whether a point whose metadata is the JSON text `metadata` and whose id is `id` passes
  // (metadata that is not a JSON object has no fields; "" is the empty object).
  bool Matches(std::string_view metadata, std::string_view id = {}) const;

 private:
  explicit Filter(std::shared_ptr<const filter::Filter> parsed) : parsed_(std::move(parsed)) {}
  std::shared_ptr<const filter::Filter> parsed_;
};

}  // namespace nearstore

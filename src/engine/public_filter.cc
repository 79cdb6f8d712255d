// nearstore::Filter (include/nearstore/filter.h) over the engine's filter::Filter.
#include "filter/filter.h"
#include "nearstore/filter.h"

namespace nearstore {

Result<Filter> Filter::Parse(std::string_view text) {
  NEARSTORE_ASSIGN_OR_RETURN(filter::Filter parsed, filter::Filter::Parse(text));
  return Filter(std::make_shared<const filter::Filter>(std::move(parsed)));
}

bool Filter::Matches(std::string_view metadata, std::string_view id) const {
  return parsed_->MatchesText(metadata, id);
}

}  // namespace nearstore

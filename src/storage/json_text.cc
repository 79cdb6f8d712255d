#include "storage/json_text.h"

#include <string>

namespace nearstore::storage {

size_t JsonNestingDepth(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, whatever it is, is not a quote that ends the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '{':
      case '[':
        if (++depth > deepest) {
          deepest = depth;
          if (deepest > max_depth) return deepest;
        }
        break;
      case '}':
      case ']':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return deepest;
}

Result<nlohmann::json> ParseJson(std::string_view text, size_t max_depth, std::string_view what) {
  if (JsonNestingDepth(text, max_depth) > max_depth) {
    return Status::InvalidArgument(std::string(what) + " nests deeper than " +
                                   std::to_string(max_depth) + " levels of objects and lists");
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string(what) + " is not valid JSON: " + e.what());
  }
}

}  // namespace nearstore::storage

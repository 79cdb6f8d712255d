#include "storage/segment_entry.h"

namespace nearstore::storage {

SegmentEntry DescribeSegment(std::string file, const SegmentView& view, uint64_t size_bytes) {
  return SegmentEntry{std::move(file), view.rows(),    view.tombstones(),
                      view.min_seq(),  view.max_seq(), size_bytes};
}

std::vector<std::string> SegmentEntryMismatches(const SegmentEntry& listed,
                                                const SegmentEntry& actual) {
  std::vector<std::string> out;
  auto check = [&](const char* what, uint64_t file_value, uint64_t manifest_value) {
    if (file_value != manifest_value) {
      out.push_back(std::string(what) + " " + std::to_string(file_value) +
                    " but the MANIFEST says " + std::to_string(manifest_value));
    }
  };
  check("rows", actual.rows, listed.rows);
  check("tombstones", actual.tombstones, listed.tombstones);
  const bool exact_range = listed.min_seq == actual.min_seq && listed.max_seq == actual.max_seq;
  const bool inputs_range =
      actual.tombstones == 0 && listed.min_seq <= listed.max_seq &&
      (actual.rows == 0 || (listed.min_seq <= actual.min_seq && actual.max_seq <= listed.max_seq));
  if (!exact_range && !inputs_range) {
    check("min sequence number", actual.min_seq, listed.min_seq);
    check("max sequence number", actual.max_seq, listed.max_seq);
  }
  check("size in bytes", actual.size_bytes, listed.size_bytes);
  return out;
}

}  // namespace nearstore::storage

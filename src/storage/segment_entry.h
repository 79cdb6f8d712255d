// The rule that ties a MANIFEST segment entry (storage/manifest.h) to the file it lists, in one
// place: sealing and compaction record DescribeSegment of the file they wrote, and
// `nearstore verify` compares each entry with DescribeSegment of the file it finds.
//
// The entry repeats what the file's header says: rows, tombstones, size, and the range of the
// sequence numbers of its rows and tombstones (0 and 0 when it holds neither). A compacted
// segment keeps only the rows live at the sealed horizon, so its range is narrower than its
// inputs': a superseded or deleted row leaves with its sequence number. (Compaction before
// this rule recorded its inputs' range; such entries are accepted, see SegmentEntryMismatches.)
// Thread-safety: free functions over values; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/manifest.h"
#include "storage/segment_file.h"

namespace nearstore::storage {

// The MANIFEST entry of the segment file `file` (a name inside its collection's directory),
// parsed as `view`, of `size_bytes` bytes.
SegmentEntry DescribeSegment(std::string file, const SegmentView& view, uint64_t size_bytes);

// How `listed` (an entry read from the MANIFEST) differs from `actual` (DescribeSegment of its
// file): one phrase per field that differs, e.g. "rows 3 but the MANIFEST says 100"; empty when
// they agree. A sequence range agrees when it is the file's, or when it is what compaction
// recorded before this rule: a range that contains the file's, for a file without tombstones
// (compaction writes none), whatever the range of a file without rows.
std::vector<std::string> SegmentEntryMismatches(const SegmentEntry& listed,
                                                const SegmentEntry& actual);

}  // namespace nearstore::storage

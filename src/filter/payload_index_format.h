// The bytes of a set of payload indexes over the rows of one segment (docs/FORMATS.md,
// "Payload index"): written as a section of the segment file, mapped and viewed on open.
//
// Every array starts at a multiple of 8 bytes (the section itself is 64-byte aligned in the
// file), so a FieldIndex reads it in place. Viewing checks every invariant the readers rely
// on, whatever the bytes: an index that views is one a search can use without reading out of
// bounds and without changing an answer.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "filter/payload_index.h"

namespace nearstore::filter {

inline constexpr uint32_t kPayloadIndexMagic = 0x4950534e;  // "NSPI" in little-endian bytes
inline constexpr uint32_t kPayloadIndexVersion = 1;

// The encoded indexes of `fields` over `rows` rows, from each row's metadata text (parsed once
// for all fields). InvalidArgument for a bad field path.
[[nodiscard]] Result<std::string> EncodePayloadIndex(std::span<const PayloadIndexInfo> fields,
                                                     uint32_t rows,
                                                     const PayloadIndex::MetadataFn& metadata);

// The fields encoded in `bytes` (8-byte aligned, kept alive by the caller) for `rows` rows,
// validated. Corruption "payload index in <path> is damaged: ..." otherwise.
[[nodiscard]] Result<std::vector<FieldIndex>> ViewPayloadIndex(std::string_view bytes,
                                                               uint64_t rows,
                                                               const std::string& path);

}  // namespace nearstore::filter

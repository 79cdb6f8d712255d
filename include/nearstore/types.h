// The values that cross the public API: metrics, points, hits, and the limits on them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nearstore/status.h"

namespace nearstore {

// How distance is measured. Smaller is always closer:
//   kCosine: 1 - cos(a, b), in [0, 2]; vectors are stored normalised, zero vectors refused.
//   kL2:     Euclidean distance |a - b| (not squared).
//   kDot:    -dot(a, b) (so the largest inner product comes first).
enum class Metric : uint32_t { kCosine = 0, kL2 = 1, kDot = 2 };

// "cosine", "l2" or "dot".
const char* MetricName(Metric metric);
// Accepts "cosine", "l2" (also "euclidean") and "dot" (also "ip"); InvalidArgument otherwise.
[[nodiscard]] Result<Metric> ParseMetric(std::string_view name);

inline constexpr uint32_t kMaxDimension = 65536;
inline constexpr size_t kMaxIdBytes = 512;
inline constexpr size_t kMaxCollectionNameBytes = 128;
inline constexpr size_t kMaxMetadataBytes = 16u << 20;
// Levels of nested objects and lists in metadata (the object itself is level 1); deeper metadata
// is refused, as is any JSON the engine or the server reads (filters, bodies, config, MANIFEST).
inline constexpr size_t kMaxJsonDepth = 64;
inline constexpr int kMaxK = 100000;

// A stored point. `metadata` is the text of a JSON object ("{}" when there is none); the
// engine stores it in compact form, so the text read back may differ in whitespace.
struct Point {
  std::string id;
  std::vector<float> vector;
  std::string metadata = "{}";
};

// A change to an existing point: each field that is set replaces the stored one.
struct PointUpdate {
  std::optional<std::vector<float>> vector;
  std::optional<std::string> metadata;
};

// One search result.
struct Hit {
  std::string id;
  float distance = 0;
  std::string metadata;       // empty unless SearchOptions::with_metadata
  std::vector<float> vector;  // empty unless SearchOptions::with_vectors
};

// How a collection finds the nearest points.
//   kFlat: exact search (every vector compared, SIMD, multi-threaded): perfect recall, time
//          linear in the collection's size; the right choice up to some hundred thousand points.
//   kHnsw: each sealed segment carries an HNSW graph (src/index/hnsw.h) searched with a
//          candidate list of `ef`; rows not yet sealed are searched exactly. Approximate:
//          recall rises with ef, at a cost in speed.
enum class IndexKind : uint32_t { kFlat = 0, kHnsw = 1 };

// "flat" or "hnsw".
const char* IndexKindName(IndexKind kind);
// Accepts "flat" and "hnsw"; InvalidArgument otherwise.
[[nodiscard]] Result<IndexKind> ParseIndexKind(std::string_view name);

inline constexpr uint32_t kMaxEf = 65536;
inline constexpr uint32_t kMaxRerank = 64;

// How an hnsw collection's graph walks measure distance.
//   kNone: on the float32 vectors.
//   kSq8:  on 8-bit codes of each vector (a quarter of the bytes; src/index/sq8.h), with the
//          best k * rerank candidates re-ranked on the float32 vectors. Faster walks, and the
//          float vectors are read only for re-ranking, so they may stay on disk.
//   kBinary: on 1 bit per dimension (1/32 of the bytes; src/index/binary_codes.h), re-ranked
//          likewise. For embedding models of many dimensions; coarser estimates, so it needs
//          a larger rerank than kSq8 (the default is kDefaultRerankBinary).
enum class Quantization : uint32_t { kNone = 0, kSq8 = 1, kBinary = 2 };

// "none", "sq8" or "binary".
const char* QuantizationName(Quantization quantization);
// Accepts "none", "sq8" and "binary"; InvalidArgument otherwise.
[[nodiscard]] Result<Quantization> ParseQuantization(std::string_view name);

// A collection's index, fixed when it is created. The graph parameters matter only for kHnsw.
struct IndexOptions {
  IndexKind kind = IndexKind::kFlat;
  uint32_t m = 16;                                  // links per node (level 0 keeps 2m); 2..256
  uint32_t ef_construction = 200;                   // candidate list while linking; m..kMaxEf
  uint32_t ef_search = 64;                          // default candidate list of a search; 1..kMaxEf
  Quantization quantization = Quantization::kNone;  // needs kind kHnsw unless kNone
  // With quantization: the best k * rerank candidates are re-ranked; 1..kMaxRerank, or 0 for
  // the quantization's default (resolved when the collection is created and stored as such).
  uint32_t rerank = 0;
};

// The re-ranking factors a collection gets with rerank = 0.
inline constexpr uint32_t kDefaultRerankSq8 = 4;
inline constexpr uint32_t kDefaultRerankBinary = 20;
// `index` with rerank 0 replaced by its quantization's default.
IndexOptions WithDefaults(IndexOptions index);

// The kind of a payload index on one metadata field (docs/FILTERS.md, "Payload indexes").
//   kKeyword: string values -> the rows holding each value (equality, $in, $nin, $ne).
//   kInt, kFloat: numbers -> rows sorted by value (ranges and equality). Both hold every number
//          and compare as doubles, as the filter does; the kind says what the user expects.
//   kBool: true/false -> the rows holding each.
// Values of other types under an indexed field are still found: the filter reads them from
// the stored metadata.
enum class PayloadIndexKind : uint32_t { kKeyword = 0, kInt = 1, kFloat = 2, kBool = 3 };

// "keyword", "int", "float" or "bool".
const char* PayloadIndexKindName(PayloadIndexKind kind);
// The inverse of PayloadIndexKindName; InvalidArgument naming the accepted kinds otherwise.
[[nodiscard]] Result<PayloadIndexKind> ParsePayloadIndexKind(std::string_view name);

struct PayloadIndexInfo {
  std::string field;  // a dotted path, as in filters ("author.name")
  PayloadIndexKind kind = PayloadIndexKind::kKeyword;
};

struct SearchOptions {
  int k = 10;  // 1..kMaxK; fewer hits come back when fewer points exist
  // HNSW candidate list size for this search (0 = the collection's ef_search); searches with
  // max(ef, k). Ignored by flat collections.
  uint32_t ef = 0;
  // Re-ranking factor for this search in a quantized collection (0 = the collection's rerank;
  // else 1..kMaxRerank): the walk keeps max(ef, k * rerank) candidates and re-ranks the best
  // k * rerank on the float vectors. Ignored without quantization.
  uint32_t rerank = 0;
  bool with_metadata = true;
  bool with_vectors = false;
  // Only points whose metadata passes this filter (JSON text in the language of
  // docs/FILTERS.md; "" = every point). A search returns k hits whenever at least k points
  // match, and never a point that does not match.
  std::string filter{};
  // The most bytes the answer's ids, metadata and vectors may take together (0 = no bound).
  // An answer that would take more fails with InvalidArgument before anything past the bound
  // is copied (a batch of queries counts all its hits). A server passes twice its
  // max_response_bytes here, so that a small request cannot make it hold a large answer.
  uint64_t max_result_bytes = 0;
};

struct ScrollOptions {
  std::string after;    // start after this id ("" = from the first id)
  size_t limit = 1000;  // at most this many points per page (>= 1)
  bool with_vectors = false;
  bool with_metadata = true;
  std::string filter{};  // only points passing this filter (docs/FILTERS.md; "" = all)
  // The most bytes the answer's ids, metadata and vectors may take together (0 = no bound).
  // An answer that would take more fails with InvalidArgument before anything past the bound
  // is copied. A server passes twice its max_response_bytes here, so that a small request
  // cannot make it hold a large answer.
  uint64_t max_result_bytes = 0;
};

// A page of points in ascending id order; `next_after` is the id to pass as
// ScrollOptions::after for the next page, or empty when this was the last page.
struct ScrollPage {
  std::vector<Point> points;
  std::string next_after;
};

struct CollectionInfo {
  std::string name;
  uint64_t incarnation = 0;  // see Collection::incarnation
  uint32_t dim = 0;
  Metric metric = Metric::kCosine;
  uint64_t count = 0;          // live points
  uint64_t segments = 0;       // sealed segment files
  uint64_t segment_rows = 0;   // rows in sealed segments, deleted ones included
  uint64_t memtable_rows = 0;  // rows not yet sealed, deleted ones included
  uint64_t disk_bytes = 0;     // segment and WAL files
  uint64_t wal_bytes = 0;      // of which write-ahead logs
  IndexOptions index;
  // Memory the collection's data needs to be searched at full speed: float vectors (memtable
  // and mapped segments) and graphs. Mapped bytes count whether or not they are paged in now.
  uint64_t vector_bytes = 0;
  uint64_t graph_bytes = 0;
  uint64_t code_bytes = 0;    // quantized codes (with their ranges and norms)
  uint64_t indexed_rows = 0;  // rows of sealed segments that carry a graph
  // Payload indexes of sealed segments: mapped from their files, or built in RAM for an index
  // created after a segment was written.
  uint64_t payload_index_bytes = 0;
};

// `info` as a JSON object text, its index options flattened beside the counts ("index",
// "m", "ef_construction", "ef_search", "quantization", "rerank"): what the Python package's
// Collection.info() and the server's collection routes return.
std::string CollectionInfoToJson(const CollectionInfo& info);

}  // namespace nearstore

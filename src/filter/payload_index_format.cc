#include "filter/payload_index_format.h"

#include <algorithm>
#include <numeric>
#include <unordered_map>

#include "filter/filter.h"
#include "filter/filter_node.h"
#include "storage/coding.h"

namespace nearstore::filter {
namespace {

using nlohmann::json;
using storage::LoadU32;
using storage::LoadU64;
using storage::PadTo8;
using storage::PutU32;
using storage::PutU64;
using Tag = FieldIndex::Tag;
using NumberRow = FieldIndex::NumberRow;

constexpr size_t kHeaderBytes = 24;       // magic, version, fields, reserved u32; rows u64
constexpr size_t kFieldHeaderBytes = 24;  // kind, name length u32; terms, entries u64
constexpr uint32_t kMaxFieldNameBytes = 4096;

void PutArray(std::string& out, const void* data, size_t bytes) {
  storage::PutBytes(out, data, bytes);
  out.resize(PadTo8(out.size()), '\0');
}

// One field's index while the rows are read: keyword terms are numbered as they first appear,
// and renumbered in ascending order of their values when encoded.
class FieldBuilder {
 public:
  FieldBuilder(PayloadIndexInfo info, std::vector<std::string> path, uint32_t rows)
      : info_(std::move(info)), path_(std::move(path)), tags_(rows, 0) {
    if (IsNumericKind(info_.kind)) {
      numbers_.resize(rows, 0.0);
    } else {
      terms_.resize(rows, 0);
    }
    if (info_.kind == PayloadIndexKind::kBool) postings_.resize(2);  // 0: false, 1: true
  }

  // Rows in ascending order.
  void Add(uint32_t row, const json& metadata) {
    const json* value = Lookup(metadata, path_);
    if (value == nullptr) return;  // tags_ start as kMissing
    if (!HoldsKind(info_.kind, *value)) {
      tags_[row] = static_cast<uint8_t>(Tag::kOther);
      return;
    }
    tags_[row] = static_cast<uint8_t>(Tag::kTyped);
    if (IsNumericKind(info_.kind)) {
      numbers_[row] = value->get<double>();
      sorted_.push_back({numbers_[row], row, 0});
      return;
    }
    uint32_t term;
    if (info_.kind == PayloadIndexKind::kBool) {
      term = value->get<bool>() ? 1 : 0;
    } else {
      auto [it, fresh] =
          term_ids_.try_emplace(value->get<std::string>(), static_cast<uint32_t>(postings_.size()));
      if (fresh) postings_.emplace_back();
      term = it->second;
    }
    terms_[row] = term;
    postings_[term].push_back(row);
  }

  void Encode(std::string& out) {
    const uint64_t rows = tags_.size();
    std::vector<std::string_view> values;  // keyword: by term, renumbered ascending
    if (info_.kind == PayloadIndexKind::kKeyword) Renumber(&values);
    uint64_t entries = sorted_.size();
    if (!IsNumericKind(info_.kind)) {
      entries = 0;
      for (const auto& p : postings_) entries += p.size();
    }
    PutU32(out, static_cast<uint32_t>(info_.kind));
    PutU32(out, static_cast<uint32_t>(info_.field.size()));
    PutU64(out, IsNumericKind(info_.kind) ? 0 : postings_.size());
    PutU64(out, entries);
    PutArray(out, info_.field.data(), info_.field.size());
    PutArray(out, tags_.data(), rows);
    if (IsNumericKind(info_.kind)) {
      std::sort(sorted_.begin(), sorted_.end(), [](const NumberRow& a, const NumberRow& b) {
        return a.value < b.value || (a.value == b.value && a.row < b.row);
      });
      PutArray(out, numbers_.data(), rows * sizeof(double));
      PutArray(out, sorted_.data(), sorted_.size() * sizeof(NumberRow));
      return;
    }
    PutArray(out, terms_.data(), rows * sizeof(uint32_t));
    if (info_.kind == PayloadIndexKind::kKeyword) {
      uint64_t offset = 0;
      PutU64(out, offset);
      for (auto v : values) PutU64(out, offset += v.size());
      for (auto v : values) storage::PutBytes(out, v.data(), v.size());
      out.resize(PadTo8(out.size()), '\0');
    }
    uint64_t offset = 0;
    PutU64(out, offset);
    for (const auto& p : postings_) PutU64(out, offset += p.size());
    for (const auto& p : postings_) storage::PutBytes(out, p.data(), p.size() * sizeof(uint32_t));
    out.resize(PadTo8(out.size()), '\0');
  }

 private:
  // Keyword terms renumbered in ascending order of value (so that a lookup is a binary search),
  // with their values in the new order.
  void Renumber(std::vector<std::string_view>* values) {
    values->resize(postings_.size());
    for (const auto& [value, term] : term_ids_) (*values)[term] = value;
    std::vector<uint32_t> order(postings_.size());
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return (*values)[a] < (*values)[b]; });
    std::vector<uint32_t> renumbered(order.size());
    std::vector<std::vector<uint32_t>> postings(order.size());
    std::vector<std::string_view> sorted_values(order.size());
    for (uint32_t i = 0; i < order.size(); ++i) {
      renumbered[order[i]] = i;
      postings[i] = std::move(postings_[order[i]]);
      sorted_values[i] = (*values)[order[i]];
    }
    for (uint32_t row = 0; row < tags_.size(); ++row) {
      if (tags_[row] == static_cast<uint8_t>(Tag::kTyped)) terms_[row] = renumbered[terms_[row]];
    }
    postings_ = std::move(postings);
    *values = std::move(sorted_values);
  }

  PayloadIndexInfo info_;
  std::vector<std::string> path_;
  std::vector<uint8_t> tags_;
  std::vector<uint32_t> terms_;
  std::vector<double> numbers_;
  std::unordered_map<std::string, uint32_t> term_ids_;  // keyword
  std::vector<std::vector<uint32_t>> postings_;         // per term, ascending rows
  std::vector<NumberRow> sorted_;
};

// Reads the arrays of an encoded index in order, each padded to 8 bytes, never past the end.
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : bytes_(bytes) {}
  // The next `count` elements of `size` bytes, or nullptr when the bytes end first.
  const char* Take(uint64_t count, uint64_t size) {
    const uint64_t left = bytes_.size() - pos_;
    if (size != 0 && count > left / size) return nullptr;
    const uint64_t n = PadTo8(count * size);
    if (n > left) return nullptr;
    const char* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  bool AtEnd() const { return pos_ == bytes_.size(); }
  uint64_t pos() const { return pos_; }

 private:
  std::string_view bytes_;
  uint64_t pos_ = 0;
};

// Offsets [0, n]: starting at 0 and never decreasing.
bool OffsetsValid(const uint64_t* offsets, uint64_t n) {
  if (offsets[0] != 0) return false;
  for (uint64_t i = 0; i < n; ++i) {
    if (offsets[i + 1] < offsets[i]) return false;
  }
  return true;
}

// The invariants of one field's arrays (see the header): what each reader relies on, and that
// the inverted lists hold exactly the rows of the index's kind. Returns what is wrong, or "".
std::string CheckField(PayloadIndexKind kind, const FieldIndex::Arrays& a, uint64_t entries) {
  uint64_t typed = 0;
  for (uint32_t r = 0; r < a.rows; ++r) {
    const uint8_t tag = a.tags[r];
    if (tag > static_cast<uint8_t>(Tag::kOther)) return "a row's tag is " + std::to_string(tag);
    typed += tag == static_cast<uint8_t>(Tag::kTyped);
    const bool zero = tag != static_cast<uint8_t>(Tag::kTyped);
    if (IsNumericKind(kind) ? zero && a.numbers[r] != 0.0
                            : a.terms[r] >= (zero ? 1 : a.num_terms)) {
      return "row " + std::to_string(r) + " has a value it cannot have";
    }
  }
  if (entries != typed) {
    return std::to_string(entries) + " entries for " + std::to_string(typed) + " indexed rows";
  }
  if (IsNumericKind(kind)) {
    for (uint64_t i = 0; i < a.sorted.size(); ++i) {
      const NumberRow& e = a.sorted[i];
      if (e.row >= a.rows || a.tags[e.row] != static_cast<uint8_t>(Tag::kTyped) ||
          !(e.value == a.numbers[e.row]) || e.reserved != 0) {
        return "entry " + std::to_string(i) + " does not match its row";
      }
      if (i > 0) {
        const NumberRow& p = a.sorted[i - 1];
        if (!(p.value < e.value || (p.value == e.value && p.row < e.row))) {
          return "entries are not sorted";
        }
      }
    }
    return "";
  }
  for (uint32_t t = 0; t < a.num_terms; ++t) {
    const uint64_t begin = a.posting_offsets[t], end = a.posting_offsets[t + 1];
    if (kind == PayloadIndexKind::kKeyword) {
      if (begin == end) return "value " + std::to_string(t) + " has no rows";
      const std::string_view value(a.term_bytes + a.term_offsets[t],
                                   a.term_offsets[t + 1] - a.term_offsets[t]);
      if (t > 0 && !(std::string_view(a.term_bytes + a.term_offsets[t - 1],
                                      a.term_offsets[t] - a.term_offsets[t - 1]) < value)) {
        return "values are not sorted";
      }
    }
    for (uint64_t i = begin; i < end; ++i) {
      const uint32_t r = a.postings[i];
      if (r >= a.rows || a.tags[r] != static_cast<uint8_t>(Tag::kTyped) || a.terms[r] != t ||
          (i > begin && a.postings[i - 1] >= r)) {
        return "the rows of value " + std::to_string(t) + " do not match";
      }
    }
  }
  return "";
}

}  // namespace

Result<std::string> EncodePayloadIndex(std::span<const PayloadIndexInfo> fields, uint32_t rows,
                                       const PayloadIndex::MetadataFn& metadata) {
  std::vector<FieldBuilder> builders;
  for (const auto& f : fields) {
    NEARSTORE_ASSIGN_OR_RETURN(auto path, SplitFieldPath(f.field));
    if (f.field.size() > kMaxFieldNameBytes) {
      return Status::InvalidArgument("field path '" + f.field.substr(0, 64) + "...' is " +
                                     std::to_string(f.field.size()) + " bytes, at most " +
                                     std::to_string(kMaxFieldNameBytes) + " can be indexed");
    }
    builders.emplace_back(f, std::move(path), rows);
  }
  if (!builders.empty()) {
    for (uint32_t row = 0; row < rows; ++row) {
      const json parsed = ParseMetadata(metadata(row));
      for (auto& b : builders) b.Add(row, parsed);
    }
  }
  std::string out;
  PutU32(out, kPayloadIndexMagic);
  PutU32(out, kPayloadIndexVersion);
  PutU32(out, static_cast<uint32_t>(builders.size()));
  PutU32(out, 0);
  PutU64(out, rows);
  for (auto& b : builders) b.Encode(out);
  return out;
}

Result<std::vector<FieldIndex>> ViewPayloadIndex(std::string_view bytes, uint64_t rows,
                                                 const std::string& path) {
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption("payload index in '" + path + "' is damaged: " + what);
  };
  if (reinterpret_cast<uintptr_t>(bytes.data()) % 8 != 0) return corrupt("not 8-byte aligned");
  if (bytes.size() < kHeaderBytes) return corrupt("shorter than its header");
  if (LoadU32(bytes.data()) != kPayloadIndexMagic) return corrupt("bad magic");
  if (LoadU32(bytes.data() + 4) != kPayloadIndexVersion) {
    return corrupt("format version " + std::to_string(LoadU32(bytes.data() + 4)) + ", expected " +
                   std::to_string(kPayloadIndexVersion));
  }
  const uint32_t num_fields = LoadU32(bytes.data() + 8);
  if (LoadU32(bytes.data() + 12) != 0) return corrupt("reserved field is not zero");
  if (LoadU64(bytes.data() + 16) != rows) {
    return corrupt("indexes " + std::to_string(LoadU64(bytes.data() + 16)) +
                   " rows, the segment has " + std::to_string(rows));
  }
  if (rows > UINT32_MAX) return corrupt("more rows than an index can number");

  Cursor cursor(bytes.substr(kHeaderBytes));
  std::vector<FieldIndex> fields;
  for (uint32_t f = 0; f < num_fields; ++f) {
    const std::string which = "field " + std::to_string(f);
    const uint64_t begin = cursor.pos();
    const char* h = cursor.Take(1, kFieldHeaderBytes);
    if (h == nullptr) return corrupt(which + " lies past the end");
    const uint32_t kind_value = LoadU32(h), name_bytes = LoadU32(h + 4);
    const uint64_t num_terms = LoadU64(h + 8), entries = LoadU64(h + 16);
    if (kind_value > static_cast<uint32_t>(PayloadIndexKind::kBool)) {
      return corrupt(which + " has unknown kind " + std::to_string(kind_value));
    }
    const auto kind = static_cast<PayloadIndexKind>(kind_value);
    if (name_bytes > kMaxFieldNameBytes) return corrupt(which + " has too long a name");
    const char* name = cursor.Take(name_bytes, 1);
    if (name == nullptr) return corrupt(which + " lies past the end");
    PayloadIndexInfo info{std::string(name, name_bytes), kind};
    auto split = SplitFieldPath(info.field);
    if (!split.ok()) return corrupt(which + " has a bad name: " + split.status().message());
    for (const auto& other : fields) {
      if (other.info().field == info.field) return corrupt("field '" + info.field + "' twice");
    }
    const std::string field = "field '" + info.field + "'";
    const uint64_t max_terms = kind == PayloadIndexKind::kBool ? 2 : rows;
    if ((IsNumericKind(kind) && num_terms != 0) ||
        (kind == PayloadIndexKind::kBool && num_terms != 2) || num_terms > max_terms ||
        entries > rows) {
      return corrupt(field + " has " + std::to_string(num_terms) + " values and " +
                     std::to_string(entries) + " entries for " + std::to_string(rows) + " rows");
    }

    FieldIndex::Arrays a;
    a.rows = static_cast<uint32_t>(rows);
    a.num_terms = static_cast<uint32_t>(num_terms);
    a.tags = reinterpret_cast<const uint8_t*>(cursor.Take(rows, 1));
    bool complete = a.tags != nullptr;
    if (IsNumericKind(kind)) {
      a.numbers = reinterpret_cast<const double*>(cursor.Take(rows, sizeof(double)));
      const char* sorted = cursor.Take(entries, sizeof(NumberRow));
      complete = complete && a.numbers != nullptr && sorted != nullptr;
      if (complete) a.sorted = {reinterpret_cast<const NumberRow*>(sorted), entries};
    } else {
      a.terms = reinterpret_cast<const uint32_t*>(cursor.Take(rows, sizeof(uint32_t)));
      complete = complete && a.terms != nullptr;
      if (complete && kind == PayloadIndexKind::kKeyword) {
        a.term_offsets = reinterpret_cast<const uint64_t*>(cursor.Take(num_terms + 1, 8));
        complete = a.term_offsets != nullptr;
        // The values' bytes: as many as the offsets say, checked before they are taken.
        if (complete) {
          if (!OffsetsValid(a.term_offsets, num_terms)) return corrupt(field + ": bad offsets");
          a.term_bytes = cursor.Take(a.term_offsets[num_terms], 1);
          complete = a.term_bytes != nullptr;
        }
      }
      if (complete) {
        a.posting_offsets = reinterpret_cast<const uint64_t*>(cursor.Take(num_terms + 1, 8));
        a.postings = reinterpret_cast<const uint32_t*>(cursor.Take(entries, sizeof(uint32_t)));
        complete = a.posting_offsets != nullptr && a.postings != nullptr;
        if (complete && (!OffsetsValid(a.posting_offsets, num_terms) ||
                         a.posting_offsets[num_terms] != entries)) {
          return corrupt(field + ": bad offsets");
        }
      }
    }
    if (!complete) return corrupt(field + " lies past the end");
    if (const std::string wrong = CheckField(kind, a, entries); !wrong.empty()) {
      return corrupt(field + ": " + wrong);
    }
    fields.emplace_back(std::move(info), std::move(*split), a, cursor.pos() - begin);
  }
  if (!cursor.AtEnd()) return corrupt("bytes follow the last field");
  return fields;
}

}  // namespace nearstore::filter

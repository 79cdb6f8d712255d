// Payload indexes of CollectionImpl: their definitions (in the MANIFEST), and the per-segment
// indexes (filter/payload_index.h). A segment file holds the indexes defined when it was
// written; those created since are built from its metadata when it is opened or the index is
// created, until compaction writes them. Rows not yet sealed have no index: filters read their
// metadata.
#include <algorithm>

#include "engine/collection_impl.h"
#include "engine/validate.h"
#include "filter/payload_index_format.h"

namespace nearstore::engine {
namespace {

// Enough for any schema we know of; each index costs memory per row of every segment.
constexpr size_t kMaxPayloadIndexes = 64;

}  // namespace

Status CollectionImpl::IndexPayload(const Segment& segment) const {
  if (payload_fields_.empty()) {
    segment.SetPayload(nullptr);
    return Status::Ok();
  }
  NEARSTORE_ASSIGN_OR_RETURN(
      auto payload,
      filter::PayloadIndex::Assemble(payload_fields_, segment.stored_payload(),
                                     static_cast<uint32_t>(segment.NumRows()),
                                     [&segment](uint32_t row) { return segment.Metadata(row); }));
  segment.SetPayload(std::move(payload));
  return Status::Ok();
}

Result<std::string> CollectionImpl::EncodePayloadSection(
    std::span<const std::string_view> metadata) const {
  const std::vector<PayloadIndexInfo> fields = ListPayloadIndexes();
  if (fields.empty()) return std::string();
  return filter::EncodePayloadIndex(fields, static_cast<uint32_t>(metadata.size()),
                                    [metadata](uint32_t row) { return metadata[row]; });
}

Status CollectionImpl::IndexSealedSegments() const {
  const Snapshot snapshot = TakeSnapshot();
  for (const auto& source : snapshot.version->sources) {
    if (source->IsSealed()) {
      NEARSTORE_RETURN_IF_ERROR(IndexPayload(static_cast<const Segment&>(*source)));
    }
  }
  return Status::Ok();
}

Status CollectionImpl::CreatePayloadIndex(std::string_view field, PayloadIndexKind kind) {
  NEARSTORE_RETURN_IF_ERROR(CheckOpen());
  NEARSTORE_RETURN_IF_ERROR(ValidateFieldPath(field));
  // A value outside the enum (a cast) is named "unknown", which the parser refuses.
  NEARSTORE_RETURN_IF_ERROR(ParsePayloadIndexKind(PayloadIndexKindName(kind)).status());
  base::MutexLock payload(payload_mu_);
  for (const auto& f : payload_fields_) {
    if (f.field != field) continue;
    if (f.kind == kind) return Status::Ok();
    return Status::AlreadyExists(
        "collection '" + name_ + "' already has a " + PayloadIndexKindName(f.kind) + " index on '" +
        f.field + "'; drop it before creating a " + PayloadIndexKindName(kind) + " one");
  }
  if (payload_fields_.size() >= kMaxPayloadIndexes) {
    return Status::InvalidArgument("collection '" + name_ + "' has " +
                                   std::to_string(payload_fields_.size()) +
                                   " payload indexes, the most allowed");
  }
  const PayloadIndexInfo info{std::string(field), kind};
  NEARSTORE_RETURN_IF_ERROR(ctx_.manifest->UpdateCollection(id_, [&](storage::CollectionEntry& c) {
    c.payload_indexes.push_back({info.field, PayloadIndexKindName(kind)});
  }));
  payload_fields_.push_back(info);
  // Segments sealed from now on build it under payload_mu_; the ones in place get it here.
  return IndexSealedSegments();
}

Result<bool> CollectionImpl::DropPayloadIndex(std::string_view field) {
  NEARSTORE_RETURN_IF_ERROR(CheckOpen());
  base::MutexLock payload(payload_mu_);
  auto it = std::find_if(payload_fields_.begin(), payload_fields_.end(),
                         [&](const PayloadIndexInfo& f) { return f.field == field; });
  if (it == payload_fields_.end()) return false;
  NEARSTORE_RETURN_IF_ERROR(ctx_.manifest->UpdateCollection(id_, [&](storage::CollectionEntry& c) {
    std::erase_if(c.payload_indexes,
                  [&](const storage::PayloadIndexEntry& p) { return p.field == field; });
  }));
  payload_fields_.erase(it);
  NEARSTORE_RETURN_IF_ERROR(IndexSealedSegments());
  return true;
}

std::vector<PayloadIndexInfo> CollectionImpl::ListPayloadIndexes() const {
  base::MutexLock payload(payload_mu_);
  return payload_fields_;
}

}  // namespace nearstore::engine

// Maintenance of CollectionImpl, run on the database's background thread: sealing frozen
// memtables into segment files, and compaction.
#include <algorithm>
#include <future>
#include <thread>

#include "engine/collection_impl.h"
#include "engine/index_settings.h"
#include "index/segment_index.h"
#include "storage/segment_entry.h"

namespace nearstore::engine {
namespace {

// Columns of a set of (source, row) pairs, borrowed from the sources.
struct ColumnBuilder {
  explicit ColumnBuilder(uint32_t dimension) : dim(dimension) {}
  void AddRow(const RowSource& s, uint64_t row) {
    const float* v = s.Vector(row);
    vectors.insert(vectors.end(), v, v + dim);
    seqs.push_back(s.Seq(row));
    ids.push_back(s.Id(row));
    metadata.push_back(s.Metadata(row));
  }
  // Without index sections (WriteSegment builds them).
  storage::SegmentColumns Columns(Metric metric) const {
    storage::SegmentColumns c;
    c.dim = dim;
    c.metric = static_cast<uint32_t>(metric);
    c.vectors = vectors;
    c.seqs = seqs;
    c.ids = ids;
    c.metadata = metadata;
    c.tombstone_seqs = tombstone_seqs;
    c.tombstone_ids = tombstone_ids;
    return c;
  }
  uint32_t dim;
  std::vector<float> vectors;
  std::vector<uint64_t> seqs;
  std::vector<std::string_view> ids, metadata;
  std::vector<uint64_t> tombstone_seqs;
  std::vector<std::string_view> tombstone_ids;
};

// Every write up to this sequence number is in a segment file (so durable). Compaction may
// drop a row only if the write that ended its life is at or below it: a row superseded by a
// write that is still only in the log must stay, because replaying that write after a restart
// may need it (an Update changes some fields of the row it finds) and, with kNoSync, the write
// itself may be lost to a power cut.
uint64_t LastSealedSeq(const ManifestStore& manifest, uint64_t collection_id) {
  for (const auto& c : manifest.Get().collections) {
    if (c.id == collection_id) return c.last_sealed_seq;
  }
  return 0;
}

}  // namespace

bool CollectionImpl::ScheduleSeal() {
  std::weak_ptr<CollectionImpl> weak = weak_from_this();
  // Not scheduled only while the database closes: the log keeps the rows, recovery seals them.
  return ctx_.background->Schedule([weak] {
    if (auto self = weak.lock()) self->SealOldest();
  });
}

void CollectionImpl::SetBackgroundError(const Status& s) {
  {
    base::MutexLock lock(seal_mu_);
    if (background_error_.ok()) {
      background_error_ = s.WithContext("background sealing of collection '" + name_ +
                                        "' failed (the next write or flush retries it)");
    }
  }
  seal_cv_.NotifyAll();
}

Status CollectionImpl::RetryFailedSeals() {
  base::MutexLock lock(seal_mu_);
  if (background_error_.ok()) return Status::Ok();
  Status failed = std::move(background_error_);
  background_error_ = Status::Ok();
  // One task per frozen memtable (each seals the oldest left), as when they were frozen; a
  // failed compaction leaves none, and is tried again after the next seal.
  const uint64_t target = frozen_total_;
  for (size_t i = 0; i < frozen_.size(); ++i) {
    if (!ScheduleSeal()) {  // the database is closing: its next open seals what is left
      background_error_ = failed;
      return failed;
    }
  }
  return WaitForSeals(target);
}

Status CollectionImpl::WaitForSeals(uint64_t target) {
  while (sealed_total_ < target && background_error_.ok() && !dropped_.load()) {
    seal_cv_.Wait(seal_mu_);
  }
  if (dropped_.load()) return CheckOpen();
  // Sealed: a compaction that failed after the seals is no failure of theirs (it is retried).
  if (sealed_total_ >= target) return Status::Ok();
  return background_error_;
}

void CollectionImpl::SealOldest() {
  if (dropped_.load()) return;
  Frozen frozen;
  {
    base::MutexLock lock(seal_mu_);
    if (frozen_.empty() || !background_error_.ok()) return;
    frozen = frozen_.front();
  }
  Status s = SealOne(frozen);
  if (!s.ok()) {
    // NotFound: DropCollection removed the manifest entry and is about to shut us down.
    if (!dropped_.load() && s.code() != StatusCode::kNotFound) SetBackgroundError(s);
    return;
  }
  {
    base::MutexLock lock(seal_mu_);
    frozen_.pop_front();
    ++sealed_total_;
  }
  seal_cv_.NotifyAll();
  if (CompactionWanted()) {
    Status c = CompactNow();
    if (!c.ok() && !dropped_.load() && c.code() != StatusCode::kNotFound) SetBackgroundError(c);
  }
}

Status CollectionImpl::WriteSegmentFile(const std::string& file_name,
                                        const storage::SegmentColumns& columns,
                                        uint64_t* size_bytes) {
  const std::string bytes = storage::EncodeSegment(columns);
  const std::string path = storage::JoinPath(ctx_.dir, file_name);
  NEARSTORE_ASSIGN_OR_RETURN(auto file, ctx_.env->NewWritableFile(path));
  NEARSTORE_RETURN_IF_ERROR(file->Append(bytes));
  NEARSTORE_RETURN_IF_ERROR(file->Sync());
  NEARSTORE_RETURN_IF_ERROR(file->Close());
  NEARSTORE_RETURN_IF_ERROR(ctx_.env->SyncDir(ctx_.dir));
  *size_bytes = bytes.size();
  return Status::Ok();
}

Result<CollectionImpl::NewSegment> CollectionImpl::WriteSegment(storage::SegmentColumns columns) {
  const uint64_t rows = columns.seqs.size();
  // Dead rows get nodes too (the graph covers every row of the segment): they route searches.
  NEARSTORE_ASSIGN_OR_RETURN(const IndexSections sections,
                             BuildIndex(columns.vectors.data(), rows));
  NEARSTORE_ASSIGN_OR_RETURN(const std::string payload_section,
                             EncodePayloadSection(columns.metadata));
  columns.graph = sections.graph;
  columns.codes = sections.codes;
  columns.payload = payload_section;
  const std::string file_name = storage::SegmentFileName(next_file_.fetch_add(1));
  uint64_t size_bytes = 0;
  NewSegment out;
  Status s = WriteSegmentFile(file_name, columns, &size_bytes);
  if (s.ok()) {
    auto opened = Segment::Open(ctx_.env, ctx_.dir, file_name, /*verify=*/false);
    s = opened.status();
    if (s.ok()) out.segment = std::move(opened).value();
  }
  if (!s.ok()) {
    RemoveUnlistedSegment(file_name);
    return s;
  }
  out.entry = storage::DescribeSegment(file_name, out.segment->view(), size_bytes);
  return out;
}

Status CollectionImpl::IndexNewSegment(const NewSegment& made) {
  Status s = IndexPayload(*made.segment);
  if (!s.ok()) RemoveUnlistedSegment(made.entry.file);
  return s;
}

void CollectionImpl::RemoveUnlistedSegment(const std::string& file_name) {
  // Nothing lists the file: remove what was written at once (a disk that ran out of space
  // gets it back) rather than at the next open. Best effort: that open removes it otherwise.
  const std::string path = storage::JoinPath(ctx_.dir, file_name);
  if (ctx_.env->FileExists(path)) (void)ctx_.env->RemoveFile(path);
}

Status CollectionImpl::RecordSegment(const NewSegment& made,
                                     const std::function<void(storage::CollectionEntry&)>& change) {
  Status s = ctx_.manifest->UpdateCollection(id_, change);
  if (!s.ok()) {
    // A MANIFEST that failed to be replaced may still have reached the disk (its directory
    // sync failed after the rename), listing the file: it stays until a later MANIFEST, made
    // from memory (which does not list it), is durable.
    unlisted_segments_.push_back(made.entry.file);
    return s;
  }
  // This MANIFEST lists none of the files whose recording failed before.
  for (const auto& file : unlisted_segments_) {
    const std::string path = storage::JoinPath(ctx_.dir, file);
    if (ctx_.env->FileExists(path)) (void)ctx_.env->RemoveFile(path);
  }
  unlisted_segments_.clear();
  return Status::Ok();
}

Result<CollectionImpl::IndexSections> CollectionImpl::BuildIndex(const float* vectors,
                                                                 uint64_t rows) const {
  IndexSections out;
  if (index_options_.kind != IndexKind::kHnsw || rows < ctx_.options.graph_min_rows) return out;
  int threads = ctx_.options.index_build_threads;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  NEARSTORE_ASSIGN_OR_RETURN(
      auto built, index::BuildSegmentIndex(vectors, rows, dim_, GraphMetricFor(metric_),
                                           HnswOptionsOf(index_options_), threads,
                                           static_cast<size_t>(index_options_.quantization)));
  out.graph = std::move(built.graph);
  out.codes = std::move(built.codes);
  return out;
}

Status CollectionImpl::SealOne(const Frozen& frozen) {
  const Memtable& mem = *frozen.memtable;
  // The segment is an image of the memtable: same rows, same order, so an index entry
  // (source, row) maps to the segment by swapping the source alone.
  ColumnBuilder b(dim_);
  const uint64_t rows = mem.NumRows();
  for (uint64_t r = 0; r < rows; ++r) b.AddRow(mem, r);
  for (const auto& [id, seq] : mem.tombstones()) {
    b.tombstone_ids.push_back(id);
    b.tombstone_seqs.push_back(seq);
  }
  NEARSTORE_ASSIGN_OR_RETURN(NewSegment made, WriteSegment(b.Columns(metric_)));
  const std::shared_ptr<Segment>& segment = made.segment;
  // Indexed and swapped in with no index created or dropped meanwhile (see payload_mu_).
  base::MutexLock payload(payload_mu_);
  NEARSTORE_RETURN_IF_ERROR(IndexNewSegment(made));
  const uint64_t next_file = next_file_.load();
  NEARSTORE_RETURN_IF_ERROR(RecordSegment(made, [&](storage::CollectionEntry& c) {
    c.segments.push_back(made.entry);
    c.min_wal = std::max(c.min_wal, frozen.delete_wal_below);
    c.last_sealed_seq = std::max(c.last_sealed_seq, frozen.max_seq);
    c.next_file = next_file;
  }));

  // Swap the memtable for the segment: copy deletion marks and repoint the index, under the
  // exclusive lock so that the applying writer cannot mark rows meanwhile.
  {
    base::WriterLock state(state_mu_);
    for (uint64_t r = 0; r < rows; ++r) {
      segment->MarkDeleted(r, mem.DeletedAt(r).load(std::memory_order_relaxed));
      auto it = index_.find(mem.Id(r));
      if (it != index_.end() && it->second.source == &mem && it->second.row == r) {
        it->second.source = segment.get();
      }
    }
    PublishVersionLocked({&mem}, segment);
  }
  payload.unlock();

  // The log files the segment replaces are no longer needed.
  auto names = ctx_.env->ListDir(ctx_.dir);
  if (names.ok()) {
    for (const auto& n : *names) {
      uint64_t number = 0;
      // Only names the engine writes: "wal-000001.log.bak" is someone else's file.
      if (storage::ParseWalFileName(n, &number) && number < frozen.delete_wal_below) {
        (void)ctx_.env->RemoveFile(storage::JoinPath(ctx_.dir, n));  // leftovers are harmless
      }
    }
  }
  return Status::Ok();
}

bool CollectionImpl::CompactionWanted() const {
  const Snapshot snap = TakeSnapshot();
  const uint64_t horizon = std::min(snap.seq, LastSealedSeq(*ctx_.manifest, id_));
  uint64_t segments = 0, rows = 0, dead = 0;
  for (const auto& s : snap.version->sources) {
    if (!s->IsSealed()) continue;
    ++segments;
    const uint64_t n = s->NumRows();
    rows += n;
    for (uint64_t r = 0; r < n; ++r) dead += s->VisibleAt(r, horizon) ? 0 : 1;
  }
  if (segments == 0) return false;
  return segments > ctx_.options.compaction_max_segments ||
         (dead > 0 && static_cast<double>(dead) >=
                          ctx_.options.compaction_dead_fraction * static_cast<double>(rows));
}

Status CollectionImpl::CompactNow() {
  const Snapshot snap = TakeSnapshot();
  std::vector<std::shared_ptr<Segment>> inputs;
  for (const auto& s : snap.version->sources) {
    if (s->IsSealed()) inputs.push_back(std::static_pointer_cast<Segment>(s));
  }
  if (inputs.empty()) return Status::Ok();

  // Rows live at the sealed horizon (see LastSealedSeq), in sequence order (segments are in
  // sequence order). Rows that died after it are kept, with their deletion marks copied below.
  const uint64_t horizon = std::min(snap.seq, LastSealedSeq(*ctx_.manifest, id_));
  ColumnBuilder b(dim_);
  std::vector<RowRef> origin;
  for (const auto& seg : inputs) {
    for (uint64_t r = 0; r < seg->NumRows(); ++r) {
      if (!seg->VisibleAt(r, horizon)) continue;
      b.AddRow(*seg, r);
      origin.push_back({seg.get(), r});
    }
  }
  NEARSTORE_ASSIGN_OR_RETURN(NewSegment made, WriteSegment(b.Columns(metric_)));
  const std::shared_ptr<Segment>& output = made.segment;
  // Indexed and swapped in with no index created or dropped meanwhile (see payload_mu_).
  base::MutexLock payload(payload_mu_);
  NEARSTORE_RETURN_IF_ERROR(IndexNewSegment(made));
  NEARSTORE_RETURN_IF_ERROR(RecordSegment(made, [&](storage::CollectionEntry& c) {
    // Its entry holds the rows it keeps, not its inputs' range (storage/segment_entry.h).
    std::vector<storage::SegmentEntry> kept{made.entry};
    for (const auto& s : c.segments) {
      bool compacted = false;
      for (const auto& in : inputs) compacted |= in->file_name() == s.file;
      if (!compacted) kept.push_back(s);
    }
    c.segments = std::move(kept);
  }));

  {
    base::WriterLock state(state_mu_);
    for (uint64_t r = 0; r < origin.size(); ++r) {
      const RowRef& from = origin[r];
      output->MarkDeleted(r, from.source->DeletedAt(from.row).load(std::memory_order_relaxed));
      auto it = index_.find(from.source->Id(from.row));
      if (it != index_.end() && it->second.source == from.source && it->second.row == from.row) {
        it->second = {output.get(), r};
      }
    }
    // In the place of the inputs, which are the oldest sources (segments come before
    // memtables, and seals run on this thread only).
    std::vector<const RowSource*> removed;
    for (const auto& in : inputs) removed.push_back(in.get());
    PublishVersionLocked(removed, output);
  }
  payload.unlock();
  for (const auto& in : inputs) {
    (void)ctx_.env->RemoveFile(
        storage::JoinPath(ctx_.dir, in->file_name()));  // mapped views stay valid
  }
  return Status::Ok();
}

Status CollectionImpl::Flush() {
  NEARSTORE_RETURN_IF_ERROR(Submit(nullptr, nullptr));
  base::MutexLock lock(seal_mu_);
  // Wait for the memtables frozen so far (this flush's included), not for ones that
  // concurrent writers freeze meanwhile: under steady writes frozen_ may never be empty.
  return WaitForSeals(frozen_total_);
}

Status CollectionImpl::Compact() {
  NEARSTORE_RETURN_IF_ERROR(CheckOpen());
  auto done = std::make_shared<std::promise<Status>>();
  auto result = done->get_future();
  std::weak_ptr<CollectionImpl> weak = weak_from_this();
  const bool scheduled = ctx_.background->Schedule([weak, done] {
    auto self = weak.lock();
    if (!self || self->dropped_.load()) {
      done->set_value(Status::FailedPrecondition("collection was dropped"));
      return;
    }
    Status s = self->CompactNow();
    if (s.code() == StatusCode::kNotFound) {  // the manifest entry went: dropped meanwhile
      s = Status::FailedPrecondition("collection '" + self->name_ + "' was dropped");
    }
    done->set_value(s);
  });
  if (!scheduled) return Status::FailedPrecondition("the database is closing");
  return result.get();
}

}  // namespace nearstore::engine

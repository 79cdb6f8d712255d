// Creation, recovery and shutdown of CollectionImpl.
#include <algorithm>

#include "engine/collection_impl.h"
#include "engine/index_settings.h"
#include "engine/validate.h"
#include "storage/log_replay.h"

namespace nearstore::engine {
namespace {

// The index settings of a manifest entry, checked: a manifest is ours only if they are valid.
Result<IndexOptions> IndexFromEntry(const storage::CollectionEntry& entry) {
  auto corrupt = [&](const Status& why) {
    return Status::Corruption("manifest entry of collection '" + entry.name +
                              "' has bad index settings: " + why.message());
  };
  auto index = IndexOptionsOf(entry.index);
  if (!index.ok()) return corrupt(index.status());
  return *index;
}

// The payload indexes of a manifest entry, checked likewise.
Result<std::vector<PayloadIndexInfo>> PayloadIndexesFromEntry(
    const storage::CollectionEntry& entry) {
  std::vector<PayloadIndexInfo> out;
  for (const auto& p : entry.payload_indexes) {
    auto kind = ParsePayloadIndexKind(p.kind);
    Status s = kind.ok() ? ValidateFieldPath(p.field) : kind.status();
    if (!s.ok()) {
      return Status::Corruption("manifest entry of collection '" + entry.name +
                                "' has a bad payload index: " + s.message());
    }
    out.push_back({p.field, *kind});
  }
  return out;
}

}  // namespace

CollectionImpl::CollectionImpl(Context ctx, const storage::CollectionEntry& entry, Metric metric,
                               const IndexOptions& index)
    : ctx_(std::move(ctx)),
      name_(entry.name),
      id_(entry.id),
      dim_(entry.dim),
      metric_(metric),
      index_options_(index),
      // The sealing threshold itself, however small (DatabaseOptions documents it): a
      // Memtable rounds its capacity up to whole chunks on its own.
      memtable_rows_(std::max<size_t>(
          1, std::min(ctx_.options.memtable_max_rows,
                      ctx_.options.memtable_max_bytes / (sizeof(float) * entry.dim)))) {
  active_ = NewMemtable(0);
  auto v = std::make_shared<Version>();
  v->sources.push_back(active_);
  version_ = std::move(v);
}

CollectionImpl::~CollectionImpl() { Shutdown("collection '" + name_ + "' is closed", false); }

Result<std::shared_ptr<CollectionImpl>> CollectionImpl::Create(
    Context ctx, const storage::CollectionEntry& entry) {
  NEARSTORE_ASSIGN_OR_RETURN(Metric metric, ParseMetric(entry.metric));
  NEARSTORE_ASSIGN_OR_RETURN(IndexOptions index, IndexFromEntry(entry));
  NEARSTORE_RETURN_IF_ERROR(ctx.env->CreateDirs(ctx.dir));
  std::shared_ptr<CollectionImpl> c(new CollectionImpl(std::move(ctx), entry, metric, index));
  c->wal_number_ = entry.min_wal;
  c->next_file_ = entry.min_wal + 1;
  NEARSTORE_ASSIGN_OR_RETURN(
      c->wal_,
      storage::WalWriter::Create(
          c->ctx_.env, storage::JoinPath(c->ctx_.dir, storage::WalFileName(c->wal_number_))));
  NEARSTORE_RETURN_IF_ERROR(c->ctx_.env->SyncDir(c->ctx_.dir));
  return c;
}

Result<std::shared_ptr<CollectionImpl>> CollectionImpl::Recover(
    Context ctx, const storage::CollectionEntry& entry) {
  NEARSTORE_ASSIGN_OR_RETURN(Metric metric, ParseMetric(entry.metric));
  NEARSTORE_ASSIGN_OR_RETURN(IndexOptions index, IndexFromEntry(entry));
  if (!ctx.env->FileExists(ctx.dir)) {
    return Status::Corruption("collection directory '" + ctx.dir +
                              "' is listed in the manifest but missing");
  }
  NEARSTORE_ASSIGN_OR_RETURN(auto payload_fields, PayloadIndexesFromEntry(entry));
  std::shared_ptr<CollectionImpl> c(new CollectionImpl(std::move(ctx), entry, metric, index));
  {
    base::MutexLock payload(c->payload_mu_);  // no other thread has `c` yet: for the analysis
    c->payload_fields_ = std::move(payload_fields);
  }
  c->next_file_ = std::max<uint64_t>(entry.next_file, 1);
  c->next_seq_ = entry.last_sealed_seq + 1;
  storage::ReplayChecker replay(entry.last_sealed_seq);
  NEARSTORE_RETURN_IF_ERROR(c->LoadSegments(entry, &replay));
  NEARSTORE_RETURN_IF_ERROR(c->ReplayLogs(entry, &replay));
  return c;
}

Status CollectionImpl::LoadSegments(const storage::CollectionEntry& entry,
                                    storage::ReplayChecker* replay) {
  std::vector<std::shared_ptr<RowSource>> sources;
  for (const auto& se : entry.segments) {
    NEARSTORE_ASSIGN_OR_RETURN(auto seg, Segment::Open(ctx_.env, ctx_.dir, se.file,
                                                       ctx_.options.verify_checksums_on_open));
    const auto& v = seg->view();
    const std::string path = storage::JoinPath(ctx_.dir, se.file);
    if (v.dim() != dim_ || v.rows() != se.rows || v.tombstones() != se.tombstones) {
      return Status::Corruption("segment '" + path + "' does not match the manifest (dimension " +
                                std::to_string(v.dim()) + " vs " + std::to_string(dim_) +
                                ", rows " + std::to_string(v.rows()) + " vs " +
                                std::to_string(se.rows) + ")");
    }
    NEARSTORE_RETURN_IF_ERROR(
        replay->AddSegment(path, v.rows() + v.tombstones(), v.min_seq(), v.max_seq()));
    // Replay rows and tombstones in sequence order: each newer version of an id (or its
    // delete) ends the life of the older row. (No other thread has this collection yet: the
    // locks here cost nothing and keep the one rule for the analysis.)
    uint64_t r = 0, t = 0;
    {
      base::WriterLock state(state_mu_);
      while (r < v.rows() || t < v.tombstones()) {
        const bool take_row =
            t >= v.tombstones() || (r < v.rows() && v.seq(r) <= v.tombstone_seq(t));
        if (take_row) {
          const uint64_t seq = v.seq(r);
          auto [it, inserted] = index_.try_emplace(std::string(v.id(r)), RowRef{seg.get(), r});
          if (!inserted) {
            it->second.source->MarkDeleted(it->second.row, seq);
            it->second = {seg.get(), r};
          }
          ++r;
        } else {
          const uint64_t seq = v.tombstone_seq(t);
          auto it = index_.find(v.tombstone_id(t));
          if (it != index_.end()) {
            it->second.source->MarkDeleted(it->second.row, seq);
            index_.erase(it);
          }
          ++t;
        }
      }
    }
    {
      base::MutexLock payload(payload_mu_);
      NEARSTORE_RETURN_IF_ERROR(IndexPayload(*seg));
    }
    sources.push_back(std::move(seg));
  }
  sources.push_back(active_);
  auto version = std::make_shared<Version>();
  version->sources = std::move(sources);
  next_seq_ = replay->next_seq();
  base::WriterLock state(state_mu_);
  version_ = std::move(version);
  visible_seq_ = next_seq_ - 1;
  return Status::Ok();
}

Status CollectionImpl::ReplayLogs(const storage::CollectionEntry& entry,
                                  storage::ReplayChecker* replay) {
  NEARSTORE_ASSIGN_OR_RETURN(auto names, ctx_.env->ListDir(ctx_.dir));
  const std::vector<uint64_t> wals = storage::LogsToReplay(names, entry.min_wal);
  for (const auto& n : names) {
    const std::string path = storage::JoinPath(ctx_.dir, n);
    const storage::ParsedFileName file = storage::ParseFileName(n);
    if (file.kind == storage::FileKind::kWal) {
      next_file_ = std::max(next_file_.load(), file.number + 1);
      if (!std::binary_search(wals.begin(), wals.end(), file.number)) {
        (void)ctx_.env->RemoveFile(path);  // sealed before the crash; harmless if it stays
      }
    } else if (file.kind == storage::FileKind::kSegment) {
      next_file_ = std::max(next_file_.load(), file.number + 1);
      const bool listed = std::any_of(entry.segments.begin(), entry.segments.end(),
                                      [&](const auto& s) { return s.file == n; });
      // Written but never recorded in the manifest (a crash mid-seal): its rows are still
      // in the logs.
      if (!listed) (void)ctx_.env->RemoveFile(path);
    } else if (file.kind == storage::FileKind::kTemp) {
      (void)ctx_.env->RemoveFile(path);
    }
  }

  // Replay as the leader would apply: under write_mu_ (which EnsureRoom requires; no other
  // thread has this collection yet).
  base::MutexLock write(write_mu_);
  for (size_t i = 0; i < wals.size(); ++i) {
    const std::string path = storage::JoinPath(ctx_.dir, storage::WalFileName(wals[i]));
    NEARSTORE_ASSIGN_OR_RETURN(auto file, ctx_.env->MapFile(path));
    NEARSTORE_ASSIGN_OR_RETURN(auto contents, storage::ParseWal(file->data(), path));
    NEARSTORE_RETURN_IF_ERROR(replay->BeginLog(path, contents, /*newest=*/i + 1 == wals.size()));
    for (size_t r = 0; r < contents.records.size(); ++r) {
      NEARSTORE_ASSIGN_OR_RETURN(storage::LogRecord record,
                                 storage::DecodeLogRecord(contents.records[r], dim_, path));
      const WriteOp op(std::move(record));
      NEARSTORE_ASSIGN_OR_RETURN(const bool to_replay, replay->Accept(op.seq));
      if (!to_replay) continue;  // already in a segment
      // Room first: a memtable frozen here holds the writes before this one (its max_seq
      // is next_seq_ - 1), and this one goes to the next memtable.
      NEARSTORE_RETURN_IF_ERROR(EnsureRoom(op.MaxNewRows(), /*replaying=*/true, wals[i]));
      next_seq_ = op.seq + 1;
      std::vector<bool> existed;
      ApplyOp(op, &existed);
    }
    file.reset();
    // Trim what the crash left half-written, so the file is whole if it is read again.
    if (contents.torn_header) {
      NEARSTORE_RETURN_IF_ERROR(ctx_.env->RemoveFile(path));
    } else if (contents.torn_tail) {
      NEARSTORE_RETURN_IF_ERROR(ctx_.env->TruncateFile(path, contents.valid_size));
    }
  }

  // New writes go to a new log; what was replayed is frozen and sealed in the background.
  wal_number_ = next_file_.fetch_add(1);
  NEARSTORE_ASSIGN_OR_RETURN(
      wal_, storage::WalWriter::Create(
                ctx_.env, storage::JoinPath(ctx_.dir, storage::WalFileName(wal_number_))));
  NEARSTORE_RETURN_IF_ERROR(ctx_.env->SyncDir(ctx_.dir));
  write.unlock();
  {
    base::WriterLock state(state_mu_);
    visible_seq_ = next_seq_ - 1;
  }
  bool replayed_anything;
  {
    base::MutexLock lock(seal_mu_);
    replayed_anything = !frozen_.empty() || !active_->empty();
  }
  if (!replayed_anything) {
    // Every record in the old logs is in a segment or changed nothing (a delete or update of
    // an absent id): the logs are not needed any more. Sequence numbers are dense (replay
    // checks it), so the numbers the no-op records took are recorded as sealed first.
    if (next_seq_ - 1 > entry.last_sealed_seq) {
      const uint64_t sealed = next_seq_ - 1, min_wal = wal_number_, next_file = next_file_.load();
      NEARSTORE_RETURN_IF_ERROR(
          ctx_.manifest->UpdateCollection(id_, [&](storage::CollectionEntry& c) {
            c.last_sealed_seq = std::max(c.last_sealed_seq, sealed);
            c.min_wal = std::max(c.min_wal, min_wal);
            c.next_file = next_file;
          }));
    }
    for (uint64_t number : wals) {
      const std::string path = storage::JoinPath(ctx_.dir, storage::WalFileName(number));
      if (ctx_.env->FileExists(path)) (void)ctx_.env->RemoveFile(path);
    }
  }
  if (!active_->empty()) {
    Freeze(wal_number_);
    StartMemtable(0);
  }
  size_t pending;
  {
    base::MutexLock lock(seal_mu_);
    pending = frozen_.size();
  }
  // One task per frozen memtable: each seals the oldest one left.
  for (; pending > 0; --pending) ScheduleSeal();
  return Status::Ok();
}

void CollectionImpl::Shutdown(const std::string& reason, bool dropped) {
  base::MutexLock lock(write_mu_);
  if (!closed_.load()) {
    closed_reason_ = reason;
    closed_.store(true, std::memory_order_release);
  }
  if (dropped) {
    dropped_.store(true);
    // Wake Flush() calls waiting for seals that a dropped collection will never run.
    { base::MutexLock seal_lock(seal_mu_); }
    seal_cv_.NotifyAll();
  }
  while (!queue_.empty()) queue_empty_cv_.Wait(write_mu_);
  if (wal_) {
    // Best effort: what a refused write left in the log is cut off (RepairLog would have), so
    // the next open does not replay it.
    if (!log_error_.ok()) (void)ctx_.env->TruncateFile(wal_->path(), wal_acked_size_);
    (void)wal_->Sync();  // best effort: kNoSync writes get one last chance to reach the disk
    (void)wal_->Close();
    wal_.reset();
  }
}

}  // namespace nearstore::engine

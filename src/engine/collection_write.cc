// The write path of CollectionImpl: validation, the group-commit queue, memtable rotation and
// applying ops. See collection_impl.h for the overall protocol.
#include <algorithm>

#include "engine/collection_impl.h"
#include "engine/filtered_search.h"
#include "engine/validate.h"

namespace nearstore::engine {
namespace {

// A leader stops adding writes to its group past these (one fsync per group).
constexpr size_t kMaxGroupBytes = size_t{8} << 20;
constexpr size_t kMaxGroupWrites = 1024;

}  // namespace

Status CollectionImpl::CheckOpen() const {
  if (closed_.load(std::memory_order_acquire)) {
    return Status::FailedPrecondition(closed_reason_);
  }
  return Status::Ok();
}

Status CollectionImpl::Upsert(const Point& point) {
  return Upsert(std::span<const Point>(&point, 1));
}

Status CollectionImpl::Upsert(std::span<const Point> points) {
  WriteOp op;
  op.type = storage::OpType::kUpsert;
  op.ids.reserve(points.size());
  op.metadata.reserve(points.size());
  op.vectors.resize(points.size() * dim_);
  for (size_t i = 0; i < points.size(); ++i) {
    const Point& p = points[i];
    NEARSTORE_RETURN_IF_ERROR(ValidateId(p.id));
    NEARSTORE_RETURN_IF_ERROR(PrepareVector(p.vector, dim_, metric_, name_,
                                            "vector of '" + p.id + "'", &op.vectors[i * dim_]));
    NEARSTORE_ASSIGN_OR_RETURN(std::string meta, CanonicalMetadata(p.metadata, p.id));
    op.ids.push_back(p.id);
    op.metadata.push_back(std::move(meta));
  }
  if (op.ids.empty()) return CheckOpen();
  return Submit(&op, nullptr);
}

Status CollectionImpl::UpsertColumns(std::span<const std::string> ids,
                                     std::span<const float> vectors,
                                     std::span<const std::string> metadata) {
  if (vectors.size() != ids.size() * dim_) {
    return Status::InvalidArgument(
        "dimension mismatch: collection '" + name_ + "' expects " + std::to_string(ids.size()) +
        " vectors of " + std::to_string(dim_) + " floats (" + std::to_string(ids.size() * dim_) +
        " values), got " + std::to_string(vectors.size()) + " values");
  }
  if (!metadata.empty() && metadata.size() != ids.size()) {
    return Status::InvalidArgument("got " + std::to_string(metadata.size()) +
                                   " metadata entries for " + std::to_string(ids.size()) +
                                   " ids; expected one per id or none");
  }
  WriteOp op;
  op.type = storage::OpType::kUpsert;
  op.ids.reserve(ids.size());
  op.metadata.reserve(ids.size());
  op.vectors.resize(vectors.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    NEARSTORE_RETURN_IF_ERROR(ValidateId(ids[i]));
    NEARSTORE_RETURN_IF_ERROR(PrepareVector(vectors.subspan(i * dim_, dim_), dim_, metric_, name_,
                                            "vector of '" + ids[i] + "'", &op.vectors[i * dim_]));
    NEARSTORE_ASSIGN_OR_RETURN(std::string meta,
                               CanonicalMetadata(metadata.empty() ? "" : metadata[i], ids[i]));
    op.ids.push_back(ids[i]);
    op.metadata.push_back(std::move(meta));
  }
  if (op.ids.empty()) return CheckOpen();
  return Submit(&op, nullptr);
}

Result<bool> CollectionImpl::Update(std::string_view id, const PointUpdate& update) {
  NEARSTORE_RETURN_IF_ERROR(ValidateId(id));
  WriteOp op;
  op.type = storage::OpType::kUpdate;
  op.ids.emplace_back(id);
  if (update.vector) {
    op.has_vector = true;
    op.vectors.resize(dim_);
    NEARSTORE_RETURN_IF_ERROR(PrepareVector(*update.vector, dim_, metric_, name_,
                                            "vector of '" + std::string(id) + "'",
                                            op.vectors.data()));
  }
  if (update.metadata) {
    op.has_metadata = true;
    NEARSTORE_ASSIGN_OR_RETURN(std::string meta, CanonicalMetadata(*update.metadata, id));
    op.metadata.push_back(std::move(meta));
  }
  std::vector<bool> existed;
  NEARSTORE_RETURN_IF_ERROR(Submit(&op, &existed));
  return static_cast<bool>(existed.at(0));
}

Result<bool> CollectionImpl::Delete(std::string_view id) {
  std::string ids[1] = {std::string(id)};
  NEARSTORE_ASSIGN_OR_RETURN(auto existed, DeleteMany(ids));
  return static_cast<bool>(existed.at(0));
}

Result<std::vector<bool>> CollectionImpl::DeleteMany(std::span<const std::string> ids) {
  WriteOp op;
  op.type = storage::OpType::kDelete;
  for (const auto& id : ids) {
    NEARSTORE_RETURN_IF_ERROR(ValidateId(id));
    op.ids.push_back(id);
  }
  std::vector<bool> existed;
  if (op.ids.empty()) {
    NEARSTORE_RETURN_IF_ERROR(CheckOpen());
    return existed;
  }
  NEARSTORE_RETURN_IF_ERROR(Submit(&op, &existed));
  return existed;
}

Result<uint64_t> CollectionImpl::DeleteWhere(std::string_view filter_text) {
  NEARSTORE_RETURN_IF_ERROR(CheckOpen());
  if (filter_text.empty()) {
    return Status::InvalidArgument(
        "delete by filter needs a filter; pass {} to delete every point");
  }
  NEARSTORE_ASSIGN_OR_RETURN(filter::Filter filter, filter::Filter::Parse(filter_text));
  // The versions passing at a snapshot, then one delete of those versions: a point written
  // again meanwhile is left alone (its new version was not judged), see WriteOp::if_seq.
  const Snapshot snapshot = TakeSnapshot();
  WriteOp op;
  op.type = storage::OpType::kDelete;
  ForEachMatch(PrepareFilter(snapshot, filter, /*plan_walks=*/false), snapshot.seq,
               [&](const RowSource& source, uint64_t row) {
                 op.ids.emplace_back(source.Id(row));
                 op.if_seq.push_back(source.Seq(row));
               });
  if (op.ids.empty()) return uint64_t{0};
  std::vector<bool> existed;
  NEARSTORE_RETURN_IF_ERROR(Submit(&op, &existed));
  return static_cast<uint64_t>(std::count(existed.begin(), existed.end(), true));
}

void CollectionImpl::DropChangedIds(WriteOp* op,
                                    std::unordered_set<std::string_view>* written) const {
  if (op->if_seq.empty()) {
    written->insert(op->ids.begin(), op->ids.end());
    return;
  }
  std::vector<std::string> kept;
  {
    base::ReaderLock state(state_mu_);  // the sealer may repoint entries meanwhile
    for (size_t i = 0; i < op->ids.size(); ++i) {
      if (written->count(op->ids[i]) > 0) continue;
      auto it = index_.find(op->ids[i]);
      if (it == index_.end() || it->second.source->Seq(it->second.row) != op->if_seq[i]) continue;
      kept.push_back(std::move(op->ids[i]));
    }
  }
  op->ids = std::move(kept);
  op->if_seq.clear();
  written->insert(op->ids.begin(), op->ids.end());
}

Status CollectionImpl::Submit(WriteOp* op, std::vector<bool>* existed) {
  if (op != nullptr && op->ApproxBytes() > storage::kWalMaxRecordSize / 2) {
    return Status::InvalidArgument("batch of " + std::to_string(op->ApproxBytes()) +
                                   " bytes is too large for one write; the limit is " +
                                   std::to_string(storage::kWalMaxRecordSize / 2) +
                                   " bytes: split it into smaller batches");
  }
  NEARSTORE_RETURN_IF_ERROR(CheckOpen());
  // After a seal failed (for space, say), a write waits for a retry, and is refused while it
  // fails: memtables that cannot be sealed must not pile up in memory.
  NEARSTORE_RETURN_IF_ERROR(RetryFailedSeals());
  PendingWrite w;
  w.op = op;
  base::MutexLock lock(write_mu_);
  NEARSTORE_RETURN_IF_ERROR(CheckOpen());
  queue_.push_back(&w);
  while (!w.done && queue_.front() != &w) w.cv.Wait(write_mu_);
  if (!w.done) {
    // This writer leads: it commits a group that starts with its own write.
    Status s = LeadGroup();
    (void)s;  // each member's outcome is in its PendingWrite
  }
  if (existed != nullptr) *existed = std::move(w.existed);
  return w.status;
}

Status CollectionImpl::LeadGroup() {
  // 1. Take the group and make room for it (under write_mu_).
  std::vector<PendingWrite*> group;
  size_t bytes = 0, rows = 0;
  Status status;
  if (!log_error_.ok()) status = RepairLog();
  if (queue_.front()->op == nullptr) {
    group.push_back(queue_.front());  // a flush request goes alone
    if (status.ok() && !active_->empty()) status = RotateLog();
  } else {
    for (PendingWrite* w : queue_) {
      if (w->op == nullptr || group.size() >= kMaxGroupWrites) break;
      if (!group.empty() && bytes + w->op->ApproxBytes() > kMaxGroupBytes) break;
      group.push_back(w);
      bytes += w->op->ApproxBytes();
      rows += w->op->MaxNewRows();
    }
    if (status.ok()) status = EnsureRoom(rows, /*replaying=*/false, 0);
  }

  // 2. Log, sync and apply, without holding write_mu_ (others may queue meanwhile).
  if (status.ok() && group.front()->op != nullptr) {
    std::string records;
    std::string payload;
    std::unordered_set<std::string_view> written;  // ids written by the group's ops so far
    for (PendingWrite* w : group) {
      DropChangedIds(w->op, &written);
      w->op->seq = next_seq_++;
      payload.clear();
      storage::EncodeLogRecord(*w->op, dim_, &payload);
      storage::WalWriter::EncodeRecord(payload, &records);
    }
    const uint64_t acked_size = wal_->Size();  // every earlier append succeeded
    // The caller's MutexLock stays in place: write_mu_ is held again below before it returns.
    write_mu_.unlock();
    status = wal_->Append(records);
    if (status.ok() && ctx_.options.durability == Durability::kSync) status = wal_->Sync();
    if (status.ok()) {
      for (PendingWrite* w : group) ApplyOp(*w->op, &w->existed);
    }
    write_mu_.lock();
    if (!status.ok()) {
      // The log may hold all, part or none of the group, none of it applied. Its sequence
      // numbers are taken again once RepairLog has cut them off the log.
      next_seq_ = group.front()->op->seq;
      status = FailLog(status, acked_size);
    } else if (ActiveIsFull()) {
      // Start sealing now rather than at the next write. This group is durable and applied
      // either way: a failure here is repaired before the next write.
      (void)RotateLog();
    }
  }

  // 3. Complete the group and hand the lead to the next writer.
  for (PendingWrite* w : group) {
    w->status = status;
    w->done = true;
    queue_.pop_front();
    w->cv.NotifyOne();
  }
  if (!queue_.empty()) {
    queue_.front()->cv.NotifyOne();
  } else {
    queue_empty_cv_.NotifyAll();
  }
  return status;
}

std::shared_ptr<Memtable> CollectionImpl::NewMemtable(size_t min_rows) const {
  return std::make_shared<Memtable>(dim_, std::max(memtable_rows_, min_rows));
}

bool CollectionImpl::ActiveIsFull() const {
  return active_->appended() >= memtable_rows_ ||
         active_->appended() * dim_ * sizeof(float) >= ctx_.options.memtable_max_bytes;
}

Status CollectionImpl::EnsureRoom(size_t rows, bool replaying, uint64_t replay_file) {
  if (active_->appended() + rows <= active_->capacity()) return Status::Ok();
  if (active_->empty()) {
    // An empty memtable too small for one big batch: swap in a bigger one.
    auto bigger = NewMemtable(rows);
    PublishVersion({active_.get()}, bigger);
    active_ = std::move(bigger);
    return Status::Ok();
  }
  if (replaying) {
    // Log files before the one being replayed are wholly in this or earlier memtables.
    Freeze(replay_file);
    StartMemtable(rows);
    return Status::Ok();
  }
  NEARSTORE_RETURN_IF_ERROR(RotateLog());
  if (active_->capacity() < rows) return EnsureRoom(rows, false, 0);
  return Status::Ok();
}

Status CollectionImpl::RotateLog() {
  // The old log must be durable before it counts as complete (kNoSync never synced it).
  Status s = wal_->Sync();
  if (s.ok()) s = SwitchLog();
  if (!s.ok()) return FailLog(s, wal_->Size());  // every append to it succeeded
  Freeze(wal_number_);
  StartMemtable(0);
  ScheduleSeal();
  return Status::Ok();
}

Status CollectionImpl::SwitchLog() {
  const uint64_t number = next_file_.fetch_add(1);
  const std::string path = storage::JoinPath(ctx_.dir, storage::WalFileName(number));
  auto wal = storage::WalWriter::Create(ctx_.env, path);
  Status s = wal.status();
  if (s.ok()) s = ctx_.env->SyncDir(ctx_.dir);
  if (!s.ok()) {
    // A log cut short before a newer one is corruption to recovery: this one must go before
    // any other is started.
    if (ctx_.env->FileExists(path) && !ctx_.env->RemoveFile(path).ok()) {
      stale_logs_.push_back(path);
    }
    return s;
  }
  (void)wal_->Close();  // synced before: a late close error loses nothing
  wal_ = std::move(wal).value();
  wal_number_ = number;
  return Status::Ok();
}

Status CollectionImpl::FailLog(const Status& error, uint64_t acked_size) {
  if (log_error_.ok()) {  // a second failure (of a repair) keeps the first's boundary
    log_error_ = error;
    wal_acked_size_ = acked_size;
  }
  return error.WithContext("write-ahead log of collection '" + name_ +
                           "' failed; the write was not applied (the next write cuts the log "
                           "back to the last acknowledged write and starts a new one)");
}

Status CollectionImpl::RepairLog() {
  const std::string failed = log_error_.message();
  auto refuse = [&](const Status& s) {
    return s.WithContext("the write-ahead log of collection '" + name_ + "' failed earlier (" +
                         failed +
                         ") and cannot be repaired yet; nothing was written (the next "
                         "write tries again)");
  };
  for (auto it = stale_logs_.begin(); it != stale_logs_.end(); it = stale_logs_.erase(it)) {
    if (!ctx_.env->FileExists(*it)) continue;
    if (Status s = ctx_.env->RemoveFile(*it); !s.ok()) return refuse(s);
  }
  const std::string path = wal_->path();
  Status s = ctx_.env->TruncateFile(path, wal_acked_size_);
  if (s.ok()) {
    auto reopened = ctx_.env->NewAppendableFile(path);
    s = reopened.status();
    if (s.ok()) s = (*reopened)->Sync();  // the cut is durable before anything follows it
    if (s.ok()) s = (*reopened)->Close();
  }
  if (s.ok()) s = SwitchLog();
  if (!s.ok()) return refuse(s);
  log_error_ = Status::Ok();
  return Status::Ok();
}

void CollectionImpl::Freeze(uint64_t delete_wal_below) {
  base::MutexLock lock(seal_mu_);
  frozen_.push_back({active_, delete_wal_below, next_seq_ - 1});
  ++frozen_total_;
}

void CollectionImpl::StartMemtable(size_t min_rows) {
  auto fresh = NewMemtable(min_rows);
  PublishVersion({}, fresh);
  active_ = std::move(fresh);
}

void CollectionImpl::PublishVersion(const std::vector<const RowSource*>& removed,
                                    std::shared_ptr<RowSource> added) {
  base::WriterLock state(state_mu_);
  PublishVersionLocked(removed, std::move(added));
}

void CollectionImpl::PublishVersionLocked(const std::vector<const RowSource*>& removed,
                                          std::shared_ptr<RowSource> added) {
  auto v = std::make_shared<Version>();
  v->sources.reserve(version_->sources.size() + 1);
  for (const auto& s : version_->sources) {
    if (std::find(removed.begin(), removed.end(), s.get()) == removed.end()) {
      v->sources.push_back(s);
    } else if (added) {
      v->sources.push_back(std::move(added));  // in the place of the first source removed
    }
  }
  if (added) v->sources.push_back(std::move(added));
  version_ = std::move(v);
}

void CollectionImpl::ApplyOp(const WriteOp& op, std::vector<bool>* existed) {
  Memtable& mem = *active_;
  existed->assign(op.ids.size(), false);
  switch (op.type) {
    case storage::OpType::kUpsert: {
      // Rows first (invisible: their seq is above every snapshot), then the index and the
      // visible sequence number together.
      const uint64_t first = mem.appended();
      for (size_t i = 0; i < op.ids.size(); ++i) {
        mem.Append(op.ids[i], op.vectors.data() + i * dim_, op.metadata[i], op.seq);
      }
      mem.Publish();
      base::WriterLock state(state_mu_);
      for (size_t i = 0; i < op.ids.size(); ++i) {
        const RowRef ref{&mem, first + i};
        auto [it, inserted] = index_.try_emplace(op.ids[i], ref);
        if (!inserted) {
          it->second.source->MarkDeleted(it->second.row, op.seq);
          it->second = ref;
        }
        (*existed)[i] = !inserted;
      }
      visible_seq_ = op.seq;
      break;
    }
    case storage::OpType::kUpdate: {
      // Copy what the update keeps from the current row under the shared lock: the sealer
      // may repoint the index entry (memtable -> segment) and retire the old source meanwhile.
      std::vector<float> vec;
      std::string meta;
      bool found = false;
      {
        base::ReaderLock state(state_mu_);
        auto it = index_.find(op.ids[0]);
        if (it != index_.end()) {
          found = true;
          const RowRef old = it->second;
          if (!op.has_vector)
            vec.assign(old.source->Vector(old.row), old.source->Vector(old.row) + dim_);
          if (!op.has_metadata) meta = old.source->Metadata(old.row);
        }
      }
      if (!found) {
        base::WriterLock state(state_mu_);
        visible_seq_ = op.seq;
        break;
      }
      const uint64_t row = mem.Append(op.ids[0], op.has_vector ? op.vectors.data() : vec.data(),
                                      op.has_metadata ? op.metadata[0] : meta, op.seq);
      mem.Publish();
      base::WriterLock state(state_mu_);
      auto it = index_.find(op.ids[0]);  // still there: only this thread removes entries
      it->second.source->MarkDeleted(it->second.row, op.seq);
      it->second = {&mem, row};
      (*existed)[0] = true;
      visible_seq_ = op.seq;
      break;
    }
    case storage::OpType::kDelete: {
      base::WriterLock state(state_mu_);
      for (size_t i = 0; i < op.ids.size(); ++i) {
        auto it = index_.find(op.ids[i]);
        if (it == index_.end()) continue;
        it->second.source->MarkDeleted(it->second.row, op.seq);
        index_.erase(it);
        mem.AddTombstone(op.ids[i], op.seq);
        (*existed)[i] = true;
      }
      visible_seq_ = op.seq;
      break;
    }
  }
}

}  // namespace nearstore::engine

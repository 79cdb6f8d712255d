// CollectionImpl: the engine behind nearstore::Collection.
//
// Write path (collection_write.cc): validate -> queue -> the writer at the head of the queue
// (the leader) takes a group of queued writes, gives each a sequence number, appends them to
// the write-ahead log in one write, syncs once (group commit), applies them to the memtable and
// the id index, publishes the new visible sequence number, and wakes the group. The leader
// holds no lock across the log's I/O, so readers never wait for an fsync. A group whose log
// append or sync fails is refused and not applied; the next leader first repairs the log
// (RepairLog), so writes resume once the disk has room again.
//
// Read path (collection_read.cc): take a Snapshot (version + visible sequence number) under a
// short shared lock, then search or read without any lock.
//
// Maintenance (collection_maintenance.cc), on the database's background thread: a full
// memtable is frozen (a new log file is started), written as a segment file, recorded in the
// MANIFEST, swapped into the version, and its log files deleted. Compaction rewrites all
// segments into one without dead rows.
//
// Recovery (collection_recovery.cc): map the MANIFEST's segments, rebuild the id index from
// their rows and tombstones in sequence order, replay the log files.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>

#include "base/mutex.h"
#include "base/thread_annotations.h"
#include "engine/background.h"
#include "engine/manifest_store.h"
#include "engine/memtable.h"
#include "engine/segment.h"
#include "engine/thread_pool.h"
#include "engine/version.h"
#include "engine/write_op.h"
#include "nearstore/collection.h"
#include "nearstore/options.h"
#include "storage/filename.h"
#include "storage/log_replay.h"
#include "storage/wal.h"

namespace nearstore::engine {

// Where the newest version of an id lives.
struct RowRef {
  const RowSource* source;
  uint64_t row;
};
using IdIndex = std::map<std::string, RowRef, std::less<>>;

class CollectionImpl final : public Collection,
                             public std::enable_shared_from_this<CollectionImpl> {
 public:
  struct Context {
    storage::Env* env = nullptr;
    std::string dir;  // the collection's directory
    ManifestStore* manifest = nullptr;
    BackgroundWorker* background = nullptr;
    ThreadPool* pool = nullptr;
    DatabaseOptions options;
  };

  // Creates the files of a new collection (its directory and first log). The caller then
  // adds `entry` to the MANIFEST.
  [[nodiscard]] static Result<std::shared_ptr<CollectionImpl>> Create(
      Context ctx, const storage::CollectionEntry& entry);
  // Recovers an existing collection from its MANIFEST entry and files.
  [[nodiscard]] static Result<std::shared_ptr<CollectionImpl>> Recover(
      Context ctx, const storage::CollectionEntry& entry);

  ~CollectionImpl() override;

  // Refuses every later call with FailedPrecondition(`reason`), waits for queued writes, and
  // closes the log. When `dropped`, pending maintenance is skipped.
  void Shutdown(const std::string& reason, bool dropped);

  // Collection.
  const std::string& name() const override { return name_; }
  uint32_t dim() const override { return dim_; }
  Metric metric() const override { return metric_; }
  Status Upsert(const Point& point) override;
  Status Upsert(std::span<const Point> points) override;
  Status UpsertColumns(std::span<const std::string> ids, std::span<const float> vectors,
                       std::span<const std::string> metadata) override;
  Result<std::optional<Point>> Get(std::string_view id) const override;
  Result<std::vector<std::optional<Point>>> GetMany(
      std::span<const std::string> ids) const override;
  Result<bool> Update(std::string_view id, const PointUpdate& update) override;
  Result<bool> Delete(std::string_view id) override;
  Result<std::vector<bool>> DeleteMany(std::span<const std::string> ids) override;
  Status CheckUsable() const override { return CheckOpen(); }
  uint64_t Count() const override;
  Result<uint64_t> CountWhere(std::string_view filter) const override;
  Result<uint64_t> DeleteWhere(std::string_view filter) override;
  Status CreatePayloadIndex(std::string_view field, PayloadIndexKind kind) override;
  Result<bool> DropPayloadIndex(std::string_view field) override;
  std::vector<PayloadIndexInfo> ListPayloadIndexes() const override;
  Result<ScrollPage> Scroll(const ScrollOptions& options) const override;
  Result<std::vector<Hit>> Search(std::span<const float> query,
                                  const SearchOptions& options) const override;
  Result<std::vector<std::vector<Hit>>> SearchBatch(std::span<const float> queries,
                                                    const SearchOptions& options) const override;
  CollectionInfo Info() const override;
  uint64_t incarnation() const override { return id_; }
  Status Flush() override;
  Status Compact() override;

 private:
  // A write waiting in the queue. `op` is null for a flush request (rotate the memtable).
  // `done` is guarded by write_mu_ (which GUARDED_BY cannot name from here); `cv` is waited
  // on with it. The leader fills `status` and `existed` before it sets `done`.
  struct PendingWrite {
    WriteOp* op = nullptr;
    Status status;
    std::vector<bool> existed;  // per id: did it exist (delete, update)
    bool done = false;
    base::CondVar cv;
  };
  // A memtable no longer written to, waiting to be sealed.
  struct Frozen {
    std::shared_ptr<Memtable> memtable;
    uint64_t delete_wal_below;  // once sealed, log files numbered below this hold nothing new
    uint64_t max_seq;
  };

  CollectionImpl(Context ctx, const storage::CollectionEntry& entry, Metric metric,
                 const IndexOptions& index);

  // --- write path (collection_write.cc)
  Status CheckOpen() const;
  Status Submit(WriteOp* op, std::vector<bool>* existed);
  // Commits the group at the head of the queue (the caller's write first). Releases write_mu_
  // while it logs, syncs and applies, and holds it again when it returns.
  Status LeadGroup() REQUIRES(write_mu_);
  // Removes from the conditional delete `op` (WriteOp::if_seq) the ids whose live version is
  // not the expected one, or that an op ahead of it in the group writes (`written`, which
  // gains this op's ids). REQUIRES: the caller leads the group, before it logs.
  void DropChangedIds(WriteOp* op, std::unordered_set<std::string_view>* written) const;
  // Makes sure the active memtable has room for `rows` more rows, freezing it if needed.
  // The caller is the leader (recovery takes write_mu_ to be one).
  Status EnsureRoom(size_t rows, bool replaying, uint64_t replay_file) REQUIRES(write_mu_);
  // Syncs the log, starts a new one and freezes the memtable (to be sealed). On failure the
  // log is marked failed (FailLog).
  Status RotateLog() REQUIRES(write_mu_);
  // Starts log file number next_file_ (header synced, directory synced) and makes it the one
  // written to; the old handle is closed (everything in it was synced). A file whose creation
  // failed is removed, or remembered in stale_logs_ when even that fails.
  Status SwitchLog();
  // Marks the log failed after `error`: records up to `acked_size` bytes were acknowledged,
  // anything after them was not. Returns `error` with what it means for the caller.
  Status FailLog(const Status& error, uint64_t acked_size) REQUIRES(write_mu_);
  // Before any write after a failure: removes stale_logs_, cuts the failed log back to its
  // acknowledged records and syncs it (a write whose append or sync failed must never be
  // replayed after writes acknowledged later), then starts a new log (a handle whose write or
  // sync failed is not written again). The rows of the active memtable then span both logs,
  // which stay until it is sealed.
  Status RepairLog() REQUIRES(write_mu_);
  std::shared_ptr<Memtable> NewMemtable(size_t min_rows) const;
  void Freeze(uint64_t delete_wal_below);
  bool ActiveIsFull() const;
  // Applies one logged op to the memtable and index and publishes its sequence number.
  void ApplyOp(const WriteOp& op, std::vector<bool>* existed);
  // Makes a new, empty memtable (room for at least `min_rows` rows) the active one, added
  // to the version after the others. REQUIRES: the caller is the leader (or recovery).
  void StartMemtable(size_t min_rows);
  // The one way a new Version is published: the current one's sources without `removed`, and
  // `added` in the place of the first of them (after the others when none is removed). Readers
  // holding the old version keep it.
  void PublishVersion(const std::vector<const RowSource*>& removed,
                      std::shared_ptr<RowSource> added) EXCLUDES(state_mu_);
  void PublishVersionLocked(const std::vector<const RowSource*>& removed,
                            std::shared_ptr<RowSource> added) REQUIRES(state_mu_);

  // --- read path (collection_read.cc)
  Snapshot TakeSnapshot() const;
  Point MakePoint(const RowRef& ref, bool with_vector, bool with_metadata) const;
  Result<std::vector<float>> PrepareQueries(std::span<const float> queries, size_t* nq) const;

  // --- maintenance (collection_maintenance.cc)
  // Schedules sealing the oldest frozen memtable; false when the database is closing.
  bool ScheduleSeal();
  void SealOldest();
  Status SealOne(const Frozen& frozen);
  Status CompactNow();
  bool CompactionWanted() const;
  // Records that a seal or compaction failed (its partial file already removed): Flush reports
  // it, and the next write or flush retries.
  void SetBackgroundError(const Status& s);
  // After a failed seal or compaction, schedules the seals again and waits for them: OK when
  // they all succeed, else their error (writes are refused while memtables cannot be sealed,
  // so that memory stays bounded). OK at once when nothing failed.
  Status RetryFailedSeals() EXCLUDES(write_mu_);
  // Waits until `target` memtables were ever sealed, a seal fails, or the collection is
  // dropped.
  Status WaitForSeals(uint64_t target) REQUIRES(seal_mu_);
  Status WriteSegmentFile(const std::string& file_name, const storage::SegmentColumns& columns,
                          uint64_t* size_bytes);
  // The encoded index sections of a new segment of `rows` rows of `vectors`: its HNSW graph
  // and (with quantization) its codes; both "" when the collection is flat or the segment too
  // small to be worth a graph.
  struct IndexSections {
    std::string graph, codes;
  };
  Result<IndexSections> BuildIndex(const float* vectors, uint64_t rows) const;
  // A segment file written by seal or compaction, opened and indexed.
  struct NewSegment {
    std::shared_ptr<Segment> segment;
    storage::SegmentEntry entry;  // its MANIFEST entry (storage::DescribeSegment)
  };
  // The one sequence from rows to a searchable segment, for seal and compaction: builds the
  // index sections of `columns` (graph and codes of its vectors, payload indexes of its
  // metadata), writes them as a new segment file and opens it; then the caller takes
  // payload_mu_ and sets its payload indexes (IndexNewSegment). On failure nothing is left on
  // disk (the partial file is removed at once).
  Result<NewSegment> WriteSegment(storage::SegmentColumns columns);
  // Sets the payload indexes of `made` (IndexPayload), removing its file on failure. payload_mu_
  // stays held from here until the caller has swapped the segment into the version, so that
  // every segment of a version has every payload index.
  Status IndexNewSegment(const NewSegment& made) REQUIRES(payload_mu_);
  // Removes segment file `file_name` of a segment that nothing lists (best effort: the next
  // open removes it otherwise).
  void RemoveUnlistedSegment(const std::string& file_name);
  // Applies `change` (which lists `made`) to the MANIFEST. On failure the file may or may not
  // be listed on disk, so it is removed only after the next MANIFEST recorded here.
  Status RecordSegment(const NewSegment& made,
                       const std::function<void(storage::CollectionEntry&)>& change);

  // --- payload indexes (collection_payload.cc)
  // The payload index section of a segment file of rows with `metadata`, for the indexed
  // fields at this moment (an index created meanwhile is built when the segment is opened).
  Result<std::string> EncodePayloadSection(std::span<const std::string_view> metadata) const;
  // Sets `segment`'s payload indexes for the collection's indexed fields: those its file
  // holds, the others built from its metadata. Under payload_mu_, so that no index is created
  // or dropped meanwhile.
  Status IndexPayload(const Segment& segment) const REQUIRES(payload_mu_);
  // IndexPayload of every sealed segment of the current version.
  Status IndexSealedSegments() const REQUIRES(payload_mu_);

  // --- recovery (collection_recovery.cc)
  // Both check the sequence numbers of what they read through `replay` (storage/log_replay.h).
  Status LoadSegments(const storage::CollectionEntry& entry, storage::ReplayChecker* replay);
  Status ReplayLogs(const storage::CollectionEntry& entry, storage::ReplayChecker* replay);

  const Context ctx_;
  const std::string name_;
  const uint64_t id_;
  const uint32_t dim_;
  const Metric metric_;
  const IndexOptions index_options_;
  const size_t memtable_rows_;  // capacity of a new memtable

  std::atomic<bool> closed_{false};
  std::string closed_reason_;  // written once before closed_ is set
  std::atomic<bool> dropped_{false};
  std::atomic<uint64_t> next_file_{1};

  // Write queue. The leader (queue head) alone touches wal_, wal_number_, wal_acked_size_,
  // stale_logs_, next_seq_, active_ (outside swaps) and mutates index_.
  mutable base::Mutex write_mu_;
  base::CondVar queue_empty_cv_;
  std::deque<PendingWrite*> queue_ GUARDED_BY(write_mu_);
  Status log_error_ GUARDED_BY(write_mu_);  // the log failed; RepairLog first
  std::unique_ptr<storage::WalWriter> wal_;
  uint64_t wal_number_ = 0;
  uint64_t wal_acked_size_ = 0;  // with log_error_: bytes of wal_ that hold acknowledged writes
  std::vector<std::string> stale_logs_;  // paths of logs whose creation failed, not yet removed
  uint64_t next_seq_ = 1;
  std::shared_ptr<Memtable> active_;

  // What readers see. Exclusive for changes (always short, never across I/O).
  mutable base::SharedMutex state_mu_;
  std::shared_ptr<const Version> version_ GUARDED_BY(state_mu_);
  uint64_t visible_seq_ GUARDED_BY(state_mu_) = 0;
  IdIndex index_ GUARDED_BY(state_mu_);

  // Payload index definitions. Held while a new segment is indexed and swapped in, and while an
  // index is created or dropped, so every segment in a version has every index. Lock order:
  // payload_mu_ before state_mu_.
  mutable base::Mutex payload_mu_ ACQUIRED_BEFORE(state_mu_);
  std::vector<PayloadIndexInfo> payload_fields_ GUARDED_BY(payload_mu_);

  // Sealing.
  mutable base::Mutex seal_mu_;
  base::CondVar seal_cv_;
  std::deque<Frozen> frozen_ GUARDED_BY(seal_mu_);
  // Memtables ever frozen and ever sealed (in that order, oldest first): Flush waits for the
  // ones frozen before it returns, not for those that concurrent writers freeze meanwhile.
  uint64_t frozen_total_ GUARDED_BY(seal_mu_) = 0;
  uint64_t sealed_total_ GUARDED_BY(seal_mu_) = 0;
  Status background_error_ GUARDED_BY(seal_mu_);
  // Segment files whose recording in the MANIFEST failed (see RecordSegment). Touched only on
  // the background thread, where seals and compactions run.
  std::vector<std::string> unlisted_segments_;
};

}  // namespace nearstore::engine

#include "storage/log_record.h"

#include "storage/coding.h"

namespace nearstore::storage {

size_t LogRecord::ApproxBytes() const {
  size_t n = 32 + vectors.size() * sizeof(float);
  for (const auto& id : ids) n += id.size() + 2;
  for (const auto& m : metadata) n += m.size() + 4;
  return n;
}

void EncodeLogRecord(const LogRecord& op, uint32_t dim, std::string* out) {
  out->reserve(out->size() + op.ApproxBytes());
  PutU8(*out, static_cast<uint8_t>(op.type));
  PutU64(*out, op.seq);
  PutU32(*out, dim);
  PutU32(*out, static_cast<uint32_t>(op.ids.size()));
  if (op.type == OpType::kUpdate) {
    PutU8(*out, static_cast<uint8_t>((op.has_vector ? 1 : 0) | (op.has_metadata ? 2 : 0)));
  }
  for (size_t i = 0; i < op.ids.size(); ++i) {
    PutU16(*out, static_cast<uint16_t>(op.ids[i].size()));
    out->append(op.ids[i]);
    if (op.type == OpType::kDelete) continue;
    const bool vec = op.type == OpType::kUpsert || op.has_vector;
    const bool meta = op.type == OpType::kUpsert || op.has_metadata;
    if (vec) PutBytes(*out, op.vectors.data() + i * dim, sizeof(float) * dim);
    if (meta) {
      PutU32(*out, static_cast<uint32_t>(op.metadata[i].size()));
      out->append(op.metadata[i]);
    }
  }
}

Result<LogRecord> DecodeLogRecord(std::string_view payload, uint32_t dim,
                                  const std::string& where) {
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption("log record in '" + where + "' does not parse: " + what);
  };
  ByteReader r(payload);
  LogRecord op;
  uint8_t type = 0;
  uint32_t rec_dim = 0, count = 0;
  if (!r.ReadU8(&type) || !r.ReadU64(&op.seq) || !r.ReadU32(&rec_dim) || !r.ReadU32(&count)) {
    return corrupt("short header");
  }
  if (type < 1 || type > 3) return corrupt("unknown operation type " + std::to_string(type));
  op.type = static_cast<OpType>(type);
  if (rec_dim != dim) {
    return corrupt("dimension " + std::to_string(rec_dim) + ", collection has " +
                   std::to_string(dim));
  }
  if (count > r.remaining() / 2) return corrupt("count " + std::to_string(count) + " too large");
  if (op.type == OpType::kUpdate) {
    uint8_t flags = 0;
    if (!r.ReadU8(&flags) || count != 1) return corrupt("bad update");
    op.has_vector = flags & 1;
    op.has_metadata = flags & 2;
  }
  const bool vec = op.type == OpType::kUpsert || op.has_vector;
  const bool meta = op.type == OpType::kUpsert || op.has_metadata;
  op.ids.reserve(count);
  if (vec && op.type != OpType::kDelete) op.vectors.resize(static_cast<size_t>(count) * dim);
  for (uint32_t i = 0; i < count; ++i) {
    uint16_t id_len = 0;
    std::string_view id;
    if (!r.ReadU16(&id_len) || !r.ReadView(id_len, &id)) return corrupt("short id");
    op.ids.emplace_back(id);
    if (op.type == OpType::kDelete) continue;
    if (vec && !r.ReadRaw(op.vectors.data() + static_cast<size_t>(i) * dim, sizeof(float) * dim)) {
      return corrupt("short vector");
    }
    if (meta) {
      uint32_t len = 0;
      std::string_view m;
      if (!r.ReadU32(&len) || !r.ReadView(len, &m)) return corrupt("short metadata");
      op.metadata.emplace_back(m);
    }
  }
  if (r.remaining() != 0) return corrupt(std::to_string(r.remaining()) + " trailing bytes");
  return op;
}

}  // namespace nearstore::storage

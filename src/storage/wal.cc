#include "storage/wal.h"

#include <algorithm>
#include <cstring>

#include "storage/coding.h"
#include "storage/crc32c.h"

namespace nearstore::storage {
namespace {

constexpr char kWalMagic[8] = {'N', 'S', 'W', 'A', 'L', '\0', '\0', '\0'};
constexpr uint32_t kWalFormatVersion = 1;

std::string EncodeHeader() {
  std::string h;
  PutBytes(h, kWalMagic, sizeof(kWalMagic));
  PutU32(h, kWalFormatVersion);
  PutU32(h, Crc32c(h));
  return h;
}

bool AllZero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

}  // namespace

Result<std::unique_ptr<WalWriter>> WalWriter::Create(Env* env, const std::string& path) {
  NEARSTORE_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(path));
  NEARSTORE_RETURN_IF_ERROR(file->Append(EncodeHeader()));
  NEARSTORE_RETURN_IF_ERROR(file->Sync());
  return std::unique_ptr<WalWriter>(new WalWriter(path, std::move(file)));
}

Result<std::unique_ptr<WalWriter>> WalWriter::OpenForAppend(Env* env, const std::string& path) {
  NEARSTORE_ASSIGN_OR_RETURN(auto file, env->NewAppendableFile(path));
  if (file->Size() < kWalHeaderSize) {
    // The header itself was torn: start the file again.
    NEARSTORE_ASSIGN_OR_RETURN(auto fresh, env->NewWritableFile(path));
    NEARSTORE_RETURN_IF_ERROR(fresh->Append(EncodeHeader()));
    NEARSTORE_RETURN_IF_ERROR(fresh->Sync());
    file = std::move(fresh);
  }
  return std::unique_ptr<WalWriter>(new WalWriter(path, std::move(file)));
}

void WalWriter::EncodeRecord(std::string_view payload, std::string* out) {
  char header[kWalRecordHeaderSize];
  StoreU32(header, static_cast<uint32_t>(payload.size()));
  StoreU32(header + 4, Crc32c(payload));
  StoreU32(header + 8, Crc32c(header, 8));
  out->append(header, sizeof(header));
  out->append(payload);
}

Result<WalContents> ParseWal(std::string_view data, const std::string& path) {
  WalContents out;
  if (data.size() < kWalHeaderSize) {
    // The crash came while the file was being created; nothing in it was ever acknowledged.
    out.torn_header = true;
    out.torn_tail = !data.empty();
    return out;
  }
  const std::string expected = EncodeHeader();
  if (data.substr(0, kWalHeaderSize) != expected) {
    return Status::Corruption("write-ahead log '" + path +
                              "' has a bad header (magic, version or checksum); expected a "
                              "nearstore WAL of format version " +
                              std::to_string(kWalFormatVersion));
  }
  size_t pos = kWalHeaderSize;
  out.valid_size = pos;
  while (pos < data.size()) {
    const size_t left = data.size() - pos;
    const char* h = data.data() + pos;
    if (left < kWalRecordHeaderSize) {  // a record header cut short by the crash
      out.torn_tail = true;
      break;
    }
    if (Crc32c(h, 8) != LoadU32(h + 8)) {
      if (AllZero(data.substr(pos))) {  // space the file system extended but never wrote
        out.torn_tail = true;
        break;
      }
      return Status::Corruption("write-ahead log '" + path + "' is damaged at offset " +
                                std::to_string(pos) + ": record header checksum mismatch");
    }
    const uint32_t len = LoadU32(h);
    if (len > left - kWalRecordHeaderSize) {  // the payload was cut short by the crash
      out.torn_tail = true;
      break;
    }
    std::string_view payload = data.substr(pos + kWalRecordHeaderSize, len);
    if (Crc32c(payload) != LoadU32(h + 4)) {
      return Status::Corruption("write-ahead log '" + path + "' is damaged at offset " +
                                std::to_string(pos) + ": record of " + std::to_string(len) +
                                " bytes fails its checksum");
    }
    out.records.push_back(payload);
    pos += kWalRecordHeaderSize + len;
    out.valid_size = pos;
  }
  return out;
}

}  // namespace nearstore::storage

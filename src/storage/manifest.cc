#include "storage/manifest.h"

#include <nlohmann/json.hpp>

#include "nearstore/types.h"
#include "storage/coding.h"
#include "storage/crc32c.h"
#include "storage/json_text.h"

namespace nearstore::storage {
namespace {

constexpr char kManifestMagic[8] = {'N', 'S', 'M', 'A', 'N', 'I', 'F', '\0'};
constexpr uint32_t kManifestFormatVersion = 1;
constexpr size_t kManifestHeaderSize = 24;

using nlohmann::json;

json SegmentToJson(const SegmentEntry& s) {
  return {{"file", s.file},       {"rows", s.rows},       {"tombstones", s.tombstones},
          {"min_seq", s.min_seq}, {"max_seq", s.max_seq}, {"size_bytes", s.size_bytes}};
}

json CollectionToJson(const CollectionEntry& c) {
  json segments = json::array();
  for (const auto& s : c.segments) segments.push_back(SegmentToJson(s));
  const json index = {{"kind", c.index.kind},
                      {"m", c.index.hnsw.m},
                      {"ef_construction", c.index.hnsw.ef_construction},
                      {"ef_search", c.index.hnsw.ef_search},
                      {"quantization", c.index.quantization},
                      {"rerank", c.index.rerank}};
  json payload_indexes = json::array();
  for (const auto& p : c.payload_indexes) {
    payload_indexes.push_back({{"field", p.field}, {"kind", p.kind}});
  }
  return {{"name", c.name},
          {"id", c.id},
          {"dir", c.dir},
          {"dim", c.dim},
          {"metric", c.metric},
          {"index", index},
          {"next_file", c.next_file},
          {"min_wal", c.min_wal},
          {"last_sealed_seq", c.last_sealed_seq},
          {"segments", segments},
          {"payload_indexes", payload_indexes}};
}

// A file name written by us: no separators, no parent references.
bool IsPlainName(const std::string& s) {
  return !s.empty() && s.find('/') == std::string::npos && s != "." && s != "..";
}

}  // namespace

std::string EncodeManifest(const Manifest& manifest) {
  json collections = json::array();
  for (const auto& c : manifest.collections) collections.push_back(CollectionToJson(c));
  const std::string payload =
      json{{"next_collection_id", manifest.next_collection_id}, {"collections", collections}}.dump(
          1);
  std::string out;
  PutBytes(out, kManifestMagic, sizeof(kManifestMagic));
  PutU32(out, kManifestFormatVersion);
  PutU32(out, static_cast<uint32_t>(payload.size()));
  PutU32(out, Crc32c(payload));
  PutU32(out, Crc32c(out));
  out += payload;
  return out;
}

Result<Manifest> DecodeManifest(std::string_view data, const std::string& path) {
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption("manifest '" + path + "' is damaged: " + what);
  };
  if (data.size() < kManifestHeaderSize) {
    return corrupt("file is " + std::to_string(data.size()) + " bytes, shorter than its " +
                   std::to_string(kManifestHeaderSize) + "-byte header");
  }
  if (data.substr(0, 8) != std::string_view(kManifestMagic, 8)) return corrupt("bad magic");
  if (Crc32c(data.data(), 20) != LoadU32(data.data() + 20)) return corrupt("header checksum");
  const uint32_t version = LoadU32(data.data() + 8);
  if (version != kManifestFormatVersion) {
    return corrupt("format version " + std::to_string(version) + ", expected " +
                   std::to_string(kManifestFormatVersion));
  }
  const uint32_t len = LoadU32(data.data() + 12);
  if (len != data.size() - kManifestHeaderSize) {
    return corrupt("payload length " + std::to_string(len) + " but the file holds " +
                   std::to_string(data.size() - kManifestHeaderSize) + " bytes after the header");
  }
  std::string_view payload = data.substr(kManifestHeaderSize);
  if (Crc32c(payload) != LoadU32(data.data() + 16)) return corrupt("payload checksum mismatch");

  Manifest m;
  auto parsed = ParseJson(payload, kMaxJsonDepth, "the payload");
  if (!parsed.ok()) return corrupt("unreadable contents: " + parsed.status().message());
  try {
    const json& doc = *parsed;
    // Counts, numbers and sequence numbers are unsigned: get<uint64_t>() alone would turn -1
    // into 2^64-1 (and get<uint32_t>() truncate), so check type and range first.
    std::string bad_field;
    auto unsigned_field = [&](const json& j, const char* key, uint64_t max) -> uint64_t {
      const json& v = j.at(key);
      if (!v.is_number_unsigned() || v.get<uint64_t>() > max) {
        if (bad_field.empty()) bad_field = std::string(key) + " = " + v.dump();
        return 0;
      }
      return v.get<uint64_t>();
    };
    m.next_collection_id = unsigned_field(doc, "next_collection_id", UINT64_MAX);
    for (const auto& jc : doc.at("collections")) {
      CollectionEntry c;
      c.name = jc.at("name").get<std::string>();
      c.id = unsigned_field(jc, "id", UINT64_MAX);
      c.dir = jc.at("dir").get<std::string>();
      c.dim = static_cast<uint32_t>(unsigned_field(jc, "dim", UINT32_MAX));
      c.metric = jc.at("metric").get<std::string>();
      if (jc.contains("index")) {  // the engine checks the values (kind, ranges) itself
        const json& ji = jc.at("index");
        c.index.kind = ji.at("kind").get<std::string>();
        c.index.hnsw.m = static_cast<uint32_t>(unsigned_field(ji, "m", UINT32_MAX));
        c.index.hnsw.ef_construction =
            static_cast<uint32_t>(unsigned_field(ji, "ef_construction", UINT32_MAX));
        c.index.hnsw.ef_search = static_cast<uint32_t>(unsigned_field(ji, "ef_search", UINT32_MAX));
        if (ji.contains("quantization")) {  // absent before quantization existed: none
          c.index.quantization = ji.at("quantization").get<std::string>();
          c.index.rerank = static_cast<uint32_t>(unsigned_field(ji, "rerank", UINT32_MAX));
        }
      }
      c.next_file = unsigned_field(jc, "next_file", UINT64_MAX);
      c.min_wal = unsigned_field(jc, "min_wal", UINT64_MAX);
      c.last_sealed_seq = unsigned_field(jc, "last_sealed_seq", UINT64_MAX);
      if (!IsPlainName(c.dir)) return corrupt("collection directory '" + c.dir + "' is not a name");
      for (const auto& js : jc.at("segments")) {
        SegmentEntry s;
        s.file = js.at("file").get<std::string>();
        s.rows = unsigned_field(js, "rows", UINT64_MAX);
        s.tombstones = unsigned_field(js, "tombstones", UINT64_MAX);
        s.min_seq = unsigned_field(js, "min_seq", UINT64_MAX);
        s.max_seq = unsigned_field(js, "max_seq", UINT64_MAX);
        s.size_bytes = unsigned_field(js, "size_bytes", UINT64_MAX);
        if (!IsPlainName(s.file)) return corrupt("segment file '" + s.file + "' is not a name");
        c.segments.push_back(std::move(s));
      }
      if (jc.contains("payload_indexes")) {  // the engine checks paths and kinds itself
        for (const auto& jp : jc.at("payload_indexes")) {
          c.payload_indexes.push_back(
              {jp.at("field").get<std::string>(), jp.at("kind").get<std::string>()});
        }
      }
      m.collections.push_back(std::move(c));
    }
    if (!bad_field.empty()) return corrupt("field " + bad_field + " is not an unsigned integer");
  } catch (const json::exception& e) {
    // The checksum passed, so this is a manifest we did not write (or a bug): refuse it.
    return corrupt(std::string("unreadable contents: ") + e.what());
  }
  return m;
}

Result<Manifest> ReadManifest(Env* env, const std::string& dir) {
  const std::string path = JoinPath(dir, kManifestFileName);
  if (!env->FileExists(path)) return Status::NotFound("no manifest in '" + dir + "'");
  NEARSTORE_ASSIGN_OR_RETURN(std::string data, env->ReadFile(path));
  return DecodeManifest(data, path);
}

Status WriteManifest(Env* env, const std::string& dir, const Manifest& manifest) {
  return WriteFileAtomically(env, JoinPath(dir, kManifestFileName), EncodeManifest(manifest));
}

}  // namespace nearstore::storage

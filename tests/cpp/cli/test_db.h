// Helpers shared by the cli tests: a small database on disk, and file surgery on it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "nearstore/nearstore.h"

namespace nearstore::cli::testing {

// A fresh, empty path under the temporary directory (removed by the destructor).
class TempDir {
 public:
  explicit TempDir(const std::string& name)
      : path_((std::filesystem::temp_directory_path() /
               ("nearstore_cli_" + name + "_" + std::to_string(::getpid())))
                  .string()) {
    std::filesystem::remove_all(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline constexpr uint32_t kDim = 8;
inline constexpr size_t kSealedRows = 100;  // in a segment
inline constexpr size_t kLoggedRows = 10;   // only in the write-ahead log

// Builds a database at `dir`: collection "docs" (cosine, dim 8) with kSealedRows rows sealed
// into a segment, then kLoggedRows more rows and one delete in the log only; and an empty
// collection "empty" (l2, dim 4).
inline void BuildDatabase(const std::string& dir) {
  DatabaseOptions options;
  options.durability = Durability::kNoSync;
  auto db = Database::Open(dir, options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto docs = (*db)->CreateCollection("docs", kDim, Metric::kCosine);
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  auto write = [&](size_t first, size_t n) {
    std::vector<std::string> ids;
    std::vector<float> vectors;
    for (size_t i = first; i < first + n; ++i) {
      ids.push_back("id-" + std::to_string(i));
      for (uint32_t d = 0; d < kDim; ++d) vectors.push_back(1.0f + static_cast<float>(i * d % 7));
    }
    ASSERT_TRUE((*docs)->UpsertColumns(ids, vectors, {}).ok());
  };
  write(0, kSealedRows);
  ASSERT_TRUE((*docs)->Flush().ok());
  write(kSealedRows, kLoggedRows);
  auto del = (*docs)->Delete("id-3");
  ASSERT_TRUE(del.ok() && *del);
  IndexOptions hnsw;
  hnsw.kind = IndexKind::kHnsw;
  ASSERT_TRUE((*db)->CreateCollection("empty", 4, Metric::kL2, hnsw).ok());
  ASSERT_TRUE((*db)->Close().ok());
}

// Paths (relative to `dir`) of the files under `dir` whose name starts with `prefix`, sorted.
inline std::vector<std::string> FindFiles(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().filename().string().rfind(prefix, 0) == 0) {
      out.push_back(std::filesystem::relative(e.path(), dir).string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

inline void FlipByte(const std::string& path, size_t offset) {
  std::string data = ReadAll(path);
  ASSERT_LT(offset, data.size()) << path;
  data[offset] = static_cast<char>(data[offset] ^ 0x5a);
  WriteAll(path, data);
}

// Every file under `dir` with its contents: to check that nothing changed.
inline std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    const std::string rel = std::filesystem::relative(e.path(), dir).string();
    out[rel] = e.is_regular_file() ? ReadAll(e.path().string()) : std::string("<dir>");
  }
  return out;
}

}  // namespace nearstore::cli::testing

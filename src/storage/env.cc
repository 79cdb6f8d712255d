#include "storage/env.h"

#include "storage/filename.h"

namespace nearstore::storage {

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

Status WriteFileAtomically(Env* env, const std::string& path, std::string_view contents) {
  const std::string tmp = TempFileName(path);
  NEARSTORE_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(tmp));
  Status s = file->Append(contents);
  if (s.ok()) s = file->Sync();
  Status c = file->Close();
  if (s.ok()) s = c;
  if (!s.ok()) {
    (void)env->RemoveFile(tmp);  // best effort: the error that matters is `s`
    return s;
  }
  NEARSTORE_RETURN_IF_ERROR(env->RenameFile(tmp, path));
  auto slash = path.find_last_of('/');
  return env->SyncDir(slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash));
}

}  // namespace nearstore::storage

// Durable folders: what an fsync of a file does not cover. A new file's name lives in its
// folder, and a new folder's name in its parent: after a crash, a file whose bytes were synced
// is lost if the folder entry that names it (or names one of its folders) was not. So whoever
// creates folders and then writes synced files in them syncs the parents of the folders it
// created (CreateDirectoriesSynced), and the folder of a file it renamed into place
// (SyncDirectory; WriteFileAtomic in core/verify/keys.h does it for its file).
//
// Thread-safety: free functions, safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace veta {

// fsync of a folder: the names created, renamed or removed in it are durable.
[[nodiscard]] absl::Status SyncDirectory(const std::string& dir);

// Creates `dir` and any missing parents (like mkdir -p), then syncs the parent of each folder
// it created, deepest last, so that the new folders survive a crash. Nothing is synced when
// `dir` already exists. Unavailable (naming the folder) when a folder cannot be made or synced;
// FailedPrecondition when something that is not a folder is in the way.
[[nodiscard]] absl::Status CreateDirectoriesSynced(const std::string& dir);

// Writes all of `data` to `fd` (retrying short writes and EINTR); `path` names it in errors.
[[nodiscard]] absl::Status WriteAll(int fd, std::string_view data, const std::string& path);

}  // namespace veta

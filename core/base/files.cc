#include "core/base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/base/strings.h"

namespace veta {

absl::Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return absl::UnavailableError(
        StrCat("cannot open the folder ", dir, " to sync it: ", std::strerror(errno)));
  }
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) {
    return absl::UnavailableError(StrCat("cannot sync the folder ", dir, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

absl::Status CreateDirectoriesSynced(const std::string& dir) {
  namespace fs = std::filesystem;
  if (dir.empty()) return absl::InvalidArgumentError("no folder given");
  // The missing folders, deepest first.
  std::vector<fs::path> missing;
  fs::path p = fs::path(dir).lexically_normal();
  if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();  // a trailing slash
  while (!p.empty()) {
    struct stat st;
    if (::stat(p.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        return absl::FailedPreconditionError(
            StrCat(p.string(), " is in the way of the folder ", dir, ": it is not a folder"));
      }
      break;
    }
    missing.push_back(p);
    const fs::path parent = p.parent_path();
    if (parent == p) break;
    p = parent;
  }
  for (size_t i = missing.size(); i-- > 0;) {
    const fs::path& m = missing[i];
    if (::mkdir(m.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::UnavailableError(
          StrCat("cannot create the folder ", m.string(), ": ", std::strerror(errno)));
    }
    fs::path parent = m.parent_path();
    if (parent.empty()) parent = ".";
    if (absl::Status s = SyncDirectory(parent.string()); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(StrCat("cannot write ", path, ": ", std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace veta

#include "core/log/tiles.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/base/check.h"
#include "core/base/files.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/verify/keys.h"
#include "core/verify/note.h"

namespace veta::tiles {
namespace {

namespace fs = std::filesystem;

// A round that wrote more tiles than this syncs the whole file system (syncfs) twice instead
// of each file and folder.
constexpr size_t kFsyncFilesMax = 32;

// The writer thread's nice value (0 is the server's own; 19 the least share).
constexpr int kWriterNice = 10;

// The spec's 3-digit path elements: enough for any uint64 (20 digits).
constexpr size_t kIndexElementsMax = 7;

// size / 256^level, 0 once the shift passes the word.
uint64_t ShiftLevels(uint64_t size, uint32_t levels) {
  const uint32_t bits = levels * kTileHeight;
  return bits >= 64 ? 0 : size >> bits;
}

// A decimal with no leading zeroes (but "0"), at most `max`.
bool ParseDecimal(std::string_view text, uint64_t max, uint64_t* out) {
  if (text.empty() || text.size() > 20 || (text.size() > 1 && text[0] == '0')) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (max - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *out = v;
  return true;
}

// The checkpoint text of a signed note: its lines up to the blank line before the signatures.
absl::StatusOr<note::Checkpoint> CheckpointOfNote(std::string_view note_text) {
  const size_t blank = note_text.find("\n\n");
  if (blank == std::string_view::npos) {
    return absl::InvalidArgumentError("the checkpoint note has no signature block");
  }
  return note::ParseCheckpointText(note_text.substr(0, blank + 1));
}

// Flushes the file system holding `dir` (syncfs): one call makes every file a round wrote
// durable, where an fsync per file would cost a disk flush per tile.
[[nodiscard]] absl::Status SyncFileSystem(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError(StrCat("cannot open folder ", dir));
  const int rc = ::syncfs(fd);
  ::close(fd);
  if (rc != 0) return absl::UnavailableError(StrCat("cannot sync the file system of ", dir));
  return absl::OkStatus();
}

// fsync of one file or folder.
[[nodiscard]] absl::Status SyncPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError(StrCat("cannot open ", path));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return absl::UnavailableError(StrCat("cannot sync ", path));
  return absl::OkStatus();
}

// Writes a file without syncing it (the round syncs the file system once).
[[nodiscard]] absl::Status WriteUnsynced(const std::string& path, std::string_view data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::UnavailableError(StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  if (absl::Status s = WriteAll(fd, data, path); !s.ok()) {
    ::close(fd);
    return s;
  }
  if (::close(fd) != 0) return absl::UnavailableError(StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

std::string EncodeIndex(uint64_t index) {
  std::vector<std::string> elements;
  do {
    char digits[4];
    std::snprintf(digits, sizeof(digits), "%03u", static_cast<unsigned>(index % 1000));
    elements.push_back(digits);
    index /= 1000;
  } while (index > 0);
  std::string out;
  for (size_t i = elements.size(); i-- > 0;) {
    if (i > 0) {
      out += "x" + elements[i] + "/";
    } else {
      out += elements[i];
    }
  }
  return out;
}

std::string TilePath(const TileRef& tile) {
  VETA_CHECK(tile.width >= 1 && tile.width <= kTileWidth, "a tile holds 1 to 256 hashes");
  std::string path =
      StrCat("tile/", tile.entries ? std::string("entries") : std::to_string(tile.level), "/",
             EncodeIndex(tile.index));
  if (!tile.full()) path += StrCat(".p/", tile.width);
  return path;
}

absl::StatusOr<TileRef> ParseTilePath(std::string_view path) {
  const auto bad = [&] {
    return absl::InvalidArgumentError(
        StrCat("not a tile path (tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]): ", path));
  };
  if (!path.starts_with("tile/")) return bad();
  path.remove_prefix(5);
  TileRef tile;
  const size_t slash = path.find('/');
  if (slash == std::string_view::npos) return bad();
  const std::string_view level = path.substr(0, slash);
  uint64_t l = 0;
  if (level == "entries") {
    tile.entries = true;
  } else if (ParseDecimal(level, kLevelMax, &l)) {
    tile.level = static_cast<uint32_t>(l);
  } else {
    return bad();
  }
  path.remove_prefix(slash + 1);
  // Index elements: "xDDD/"* "DDD", then ".p/W" or the end.
  uint64_t index = 0;
  for (size_t element = 0;; ++element) {
    if (element == kIndexElementsMax) return bad();
    const bool more = path.starts_with("x");
    if (more) path.remove_prefix(1);
    if (path.size() < 3) return bad();
    uint64_t group = 0;
    for (char c : path.substr(0, 3)) {
      if (c < '0' || c > '9') return bad();
      group = group * 10 + static_cast<uint64_t>(c - '0');
    }
    if (index > (UINT64_MAX - group) / 1000) return bad();
    index = index * 1000 + group;
    path.remove_prefix(3);
    if (!more) break;
    if (!path.starts_with("/")) return bad();
    path.remove_prefix(1);
  }
  tile.index = index;
  if (path.empty()) return tile;
  if (!path.starts_with(".p/")) return bad();
  uint64_t width = 0;
  if (!ParseDecimal(path.substr(3), kTileWidth - 1, &width) || width == 0) return bad();
  tile.width = static_cast<uint32_t>(width);
  return tile;
}

std::vector<TileRef> PartialTiles(uint64_t size) {
  std::vector<TileRef> out;
  for (uint32_t level = 0; level <= kLevelMax && ShiftLevels(size, level) > 0; ++level) {
    const uint32_t width = static_cast<uint32_t>(ShiftLevels(size, level) % kTileWidth);
    if (width == 0) continue;
    const uint64_t index = ShiftLevels(size, level + 1);
    out.push_back(TileRef{false, level, index, width});
    if (level == 0) out.push_back(TileRef{true, 0, index, width});
  }
  return out;
}

std::vector<TileRef> NewFullTiles(uint64_t old_size, uint64_t new_size) {
  std::vector<TileRef> out;
  if (new_size <= old_size) return out;
  for (uint32_t level = 0; level <= kLevelMax; ++level) {
    const uint64_t before = ShiftLevels(old_size, level + 1);
    const uint64_t after = ShiftLevels(new_size, level + 1);
    if (after == 0) break;
    for (uint64_t n = before; n < after; ++n) out.push_back(TileRef{false, level, n, kTileWidth});
    if (level == 0) {
      for (uint64_t n = before; n < after; ++n) out.push_back(TileRef{true, 0, n, kTileWidth});
    }
  }
  return out;
}

absl::StatusOr<std::string> HashTile(const merkle::NodeReader& nodes, const TileRef& tile) {
  VETA_CHECK(!tile.entries && tile.width >= 1 && tile.width <= kTileWidth,
             "a hash tile holds 1 to 256 hashes");
  std::string out;
  out.reserve(tile.width * kHashBytes);
  for (uint32_t i = 0; i < tile.width; ++i) {
    ASSIGN_OR_RETURN(Hash h, nodes.GetNode(tile.level * kTileHeight, tile.index * kTileWidth + i));
    out.append(AsBytes(h));
  }
  return out;
}

absl::StatusOr<std::string> EntryBundle(const std::vector<std::string>& entries) {
  std::string out;
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string& e = entries[i];
    if (e.size() > kEntryBytesMax) {
      return absl::InvalidArgumentError(StrCat("entry ", i, " of the bundle has ", e.size(),
                                               " bytes: a bundle's uint16 length holds at most ",
                                               kEntryBytesMax));
    }
    out.push_back(static_cast<char>(e.size() >> 8));
    out.push_back(static_cast<char>(e.size() & 0xff));
    out += e;
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ParseEntryBundle(std::string_view bundle) {
  std::vector<std::string> out;
  while (!bundle.empty()) {
    if (bundle.size() < 2) return absl::InvalidArgumentError("a bundle ends inside a length");
    const size_t n = (static_cast<size_t>(static_cast<uint8_t>(bundle[0])) << 8) |
                     static_cast<uint8_t>(bundle[1]);
    bundle.remove_prefix(2);
    if (n > bundle.size()) {
      return absl::InvalidArgumentError(
          StrCat("entry ", out.size(), " of the bundle runs past its end"));
    }
    out.emplace_back(bundle.substr(0, n));
    bundle.remove_prefix(n);
  }
  return out;
}

// --- TileWriter ---------------------------------------------------------------------------

TileWriter::TileWriter(TileWriterOptions options) : options_(std::move(options)) {}

TileWriter::~TileWriter() { Stop(); }

void TileWriter::Start(TileSource source) {
  VETA_CHECK(source.nodes != nullptr && source.checkpoint_note, "a tile source needs its parts");
  VETA_CHECK(!thread_.joinable(), "a tile writer starts once");
  thread_ = std::thread([this, source = std::move(source)] {
    ::pthread_setname_np(::pthread_self(), "veta-tiles");  // in top -H, perf, /proc/<pid>/task
    // Tiles are derived data: when the cores are busy, the sequencer and the verifiers go
    // first, and the writer takes the moments they leave (Linux: a thread's own nice value).
    // Failing to lower it is harmless.
    (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kWriterNice);
    source_ = &source;
    Loop();
  });
}

void TileWriter::Notify() {
  absl::MutexLock lock(&mu_);
  notified_ = true;
  cv_.Signal();
}

void TileWriter::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    cv_.SignalAll();
  }
  if (thread_.joinable()) thread_.join();
  DeleteDoomed(/*all=*/false);
}

void TileWriter::Loop() {
  auto next_round = std::chrono::steady_clock::now();
  uint64_t rounds = 0;
  // The thread's CPU time, logged when it ends: what publishing costs the sequencer's machine.
  struct LogCpu {
    const uint64_t* rounds;
    ~LogCpu() {
      struct rusage u {};
      if (::getrusage(RUSAGE_THREAD, &u) != 0) return;
      std::fprintf(stderr,
                   "veta: tiles: the writer thread used %.3f s of CPU (%.3f user, %.3f system) "
                   "in %llu rounds\n",
                   Seconds(u.ru_utime) + Seconds(u.ru_stime), Seconds(u.ru_utime),
                   Seconds(u.ru_stime), static_cast<unsigned long long>(*rounds));
    }
    static double Seconds(const timeval& t) {
      return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    }
  } log_cpu{&rounds};
  while (true) {
    bool stop = false;
    {
      absl::MutexLock lock(&mu_);
      // Rounds at most every round_interval: the checkpoints that come meanwhile are one round.
      while (!stopping_) {
        const auto left = next_round - std::chrono::steady_clock::now();
        if (left <= std::chrono::steady_clock::duration::zero()) break;
        cv_.WaitWithTimeout(&mu_, absl::FromChrono(left));
      }
      while (!notified_ && !stopping_) cv_.Wait(&mu_);
      if (!notified_) break;  // stopping, nothing new
      notified_ = false;
      stop = stopping_;
    }
    next_round = std::chrono::steady_clock::now() + options_.round_interval;
    absl::Status s = PublishOnce(*source_);
    ++rounds;
    absl::MutexLock lock(&mu_);
    last_status_ = s;
    cv_.SignalAll();
    if (stop) break;
    if (absl::IsFailedPrecondition(s)) {  // another log's folder: an operator must decide
      refused_ = s;
      std::fprintf(stderr, "veta: tiles: %s; no tiles are published until a restart\n",
                   std::string(s.message()).c_str());
      break;
    }
    if (!s.ok()) {
      made_dirs_.clear();  // a folder removed meanwhile is made again
      std::fprintf(stderr, "veta: tiles: %s (trying again)\n", std::string(s.message()).c_str());
      cv_.WaitWithTimeout(&mu_, absl::FromChrono(options_.retry_interval));
      notified_ = true;
    }
  }
}

uint64_t TileWriter::published_size() const {
  absl::MutexLock lock(&mu_);
  return published_size_;
}

std::vector<std::string> TileWriter::moved_aside() const {
  absl::MutexLock lock(&mu_);
  return moved_aside_;
}

absl::Status TileWriter::refused() const {
  absl::MutexLock lock(&mu_);
  return refused_;
}

std::vector<uint64_t> TileWriter::skipped_bundles() const {
  absl::MutexLock lock(&mu_);
  return skipped_bundles_;
}

absl::Status TileWriter::WaitForSize(uint64_t size, std::chrono::milliseconds timeout) {
  const absl::Time deadline = absl::Now() + absl::FromChrono(timeout);
  absl::MutexLock lock(&mu_);
  while (published_size_ < size) {
    if (!last_status_.ok()) return last_status_;
    if (cv_.WaitWithDeadline(&mu_, deadline)) {
      if (published_size_ >= size) break;
      return absl::DeadlineExceededError(
          StrCat("tiles published up to ", published_size_, " entries, not ", size));
    }
  }
  return absl::OkStatus();
}

std::string TileWriter::FileOf(const TileRef& tile) const {
  return StrCat(tile.entries ? options_.bundles_dir : options_.dir, "/", TilePath(tile));
}

bool TileWriter::Present(const TileRef& tile) const {
  std::error_code ec;
  const uintmax_t size = fs::file_size(FileOf(tile), ec);
  if (ec) return false;
  return tile.entries ? size >= 2u * tile.width : size == tile.width * kHashBytes;
}

absl::Status TileWriter::WriteTile(const TileSource& source, const TileRef& tile) {
  VETA_CHECK(!tile.entries, "bundles are written with their level-0 tile");
  ASSIGN_OR_RETURN(std::string bytes, HashTile(*source.nodes, tile));
  return StageTile(tile, bytes);
}

absl::Status TileWriter::WriteLevel0(const TileSource& source, uint64_t index, uint32_t width,
                                     bool check_present) {
  const TileRef hashes{false, 0, index, width};
  const TileRef bundle{true, 0, index, width};
  const bool want_hashes = !check_present || !Present(hashes);
  const bool want_bundle = !options_.bundles_dir.empty() && (!check_present || !Present(bundle));
  if (!want_hashes && !want_bundle) return absl::OkStatus();
  if (!source.entries) {  // no entries to read: the hash tile from the tree's nodes
    return want_hashes ? WriteTile(source, hashes) : absl::OkStatus();
  }
  // One read of the entries gives both files: the bundle, and the hash tile (the entries' leaf
  // hashes), checked against the tree. A full tile's 256 leaves must hash up to the tree's
  // node above them (one read of the tree instead of 256); a partial tile's, each to its leaf.
  const uint64_t first = index * kTileWidth;
  ASSIGN_OR_RETURN(std::vector<std::string> entries, source.entries(first, width));
  if (entries.size() != width) {
    return absl::DataLossError(StrCat("tile ", TilePath(bundle), " needs ", width,
                                      " entries, the ledger gave ", entries.size()));
  }
  std::vector<Hash> leaves(width);
  for (uint32_t i = 0; i < width; ++i) leaves[i] = merkle::HashLeaf(entries[i]);
  bool match = true;
  if (width == kTileWidth) {
    std::vector<Hash> level = leaves;
    while (level.size() > 1) {
      for (size_t i = 0; i < level.size() / 2; ++i) {
        level[i] = merkle::HashChildren(level[2 * i], level[2 * i + 1]);
      }
      level.resize(level.size() / 2);
    }
    ASSIGN_OR_RETURN(const Hash node, source.nodes->GetNode(kTileHeight, index));
    match = level[0] == node;
  }
  if (!match || width < kTileWidth) {  // a partial tile, or finding the entry that differs
    for (uint32_t i = 0; i < width; ++i) {
      ASSIGN_OR_RETURN(const Hash leaf, source.nodes->GetNode(0, first + i));
      if (leaves[i] != leaf) {
        return absl::DataLossError(StrCat("entry ", first + i, " does not hash to its leaf"));
      }
    }
    // Every leaf equal, their root not: the tree's stored node is wrong.
    if (!match) {
      return absl::DataLossError(
          StrCat("the tree's node above tile ", TilePath(hashes), " is not its leaves' root"));
    }
  }
  if (want_hashes) {
    std::string bytes;
    bytes.reserve(width * kHashBytes);
    for (const Hash& h : leaves) bytes.append(AsBytes(h));
    RETURN_IF_ERROR(StageTile(hashes, bytes));
  }
  if (!want_bundle) return absl::OkStatus();
  auto bytes = EntryBundle(entries);
  if (!bytes.ok()) {
    absl::MutexLock lock(&mu_);
    if (std::find(skipped_bundles_.begin(), skipped_bundles_.end(), index) ==
        skipped_bundles_.end()) {
      skipped_bundles_.push_back(index);
      std::fprintf(stderr, "veta: tiles: bundle %s not written: %s\n", TilePath(bundle).c_str(),
                   std::string(bytes.status().message()).c_str());
    }
    return absl::OkStatus();
  }
  return StageTile(bundle, *bytes);
}

absl::Status TileWriter::StageTile(const TileRef& tile, std::string_view bytes) {
  const std::string file = FileOf(tile);
  const std::string dir = fs::path(file).parent_path().string();
  // New folders survive a crash once their parents are synced (their files are synced later).
  // The folders of full tiles stay (a partial tile's ".p" folder goes after its grace).
  if (!made_dirs_.contains(dir)) {
    RETURN_IF_ERROR(CreateDirectoriesSynced(dir));
    if (!dir.ends_with(".p")) made_dirs_.insert(dir);
  }
  // Renamed into place once the round has synced every temporary file.
  RETURN_IF_ERROR(WriteUnsynced(file + ".tmp", bytes));
  to_rename_.push_back(file);
  return absl::OkStatus();
}

absl::Status TileWriter::RenameWritten() {
  for (const std::string& file : to_rename_) {
    if (::rename((file + ".tmp").c_str(), file.c_str()) != 0) {
      return absl::UnavailableError(
          StrCat("cannot rename ", file, ".tmp into place: ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

void TileWriter::ScheduleObsoletePartials(const TileRef& full_tile) {
  const std::string partials = FileOf(full_tile) + ".p";
  std::error_code ec;
  if (!fs::is_directory(partials, ec)) return;
  doomed_.push_back({partials, std::chrono::steady_clock::now() + options_.partial_grace});
}

void TileWriter::DeleteDoomed(bool all) {
  const auto now = std::chrono::steady_clock::now();
  while (!doomed_.empty() && (all || doomed_.front().after <= now)) {
    std::error_code ec;
    fs::remove_all(doomed_.front().dir, ec);
    if (ec) {
      std::fprintf(stderr, "veta: tiles: cannot remove %s: %s\n", doomed_.front().dir.c_str(),
                   ec.message().c_str());
    }
    doomed_.pop_front();
  }
}

absl::Status TileWriter::CheckFolder(const TileSource& source, const note::Checkpoint& cp) const {
  const auto differs = [](std::string what) { return absl::DataLossError(std::move(what)); };
  // The root the folder's checkpoint signs against this ledger's tree at that size.
  ASSIGN_OR_RETURN(const Hash root, cp.size == 0 ? absl::StatusOr<Hash>(merkle::EmptyRoot())
                                                 : merkle::SubtreeRoot(*source.nodes, 0, cp.size));
  if (root != cp.root) {
    return differs(StrCat("its checkpoint of ", cp.size, " entries has root ", ToHex(cp.root),
                          ", this ledger's tree of ", cp.size, " entries has root ", ToHex(root),
                          ": another ledger's tiles (a fork, or an older copy restored over it)"));
  }
  // The right edge of that tree: at each level the last full tile and the partial one, which
  // a reader recomputing the root at the checkpoint's size fetches, against the ledger's nodes.
  std::vector<TileRef> edge;
  for (uint32_t level = 0; level <= kLevelMax && ShiftLevels(cp.size, level) > 0; ++level) {
    const uint64_t full = ShiftLevels(cp.size, level + 1);
    const uint32_t width = static_cast<uint32_t>(ShiftLevels(cp.size, level) % kTileWidth);
    for (bool entries : {false, true}) {
      if (entries && (level > 0 || options_.bundles_dir.empty())) continue;
      if (full > 0) edge.push_back(TileRef{entries, level, full - 1, kTileWidth});
      if (width > 0) edge.push_back(TileRef{entries, level, full, width});
    }
  }
  for (const TileRef& tile : edge) {
    const std::string file = FileOf(tile);
    auto bytes = ReadFile(file, 64u << 20);
    if (absl::IsNotFound(bytes.status())) continue;  // written again by the round
    RETURN_IF_ERROR(bytes.status());
    if (!tile.entries) {
      // A short or long file is damage (a crash, a copy cut off): the round rewrites it. A
      // whole tile with other hashes is another tree.
      if (bytes->size() != tile.width * kHashBytes) continue;
      ASSIGN_OR_RETURN(const std::string want, HashTile(*source.nodes, tile));
      if (*bytes != want) {
        return differs(StrCat("tile ", TilePath(tile), " holds other hashes than this ledger's"));
      }
      continue;
    }
    auto entries = ParseEntryBundle(*bytes);
    if (!entries.ok() || entries->size() != tile.width) {
      return differs(
          StrCat("bundle ", TilePath(tile), " is not a bundle of ", tile.width, " entries"));
    }
    for (uint32_t i = 0; i < tile.width; ++i) {
      const uint64_t seq = tile.index * kTileWidth + i;
      ASSIGN_OR_RETURN(const Hash leaf, source.nodes->GetNode(0, seq));
      if (merkle::HashLeaf((*entries)[i]) != leaf) {
        return differs(
            StrCat("bundle ", TilePath(tile), " holds an entry ", seq, " this ledger does not"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status TileWriter::MoveAside(std::string_view why) {
  const std::string stamp = absl::FormatTime("%Y%m%dT%H%M%SZ", absl::Now(), absl::UTCTimeZone());
  std::vector<std::string> moved;
  for (const std::string& root : {options_.dir, options_.bundles_dir}) {
    std::error_code ec;
    if (root.empty() || !fs::exists(root, ec)) continue;
    std::string aside = StrCat(root, ".mismatch-", stamp);
    for (int n = 2; fs::exists(aside, ec); ++n) aside = StrCat(root, ".mismatch-", stamp, "-", n);
    if (::rename(root.c_str(), aside.c_str()) != 0) {
      return absl::FailedPreconditionError(
          StrCat(root, " does not match this ledger (", why, ") and cannot be moved aside to ",
                 aside, " (", std::strerror(errno), "): move it away and restart"));
    }
    const std::string parent = fs::path(aside).parent_path().string();
    RETURN_IF_ERROR(SyncDirectory(parent.empty() ? "." : parent));
    moved.push_back(aside);
  }
  std::fprintf(stderr,
               "veta: tiles: %s does not match this ledger: %s. Moved aside to %s (kept for "
               "inspection); the tiles are rebuilt from the ledger\n",
               options_.dir.c_str(), std::string(why).c_str(), StrJoin(moved, " and ").c_str());
  absl::MutexLock lock(&mu_);
  moved_aside_.insert(moved_aside_.end(), moved.begin(), moved.end());
  return absl::OkStatus();
}

absl::Status TileWriter::Resume(const TileSource& source, std::string_view note_text,
                                uint64_t size) {
  ASSIGN_OR_RETURN(note::Checkpoint next, CheckpointOfNote(note_text));
  const std::string path = options_.dir + "/checkpoint";
  auto existing = ReadFile(path);
  if (existing.ok()) {
    auto cp = CheckpointOfNote(*existing);
    if (!cp.ok()) {
      return absl::FailedPreconditionError(
          StrCat(path, " is not a checkpoint (", cp.status().message(),
                 "): is this folder another program's? Move it away or choose another one"));
    }
    if (cp->origin != next.origin) {
      return absl::FailedPreconditionError(
          StrCat(path, " is a checkpoint of log \"", cp->origin, "\", not of \"", next.origin,
                 "\": these tiles are another log's; move them away or choose another folder"));
    }
    if (cp->size > size) {
      return absl::FailedPreconditionError(
          StrCat(path, " covers ", cp->size, " entries but the ledger's checkpoint only ", size,
                 ": was the ledger restored from an older copy? The tiles are left as they are"));
    }
    absl::Status matches = CheckFolder(source, *cp);
    if (absl::IsDataLoss(matches)) {
      RETURN_IF_ERROR(MoveAside(std::string(matches.message())));
    } else {
      RETURN_IF_ERROR(matches);
      published_note_ = *existing;
    }
  } else if (!absl::IsNotFound(existing.status())) {
    return existing.status();
  }
  // Partial tiles whose full tile a previous run wrote: deleted after the grace.
  for (const std::string& root : {options_.dir, options_.bundles_dir}) {
    if (root.empty() || !fs::is_directory(root + "/tile")) continue;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root + "/tile", ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const fs::path& p = it->path();
      if (p.extension() == ".p" && it->is_directory()) {
        fs::path full = p;
        full.replace_extension();
        if (fs::is_regular_file(full)) {
          doomed_.push_back(
              {p.string(), std::chrono::steady_clock::now() + options_.partial_grace});
        }
        it.disable_recursion_pending();
      }
    }
  }
  resumed_ = true;
  tiles_size_ = 0;  // every full tile is checked for presence once
  return absl::OkStatus();
}

absl::Status TileWriter::PublishOnce(const TileSource& source) {
  ASSIGN_OR_RETURN(std::string note_text, source.checkpoint_note());
  ASSIGN_OR_RETURN(note::Checkpoint cp, CheckpointOfNote(note_text));
  const uint64_t size = cp.size;
  if (!resumed_) RETURN_IF_ERROR(Resume(source, note_text, size));
  if (size < tiles_size_) return absl::OkStatus();  // never publish an older checkpoint
  to_rename_.clear();
  const bool bundles = !options_.bundles_dir.empty();
  // Level 0: each hash tile with its bundle (written together from one read of the entries).
  // A full tile the folder may already hold is looked for in the first round only: after it,
  // the new full tiles are the writer's own to write.
  const bool check_present = !first_round_done_;
  for (const TileRef& tile : NewFullTiles(tiles_size_, size)) {
    if (tile.entries && !bundles) continue;
    if (tile.level == 0 && !tile.entries) {
      RETURN_IF_ERROR(WriteLevel0(source, tile.index, tile.width, check_present));
    } else if (!tile.entries && (!check_present || !Present(tile))) {
      RETURN_IF_ERROR(WriteTile(source, tile));
    }
    ScheduleObsoletePartials(tile);
  }
  for (const TileRef& tile : PartialTiles(size)) {
    if (tile.entries) continue;
    if (tile.level == 0) {
      RETURN_IF_ERROR(WriteLevel0(source, tile.index, tile.width, /*check_present=*/true));
    } else if (!Present(tile)) {
      RETURN_IF_ERROR(WriteTile(source, tile));
    }
  }
  // Contents durable, then names: a tile is never seen (even after a crash) before its bytes
  // are on disk, and every tile is in place before the checkpoint that needs it.
  if (to_rename_.size() > kFsyncFilesMax) {
    // Many tiles (catching up): one flush of the file system for all their bytes, then one for
    // their names.
    std::vector<std::string> roots = {options_.dir};
    if (bundles && fs::is_directory(options_.bundles_dir)) roots.push_back(options_.bundles_dir);
    for (const std::string& root : roots) RETURN_IF_ERROR(SyncFileSystem(root));
    RETURN_IF_ERROR(RenameWritten());
    for (const std::string& root : roots) RETURN_IF_ERROR(SyncFileSystem(root));
  } else if (!to_rename_.empty()) {
    // A round at the log's pace (a few partial tiles): an fsync per file and per folder, which
    // leaves the rest of the file system (the ledger's own writes) alone.
    std::vector<std::string> dirs;
    for (const std::string& file : to_rename_) {
      RETURN_IF_ERROR(SyncPath(file + ".tmp"));
      dirs.push_back(fs::path(file).parent_path().string());
    }
    RETURN_IF_ERROR(RenameWritten());
    std::sort(dirs.begin(), dirs.end());
    dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
    for (const std::string& dir : dirs) RETURN_IF_ERROR(SyncPath(dir));
  }
  tiles_size_ = size;
  first_round_done_ = true;
  if (note_text != published_note_) {
    RETURN_IF_ERROR(CreateDirectoriesSynced(options_.dir));
    RETURN_IF_ERROR(WriteFileAtomic(options_.dir + "/checkpoint", note_text));
    published_note_ = std::move(note_text);
  }
  {
    absl::MutexLock lock(&mu_);
    published_size_ = size;
    last_status_ = absl::OkStatus();
    cv_.SignalAll();
  }
  DeleteDoomed(/*all=*/false);
  return absl::OkStatus();
}

}  // namespace veta::tiles

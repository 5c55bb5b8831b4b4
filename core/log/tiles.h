// The log published as C2SP tlog-tiles (c2sp.org/tlog-tiles): static files that any web server,
// CDN or object store can serve, from which anyone computes inclusion and consistency proofs
// against a signed checkpoint without calling veta-server.
//
//   <dir>/checkpoint                     the signed checkpoint (tlog-checkpoint), written LAST
//   <dir>/tile/<L>/<N>                   a full hash tile: 256 hashes, 8,192 bytes, immutable
//   <dir>/tile/<L>/<N>.p/<W>             a partial hash tile of W (1-255) hashes
//   <bundles_dir>/tile/entries/<N>       a full entry bundle: 256 entries, each after its
//   <bundles_dir>/tile/entries/<N>.p/<W> big-endian uint16 length
//
// N is written in 3-digit path elements, all but the last prefixed with "x" (1234067 is
// x001/x234/067). Hash h of tile (L, N) is the Merkle tree hash of leaves
// [(N * 256 + h) * 256^L, (N * 256 + h + 1) * 256^L): the tree's stored node at level 8L.
//
// What is public. Hash tiles and checkpoints reveal nothing but hashes: they go in the public
// folder. Entry bundles carry every entry of 256, and most entries are transactions (sales,
// prices, payments, who sold to whom) that only their parties and regulators may read
// (core/read/access.h); a bundle cannot be filtered without breaking the hashes that bind it
// to the tree. So entry bundles are written to a SEPARATE folder (bundles_dir), never into the
// public one: veta-server's HTTP listener serves them only to callers whose role may read
// every entry (ListEntries: regulators, and the local operator on loopback without TLS), and an
// operator may copy that folder to a trusted mirror (a regulator's). The public proves
// inclusion of an entry it holds (a certificate, a record it was given) from the hash tiles.
//
// An entry of more than 65,535 bytes (Veta accepts envelopes up to 256 KiB: a large zone
// polygon) cannot be written in a bundle's uint16 length: its bundle is skipped (with a message
// on stderr) and the hash tiles and checkpoints go on.
//
// Each round writes its tiles to temporary files and syncs them (an fsync each, or, for more
// than 32 tiles, as when catching up, one syncfs for them all), renames them into place, syncs
// their folders, and only then writes the checkpoint (temporary file, fsync, rename): a reader
// that fetched a checkpoint finds every tile it names, and no tile is ever seen before its
// bytes are on disk. Full tiles are never
// rewritten. A partial tile stays until its full tile exists and then for `partial_grace` more (for
// clients that fetched an older checkpoint).
//
// Thread-safety: the free functions are pure. TileWriter's public methods may be called from
// any thread; its publishing runs on its own thread (or in PublishOnce, never both at once).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/verify/merkle.h"
#include "core/verify/note.h"

namespace veta::tiles {

inline constexpr uint32_t kTileHeight = 8;
inline constexpr uint32_t kTileWidth = 256;  // hashes in a full tile, entries in a full bundle
inline constexpr size_t kHashBytes = 32;
inline constexpr size_t kEntryBytesMax = 65535;  // a bundle's uint16 length prefix
inline constexpr uint32_t kLevelMax = 63;        // the spec's bound on <L>

// A hash tile (level >= 0) or an entry bundle (entries), `width` 1-256 (256: full).
struct TileRef {
  bool entries = false;
  uint32_t level = 0;
  uint64_t index = 0;
  uint32_t width = kTileWidth;

  bool full() const { return width == kTileWidth; }
  bool operator==(const TileRef&) const = default;
};

// "x001/x234/067" for 1234067; "000" for 0.
std::string EncodeIndex(uint64_t index);
// "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]", relative to the log's prefix.
std::string TilePath(const TileRef& tile);
// The inverse of TilePath, strict: the spec's grammar only (no leading zeroes in L or W, 3-digit
// elements, width 1-255 after ".p/"). InvalidArgument otherwise (an HTTP 404).
absl::StatusOr<TileRef> ParseTilePath(std::string_view path);

// The partial tiles and bundle of a tree of `size` leaves, level 0 first (the spec's
// floor(size / 256^L) mod 256 hashes at level L; none where that is 0).
std::vector<TileRef> PartialTiles(uint64_t size);
// The full tiles (every level) and full bundles a tree of `new_size` has and one of `old_size`
// has not, level 0 first, in index order.
std::vector<TileRef> NewFullTiles(uint64_t old_size, uint64_t new_size);

// The bytes of hash tile `tile` (not entries) from the tree's stored nodes: `width` hashes of
// level 8 * tile.level. NotFound/DataLoss from the reader when a node is missing.
absl::StatusOr<std::string> HashTile(const merkle::NodeReader& nodes, const TileRef& tile);
// Entries, each after its big-endian uint16 length. InvalidArgument naming the first entry
// over kEntryBytesMax.
absl::StatusOr<std::string> EntryBundle(const std::vector<std::string>& entries);
// The entries of a bundle; InvalidArgument when a length runs past the end.
absl::StatusOr<std::vector<std::string>> ParseEntryBundle(std::string_view bundle);

// Where the tiles come from: the tree's nodes, the entries, and the checkpoint to publish.
struct TileSource {
  // The tree's complete nodes (a ledger's StoreNodeReader); must outlive the writer.
  const merkle::NodeReader* nodes = nullptr;
  // `count` entries from `start`, as the leaves hash them (a ledger's ListEntries).
  std::function<absl::StatusOr<std::vector<std::string>>(uint64_t start, uint32_t count)> entries;
  // The signed checkpoint note to publish, its tree size in its second line. The ONE function
  // that says what is published (the ledger's latest checkpoint, with witness cosignatures
  // where there are); every tile of its size is written before it.
  std::function<absl::StatusOr<std::string>()> checkpoint_note;
};

struct TileWriterOptions {
  // The public folder: checkpoint and hash tiles.
  std::string dir;
  // The entry bundles' folder (kept apart from `dir`: see above); empty writes none.
  std::string bundles_dir;
  // How long a partial tile stays after its full tile is written.
  std::chrono::milliseconds partial_grace{std::chrono::minutes(5)};
  // The least time between the starts of two rounds of the thread: checkpoints signed
  // meanwhile are published together (fewer partial tiles rewritten, fewer syncs), at the cost
  // of a checkpoint file up to this much behind the ledger's.
  std::chrono::milliseconds round_interval{500};
  // After a failed round (a full disk), the thread waits this long before trying again.
  std::chrono::milliseconds retry_interval{std::chrono::seconds(1)};
};

// Keeps the folders up to date with the checkpoints. Notify() after each new checkpoint (the
// ledger's on_checkpoint): the writer's thread wakes, takes the newest note (notifications
// that come while it works collapse into one round), writes the tiles that became full, the
// partial tiles of the new size, then the checkpoint. It resumes from what the folder holds: a
// full tile already there is kept, a missing one (deleted, never written) is written again.
// Before that, once, the folder is checked against the ledger (CheckFolder): a folder whose
// checkpoint or right-edge tiles differ from the ledger's tree is moved aside to
// <folder>.mismatch-<UTC time> (with the bundles' folder) and rebuilt; one of another log, or
// ahead of the ledger, is refused (refused()) and left untouched.
class TileWriter {
 public:
  explicit TileWriter(TileWriterOptions options);
  ~TileWriter();  // Stop()
  TileWriter(const TileWriter&) = delete;
  TileWriter& operator=(const TileWriter&) = delete;

  // Starts the thread, which publishes at once and then after each Notify(). The source's
  // functions are called on that thread only. A failed round is tried again after
  // retry_interval; a FailedPrecondition (another log's folder) stops publishing, with a
  // message, until the next start.
  void Start(TileSource source) ABSL_LOCKS_EXCLUDED(mu_);
  // A new checkpoint (or new cosignatures on it) is ready. Cheap, never blocks on I/O; may be
  // called before Start.
  void Notify() ABSL_LOCKS_EXCLUDED(mu_);
  // Publishes once more if notified since the last round, then stops the thread. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // One round on the caller's thread (without Start): tiles, bundles and checkpoint for the
  // note `source` gives now. FailedPrecondition when the folder holds another log's checkpoint
  // (another origin) or a larger tree than the note's.
  [[nodiscard]] absl::Status PublishOnce(const TileSource& source);

  // The tree size of the checkpoint last written (0 before the first round).
  uint64_t published_size() const ABSL_LOCKS_EXCLUDED(mu_);
  // Blocks until a checkpoint of at least `size` is written, the last round failed, or
  // `timeout` passed; the last round's status (DeadlineExceeded on timeout). For tests and
  // tools.
  [[nodiscard]] absl::Status WaitForSize(uint64_t size, std::chrono::milliseconds timeout)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Bundles not written because an entry was over kEntryBytesMax, by index.
  std::vector<uint64_t> skipped_bundles() const ABSL_LOCKS_EXCLUDED(mu_);
  // The folders this writer moved aside because they did not match the ledger (see Start).
  std::vector<std::string> moved_aside() const ABSL_LOCKS_EXCLUDED(mu_);
  // The error that stopped publishing (a folder this writer will not touch: another log's, or
  // ahead of the ledger); OK while publishing. The HTTP listener serves no tiles meanwhile.
  absl::Status refused() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Doomed {  // partial tiles to delete once their grace has passed
    std::string dir;
    std::chrono::steady_clock::time_point after;
  };
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);
  // Whether the folder's file for `tile` exists with the size it must have.
  bool Present(const TileRef& tile) const;
  std::string FileOf(const TileRef& tile) const;
  // A hash tile from the tree's nodes.
  [[nodiscard]] absl::Status WriteTile(const TileSource& source, const TileRef& tile);
  // The level-0 hash tile and the bundle of `index` (`width` entries) where missing, from one
  // read of the entries, checked against the tree. With check_present, a file already there
  // (of the right size) is kept.
  [[nodiscard]] absl::Status WriteLevel0(const TileSource& source, uint64_t index, uint32_t width,
                                         bool check_present);
  // Writes <file>.tmp, making its folders (synced in their parents).
  [[nodiscard]] absl::Status StageTile(const TileRef& tile, std::string_view bytes);
  // Once, before the first round: checks the folder against the ledger (see CheckFolder).
  [[nodiscard]] absl::Status Resume(const TileSource& source, std::string_view note_text,
                                    uint64_t size);
  // OK when the folder's checkpoint `cp` is this ledger's tree at its size and the tiles and
  // bundles of its right edge that are there hold this ledger's hashes and entries; DataLoss
  // saying what differs otherwise; other errors when the ledger or a file cannot be read.
  [[nodiscard]] absl::Status CheckFolder(const TileSource& source,
                                         const note::Checkpoint& cp) const;
  // Renames the folders to <folder>.mismatch-<UTC time> (logged, and kept for inspection).
  [[nodiscard]] absl::Status MoveAside(std::string_view why) ABSL_LOCKS_EXCLUDED(mu_);
  // Renames the tiles of this round (<file>.tmp) into place.
  [[nodiscard]] absl::Status RenameWritten();
  void ScheduleObsoletePartials(const TileRef& full_tile);
  void DeleteDoomed(bool all);

  const TileWriterOptions options_;
  // Owned by the publishing thread (or PublishOnce's caller).
  const TileSource* source_ = nullptr;  // the thread's copy of Start's source
  bool resumed_ = false;
  uint64_t tiles_size_ = 0;             // every tile of this size is written
  bool first_round_done_ = false;       // the folder's own full tiles were looked for
  std::set<std::string> made_dirs_;     // folders of full tiles known to exist
  std::string published_note_;          // the checkpoint file's content
  std::vector<std::string> to_rename_;  // tiles written as <file>.tmp this round
  std::deque<Doomed> doomed_;

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  bool notified_ ABSL_GUARDED_BY(mu_) = true;  // the first round runs at Start
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t published_size_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_status_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> skipped_bundles_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> moved_aside_ ABSL_GUARDED_BY(mu_);
  absl::Status refused_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace veta::tiles

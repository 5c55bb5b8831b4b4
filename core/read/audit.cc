#include "core/read/audit.h"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <thread>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/base/status_macros.h"
#include "core/base/strings.h"
#include "core/base/timestamp.h"
#include "core/log/keyring.h"
#include "core/log/ledger.h"
#include "core/rules/apply.h"
#include "core/rules/registry.h"
#include "core/storage/memory_store.h"
#include "core/storage/rocks_store.h"
#include "core/storage/schema.h"
#include "core/storage/store.h"
#include "core/verify/envelope.h"
#include "core/verify/keys.h"
#include "core/verify/merkle.h"
#include "core/verify/note.h"

namespace veta {
namespace {

// An entry read ahead of the in-order replay, with what a pool thread derives from it alone:
// the parsed entry and envelope, a registry record's stateless checks (PrevalidateRecord, as
// the server's verification threads do), the leaf hash, and the envelope's signatures verified
// against the keys that the stored `keys` family names. That family is the state at the end of
// the log and may be tampered with: it is only a hint. The replay takes the pool's verdict only
// for an envelope whose every key id the ledger knew AT THAT ENTRY as that very key; otherwise
// it verifies the signatures again itself (see Auditor::CheckSignatures).
struct Prepared {
  std::string key, bytes;  // the stored row of the entries family
  bool parsed = false;
  veta::v1::Entry entry;
  absl::StatusOr<DecodedEnvelope> decoded = absl::UnknownError("not decoded");
  absl::Status hinted_signatures = absl::UnknownError("not verified");
  Hash leaf{};
};

void Prepare(const KeyRing& hints, Prepared* p) {
  p->leaf = merkle::HashLeaf(p->bytes);
  p->parsed = p->entry.ParseFromArray(p->bytes.data(), static_cast<int>(p->bytes.size()));
  if (!p->parsed) return;
  p->decoded = DecodeEnvelope(p->entry.envelope(), EnvelopeLimits{});
  if (!p->decoded.ok()) return;
  p->hinted_signatures = VerifySignatures(*p->decoded, hints);
  PrevalidateRecord(&*p->decoded);
}

// Threads (one per core) that prepare chunks of entries in any order, while the replay waits
// for each chunk in log order. Thread-safe; the destructor stops the threads (a chunk being
// prepared is finished first) and must run before the chunks it was given are freed.
class PreparePool {
 public:
  struct Chunk {
    std::vector<Prepared> entries;
    bool done = false;  // under the pool's mutex
  };

  PreparePool(const KeyRing& hints, unsigned threads) : hints_(hints) {
    for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
  }
  ~PreparePool() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    work_cv_.SignalAll();
    for (auto& t : threads_) t.join();
  }
  PreparePool(const PreparePool&) = delete;
  PreparePool& operator=(const PreparePool&) = delete;

  void Add(Chunk* chunk) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      todo_.push_back(chunk);
    }
    work_cv_.Signal();
  }

  void Wait(const Chunk* chunk) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    while (!chunk->done) done_cv_.Wait(&mu_);
  }

 private:
  void Work() ABSL_LOCKS_EXCLUDED(mu_) {
    while (true) {
      Chunk* chunk = nullptr;
      {
        absl::MutexLock lock(&mu_);
        while (!stopping_ && todo_.empty()) work_cv_.Wait(&mu_);
        if (stopping_) return;
        chunk = todo_.front();
        todo_.pop_front();
      }
      for (Prepared& p : chunk->entries) Prepare(hints_, &p);
      {
        absl::MutexLock lock(&mu_);
        chunk->done = true;
      }
      done_cv_.SignalAll();
    }
  }

  const KeyRing& hints_;
  absl::Mutex mu_;
  absl::CondVar work_cv_, done_cv_;
  std::deque<Chunk*> todo_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

// The read-ahead window: at most kWindowChunks chunks of at most kChunkEntries entries or
// kChunkBytes stored bytes each, so memory stays bounded whatever the log's length.
constexpr size_t kChunkEntries = 256;
constexpr size_t kChunkBytes = 2 << 20;
constexpr size_t kWindowChunks = 16;

class Auditor {
 public:
  // `scratch` is an empty store in which the registry's state is rebuilt from the entries.
  Auditor(const Reader& store, Store* scratch, AuditReport* report)
      : store_(store), scratch_(scratch), registry_(scratch), report_(report) {}

  absl::Status Run(const std::function<void(uint64_t)>& progress) {
    RETURN_IF_ERROR(LoadCheckpoints());
    LoadKeyHints();
    // Entries are read here, prepared (parsed, decoded, signatures verified) on the pool a
    // window ahead, and replayed here in log order.
    std::unique_ptr<Cursor> it = store_.NewCursor(Family::kEntries);
    std::deque<std::unique_ptr<PreparePool::Chunk>> window;
    // Declared after the window: its threads are joined before the chunks are freed.
    PreparePool pool(hints_, std::max(1u, std::thread::hardware_concurrency()));
    auto read_ahead = [&] {
      while (window.size() < kWindowChunks && it->Valid()) {
        auto chunk = std::make_unique<PreparePool::Chunk>();
        size_t bytes = 0;
        for (; chunk->entries.size() < kChunkEntries && bytes < kChunkBytes && it->Valid();
             it->Next()) {
          Prepared& p = chunk->entries.emplace_back();
          p.key = std::string(it->key());
          p.bytes = std::string(it->value());
          bytes += p.bytes.size();
        }
        pool.Add(chunk.get());
        window.push_back(std::move(chunk));
      }
    };
    uint64_t expect = 0;
    for (it->SeekToFirst(), read_ahead(); !window.empty(); window.pop_front(), read_ahead()) {
      pool.Wait(window.front().get());
      for (const Prepared& p : window.front()->entries) {
        report_->bad_sequence = static_cast<int64_t>(expect);
        uint64_t seq = 0;
        if (!DecodeU64(p.key, &seq) || seq != expect) {
          return absl::DataLossError(
              StrCat("entry ", expect, " is missing (next stored key is ", ToHex(p.key), ")"));
        }
        RETURN_IF_ERROR(CheckEntry(seq, p));
        if (progress && (seq + 1) % 65536 == 0) progress(seq + 1);
        ++expect;
      }
    }
    RETURN_IF_ERROR(Annotate(it->status(), "scan entries"));
    report_->bad_sequence = -1;
    report_->entries = expect;
    if (expect == 0) return absl::DataLossError("the ledger has no entries (no genesis)");
    if (!published_.empty()) {
      return absl::DataLossError(StrCat(
          "checkpoint ", published_.begin()->first, " was published but the store holds ", expect,
          " entries: entries were lost or rolled back to an older copy of the store"));
    }
    if (!checkpoints_.empty()) {
      return absl::DataLossError(StrCat("a checkpoint of size ", checkpoints_.begin()->first,
                                        " covers more than the ", expect,
                                        " stored entries: entries were lost or rolled back"));
    }
    if (report_->checkpoints == 0) return absl::DataLossError("the ledger has no checkpoint");
    RETURN_IF_ERROR(CheckOwnCheckpointStored());
    report_->root_hex = ToHex(tree_.Root());
    RETURN_IF_ERROR(CheckAttempts());
    // Every family derived from the log, rebuilt in the scratch store, equals the stored one
    // row for row: none missing, none extra, none different.
    for (const Derived& f : Families()) {
      RETURN_IF_ERROR(CompareFamily(f));
    }
    return absl::OkStatus();
  }

  // Set before Run: the note of the data folder's latest-checkpoint file, if there is one.
  std::string own_note_;
  uint64_t own_size_ = 0;

 private:
  // A family derived from the log: its stored and rebuilt handles, and how to name a row.
  struct Derived {
    std::string_view family;  // the column family's name
    std::string_view what;    // what it holds, plural
    veta::Family id;
    // A readable name for a row's key, and the entry it belongs to (-1 when none).
    std::function<std::string(std::string_view key, std::string_view value, int64_t* seq)> name;
  };

  std::vector<Derived> Families() const {
    auto seq_of = [](std::string_view bytes, int64_t* seq) {
      uint64_t v = 0;
      if (DecodeU64(bytes, &v)) *seq = static_cast<int64_t>(v);
    };
    return {
        {"default", "format marker rows", veta::Family::kMeta,
         [](std::string_view key, std::string_view, int64_t*) {
           return StrCat("row '", Printable(key), "'");
         }},
        {"leaves", "leaf index rows", veta::Family::kLeaves,
         [seq_of](std::string_view key, std::string_view value, int64_t* seq) {
           seq_of(value, seq);
           uint64_t bucket = 0;
           std::string_view leaf;
           if (!DecodeLeafKey(key, &bucket, &leaf))
             return StrCat("the malformed leaf key ", ToHex(key));
           return StrCat("the row of leaf ", ToHex(leaf), " (bucket ", bucket, ")");
         }},
        {"statements", "statement index rows", veta::Family::kStatements,
         [seq_of](std::string_view key, std::string_view value, int64_t* seq) {
           seq_of(value, seq);
           return StrCat("the row of statement ", ToHex(key));
         }},
        {"tree", "Merkle tree nodes", veta::Family::kTree,
         [](std::string_view key, std::string_view, int64_t* seq) {
           uint64_t end = 0;
           if (key.size() != 9 || !DecodeU64(key.substr(0, 8), &end)) {
             return StrCat("the malformed node key ", ToHex(key));
           }
           const unsigned level = static_cast<unsigned char>(key[8]);
           if (level >= 64 || end == 0) return StrCat("the malformed node key ", ToHex(key));
           *seq = static_cast<int64_t>(end - 1);
           return StrCat("node (level ", level, ", index ", (end >> level) - 1, ")");
         }},
        {"keys", "signing keys", veta::Family::kKeys,
         [](std::string_view key, std::string_view value, int64_t* seq) {
           veta::v1::KeyRecord row;
           if (row.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
             *seq = static_cast<int64_t>(std::max(row.registered_at(), row.revoked_at()));
           }
           return StrCat("key ", Printable(key));
         }},
        {"registry", "registry record versions", veta::Family::kRegistry,
         [seq_of](std::string_view key, std::string_view, int64_t* seq) {
           if (key.size() >= 10) seq_of(key.substr(key.size() - 8), seq);
           return StrCat("record version '", Printable(key), "'");
         }},
        {"state", "lots and counters", veta::Family::kState,
         [](std::string_view key, std::string_view, int64_t*) {
           return StrCat("row '", Printable(key), "'");
         }},
        {"evidence", "red flags and evidence indexes", veta::Family::kEvidence,
         [seq_of](std::string_view key, std::string_view, int64_t* seq) {
           if (!key.empty() && key[0] == 'f' && key.size() == 10) seq_of(key.substr(1, 8), seq);
           return StrCat("row '", Printable(key), "'");
         }},
    };
  }

  // Bytes as text, with anything not printable as \xNN.
  static std::string Printable(std::string_view bytes) {
    std::string out;
    for (unsigned char c : bytes) {
      if (c >= 0x20 && c < 0x7f && c != '\\') {
        out.push_back(static_cast<char>(c));
      } else {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\x";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
    }
    return out;
  }

  absl::Status LoadCheckpoints() {
    std::unique_ptr<Cursor> it = store_.NewCursor(Family::kCheckpoints);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      uint64_t size = 0;
      if (!DecodeU64(it->key(), &size)) {
        return absl::DataLossError("a checkpoint has a malformed key");
      }
      if (size == 0) return absl::DataLossError("a checkpoint claims an empty tree");
      checkpoints_[size] = std::string(it->value());
      if (!own_note_.empty() && size == own_size_) own_stored_ = std::string(it->value());
    }
    return Annotate(it->status(), "scan checkpoints");
  }

  // The ledger stores each checkpoint before it writes it to the latest-checkpoint file: the
  // file's note (already verified against the tree) must be in the store, byte for byte.
  absl::Status CheckOwnCheckpointStored() {
    if (own_note_.empty() || own_stored_ == own_note_) return absl::OkStatus();
    return absl::DataLossError(StrCat("the latest checkpoint beside the database (size ", own_size_,
                                      ") is not in the store's checkpoints"));
  }

  // The keys of the stored `keys` family, for the pool (a hint: see Prepared). A malformed row
  // or a failed scan leaves keys out, whose signatures the replay then verifies itself; the
  // comparison of the family with the rebuilt one names the defect.
  void LoadKeyHints() {
    std::unique_ptr<Cursor> it = store_.NewCursor(Family::kKeys);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto info = DecodeKeyRow(it->key(), it->value());
      if (info.ok()) hints_.Add(*std::move(info));
    }
  }

  // What VerifySignatures(d, keys_) answers at this entry. When the pool found every signature
  // good by the key its key id names in the stored `keys` family, and the ledger knows every
  // one of these key ids at this entry as that very key, the answer is OK without verifying
  // again. Otherwise (a genesis, a key registered only later or never, a hint missing or
  // different, a signature that failed) the signatures are verified here, in log order.
  absl::Status CheckSignatures(const DecodedEnvelope& d, const absl::Status& hinted) const {
    if (hinted.ok() && d.kind != PayloadKind::kGenesis) {
      bool known = true;
      for (const auto& sig : d.envelope.signatures()) {
        const std::shared_ptr<const KeyInfo> now = keys_.Find(sig.keyid());
        const std::shared_ptr<const KeyInfo> hint = hints_.Find(sig.keyid());
        if (now == nullptr || hint == nullptr || now->key.algorithm() != hint->key.algorithm() ||
            now->key.spki_der() != hint->key.spki_der()) {
          known = false;
          break;
        }
      }
      if (known) return absl::OkStatus();
    }
    return VerifySignatures(d, keys_);
  }

  absl::Status CheckEntry(uint64_t seq, const Prepared& p) {
    const veta::v1::Entry& entry = p.entry;
    const std::string_view bytes = p.bytes;
    if (!p.parsed || entry.sequence() != seq) {
      return absl::DataLossError(
          StrCat("entry ", seq, " does not parse or names another sequence"));
    }
    const std::string expect_prev = seq == 0 ? "" : std::string(AsBytes(last_leaf_));
    if (entry.previous_hash() != expect_prev) {
      return absl::DataLossError(
          StrCat("entry ", seq, " does not chain to entry ", seq - 1, " (previous hash differs)"));
    }
    const int64_t micros = TimestampMicros(entry.time());
    if (micros < last_micros_) {
      return absl::DataLossError(StrCat("entry ", seq, " is dated before entry ", seq - 1));
    }
    last_micros_ = micros;
    const auto& decoded = p.decoded;
    if (!decoded.ok()) {
      return absl::DataLossError(StrCat("entry ", seq, ": ", decoded.status().message()));
    }
    if (seq == 0) {
      if (decoded->kind != PayloadKind::kGenesis) {
        return absl::DataLossError("entry 0 is not a genesis");
      }
      report_->origin = decoded->genesis.origin();
      verifier_key_ = decoded->genesis.checkpoint_verifier_key();
    }
    if (absl::Status s = CheckSignatures(*decoded, p.hinted_signatures); !s.ok()) {
      return absl::DataLossError(StrCat("entry ", seq, ": ", s.message()));
    }
    report_->signatures += static_cast<uint64_t>(decoded->envelope.signatures_size());
    if (!statements_.insert(std::string(AsBytes(decoded->statement_hash))).second) {
      return absl::DataLossError(StrCat("entry ", seq, " repeats an earlier envelope"));
    }
    // The entry, applied as the sequencer applied it, against the state rebuilt so far: every
    // entry must pass, and its rows are rebuilt in the scratch store in the same order, to be
    // compared with the stored families at the end.
    std::unique_ptr<Batch> batch = scratch_->NewBatch();
    Batch& wb = *batch;
    Delta delta;
    const Verdict verdict = ApplyEntry(*decoded, seq, micros, registry_, keys_, &delta, &wb);
    RETURN_IF_ERROR(verdict.error);
    if (!verdict.invalid.ok()) {
      return absl::DataLossError(
          StrCat("entry ", seq, " breaks a rule: ", verdict.invalid.message()));
    }
    if (!verdict.ok()) {
      return absl::DataLossError(StrCat("entry ", seq, " breaks an origin rule: [",
                                        veta::v1::Refusal_Name(verdict.refusal), "] ",
                                        verdict.message));
    }
    const std::string seq_key = EncodeU64(seq);
    const Hash leaf = p.leaf;
    // Corrections read the entry they void: the scratch store keeps the entries too.
    wb.Put(veta::Family::kEntries, seq_key, bytes);
    wb.Put(veta::Family::kLeaves, LeafKey(seq, AsBytes(leaf)), seq_key);
    // The statements family is keyed by what DecodeEnvelope names the statement, whatever its
    // definition: never derived here.
    wb.Put(veta::Family::kStatements, AsBytes(decoded->statement_hash), seq_key);
    tree_.Append(leaf, [&](uint32_t level, uint64_t index, const Hash& h) {
      wb.Put(veta::Family::kTree, NodeKey(level, index), AsBytes(h));
    });
    wb.Put(veta::Family::kMeta, kAppliedKey, EncodeU64(seq + 1));
    RETURN_IF_ERROR(Annotate(scratch_->Write(wb, /*sync=*/false), "replay"));
    registry_.Commit(std::move(delta), &keys_);
    last_leaf_ = leaf;
    return CheckCheckpoint(tree_.size());
  }

  absl::Status CheckCheckpoint(uint64_t size) {
    for (auto p = published_.find(size); p != published_.end() && p->first == size;
         p = published_.erase(p)) {
      auto text = note::Open(p->second, verifier_key_);
      if (!text.ok()) {
        return absl::DataLossError(StrCat("a published checkpoint of size ", size,
                                          " does not verify: ", text.status().message()));
      }
      ASSIGN_OR_RETURN(note::Checkpoint cp, note::ParseCheckpointText(*text));
      if (cp.root != tree_.Root()) {
        return absl::DataLossError(StrCat("the published checkpoint of size ", size,
                                          " differs from the tree the entries give: the log was "
                                          "rewritten after it was published"));
      }
    }
    auto it = checkpoints_.find(size);
    if (it == checkpoints_.end()) return absl::OkStatus();
    auto text = note::Open(it->second, verifier_key_);
    if (!text.ok()) {
      return absl::DataLossError(
          StrCat("checkpoint of size ", size, " does not verify: ", text.status().message()));
    }
    ASSIGN_OR_RETURN(note::Checkpoint cp, note::ParseCheckpointText(*text));
    if (cp.size != size || cp.root != tree_.Root() || cp.origin != report_->origin) {
      return absl::DataLossError(StrCat("checkpoint of size ", size,
                                        " does not match the tree recomputed from the entries"));
    }
    checkpoints_.erase(it);
    ++report_->checkpoints;
    return absl::OkStatus();
  }

  // A stored family equals the one rebuilt from the log, row for row, in both directions.
  absl::Status CompareFamily(const Derived& f) {
    std::unique_ptr<Cursor> a = store_.NewCursor(f.id);
    std::unique_ptr<Cursor> b = scratch_->NewCursor(f.id);
    // The default family also holds file digests, which are the store's own (the scratch
    // store has digests of its own files): Store::VerifyStorage checks them.
    const bool skip_digests = f.id == veta::Family::kMeta;
    auto skip = [&](Cursor* it) {
      while (skip_digests && it->Valid() && it->key().starts_with(kFileDigestPrefix)) {
        it->Next();
      }
    };
    a->SeekToFirst();
    b->SeekToFirst();
    for (skip(a.get()), skip(b.get()); a->Valid() || b->Valid(); skip(a.get()), skip(b.get())) {
      const int order = !a->Valid() ? 1 : !b->Valid() ? -1 : a->key().compare(b->key());
      if (order == 0 && a->value() == b->value()) {
        ++report_->derived_rows;
        a->Next();
        b->Next();
        continue;
      }
      int64_t seq = -1;
      std::string what;
      if (order < 0) {
        what = StrCat(f.name(a->key(), a->value(), &seq),
                      " is stored but nothing in the log makes it");
      } else if (order > 0) {
        what = StrCat(f.name(b->key(), b->value(), &seq), " is missing");
      } else {
        what = StrCat(f.name(b->key(), b->value(), &seq), " differs from the one the log makes");
      }
      report_->bad_sequence = seq < static_cast<int64_t>(report_->entries) ? seq : -1;
      return absl::DataLossError(StrCat("the stored ", f.what,
                                        " differ from the ones the entries and attempts rebuild (",
                                        f.family, " family): ", what));
    }
    RETURN_IF_ERROR(Annotate(a->status(), StrCat("scan the stored ", f.family, " family")));
    return Annotate(b->status(), StrCat("scan the rebuilt ", f.family, " family"));
  }

  // The attempts log: numbered from 0 without gaps, each linked to the previous by hash, each
  // refused at a ledger size the log had reached.
  absl::Status CheckAttempts() {
    std::unique_ptr<Cursor> it = store_.NewCursor(Family::kAttempts);
    uint64_t expect = 0;
    Hash previous{};
    std::unique_ptr<Batch> wb = scratch_->NewBatch();
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++expect) {
      veta::v1::Attempt a;
      uint64_t number = 0;
      if (!DecodeU64(it->key(), &number) || number != expect) {
        return absl::DataLossError(StrCat("attempt ", expect, " is missing from the attempts log"));
      }
      if (!a.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())) ||
          a.number() != number) {
        return absl::DataLossError(StrCat("attempt ", number, " is malformed"));
      }
      const std::string expect_prev = number == 0 ? "" : std::string(AsBytes(previous));
      if (a.previous_hash() != expect_prev) {
        return absl::DataLossError(
            StrCat("attempt ", number, " does not chain to attempt ", number - 1));
      }
      if (a.ledger_size() > report_->entries) {
        return absl::DataLossError(
            StrCat("attempt ", number, " claims a ledger of ", a.ledger_size(), " entries"));
      }
      previous = Sha256Of(it->value());
      // Its rows in the evidence index, as the ledger writes them.
      for (const auto& key : AttemptIndexKeys(a)) wb->Put(veta::Family::kEvidence, key, "");
      if (wb->Count() >= 4096) RETURN_IF_ERROR(WriteScratch(&wb));
    }
    RETURN_IF_ERROR(Annotate(it->status(), "scan attempts"));
    RETURN_IF_ERROR(WriteScratch(&wb));
    report_->attempts = expect;
    return absl::OkStatus();
  }

  absl::Status WriteScratch(std::unique_ptr<Batch>* wb) {
    RETURN_IF_ERROR(Annotate(scratch_->Write(**wb, /*sync=*/false), "rebuild"));
    *wb = scratch_->NewBatch();
    return absl::OkStatus();
  }

  const Reader& store_;
  Store* scratch_;
  Registry registry_;
  AuditReport* report_;
  KeyRing keys_;
  KeyRing hints_;  // the stored `keys` family, for the pool
  merkle::CompactTree tree_;
  Hash last_leaf_{};
  int64_t last_micros_ = 0;
  std::string verifier_key_;
  std::map<uint64_t, std::string> checkpoints_;  // not yet matched
  std::string own_stored_;                       // the stored checkpoint at own_size_

 public:
  std::multimap<uint64_t, std::string> published_;  // notes seen outside, by size
  std::set<std::string> statements_;
  // The genesis's checkpoint verifier key (after Run).
  const std::string& verifier_key() const { return verifier_key_; }
};

// The authority key kept beside the database (when the server keeps it there and the audit
// may read it) signs the checkpoints: it must be the one the genesis names.
absl::Status CheckAuthorityKey(const std::string& data_dir, const std::string& origin,
                               const std::string& verifier_key) {
  const std::string path = AuthorityKeyPath(data_dir);
  auto pem = ReadFile(path);
  if (absl::IsNotFound(pem.status()) || absl::IsPermissionDenied(pem.status())) {
    return absl::OkStatus();
  }
  if (!pem.ok()) return pem.status();
  auto key = PrivateKey::FromPem(*pem);
  if (!key.ok()) {
    return absl::DataLossError(StrCat(path, " is not a private key: ", key.status().message()));
  }
  auto mine = note::VerifierKey(origin, key->public_key());
  if (!mine.ok() || *mine != verifier_key) {
    return absl::DataLossError(
        StrCat(path, " is not the authority key the genesis names for checkpoints"));
  }
  return absl::OkStatus();
}

}  // namespace

// The tree size a checkpoint note states (its second line).
static bool NoteSize(const std::string& note, uint64_t* size) {
  const auto lines = Split(note, '\n');
  return lines.size() >= 2 && ParseU64(lines[1], size);
}

AuditReport AuditStore(const Reader& store, const std::vector<std::string>& published) {
  AuditReport report;
  MemoryStore scratch;
  {
    auto marker = scratch.NewBatch();
    marker->Put(Family::kMeta, kFormatKey, kFormatValue);
    report.status = scratch.Write(*marker, false);
    if (!report.status.ok()) return report;
  }
  Auditor auditor(store, &scratch, &report);
  for (const auto& n : published) {
    uint64_t size = 0;
    if (!NoteSize(n, &size)) {
      report.status = absl::InvalidArgumentError("a published checkpoint is not a checkpoint note");
      return report;
    }
    auditor.published_.emplace(size, n);
  }
  report.status = auditor.Run(nullptr);
  return report;
}

AuditReport AuditLedger(const std::string& data_dir, const std::function<void(uint64_t)>& progress,
                        const std::vector<std::string>& published) {
  AuditReport report;
  // Table files are checked before RocksDB reads them; every other byte right after the open:
  // what follows reads the data through RocksDB, which trusts it.
  if (std::filesystem::exists(DatabasePath(data_dir))) {
    report.status = RocksStore::PrecheckTableFiles(DatabasePath(data_dir), &report.storage);
    if (!report.status.ok()) return report;
  }
  auto store = RocksStore::Open(DatabasePath(data_dir), RocksStore::Mode::kReadOnly);
  if (!store.ok()) {
    report.status = store.status();
    return report;
  }
  report.status = (*store)->VerifyStorage(&report.storage);
  if (!report.status.ok()) return report;
  // The registry is rebuilt in a scratch store, removed afterwards.
  std::string scratch_dir = (std::filesystem::temp_directory_path() / "veta-audit-XXXXXX").string();
  if (::mkdtemp(scratch_dir.data()) == nullptr) {
    report.status = absl::UnavailableError("cannot create a scratch folder for the audit");
    return report;
  }
  std::string verifier_key;
  {
    auto scratch = RocksStore::Open(scratch_dir + "/db", RocksStore::Mode::kCreate);
    if (!scratch.ok()) {
      report.status = scratch.status();
    } else {
      Auditor auditor(**store, scratch->get(), &report);
      std::vector<std::string> notes = published;
      if (auto own = ReadFile(LatestCheckpointPath(data_dir)); own.ok()) {
        if (!NoteSize(*own, &auditor.own_size_)) {
          report.status = absl::DataLossError(
              StrCat(LatestCheckpointPath(data_dir), " is not a checkpoint note"));
        }
        auditor.own_note_ = *own;
        notes.push_back(*own);
      }
      for (const auto& n : notes) {
        if (!report.status.ok()) break;
        uint64_t size = 0;
        if (!NoteSize(n, &size)) {
          report.status =
              absl::InvalidArgumentError("a published checkpoint is not a checkpoint note");
          break;
        }
        auditor.published_.emplace(size, n);
      }
      if (report.status.ok()) report.status = auditor.Run(progress);
      verifier_key = auditor.verifier_key();
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(scratch_dir, ec);
  if (report.status.ok()) report.status = CheckAuthorityKey(data_dir, report.origin, verifier_key);
  return report;
}

}  // namespace veta

#include "core/audit.h"

#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include "core/envelope.h"
#include "core/keyring.h"
#include "core/ledger.h"
#include "core/note.h"
#include "core/registry.h"
#include "core/status_macros.h"
#include "core/store.h"
#include "core/strings.h"
#include "core/timestamp.h"

namespace veta {
namespace {

class Auditor {
 public:
  // `scratch` is an empty store in which the registry's state is rebuilt from the entries.
  Auditor(const Store& store, Store* scratch, AuditReport* report)
      : store_(store), scratch_(scratch), registry_(scratch), report_(report) {}

  absl::Status Run(const std::function<void(uint64_t)>& progress) {
    RETURN_IF_ERROR(LoadCheckpoints());
    std::unique_ptr<rocksdb::Iterator> it(
        store_.db()->NewIterator(rocksdb::ReadOptions(), store_.entries()));
    uint64_t expect = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++expect) {
      report_->bad_sequence = static_cast<int64_t>(expect);
      uint64_t seq = 0;
      if (!DecodeU64(it->key().ToStringView(), &seq) || seq != expect) {
        return absl::DataLossError(StrCat("entry ", expect, " is missing (next stored key is ",
                                          ToHex(it->key().ToStringView()), ")"));
      }
      RETURN_IF_ERROR(CheckEntry(seq, it->value().ToStringView()));
      if (progress && (seq + 1) % 65536 == 0) progress(seq + 1);
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan entries"));
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
    report_->root_hex = ToHex(tree_.Root());
    RETURN_IF_ERROR(CompareFamily(store_.registry(), scratch_->registry(), "registry"));
    RETURN_IF_ERROR(CompareFamily(store_.state(), scratch_->state(), "lots and counters"));
    RETURN_IF_ERROR(CheckAttempts());
    return CheckIndexCounts();
  }

 private:
  absl::Status LoadCheckpoints() {
    std::unique_ptr<rocksdb::Iterator> it(
        store_.db()->NewIterator(rocksdb::ReadOptions(), store_.checkpoints()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      uint64_t size = 0;
      if (!DecodeU64(it->key().ToStringView(), &size)) {
        return absl::DataLossError("a checkpoint has a malformed key");
      }
      checkpoints_[size] = it->value().ToString();
    }
    return FromRocks(it->status(), "scan checkpoints");
  }

  absl::Status CheckEntry(uint64_t seq, std::string_view bytes) {
    veta::v1::Entry entry;
    if (!entry.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
        entry.sequence() != seq) {
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
    auto decoded = DecodeEnvelope(entry.envelope(), EnvelopeLimits{});
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
    if (absl::Status s = VerifySignatures(*decoded, keys_); !s.ok()) {
      return absl::DataLossError(StrCat("entry ", seq, ": ", s.message()));
    }
    report_->signatures += static_cast<uint64_t>(decoded->envelope.signatures_size());
    std::shared_ptr<const KeyInfo> new_key;
    if (absl::Status s = CheckRules(*decoded, seq, keys_, {}, &new_key); !s.ok()) {
      return absl::DataLossError(StrCat("entry ", seq, " breaks a rule: ", s.message()));
    }
    if (!statements_.insert(std::string(AsBytes(decoded->statement_hash))).second) {
      return absl::DataLossError(StrCat("entry ", seq, " repeats an earlier envelope"));
    }
    if (decoded->kind == PayloadKind::kGenesis) {
      for (const auto& proto : decoded->genesis.authority_keys()) {
        ASSIGN_OR_RETURN(PublicKey key, PublicKey::FromProto(proto));
        keys_.Add(std::make_shared<const KeyInfo>(KeyInfo{key, "authority", true, 0}));
      }
    }
    if (new_key != nullptr) keys_.Add(new_key);
    // The origin rules, replayed against the state rebuilt so far: every entry must pass.
    Delta delta;
    const Verdict verdict = registry_.Evaluate(*decoded, seq, micros, keys_, delta, false);
    RETURN_IF_ERROR(verdict.error);
    if (!verdict.ok()) {
      return absl::DataLossError(StrCat("entry ", seq, " breaks an origin rule: [",
                                        veta::v1::Refusal_Name(verdict.refusal), "] ",
                                        verdict.message));
    }
    rocksdb::WriteBatch wb;
    registry_.Stage(verdict, seq, &delta, &wb);
    // Corrections read the entry they void: the scratch store keeps the entries too.
    wb.Put(scratch_->entries(), EncodeU64(seq), bytes);
    RETURN_IF_ERROR(FromRocks(scratch_->db()->Write(rocksdb::WriteOptions(), &wb), "replay"));
    registry_.Commit(std::move(delta), &keys_);

    const Hash leaf = merkle::HashLeaf(bytes);
    RETURN_IF_ERROR(CheckIndex(store_.leaves(), AsBytes(leaf), seq, "leaf index"));
    RETURN_IF_ERROR(
        CheckIndex(store_.statements(), AsBytes(decoded->statement_hash), seq, "statement index"));
    absl::Status node_status;
    tree_.Append(leaf, [&](uint32_t level, uint64_t index, const Hash& h) {
      if (!node_status.ok()) return;
      auto stored = store_.Get(store_.tree(), NodeKey(level, index));
      if (!stored.ok() || *stored != AsBytes(h)) {
        node_status =
            absl::DataLossError(StrCat("entry ", seq, ": stored tree node (level ", level,
                                       ", index ", index, ") differs from the recomputed one"));
      }
    });
    RETURN_IF_ERROR(node_status);
    last_leaf_ = leaf;
    return CheckCheckpoint(tree_.size());
  }

  absl::Status CheckIndex(rocksdb::ColumnFamilyHandle* cf, std::string_view key, uint64_t seq,
                          std::string_view what) {
    auto value = store_.Get(cf, key);
    uint64_t stored = 0;
    if (!value.ok() || !DecodeU64(*value, &stored) || stored != seq) {
      return absl::DataLossError(StrCat("entry ", seq, ": the ", what, " does not point at it"));
    }
    ++index_records_;
    return absl::OkStatus();
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

  // The state the server stored equals the state rebuilt from the entries, record by record.
  absl::Status CompareFamily(rocksdb::ColumnFamilyHandle* stored,
                             rocksdb::ColumnFamilyHandle* rebuilt, std::string_view what) {
    std::unique_ptr<rocksdb::Iterator> a(store_.db()->NewIterator(rocksdb::ReadOptions(), stored));
    std::unique_ptr<rocksdb::Iterator> b(
        scratch_->db()->NewIterator(rocksdb::ReadOptions(), rebuilt));
    for (a->SeekToFirst(), b->SeekToFirst(); a->Valid() || b->Valid(); a->Next(), b->Next()) {
      if (!a->Valid() || !b->Valid() || a->key() != b->key() || a->value() != b->value()) {
        const std::string key = a->Valid() ? a->key().ToString() : b->key().ToString();
        return absl::DataLossError(StrCat("the stored ", what,
                                          " differ from the state the entries ",
                                          "rebuild, at key '", ToHex(key), "'"));
      }
    }
    RETURN_IF_ERROR(FromRocks(a->status(), "scan stored state"));
    return FromRocks(b->status(), "scan rebuilt state");
  }

  // The attempts log: numbered from 0 without gaps, each linked to the previous by hash, each
  // refused at a ledger size the log had reached.
  absl::Status CheckAttempts() {
    std::unique_ptr<rocksdb::Iterator> it(
        store_.db()->NewIterator(rocksdb::ReadOptions(), store_.attempts()));
    uint64_t expect = 0;
    Hash previous{};
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++expect) {
      veta::v1::Attempt a;
      uint64_t number = 0;
      if (!DecodeU64(it->key().ToStringView(), &number) || number != expect) {
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
      previous = Sha256Of(it->value().ToStringView());
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan attempts"));
    report_->attempts = expect;
    return absl::OkStatus();
  }

  // Index families must hold nothing beyond what the entries justify.
  absl::Status CheckIndexCounts() {
    uint64_t counted = 0;
    for (auto* cf : {store_.leaves(), store_.statements()}) {
      std::unique_ptr<rocksdb::Iterator> it(store_.db()->NewIterator(rocksdb::ReadOptions(), cf));
      for (it->SeekToFirst(); it->Valid(); it->Next()) ++counted;
      RETURN_IF_ERROR(FromRocks(it->status(), "scan indexes"));
    }
    if (counted != index_records_) {
      return absl::DataLossError(StrCat("the indexes hold ", counted, " records but the entries ",
                                        "justify ", index_records_));
    }
    return absl::OkStatus();
  }

  const Store& store_;
  Store* scratch_;
  Registry registry_;
  AuditReport* report_;
  KeyRing keys_;
  merkle::CompactTree tree_;
  Hash last_leaf_{};
  int64_t last_micros_ = 0;
  std::string verifier_key_;
  std::map<uint64_t, std::string> checkpoints_;  // not yet matched

 public:
  std::multimap<uint64_t, std::string> published_;  // notes seen outside, by size
  std::set<std::string> statements_;
  uint64_t index_records_ = 0;
};

}  // namespace

AuditReport AuditLedger(const std::string& data_dir, const std::function<void(uint64_t)>& progress,
                        const std::vector<std::string>& published) {
  AuditReport report;
  auto store = Store::Open(DatabasePath(data_dir), Store::Mode::kReadOnly);
  if (!store.ok()) {
    report.status = store.status();
    return report;
  }
  // The registry is rebuilt in a scratch store, removed afterwards.
  std::string scratch_dir = (std::filesystem::temp_directory_path() / "veta-audit-XXXXXX").string();
  if (::mkdtemp(scratch_dir.data()) == nullptr) {
    report.status = absl::UnavailableError("cannot create a scratch folder for the audit");
    return report;
  }
  {
    auto scratch = Store::Open(scratch_dir + "/db", Store::Mode::kCreate);
    if (!scratch.ok()) {
      report.status = scratch.status();
    } else {
      Auditor auditor(**store, scratch->get(), &report);
      std::vector<std::string> notes = published;
      if (auto own = ReadFile(LatestCheckpointPath(data_dir)); own.ok()) notes.push_back(*own);
      for (const auto& n : notes) {
        const auto lines = Split(n, '\n');
        uint64_t size = 0;
        if (lines.size() < 2 || !ParseU64(lines[1], &size)) {
          report.status =
              absl::InvalidArgumentError("a published checkpoint is not a checkpoint note");
          break;
        }
        auditor.published_.emplace(size, n);
      }
      if (report.status.ok()) report.status = auditor.Run(progress);
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(scratch_dir, ec);
  return report;
}

}  // namespace veta

// A ledger with a registry: an authority, a registrar, and helpers to register miners, units,
// parties, selectors and zones and to sign extractions and sales. Shared by the registry tests.
#pragma once

#include <thread>
#include "core/log/ledger.h"
#include "core/read/audit.h"
#include "core/read/queries.h"
#include "core/storage/memory_store.h"
#include "gtest/gtest.h"

#include "tests/core/test_units.h"
#include "tests/core/test_util.h"
#include "tests/support/payloads.h"

namespace veta::testing {

// The shared payload builders (tests/support/payloads.h), under the names the tests use.
using payloads::Now;
using payloads::Ruc;
using payloads::Square;
using payloads::Time;

// The ledger is kept in memory (a MemoryStore: the rules' tests need no disk) unless a test's
// fixture sets on_disk_ in its constructor (tests that open the RocksDB files themselves).
class RegistryFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (on_disk_) {
      ASSERT_TRUE(Ledger::Create(dir_.path(), "veta.test/registry", authority_, "").ok());
    } else {
      store_ = std::make_shared<MemoryStore>();
      ASSERT_TRUE(Ledger::Create(store_, "veta.test/registry", authority_, "").ok());
    }
    Reopen();
    ExpectAccepted(Sign(kRegistryType, payloads::RegistrarRecord("DGFM", registrar_.public_key()),
                        {authority_}));
  }

  void Reopen() {
    ledger_.reset();
    LedgerOptions options = BaseOptions();
    options.checkpoint_interval = std::chrono::milliseconds(0);
    auto opened = Ledger::Open(options, authority_);
    ASSERT_TRUE(opened.ok()) << opened.status();
    ledger_ = std::move(*opened);
  }

  static std::string Sign(std::string_view type, const google::protobuf::Message& payload,
                          const std::vector<PrivateKey>& keys) {
    return payloads::Sign(type, payload, keys);
  }

  SubmitResult ExpectAccepted(const std::string& envelope) {
    SubmitResult r = ledger_->SubmitAndWait(envelope);
    EXPECT_TRUE(r.status.ok()) << r.status;
    return r;
  }

  // Refused with exactly this code; the ledger did not move; the attempt was logged.
  void ExpectRefused(const std::string& envelope, veta::v1::Refusal code,
                     const std::string& words = "") {
    const uint64_t size = ledger_->size();
    const uint64_t attempts = AttemptCount();
    SubmitResult r = ledger_->SubmitAndWait(envelope);
    EXPECT_EQ(veta::v1::Refusal_Name(r.refusal), veta::v1::Refusal_Name(code)) << r.status;
    EXPECT_EQ(r.status.code(), absl::StatusCode::kFailedPrecondition);
    const std::string message(r.status.message());
    EXPECT_EQ(message.rfind(StrCat("[", veta::v1::Refusal_Name(code), "] "), 0), 0u) << message;
    if (!words.empty()) {
      EXPECT_NE(message.find(words), std::string::npos) << message;
    }
    EXPECT_EQ(ledger_->size(), size) << "a refused submission changed the ledger";
    EXPECT_EQ(AttemptCount(), attempts + 1) << "the refusal is not in the attempts log";
  }

  std::optional<veta::v1::Lot> Find(const std::string& lot_id) {
    auto bytes = ledger_->store().Get(Family::kState, StrCat("L", lot_id));
    if (!bytes.ok()) return std::nullopt;
    veta::v1::Lot lot;
    EXPECT_TRUE(lot.ParseFromString(*bytes));
    return lot;
  }

  uint64_t AttemptCount() {
    std::unique_ptr<Cursor> it = ledger_->store().NewCursor(Family::kAttempts);
    uint64_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    return n;
  }

  // The sequence of a record's current version (0: none): what a new version replaces.
  uint64_t CurrentVersion(const veta::v1::RegistryRecord& r) {
    const auto [kind, id] = RecordKey(r);
    auto v = GetRecordAsOf(ledger_->store(), kind, id, ledger_->size());
    return v.ok() ? v->sequence : 0;
  }

  // Signed by the registrar as a new version of the record: it replaces the current version
  // (sign with Sign() to choose `replaces` yourself).
  std::string Registry(veta::v1::RegistryRecord r) {
    r.set_replaces(CurrentVersion(r));
    return Sign(kRegistryType, r, {registrar_});
  }

  // The builders of tests/support/payloads.h, with the fixture's nonces.
  static veta::v1::RegistryRecord Miner(const std::string& ruc, const PrivateKey& key,
                                        veta::v1::RegistryStatus status = veta::v1::VIGENTE) {
    return payloads::Miner(ruc, key.public_key(), status);
  }
  // `capacity`: grams of ore a day.
  static veta::v1::RegistryRecord Unit(const std::string& code, const std::string& holder,
                                       double lon, double lat, int64_t capacity = 10_tpd) {
    return payloads::Unit(code, holder, lon, lat, capacity);
  }
  static veta::v1::RegistryRecord PartyRecord(const std::string& ruc, veta::v1::PartyKind kind,
                                              const PrivateKey& key) {
    return payloads::PartyRecord(ruc, kind, key.public_key());
  }
  static veta::v1::RegistryRecord ZoneRecord(const std::string& id, veta::v1::ZoneKind kind,
                                             const std::string& geojson) {
    return payloads::ZoneRecord(id, kind, geojson);
  }

  // `ore_g` grams at `grade_ppb`, signed by `key`.
  std::string Extraction(const std::string& lot, const std::string& extractor,
                         const std::string& unit, double lon, double lat, int64_t ore_g,
                         const PrivateKey& key, int64_t grade_ppb = 8_gpt) {
    return Sign(kExtractionType,
                payloads::ExtractionOf(lot, extractor, unit, lon, lat, ore_g, grade_ppb, ++nonce_),
                {key});
  }

  veta::v1::Sale SaleOf(const std::string& lot, const std::string& seller, const std::string& buyer,
                        const std::string& buyer_lot, int64_t ore_g) {
    return payloads::SaleOf(lot, seller, buyer, buyer_lot, ore_g, ++nonce_);
  }

  // Where the ledger is kept: the memory store, or the folder.
  LedgerOptions BaseOptions() const {
    LedgerOptions options;
    if (on_disk_) {
      options.data_dir = dir_.path();
    } else {
      options.store = store_;
    }
    return options;
  }

  // The audit of the ledger as it stands (closed first when on disk: the audit opens its files).
  AuditReport Audit() {
    if (!on_disk_) return AuditStore(*store_);
    ledger_->Close();
    return AuditLedger(dir_.path());
  }

  bool on_disk_ = false;
  TempDir dir_;
  std::shared_ptr<MemoryStore> store_;
  PrivateKey authority_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey registrar_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  std::unique_ptr<Ledger> ledger_;
  uint64_t nonce_ = 0;
};

}  // namespace veta::testing

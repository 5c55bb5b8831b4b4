// A ledger with a registry: an authority, a registrar, and helpers to register miners, units,
// parties, selectors and zones and to sign extractions and sales. Shared by the registry tests.
#pragma once

#include <google/protobuf/util/time_util.h>

#include <thread>
#include "core/log/ledger.h"
#include "core/read/audit.h"
#include "core/read/queries.h"
#include "core/storage/memory_store.h"
#include "gtest/gtest.h"

#include "tests/core/test_units.h"
#include "tests/core/test_util.h"

namespace veta::testing {

// A valid RUC: the 10 given digits and SUNAT's check digit.
inline std::string Ruc(const std::string& first10) {
  static constexpr int kWeights[10] = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
  int sum = 0;
  for (int i = 0; i < 10; ++i) sum += (first10[static_cast<size_t>(i)] - '0') * kWeights[i];
  int check = 11 - sum % 11;
  if (check == 10) check = 0;
  if (check == 11) check = 1;
  return first10 + std::to_string(check);
}

inline google::protobuf::Timestamp Time(const std::string& rfc3339) {
  google::protobuf::Timestamp t;
  EXPECT_TRUE(google::protobuf::util::TimeUtil::FromString(rfc3339, &t)) << rfc3339;
  return t;
}

inline google::protobuf::Timestamp Now() {
  return google::protobuf::util::TimeUtil::GetCurrentTime();
}

// A closed square ring around (lon, lat) with half-side d degrees, as a GeoJSON Polygon.
inline std::string Square(double lon, double lat, double d) {
  return StrCat("{\"type\":\"Polygon\",\"coordinates\":[[[", lon - d, ",", lat - d, "],[", lon + d,
                ",", lat - d, "],[", lon + d, ",", lat + d, "],[", lon - d, ",", lat + d, "],[",
                lon - d, ",", lat - d, "]]]}");
}

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
    veta::v1::RegistryRecord r;
    auto* registrar = r.mutable_registrar();
    registrar->set_registrar_id("DGFM");
    registrar->set_name("Direccion General de Formalizacion Minera");
    *registrar->add_keys() = registrar_.public_key().ToProto();
    registrar->set_status(veta::v1::VIGENTE);
    ExpectAccepted(Sign(kRegistryType, r, {authority_}));
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
    return SignEnvelope(type, payload.SerializeAsString(), keys)->SerializeAsString();
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

  veta::v1::RegistryRecord Miner(const std::string& ruc, const PrivateKey& key,
                                 veta::v1::RegistryStatus status = veta::v1::VIGENTE) {
    veta::v1::RegistryRecord r;
    auto* m = r.mutable_miner();
    m->set_ruc(ruc);
    m->set_name("Minera Test " + ruc);
    m->set_person_type(ruc.substr(0, 2) == "20" ? veta::v1::COMPANY : veta::v1::NATURAL_PERSON);
    m->set_size_class(veta::v1::ARTISANAL);
    m->set_category(veta::v1::CATEGORY_II);
    m->mutable_status()->set_status(status);
    *m->mutable_status()->mutable_since() = Time("2025-01-01T00:00:00Z");
    if (status != veta::v1::VIGENTE) m->mutable_status()->set_reason("test");
    *m->mutable_valid_from() = Time("2025-01-01T00:00:00Z");
    *m->mutable_valid_until() = Time("2030-01-01T00:00:00Z");
    *m->add_keys() = key.public_key().ToProto();
    return r;
  }

  // `capacity`: grams of ore a day.
  veta::v1::RegistryRecord Unit(const std::string& code, const std::string& holder, double lon,
                                double lat, int64_t capacity = 10_tpd) {
    veta::v1::RegistryRecord r;
    auto* u = r.mutable_unit();
    u->set_concession_code(code);
    u->set_name("Concesion " + code);
    u->set_holder_ruc(holder);
    u->set_ubigeo("170101");  // Tambopata, Madre de Dios
    u->set_geometry_geojson(Square(lon, lat, 0.01));
    u->set_activity(veta::v1::EXTRACTION);
    u->set_capacity_ore_g_per_day(capacity);
    u->mutable_status()->set_status(veta::v1::VIGENTE);
    return r;
  }

  veta::v1::RegistryRecord PartyRecord(const std::string& ruc, veta::v1::PartyKind kind,
                                       const PrivateKey& key) {
    veta::v1::RegistryRecord r;
    auto* p = r.mutable_party();
    p->set_ruc(ruc);
    p->set_name("Empresa " + ruc);
    p->set_kind(kind);
    p->mutable_status()->set_status(veta::v1::VIGENTE);
    *p->mutable_valid_from() = Time("2025-01-01T00:00:00Z");
    *p->mutable_valid_until() = Time("2030-01-01T00:00:00Z");
    *p->add_keys() = key.public_key().ToProto();
    if (kind == veta::v1::PLANT) p->set_processing_capacity_ore_g_per_day(100_tpd);
    return r;
  }

  veta::v1::RegistryRecord ZoneRecord(const std::string& id, veta::v1::ZoneKind kind,
                                      const std::string& geojson) {
    veta::v1::RegistryRecord r;
    auto* z = r.mutable_zone();
    z->set_zone_id(id);
    z->set_kind(kind);
    z->set_name("Zona " + id);
    z->set_legal_reference("Ley 28736");
    z->set_geometry_geojson(geojson);
    z->set_in_force(true);
    return r;
  }

  // `ore_g` grams at `grade_ppb`.
  std::string Extraction(const std::string& lot, const std::string& extractor,
                         const std::string& unit, double lon, double lat, int64_t ore_g,
                         const PrivateKey& key, int64_t grade_ppb = 8_gpt) {
    veta::v1::Extraction x;
    x.set_lot_id(lot);
    x.set_extractor_id(extractor);
    x.set_unit_code(unit);
    x.mutable_point()->set_longitude(lon);
    x.mutable_point()->set_latitude(lat);
    *x.mutable_time() = Now();
    x.set_ore_g(ore_g);
    x.set_grade_ppb(grade_ppb);
    x.set_nonce(++nonce_);
    return Sign(kExtractionType, x, {key});
  }

  veta::v1::Sale SaleOf(const std::string& lot, const std::string& seller, const std::string& buyer,
                        const std::string& buyer_lot, int64_t ore_g) {
    veta::v1::Sale s;
    s.set_lot_id(lot);
    s.set_seller_id(seller);
    s.set_buyer_ruc(buyer);
    s.set_buyer_lot_id(buyer_lot);
    s.set_quantity_ore_g(ore_g);
    s.set_price_cents(ore_g * 2);  // S/ 20 a kg
    s.set_payment(veta::v1::BANK_TRANSFER);
    *s.mutable_time() = Now();
    s.set_nonce(++nonce_);
    return s;
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

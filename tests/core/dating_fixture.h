// The custody fixture with a clock the tests move: a 1 t/day unit U1 (miner A) and a
// pallaquera allowed at UA are registered with the rest at t0_, and the ledger's clock may then
// be moved days ahead, so that declarations dated between the registrations and the ledger's
// "now" are judged as the sequencer judges them days later. Shared by the back-dating and
// grade tests (issue 11, items 2 and 7).
#pragma once

#include <google/protobuf/util/time_util.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "tests/core/custody_fixture.h"

namespace veta::testing {

class DatingFixture : public CustodyFixture {
 protected:
  static constexpr int64_t kHour = 3600LL * 1000000;
  static constexpr int64_t kDay = 24 * kHour;
  static constexpr double kLon1 = -69.60, kLat1 = -12.60;

  static int64_t RealNow() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static google::protobuf::Timestamp At(int64_t micros) {
    return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(micros);
  }

  void SetUp() override {
    CustodyFixture::SetUp();
    ExpectAccepted(Registry(Unit("U1", miner_a_, kLon1, kLat1, 1_tpd)));
    ExpectAccepted(Registry(payloads::SelectorRecord(dni_, selector_key_.public_key(), {"UA"})));
    t0_ = RealNow();  // every registration is sequenced before this
    ReopenWithClock();
  }

  void V3() { ExpectAccepted(Registry(payloads::ParametersRecordV3())); }
  // From now on the ledger sequences entries `days` after t0_ (it never goes back).
  void ClockAt(double days) { ahead_ = Day(days) - RealNow(); }
  // `days` after the registrations.
  int64_t Day(double days) const {
    return t0_ + static_cast<int64_t>(days * static_cast<double>(kDay));
  }
  // The same ledger reopened (the registry rebuilt from the store), its clock `ahead_`
  // microseconds ahead of the system's.
  void ReopenWithClock() {
    ledger_.reset();
    LedgerOptions options = BaseOptions();
    options.checkpoint_interval = std::chrono::milliseconds(0);
    options.clock = [this] { return RealNow() + ahead_.load(); };
    auto opened = Ledger::Open(options, authority_);
    ASSERT_TRUE(opened.ok()) << opened.status();
    ledger_ = std::move(*opened);
  }

  std::pair<double, double> Where(const std::string& unit) const {
    if (unit == "U1") return {kLon1, kLat1};
    if (unit == "UB") return {kLonB, kLatB};
    if (unit == "UC") return {kLonC, kLatC};
    return {kLonA, kLatA};
  }
  const PrivateKey& KeyOfExtractor(const std::string& id) const {
    return id == dni_ ? selector_key_ : KeyOf(id);
  }

  // `ore_g` extracted by `extractor` at `unit` into `lot`, dated `t`, signed by the extractor
  // and `cosigners` (a registrar).
  std::string ExtractAt(const std::string& lot, const std::string& extractor,
                        const std::string& unit, int64_t ore_g, int64_t t,
                        const std::vector<PrivateKey>& cosigners = {}, int64_t grade_ppb = 8_gpt) {
    const auto [lon, lat] = Where(unit);
    veta::v1::Extraction x =
        payloads::ExtractionOf(lot, extractor, unit, lon, lat, ore_g, grade_ppb, ++nonce_);
    *x.mutable_time() = At(t);
    std::vector<PrivateKey> keys = {KeyOfExtractor(extractor)};
    keys.insert(keys.end(), cosigners.begin(), cosigners.end());
    return Sign(kExtractionType, x, keys);
  }
  // A sale as CustodyFixture::SellEnvelope makes it, dated `t`.
  std::string SellAt(const std::string& lot, const std::string& seller, const std::string& buyer,
                     const std::string& buyer_lot, int64_t quantity, int64_t t, bool gold = false,
                     const std::vector<PrivateKey>& cosigners = {}) {
    veta::v1::Sale s = SaleOf(lot, seller, buyer, buyer_lot, gold ? 0 : quantity);
    if (gold) s.set_quantity_mg(quantity);
    s.set_price_cents(FairPrice(lot, quantity));
    s.set_payment_reference(StrCat("OP-", nonce_));
    *s.mutable_time() = At(t);
    std::vector<PrivateKey> keys = {KeyOf(seller), KeyOf(buyer)};
    keys.insert(keys.end(), cosigners.begin(), cosigners.end());
    return Sign(kSaleType, s, keys);
  }
  std::string ProcessAt(const std::vector<In>& inputs, const std::vector<Out>& outputs, int64_t t) {
    veta::v1::Processing p = ProcessingOf(inputs, outputs);
    *p.mutable_time() = At(t);
    return Sign(kProcessingType, p, {plant_key_});
  }
  std::string ExportAt(const std::string& lot, int64_t t) {
    veta::v1::Export e = payloads::ExportOf(lot, exporter_, "CH", "DAM-2026-0001", ++nonce_);
    *e.mutable_time() = At(t);
    return Sign(kExportType, e, {exporter_key_});
  }

  static bool HasFlag(const SubmitResult& r, veta::v1::RedFlag flag) {
    for (const auto& f : r.flags) {
      if (f.flag() == flag) return true;
    }
    return false;
  }
  static std::string FlagMessage(const SubmitResult& r, veta::v1::RedFlag flag) {
    for (const auto& f : r.flags) {
      if (f.flag() == flag) return f.message();
    }
    return "";
  }

  const std::string dni_ = "45678912";
  PrivateKey selector_key_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  int64_t t0_ = 0;
  std::atomic<int64_t> ahead_{0};
};

}  // namespace veta::testing

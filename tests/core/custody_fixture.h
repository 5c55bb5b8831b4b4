// A registry with three mining units (two miners), a plant, a trader and an exporter, and
// helpers to sign the custody transactions: processing, gold sales, exports, corrections.
// Shared by the custody, lineage and certificate tests.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/verify/lots.h"
#include "tests/core/registry_fixture.h"

namespace veta::testing {

class CustodyFixture : public RegistryFixture {
 protected:
  // Unit centres: squares of 0.02 degrees, apart from each other.
  static constexpr double kLonA = -69.90, kLatA = -12.60;
  static constexpr double kLonB = -69.80, kLatB = -12.60;
  static constexpr double kLonC = -69.70, kLatC = -12.60;

  void SetUp() override {
    RegistryFixture::SetUp();
    ExpectAccepted(Registry(Miner(miner_a_, key_a_)));
    ExpectAccepted(Registry(Miner(miner_b_, key_b_)));
    ExpectAccepted(Registry(Unit("UA", miner_a_, kLonA, kLatA)));
    ExpectAccepted(Registry(Unit("UB", miner_b_, kLonB, kLatB)));
    auto c = Unit("UC", miner_b_, kLonC, kLatC);
    c.mutable_unit()->set_ubigeo("080101");  // Cusco
    ExpectAccepted(Registry(c));
    ExpectAccepted(Registry(PartyRecord(plant_, veta::v1::PLANT, plant_key_)));
    ExpectAccepted(Registry(PartyRecord(trader_, veta::v1::TRADER, trader_key_)));
    ExpectAccepted(Registry(PartyRecord(exporter_, veta::v1::EXPORTER, exporter_key_)));
  }

  // Extracts `ore_g` at `grade_ppb` into `lot` at unit UA (miner A), UB or UC (miner B).
  SubmitResult Extract(const std::string& lot, const std::string& unit, int64_t ore_g,
                       int64_t grade_ppb) {
    if (unit == "UA")
      return ExpectAccepted(
          Extraction(lot, miner_a_, unit, kLonA, kLatA, ore_g, key_a_, grade_ppb));
    const double lon = unit == "UB" ? kLonB : kLonC;
    return ExpectAccepted(Extraction(lot, miner_b_, unit, lon, kLatB, ore_g, key_b_, grade_ppb));
  }

  const PrivateKey& KeyOf(const std::string& party) const {
    if (party == miner_a_) return key_a_;
    if (party == miner_b_) return key_b_;
    if (party == plant_) return plant_key_;
    if (party == trader_) return trader_key_;
    return exporter_key_;
  }

  // A sale signed by both parties: `quantity` grams of ore, or, with `gold`, milligrams of a
  // gold lot.
  std::string SellEnvelope(const std::string& lot, const std::string& seller,
                           const std::string& buyer, const std::string& buyer_lot, int64_t quantity,
                           bool gold = false) {
    veta::v1::Sale s = SaleOf(lot, seller, buyer, buyer_lot, gold ? 0 : quantity);
    if (gold) s.set_quantity_mg(quantity);
    s.set_price_cents(FairPrice(lot, quantity));
    s.set_payment_reference(StrCat("OP-", nonce_));  // a bank's operation number
    return Sign(kSaleType, s, {KeyOf(seller), KeyOf(buyer)});
  }
  // 90% of the reference price (payloads::kReferencePriceCentsPerFineG) for the fine gold
  // `quantity` of `lot` holds: inside rules v3's price band. 1 when the lot is unknown.
  int64_t FairPrice(const std::string& lot, int64_t quantity) {
    auto l = Find(lot);
    if (!l || Remaining(*l) <= 0) return 1;
    __extension__ typedef __int128 int128;
    const int128 fine_mg = static_cast<int128>(l->remaining_fine_mg()) * quantity / Remaining(*l);
    const int64_t cents =
        static_cast<int64_t>(fine_mg * payloads::kReferencePriceCentsPerFineG * 9 / 10 / 1000);
    return cents > 0 ? cents : 1;
  }
  SubmitResult Sell(const std::string& lot, const std::string& seller, const std::string& buyer,
                    const std::string& buyer_lot, int64_t quantity, bool gold = false) {
    return ExpectAccepted(SellEnvelope(lot, seller, buyer, buyer_lot, quantity, gold));
  }

  using In = payloads::ProcessingIn;
  using Out = payloads::ProcessingOut;
  veta::v1::Processing ProcessingOf(const std::vector<In>& inputs,
                                    const std::vector<Out>& outputs) {
    return payloads::ProcessingOf(plant_, inputs, outputs, ++nonce_);
  }
  std::string ProcessEnvelope(const std::vector<In>& inputs, const std::vector<Out>& outputs) {
    return Sign(kProcessingType, ProcessingOf(inputs, outputs), {plant_key_});
  }
  SubmitResult Process(const std::vector<In>& inputs, const std::vector<Out>& outputs) {
    return ExpectAccepted(ProcessEnvelope(inputs, outputs));
  }

  // Two units blended 70/30 by fine gold: LA (UA, 7 g of gold) and LB (UB, 3 g) sold to the
  // plant (PA, PB) and processed into G1 (10 g at 900), of which 4 g are sold to the exporter
  // (E1).
  void BlendTwoUnits() {
    Extract("LA", "UA", 1000_kg, 7_gpt);
    Extract("LB", "UB", 1000_kg, 3_gpt);
    Sell("LA", miner_a_, plant_, "PA", 1000_kg);
    Sell("LB", miner_b_, plant_, "PB", 1000_kg);
    Process({{"PA", 1000_kg}, {"PB", 1000_kg}}, {{"G1", 10_g, 900_permille}});
    Sell("G1", plant_, exporter_, "E1", 4_g, true);
  }

  std::string ExportEnvelope(const std::string& lot, const std::string& country = "CH",
                             const std::string& dam = "DAM-2026-0001") {
    return Sign(kExportType, payloads::ExportOf(lot, exporter_, country, dam, ++nonce_),
                {exporter_key_});
  }

  std::string CorrectionEnvelope(uint64_t sequence, const std::vector<PrivateKey>& keys,
                                 const std::string& reason = "declared in error") {
    return Sign(kCorrectionType, payloads::CorrectionOf(sequence, reason, ++nonce_), keys);
  }

  const std::string miner_a_ = Ruc("1040000011"), miner_b_ = Ruc("2060000012");
  const std::string plant_ = Ruc("2070000013"), trader_ = Ruc("2070000014");
  const std::string exporter_ = Ruc("2070000015");
  PrivateKey key_a_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey key_b_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey plant_key_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey trader_key_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey exporter_key_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
};

}  // namespace veta::testing

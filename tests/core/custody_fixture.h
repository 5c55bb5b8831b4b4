// A registry with three mining units (two miners), a plant, a trader and an exporter, and
// helpers to sign the custody transactions: processing, gold sales, exports, corrections.
// Shared by the custody, lineage and certificate tests.
#pragma once

#include <string>
#include <utility>
#include <vector>

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

  // Extracts `kg` at `grade` g/t into `lot` at unit UA (miner A), UB or UC (miner B).
  SubmitResult Extract(const std::string& lot, const std::string& unit, double kg, double grade) {
    if (unit == "UA")
      return ExpectAccepted(Extraction(lot, miner_a_, unit, kLonA, kLatA, kg, key_a_, grade));
    const double lon = unit == "UB" ? kLonB : kLonC;
    return ExpectAccepted(Extraction(lot, miner_b_, unit, lon, kLatB, kg, key_b_, grade));
  }

  const PrivateKey& KeyOf(const std::string& party) const {
    if (party == miner_a_) return key_a_;
    if (party == miner_b_) return key_b_;
    if (party == plant_) return plant_key_;
    if (party == trader_) return trader_key_;
    return exporter_key_;
  }

  // A sale signed by both parties; `grams` sells a gold lot.
  std::string SellEnvelope(const std::string& lot, const std::string& seller,
                           const std::string& buyer, const std::string& buyer_lot, double quantity,
                           bool grams = false) {
    veta::v1::Sale s = SaleOf(lot, seller, buyer, buyer_lot, grams ? 0 : quantity);
    if (grams) s.set_quantity_g(quantity);
    return Sign(kSaleType, s, {KeyOf(seller), KeyOf(buyer)});
  }
  SubmitResult Sell(const std::string& lot, const std::string& seller, const std::string& buyer,
                    const std::string& buyer_lot, double quantity, bool grams = false) {
    return ExpectAccepted(SellEnvelope(lot, seller, buyer, buyer_lot, quantity, grams));
  }

  struct In {
    std::string lot;
    double ore_kg = 0;
    double gold_g = 0;
  };
  struct Out {
    std::string lot;
    double gold_g = 0;
    double fineness = 0;
  };
  veta::v1::Processing ProcessingOf(const std::vector<In>& inputs,
                                    const std::vector<Out>& outputs) {
    veta::v1::Processing p;
    p.set_plant_ruc(plant_);
    for (const auto& in : inputs) {
      auto* i = p.add_inputs();
      i->set_lot_id(in.lot);
      i->set_ore_kg(in.ore_kg);
      i->set_gold_g(in.gold_g);
    }
    for (const auto& out : outputs) {
      auto* o = p.add_outputs();
      o->set_lot_id(out.lot);
      o->set_gold_g(out.gold_g);
      o->set_fineness(out.fineness);
    }
    *p.mutable_time() = Now();
    p.set_nonce(++nonce_);
    return p;
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
    Extract("LA", "UA", 1000, 7);
    Extract("LB", "UB", 1000, 3);
    Sell("LA", miner_a_, plant_, "PA", 1000);
    Sell("LB", miner_b_, plant_, "PB", 1000);
    Process({{"PA", 1000}, {"PB", 1000}}, {{"G1", 10, 900}});
    Sell("G1", plant_, exporter_, "E1", 4, true);
  }

  std::string ExportEnvelope(const std::string& lot, const std::string& country = "CH",
                             const std::string& dam = "DAM-2026-0001") {
    veta::v1::Export e;
    e.set_lot_id(lot);
    e.set_exporter_ruc(exporter_);
    e.set_destination_country(country);
    e.set_customs_declaration(dam);
    *e.mutable_time() = Now();
    e.set_nonce(++nonce_);
    return Sign(kExportType, e, {exporter_key_});
  }

  std::string CorrectionEnvelope(uint64_t sequence, const std::vector<PrivateKey>& keys,
                                 const std::string& reason = "declared in error") {
    veta::v1::Correction c;
    c.set_corrected_sequence(sequence);
    c.set_reason(reason);
    *c.mutable_time() = Now();
    c.set_nonce(++nonce_);
    return Sign(kCorrectionType, c, keys);
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

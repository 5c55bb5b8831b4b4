// "Oro formal" certificates: issued for a clean gold lot and verified offline with only the
// authority's key; refused for a lineage with a flagged or voided step; any altered byte of
// the statement, an entry or a proof fails verification; a signed claim that the entries do
// not support fails too.
#include "core/read/certificate.h"

#include <map>
#include <set>

#include "core/read/indicators.h"
#include "core/read/queries.h"
#include "core/rules/registry.h"
#include "core/verify/note.h"
#include "tests/core/custody_fixture.h"

namespace veta {
namespace {

class CertificateTest : public testing::CustodyFixture {
 protected:
  void SetUp() override {
    CustodyFixture::SetUp();
    BlendTwoUnits();
  }

  veta::v1::Certificate Issue(const std::string& lot) {
    auto c = IssueCertificate(*ledger_, lot);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.value_or(veta::v1::Certificate());
  }

  absl::Status Verify(const veta::v1::Certificate& c) {
    return VerifyCertificate(c, authority_.public_key()).status();
  }
};

TEST_F(CertificateTest, IssuedForACleanLotAndVerifiedOffline) {
  const veta::v1::Certificate cert = Issue("E1");
  auto claims = VerifyCertificate(cert, authority_.public_key());
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->lot_id, "E1");
  EXPECT_EQ(claims->holder, exporter_);
  EXPECT_EQ(claims->fine_mg, 3.6_g);  // 4 g at 900
  ASSERT_EQ(claims->units.size(), 2u);
  EXPECT_EQ(claims->units[0].unit_code(), "UA");
  EXPECT_EQ(claims->units[0].department(), "17");
  EXPECT_EQ(claims->units[0].fine_mg(), 2.52_g);  // 70%
  EXPECT_EQ(claims->units[1].fine_mg(), 1.08_g);  // 30%
  ASSERT_EQ(claims->departments.size(), 1u);
  EXPECT_EQ(claims->departments[0].fine_mg(), 3.6_g);  // all of it
  EXPECT_EQ(claims->checkpoint.size, cert.checkpoint().tree_size());
  // Six transactions (two extractions, two sales, a processing, a sale) and two unit records.
  EXPECT_EQ(claims->entries.size(), 8u);
  EXPECT_EQ(cert.entries_size(), 8);
  EXPECT_NE(cert.note().find("oro-formal certificate v2\nlot E1\n"), std::string::npos);
  EXPECT_NE(cert.note().find("\nfine-mg 3600\nremaining-mg 4000\n"), std::string::npos)
      << cert.note();
}

TEST_F(CertificateTest, AnyAlteredByteOfTheStatementFailsVerification) {
  const veta::v1::Certificate cert = Issue("E1");
  ASSERT_TRUE(Verify(cert).ok());
  for (size_t i = 0; i < cert.note().size(); ++i) {
    veta::v1::Certificate bad = cert;
    (*bad.mutable_note())[i] = static_cast<char>(bad.note()[i] ^ 0x01);
    EXPECT_FALSE(Verify(bad).ok()) << "byte " << i << " of the note was altered unnoticed";
  }
}

TEST_F(CertificateTest, AlteredEntriesProofsAndCheckpointsFailVerification) {
  const veta::v1::Certificate cert = Issue("E1");
  for (int e = 0; e < cert.entries_size(); ++e) {
    veta::v1::Certificate bad = cert;
    std::string* bytes = bad.mutable_entries(e)->mutable_entry();
    (*bytes)[bytes->size() / 2] = static_cast<char>((*bytes)[bytes->size() / 2] ^ 0x01);
    EXPECT_FALSE(Verify(bad).ok()) << "entry " << e;
    bad = cert;
    if (bad.entries(e).inclusion().hashes_size() > 0) {
      std::string* h = bad.mutable_entries(e)->mutable_inclusion()->mutable_hashes(0);
      (*h)[0] = static_cast<char>((*h)[0] ^ 0x01);
      EXPECT_FALSE(Verify(bad).ok()) << "proof of entry " << e;
    }
  }
  veta::v1::Certificate bad = cert;
  bad.mutable_entries()->RemoveLast();
  EXPECT_FALSE(Verify(bad).ok()) << "an entry it rests on is missing";
  bad = cert;
  std::string* note = bad.mutable_checkpoint()->mutable_note();
  (*note)[note->size() - 5] = static_cast<char>((*note)[note->size() - 5] ^ 0x01);
  EXPECT_FALSE(Verify(bad).ok()) << "checkpoint signature";
  // Another authority's key opens nothing.
  EXPECT_EQ(VerifyCertificate(cert, registrar_.public_key()).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(CertificateTest, ASignedClaimTheEntriesDoNotShowFails) {
  const veta::v1::Certificate cert = Issue("E1");
  // Even signed by the authority, a statement must match its entries.
  std::string text = *note::Open(cert.note(), ledger_->verifier_key());
  const size_t at = text.find("UA 17 2520\n");
  ASSERT_NE(at, std::string::npos) << text;
  text.replace(at, 11, "UA 17 2521\n");  // one milligram more
  veta::v1::Certificate forged = cert;
  *forged.mutable_note() = *note::Sign(text, ledger_->origin(), authority_);
  auto r = VerifyCertificate(forged, authority_.public_key());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(r.status().message()).find("its entries show 2520"), std::string::npos)
      << r.status();
}

TEST_F(CertificateTest, SignedClaimsMustBeWellFormedAndComplete) {
  const veta::v1::Certificate cert = Issue("E1");
  const std::string text = *note::Open(cert.note(), ledger_->verifier_key());
  auto forge = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    const size_t at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) t.replace(at, from.size(), to);
    veta::v1::Certificate f = cert;
    *f.mutable_note() = *note::Sign(t, ledger_->origin(), authority_);
    return VerifyCertificate(f, authority_.public_key()).status();
  };
  EXPECT_EQ(forge("fine-mg 3600", "fine-mg nan").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(forge("fine-mg 3600", "fine-mg 3600.0").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(forge("fine-mg 3600", "fine-mg 3601").code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(forge("UA 17 2520", "UA 17 nan").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(forge("UA 17 2520", "UA 17 -2520").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(forge("unit UB 17 1080", "unit UA 17 2520").code(), absl::StatusCode::kInvalidArgument)
      << "a unit named twice";
  EXPECT_EQ(forge("holder " + exporter_, "holder " + trader_).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(forge("department 17 3600\n", "").code(), absl::StatusCode::kDataLoss);
  // The log it comes from can be pinned: the same key may sign for another log.
  EXPECT_TRUE(VerifyCertificate(cert, authority_.public_key(), ledger_->origin()).ok());
  EXPECT_EQ(VerifyCertificate(cert, authority_.public_key(), "veta.gob.pe/other").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CertificateTest, ARepeatedDepartmentLineFails) {
  Extract("LC", "UC", 1000_kg, 10_gpt);  // Cusco (08)
  Sell("LC", miner_b_, plant_, "PC", 1000_kg);
  Process({{"G1", 0_kg, 6_g}, {"PC", 1000_kg}},
          {{"G3", 10_g, 900_permille}});  // 5.4 g from 17, 10 g from 08
  const veta::v1::Certificate cert = Issue("G3");
  ASSERT_TRUE(Verify(cert).ok());
  std::string text = *note::Open(cert.note(), ledger_->verifier_key());
  const size_t d08 = text.find("department 08 ");
  const size_t d17 = text.find("department 17 ");
  ASSERT_NE(d08, std::string::npos) << text;
  ASSERT_NE(d17, std::string::npos) << text;
  // "department 08 x" twice, and 17 never checked.
  const std::string line08 = text.substr(d08, text.find('\n', d08) - d08 + 1);
  const std::string line17 = text.substr(d17, text.find('\n', d17) - d17 + 1);
  text.replace(text.find(line17), line17.size(), line08);
  veta::v1::Certificate forged = cert;
  *forged.mutable_note() = *note::Sign(text, ledger_->origin(), authority_);
  EXPECT_EQ(Verify(forged).code(), absl::StatusCode::kDataLoss);
}

// A part's milligrams are apportioned from what its lot had left: the certificate carries the
// earlier takes from each lot of the lineage (and the corrections that gave one back), so that
// the offline check recomputes them exactly.
TEST_F(CertificateTest, CarriesTheEarlierTakesItsApportionmentRestsOn) {
  // G1 (9 g fine: 6.3 g UA, 2.7 g UB) has given 4 g to E1; now 1.111 g to T1, voided, then
  // 2.222 g to T2 and 1.333 g to T3: odd parts, whose per-unit milligrams round.
  const uint64_t t1 = Sell("G1", plant_, trader_, "T1", 1.111_g, true).sequence;
  const uint64_t fix = ExpectAccepted(CorrectionEnvelope(t1, {registrar_})).sequence;
  const uint64_t t2 = Sell("G1", plant_, trader_, "T2", 2.222_g, true).sequence;
  Sell("G1", plant_, trader_, "T3", 1.333_g, true);
  const veta::v1::Certificate cert = Issue("T3");
  auto claims = VerifyCertificate(cert, authority_.public_key());
  ASSERT_TRUE(claims.ok()) << claims.status();
  const std::set<uint64_t> entries(claims->entries.begin(), claims->entries.end());
  EXPECT_EQ(entries.count(t1), 1u) << "an earlier take from G1";
  EXPECT_EQ(entries.count(fix), 1u) << "the correction that gave it back";
  EXPECT_EQ(entries.count(t2), 1u);
  // The claims are the ledger's own numbers, exactly.
  auto lot = GetLot(ledger_->store(), "T3");
  ASSERT_TRUE(lot.ok());
  EXPECT_EQ(claims->fine_mg, lot->original_fine_mg());
  int64_t sum = 0;
  for (const auto& u : claims->units) {
    for (const auto& s : OriginOf(*lot)) {
      if (s.unit_code() == u.unit_code()) {
        EXPECT_EQ(u.fine_mg(), s.fine_mg()) << u.unit_code();
      }
    }
    sum += u.fine_mg();
  }
  EXPECT_EQ(sum, claims->fine_mg);
}

TEST_F(CertificateTest, ALotChangedAfterTheCheckpointIsAskedAgainLater) {
  // Checkpoints far apart: the export is not in one yet.
  ledger_.reset();
  LedgerOptions options = BaseOptions();
  options.checkpoint_interval = std::chrono::hours(1);
  ledger_ = std::move(*Ledger::Open(options, authority_));
  ExpectAccepted(ExportEnvelope("E1"));
  auto r = IssueCertificate(*ledger_, "E1");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_NE(std::string(r.status().message()).find("changed after the latest checkpoint"),
            std::string::npos);
  Reopen();  // a clean close signs a final checkpoint
  EXPECT_TRUE(IssueCertificate(*ledger_, "E1").ok());
}

TEST_F(CertificateTest, StatesWhatRemainsAndIsRefusedOnceTheGoldMovedOn) {
  auto claims = VerifyCertificate(Issue("G1"), authority_.public_key());
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->remaining_mg, 6_g);  // 10 g, of which 4 g were sold
  Sell("G1", plant_, trader_, "T1", 6_g, true);
  auto r = IssueCertificate(*ledger_, "G1");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(r.status().message()).find("has nothing left"), std::string::npos)
      << r.status();
  EXPECT_TRUE(IssueCertificate(*ledger_, "T1").ok()) << "the lot that holds it now";
  ExpectAccepted(ExportEnvelope("E1"));
  claims = VerifyCertificate(Issue("E1"), authority_.public_key());
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->exported_to, "CH");
  EXPECT_EQ(claims->remaining_mg, 4_g);
}

TEST_F(CertificateTest, RefusedForALotWithAFlaggedInput) {
  Extract("LC", "UC", 1000_kg, 4_gpt);
  veta::v1::Sale cash = SaleOf("LC", miner_b_, plant_, "PC", 1000_kg);
  cash.set_payment(veta::v1::CASH);
  cash.set_price_cents(90000_soles);  // above the S/ 30,000 threshold
  const SubmitResult flagged = ExpectAccepted(Sign(kSaleType, cash, {key_b_, plant_key_}));
  ASSERT_EQ(flagged.flags.size(), 1u);
  Process({{"PC", 1000_kg}, {"G1", 0_kg, 2_g}}, {{"G2", 5_g, 900_permille}});
  auto r = IssueCertificate(*ledger_, "G2");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string message(r.status().message());
  EXPECT_EQ(message.rfind("[CERTIFICATE_REFUSED] lot G2 rests on entry ", 0), 0u) << message;
  EXPECT_NE(message.find(StrCat("entry ", flagged.sequence, " (sale creating lot PC), which ",
                                "raised red flag CASH_ABOVE_THRESHOLD")),
            std::string::npos)
      << message;
  // The clean lot it was blended with still gets its certificate.
  EXPECT_TRUE(IssueCertificate(*ledger_, "E1").ok());
}

TEST_F(CertificateTest, RefusedForAVoidedLotAnOreLotAndAnUnknownLot) {
  Extract("LD", "UA", 1000_kg, 8_gpt);
  Sell("LD", miner_a_, plant_, "PD", 1000_kg);
  const uint64_t processing = Process({{"PD", 1000_kg}}, {{"GD", 8_g, 900_permille}}).sequence;
  const uint64_t fix = ExpectAccepted(CorrectionEnvelope(processing, {plant_key_})).sequence;
  auto r = IssueCertificate(*ledger_, "GD");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(
      std::string(r.status().message()).find(StrCat("which correction entry ", fix, " voided")),
      std::string::npos)
      << r.status();
  r = IssueCertificate(*ledger_, "PD");
  EXPECT_NE(std::string(r.status().message()).find("is ore"), std::string::npos) << r.status();
  EXPECT_EQ(IssueCertificate(*ledger_, "NOPE").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CertificateTest, IndicatorsMeasureTheShareOfExportedGoldTracedInFull) {
  const uint64_t before = ledger_->size();
  ExpectAccepted(ExportEnvelope("E1"));  // 4 g at 900: 3.6 g fine, clean
  Extract("LC", "UC", 1000_kg, 4_gpt);
  veta::v1::Sale cash = SaleOf("LC", miner_b_, plant_, "PC", 1000_kg);
  cash.set_payment(veta::v1::CASH);
  cash.set_price_cents(90000_soles);
  ExpectAccepted(Sign(kSaleType, cash, {key_b_, plant_key_}));
  Process({{"PC", 1000_kg}}, {{"G2", 4_g, 900_permille}});  // 3.6 g fine from a flagged sale
  Sell("G2", plant_, exporter_, "E2", 4_g, true);
  ExpectAccepted(ExportEnvelope("E2", "AE", "DAM-2"));
  ExpectRefused(Extraction("X", miner_a_, "U9", kLonA, kLatA, 10_kg, key_a_),
                veta::v1::UNIT_UNKNOWN);

  auto r = ComputeIndicators(ledger_->store(), ledger_->size());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exports(), 2u);
  EXPECT_EQ(r->exported_fine_mg(), 7.2_g);
  EXPECT_EQ(r->exported_fine_mg_traced(), 3.6_g);  // half
  std::map<std::string, veta::v1::DepartmentVolume> d;
  for (const auto& v : r->departments()) d[v.department()] = v;
  EXPECT_EQ(d["17"].extracted_ore_g(), 2000_kg);
  EXPECT_EQ(d["08"].extracted_ore_g(), 1000_kg);
  EXPECT_EQ(d["08"].exported_fine_mg(), 3.6_g);
  EXPECT_EQ(d["17"].exported_fine_mg(), 3.6_g);
  ASSERT_EQ(r->flags_size(), 1);
  EXPECT_EQ(r->flags(0).code(), "CASH_ABOVE_THRESHOLD");
  // Explained for the people who read the report (core/read/red_flags.h).
  EXPECT_NE(r->flags(0).meaning().find("paid in cash"), std::string::npos);
  EXPECT_NE(r->flags(0).oecd_annex_ii().find("paragraph 16"), std::string::npos);
  ASSERT_EQ(r->refusals_size(), 1);
  EXPECT_EQ(r->refusals(0).code(), "UNIT_UNKNOWN");
  EXPECT_EQ(r->refusals(0).count(), 1u);
  // As of before the exports: nothing exported yet.
  auto early = ComputeIndicators(ledger_->store(), before);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->exports(), 0u);
  EXPECT_EQ(early->flags_size(), 0);
}

}  // namespace
}  // namespace veta

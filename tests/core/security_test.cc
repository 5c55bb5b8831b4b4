// What a hostile registered party tried against the landed server (issue 9), each as a test
// that failed before the fix: replays that roll a record back, keys dropped in a rotation,
// hostile records that stall the sequencer, refusals that tell what GetLot hides, timestamps
// out of range.
#include <chrono>
#include <future>
#include <limits>
#include <string>
#include <vector>

#include "core/read/access.h"
#include "core/read/audit.h"
#include "core/read/queries.h"
#include "gtest/gtest.h"
#include "tests/core/custody_fixture.h"

namespace veta::testing {
namespace {

class SecurityTest : public CustodyFixture {
 protected:
  // The party's record now, as the ledger holds it.
  RecordVersion Current(RecordKind kind, const std::string& id) {
    auto v = GetRecordAsOf(ledger_->store(), kind, id, ledger_->size());
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : RecordVersion{};
  }

  // An envelope with one more signature: how a party replays a statement signed for it.
  static std::string WithSignature(const std::string& envelope, const PrivateKey& key) {
    veta::v1::Envelope e;
    EXPECT_TRUE(e.ParseFromString(envelope));
    EXPECT_TRUE(AddSignature(&e, key).ok());
    return e.SerializeAsString();
  }

  // Refused as a replay: ALREADY_EXISTS with the code, nothing written; the attempt kept unless
  // the bytes are the recorded ones (a client's retry).
  void ExpectReplayRefused(const std::string& envelope, uint64_t original, bool kept = true) {
    const uint64_t size = ledger_->size();
    const uint64_t attempts = AttemptCount();
    SubmitResult r = ledger_->SubmitAndWait(envelope);
    EXPECT_EQ(r.status.code(), absl::StatusCode::kAlreadyExists) << r.status;
    EXPECT_EQ(veta::v1::Refusal_Name(r.refusal), "ENVELOPE_REPLAYED") << r.status;
    EXPECT_NE(r.status.message().find(StrCat("already recorded as entry ", original)),
              std::string::npos)
        << r.status;
    EXPECT_EQ(ledger_->size(), size);
    EXPECT_EQ(AttemptCount(), attempts + (kept ? 1 : 0))
        << "a replay with a signature added is evidence; a retry of the same bytes is not";
  }

  veta::v1::RegistryRecord Suspended(veta::v1::RegistryRecord r) {
    auto* status = r.mutable_party()->mutable_status();
    status->set_status(veta::v1::SUSPENDIDO);
    status->set_reason("multa pendiente");
    return r;
  }
};

// 1. A suspended trader replays its own registrar-signed registration, with its signature added.
TEST_F(SecurityTest, ASuspendedTraderCannotReplayItsRegistration) {
  veta::v1::RegistryRecord registration = PartyRecord(trader_, veta::v1::TRADER, trader_key_);
  const std::string original = Sign(kRegistryType, registration, {registrar_});  // as SetUp
  const uint64_t registered = Current(RecordKind::kParty, trader_).sequence;
  ExpectAccepted(Registry(Suspended(registration)));

  ExpectReplayRefused(WithSignature(original, trader_key_), registered);
  ExpectReplayRefused(original, registered, /*kept=*/false);
  // The registrar's own, fresh version saying VIGENTE, but signed against the registration
  // rather than the suspension: stale.
  registration.set_replaces(registered);
  registration.set_note("renewal");
  ExpectRefused(Sign(kRegistryType, registration, {registrar_}), veta::v1::RECORD_VERSION_STALE,
                StrCat("current version is entry ", Current(RecordKind::kParty, trader_).sequence));
  // A first registration of a record that exists is stale too.
  registration.set_replaces(0);
  ExpectRefused(Sign(kRegistryType, registration, {registrar_}), veta::v1::RECORD_VERSION_STALE,
                "replaces nothing (a first registration)");
  // And a version of a record that does not exist cannot replace anything.
  auto stranger = PartyRecord(Ruc("2069999990"), veta::v1::TRADER,
                              *PrivateKey::Generate(KeyAlgorithm::kEd25519));
  stranger.set_replaces(5);
  ExpectRefused(Sign(kRegistryType, stranger, {registrar_}), veta::v1::RECORD_VERSION_STALE,
                "has no version yet");
  EXPECT_EQ(Current(RecordKind::kParty, trader_).record.party().status().status(),
            veta::v1::SUSPENDIDO);
}

// The same trick on an exclusion, a withdrawn zone and a competitor suspended again.
TEST_F(SecurityTest, NoRecordKindCanBeRolledBack) {
  // A zone withdrawn, then its earlier in-force version replayed or signed against it.
  auto zone = ZoneRecord("Z1", veta::v1::PROHIBITED_INDIGENOUS_TERRITORY, Square(-70, -12, 0.1));
  const std::string in_force = Registry(zone);
  const uint64_t zone_seq = ExpectAccepted(in_force).sequence;
  zone.mutable_zone()->set_in_force(false);
  ExpectAccepted(Registry(zone));
  ExpectReplayRefused(WithSignature(in_force, key_a_), zone_seq);
  zone.mutable_zone()->set_in_force(true);
  zone.set_replaces(zone_seq);
  ExpectRefused(Sign(kRegistryType, zone, {registrar_}), veta::v1::RECORD_VERSION_STALE);
  EXPECT_FALSE(Current(RecordKind::kZone, "Z1").record.zone().in_force());

  // A competitor suspended, reinstated; the suspension replayed by a rival.
  auto plant = PartyRecord(plant_, veta::v1::PLANT, plant_key_);
  const std::string suspension = Registry(Suspended(plant));
  const uint64_t suspended = ExpectAccepted(suspension).sequence;
  plant.set_note("reinstated");
  ExpectAccepted(Registry(plant));
  ExpectReplayRefused(WithSignature(suspension, trader_key_), suspended);
  EXPECT_EQ(Current(RecordKind::kParty, plant_).record.party().status().status(),
            veta::v1::VIGENTE);

  // The parameters are a record like any other.
  veta::v1::RegistryRecord params = payloads::ParametersRecord();
  auto* p = params.mutable_parameters();
  p->mutable_grade_ppb_default()->set_min(1_gpt);
  p->mutable_grade_ppb_default()->set_max(100_gpt);
  p->mutable_recovery_ppm()->set_min(50_pct);
  p->set_cash_flag_threshold_cents(1000_soles);
  const std::string first = Registry(params);
  const uint64_t first_seq = ExpectAccepted(first).sequence;
  p->set_cash_flag_threshold_cents(5000_soles);
  ExpectAccepted(Registry(params));
  ExpectReplayRefused(WithSignature(first, key_a_), first_seq);
  ledger_->Close();
  const AuditReport report = Audit();
  EXPECT_TRUE(report.status.ok()) << report.status;
  Reopen();
  EXPECT_EQ(Current(RecordKind::kParameters, "").record.parameters().cash_flag_threshold_cents(),
            5000_soles);
}

// Every payload kind: the same statement with a signature added is the same entry.
TEST_F(SecurityTest, EveryPayloadKindIsRecordedOnceWhoeverSigns) {
  const std::string extraction = Extraction("L1", miner_a_, "UA", kLonA, kLatA, 1000_kg, key_a_);
  const uint64_t x = ExpectAccepted(extraction).sequence;
  ExpectReplayRefused(WithSignature(extraction, trader_key_), x);

  const std::string sale = SellEnvelope("L1", miner_a_, plant_, "P1", 400_kg);
  const uint64_t s = ExpectAccepted(sale).sequence;
  ExpectReplayRefused(WithSignature(sale, registrar_), s);

  const std::string processing =
      ProcessEnvelope({{"P1", 400_kg, 0_g}}, {{"G1", 2.0_g, 900_permille}});
  const uint64_t pr = ExpectAccepted(processing).sequence;
  ExpectReplayRefused(WithSignature(processing, trader_key_), pr);

  // A correction voids the sale's successor chain only once; replayed, it is the same entry.
  veta::v1::Correction c;
  c.set_corrected_sequence(pr);
  c.set_reason("wrong fineness");
  *c.mutable_time() = Now();
  const std::string correction = Sign(kCorrectionType, c, {registrar_});
  const uint64_t co = ExpectAccepted(correction).sequence;
  ExpectReplayRefused(WithSignature(correction, plant_key_), co);
  // The voided processing cannot come back either, whatever signature is added.
  ExpectReplayRefused(WithSignature(processing, registrar_), pr);

  veta::v1::KeyRegistration reg;
  auto regulator = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  *reg.mutable_key() = regulator.public_key().ToProto();
  reg.set_holder("regulator:SUNAT");
  const std::string registration = Sign(kKeyRegistrationType, reg, {authority_});
  const uint64_t kr = ExpectAccepted(registration).sequence;
  ExpectReplayRefused(WithSignature(registration, registrar_), kr);

  veta::v1::Memo memo;
  memo.set_text("acta");
  memo.set_nonce(7);
  const std::string m = Sign(kMemoType, memo, {trader_key_});
  const uint64_t ms = ExpectAccepted(m).sequence;
  ExpectReplayRefused(WithSignature(m, plant_key_), ms);
}

// Within one batch too: the copy with a signature added is refused and kept, the byte-for-byte
// copy refused and not kept.
TEST_F(SecurityTest, AReplayInTheSameBatchIsRefused) {
  veta::v1::Memo memo;
  memo.set_text("once");
  const std::string original = Sign(kMemoType, memo, {trader_key_});
  const uint64_t attempts = AttemptCount();
  std::vector<std::future<SubmitResult>> answers;
  for (const std::string& e : {original, WithSignature(original, plant_key_), original}) {
    auto p = std::make_shared<std::promise<SubmitResult>>();
    answers.push_back(p->get_future());
    ledger_->Submit(e, [p](SubmitResult r) { p->set_value(r); });
  }
  const SubmitResult first = answers[0].get();
  ASSERT_TRUE(first.status.ok()) << first.status;
  for (size_t i = 1; i < answers.size(); ++i) {
    const SubmitResult r = answers[i].get();
    EXPECT_EQ(r.refusal, veta::v1::ENVELOPE_REPLAYED) << r.status;
    EXPECT_NE(r.status.message().find(StrCat("already recorded as entry ", first.sequence)),
              std::string::npos)
        << r.status;
  }
  EXPECT_EQ(AttemptCount(), attempts + 1);
}

// 3. A key dropped in a rotation neither signs for its holder nor identifies it over TLS; what
// it signed before still stands.
TEST_F(SecurityTest, AKeyDroppedInARotationNoLongerSignsOrIdentifies) {
  Extract("L1", "UA", 1000_kg, 8_gpt);
  const uint64_t sold = Sell("L1", miner_a_, trader_, "T1", 100_kg).sequence;
  auto old_info = ledger_->keys().Find(trader_key_.public_key().keyid());
  ASSERT_NE(old_info, nullptr);
  EXPECT_EQ(CallerForKey(old_info.get(), ledger_->store(), ledger_->size()).role, Role::kTrader);

  const PrivateKey rotated = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  ExpectAccepted(Registry(PartyRecord(trader_, veta::v1::TRADER, rotated)));

  // Over TLS: the old key is the public's; the new one is the trader.
  EXPECT_EQ(CallerForKey(old_info.get(), ledger_->store(), ledger_->size()).role, Role::kPublic);
  auto new_info = ledger_->keys().Find(rotated.public_key().keyid());
  ASSERT_NE(new_info, nullptr);
  const Caller now = CallerForKey(new_info.get(), ledger_->store(), ledger_->size());
  EXPECT_EQ(now.role, Role::kTrader);
  EXPECT_EQ(now.party_id, trader_);
  // As of the sale, the old key was the trader's.
  EXPECT_EQ(CallerForKey(old_info.get(), ledger_->store(), sold + 1).role, Role::kTrader);

  // Signing: a memo, a sale, anything, by the old key is refused with its own code.
  veta::v1::Memo memo;
  memo.set_text("still me");
  ExpectRefused(Sign(kMemoType, memo, {trader_key_}), veta::v1::KEY_NOT_IN_FORCE,
                StrCat("no longer signs for party:", trader_));
  veta::v1::Sale resale = SaleOf("T1", trader_, plant_, "P9", 10_kg);
  ExpectRefused(Sign(kSaleType, resale, {trader_key_, plant_key_}), veta::v1::KEY_NOT_IN_FORCE);
  ExpectAccepted(Sign(kSaleType, resale, {rotated, plant_key_}));
  // What the old key signed stays verifiable: the sale entry still verifies.
  auto entry = ledger_->GetEntry(sold);
  ASSERT_TRUE(entry.ok());
  veta::v1::Entry e;
  ASSERT_TRUE(e.ParseFromString(*entry));
  auto d = DecodeEnvelope(e.envelope(), {});
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(VerifySignatures(*d, ledger_->keys()).ok());

  // The state survives a restart (the key ring is rebuilt from the store), and the audit's
  // replay of the rules agrees with every decision.
  Reopen();
  ExpectRefused(Sign(kMemoType, memo, {trader_key_}), veta::v1::KEY_NOT_IN_FORCE);
  ledger_->Close();
  const AuditReport report = Audit();
  EXPECT_TRUE(report.status.ok()) << report.status;
}

// The attempts log keeps what registered keys signed, and not what anyone could make.
TEST_F(SecurityTest, TheAttemptsLogKeepsSignedRefusalsOnly) {
  // A key registration signed by a registered non-authority key: kept, with its code.
  veta::v1::KeyRegistration reg;
  const PrivateKey newcomer = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  *reg.mutable_key() = newcomer.public_key().ToProto();
  reg.set_holder("regulator:OEFA");
  uint64_t attempts = AttemptCount();
  SubmitResult r = ledger_->SubmitAndWait(Sign(kKeyRegistrationType, reg, {trader_key_}));
  EXPECT_EQ(r.refusal, veta::v1::KEY_REGISTRATION_REFUSED) << r.status;
  EXPECT_EQ(r.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(AttemptCount(), attempts + 1);
  // An unknown key, a forged signature, bytes that do not decode: answered, not kept.
  veta::v1::Memo memo;
  memo.set_text("junk");
  r = ledger_->SubmitAndWait(Sign(kMemoType, memo, {newcomer}));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kFailedPrecondition) << r.status;
  veta::v1::Envelope forged;
  ASSERT_TRUE(forged.ParseFromString(Sign(kMemoType, memo, {trader_key_})));
  forged.mutable_signatures(0)->mutable_sig()->at(0) ^= 1;
  r = ledger_->SubmitAndWait(forged.SerializeAsString());
  EXPECT_EQ(r.status.code(), absl::StatusCode::kUnauthenticated) << r.status;
  r = ledger_->SubmitAndWait("not an envelope");
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument) << r.status;
  EXPECT_EQ(AttemptCount(), attempts + 1);
}

// A key registered by a key registration (a regulator's) is revoked by another one: from then
// on it neither signs nor identifies; a record's key is dropped by the record instead.
TEST_F(SecurityTest, ARegulatorsKeyIsRevokedAndThenNeitherSignsNorIdentifies) {
  const PrivateKey regulator = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  auto registration = [&](bool revoke, const std::string& holder = "regulator:SUNAT") {
    veta::v1::KeyRegistration reg;
    *reg.mutable_key() = regulator.public_key().ToProto();
    reg.set_holder(holder);
    reg.set_revoke(revoke);
    return Sign(kKeyRegistrationType, reg, {authority_});
  };
  ExpectAccepted(registration(false));
  const uint64_t before = ledger_->size();
  auto info = ledger_->keys().Find(regulator.public_key().keyid());
  EXPECT_EQ(CallerForKey(info.get(), ledger_->store(), before).role, Role::kRegulator);
  // Revocation and a memo by the revoked key, in one batch: the memo is refused.
  veta::v1::Memo memo;
  memo.set_text("after the revocation");
  auto revoked = std::make_shared<std::promise<SubmitResult>>();
  auto signed_after = std::make_shared<std::promise<SubmitResult>>();
  ledger_->Submit(registration(true), [revoked](SubmitResult r) { revoked->set_value(r); });
  ledger_->Submit(Sign(kMemoType, memo, {regulator}),
                  [signed_after](SubmitResult r) { signed_after->set_value(r); });
  const uint64_t revocation = revoked->get_future().get().sequence;
  EXPECT_EQ(signed_after->get_future().get().refusal, veta::v1::KEY_NOT_IN_FORCE);
  info = ledger_->keys().Find(regulator.public_key().keyid());
  EXPECT_EQ(info->revoked_at, revocation);
  EXPECT_EQ(CallerForKey(info.get(), ledger_->store(), ledger_->size()).role, Role::kPublic);
  EXPECT_EQ(CallerForKey(info.get(), ledger_->store(), before).role, Role::kRegulator);
  // Its registration again, or the revocation again: the same statements (no way back).
  SubmitResult r = ledger_->SubmitAndWait(registration(false));
  EXPECT_EQ(r.refusal, veta::v1::ENVELOPE_REPLAYED) << r.status;
  r = ledger_->SubmitAndWait(registration(true));
  EXPECT_EQ(r.refusal, veta::v1::ENVELOPE_REPLAYED) << r.status;
  // A record's key, or a holder that names a record: refused.
  veta::v1::KeyRegistration record_key;
  *record_key.mutable_key() = trader_key_.public_key().ToProto();
  record_key.set_holder(StrCat("party:", trader_));
  record_key.set_revoke(true);
  r = ledger_->SubmitAndWait(Sign(kKeyRegistrationType, record_key, {authority_}));
  EXPECT_EQ(r.refusal, veta::v1::KEY_REGISTRATION_REFUSED) << r.status;
  EXPECT_NE(r.status.message().find("names a registry record"), std::string::npos) << r.status;
  // After a restart, and in the audit's replay, the same.
  Reopen();
  ExpectRefused(Sign(kMemoType, memo, {regulator}), veta::v1::KEY_NOT_IN_FORCE,
                StrCat("was revoked by entry ", revocation));
  ledger_->Close();
  const AuditReport report = Audit();
  EXPECT_TRUE(report.status.ok()) << report.status;
}

// One key, one holder: a record may not list a key another holder's record holds.
TEST_F(SecurityTest, AKeyIdentifiesOneHolder) {
  ExpectRefused(Registry(PartyRecord(Ruc("2069999991"), veta::v1::TRADER, key_a_)),
                veta::v1::REGISTRY_KEY_TAKEN, StrCat("already registered to miner:", miner_a_));
  // Within one batch too.
  const PrivateKey shared = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  auto first = std::make_shared<std::promise<SubmitResult>>();
  auto second = std::make_shared<std::promise<SubmitResult>>();
  ledger_->Submit(Registry(PartyRecord(Ruc("2069999992"), veta::v1::TRADER, shared)),
                  [first](SubmitResult r) { first->set_value(r); });
  ledger_->Submit(Registry(PartyRecord(Ruc("2069999993"), veta::v1::TRADER, shared)),
                  [second](SubmitResult r) { second->set_value(r); });
  EXPECT_TRUE(first->get_future().get().status.ok());
  EXPECT_EQ(second->get_future().get().refusal, veta::v1::REGISTRY_KEY_TAKEN);
}

// 5. A pre-purchase check tells nothing the caller's role could not read with GetLot.
TEST_F(SecurityTest, RefusalsDoNotTellWhatGetLotHides) {
  Extract("L1", "UA", 1000_kg, 8_gpt);  // held by miner A
  // The trader claims to sell miner A's lot: refused without naming the holder.
  veta::v1::Sale s = SaleOf("L1", trader_, plant_, "P1", 10_kg);
  SubmitResult r = ledger_->CheckAndWait(Sign(kSaleType, s, {trader_key_}));
  EXPECT_EQ(r.refusal, veta::v1::SELLER_DOES_NOT_HOLD_LOT) << r.status;
  EXPECT_EQ(r.status.message().find(miner_a_), std::string::npos) << r.status;
  EXPECT_EQ(r.status.message(),
            StrCat("[SELLER_DOES_NOT_HOLD_LOT] lot L1 is not held by ", trader_));
  // Submitted for real, the same: and the attempt names no unit of someone else's lot.
  ExpectRefused(Sign(kSaleType, s, {trader_key_}), veta::v1::SIGNER_NOT_PARTY);
  s.set_seller_id(miner_a_);
  s.set_quantity_ore_g(5000_kg);
  // The buyer's own check: the lot has less than asked, but how much is the seller's to say.
  r = ledger_->CheckAndWait(Sign(kSaleType, s, {plant_key_}));
  EXPECT_EQ(r.refusal, veta::v1::QUANTITY_EXCEEDS_LOT) << r.status;
  EXPECT_EQ(r.status.message().find("1000"), std::string::npos) << r.status;
  // The seller's check tells it.
  r = ledger_->CheckAndWait(Sign(kSaleType, s, {key_a_}));
  EXPECT_NE(r.status.message().find("1000.000 kg left"), std::string::npos) << r.status;
  // A check signed by neither party is refused before anything about the lot.
  r = ledger_->CheckAndWait(Sign(kSaleType, s, {trader_key_}));
  EXPECT_EQ(r.refusal, veta::v1::SIGNER_NOT_PARTY) << r.status;
  // A plant asking to process a lot it does not hold learns neither holder nor kind.
  veta::v1::Processing p;
  p.set_plant_ruc(plant_);
  auto* in = p.add_inputs();
  in->set_lot_id("L1");
  in->set_gold_mg(1_g);  // the wrong unit: the kind would tell it is ore
  auto* out = p.add_outputs();
  out->set_lot_id("G1");
  out->set_gold_mg(1_g);
  out->set_fineness_ppb(900_permille);
  *p.mutable_time() = Now();
  ExpectRefused(Sign(kProcessingType, p, {plant_key_}), veta::v1::PLANT_DOES_NOT_HOLD_LOT,
                StrCat("lot L1 is not held by ", plant_));
}

// A correction tells nothing of an entry to a signer who is neither a registrar nor one of
// its parties (else any key could read every sale's parties, entry by entry, with Check).
TEST_F(SecurityTest, ACorrectionBySomeoneElseTellsNothingOfTheEntry) {
  Extract("L1", "UA", 1000_kg, 8_gpt);
  const uint64_t sale = Sell("L1", miner_a_, plant_, "P1", 400_kg).sequence;
  for (uint64_t target : {sale, uint64_t{1}}) {  // a sale, and a registry record
    const SubmitResult r = ledger_->CheckAndWait(CorrectionEnvelope(target, {trader_key_}));
    EXPECT_EQ(r.refusal, veta::v1::CORRECTION_NOT_AUTHORIZED) << r.status;
    EXPECT_EQ(r.status.message(),
              StrCat("[CORRECTION_NOT_AUTHORIZED] a correction of entry ", target,
                     " is signed by an active registrar or by the parties of that entry"));
  }
  // The parties themselves: the plant's lot has moved on, but where to is the plant's to say.
  Sell("P1", plant_, trader_, "T1", 100_kg);
  const SubmitResult r = ledger_->CheckAndWait(CorrectionEnvelope(sale, {key_a_, plant_key_}));
  EXPECT_EQ(r.refusal, veta::v1::CORRECTION_BLOCKED) << r.status;
  EXPECT_EQ(r.status.message().find("T1"), std::string::npos) << r.status;
  EXPECT_EQ(r.status.message().find(trader_), std::string::npos) << r.status;
}

// One key, one holder within a batch, in both orders, and the audit agrees with the sequencer.
TEST_F(SecurityTest, AKeyRegisteredAndListedInOneBatchHasOneHolder) {
  const PrivateKey a = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  const PrivateKey b = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  auto registration = [&](const PrivateKey& key) {
    veta::v1::KeyRegistration reg;
    *reg.mutable_key() = key.public_key().ToProto();
    reg.set_holder("regulator:SUNAT");
    return Sign(kKeyRegistrationType, reg, {authority_});
  };
  std::vector<std::string> batch = {
      registration(a), Registry(PartyRecord(Ruc("2069999995"), veta::v1::TRADER, a)),
      Registry(PartyRecord(Ruc("2069999996"), veta::v1::TRADER, b)), registration(b)};
  std::vector<std::future<SubmitResult>> answers;
  for (auto& envelope : batch) {
    auto p = std::make_shared<std::promise<SubmitResult>>();
    answers.push_back(p->get_future());
    ledger_->Submit(envelope, [p](SubmitResult r) { p->set_value(r); });
  }
  EXPECT_TRUE(answers[0].get().status.ok());
  EXPECT_EQ(answers[1].get().refusal, veta::v1::REGISTRY_KEY_TAKEN);
  EXPECT_TRUE(answers[2].get().status.ok());
  EXPECT_EQ(answers[3].get().refusal, veta::v1::KEY_REGISTRATION_REFUSED);
  EXPECT_EQ(ledger_->keys().Find(a.public_key().keyid())->holder, "regulator:SUNAT");
  EXPECT_EQ(ledger_->keys().Find(b.public_key().keyid())->holder,
            StrCat("party:", Ruc("2069999996")));
  ledger_->Close();
  const AuditReport report = Audit();
  EXPECT_TRUE(report.status.ok()) << report.status;
  Reopen();
  EXPECT_EQ(ledger_->keys().Find(a.public_key().keyid())->holder, "regulator:SUNAT");
}

// 6. Timestamps outside their range are refused at decode, naming the field.
TEST_F(SecurityTest, TimestampsOutOfRangeAreRefusedAndChangeNothing) {
  veta::v1::Extraction x;
  x.set_lot_id("L1");
  x.set_extractor_id(miner_a_);
  x.set_unit_code("UA");
  x.mutable_point()->set_longitude(kLonA);
  x.mutable_point()->set_latitude(kLatA);
  *x.mutable_time() = Now();
  x.mutable_time()->set_nanos(-999999999);
  x.set_ore_g(10_kg);
  x.set_grade_ppb(8_gpt);
  const uint64_t size = ledger_->size();
  SubmitResult r = ledger_->SubmitAndWait(Sign(kExtractionType, x, {key_a_}));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("Extraction.time is not a time"), std::string::npos)
      << r.status;
  x.mutable_time()->set_nanos(0);
  x.mutable_time()->set_seconds(300000000000);  // past year 9999
  r = ledger_->SubmitAndWait(Sign(kExtractionType, x, {key_a_}));
  EXPECT_EQ(r.status.code(), absl::StatusCode::kInvalidArgument) << r.status;
  // Nested: a registry record's status date.
  auto miner = Miner(miner_a_, key_a_);
  miner.mutable_miner()->mutable_status()->mutable_since()->set_nanos(1000000000);
  r = ledger_->SubmitAndWait(Registry(miner));
  EXPECT_NE(r.status.message().find("RegistryRecord.miner.status.since is not a time"),
            std::string::npos)
      << r.status;
  EXPECT_EQ(ledger_->size(), size);
}

// Numbers out of range: a threshold no sale reaches would never flag, a capacity no day fills
// never refuse (integers now: the largest int64 stands for the infinities of old).
TEST_F(SecurityTest, OutOfRangeNumbersInRecordsAreRefused) {
  auto plant = PartyRecord(Ruc("2069999994"), veta::v1::PLANT,
                           *PrivateKey::Generate(KeyAlgorithm::kEd25519));
  plant.mutable_party()->set_processing_capacity_ore_g_per_day(std::numeric_limits<int64_t>::max());
  ExpectRefused(Registry(plant), veta::v1::REGISTRY_RECORD_INVALID, "processing capacity");
  plant.mutable_party()->set_processing_capacity_ore_g_per_day(-1);
  ExpectRefused(Registry(plant), veta::v1::REGISTRY_RECORD_INVALID, "processing capacity");
  veta::v1::RegistryRecord params = payloads::ParametersRecord();
  auto* p = params.mutable_parameters();
  p->mutable_grade_ppb_default()->set_min(1_gpt);
  p->mutable_grade_ppb_default()->set_max(std::numeric_limits<int64_t>::max());
  p->mutable_recovery_ppm()->set_min(50_pct);
  p->set_cash_flag_threshold_cents(1000_soles);
  ExpectRefused(Registry(params), veta::v1::REGISTRY_RECORD_INVALID, "grade bounds in ppb");
  p->mutable_grade_ppb_default()->set_max(100_gpt);
  p->mutable_recovery_ppm()->set_max(100.0001_pct);  // a recovery above the whole
  ExpectRefused(Registry(params), veta::v1::REGISTRY_RECORD_INVALID, "recovery");
  p->mutable_recovery_ppm()->set_max(95_pct);
  p->set_cash_flag_threshold_cents(std::numeric_limits<int64_t>::max());
  ExpectRefused(Registry(params), veta::v1::REGISTRY_RECORD_INVALID, "cash threshold");
  p->set_cash_flag_threshold_cents(1000_soles);
  p->set_volume_jump_percent(100);  // a sale of the average is no jump
  ExpectRefused(Registry(params), veta::v1::REGISTRY_RECORD_INVALID, "volume jump");
  p->set_volume_jump_percent(500);
  ExpectAccepted(Registry(params));
}

// 4. A hostile record is refused on the verification pool, and ordinary traffic goes on.
TEST_F(SecurityTest, AHostileGeometryIsRefusedWithoutStallingOthers) {
  auto unit = Unit("UX", miner_a_, kLonA, kLatA);
  unit.mutable_unit()->set_geometry_geojson(std::string(20000, '[') + std::string(20000, ']'));
  std::vector<std::future<SubmitResult>> memos;
  std::vector<std::shared_ptr<std::promise<SubmitResult>>> promises;
  auto hostile = std::make_shared<std::promise<SubmitResult>>();
  auto hostile_answer = hostile->get_future();
  ledger_->Submit(Registry(unit), [hostile](SubmitResult r) { hostile->set_value(r); });
  for (int i = 0; i < 20; ++i) {
    auto p = std::make_shared<std::promise<SubmitResult>>();
    memos.push_back(p->get_future());
    veta::v1::Memo memo;
    memo.set_text("ordinary");
    memo.set_nonce(static_cast<uint64_t>(i));
    ledger_->Submit(Sign(kMemoType, memo, {trader_key_}), [p](SubmitResult r) { p->set_value(r); });
  }
  for (auto& f : memos) EXPECT_TRUE(f.get().status.ok());
  const SubmitResult r = hostile_answer.get();
  EXPECT_EQ(r.refusal, veta::v1::REGISTRY_RECORD_INVALID) << r.status;
  EXPECT_NE(r.status.message().find("nested more than 16 levels"), std::string::npos) << r.status;
  // Many polygons, rings, long notes: each a named limit.
  std::string many = "{\"type\":\"MultiPolygon\",\"coordinates\":[";
  for (int i = 0; i < 1001; ++i) many += StrCat(i ? "," : "", "[[[0,0],[0,1],[1,1],[0,0]]]");
  unit.mutable_unit()->set_geometry_geojson(many + "]}");
  ExpectRefused(Registry(unit), veta::v1::REGISTRY_RECORD_INVALID, "the limit is 1000");
  unit = Unit("UX", miner_a_, kLonA, kLatA);
  unit.set_note(std::string(2001, 'x'));
  ExpectRefused(Registry(unit), veta::v1::REGISTRY_RECORD_INVALID, "the limit is 2000");
}

}  // namespace
}  // namespace veta::testing

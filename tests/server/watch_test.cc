// Watch ("¿quién vende a mi nombre?") over real TLS on a loopback port: what each role sees of
// new entries and refused attempts, resuming, bad requests, the stream bound, and a stop.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <set>

#include "gtest/gtest.h"
#include "tests/server/roles_fixture.h"

namespace veta::server {
namespace {

using Code = grpc::StatusCode;

// What one watch delivered until it caught up.
struct Seen {
  std::vector<uint64_t> entries;  // sequences, in order
  std::vector<std::string> entry_types;
  std::vector<uint64_t> attempts;  // attempt numbers, in order
  std::vector<veta::v1::Refusal> refusals;
  std::vector<std::vector<veta::v1::RedFlag>> flags;  // per entry
};

class WatchTest : public RolesFixture {
 protected:
  void SetUp() override {
    options_.limits.watch_heartbeat_ms = 50;  // a caught-up watch says so quickly
    RolesFixture::SetUp();
  }

  struct Open {
    std::unique_ptr<veta::v1::Ledger::Stub> stub;
    std::unique_ptr<grpc::ClientContext> ctx;
    std::unique_ptr<grpc::ClientReader<veta::v1::WatchEvent>> reader;
  };

  Open Start(const std::string& role, const veta::v1::WatchRequest& request) {
    Open w;
    w.stub = StubFor(role);
    w.ctx = std::make_unique<grpc::ClientContext>();
    w.ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    w.reader = w.stub->Watch(w.ctx.get(), request);
    return w;
  }

  // Reads until a heartbeat says the watch has looked at every entry and attempt there are.
  Seen ReadUntilCaughtUp(Open& w) {
    Seen seen;
    const uint64_t entries = ledger_->size(), attempts = ledger_->attempts();
    veta::v1::WatchEvent e;
    while (w.reader->Read(&e)) {
      if (e.has_entry()) {
        seen.entries.push_back(e.entry().entry().sequence());
        veta::v1::Envelope env;
        EXPECT_TRUE(env.ParseFromString(e.entry().entry().envelope()));
        seen.entry_types.push_back(env.payload_type());
        std::vector<veta::v1::RedFlag> flags;
        for (const auto& f : e.flags()) flags.push_back(f.flag());
        seen.flags.push_back(flags);
      } else if (e.has_attempt()) {
        seen.attempts.push_back(e.attempt().number());
        seen.refusals.push_back(e.attempt().refusal());
      } else if (e.next_sequence() >= entries && e.next_attempt() >= attempts) {
        return seen;  // a heartbeat: caught up
      }
    }
    ADD_FAILURE() << "the watch ended before catching up: " << w.reader->Finish().error_message();
    return seen;
  }

  // The first event of a watch that is refused at once: its status.
  static grpc::Status Refused(Open& w) {
    veta::v1::WatchEvent e;
    EXPECT_FALSE(w.reader->Read(&e)) << "a refused watch delivered an event";
    return w.reader->Finish();
  }

  static veta::v1::WatchRequest FromNow() { return veta::v1::WatchRequest(); }
};

TEST_F(WatchTest, EachRoleSeesWhatNamesItOrItsUnitsAsItHappens) {
  veta::v1::WatchRequest not_allowed = FromNow();
  not_allowed.set_refusal("EXTRACTOR_NOT_ALLOWED_ON_UNIT");
  Open miner = Start("miner", FromNow()), trader = Start("trader", FromNow()),
       selector = Start("selector", FromNow()), pub = Start("public", FromNow()),
       regulator = Start("regulator", not_allowed);
  // Let every watch fix its starting point before anything happens.
  for (Open* w : {&miner, &trader, &selector, &pub, &regulator}) ReadUntilCaughtUp(*w);

  // A second miner with its own unit and lot: none of the first miner's business.
  const std::string m2 = Ruc("2060000002");
  const PrivateKey k2 = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  const uint64_t m2_record = ExpectAccepted(Registry(Miner(m2, k2))).sequence;
  const uint64_t u2_record = ExpectAccepted(Registry(Unit("U2", m2, -70.5, -13.1))).sequence;
  ExpectAccepted(Extraction("M2-L1", m2, "U2", -70.5, -13.1, 50_kg, k2));
  // The second miner declares an extraction on the first miner's concession: refused, and
  // the first miner sees the attempt as it happens.
  const uint64_t first_try = AttemptCount();
  ExpectRefused(Extraction("M2-L2", m2, "U1", -69.9, -12.6, 40_kg, k2),
                veta::v1::EXTRACTOR_NOT_ALLOWED_ON_UNIT);
  // The first miner sells part of L1 to the trader: both see it.
  const std::string trader_ruc = Ruc("2070000003");
  const uint64_t sale =
      ExpectAccepted(Sign(kSaleType, SaleOf("L1", miner_ruc_, trader_ruc, "T1", 30_kg),
                          {keys_.at("miner"), keys_.at("trader")}))
          .sequence;
  // The trader's record gets a new version: the trader and the public see it.
  const uint64_t trader_record =
      ExpectAccepted(Registry(PartyRecord(trader_ruc, veta::v1::TRADER, keys_.at("trader"))))
          .sequence;
  const uint64_t second_try = AttemptCount();
  ExpectRefused(Extraction("M2-L3", m2, "U1", -69.9, -12.6, 40_kg, k2),
                veta::v1::EXTRACTOR_NOT_ALLOWED_ON_UNIT);
  const uint64_t own =
      ExpectAccepted(Extraction("L3", miner_ruc_, "U1", -69.9, -12.6, 20_kg, keys_.at("miner")))
          .sequence;

  const Seen m = ReadUntilCaughtUp(miner);
  EXPECT_EQ(m.entries, (std::vector<uint64_t>{sale, own}));
  EXPECT_EQ(m.attempts, (std::vector<uint64_t>{first_try, second_try}));
  EXPECT_EQ(m.refusals, (std::vector<veta::v1::Refusal>{veta::v1::EXTRACTOR_NOT_ALLOWED_ON_UNIT,
                                                        veta::v1::EXTRACTOR_NOT_ALLOWED_ON_UNIT}));
  const Seen t = ReadUntilCaughtUp(trader);
  EXPECT_EQ(t.entries, (std::vector<uint64_t>{sale, trader_record}));
  EXPECT_TRUE(t.attempts.empty()) << "the trader saw an attempt that does not name it";
  const Seen s = ReadUntilCaughtUp(selector);  // on U1, but not its holder
  EXPECT_TRUE(s.entries.empty());
  EXPECT_TRUE(s.attempts.empty());
  const Seen p = ReadUntilCaughtUp(pub);  // the registry's entries, nothing else
  EXPECT_EQ(p.entries, (std::vector<uint64_t>{m2_record, u2_record, trader_record}));
  EXPECT_TRUE(p.attempts.empty());
  const Seen r = ReadUntilCaughtUp(regulator);  // only that refusal, whoever it names
  EXPECT_TRUE(r.entries.empty());
  EXPECT_EQ(r.attempts, (std::vector<uint64_t>{first_try, second_try}));
}

TEST_F(WatchTest, AWatchResumesFromAnEntryAndAnAttempt) {
  veta::v1::WatchRequest from_start;
  from_start.set_from_sequence(0);
  from_start.set_from_attempt(0);
  Open all = Start("miner", from_start);
  const Seen seen = ReadUntilCaughtUp(all);
  // Its own record, its unit's record, its extraction; its own refused attempt.
  EXPECT_EQ(seen.entry_types,
            (std::vector<std::string>{std::string(kRegistryType), std::string(kRegistryType),
                                      std::string(kExtractionType)}));
  ASSERT_EQ(seen.entries.size(), 3u);
  EXPECT_EQ(seen.entries.back(), extraction_entry_);
  EXPECT_EQ(seen.attempts, (std::vector<uint64_t>{0}));
  EXPECT_EQ(seen.refusals, (std::vector<veta::v1::Refusal>{veta::v1::UNIT_UNKNOWN}));

  veta::v1::WatchRequest resume;  // where a watch that saw the extraction would go on
  resume.set_from_sequence(extraction_entry_ + 1);
  resume.set_from_attempt(1);
  Open rest = Start("miner", resume);
  const Seen after = ReadUntilCaughtUp(rest);
  EXPECT_TRUE(after.entries.empty());
  EXPECT_TRUE(after.attempts.empty());

  veta::v1::WatchRequest by_unit;  // a regulator's filter on the unit
  by_unit.set_unit("U1");
  by_unit.set_from_sequence(0);
  by_unit.set_from_attempt(0);
  Open unit = Start("regulator", by_unit);
  const Seen u = ReadUntilCaughtUp(unit);
  EXPECT_EQ(u.entries.size(), 2u);  // U1's record and the extraction on it
  EXPECT_EQ(u.entries.back(), extraction_entry_);
  EXPECT_TRUE(u.attempts.empty()) << "the refused attempt named U9";
}

TEST_F(WatchTest, ANewHolderOfAUnitDoesNotReadItsPredecessorsHistory) {
  // U1 passes from the first miner to a second one: the second sees U1 from then on, not the
  // first miner's extraction on it nor what was tried there before.
  const std::string m2 = Ruc("2060000002");
  keys_.emplace("miner2", *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256));
  const uint64_t m2_record = ExpectAccepted(Registry(Miner(m2, keys_.at("miner2")))).sequence;
  const uint64_t transfer = ExpectAccepted(Registry(Unit("U1", m2, -69.9, -12.6))).sequence;
  veta::v1::WatchRequest from_start;
  from_start.set_from_sequence(0);
  from_start.set_from_attempt(0);
  Open w = Start("miner2", from_start);
  const Seen seen = ReadUntilCaughtUp(w);
  EXPECT_EQ(seen.entries, (std::vector<uint64_t>{m2_record, transfer}));
  EXPECT_TRUE(seen.attempts.empty());
  // The first miner still reads its own extraction.
  Open first = Start("miner", from_start);
  const Seen before = ReadUntilCaughtUp(first);
  EXPECT_NE(std::find(before.entries.begin(), before.entries.end(), extraction_entry_),
            before.entries.end());
}

TEST_F(WatchTest, AWatchOfAFlagShowsTheFlaggedEntriesOnly) {
  veta::v1::WatchRequest cash;
  cash.set_red_flag("CASH_ABOVE_THRESHOLD");
  Open w = Start("regulator", cash);
  ReadUntilCaughtUp(w);
  const std::string trader_ruc = Ruc("2070000003");
  ExpectAccepted(Sign(kSaleType, SaleOf("L1", miner_ruc_, trader_ruc, "T1", 10_kg),
                      {keys_.at("miner"), keys_.at("trader")}));
  veta::v1::Sale big = SaleOf("L1", miner_ruc_, trader_ruc, "T2", 10_kg);
  big.set_payment(veta::v1::CASH);
  big.set_price_cents(3'000'001);  // above the S/ 30,000 threshold
  const SubmitResult flagged =
      ExpectAccepted(Sign(kSaleType, big, {keys_.at("miner"), keys_.at("trader")}));
  ASSERT_EQ(flagged.flags.size(), 1u);
  const Seen seen = ReadUntilCaughtUp(w);
  EXPECT_EQ(seen.entries, (std::vector<uint64_t>{flagged.sequence}));
  ASSERT_EQ(seen.flags.size(), 1u);
  EXPECT_EQ(seen.flags[0], (std::vector<veta::v1::RedFlag>{veta::v1::CASH_ABOVE_THRESHOLD}));
}

TEST_F(WatchTest, ABadWatchIsRefusedWithWhyAndChangesNothing) {
  const uint64_t entries = ledger_->size(), attempts = ledger_->attempts();
  auto refused = [&](const std::string& role, const veta::v1::WatchRequest& r) {
    Open w = Start(role, r);
    return Refused(w);
  };
  veta::v1::WatchRequest other;
  other.set_party(Ruc("2070000003"));
  grpc::Status s = refused("miner", other);
  EXPECT_EQ(s.error_code(), Code::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("watches only what names itself"), std::string::npos)
      << s.error_message();
  veta::v1::WatchRequest unknown;
  unknown.set_refusal("NOT_A_CODE");
  s = refused("regulator", unknown);
  EXPECT_EQ(s.error_code(), Code::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("unknown refusal code 'NOT_A_CODE'"), std::string::npos);
  veta::v1::WatchRequest both;
  both.set_refusal("UNIT_UNKNOWN");
  both.set_red_flag("CASH_ABOVE_THRESHOLD");
  EXPECT_EQ(refused("regulator", both).error_code(), Code::INVALID_ARGUMENT);
  veta::v1::WatchRequest future;
  future.set_from_sequence(entries + 5);
  s = refused("regulator", future);
  EXPECT_EQ(s.error_code(), Code::OUT_OF_RANGE);
  EXPECT_NE(s.error_message().find("past the log's"), std::string::npos) << s.error_message();
  EXPECT_EQ(ledger_->size(), entries);
  EXPECT_EQ(ledger_->attempts(), attempts);
}

TEST_F(WatchTest, WatchesCountAsStreamsAndAStopEndsThemWithWhereToResume) {
  Open first = Start("miner", FromNow());
  ReadUntilCaughtUp(first);
  EXPECT_EQ(running_.service->open_streams(), 1u);
  running_.service->StopWatches();
  veta::v1::WatchEvent e;
  while (first.reader->Read(&e)) {
  }
  const grpc::Status s = first.reader->Finish();
  EXPECT_EQ(s.error_code(), Code::UNAVAILABLE);
  EXPECT_NE(s.error_message().find("watch again with from_sequence"), std::string::npos)
      << s.error_message();
  Open late = Start("miner", FromNow());
  EXPECT_EQ(Refused(late).error_code(), Code::UNAVAILABLE);
}

class WatchLimitTest : public WatchTest {
 protected:
  void SetUp() override {
    options_.limits.streams_per_caller_max = 1;
    WatchTest::SetUp();
  }
};

TEST_F(WatchLimitTest, ACallerHoldsAtMostItsShareOfStreams) {
  Open first = Start("miner", FromNow());
  ReadUntilCaughtUp(first);
  Open second = Start("miner", FromNow());
  const grpc::Status s = Refused(second);
  EXPECT_EQ(s.error_code(), Code::RESOURCE_EXHAUSTED);
  EXPECT_NE(s.error_message().find("streams open"), std::string::npos) << s.error_message();
  Open other = Start("trader", FromNow());  // another caller is served
  ReadUntilCaughtUp(other);
  first.ctx->TryCancel();
  veta::v1::WatchEvent e;
  while (first.reader->Read(&e)) {
  }
  EXPECT_EQ(first.reader->Finish().error_code(), Code::CANCELLED);
  // Once gRPC is done with the cancelled call, the miner may watch again.
  for (int i = 0; i < 100 && running_.service->open_streams() > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Open again = Start("miner", FromNow());
  ReadUntilCaughtUp(again);
}

}  // namespace
}  // namespace veta::server

// A real veta-server (ledger in a temporary folder, gRPC on loopback) with three in-process
// witnesses on loopback HTTP: the published checkpoint gets their cosignatures and a client
// holding a 2-of-3 policy verifies it; and a SPLIT VIEW (two ledgers with the same authority
// key and origin, fed different entries to the same size) is caught: the witnesses cosign the
// first tree and refuse the second, and a client with the policy refuses the fork's checkpoint.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/base/strings.h"
#include "core/log/ledger.h"
#include "core/verify/cosignature.h"
#include "core/verify/envelope.h"
#include "core/verify/merkle.h"
#include "core/verify/note.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "server/witnessing.h"
#include "tests/core/test_util.h"
#include "tools/witness/witness.h"
#include "veta/v1/service.grpc.pb.h"

namespace veta::server {
namespace {

using veta::testing::TempDir;

constexpr char kOrigin[] = "veta.test/cosigned";
constexpr int kWitnesses = 3;
// How long a test waits for something that happens in the background (a failure, not a
// speed bound: the speed is printed, never asserted).
constexpr auto kPatience = std::chrono::seconds(20);

// One registry: a ledger, its gRPC server, its witness coordinator and a client stub.
struct Registry {
  TempDir dir;
  std::unique_ptr<Ledger> ledger;
  RunningServer running;
  std::unique_ptr<WitnessCoordinator> witnessing;
  std::unique_ptr<veta::v1::Ledger::Stub> stub;
  PrivateKey trader = *PrivateKey::Generate(KeyAlgorithm::kEd25519);

  ~Registry() {
    if (witnessing) witnessing->Stop();
    if (running.server) running.server->Shutdown();
    if (ledger) ledger->Close();
  }
};

class CosigningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < kWitnesses; ++i) StartWitness(i);
  }

  void StartWitness(int i) {
    witness::Options options;
    options.name = StrCat("witness", i, ".test");
    options.state_dir = dirs_[i].Sub("state");
    const std::string log_vkey = *note::VerifierKey(kOrigin, authority_.public_key());
    auto w = witness::Witness::Open(options, witness_keys_[i],
                                    *witness::ParseLogsFile(StrCat("log ", log_vkey, "\n")));
    ASSERT_TRUE(w.ok()) << w.status();
    witnesses_[i] = std::move(*w);
    auto s = witness::Server::Start(witnesses_[i].get(), "127.0.0.1", ports_[i], "/w");
    ASSERT_TRUE(s.ok()) << s.status();
    servers_[i] = std::move(*s);
    ports_[i] = servers_[i]->port();
  }
  void StopWitness(int i) {
    servers_[i].reset();
    witnesses_[i].reset();
  }

  // "log ..., witness W0..W2 with URLs, group G <k> W0 W1 W2, quorum G".
  std::string PolicyText(const std::string& k) const {
    std::string p = StrCat("log ", *note::VerifierKey(kOrigin, authority_.public_key()), "\n");
    for (int i = 0; i < kWitnesses; ++i) {
      p += StrCat("witness W", i, " ",
                  *cosig::VerifierKey(StrCat("witness", i, ".test"), witness_keys_[i].public_key()),
                  " http://127.0.0.1:", ports_[i], "/w\n");
    }
    return p + StrCat("group G ", k, " W0 W1 W2\nquorum G\n");
  }
  cosig::Policy Policy(const std::string& k) const { return *cosig::Policy::Parse(PolicyText(k)); }

  // A ledger (same authority key and origin for every registry) served on loopback, with a
  // witness coordinator on the 2-of-3 policy.
  std::unique_ptr<Registry> StartRegistry() {
    auto r = std::make_unique<Registry>();
    EXPECT_TRUE(Ledger::Create(r->dir.path(), kOrigin, authority_, "").ok());
    LedgerOptions options;
    options.data_dir = r->dir.path();
    options.checkpoint_interval = std::chrono::milliseconds(0);
    options.witnessed = true;
    r->ledger = std::move(*Ledger::Open(options, authority_));
    ServerOptions server_options;
    server_options.listen = "127.0.0.1:0";
    r->running = std::move(*StartServer(r->ledger.get(), server_options));
    r->stub = veta::v1::Ledger::NewStub(grpc::CreateChannel(StrCat("127.0.0.1:", r->running.port),
                                                            grpc::InsecureChannelCredentials()));
    WitnessingOptions wopts;
    wopts.request_timeout = std::chrono::milliseconds(2000);
    wopts.poll_interval = std::chrono::milliseconds(1);
    wopts.retry_backoff_max = std::chrono::milliseconds(100);
    r->witnessing = std::move(*WitnessCoordinator::Start(r->ledger.get(), Policy("2"), wopts));
    veta::v1::KeyRegistration reg;
    *reg.mutable_key() = r->trader.public_key().ToProto();
    reg.set_holder("trader");
    EXPECT_TRUE(r->ledger
                    ->SubmitAndWait(
                        SignEnvelope(kKeyRegistrationType, reg.SerializeAsString(), {authority_})
                            ->SerializeAsString())
                    .status.ok());
    return r;
  }

  static uint64_t AddMemos(Registry& r, const std::string& tag, int n) {
    uint64_t last = 0;
    for (int i = 0; i < n; ++i) {
      veta::v1::Memo memo;
      memo.set_text(StrCat(tag, " ", i));
      SubmitResult res = r.ledger->SubmitAndWait(
          SignEnvelope(kMemoType, memo.SerializeAsString(), {r.trader})->SerializeAsString());
      EXPECT_TRUE(res.status.ok()) << res.status;
      last = res.sequence;
    }
    return last;
  }

  // What a client sees: GetCheckpoint over gRPC.
  static veta::v1::Checkpoint FetchCheckpoint(Registry& r) {
    grpc::ClientContext ctx;
    veta::v1::Checkpoint cp;
    EXPECT_TRUE(r.stub->GetCheckpoint(&ctx, {}, &cp).ok());
    return cp;
  }

  // Waits until a cosigned checkpoint covering `size` entries is published (before the first,
  // the ledger publishes its newest signed one); false after kPatience.
  static bool WaitPublished(Registry& r, uint64_t size) {
    const auto until = std::chrono::steady_clock::now() + kPatience;
    while (std::chrono::steady_clock::now() < until) {
      if (r.witnessing->stats().published_size >= size &&
          r.ledger->PublishedCheckpoint().tree_size() >= size) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }
  // Waits until the coordinator has finished `count` more exchanges with witnesses.
  static bool WaitExchanges(Registry& r, uint64_t before, uint64_t count) {
    const auto until = std::chrono::steady_clock::now() + kPatience;
    while (std::chrono::steady_clock::now() < until) {
      if (r.witnessing->stats().exchanges >= before + count) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }
  // Waits until `policy` accepts the checkpoint a client fetches; false after kPatience.
  bool WaitVerifies(Registry& r, const cosig::Policy& policy) {
    const auto until = std::chrono::steady_clock::now() + kPatience;
    while (std::chrono::steady_clock::now() < until) {
      if (policy.Verify(FetchCheckpoint(r).note()).ok()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }

  PrivateKey authority_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  std::vector<PrivateKey> witness_keys_ = {*PrivateKey::Generate(KeyAlgorithm::kEd25519),
                                           *PrivateKey::Generate(KeyAlgorithm::kEd25519),
                                           *PrivateKey::Generate(KeyAlgorithm::kEd25519)};
  TempDir dirs_[kWitnesses];
  int ports_[kWitnesses] = {0, 0, 0};
  std::unique_ptr<witness::Witness> witnesses_[kWitnesses];
  std::unique_ptr<witness::Server> servers_[kWitnesses];
};

TEST_F(CosigningTest, PublishedCheckpointCarriesThreeCosignaturesAndVerifies2of3) {
  auto r = StartRegistry();
  const uint64_t last = AddMemos(*r, "hola", 5);
  ASSERT_TRUE(WaitPublished(*r, last + 1));
  // The quorum (2) publishes first; the third cosignature follows.
  ASSERT_TRUE(WaitVerifies(*r, Policy("all")));
  const veta::v1::Checkpoint cp = FetchCheckpoint(*r);
  EXPECT_GE(cp.tree_size(), last + 1);
  auto verified = Policy("2").Verify(cp.note());
  ASSERT_TRUE(verified.ok()) << verified.status() << "\n" << cp.note();
  EXPECT_EQ(verified->cosigned_by.size(), 3u) << cp.note();
  EXPECT_EQ(verified->checkpoint.size, cp.tree_size());
  // The cosigned note still opens with the authority's key alone (signed-note: unknown lines
  // are ignored), so clients without a policy keep working.
  EXPECT_TRUE(note::Open(cp.note(), r->ledger->verifier_key()).ok());
  // An inclusion proof (by default against the published checkpoint) verifies against it.
  grpc::ClientContext ctx;
  veta::v1::GetInclusionProofRequest req;
  req.set_sequence(last);
  veta::v1::InclusionProof proof;
  ASSERT_TRUE(r->stub->GetInclusionProof(&ctx, req, &proof).ok());
  EXPECT_EQ(proof.tree_size(), cp.tree_size());
  std::vector<Hash> path;
  for (const std::string& h : proof.hashes()) {
    Hash x;
    ASSERT_TRUE(HashFromBytes(h, &x));
    path.push_back(x);
  }
  Hash leaf;
  ASSERT_TRUE(HashFromBytes(proof.leaf_hash(), &leaf));
  EXPECT_TRUE(
      merkle::VerifyInclusion(last, cp.tree_size(), leaf, path, verified->checkpoint.root).ok());
  // Kept durably: a restart publishes the same cosigned checkpoint before any new round.
  EXPECT_EQ(*ReadFile(CosignedCheckpointPath(r->dir.path())), r->ledger->PublishedCheckpointNote());
}

TEST_F(CosigningTest, OneWitnessDownStillMeetsTwoOfThreeButNotThreeOfThree) {
  auto r = StartRegistry();
  ASSERT_TRUE(WaitPublished(*r, AddMemos(*r, "a", 2) + 1));
  StopWitness(2);
  const uint64_t last = AddMemos(*r, "b", 3);
  ASSERT_TRUE(WaitPublished(*r, last + 1));
  const std::string note = FetchCheckpoint(*r).note();
  auto two = Policy("2").Verify(note);
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->cosigned_by, (std::vector<std::string>{"W0", "W1"}));
  auto all = Policy("all").Verify(note);
  EXPECT_EQ(all.status().code(), absl::StatusCode::kFailedPrecondition) << all.status();
  // The witness comes back holding an older size: the coordinator learns it from a 409 and
  // sends a consistency proof from there.
  StartWitness(2);
  AddMemos(*r, "c", 2);
  EXPECT_TRUE(WaitVerifies(*r, Policy("all")));
}

TEST_F(CosigningTest, WithoutQuorumNothingNewIsPublished) {
  auto r = StartRegistry();
  const uint64_t first = AddMemos(*r, "a", 1) + 1;
  ASSERT_TRUE(WaitPublished(*r, first));
  const uint64_t published = r->ledger->PublishedCheckpoint().tree_size();
  StopWitness(0);
  StopWitness(1);
  AddMemos(*r, "b", 3);
  // Wait until the one witness left has cosigned the newest checkpoint.
  const uint64_t latest = r->ledger->LatestCheckpoint().tree_size();
  const auto until = std::chrono::steady_clock::now() + kPatience;
  while (witnesses_[2]->HeldSize(kOrigin) < latest && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(witnesses_[2]->HeldSize(kOrigin), latest);
  // One witness of three cosigned: below the quorum, the published checkpoint stays.
  EXPECT_EQ(r->ledger->PublishedCheckpoint().tree_size(), published);
  EXPECT_GT(r->ledger->LatestCheckpoint().tree_size(), published);
  EXPECT_TRUE(Policy("2").Verify(FetchCheckpoint(*r).note()).ok());
}

TEST_F(CosigningTest, SplitViewIsCaughtByTheWitnessesAndByAClientWithThePolicy) {
  // Two ledgers, the same authority key and origin: one operator showing two logs.
  auto honest = StartRegistry();
  const uint64_t size_a = AddMemos(*honest, "sale to buyer", 6) + 1;
  ASSERT_TRUE(WaitPublished(*honest, size_a));
  // The quorum (2) publishes; the third witness may answer later (a loaded machine): every
  // witness must hold the honest tree before the fork is shown to them.
  const auto until = std::chrono::steady_clock::now() + kPatience;
  for (int i = 0; i < kWitnesses; ++i) {
    while (witnesses_[i]->HeldSize(kOrigin) < size_a && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  honest->witnessing->Stop();

  auto fork = StartRegistry();
  const uint64_t size_b = AddMemos(*fork, "sale to someone else", 6) + 1;
  ASSERT_EQ(size_a, size_b);
  // Every witness is offered the fork's checkpoints (and refuses them).
  ASSERT_TRUE(WaitExchanges(*fork, fork->witnessing->stats().exchanges, kWitnesses));
  // The two views: same origin, same size, same key, different roots; both signed.
  const veta::v1::Checkpoint a = FetchCheckpoint(*honest);
  // The fork's operator shows its newest signed checkpoint (it publishes none: no quorum).
  const veta::v1::Checkpoint b = fork->ledger->LatestCheckpoint();
  ASSERT_EQ(a.tree_size(), size_a);
  ASSERT_EQ(b.tree_size(), size_b);
  EXPECT_NE(a.root_hash(), b.root_hash());
  EXPECT_TRUE(note::Open(a.note(), honest->ledger->verifier_key()).ok());
  EXPECT_TRUE(note::Open(b.note(), fork->ledger->verifier_key()).ok());  // the key alone: fooled

  // The witnesses hold the honest tree and refused the fork (no round published it).
  for (int i = 0; i < kWitnesses; ++i) EXPECT_EQ(witnesses_[i]->HeldSize(kOrigin), size_a);
  EXPECT_EQ(fork->witnessing->stats().published_size, 0u);
  // Asked directly, a witness answers 422 to the fork's checkpoint.
  witness::Response direct = witnesses_[0]->AddCheckpoint(StrCat("old ", size_a, "\n\n", b.note()));
  EXPECT_EQ(direct.status, 422) << direct.body;
  // ... and keeps the fork's signed checkpoint as evidence.
  bool kept = false;
  for (const auto& f :
       std::filesystem::directory_iterator(StrCat(dirs_[0].Sub("state"), "/evidence"))) {
    kept = kept || *ReadFile(f.path().string()) == b.note();
  }
  EXPECT_TRUE(kept);

  // A client holding the 2-of-3 policy accepts the honest view and refuses the fork.
  const cosig::Policy policy = Policy("2");
  auto ok = policy.Verify(a.note());
  EXPECT_TRUE(ok.ok()) << ok.status();
  auto refused = policy.Verify(b.note());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_NE(refused.status().message().find("lacks the witness quorum"), std::string::npos);
  // Cosignatures copied from the honest checkpoint onto the fork's do not verify.
  auto honest_lines = cosig::SplitNote(a.note());
  ASSERT_TRUE(honest_lines.ok());
  std::vector<std::string> stolen(honest_lines->signature_lines.begin() + 1,
                                  honest_lines->signature_lines.end());
  auto dressed = cosig::AddSignatureLines(b.note(), stolen);
  ASSERT_TRUE(dressed.ok());
  EXPECT_FALSE(policy.Verify(*dressed).ok());
}

// Not a check: prints how long after its entry a checkpoint is published cosigned by three
// local witnesses (the target: within 1 s), for the report.
TEST_F(CosigningTest, CosigningLatencyFigures) {
  auto r = StartRegistry();
  const cosig::Policy all = Policy("all");
  std::vector<double> quorum_ms, all_ms;
  for (int i = 0; i < 30; ++i) {
    const uint64_t seq = AddMemos(*r, StrCat("t", i), 1);
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(WaitPublished(*r, seq + 1));
    quorum_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
    const auto until = start + kPatience;
    while (std::chrono::steady_clock::now() < until) {
      const veta::v1::Checkpoint cp = r->ledger->PublishedCheckpoint();
      if (cp.tree_size() > seq && all.Verify(cp.note()).ok()) break;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    all_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  for (auto* v : {&quorum_ms, &all_ms}) std::sort(v->begin(), v->end());
  std::printf(
      "entry durable -> published checkpoint covering it, 3 local witnesses, 30 entries:\n"
      "  with the 2-of-3 quorum: median %.2f ms, p90 %.2f ms, max %.2f ms\n"
      "  with all 3 cosignatures: median %.2f ms, p90 %.2f ms, max %.2f ms\n",
      quorum_ms[15], quorum_ms[27], quorum_ms.back(), all_ms[15], all_ms[27], all_ms.back());
}

}  // namespace
}  // namespace veta::server

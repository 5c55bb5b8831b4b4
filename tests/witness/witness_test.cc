// veta-witness (tools/witness/witness.h) over real HTTP on loopback: every status code of
// C2SP tlog-witness add-checkpoint, the durable state across a restart, and serialized
// updates under concurrent requests.
#include "tools/witness/witness.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/base/strings.h"
#include "core/verify/cosignature.h"
#include "core/verify/keys.h"
#include "core/verify/merkle.h"
#include "core/verify/note.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/core/test_util.h"
#include "tests/support/stalling_clients.h"

namespace veta::witness {
namespace {

constexpr char kOrigin[] = "veta.test/witnessed-log";
constexpr char kWitnessName[] = "witness.test/w1";

// An RFC 6962 tree in memory: every complete node, for proofs and roots at any size.
class MemTree : public merkle::NodeReader {
 public:
  explicit MemTree(std::string_view salt) : salt_(salt) {}
  void Grow(uint64_t size) {
    while (tree_.size() < size) {
      const Hash leaf = merkle::HashLeaf(StrCat(salt_, "-entry-", tree_.size()));
      tree_.Append(leaf, [this](uint32_t level, uint64_t index, const Hash& h) {
        nodes_[{level, index}] = h;
      });
    }
  }
  absl::StatusOr<Hash> GetNode(uint32_t level, uint64_t index) const override {
    auto it = nodes_.find({level, index});
    if (it == nodes_.end()) return absl::NotFoundError("node");
    return it->second;
  }
  Hash Root(uint64_t size) const {
    if (size == 0) return merkle::EmptyRoot();
    return *merkle::SubtreeRoot(*this, 0, size);
  }
  std::vector<Hash> Proof(uint64_t first, uint64_t second) const {
    if (first == 0) return {};
    return *merkle::ConsistencyProof(*this, first, second);
  }

 private:
  std::string salt_;
  merkle::CompactTree tree_;
  std::map<std::pair<uint32_t, uint64_t>, Hash> nodes_;
};

std::string Body(uint64_t old_size, const std::vector<Hash>& proof, const std::string& note) {
  std::string body = StrCat("old ", old_size, "\n");
  for (const Hash& h : proof) body += StrCat(Base64Encode(AsBytes(h)), "\n");
  return StrCat(body, "\n", note);
}

class WitnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_key_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
    log_vkey_ = *note::VerifierKey(kOrigin, log_key_.public_key());
    witness_key_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
    cosigner_ =
        *cosig::ParseVerifierKey(*cosig::VerifierKey(kWitnessName, witness_key_.public_key()));
    tree_.Grow(100);
    fork_.Grow(100);
    StartWitness();
  }
  void TearDown() override { StopWitness(); }

  void StartWitness() {
    Options options;
    options.name = kWitnessName;
    options.state_dir = dir_.Sub("state");
    auto logs = ParseLogsFile(StrCat("# the logs\nlog ", log_vkey_, " https://log.test\n"));
    ASSERT_TRUE(logs.ok()) << logs.status();
    auto w = Witness::Open(options, witness_key_, *logs);
    ASSERT_TRUE(w.ok()) << w.status();
    witness_ = std::move(*w);
    auto s = Server::Start(witness_.get(), "127.0.0.1", 0, "/w");
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }
  void StopWitness() {
    client_.reset();
    server_.reset();
    witness_.reset();
  }

  std::string Note(const MemTree& tree, uint64_t size, const PrivateKey* key = nullptr,
                   const char* origin = kOrigin) const {
    return *note::Sign(note::CheckpointText({origin, size, tree.Root(size)}), origin,
                       key != nullptr ? *key : log_key_);
  }
  httplib::Result Post(const std::string& body) {
    return client_->Post("/w/add-checkpoint", body, "text/plain");
  }
  // Posts and expects 200 with a valid cosignature of that checkpoint.
  void ExpectCosigned(const std::string& body, const std::string& note) {
    auto res = Post(body);
    ASSERT_TRUE(res) << "no HTTP answer";
    ASSERT_EQ(res->status, 200) << res->body;
    const std::string text = note.substr(0, note.find("\n\n") + 1);
    auto ts = cosig::Verify(text, res->body, cosigner_);
    EXPECT_TRUE(ts.ok()) << ts.status() << " in " << res->body;
    // The client's way (tlog-witness): append the answer to the note and verify.
    auto policy = cosig::Policy::Parse(
        StrCat("log ", log_vkey_, "\nwitness W ", cosigner_.verifier_key, "\nquorum W\n"));
    ASSERT_TRUE(policy.ok());
    auto with = cosig::AddSignatureLines(note, {res->body});
    ASSERT_TRUE(with.ok()) << with.status();
    EXPECT_TRUE(policy->Verify(*with).ok());
  }
  void ExpectStatus(const std::string& body, int status, std::string_view says = "") {
    auto res = Post(body);
    ASSERT_TRUE(res) << "no HTTP answer";
    EXPECT_EQ(res->status, status) << res->body;
    EXPECT_NE(res->body.find(says), std::string::npos) << res->body;
  }

  testing::TempDir dir_;
  PrivateKey log_key_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  std::string log_vkey_;
  PrivateKey witness_key_ = log_key_;
  cosig::Cosigner cosigner_;
  MemTree tree_{"main"};
  MemTree fork_{"fork"};
  std::unique_ptr<Witness> witness_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(WitnessTest, CosignsTheFirstCheckpointAndConsistentExtensions) {
  ExpectCosigned(Body(0, {}, Note(tree_, 10)), Note(tree_, 10));
  ExpectCosigned(Body(10, tree_.Proof(10, 37), Note(tree_, 37)), Note(tree_, 37));
  // The same checkpoint again (same size, same root, empty proof) is cosigned again.
  ExpectCosigned(Body(37, {}, Note(tree_, 37)), Note(tree_, 37));
  ExpectCosigned(Body(37, tree_.Proof(37, 64), Note(tree_, 64)), Note(tree_, 64));
  EXPECT_EQ(witness_->HeldSize(kOrigin), 64u);
}

TEST_F(WitnessTest, IdleAndSlowClientsDoNotStallAddCheckpoint) {
  // A witness with two worker threads and a short request time (server/http_guard.h): more
  // connections that send nothing, and more unfinished requests, than it has threads, and a
  // log's add-checkpoint is still answered with its cosignature.
  client_.reset();
  server_.reset();
  server::HttpLimits limits;
  limits.threads = 2;
  limits.request_timeout = std::chrono::milliseconds(500);
  auto s = Server::Start(witness_.get(), "127.0.0.1", 0, "/w", limits);
  ASSERT_TRUE(s.ok()) << s.status();
  server_ = std::move(*s);
  testing::StallingClients stalling(server_->port());
  for (int i = 0; i < 8; ++i) ASSERT_GE(stalling.Idle(), 0);
  for (int i = 0; i < 3; ++i) stalling.Slow("POST /w/add-checkpoint HTTP/1.1\r\n");
  client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  client_->set_read_timeout(60);
  ExpectCosigned(Body(0, {}, Note(tree_, 10)), Note(tree_, 10));
  ExpectCosigned(Body(10, tree_.Proof(10, 37), Note(tree_, 37)), Note(tree_, 37));
}

TEST_F(WitnessTest, ConflictAnswersTheSizeItHolds) {
  ExpectCosigned(Body(0, {}, Note(tree_, 10)), Note(tree_, 10));
  for (uint64_t old_size : {0, 5, 11}) {
    auto res = Post(Body(old_size, tree_.Proof(old_size, 20), Note(tree_, 20)));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 409) << res->body;
    EXPECT_EQ(res->body, "10\n");
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/x.tlog.size");
  }
  EXPECT_EQ(witness_->HeldSize(kOrigin), 10u);
}

TEST_F(WitnessTest, BadProofsAndForksAreUnprocessable) {
  ExpectCosigned(Body(0, {}, Note(tree_, 10)), Note(tree_, 10));
  // A wrong proof (a hash flipped), and a proof of the wrong length.
  std::vector<Hash> proof = tree_.Proof(10, 30);
  proof[0][0] ^= 1;
  ExpectStatus(Body(10, proof, Note(tree_, 30)), 422, "does not verify");
  ExpectStatus(Body(10, {}, Note(tree_, 30)), 422);
  // A fork: same size, another root.
  ExpectStatus(Body(10, {}, Note(fork_, 10)), 422, "fork");
  // A fork that grows: the other tree's checkpoint with the other tree's (valid) proof.
  ExpectStatus(Body(10, fork_.Proof(10, 30), Note(fork_, 30)), 422);
  // Size 0 with a root other than the empty tree's; a proof with old size 0.
  Hash not_empty{};
  not_empty.fill(7);
  ExpectStatus(
      Body(0, {}, *note::Sign(note::CheckpointText({kOrigin, 0, not_empty}), kOrigin, log_key_)),
      409);  // it holds 10: the size check comes first
  EXPECT_EQ(witness_->HeldSize(kOrigin), 10u);
}

TEST_F(WitnessTest, EmptyTreeRulesOnAFreshLog) {
  Hash not_empty{};
  not_empty.fill(7);
  ExpectStatus(
      Body(0, {}, *note::Sign(note::CheckpointText({kOrigin, 0, not_empty}), kOrigin, log_key_)),
      422, "empty");
  ExpectStatus(Body(0, tree_.Proof(5, 10), Note(tree_, 10)), 422, "empty consistency proof");
  EXPECT_EQ(witness_->HeldSize(kOrigin), 0u);
  ExpectCosigned(Body(0, {}, Note(tree_, 0)), Note(tree_, 0));
}

TEST_F(WitnessTest, ForeignKeysUnknownLogsAndMalformedBodies) {
  PrivateKey stranger = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  // Signed by another key under the log's name: no trusted signature.
  ExpectStatus(Body(0, {}, Note(tree_, 10, &stranger)), 403, "no signature");
  // A trusted key's line that does not verify (the note altered after signing).
  std::string altered = Note(tree_, 10);
  altered.replace(altered.find("\n10\n"), 4, "\n11\n");
  ExpectStatus(Body(0, {}, altered), 403, "does not verify");
  // An origin the witness does not follow.
  ExpectStatus(Body(0, {}, Note(tree_, 10, &stranger, "other.test/log")), 404, "unknown");
  // Malformed.
  ExpectStatus("", 400);
  ExpectStatus("old 01\n\n" + Note(tree_, 10), 400);
  ExpectStatus("old -1\n\n" + Note(tree_, 10), 400);
  ExpectStatus("new 0\n\n" + Note(tree_, 10), 400);
  ExpectStatus("old 0\nnot-base64!\n\n" + Note(tree_, 10), 400);
  ExpectStatus("old 0\n" + Note(tree_, 10), 400);  // no blank line after the proof
  ExpectStatus(Body(20, tree_.Proof(0, 10), Note(tree_, 10)), 400, "past");
  std::string many = "old 5\n";
  for (int i = 0; i < 64; ++i) many += Base64Encode(AsBytes(tree_.Root(1))) + "\n";
  ExpectStatus(many + "\n" + Note(tree_, 10), 400, "63");
  ExpectStatus(Body(0, {}, "example\n10\nnot a root\n\n\u2014 x YWJj\n"), 400);
  EXPECT_EQ(witness_->HeldSize(kOrigin), 0u);  // nothing changed
  // Wrong method or path.
  auto res = client_->Get("/w/add-checkpoint");
  ASSERT_TRUE(res);
  EXPECT_NE(res->status, 200);
}

// A compressed body is refused before it is read (httplib would inflate it whole, bounded
// only on the wire), even one that would be a valid request; nothing changes.
TEST_F(WitnessTest, CompressedBodiesAreRefusedUnread) {
  client_->set_compress(true);  // gzip, Content-Encoding: gzip
  auto res = Post(Body(0, {}, Note(tree_, 10)));
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 415) << res->body;
  EXPECT_EQ(witness_->HeldSize(kOrigin), 0u);
  client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  ExpectCosigned(Body(0, {}, Note(tree_, 10)), Note(tree_, 10));  // plain: served as before
}

TEST_F(WitnessTest, StateSurvivesARestartAndIsServedToMonitors) {
  ExpectCosigned(Body(0, {}, Note(tree_, 10)), Note(tree_, 10));
  ExpectCosigned(Body(10, tree_.Proof(10, 42), Note(tree_, 42)), Note(tree_, 42));
  StopWitness();
  StartWitness();
  EXPECT_EQ(witness_->HeldSize(kOrigin), 42u);
  auto res = Post(Body(10, tree_.Proof(10, 50), Note(tree_, 50)));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409);
  EXPECT_EQ(res->body, "42\n");
  ExpectStatus(Body(42, {}, Note(fork_, 42)), 422, "fork");
  // GET <prefix>/<sha256(origin)>/checkpoint: the log's signature and the witness's.
  auto latest =
      client_->Get(StrCat("/w/", ToHex(Sha256().Update(kOrigin).Finish()), "/checkpoint"));
  ASSERT_TRUE(latest);
  ASSERT_EQ(latest->status, 200);
  auto policy = cosig::Policy::Parse(
      StrCat("log ", log_vkey_, "\nwitness W ", cosigner_.verifier_key, "\nquorum W\n"));
  auto verified = policy->Verify(latest->body);
  ASSERT_TRUE(verified.ok()) << verified.status() << latest->body;
  EXPECT_EQ(verified->checkpoint.size, 42u);
  auto none = client_->Get(StrCat("/w/", std::string(64, 'a'), "/checkpoint"));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404);
}

TEST_F(WitnessTest, TamperedStateIsRefusedAtStart) {
  ExpectCosigned(Body(0, {}, Note(tree_, 10)), Note(tree_, 10));
  StopWitness();
  // The state rewritten to a fork the witness never cosigned.
  const std::string path = StrCat(dir_.Sub("state"), "/", ToHex(Sha256().Update(kOrigin).Finish()));
  ASSERT_TRUE(WriteFileAtomic(path, Note(fork_, 10)).ok());
  Options options;
  options.name = kWitnessName;
  options.state_dir = dir_.Sub("state");
  auto w = Witness::Open(options, witness_key_, *ParseLogsFile(StrCat("log ", log_vkey_)));
  EXPECT_EQ(w.status().code(), absl::StatusCode::kDataLoss) << w.status();
}

TEST_F(WitnessTest, ConcurrentUpdatesOfOneLogLoseNothing) {
  // Many clients race from size 0 to different sizes, then from whatever they learn: the
  // witness must end at one size, every 200 must be for a checkpoint consistent with what
  // it holds, and no size may ever go backwards (the spec's rollback race).
  constexpr int kThreads = 8;
  std::atomic<uint64_t> max_cosigned{0};
  std::atomic<int> oks{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client c("127.0.0.1", server_->port());
      uint64_t old_size = 0;
      for (int round = 0; round < 6; ++round) {
        const uint64_t size = 10 + static_cast<uint64_t>((t * 7 + round * 13) % 90);
        if (size < old_size) continue;
        auto res =
            c.Post("/w/add-checkpoint",
                   Body(old_size, tree_.Proof(old_size, size), Note(tree_, size)), "text/plain");
        if (!res) continue;
        if (res->status == 409) {
          EXPECT_TRUE(
              ParseU64(std::string_view(res->body).substr(0, res->body.size() - 1), &old_size));
        } else if (res->status == 200) {
          ++oks;
          uint64_t prev = max_cosigned.load();
          while (size > prev && !max_cosigned.compare_exchange_weak(prev, size)) {
          }
          old_size = size;
        } else {
          ADD_FAILURE() << res->status << " " << res->body;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_GT(oks.load(), 0);
  // The held size is the largest ever cosigned: a smaller one after it would have needed
  // old == held, i.e. old > new, which is 400.
  EXPECT_EQ(witness_->HeldSize(kOrigin), max_cosigned.load());
}

}  // namespace
}  // namespace veta::witness

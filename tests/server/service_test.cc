// The gRPC service on a real server on a loopback port, over a real ledger in a temporary
// folder: status codes and messages, stream ordering, health and reflection.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "core/log/ledger.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/core/test_util.h"
#include "veta/v1/service.grpc.pb.h"

namespace veta::server {
namespace {

using veta::testing::TempDir;

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Ledger::Create(dir_.path(), "veta.test/service", authority_, "").ok());
    LedgerOptions options;
    options.data_dir = dir_.path();
    options.checkpoint_interval = std::chrono::milliseconds(0);
    options.list_entries_max = 50;
    ledger_ = std::move(*Ledger::Open(options, authority_));
    ServerOptions server_options;
    server_options.listen = "127.0.0.1:0";
    server_options.limits.stream_inflight_max = 8;  // small, so that flow control is exercised
    server_options.limits.stream_envelopes_max = 300;
    server_options.limits.streams_per_caller_max = 2;
    auto running = StartServer(ledger_.get(), server_options);
    ASSERT_TRUE(running.ok()) << running.status();
    running_ = std::move(*running);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(running_.port),
                                   grpc::InsecureChannelCredentials());
    stub_ = veta::v1::Ledger::NewStub(channel_);
    trader_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
    veta::v1::KeyRegistration reg;
    *reg.mutable_key() = trader_.public_key().ToProto();
    reg.set_holder("trader");
    veta::v1::SubmitResponse response;
    ASSERT_TRUE(
        Submit(Sign(kKeyRegistrationType, reg.SerializeAsString(), authority_), &response).ok());
  }

  void TearDown() override {
    running_.server->Shutdown();
    ledger_->Close();
  }

  static std::string Sign(std::string_view type, std::string payload, const PrivateKey& key) {
    return SignEnvelope(type, std::move(payload), {key})->SerializeAsString();
  }

  std::string Memo(const std::string& text) {
    veta::v1::Memo memo;
    memo.set_text(text);
    return Sign(kMemoType, memo.SerializeAsString(), trader_);
  }

  grpc::Status Submit(const std::string& envelope, veta::v1::SubmitResponse* response) {
    grpc::ClientContext ctx;
    veta::v1::SubmitRequest request;
    request.set_envelope(envelope);
    return stub_->Submit(&ctx, request, response);
  }

  uint64_t CheckpointSize() {
    grpc::ClientContext ctx;
    veta::v1::Checkpoint cp;
    EXPECT_TRUE(stub_->GetCheckpoint(&ctx, {}, &cp).ok());
    return cp.tree_size();
  }

  TempDir dir_;
  PrivateKey authority_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey trader_ = authority_;
  std::unique_ptr<Ledger> ledger_;
  RunningServer running_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<veta::v1::Ledger::Stub> stub_;
};

TEST_F(ServiceTest, SubmitAnswersWithSequenceAndLeafHash) {
  veta::v1::SubmitResponse response;
  ASSERT_TRUE(Submit(Memo("hola"), &response).ok());
  EXPECT_EQ(response.sequence(), 2u);
  grpc::ClientContext ctx;
  veta::v1::GetEntryRequest get;
  get.set_sequence(2);
  veta::v1::GetEntryResponse entry;
  ASSERT_TRUE(stub_->GetEntry(&ctx, get, &entry).ok());
  EXPECT_EQ(entry.leaf_hash(), response.leaf_hash());
  EXPECT_EQ(std::string(AsBytes(merkle::HashLeaf(entry.entry_bytes()))), response.leaf_hash());
  EXPECT_EQ(entry.entry().sequence(), 2u);
}

TEST_F(ServiceTest, BadInputGetsAPreciseStatusAndChangesNothing) {
  struct Case {
    std::string envelope;
    grpc::StatusCode code;
    std::string words;
  };
  veta::v1::SubmitResponse ok;
  const std::string dup = Memo("dup");
  ASSERT_TRUE(Submit(dup, &ok).ok());
  veta::v1::Envelope bad_sig;
  bad_sig.ParseFromString(Memo("x"));
  bad_sig.mutable_signatures(0)->mutable_sig()->at(5) ^= 1;
  veta::v1::Envelope wrong_type;
  wrong_type.ParseFromString(Memo("y"));
  wrong_type.set_payload_type("text/plain");
  const PrivateKey stranger = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
  const std::vector<Case> cases = {
      {"not an envelope \xff", grpc::StatusCode::INVALID_ARGUMENT, "not a serialized"},
      {std::string(300000, 'a'), grpc::StatusCode::INVALID_ARGUMENT, "the limit is 262144"},
      {bad_sig.SerializeAsString(), grpc::StatusCode::UNAUTHENTICATED, "does not verify"},
      {wrong_type.SerializeAsString(), grpc::StatusCode::INVALID_ARGUMENT, "unknown payload type"},
      {Sign(kMemoType, "", stranger), grpc::StatusCode::INVALID_ARGUMENT, "payload is empty"},
      {Sign(kMemoType, "\x0a\x01x", stranger), grpc::StatusCode::FAILED_PRECONDITION,
       "is not registered"},
      {dup, grpc::StatusCode::ALREADY_EXISTS,
       "already recorded as entry " + std::to_string(ok.sequence())},
  };
  const uint64_t size = ledger_->size();
  const uint64_t cp = CheckpointSize();
  for (const Case& c : cases) {
    veta::v1::SubmitResponse response;
    grpc::Status s = Submit(c.envelope, &response);
    EXPECT_EQ(s.error_code(), c.code) << c.words << ": " << s.error_message();
    EXPECT_NE(s.error_message().find(c.words), std::string::npos) << s.error_message();
  }
  EXPECT_EQ(ledger_->size(), size);
  EXPECT_EQ(CheckpointSize(), cp);
}

TEST_F(ServiceTest, MessagesAboveGrpcsLimitAreRefused) {
  veta::v1::SubmitResponse response;
  grpc::Status s = Submit(std::string(5 * 1024 * 1024, 'a'), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
}

TEST_F(ServiceTest, StreamAnswersEveryEnvelopeInOrder) {
  grpc::ClientContext ctx;
  auto stream = stub_->SubmitStream(&ctx);
  const int n = 200;  // far above stream_inflight_max: reading must pause and resume
  std::vector<std::string> envelopes;
  for (int i = 0; i < n; ++i) {
    // Every 7th is a duplicate of the one before: refused, in its place.
    envelopes.push_back(i % 7 == 6 ? envelopes.back() : Memo("s" + std::to_string(i)));
  }
  int written = 0;
  std::thread writer([&] {
    // Batches of 1 to 13 envelopes, so that batch edges fall everywhere.
    for (size_t i = 0, b = 1; i < envelopes.size(); i += b, b = b % 13 + 1) {
      veta::v1::SubmitBatch batch;
      for (size_t j = i; j < std::min(envelopes.size(), i + b); ++j)
        batch.add_envelopes(envelopes[j]);
      ASSERT_TRUE(stream->Write(batch));
      ++written;
    }
    ASSERT_TRUE(stream->Write(veta::v1::SubmitBatch()));  // an empty batch: an empty answer
    ++written;
    stream->WritesDone();
  });
  std::vector<veta::v1::SubmitResponse> answers;
  veta::v1::SubmitBatchResponse a;
  int batches = 0;
  while (stream->Read(&a)) {
    ++batches;
    for (const auto& answer : a.answers()) answers.push_back(answer);
  }
  writer.join();
  EXPECT_EQ(batches, written);  // one answer message per batch, the empty one included
  ASSERT_TRUE(stream->Finish().ok());
  ASSERT_EQ(answers.size(), static_cast<size_t>(n));
  uint64_t last = 0;
  for (int i = 0; i < n; ++i) {
    if (i % 7 == 6) {
      EXPECT_EQ(answers[i].code(), grpc::StatusCode::ALREADY_EXISTS) << i;
      continue;
    }
    ASSERT_EQ(answers[i].code(), 0) << i << " " << answers[i].message();
    EXPECT_GT(answers[i].sequence(), last);  // submission order is sequencing order
    last = answers[i].sequence();
    veta::v1::Entry entry;
    entry.ParseFromString(*ledger_->GetEntry(answers[i].sequence()));
    EXPECT_EQ(entry.envelope(), envelopes[i]);
  }
}

TEST_F(ServiceTest, OversizedBatchIsRefusedEnvelopeByEnvelope) {
  grpc::ClientContext ctx;
  auto stream = stub_->SubmitStream(&ctx);
  veta::v1::SubmitBatch batch;
  for (int i = 0; i < 1025; ++i) batch.add_envelopes(Memo("big " + std::to_string(i)));
  const uint64_t size = ledger_->size();
  ASSERT_TRUE(stream->Write(batch));
  stream->WritesDone();
  veta::v1::SubmitBatchResponse answer;
  ASSERT_TRUE(stream->Read(&answer));
  ASSERT_EQ(answer.answers_size(), 1025);
  for (const auto& a : answer.answers()) {
    EXPECT_EQ(a.code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(a.message(), "a batch holds at most 1024 envelopes; this one had 1025");
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(ledger_->size(), size);
}

TEST_F(ServiceTest, StreamsPerCallerAndStreamLengthAreBounded) {
  grpc::ClientContext c1, c2, c3;
  auto s1 = stub_->SubmitStream(&c1);
  auto s2 = stub_->SubmitStream(&c2);
  ASSERT_TRUE(s1->Write(veta::v1::SubmitBatch()));  // both are open and working
  ASSERT_TRUE(s2->Write(veta::v1::SubmitBatch()));
  veta::v1::SubmitBatchResponse answer;
  ASSERT_TRUE(s1->Read(&answer));
  ASSERT_TRUE(s2->Read(&answer));
  auto s3 = stub_->SubmitStream(&c3);
  s3->WritesDone();
  while (s3->Read(&answer)) {
  }
  grpc::Status third = s3->Finish();
  EXPECT_EQ(third.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(third.error_message().find("the limit is 2"), std::string::npos)
      << third.error_message();
  // The first stream carries 300 envelopes at most.
  const uint64_t size = ledger_->size();
  veta::v1::SubmitBatch batch;
  for (int i = 0; i < 300; ++i) batch.add_envelopes(Memo("len " + std::to_string(i)));
  ASSERT_TRUE(s1->Write(batch));
  ASSERT_TRUE(s1->Read(&answer));
  EXPECT_EQ(answer.answers_size(), 300);
  batch.Clear();
  batch.add_envelopes(Memo("one too many"));
  ASSERT_TRUE(s1->Write(batch));
  ASSERT_TRUE(s1->Read(&answer));
  ASSERT_EQ(answer.answers_size(), 1);
  EXPECT_EQ(answer.answers(0).code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(answer.answers(0).message().find("open a new one"), std::string::npos);
  EXPECT_EQ(ledger_->size(), size + 300);
  for (auto* s : {s1.get(), s2.get()}) {
    s->WritesDone();
    while (s->Read(&answer)) {
    }
    EXPECT_TRUE(s->Finish().ok());
  }
}

TEST_F(ServiceTest, ReadsBeyondTheLogAreOutOfRange) {
  grpc::ClientContext c1, c2, c3, c4, c5;
  veta::v1::GetEntryRequest get;
  get.set_sequence(99);
  veta::v1::GetEntryResponse entry;
  grpc::Status s = stub_->GetEntry(&c1, get, &entry);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(s.error_message(), "entry 99 does not exist: the log has 2 entries");

  veta::v1::GetInclusionProofRequest inc;
  inc.set_sequence(1);
  inc.set_tree_size(10);
  veta::v1::InclusionProof proof;
  s = stub_->GetInclusionProof(&c2, inc, &proof);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(s.error_message(), "tree size 10 is beyond the log, which has 2 entries");

  veta::v1::GetConsistencyProofRequest con;
  con.set_first_size(1);
  con.set_second_size(3);
  veta::v1::ConsistencyProof cproof;
  EXPECT_EQ(stub_->GetConsistencyProof(&c3, con, &cproof).error_code(),
            grpc::StatusCode::OUT_OF_RANGE);

  veta::v1::ListEntriesRequest list;
  list.set_limit(51);
  veta::v1::ListEntriesResponse page;
  s = stub_->ListEntries(&c4, list, &page);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  veta::v1::GetInclusionProofRequest by_hash;
  by_hash.set_leaf_hash(std::string(31, 'x'));
  EXPECT_EQ(stub_->GetInclusionProof(&c5, by_hash, &proof).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ServiceTest, InclusionProofByLeafHashVerifiesAgainstTheCheckpoint) {
  veta::v1::SubmitResponse response;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Submit(Memo("p" + std::to_string(i)), &response).ok());
  grpc::ClientContext c1, c2;
  veta::v1::Checkpoint cp;
  ASSERT_TRUE(stub_->GetCheckpoint(&c1, {}, &cp).ok());
  veta::v1::GetInclusionProofRequest req;
  req.set_leaf_hash(response.leaf_hash());
  veta::v1::InclusionProof proof;
  ASSERT_TRUE(stub_->GetInclusionProof(&c2, req, &proof).ok());
  EXPECT_EQ(proof.leaf_index(), response.sequence());
  EXPECT_EQ(proof.tree_size(), cp.tree_size());
  std::vector<Hash> hashes;
  for (const auto& h : proof.hashes()) ASSERT_TRUE(HashFromBytes(h, &hashes.emplace_back()));
  Hash leaf, root;
  ASSERT_TRUE(HashFromBytes(response.leaf_hash(), &leaf));
  ASSERT_TRUE(HashFromBytes(cp.root_hash(), &root));
  EXPECT_TRUE(
      merkle::VerifyInclusion(proof.leaf_index(), proof.tree_size(), leaf, hashes, root).ok());
}

TEST_F(ServiceTest, HealthAndReflectionAreServed) {
  // grpc.health.v1.Health/Check through a generic call: the reply for SERVING is field 1 = 1.
  grpc::GenericStub generic(channel_);
  grpc::ClientContext ctx;
  grpc::ByteBuffer request_buffer, reply;
  std::string empty_request;  // HealthCheckRequest{service: ""}
  grpc::Slice slice(empty_request);
  request_buffer = grpc::ByteBuffer(&slice, 1);
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request_buffer,
                    &reply, [&](grpc::Status s) {
                      std::lock_guard lock(mu);
                      status = s;
                      done = true;
                      cv.notify_all();
                    });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done; });
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(reply.Dump(&slices).ok());
  std::string bytes;
  for (auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));  // status: SERVING

  // Server reflection lists the Ledger service: ServerReflectionRequest{list_services: "*"}.
  grpc::CompletionQueue cq;
  grpc::ClientContext rctx;
  auto call = generic.PrepareCall(
      &rctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  grpc::Slice list_slice(std::string("\x3a\x01*", 3));
  grpc::ByteBuffer list_request(&list_slice, 1);
  call->Write(list_request, reinterpret_cast<void*>(2));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  call->WritesDone(reinterpret_cast<void*>(3));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  grpc::ByteBuffer list_reply;
  call->Read(&list_reply, reinterpret_cast<void*>(4));
  ASSERT_TRUE(cq.Next(&tag, &ok) && ok);
  slices.clear();
  ASSERT_TRUE(list_reply.Dump(&slices).ok());
  bytes.clear();
  for (auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_NE(bytes.find("veta.v1.Ledger"), std::string::npos);
  EXPECT_NE(bytes.find("grpc.health.v1.Health"), std::string::npos);
  grpc::Status finish;
  call->Finish(&finish, reinterpret_cast<void*>(5));
  ASSERT_TRUE(cq.Next(&tag, &ok));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST(ServerTest, RefusesNonLoopbackWithoutTls) {
  EXPECT_TRUE(IsLoopback("127.0.0.1:7480"));
  EXPECT_TRUE(IsLoopback("[::1]:7480"));
  EXPECT_TRUE(IsLoopback("localhost:1"));
  EXPECT_FALSE(IsLoopback("0.0.0.0:7480"));
  EXPECT_FALSE(IsLoopback("10.0.0.5:7480"));
  ServerOptions options;
  options.listen = "0.0.0.0:0";
  auto running = StartServer(nullptr, options);
  EXPECT_EQ(running.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace veta::server

// Issue 9: callers that send and never read their answers. A real server on a loopback port
// over a real ledger in a temporary folder; SubmitStreams write batches without end and never
// read. What the server holds stays under its stated bounds (counted by the service, and the
// process's resident memory), other callers are still served, and everything is given back
// when the callers go away.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <thread>

#include "core/log/ledger.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/core/test_util.h"
#include "veta/v1/service.grpc.pb.h"

namespace veta::server {
namespace {

using Clock = std::chrono::steady_clock;
using veta::testing::TempDir;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// The resident memory of this process (server and clients alike), in bytes.
size_t RssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

// Waits up to `timeout` for `done`, polling.
template <typename F>
bool Eventually(F done, std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

class FlowControlTest : public ::testing::Test {
 protected:
  void Start(const ServiceLimits& limits) {
    ASSERT_TRUE(Ledger::Create(dir_.path(), "veta.test/flow", authority_, "").ok());
    LedgerOptions options;
    options.data_dir = dir_.path();
    options.checkpoint_interval = std::chrono::milliseconds(50);
    ledger_ = std::move(*Ledger::Open(options, authority_));
    ServerOptions server_options;
    server_options.listen = "127.0.0.1:0";
    server_options.limits = limits;
    auto running = StartServer(ledger_.get(), server_options);
    ASSERT_TRUE(running.ok()) << running.status();
    running_ = std::move(*running);
    stub_ = veta::v1::Ledger::NewStub(NewChannel());
    veta::v1::KeyRegistration reg;
    *reg.mutable_key() = trader_.public_key().ToProto();
    reg.set_holder("trader");
    veta::v1::SubmitResponse response;
    ASSERT_TRUE(
        Submit(Sign(kKeyRegistrationType, reg.SerializeAsString(), authority_), &response).ok());
  }

  void TearDown() override {
    StopAttack();
    if (running_.server) running_.server->Shutdown();
    if (ledger_) ledger_->Close();
  }

  // A channel with a connection of its own, as a separate client would have.
  std::shared_ptr<grpc::Channel> NewChannel() {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(running_.port),
                                     grpc::InsecureChannelCredentials(), args);
  }

  static std::string Sign(std::string_view type, std::string payload, const PrivateKey& key) {
    return SignEnvelope(type, std::move(payload), {key})->SerializeAsString();
  }

  std::string Memo(const std::string& text) {
    veta::v1::Memo memo;
    memo.set_text(text);
    return Sign(kMemoType, memo.SerializeAsString(), trader_);
  }

  grpc::Status Submit(const std::string& envelope, veta::v1::SubmitResponse* response,
                      std::chrono::seconds deadline = std::chrono::seconds(10)) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + deadline);
    veta::v1::SubmitRequest request;
    request.set_envelope(envelope);
    return stub_->Submit(&ctx, request, response);
  }

  // A caller that reads: one batch of `n` fresh memos on a new stream, every answer read.
  // Returns the number of answers with code 0, or -1 if the stream failed.
  int ReadingStream(int n, std::chrono::seconds deadline) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + deadline);
    auto stream = stub_->SubmitStream(&ctx);
    veta::v1::SubmitBatch batch;
    for (int i = 0; i < n; ++i) batch.add_envelopes(Memo("reader " + std::to_string(++nonce_)));
    if (!stream->Write(batch) || !stream->WritesDone()) return -1;
    veta::v1::SubmitBatchResponse answer;
    int ok = 0, answers = 0;
    while (stream->Read(&answer)) {
      for (const auto& a : answer.answers()) {
        ++answers;
        ok += a.code() == 0;
      }
    }
    if (!stream->Finish().ok() || answers != n) return -1;
    return ok;
  }

  void PresignAttack(int distinct) {
    for (int i = 0; i < distinct; ++i) {
      attack_envelopes_.push_back(Memo("attack " + std::to_string(i)));
    }
  }

  // `streams` callers that write batches of `batch` envelopes (cycling through the pre-signed
  // memos: the first pass is written, later ones are refused ALREADY_EXISTS) and never read an
  // answer. Every other one has a channel with gRPC's defaults, whose transport takes in
  // answers (widening its windows) although the caller does not read them; the others' do not
  // widen their windows (no BDP probe), so that what they do not read backs up into the server
  // at once.
  void StartAttack(int streams, int batch) {
    for (int k = 0; k < streams; ++k) {
      auto& a = attackers_.emplace_back(std::make_unique<Attacker>());
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      if (k % 2 == 1) args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
      a->channel = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(running_.port),
                                             grpc::InsecureChannelCredentials(), args);
      a->thread = std::thread([this, &a = *a, k, batch] {
        auto stub = veta::v1::Ledger::NewStub(a.channel);
        auto stream = stub->SubmitStream(&a.ctx);
        size_t next = static_cast<size_t>(k) * 7919;
        veta::v1::SubmitBatch b;
        while (true) {
          b.Clear();
          for (int j = 0; j < batch; ++j) {
            b.add_envelopes(attack_envelopes_[next++ % attack_envelopes_.size()]);
          }
          if (!stream->Write(b)) break;  // blocks once the server stops reading
          ++a.batches;
        }
        stream->Finish();
      });
    }
  }

  void StopAttack() {
    for (auto& a : attackers_) a->ctx.TryCancel();
    for (auto& a : attackers_) a->thread.join();
    attackers_.clear();
  }

  uint64_t BatchesSent() const {
    uint64_t n = 0;
    for (const auto& a : attackers_) n += a->batches.load();
    return n;
  }

  struct Attacker {
    std::shared_ptr<grpc::Channel> channel;
    grpc::ClientContext ctx;
    std::atomic<uint64_t> batches{0};
    std::thread thread;
  };

  TempDir dir_;
  PrivateKey authority_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey trader_ = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  std::unique_ptr<Ledger> ledger_;
  RunningServer running_;
  std::unique_ptr<veta::v1::Ledger::Stub> stub_;
  std::vector<std::string> attack_envelopes_;
  std::vector<std::unique_ptr<Attacker>> attackers_;
  int nonce_ = 0;
};

// Waits until the attackers have stopped making progress (every one blocked in Write: the
// server no longer reads from them) for `quiet`, or `timeout` passes. True if they stalled.
// The timeout is generous: on a loaded 2-core machine the ledger takes long to judge what
// the attackers sent before they reach their bounds (seen: more than 20 s at load 10).
bool Stalled(const std::function<uint64_t()>& progress, std::chrono::milliseconds quiet,
             std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  uint64_t last = progress();
  auto since = Clock::now();
  while (Clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const uint64_t now = progress();
    if (now != last) {
      last = now;
      since = Clock::now();
    } else if (Clock::now() - since >= quiet) {
      return true;
    }
  }
  return false;
}

// Four callers write batches of 1,024 memos and never read. Each stream stops being read
// once it holds its bound, the server holds no more than the streams' bounds together (the
// service's count, and the process's resident memory), and a unary Submit and a reading
// stream are answered meanwhile. When the callers cancel, the server holds nothing.
TEST_F(FlowControlTest, CallersThatDoNotReadAreBoundedAndOthersAreServed) {
  constexpr int kStreams = 4, kBatch = 1024;
  ServiceLimits limits;
  limits.stream_inflight_max = 2048;
  limits.stream_held_bytes_max = 2 << 20;
  Start(limits);
  PresignAttack(4096);
  const size_t rss0 = RssBytes();
  StartAttack(kStreams, kBatch);
  ASSERT_TRUE(Stalled([this] { return BatchesSent(); }, std::chrono::milliseconds(1500),
                      std::chrono::seconds(90)))
      << "the server kept reading from callers that do not read: " << BatchesSent() << " batches";
  const auto& held = running_.service->held();
  // The ceiling: each stream's bound, plus the one batch it read last (memos of about 200
  // bytes, counted at under 2 KiB each while in the ledger).
  const size_t ceiling = kStreams * (limits.stream_held_bytes_max + kBatch * (2 << 10));
  EXPECT_LE(held.peak(), ceiling);
  EXPECT_GT(held.held(), 0u);  // the attackers' unsent answers are still held

  // Others are served meanwhile, well within their deadline.
  const auto t0 = Clock::now();
  veta::v1::SubmitResponse response;
  grpc::Status s = Submit(Memo("a caller that reads"), &response, std::chrono::seconds(5));
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ReadingStream(100, std::chrono::seconds(5)), 100);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5));

  // The process (server and clients alike) grew by no more than the bounds allow.
  const size_t rss = RssBytes();
  std::printf(
      "4 streams that do not read: %llu batches sent; held peak %zu bytes (ceiling %zu);"
      " RSS %.1f -> %.1f MiB\n",
      (unsigned long long)BatchesSent(), held.peak(), ceiling,
      static_cast<double>(rss0) / (1 << 20), static_cast<double>(rss) / (1 << 20));
  if (!kSanitized) {  // ASan keeps freed memory aside, in quarantine
    EXPECT_LT(rss, rss0 + (64u << 20));
  }

  // Gone: everything is given back, and every reactor deleted.
  StopAttack();
  EXPECT_TRUE(Eventually(
      [&] {
        return held.held() == 0 && running_.service->live_streams() == 0 &&
               running_.service->open_streams() == 0;
      },
      std::chrono::seconds(10)))
      << held.held() << " bytes and " << running_.service->live_streams() << " streams left";
}

// The server-wide bound: past it, streams wait before reading and a new unary call is refused
// RESOURCE_EXHAUSTED with a message that names the limit; once the callers that filled it go,
// a stream that was waiting is answered and calls are taken again.
TEST_F(FlowControlTest, ServerWideBoundMakesStreamsWaitAndRefusesCalls) {
  constexpr int kStreams = 4, kBatch = 256;
  ServiceLimits limits;
  limits.stream_inflight_max = 1 << 20;     // the streams' own bounds are out of reach:
  limits.stream_held_bytes_max = 64 << 20;  // the server-wide one is what holds them
  limits.held_bytes_max = 1 << 20;
  Start(limits);
  PresignAttack(2048);
  StartAttack(kStreams, kBatch);
  ASSERT_TRUE(Stalled([this] { return BatchesSent(); }, std::chrono::milliseconds(1500),
                      std::chrono::seconds(90)));
  const auto& held = running_.service->held();
  // At most the bound plus the batch each stream had read when it was reached (256 memos,
  // under 2 KiB each).
  EXPECT_LE(held.peak(), limits.held_bytes_max + kStreams * kBatch * (2 << 10));
  ASSERT_GE(held.held(), limits.held_bytes_max);

  veta::v1::SubmitResponse response;
  grpc::Status s = Submit(Memo("refused while full"), &response, std::chrono::seconds(5));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_NE(s.error_message().find("--held-bytes-max"), std::string::npos) << s.error_message();
  EXPECT_NE(s.error_message().find("retry later"), std::string::npos) << s.error_message();

  // A caller that reads opens a stream now: it waits for room, and is answered once the
  // callers that do not read are gone.
  std::atomic<int> answered{-2};
  std::thread reader([&] { answered = ReadingStream(10, std::chrono::seconds(20)); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(answered.load(), -2);  // still waiting
  StopAttack();
  reader.join();
  EXPECT_EQ(answered.load(), 10);
  s = Submit(Memo("taken again"), &response, std::chrono::seconds(5));
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(Eventually([&] { return held.held() == 0 && running_.service->live_streams() == 0; },
                         std::chrono::seconds(10)))
      << held.held() << " bytes and " << running_.service->live_streams() << " streams left";
}

TEST_F(FlowControlTest, OpenStreamsAreBoundedServerWide) {
  ServiceLimits limits;
  limits.streams_max = 2;
  Start(limits);
  grpc::ClientContext c1, c2, c3;
  auto s1 = stub_->SubmitStream(&c1);
  auto s2 = stub_->SubmitStream(&c2);
  veta::v1::SubmitBatchResponse answer;
  ASSERT_TRUE(s1->Write(veta::v1::SubmitBatch()) && s1->Read(&answer));
  ASSERT_TRUE(s2->Write(veta::v1::SubmitBatch()) && s2->Read(&answer));
  EXPECT_EQ(running_.service->open_streams(), 2u);
  auto s3 = stub_->SubmitStream(&c3);
  s3->WritesDone();
  while (s3->Read(&answer)) {
  }
  grpc::Status third = s3->Finish();
  EXPECT_EQ(third.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(third.error_message().find("--streams-max"), std::string::npos)
      << third.error_message();
  for (auto* s : {s1.get(), s2.get()}) {
    s->WritesDone();
    while (s->Read(&answer)) {
    }
    EXPECT_TRUE(s->Finish().ok());
  }
  EXPECT_TRUE(
      Eventually([&] { return running_.service->open_streams() == 0; }, std::chrono::seconds(5)));
}

// A batch packed with empty envelopes (millions fit in one message) would make the server
// answer each: past eight times the batch bound the stream ends instead; a batch just over the
// bound is still refused envelope by envelope (ServiceTest.OversizedBatchIsRefused...).
TEST_F(FlowControlTest, PackedBatchEndsTheStream) {
  Start(ServiceLimits{});
  grpc::ClientContext ctx;
  auto stream = stub_->SubmitStream(&ctx);
  veta::v1::SubmitBatch batch;
  for (int i = 0; i < 8 * 1024 + 1; ++i) batch.add_envelopes("");
  ASSERT_TRUE(stream->Write(batch));
  veta::v1::SubmitBatchResponse answer;
  EXPECT_FALSE(stream->Read(&answer));
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("this one had 8193: the stream is closed"), std::string::npos)
      << s.error_message();
  EXPECT_TRUE(
      Eventually([&] { return running_.service->live_streams() == 0; }, std::chrono::seconds(5)));
}

// A ListEntries page stops at page_bytes_max (with at least one entry), and next_start
// carries on from there: paging still reads every entry once.
TEST_F(FlowControlTest, ListEntriesPagesStopAtTheirByteBound) {
  ServiceLimits limits;
  limits.page_bytes_max = 8 << 10;
  Start(limits);
  veta::v1::SubmitResponse response;
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(Submit(Memo(std::string(1000, 'a' + static_cast<char>(i % 26)) + std::to_string(i)),
                       &response)
                    .ok());
  }
  const uint64_t size = ledger_->size();
  uint64_t start = 0, pages = 0;
  while (start < size) {
    grpc::ClientContext ctx;
    veta::v1::ListEntriesRequest request;
    request.set_start(start);
    veta::v1::ListEntriesResponse page;
    ASSERT_TRUE(stub_->ListEntries(&ctx, request, &page).ok());
    ASSERT_GT(page.entries_size(), 0);
    EXPECT_LE(page.ByteSizeLong(), 2 * limits.page_bytes_max);
    for (int i = 0; i < page.entries_size(); ++i) {
      EXPECT_EQ(page.entries(i).entry().sequence(), start + static_cast<uint64_t>(i));
    }
    EXPECT_EQ(page.next_start(), start + static_cast<uint64_t>(page.entries_size()));
    start = page.next_start();
    ++pages;
  }
  EXPECT_GT(pages, 3u);  // 30 entries of about 1.2 KiB cannot fit in pages of 8 KiB
  // An explicit limit is still honoured, and the ledger's bound still refused.
  grpc::ClientContext c1, c2;
  veta::v1::ListEntriesRequest request;
  request.set_limit(2);
  veta::v1::ListEntriesResponse page;
  ASSERT_TRUE(stub_->ListEntries(&c1, request, &page).ok());
  EXPECT_EQ(page.entries_size(), 2);
  EXPECT_EQ(page.next_start(), 2u);
  request.set_limit(1001);
  EXPECT_EQ(stub_->ListEntries(&c2, request, &page).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// Attempts carry their envelopes: a page stops at the byte bound, and next_start says where to
// go on (0 at the end), so a client never takes a short page for the end.
TEST_F(FlowControlTest, ListAttemptsPagesSayWhereToGoOn) {
  ServiceLimits limits;
  limits.page_bytes_max = 4 << 10;
  Start(limits);
  // Refused key registrations signed by a registered key: kept as attempts, about 1.2 KiB each.
  for (int i = 0; i < 12; ++i) {
    veta::v1::KeyRegistration reg;
    *reg.mutable_key() = PrivateKey::Generate(KeyAlgorithm::kEd25519)->public_key().ToProto();
    reg.set_holder(std::string(1000, 'x') + std::to_string(i));
    veta::v1::SubmitResponse response;
    EXPECT_FALSE(
        Submit(Sign(kKeyRegistrationType, reg.SerializeAsString(), trader_), &response).ok());
  }
  uint64_t start = 0, seen = 0, pages = 0;
  do {
    grpc::ClientContext ctx;
    veta::v1::ListAttemptsRequest request;
    request.set_start(start);
    veta::v1::ListAttemptsResponse page;
    ASSERT_TRUE(stub_->ListAttempts(&ctx, request, &page).ok());
    for (const auto& a : page.attempts()) EXPECT_EQ(a.number(), seen++);
    start = page.next_start();
    ++pages;
  } while (start != 0 && pages < 100);
  EXPECT_EQ(seen, 12u);
  EXPECT_GT(pages, 2u);
}

}  // namespace
}  // namespace veta::server

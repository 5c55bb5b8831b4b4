// rpc Watch: a server-streaming call per watcher, fed by a thread of its own that scans the
// logs (core/read/watch.h) as they grow and writes one event at a time.
#include <chrono>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/base/strings.h"
#include "core/read/watch.h"
#include "core/verify/merkle.h"
#include "server/grpc_status.h"
#include "server/ledger_service.h"

namespace veta::server {
namespace {

// Entries (and attempts) read per scan: bounds the work between two checks for cancellation.
constexpr size_t kScanMax = 512;
// How often a caught-up watch looks for new entries, and how often it says where it stands
// while nothing matches.
constexpr auto kPollInterval = std::chrono::milliseconds(50);
constexpr auto kHeartbeatInterval = std::chrono::seconds(5);

class WatchStream final : public grpc::ServerWriteReactor<veta::v1::WatchEvent> {
 public:
  // A watch refused before it starts.
  explicit WatchStream(const grpc::Status& refused) { Finish(refused); }

  WatchStream(veta::Ledger* ledger, Caller caller, WatchFilter filter, WatchPosition from,
              const std::atomic<bool>* stopping, std::atomic<size_t>* open)
      : ledger_(ledger),
        caller_(std::move(caller)),
        filter_(std::move(filter)),
        pos_(from),
        stopping_(stopping),
        open_(open) {
    // At once: a caller that has the metadata knows the watch has begun (from_now is fixed).
    StartSendInitialMetadata();
    thread_ = std::thread([this] { Run(); });
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) ended_ = true;
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    ended_ = true;
  }
  void OnDone() override {
    // The watch thread has called Finish and is returning (or is this very thread, if gRPC
    // runs OnDone inline).
    if (thread_.joinable()) {
      if (thread_.get_id() == std::this_thread::get_id()) {
        thread_.detach();
      } else {
        thread_.join();
      }
    }
    if (open_ != nullptr) --*open_;
    delete this;
  }

 private:
  bool WriteDone() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !writing_; }
  bool WriteDoneOrEnded() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !writing_ || ended_; }
  bool Ended() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ended_ || stopping_->load(); }

  // Writes `event` and waits until gRPC is done with it; false once the watch has ended.
  bool Send(veta::v1::WatchEvent event) {
    {
      absl::MutexLock lock(&mu_);
      if (Ended()) return false;
      writing_ = true;
    }
    event_ = std::move(event);
    StartWrite(&event_);
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &WatchStream::WriteDoneOrEnded));
    return !Ended();
  }

  veta::v1::WatchEvent EventOf(WatchMatch& m, const WatchPosition& before) const {
    veta::v1::WatchEvent event;
    if (m.is_entry) {
      auto* entry = event.mutable_entry();
      entry->set_leaf_hash(std::string(AsBytes(merkle::HashLeaf(m.entry_bytes))));
      entry->mutable_entry()->ParseFromString(m.entry_bytes);
      entry->set_entry_bytes(std::move(m.entry_bytes));
      for (auto f : m.flags) event.add_flags(f);
      // Entries of a scan are sent before its attempts: resume after this entry, and at the
      // attempts the scan began with.
      event.set_next_sequence(m.sequence + 1);
      event.set_next_attempt(before.next_attempt);
    } else {
      event.set_next_sequence(pos_.next_sequence);
      event.set_next_attempt(m.attempt.number() + 1);
      *event.mutable_attempt() = std::move(m.attempt);
    }
    return event;
  }

  void Run() {
    grpc::Status end = grpc::Status::OK;
    std::map<std::string, std::string> holders;
    auto last_sent = std::chrono::steady_clock::now();
    bool going = true;
    while (going) {
      const WatchPosition before = pos_;
      std::vector<WatchMatch> matches;
      absl::Status s = ScanWatch(ledger_->store(), caller_, filter_, ledger_->size(), kScanMax,
                                 &pos_, &holders, &matches);
      if (!s.ok()) {
        end = ToGrpc(s);
        break;
      }
      for (auto& m : matches) {
        if (!(going = Send(EventOf(m, before)))) break;
        last_sent = std::chrono::steady_clock::now();
      }
      if (!going) break;
      const bool moved =
          pos_.next_sequence != before.next_sequence || pos_.next_attempt != before.next_attempt;
      if (matches.empty() && moved &&
          std::chrono::steady_clock::now() - last_sent >= kHeartbeatInterval) {
        veta::v1::WatchEvent heartbeat;
        heartbeat.set_next_sequence(pos_.next_sequence);
        heartbeat.set_next_attempt(pos_.next_attempt);
        going = Send(std::move(heartbeat));
        last_sent = std::chrono::steady_clock::now();
      }
      absl::MutexLock lock(&mu_);
      if (!moved)
        mu_.AwaitWithTimeout(absl::Condition(this, &WatchStream::Ended),
                             absl::FromChrono(kPollInterval));
      if (Ended()) going = false;
    }
    {
      absl::MutexLock lock(&mu_);
      if (stopping_->load() && end.ok() && !ended_) {
        end = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                           "the server is shutting down; resume the watch from the last event");
      }
      // gRPC completes a write in flight (not ok when cancelled) before the stream finishes.
      mu_.Await(absl::Condition(this, &WatchStream::WriteDone));
    }
    Finish(end);  // the last thing this thread does with the stream: OnDone may follow at once
  }

  veta::Ledger* const ledger_ = nullptr;
  const Caller caller_;
  const WatchFilter filter_;
  WatchPosition pos_;  // the watch thread's
  const std::atomic<bool>* const stopping_ = nullptr;
  std::atomic<size_t>* const open_ = nullptr;
  veta::v1::WatchEvent event_;  // the write in flight
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;  // cancelled, or a write failed
  std::thread thread_;
};

}  // namespace

grpc::ServerWriteReactor<veta::v1::WatchEvent>* LedgerService::Watch(
    grpc::CallbackServerContext* ctx, const veta::v1::WatchRequest* request) {
  auto caller = Authorize(ctx, Rpc::kWatch);
  if (!caller.ok()) return new WatchStream(ToGrpc(caller.status()));
  WatchFilter filter{request->party(), request->unit(), request->refusal(), request->flag()};
  if (absl::Status s = CheckWatchFilter(filter); !s.ok()) return new WatchStream(ToGrpc(s));
  if (stopping_watches_) {
    return new WatchStream(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
  }
  WatchPosition from{request->from_sequence(), request->from_attempt()};
  if (request->from_now()) {
    auto end = WatchEnd(ledger_->store(), ledger_->size());
    if (!end.ok()) return new WatchStream(ToGrpc(end.status()));
    from = *end;
  }
  if (open_watches_.fetch_add(1) >= limits_.streams_max) {
    --open_watches_;
    return new WatchStream(
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                     StrCat("the server has ", limits_.streams_max,
                            " watches open, its limit (--streams-max): retry later")));
  }
  return new WatchStream(ledger_, *caller, std::move(filter), from, &stopping_watches_,
                         &open_watches_);
}

}  // namespace veta::server
